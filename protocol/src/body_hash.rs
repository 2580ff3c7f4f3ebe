//! The body hash of the v10 axon scheme (spec miner-protocol.md 1.5.3).
//!
//! Bittensor hashes only the synapse's `required_hash_fields`: `H(H(str(v1)) ‖ … ‖ H(str(vn)))`
//! with `H` = lowercase hex SHA3-256. `IdentitySynapse` declares none, so its hash is the hash of
//! the empty string — a constant. The v10 signature therefore authenticates *no* request content
//! (quirk Q1): nothing in the body may be trusted for anything security-relevant.

use sha3::{Digest, Sha3_256};

/// SHA3-256 of the empty string: the body hash of every `IdentitySynapse`, R1 and R2.
pub const IDENTITY_SYNAPSE_BODY_HASH: &str = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";

/// Lowercase hex SHA3-256 of `s`.
pub fn sha3_hex(s: &[u8]) -> String {
    hex::encode(Sha3_256::digest(s))
}

/// Bittensor's general body hash over the Python `str()` of each hashed field, in order.
///
/// With no fields this is `sha3_hex(b"")`, the `IdentitySynapse` constant.
pub fn body_hash<S: AsRef<str>>(field_strs: &[S]) -> String {
    let joined: String = field_strs.iter().map(|s| sha3_hex(s.as_ref().as_bytes())).collect();
    sha3_hex(joined.as_bytes())
}

/// Lowercase hex SHA-256 of raw bytes (btauth/1 body hash, image hashes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_synapse_hash_is_the_hash_of_nothing() {
        let none: [&str; 0] = [];
        assert_eq!(body_hash(&none), IDENTITY_SYNAPSE_BODY_HASH);
        assert_eq!(sha3_hex(b""), IDENTITY_SYNAPSE_BODY_HASH);
    }

    #[test]
    fn hashed_fields_are_hashed_individually_then_together() {
        let inner = format!("{}{}", sha3_hex(b"a"), sha3_hex(b"b"));
        assert_eq!(body_hash(&["a", "b"]), sha3_hex(inner.as_bytes()));
        assert_ne!(body_hash(&["a", "b"]), body_hash(&["b", "a"]));
    }
}
