//! The scenario file format (TOML): what to start, who the miners are, what the validator asks,
//! what breaks when, and what must hold at the end. Every key is documented in
//! `scenarios/README.md`; unknown keys are errors, so a typo never silently changes a run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use miid_protocol::Scheme;
use miid_protocol::synapse::Generation;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read scenario file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{origin}: not a valid scenario file: {message}")]
    Toml { origin: String, message: String },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("unknown scenario {0:?}: not a file, and not one of the scenarios in scenarios/scenarios/ ({1})")]
    Unknown(String, String),
}

/// A whole scenario file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// Report folder name (`target/scenarios/NAME/`); default: the file stem.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seeds every random choice of the run (queries, sampling, miner answers, scoring hash key).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Validator rounds to run.
    #[serde(default = "one")]
    pub rounds: u32,
    #[serde(default)]
    pub services: Services,
    #[serde(default)]
    pub beacon: Beacon,
    #[serde(default)]
    pub validator: ValidatorSpec,
    #[serde(default)]
    pub axon: AxonSpec,
    /// Miner groups, in uid order (uids 1, 2, ... in file order).
    #[serde(default)]
    pub miners: Vec<MinerGroup>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default, rename = "assert")]
    pub assertions: Vec<AssertSpec>,
}

fn default_seed() -> u64 {
    54
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

/// Which local services to start besides the miners.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Services {
    /// nominatim-mock, the geocoder R1 scoring asks (default on).
    #[serde(default = "yes")]
    pub nominatim: bool,
    /// drand-mock (the beacon R2 timelocks target).
    #[serde(default)]
    pub drand: bool,
    /// s3-mock (the bucket R2 images go to), with a public-write bucket.
    #[serde(default)]
    pub s3: bool,
}

impl Default for Services {
    fn default() -> Self {
        Services { nominatim: true, drand: false, s3: false }
    }
}

/// The drand-mock's clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Beacon {
    /// Seconds between beacon rounds.
    #[serde(default = "three")]
    pub period: u64,
    /// Run the beacon on a manual clock and move it forward between rounds instead of waiting.
    #[serde(default = "yes")]
    pub fast_forward: bool,
    /// Beacon rounds to skip after each validator round when `fast_forward` is on.
    #[serde(default = "ten")]
    pub advance_rounds: u64,
}

fn three() -> u64 {
    3
}
fn ten() -> u64 {
    10
}

impl Default for Beacon {
    fn default() -> Self {
        Beacon { period: 3, fast_forward: true, advance_rounds: 10 }
    }
}

/// Every miner's axon settings (the miner library's defaults unless set).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxonSpec {
    /// Requests per validator hotkey per `rate_window` (0 = unlimited). A scenario that runs
    /// rounds back to back compresses hours into seconds and hits the default limit.
    #[serde(default = "rate_limit")]
    pub rate_limit: usize,
    /// Seconds.
    #[serde(default = "rate_window")]
    pub rate_window: f64,
    /// Requests worked on at once per miner.
    #[serde(default = "work_slots")]
    pub work_slots: usize,
}

fn rate_limit() -> usize {
    miid_miner::AxonConfig::default().rate_limit
}
fn rate_window() -> f64 {
    miid_miner::AxonConfig::default().rate_window.as_secs_f64()
}
fn work_slots() -> usize {
    miid_miner::AxonConfig::default().work_slots
}

impl Default for AxonSpec {
    fn default() -> Self {
        AxonSpec { rate_limit: rate_limit(), rate_window: rate_window(), work_slots: work_slots() }
    }
}

