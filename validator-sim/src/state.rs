//! The validator's durable state and its round journal.
//!
//! Everything a restarted validator needs lives in one JSON file, `state.json`, in the state
//! directory: the moving-average scores and the hotkeys they belong to, the number of completed
//! rounds, the image-cycle position, the reputation snapshot, post-validations still waiting for
//! their reveal and the results of those already run, a summary of every round, and the
//! **journal** of the round in flight.
//!
//! Why one file: a round's effects (scores, history, pending post-validations, journal phase)
//! must become durable together; one atomic replace ([`write_atomic`]: temp file, fsync, rename,
//! fsync of the directory) gives that without a database. A crash leaves either the old or the
//! new file, never a mix.
//!
//! The journal makes a round idempotent across crashes:
//!
//! | Crash point | On disk | On restart |
//! |---|---|---|
//! | before the `Scored` commit (querying, scoring) | previous state | round `n` runs again from scratch (same number; nothing was counted) |
//! | after `Scored`, before weights were set | scores include round `n`; journal `Scored` with the planned weights | the planned weights are set (replay), journal cleared; round `n` is **not** re-scored |
//! | after weights were set, before the journal was cleared | same as above | the weights are set once more (idempotent on chain: same uids and values) |
//! | after the journal was cleared | complete | next round `n + 1` |

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use miid_protocol::synapse::S3Submission;
use miid_scoring::reputation::RepRecord;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid validator state ({why}); move it away to start fresh")]
    Corrupt { path: PathBuf, why: String },
    #[error("{path} belongs to validator {found}, not {expected}; use another --state-dir")]
    OtherValidator { path: PathBuf, found: String, expected: String },
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename over
/// `path`, fsync of the directory (so the rename itself survives a power loss).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The phase of the round in flight once its scores are durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Scores updated and saved; weights not (known to be) set.
    Scored,
}

/// The round in flight (see the module table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub round: u64,
    pub phase: Phase,
    /// The weights to set: uids and u16 values (13.2).
    pub uids: Vec<u16>,
    pub weights: Vec<u16>,
}

/// One submission batch waiting for its reveal (validator-round 11.3, post-validation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingPostval {
    pub round: u64,
    pub challenge_id: Option<String>,
    pub target_drand_round: u64,
    pub reveal_timestamp: i64,
    pub miners: Vec<PendingMiner>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingMiner {
    pub uid: u16,
    pub hotkey: String,
    pub submissions: Vec<S3Submission>,
}

/// The outcome of one round's post-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostvalRecord {
    pub round: u64,
    pub challenge_id: Option<String>,
    pub target_drand_round: u64,
    /// The beacon's latest round when the checks ran.
    pub beacon_round: u64,
    pub checked: usize,
    pub passed: usize,
    /// Per-submission verdicts (`postval::SubmissionCheck` as JSON).
    pub checks: Vec<serde_json::Value>,
}

/// What the history keeps of a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSummary {
    pub round: u64,
    pub timestamp: String,
    /// The final reward vector (queried uids in query order, then the burn uid) applied to the
    /// scores.
    pub uids: Vec<u16>,
    pub rewards: Vec<f64>,
    pub answered: usize,
    pub queried: usize,
    pub weights_set: bool,
    pub weights_error: Option<String>,
    /// The results record (relative to the state directory).
    pub results_file: String,
}

/// The reputation snapshot (kav-scoring 13.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reputation {
    pub version: Option<String>,
    pub records: HashMap<String, RepRecord>,
}

/// Everything durable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorState {
    pub format: u32,
    /// The validator hotkey (SS58) this state belongs to.
    pub hotkey: String,
    /// Completed rounds; the next round is `rounds_completed + 1`.
    pub rounds_completed: u64,
    pub scores: Vec<f64>,
    /// Hotkey per uid the scores belong to (1.5: a changed hotkey resets its score).
    pub hotkeys: Vec<String>,
    pub journal: Option<Journal>,
    /// The image cycle's `global_index` (9.2).
    pub image_cycle: u64,
    pub reputation: Reputation,
    pub pending_postval: Vec<PendingPostval>,
    pub postval_results: Vec<PostvalRecord>,
    pub history: Vec<RoundSummary>,
    /// Reward allocations not yet acknowledged by the upload server (14.1 `reward_allocation`).
    #[serde(default)]
    pub pending_allocations: Vec<serde_json::Value>,
}

