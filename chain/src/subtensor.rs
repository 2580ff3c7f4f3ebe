//! [`Subtensor`]: the [`Chain`] trait against a live subtensor node (finney, test, a local node
//! or any `ws://`/`wss://` URL), through subxt's dynamic API.
//!
//! Why dynamic: the node hands us its metadata when we connect, so a runtime upgrade on finney
//! (new pallet fields, new call indices) never breaks a deployed miner the way compiled-in
//! bindings would. The metadata bundled in this crate (`metadata/finney.scale`, see
//! `metadata/NOTICE.md`) is used only offline — by the tests, to check that what we encode and
//! decode matches what the Python SDK sends and receives — so nothing reaches a node at build or
//! test time.
//!
//! What it reads and writes, the way the Python SDK (bittensor 10) does:
//! - metagraph: the runtime API `NeuronInfoRuntimeApi::get_neurons_lite(netuid)` (hotkey, coldkey,
//!   uid, axon info, stake, validator permit); stake is the sum of the neuron's stake entries, in
//!   TAO (1e9 rao).
//! - `serve_axon`: `SubtensorModule::serve_axon(netuid, version, ip as u128, port, ip_type,
//!   protocol 4, 0, 0)` signed by the hotkey, sent only when the published endpoint differs (the
//!   SDK's `neuron_up_to_date` check).
//! - `set_weights`: the SDK's float → u16 conversion ([`weights_for_emit`]) and
//!   `SubtensorModule::set_mechanism_weights(netuid, 0, dests, weights, version_key)` with the
//!   subnet's `WeightsVersionKey`; subnets with commit-reveal enabled are refused with a clear
//!   error (committing hashed weights is not implemented).
//!
//! Connections: [`Retry`] governs connecting (attempts with exponential backoff); a call that
//! fails drops the connection, so the next call reconnects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use subxt::config::polkadot::{AccountId32, MultiSignature};
use subxt::ext::scale_decode::{self, DecodeAsType};
use subxt::{OnlineClient, PolkadotConfig};
use tokio::sync::Mutex;

use crate::{AxonEndpoint, Chain, ChainError, Metagraph, Neuron, Retry, WeightsUpdate};
use miid_protocol::{Hotkey, PublicKey};

/// The metadata of finney this crate ships (for offline encoding/decoding and tests).
pub const FINNEY_METADATA: &[u8] = include_bytes!("../metadata/finney.scale");

/// Axon protocol number the Python SDK publishes (`serve_axon_extrinsic(..., protocol=4)`).
pub const AXON_PROTOCOL: u8 = 4;

/// One rao is 1e-9 TAO.
const RAO_PER_TAO: f64 = 1e9;

/// Where to find a subtensor node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    Finney,
    Test,
    Local,
    Url(String),
}

impl Network {
    /// The endpoints the Python SDK uses for the named networks.
    pub fn url(&self) -> &str {
        match self {
            Network::Finney => "wss://entrypoint-finney.opentensor.ai:443",
            Network::Test => "wss://test.finney.opentensor.ai:443",
            Network::Local => "ws://127.0.0.1:9944",
            Network::Url(u) => u,
        }
    }
}

impl std::str::FromStr for Network {
    type Err = ChainError;
    fn from_str(s: &str) -> Result<Self, ChainError> {
        match s {
            "finney" => Ok(Network::Finney),
            "test" => Ok(Network::Test),
            "local" => Ok(Network::Local),
            u if u.starts_with("ws://") || u.starts_with("wss://") => Ok(Network::Url(u.to_owned())),
            other => Err(ChainError::Unavailable(format!(
                "unknown --subtensor.network {other:?}: expected finney, test, local, or a ws:// or wss:// URL"
            ))),
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Network::Finney => write!(f, "finney ({})", self.url()),
            Network::Test => write!(f, "test ({})", self.url()),
            Network::Local => write!(f, "local ({})", self.url()),
            Network::Url(u) => f.write_str(u),
        }
    }
}

type Client = OnlineClient<PolkadotConfig>;