/// The validator-sim's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorSpec {
    /// `r1` (names, scored) or `r2` (images).
    #[serde(default = "r1", with = "generation")]
    pub generation: Generation,
    /// `v10`, `btauth` or `epistula`.
    #[serde(default = "v10", with = "scheme")]
    pub transport: Scheme,
    /// Seconds each miner gets per query.
    #[serde(default = "timeout")]
    pub timeout: f64,
    /// Miners sampled per round (reference: 250).
    #[serde(default = "sample")]
    pub sample_size: usize,
    /// R1 seed identities per query.
    #[serde(default = "five")]
    pub seeds: usize,
    /// R1 variations asked per seed.
    #[serde(default = "eight")]
    pub variations: usize,
    /// R1 query templates: the reference's template fallback, or LLM-written text (validator-sim's
    /// offline writer: paraphrases, sometimes dropping a requirement).
    #[serde(default)]
    pub templates: Templates,
}

/// How the validator words its R1 queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Templates {
    /// The template fallback (what a reference validator sends when its LLM is down).
    #[default]
    Fallback,
    /// LLM-written templates (validator-sim's `CannedWriter`).
    Llm,
}

fn r1() -> Generation {
    Generation::R1
}
fn v10() -> Scheme {
    Scheme::V10
}
fn timeout() -> f64 {
    30.0
}
fn sample() -> usize {
    250
}
fn five() -> usize {
    5
}
fn eight() -> usize {
    8
}

impl Default for ValidatorSpec {
    fn default() -> Self {
        ValidatorSpec {
            generation: Generation::R1,
            transport: Scheme::V10,
            timeout: 30.0,
            sample_size: 250,
            seeds: 5,
            variations: 8,
            templates: Templates::Fallback,
        }
    }
}

mod generation {
    use super::*;
    pub fn serialize<S: serde::Serializer>(g: &Generation, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match g {
            Generation::R1 => "r1",
            Generation::R2 => "r2",
        })
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Generation, D::Error> {
        match String::deserialize(d)?.to_ascii_lowercase().as_str() {
            "r1" => Ok(Generation::R1),
            "r2" => Ok(Generation::R2),
            other => Err(serde::de::Error::custom(format!("generation must be \"r1\" or \"r2\", got {other:?}"))),
        }
    }
}

mod scheme {
    use super::*;
    pub fn serialize<S: serde::Serializer>(t: &Scheme, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_string())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Scheme, D::Error> {
        match String::deserialize(d)?.to_ascii_lowercase().as_str() {
            "v10" => Ok(Scheme::V10),
            "btauth" | "btauth/1" => Ok(Scheme::BtAuth),
            "epistula" => Ok(Scheme::Epistula),
            other => Err(serde::de::Error::custom(format!(
                "transport must be \"v10\", \"btauth\" or \"epistula\", got {other:?}"
            ))),
        }
    }
}

/// The behaviours a miner can have (see `persona.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersonaKind {
    Honest,
    Lazy,
    Copycat,
    ColludingRing,
    SpecialChars,
    WrongUavSeed,
    Slow,
    MalformedJson,
    ForgedSignature,
    ImageDuplicate,
    WrongDrandRound,
    S3Flaky,
    HonestLlm,
}

impl PersonaKind {
    pub const ALL: &'static [PersonaKind] = &[
        PersonaKind::Honest,
        PersonaKind::Lazy,
        PersonaKind::Copycat,
        PersonaKind::ColludingRing,
        PersonaKind::SpecialChars,
        PersonaKind::WrongUavSeed,
        PersonaKind::Slow,
        PersonaKind::MalformedJson,
        PersonaKind::ForgedSignature,
        PersonaKind::ImageDuplicate,
        PersonaKind::WrongDrandRound,
        PersonaKind::S3Flaky,
        PersonaKind::HonestLlm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonaKind::Honest => "honest",
            PersonaKind::Lazy => "lazy",
            PersonaKind::Copycat => "copycat",
            PersonaKind::ColludingRing => "colluding-ring",
            PersonaKind::SpecialChars => "special-chars",
            PersonaKind::WrongUavSeed => "wrong-uav-seed",
            PersonaKind::Slow => "slow",
            PersonaKind::MalformedJson => "malformed-json",
            PersonaKind::ForgedSignature => "forged-signature",
            PersonaKind::ImageDuplicate => "image-duplicate",
            PersonaKind::WrongDrandRound => "wrong-drand-round",
            PersonaKind::S3Flaky => "s3-flaky",
            PersonaKind::HonestLlm => "honest-llm",
        }
    }

    /// Personas that only make sense with images: R2 rounds, drand-mock and s3-mock.
    pub fn is_image(self) -> bool {
        matches!(self, PersonaKind::ImageDuplicate | PersonaKind::WrongDrandRound | PersonaKind::S3Flaky)
    }

    /// The persona-specific keys a miner group may set.
    fn params(self) -> &'static [&'static str] {
        match self {
            PersonaKind::Lazy => &["variations"],
            PersonaKind::Copycat => &["copy"],
            PersonaKind::SpecialChars => &["ratio"],
            PersonaKind::Slow => &["extra_delay"],
            PersonaKind::ForgedSignature => &["forge"],
            _ => &[],
        }
    }
}

