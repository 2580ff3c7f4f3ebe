//! A small drand HTTP API v1 client that only hands out verified beacons.
//!
//! - [`Client::connect`] fetches `/info` (or `/{hash}/info` when the chain is pinned), checks
//!   that the scheme is [`crate::SCHEME_ID`], that the public key is a valid G2 point, and that
//!   the advertised chain hash is drand's hash of the advertised fields (so pinning the hash pins
//!   the public key).
//! - Every beacon ([`Client::latest`], [`Client::beacon`], [`Client::wait_for`]) is checked
//!   before it is returned: the round is the one asked for, the signature verifies under the
//!   chain public key ([`crate::verify_signature`], blst), and `randomness = sha256(signature)`.
//! - drand answers 404 for rounds not yet published (and long-polls a request for the very next
//!   round). [`Client::wait_for`] retries until a caller-given deadline, sleeping for the
//!   server's `Cache-Control: max-age` hint capped at [`Client::with_poll_interval`]; it never
//!   waits unboundedly.

use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{ChainKey, SCHEME_ID, chain_hash_of, round_of, verify_signature};

/// A chain's public parameters, as `/info` describes them (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    pub public_key: [u8; 96],
    pub period: u32,
    pub genesis_time: i64,
    pub hash: [u8; 32],
    pub group_hash: [u8; 32],
    pub scheme_id: String,
    pub beacon_id: String,
}

impl ChainInfo {
    /// The key material ciphertexts for this chain are made with.
    pub fn chain_key(&self) -> ChainKey {
        ChainKey { public_key: self.public_key, chain_hash: self.hash }
    }

    /// drand's chain hash of these fields (`drand/drand` `common/chain/info.go`, `Info.Hash`):
    /// `sha256(period u32 BE ‖ genesis i64 BE ‖ public key ‖ group hash ‖ beacon ID)`, the beacon
    /// ID omitted when it is `""` or `"default"`.
    pub fn computed_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.period.to_be_bytes());
        h.update(self.genesis_time.to_be_bytes());
        h.update(self.public_key);
        h.update(self.group_hash);
        if !(self.beacon_id.is_empty() || self.beacon_id == "default") {
            h.update(self.beacon_id.as_bytes());
        }
        h.finalize().into()
    }

    /// The latest round published at Unix time `t` (0 before genesis).
    pub fn round_at(&self, t: i64) -> u64 {
        if t < self.genesis_time { 0 } else { ((t - self.genesis_time) / i64::from(self.period.max(1))) as u64 + 1 }
    }
}

/// A verified beacon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    pub round: u64,
    pub signature: [u8; 48],
    pub randomness: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("request to {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: unexpected response body: {detail}")]
    BadJson { url: String, detail: String },
    #[error("chain info from {url} rejected: {reason}")]
    BadInfo { url: String, reason: String },
    #[error("the beacon serves chain {found}, not the pinned chain {expected}")]
    WrongChain { expected: String, found: String },
    #[error("beacon for round {round} rejected: {reason}")]
    BadBeacon { round: u64, reason: String },
    #[error("round {round} was not published within {waited:?} (last answer: {last})")]
    Timeout { round: u64, waited: Duration, last: String },
    #[error(transparent)]
    Tlock(#[from] crate::Error),
}

#[derive(Deserialize)]
struct InfoJson {
    public_key: String,
    period: u64,
    genesis_time: i64,
    hash: String,
    #[serde(rename = "groupHash")]
    group_hash: String,
    #[serde(rename = "schemeID")]
    scheme_id: String,
    #[serde(default)]
    metadata: Option<InfoMetadata>,
}

#[derive(Deserialize)]
struct InfoMetadata {
    #[serde(rename = "beaconID", default)]
    beacon_id: String,
}

#[derive(Deserialize)]
struct BeaconJson {
    round: u64,
    randomness: String,
    signature: String,
}

fn hex_array<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let v = hex::decode(s).map_err(|e| format!("not hex: {e}"))?;
    let len = v.len();
    v.try_into().map_err(|_| format!("{len} bytes, expected {N}"))
}

