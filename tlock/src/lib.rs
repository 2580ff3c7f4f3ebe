//! drand timelock encryption for MIID: one interface, two ciphertext formats.
//!
//! A MIID miner timelocks every image to a future drand round (`target_drand_round`); whoever
//! holds that round's beacon signature can decrypt, nobody can before. This crate owns the
//! ciphertext formats, detecting them, decrypting them once a round's signature is known, and
//! fetching *verified* signatures from a drand HTTP endpoint ([`client`]). Nothing here needs the
//! network to encrypt: the beacon's public key and the round are enough.
//!
//! # Formats
//!
//! | [`Format`] | what it is | produced / read by | backed by |
//! |---|---|---|---|
//! | [`Format::Mainnet`] | SCALE envelope `UserData { encrypted_data: Vec<u8>, reveal_round: u64 }` around Ideal Labs' TLE ciphertext (Boneh–Franklin IBE on BLS12-381 + AES-256-GCM), spec `miner-protocol.md` 4.5 | PyPI `bittensor-drand` 2.0.0 (`bittensor.timelock`), i.e. every current MIID miner and the grading service | crates.io [`timelock`] **0.3.0** + a framing adapter, [`parity_scale_codec`] for the envelope |
//! | [`Format::Age`] | drand's standard tlock format: an age v1 file with a `-> tlock {round} {chain hash}` stanza, binary or ASCII-armored | drand's `tle`/`dee`, tlock-js, `age-plugin-tlock` | crates.io [`tlock_age`] 0.0.10 (feature `armor`) |
//!
//! The two share only the drand identity (`sha256(round as u64 big-endian)` hashed to G1 with
//! `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`), so the same round signature opens both; they
//! are otherwise incompatible in both directions (spec 4.6). Use [`Format::Mainnet`] for anything
//! uploaded to MIID; [`Format::Age`] is for interoperating with drand's own tools.
//!
//! ## Evidence for the mainnet backend
//!
//! The spec (4.6) found crates.io `timelock` 0.0.1 byte-compatible with `bittensor_drand` once
//! wrapped in the envelope. 0.0.1 cannot be used in this workspace: it pins `w3f-bls = "=0.1.4"`,
//! and `sp-core` 43 (used by `miid-protocol`) needs `w3f-bls ^0.1.9`; Cargo allows one 0.1.x.
//! `timelock` 0.3.0 has the same IBE, AES-GCM body and cipher-suite tag, but stores V and W as
//! fixed `[u8; 32]` instead of length-prefixed `Vec<u8>`, so its serialisation lacks the two
//! 8-byte `32u64` prefixes at offsets 96 and 136 (research `crates.md` 2 and 10). The adapter in
//! the private `mainnet` module re-inserts them on encryption and checks and strips them on
//! decryption, after validating every length field of the layout (4.5.2) itself. The evidence
//! that this is byte-compatible is in the tests: the spec's Appendix A.5 known answer decrypts,
//! ciphertexts made by `bittensor_drand` 2.0.0 (`tests/fixtures/`, provenance in its README)
//! decrypt, and `bittensor_drand.decrypt_with_signature` opened a ciphertext this crate made
//! (recorded in the same README).
//!
//! # Security properties
//!
//! - [`decrypt`] first checks the signature against the chain public key for the round the
//!   ciphertext names ([`verify_signature`], blst), so a signature for another round or another
//!   chain is reported as [`Error::WrongSignature`] before any decryption is tried.
//! - Both formats are authenticated (AES-256-GCM; age's HMAC header and ChaCha20-Poly1305 STREAM),
//!   and the IBE step re-derives and compares `U`. Plaintext is returned only after the whole
//!   ciphertext authenticated: a tampered ciphertext yields an error, never a partial plaintext.
//! - Encryption targets exactly the requested round (quirk Q9: `bittensor_drand.encrypt(data,
//!   n_blocks)` usually lands one round early; [`encrypt`] takes the round itself).
//!
//! # Example
//!
//! ```
//! use miid_tlock::{ChainKey, Format, decrypt, encrypt, round_of};
//!
//! let chain = ChainKey::quicknet();
//! let ct = encrypt(Format::Mainnet, &chain, 1000, b"image bytes", &mut rand::rng()).unwrap();
//! assert_eq!(round_of(&ct).unwrap(), (Format::Mainnet, 1000));
//! // drand quicknet's published signature of round 1000.
//! let sig: [u8; 48] = hex::decode(
//!     "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39",
//! )
//! .unwrap()
//! .try_into()
//! .unwrap();
//! assert_eq!(decrypt(&ct, &chain, &sig).unwrap(), b"image bytes");
//! ```