impl std::fmt::Display for PersonaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the forged-signature persona signs with the wrong key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forge {
    #[default]
    Axon,
    Images,
}

/// A reputation record the validator holds for a miner (hotkey → score and tier).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReputationSpec {
    pub score: f64,
    #[serde(default)]
    pub tier: Option<String>,
}

/// `count` miners with one persona. Miners are labelled `NAME-1`, `NAME-2`, ... (just `NAME`
/// when `count` is 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinerGroup {
    /// Group name (default: the persona). Assertions and faults name groups or single miners.
    #[serde(default)]
    pub name: String,
    pub persona: PersonaKind,
    #[serde(default = "one_usize")]
    pub count: usize,
    /// lazy: rows per seed (default 2).
    #[serde(default)]
    pub variations: Option<usize>,
    /// copycat: the group or miner whose answers it copies.
    #[serde(default)]
    pub copy: Option<String>,
    /// special-chars: share of name variations made symbol-heavy (default 1.0).
    #[serde(default)]
    pub ratio: Option<f64>,
    /// slow: seconds past the validator's timeout before it answers (default 1.0).
    #[serde(default)]
    pub extra_delay: Option<f64>,
    /// forged-signature: what is signed with the wrong key — `axon` (default: the axon holds
    /// another key than the registered one) or `images` (R2 submissions signed with another key).
    #[serde(default)]
    pub forge: Option<Forge>,
    /// The validator's reputation record for these miners (default: none, a new miner).
    #[serde(default)]
    pub reputation: Option<ReputationSpec>,
}

fn one_usize() -> usize {
    1
}

/// A local service a fault can stop and start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    Nominatim,
    Drand,
    S3,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Nominatim => "nominatim",
            ServiceKind::Drand => "drand",
            ServiceKind::S3 => "s3",
        }
    }
}

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Stop a miner's server (its port refuses connections).
    KillMiner,
    /// Start a killed miner again on the same port.
    RestartMiner,
    /// Stop a service.
    KillService,
    /// Start a killed service again on the same port, with the same state (key, data).
    RestartService,
    /// Hold a miner's answers back `seconds` before sending them.
    Delay,
    /// Cut a miner's connection instead of sending its answer.
    Drop,
    /// Back to normal answers (ends `delay` and `drop`).
    Heal,
    /// Restart the validator: a new dendrite, and the moving-average scores reloaded from its
    /// durable state directory.
    RestartValidator,
}

/// One fault, fired before the validator queries round `round` (1-based).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub round: u32,
    pub kind: FaultKind,
    /// Miner faults: a group or miner label.
    #[serde(default)]
    pub miner: Option<String>,
    /// Service faults.
    #[serde(default)]
    pub service: Option<ServiceKind>,
    /// `delay`: seconds.
    #[serde(default)]
    pub seconds: Option<f64>,
}

