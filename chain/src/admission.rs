//! Who may call a miner, and in which order (spec miner-protocol.md 3.1, 3.2).
//!
//! The reference miner admits a static whitelist of validator hotkeys and nothing else. We keep
//! that as the default (with the R2 list), make it configurable, and add gates an operator may
//! want: the caller must be registered, hold a validator permit, or hold a minimum stake. The
//! "open" mode drops the whitelist and keeps the gates (registered + permit + min stake) — what
//! a testnet or a local run needs, where validators are whoever the metagraph says they are.
//!
//! Every refusal answers bittensor's 403 `Unrecognized hotkey` (as the reference does for any
//! non-whitelisted key); the precise reason is in [`Refusal`] for the operator's log.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::Metagraph;

/// The reference's R2 whitelist (spec 3.1), with the operators' labels.
pub const R2_WHITELIST: &[(&str, &str)] = &[
    ("5Dvgtk1bqLycAyyc2VFKvAqmpvoQf5oWsD4qnu6vqbdWSL54", "RoundTable21"),
    ("5DUB7kNLvvx8Dj7D8tn54N1C7Xok6GodNPQE2WECCaL9Wgpr", "Yanez"),
    ("5GWzXSra6cBM337nuUU7YTjZQ6ewT2VakDpMj8Pw2i8v8PVs", "Yuma"),
    ("5HbUFHW4XVhbQvMbSy7WDjvhHb62nuYgP1XBsmmz9E2E2K6p", "OpenTensor"),
    ("5GQqAhLKVHRLpdTqRg1yc3xu7y47DicJykSpggE2GuDbfs54", "Rizzo"),
    ("5HK5tp6t2S59DywmHRWPBVJeJ86T61KjurYqeooqj8sREpeN", "Tensora"),
    ("5GMqiKcdq5WtHA4XaioRD29FL2UtJ8CW1MVQtYHyFsqzrrmM", "Kraken"),
    ("5GuPvuyKBJAWQbEGAkMbfRpG5qDqqhML8uDVSWoFjqcKKvDU", "Testnet_omar"),
    ("5CnkkjPdfsA6jJDHv2U6QuiKiivDuvQpECC13ffdmSDbkgtt", "Testnet_asem"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdmissionMode {
    /// Only listed hotkeys (then the optional gates).
    #[default]
    Whitelist,
    /// Any hotkey that is registered, holds a validator permit, and has the minimum stake.
    Open,
}

impl std::str::FromStr for AdmissionMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "whitelist" => Ok(AdmissionMode::Whitelist),
            "open" => Ok(AdmissionMode::Open),
            other => Err(format!("unknown blacklist mode {other:?} (expected whitelist or open)")),
        }
    }
}

/// Why a caller was refused. The wire answer is bittensor's blacklist message
/// ([`Refusal::wire_reason`]); `Display` is the operator-facing detail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("request carries no caller hotkey")]
    MissingHotkey,
    #[error("{0} is not on the whitelist")]
    NotWhitelisted(String),
    #[error("{0} is not registered on the subnet")]
    NotRegistered(String),
    #[error("{0} has no validator permit")]
    NoPermit(String),
    #[error("{hotkey} has {stake} TAO staked, below the minimum {min}")]
    LowStake { hotkey: String, stake: f64, min: f64 },
}

impl Refusal {
    /// The reason bittensor's blacklist answers with (`Forbidden. Key is blacklisted: {reason}.`).
    pub fn wire_reason(&self) -> &'static str {
        match self {
            Refusal::MissingHotkey => "Missing dendrite or hotkey",
            _ => "Unrecognized hotkey",
        }
    }
}

/// The admission policy.
#[derive(Debug, Clone)]
pub struct Admission {
    pub mode: AdmissionMode,
    pub whitelist: HashSet<String>,
    pub require_registered: bool,
    pub require_permit: bool,
    /// Minimum stake in TAO (0 = no minimum).
    pub min_stake: f64,
}

impl Default for Admission {
    /// The reference: R2 whitelist, no gates.
    fn default() -> Self {
        Admission {
            mode: AdmissionMode::Whitelist,
            whitelist: R2_WHITELIST.iter().map(|(k, _)| (*k).to_owned()).collect(),
            require_registered: false,
            require_permit: false,
            min_stake: 0.0,
        }
    }
}

impl Admission {
    /// Open mode: registered + validator permit + `min_stake`.
    pub fn open(min_stake: f64) -> Self {
        Admission {
            mode: AdmissionMode::Open,
            whitelist: HashSet::new(),
            require_registered: true,
            require_permit: true,
            min_stake,
        }
    }