/// A subnet on a live subtensor chain.
pub struct Subtensor {
    network: Network,
    netuid: u16,
    retry: Retry,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for Subtensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subtensor").field("network", &self.network).field("netuid", &self.netuid).finish()
    }
}

impl Subtensor {
    /// Connects (with `retry`), so a wrong or unreachable endpoint fails at start. A netuid that
    /// does not exist is reported by the first [`Chain::metagraph`] call.
    pub async fn connect(network: Network, netuid: u16, retry: Retry) -> Result<Self, ChainError> {
        let client = connect_with_retry(&network, &retry).await?;
        let chain = Subtensor { network, netuid, retry, client: Mutex::new(Some(client)) };
        Ok(chain)
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The connected client, reconnecting (with the retry policy) after a failure.
    async fn client(&self) -> Result<Client, ChainError> {
        let mut guard = self.client.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let c = connect_with_retry(&self.network, &self.retry).await?;
        *guard = Some(c.clone());
        Ok(c)
    }

    /// Forgets the connection after a failed call: the next call reconnects.
    async fn drop_client(&self) {
        *self.client.lock().await = None;
    }

    async fn fetch_metagraph(&self) -> Result<Metagraph, ChainError> {
        let api = self.client().await?;
        let at = api.at_current_block().await.map_err(unavailable)?;
        let block = at.block_number();
        let bytes = at
            .runtime_apis()
            .call_raw("NeuronInfoRuntimeApi_get_neurons_lite", Some(&subxt::ext::codec::Encode::encode(&self.netuid)))
            .await
            .map_err(unavailable)?;
        let neurons = decode_neurons_lite(at.metadata_ref(), &bytes)?;
        if neurons.is_empty() && !subnet_exists(&at, self.netuid).await? {
            return Err(ChainError::Unavailable(format!("netuid {} does not exist on {}", self.netuid, self.network)));
        }
        Metagraph::new(self.netuid, block, neurons).map_err(|e| ChainError::Unavailable(format!("metagraph: {e}")))
    }

    /// Signs `pallet::call(args)` with `hotkey`, submits it and waits for finalization; a failure
    /// drops the connection so the next call starts from a fresh one.
    async fn submit(
        &self,
        hotkey: &Hotkey,
        pallet: &str,
        call: &str,
        args: Vec<subxt::dynamic::Value>,
    ) -> Result<(), ChainError> {
        let r = self.submit_once(hotkey, pallet, call, args).await;
        if r.is_err() {
            self.drop_client().await;
        }
        r
    }

    async fn submit_once(
        &self,
        hotkey: &Hotkey,
        pallet: &str,
        call: &str,
        args: Vec<subxt::dynamic::Value>,
    ) -> Result<(), ChainError> {
        let api = self.client().await?;
        let payload = subxt::dynamic::tx(pallet, call, args);
        let signer = HotkeySigner(hotkey);
        let progress = api
            .tx()
            .await
            .map_err(unavailable)?
            .sign_and_submit_then_watch_default(&payload, &signer)
            .await
            .map_err(|e| ChainError::Unavailable(format!("submitting {pallet}::{call}: {e}")))?;
        tokio::time::timeout(Duration::from_secs(120), progress.wait_for_finalized_success())
            .await
            .map_err(|_| ChainError::Unavailable(format!("{pallet}::{call} was not finalized within 120 s")))?
            .map_err(|e| ChainError::Unavailable(format!("{pallet}::{call} failed: {e}")))?;
        Ok(())
    }
}

async fn subnet_exists(
    at: &subxt::client::ClientAtBlock<PolkadotConfig, subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>>,
    netuid: u16,
) -> Result<bool, ChainError> {
    let addr = subxt::dynamic::storage::<(u16,), bool>("SubtensorModule", "NetworksAdded");
    let v = at.storage().try_fetch(addr, (netuid,)).await.map_err(unavailable)?;
    match v {
        Some(v) => v.decode().map_err(unavailable),
        None => Ok(false),
    }
}

async fn connect_once(network: &Network, timeout: Duration) -> Result<Client, String> {
    let config = PolkadotConfig::builder().use_historic_types(false).build();
    let url = network.url().to_owned();
    match tokio::time::timeout(timeout, Client::from_insecure_url_with_config(config, url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs_f64())),
    }
}

