//! Blended rank cap with quality threshold (spec `kav-scoring.md` 11) and the KAV-only burn path
//! (12), as pure functions of the post-cheat-penalty rewards.
//!
//! Why: after the cheat stage only miners within the top `top_miner_cap` by reward *and* with a
//! post-penalty reward of at least `quality_threshold` are paid, and they are paid mostly by rank
//! (`blend·e^(−decay·qrank)`) and only a little by quality (`(1 − blend)·r`). The reputation stage
//! (13) or the KAV-only burn (12) then consumes this vector.
//!
//! Quirks and deviations:
//! - Q16 (**deviation**): the reference ranks with an unstable sort, so the order among equal
//!   rewards is implementation-defined. We break ties by query order (stable sort). In the
//!   reference vectors ties occur only among reward-0 miners, which never qualify when the
//!   threshold is > 0, so rewards are unaffected; only the `global_rank` metric of tied miners can
//!   differ from the reference's.
//! - The quality `q_i` is the miner's `final_reward` metric, which equals `r_i` (the cheat stage
//!   overwrites it); it is still a separate input so that metrics can be replayed as recorded.
//! - The generalised formula `blend·exp(−decay·qrank) + (1 − blend)·r` is the spec's
//!   `0.7·exp(−0.05·qrank) + 0.3·r` with the configured constants (`1 − 0.7` differs from `0.3` in
//!   the last bit only).
//! - Q30: the KAV-only path skips the burn when UID 59 was itself queried (the reputation path
//!   appends it regardless, see [`crate::reputation`]).
//! - The KAV-only rescale uses numpy's pairwise sum ([`crate::reputation::np_sum`]) and
//!   `r · (keep / Σ)`, the order that makes the reputation stage's rescale bit-exact; no vector
//!   exercises this path (every reference round runs the reputation stage), so the spec's relative
//!   1e-12 is all that is claimed.

use serde::{Deserialize, Serialize};

use crate::reputation::{BURN_UID, np_sum};

/// Rank-stage configuration (kav-scoring 1.1 item 5; defaults 50, 0.6, 0.05, 0.7).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankConfig {
    pub top_miner_cap: usize,
    pub quality_threshold: f64,
    pub decay_rate: f64,
    pub blend_factor: f64,
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig { top_miner_cap: 50, quality_threshold: 0.6, decay_rate: 0.05, blend_factor: 0.7 }
    }
}

/// The `ranking_info` metrics of one miner (kav-scoring 11 step 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankingInfo {
    pub initial_reward: f64,
    pub global_rank: usize,
    pub within_top_cap: bool,
    pub quality_score: f64,
    pub meets_quality_threshold: bool,
    pub is_qualified_for_ranking: bool,
    pub final_blended_reward: f64,
}

/// Outcome of the rank stage.
#[derive(Debug, Clone, PartialEq)]
pub struct RankOutcome {
    /// Blended rewards in query order (0 for unqualified miners).
    pub rewards: Vec<f64>,
    /// Per-miner `ranking_info`.
    pub ranking: Vec<RankingInfo>,
    /// Nobody qualified: the "100% burn" event (11 step 6).
    pub all_burned: bool,
}

fn order_desc(values: &[f64], indices: &mut [usize]) {
    // Stable: ties keep query order (Q16 deviation). NaN compares equal to everything.
    indices.sort_by(|&a, &b| values[b].partial_cmp(&values[a]).unwrap_or(std::cmp::Ordering::Equal));
}

/// Blended rank cap with quality threshold (kav-scoring 11).
///
/// `rewards` are the post-cheat-penalty rewards `r`, `quality` the `final_reward` metrics `q`
/// (pass `rewards` again when replaying the pipeline: they are equal). A miner qualifies when its
/// global rank (0-based, by `r` descending) is `< top_miner_cap` and `q ≥ quality_threshold`; the
/// qualified are re-ranked among themselves (`qrank`) and get
/// `blend_factor·exp(−decay_rate·qrank) + (1 − blend_factor)·r`; everyone else gets 0.
pub fn blended_rank_cap(rewards: &[f64], quality: &[f64], cfg: &RankConfig) -> RankOutcome {
    let n = rewards.len();
    let mut order: Vec<usize> = (0..n).collect();
    order_desc(rewards, &mut order);
    let mut global_rank = vec![0usize; n];
    for (rank, &i) in order.iter().enumerate() {
        global_rank[i] = rank;
    }
    let q = |i: usize| quality.get(i).copied().unwrap_or(rewards[i]);
    let qualified: Vec<bool> =
        (0..n).map(|i| global_rank[i] < cfg.top_miner_cap && q(i) >= cfg.quality_threshold).collect();
    // Re-rank the qualified among themselves: their relative order in `order` is the same.
    let mut blended = vec![0.0; n];
    for (qrank, &i) in order.iter().filter(|&&i| qualified[i]).enumerate() {
        blended[i] = cfg.blend_factor * (-cfg.decay_rate * qrank as f64).exp() + (1.0 - cfg.blend_factor) * rewards[i];
    }
    let ranking = (0..n)
        .map(|i| RankingInfo {
            initial_reward: rewards[i],
            global_rank: global_rank[i],
            within_top_cap: global_rank[i] < cfg.top_miner_cap,
            quality_score: q(i),
            meets_quality_threshold: q(i) >= cfg.quality_threshold,
            is_qualified_for_ranking: qualified[i],
            final_blended_reward: blended[i],
        })
        .collect();
    RankOutcome { rewards: blended, ranking, all_burned: !qualified.iter().any(|&b| b) }
}

