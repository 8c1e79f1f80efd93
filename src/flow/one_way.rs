//! Is the capture missing the answers? A span port that mirrors only one direction, routes
//! whose return traffic takes an uplink that is not captured, or an upstream outage all look
//! the same to the flow table: every attempt goes unanswered, so every busy campus host would
//! be judged a scanner. [`OneWayGuard`] notices a link where many campus hosts' attempts have
//! gone unanswered with no answer to anyone in between, and while that lasts the table
//! withholds `unanswered` verdicts on attempts made since the last answer (counted, and
//! exported so the network team sees it). Refused and half-open attempts (a reset or a
//! SYN-ACK was seen) are still judged; one answer anywhere ends it.
//!
//! Deliberately coarse, and hard to trip on purpose: only campus initiators count (outside
//! hosts probing dark campus space are everyday noise), so tripping it takes sixteen campus
//! addresses and a link with no answer to anyone for a second; a campus edge answers every
//! few microseconds. One scanner probing dark space on an otherwise silent link is one
//! initiator and never trips it.

/// Distinct initiators (since the last answer) before the link is called one-way.
pub const MIN_INITIATORS: usize = 16;
/// Attempts (since the last answer) before the link is called one-way.
pub const MIN_ATTEMPTS: u64 = 200;
/// Data time without any answer before the link is called one-way (microseconds).
pub const MIN_QUIET_US: i64 = 1_000_000;
/// Attempts within this long of an answer are not even counted (microseconds): a link with
/// answers this close together is two-way, and the bookkeeping is skipped on the hot path.
pub const GRACE_US: i64 = 1_000;

/// Counts attempts, and the distinct hosts making them, since the last answer seen.
#[derive(Debug, Clone)]
pub struct OneWayGuard {
    /// Data time of the first attempt since the last answer.
    quiet_since_us: Option<i64>,
    /// Data time of the latest attempt (`i64::MIN` right after an answer).
    latest_us: i64,
    /// Data time of the latest answer.
    last_answer_us: i64,
    attempts: u64,
    /// Fingerprints of the distinct initiators since the last answer (the first
    /// [`MIN_INITIATORS`] of them: enough to decide).
    initiators: [u64; MIN_INITIATORS],
    seen: usize,
}

impl Default for OneWayGuard {
    fn default() -> Self {
        OneWayGuard {
            quiet_since_us: None,
            latest_us: i64::MIN,
            last_answer_us: i64::MIN,
            attempts: 0,
            initiators: [0; MIN_INITIATORS],
            seen: 0,
        }
    }
}

impl OneWayGuard {
    /// An attempt by `initiator` (any stable fingerprint of its address) at `now_us`.
    #[inline]
    pub fn attempt(&mut self, now_us: i64, initiator: u64) {
        self.quiet_since_us.get_or_insert(now_us);
        self.latest_us = self.latest_us.max(now_us);
        self.attempts += 1;
        if self.seen < MIN_INITIATORS && !self.initiators[..self.seen].contains(&initiator) {
            self.initiators[self.seen] = initiator;
            self.seen += 1;
        }
    }

    /// Has the link been without answers long enough (at `now_us`) for attempts to count?
    #[inline]
    pub fn quiet(&self, now_us: i64) -> bool {
        now_us.saturating_sub(self.last_answer_us) >= GRACE_US
    }

    /// A responder answered an attempt we saw, at `now_us`: the link carries both directions.
    #[inline]
    pub fn answer(&mut self, now_us: i64) {
        self.last_answer_us = now_us;
        self.quiet_since_us = None;
        self.latest_us = i64::MIN;
        self.attempts = 0;
        self.seen = 0;
    }

    /// Data time of the first attempt since the last answer (`None` right after an answer).
    pub fn quiet_since(&self) -> Option<i64> {
        self.quiet_since_us
    }

    /// Too many hosts' attempts for too long without a single answer.
    pub fn one_way(&self) -> bool {
        self.seen >= MIN_INITIATORS
            && self.attempts >= MIN_ATTEMPTS
            && self
                .quiet_since_us
                .is_some_and(|t| self.latest_us.saturating_sub(t) >= MIN_QUIET_US)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy(g: &mut OneWayGuard, hosts: u64, per_host: u64, from_us: i64, step_us: i64) -> i64 {
        let mut t = from_us;
        for _ in 0..per_host {
            for h in 0..hosts {
                g.attempt(t, h);
                t += step_us;
            }
        }
        t
    }

    #[test]
    fn many_hosts_unanswered_for_a_second_is_one_way_and_one_answer_ends_it() {
        let mut g = OneWayGuard::default();
        // 20 hosts, 20 attempts each, 3 ms apart: 400 attempts over more than a second.
        busy(&mut g, 20, 20, 0, 3_000);
        assert!(g.one_way());
        g.answer(0);
        assert!(!g.one_way());
    }

    #[test]
    fn attempts_right_after_an_answer_are_not_even_counted() {
        let mut g = OneWayGuard::default();
        assert!(g.quiet(0), "no answer yet: count");
        g.answer(5_000_000);
        assert!(!g.quiet(5_000_000 + GRACE_US - 1));
        assert!(g.quiet(5_000_000 + GRACE_US));
    }

    #[test]
    fn a_lone_scanner_on_a_silent_link_is_not_one_way() {
        let mut g = OneWayGuard::default();
        busy(&mut g, 1, 10_000, 0, 1_000);
        assert!(!g.one_way());
    }

    #[test]
    fn each_condition_is_needed() {
        // Enough hosts and time, too few attempts.
        let mut g = OneWayGuard::default();
        busy(&mut g, 16, 1, 0, 100_000);
        assert!(!g.one_way());
        // Enough hosts and attempts, too little time.
        let mut g = OneWayGuard::default();
        busy(&mut g, 20, 20, 0, 10);
        assert!(!g.one_way());
        // Enough attempts and time, too few hosts.
        let mut g = OneWayGuard::default();
        busy(&mut g, MIN_INITIATORS as u64 - 1, 100, 0, 1_000);
        assert!(!g.one_way());
    }
}