async fn connect_with_retry(network: &Network, retry: &Retry) -> Result<Client, ChainError> {
    let attempts = retry.attempts.max(1);
    let mut last = String::new();
    for n in 0..attempts {
        let wait = retry.delay_before(n);
        if !wait.is_zero() {
            let wait_ms = wait.as_millis() as u64;
            tracing::warn!(network = %network, attempt = n + 1, of = attempts, wait_ms, error = %last,
                "subtensor unreachable; retrying");
            tokio::time::sleep(wait).await;
        }
        match connect_once(network, retry.timeout).await {
            Ok(c) => {
                tracing::info!(network = %network, "connected to subtensor");
                return Ok(c);
            }
            Err(e) => last = e,
        }
    }
    Err(ChainError::Unavailable(format!(
        "cannot reach subtensor at {network} after {attempts} attempt(s): {last}. Check --subtensor.network, \
         the node's address and your network; for a local node run `subtensor --dev` (or use --metagraph FILE)"
    )))
}

fn unavailable(e: impl std::fmt::Display) -> ChainError {
    ChainError::Unavailable(e.to_string())
}

#[async_trait::async_trait]
impl Chain for Subtensor {
    fn netuid(&self) -> u16 {
        self.netuid
    }

    async fn metagraph(&self) -> Result<Metagraph, ChainError> {
        let r = self.fetch_metagraph().await;
        if let Err(ChainError::Unavailable(e)) = &r {
            tracing::warn!(error = %e, "metagraph sync failed; reconnecting on the next call");
            self.drop_client().await;
        }
        r
    }

    async fn serve_axon(&self, hotkey: &Hotkey, ip: &str, port: u16) -> Result<(), ChainError> {
        let m = self.metagraph().await?;
        let me = m
            .by_hotkey(hotkey.ss58())
            .ok_or_else(|| ChainError::NotRegistered { hotkey: hotkey.ss58().to_owned(), netuid: self.netuid })?;
        let wanted = AxonParams::new(ip, port)?;
        if me.axon.ip == wanted.ip_string() && me.axon.port == port {
            tracing::info!(uid = me.uid, ip, port, "axon already published on chain; not sending serve_axon");
            return Ok(());
        }
        let from = format!("{}:{}", me.axon.ip, me.axon.port);
        tracing::info!(uid = me.uid, from, to = %format!("{ip}:{port}"), "publishing axon (serve_axon)");
        self.submit(hotkey, "SubtensorModule", "serve_axon", wanted.values(self.netuid)).await
    }

    async fn set_weights(&self, hotkey: &Hotkey, uids: &[u16], weights: &[f64]) -> Result<WeightsUpdate, ChainError> {
        let m = self.metagraph().await?;
        let me = m
            .by_hotkey(hotkey.ss58())
            .ok_or_else(|| ChainError::NotRegistered { hotkey: hotkey.ss58().to_owned(), netuid: self.netuid })?;
        if !me.validator_permit {
            return Err(ChainError::Weights(format!("hotkey {} has no validator permit", hotkey.ss58())));
        }
        let (dests, vals) = weights_for_emit(uids, weights)?;
        if dests.is_empty() {
            return Err(ChainError::Weights("all weights are zero: nothing to set".into()));
        }
        let api = self.client().await?;
        let at = api.at_current_block().await.map_err(unavailable)?;
        let cr = subxt::dynamic::storage::<(u16,), bool>("SubtensorModule", "CommitRevealWeightsEnabled");
        // `fetch` falls back to the storage item's default from the metadata when unset.
        let commit_reveal = at.storage().fetch(cr, (self.netuid,)).await.map_err(unavailable)?;
        let commit_reveal = commit_reveal.decode().map_err(unavailable)?;
        if commit_reveal {
            return Err(ChainError::Weights(format!(
                "netuid {} has commit-reveal weights enabled; this client sets weights directly and does not \
                 commit them",
                self.netuid
            )));
        }
        let vk = subxt::dynamic::storage::<(u16,), u64>("SubtensorModule", "WeightsVersionKey");
        let version_key = at.storage().fetch(vk, (self.netuid,)).await.map_err(unavailable)?;
        let version_key = version_key.decode().map_err(unavailable)?;
        let call = WeightsCall { netuid: self.netuid, dests, weights: vals, version_key };
        let (name, args) = call.dynamic(at.metadata_ref());
        self.submit(hotkey, "SubtensorModule", name, args).await?;
        let total: f64 = weights.iter().sum();
        let normalised = if total > 0.0 { weights.iter().map(|w| w / total).collect() } else { weights.to_vec() };
        Ok(WeightsUpdate { netuid: self.netuid, block: m.block, uids: uids.to_vec(), weights: normalised })
    }
}

