//! Reputation (UAV) stage — the default production path (spec `kav-scoring.md` 13) — and the step
//! from a round's rewards to on-chain weights (13.5, `validator-round.md` 13).
//!
//! Why: with UAV grading on (always, in production: Q33) the rank-capped KAV vector only sizes a
//! 6% pool; 24% goes by reputation (score normalised piecewise-linearly, times a tier multiplier)
//! and 70% is burned to UID 59, with 76% / 94% / 100% burns when a pool is empty.
//!
//! Reproduced exactly:
//! - [`normalize_rep_score`] evaluates each piece as written (product, then division, then
//!   addition, constants folded as Python folds them) and rounds to 3 decimals half-to-even on the
//!   exact binary value (Rust's exact `{:.3}` formatting, then parsing, is Python's `round(x, 3)`).
//! - The pool totals use numpy's pairwise summation ([`np_sum`]) and each pool is rescaled as
//!   `x · (target / total)` (the factor computed once): with exactly this order the stage matches
//!   every value of the reference rounds bit for bit (the spec only promises a relative 1e-12;
//!   `x · target / total`, `x / total · target` or a left-fold sum miss 13–79 of 308).
//! - Q30: UID 59 is appended even when it was a queried miner; in the weights scatter the last
//!   write (the burn) wins.
//! - Q41: `kav_weight` cancels inside the KAV pool; it is still applied as written.
//!
//! Choices where the spec is silent (documented, no vector exercises them):
//! - A UID beyond the metagraph's hotkey table has no hotkey: treated as a new miner.
//! - A record whose `rep_score` is missing or null uses the default 1.0; a missing or unknown tier
//!   multiplies by 1.0.
//! - A UID beyond the score vector is ignored by the scatter (the reference would raise).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The burn recipient, hard-coded in the reference (kav-scoring 12, 13.1).
pub const BURN_UID: u16 = 59;

/// Moving-average smoothing factor (validator-round 13.1).
pub const EMA_ALPHA: f64 = 0.15;

/// Tier multiplier (kav-scoring 13.1); any other or missing tier gives 1.0.
pub fn tier_multiplier(tier: &str) -> f64 {
    match tier {
        "Diamond" => 1.15,
        "Gold" => 1.10,
        "Silver" => 1.05,
        "Bronze" => 1.02,
        "Neutral" => 1.00,
        "Watch" => 0.90,
        _ => 1.0,
    }
}

/// Python `round(x, 3)`: half-to-even on the exact binary value.
fn round3(x: f64) -> f64 {
    format!("{x:.3}").parse().expect("a formatted float parses")
}

/// `normalize_rep_score(s)` (kav-scoring 13.2): piecewise linear through
/// (0.1, 0.5), (5, 1.0), (15, 1.2), (30, 1.5), (50, 1.8), (9999, 2.0), capped at 2.0, then rounded
/// to 3 decimals. `s ≤ 0` gives 0.0 unrounded.
pub fn normalize_rep_score(s: f64) -> f64 {
    if s <= 0.0 {
        return 0.0;
    }
    // Each piece as the reference writes it; Python folds the constant differences.
    let r = if s < 0.1 {
        s * (0.50 / 0.1)
    } else if s <= 5.0 {
        0.50 + (s - 0.1) * (1.00 - 0.50) / (5.0 - 0.1)
    } else if s <= 15.0 {
        1.00 + (s - 5.0) * (1.20 - 1.00) / (15.0 - 5.0)
    } else if s <= 30.0 {
        1.20 + (s - 15.0) * (1.50 - 1.20) / (30.0 - 15.0)
    } else if s <= 50.0 {
        1.50 + (s - 30.0) * (1.80 - 1.50) / (50.0 - 30.0)
    } else {
        f64::min(2.00, 1.80 + (s - 50.0) * (2.00 - 1.80) / (9999.0 - 50.0))
    };
    round3(r)
}

