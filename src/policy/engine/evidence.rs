//! New evidence: merging it, severity rises, escalation, reopening, still-active hosts.
//! Part of the engine's `Cx`; pure like the rest of it.
use super::{ClockStart, Cx};
use crate::model::{Audience, Category, DeadlineKind, Finding, NoticeKind, Phase};
use crate::policy::severity::severity;

impl Cx<'_> {
    pub(super) fn on_evidence(&mut self, finding: &Finding) {
        let ev = &finding.evidence;
        if ev.subject != self.inc.subject {
            self.audit(format!(
                "Ignored evidence about {} (incident is about {})",
                ev.subject, self.inc.subject
            ));
            return;
        }
        // Add the evidence.
        if let Err(pos) = self.inc.evidence_kinds.binary_search(&ev.kind) {
            self.inc.evidence_kinds.insert(pos, ev.kind);
        }
        self.inc.evidence_kinds.sort_unstable();
        self.inc.evidence_kinds.dedup();
        self.inc.evidence_count = self.inc.evidence_count.saturating_add(1);
        self.inc.first_seen = self.inc.first_seen.min(ev.first_seen);
        self.inc.last_seen = self.inc.last_seen.max(ev.last_seen);
        self.inc.spread = self.inc.spread.max(finding.spread);
        if self.inc.account.is_none() {
            self.inc.account = ev.account.clone();
        }
        // Inventory flags only ever add caution.
        self.inc.host.protected |= finding.host.protected;
        self.inc.host.critical |= finding.host.critical;
        self.inc.host.confidential_data |= finding.host.confidential_data;
        if self.inc.owner.is_none() && finding.owner.is_some() {
            self.inc.owner = finding.owner.clone();
            self.audit("Owner now known from the inventory".into());
        }
        self.audit(format!(
            "Evidence: {} (category {}), {} records in all",
            ev.kind.describe(),
            finding.category,
            self.inc.evidence_count
        ));

        // Severity only rises with evidence.
        let computed = severity(
            &self.inc.host,
            &self.inc.evidence_kinds,
            self.inc.spread,
            &self.policy.severity,
        );
        let new_sev = self.inc.severity.max(finding.severity).max(computed);
        if new_sev > self.inc.severity {
            self.audit(format!(
                "Severity rose from {} to {new_sev}",
                self.inc.severity
            ));
            self.inc.severity = new_sev;
            self.brief_severity();
        }

        let new_cat = finding.category;
        if self.inc.phase == Phase::Resolved {
            // Reopen only for evidence at least as serious as the incident: a vulnerability
            // seen on a cleaned-up compromised host must not restart a compromise clock.
            if self.inc.category.is_above(new_cat) {
                self.audit(format!(
                    "Not reopened: category {new_cat} evidence is below the incident's category {}",
                    self.inc.category
                ));
                return;
            }
            if new_cat.is_above(self.inc.category) {
                self.inc.category = new_cat;
                self.inc.category_since = self.now;
            }
            self.reopen();
            return;
        }
        if new_cat.is_above(self.inc.category) {
            self.escalate(new_cat, "new evidence");
            return;
        }
        if new_cat != self.inc.category {
            return; // lower-category evidence only adds evidence
        }
        let after_answer = self.inc.answered_at.is_some_and(|a| ev.last_seen > a);
        if self.inc.phase == Phase::Answered && after_answer {
            match self.inc.category {
                Category::One => self.still_active(),
                Category::Two if self.inc.plan.is_none() => {
                    self.notify(
                        NoticeKind::OfficeAlert,
                        Audience::Office,
                        format!(
                            "{} still shows Category 2 activity after the owner said it was handled",
                            self.inc.subject
                        ),
                    );
                    self.audit(
                        "Category 2 activity after a 'handled' answer: office alerted".into(),
                    );
                }
                _ => {}
            }
        }
    }

    /// Category 1 activity observed after the owner's answer: notify again, fresh window.
    pub(super) fn still_active(&mut self) {
        self.inc.phase = Phase::Open;
        self.inc.answered_at = None;
        self.notify_owner(
            NoticeKind::First,
            "the host is still active after your answer".into(),
        );
        if self.has_deadline(DeadlineKind::DeferralEnds) {
            self.audit(
                "Still active after the answer; the office's deferral stands, enforcement at its end"
                    .into(),
            );
            return;
        }
        if self.inc.owner.is_none() || self.inc.owner_unreachable {
            self.enforce("still active and the owner cannot be reached");
            return;
        }
        let due = self.answer_window_end(self.now);
        self.set_deadline(DeadlineKind::AnswerDue, due);
        self.audit(format!(
            "Still active after the answer: new Category 1 answer window ends {}; {} then",
            self.show(due),
            self.enforce_verb()
        ));
    }

    /// The category rises to `to` (from evidence or a person): new clock from now.
    pub(super) fn escalate(&mut self, to: Category, why: &str) {
        let from = self.inc.category;
        self.inc.category = to;
        self.inc.category_since = self.now;
        self.audit(format!("Category rose from {from} to {to} ({why})"));
        self.notify_owner(
            NoticeKind::Escalated,
            format!("category rose from {from} to {to}: {}", to.meaning()),
        );
        match self.inc.phase {
            Phase::Open | Phase::Answered => {
                self.inc.phase = Phase::Open;
                self.inc.answered_at = None;
                self.inc.plan = None;
                self.start_clock(ClockStart::Escalated);
            }
            _ => self.audit(format!("No new clock: phase is {}", self.inc.phase.name())),
        }
    }

    pub(super) fn reopen(&mut self) {
        self.inc.resolved_at = None;
        self.inc.answered_at = None;
        self.inc.plan = None;
        if self.enforced_not_released() {
            // Never released: the quarantine/lock still holds; no clock is needed.
            self.inc.phase = Phase::Enforced;
            self.audit("Reopened: new evidence after resolution; still enforced".into());
            return;
        }
        self.inc.phase = Phase::Open;
        self.audit(format!(
            "Reopened: new evidence after resolution (category {})",
            self.inc.category
        ));
        self.notify_owner(
            NoticeKind::First,
            "new evidence after the incident was resolved".into(),
        );
        self.start_clock(ClockStart::Reopened);
    }
}
