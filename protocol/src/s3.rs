//! The S3 side of an image submission: object keys, `path_signature`, and the signed
//! `challenge:{challenge_id}:hash:{image_hash}` message (spec `miner-protocol.md` 2.6, 3.3, 5.3–5.5).
//!
//! The miner (which uploads) and the validator-sim (which downloads and checks) must agree on these
//! strings byte for byte, and so must the grading service on mainnet; that is why they live here and
//! not in either binary. No I/O happens in this module.
//!
//! Key layout (5.3):
//!
//! ```text
//! submissions/{challenge_id}/{miner_hotkey}/{path_signature}/{seed_image_name}/{file_type}_{timestamp}.png.tlock
//! ```
//!
//! `path_signature` (5.4) is the first 16 hex characters of a *randomised* sr25519 signature: it
//! cannot be re-derived or verified by anyone, so a checker can only compare the key's component
//! with the value the miner reported next to it ([`KeyComponents::path_signature`]).

use std::borrow::Cow;
use std::fmt;

use crate::keys::{Hotkey, PublicKey};
use crate::synapse::Generation;

/// The subnet's submission bucket (`MIID_S3_BUCKET` overrides it in the reference miner).
pub const DEFAULT_BUCKET: &str = "yanez-miid-sn54";
/// Its region (`MIID_S3_REGION`).
pub const DEFAULT_REGION: &str = "us-east-1";
/// First key segment.
pub const KEY_PREFIX: &str = "submissions";
/// The suffix of every submission key, encrypted or not.
pub const KEY_SUFFIX: &str = ".png.tlock";
/// `challenge_id` used when the request carries none (3.3 step 6).
pub const SANDBOX_CHALLENGE_ID: &str = "sandbox_test";
/// Length of `path_signature` in hex characters.
pub const PATH_SIGNATURE_LEN: usize = 16;
/// Minimum number of `/`-separated key parts the reference validator accepts.
pub const MIN_KEY_PARTS: usize = 6;

/// Why a key or a signature was refused. Messages name the offending part so a log line is enough.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3KeyError {
    #[error("S3 key {key:?} does not start with \"submissions/\"")]
    BadPrefix { key: String },
    #[error("S3 key {key:?} does not end with \".tlock\"")]
    BadSuffix { key: String },
    #[error("S3 key {key:?} has {parts} '/'-separated parts, at least 6 are required")]
    TooFewParts { key: String, parts: usize },
    #[error("S3 key {key:?} has an empty {component}")]
    EmptyComponent { key: String, component: &'static str },
    #[error("S3 key {key:?}: file name {file:?} is not \"{{file_type}}_{{timestamp}}.png.tlock\"")]
    BadFileName { key: String, file: String },
    #[error("key component {component} = {value:?} must be one non-empty path segment (no '/')")]
    BadComponent { component: &'static str, value: String },
}

/// `image_request.challenge_id`, or `sandbox_test` when it is null.
pub fn challenge_id_or_sandbox(challenge_id: Option<&str>) -> &str {
    challenge_id.unwrap_or(SANDBOX_CHALLENGE_ID)
}

/// `seed_image_name` (3.3 step 3): `image_filename` with the *first* matching suffix among
/// `.png`, `.jpg`, `.jpeg` removed (case-sensitive, checked in that order); other names whole.
///
/// "First matching" is the reference's loop order: `x.jpeg` does not end with `.png` or `.jpg`,
/// so `.jpeg` is removed; `x.png.jpg` loses only `.jpg`.
pub fn seed_image_name(image_filename: &str) -> &str {
    for ext in [".png", ".jpg", ".jpeg"] {
        if let Some(stem) = image_filename.strip_suffix(ext) {
            return stem;
        }
    }
    image_filename
}

/// `file_type` of the key: R2 replaces every `+` of a combined type by `_`
/// (`lighting_edit+expression_edit` → `lighting_edit_expression_edit`); R1 keeps it unchanged.
/// `variation_type` in the submission keeps the `+` in both generations.
pub fn file_type(variation_type: &str, generation: Generation) -> Cow<'_, str> {
    match generation {
        Generation::R2 if variation_type.contains('+') => Cow::Owned(variation_type.replace('+', "_")),
        _ => Cow::Borrowed(variation_type),
    }
}

