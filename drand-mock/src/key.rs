//! The beacon's BLS key and round signatures.
//!
//! blst's `min_sig` variant is exactly quicknet's layout (signatures on G1, public key on G2), and
//! blst is what drand's own Rust verifiers trust, so signatures made here are checked by the same
//! code that checks mainnet rounds.

use std::path::Path;

use blst::BLST_ERROR;
use blst::min_sig::{PublicKey, SecretKey, Signature};
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hash-to-curve domain separation tag of `bls-unchained-g1-rfc9380` (RFC 9380 suite for G1).
pub const DST: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

/// The message drand signs for an unchained round: `sha256(round as 8 big-endian bytes)`.
///
/// Timelock identities are built from the same digest, which is why a round's signature is the
/// decryption key for everything encrypted to that round.
pub fn message_for_round(round: u64) -> [u8; 32] {
    Sha256::digest(round.to_be_bytes()).into()
}

/// drand's randomness: `sha256(signature bytes)`.
pub fn randomness_of(signature: &[u8]) -> [u8; 32] {
    Sha256::digest(signature).into()
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("secret key must be 64 hex characters (32 bytes), got {0} characters")]
    Length(usize),
    #[error("secret key is not hex: {0}")]
    Hex(#[from] hex::FromHexError),
    #[error("secret key is not a valid BLS12-381 scalar (zero or not below the group order)")]
    Scalar,
    #[error("operating system randomness unavailable: {0}")]
    Rng(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("public key is not a valid compressed G2 point (96 bytes expected, got {0})")]
    PublicKey(usize),
    #[error("signature is not a valid compressed G1 point (48 bytes expected, got {0})")]
    Signature(usize),
    #[error("signature does not verify for round {0}")]
    Invalid(u64),
}

/// A beacon's secret key with its compressed public key.
///
/// Key file format (`--key FILE`, [`BeaconKey::load`], [`BeaconKey::save`]): UTF-8 text; blank
/// lines and lines starting with `#` are ignored; the remaining text is the 32-byte secret scalar
/// as 64 hex characters, big-endian (the IETF/blst serialisation). [`BeaconKey::save`] writes one
/// comment line with the public key, then the secret.
#[derive(Clone)]
pub struct BeaconKey {
    sk: SecretKey,
    pk: [u8; 96],
}

impl std::fmt::Debug for BeaconKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret: keys end up in logs via `{:?}` of configs.
        f.debug_struct("BeaconKey").field("public_key", &hex::encode(self.pk)).finish()
    }
}

impl BeaconKey {
    /// A fresh key from 32 bytes of operating-system randomness (IETF KeyGen over them).
    pub fn generate() -> Result<Self, KeyError> {
        let mut ikm = [0u8; 32];
        rand::rngs::OsRng.try_fill_bytes(&mut ikm).map_err(|e| KeyError::Rng(e.to_string()))?;
        Ok(Self::from_ikm(&ikm))
    }

    /// A deterministic key from at least 32 bytes of key material: handy for reproducible tests.
    ///
    /// # Panics
    /// If `ikm` is shorter than 32 bytes.
    pub fn from_ikm(ikm: &[u8]) -> Self {
        let sk = SecretKey::key_gen(ikm, &[]).expect("key material must be at least 32 bytes");
        Self::from_sk(sk)
    }

    fn from_sk(sk: SecretKey) -> Self {
        let pk = sk.sk_to_pk().compress();
        BeaconKey { sk, pk }
    }

