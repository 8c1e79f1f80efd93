//! Safety guards in front of every hook (DESIGN invariant 7): protected assets are never
//! enforced without approval, and a rate limit with a circuit breaker stops a burst of
//! enforcements (a detector gone wrong, a spoofed flood) from disconnecting half the campus.
//!
//! Release verbs are never held: undoing an enforcement is always safe. Owns only in-memory
//! guard state; the office resets the breaker through [`Guard::reset_breaker`].
use crate::model::{EnforceAction, HoldReason};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::{HashSet, VecDeque};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub struct Guard {
    limiter: DefaultDirectRateLimiter,
    breaker: AtomicBool,
    trips: AtomicU64,
    /// Keys already admitted: a retry of the same call (hook down, timeout) is the same
    /// enforcement and must not use up the rate budget or trip the breaker. Bounded.
    admitted: Mutex<(HashSet<String>, VecDeque<String>)>,
}

/// Most admitted keys remembered for retries.
const ADMITTED_CAP: usize = 4096;

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("breaker_open", &self.breaker_open())
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// `max_per_minute` enforcements per minute on average, at most `burst` at once; both must
    /// be at least 1.
    pub fn new(max_per_minute: u32, burst: u32) -> Result<Self, String> {
        let rate = NonZeroU32::new(max_per_minute).ok_or("max_per_minute: must be at least 1")?;
        let burst = NonZeroU32::new(burst).ok_or("burst: must be at least 1")?;
        Ok(Guard {
            limiter: RateLimiter::direct(Quota::per_minute(rate).allow_burst(burst)),
            breaker: AtomicBool::new(false),
            trips: AtomicU64::new(0),
            admitted: Mutex::new((HashSet::new(), VecDeque::new())),
        })
    }

    /// May this action run now? Order: release verbs pass; protected assets need approval;
    /// approved actions bypass breaker and rate limit (a person decided); otherwise an open
    /// breaker holds, and a refusal by the rate limiter opens it.
    pub fn admit(
        &self,
        action: EnforceAction,
        key: &str,
        protected: bool,
        approved: bool,
    ) -> Result<(), HoldReason> {
        if !action.is_enforcement() {
            return Ok(());
        }
        if protected && !approved {
            return Err(HoldReason::ProtectedAsset);
        }
        if approved {
            return Ok(());
        }
        let mut admitted = self.admitted.lock().unwrap_or_else(|p| p.into_inner());
        if admitted.0.contains(key) {
            return Ok(());
        }
        if self.breaker_open() {
            return Err(HoldReason::CircuitOpen);
        }
        if self.limiter.check().is_err() {
            if !self.breaker.swap(true, Ordering::SeqCst) {
                self.trips.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    "enforcement rate exceeded: circuit breaker open; further enforcements \
                     wait for the office"
                );
            }
            return Err(HoldReason::CircuitOpen);
        }
        if admitted.1.len() >= ADMITTED_CAP
            && let Some(old) = admitted.1.pop_front()
        {
            admitted.0.remove(&old);
        }
        admitted.0.insert(key.to_string());
        admitted.1.push_back(key.to_string());
        Ok(())
    }

    pub fn breaker_open(&self) -> bool {
        self.breaker.load(Ordering::SeqCst)
    }

    /// The office closes the breaker; automatic enforcement resumes (still rate-limited).
    pub fn reset_breaker(&self) {
        if self.breaker.swap(false, Ordering::SeqCst) {
            tracing::info!("circuit breaker reset by the office");
        }
    }

    /// How many times the breaker has opened since start.
    pub fn trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    fn k() -> String {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        format!(
            "CRD-2026-000001/{}/hook-quarantine_host",
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    #[test]
    fn retries_of_an_admitted_key_do_not_use_the_budget() {
        use EnforceAction::QuarantineHost;
        let g = Guard::new(1, 1).unwrap();
        let key = k();
        for _ in 0..20 {
            assert_eq!(g.admit(QuarantineHost, &key, false, false), Ok(()));
        }
        assert!(!g.breaker_open());
        assert_eq!(
            g.admit(QuarantineHost, &k(), false, false),
            Err(HoldReason::CircuitOpen)
        );
    }

    use super::*;
    use EnforceAction::*;

    #[test]
    fn zero_limits_rejected() {
        assert!(Guard::new(0, 1).is_err());
        assert!(Guard::new(1, 0).is_err());
    }

    #[test]
    fn protected_held_unless_approved() {
        let g = Guard::new(100, 100).unwrap();
        assert_eq!(
            g.admit(QuarantineHost, &k(), true, false),
            Err(HoldReason::ProtectedAsset)
        );
        assert_eq!(
            g.admit(LockAccount, &k(), true, false),
            Err(HoldReason::ProtectedAsset)
        );
        assert_eq!(g.admit(QuarantineHost, &k(), true, true), Ok(()));
        assert_eq!(g.admit(ReleaseHost, &k(), true, false), Ok(()));
        assert_eq!(g.admit(UnlockAccount, &k(), true, false), Ok(()));
    }

    #[test]
    fn breaker_opens_after_burst_and_holds_until_reset() {
        // 1 per minute: nothing replenishes during the test.
        let g = Guard::new(1, 3).unwrap();
        for _ in 0..3 {
            assert_eq!(g.admit(QuarantineHost, &k(), false, false), Ok(()));
        }
        assert!(!g.breaker_open());
        assert_eq!(
            g.admit(LockAccount, &k(), false, false),
            Err(HoldReason::CircuitOpen)
        );
        assert!(g.breaker_open());
        assert_eq!(g.trips(), 1);
        // Everything automatic is held now, releases are not, approved bypasses.
        assert_eq!(
            g.admit(QuarantineHost, &k(), false, false),
            Err(HoldReason::CircuitOpen)
        );
        assert_eq!(g.admit(ReleaseHost, &k(), false, false), Ok(()));
        assert_eq!(g.admit(UnlockAccount, &k(), false, false), Ok(()));
        assert_eq!(g.admit(QuarantineHost, &k(), false, true), Ok(()));
        assert!(g.breaker_open());
        g.reset_breaker();
        assert!(!g.breaker_open());
        // The limiter is still empty: the next automatic one trips the breaker again.
        assert_eq!(
            g.admit(QuarantineHost, &k(), false, false),
            Err(HoldReason::CircuitOpen)
        );
        assert_eq!(g.trips(), 2);
    }

    #[test]
    fn releases_never_consume_the_budget() {
        let g = Guard::new(1, 1).unwrap();
        for _ in 0..10 {
            assert_eq!(g.admit(ReleaseHost, &k(), false, false), Ok(()));
            assert_eq!(g.admit(QuarantineHost, &k(), false, true), Ok(()));
        }
        assert_eq!(g.admit(QuarantineHost, &k(), false, false), Ok(()));
        assert!(!g.breaker_open());
    }
}
