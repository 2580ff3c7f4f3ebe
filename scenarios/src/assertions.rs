//! Checking what must hold after a run. Each assertion reads only the report, so a failed one
//! can be re-checked by hand from `report.json`.

use serde::Serialize;

use miid_scoring::reputation::BURN_UID;

use crate::run::{MinerRound, RunReport};
use crate::spec::{AssertSpec, Metric, ScenarioSpec};
use crate::stack::TaskEnd;

/// One assertion's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct AssertionResult {
    /// The assertion in words.
    pub description: String,
    pub passed: bool,
    /// What was measured (and, on failure, what broke it).
    pub detail: String,
}

fn metric_of(m: &MinerRound, metric: Metric) -> f64 {
    match metric {
        Metric::Base => m.base,
        Metric::Penalised => m.penalised,
        Metric::Kav => m.kav,
        Metric::Final => m.final_reward,
        Metric::Weight => 0.0,
    }
}

fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Base => "base reward",
        Metric::Penalised => "reward after cheat penalties",
        Metric::Kav => "KAV reward",
        Metric::Final => "final reward",
        Metric::Weight => "weight share",
    }
}

/// A miner's `metric` summed over the scored rounds (or its final weight share).
fn total(report: &RunReport, uid: u16, metric: Metric) -> f64 {
    if metric == Metric::Weight {
        return report.weights.shares.get(&uid).copied().unwrap_or(0.0);
    }
    report
        .rounds
        .iter()
        .filter(|r| r.scored)
        .flat_map(|r| r.miners.iter().filter(|m| m.uid == uid))
        .map(|m| metric_of(m, metric))
        .sum()
}

/// Evaluates every assertion of `spec` against `report`.
pub fn evaluate(spec: &ScenarioSpec, report: &RunReport) -> Vec<AssertionResult> {
    spec.assertions.iter().map(|a| evaluate_one(spec, report, a)).collect()
}

fn sel(spec: &ScenarioSpec, s: &str) -> Vec<u16> {
    spec.select(s).unwrap_or_default()
}