/// Signs extrinsics with a bittensor-wallet hotkey (sr25519, as the SDK's `sign_with="hotkey"`).
struct HotkeySigner<'a>(&'a Hotkey);

impl subxt::transactions::Signer<PolkadotConfig> for HotkeySigner<'_> {
    fn account_id(&self) -> AccountId32 {
        AccountId32(*self.0.public().as_bytes())
    }
    fn sign(&self, payload: &[u8]) -> MultiSignature {
        MultiSignature::Sr25519(self.0.sign(payload))
    }
}

// ---------------------------------------------------------------------------------------------
// Pure encoding and decoding (what the tests check against the Python SDK's bytes).

#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "scale_decode")]
struct RawNeuronLite {
    hotkey: [u8; 32],
    coldkey: [u8; 32],
    uid: u16,
    axon_info: RawAxonInfo,
    stake: Vec<([u8; 32], u64)>,
    validator_permit: bool,
}

#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "scale_decode")]
struct RawAxonInfo {
    ip: u128,
    port: u16,
}

/// Decodes the response of `NeuronInfoRuntimeApi::get_neurons_lite` with `metadata`'s types.
pub fn decode_neurons_lite(metadata: &subxt::metadata::Metadata, bytes: &[u8]) -> Result<Vec<Neuron>, ChainError> {
    let method = metadata
        .runtime_api_trait_by_name("NeuronInfoRuntimeApi")
        .and_then(|t| t.method_by_name("get_neurons_lite"))
        .ok_or_else(|| {
            ChainError::Unavailable("the node's runtime has no NeuronInfoRuntimeApi::get_neurons_lite".into())
        })?;
    let cursor = &mut &bytes[..];
    let raw = Vec::<RawNeuronLite>::decode_as_type(cursor, method.output_ty(), metadata.types())
        .map_err(|e| ChainError::Unavailable(format!("cannot decode get_neurons_lite: {e}")))?;
    if !cursor.is_empty() {
        return Err(ChainError::Unavailable(format!("get_neurons_lite: {} bytes left after decoding", cursor.len())));
    }
    Ok(raw
        .into_iter()
        .map(|n| Neuron {
            uid: n.uid,
            hotkey: PublicKey::from_bytes(n.hotkey).to_ss58(),
            coldkey: PublicKey::from_bytes(n.coldkey).to_ss58(),
            stake: n.stake.iter().map(|(_, rao)| *rao as f64).sum::<f64>() / RAO_PER_TAO,
            validator_permit: n.validator_permit,
            axon: AxonEndpoint { ip: int_to_ip(n.axon_info.ip), port: n.axon_info.port },
        })
        .collect())
}

/// The SDK's `int_to_ip` (`str(netaddr.IPAddress(ip))`): an IPv4 address when the number fits
/// in 32 bits, IPv6 otherwise; `ip_type` is not consulted, as in the SDK.
pub fn int_to_ip(ip: u128) -> String {
    match u32::try_from(ip) {
        Ok(v4) => Ipv4Addr::from(v4).to_string(),
        Err(_) => Ipv6Addr::from(ip).to_string(),
    }
}

