//! sr25519 hotkeys and public keys, as Bittensor uses them.
//!
//! Bittensor signs with Schnorrkel over Ristretto25519 with the signing context `substrate`
//! (sp-core's convention) and names accounts by SS58 addresses with prefix 42. Signatures are
//! randomised: signing twice gives different bytes, and only verification is deterministic.

use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use sp_core::{Pair as _, sr25519};

/// Bittensor's SS58 network prefix ("substrate generic", addresses start with `5`).
pub const SS58_PREFIX: u16 = 42;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("invalid SS58 address {0:?}")]
    InvalidSs58(String),
    #[error("invalid secret seed: expected 32 bytes of hex, {0}")]
    InvalidSeed(String),
    #[error("invalid secret phrase: {0}")]
    InvalidPhrase(String),
    #[error("invalid signature encoding: {0}")]
    InvalidSignature(String),
}

/// A verifying key, parsed from an SS58 address.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(sr25519::Public);

impl PublicKey {
    /// Parses an SS58 address. Any prefix is accepted for parsing (as bittensor's `Keypair`
    /// does); [`PublicKey::to_ss58`] always prints prefix 42.
    pub fn from_ss58(address: &str) -> Result<Self, KeyError> {
        sr25519::Public::from_ss58check_with_version(address)
            .map(|(public, _)| PublicKey(public))
            .map_err(|_| KeyError::InvalidSs58(address.to_owned()))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PublicKey(sr25519::Public::from_raw(bytes))
    }

    pub fn to_ss58(&self) -> String {
        self.0.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_array_ref()
    }

    /// Verifies a 64-byte sr25519 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        sr25519::Pair::verify(&sr25519::Signature::from_raw(sig), message, &self.0)
    }

    /// Verifies the way bittensor's `Keypair.verify` does: the plain message, or the same
    /// message wrapped in `<Bytes>…</Bytes>` (the Polkadot-extension convention).
    pub fn verify_bittensor(&self, message: &[u8], signature: &[u8]) -> bool {
        if self.verify(message, signature) {
            return true;
        }
        let mut wrapped = Vec::with_capacity(message.len() + 15);
        wrapped.extend_from_slice(b"<Bytes>");
        wrapped.extend_from_slice(message);
        wrapped.extend_from_slice(b"</Bytes>");
        self.verify(&wrapped, signature)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_ss58())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_ss58())
    }
}

/// A signing hotkey. Cheap to clone.
#[derive(Clone)]
pub struct Hotkey {
    pair: sr25519::Pair,
    ss58: String,
}

impl Hotkey {
    /// From a 32-byte mini-secret (`secretSeed` of a bittensor wallet file).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_pair(sr25519::Pair::from_seed(seed))
    }

    /// From `0x`-prefixed (or bare) hex of the 32-byte mini-secret.
    pub fn from_seed_hex(hex_seed: &str) -> Result<Self, KeyError> {
        let bytes =
            hex::decode(hex_seed.trim().trim_start_matches("0x")).map_err(|e| KeyError::InvalidSeed(e.to_string()))?;
        let seed: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| KeyError::InvalidSeed(format!("got {} bytes", b.len())))?;
        Ok(Self::from_seed(&seed))
    }

    /// From a BIP39 mnemonic (`secretPhrase`), as bittensor derives it (no password).
    pub fn from_phrase(phrase: &str) -> Result<Self, KeyError> {
        sr25519::Pair::from_phrase(phrase, None)
            .map(|(pair, _)| Self::from_pair(pair))
            .map_err(|e| KeyError::InvalidPhrase(format!("{e:?}")))
    }

    /// From a Substrate secret URI such as `//Alice` (development keys for tests and local nets).
    pub fn from_uri(uri: &str) -> Result<Self, KeyError> {
        sr25519::Pair::from_string(uri, None)
            .map(Self::from_pair)
            .map_err(|e| KeyError::InvalidPhrase(format!("{e:?}")))
    }

    /// A fresh random key with its mnemonic (what `btcli wallet new_hotkey` does).
    pub fn generate() -> (Self, String) {
        let (pair, phrase, _) = sr25519::Pair::generate_with_phrase(None);
        (Self::from_pair(pair), phrase)
    }

    fn from_pair(pair: sr25519::Pair) -> Self {
        let ss58 = pair.public().to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX));
        Hotkey { pair, ss58 }
    }

    pub fn ss58(&self) -> &str {
        &self.ss58
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.pair.public())
    }

    /// 64-byte sr25519 signature (context `substrate`).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.pair.sign(message).0
    }

    /// `0x` + hex of a signature: the header form of both v10 and btauth/1.
    pub fn sign_hex0x(&self, message: &[u8]) -> String {
        format!("0x{}", hex::encode(self.sign(message)))
    }

    /// The 64-byte expanded secret (key ‖ nonce), the `privateKey` of a wallet file.
    pub fn expanded_secret(&self) -> [u8; 64] {
        self.pair.to_raw_vec().try_into().expect("sr25519 secret is 64 bytes")
    }
}