/// Parses and validates `/info` JSON.
pub fn parse_info(url: &str, body: &[u8]) -> Result<ChainInfo, ClientError> {
    let j: InfoJson = serde_json::from_slice(body)
        .map_err(|e| ClientError::BadJson { url: url.to_string(), detail: e.to_string() })?;
    let bad = |reason: String| ClientError::BadInfo { url: url.to_string(), reason };
    if j.scheme_id != SCHEME_ID {
        return Err(bad(format!("scheme {:?} is not supported (only {SCHEME_ID})", j.scheme_id)));
    }
    let public_key = hex_array::<96>(&j.public_key).map_err(|e| bad(format!("public_key: {e}")))?;
    blst::min_sig::PublicKey::key_validate(&public_key)
        .map_err(|_| bad("public_key is not a valid compressed G2 point".into()))?;
    let period = u32::try_from(j.period).ok().filter(|p| *p > 0).ok_or_else(|| bad(format!("period {}", j.period)))?;
    let info = ChainInfo {
        public_key,
        period,
        genesis_time: j.genesis_time,
        hash: hex_array::<32>(&j.hash).map_err(|e| bad(format!("hash: {e}")))?,
        group_hash: hex_array::<32>(&j.group_hash).map_err(|e| bad(format!("groupHash: {e}")))?,
        scheme_id: j.scheme_id,
        beacon_id: j.metadata.map(|m| m.beacon_id).unwrap_or_default(),
    };
    let computed = info.computed_hash();
    if computed != info.hash {
        return Err(bad(format!(
            "advertised hash {} is not the hash of the advertised fields ({})",
            hex::encode(info.hash),
            hex::encode(computed)
        )));
    }
    Ok(info)
}

/// Parses and verifies a beacon JSON against `info`; `round = None` accepts any round (latest).
pub fn parse_beacon(url: &str, body: &[u8], info: &ChainInfo, round: Option<u64>) -> Result<Beacon, ClientError> {
    let j: BeaconJson = serde_json::from_slice(body)
        .map_err(|e| ClientError::BadJson { url: url.to_string(), detail: e.to_string() })?;
    let bad = |reason: String| ClientError::BadBeacon { round: j.round, reason };
    if let Some(r) = round
        && r != j.round
    {
        return Err(bad(format!("asked for round {r}, got round {}", j.round)));
    }
    let signature = hex_array::<48>(&j.signature).map_err(|e| bad(format!("signature: {e}")))?;
    let randomness = hex_array::<32>(&j.randomness).map_err(|e| bad(format!("randomness: {e}")))?;
    verify_signature(&info.public_key, j.round, &signature)
        .map_err(|e| bad(format!("signature does not verify under the chain public key: {e}")))?;
    if <[u8; 32]>::from(Sha256::digest(signature)) != randomness {
        return Err(bad("randomness is not sha256(signature)".into()));
    }
    Ok(Beacon { round: j.round, signature, randomness })
}

/// `max-age=N` of a `Cache-Control` header.
fn max_age(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    v.split(',').find_map(|d| d.trim().strip_prefix("max-age=")?.parse::<u64>().ok()).map(Duration::from_secs)
}

/// A drand HTTP client bound to one chain.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `{base}/{chain hash}`: every request after `/info` names the chain.
    chain_base: String,
    info: ChainInfo,
    poll_interval: Duration,
    request_timeout: Duration,
}

impl Client {
    /// Connects to the drand HTTP API at `base_url` (e.g. `https://api.drand.sh`), fetching and
    /// validating its chain info. With `chain_hash`, asks for that chain (`/{hash}/info`) and
    /// refuses any other; without it, takes the server's default chain.
    pub async fn connect(base_url: &str, chain_hash: Option<[u8; 32]>) -> Result<Self, ClientError> {
        Self::connect_with(reqwest::Client::new(), base_url, chain_hash).await
    }