/// numpy's pairwise summation kernel (`pairwise_sum_DOUBLE`, unroll 8, block 128).
fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// `np.sum` of a contiguous float64 vector: numpy's pairwise summation over the whole vector
/// (a left fold below 8 elements, 8 interleaved accumulators per block of at most 128, halving
/// above). 0.0 for an empty slice. With this sum and the rescale `x · (target / total)` the
/// reputation stage reproduces all 308 values of the reference rounds bit for bit.
pub fn np_sum(a: &[f64]) -> f64 {
    pairwise(a)
}

/// One reputation record (kav-scoring 1.1 item 6): `{rep_score, rep_tier}` keyed by hotkey.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepRecord {
    #[serde(default)]
    pub rep_score: Option<f64>,
    #[serde(default)]
    pub rep_tier: Option<String>,
}

/// Reputation-stage configuration (defaults 0.70, 0.20, 0.80).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReputationConfig {
    pub burn_fraction: f64,
    pub kav_weight: f64,
    pub uav_weight: f64,
}

impl Default for ReputationConfig {
    fn default() -> Self {
        ReputationConfig { burn_fraction: 0.70, kav_weight: 0.20, uav_weight: 0.80 }
    }
}

/// Which pools were empty (kav-scoring 13.3 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BurnMode {
    /// K = 0 and V = 0: UID 59 gets 1.0.
    #[serde(rename = "100_percent")]
    HundredPercent,
    /// V = 0: KAV pool only; UID 59 gets `burn_fraction + uav_weight·keep`.
    #[serde(rename = "no_uav")]
    NoUav,
    /// K = 0: UAV pool only; UID 59 gets `burn_fraction + kav_weight·keep`.
    #[serde(rename = "no_kav")]
    NoKav,
    /// Both pools: UID 59 gets `burn_fraction`.
    #[serde(rename = "configured")]
    Configured,
}

impl BurnMode {
    /// The `burn_mode` metric string.
    pub fn as_str(self) -> &'static str {
        match self {
            BurnMode::HundredPercent => "100_percent",
            BurnMode::NoUav => "no_uav",
            BurnMode::NoKav => "no_kav",
            BurnMode::Configured => "configured",
        }
    }
}

/// Per-miner UAV-stage metrics (kav-scoring 1.3, "Per-miner metrics, UAV stage").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReputationMetrics {
    pub uid: u16,
    pub miner_hotkey: Option<String>,
    pub is_new_miner: bool,
    /// `Q_i`, the blended KAV reward.
    pub quality_score: f64,
    /// `k_i = kav_weight·Q_i`.
    pub kav_portion_raw: f64,
    pub rep_score: f64,
    pub rep_score_normalized: f64,
    pub rep_tier: String,
    pub tier_multiplier: f64,
    /// `U_i = R·T`.
    pub uav_reward: f64,
    /// `u_i = uav_weight·U_i`.
    pub uav_portion_raw: f64,
    /// Rescaled KAV part of the final reward.
    pub kav_portion: f64,
    /// Rescaled UAV part of the final reward.
    pub uav_portion: f64,
    pub combined_reward: f64,
    /// `kav_portion / combined_reward` (0 when the reward is 0).
    pub kav_contribution: f64,
    /// `uav_portion / combined_reward` (0 when the reward is 0).
    pub uav_contribution: f64,
    /// The configured burn fraction.
    pub burn_fraction: f64,
    /// What UID 59 received this round.
    pub burn_fraction_applied: f64,
    pub burn_mode: BurnMode,
    pub final_reward: f64,
}

/// Output of [`apply_reputation_rewards`]: one reward per queried UID in query order, then UID 59.
#[derive(Debug, Clone, PartialEq)]
pub struct ReputationOutcome {
    pub rewards: Vec<f64>,
    pub uids: Vec<u16>,
    pub mode: BurnMode,
    /// The value appended for UID 59.
    pub burn_value: f64,
    pub metrics: Vec<ReputationMetrics>,
}