impl std::fmt::Debug for Hotkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hotkey({})", self.ss58)
    }
}

/// Parses a `0x`-prefixed hex signature; bare hex is refused, as bittensor refuses it.
pub fn parse_sig_hex0x(value: &str) -> Result<Vec<u8>, KeyError> {
    let hex_part = value
        .strip_prefix("0x")
        .ok_or_else(|| KeyError::InvalidSignature("Invalid signature format. Expected hex string.".into()))?;
    hex::decode(hex_part).map_err(|e| KeyError::InvalidSignature(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    #[test]
    fn dev_keys_have_their_well_known_addresses() {
        assert_eq!(Hotkey::from_uri("//Alice").unwrap().ss58(), ALICE);
        assert_eq!(Hotkey::from_uri("//Bob").unwrap().ss58(), BOB);
        assert_eq!(
            hex::encode(PublicKey::from_ss58(ALICE).unwrap().as_bytes()),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
    }

    #[test]
    fn spec_appendix_a2_signatures_verify() {
        // miner-protocol.md Appendix A.2: two randomised signatures of one message.
        let msg = "1754000000123456789.5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY.5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty.2f5c1e2a-6b7d-11f0-9a3e-0242ac110002.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
        let alice = PublicKey::from_ss58(ALICE).unwrap();
        for sig in [
            "0x9e38fd685b1112baef65c972db6dba3e759e9c90a900b2d20a9494ec6f59b87be017e93f96006657ead0be34a012c4e1d0fea84ab1df7b861688a81200c4c887",
            "0x38af73e9147fd7ebf80efe849d686c333cd76ca6899fbc702ccc32dd9cd6902e11d494caf8921b7df52a824fa546616f9ec268c455841cc9a549423405a86989",
        ] {
            let bytes = parse_sig_hex0x(sig).unwrap();
            assert!(alice.verify(msg.as_bytes(), &bytes));
            assert!(!alice.verify(b"another message", &bytes));
            assert!(!PublicKey::from_ss58(BOB).unwrap().verify(msg.as_bytes(), &bytes));
        }
    }

    #[test]
    fn spec_appendix_a3_miner_signature_verifies() {
        let bob = PublicKey::from_ss58(BOB).unwrap();
        let sig = hex::decode("5658f9bf506f29b370c5b6da49fc70ba28fd559fc5c93ea806d5ed57dbef5f13c75d3459c3e8feb5267be80f14ec27dc72d915fba6a5bbf71fdfb4f57a93c786").unwrap();
        assert!(bob.verify(format!("challenge_1754000000_5GrwvaEF:{BOB}").as_bytes(), &sig));
    }

    #[test]
    fn sign_then_verify_and_bytes_wrapping() {
        let key = Hotkey::from_uri("//Charlie").unwrap();
        let sig = key.sign(b"hello");
        assert!(key.public().verify(b"hello", &sig));
        let wrapped = key.sign(b"<Bytes>hello</Bytes>");
        assert!(!key.public().verify(b"hello", &wrapped));
        assert!(key.public().verify_bittensor(b"hello", &wrapped));
    }

    #[test]
    fn signature_parsing_requires_0x() {
        assert!(parse_sig_hex0x("abcd").is_err());
        assert_eq!(parse_sig_hex0x("0xabcd").unwrap(), vec![0xab, 0xcd]);
        assert!(parse_sig_hex0x("0xzz").is_err());
    }

    #[test]
    fn bad_addresses_are_refused() {
        assert!(PublicKey::from_ss58("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX").is_err());
        assert!(PublicKey::from_ss58("").is_err());
    }
}
