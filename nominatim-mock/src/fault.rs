//! Fault injection: the ways the public Nominatim misbehaves towards a validator (usage-policy
//! rate limits, overloaded 5xx, slow answers, blocked clients), on demand and reproducibly.
//!
//! The validator's address grading turns errors and timeouts into a different score path
//! (Photon fallback, 0.3), so scenarios need to make them happen on purpose: either with a
//! probability (seeded, so a run repeats) or with a fixed per-request schedule.

use std::str::FromStr;
use std::time::Duration;

/// What to do with one geocoding request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer normally.
    Pass,
    /// Answer with this HTTP status and a small HTML body, like Nominatim's front end.
    Status(u16),
    /// Wait this long, then answer normally (client timeouts: the validator gives up at 5 s).
    Delay(Duration),
}

impl FromStr for FaultAction {
    type Err = String;

    /// `ok` | `pass` | `-` → [`FaultAction::Pass`]; a status `100`–`599`; `sleep:MS` (or
    /// `delay:MS`) → [`FaultAction::Delay`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        if matches!(s.as_str(), "ok" | "pass" | "-") {
            return Ok(FaultAction::Pass);
        }
        if let Some(ms) = s.strip_prefix("sleep:").or_else(|| s.strip_prefix("delay:")) {
            let ms: u64 = ms.trim_end_matches("ms").parse().map_err(|_| format!("bad delay in {s:?}"))?;
            return Ok(FaultAction::Delay(Duration::from_millis(ms)));
        }
        match s.parse::<u16>() {
            Ok(code) if (100..=599).contains(&code) => Ok(FaultAction::Status(code)),
            _ => Err(format!("unknown fault action {s:?} (want ok, a status 100-599, or sleep:MS)")),
        }
    }
}

/// Parses a comma-separated schedule such as `ok,429,503,sleep:6000`.
pub fn parse_schedule(s: &str) -> Result<Vec<FaultAction>, String> {
    s.split(',').filter(|t| !t.trim().is_empty()).map(FaultAction::from_str).collect()
}

/// Fault settings. The default injects nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Chance (0..=1) that a request is answered `429 Too Many Requests`.
    pub rate_limit_probability: f64,
    /// Chance (0..=1) that a request is answered with [`Faults::server_error_status`].
    pub server_error_probability: f64,
    /// The 5xx used for random server errors (default 503).
    pub server_error_status: u16,
    /// Per-request actions, in arrival order of geocoding requests. While the schedule has an
    /// entry for a request it wins over the probabilities.
    pub schedule: Vec<FaultAction>,
    /// Start the schedule over when it runs out (otherwise probabilities apply afterwards).
    pub repeat_schedule: bool,
    /// Added to every geocoding answer (faulted ones too).
    pub latency: Duration,
    /// Plus a uniformly random extra delay up to this.
    pub latency_jitter: Duration,
    /// Nominatim's usage policy: answer `403` to requests without a non-empty `User-Agent`.
    pub require_user_agent: bool,
    /// `403` to requests whose `User-Agent` contains any of these (case-insensitive), the way
    /// the public service blocks stock library agents.
    pub blocked_user_agents: Vec<String>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rate_limit_probability: 0.0,
            server_error_probability: 0.0,
            server_error_status: 503,
            schedule: Vec::new(),
            repeat_schedule: false,
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            require_user_agent: false,
            blocked_user_agents: Vec::new(),
        }
    }
}

impl Faults {
    /// The action for the `n`-th (0-based) geocoding request, given a uniform draw `u` in
    /// [0, 1) for the probabilistic part.
    pub fn action_for(&self, n: u64, u: f64) -> FaultAction {
        if !self.schedule.is_empty() {
            let len = self.schedule.len() as u64;
            if n < len {
                return self.schedule[n as usize];
            }
            if self.repeat_schedule {
                return self.schedule[(n % len) as usize];
            }
        }
        if u < self.rate_limit_probability {
            FaultAction::Status(429)
        } else if u < self.rate_limit_probability + self.server_error_probability {
            FaultAction::Status(self.server_error_status)
        } else {
            FaultAction::Pass
        }
    }

    /// Whether a request with this `User-Agent` is refused by the usage-policy check.
    pub fn user_agent_blocked(&self, ua: Option<&str>) -> bool {
        let ua = ua.map(str::trim).unwrap_or("");
        if self.require_user_agent && ua.is_empty() {
            return true;
        }
        let lower = ua.to_ascii_lowercase();
        self.blocked_user_agents.iter().any(|b| !b.is_empty() && lower.contains(&b.to_ascii_lowercase()))
    }
}

/// SplitMix64: a tiny seeded generator, so "10% 429s" is the same 10% on every run.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_parses_and_wins_over_probabilities() {
        let f = Faults {
            schedule: parse_schedule("ok, 429,503,sleep:250").unwrap(),
            server_error_probability: 1.0,
            ..Faults::default()
        };
        assert_eq!(f.action_for(0, 0.5), FaultAction::Pass);
        assert_eq!(f.action_for(1, 0.5), FaultAction::Status(429));
        assert_eq!(f.action_for(2, 0.5), FaultAction::Status(503));
        assert_eq!(f.action_for(3, 0.5), FaultAction::Delay(Duration::from_millis(250)));
        // Exhausted, not repeating: probabilities take over.
        assert_eq!(f.action_for(4, 0.5), FaultAction::Status(503));
        let r = Faults { repeat_schedule: true, ..f };
        assert_eq!(r.action_for(5, 0.5), FaultAction::Status(429));
        assert!(parse_schedule("ok,700").is_err());
        assert!(parse_schedule("teapot").is_err());
    }

    #[test]
    fn probabilities_split_the_unit_interval() {
        let f = Faults {
            rate_limit_probability: 0.25,
            server_error_probability: 0.25,
            server_error_status: 502,
            ..Faults::default()
        };
        assert_eq!(f.action_for(0, 0.1), FaultAction::Status(429));
        assert_eq!(f.action_for(0, 0.3), FaultAction::Status(502));
        assert_eq!(f.action_for(0, 0.6), FaultAction::Pass);
    }

    #[test]
    fn user_agent_policy() {
        let f = Faults {
            require_user_agent: true,
            blocked_user_agents: vec!["python-requests".into()],
            ..Faults::default()
        };
        assert!(f.user_agent_blocked(None));
        assert!(f.user_agent_blocked(Some("  ")));
        assert!(f.user_agent_blocked(Some("Python-Requests/2.32")));
        assert!(!f.user_agent_blocked(Some("openstreet address")));
        assert!(!Faults::default().user_agent_blocked(None));
    }

    #[test]
    fn splitmix_is_seeded_and_uniformish() {
        let mut a = SplitMix64(7);
        let mut b = SplitMix64(7);
        let xs: Vec<f64> = (0..1000).map(|_| a.next_f64()).collect();
        assert!(xs.iter().zip((0..1000).map(|_| b.next_f64())).all(|(x, y)| *x == y));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((0.45..0.55).contains(&mean), "{mean}");
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    }
}
