//! Running a scenario: start the stack, inject faults, drive validator rounds, score them, keep
//! the moving-average scores and weights, check the assertions, and build the report.
//!
//! Reproducibility: every random choice the harness makes comes from the scenario seed — the
//! query (seeds, UAV seed, template), the miner sample, every honest answer, and the key of the
//! scorer's salted string hash. Timings, nonces and ports differ between runs; scores do not.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use miid_chain::Chain;
use miid_protocol::Hotkey;
use miid_protocol::synapse::Generation;
use miid_scoring::reputation::{BURN_UID, EMA_ALPHA, RepRecord, scores_to_weights, update_scores};
use miid_validator::{Dendrite, MinerResult, QueryRound, RoundConfig, query, round, score};

use crate::assertions::{AssertionResult, evaluate};
use crate::images::{FLAKY_REFUSALS, ImageMode, PipelineImages, SubmittedImages, flaky_front};
use crate::persona::{Board, PersonaConfig, PersonaForward, WireLayer, derive_seed};
use crate::spec::{FaultKind, FaultSpec, Forge, PersonaKind, ScenarioSpec, ServiceKind};
use crate::stack::{
    DrandService, LocalStack, MinerSetup, NominatimService, S3Service, SUBMISSION_BUCKET, Services, StackConfig,
    TaskEnd,
};
use miid_tlock::ChainKey;

/// One miner of the run.
#[derive(Debug, Clone, Serialize)]
pub struct MinerInfo {
    pub uid: u16,
    pub label: String,
    pub group: String,
    pub persona: PersonaKind,
    pub hotkey: String,
    /// forged-signature: the key its axon actually holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serving_hotkey: Option<String>,
}

/// One miner in one round.
#[derive(Debug, Clone, Serialize)]
pub struct MinerRound {
    pub uid: u16,
    pub label: String,
    pub status: i64,
    pub message: String,
    pub process_time: f64,
    /// Seeds and rows in the answer (0 without one).
    pub seeds: usize,
    pub rows: usize,
    /// The answer carried a UAV for the seed the query named.
    pub uav_sent: bool,
    /// The scorer accepted its UAV.
    pub uav_accepted: bool,
    pub base: f64,
    pub penalised: f64,
    pub kav: f64,
    pub final_reward: f64,
    /// Non-zero cheat-detector slots.
    pub penalties: BTreeMap<String, f64>,
    pub notes: Vec<String>,
    /// R2 with images: what post-validation made of its submissions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<ImageSummary>,
}

/// One miner's image submissions in one R2 round, after post-validation.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct ImageSummary {
    /// Objects the answer reported (primary and angle-2 each count).
    pub reported: usize,
    /// Objects post-validation checked (equal to `reported` unless something was lost).
    pub submitted: usize,
    /// Entries the request asked for.
    pub requested: usize,
    /// Objects that decrypted with the beacon's signature and went through the image checks.
    pub decrypted: usize,
    /// Objects that passed every check (post-validation's and the image checks').
    pub ok: usize,
    /// Lowest identity similarity to the seed among the decrypted objects (structural embedder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_identity: Option<f32>,
    /// Failure reason → count: the post-validator's reasons, plus the image checks' verdicts
    /// (`seed_duplicate`, `cross_miner_duplicate`, `undecodable`, `identity_below_floor`).
    pub failures: BTreeMap<String, usize>,
}

/// One validator round.
#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    pub round: u32,
    pub generation: Generation,
    pub uav_seed: Option<String>,
    pub seed_names: Vec<String>,
    /// The uids the validator sampled and queried.
    pub sampled: Vec<u16>,
    pub miners: Vec<MinerRound>,
    /// R1: scored with the reference scorer.
    pub scored: bool,
    pub burn: Option<f64>,
    pub burn_mode: Option<String>,
    /// Sum of the round's final reward vector (miners and the burn uid).
    pub final_sum: Option<f64>,
    /// Weight shares (uid → share of the emitted u16 weights) after this round.
    pub weight_shares: BTreeMap<u16, f64>,
    /// Each service as a client saw it just before the round was queried.
    pub services: BTreeMap<String, ServiceProbe>,
    /// R2: the beacon round the request targets.
    pub target_drand_round: Option<u64>,
    /// The scorer's full report of the round (per-miner metrics).
    pub scores: Option<serde_json::Value>,
    /// R2 with images: the post-validator's verdict on every reported object.
    pub image_checks: Vec<miid_validator::postval::SubmissionCheck>,
    pub seconds: f64,
}

/// One service probed over HTTP, as its clients would reach it.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceProbe {
    pub up: bool,
    /// What answered: the drand chain hash, the S3 status of a canary PUT, the geocoder's status.
    pub detail: String,
}