/// The arguments of `serve_axon`, as the SDK computes them (`net.ip_to_int`, `net.ip_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxonParams {
    pub version: u32,
    pub ip: u128,
    pub ip_type: u8,
    pub port: u16,
    pub protocol: u8,
}

impl AxonParams {
    /// `ip` must be a literal IPv4 or IPv6 address (what validators will dial).
    pub fn new(ip: &str, port: u16) -> Result<Self, ChainError> {
        let addr: IpAddr = ip.parse().map_err(|_| {
            ChainError::Unavailable(format!(
                "axon ip {ip:?} is not an IP address; pass --axon.external_ip with your public IPv4/IPv6 address"
            ))
        })?;
        let (ip, ip_type) = match addr {
            IpAddr::V4(a) => (u32::from(a) as u128, 4),
            IpAddr::V6(a) => (u128::from(a), 6),
        };
        Ok(AxonParams { version: sdk_version_as_int(), ip, ip_type, port, protocol: AXON_PROTOCOL })
    }

    pub fn ip_string(&self) -> String {
        int_to_ip(self.ip)
    }

    fn values(&self, netuid: u16) -> Vec<subxt::dynamic::Value> {
        use subxt::dynamic::Value;
        vec![
            Value::u128(netuid as u128),
            Value::u128(self.version as u128),
            Value::u128(self.ip),
            Value::u128(self.port as u128),
            Value::u128(self.ip_type as u128),
            Value::u128(self.protocol as u128),
            Value::u128(0),
            Value::u128(0),
        ]
    }

    /// The SCALE call data of `SubtensorModule::serve_axon` under `metadata`.
    pub fn call_data(&self, metadata: &subxt::metadata::Metadata, netuid: u16) -> Result<Vec<u8>, ChainError> {
        encode_call(metadata, "serve_axon", &self.values(netuid))
    }
}

/// The SDK's `version_as_int` for the bittensor version our axon speaks (10.5.0 → 10_005_000:
/// each part weighted by 1000), the same number our axon headers carry.
pub fn sdk_version_as_int() -> u32 {
    miid_protocol::v10::BITTENSOR_VERSION as u32
}

/// A weights extrinsic: `set_mechanism_weights` (mechanism 0) where the runtime has it, as the
/// SDK sends, else `set_weights`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsCall {
    pub netuid: u16,
    pub dests: Vec<u16>,
    pub weights: Vec<u16>,
    pub version_key: u64,
}

impl WeightsCall {
    fn dynamic(&self, metadata: &subxt::metadata::Metadata) -> (&'static str, Vec<subxt::dynamic::Value>) {
        use subxt::dynamic::Value;
        let list = |v: &[u16]| Value::unnamed_composite(v.iter().map(|x| Value::u128(*x as u128)));
        let has_mech = metadata
            .pallet_by_name("SubtensorModule")
            .and_then(|p| p.call_variant_by_name("set_mechanism_weights"))
            .is_some();
        let mut args = vec![Value::u128(self.netuid as u128)];
        if has_mech {
            args.push(Value::u128(0));
        }
        args.extend([list(&self.dests), list(&self.weights), Value::u128(self.version_key as u128)]);
        (if has_mech { "set_mechanism_weights" } else { "set_weights" }, args)
    }

    /// The SCALE call data under `metadata`.
    pub fn call_data(&self, metadata: &subxt::metadata::Metadata) -> Result<Vec<u8>, ChainError> {
        let (name, args) = self.dynamic(metadata);
        encode_call(metadata, name, &args)
    }
}

fn encode_call(
    metadata: &subxt::metadata::Metadata,
    call: &str,
    args: &[subxt::dynamic::Value],
) -> Result<Vec<u8>, ChainError> {
    let composite = subxt::ext::scale_value::Composite::Unnamed(args.to_vec());
    subxt::ext::frame_decode::extrinsics::encode_call_data(
        "SubtensorModule",
        call,
        &composite,
        metadata,
        metadata.types(),
    )
    .map_err(|e| ChainError::Unavailable(format!("cannot encode SubtensorModule::{call}: {e}")))
}

