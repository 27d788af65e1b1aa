//! Per-invocation limits: platform defaults and maxima, what a manifest asks for, and
//! per-installation overrides.

use std::time::Duration;

use crate::domain::plugin::RequestedLimits;
use serde::{Deserialize, Serialize};

/// The limits one invocation runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub deadline_ms: u64,
    pub memory_mib: u64,
    pub input_kib: u64,
    pub output_kib: u64,
    pub log_kib: u64,
}

impl Limits {
    /// The wall-clock deadline.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// Linear memory cap in bytes.
    pub fn memory_bytes(&self) -> usize {
        (self.memory_mib as usize) << 20
    }

    /// Input cap in bytes (measured as the JSON form of the input).
    pub fn input_bytes(&self) -> usize {
        (self.input_kib as usize) << 10
    }

    /// Output cap in bytes (measured as the JSON form of the output).
    pub fn output_bytes(&self) -> usize {
        (self.output_kib as usize) << 10
    }

    /// Log budget in bytes.
    pub fn log_bytes(&self) -> usize {
        (self.log_kib as usize) << 10
    }
}

/// The platform's defaults and maxima.
#[derive(Clone, Copy, Debug)]
pub struct PlatformLimits {
    pub defaults: Limits,
    pub maxima: Limits,
    /// Failures within [`failure_window`](Self::failure_window) that suspend an
    /// installation.
    pub failures_before_suspend: u32,
    /// The window the circuit breaker counts failures in.
    pub failure_window: Duration,
    /// Components that may compile at once, each on one core; an upload waits for one.
    pub compile_slots: usize,
    /// How long an upload's compile (with its wait for a slot) may take before the
    /// component is refused.
    pub compile_timeout: Duration,
    /// Compiled components kept in memory beyond those installations hold.
    pub warm_components: usize,
}

impl Default for PlatformLimits {
    fn default() -> Self {
        PlatformLimits {
            defaults: Limits {
                deadline_ms: 50,
                memory_mib: 32,
                input_kib: 256,
                output_kib: 256,
                log_kib: 16,
            },
            // Room for components that embed an interpreter (tens of MB, slow to start).
            maxima: Limits {
                deadline_ms: 2_000,
                memory_mib: 256,
                input_kib: 4_096,
                output_kib: 4_096,
                log_kib: 1_024,
            },
            failures_before_suspend: 5,
            failure_window: Duration::from_secs(60),
            // One core compiles; the others serve. Real plugins compile in well under a
            // second, an interpreter-embedding one in a few.
            compile_slots: 1,
            compile_timeout: Duration::from_secs(30),
            warm_components: 64,
        }
    }
}

impl PlatformLimits {
    /// Checks that `requested` stays within the maxima, naming the first part that does not.
    pub fn check(&self, requested: &RequestedLimits) -> Result<(), String> {
        let max = &self.maxima;
        let parts = [
            ("deadline_ms", requested.deadline_ms, max.deadline_ms),
            ("memory_mib", requested.memory_mib, max.memory_mib),
            ("input_kib", requested.input_kib, max.input_kib),
            ("output_kib", requested.output_kib, max.output_kib),
            ("log_kib", requested.log_kib, max.log_kib),
        ];
        for (name, value, max) in parts {
            match value {
                Some(0) => return Err(format!("limit {name} must be greater than 0")),
                Some(value) if value > max => {
                    return Err(format!(
                        "limit {name} = {value} is over the platform maximum of {max}"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The effective limits: the installation's overrides, else the manifest's, else the
    /// platform default, each capped at the maximum.
    pub fn resolve(&self, manifest: &RequestedLimits, installation: &RequestedLimits) -> Limits {
        let pick = |inst: Option<u64>, man: Option<u64>, default: u64, max: u64| {
            inst.or(man).unwrap_or(default).clamp(1, max)
        };
        let (d, m) = (&self.defaults, &self.maxima);
        Limits {
            deadline_ms: pick(
                installation.deadline_ms,
                manifest.deadline_ms,
                d.deadline_ms,
                m.deadline_ms,
            ),
            memory_mib: pick(
                installation.memory_mib,
                manifest.memory_mib,
                d.memory_mib,
                m.memory_mib,
            ),
            input_kib: pick(
                installation.input_kib,
                manifest.input_kib,
                d.input_kib,
                m.input_kib,
            ),
            output_kib: pick(
                installation.output_kib,
                manifest.output_kib,
                d.output_kib,
                m.output_kib,
            ),
            log_kib: pick(installation.log_kib, manifest.log_kib, d.log_kib, m.log_kib),
        }
    }
}

impl Limits {
    /// The parts of these limits that exceed a tenant's per-call `budget`, as
    /// `name = value over the budget of cap` phrases; empty when within it.
    pub fn over_budget(&self, budget: &RequestedLimits) -> Vec<String> {
        let parts = [
            ("deadline_ms", self.deadline_ms, budget.deadline_ms),
            ("memory_mib", self.memory_mib, budget.memory_mib),
            ("input_kib", self.input_kib, budget.input_kib),
            ("output_kib", self.output_kib, budget.output_kib),
            ("log_kib", self.log_kib, budget.log_kib),
        ];
        parts
            .into_iter()
            .filter_map(|(name, value, cap)| {
                cap.filter(|cap| value > *cap)
                    .map(|cap| format!("{name} = {value} is over the tenant's budget of {cap}"))
            })
            .collect()
    }

    /// These limits, each capped at the tenant's `budget` where it sets one.
    pub fn capped(self, budget: &RequestedLimits) -> Limits {
        let cap = |value: u64, cap: Option<u64>| cap.map_or(value, |cap| value.min(cap));
        Limits {
            deadline_ms: cap(self.deadline_ms, budget.deadline_ms),
            memory_mib: cap(self.memory_mib, budget.memory_mib),
            input_kib: cap(self.input_kib, budget.input_kib),
            output_kib: cap(self.output_kib, budget.output_kib),
            log_kib: cap(self.log_kib, budget.log_kib),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_budget_caps_limits_and_names_what_is_over_it() {
        let limits = PlatformLimits::default().defaults;
        let budget = RequestedLimits {
            deadline_ms: Some(20),
            memory_mib: Some(64),
            ..Default::default()
        };
        assert_eq!(
            limits.over_budget(&budget),
            ["deadline_ms = 50 is over the tenant's budget of 20"]
        );
        let capped = limits.capped(&budget);
        assert_eq!((capped.deadline_ms, capped.memory_mib), (20, 32));
        assert!(capped.over_budget(&budget).is_empty());
    }

    #[test]
    fn installation_overrides_beat_the_manifest_which_beats_the_default() {
        let platform = PlatformLimits::default();
        let manifest = RequestedLimits {
            deadline_ms: Some(80),
            memory_mib: Some(64),
            ..Default::default()
        };
        let installation = RequestedLimits {
            deadline_ms: Some(120),
            ..Default::default()
        };
        let limits = platform.resolve(&manifest, &installation);
        assert_eq!(limits.deadline_ms, 120);
        assert_eq!(limits.memory_mib, 64);
        assert_eq!(limits.output_kib, 256);
    }

    #[test]
    fn requests_over_the_maximum_are_rejected_by_name() {
        let platform = PlatformLimits::default();
        let err = platform
            .check(&RequestedLimits {
                deadline_ms: Some(60_000),
                ..Default::default()
            })
            .unwrap_err();
        assert!(err.contains("deadline_ms"), "{err}");
    }
}
