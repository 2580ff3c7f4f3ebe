//! The mainnet path against a stand-in subtensor node on loopback (tests/mock_node): the
//! `Subtensor` client reads the metagraph through `get_neurons_lite`, sends `serve_axon` only when
//! the published endpoint differs, survives the node going away, and the `miner` binary starts on
//! a chain (or refuses an unregistered hotkey with the btcli command).

mod mock_node;

mod common;
use common::new_hotkey;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use miid_chain::{Chain, Network, Retry, Subtensor, SyncedChain};
use miid_protocol::{Hotkey, PublicKey};
use mock_node::{MockNeuron, NodeState};
use parking_lot::Mutex;

use common::MINER;

fn fast_retry() -> Retry {
    Retry {
        attempts: 2,
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
    }
}

fn neuron(uid: u16, ss58: &str, permit: bool, stake_tao: u64, port: u16) -> MockNeuron {
    let key = *PublicKey::from_ss58(ss58).unwrap().as_bytes();
    MockNeuron {
        uid,
        hotkey: key,
        coldkey: key,
        stake_rao: stake_tao * 1_000_000_000,
        validator_permit: permit,
        ip: if port == 0 { std::net::Ipv4Addr::UNSPECIFIED } else { std::net::Ipv4Addr::LOCALHOST },
        port,
    }
}

fn state(block: u64, neurons: Vec<MockNeuron>) -> Arc<Mutex<NodeState>> {
    Arc::new(Mutex::new(NodeState { block, netuid: 54, neurons, ..Default::default() }))
}

#[tokio::test]
async fn subtensor_reads_the_metagraph_and_serves_the_axon_only_when_changed() {
    let validator = Hotkey::from_uri("//Validator").unwrap();
    let miner = Hotkey::from_uri("//Miner").unwrap();
    let st = state(1234, vec![neuron(0, validator.ss58(), true, 5000, 0), neuron(7, miner.ss58(), false, 1, 8091)]);
    let node = mock_node::start("127.0.0.1:0", st.clone()).await;
    let chain = Subtensor::connect(Network::Url(node.url()), 54, fast_retry()).await.unwrap();

    let m = chain.metagraph().await.unwrap();
    assert_eq!((m.netuid, m.block, m.neurons.len()), (54, 1234, 2));
    let v = m.by_hotkey(validator.ss58()).unwrap();
    assert_eq!((v.uid, v.stake, v.validator_permit, v.axon.is_serving()), (0, 5000.0, true, false));
    let me = m.by_hotkey(miner.ss58()).unwrap();
    assert_eq!((me.uid, me.axon.ip.as_str(), me.axon.port), (7, "127.0.0.1", 8091));
    assert_eq!(chain.uid_of(miner.ss58()).await.unwrap(), Some(7));

    // Same endpoint: nothing is sent (no nonce lookup, no extrinsic).
    chain.serve_axon(&miner, "127.0.0.1", 8091).await.unwrap();
    assert!(!st.lock().calls.iter().any(|c| c.starts_with("AccountNonceApi")), "{:?}", st.lock().calls);
    assert!(st.lock().extrinsics.is_empty());
    // A new port: a signed serve_axon extrinsic (finney's transaction extensions) is submitted.
    // This node executes nothing and answers "invalid", which the client reports.
    let err = chain.serve_axon(&miner, "127.0.0.1", 9000).await.unwrap_err().to_string();
    assert!(err.contains("serve_axon"), "{err}");
    let xts = st.lock().extrinsics.clone();
    assert_eq!(xts.len(), 1);
    check_signed_serve_axon(&xts[0], &miner, "127.0.0.1", 9000);
    // An unregistered hotkey cannot serve.
    let stranger = Hotkey::from_uri("//Stranger").unwrap();
    assert!(matches!(
        chain.serve_axon(&stranger, "127.0.0.1", 1).await,
        Err(miid_chain::ChainError::NotRegistered { .. })
    ));
    node.stop().await;
}

