//! # miid-scenarios — local MIID testnets
//!
//! [`stack::LocalStack`] starts miners (real axons on loopback sockets, real sr25519 keys) and a
//! validator identity over one in-memory metagraph; [`run`] drives a validator-sim round
//! against it, scores R1 rounds with the reference scorer ([`score_r1`]), and writes a report.
//! The scenarios are the built-in [`Scenario::BUILTIN`] ones (honest miners; R1, R2 and each
//! signing scheme); declarative scenario files and adversarial personas are the next layer on
//! the same launcher.

pub mod stack;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use miid_protocol::Scheme;
use miid_protocol::synapse::Generation;
use miid_validator::{Dendrite, QueryRound, QuerySpec, RoundConfig, query_round, round, score};

pub use stack::{LocalStack, StackConfig};

/// A built-in scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub miners: usize,
    pub generation: Generation,
    pub transport: Scheme,
    pub timeout: f64,
}

impl Scenario {
    /// The built-in scenarios by name.
    pub fn builtin(name: &str) -> Option<Scenario> {
        let base = |generation| Scenario {
            name: name.to_owned(),
            miners: 2,
            generation,
            transport: Scheme::V10,
            timeout: 30.0,
        };
        match name {
            "smoke" | "smoke-r1" => Some(base(Generation::R1)),
            "smoke-r2" => Some(base(Generation::R2)),
            "smoke-btauth" => Some(Scenario { transport: Scheme::BtAuth, ..base(Generation::R1) }),
            "smoke-epistula" => Some(Scenario { transport: Scheme::Epistula, ..base(Generation::R1) }),
            _ => None,
        }
    }

    pub const BUILTIN: &'static [&'static str] = &["smoke", "smoke-r1", "smoke-r2", "smoke-btauth", "smoke-epistula"];
}

/// What `scenarios run` writes to `report.json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub generation: Generation,
    pub transport: Scheme,
    pub miners: usize,
    pub round: QueryRound,
    /// Miners whose answer arrived and parsed (status 200).
    pub answered: usize,
    /// R1: the reference scorer's verdict on the round (KAV and final rewards, per-miner
    /// metrics), with addresses geocoded by a local nominatim-mock.
    pub scores: Option<serde_json::Value>,
}

/// Scores an R1 round as the reference validator would, geocoding against a local
/// nominatim-mock that answers street addresses at house precision. Returns the per-miner table
/// and the JSON report.
pub async fn score_r1(round: &QueryRound) -> anyhow::Result<Option<(String, serde_json::Value)>> {
    let Some(spec) = round.round_spec() else { return Ok(None) };
    let geocoder = nominatim_mock::spawn(nominatim_mock::Config {
        street_precision: nominatim_mock::StreetPrecision::SynthesizeHouse { bbox_side_m: 8.0 },
        ..Default::default()
    })
    .await?;
    let url = geocoder.base_url();
    // The HTTP geocoders block (as the scorer's Geocoder trait is synchronous): off the runtime.
    let scored = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        // Photon is only asked when Nominatim fails; nothing listens on the discard port.
        let mut http = miid_validator::geocoder::HttpGeocoder::from_urls(&url, "http://127.0.0.1:9", false)?;
        let scored = score::score(&spec, Some(&mut http), miid_scoring::rng::KeyedSeedSource::random())?;
        Ok((score::table(&spec, &scored), score::report_json(&spec, &scored)))
    })
    .await??;
    geocoder.stop().await?;
    Ok(Some(scored))
}

/// Runs `scenario` on a fresh local stack; returns the report and the table printed for it.
pub async fn run(scenario: &Scenario) -> anyhow::Result<(Report, String)> {
    let stack = LocalStack::start(StackConfig { miners: scenario.miners, ..StackConfig::default() }).await?;
    let dendrite = Arc::new(Dendrite::new(stack.validator.clone(), "127.0.0.1", scenario.transport));
    let config = RoundConfig { generation: scenario.generation, timeout: scenario.timeout, ..RoundConfig::default() };
    let r = query_round(stack.chain.as_ref(), dendrite, &config, &QuerySpec::default()).await;
    stack.shutdown().await;
    let r = r?;
    let mut table = round::table(&r.results, r.uav_seed.as_deref());
    let scores = match score_r1(&r).await? {
        Some((score_table, json)) => {
            table.push_str("\nWhat the reference validator would pay (KAV, then reputation stage):\n");
            table.push_str(&score_table);
            Some(json)
        }
        None => None,
    };
    let answered = r.results.iter().filter(|m| m.status_code == 200).count();
    let report = Report {
        scenario: scenario.name.clone(),
        generation: scenario.generation,
        transport: scenario.transport,
        miners: scenario.miners,
        round: r,
        answered,
        scores,
    };
    Ok((report, table))
}

/// `target/scenarios/NAME/` under the workspace target dir (or `CARGO_TARGET_DIR`).
pub fn report_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("scenarios").join(name)
}

/// Writes `report.json` into `dir`.
pub fn write_report(dir: &Path, report: &Report) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(report)?)?;
    Ok(path)
}