    /// [`Client::connect`] with a caller-configured `reqwest::Client` (proxies, TLS roots).
    pub async fn connect_with(
        http: reqwest::Client,
        base_url: &str,
        chain_hash: Option<[u8; 32]>,
    ) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/').to_string();
        let url = match chain_hash {
            Some(h) => format!("{base}/{}/info", hex::encode(h)),
            None => format!("{base}/info"),
        };
        let request_timeout = Duration::from_secs(30);
        let resp = http
            .get(&url)
            .timeout(request_timeout)
            .send()
            .await
            .map_err(|source| ClientError::Http { url: url.clone(), source })?;
        if !resp.status().is_success() {
            return Err(ClientError::Status { url, status: resp.status().as_u16() });
        }
        let body = resp.bytes().await.map_err(|source| ClientError::Http { url: url.clone(), source })?;
        let info = parse_info(&url, &body)?;
        if let Some(h) = chain_hash
            && h != info.hash
        {
            return Err(ClientError::WrongChain { expected: hex::encode(h), found: hex::encode(info.hash) });
        }
        let poll_interval = Duration::from_secs(u64::from(info.period));
        Ok(Client {
            chain_base: format!("{base}/{}", hex::encode(info.hash)),
            http,
            info,
            poll_interval,
            request_timeout,
        })
    }

    /// Caps the sleep between polls for a future round (default: the chain's period). The
    /// server's `max-age` hint is used when it is shorter.
    pub fn with_poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d.max(Duration::from_millis(1));
        self
    }

    /// Caps each HTTP request (default 30 s), including drand's long-poll for the next round.
    pub fn with_request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d.max(Duration::from_millis(1));
        self
    }

    pub fn info(&self) -> &ChainInfo {
        &self.info
    }

    pub fn chain_key(&self) -> ChainKey {
        self.info.chain_key()
    }

    /// The latest published beacon, verified.
    pub async fn latest(&self) -> Result<Beacon, ClientError> {
        let url = format!("{}/public/latest", self.chain_base);
        let resp = self.get(&url, self.request_timeout).await?;
        if !resp.status().is_success() {
            return Err(ClientError::Status { url, status: resp.status().as_u16() });
        }
        let body = resp.bytes().await.map_err(|source| ClientError::Http { url: url.clone(), source })?;
        parse_beacon(&url, &body, &self.info, None)
    }

    /// One request for `round`: the verified beacon, or `None` if drand answers 404 (not yet
    /// published). A request for the very next round may be held by the server until it is out.
    pub async fn beacon(&self, round: u64) -> Result<Option<Beacon>, ClientError> {
        if round == 0 {
            return Err(crate::Error::RoundZero.into());
        }
        let url = format!("{}/public/{round}", self.chain_base);
        let resp = self.get(&url, self.request_timeout).await?;
        match resp.status().as_u16() {
            200 => {
                let body = resp.bytes().await.map_err(|source| ClientError::Http { url: url.clone(), source })?;
                parse_beacon(&url, &body, &self.info, Some(round)).map(Some)
            }
            404 => Ok(None),
            status => Err(ClientError::Status { url, status }),
        }
    }

    /// Waits until `round` is published and returns its verified beacon, or fails with
    /// [`ClientError::Timeout`] once `timeout` has elapsed. 404s, server errors (5xx, 429),
    /// connection failures and request timeouts are retried until the deadline; a beacon that
    /// fails verification and any other status end the wait at once.
    pub async fn wait_for(&self, round: u64, timeout: Duration) -> Result<Beacon, ClientError> {
        if round == 0 {
            return Err(crate::Error::RoundZero.into());
        }
        let url = format!("{}/public/{round}", self.chain_base);
        let start = Instant::now();
        let deadline = start + timeout;
        let mut last = String::from("none");
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(ClientError::Timeout { round, waited: now - start, last });
            }
            let remaining = deadline - now;
            let mut hint = None;
            match self.http.get(&url).timeout(remaining.min(self.request_timeout)).send().await {
                Ok(resp) => match resp.status().as_u16() {
                    200 => {
                        let body =
                            resp.bytes().await.map_err(|source| ClientError::Http { url: url.clone(), source })?;
                        return parse_beacon(&url, &body, &self.info, Some(round));
                    }
                    404 => {
                        hint = max_age(&resp);
                        last = "HTTP 404 (not yet published)".into();
                    }
                    s @ (429 | 500..=599) => last = format!("HTTP {s}"),
                    status => return Err(ClientError::Status { url, status }),
                },
                Err(e) if e.is_timeout() || e.is_connect() || e.is_request() => last = e.to_string(),
                Err(source) => return Err(ClientError::Http { url, source }),
            }
            let pause = hint.unwrap_or(self.poll_interval).clamp(Duration::from_millis(20), self.poll_interval);
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(pause.min(left)).await;
        }
    }

    /// Reads the ciphertext's round, waits (bounded) for that round's verified beacon, decrypts.
    pub async fn decrypt(&self, ciphertext: &[u8], timeout: Duration) -> Result<Vec<u8>, ClientError> {
        let (_, round) = round_of(ciphertext)?;
        if let Some(h) = chain_hash_of(ciphertext)?
            && h != self.info.hash
        {
            return Err(
                crate::Error::ChainMismatch { expected: hex::encode(self.info.hash), found: hex::encode(h) }.into()
            );
        }
        let beacon = self.wait_for(round, timeout).await?;
        Ok(crate::decrypt(ciphertext, &self.chain_key(), &beacon.signature)?)
    }

    async fn get(&self, url: &str, timeout: Duration) -> Result<reqwest::Response, ClientError> {
        self.http
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|source| ClientError::Http { url: url.to_string(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICKNET_INFO: &str = r#"{"public_key":"83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a","period":3,"genesis_time":1692803367,"hash":"52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971","groupHash":"f477d5c89f21a17c863a7f937c6a6d15859414d2be09cd448d4279af331c5d3e","schemeID":"bls-unchained-g1-rfc9380","metadata":{"beaconID":"quicknet"}}"#;

    #[test]
    fn quicknet_info_validates() {
        let info = parse_info("x", QUICKNET_INFO.as_bytes()).unwrap();
        assert_eq!(info.chain_key(), ChainKey::quicknet());
        assert_eq!(info.round_at(1_754_002_398), 20_399_678);
        assert_eq!(info.round_at(1_692_803_366), 0);
    }

    #[test]
    fn info_with_swapped_key_is_refused() {
        // Another valid G2 key under quicknet's hash: the hash no longer matches the fields.
        let other = hex::encode(blst::min_sig::SecretKey::key_gen(&[9u8; 32], &[]).unwrap().sk_to_pk().compress());
        let forged = QUICKNET_INFO.replace(&hex::encode(crate::QUICKNET_PUBLIC_KEY), &other);
        let err = parse_info("x", forged.as_bytes()).unwrap_err();
        assert!(matches!(err, ClientError::BadInfo { .. }), "{err}");
        let chained = QUICKNET_INFO.replace("bls-unchained-g1-rfc9380", "pedersen-bls-chained");
        assert!(parse_info("x", chained.as_bytes()).unwrap_err().to_string().contains("not supported"));
    }

    #[test]
    fn beacons_are_verified() {
        let info = parse_info("x", QUICKNET_INFO.as_bytes()).unwrap();
        let sig = "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92";
        let rnd = hex::encode(Sha256::digest(hex::decode(sig).unwrap()));
        let ok = format!(r#"{{"round":123,"randomness":"{rnd}","signature":"{sig}"}}"#);
        let b = parse_beacon("x", ok.as_bytes(), &info, Some(123)).unwrap();
        assert_eq!(b.round, 123);
        // Same signature claimed for round 124.
        let wrong_round = ok.replace(r#""round":123"#, r#""round":124"#);
        assert!(matches!(
            parse_beacon("x", wrong_round.as_bytes(), &info, Some(124)),
            Err(ClientError::BadBeacon { round: 124, .. })
        ));
        // Asked for 124, served 123.
        assert!(parse_beacon("x", ok.as_bytes(), &info, Some(124)).is_err());
        // Randomness not derived from the signature.
        let bad_rnd = ok.replace(&rnd, &"00".repeat(32));
        assert!(
            parse_beacon("x", bad_rnd.as_bytes(), &info, Some(123)).unwrap_err().to_string().contains("randomness")
        );
    }
}