/// `apply_reputation_rewards` (kav-scoring 13.3).
///
/// - `q`: the blended rewards of the rank stage (0 for unqualified miners), in query order;
/// - `uids`: the queried UIDs, aligned with `q`;
/// - `hotkeys`: the metagraph's hotkey table, indexed by UID;
/// - `rep`: the reputation snapshot, hotkey → record (empty on the first round).
pub fn apply_reputation_rewards(
    q: &[f64],
    uids: &[u16],
    hotkeys: &[String],
    rep: &HashMap<String, RepRecord>,
    cfg: &ReputationConfig,
) -> ReputationOutcome {
    assert_eq!(q.len(), uids.len(), "one KAV reward per queried UID");
    struct Uav {
        hotkey: Option<String>,
        new: bool,
        s: f64,
        r: f64,
        tier: String,
        t: f64,
        u: f64,
    }
    let uav: Vec<Uav> = uids
        .iter()
        .map(|&uid| {
            let hotkey = hotkeys.get(uid as usize).cloned();
            match hotkey.as_ref().and_then(|h| rep.get(h)) {
                None => Uav { hotkey, new: true, s: 0.0, r: 0.0, tier: "New".into(), t: 0.0, u: 0.0 },
                Some(rec) => {
                    let s = rec.rep_score.unwrap_or(1.0);
                    let tier = rec.rep_tier.clone().unwrap_or_else(|| "Neutral".into());
                    if s <= 0.0 {
                        Uav { hotkey, new: false, s, r: 0.0, t: tier_multiplier(&tier), tier, u: 0.0 }
                    } else {
                        let r = normalize_rep_score(s);
                        let t = tier_multiplier(&tier);
                        Uav { hotkey, new: false, s, r, tier, t, u: r * t }
                    }
                }
            }
        })
        .collect();

    let k: Vec<f64> = q.iter().map(|&x| cfg.kav_weight * x).collect();
    let u: Vec<f64> = uav.iter().map(|x| cfg.uav_weight * x.u).collect();
    let (k_total, v_total) = (np_sum(&k), np_sum(&u));
    let keep = 1.0 - cfg.burn_fraction;
    let (mode, k_target, u_target, burn) = if k_total == 0.0 && v_total == 0.0 {
        (BurnMode::HundredPercent, 0.0, 0.0, 1.0)
    } else if v_total == 0.0 {
        (BurnMode::NoUav, keep * cfg.kav_weight, 0.0, cfg.burn_fraction + cfg.uav_weight * keep)
    } else if k_total == 0.0 {
        (BurnMode::NoKav, 0.0, keep * cfg.uav_weight, cfg.burn_fraction + cfg.kav_weight * keep)
    } else {
        (BurnMode::Configured, keep * cfg.kav_weight, keep * cfg.uav_weight, cfg.burn_fraction)
    };
    let rescale =
        |x: f64, target: f64, total: f64| if target > 0.0 && total > 0.0 { x * (target / total) } else { 0.0 };

    let mut rewards = Vec::with_capacity(q.len() + 1);
    let mut metrics = Vec::with_capacity(q.len());
    for (i, &uid) in uids.iter().enumerate() {
        let kav_final = rescale(k[i], k_target, k_total);
        let uav_final = rescale(u[i], u_target, v_total);
        let combined = kav_final + uav_final;
        rewards.push(combined);
        let x = &uav[i];
        metrics.push(ReputationMetrics {
            uid,
            miner_hotkey: x.hotkey.clone(),
            is_new_miner: x.new,
            quality_score: q[i],
            kav_portion_raw: k[i],
            rep_score: x.s,
            rep_score_normalized: x.r,
            rep_tier: x.tier.clone(),
            tier_multiplier: x.t,
            uav_reward: x.u,
            uav_portion_raw: u[i],
            kav_portion: kav_final,
            uav_portion: uav_final,
            combined_reward: combined,
            kav_contribution: if combined > 0.0 { kav_final / combined } else { 0.0 },
            uav_contribution: if combined > 0.0 { uav_final / combined } else { 0.0 },
            burn_fraction: cfg.burn_fraction,
            burn_fraction_applied: burn,
            burn_mode: mode,
            final_reward: combined,
        });
    }
    rewards.push(burn);
    let mut out_uids = uids.to_vec();
    out_uids.push(BURN_UID);
    ReputationOutcome { rewards, uids: out_uids, mode, burn_value: burn, metrics }
}