/// Probes the running services: drand `GET /info` (its chain hash), s3 an anonymous PUT of a
/// canary object into the public-write bucket, nominatim `GET /search`.
async fn probe_services(services: &Services, round: u32) -> BTreeMap<String, ServiceProbe> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("a plain HTTP client always builds");
    let mut out = BTreeMap::new();
    let outcome = |r: Result<reqwest::Response, reqwest::Error>| match r {
        Ok(resp) => (resp.status().is_success(), Some(resp), String::new()),
        Err(e) => (false, None, format!("unreachable: {e}")),
    };
    if let Some(d) = &services.drand {
        let (up, resp, err) = outcome(http.get(format!("{}/info", d.url())).send().await);
        let detail = match resp {
            Some(r) => match r.json::<serde_json::Value>().await {
                Ok(v) => format!("chain {}", v["hash"].as_str().unwrap_or("?")),
                Err(e) => format!("bad /info: {e}"),
            },
            None => err,
        };
        out.insert("drand".to_owned(), ServiceProbe { up, detail });
    }
    if let Some(s) = &services.s3 {
        let url = format!("{}/{}/scenario-canary/round-{round}", s.endpoint(), crate::stack::SUBMISSION_BUCKET);
        let (up, resp, err) = outcome(http.put(url).body(format!("round {round}")).send().await);
        let detail = resp.map_or(err, |r| format!("canary PUT {}", r.status().as_u16()));
        out.insert("s3".to_owned(), ServiceProbe { up, detail });
    }
    if let Some(n) = &services.nominatim {
        let url = format!("{}/search?q=Paris%2C%20France&format=json", n.base_url());
        let (up, resp, err) = outcome(http.get(url).send().await);
        let detail = resp.map_or(err, |r| format!("search {}", r.status().as_u16()));
        out.insert("nominatim".to_owned(), ServiceProbe { up, detail });
    }
    out
}

/// A fault as it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    pub round: u32,
    pub kind: FaultKind,
    pub target: String,
    pub outcome: String,
}

/// How a server task ended.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    pub name: String,
    pub end: TaskEnd,
    /// Crashes seen during the run (a stopped-and-restarted task may have crashed before).
    pub crashes: Vec<String>,
    /// Down at the end because a fault stopped it (and nothing restarted it).
    pub stopped_by_fault: bool,
}

/// The emitted weights after the last scored round.
#[derive(Debug, Clone, Serialize, Default)]
pub struct WeightsReport {
    pub uids: Vec<u16>,
    pub weights: Vec<u16>,
    pub shares: BTreeMap<u16, f64>,
    pub burn_share: f64,
    pub sum: f64,
}

/// What `scenarios run` writes to `report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub spec: ScenarioSpec,
    pub miners: Vec<MinerInfo>,
    pub rounds: Vec<RoundReport>,
    pub faults: Vec<FaultEvent>,
    pub tasks: Vec<TaskReport>,
    pub weights: WeightsReport,
    pub assertions: Vec<AssertionResult>,
    pub passed: bool,
    pub seconds: f64,
    /// The scored rounds the validator's durable state counts, in order (its history): equal to
    /// the scored rounds of `rounds` when no round was lost or doubled across restarts.
    pub committed_rounds: Vec<u64>,
    /// honest-llm: chat completions the fake model server answered (the miner asks the model
    /// only when its rules parse of the query is unsure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_calls: Option<u64>,
}

impl RunReport {
    pub fn label(&self, uid: u16) -> String {
        self.miners.iter().find(|m| m.uid == uid).map_or_else(|| format!("uid {uid}"), |m| m.label.clone())
    }
}

