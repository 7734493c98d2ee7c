//! The kill points of a kill -9 loop test, replayable.

use std::time::SystemTime;

/// How many kills a crash test makes (`ARCHIVER_CRASH_KILLS`, default 20) and the seed its
/// kill points are drawn from (`ARCHIVER_CRASH_SEED` replays an earlier run's; otherwise one
/// from the clock, which the test prints).
///
/// ```
/// let mut plan = archiver_core::testing::CrashPlan::from_env();
/// assert!(plan.kills > 0);
/// let (a, b) = (plan.next_below(1000), plan.next_below(1000));
/// assert!(a < 1000 && b < 1000);
/// ```
#[derive(Debug, Clone)]
pub struct CrashPlan {
    /// Kills to make.
    pub kills: u64,
    /// The seed the kill points come from.
    pub seed: u64,
    state: u64,
}

impl CrashPlan {
    /// The plan the environment asks for.
    ///
    /// # Panics
    ///
    /// When a variable is set but is not a number (a test setup mistake).
    pub fn from_env() -> CrashPlan {
        let number = |name: &str| {
            std::env::var(name).ok().map(|v| {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name} is a number"))
            })
        };
        let seed = number("ARCHIVER_CRASH_SEED").unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
        CrashPlan {
            kills: number("ARCHIVER_CRASH_KILLS").unwrap_or(20),
            seed,
            state: seed | 1,
        }
    }

    /// The next draw, below `bound` (xorshift64*: enough to spread kill points).
    pub fn next_below(&mut self, bound: u64) -> u64 {
        let state = &mut self.state;
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}