// ---------------------------------------------------------------------------------------------
// 13.5: from round rewards to on-chain weights.
// ---------------------------------------------------------------------------------------------

/// Why a score update was refused (validator-round 13.1 step 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreUpdateError {
    LengthMismatch { rewards: usize, uids: usize },
}

impl std::fmt::Display for ScoreUpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScoreUpdateError::LengthMismatch { rewards, uids } => write!(f, "{rewards} rewards but {uids} uids"),
        }
    }
}

impl std::error::Error for ScoreUpdateError {}

/// Scatter a round's rewards into a vector over all `n` UIDs (13.5 steps 1–2): NaN → 0, UIDs not
/// in the round 0, the last write wins for a duplicated UID (Q30).
pub fn scatter_rewards(rewards: &[f64], uids: &[u16], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for (&r, &uid) in rewards.iter().zip(uids) {
        if let Some(slot) = out.get_mut(uid as usize) {
            *slot = if r.is_nan() { 0.0 } else { r };
        }
    }
    out
}

/// The moving-average update after a round (13.5 step 3, validator-round 13.1):
/// `scores = alpha·scattered + (1 − alpha)·scores` over all UIDs. Empty inputs leave the scores
/// unchanged; differing lengths are an error.
pub fn update_scores(scores: &mut [f64], rewards: &[f64], uids: &[u16], alpha: f64) -> Result<(), ScoreUpdateError> {
    if rewards.is_empty() || uids.is_empty() {
        return Ok(());
    }
    if rewards.len() != uids.len() {
        return Err(ScoreUpdateError::LengthMismatch { rewards: rewards.len(), uids: uids.len() });
    }
    let scattered = scatter_rewards(rewards, uids, scores.len());
    for (s, x) in scores.iter_mut().zip(scattered) {
        *s = alpha * x + (1.0 - alpha) * *s;
    }
    Ok(())
}

/// L1 normalisation of the scores (validator-round 13.2 step 1); unnormalised when the norm is 0
/// or NaN.
pub fn l1_normalize(scores: &[f64]) -> Vec<f64> {
    let norm: f64 = scores.iter().map(|x| x.abs()).sum();
    if norm == 0.0 || norm.is_nan() { scores.to_vec() } else { scores.iter().map(|x| x / norm).collect() }
}

/// Max-weight normalisation with limit `limit` (validator-round 13.2 step 2), in 32-bit floats as
/// the chain template computes it.
pub fn normalize_max_weight(x: &[f32], limit: f32) -> Vec<f32> {
    let m = x.len();
    let sum: f32 = x.iter().sum();
    if m == 0 {
        return Vec::new();
    }
    if sum == 0.0 || m as f32 * limit <= 1.0 {
        return vec![1.0 / m as f32; m];
    }
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let vsum: f32 = v.iter().sum();
    let e: Vec<f32> = v.iter().map(|a| a / vsum).collect();
    let emax = e.iter().copied().fold(f32::MIN, f32::max);
    if emax <= limit {
        return x.iter().map(|a| a / sum).collect();
    }
    let mut c = Vec::with_capacity(m);
    let mut acc = 0.0f32;
    for &ei in &e {
        acc += ei;
        c.push(acc);
    }
    let k = (0..m).filter(|&i| e[i] / ((m - i - 1) as f32 * e[i] + c[i] + 1e-7) < limit).count();
    let cutoff = (limit * c[k.saturating_sub(1)] - 1e-7) / (1.0 - limit * (m - k) as f32) * vsum;
    let clipped: Vec<f32> = x.iter().map(|&a| if a > cutoff { cutoff } else { a }).collect();
    let csum: f32 = clipped.iter().sum();
    clipped.iter().map(|a| a / csum).collect()
}