#[tokio::test]
async fn a_node_outage_keeps_the_last_metagraph_and_recovers() {
    let miner = Hotkey::from_uri("//Miner").unwrap();
    let st = state(10, vec![neuron(0, miner.ss58(), false, 1, 0)]);
    let node = mock_node::start("127.0.0.1:0", st.clone()).await;
    let addr = node.addr;
    let subtensor = Subtensor::connect(Network::Url(node.url()), 54, fast_retry()).await.unwrap();
    let chain = SyncedChain::start(Arc::new(subtensor), Duration::from_millis(50), fast_retry()).await.unwrap();
    assert_eq!(chain.status().block, 10);

    node.stop().await;
    wait_until(|| chain.status().failures >= 2).await;
    assert_eq!(chain.metagraph().await.unwrap().block, 10, "the last good metagraph still serves");
    assert!(chain.status().last_error.is_some());

    st.lock().block = 11;
    let node = mock_node::start(&addr.to_string(), st.clone()).await;
    wait_until(|| chain.status().block == 11 && chain.status().failures == 0).await;
    assert!(chain.status().total_failures >= 2);
    node.stop().await;
}

/// Takes a submitted extrinsic apart: v4 signed, from `signer`'s account, a valid sr25519
/// signature over the payload, nonce 5 (what the node said), and serve_axon's call data exactly
/// as `AxonParams::call_data` (checked against the Python SDK) makes it.
fn check_signed_serve_axon(xt: &[u8], signer: &Hotkey, ip: &str, port: u16) {
    use codec::{Compact, Decode};
    let cursor = &mut &xt[..];
    let len = Compact::<u32>::decode(cursor).unwrap().0 as usize;
    assert_eq!(len, cursor.len(), "length prefix");
    let body = *cursor;
    assert_eq!(body[0], 0x84, "v4 signed extrinsic");
    assert_eq!(body[1], 0x00, "MultiAddress::Id");
    assert_eq!(&body[2..34], signer.public().as_bytes(), "signed by the hotkey");
    assert_eq!(body[34], 0x01, "MultiSignature::Sr25519");
    let signature = &body[35..99];
    let rest = &body[99..];
    let m = miid_chain::subtensor::bundled_metadata();
    let call = miid_chain::subtensor::AxonParams::new(ip, port).unwrap().call_data(&m, 54).unwrap();
    assert!(rest.ends_with(&call), "call data at the end of the extrinsic");
    let extra = &rest[..rest.len() - call.len()];
    // extra: era (mortal, 2 bytes) then Compact nonce, tip, ... ; the nonce is 5.
    assert!(extra.len() >= 3, "{extra:?}");
    assert_eq!(&extra[2..3], &[5 << 2], "Compact(5) nonce after the mortal era");
    // The signature covers call ‖ extra ‖ implicit data: spec and transaction version, genesis
    // hash, the mortal era's birth block hash, and CheckMetadataHash's `None` (finney's other
    // extensions — CheckWeight, SubtensorTransactionExtension, DrandPriority, ... — add none).
    let h = |s: &str| hex::decode(s.trim_start_matches("0x")).unwrap();
    let mut payload = call.clone();
    payload.extend_from_slice(extra);
    payload.extend_from_slice(&mock_node::SPEC_VERSION.to_le_bytes());
    payload.extend_from_slice(&mock_node::TX_VERSION.to_le_bytes());
    payload.extend_from_slice(&h(mock_node::GENESIS));
    payload.extend_from_slice(&h(mock_node::HASH));
    payload.push(0);
    assert!(payload.len() <= 256, "short payloads are signed as is");
    assert!(signer.public().verify(&payload, signature), "the signature verifies over the reconstructed payload");
}

async fn wait_until(cond: impl Fn() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 10 s");
}

fn miner_cmd(dir: &std::path::Path, url: &str, port: u16) -> Command {
    let mut c = Command::new(MINER);
    c.args(["--wallet.path", dir.to_str().unwrap(), "--wallet.name", "m", "--wallet.hotkey", "hk"])
        .args([
            "--subtensor.network",
            url,
            "--netuid",
            "54",
            "--subtensor.retries",
            "2",
            "--subtensor.backoff_ms",
            "50",
        ])
        .args(["--axon.ip", "127.0.0.1", "--axon.port", &port.to_string(), "--blacklist.mode", "open"])
        .env("RUST_LOG", "info");
    c
}

