//! The per-round results record (spec validator-round.md 14.1), with the reference's keys.
//!
//! The record is what a reference validator uploads to the MIID server after every round; the
//! simulated validator writes it to its state directory (`results/round_NNNNNN.json`).

use serde_json::{Map, Value, json};

use miid_chain::Metagraph;
use miid_scoring::round::RoundOutput;

use crate::query::R1Query;
use crate::round::MinerResult;

/// Everything the record is built from.
pub struct RecordInput<'a> {
    pub timestamp: &'a str,
    pub r1: Option<&'a R1Query>,
    /// The final synapse sent.
    pub request: &'a miid_protocol::IdentitySynapse,
    pub timeout: f64,
    pub results: &'a [MinerResult],
    pub metagraph: &'a Metagraph,
    pub output: Option<&'a RoundOutput>,
    /// The reward vector applied to the scores (queried uids, then the burn uid).
    pub rewards: &'a [f64],
    pub reward_uids: &'a [u16],
    pub scores: &'a [f64],
    pub queried: &'a [u16],
    pub uav_grading: bool,
    pub rep_version: Option<&'a str>,
    pub uav_seed: Option<&'a str>,
    /// Every allocation not yet acknowledged by the upload server, this round's last.
    pub allocations: &'a [Value],
}

/// UAV collection counters (11.2): accepted per miner, rejected (UAVs under a non-UAV seed).
fn uav_data(input: &RecordInput<'_>) -> Value {
    let (mut miners_with, mut total, mut with_coords, mut rejected) = (0, 0, 0, 0);
    let mut by_miner = Map::new();
    for (i, r) in input.results.iter().enumerate() {
        if let Some(v) = &r.variations {
            for (seed, entry) in v {
                if entry.uav().is_some() && input.uav_seed.is_some_and(|u| u != seed) {
                    rejected += 1;
                }
            }
        }
        let Some(out) = input.output else { continue };
        let accepted = &out.accepted_uavs[i];
        if accepted.is_empty() {
            continue;
        }
        miners_with += 1;
        total += accepted.len();
        let coords = accepted.iter().any(|u| u.has_coordinates);
        if coords {
            with_coords += 1;
        }
        let uavs: Map<String, Value> = accepted
            .iter()
            .map(|u| {
                (
                    u.seed.clone(),
                    json!({"address": u.address, "label": u.label, "latitude": u.latitude, "longitude": u.longitude}),
                )
            })
            .collect();
        by_miner.insert(
            r.uid.to_string(),
            json!({"hotkey": r.hotkey, "uavs": uavs, "valid_count": accepted.len(), "has_coordinates": coords}),
        );
    }
    json!({
        "cycle": "Phase4-C2-Sandbox",
        "note": "UAVs are collected and scored in Cycle 1 execution",
        "summary": {
            "total_miners_with_uav": miners_with,
            "total_uavs_collected": total,
            "miners_with_coordinates": with_coords,
            "rejected_uavs": rejected,
        },
        "by_miner": by_miner,
    })
}