/// Builds the miners' behaviour layers from the spec.
async fn setups(spec: &ScenarioSpec, services: &Services) -> Result<(Vec<MinerSetup>, Vec<MinerInfo>), anyhow::Error> {
    let board = Arc::new(Board::default());
    let labels = spec.labels();
    let mut copy_index: BTreeMap<usize, usize> = BTreeMap::new();
    let mut setups = Vec::new();
    let mut infos = Vec::new();
    for (i, (label, g)) in labels.iter().enumerate() {
        let uid = i as u16 + 1;
        let group = &spec.miners[*g];
        let copy_uid = match &group.copy {
            Some(sel) => {
                let targets = spec.select(sel).map_err(anyhow::Error::msg)?;
                let k = copy_index.entry(*g).or_default();
                let t = targets[*k % targets.len()];
                *k += 1;
                Some(t)
            }
            None => None,
        };
        let config = PersonaConfig {
            kind: group.persona,
            uid,
            seed: spec.seed,
            group: *g,
            variations: group.variations,
            copy_uid,
            ratio: group.ratio.unwrap_or(1.0),
            extra_delay: group.extra_delay.unwrap_or(1.0),
        };
        let layer = Arc::new(WireLayer::default());
        if group.persona == PersonaKind::MalformedJson {
            layer.set_malformed(true);
        }
        let serving_key = match group.persona {
            PersonaKind::ForgedSignature if group.forge != Some(Forge::Images) => {
                Some(Hotkey::from_uri(&format!("//Forger{uid}"))?)
            }
            _ => None,
        };
        infos.push(MinerInfo {
            uid,
            label: label.clone(),
            group: group.group_name(),
            persona: group.persona,
            hotkey: Hotkey::from_uri(&format!("//Miner{uid}"))?.ss58().to_owned(),
            serving_hotkey: serving_key.as_ref().map(|k| k.ss58().to_owned()),
        });
        let mut forward = PersonaForward::new(config, board.clone());
        if group.persona == PersonaKind::HonestLlm {
            let llm = services.llm.as_ref().ok_or_else(|| anyhow::anyhow!("honest-llm needs the fake model server"))?;
            forward = forward.with_model(llm.client(std::time::Duration::from_secs(10)));
        }
        let mode = match group.persona {
            PersonaKind::Honest => Some(ImageMode::Honest),
            PersonaKind::ImageDuplicate => Some(ImageMode::SeedDuplicate),
            PersonaKind::WrongDrandRound => Some(ImageMode::WrongRound),
            PersonaKind::S3Flaky => Some(ImageMode::Flaky),
            PersonaKind::ForgedSignature if group.forge == Some(Forge::Images) => Some(ImageMode::ForgedSignature),
            _ => None,
        };
        if let (Some(mode), true, Some(s3), Some(drand)) = (mode, spec.images_on(), &services.s3, &services.drand) {
            let endpoint = match mode {
                ImageMode::Flaky => format!("http://{}", flaky_front(s3.addr, FLAKY_REFUSALS).await?),
                _ => s3.endpoint(),
            };
            let beacon = ChainKey { public_key: drand.mock.public_key(), chain_hash: drand.mock.chain_hash() };
            let hotkey = Hotkey::from_uri(&format!("//Miner{uid}"))?;
            let images: Arc<dyn crate::persona::ImageBehaviour> = match mode {
                // Honest images, whatever goes wrong around them: the miner's own pipeline.
                ImageMode::Honest | ImageMode::Flaky | ImageMode::ForgedSignature => {
                    Arc::new(PipelineImages::new(mode, hotkey, &endpoint, SUBMISSION_BUCKET, beacon, spec.seed)?)
                }
                ImageMode::SeedDuplicate | ImageMode::WrongRound => {
                    Arc::new(SubmittedImages::new(mode, hotkey, &endpoint, SUBMISSION_BUCKET, beacon, spec.seed)?)
                }
            };
            forward = forward.with_images(images);
        }
        setups.push(MinerSetup { forward: Arc::new(forward), layer, serving_key });
    }
    Ok((setups, infos))
}