#[tokio::test]
async fn the_miner_binary_runs_on_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ss58 = new_hotkey(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let validator = Hotkey::from_uri("//Validator").unwrap();
    // Published already at this address: the miner must not send serve_axon.
    let st = state(4321, vec![neuron(0, validator.ss58(), true, 5000, 0), neuron(3, &ss58, false, 0, port)]);
    let node = mock_node::start("127.0.0.1:0", st.clone()).await;

    let mut child =
        miner_cmd(dir.path(), &node.url(), port).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    assert!(line.starts_with(&format!("axon listening on 127.0.0.1:{port}")), "{line:?}");

    let health: serde_json::Value =
        reqwest::get(format!("http://127.0.0.1:{port}/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["uid"], 3);
    assert_eq!(health["metagraph_block"], 4321);
    assert!(st.lock().calls.iter().any(|c| c == "NeuronInfoRuntimeApi_get_neurons_lite"));
    assert!(!st.lock().calls.iter().any(|c| c.starts_with("AccountNonceApi")), "serve_axon was sent though unchanged");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("axon already published on chain; not sending serve_axon"), "{log}");
    node.stop().await;
}

#[tokio::test]
async fn an_unregistered_hotkey_is_told_how_to_register() {
    let dir = tempfile::tempdir().unwrap();
    new_hotkey(dir.path());
    let validator = Hotkey::from_uri("//Validator").unwrap();
    let st = state(5, vec![neuron(0, validator.ss58(), true, 5000, 0)]);
    let node = mock_node::start("127.0.0.1:0", st).await;
    let url = node.url();
    let out = tokio::task::spawn_blocking(move || miner_cmd(dir.path(), &url, 0).output().unwrap()).await.unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not registered on netuid 54"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "btcli subnets register --netuid 54 --wallet.name m --wallet.hotkey hk --network {}",
            node.url()
        )),
        "{stderr}"
    );
    node.stop().await;
}

#[tokio::test]
async fn set_weights_reads_the_subnet_settings_and_checks_the_permit() {
    let validator = Hotkey::from_uri("//Validator").unwrap();
    let miner = Hotkey::from_uri("//Miner").unwrap();
    let st = state(50, vec![neuron(0, validator.ss58(), true, 5000, 0), neuron(1, miner.ss58(), false, 1, 8091)]);
    let node = mock_node::start("127.0.0.1:0", st.clone()).await;
    let chain = Subtensor::connect(Network::Url(node.url()), 54, fast_retry()).await.unwrap();
    let err = chain.set_weights(&miner, &[0], &[1.0]).await.unwrap_err().to_string();
    assert!(err.contains("no validator permit"), "{err}");
    let err = chain.set_weights(&validator, &[0, 1], &[0.0, 0.0]).await.unwrap_err().to_string();
    assert!(err.contains("nothing to set"), "{err}");
    // Unset, CommitRevealWeightsEnabled reads as the runtime's default (true): refused clearly.
    let err = chain.set_weights(&validator, &[0, 1], &[0.25, 0.75]).await.unwrap_err().to_string();
    assert!(err.contains("commit-reveal weights enabled"), "{err}");
    assert!(st.lock().extrinsics.is_empty());

    // Commit-reveal off and a version key of 1234: a set_mechanism_weights extrinsic carrying the
    // SDK's u16 weights and that key is submitted.
    {
        use codec::Encode;
        let mut s = st.lock();
        s.storage.push((mock_node::storage_prefix("SubtensorModule", "CommitRevealWeightsEnabled"), false.encode()));
        s.storage.push((mock_node::storage_prefix("SubtensorModule", "WeightsVersionKey"), 1234u64.encode()));
    }
    let err = chain.set_weights(&validator, &[0, 1], &[0.25, 0.75]).await.unwrap_err().to_string();
    assert!(err.contains("set_mechanism_weights"), "{err}");
    let xts = st.lock().extrinsics.clone();
    assert_eq!(xts.len(), 1);
    let expected = miid_chain::subtensor::WeightsCall {
        netuid: 54,
        dests: vec![0, 1],
        weights: vec![21845, 65535],
        version_key: 1234,
    }
    .call_data(&miid_chain::subtensor::bundled_metadata())
    .unwrap();
    assert!(xts[0].ends_with(&expected), "the extrinsic ends with the weights call data");
    node.stop().await;
}