impl ValidatorState {
    pub const FORMAT: u32 = 1;

    pub fn fresh(hotkey: &str) -> Self {
        ValidatorState {
            format: Self::FORMAT,
            hotkey: hotkey.to_owned(),
            rounds_completed: 0,
            scores: Vec::new(),
            hotkeys: Vec::new(),
            journal: None,
            image_cycle: 0,
            reputation: Reputation::default(),
            pending_postval: Vec::new(),
            postval_results: Vec::new(),
            history: Vec::new(),
            pending_allocations: Vec::new(),
        }
    }
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    pub dir: PathBuf,
}

impl StateDir {
    /// Creates the directory (and `results/`) if needed.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StateError> {
        let dir = dir.into();
        for d in [dir.clone(), dir.join("results")] {
            std::fs::create_dir_all(&d).map_err(|source| StateError::Io { what: "create", path: d.clone(), source })?;
        }
        Ok(StateDir { dir })
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The state, or a fresh one when there is none yet.
    pub fn load(&self, hotkey: &str) -> Result<ValidatorState, StateError> {
        let path = self.state_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ValidatorState::fresh(hotkey)),
            Err(source) => return Err(StateError::Io { what: "read", path, source }),
        };
        let state: ValidatorState = serde_json::from_slice(&bytes)
            .map_err(|e| StateError::Corrupt { path: path.clone(), why: e.to_string() })?;
        if state.format != ValidatorState::FORMAT {
            return Err(StateError::Corrupt { path, why: format!("unknown format {}", state.format) });
        }
        if state.hotkey != hotkey {
            return Err(StateError::OtherValidator { path, found: state.hotkey, expected: hotkey.to_owned() });
        }
        Ok(state)
    }

    /// Commits `state` atomically.
    pub fn save(&self, state: &ValidatorState) -> Result<(), StateError> {
        let path = self.state_path();
        let bytes = serde_json::to_vec_pretty(state).expect("the state serialises");
        write_atomic(&path, &bytes).map_err(|source| StateError::Io { what: "write", path, source })
    }

    /// Writes a round's results record atomically; returns its path relative to the directory.
    pub fn write_results(&self, round: u64, record: &serde_json::Value) -> Result<String, StateError> {
        let rel = format!("results/round_{round:06}.json");
        let path = self.dir.join(&rel);
        let bytes = serde_json::to_vec_pretty(record).expect("JSON serialises");
        write_atomic(&path, &bytes).map_err(|source| StateError::Io { what: "write", path, source })?;
        Ok(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_guards() {
        let d = tempfile::tempdir().unwrap();
        let dir = StateDir::open(d.path().join("s")).unwrap();
        let mut s = dir.load("5Alice").unwrap();
        assert_eq!(s, ValidatorState::fresh("5Alice"));
        s.rounds_completed = 3;
        s.scores = vec![0.1, 0.2];
        s.journal = Some(Journal { round: 3, phase: Phase::Scored, uids: vec![1], weights: vec![65535] });
        dir.save(&s).unwrap();
        assert_eq!(dir.load("5Alice").unwrap(), s);
        assert!(matches!(dir.load("5Bob"), Err(StateError::OtherValidator { .. })));
        // No temp files are left behind.
        let names: Vec<_> = std::fs::read_dir(&dir.dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(names.iter().all(|n| !n.to_string_lossy().contains(".tmp.")), "{names:?}");
        std::fs::write(dir.state_path(), b"{not json").unwrap();
        let e = dir.load("5Alice").unwrap_err().to_string();
        assert!(e.contains("not a valid validator state"), "{e}");
    }

    #[test]
    fn atomic_write_replaces_whole_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        write_atomic(&p, b"first version, long").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
    }
}