mod age_format;
pub mod client;
mod mainnet;

use sha2::{Digest, Sha256};

pub use mainnet::{ENVELOPE_OVERHEAD_MAX, INNER_OVERHEAD};

/// drand quicknet's chain hash.
pub const QUICKNET_CHAIN_HASH: [u8; 32] =
    hex_literal_32("52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971");
/// drand quicknet's public key (compressed G2).
pub const QUICKNET_PUBLIC_KEY: [u8; 96] = hex_literal_96(
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
);
/// The scheme this crate supports (quicknet's): signatures on G1, public key on G2, RFC 9380 hashing.
pub const SCHEME_ID: &str = "bls-unchained-g1-rfc9380";
/// Hash-to-curve domain separation tag of [`SCHEME_ID`].
pub const DST: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

/// A ciphertext format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `bittensor_drand`'s SCALE envelope around the Ideal Labs TLE ciphertext (spec 4.5).
    Mainnet,
    /// drand's standard tlock format (age v1), ASCII-armored or binary.
    Age { armor: bool },
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Mainnet => f.write_str("bittensor-drand envelope"),
            Format::Age { armor: true } => f.write_str("tlock age (armored)"),
            Format::Age { armor: false } => f.write_str("tlock age (binary)"),
        }
    }
}

/// What a ciphertext is bound to: a drand chain's public key and its chain hash.
///
/// The mainnet format does not record the chain (only the round); the age format records the
/// chain hash in its stanza, and [`decrypt`] refuses an age file made for another chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainKey {
    /// Compressed G2 public key (96 bytes), drand's `public_key`.
    pub public_key: [u8; 96],
    /// drand's chain hash.
    pub chain_hash: [u8; 32],
}

impl ChainKey {
    /// drand quicknet, the beacon MIID uses on mainnet.
    pub const fn quicknet() -> Self {
        ChainKey { public_key: QUICKNET_PUBLIC_KEY, chain_hash: QUICKNET_CHAIN_HASH }
    }
}

