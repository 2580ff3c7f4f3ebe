//! The reference's batch retry rule (validator-round 10.3) over loopback stand-ins: unparseable
//! answers (422) get an empty default answer when at most `retry_threshold` miners of a batch
//! returned one; above it they are retried with a longer timeout, and the last attempt's answers
//! are kept as they are. Batches keep the query order.

use std::time::Duration;

use miid_protocol::synapse::Generation;
use miid_protocol::v10::AxonTarget;
use miid_protocol::{Hotkey, IdentitySynapse, Scheme};
use miid_validator::Dendrite;
use miid_validator::loopback::{Behaviour, spawn};
use miid_validator::round::{BatchPolicy, query_batches};

async fn run(threshold: usize, batch_size: usize) -> Vec<miid_validator::MinerResult> {
    let validator = Hotkey::from_uri("//BatchValidator").unwrap();
    let kinds = [Behaviour::Garbage, Behaviour::Instant, Behaviour::Garbage, Behaviour::Instant, Behaviour::Garbage];
    let miners = spawn(&validator, &kinds).await.unwrap();
    let mut targets: Vec<(u16, AxonTarget)> = miners
        .metagraph
        .neurons
        .iter()
        .filter(|n| n.uid > 0)
        .map(|n| (n.uid, AxonTarget { ip: n.axon.ip.clone(), port: n.axon.port, hotkey: n.hotkey.clone() }))
        .collect();
    targets.reverse(); // query order is the sample order, not the uid order
    let dendrite = Dendrite::new(validator, "127.0.0.1", Scheme::V10);
    let mut request = IdentitySynapse::new(Generation::R1, 5.0);
    request.identity = Some(vec![vec!["john smith".into(), "1990-01-01".into(), "Spain".into()]]);
    request.query_template = Some("Generate 5 variations of {name}".into());
    let policy = BatchPolicy {
        retry_threshold: threshold,
        retry_backoff: Duration::from_millis(10),
        ..BatchPolicy::immediate(batch_size)
    };
    query_batches(&dendrite, &targets, &request, Generation::R1, 5.0, &policy).await
}

#[tokio::test]
async fn few_failures_get_default_answers() {
    let r = run(50, 2).await;
    assert_eq!(r.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![5, 4, 3, 2, 1], "query order across batches");
    for m in &r {
        if m.uid % 2 == 1 {
            assert_eq!(m.status_code, 422);
            assert!(m.default_answer && m.process_time.is_nan());
            assert_eq!(m.variations.as_ref().map(|v| v.len()), Some(0), "an empty default answer");
        } else {
            assert_eq!(m.status_code, 200);
            assert!(!m.default_answer);
            assert_eq!(m.variations.as_ref().unwrap().len(), 1);
        }
    }
}

#[tokio::test]
async fn many_failures_are_retried_and_the_last_attempt_kept() {
    let r = run(1, 150).await;
    let failed: Vec<_> = r.iter().filter(|m| m.status_code == 422).collect();
    assert_eq!(failed.len(), 3);
    // Retried twice (3 attempts), then kept as they are: no default answer.
    assert!(failed.iter().all(|m| !m.default_answer && m.variations.is_none()), "{failed:?}");
    assert_eq!(r.iter().filter(|m| m.status_code == 200).count(), 2);
}