    /// The key whose 32-byte big-endian secret scalar is `bytes`.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != 32 {
            return Err(KeyError::Length(bytes.len() * 2));
        }
        let sk = SecretKey::from_bytes(bytes).map_err(|_| KeyError::Scalar)?;
        // blst accepts zero on deserialisation; a zero key signs everything as infinity.
        if bytes.iter().all(|b| *b == 0) {
            return Err(KeyError::Scalar);
        }
        Ok(Self::from_sk(sk))
    }

    /// Parses the key file text format described on [`BeaconKey`].
    pub fn from_key_text(text: &str) -> Result<Self, KeyError> {
        let hex_text: String = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
        if hex_text.len() != 64 {
            return Err(KeyError::Length(hex_text.len()));
        }
        Self::from_secret_bytes(&hex::decode(hex_text)?)
    }

    /// The key file text for this key (see [`BeaconKey`]).
    pub fn to_key_text(&self) -> String {
        format!(
            "# drand-mock secret key (BLS12-381 scalar, 32 bytes big-endian hex); public key {}\n{}\n",
            hex::encode(self.pk),
            hex::encode(self.secret_bytes())
        )
    }

    /// Reads a key file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        Self::from_key_text(&text)
    }

    /// Writes a key file (owner-only permissions on Unix), replacing any file at `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        let path = path.as_ref();
        let io = |source| KeyError::Io { path: path.display().to_string(), source };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(io)?;
        std::io::Write::write_all(&mut f, self.to_key_text().as_bytes()).map_err(io)
    }

    /// The 32-byte big-endian secret scalar.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.sk.to_bytes()
    }

    /// The compressed G2 public key (96 bytes), as drand's `public_key`.
    pub fn public_key(&self) -> [u8; 96] {
        self.pk
    }

    /// The compressed G1 signature (48 bytes) of `round`.
    pub fn sign(&self, round: u64) -> [u8; 48] {
        self.sk.sign(&message_for_round(round), DST, &[]).compress()
    }

    /// The full beacon of `round`: signature and the randomness derived from it.
    pub fn beacon(&self, round: u64) -> Beacon {
        let sig = self.sign(round);
        Beacon { round, randomness: hex::encode(randomness_of(&sig)), signature: hex::encode(sig) }
    }
}

/// A beacon as drand's HTTP API prints it for unchained schemes (no `previous_signature`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beacon {
    pub round: u64,
    pub randomness: String,
    pub signature: String,
}

