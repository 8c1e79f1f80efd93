//! Notice failures, owner answers, resolution.
//! Part of the engine's `Cx`; pure like the rest of it.
use super::Cx;
use crate::model::{Answer, Audience, Category, DeadlineKind, NoticeKind, Phase, Plan};
use jiff::Timestamp;

impl Cx<'_> {
    pub(super) fn on_notice_failed(
        &mut self,
        key: &str,
        notice: NoticeKind,
        permanent: bool,
        reason: &str,
    ) {
        if !permanent {
            self.audit(format!(
                "{} notice failed temporarily ({key}): {reason}",
                notice.as_str()
            ));
            return;
        }
        if !self.own_key(key) {
            self.audit(format!("Ignored failure of a foreign notice {key}"));
            return;
        }
        let to_owner = matches!(
            notice,
            NoticeKind::First | NoticeKind::Escalated | NoticeKind::Second
        );
        self.audit(format!(
            "{} notice failed permanently ({key}): {reason}",
            notice.as_str()
        ));
        if !to_owner || self.inc.owner_unreachable {
            return;
        }
        self.inc.owner_unreachable = true;
        self.notify(
            NoticeKind::OfficeAlert,
            Audience::Office,
            format!(
                "the owner of {} cannot be reached: {reason}",
                self.inc.subject
            ),
        );
        if self.inc.category == Category::One && self.inc.phase == Phase::Open {
            self.enforce("the owner cannot be reached");
        }
    }

    pub(super) fn on_answer(&mut self, answer: &Answer, by: &str) {
        match answer {
            Answer::Remediated { note } => {
                self.resolve(&format!("the owner ({by}) reports it remediated: {note}"));
            }
            Answer::Handled { note } => self.answered(by, &format!("handled: {note}"), None),
            Answer::Plan { text, repair_by } => {
                self.answered(by, &format!("plan: {text}"), Some((text, *repair_by)));
            }
        }
    }

    /// An answer that is not "remediated": stops the Category 1 clock; for Category 2 a plan
    /// sets the repair deadline and "handled" stops the clock.
    pub(super) fn answered(&mut self, by: &str, what: &str, plan: Option<(&String, Timestamp)>) {
        let phase_ok = matches!(self.inc.phase, Phase::Open | Phase::Answered);
        if !phase_ok {
            self.audit(format!(
                "Answer from {by} recorded ({what}) but too late to change anything: phase {}",
                self.inc.phase.name()
            ));
            return;
        }
        match self.inc.category {
            Category::One => {
                if self.inc.phase == Phase::Open {
                    self.inc.answered_at = Some(self.now);
                }
                self.inc.phase = Phase::Answered;
                self.remove_deadline(DeadlineKind::AnswerDue);
                let deferral = if self.has_deadline(DeadlineKind::DeferralEnds) {
                    "; the office's deferral end still applies"
                } else {
                    ""
                };
                self.audit(format!(
                    "Answered by {by} ({what}): Category 1 clock stopped{deferral}"
                ));
            }
            Category::Two => match plan {
                Some((text, requested)) => {
                    let cap = self
                        .policy
                        .calendar
                        .calendar_days_after(self.first_notice(), self.policy.cat2.max_plan_days);
                    let repair_by = requested.min(cap);
                    if repair_by <= self.now {
                        self.audit(format!(
                            "Plan from {by} refused: the repair date {} is not in the future (latest allowed {})",
                            self.show(requested),
                            self.show(cap)
                        ));
                        return;
                    }
                    self.inc.plan = Some(Plan {
                        text: text.clone(),
                        requested,
                        repair_by,
                        by: by.to_string(),
                        at: self.now,
                    });
                    self.inc.deadlines.clear();
                    self.set_deadline(DeadlineKind::PlanDue, repair_by);
                    self.inc.phase = Phase::Answered;
                    self.inc.answered_at = Some(self.now);
                    let capped = if repair_by < requested {
                        format!(
                            " (asked {}, capped at the policy maximum)",
                            self.show(requested)
                        )
                    } else {
                        String::new()
                    };
                    self.audit(format!(
                        "Plan from {by} accepted: repair by {}{capped}; quarantine then if not resolved",
                        self.show(repair_by)
                    ));
                }
                None => {
                    self.inc.deadlines.clear();
                    self.inc.phase = Phase::Answered;
                    self.inc.answered_at = Some(self.now);
                    self.audit(format!(
                        "Answered by {by} ({what}): Category 2 clocks stopped"
                    ));
                }
            },
            Category::Three => {
                self.inc.answered_at = Some(self.now);
                self.audit(format!(
                    "Answer from {by} recorded ({what}); Category 3 stays tracked until resolved"
                ));
            }
        }
    }

    pub(super) fn resolve(&mut self, why: &str) {
        if self.inc.phase == Phase::Resolved {
            self.audit(format!("Already resolved; noted: {why}"));
            return;
        }
        self.inc.resolved_at = Some(self.now);
        self.inc.deadlines.clear();
        if self.inc.phase == Phase::Enforcing {
            // Phase Enforcing always means "a hook call is in flight"; its result moves the
            // incident to Resolved (and records whether the host ended up enforced).
            self.audit(format!(
                "Resolved: {why}; waiting for the enforcement hook's result before verification"
            ));
            return;
        }
        self.inc.phase = Phase::Resolved;
        self.audit(format!("Resolved: {why}; the office verifies"));
    }
}