/// The chain's standard weight processing (validator-round 13.2 step 2) over UIDs `0..n`:
/// returns the kept UIDs and their weights.
pub fn process_weights(weights: &[f64], min_allowed_weights: usize, max_weight_limit: f64) -> (Vec<u16>, Vec<f32>) {
    let n = weights.len();
    let w: Vec<f32> = weights.iter().map(|&x| x as f32).collect();
    let limit = max_weight_limit as f32;
    let nonzero = w.iter().filter(|&&x| x > 0.0).count();
    let all: Vec<u16> = (0..n as u16).collect();
    if nonzero == 0 || n < min_allowed_weights {
        return (all, vec![1.0 / n as f32; n]);
    }
    if nonzero < min_allowed_weights {
        let bumped: Vec<f32> = w.iter().map(|x| x + 1e-5).collect();
        return (all, normalize_max_weight(&bumped, limit));
    }
    let (uids, kept): (Vec<u16>, Vec<f32>) =
        w.iter().enumerate().filter(|(_, x)| **x > 0.0).map(|(i, x)| (i as u16, *x)).unzip();
    (uids, normalize_max_weight(&kept, limit))
}

/// Conversion for emission (validator-round 13.2 step 3): drop non-positive weights, divide by the
/// maximum, `round(w·65535)` half-to-even, drop zeros.
pub fn weights_to_u16(uids: &[u16], weights: &[f32]) -> (Vec<u16>, Vec<u16>) {
    let max = weights.iter().copied().filter(|&w| w > 0.0).fold(0.0f32, f32::max);
    if max <= 0.0 {
        return (Vec::new(), Vec::new());
    }
    uids.iter()
        .zip(weights)
        .filter(|(_, w)| **w > 0.0)
        .map(|(&u, &w)| (u, ((w / max) * 65535.0).round_ties_even() as u16))
        .filter(|(_, w)| *w > 0)
        .unzip()
}

