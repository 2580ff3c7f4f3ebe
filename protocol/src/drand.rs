//! drand round arithmetic (spec miner-protocol.md 4.2), the formulas the reference validator
//! uses to pick `target_drand_round` and `reveal_timestamp`.
//!
//! Round 1 is published at `genesis`; round `r` at `genesis + (r - 1) * period`.

/// drand quicknet's genesis time (Unix seconds).
pub const QUICKNET_GENESIS: u64 = 1_692_803_367;
/// drand quicknet's period in seconds.
pub const QUICKNET_PERIOD: u64 = 3;
/// R2 validators reveal 2400 s after creating a challenge.
pub const R2_REVEAL_DELAY_S: u64 = 2400;
/// R1 validators revealed after one 360-block epoch, 4320 s.
pub const R1_REVEAL_DELAY_S: u64 = 4320;

/// A beacon's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub genesis: u64,
    pub period: u64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule { genesis: QUICKNET_GENESIS, period: QUICKNET_PERIOD }
    }
}

impl Schedule {
    /// The latest round published at time `t` (0 before genesis).
    pub fn round_at(&self, t: u64) -> u64 {
        if t < self.genesis { 0 } else { (t - self.genesis) / self.period + 1 }
    }

    /// When round `r` is published (saturating: a client may ask for round 2^64-1).
    pub fn time_of(&self, round: u64) -> u64 {
        self.genesis.saturating_add(round.saturating_sub(1).saturating_mul(self.period))
    }

    /// `(target_drand_round, reveal_timestamp)` for a challenge created at `created` with the
    /// given reveal delay: the round current at `created + delay`, and its publication time.
    pub fn target(&self, created: u64, delay_s: u64) -> (u64, u64) {
        let round = self.round_at(created + delay_s);
        (round, self.time_of(round))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_appendix_a4() {
        let s = Schedule::default();
        assert_eq!(s.target(1_754_000_000, R2_REVEAL_DELAY_S), (20_399_678, 1_754_002_398));
        assert_eq!(s.round_at(QUICKNET_GENESIS), 1);
        assert_eq!(s.round_at(QUICKNET_GENESIS - 1), 0);
        assert_eq!(s.time_of(1), QUICKNET_GENESIS);
    }

    #[test]
    fn absurd_rounds_do_not_overflow() {
        assert_eq!(Schedule::default().time_of(u64::MAX), u64::MAX);
    }

    #[test]
    fn round_and_time_agree() {
        let s = Schedule { genesis: 1000, period: 3 };
        for r in 1..100 {
            assert_eq!(s.round_at(s.time_of(r)), r);
            assert_eq!(s.round_at(s.time_of(r) + 2), r);
        }
    }
}