/// The text whose signature gives `path_signature`: `{challenge_id}:{miner_hotkey}`.
pub fn path_signature_message(challenge_id: &str, miner_hotkey: &str) -> String {
    format!("{challenge_id}:{miner_hotkey}")
}

/// A fresh `path_signature` (5.4): the first 16 hex characters of the hotkey's signature over
/// [`path_signature_message`]. Randomised — compute it once per request and reuse it.
pub fn path_signature(hotkey: &Hotkey, challenge_id: &str) -> String {
    let sig = hotkey.sign(path_signature_message(challenge_id, hotkey.ss58()).as_bytes());
    hex::encode(&sig[..PATH_SIGNATURE_LEN / 2])
}

/// Whether `s` has the shape of a `path_signature`: 16 lowercase hex characters.
pub fn is_path_signature(s: &str) -> bool {
    s.len() == PATH_SIGNATURE_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The text a submission's `signature` covers (5.5): `challenge:{challenge_id}:hash:{image_hash}`.
pub fn submission_message(challenge_id: &str, image_hash: &str) -> String {
    format!("challenge:{challenge_id}:hash:{image_hash}")
}

/// `signature` of an S3Submission: 128 lowercase hex characters, no `0x`.
pub fn sign_submission(hotkey: &Hotkey, challenge_id: &str, image_hash: &str) -> String {
    hex::encode(hotkey.sign(submission_message(challenge_id, image_hash).as_bytes()))
}

/// Why a submission signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionSignatureError {
    #[error("signature is not 128 hex characters (64 bytes): {0}")]
    Encoding(String),
    #[error("signature does not verify for challenge:{challenge_id}:hash:{image_hash} under {hotkey}")]
    Invalid { challenge_id: String, image_hash: String, hotkey: String },
}

/// Verifies an S3Submission `signature` (bare hex; a `0x` prefix is tolerated) against the miner's
/// public key. Bittensor's `<Bytes>…</Bytes>` wrapping is accepted too, as `Keypair.verify` does.
pub fn verify_submission(
    miner: &PublicKey,
    challenge_id: &str,
    image_hash: &str,
    signature_hex: &str,
) -> Result<(), SubmissionSignatureError> {
    let hex_part = signature_hex.strip_prefix("0x").unwrap_or(signature_hex);
    let sig = hex::decode(hex_part).map_err(|e| SubmissionSignatureError::Encoding(e.to_string()))?;
    if sig.len() != 64 {
        return Err(SubmissionSignatureError::Encoding(format!("{} bytes", sig.len())));
    }
    if miner.verify_bittensor(submission_message(challenge_id, image_hash).as_bytes(), &sig) {
        Ok(())
    } else {
        Err(SubmissionSignatureError::Invalid {
            challenge_id: challenge_id.to_owned(),
            image_hash: image_hash.to_owned(),
            hotkey: miner.to_ss58(),
        })
    }
}

/// The components of a submission key as the reference layout defines them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SubmissionKey {
    pub challenge_id: String,
    pub miner_hotkey: String,
    pub path_signature: String,
    pub seed_image_name: String,
    pub file_type: String,
    /// Unix seconds at upload time.
    pub timestamp: u64,
}

impl SubmissionKey {
    /// Builds the key of one image of an R1/R2 answer from request data; `challenge_id` null
    /// becomes `sandbox_test`, `image_filename` loses its first matching image suffix and
    /// `variation_type` becomes the generation's `file_type`.
    ///
    /// Fails if a component would not be a single non-empty path segment (a `/` in the challenge
    /// id would shift every later component and the validator would read another hotkey).
    pub fn for_image(
        challenge_id: Option<&str>,
        miner_hotkey: &str,
        path_signature: &str,
        image_filename: &str,
        variation_type: &str,
        generation: Generation,
        timestamp: u64,
    ) -> Result<Self, S3KeyError> {
        let key = SubmissionKey {
            challenge_id: challenge_id_or_sandbox(challenge_id).to_owned(),
            miner_hotkey: miner_hotkey.to_owned(),
            path_signature: path_signature.to_owned(),
            seed_image_name: seed_image_name(image_filename).to_owned(),
            file_type: file_type(variation_type, generation).into_owned(),
            timestamp,
        };
        key.validate()?;
        Ok(key)
    }

