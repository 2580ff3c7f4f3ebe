//! Hotkey files as the Python `bittensor-wallet` package writes them, so operators reuse the
//! keys they already registered with `btcli`.
//!
//! Layout: `{wallet_path}/{wallet_name}/hotkeys/{hotkey_name}` holds one line of JSON:
//! `secretSeed` (0x + 32-byte mini-secret), `ss58Address`, `publicKey` = `accountId`
//! (0x + 32 bytes), `privateKey` (0x + 64-byte expanded secret), `secretPhrase` (BIP39) and, in
//! bittensor-wallet 4.x, `cryptoType` (1 = sr25519). Hotkeys are stored unencrypted by default;
//! encrypted files (`$NACL`, Fernet `gAAAAA`, `$ANSIBLE_VAULT`) are recognised and refused with a
//! message saying so, because a miner must sign without a password prompt.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::keys::{Hotkey, KeyError};

/// Where the Python tools keep wallets unless told otherwise.
pub fn default_wallet_path() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".bittensor").join("wallets")
}

/// Expands a leading `~/` the way the Python tools do.
pub fn expand_home(path: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
        Err(_) => path.to_path_buf(),
    }
}

/// `{wallet_path}/{name}/hotkeys/{hotkey}`.
pub fn hotkey_file(wallet_path: &Path, name: &str, hotkey: &str) -> PathBuf {
    expand_home(wallet_path).join(name).join("hotkeys").join(hotkey)
}

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error(
        "hotkey file {path} not found: create one with `miner wallet new-hotkey --wallet.name NAME --wallet.hotkey HOTKEY` or `btcli wallet new_hotkey`"
    )]
    NotFound { path: PathBuf },
    #[error("cannot read hotkey file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "hotkey file {path} is encrypted ({kind}); a miner signs without a password prompt, so regenerate or export the hotkey unencrypted (btcli's default for hotkeys)"
    )]
    Encrypted { path: PathBuf, kind: &'static str },
    #[error("hotkey file {path} is not bittensor-wallet JSON: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("hotkey file {path}: {source}")]
    Key { path: PathBuf, source: KeyError },
    #[error(
        "hotkey file {path} says ss58Address {stated} but its secret derives {derived}; the file is corrupt or was edited"
    )]
    AddressMismatch { path: PathBuf, stated: String, derived: String },
    #[error("refusing to overwrite existing hotkey file {path} (pass --overwrite to replace it)")]
    Exists { path: PathBuf },
}

/// The JSON document of a hotkey file, in the key order bittensor-wallet 4.x writes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyfileData {
    #[serde(rename = "secretSeed", default, skip_serializing_if = "Option::is_none")]
    pub secret_seed: Option<String>,
    #[serde(rename = "ss58Address")]
    pub ss58_address: String,
    #[serde(rename = "cryptoType", default, skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<u8>,
    #[serde(rename = "publicKey", default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(rename = "privateKey", default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(rename = "accountId", default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(rename = "secretPhrase", default, skip_serializing_if = "Option::is_none")]
    pub secret_phrase: Option<String>,
}

impl KeyfileData {
    /// The document bittensor-wallet would write for `hotkey` (and its mnemonic, if known).
    pub fn for_hotkey(hotkey: &Hotkey, phrase: Option<&str>, seed: Option<[u8; 32]>) -> Self {
        let public = format!("0x{}", hex::encode(hotkey.public().as_bytes()));
        KeyfileData {
            secret_seed: seed.map(|s| format!("0x{}", hex::encode(s))),
            ss58_address: hotkey.ss58().to_owned(),
            crypto_type: Some(1),
            public_key: Some(public.clone()),
            private_key: Some(format!("0x{}", hex::encode(hotkey.expanded_secret()))),
            account_id: Some(public),
            secret_phrase: phrase.map(str::to_owned),
        }
    }
}

/// Parses the bytes of a hotkey file into a signing key, checking the stated address.
pub fn parse_hotkey_file(path: &Path, bytes: &[u8]) -> Result<Hotkey, WalletError> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    for (prefix, kind) in
        [("$NACL", "NaCl secretbox"), ("gAAAAA", "legacy Fernet"), ("$ANSIBLE_VAULT", "Ansible vault")]
    {
        if trimmed.starts_with(prefix) {
            return Err(WalletError::Encrypted { path: path.to_owned(), kind });
        }
    }
    let data: KeyfileData = serde_json::from_str(trimmed)
        .map_err(|e| WalletError::Malformed { path: path.to_owned(), reason: e.to_string() })?;
    if let Some(ct) = data.crypto_type
        && ct != 1
    {
        return Err(WalletError::Malformed {
            path: path.to_owned(),
            reason: format!("cryptoType {ct} is not sr25519 (1); Bittensor axon signatures are sr25519"),
        });
    }
    let key_err = |source| WalletError::Key { path: path.to_owned(), source };
    let hotkey = if let Some(seed) = data.secret_seed.as_deref().filter(|s| !s.is_empty()) {
        Hotkey::from_seed_hex(seed).map_err(key_err)?
    } else if let Some(phrase) = data.secret_phrase.as_deref().filter(|s| !s.is_empty()) {
        Hotkey::from_phrase(phrase).map_err(key_err)?
    } else {
        return Err(WalletError::Malformed {
            path: path.to_owned(),
            reason: "neither secretSeed nor secretPhrase is present; cannot sign".into(),
        });
    };
    if hotkey.ss58() != data.ss58_address {
        return Err(WalletError::AddressMismatch {
            path: path.to_owned(),
            stated: data.ss58_address,
            derived: hotkey.ss58().to_owned(),
        });
    }
    Ok(hotkey)
}

