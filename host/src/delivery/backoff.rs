//! When to try again: exponential backoff with jitter, capped.

use std::time::Duration;

use rand::Rng;

/// The wait after the `attempt`-th failed attempt (1-based): `base · 2^(attempt-1)`,
/// capped at `cap`, of which a random half is kept ("equal jitter") so that rows which
/// failed together — a receiver that was down — do not all come back at the same instant.
pub fn delay(attempt: u32, base: Duration, cap: Duration, rng: &mut impl Rng) -> Duration {
    let doubling = 2u32.saturating_pow(attempt.saturating_sub(1));
    let full = base.saturating_mul(doubling).min(cap);
    let half = full / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rng.random_range(0..=jitter_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(10);
    const CAP: Duration = Duration::from_secs(3600);

    #[test]
    fn delays_double_per_attempt_within_their_jitter_band() {
        let mut rng = rand::rng();
        for (attempt, full_secs) in [(1, 10), (2, 20), (3, 40), (4, 80)] {
            for _ in 0..100 {
                let wait = delay(attempt, BASE, CAP, &mut rng);
                let full = Duration::from_secs(full_secs);
                assert!(
                    wait >= full / 2 && wait <= full,
                    "attempt {attempt}: {wait:?}"
                );
            }
        }
    }

    #[test]
    fn delays_never_exceed_the_cap_even_after_many_attempts() {
        let mut rng = rand::rng();
        for attempt in [10, 32, 64, u32::MAX] {
            let wait = delay(attempt, BASE, CAP, &mut rng);
            assert!(
                wait >= CAP / 2 && wait <= CAP,
                "attempt {attempt}: {wait:?}"
            );
        }
    }

    #[test]
    fn jitter_spreads_rows_that_failed_together() {
        let mut rng = rand::rng();
        let waits: std::collections::HashSet<_> =
            (0..20).map(|_| delay(3, BASE, CAP, &mut rng)).collect();
        assert!(waits.len() > 1, "{waits:?}");
    }
}