    /// Checks that every component is a non-empty single segment, so [`SubmissionKey::parse`]
    /// of the rendered key gives back the same components.
    pub fn validate(&self) -> Result<(), S3KeyError> {
        for (component, value) in [
            ("challenge_id", &self.challenge_id),
            ("miner_hotkey", &self.miner_hotkey),
            ("path_signature", &self.path_signature),
            ("seed_image_name", &self.seed_image_name),
            ("file_type", &self.file_type),
        ] {
            if value.is_empty() || value.contains('/') {
                return Err(S3KeyError::BadComponent { component, value: value.clone() });
            }
        }
        Ok(())
    }

    /// The object key string.
    pub fn render(&self) -> String {
        self.to_string()
    }

    /// The same key one second later (how a miner keeps keys unique, quirk Q6).
    pub fn next_second(&self) -> Self {
        SubmissionKey { timestamp: self.timestamp + 1, ..self.clone() }
    }

    /// Strict parse of the reference layout: [`parse_key`] plus a
    /// `{file_type}_{timestamp}.png.tlock` file name, and no `/` inside `seed_image_name`.
    pub fn parse(key: &str) -> Result<Self, S3KeyError> {
        let c = parse_key(key)?;
        let bad_file = || S3KeyError::BadFileName { key: key.to_owned(), file: c.file_name.to_owned() };
        let stem = c.file_name.strip_suffix(KEY_SUFFIX).ok_or_else(bad_file)?;
        let (file_type, ts) = stem.rsplit_once('_').ok_or_else(bad_file)?;
        if file_type.is_empty() || ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_file());
        }
        let timestamp = ts.parse().map_err(|_| bad_file())?;
        let parsed = SubmissionKey {
            challenge_id: c.challenge_id.to_owned(),
            miner_hotkey: c.miner_hotkey.to_owned(),
            path_signature: c.path_signature.to_owned(),
            seed_image_name: c.seed_image_name.to_owned(),
            file_type: file_type.to_owned(),
            timestamp,
        };
        parsed.validate()?;
        Ok(parsed)
    }
}

impl fmt::Display for SubmissionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{KEY_PREFIX}/{}/{}/{}/{}/{}_{}{KEY_SUFFIX}",
            self.challenge_id,
            self.miner_hotkey,
            self.path_signature,
            self.seed_image_name,
            self.file_type,
            self.timestamp
        )
    }
}

/// A key split the way a checker reads it: the reference validator's rule (starts with
/// `submissions/`, at least six parts, ends with `.tlock`) plus the positional components.
///
/// `challenge_id`, `miner_hotkey` and `path_signature` are parts 2–4, the file name is the last
/// part, and `seed_image_name` is everything between (normally one part).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyComponents<'a> {
    pub challenge_id: &'a str,
    pub miner_hotkey: &'a str,
    pub path_signature: &'a str,
    pub seed_image_name: &'a str,
    pub file_name: &'a str,
}

