//! When does a failure become the message's fault?
//!
//! Any failure other than a refused input is first presumed an outage and
//! retried with the partitions paused. After each failed attempt the
//! pipeline's health probes run: while one fails, it is an outage and the
//! attempt does not count, however long it lasts. Only attempts that fail
//! while every probe passes count, and at `indexer.max_attempts` the
//! document is dead-lettered as `RetriesExhausted`.
//!
//! Probes can miss a failure mode (a store that answers reads but refuses
//! writes), and then every message would look guilty: the seed system's
//! flood. So after one document is dead-lettered this way, the next
//! suspect is held: retried, paused, logged at error level, for
//! `indexer.suspect_hold_secs` (unless some document indexes meanwhile,
//! which clears the suspicion). Only then is it dead-lettered too. A hidden
//! outage costs at most one dead letter per hold, and the stalled indexer
//! is loud about it; two genuinely bad messages in a row cost one hold.
//! The memory is per process: a restart starts with a clean slate.

use std::time::Duration;

use crate::failure::FailureKind;

/// What a failed attempt means, before any attempt is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// An outage (a dependency down, or the deployment misconfigured):
    /// pause, back off, retry; the attempt does not count.
    Outage,
    /// The probes pass now but did not just before this attempt (or were
    /// not run): the dependency may have recovered between the failure and
    /// the probe. Retry uncounted, to see the failure again while healthy.
    Reproduce,
    /// Failed between two passing probes: counts toward `max_attempts`.
    Count,
    /// The embedding server refused this input while it embeds the probe:
    /// retrying cannot help, dead-letter it (`EmbedderRejected`).
    Reject,
}

/// The retry decision. `healthy_now`: every probe passed after the failed
/// attempt. `healthy_before`: they had passed right before it too.
pub(crate) fn step(kind: FailureKind, healthy_now: bool, healthy_before: bool) -> Step {
    if kind.is_outage() || !healthy_now {
        return Step::Outage;
    }
    match kind {
        FailureKind::RejectedInput => Step::Reject,
        _ if !healthy_before => Step::Reproduce,
        _ => Step::Count,
    }
}

/// Per-run memory of healthy-but-failing attempts.
#[derive(Debug)]
pub(crate) struct AttemptPolicy {
    max_attempts: u32,
    hold: Duration,
    dead_lettered_since_success: bool,
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Retry (after backoff).
    Retry,
    /// Stop retrying these documents: isolate or dead-letter them.
    GiveUp,
}

impl AttemptPolicy {
    pub(crate) fn new(max_attempts: u32, hold: Duration) -> Self {
        AttemptPolicy {
            max_attempts: max_attempts.max(1),
            hold,
            dead_lettered_since_success: false,
        }
    }

    /// `healthy_failures`: attempts of these documents that failed while
    /// every probe passed. `single`: whether it is one document (a batch is
    /// split before anything is dead-lettered). `held_for`: how long these
    /// documents have been held as a second suspect.
    pub(crate) fn after_failure(
        &self,
        healthy_failures: u32,
        single: bool,
        held_for: Duration,
    ) -> Verdict {
        if healthy_failures < self.max_attempts {
            return Verdict::Retry;
        }
        if single && self.dead_lettered_since_success && held_for < self.hold {
            // Second suspect in a row with nothing indexed in between:
            // more likely a fault the probes cannot see than two bad inputs.
            return Verdict::Retry;
        }
        Verdict::GiveUp
    }

    /// Whether `after_failure` is holding back a dead letter right now
    /// (worth a louder log line).
    pub(crate) fn suspects_hidden_outage(&self, healthy_failures: u32) -> bool {
        healthy_failures >= self.max_attempts && self.dead_lettered_since_success
    }

    pub(crate) fn record_success(&mut self) {
        self.dead_lettered_since_success = false;
    }

    pub(crate) fn record_dead_letter(&mut self) {
        self.dead_lettered_since_success = true;
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_and_outages_never_count() {
        for kind in [FailureKind::Configuration, FailureKind::Unavailable] {
            for now in [true, false] {
                for before in [true, false] {
                    assert_eq!(step(kind, now, before), Step::Outage, "{kind:?}");
                }
            }
        }
        // Whatever the error, a failing probe means an outage.
        assert_eq!(step(FailureKind::MaybeContent, false, true), Step::Outage);
        assert_eq!(step(FailureKind::RejectedInput, false, true), Step::Outage);
    }

    #[test]
    fn a_failure_counts_only_between_two_passing_probes() {
        assert_eq!(
            step(FailureKind::MaybeContent, true, false),
            Step::Reproduce
        );
        assert_eq!(step(FailureKind::MaybeContent, true, true), Step::Count);
    }

    #[test]
    fn a_refused_input_is_rejected_at_once_while_healthy() {
        assert_eq!(step(FailureKind::RejectedInput, true, false), Step::Reject);
        assert_eq!(step(FailureKind::RejectedInput, true, true), Step::Reject);
    }

    const HOLD: Duration = Duration::from_secs(600);
    const NOW: Duration = Duration::ZERO;

    #[test]
    fn gives_up_only_after_max_healthy_failures() {
        let policy = AttemptPolicy::new(3, HOLD);
        assert_eq!(policy.after_failure(1, true, NOW), Verdict::Retry);
        assert_eq!(policy.after_failure(2, true, NOW), Verdict::Retry);
        assert_eq!(policy.after_failure(3, true, NOW), Verdict::GiveUp);
        assert_eq!(policy.after_failure(3, false, NOW), Verdict::GiveUp);
    }

    #[test]
    fn a_second_suspect_is_held_until_a_success_or_the_hold_ends() {
        let mut policy = AttemptPolicy::new(2, HOLD);
        policy.record_dead_letter();
        assert_eq!(policy.after_failure(5, true, NOW), Verdict::Retry);
        assert!(policy.suspects_hidden_outage(5));
        let almost = HOLD - Duration::from_secs(1);
        assert_eq!(policy.after_failure(9, true, almost), Verdict::Retry);
        assert_eq!(policy.after_failure(9, true, HOLD), Verdict::GiveUp);
        // A batch may still be split to find out who is at fault.
        assert_eq!(policy.after_failure(5, false, NOW), Verdict::GiveUp);
        policy.record_success();
        assert_eq!(policy.after_failure(2, true, NOW), Verdict::GiveUp);
    }

    #[test]
    fn zero_means_one() {
        let policy = AttemptPolicy::new(0, HOLD);
        assert_eq!(policy.after_failure(1, true, NOW), Verdict::GiveUp);
    }
}