/// Scores → emitted `(uids, u16 weights)` (13.5 step 4): L1 normalise, chain processing,
/// max-upscale.
pub fn scores_to_weights(scores: &[f64], min_allowed_weights: usize, max_weight_limit: f64) -> (Vec<u16>, Vec<u16>) {
    let raw = l1_normalize(scores);
    let (uids, w) = process_weights(&raw, min_allowed_weights, max_weight_limit);
    weights_to_u16(&uids, &w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_rep_score_vectors() {
        let cases = [
            (0.01, 0.05),
            (0.0999, 0.499),
            (1.0, 0.592),
            (2.55, 0.75),
            (10.0, 1.1),
            (22.5, 1.35),
            (40.0, 1.65),
            (100.0, 1.801),
            (1000.0, 1.819),
            (9999.0, 2.0),
            (0.0, 0.0),
            (-3.0, 0.0),
            (1e9, 2.0),
        ];
        for (s, want) in cases {
            assert_eq!(normalize_rep_score(s), want, "s = {s}");
        }
    }

    #[test]
    fn np_sum_matches_numpy_order() {
        assert_eq!(np_sum(&[]), 0.0);
        assert_eq!(np_sum(&[1.0, 2.0, 3.0]), 6.0);
        // 8 interleaved accumulators: the +1s survive, unlike in a left fold.
        let a = [1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1e16];
        assert_eq!(a.iter().sum::<f64>(), 0.0);
        assert_eq!(np_sum(&a), 6.0);
        let long: Vec<f64> = (0..1000).map(|i| 0.1 * i as f64).collect();
        assert!((np_sum(&long) - 49950.0).abs() < 1e-9);
    }

    #[test]
    fn worked_example() {
        let hotkeys: Vec<String> = (0..4).map(|i| format!("hk{i}")).collect();
        let mut rep = HashMap::new();
        rep.insert("hk1".into(), RepRecord { rep_score: Some(10.0), rep_tier: Some("Bronze".into()) });
        rep.insert("hk3".into(), RepRecord { rep_score: Some(40.0), rep_tier: Some("Gold".into()) });
        let out = apply_reputation_rewards(&[0.9, 0.5, 0.0], &[1, 2, 3], &hotkeys, &rep, &ReputationConfig::default());
        assert_eq!(out.uids, vec![1, 2, 3, 59]);
        assert_eq!(out.mode, BurnMode::Configured);
        let want = [0.130257, 0.021429, 0.148315, 0.70];
        for (g, w) in out.rewards.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
        assert!(out.metrics[1].is_new_miner);
        assert!((out.metrics[0].uav_reward - 1.122).abs() < 1e-12);
    }

    #[test]
    fn burn_modes() {
        let hotkeys: Vec<String> = (0..3).map(|i| format!("hk{i}")).collect();
        let cfg = ReputationConfig::default();
        let empty = HashMap::new();
        let out = apply_reputation_rewards(&[0.0, 0.0], &[0, 1], &hotkeys, &empty, &cfg);
        assert_eq!((out.mode, out.burn_value), (BurnMode::HundredPercent, 1.0));
        let out = apply_reputation_rewards(&[0.9, 0.0], &[0, 1], &hotkeys, &empty, &cfg);
        assert_eq!(out.mode, BurnMode::NoUav);
        assert!((out.burn_value - 0.94).abs() < 1e-15 && (out.rewards[0] - 0.06).abs() < 1e-15);
        let mut rep = HashMap::new();
        rep.insert("hk1".into(), RepRecord { rep_score: None, rep_tier: None });
        let out = apply_reputation_rewards(&[0.0, 0.0], &[0, 1], &hotkeys, &rep, &cfg);
        assert_eq!(out.mode, BurnMode::NoKav);
        assert!((out.burn_value - 0.76).abs() < 1e-15 && (out.rewards[1] - 0.24).abs() < 1e-15);
        // Q30: UID 59 queried still gets the burn appended.
        let hk: Vec<String> = (0..60).map(|i| format!("hk{i}")).collect();
        let out = apply_reputation_rewards(&[0.9], &[59], &hk, &empty, &cfg);
        assert_eq!(out.uids, vec![59, 59]);
        let scattered = scatter_rewards(&out.rewards, &out.uids, 64);
        assert_eq!(scattered[59], out.burn_value, "the last write wins");
    }

    #[test]
    fn weights_example() {
        let mut scores = vec![0.0; 64];
        update_scores(&mut scores, &[0.13, 0.17, 0.70], &[5, 9, 59], EMA_ALPHA).unwrap();
        assert!((scores[5] - 0.0195).abs() < 1e-15 && (scores[59] - 0.105).abs() < 1e-15);
        let (uids, w) = scores_to_weights(&scores, 1, 1.0);
        assert_eq!(uids, vec![5, 9, 59]);
        assert_eq!(w, vec![12171, 15916, 65535]);
        assert!(update_scores(&mut scores, &[1.0], &[1, 2], EMA_ALPHA).is_err());
        let before = scores.clone();
        update_scores(&mut scores, &[], &[], EMA_ALPHA).unwrap();
        assert_eq!(scores, before);
    }

    #[test]
    fn max_weight_limit_clips() {
        let w = normalize_max_weight(&[0.1, 0.1, 0.8], 0.5);
        assert!(w.iter().all(|&x| x <= 0.5 + 1e-6), "{w:?}");
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(normalize_max_weight(&[0.0, 0.0], 0.5), vec![0.5, 0.5]);
    }
}