/// Why encryption or decryption failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes are neither an age file nor a bittensor-drand envelope.
    #[error("unknown ciphertext format: neither an age file (binary or armored) nor a bittensor-drand SCALE envelope")]
    UnknownFormat,
    /// The format was recognised but the structure is broken (lengths, magic, header).
    #[error("malformed {format} ciphertext: {detail}")]
    Malformed { format: Format, detail: String },
    /// drand round 0 has no signature (the HTTP API reads it as "latest"); nothing can target it.
    #[error("round 0 is not a drand round")]
    RoundZero,
    /// The public key is not a valid compressed G2 point in the prime-order subgroup.
    #[error("the chain public key is not a valid compressed BLS12-381 G2 point")]
    InvalidPublicKey,
    /// The signature is not a valid compressed G1 point in the prime-order subgroup.
    #[error("the signature is not a valid compressed BLS12-381 G1 point")]
    InvalidSignature,
    /// The signature is a valid point but not this chain's signature of the ciphertext's round.
    #[error("the signature is not this chain's signature of round {round}, the round the ciphertext is locked to")]
    WrongSignature { round: u64 },
    /// An age ciphertext names another chain than the key given.
    #[error("the ciphertext is locked to chain {found}, not to chain {expected}")]
    ChainMismatch { expected: String, found: String },
    /// Authentication failed: the ciphertext was altered, or its header's round/chain does not match
    /// what its key encapsulation was made for. No plaintext is released.
    #[error("{format} ciphertext failed authentication (tampered or inconsistent): {detail}")]
    Tampered { format: Format, detail: String },
    /// The plaintext does not fit the format (the envelope's SCALE length is a u32).
    #[error("plaintext of {0} bytes is too large for the format")]
    TooLarge(usize),
    /// The backing library failed to encrypt.
    #[error("encryption failed: {0}")]
    Encryption(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Encrypts `plaintext` to exactly `round` of the chain `beacon`.
///
/// `rng` supplies all randomness of the mainnet format (AES key, IBE σ, nonce). The age format's
/// randomness is drawn by `age` (file key, payload nonce) and `tlock` (σ, via `rand::rng()`, the
/// OS-seeded thread-local CSPRNG) themselves — their API takes no RNG — so `rng` is not consulted
/// for it.
pub fn encrypt<R: rand::CryptoRng + ?Sized>(
    format: Format,
    beacon: &ChainKey,
    round: u64,
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    if round == 0 {
        return Err(Error::RoundZero);
    }
    validate_public_key(&beacon.public_key)?;
    match format {
        Format::Mainnet => mainnet::encrypt(&beacon.public_key, round, plaintext, rng),
        Format::Age { armor } => age_format::encrypt(beacon, round, plaintext, armor),
    }
}

/// Decrypts a ciphertext of either format with the beacon signature of the round it is locked to.
///
/// The format is recognised from the bytes ([`detect`]); the signature is verified against
/// `beacon.public_key` for the ciphertext's round before anything is decrypted.
pub fn decrypt(ciphertext: &[u8], beacon: &ChainKey, signature: &[u8; 48]) -> Result<Vec<u8>> {
    match detect(ciphertext)? {
        Format::Mainnet => {
            let parsed = mainnet::parse(ciphertext)?;
            verify_signature(&beacon.public_key, parsed.round, signature)?;
            mainnet::decrypt(&parsed, signature)
        }
        format @ Format::Age { .. } => {
            let (round, hash) = age_format::header(ciphertext, format)?;
            if hash != beacon.chain_hash {
                return Err(Error::ChainMismatch {
                    expected: hex::encode(beacon.chain_hash),
                    found: hex::encode(hash),
                });
            }
            verify_signature(&beacon.public_key, round, signature)?;
            age_format::decrypt(ciphertext, format, beacon, signature)
        }
    }
}

/// The format and target round of a ciphertext, read without a signature.
///
/// For the mainnet format this is the envelope's `reveal_round` (the inner TLE ciphertext does
/// not record its round; [`decrypt`] fails authentication if the two disagree).
pub fn round_of(ciphertext: &[u8]) -> Result<(Format, u64)> {
    let format = detect(ciphertext)?;
    let round = match format {
        Format::Mainnet => mainnet::parse(ciphertext)?.round,
        Format::Age { .. } => age_format::header(ciphertext, format)?.0,
    };
    Ok((format, round))
}

/// The chain hash an age ciphertext names (`None` for the mainnet format, which names none).
pub fn chain_hash_of(ciphertext: &[u8]) -> Result<Option<[u8; 32]>> {
    match detect(ciphertext)? {
        Format::Mainnet => {
            mainnet::parse(ciphertext)?;
            Ok(None)
        }
        format @ Format::Age { .. } => Ok(Some(age_format::header(ciphertext, format)?.1)),
    }
}

/// Recognises the format from the first bytes: age's binary magic or armor header, else a
/// bittensor-drand envelope (a complete structural parse decides, see [`Error::Malformed`]).
pub fn detect(ciphertext: &[u8]) -> Result<Format> {
    if let Some(format) = age_format::sniff(ciphertext) {
        return Ok(format);
    }
    if mainnet::looks_like_envelope(ciphertext) { Ok(Format::Mainnet) } else { Err(Error::UnknownFormat) }
}

/// drand's message for an unchained round: `sha256(round as 8 big-endian bytes)`. It is both what
/// the beacon signs and the timelock identity.
pub fn round_message(round: u64) -> [u8; 32] {
    Sha256::digest(round.to_be_bytes()).into()
}

/// Checks that `signature` is the chain's BLS signature of `round` (scheme [`SCHEME_ID`]:
/// 96-byte G2 public key, 48-byte G1 signature, subgroup checks on both).
pub fn verify_signature(public_key: &[u8; 96], round: u64, signature: &[u8; 48]) -> Result<()> {
    use blst::BLST_ERROR;
    use blst::min_sig::{PublicKey, Signature};
    let pk = PublicKey::key_validate(public_key).map_err(|_| Error::InvalidPublicKey)?;
    let sig = Signature::from_bytes(signature).map_err(|_| Error::InvalidSignature)?;
    match sig.verify(true, &round_message(round), DST, &[], &pk, false) {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP | BLST_ERROR::BLST_BAD_ENCODING => Err(Error::InvalidSignature),
        _ => Err(Error::WrongSignature { round }),
    }
}

fn validate_public_key(public_key: &[u8; 96]) -> Result<()> {
    blst::min_sig::PublicKey::key_validate(public_key).map(|_| ()).map_err(|_| Error::InvalidPublicKey)
}

const fn hex_nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not lower-case hex"),
    }
}