/// Runs `spec`; `progress` receives one line per event (round done, fault applied).
pub async fn run_scenario(spec: &ScenarioSpec, progress: &mut dyn FnMut(&str)) -> anyhow::Result<RunReport> {
    spec.validate().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let mut services = Services {
        nominatim: if spec.services.nominatim { Some(NominatimService::start().await?) } else { None },
        drand: if spec.services.drand {
            Some(DrandService::start(spec.beacon.period, spec.beacon.fast_forward).await?)
        } else {
            None
        },
        s3: if spec.services.s3 { Some(S3Service::start(None).await?) } else { None },
        llm: if spec.miners.iter().any(|g| g.persona == PersonaKind::HonestLlm) {
            Some(crate::llm::FakeChatServer::start().await?)
        } else {
            None
        },
    };
    let (setups, infos) = setups(spec, &services).await?;
    let axon = miid_miner::AxonConfig {
        rate_limit: spec.axon.rate_limit,
        rate_window: std::time::Duration::from_secs_f64(spec.axon.rate_window),
        work_slots: spec.axon.work_slots,
        ..miid_miner::AxonConfig::default()
    };
    let mut stack = LocalStack::start(StackConfig { setups, axon, ..StackConfig::default() }).await?;
    progress(&format!(
        "scenario {}: {} miners ({}), {} round(s) of {:?} over {}, seed {}",
        spec.name,
        infos.len(),
        spec.miners.iter().map(|g| format!("{}×{}", g.count, g.group_name())).collect::<Vec<_>>().join(", "),
        spec.rounds,
        spec.validator.generation,
        spec.validator.transport,
        spec.seed
    ));
    let mut killed = std::collections::BTreeSet::new();
    let result = drive(spec, &mut stack, &mut services, &infos, &mut killed, progress).await;
    // Crash check before anything is stopped, then tear down.
    let mut tasks = Vec::new();
    for m in &mut stack.miners {
        let end = m.server.check().await;
        let name = format!("miner {}", infos[m.uid as usize - 1].label);
        let stopped_by_fault = killed.contains(&name);
        let mut crashes = m.server.crashes.clone();
        let panics = m.layer.panics.load(std::sync::atomic::Ordering::Relaxed);
        if panics > 0 {
            let last = m.layer.last_panic.lock().clone().unwrap_or_default();
            crashes.push(format!("{panics} request handler panic(s), the last: {last}"));
        }
        tasks.push(TaskReport { name, end, crashes, stopped_by_fault });
    }
    if let Some(d) = &mut services.drand {
        let end = d.server.check().await;
        tasks.push(TaskReport {
            name: "drand-mock".into(),
            end,
            crashes: d.server.crashes.clone(),
            stopped_by_fault: killed.contains("drand-mock"),
        });
    }
    if let Some(n) = &services.nominatim {
        let end = if n.is_up() { TaskEnd::Running } else { TaskEnd::Stopped };
        tasks.push(TaskReport {
            name: "nominatim-mock".into(),
            end,
            crashes: n.crashes.clone(),
            stopped_by_fault: killed.contains("nominatim-mock"),
        });
    }
    if let Some(s) = &services.s3 {
        let end = if s.is_up() { TaskEnd::Running } else { TaskEnd::Stopped };
        tasks.push(TaskReport {
            name: "s3-mock".into(),
            end,
            crashes: Vec::new(),
            stopped_by_fault: killed.contains("s3-mock"),
        });
    }
    stack.shutdown().await;
    if let Some(n) = &mut services.nominatim {
        n.stop().await;
    }
    if let Some(d) = &mut services.drand {
        d.server.stop().await;
    }
    if let Some(s) = &mut services.s3 {
        s.stop().await;
    }
    let (rounds, faults, weights, committed_rounds) = result?;
    let mut report = RunReport {
        scenario: spec.name.clone(),
        description: spec.description.clone(),
        seed: spec.seed,
        spec: spec.clone(),
        miners: infos,
        rounds,
        faults,
        tasks,
        weights,
        assertions: Vec::new(),
        passed: true,
        seconds: 0.0,
        committed_rounds,
        model_calls: services.llm.as_ref().map(|l| l.calls()),
    };
    report.assertions = evaluate(spec, &report);
    report.passed = report.assertions.iter().all(|a| a.passed);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What the validator keeps between rounds: its connections (lost on a restart) and the
/// moving-average scores, committed after every scored round to validator-sim's durable state
/// ([`miid_validator::state`]: one `state.json`, replaced atomically) in a temporary state
/// directory, from which a restarted validator reloads them.
struct ValidatorState {
    dendrite: Arc<Dendrite>,
    /// Moving-average scores over uids 0..=59.
    ema: Vec<f64>,
    store: miid_validator::state::StateDir,
    /// What was last committed (a restart must find exactly this on disk).
    durable: miid_validator::state::ValidatorState,
    _dir: tempfile::TempDir,
}

impl ValidatorState {
    /// Commits a scored round: the new scores, one more completed round, and its summary.
    fn commit(
        &mut self,
        round: u32,
        hotkeys: &[String],
        output: &miid_scoring::round::RoundOutput,
        queried: usize,
        answered: usize,
    ) -> anyhow::Result<()> {
        let mut next = self.durable.clone();
        next.rounds_completed += 1;
        next.scores = self.ema.clone();
        next.hotkeys = hotkeys.to_vec();
        next.history.push(miid_validator::state::RoundSummary {
            round: u64::from(round),
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                .to_string(),
            uids: output.final_uids.clone(),
            rewards: output.final_rewards.clone(),
            answered,
            queried,
            weights_set: true,
            weights_error: None,
            results_file: String::new(),
        });
        self.store.save(&next)?;
        self.durable = next;
        Ok(())
    }
}

type Driven = (Vec<RoundReport>, Vec<FaultEvent>, WeightsReport, Vec<u64>);

async fn drive(
    spec: &ScenarioSpec,
    stack: &mut LocalStack,
    services: &mut Services,
    infos: &[MinerInfo],
    killed: &mut std::collections::BTreeSet<String>,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Driven> {
    let v = &spec.validator;
    let dendrite = Arc::new(Dendrite::new(stack.validator.clone(), "127.0.0.1", v.transport));
    // Moving-average scores over uids 0..=59 (the burn uid included), as the validator keeps them.
    let n_uids = (infos.len() + 1).max(BURN_UID as usize + 1);
    let dir = tempfile::tempdir()?;
    let store = miid_validator::state::StateDir::open(dir.path().join("validator"))?;
    let durable = store.load(stack.validator.ss58())?;
    let mut validator = ValidatorState { dendrite, ema: vec![0.0; n_uids], store, durable, _dir: dir };
    let mut weights = WeightsReport::default();
    let mut rounds = Vec::new();
    let mut events = Vec::new();
    let reputation: std::collections::HashMap<String, RepRecord> = infos
        .iter()
        .filter_map(|m| {
            let g = spec.miners.iter().find(|g| g.group_name() == m.group)?;
            let r = g.reputation.as_ref()?;
            Some((m.hotkey.clone(), RepRecord { rep_score: Some(r.score), rep_tier: r.tier.clone() }))
        })
        .collect();
    let hash_key = (derive_seed(spec.seed, &[b"hash-key-0"]), derive_seed(spec.seed, &[b"hash-key-1"]));
    for r in 1..=spec.rounds {
        let t0 = Instant::now();
        for f in spec.faults.iter().filter(|f| f.round == r) {
            let event = apply_fault(spec, f, stack, services, &mut validator, infos, killed).await;
            progress(&format!("round {r}: fault {:?} on {}: {}", event.kind, event.target, event.outcome));
            events.push(event);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(derive_seed(spec.seed, &[b"round", &r.to_le_bytes()]));
        let metagraph = stack.chain.metagraph().await?;
        let mut targets = round::targets(&metagraph, stack.validator.ss58());
        targets.shuffle(&mut rng);
        targets.truncate(v.sample_size);
        targets.sort_by_key(|(uid, _)| *uid);
        let sampled: Vec<u16> = targets.iter().map(|(u, _)| *u).collect();
        let config = RoundConfig {
            generation: v.generation,
            timeout: v.timeout,
            sample_size: targets.len().max(1),
            ..RoundConfig::default()
        };
        let (request, uav_seed, r1, target_round) = match v.generation {
            Generation::R1 => {
                let q = match v.templates {
                    crate::spec::Templates::Fallback => query::r1_query(v.seeds, v.variations, v.timeout, &mut rng),
                    crate::spec::Templates::Llm => {
                        // As `query::r1_query`, with validator-sim's offline query-writing LLM.
                        use rand::Rng as _;
                        let mut global = miid_scoring::rng::PyRandom::new(rng.random::<u64>() as u128);
                        let mut writer = miid_validator::template::CannedWriter::new(rng.random());
                        let opts = query::R1Options {
                            sample_size: v.seeds,
                            variation_count: Some(v.variations as u32),
                            mode: query::TemplateMode::Llm,
                            ..query::R1Options::default()
                        };
                        let mut cycle = 0;
                        query::build_r1(&opts, "", &mut global, &mut rng, Some(&mut writer), &mut cycle, v.timeout)
                    }
                };
                (q.synapse.clone(), q.uav_seed.clone(), Some(q), None)
            }
            Generation::R2 => {
                let (now, schedule) = match &services.drand {
                    Some(d) => (d.mock.clock().now(), d.mock.schedule()),
                    None => (
                        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs(),
                        miid_protocol::drand::Schedule::default(),
                    ),
                };
                // With images on, a synthetic portrait the miners' editors and identity gate can
                // work on (one per round); otherwise the spec's 1×1 example.
                let base = match spec.images_on() {
                    true => crate::images::portrait_b64(r),
                    false => query::TINY_PNG_B64.to_owned(),
                };
                let s = query::r2_query(
                    &base,
                    "a1b2c3d4e5f6_m_doc.png",
                    stack.validator.ss58(),
                    now,
                    schedule,
                    v.timeout,
                    &mut rng,
                );
                let target = s.image_request.as_ref().map(|i| i.target_drand_round);
                (s, None, None, target)
            }
        };
        let probes = probe_services(services, r).await;
        let results = round::query_miners(&validator.dendrite, targets, &request, &config).await;
        let max_uid = metagraph.neurons.iter().map(|n| n.uid as usize).max().unwrap_or(0);
        let mut hotkeys = vec![String::new(); max_uid + 1];
        for n in &metagraph.neurons {
            hotkeys[n.uid as usize] = n.hotkey.clone();
        }
        let qr = QueryRound { generation: v.generation, uav_seed: uav_seed.clone(), request, results, r1, hotkeys };
        let image_checks = if spec.images_on() { post_validate(spec, services, &qr).await? } else { Vec::new() };
        let seed_names: Vec<String> =
            qr.request.identity.iter().flatten().filter_map(|row| row.first().cloned()).collect();
        let mut miners: Vec<MinerRound> =
            qr.results.iter().map(|m| miner_round(m, infos, uav_seed.as_deref())).collect();
        if spec.images_on() {
            summarise_images(&mut miners, &qr, &image_checks);
        }
        let mut report = RoundReport {
            round: r,
            generation: v.generation,
            uav_seed,
            seed_names,
            sampled,
            miners: Vec::new(),
            scored: false,
            burn: None,
            burn_mode: None,
            final_sum: None,
            weight_shares: BTreeMap::new(),
            services: probes,
            target_drand_round: target_round,
            scores: None,
            image_checks,
            seconds: 0.0,
        };
        if let Some(mut round_spec) = qr.round_spec() {
            round_spec.reputation = reputation.clone();
            let url = services.nominatim.as_ref().map_or_else(|| "http://127.0.0.1:9".to_owned(), |n| n.base_url());
            let key = hash_key;
            let (output, json) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                // Photon is only asked when Nominatim fails; nothing listens on the discard port.
                let mut http = miid_validator::geocoder::HttpGeocoder::from_urls(&url, "http://127.0.0.1:9", false)?;
                let scored = score::score(
                    &round_spec,
                    Some(&mut http),
                    miid_scoring::rng::KeyedSeedSource::with_key(key.0, key.1),
                )?;
                Ok((scored.output.clone(), score::report_json(&round_spec, &scored)))
            })
            .await??;
            for (i, m) in miners.iter_mut().enumerate() {
                m.base = output.base_rewards[i];
                m.penalised = output.penalised_rewards[i];
                m.kav = output.kav_rewards[i];
                let pm = &output.per_miner[i];
                if let Some(c) = &pm.cheat {
                    m.penalties = c.nonzero_slots().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                }
                m.uav_accepted = output.uav_accepted.contains_key(&m.uid);
                m.notes = json["per_miner"][i]["notes"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
            }
            for (uid, reward) in output.final_uids.iter().zip(&output.final_rewards) {
                if let Some(m) = miners.iter_mut().find(|m| m.uid == *uid) {
                    m.final_reward = *reward;
                }
            }
            report.burn = output.final_uids.iter().rposition(|u| *u == BURN_UID).map(|i| output.final_rewards[i]);
            report.burn_mode = json["burn_mode"].as_str().map(str::to_owned);
            report.final_sum = Some(output.final_rewards.iter().sum());
            report.scored = true;
            update_scores(&mut validator.ema, &output.final_rewards, &output.final_uids, EMA_ALPHA)
                .map_err(|e| anyhow::anyhow!("moving-average update: {e}"))?;
            let answered = miners.iter().filter(|m| m.status == 200).count();
            validator.commit(r, &qr.hotkeys, &output, miners.len(), answered)?;
            weights = weights_report(&validator.ema);
            report.scores = Some(json);
        }
        report.weight_shares = weights.shares.clone();
        report.miners = miners;
        report.seconds = t0.elapsed().as_secs_f64();
        progress(&progress_line(spec, &report));
        rounds.push(report);
        if let Some(d) = &services.drand
            && spec.beacon.fast_forward
        {
            d.advance_rounds(spec.beacon.advance_rounds);
        }
    }
    let committed = validator.store.load(validator.durable.hotkey.as_str())?.history.iter().map(|h| h.round).collect();
    Ok((rounds, events, weights, committed))
}

/// Post-validates the round's image submissions as a validator would after the reveal: moves
/// the beacon's manual clock to the target round (fast-forward), then fetches each object from
/// s3-mock, decrypts it with drand-mock's signature, and checks hash, signature and PNG.
async fn post_validate(
    spec: &ScenarioSpec,
    services: &Services,
    qr: &QueryRound,
) -> anyhow::Result<Vec<miid_validator::postval::SubmissionCheck>> {
    use miid_validator::postval::{BeaconSource, Challenge, FetchConfig, MinerSubmissions, PostValidator};
    let (Some(drand), Some(s3), Some(img)) = (&services.drand, &services.s3, &qr.request.image_request) else {
        return Ok(Vec::new());
    };
    let miners: Vec<MinerSubmissions> = qr
        .results
        .iter()
        .filter_map(|m| {
            let subs = m.s3_submissions.clone().filter(|s| !s.is_empty())?;
            Some(MinerSubmissions { hotkey: m.hotkey.clone(), submissions: subs })
        })
        .collect();
    if miners.is_empty() {
        return Ok(Vec::new());
    }
    if spec.beacon.fast_forward
        && let Some(m) = &drand.manual
    {
        let t = drand.mock.schedule().time_of(img.target_drand_round);
        if m.now() < t {
            m.set(t);
        }
    }
    let beacon = match miid_tlock::client::Client::connect(&drand.url(), Some(drand.mock.chain_hash())).await {
        Ok(c) => BeaconSource::Drand { client: Arc::new(c), wait: std::time::Duration::from_secs(2) },
        // The beacon is down (a fault): nothing can be decrypted; say so per object.
        Err(_) => BeaconSource::Signatures {
            chain: ChainKey { public_key: drand.mock.public_key(), chain_hash: drand.mock.chain_hash() },
            signatures: Default::default(),
        },
    };
    let fetch = FetchConfig::private(&s3.endpoint(), SUBMISSION_BUCKET, &s3.config.access_key, &s3.config.secret_key);
    let mut pv = PostValidator::new(fetch, beacon)?;
    // The image checks (decode, seed and cross-miner duplicates, identity to the seed with the
    // structural embedder) when the base image is one they can read.
    use base64::Engine as _;
    if let Ok(seed) = base64::engine::general_purpose::STANDARD.decode(&img.base_image) {
        let embedder: Arc<dyn miid_faces::FaceEmbedder> = Arc::new(miid_faces::identity::StructuralEmbedder);
        match miid_validator::postval::ImageChecks::from_seed_file(seed, Some(embedder)) {
            Ok(checks) => pv = pv.with_image_checks(checks),
            Err(e) => tracing::warn!(error = %e, "base image does not decode; image checks off"),
        }
    }
    let challenge = Challenge {
        challenge_id: img.challenge_id.clone(),
        target_drand_round: img.target_drand_round,
        reveal_timestamp: img.reveal_timestamp,
    };
    Ok(pv.check_all(&challenge, &miners).await)
}

/// Per-miner image verdicts from the checks: the post-validator's failures, the image checks'
/// verdicts (`seed_duplicate`, `cross_miner_duplicate`, `undecodable`, `identity_below_floor`),
/// and the seed-duplicate check by hash for objects that did not decrypt (the plaintext hash the
/// miner reports equals the base image's).
fn summarise_images(miners: &mut [MinerRound], qr: &QueryRound, checks: &[miid_validator::postval::SubmissionCheck]) {
    use base64::Engine as _;
    let base_hash = qr
        .request
        .image_request
        .as_ref()
        .and_then(|i| base64::engine::general_purpose::STANDARD.decode(&i.base_image).ok())
        .map(|b| miid_protocol::body_hash::sha256_hex(&b));
    let requested = qr.request.image_request.as_ref().map_or(0, |i| i.variation_requests.len());
    for (m, result) in miners.iter_mut().zip(&qr.results) {
        let mut summary = ImageSummary { requested, ..ImageSummary::default() };
        let subs = result.s3_submissions.as_deref().unwrap_or_default();
        for s in subs {
            summary.reported += 1 + usize::from(s.s3_key_angle2.is_some());
        }
        for c in checks.iter().filter(|c| c.miner_hotkey == result.hotkey) {
            summary.submitted += 1;
            let mut reasons: Vec<String> = c
                .failures
                .iter()
                .map(|f| {
                    serde_json::to_value(f)
                        .ok()
                        .and_then(|v| v["reason"].as_str().map(str::to_owned))
                        .unwrap_or_else(|| "unknown".into())
                })
                .collect();
            match &c.image {
                Some(a) => {
                    summary.decrypted += 1;
                    if a.decode_error.is_some() {
                        reasons.push("undecodable".into());
                    }
                    if a.duplicate_of_seed {
                        reasons.push("seed_duplicate".into());
                    }
                    if !a.duplicate_of.is_empty() {
                        reasons.push("cross_miner_duplicate".into());
                    }
                    if a.score_hint == 0 && a.decode_error.is_none() {
                        reasons.push("identity_below_floor".into());
                    }
                    if let Some(sim) = a.identity_similarity {
                        summary.min_identity = Some(summary.min_identity.map_or(sim, |m: f32| m.min(sim)));
                    }
                }
                None => {
                    let hash = subs.get(c.index).map(|s| s.image_hash.as_str());
                    if base_hash.is_some() && hash == base_hash.as_deref() {
                        reasons.push("seed_duplicate".into());
                    }
                }
            }
            if reasons.is_empty() {
                summary.ok += 1;
            }
            for r in reasons {
                *summary.failures.entry(r).or_default() += 1;
            }
        }
        m.images = Some(summary);
    }
}

/// Local snapshot runs: `min_allowed_weights` 1 and `max_weight_limit` 1.0 (validator-round.md
/// 13.2), i.e. plain L1 normalisation of the non-zero scores.
fn weights_report(ema: &[f64]) -> WeightsReport {
    let (uids, weights) = scores_to_weights(ema, 1, 1.0);
    let total: f64 = weights.iter().map(|w| *w as f64).sum();
    let shares: BTreeMap<u16, f64> =
        uids.iter().zip(&weights).map(|(u, w)| (*u, if total > 0.0 { *w as f64 / total } else { 0.0 })).collect();
    let burn_share = shares.get(&BURN_UID).copied().unwrap_or(0.0);
    let sum = shares.values().sum();
    WeightsReport { uids, weights, shares, burn_share, sum }
}

fn miner_round(m: &MinerResult, infos: &[MinerInfo], uav_seed: Option<&str>) -> MinerRound {
    let label = infos.iter().find(|i| i.uid == m.uid).map_or_else(|| format!("uid {}", m.uid), |i| i.label.clone());
    let (seeds, rows) = m.variations.as_ref().map_or((0, 0), |v| (v.len(), v.values().map(|e| e.rows().len()).sum()));
    let uav_sent = matches!((uav_seed, &m.variations), (Some(s), Some(v)) if v.get(s).and_then(|e| e.uav()).is_some());
    MinerRound {
        uid: m.uid,
        label,
        status: m.status_code,
        message: m.status_message.clone(),
        process_time: m.process_time,
        seeds,
        rows,
        uav_sent,
        uav_accepted: false,
        base: 0.0,
        penalised: 0.0,
        kav: 0.0,
        final_reward: 0.0,
        penalties: BTreeMap::new(),
        notes: Vec::new(),
        images: None,
    }
}

fn progress_line(spec: &ScenarioSpec, r: &RoundReport) -> String {
    let mut statuses: BTreeMap<i64, usize> = BTreeMap::new();
    for m in &r.miners {
        *statuses.entry(m.status).or_default() += 1;
    }
    let answered = statuses.get(&200).copied().unwrap_or(0);
    let codes = statuses.iter().map(|(c, n)| format!("{c}×{n}")).collect::<Vec<_>>().join(" ");
    let mut line = format!(
        "round {}/{} {:?}: {answered}/{} answered [{codes}]",
        r.round,
        spec.rounds,
        r.generation,
        r.sampled.len()
    );
    let down: Vec<&str> = r.services.iter().filter(|(_, p)| !p.up).map(|(n, _)| n.as_str()).collect();
    if !down.is_empty() {
        line.push_str(&format!(", down: {}", down.join(" ")));
    }
    if r.scored {
        let best = r.miners.iter().max_by(|a, b| a.penalised.total_cmp(&b.penalised));
        let flagged = r.miners.iter().filter(|m| !m.penalties.is_empty()).count();
        line.push_str(&format!(
            ", burn {:.3} ({}), {flagged} miner(s) penalised",
            r.burn.unwrap_or(0.0),
            r.burn_mode.as_deref().unwrap_or("-")
        ));
        if let Some(b) = best {
            line.push_str(&format!(", best {} {:.3}", b.label, b.penalised));
        }
    } else if let Some(t) = r.target_drand_round {
        let (sub, ok) =
            r.miners.iter().filter_map(|m| m.images.as_ref()).fold((0, 0), |(s, o), i| (s + i.submitted, o + i.ok));
        line.push_str(&format!(
            ", images for beacon round {t}: {ok}/{sub} pass post-validation and image checks (not KAV-scored)"
        ));
    }
    line.push_str(&format!(" ({:.1} s)", r.seconds));
    line
}

async fn apply_fault(
    spec: &ScenarioSpec,
    f: &FaultSpec,
    stack: &mut LocalStack,
    services: &mut Services,
    validator: &mut ValidatorState,
    infos: &[MinerInfo],
    killed: &mut std::collections::BTreeSet<String>,
) -> FaultEvent {
    let target =
        f.miner.clone().or_else(|| f.service.map(|s| s.as_str().to_owned())).unwrap_or_else(|| "validator".into());
    let mut outcomes = Vec::new();
    let uids = f.miner.as_deref().map(|m| spec.select(m).unwrap_or_default()).unwrap_or_default();
    match f.kind {
        FaultKind::KillMiner | FaultKind::RestartMiner | FaultKind::Delay | FaultKind::Drop | FaultKind::Heal => {
            for uid in uids {
                let Some(m) = stack.miner_mut(uid) else { continue };
                let task = format!("miner {}", infos[uid as usize - 1].label);
                match f.kind {
                    FaultKind::KillMiner => {
                        killed.insert(task);
                    }
                    FaultKind::RestartMiner => {
                        killed.remove(&task);
                    }
                    _ => {}
                }
                let o = match f.kind {
                    FaultKind::KillMiner => {
                        m.kill().await;
                        format!("uid {uid} stopped (port {} closed)", m.port)
                    }
                    FaultKind::RestartMiner => match m.restart().await {
                        Ok(()) => format!("uid {uid} serving again on port {}", m.port),
                        Err(e) => format!("uid {uid} could not rebind port {}: {e}", m.port),
                    },
                    FaultKind::Delay => {
                        let s = f.seconds.unwrap_or(0.0);
                        m.layer.set_delay(s);
                        format!("uid {uid} answers {s} s late")
                    }
                    FaultKind::Drop => {
                        m.layer.set_drop(true);
                        format!("uid {uid} answers are cut on the wire")
                    }
                    _ => {
                        m.layer.heal();
                        format!("uid {uid} answers normally")
                    }
                };
                outcomes.push(o);
            }
        }
        FaultKind::KillService | FaultKind::RestartService => {
            let kill = f.kind == FaultKind::KillService;
            if let Some(s) = f.service {
                let task = format!("{}-mock", s.as_str());
                if kill {
                    killed.insert(task);
                } else {
                    killed.remove(&task);
                }
            }
            let o = match f.service {
                Some(ServiceKind::Nominatim) => match services.nominatim.as_mut() {
                    Some(n) if kill => {
                        n.stop().await;
                        format!("stopped ({} closed)", n.addr)
                    }
                    Some(n) => n
                        .restart()
                        .await
                        .map_or_else(|e| format!("restart failed: {e}"), |()| format!("serving again on {}", n.addr)),
                    None => "not running".into(),
                },
                Some(ServiceKind::Drand) => match services.drand.as_mut() {
                    Some(d) if kill => {
                        d.server.stop().await;
                        format!("stopped ({} closed)", d.server.addr)
                    }
                    Some(d) => d.restart().await.map_or_else(
                        |e| format!("restart failed: {e}"),
                        |()| format!("serving chain {} again on {}", &d.mock.chain_hash_hex()[..8], d.server.addr),
                    ),
                    None => "not running".into(),
                },
                Some(ServiceKind::S3) => match services.s3.as_mut() {
                    Some(s) if kill => {
                        s.stop().await;
                        format!("stopped ({} closed)", s.addr)
                    }
                    Some(s) => s
                        .restart()
                        .await
                        .map_or_else(|e| format!("restart failed: {e}"), |()| format!("serving again on {}", s.addr)),
                    None => "not running".into(),
                },
                None => "no service named".into(),
            };
            outcomes.push(o);
        }
        FaultKind::RestartValidator => {
            // A new process: new dendrite (uuid, connections), nothing kept in memory; the
            // moving average comes back from the state directory.
            let hotkey = validator.dendrite.hotkey().clone();
            validator.dendrite = Arc::new(Dendrite::new(hotkey.clone(), "127.0.0.1", spec.validator.transport));
            let n = validator.ema.len();
            validator.ema = vec![0.0; n];
            match validator.store.load(hotkey.ss58()) {
                Ok(loaded) => {
                    let same = loaded == validator.durable;
                    validator.ema[..loaded.scores.len().min(n)]
                        .copy_from_slice(&loaded.scores[..loaded.scores.len().min(n)]);
                    outcomes.push(format!(
                        "new dendrite; state reloaded from {}: {} round(s) completed, moving average continues{}",
                        validator.store.state_path().display(),
                        loaded.rounds_completed,
                        if same { "" } else { " (MISMATCH: the state on disk is not the last commit)" }
                    ));
                    validator.durable = loaded;
                }
                Err(e) => outcomes.push(format!("new dendrite; state NOT reloaded ({e}): moving average from zero")),
            }
        }
    }
    FaultEvent { round: f.round, kind: f.kind, target, outcome: outcomes.join("; ") }
}
