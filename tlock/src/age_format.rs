//! drand's standard tlock format: an age v1 file whose recipient stanza is
//! `-> tlock {round} {chain hash hex}` (drand/tlock, tlock-js, `age-plugin-tlock`), via
//! crates.io `tlock_age` 0.0.10.

use age::DecryptError;
use tlock_age::TLockAgeError;

use crate::{ChainKey, Error, Format, Result};

const BINARY_MAGIC: &[u8] = b"age-encryption.org/";
const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Recognises an age file, binary or armored (armor may be preceded by whitespace).
pub(crate) fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(BINARY_MAGIC) {
        Some(Format::Age { armor: false })
    } else if bytes.trim_ascii_start().starts_with(ARMOR_BEGIN) {
        Some(Format::Age { armor: true })
    } else {
        None
    }
}

fn input(bytes: &[u8], format: Format) -> &[u8] {
    match format {
        Format::Age { armor: true } => bytes.trim_ascii_start(),
        _ => bytes,
    }
}

fn malformed(format: Format, detail: impl Into<String>) -> Error {
    Error::Malformed { format, detail: detail.into() }
}

fn tampered(format: Format, detail: impl Into<String>) -> Error {
    Error::Tampered { format, detail: detail.into() }
}

fn map_err(format: Format, e: TLockAgeError) -> Error {
    match e {
        TLockAgeError::Decrypt(d) => match d {
            DecryptError::InvalidMac => tampered(format, "age header MAC mismatch (header altered)"),
            DecryptError::NoMatchingKeys | DecryptError::DecryptionFailed | DecryptError::KeyDecryptionFailed => {
                tampered(format, format!("the tlock stanza does not open under this round's signature ({d})"))
            }
            DecryptError::Io(io) => tampered(format, format!("payload: {io}")),
            other => malformed(format, other.to_string()),
        },
        TLockAgeError::IO(io) => tampered(format, format!("payload authentication failed: {io}")),
        TLockAgeError::Header { .. } => malformed(format, format!("no usable tlock stanza: {e}")),
        TLockAgeError::InvalidRecipient => malformed(format, "a passphrase (scrypt) age file, not a tlock one"),
        other => malformed(format, other.to_string()),
    }
}

/// The round and chain hash of the tlock stanza.
pub(crate) fn header(bytes: &[u8], format: Format) -> Result<(u64, [u8; 32])> {
    // No signature is involved here, so nothing can fail authentication: every error is structural.
    let h = tlock_age::decrypt_header(input(bytes, format)).map_err(|e| match e {
        TLockAgeError::Decrypt(DecryptError::Io(io)) => malformed(format, format!("truncated age file: {io}")),
        e => match map_err(format, e) {
            Error::Tampered { detail, .. } => malformed(format, detail),
            other => other,
        },
    })?;
    let hash: [u8; 32] = h.hash().try_into().map_err(|h: Vec<u8>| {
        malformed(format, format!("chain hash in the tlock stanza is {} bytes, expected 32", h.len()))
    })?;
    Ok((h.round(), hash))
}

pub(crate) fn encrypt(beacon: &ChainKey, round: u64, plaintext: &[u8], armor: bool) -> Result<Vec<u8>> {
    let format = Format::Age { armor };
    let enc = |e: TLockAgeError| Error::Encryption(format!("tlock_age: {e}"));
    let out = Vec::with_capacity(plaintext.len() + plaintext.len() / 2 + 1024);
    let out = if armor {
        let mut w = tlock_age::armor::ArmoredWriter::wrap_output(out)
            .map_err(|e| Error::Encryption(format!("tlock_age armor: {e}")))?;
        tlock_age::encrypt(&mut w, plaintext, &beacon.chain_hash, &beacon.public_key, round).map_err(enc)?;
        w.finish().map_err(|e| Error::Encryption(format!("tlock_age armor: {e}")))?
    } else {
        let mut out = out;
        tlock_age::encrypt(&mut out, plaintext, &beacon.chain_hash, &beacon.public_key, round).map_err(enc)?;
        out
    };
    // Self-check: the stanza names the requested round and chain.
    let (r, h) = header(&out, format).map_err(|e| Error::Encryption(format!("self-check: {e}")))?;
    if r != round || h != beacon.chain_hash {
        return Err(Error::Encryption(format!("self-check: header says round {r}, chain {}", hex::encode(h))));
    }
    Ok(out)
}

/// Decrypts into memory and returns the plaintext only once the whole STREAM authenticated.
///
/// tlock 0.0.10's IBE decryption checks the ciphertext's consistency with `assert_eq!`, so a
/// tampered stanza that still decodes to curve points panics inside the library instead of
/// returning an error; that panic is caught here and reported as tampering.
pub(crate) fn decrypt(bytes: &[u8], format: Format, beacon: &ChainKey, signature: &[u8; 48]) -> Result<Vec<u8>> {
    let attempt = std::panic::catch_unwind(|| {
        let mut out = Vec::with_capacity(bytes.len());
        tlock_age::decrypt(&mut out, input(bytes, format), &beacon.chain_hash, signature).map(|_| out)
    });
    match attempt {
        Ok(result) => result.map_err(|e| map_err(format, e)),
        Err(_) => Err(Error::Tampered { format, detail: "the timelock stanza does not decrypt consistently".into() }),
    }
}