fn evaluate_one(spec: &ScenarioSpec, report: &RunReport, a: &AssertSpec) -> AssertionResult {
    let scored = report.rounds.iter().filter(|r| r.scored).count();
    match a {
        AssertSpec::RankAbove { higher, lower, metric, margin } => {
            let description =
                format!("every {higher} above every {lower} on {} (margin {margin})", metric_name(*metric));
            if scored == 0 && *metric != Metric::Weight {
                return AssertionResult { description, passed: false, detail: "no scored round".into() };
            }
            let hi: Vec<(u16, f64)> = sel(spec, higher).into_iter().map(|u| (u, total(report, u, *metric))).collect();
            let lo: Vec<(u16, f64)> = sel(spec, lower).into_iter().map(|u| (u, total(report, u, *metric))).collect();
            let min_hi = hi.iter().min_by(|a, b| a.1.total_cmp(&b.1)).copied();
            let max_lo = lo.iter().max_by(|a, b| a.1.total_cmp(&b.1)).copied();
            let (passed, detail) = match (min_hi, max_lo) {
                (Some(h), Some(l)) => (
                    h.1 > l.1 + margin,
                    format!(
                        "lowest {higher}: {} {:.4}; highest {lower}: {} {:.4}",
                        report.label(h.0),
                        h.1,
                        report.label(l.0),
                        l.1
                    ),
                ),
                _ => (false, "a side has no miners".into()),
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::Penalty { miners, penalty, min, every_round } => {
            let description = format!(
                "{miners} penalised for {penalty} (≥ {min}) in {} scored round",
                if *every_round { "every" } else { "some" }
            );
            let mut missing = Vec::new();
            let mut seen = Vec::new();
            for uid in sel(spec, miners) {
                let values: Vec<f64> = report
                    .rounds
                    .iter()
                    .filter(|r| r.scored)
                    .filter_map(|r| r.miners.iter().find(|m| m.uid == uid))
                    .map(|m| m.penalties.get(penalty).copied().unwrap_or(0.0))
                    .collect();
                let hits = values.iter().filter(|v| **v >= *min).count();
                let ok = if *every_round { !values.is_empty() && hits == values.len() } else { hits > 0 };
                let best = values.iter().copied().fold(0.0, f64::max);
                seen.push(format!("{} max {best:.3} in {hits}/{} rounds", report.label(uid), values.len()));
                if !ok {
                    missing.push(report.label(uid));
                }
            }
            let passed = missing.is_empty() && scored > 0;
            let detail = if passed {
                seen.join("; ")
            } else {
                format!("not penalised: {} ({})", missing.join(", "), seen.join("; "))
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::NoPenalty { miners, penalty, max } => {
            let what = penalty.as_deref().unwrap_or("any penalty");
            let description = format!("{miners} never penalised for {what} above {max}");
            let mut offenders = Vec::new();
            for r in report.rounds.iter().filter(|r| r.scored) {
                for uid in sel(spec, miners) {
                    if let Some(m) = r.miners.iter().find(|m| m.uid == uid) {
                        for (slot, v) in &m.penalties {
                            if penalty.as_deref().is_none_or(|p| p == slot) && v > max {
                                offenders.push(format!("{} round {}: {slot} {v:.3}", m.label, r.round));
                            }
                        }
                    }
                }
            }
            let passed = offenders.is_empty() && scored > 0;
            let detail = if scored == 0 {
                "no scored round".into()
            } else if passed {
                format!("checked {scored} scored round(s)")
            } else {
                offenders.join("; ")
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::Status { miners, status, rounds } => {
            let description = match rounds {
                Some(rs) => format!("{miners} answered with status {status} in rounds {rs:?}"),
                None => format!("{miners} answered with status {status} in every round"),
            };
            let uids = sel(spec, miners);
            let mut wrong = Vec::new();
            let mut checked = 0;
            for r in report.rounds.iter().filter(|r| rounds.as_ref().is_none_or(|rs| rs.contains(&r.round))) {
                for m in r.miners.iter().filter(|m| uids.contains(&m.uid)) {
                    checked += 1;
                    if m.status != *status {
                        wrong.push(format!("{} round {}: {} {}", m.label, r.round, m.status, m.message));
                    }
                }
            }
            let passed = wrong.is_empty() && checked > 0;
            let detail = if checked == 0 {
                "no answer of these miners in these rounds".into()
            } else if passed {
                format!("{checked} answer(s) checked")
            } else {
                wrong.join("; ")
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::Uav { miners, accepted } => {
            let description = format!("the UAV of {miners} is {}", if *accepted { "accepted" } else { "not accepted" });
            let uids = sel(spec, miners);
            let mut wrong = Vec::new();
            let mut checked = 0;
            for r in report.rounds.iter().filter(|r| r.scored) {
                for m in r.miners.iter().filter(|m| uids.contains(&m.uid) && m.status == 200) {
                    checked += 1;
                    if m.uav_accepted != *accepted {
                        wrong.push(format!(
                            "{} round {} (UAV sent for the named seed: {})",
                            m.label, r.round, m.uav_sent
                        ));
                    }
                }
            }
            let passed = wrong.is_empty() && checked > 0;
            let detail = if checked == 0 {
                "no scored answer of these miners".into()
            } else if passed {
                format!("{checked} answer(s) checked")
            } else {
                wrong.join("; ")
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::Weights { burn_share, tolerance } => {
            let description = match burn_share {
                Some(b) => {
                    format!("rewards and weights sum to 1; burn uid {BURN_UID} holds {b} (±{tolerance}) of the weight")
                }
                None => "rewards and weights sum to 1".to_owned(),
            };
            let mut problems = Vec::new();
            for r in report.rounds.iter().filter(|r| r.scored) {
                if let Some(s) = r.final_sum
                    && (s - 1.0).abs() > *tolerance
                {
                    problems.push(format!("round {} final rewards sum to {s:.6}", r.round));
                }
            }
            let w = &report.weights;
            if scored == 0 {
                problems.push("no scored round".into());
            } else if (w.sum - 1.0).abs() > *tolerance {
                problems.push(format!("weight shares sum to {:.6}", w.sum));
            }
            if let Some(b) = burn_share
                && (w.burn_share - b).abs() > *tolerance
            {
                problems.push(format!("burn share {:.6}", w.burn_share));
            }
            let passed = problems.is_empty();
            let detail = if passed {
                format!("weight shares sum to {:.6}; burn share {:.6}", w.sum, w.burn_share)
            } else {
                problems.join("; ")
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::Images { miners, valid, reason, allow } => {
            let description = match (valid, reason) {
                (true, _) if !allow.is_empty() => format!(
                    "every requested image of {miners} is submitted, decrypts and passes post-validation (tolerating {})",
                    allow.join(", ")
                ),
                (true, _) => {
                    format!("every requested image of {miners} is submitted, decrypts and passes post-validation")
                }
                (false, Some(r)) => format!("{miners} has images rejected for {r}"),
                (false, None) => format!("{miners} has images rejected"),
            };
            let uids = sel(spec, miners);
            let mut wrong = Vec::new();
            let mut checked = 0;
            for r in report.rounds.iter().filter(|r| r.target_drand_round.is_some()) {
                for m in r.miners.iter().filter(|m| uids.contains(&m.uid)) {
                    checked += 1;
                    let Some(i) = &m.images else {
                        wrong.push(format!("{} round {}: no image verdict", m.label, r.round));
                        continue;
                    };
                    let ok = if *valid {
                        // Every requested entry submitted, every object decrypted after the
                        // reveal and passing post-validation and the image checks.
                        i.submitted > 0
                            && i.submitted >= i.requested
                            && i.decrypted == i.submitted
                            && i.failures.keys().all(|f| allow.contains(f))
                            && (i.ok == i.submitted || !allow.is_empty())
                    } else {
                        match reason {
                            Some(reason) => i.failures.contains_key(reason),
                            None => !i.failures.is_empty(),
                        }
                    };
                    if !ok {
                        wrong.push(format!(
                            "{} round {}: {}/{} ok ({} requested, {} decrypted), failures {:?}",
                            m.label, r.round, i.ok, i.submitted, i.requested, i.decrypted, i.failures
                        ));
                    }
                }
            }
            let passed = wrong.is_empty() && checked > 0;
            let detail = if checked == 0 {
                "no R2 round with these miners".into()
            } else if passed {
                format!("{checked} miner-round(s) checked")
            } else {
                wrong.join("; ")
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::Service { service, up, rounds } => {
            let name = service.as_str();
            let description = format!(
                "{name} {} before {}",
                if *up { "up" } else { "down" },
                rounds.as_ref().map_or("every round".to_owned(), |r| format!("rounds {r:?}"))
            );
            let mut wrong = Vec::new();
            let mut chains = std::collections::BTreeSet::new();
            let mut checked = 0;
            for r in &report.rounds {
                let Some(p) = r.services.get(name) else { continue };
                if p.up && *service == crate::spec::ServiceKind::Drand {
                    chains.insert(p.detail.clone());
                }
                if rounds.as_ref().is_none_or(|rs| rs.contains(&r.round)) {
                    checked += 1;
                    if p.up != *up {
                        wrong.push(format!("round {}: {}", r.round, p.detail));
                    }
                }
            }
            if chains.len() > 1 {
                wrong.push(format!("the beacon changed across restarts: {chains:?}"));
            }
            let passed = wrong.is_empty() && checked > 0;
            let detail = if checked == 0 {
                "no probe of this service in these rounds".into()
            } else if passed {
                format!("{checked} probe(s) checked")
            } else {
                wrong.join("; ")
            };
            AssertionResult { description, passed, detail }
        }
        AssertSpec::ModelCalls { min } => {
            let calls = report.model_calls.unwrap_or(0);
            AssertionResult {
                description: format!("the honest-llm model answered at least {min} completion(s)"),
                passed: calls >= *min,
                detail: format!("{calls} chat completion(s) answered by the fake model server"),
            }
        }
        AssertSpec::NoCrash => {
            let crashed: Vec<String> = report
                .tasks
                .iter()
                .filter(|t| matches!(t.end, TaskEnd::Crashed { .. }) || !t.crashes.is_empty())
                .map(|t| format!("{}: {:?} {}", t.name, t.end, t.crashes.join(" / ")))
                .collect();
            // A task that is down at the end must have been stopped by a fault.
            let stopped_without_fault: Vec<String> = report
                .tasks
                .iter()
                .filter(|t| t.end == TaskEnd::Stopped && !t.stopped_by_fault)
                .map(|t| t.name.clone())
                .collect();
            let passed = crashed.is_empty() && stopped_without_fault.is_empty();
            let detail = if passed {
                format!("{} task(s) checked", report.tasks.len())
            } else {
                [crashed, stopped_without_fault.into_iter().map(|n| format!("{n} down without a fault")).collect()]
                    .concat()
                    .join("; ")
            };
            AssertionResult { description: "no server task crashed".into(), passed, detail }
        }
        AssertSpec::NothingLost => {
            let mut problems = Vec::new();
            for r in &report.rounds {
                let got: Vec<u16> = r.miners.iter().map(|m| m.uid).collect();
                if got != r.sampled {
                    problems.push(format!("round {}: sampled {:?}, results for {:?}", r.round, r.sampled, got));
                }
                if let Some(scores) = &r.scores {
                    let per_miner = scores["per_miner"].as_array().map_or(0, Vec::len);
                    if per_miner != r.miners.len() {
                        problems.push(format!("round {}: {} results but {per_miner} scored", r.round, r.miners.len()));
                    }
                    for (i, m) in r.miners.iter().enumerate() {
                        let empty = scores["per_miner"][i]["empty"].as_bool().unwrap_or(true);
                        if m.status == 200 && m.rows > 0 && empty {
                            problems.push(format!(
                                "round {}: {}'s answer arrived but was scored as empty",
                                r.round, m.label
                            ));
                        }
                    }
                } else if r.scored {
                    problems.push(format!("round {}: scored without a score report", r.round));
                }
                for m in &r.miners {
                    if let Some(i) = &m.images
                        && i.reported != i.submitted
                    {
                        problems.push(format!(
                            "round {}: {} reported {} image object(s), {} post-validated",
                            r.round, m.label, i.reported, i.submitted
                        ));
                    }
                }
            }
            let scored: Vec<u64> = report.rounds.iter().filter(|r| r.scored).map(|r| u64::from(r.round)).collect();
            if report.committed_rounds != scored {
                problems.push(format!(
                    "the validator's durable state counts rounds {:?}, the scored rounds are {scored:?} (lost or doubled)",
                    report.committed_rounds
                ));
            }
            let passed = problems.is_empty();
            let detail = if passed {
                format!(
                    "{} round(s): every sampled miner has a result, every answer was scored, every reported image checked",
                    report.rounds.len()
                )
            } else {
                problems.join("; ")
            };
            AssertionResult { description: "nothing lost between the miners and the scorer".into(), passed, detail }
        }
    }
}
