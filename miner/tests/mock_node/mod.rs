//! A stand-in subtensor node for tests: the legacy JSON-RPC methods subxt's `OnlineClient` uses
//! to read state (`rpc_methods`, `chain_getBlockHash`, `chain_getFinalizedHead`, `chain_getHeader`,
//! `state_call`, `state_getStorage`) over WebSocket on loopback. Runtime calls are answered from
//! the finney metadata bundled in miid-chain and a `get_neurons_lite` response built from the
//! neurons the test gives; every `state_call` is recorded. Extrinsics sent with
//! `author_submitAndWatchExtrinsic` are recorded and answered `invalid`: the node executes none.

use std::net::SocketAddr;
use std::sync::Arc;

use codec::{Compact, Encode};
use jsonrpsee::server::{RpcModule, Server, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use parking_lot::Mutex;
use serde_json::{Value, json};

/// A neuron as the node reports it.
#[derive(Debug, Clone)]
pub struct MockNeuron {
    pub uid: u16,
    pub hotkey: [u8; 32],
    pub coldkey: [u8; 32],
    pub stake_rao: u64,
    pub validator_permit: bool,
    pub ip: std::net::Ipv4Addr,
    pub port: u16,
}

#[derive(Default)]
pub struct NodeState {
    pub block: u64,
    pub netuid: u16,
    pub neurons: Vec<MockNeuron>,
    pub calls: Vec<String>,
    /// Extrinsics submitted, as sent.
    pub extrinsics: Vec<Vec<u8>>,
    /// Storage values: a key starting with `prefix` reads `value` (unset keys read as absent,
    /// so the client falls back to the metadata's default).
    pub storage: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The storage prefix of `pallet::item`: `twox128(pallet) ‖ twox128(item)`.
pub fn storage_prefix(pallet: &str, item: &str) -> Vec<u8> {
    let mut k = sp_crypto_hashing::twox_128(pallet.as_bytes()).to_vec();
    k.extend_from_slice(&sp_crypto_hashing::twox_128(item.as_bytes()));
    k
}

pub struct MockNode {
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl MockNode {
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

pub const HASH: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
pub const GENESIS: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

/// Starts a node on `addr` (port 0 for any) serving `state` (the test keeps a clone to change it
/// and read the recorded calls).
pub async fn start(addr: &str, state: Arc<Mutex<NodeState>>) -> MockNode {
    let server = Server::builder().build(addr).await.expect("bind the mock node");
    let addr = server.local_addr().unwrap();
    let mut module = RpcModule::new(state);
    let methods = [
        "rpc_methods",
        "chain_getBlockHash",
        "chain_getFinalizedHead",
        "chain_getHeader",
        "state_call",
        "state_getStorage",
        "author_submitAndWatchExtrinsic",
        "author_unwatchExtrinsic",
    ];
    module.register_method("rpc_methods", move |_, _, _| json!({ "version": 1, "methods": methods })).unwrap();
    module.register_method("chain_getBlockHash", |_, _, _| json!(GENESIS)).unwrap();
    module.register_method("chain_getFinalizedHead", |_, _, _| json!(HASH)).unwrap();
    module
        .register_method("chain_getHeader", |_, st: &Arc<Mutex<NodeState>>, _| {
            let zero = format!("0x{}", "00".repeat(32));
            json!({"parentHash": zero, "number": format!("0x{:x}", st.lock().block), "stateRoot": zero,
                   "extrinsicsRoot": zero, "digest": {"logs": []}})
        })
        .unwrap();
    module
        .register_method("state_getStorage", |params, st: &Arc<Mutex<NodeState>>, _| {
            let key: String = params.sequence().next().unwrap_or_default();
            let key = hex::decode(key.trim_start_matches("0x")).unwrap_or_default();
            let st = st.lock();
            match st.storage.iter().find(|(prefix, _)| key.starts_with(prefix)) {
                Some((_, value)) => json!(format!("0x{}", hex::encode(value))),
                None => Value::Null,
            }
        })
        .unwrap();
    module
        .register_method("state_call", |params, st: &Arc<Mutex<NodeState>>, _| -> Result<Value, ErrorObjectOwned> {
            let mut seq = params.sequence();
            let method: String = seq.next()?;
            let data: String = seq.next().unwrap_or_default();
            let mut st = st.lock();
            st.calls.push(method.clone());
            let bytes = match method.as_str() {
                "Core_version" => core_version(),
                "Metadata_metadata_versions" => vec![14u32, 15, 16].encode(),
                "AccountNonceApi_account_nonce" => 5u32.encode(),
                "Metadata_metadata_at_version" => Some(miid_chain::subtensor::FINNEY_METADATA.to_vec()).encode(),
                "NeuronInfoRuntimeApi_get_neurons_lite" => {
                    let arg = hex::decode(data.trim_start_matches("0x")).unwrap_or_default();
                    let netuid =
                        u16::from_le_bytes([arg.first().copied().unwrap_or(0), arg.get(1).copied().unwrap_or(0)]);
                    let neurons = if netuid == st.netuid { st.neurons.clone() } else { vec![] };
                    encode_neurons(netuid, &neurons)
                }
                other => {
                    return Err(ErrorObjectOwned::owned(
                        -32000,
                        format!("mock node: no runtime call {other}"),
                        None::<()>,
                    ));
                }
            };
            Ok(json!(format!("0x{}", hex::encode(bytes))))
        })
        .unwrap();
    module
        .register_subscription(
            "author_submitAndWatchExtrinsic",
            "author_extrinsicUpdate",
            "author_unwatchExtrinsic",
            |params, pending, st: Arc<Arc<Mutex<NodeState>>>, _| async move {
                let xt: String = params.one().unwrap_or_default();
                st.lock().extrinsics.push(hex::decode(xt.trim_start_matches("0x")).unwrap_or_default());
                let Ok(sink) = pending.accept().await else { return };
                let msg = serde_json::value::to_raw_value(&json!("invalid")).unwrap();
                let _ = sink.send(jsonrpsee::core::server::SubscriptionMessage::from(msg)).await;
            },
        )
        .unwrap();
    let handle = server.start(module);
    MockNode { addr, handle }
}

pub const SPEC_VERSION: u32 = 300;
pub const TX_VERSION: u32 = 1;

fn core_version() -> Vec<u8> {
    let mut out = Vec::new();
    "node-subtensor".to_string().encode_to(&mut out);
    "node-subtensor".to_string().encode_to(&mut out);
    1u32.encode_to(&mut out); // authoring version
    SPEC_VERSION.encode_to(&mut out);
    1u32.encode_to(&mut out); // impl version
    Vec::<([u8; 8], u32)>::new().encode_to(&mut out);
    TX_VERSION.encode_to(&mut out);
    out
}

/// `Vec<NeuronInfoLite>` in the runtime's field order (checked against the metadata by
/// miid-chain's Python-fixture test).
fn encode_neurons(netuid: u16, neurons: &[MockNeuron]) -> Vec<u8> {
    let mut out = Vec::new();
    Compact(neurons.len() as u32).encode_to(&mut out);
    for n in neurons {
        n.hotkey.encode_to(&mut out);
        n.coldkey.encode_to(&mut out);
        Compact(n.uid).encode_to(&mut out);
        Compact(netuid).encode_to(&mut out);
        true.encode_to(&mut out); // active
        // axon_info: block, version, ip, port, ip_type, protocol, placeholder1, placeholder2
        1u64.encode_to(&mut out);
        10_005_000u32.encode_to(&mut out);
        (u32::from(n.ip) as u128).encode_to(&mut out);
        n.port.encode_to(&mut out);
        (if n.ip.is_unspecified() { 0u8 } else { 4u8 }).encode_to(&mut out);
        4u8.encode_to(&mut out);
        0u8.encode_to(&mut out);
        0u8.encode_to(&mut out);
        // prometheus_info: block, version, ip, port, ip_type
        (0u64, 0u32, 0u128, 0u16, 0u8).encode_to(&mut out);
        // stake: Vec<(AccountId, Compact<u64>)>
        vec![(n.coldkey, Compact(n.stake_rao))].encode_to(&mut out);
        Compact(0u16).encode_to(&mut out); // rank
        Compact(0u64).encode_to(&mut out); // emission
        for _ in 0..5 {
            Compact(0u16).encode_to(&mut out); // incentive, consensus, trust, validator_trust, dividends
        }
        Compact(0u64).encode_to(&mut out); // last_update
        n.validator_permit.encode_to(&mut out);
        Compact(0u16).encode_to(&mut out); // pruning_score
    }
    out
}