/// Splits `key` into [`KeyComponents`], enforcing the reference validator's shape rules and that
/// no component is empty.
pub fn parse_key(key: &str) -> Result<KeyComponents<'_>, S3KeyError> {
    let rest = key
        .strip_prefix(KEY_PREFIX)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| S3KeyError::BadPrefix { key: key.to_owned() })?;
    if !key.ends_with(".tlock") {
        return Err(S3KeyError::BadSuffix { key: key.to_owned() });
    }
    let parts = key.split('/').count();
    if parts < MIN_KEY_PARTS {
        return Err(S3KeyError::TooFewParts { key: key.to_owned(), parts });
    }
    let mut it = rest.splitn(4, '/');
    let (challenge_id, miner_hotkey, path_signature, tail) =
        (it.next().unwrap_or(""), it.next().unwrap_or(""), it.next().unwrap_or(""), it.next().unwrap_or(""));
    let (seed_image_name, file_name) = tail.rsplit_once('/').unwrap_or(("", tail));
    for (component, value) in [
        ("challenge_id", challenge_id),
        ("miner_hotkey", miner_hotkey),
        ("path_signature", path_signature),
        ("seed_image_name", seed_image_name),
        ("file name", file_name),
    ] {
        if value.is_empty() {
            return Err(S3KeyError::EmptyComponent { key: key.to_owned(), component });
        }
    }
    Ok(KeyComponents { challenge_id, miner_hotkey, path_signature, seed_image_name, file_name })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    const CID: &str = "challenge_1754000000_5GrwvaEF";
    /// Spec 1.8 / 5.7 keys.
    const KEY1: &str = "submissions/challenge_1754000000_5GrwvaEF/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/5658f9bf506f29b3/a1b2c3d4e5f6_m_doc/background_edit_1754000187.png.tlock";
    const KEY2: &str = "submissions/challenge_1754000000_5GrwvaEF/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/5658f9bf506f29b3/a1b2c3d4e5f6_m_doc/lighting_edit_expression_edit_1754000321.png.tlock";
    const HASH1: &str = "548029a44342983e2c0a8432821c2823fde2d202ac3f187a5b88b912c5ee743f";
    const HASH2: &str = "f996be114fb3ee9f458d29f1f74be009c672356081046c2fb5c113621182f558";
    const SIG1: &str = "aaa66b15adcf0c10a0fe3587508bb5fec87add3c87a786470b6a3288a35eb90ce636d29c1610aa3f80ba4d51ae1ef7ccf8071c2f3edea9a9c93722c82324af85";
    const SIG2: &str = "48f638348faf134946d86591da135dfaf73a973704b2010a275dae29c6ca3f110d06af11ab28a232968488c79cd2f2a570c001c6d8efeb9622e9720b7bc9078e";
    const PATH_SIG_FULL: &str = "5658f9bf506f29b370c5b6da49fc70ba28fd559fc5c93ea806d5ed57dbef5f13c75d3459c3e8feb5267be80f14ec27dc72d915fba6a5bbf71fdfb4f57a93c786";

    fn bob() -> PublicKey {
        PublicKey::from_ss58(BOB).unwrap()
    }

    #[test]
    fn s3_worked_example_keys_render_and_parse() {
        let k1 = SubmissionKey::for_image(
            Some(CID),
            BOB,
            "5658f9bf506f29b3",
            "a1b2c3d4e5f6_m_doc.png",
            "background_edit",
            Generation::R2,
            1754000187,
        )
        .unwrap();
        assert_eq!(k1.render(), KEY1);
        let k2 = SubmissionKey::for_image(
            Some(CID),
            BOB,
            "5658f9bf506f29b3",
            "a1b2c3d4e5f6_m_doc.png",
            "lighting_edit+expression_edit",
            Generation::R2,
            1754000321,
        )
        .unwrap();
        assert_eq!(k2.render(), KEY2);
        assert_eq!(SubmissionKey::parse(KEY1).unwrap(), k1);
        assert_eq!(SubmissionKey::parse(KEY2).unwrap(), k2);
        let c = parse_key(KEY2).unwrap();
        assert_eq!(c.challenge_id, CID);
        assert_eq!(c.miner_hotkey, BOB);
        assert_eq!(c.path_signature, "5658f9bf506f29b3");
        assert_eq!(c.seed_image_name, "a1b2c3d4e5f6_m_doc");
        assert_eq!(c.file_name, "lighting_edit_expression_edit_1754000321.png.tlock");
        assert_eq!(k1.next_second().timestamp, 1754000188);
    }

    #[test]
    fn s3_appendix_a3_signatures_verify() {
        assert_eq!(submission_message(CID, HASH1), format!("challenge:{CID}:hash:{HASH1}"));
        verify_submission(&bob(), CID, HASH1, SIG1).unwrap();
        verify_submission(&bob(), CID, HASH2, SIG2).unwrap();
        // Crossed hashes, another challenge or another key do not verify.
        assert!(matches!(verify_submission(&bob(), CID, HASH2, SIG1), Err(SubmissionSignatureError::Invalid { .. })));
        assert!(verify_submission(&bob(), "sandbox_test", HASH1, SIG1).is_err());
        let alice = PublicKey::from_ss58("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").unwrap();
        assert!(verify_submission(&alice, CID, HASH1, SIG1).is_err());
        assert!(matches!(verify_submission(&bob(), CID, HASH1, "abcd"), Err(SubmissionSignatureError::Encoding(_))));
        assert!(matches!(verify_submission(&bob(), CID, HASH1, "zz"), Err(SubmissionSignatureError::Encoding(_))));

        // path_signature: the full signature verifies; its first 16 hex chars are the key component.
        let msg = path_signature_message(CID, BOB);
        assert_eq!(msg, format!("{CID}:{BOB}"));
        assert!(bob().verify(msg.as_bytes(), &hex::decode(PATH_SIG_FULL).unwrap()));
        assert_eq!(&PATH_SIG_FULL[..PATH_SIGNATURE_LEN], "5658f9bf506f29b3");
        // The image hashes are SHA-256 of the stand-in bytes.
        assert_eq!(crate::body_hash::sha256_hex(b"example-png-bytes-1"), HASH1);
        assert_eq!(crate::body_hash::sha256_hex(b"example-png-bytes-2"), HASH2);
    }

    #[test]
    fn s3_signing_round_trips_and_path_signature_is_random() {
        let bob_key = Hotkey::from_uri("//Bob").unwrap();
        let sig = sign_submission(&bob_key, CID, HASH1);
        assert_eq!(sig.len(), 128);
        verify_submission(&bob(), CID, HASH1, &sig).unwrap();
        verify_submission(&bob(), CID, HASH1, &format!("0x{sig}")).unwrap();
        let a = path_signature(&bob_key, CID);
        let b = path_signature(&bob_key, CID);
        assert!(is_path_signature(&a) && is_path_signature(&b));
        assert_ne!(a, b, "sr25519 signatures are randomised");
        assert!(!is_path_signature("5658F9BF506F29B3"));
        assert!(!is_path_signature("5658f9bf506f29b"));
    }

    #[test]
    fn s3_seed_image_name_and_file_type() {
        assert_eq!(seed_image_name("a.png"), "a");
        assert_eq!(seed_image_name("a.jpg"), "a");
        assert_eq!(seed_image_name("a.jpeg"), "a");
        assert_eq!(seed_image_name("a.png.jpg"), "a.png");
        assert_eq!(seed_image_name("a.PNG"), "a.PNG");
        assert_eq!(seed_image_name("a.webp"), "a.webp");
        assert_eq!(file_type("a+b+c", Generation::R2), "a_b_c");
        assert_eq!(file_type("a+b", Generation::R1), "a+b");
        assert_eq!(file_type("screen_replay", Generation::R2), "screen_replay");
        assert_eq!(challenge_id_or_sandbox(None), "sandbox_test");
        let k =
            SubmissionKey::for_image(None, BOB, "0123456789abcdef", "x.jpeg", "pose_edit", Generation::R1, 5).unwrap();
        assert_eq!(k.render(), format!("submissions/sandbox_test/{BOB}/0123456789abcdef/x/pose_edit_5.png.tlock"));
        assert!(matches!(
            SubmissionKey::for_image(Some("a/b"), BOB, "0123456789abcdef", "x.png", "t", Generation::R2, 5),
            Err(S3KeyError::BadComponent { component: "challenge_id", .. })
        ));
    }

    #[test]
    fn s3_malformed_keys_are_refused() {
        assert!(matches!(parse_key("uploads/a/b/c/d/e.png.tlock"), Err(S3KeyError::BadPrefix { .. })));
        assert!(matches!(parse_key("submissions/a/b/c/d/e.png"), Err(S3KeyError::BadSuffix { .. })));
        assert!(matches!(parse_key("submissions/a/b/c/e.png.tlock"), Err(S3KeyError::TooFewParts { parts: 5, .. })));
        assert!(matches!(
            parse_key("submissions/a//c/d/e.png.tlock"),
            Err(S3KeyError::EmptyComponent { component: "miner_hotkey", .. })
        ));
        // The lenient (reference validator) shape accepts any file name ending in .tlock ...
        let c = parse_key("submissions/a/b/c/d/e/f.tlock").unwrap();
        assert_eq!((c.seed_image_name, c.file_name), ("d/e", "f.tlock"));
        // ... the strict parse wants {file_type}_{timestamp}.png.tlock.
        for bad in [
            "submissions/a/b/c/d/f.tlock",
            "submissions/a/b/c/d/type.png.tlock",
            "submissions/a/b/c/d/type_12x.png.tlock",
            "submissions/a/b/c/d/_12.png.tlock",
        ] {
            assert!(matches!(SubmissionKey::parse(bad), Err(S3KeyError::BadFileName { .. })), "{bad}");
        }
        assert!(matches!(
            SubmissionKey::parse("submissions/a/b/c/d/e/t_1.png.tlock"),
            Err(S3KeyError::BadComponent { component: "seed_image_name", .. })
        ));
    }
}
