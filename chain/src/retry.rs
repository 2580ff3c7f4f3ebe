//! [`Retry`]: how hard to try reaching a chain node before telling the operator it is down.

use std::time::Duration;

/// How hard to try reaching a node: `attempts` connection attempts, waiting `initial`, then
/// twice as long each time, at most `max`, between them; each attempt gives up after `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub attempts: u32,
    pub initial: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        }
    }
}

impl Retry {
    /// The wait before attempt `n` (0-based; attempt 0 does not wait).
    pub fn delay_before(&self, n: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow(n - 1);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = Retry {
            attempts: 6,
            initial: Duration::from_millis(100),
            max: Duration::from_millis(500),
            timeout: Duration::from_secs(1),
        };
        let d: Vec<u64> = (0..6).map(|n| r.delay_before(n).as_millis() as u64).collect();
        assert_eq!(d, vec![0, 100, 200, 400, 500, 500]);
    }
}