/// Which burn the KAV-only path applied (the `burn_type` of its burn metrics entry).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum KavBurn {
    /// Nobody qualified: UID 59 gets 1.0 (`100_percent`).
    Full,
    /// UID 59 gets `burn_fraction`; `burn_type` is `"<int(100·burn_fraction)>_percent"`.
    Fraction(f64),
    /// UID 59 was queried: no burn entry (Q30).
    Skipped,
}

impl KavBurn {
    /// The `burn_type` metric, or `None` when no burn entry is appended.
    pub fn burn_type(&self) -> Option<String> {
        match self {
            KavBurn::Full => Some("100_percent".into()),
            KavBurn::Fraction(f) => Some(format!("{}_percent", (100.0 * f).trunc() as i64)),
            KavBurn::Skipped => None,
        }
    }
}

/// Output of the KAV-only path: rewards and UIDs (UID 59 appended unless skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct KavOnlyOutcome {
    pub rewards: Vec<f64>,
    pub uids: Vec<u16>,
    pub burn: KavBurn,
}

/// KAV-only path (kav-scoring 12), used when UAV grading is off. `rank` is the outcome of
/// [`blended_rank_cap`] (whose `all_burned` decides the 100% burn), `uids` the queried UIDs in
/// query order.
pub fn kav_only_burn(rank: &RankOutcome, uids: &[u16], burn_fraction: f64) -> KavOnlyOutcome {
    let mut rewards = rank.rewards.clone();
    let mut out_uids = uids.to_vec();
    if rank.all_burned {
        rewards.push(1.0);
        out_uids.push(BURN_UID);
        return KavOnlyOutcome { rewards, uids: out_uids, burn: KavBurn::Full };
    }
    if uids.contains(&BURN_UID) {
        return KavOnlyOutcome { rewards, uids: out_uids, burn: KavBurn::Skipped };
    }
    let keep = 1.0 - burn_fraction;
    let total = np_sum(&rewards);
    if total > 0.0 {
        for r in &mut rewards {
            *r *= keep / total;
        }
    }
    rewards.push(burn_fraction);
    out_uids.push(BURN_UID);
    KavOnlyOutcome { rewards, uids: out_uids, burn: KavBurn::Fraction(burn_fraction) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example() {
        let r = [0.9, 0.7, 0.65, 0.5];
        let out = blended_rank_cap(&r, &r, &RankConfig::default());
        let want = [0.97, 0.7 * (-0.05f64).exp() + 0.3 * 0.7, 0.7 * (-0.1f64).exp() + 0.3 * 0.65, 0.0];
        for (g, w) in out.rewards.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{g} vs {w}");
        }
        assert!((out.rewards[1] - 0.875861).abs() < 1e-6);
        assert!((out.rewards[2] - 0.828386).abs() < 1e-6);
        assert!(!out.all_burned);
        assert_eq!(out.ranking[3].global_rank, 3);
        assert!(out.ranking[3].within_top_cap && !out.ranking[3].meets_quality_threshold);
    }

    #[test]
    fn cap_excludes_and_requalifies_by_order() {
        let r = [0.7, 0.9, 0.8];
        let cfg = RankConfig { top_miner_cap: 2, ..RankConfig::default() };
        let out = blended_rank_cap(&r, &r, &cfg);
        assert_eq!(out.rewards[0], 0.0, "rank 2 is outside a cap of 2");
        assert!((out.rewards[1] - (0.7 + 0.3 * 0.9)).abs() < 1e-15);
        assert!((out.rewards[2] - (0.7 * (-0.05f64).exp() + (1.0 - 0.7) * 0.8)).abs() < 1e-15);
    }

    #[test]
    fn ties_break_by_query_order() {
        let r = [0.7, 0.7];
        let out = blended_rank_cap(&r, &r, &RankConfig::default());
        assert_eq!(out.ranking[0].global_rank, 0);
        assert_eq!(out.ranking[1].global_rank, 1);
        assert!(out.rewards[0] > out.rewards[1]);
    }

    #[test]
    fn kav_only_paths() {
        let none = blended_rank_cap(&[0.1, 0.2], &[0.1, 0.2], &RankConfig::default());
        assert!(none.all_burned);
        let o = kav_only_burn(&none, &[3, 4], 0.7);
        assert_eq!(o.rewards, vec![0.0, 0.0, 1.0]);
        assert_eq!(o.uids, vec![3, 4, 59]);
        assert_eq!(o.burn.burn_type().as_deref(), Some("100_percent"));

        let some = blended_rank_cap(&[0.9, 0.7], &[0.9, 0.7], &RankConfig::default());
        let o = kav_only_burn(&some, &[3, 4], 0.7);
        assert_eq!(o.uids, vec![3, 4, 59]);
        assert_eq!(o.rewards[2], 0.7);
        assert!((o.rewards[0] + o.rewards[1] - 0.3).abs() < 1e-15);
        assert_eq!(o.burn.burn_type().as_deref(), Some("70_percent"));

        let o = kav_only_burn(&some, &[59, 4], 0.7);
        assert_eq!(o.uids, vec![59, 4]);
        assert_eq!(o.burn, KavBurn::Skipped);
        assert_eq!(o.rewards, some.rewards);
    }
}
