//! The mainnet format: `bittensor_drand`'s SCALE envelope around Ideal Labs' TLE ciphertext.
//!
//! Envelope (spec 4.5.1): `compact(L) ‖ inner (L bytes) ‖ reveal_round (u64 LE)`, the SCALE
//! encoding of `UserData { encrypted_data: Vec<u8>, reveal_round: u64 }`.
//!
//! Inner ciphertext (spec 4.5.2, arkworks compressed serialisation of the TLE ciphertext of the
//! Ideal Labs revision `bittensor_drand` 2.0.0 builds, identical to crates.io `timelock` 0.0.1):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 96 | `U`, G2 point |
//! | 96 | 8 | `32` (length of V) |
//! | 104 | 32 | `V` |
//! | 136 | 8 | `32` (length of W) |
//! | 144 | 32 | `W` |
//! | 176 | 8 | `B = n + 44`, body length |
//! | 184 | 8 | `n + 16`, AES-GCM ciphertext length |
//! | 192 | n + 16 | AES-256-GCM ciphertext ‖ tag |
//! | 208 + n | 8 | `12` |
//! | 216 + n | 12 | nonce |
//! | 228 + n | 8 | `8` |
//! | 236 + n | 8 | `AES_GCM_` |
//!
//! crates.io `timelock` 0.3.0 serialises V and W as bare `[u8; 32]` (no length prefixes); the rest
//! is identical. This module therefore builds the 0.3.0 values from a layout it has validated
//! itself, and writes the layout itself from 0.3.0's values. Validating every length here also
//! keeps hostile length fields away from arkworks' `Vec` deserialisation (which would try to
//! allocate them).

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use parity_scale_codec::{Compact, Decode, DecodeAll, Encode};
use rand_chacha::rand_core::SeedableRng;
use timelock::block_ciphers::AESGCMBlockCipherProvider;
use timelock::engines::EngineBLS;
use timelock::engines::drand::TinyBLS381;
use timelock::ibe::fullident::{Ciphertext as IbeCiphertext, Identity};
use timelock::tlock::{Error as TleError, TLECiphertext, tld, tle};

use crate::{Error, Format, Result, round_message};

/// Inner TLE ciphertext size minus plaintext size (spec A.6).
pub const INNER_OVERHEAD: usize = 244;
/// The most an envelope adds to the inner ciphertext: a compact length (at most 5 bytes for a
/// u32) and the 8-byte round.
pub const ENVELOPE_OVERHEAD_MAX: usize = 5 + 8;

const CIPHER_SUITE: &[u8; 8] = b"AES_GCM_";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// `bittensor_drand`'s `UserData`.
#[derive(Encode, Decode)]
struct UserData {
    encrypted_data: Vec<u8>,
    reveal_round: u64,
}

/// A structurally valid envelope.
pub(crate) struct Parsed {
    pub round: u64,
    /// The inner ciphertext, its layout checked.
    inner: Vec<u8>,
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::Malformed { format: Format::Mainnet, detail: detail.into() }
}

fn tampered(detail: impl Into<String>) -> Error {
    Error::Tampered { format: Format::Mainnet, detail: detail.into() }
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

/// Whether `bytes` is (or is meant to be) an envelope: its compact length accounts for exactly
/// the bytes present, or it ends with the cipher-suite tag and a round, as every envelope does.
pub(crate) fn looks_like_envelope(bytes: &[u8]) -> bool {
    let mut input = bytes;
    if let Ok(Compact(len)) = Compact::<u32>::decode(&mut input)
        && (len as usize).checked_add(8) == Some(input.len())
    {
        return true;
    }
    bytes.len() >= 16 && &bytes[bytes.len() - 16..bytes.len() - 8] == CIPHER_SUITE
}

/// Parses the envelope and checks every length field of the inner layout.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed> {
    let UserData { encrypted_data: inner, reveal_round: round } =
        UserData::decode_all(&mut &bytes[..]).map_err(|e| malformed(format!("SCALE envelope: {e}")))?;
    check_inner(&inner)?;
    Ok(Parsed { round, inner })
}

fn check_inner(inner: &[u8]) -> Result<()> {
    let len = inner.len();
    if len < INNER_OVERHEAD {
        return Err(malformed(format!(
            "inner ciphertext is {len} bytes, shorter than the {INNER_OVERHEAD}-byte minimum"
        )));
    }
    for (off, name) in [(96, "V"), (136, "W")] {
        let l = u64_at(inner, off);
        if l != 32 {
            return Err(malformed(format!("length of {name} at offset {off} is {l}, expected 32")));
        }
    }
    let n = len - INNER_OVERHEAD;
    let checks: [(usize, u64, &str); 4] = [
        (176, (n + 44) as u64, "body length"),
        (184, (n + TAG_LEN) as u64, "AES-GCM ciphertext length"),
        (208 + n, NONCE_LEN as u64, "nonce length"),
        (228 + n, CIPHER_SUITE.len() as u64, "cipher-suite length"),
    ];
    for (off, want, name) in checks {
        let got = u64_at(inner, off);
        if got != want {
            return Err(malformed(format!(
                "{name} at offset {off} is {got}, expected {want} for a {len}-byte inner ciphertext"
            )));
        }
    }
    if &inner[len - 8..] != CIPHER_SUITE {
        return Err(malformed(format!(
            "cipher suite is {:?}, expected \"AES_GCM_\"",
            String::from_utf8_lossy(&inner[len - 8..])
        )));
    }
    Ok(())
}