/// Loads `{wallet_path}/{name}/hotkeys/{hotkey}`.
pub fn load_hotkey(wallet_path: &Path, name: &str, hotkey: &str) -> Result<Hotkey, WalletError> {
    let path = hotkey_file(wallet_path, name, hotkey);
    let bytes = std::fs::read(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            WalletError::NotFound { path: path.clone() }
        } else {
            WalletError::Io { path: path.clone(), source }
        }
    })?;
    parse_hotkey_file(&path, &bytes)
}

/// A freshly created hotkey and where it was written.
#[derive(Debug)]
pub struct NewHotkey {
    pub hotkey: Hotkey,
    pub phrase: String,
    pub path: PathBuf,
}

/// Creates a new random hotkey and writes it (plus `{hotkey}pub.txt`) as bittensor-wallet does:
/// mode 0600 for the secret file.
pub fn create_hotkey(
    wallet_path: &Path,
    name: &str,
    hotkey_name: &str,
    overwrite: bool,
) -> Result<NewHotkey, WalletError> {
    let (hotkey, phrase) = Hotkey::generate();
    // The mini-secret is what bittensor-wallet stores as secretSeed; recover it from the phrase.
    let seed = mini_secret_from_phrase(&phrase);
    let path = write_hotkey(wallet_path, name, hotkey_name, &hotkey, Some(&phrase), seed, overwrite)?;
    Ok(NewHotkey { hotkey, phrase, path })
}

/// Writes a hotkey file (and its `pub.txt`) for an existing key.
pub fn write_hotkey(
    wallet_path: &Path,
    name: &str,
    hotkey_name: &str,
    hotkey: &Hotkey,
    phrase: Option<&str>,
    seed: Option<[u8; 32]>,
    overwrite: bool,
) -> Result<PathBuf, WalletError> {
    let path = hotkey_file(wallet_path, name, hotkey_name);
    if path.exists() && !overwrite {
        return Err(WalletError::Exists { path });
    }
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| WalletError::Io { path, source }
    };
    let dir = path.parent().expect("hotkey file has a parent");
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let data = KeyfileData::for_hotkey(hotkey, phrase, seed);
    let json = serde_json::to_string(&data).expect("keyfile serialises");
    write_private(&path, json.as_bytes()).map_err(io_err(&path))?;
    let public = serde_json::json!({
        "accountId": data.account_id,
        "publicKey": data.public_key,
        "cryptoType": data.crypto_type,
        "ss58Address": data.ss58_address,
    });
    let pub_path = dir.join(format!("{hotkey_name}pub.txt"));
    std::fs::write(&pub_path, public.to_string()).map_err(io_err(&pub_path))?;
    Ok(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
        f.write_all(bytes)
    }
    #[cfg(not(unix))]
    std::fs::write(path, bytes)
}

/// The 32-byte mini-secret substrate derives from a BIP39 phrase without a password.
fn mini_secret_from_phrase(phrase: &str) -> Option<[u8; 32]> {
    use sp_core::Pair as _;
    let (_, seed) = sp_core::sr25519::Pair::from_phrase(phrase, None).ok()?;
    Some(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The BIP39 test mnemonic the committed bittensor-wallet fixture was regenerated from
    /// (tests/fixtures/wallets/README.md).
    const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

    #[test]
    fn create_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let created = create_hotkey(dir.path(), "w", "h", false).unwrap();
        let loaded = load_hotkey(dir.path(), "w", "h").unwrap();
        assert_eq!(loaded.ss58(), created.hotkey.ss58());
        assert!(matches!(create_hotkey(dir.path(), "w", "h", false), Err(WalletError::Exists { .. })));
        let pubtxt = std::fs::read_to_string(dir.path().join("w/hotkeys/hpub.txt")).unwrap();
        assert!(pubtxt.contains(created.hotkey.ss58()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&created.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn seed_and_phrase_give_the_same_key() {
        let from_phrase = Hotkey::from_phrase(PHRASE).unwrap();
        let seed = mini_secret_from_phrase(PHRASE).unwrap();
        assert_eq!(Hotkey::from_seed(&seed).ss58(), from_phrase.ss58());
        // substrate's well-known dev phrase derives //Alice's root key
        assert_eq!(from_phrase.ss58(), "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV");
    }

    #[test]
    fn encrypted_and_corrupt_files_are_refused_clearly() {
        let p = Path::new("x");
        assert!(matches!(parse_hotkey_file(p, b"$NACL....."), Err(WalletError::Encrypted { .. })));
        assert!(matches!(parse_hotkey_file(p, b"gAAAAAB..."), Err(WalletError::Encrypted { .. })));
        assert!(matches!(parse_hotkey_file(p, b"{not json"), Err(WalletError::Malformed { .. })));
        let key = Hotkey::from_uri("//Alice").unwrap();
        let mut data = KeyfileData::for_hotkey(&key, Some(PHRASE), None);
        let json = serde_json::to_vec(&data).unwrap();
        // phrase derives a different address than //Alice: mismatch detected
        assert!(matches!(parse_hotkey_file(p, &json), Err(WalletError::AddressMismatch { .. })));
        data.secret_phrase = None;
        let json = serde_json::to_vec(&data).unwrap();
        assert!(matches!(parse_hotkey_file(p, &json), Err(WalletError::Malformed { .. })));
    }

    #[test]
    fn missing_file_says_how_to_create_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_hotkey(dir.path(), "nope", "default").unwrap_err();
        assert!(err.to_string().contains("miner wallet new-hotkey"), "{err}");
    }
}