/// The SDK's `convert_weights_and_uids_for_emit` after `convert_uids_and_weights`: weights go
/// through float32 (numpy), are max-upscaled to 65535 with Python's round-half-even, and zeros
/// are dropped. All-zero weights give empty lists (nothing to set).
pub fn weights_for_emit(uids: &[u16], weights: &[f64]) -> Result<(Vec<u16>, Vec<u16>), ChainError> {
    if uids.len() != weights.len() {
        return Err(ChainError::Weights(format!("{} uids but {} weights", uids.len(), weights.len())));
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(ChainError::Weights("weights must be finite and non-negative".into()));
    }
    let w32: Vec<f64> = weights.iter().map(|w| *w as f32 as f64).collect();
    if w32.iter().sum::<f64>() == 0.0 {
        return Ok((vec![], vec![]));
    }
    let max = w32.iter().cloned().fold(0.0f64, f64::max);
    let mut out_uids = Vec::new();
    let mut out_vals = Vec::new();
    for (w, uid) in w32.iter().zip(uids) {
        let v = (w / max * u16::MAX as f64).round_ties_even();
        if v != 0.0 {
            out_uids.push(*uid);
            out_vals.push(v as u16);
        }
    }
    Ok((out_uids, out_vals))
}

/// The bundled finney metadata, decoded.
pub fn bundled_metadata() -> subxt::metadata::Metadata {
    subxt::metadata::Metadata::decode_from(FINNEY_METADATA).expect("the bundled finney metadata decodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_to_the_sdk_endpoints() {
        assert_eq!("finney".parse::<Network>().unwrap().url(), "wss://entrypoint-finney.opentensor.ai:443");
        assert_eq!("test".parse::<Network>().unwrap().url(), "wss://test.finney.opentensor.ai:443");
        assert_eq!("local".parse::<Network>().unwrap().url(), "ws://127.0.0.1:9944");
        assert_eq!("ws://10.0.0.1:9944".parse::<Network>().unwrap(), Network::Url("ws://10.0.0.1:9944".into()));
        let err = "mainnet".parse::<Network>().unwrap_err().to_string();
        assert!(err.contains("finney, test, local"), "{err}");
    }

    #[test]
    fn ip_round_trips() {
        let p = AxonParams::new("1.2.3.4", 8091).unwrap();
        assert_eq!((p.ip, p.ip_type), (0x01020304, 4));
        assert_eq!(p.ip_string(), "1.2.3.4");
        let p6 = AxonParams::new("2001:db8::1", 1).unwrap();
        assert_eq!(p6.ip_type, 6);
        assert_eq!(p6.ip_string(), "2001:db8::1");
        assert!(AxonParams::new("example.com", 1).unwrap_err().to_string().contains("--axon.external_ip"));
        assert_eq!(int_to_ip(0), "0.0.0.0");
    }

    #[test]
    fn weights_are_max_upscaled_and_zeros_dropped() {
        let (u, w) = weights_for_emit(&[0, 1, 2], &[0.5, 0.25, 0.0]).unwrap();
        assert_eq!(u, vec![0, 1]);
        assert_eq!(w, vec![65535, 32768]); // 32767.5 rounds to even
        assert_eq!(weights_for_emit(&[0], &[0.0]).unwrap(), (vec![], vec![]));
        assert!(weights_for_emit(&[0], &[-1.0]).is_err());
        assert!(weights_for_emit(&[0, 1], &[1.0]).is_err());
    }

    #[test]
    fn bundled_metadata_has_what_we_call() {
        let m = bundled_metadata();
        let p = m.pallet_by_name("SubtensorModule").unwrap();
        assert!(p.call_variant_by_name("serve_axon").is_some());
        assert!(p.call_variant_by_name("set_mechanism_weights").is_some());
        assert!(
            m.runtime_api_trait_by_name("NeuronInfoRuntimeApi").unwrap().method_by_name("get_neurons_lite").is_some()
        );
    }
}