/// Which reward an assertion compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Base KAV reward (before cheat penalties).
    Base,
    /// After cheat penalties (before the rank cap).
    #[default]
    Penalised,
    /// After the rank cap.
    Kav,
    /// After the reputation stage (the round's final reward).
    Final,
    /// Share of the emitted weights after the last round.
    Weight,
}

/// What must hold at the end of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AssertSpec {
    /// Every miner of `higher` beats every miner of `lower` on `metric` (summed over rounds),
    /// by at least `margin`.
    RankAbove {
        higher: String,
        lower: String,
        #[serde(default)]
        metric: Metric,
        #[serde(default)]
        margin: f64,
    },
    /// Every miner of `miners` got penalty slot `penalty` (`collusion`, `duplication`,
    /// `signature_copy`, `special_chars`, `post_address_duplication`) of at least `min` in at
    /// least one round (in every scored round with `every_round`).
    Penalty {
        miners: String,
        penalty: String,
        #[serde(default = "tiny")]
        min: f64,
        #[serde(default)]
        every_round: bool,
    },
    /// No miner of `miners` got penalty `penalty` (any slot when absent) above `max` in any round.
    NoPenalty {
        miners: String,
        #[serde(default)]
        penalty: Option<String>,
        #[serde(default)]
        max: f64,
    },
    /// Every answer of `miners` had HTTP status `status` (in `rounds` when given).
    Status {
        miners: String,
        status: i64,
        #[serde(default)]
        rounds: Option<Vec<u32>>,
    },
    /// The validator accepted (or, with `accepted = false`, rejected) the UAV of `miners` in every
    /// round they answered.
    Uav { miners: String, accepted: bool },
    /// Each round's final rewards sum to 1, the emitted weights sum to 1, and the burn uid's
    /// weight share is `burn_share` (within `tolerance`) when given.
    Weights {
        #[serde(default)]
        burn_share: Option<f64>,
        #[serde(default = "tolerance")]
        tolerance: f64,
    },
    /// R2: every round, every miner of `miners` submitted images and all passed post-validation
    /// and none is the seed image (`valid = true`); or each had a failing one (`valid = false`),
    /// with failure `reason` when given (`missing`, `not_yet_revealed`, `bad_signature`,
    /// `seed_duplicate`, ... — the post-validator's reasons plus `seed_duplicate`).
    Images {
        miners: String,
        valid: bool,
        #[serde(default)]
        reason: Option<String>,
        /// `valid = true` only: image-check verdicts tolerated on otherwise valid objects (e.g.
        /// `cross_miner_duplicate`, which the classical editor's few random choices produce
        /// between honest miners).
        #[serde(default)]
        allow: Vec<String>,
    },
    /// The service answered its probe (`up = false`: did not) before each round listed (every
    /// round when `rounds` is absent). The drand probe also checks that the chain hash never
    /// changes across restarts.
    Service {
        service: ServiceKind,
        up: bool,
        #[serde(default)]
        rounds: Option<Vec<u32>>,
    },
    /// No server task (miner, service) panicked or ended unless a fault stopped it.
    NoCrash,
    /// Every sampled miner has a result each round, and every answer that arrived was scored.
    NothingLost,
    /// The honest-llm personas' model (the fake chat-completions server) answered at least `min`
    /// completions over the run: the miner's LLM path was taken, not only its rules parse.
    ModelCalls {
        #[serde(default = "one_call")]
        min: u64,
    },
}

fn one_call() -> u64 {
    1
}

fn tiny() -> f64 {
    1e-9
}
fn tolerance() -> f64 {
    1e-3
}

impl ScenarioSpec {
    /// Parses `text`; `origin` names it in errors, `stem` is the default name.
    pub fn parse(text: &str, origin: &str, stem: &str) -> Result<Self, SpecError> {
        let mut spec: ScenarioSpec =
            toml::from_str(text).map_err(|e| SpecError::Toml { origin: origin.to_owned(), message: e.to_string() })?;
        if spec.name.is_empty() {
            spec.name = stem.to_owned();
        }
        spec.validate().map_err(|message| SpecError::Invalid { origin: origin.to_owned(), message })?;
        Ok(spec)
    }