    /// Decides on a caller from the current metagraph.
    pub fn check(&self, hotkey: Option<&str>, metagraph: &Metagraph) -> Result<(), Refusal> {
        let hotkey = hotkey.filter(|h| !h.is_empty()).ok_or(Refusal::MissingHotkey)?;
        if self.mode == AdmissionMode::Whitelist && !self.whitelist.contains(hotkey) {
            return Err(Refusal::NotWhitelisted(hotkey.to_owned()));
        }
        let open = self.mode == AdmissionMode::Open;
        let neuron = metagraph.by_hotkey(hotkey);
        if (open || self.require_registered || self.require_permit || self.min_stake > 0.0) && neuron.is_none() {
            return Err(Refusal::NotRegistered(hotkey.to_owned()));
        }
        if (open || self.require_permit) && !neuron.is_some_and(|n| n.validator_permit) {
            return Err(Refusal::NoPermit(hotkey.to_owned()));
        }
        let stake = neuron.map_or(0.0, |n| n.stake);
        if self.min_stake > 0.0 && stake < self.min_stake {
            return Err(Refusal::LowStake { hotkey: hotkey.to_owned(), stake, min: self.min_stake });
        }
        Ok(())
    }

    /// Priority of a caller: its stake in TAO, 0 when unknown (spec 3.2, deviating from the
    /// reference's 500 on unknown callers — Q4).
    pub fn priority(&self, hotkey: &str, metagraph: &Metagraph) -> f64 {
        metagraph.stake_of(hotkey)
    }
}

/// A sliding-window limit of requests per hotkey. Validators send about one request per hour
/// each (R2), so the default leaves plenty of room while stopping a flood from one key.
#[derive(Debug)]
pub struct RateLimiter {
    max: usize,
    window: Duration,
    seen: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        RateLimiter { max, window, seen: Mutex::new(HashMap::new()) }
    }

    /// Records a request from `hotkey` at `now`; `Err` with the retry delay when over the limit.
    pub fn check(&self, hotkey: &str, now: Instant) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let mut seen = self.seen.lock();
        if seen.len() > 10_000 {
            seen.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        let times = seen.entry(hotkey.to_owned()).or_default();
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() >= self.max {
            let retry = self.window.saturating_sub(now.duration_since(times[0]));
            return Err(retry);
        }
        times.push(now);
        Ok(())
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn window(&self) -> Duration {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    const YUMA: &str = "5GWzXSra6cBM337nuUU7YTjZQ6ewT2VakDpMj8Pw2i8v8PVs";

    fn graph() -> Metagraph {
        Metagraph::from_json(
            format!(
                r#"{{"netuid": 54, "block": 1, "neurons": [
            {{"uid": 0, "hotkey": "{ALICE}", "stake": 100.0, "validator_permit": true, "axon": {{"ip": "0.0.0.0", "port": 0}}}},
            {{"uid": 1, "hotkey": "{BOB}", "stake": 5.0, "validator_permit": false, "axon": {{"ip": "0.0.0.0", "port": 0}}}},
            {{"uid": 2, "hotkey": "{YUMA}", "stake": 9.0, "validator_permit": true, "axon": {{"ip": "0.0.0.0", "port": 0}}}}]}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn default_is_the_reference_whitelist() {
        let a = Admission::default();
        let m = graph();
        assert_eq!(a.check(Some(YUMA), &m), Ok(()));
        assert_eq!(a.check(Some(ALICE), &m), Err(Refusal::NotWhitelisted(ALICE.into())));
        assert_eq!(a.check(None, &m).unwrap_err().wire_reason(), "Missing dendrite or hotkey");
        assert_eq!(a.check(Some(ALICE), &m).unwrap_err().wire_reason(), "Unrecognized hotkey");
        // a whitelisted key need not be registered unless a gate says so
        let mut unregistered = m.clone();
        unregistered.neurons.retain(|n| n.hotkey != YUMA);
        let unregistered = Metagraph::new(54, 1, unregistered.neurons).unwrap();
        assert_eq!(a.check(Some(YUMA), &unregistered), Ok(()));
        let gated = Admission { require_registered: true, ..Admission::default() };
        assert_eq!(gated.check(Some(YUMA), &unregistered), Err(Refusal::NotRegistered(YUMA.into())));
    }

    #[test]
    fn open_mode_gates() {
        let m = graph();
        assert_eq!(Admission::open(0.0).check(Some(ALICE), &m), Ok(()));
        assert_eq!(Admission::open(0.0).check(Some(BOB), &m), Err(Refusal::NoPermit(BOB.into())));
        let eve = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
        assert_eq!(Admission::open(0.0).check(Some(eve), &m), Err(Refusal::NotRegistered(eve.into())));
        assert!(matches!(Admission::open(50.0).check(Some(YUMA), &m), Err(Refusal::LowStake { .. })));
        assert_eq!(Admission::open(50.0).check(Some(ALICE), &m), Ok(()));
    }

    #[test]
    fn priority_is_stake_and_zero_when_unknown() {
        let m = graph();
        assert_eq!(Admission::default().priority(ALICE, &m), 100.0);
        assert_eq!(Admission::default().priority("5Nobody", &m), 0.0);
    }

    #[test]
    fn rate_limit_slides() {
        let r = RateLimiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(r.check("a", t0).is_ok());
        assert!(r.check("a", t0 + Duration::from_secs(1)).is_ok());
        let retry = r.check("a", t0 + Duration::from_secs(2)).unwrap_err();
        assert_eq!(retry, Duration::from_secs(8));
        assert!(r.check("b", t0 + Duration::from_secs(2)).is_ok());
        assert!(r.check("a", t0 + Duration::from_secs(11)).is_ok());
    }
}
