//! What the security office can do: defer, approve, verify, release, close, re-classify.
//! Part of the engine's `Cx`; pure like the rest of it.
use super::{ClockStart, Cx};
use crate::model::{Category, DeadlineKind, Deferral, NoticeKind, OfficeAction, Phase, Severity};
use jiff::Timestamp;

impl Cx<'_> {
    pub(super) fn on_office(&mut self, action: &OfficeAction, by: &str) {
        match action {
            OfficeAction::Note { text } => self.audit(format!("Note by {by}: {text}")),
            OfficeAction::Ack { note } => {
                self.answered(by, &format!("acknowledged by the office: {note}"), None)
            }
            OfficeAction::Defer { until, reason } => self.defer(*until, reason, by),
            OfficeAction::Approve => self.approve(by),
            OfficeAction::Resolve { reason } => {
                self.resolve(&format!("marked resolved by {by}: {reason}"))
            }
            OfficeAction::Verify => self.verify(by),
            OfficeAction::Release { reason } => self.release_by_office(reason, by),
            OfficeAction::Close { reason } => self.close(reason, by),
            OfficeAction::SetCategory { category, reason } => {
                self.set_category(*category, reason, by)
            }
            OfficeAction::SetSeverity { severity, reason } => {
                self.set_severity(*severity, reason, by)
            }
        }
    }

    pub(super) fn defer(&mut self, until: Timestamp, reason: &str, by: &str) {
        if self.inc.category != Category::One {
            self.audit(format!(
                "Deferral by {by} refused: only Category 1 enforcement can be deferred (category {})",
                self.inc.category
            ));
            return;
        }
        if self.inc.phase != Phase::Open {
            self.audit(format!(
                "Deferral by {by} refused: no enforcement pending (phase {})",
                self.inc.phase.name()
            ));
            return;
        }
        if reason.trim().is_empty() {
            self.audit(format!("Deferral by {by} refused: a reason is required"));
            return;
        }
        let cap = self
            .policy
            .calendar
            .calendar_days_after(self.first_notice(), self.policy.cat1.max_deferral_days);
        let granted = until.min(cap);
        if granted <= self.now {
            self.audit(format!(
                "Deferral by {by} refused: {} is not in the future (cap {})",
                self.show(granted),
                self.show(cap)
            ));
            return;
        }
        self.remove_deadline(DeadlineKind::AnswerDue);
        self.set_deadline(DeadlineKind::DeferralEnds, granted);
        self.inc.deferral = Some(Deferral {
            requested: until,
            until: granted,
            reason: reason.to_string(),
            by: by.to_string(),
        });
        let capped = if granted < until {
            format!(
                " (asked {}, capped at the policy maximum)",
                self.show(until)
            )
        } else {
            String::new()
        };
        self.audit(format!(
            "Enforcement deferred by {by} until {}{capped}: {reason}",
            self.show(granted)
        ));
    }

    pub(super) fn approve(&mut self, by: &str) {
        if !matches!(self.inc.phase, Phase::AwaitingApproval { .. }) {
            self.audit(format!(
                "Approval by {by} ignored: nothing waits for approval (phase {})",
                self.inc.phase.name()
            ));
            return;
        }
        if self.inc.category == Category::Three {
            self.audit(format!(
                "Approval by {by} ignored: Category 3 is never enforced"
            ));
            return;
        }
        self.inc.approved = true;
        self.audit(format!("Enforcement approved by {by}"));
        self.run_hook(&format!("approved by {by}"));
    }

    pub(super) fn verify(&mut self, by: &str) {
        if self.inc.phase != Phase::Resolved {
            self.audit(format!(
                "Verification by {by} ignored: not resolved (phase {})",
                self.inc.phase.name()
            ));
            return;
        }
        if self.enforced_not_released() {
            self.release(&format!("remediation verified by {by}"));
        }
        self.close_now(&format!("remediation verified by {by}"));
    }

    pub(super) fn release_by_office(&mut self, reason: &str, by: &str) {
        if self.enforced_not_released() {
            self.release(&format!("released by {by}: {reason}"));
            self.inc.deadlines.clear();
            if self.inc.phase != Phase::Resolved {
                self.inc.phase = Phase::Resolved;
                self.inc.resolved_at = Some(self.now);
            }
            return;
        }
        let why = if self.inc.phase == Phase::Enforcing {
            "the hook has not answered yet"
        } else {
            "nothing is enforced"
        };
        self.audit(format!("Release by {by} ignored: {why}"));
    }

    pub(super) fn close(&mut self, reason: &str, by: &str) {
        if self.inc.phase == Phase::Enforcing {
            self.audit(format!(
                "Close by {by} refused: the enforcement hook has not answered yet"
            ));
            return;
        }
        if self.enforced_not_released() {
            self.release(&format!("closed by {by}: {reason}"));
        }
        self.close_now(&format!("closed by {by}: {reason}"));
    }

    pub(super) fn close_now(&mut self, why: &str) {
        self.inc.phase = Phase::Closed;
        self.inc.closed_at = Some(self.now);
        self.inc.deadlines.clear();
        self.notify_owner(NoticeKind::Closed, why.to_string());
        self.audit(format!("Closed: {why}"));
    }

    pub(super) fn set_category(&mut self, to: Category, reason: &str, by: &str) {
        if reason.trim().is_empty() {
            self.audit(format!(
                "Category change by {by} refused: a reason is required"
            ));
            return;
        }
        let from = self.inc.category;
        if to == from {
            self.audit(format!("Category change by {by} ignored: already {to}"));
            return;
        }
        if to.is_above(from) {
            self.escalate(to, &format!("set by {by}: {reason}"));
            return;
        }
        self.inc.category = to;
        self.inc.category_since = self.now;
        self.audit(format!(
            "Category lowered from {from} to {to} by {by}: {reason}"
        ));
        let restart = match self.inc.phase {
            Phase::Open | Phase::Answered => true,
            // A held enforcement no longer applies to a lower category's rules.
            Phase::AwaitingApproval { .. } => true,
            _ => false,
        };
        if restart {
            self.inc.phase = Phase::Open;
            self.inc.answered_at = None;
            self.inc.plan = None;
            self.start_clock(ClockStart::Lowered);
        } else {
            self.audit(format!("No new clock: phase is {}", self.inc.phase.name()));
        }
    }

    pub(super) fn set_severity(&mut self, to: Severity, reason: &str, by: &str) {
        if reason.trim().is_empty() {
            self.audit(format!(
                "Severity change by {by} refused: a reason is required"
            ));
            return;
        }
        let from = self.inc.severity;
        if to == from {
            self.audit(format!("Severity change by {by} ignored: already {to}"));
            return;
        }
        self.inc.severity = to;
        self.audit(format!(
            "Severity set from {from} to {to} by {by}: {reason}"
        ));
        if to > from {
            self.brief_severity();
        }
    }
}