    /// Reads a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.to_owned(), source })?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("scenario");
        Self::parse(&text, &path.display().to_string(), stem)
    }

    /// Miner labels in uid order (uid = index + 1) with their group index.
    pub fn labels(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for (g, group) in self.miners.iter().enumerate() {
            let name = group.group_name();
            for i in 1..=group.count {
                out.push((if group.count == 1 { name.clone() } else { format!("{name}-{i}") }, g));
            }
        }
        out
    }

    /// The uids (1-based) a selector names: a group name (all its miners), a miner label, or `*`.
    pub fn select(&self, selector: &str) -> Result<Vec<u16>, String> {
        let labels = self.labels();
        if selector == "*" {
            return Ok((1..=labels.len() as u16).collect());
        }
        let by_group: Vec<u16> = labels
            .iter()
            .enumerate()
            .filter(|(_, (_, g))| self.miners[*g].group_name() == selector)
            .map(|(i, _)| i as u16 + 1)
            .collect();
        if !by_group.is_empty() {
            return Ok(by_group);
        }
        match labels.iter().position(|(l, _)| l == selector) {
            Some(i) => Ok(vec![i as u16 + 1]),
            None => Err(format!(
                "{selector:?} names no miner group or miner (groups: {}; miners: {})",
                self.miners.iter().map(MinerGroup::group_name).collect::<Vec<_>>().join(", "),
                labels.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// R2 rounds with drand-mock and s3-mock: miners submit images and the validator
    /// post-validates them.
    pub fn images_on(&self) -> bool {
        self.validator.generation == Generation::R2 && self.services.drand && self.services.s3
    }

    /// Does `[services]` start `s`?
    pub fn service_on(&self, s: ServiceKind) -> bool {
        match s {
            ServiceKind::Nominatim => self.services.nominatim,
            ServiceKind::Drand => self.services.drand,
            ServiceKind::S3 => self.services.s3,
        }
    }

    /// Checks what serde cannot: references, ranges, persona parameters, pending personas.
    pub fn validate(&self) -> Result<(), String> {
        if self.rounds == 0 {
            return Err("rounds must be at least 1".into());
        }
        if self.miners.is_empty() {
            return Err("at least one [[miners]] group is needed".into());
        }
        let total: usize = self.miners.iter().map(|g| g.count).sum();
        if total == 0 || total > 58 {
            return Err(format!(
                "between 1 and 58 miners are supported (uids 1..=58; 59 is the burn uid), got {total}"
            ));
        }
        if !(self.validator.timeout > 0.0 && self.validator.timeout.is_finite()) {
            return Err(format!(
                "validator.timeout must be a positive number of seconds, got {}",
                self.validator.timeout
            ));
        }
        if self.validator.sample_size == 0 || self.validator.seeds == 0 || self.validator.variations == 0 {
            return Err("validator.sample_size, seeds and variations must be at least 1".into());
        }
        if !(self.axon.rate_window > 0.0 && self.axon.rate_window.is_finite()) || self.axon.work_slots == 0 {
            return Err("axon.rate_window must be positive seconds and axon.work_slots at least 1".into());
        }
        if self.beacon.period == 0 {
            return Err("beacon.period must be at least 1 second".into());
        }
        let mut names = std::collections::HashSet::new();
        for g in &self.miners {
            let name = g.group_name();
            if !names.insert(name.clone()) {
                return Err(format!("two miner groups are named {name:?}; give one a `name`"));
            }
            if g.count == 0 {
                return Err(format!("miner group {name:?}: count must be at least 1"));
            }
            if (g.persona.is_image() || g.forge == Some(Forge::Images)) && !self.images_on() {
                return Err(format!(
                    "miner group {name:?}: persona {} submits images: it needs validator.generation = \"r2\" and [services] drand = true, s3 = true",
                    g.persona
                ));
            }
            let set: &[(&str, bool)] = &[
                ("variations", g.variations.is_some()),
                ("copy", g.copy.is_some()),
                ("ratio", g.ratio.is_some()),
                ("extra_delay", g.extra_delay.is_some()),
                ("forge", g.forge.is_some()),
            ];
            for (key, present) in set {
                if *present && !g.persona.params().contains(key) {
                    return Err(format!("miner group {name:?}: `{key}` is not a parameter of persona {}", g.persona));
                }
            }
            if g.persona == PersonaKind::Copycat {
                let Some(target) = &g.copy else {
                    return Err(format!("miner group {name:?}: a copycat needs `copy` (the group or miner it copies)"));
                };
                let uids = self.select(target).map_err(|e| format!("miner group {name:?}: copy: {e}"))?;
                let own = self.select(&name)?;
                if uids.iter().any(|u| own.contains(u)) {
                    return Err(format!("miner group {name:?}: a copycat cannot copy itself"));
                }
            }
            if let Some(r) = g.ratio
                && !(0.0..=1.0).contains(&r)
            {
                return Err(format!("miner group {name:?}: ratio must be between 0 and 1, got {r}"));
            }
            if g.variations == Some(0) {
                return Err(format!("miner group {name:?}: variations must be at least 1"));
            }
            if let Some(d) = g.extra_delay
                && !(d >= 0.0 && d.is_finite())
            {
                return Err(format!("miner group {name:?}: extra_delay must be a non-negative number, got {d}"));
            }
        }
        for f in &self.faults {
            if f.round == 0 || f.round > self.rounds {
                return Err(format!("fault {:?} at round {}: rounds are 1..={}", f.kind, f.round, self.rounds));
            }
            let miner_fault = matches!(
                f.kind,
                FaultKind::KillMiner | FaultKind::RestartMiner | FaultKind::Delay | FaultKind::Drop | FaultKind::Heal
            );
            let service_fault = matches!(f.kind, FaultKind::KillService | FaultKind::RestartService);
            match (&f.miner, miner_fault) {
                (Some(m), true) => {
                    self.select(m).map_err(|e| format!("fault {:?} at round {}: {e}", f.kind, f.round))?;
                }
                (None, true) => return Err(format!("fault {:?} at round {} needs `miner`", f.kind, f.round)),
                (Some(_), false) => return Err(format!("fault {:?} takes no `miner`", f.kind)),
                (None, false) => {}
            }
            match (f.service, service_fault) {
                (Some(s), true) => {
                    if !self.service_on(s) {
                        return Err(format!(
                            "fault {:?} at round {} targets service {} which [services] does not start",
                            f.kind,
                            f.round,
                            s.as_str()
                        ));
                    }
                }
                (None, true) => return Err(format!("fault {:?} at round {} needs `service`", f.kind, f.round)),
                (Some(_), false) => return Err(format!("fault {:?} takes no `service`", f.kind)),
                (None, false) => {}
            }
            match (f.kind, f.seconds) {
                (FaultKind::Delay, Some(s)) if s >= 0.0 && s.is_finite() => {}
                (FaultKind::Delay, _) => {
                    return Err(format!("fault delay at round {} needs `seconds` (non-negative)", f.round));
                }
                (_, Some(_)) => return Err(format!("fault {:?} takes no `seconds`", f.kind)),
                _ => {}
            }
        }
        for a in &self.assertions {
            let check = |sel: &str| self.select(sel).map(|_| ()).map_err(|e| format!("assertion {a:?}: {e}"));
            match a {
                AssertSpec::RankAbove { higher, lower, .. } => {
                    check(higher)?;
                    check(lower)?;
                }
                AssertSpec::Penalty { miners, penalty, .. } => {
                    check(miners)?;
                    check_slot(penalty)?;
                }
                AssertSpec::NoPenalty { miners, penalty, .. } => {
                    check(miners)?;
                    if let Some(p) = penalty {
                        check_slot(p)?;
                    }
                }
                AssertSpec::Status { miners, .. } | AssertSpec::Uav { miners, .. } => check(miners)?,
                AssertSpec::Images { miners, valid, allow, .. } => {
                    check(miners)?;
                    if !allow.is_empty() && !valid {
                        return Err("an images assertion's `allow` only applies with valid = true".into());
                    }
                    if !self.images_on() {
                        return Err(
                            "an images assertion needs R2 rounds with [services] drand = true, s3 = true".into()
                        );
                    }
                }
                AssertSpec::Service { service, .. } => {
                    if !self.service_on(*service) {
                        return Err(format!(
                            "assertion on service {} which [services] does not start",
                            service.as_str()
                        ));
                    }
                }
                AssertSpec::Weights { .. } | AssertSpec::NoCrash | AssertSpec::NothingLost => {}
                AssertSpec::ModelCalls { .. } => {
                    if !self.miners.iter().any(|g| g.persona == PersonaKind::HonestLlm) {
                        return Err("a model-calls assertion needs an honest-llm miner".into());
                    }
                }
            }
        }
        Ok(())
    }
}

/// The cheat detector's slot names (spec cheat-detection.md 11).
pub const PENALTY_SLOTS: &[&str] =
    &["collusion", "duplication", "signature_copy", "special_chars", "post_address_duplication"];

fn check_slot(p: &str) -> Result<(), String> {
    if PENALTY_SLOTS.contains(&p) {
        Ok(())
    } else {
        Err(format!("unknown penalty {p:?}; the detector's slots are {}", PENALTY_SLOTS.join(", ")))
    }
}

impl MinerGroup {
    pub fn group_name(&self) -> String {
        if self.name.is_empty() { self.persona.as_str().to_owned() } else { self.name.clone() }
    }
}

/// The scenario files shipped in `scenarios/scenarios/`, embedded so the binary and the tests
/// find them wherever they run.
pub const BUILTIN: &[(&str, &str)] = &[
    ("smoke", include_str!("../scenarios/smoke.toml")),
    ("smoke-r1", include_str!("../scenarios/smoke-r1.toml")),
    ("smoke-r2", include_str!("../scenarios/smoke-r2.toml")),
    ("smoke-btauth", include_str!("../scenarios/smoke-btauth.toml")),
    ("smoke-epistula", include_str!("../scenarios/smoke-epistula.toml")),
    ("default", include_str!("../scenarios/default.toml")),
    ("adversarial", include_str!("../scenarios/adversarial.toml")),
    ("faults", include_str!("../scenarios/faults.toml")),
    ("soak", include_str!("../scenarios/soak.toml")),
    ("images", include_str!("../scenarios/images.toml")),
    ("llm", include_str!("../scenarios/llm.toml")),
];

/// Loads `name_or_path`: an existing file path, else a built-in scenario by name.
pub fn load(name_or_path: &str) -> Result<ScenarioSpec, SpecError> {
    let path = Path::new(name_or_path);
    if path.is_file() {
        return ScenarioSpec::from_file(path);
    }
    match BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        Some((name, text)) => ScenarioSpec::parse(text, &format!("scenarios/scenarios/{name}.toml"), name),
        None => Err(SpecError::Unknown(
            name_or_path.to_owned(),
            BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ScenarioSpec, SpecError> {
        ScenarioSpec::parse(text, "test.toml", "test")
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let s = parse("[[miners]]\npersona = \"honest\"\ncount = 2\n").unwrap();
        assert_eq!(s.name, "test");
        assert_eq!(s.rounds, 1);
        assert_eq!(s.validator.generation, Generation::R1);
        assert!(s.services.nominatim && !s.services.s3);
        assert_eq!(s.labels(), vec![("honest-1".to_owned(), 0), ("honest-2".to_owned(), 0)]);
    }

    #[test]
    fn every_builtin_parses() {
        for (name, _) in BUILTIN {
            match load(name) {
                Ok(s) => assert_eq!(&s.name, name),
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }

    #[test]
    fn typos_and_bad_references_are_clear_errors() {
        let e = parse("rounds = 1\nroundz = 2\n[[miners]]\npersona = \"honest\"\n").unwrap_err().to_string();
        assert!(e.contains("roundz"), "{e}");
        let e = parse("[[miners]]\npersona = \"sneaky\"\n").unwrap_err().to_string();
        assert!(e.contains("sneaky"), "{e}");
        let e = parse("[[miners]]\npersona = \"copycat\"\ncopy = \"nobody\"\n").unwrap_err().to_string();
        assert!(e.contains("nobody"), "{e}");
        let e = parse("[[miners]]\npersona = \"honest\"\nvariations = 3\n").unwrap_err().to_string();
        assert!(e.contains("`variations` is not a parameter of persona honest"), "{e}");
        let e = parse("rounds = 2\n[[miners]]\npersona = \"honest\"\n[[faults]]\nround = 3\nkind = \"kill-miner\"\nminer = \"honest\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rounds are 1..=2"), "{e}");
        let e = parse(
            "[[miners]]\npersona = \"honest\"\n[[faults]]\nround = 1\nkind = \"kill-service\"\nservice = \"s3\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[services] does not start"), "{e}");
        let e = parse("[[miners]]\npersona = \"honest\"\n[[assert]]\nkind = \"penalty\"\nminers = \"honest\"\npenalty = \"greed\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown penalty \"greed\""), "{e}");
        let e = parse("[[miners]]\npersona = \"image-duplicate\"\n").unwrap_err().to_string();
        assert!(e.contains("submits images"), "{e}");
        let e = parse("[[miners]]\npersona = \"forged-signature\"\nforge = \"images\"\n").unwrap_err().to_string();
        assert!(e.contains("submits images"), "{e}");
        let e = parse("[[miners]]\npersona = \"honest\"\nforge = \"axon\"\n").unwrap_err().to_string();
        assert!(e.contains("`forge` is not a parameter of persona honest"), "{e}");
        assert!(parse("[[miners]]\npersona = \"honest-llm\"\n").is_ok(), "honest-llm loads");
    }

    #[test]
    fn axon_settings_default_to_the_miners_and_are_checked() {
        let s = parse("[[miners]]\npersona = \"honest\"\n").unwrap();
        assert_eq!(s.axon.rate_limit, miid_miner::AxonConfig::default().rate_limit);
        let s = parse("[axon]\nrate_limit = 0\n[[miners]]\npersona = \"honest\"\n").unwrap();
        assert_eq!(s.axon.rate_limit, 0);
        let e = parse("[axon]\nwork_slots = 0\n[[miners]]\npersona = \"honest\"\n").unwrap_err().to_string();
        assert!(e.contains("work_slots"), "{e}");
    }

    #[test]
    fn selectors_name_groups_and_single_miners() {
        let s = parse(
            "[[miners]]\npersona = \"honest\"\ncount = 2\n[[miners]]\nname = \"cc\"\npersona = \"copycat\"\ncopy = \"honest-1\"\n",
        )
        .unwrap();
        assert_eq!(s.select("honest").unwrap(), vec![1, 2]);
        assert_eq!(s.select("honest-2").unwrap(), vec![2]);
        assert_eq!(s.select("cc").unwrap(), vec![3]);
        assert_eq!(s.select("*").unwrap(), vec![1, 2, 3]);
        assert!(s.select("honest-3").is_err());
    }

    #[test]
    fn unknown_scenario_lists_the_builtins() {
        let e = load("no-such-scenario").unwrap_err().to_string();
        assert!(e.contains("smoke") && e.contains("adversarial"), "{e}");
    }
}
