//! Enforcement: holding for approval, calling hooks, their results, releases.
//! Part of the engine's `Cx`; pure like the rest of it.
use super::Cx;
use crate::model::{Audience, Category, EnforceAction, HoldReason, NoticeKind, Phase};

impl Cx<'_> {
    /// Enforcement is due now: hold it for approval, or call the hook.
    pub(super) fn enforce(&mut self, why: &str) {
        self.inc.deadlines.clear();
        if self.inc.category == Category::Three {
            self.audit(format!(
                "Not enforcing ({why}): Category 3 is never enforced"
            ));
            return;
        }
        if matches!(
            self.inc.phase,
            Phase::Enforcing | Phase::Enforced | Phase::AwaitingApproval { .. }
        ) {
            self.audit(format!(
                "Enforcement ({why}) already under way or done (phase {})",
                self.inc.phase.name()
            ));
            return;
        }
        if self.enforced_not_released() {
            // Reopened while the earlier quarantine/lock was never lifted: it still holds.
            self.inc.phase = Phase::Enforced;
            self.audit(format!(
                "Enforcement due ({why}); still in force since {}",
                self.inc
                    .enforced_at
                    .map_or_else(String::new, |t| self.show(t))
            ));
            return;
        }
        if self.inc.host.protected && !self.inc.approved {
            self.inc.phase = Phase::AwaitingApproval {
                reason: HoldReason::ProtectedAsset,
            };
            self.notify(
                NoticeKind::Held,
                Audience::Office,
                format!(
                    "protected asset {}: enforcement ({why}) waits for approval",
                    self.inc.subject
                ),
            );
            self.audit(format!(
                "Enforcement due ({why}) but {} is a protected asset: held for the office's approval",
                self.inc.subject
            ));
            return;
        }
        self.run_hook(why);
    }

    pub(super) fn run_hook(&mut self, why: &str) {
        self.inc.phase = Phase::Enforcing;
        let action = self.enforce_action();
        let key = self.hook(action);
        self.notify_owner(NoticeKind::Enforced, format!("{}: {why}", action.as_str()));
        self.audit(format!(
            "Enforcing: {} ({why}); hook {key}",
            action.as_str()
        ));
    }

    pub(super) fn release(&mut self, why: &str) {
        let action = self.enforce_action().undo();
        let key = self.hook(action);
        self.inc.released_at = Some(self.now);
        self.notify_owner(NoticeKind::Released, format!("{}: {why}", action.as_str()));
        self.audit(format!(
            "Releasing: {} ({why}); hook {key}",
            action.as_str()
        ));
    }

    /// Hook results only count for this incident's keys and, for enforcement verbs, only
    /// while a hook call is in flight (phase Enforcing): a stale or foreign result is noted.
    pub(super) fn on_enforcement_done(
        &mut self,
        key: &str,
        action: EnforceAction,
        ok: bool,
        detail: &str,
    ) {
        if !self.own_key(key) {
            self.audit(format!("Ignored hook result for a foreign key {key}"));
            return;
        }
        let verb = action.as_str();
        if !action.is_enforcement() {
            if ok {
                self.audit(format!("{verb} done ({key}): {detail}"));
            } else {
                self.notify(
                    NoticeKind::OfficeAlert,
                    Audience::Office,
                    format!("{verb} failed for {}: {detail}", self.inc.subject),
                );
                self.audit(format!("{verb} failed ({key}): {detail}"));
            }
            return;
        }
        if self.inc.phase != Phase::Enforcing {
            self.audit(format!(
                "Ignored {verb} result ({key}, ok={ok}): no hook call in flight (phase {})",
                self.inc.phase.name()
            ));
            return;
        }
        // Resolved while the hook was running: the resolution stands once the hook answered.
        let resolved = self.inc.resolved_at.is_some();
        if ok {
            self.inc.enforced_at = Some(self.now);
            self.inc.released_at = None;
            self.inc.phase = if resolved {
                Phase::Resolved
            } else {
                Phase::Enforced
            };
            self.audit(format!("{verb} done ({key}): {detail}"));
        } else if resolved {
            self.inc.phase = Phase::Resolved;
            self.audit(format!(
                "{verb} failed ({key}): {detail}; the incident was already resolved"
            ));
        } else {
            self.inc.phase = Phase::AwaitingApproval {
                reason: HoldReason::HookFailed,
            };
            self.notify(
                NoticeKind::OfficeAlert,
                Audience::Office,
                format!("{verb} failed for {}: {detail}", self.inc.subject),
            );
            self.audit(format!(
                "{verb} failed ({key}): {detail}; waiting for the office"
            ));
        }
    }

    pub(super) fn on_held(&mut self, key: &str, action: EnforceAction, reason: HoldReason) {
        let in_flight = action.is_enforcement() && self.inc.phase == Phase::Enforcing;
        if !self.own_key(key) || !in_flight {
            self.audit(format!(
                "Hold of {} ({key}) ignored in phase {}",
                action.as_str(),
                self.inc.phase.name()
            ));
            return;
        }
        if self.inc.resolved_at.is_some() {
            self.inc.phase = Phase::Resolved;
            self.audit(format!(
                "{} held ({key}, {reason:?}); not needed any more: already resolved",
                action.as_str()
            ));
            return;
        }
        self.inc.phase = Phase::AwaitingApproval { reason };
        self.notify(
            NoticeKind::Held,
            Audience::Office,
            format!(
                "{} of {} held: {reason:?}",
                action.as_str(),
                self.inc.subject
            ),
        );
        self.audit(format!(
            "{} held by a guard ({key}, {reason:?}); waiting for approval",
            action.as_str()
        ));
    }

    /// A hook call in flight keeps failing (it is still retried): tell the office (the outbox
    /// reports it at `enforce.retry.max_attempts` failures, then at each power of two from
    /// twice that on). Nothing else changes: the enforcement is still due and happens when
    /// the hook answers.
    pub(super) fn on_failing(
        &mut self,
        key: &str,
        action: EnforceAction,
        attempts: u32,
        error: &str,
    ) {
        // As for results: a release counts whenever it is this incident's; an enforcement
        // only while its call is in flight.
        let in_flight = !action.is_enforcement() || self.inc.phase == Phase::Enforcing;
        if !self.own_key(key) {
            self.audit(format!(
                "Ignored hook failure report for a foreign key {key}"
            ));
            return;
        }
        if !in_flight {
            self.audit(format!(
                "Ignored {} failure report ({key}): no hook call in flight (phase {})",
                action.as_str(),
                self.inc.phase.name()
            ));
            return;
        }
        self.notify(
            NoticeKind::OfficeAlert,
            Audience::Office,
            format!(
                "{} of {}: the hook has failed {attempts} times (last: {error}); still retrying",
                action.as_str(),
                self.inc.subject
            ),
        );
        self.audit(format!(
            "{} ({key}) failing: {attempts} attempts, last error: {error}; office alerted",
            action.as_str()
        ));
    }

    /// Keys this incident issued: `<id>/<seq>/...` with a sequence number already used.
    pub(super) fn own_key(&self, key: &str) -> bool {
        let Some(rest) = key
            .strip_prefix(self.inc.id.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            return false;
        };
        rest.split('/')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 1 && n <= self.inc.effect_seq)
    }
}