pub(crate) fn encrypt<R: rand::CryptoRng + ?Sized>(
    public_key: &[u8; 96],
    round: u64,
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let n = plaintext.len();
    if n > u32::MAX as usize - INNER_OVERHEAD {
        return Err(Error::TooLarge(n));
    }
    let pk = <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(&public_key[..])
        .map_err(|_| Error::InvalidPublicKey)?;
    let identity = Identity::new(b"", &round_message(round));
    // timelock 0.3.0 takes a rand_core 0.6 RNG: seed ChaCha20 from the caller's CSPRNG.
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let lib_rng = rand_chacha::ChaCha20Rng::from_seed(seed);
    let ct = tle::<TinyBLS381, AESGCMBlockCipherProvider, _>(pk, key, plaintext, identity, lib_rng)
        .map_err(|e| Error::Encryption(format!("timelock: {e:?}")));
    key.fill(0);
    seed.fill(0);
    let ct = ct?;

    let mut inner = Vec::with_capacity(n + INNER_OVERHEAD);
    ct.header.u.serialize_compressed(&mut inner).map_err(|e| Error::Encryption(format!("serialising U: {e}")))?;
    inner.extend_from_slice(&32u64.to_le_bytes());
    inner.extend_from_slice(&ct.header.v);
    inner.extend_from_slice(&32u64.to_le_bytes());
    inner.extend_from_slice(&ct.header.w);
    inner.extend_from_slice(&(ct.body.len() as u64).to_le_bytes());
    inner.extend_from_slice(&ct.body);
    inner.extend_from_slice(&(ct.cipher_suite.len() as u64).to_le_bytes());
    inner.extend_from_slice(&ct.cipher_suite);
    // Self-check (spec 4.7.5): the layout bittensor_drand reads, 244 + n bytes.
    if inner.len() != n + INNER_OVERHEAD {
        return Err(Error::Encryption(format!(
            "inner ciphertext is {} bytes, expected {}",
            inner.len(),
            n + INNER_OVERHEAD
        )));
    }
    check_inner(&inner).map_err(|e| Error::Encryption(format!("self-check: {e}")))?;
    Ok(UserData { encrypted_data: inner, reveal_round: round }.encode())
}

pub(crate) fn decrypt(parsed: &Parsed, signature: &[u8; 48]) -> Result<Vec<u8>> {
    let inner = &parsed.inner;
    let len = inner.len();
    let u = <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(&inner[..96])
        .map_err(|e| tampered(format!("U is not a valid G2 point ({e})")))?;
    let header = IbeCiphertext::<TinyBLS381> {
        u,
        v: inner[104..136].try_into().expect("32 bytes"),
        w: inner[144..176].try_into().expect("32 bytes"),
    };
    let ct = TLECiphertext::<TinyBLS381> {
        header,
        body: inner[184..len - 16].to_vec(),
        cipher_suite: CIPHER_SUITE.to_vec(),
    };
    let sig = <TinyBLS381 as EngineBLS>::SignatureGroup::deserialize_compressed(&signature[..])
        .map_err(|_| Error::InvalidSignature)?;
    tld::<TinyBLS381, AESGCMBlockCipherProvider>(ct, sig).map_err(|e| match e {
        TleError::InvalidSignature => tampered(format!(
            "the IBE key encapsulation does not open under round {}'s signature (U, V or W altered, or the envelope's round is not the one it was encrypted to)",
            parsed.round
        )),
        TleError::DecryptionError => tampered("AES-256-GCM authentication tag mismatch (body or nonce altered)"),
        other => malformed(format!("timelock: {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_prefix_forms() {
        // Spec 4.5.1: 1-byte form below 64, 2-byte below 2^14, 4-byte below 2^30.
        for (n, prefix_len) in [(0usize, 2usize), (66, 2), (16_383 - 244, 2), (16_384 - 244, 4), (1_234_567, 4)] {
            let e = UserData { encrypted_data: vec![0; n + INNER_OVERHEAD], reveal_round: 1 }.encode();
            assert_eq!(e.len(), n + INNER_OVERHEAD + prefix_len + 8, "n = {n}");
        }
        // The spec's example: a 1 234 567-byte PNG gives prefix ee5d4b00 and round trailer 3e46370100000000.
        let e = UserData { encrypted_data: vec![0; 1_234_811], reveal_round: 20_399_678 }.encode();
        assert_eq!(hex::encode(&e[..4]), "ee5d4b00");
        assert_eq!(hex::encode(&e[e.len() - 8..]), "3e46370100000000");
        assert_eq!(e.len(), 1_234_823);
    }

    #[test]
    fn truncated_and_padded_envelopes_are_malformed() {
        let ct = encrypt(&crate::QUICKNET_PUBLIC_KEY, 7, b"hello", &mut rand::rng()).unwrap();
        assert!(parse(&ct).is_ok());
        for bad in [&ct[..ct.len() - 1], &ct[..20], &[ct.as_slice(), &[0]].concat()[..]] {
            assert!(matches!(parse(bad), Err(Error::Malformed { format: Format::Mainnet, .. })));
        }
    }

    #[test]
    fn hostile_lengths_do_not_allocate() {
        let mut ct = encrypt(&crate::QUICKNET_PUBLIC_KEY, 7, b"hello", &mut rand::rng()).unwrap();
        // Body length (inner offset 176, envelope offset 178) set to 2^63.
        ct[178 + 7] = 0x80;
        let err = parse(&ct).err().unwrap();
        assert!(err.to_string().contains("body length"), "{err}");
    }
}