fn image_data(input: &RecordInput<'_>) -> Value {
    let img = input.request.image_request.as_ref();
    let mut s3 = Map::new();
    for r in input.results {
        if let Some(subs) = r.s3_submissions.as_ref().filter(|s| !s.is_empty()) {
            let list: Vec<Value> = subs
                .iter()
                .map(|s| {
                    json!({"s3_key": s.s3_key, "image_hash": s.image_hash, "signature": s.signature,
                           "variation_type": s.variation_type})
                })
                .collect();
            s3.insert(
                r.uid.to_string(),
                json!({"hotkey": r.hotkey, "submissions": list, "submission_count": subs.len()}),
            );
        }
    }
    let entries: Vec<Value> = img
        .map(|i| {
            i.variation_requests
                .iter()
                .map(|v| json!({"type": v.kind, "intensity": v.intensity, "description": v.description, "detail": v.detail}))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "cycle": "Phase4-C2-Sandbox",
        "note": "Image variations with S3 uploads, post-validation scoring by YANEZ",
        "enabled": img.is_some(),
        "s3_bucket": "yanez-miid-sn54",
        "challenge_id": img.and_then(|i| i.challenge_id.clone()),
        "base_image_filename": img.map(|i| i.image_filename.clone()),
        "target_drand_round": img.map(|i| i.target_drand_round),
        "reveal_timestamp": img.map(|i| i.reveal_timestamp),
        "requested_variations": entries,
        "variation_count": img.map_or(0, |i| i.variation_requests.len()),
        "variation_types": img.map(|i| i.variation_requests.iter().map(|v| v.kind.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "variation_intensities": img.map(|i| i.variation_requests.iter().map(|v| v.intensity.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "s3_submissions_by_miner": s3,
    })
}

/// The record without `Weights` (added once weights were set) and without `signature`.
pub fn record(input: &RecordInput<'_>) -> Value {
    let mut m = Map::new();
    m.insert("timestamp".into(), json!(input.timestamp));
    let template = input.request.query_template.clone();
    if let Some(r1) = input.r1 {
        m.insert("seed_names_with_labels".into(), serde_json::to_value(&r1.identities).unwrap_or_default());
        m.insert("seed_names".into(), json!(r1.identities.iter().map(|i| &i.name).collect::<Vec<_>>()));
        m.insert("seed_addresses".into(), json!(r1.identities.iter().map(|i| &i.address).collect::<Vec<_>>()));
        m.insert("seed_dob".into(), json!(r1.identities.iter().map(|i| &i.dob).collect::<Vec<_>>()));
        m.insert("query_template".into(), json!(template));
        m.insert("query_labels".into(), r1.labels.to_json());
        let full = template.clone().unwrap_or_default();
        let formatted: Map<String, Value> = r1
            .identities
            .iter()
            .map(|i| {
                // V11: only the UAV seed gets the full template.
                let t = if i.uav { &full } else { &r1.base_template };
                (
                    i.name.clone(),
                    json!({"query": t.replace("{name}", &i.name),
                           "identity": {"name": i.name, "dob": i.dob, "address": i.address}}),
                )
            })
            .collect();
        m.insert("formatted_queries".into(), Value::Object(formatted));
        let g = &r1.generation;
        m.insert(
            "query_generation".into(),
            json!({"use_default_query": g.mode == crate::query::TemplateMode::DefaultQuery,
                   "configured_model": g.model_used, "model_used": g.model_used, "timeout_used": null,
                   "generation_time": g.generation_time, "generation_decision": g.decision,
                   "final_template": template, "mode": g.mode}),
        );
        m.insert(
            "query_validation".into(),
            json!({"judge_enabled": false, "judge_model_used": null, "static_issues": g.static_issues,
                   "judge_issues": [], "final_issues": g.final_issues, "validation_decision": "unknown",
                   "validation_summary": {"static_checks_passed": g.static_issues.is_empty(), "judge_was_used": false,
                                          "judge_found_issues": false, "final_issues_count": g.final_issues.len(),
                                          "template_has_hints": g.template_has_hints}}),
        );
    } else {
        m.insert("query_template".into(), json!(template));
    }
    m.insert(
        "request_synapse".into(),
        json!({"identity": input.request.identity, "query_template": template, "dendrite_timeout": input.timeout}),
    );
    m.insert("uav_data".into(), uav_data(input));
    m.insert("phase4_image_data".into(), image_data(input));
    let mut responses = Map::new();
    for (i, r) in input.results.iter().enumerate() {
        let axon = input.metagraph.by_uid(r.uid).map(|n| {
            json!({"ip": n.axon.ip, "port": n.axon.port, "hotkey": n.hotkey, "coldkey": n.coldkey,
                   "version": 0, "protocol": 4, "is_serving": n.axon.is_serving()})
        });
        let error = if r.variations.is_some() && !r.default_answer {
            Value::Null
        } else {
            json!({"status_code": r.status_code, "status_message": r.status_message})
        };
        let metrics = input.output.and_then(|o| o.per_miner.get(i)).map(|m| m.to_json());
        responses.insert(
            r.uid.to_string(),
            json!({"uid": r.uid, "hotkey": r.hotkey, "axon": axon,
                   "response_time": if r.default_answer { Value::Null } else { json!(r.process_time) },
                   "variations": r.variations, "error": error, "scoring_details": metrics}),
        );
    }
    m.insert("responses".into(), Value::Object(responses));
    let rewards: Map<String, Value> = input
        .reward_uids
        .iter()
        .zip(input.rewards)
        .take(input.queried.len())
        .map(|(u, r)| (u.to_string(), json!(r)))
        .collect();
    m.insert("rewards".into(), Value::Object(rewards));
    let by_uid: Map<String, Value> = input
        .scores
        .iter()
        .enumerate()
        .map(|(uid, s)| {
            let hotkey = input.metagraph.by_uid(uid as u16).map(|n| n.hotkey.clone());
            (
                uid.to_string(),
                json!({"uid": uid, "hotkey": hotkey, "score": s, "was_queried": input.queried.contains(&(uid as u16))}),
            )
        })
        .collect();
    m.insert(
        "metagraph_scores".into(),
        json!({"timestamp": input.timestamp, "total_miners": input.scores.len(), "scores_by_uid": by_uid}),
    );
    let allocation = if input.uav_grading {
        json!({
            "rep_snapshot_version": input.rep_version,
            "cycle_id": format!("cycle_{}", input.timestamp),
            "pending_count": input.allocations.len(),
            "allocations": input.allocations,
        })
    } else {
        json!({"enabled": false, "note": "UAV_grading disabled - using KAV-only scoring"})
    };
    m.insert("reward_allocation".into(), allocation);
    Value::Object(m)
}

/// This round's reward allocation (the reputation stage's per-miner metrics), if any.
pub fn allocation(timestamp: &str, rep_version: Option<&str>, output: Option<&RoundOutput>) -> Option<Value> {
    let rep = output?.reputation.as_ref()?;
    Some(json!({"timestamp": timestamp, "rep_snapshot_version": rep_version,
                "miners": serde_json::to_value(&rep.metrics).unwrap_or_default()}))
}
