//! Category clocks: starting them and firing due deadlines.
//! Part of the engine's `Cx`; pure like the rest of it.
use super::{ClockStart, Cx, MAX_FIRINGS};
use crate::model::{Audience, Category, Deadline, DeadlineKind, NoticeKind, Phase};

impl Cx<'_> {
    /// Start the current category's clock from `now` (deadlines are replaced).
    pub(super) fn start_clock(&mut self, why: ClockStart) {
        self.inc.deadlines.clear();
        self.inc.deferral = None;
        self.inc.second_notice_at = None;
        self.inc.first_notice_at = Some(self.now);
        // An approval covers one enforcement; a new clock needs a new one.
        self.inc.approved = false;
        let no_owner = self.inc.owner.is_none();
        if no_owner && why != ClockStart::Lowered {
            self.notify(
                NoticeKind::OfficeAlert,
                Audience::Office,
                format!(
                    "no owner known for {}: nobody can be notified",
                    self.inc.subject
                ),
            );
        }
        match self.inc.category {
            Category::One => {
                let at_once = match why {
                    ClockStart::Escalated => self.policy.cat1.escalation_enforces_at_once,
                    _ => false,
                };
                if no_owner || self.inc.owner_unreachable {
                    self.audit("Category 1 with no reachable owner: enforcing at once".into());
                    self.enforce("the owner cannot be identified or reached");
                } else if at_once {
                    self.audit("Category rose to 1: enforcing at once (policy)".into());
                    self.enforce("escalated to Category 1");
                } else {
                    let due = self.answer_window_end(self.now);
                    self.set_deadline(DeadlineKind::AnswerDue, due);
                    self.audit(format!(
                        "Category 1 answer window ends {}; {} then",
                        self.show(due),
                        self.enforce_verb()
                    ));
                }
            }
            Category::Two => {
                let cal = &self.policy.calendar;
                let second =
                    cal.business_days_after(self.now, self.policy.cat2.second_notice_business_days);
                let cap = cal.calendar_days_after(self.now, self.policy.cat2.calendar_cap_days);
                self.set_deadline(DeadlineKind::SecondNotice, second);
                self.set_deadline(DeadlineKind::CalendarCap, cap);
                self.audit(format!(
                    "Category 2 clock: second notice {}; quarantine at the calendar cap {} without an accepted plan",
                    self.show(second),
                    self.show(cap)
                ));
            }
            Category::Three => {
                self.audit("Category 3: notify and track; never enforced".into());
            }
        }
    }

    /// Process every deadline `<= now`, earliest first (kind order breaks ties).
    pub(super) fn fire_due(&mut self) {
        for _ in 0..MAX_FIRINGS {
            self.sort_deadlines();
            let Some(pos) = self.inc.deadlines.iter().position(|d| d.at <= self.now) else {
                return;
            };
            let d = self.inc.deadlines.remove(pos);
            self.fire(d);
        }
    }

    pub(super) fn fire(&mut self, d: Deadline) {
        let when = self.show(d.at);
        let phase_open = self.inc.phase == Phase::Open;
        match (d.kind, self.inc.category) {
            (DeadlineKind::AnswerDue, Category::One) if phase_open => {
                self.audit(format!("No answer by {when}"));
                self.enforce("no answer within the Category 1 window");
            }
            (DeadlineKind::DeferralEnds, Category::One)
                if matches!(self.inc.phase, Phase::Open | Phase::Answered) =>
            {
                self.audit(format!("The office's deferral ended {when}"));
                self.enforce("the deferral ended and the incident is not resolved");
            }
            (DeadlineKind::SecondNotice, Category::Two) if phase_open => {
                self.inc.second_notice_at = Some(self.now);
                let due = self.policy.calendar.business_days_after(
                    self.now,
                    self.policy.cat2.second_notice_answer_business_days,
                );
                self.set_deadline(DeadlineKind::SecondNoticeDue, due);
                self.notify_owner(
                    NoticeKind::Second,
                    format!("second notice; answer by {}", self.show(due)),
                );
                self.audit(format!(
                    "Second notice sent; answer window ends {}; quarantine then",
                    self.show(due)
                ));
            }
            (DeadlineKind::SecondNoticeDue, Category::Two) if phase_open => {
                self.audit(format!("No answer to the second notice by {when}"));
                self.enforce("no answer to the second notice");
            }
            (DeadlineKind::CalendarCap, Category::Two) if phase_open => {
                self.audit(format!("Calendar cap reached {when} with no accepted plan"));
                self.enforce("still compromised at the calendar-day cap with no accepted plan");
            }
            (DeadlineKind::PlanDue, Category::Two)
                if matches!(self.inc.phase, Phase::Answered | Phase::Open) =>
            {
                self.audit(format!("Repair date {when} passed and not resolved"));
                self.enforce("the plan's repair date passed and the host is not resolved");
            }
            (kind, cat) => self.audit(format!(
                "Deadline {} ({when}) no longer applies (category {cat}, phase {})",
                kind.as_str(),
                self.inc.phase.name()
            )),
        }
    }
}
