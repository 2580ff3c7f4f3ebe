//! A single miner on loopback with a known metagraph, and helpers to send it hand-made
//! requests, shared by the refusal tests of every scheme.
#![allow(dead_code)]

use std::sync::Arc;

use miid_chain::{Admission, AxonEndpoint, Metagraph, Neuron, SnapshotChain};
use miid_miner::engine::SimpleEngine;
use miid_miner::{Axon, AxonConfig, Forward, Forwarder};
use miid_protocol::synapse::Generation;
use miid_protocol::v10::{AxonTarget, DendriteSigner, SignedRequest};
use miid_protocol::{Hotkey, IdentitySynapse};

/// One miner (`//Miner1`) whose metagraph holds a validator with a permit (`//Validator`), a
/// registered key without a permit (`//NoPermit`), and nobody else.
pub struct Fixture {
    pub axon: Arc<Axon>,
    pub target: AxonTarget,
    pub client: reqwest::Client,
}

pub const MAX_BODY: usize = 256 * 1024;

pub async fn fixture(rate_limit: usize) -> Fixture {
    fixture_with(rate_limit, 2, Arc::new(Forwarder::new(Box::new(SimpleEngine)))).await
}

pub async fn fixture_with(rate_limit: usize, work_slots: usize, forward: Arc<dyn Forward>) -> Fixture {
    let miner = Hotkey::from_uri("//Miner1").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let neuron = |uid, key: &Hotkey, permit| Neuron {
        uid,
        hotkey: key.ss58().into(),
        coldkey: key.ss58().into(),
        stake: 100.0,
        validator_permit: permit,
        axon: AxonEndpoint { ip: "127.0.0.1".into(), port },
    };
    let metagraph = Metagraph::new(
        54,
        1,
        vec![
            neuron(0, &Hotkey::from_uri("//Validator").unwrap(), true),
            neuron(1, &miner, false),
            neuron(2, &Hotkey::from_uri("//NoPermit").unwrap(), false),
        ],
    )
    .unwrap();
    let config =
        AxonConfig { max_body_bytes: MAX_BODY, rate_limit, work_slots, external_port: port, ..AxonConfig::default() };
    let axon = Axon::new(
        miner.clone(),
        Admission::open(0.0),
        Arc::new(SnapshotChain::from_metagraph(metagraph)),
        forward,
        config,
    );
    tokio::spawn(axon.clone().serve(listener, std::future::pending()));
    let target = AxonTarget { ip: "127.0.0.1".into(), port, hotkey: miner.ss58().into() };
    Fixture { axon, target, client: reqwest::Client::new() }
}

pub fn signer(uri: &str) -> DendriteSigner {
    DendriteSigner::new(Hotkey::from_uri(uri).unwrap(), "127.0.0.1")
}

pub fn r1_request(signer: &DendriteSigner, target: &AxonTarget, nonce: u64) -> SignedRequest {
    let mut s = IdentitySynapse::new(Generation::R1, 12.0);
    s.identity = Some(vec![vec!["John Smith".into(), "1990-01-01".into(), "United States".into()]]);
    s.query_template = Some("Generate 3 variations of {name}".into());
    signer.sign(&s, Generation::R1, target, 12.0, nonce)
}

impl Fixture {
    pub async fn send(&self, url: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, String) {
        let mut req = self.client.post(url).header("content-type", "application/json").body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        assert_eq!(resp.headers()["bt_header_axon_status_code"], status.to_string().as_str());
        let json: serde_json::Value = resp.json().await.unwrap();
        let message = json.get("message").and_then(|m| m.as_str()).unwrap_or("").to_owned();
        (status, message)
    }

    pub async fn send_signed(&self, r: &SignedRequest) -> (u16, String) {
        self.send(&r.url, &r.headers, r.body.clone()).await
    }

    pub fn forwards(&self) -> u64 {
        self.axon.stats.forwards()
    }

    pub fn bodies(&self) -> u64 {
        self.axon.stats.bodies_read()
    }
}

pub fn set(headers: &mut [(String, String)], name: &str, value: &str) {
    headers.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
}
