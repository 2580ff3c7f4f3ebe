//! validator-sim queries two miners over loopback: the answers arrive, verify and parse, for
//! both request generations and both signing schemes.

use std::sync::Arc;

use miid_protocol::Scheme;
use miid_protocol::synapse::Generation;
use miid_scenarios::{LocalStack, StackConfig};
use miid_validator::{Dendrite, QuerySpec, RoundConfig, query_round};

async fn round(generation: Generation, transport: Scheme) {
    let stack = LocalStack::start(StackConfig { miners: 2, ..StackConfig::default() }).await.unwrap();
    let dendrite = Arc::new(Dendrite::new(stack.validator.clone(), "127.0.0.1", transport));
    let config = RoundConfig { generation, timeout: 20.0, ..RoundConfig::default() };
    let spec = QuerySpec { seeds: 4, variations: 6, ..QuerySpec::default() };
    let r = query_round(stack.chain.as_ref(), dendrite, &config, &spec).await.unwrap();

    assert_eq!(r.results.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![1, 2]);
    for m in &r.results {
        assert_eq!((m.status_code, m.status_message.as_str()), (200, "Success"), "uid {}", m.uid);
        assert_eq!(m.s3_submissions.as_deref(), Some(&[][..]), "no image pipeline: empty list, not null");
        match generation {
            Generation::R1 => {
                let seeds: Vec<String> =
                    r.request.identity.as_ref().unwrap().iter().map(|row| row[0].clone()).collect();
                let v = m.variations.as_ref().expect("R1 answers carry variations");
                assert_eq!(v.keys().cloned().collect::<Vec<_>>(), seeds, "one entry per seed, in request order");
                for (seed, entry) in v {
                    assert!(!entry.rows().is_empty(), "{seed}");
                    assert!(entry.rows().iter().all(|row| row.len() == 3 && row[0] != *seed));
                }
                // A round whose High Risk draws all failed has no UAV seed (spec 7): then no UAV at all.
                match r.uav_seed.as_deref() {
                    Some(uav_seed) => {
                        assert!(v[uav_seed].uav().is_some(), "the UAV seed carries a UAV");
                        assert_eq!(v.values().filter(|e| e.uav().is_some()).count(), 1, "and only it");
                    }
                    None => assert!(v.values().all(|e| e.uav().is_none()), "no UAV seed, no UAV"),
                }
            }
            Generation::R2 => assert!(m.variations.is_none()),
        }
    }
    for miner in &stack.miners {
        assert_eq!(miner.axon.stats.forwards(), 1, "each miner worked once");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn r1_round_over_v10() {
    round(Generation::R1, Scheme::V10).await;
}

#[tokio::test]
async fn r2_round_over_v10() {
    round(Generation::R2, Scheme::V10).await;
}

#[tokio::test]
async fn r1_round_over_btauth() {
    round(Generation::R1, Scheme::BtAuth).await;
}

#[tokio::test]
async fn r1_round_over_epistula_v2() {
    round(Generation::R1, Scheme::Epistula).await;
}

#[tokio::test]
async fn r2_round_over_epistula_simple() {
    round(Generation::R2, Scheme::EpistulaSimple).await;
}

#[tokio::test]
async fn unreachable_miner_is_503_and_slow_miner_is_408() {
    use miid_protocol::v10::AxonTarget;
    use miid_protocol::{Hotkey, IdentitySynapse};
    let dendrite = Dendrite::new(Hotkey::from_uri("//Validator").unwrap(), "127.0.0.1", Scheme::V10);
    // a port nobody listens on
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let target =
        AxonTarget { ip: "127.0.0.1".into(), port, hotkey: Hotkey::from_uri("//Miner1").unwrap().ss58().into() };
    let r = dendrite.call(&target, &IdentitySynapse::new(Generation::R2, 5.0), Generation::R2, 5.0).await;
    assert_eq!(r.status_code, 503, "{}", r.status_message);
    assert_eq!(r.status_message, format!("Service unavailable at 127.0.0.1:{port}/IdentitySynapse"));

    // a listener that accepts and never answers
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let target = AxonTarget { port, ..target };
    let r = dendrite.call(&target, &IdentitySynapse::new(Generation::R2, 0.5), Generation::R2, 0.5).await;
    assert_eq!((r.status_code, r.status_message.as_str()), (408, "Request timeout after 0.5 seconds"));
}