/// Checks `signature` as round `round` of the chain with `public_key`
/// (`bls-unchained-g1-rfc9380`: 96-byte G2 key, 48-byte G1 signature, subgroup checks on both).
pub fn verify_beacon(public_key: &[u8], round: u64, signature: &[u8]) -> Result<(), VerifyError> {
    let pk = PublicKey::key_validate(public_key).map_err(|_| VerifyError::PublicKey(public_key.len()))?;
    let sig = Signature::from_bytes(signature).map_err(|_| VerifyError::Signature(signature.len()))?;
    match sig.verify(true, &message_for_round(round), DST, &[], &pk, false) {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP | BLST_ERROR::BLST_BAD_ENCODING => {
            Err(VerifyError::Signature(signature.len()))
        }
        _ => Err(VerifyError::Invalid(round)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICKNET_PK: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
    /// quicknet round 123, from drand-verify 0.6.2's doc test (src/verify.rs, `G2PubkeyRfc`),
    /// which cites https://api3.drand.sh/52db9ba7…e971/public/123.
    const QUICKNET_R123_SIG: &str =
        "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92";
    /// quicknet round 1000 (spec miner-protocol.md 4.6).
    const QUICKNET_R1000_SIG: &str =
        "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";

    #[test]
    fn real_quicknet_rounds_verify() {
        let pk = hex::decode(QUICKNET_PK).unwrap();
        let r123 = hex::decode(QUICKNET_R123_SIG).unwrap();
        let r1000 = hex::decode(QUICKNET_R1000_SIG).unwrap();
        assert_eq!(verify_beacon(&pk, 123, &r123), Ok(()));
        assert_eq!(verify_beacon(&pk, 1000, &r1000), Ok(()));
        assert_eq!(verify_beacon(&pk, 124, &r123), Err(VerifyError::Invalid(124)));
        assert_eq!(verify_beacon(&pk, 1000, &r123), Err(VerifyError::Invalid(1000)));
    }

    #[test]
    fn sign_verify_round_trip() {
        let key = BeaconKey::from_ikm(&[7u8; 32]);
        let pk = key.public_key();
        for round in [1u64, 2, 1000, 20_399_678, u64::MAX] {
            let sig = key.sign(round);
            assert_eq!(verify_beacon(&pk, round, &sig), Ok(()), "round {round}");
            assert!(verify_beacon(&pk, round.wrapping_add(1), &sig).is_err());
        }
        let other = BeaconKey::from_ikm(&[8u8; 32]);
        assert_eq!(verify_beacon(&other.public_key(), 5, &key.sign(5)), Err(VerifyError::Invalid(5)));
        // Malformed inputs are errors, not panics.
        assert_eq!(verify_beacon(&pk[..95], 5, &key.sign(5)), Err(VerifyError::PublicKey(95)));
        assert_eq!(verify_beacon(&pk, 5, &[0u8; 48]), Err(VerifyError::Signature(48)));
        assert_eq!(verify_beacon(&pk, 5, b"short"), Err(VerifyError::Signature(5)));
    }

    #[test]
    fn drand_verify_accepts_our_signatures() {
        use drand_verify::{G2PubkeyRfc, Pubkey};
        let key = BeaconKey::generate().unwrap();
        let pk = G2PubkeyRfc::from_variable(&key.public_key()).unwrap();
        for round in [1u64, 123, 987_654] {
            assert!(pk.verify(round, b"", &key.sign(round)).unwrap());
            assert!(!pk.verify(round + 1, b"", &key.sign(round)).unwrap());
        }
        // And the real vector through the same independent verifier, for symmetry.
        let qn = G2PubkeyRfc::from_variable(&hex::decode(QUICKNET_PK).unwrap()).unwrap();
        assert!(qn.verify(123, b"", &hex::decode(QUICKNET_R123_SIG).unwrap()).unwrap());
    }

    #[test]
    fn beacon_randomness_is_sha256_of_signature() {
        let key = BeaconKey::from_ikm(&[1u8; 32]);
        let b = key.beacon(42);
        let sig = hex::decode(&b.signature).unwrap();
        assert_eq!(sig.len(), 48);
        assert_eq!(b.randomness, hex::encode(Sha256::digest(&sig)));
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            format!(r#"{{"round":42,"randomness":"{}","signature":"{}"}}"#, b.randomness, b.signature)
        );
        // drand_verify's own derivation agrees.
        assert_eq!(drand_verify::derive_randomness(&sig).to_vec(), hex::decode(&b.randomness).unwrap());
    }

    #[test]
    fn key_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("beacon.key");
        let key = BeaconKey::generate().unwrap();
        key.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# drand-mock secret key"));
        let back = BeaconKey::load(&path).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(back.sign(9), key.sign(9));
        // A bare hex line is accepted too.
        let bare = BeaconKey::from_key_text(&format!("  {}  \n", hex::encode(key.secret_bytes()))).unwrap();
        assert_eq!(bare.public_key(), key.public_key());
    }

    #[test]
    fn bad_key_text_is_rejected() {
        assert!(matches!(BeaconKey::from_key_text(""), Err(KeyError::Length(0))));
        assert!(matches!(BeaconKey::from_key_text("abcd"), Err(KeyError::Length(4))));
        assert!(matches!(BeaconKey::from_key_text(&"zz".repeat(32)), Err(KeyError::Hex(_))));
        assert!(matches!(BeaconKey::from_key_text(&"00".repeat(32)), Err(KeyError::Scalar)));
        // Not below the group order.
        assert!(matches!(BeaconKey::from_key_text(&"ff".repeat(32)), Err(KeyError::Scalar)));
        assert!(matches!(BeaconKey::load("/nonexistent/drand-mock.key"), Err(KeyError::Io { .. })));
    }

    #[test]
    fn debug_hides_secret() {
        let key = BeaconKey::from_ikm(&[3u8; 32]);
        let dbg = format!("{key:?}");
        assert!(!dbg.contains(&hex::encode(key.secret_bytes())));
        assert!(dbg.contains(&hex::encode(key.public_key())));
    }
}