const fn hex_literal_32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    assert!(b.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = hex_nibble(b[2 * i]) << 4 | hex_nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn hex_literal_96(s: &str) -> [u8; 96] {
    let b = s.as_bytes();
    assert!(b.len() == 192);
    let mut out = [0u8; 96];
    let mut i = 0;
    while i < 96 {
        out[i] = hex_nibble(b[2 * i]) << 4 | hex_nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const R123_SIG: &str =
        "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92";

    #[test]
    fn quicknet_constants() {
        assert_eq!(
            hex::encode(QUICKNET_CHAIN_HASH),
            "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
        );
        assert!(hex::encode(QUICKNET_PUBLIC_KEY).starts_with("83cf0f2896adee7e"));
        assert!(hex::encode(QUICKNET_PUBLIC_KEY).ends_with("1ef5ece45a"));
        validate_public_key(&QUICKNET_PUBLIC_KEY).unwrap();
    }

    #[test]
    fn round_messages_match_appendix_a4() {
        assert_eq!(
            hex::encode(round_message(20_399_678)),
            "e502110bc0adb5d7bf90b5273d1c6d32643c6f145fbc29522e773e33541a1e91"
        );
        assert_eq!(
            hex::encode(round_message(1000)),
            "f652498d092acd949bad74e40683bf3824fb817980504a0c7e6722cfc5a9c0a3"
        );
    }

    #[test]
    fn signature_verification() {
        let sig: [u8; 48] = hex::decode(R123_SIG).unwrap().try_into().unwrap();
        verify_signature(&QUICKNET_PUBLIC_KEY, 123, &sig).unwrap();
        assert_eq!(verify_signature(&QUICKNET_PUBLIC_KEY, 124, &sig), Err(Error::WrongSignature { round: 124 }));
        assert_eq!(verify_signature(&QUICKNET_PUBLIC_KEY, 123, &[0u8; 48]), Err(Error::InvalidSignature));
        assert_eq!(verify_signature(&[0u8; 96], 123, &sig), Err(Error::InvalidPublicKey));
    }

    #[test]
    fn detect_rejects_noise() {
        assert_eq!(detect(b""), Err(Error::UnknownFormat));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n not encrypted"), Err(Error::UnknownFormat));
        assert_eq!(round_of(&[0u8; 400]), Err(Error::UnknownFormat));
    }

    #[test]
    fn round_zero_is_refused() {
        let r = encrypt(Format::Mainnet, &ChainKey::quicknet(), 0, b"x", &mut rand::rng());
        assert_eq!(r, Err(Error::RoundZero));
    }

    #[test]
    fn bad_public_key_is_refused_before_encrypting() {
        let bad = ChainKey { public_key: [0x11; 96], chain_hash: QUICKNET_CHAIN_HASH };
        for format in [Format::Mainnet, Format::Age { armor: false }, Format::Age { armor: true }] {
            assert_eq!(encrypt(format, &bad, 5, b"x", &mut rand::rng()), Err(Error::InvalidPublicKey), "{format}");
        }
    }
}
