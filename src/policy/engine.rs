//! The incident lifecycle: `open` and `step`, pure functions of (incident, event, now, policy).
//!
//! Owns the state machine of DESIGN "The policy". Never does I/O and never reads the clock.
//!
//! Rules that are easy to miss:
//! - **Due deadlines first.** At the start of every `step`, whatever the event, every deadline
//!   `<= now` is processed in time order before the event itself. So an answer that arrives
//!   after its deadline but before the scheduler's Tick is too late, exactly as if the Tick had
//!   run on time; and deadlines that passed while the agent was down fire at the next step.
//! - **Idempotency keys** are `<id>/<seq>/<what>` with `effect_seq` incremented per effect, so
//!   they are a function of the stored state: replaying a step yields the same keys.
//! - **Safety**: a Category 3 incident never produces an enforcement hook; a protected host
//!   is never enforced without the office's Approve.
//! - Events that do not apply in the current phase change nothing but an audit line.
use super::{Policy, severity::severity};
use crate::model::{
    Answer, Audience, Category, Deadline, DeadlineKind, Deferral, Effect, EffectKind,
    EnforceAction, Event, Finding, HoldReason, Incident, IncidentId, NoticeKind, OfficeAction,
    Phase, Plan, Severity, Subject,
};
use jiff::Timestamp;

/// The result of one engine call: the new incident, what the shell must do, what to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub incident: Incident,
    pub effects: Vec<Effect>,
    pub audit: Vec<String>,
}

/// Upper bound on deadlines processed in one step (each firing removes one deadline and adds
/// at most one later one); protects against a pathological config looping.
const MAX_FIRINGS: usize = 64;

/// Open a new incident from its first finding. `now` is when the agent handles it.
pub fn open(id: IncidentId, finding: &Finding, now: Timestamp, policy: &Policy) -> Step {
    let ev = &finding.evidence;
    let account = ev.account.clone().or(match &ev.subject {
        Subject::Account(a) => Some(a.clone()),
        Subject::Host(_) => None,
    });
    let incident = Incident {
        id,
        subject: ev.subject.clone(),
        host: finding.host.clone(),
        owner: finding.owner.clone(),
        category: finding.category,
        severity: finding.severity,
        spread: finding.spread,
        phase: Phase::Open,
        opened_at: now,
        first_seen: ev.first_seen,
        last_seen: ev.last_seen,
        evidence_kinds: vec![ev.kind],
        evidence_count: 1,
        account,
        first_notice_at: Some(now),
        second_notice_at: None,
        category_since: now,
        owner_unreachable: false,
        answered_at: None,
        plan: None,
        deferral: None,
        approved: false,
        enforced_at: None,
        released_at: None,
        resolved_at: None,
        closed_at: None,
        deadlines: Vec::new(),
        effect_seq: 0,
    };
    let mut cx = Cx::new(incident, now, policy);
    cx.audit(format!(
        "Opened: {} ({}), category {}, severity {}",
        ev.kind.describe(),
        cx.inc.subject,
        cx.inc.category,
        cx.inc.severity
    ));
    if cx.inc.owner.is_some() {
        cx.notify(
            NoticeKind::First,
            Audience::Owner,
            format!("first notice: {}", ev.kind.describe()),
        );
    }
    cx.brief_severity();
    cx.start_clock(ClockStart::Open);
    cx.fire_due();
    cx.finish()
}

/// Apply one event. Pure: no I/O, no clock, no randomness.
pub fn step(incident: &Incident, event: &Event, now: Timestamp, policy: &Policy) -> Step {
    let mut cx = Cx::new(incident.clone(), now, policy);
    if cx.inc.phase.is_closed() {
        match event {
            Event::Office {
                action: OfficeAction::Note { text },
                by,
            } => cx.audit(format!("Note by {by}: {text}")),
            Event::Tick => {}
            // A release issued when closing may still fail; the office must hear of it or a
            // host would stay cut off silently.
            Event::EnforcementDone {
                key,
                action,
                ok,
                detail,
            } if !action.is_enforcement() => cx.on_enforcement_done(key, *action, *ok, detail),
            other => cx.audit(format!(
                "Ignored {} on a closed incident",
                event_name(other)
            )),
        }
        return cx.finish();
    }
    cx.fire_due();
    match event {
        Event::Tick => {}
        Event::Evidence { finding } => cx.on_evidence(finding),
        Event::NoticeDelivered { key, notice } => {
            cx.audit(format!("{} notice delivered ({key})", notice.as_str()));
        }
        Event::NoticeFailed {
            key,
            notice,
            permanent,
            reason,
        } => cx.on_notice_failed(key, *notice, *permanent, reason),
        Event::OwnerAnswered { answer, by } => cx.on_answer(answer, by),
        Event::Office { action, by } => cx.on_office(action, by),
        Event::EnforcementDone {
            key,
            action,
            ok,
            detail,
        } => cx.on_enforcement_done(key, *action, *ok, detail),
        Event::EnforcementHeld {
            key,
            action,
            reason,
        } => cx.on_held(key, *action, *reason),
    }
    // A deadline the event itself made due (a zero-length window) is handled now too, so
    // after every step no pending deadline is at or before `now`.
    cx.fire_due();
    cx.finish()
}

fn event_name(e: &Event) -> &'static str {
    match e {
        Event::Evidence { .. } => "evidence",
        Event::NoticeDelivered { .. } => "notice delivery",
        Event::NoticeFailed { .. } => "notice failure",
        Event::OwnerAnswered { .. } => "owner answer",
        Event::Office { .. } => "office action",
        Event::Tick => "tick",
        Event::EnforcementDone { .. } => "hook result",
        Event::EnforcementHeld { .. } => "enforcement hold",
    }
}

fn audience_str(a: Audience) -> String {
    match a {
        Audience::Owner => "owner".into(),
        Audience::Office => "office".into(),
        Audience::SeverityList(s) => format!("list-{}", s.as_str()),
    }
}

/// Why a category clock (re)starts: decides the wording and whether an owner notice goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClockStart {
    /// A new incident; the first notice was already emitted.
    Open,
    /// The category rose (automatically or by a person).
    Escalated,
    /// A person lowered the category.
    Lowered,
    /// New evidence on a resolved incident.
    Reopened,
}

/// The working state of one engine call.
struct Cx<'a> {
    inc: Incident,
    now: Timestamp,
    policy: &'a Policy,
    effects: Vec<Effect>,
    audit: Vec<String>,
}

impl<'a> Cx<'a> {
    fn new(inc: Incident, now: Timestamp, policy: &'a Policy) -> Self {
        Cx {
            inc,
            now,
            policy,
            effects: Vec::new(),
            audit: Vec::new(),
        }
    }

    fn finish(mut self) -> Step {
        self.sort_deadlines();
        Step {
            incident: self.inc,
            effects: self.effects,
            audit: self.audit,
        }
    }

    // ---- small helpers -------------------------------------------------------------------

    fn audit(&mut self, line: String) {
        self.audit.push(line);
    }

    fn show(&self, t: Timestamp) -> String {
        self.policy.calendar.show(t)
    }

    fn emit(&mut self, what: &str, kind: EffectKind) -> String {
        self.inc.effect_seq = self.inc.effect_seq.saturating_add(1);
        let key = format!("{}/{}/{}", self.inc.id, self.inc.effect_seq, what);
        self.effects.push(Effect {
            key: key.clone(),
            kind,
        });
        key
    }

    fn notify(&mut self, notice: NoticeKind, audience: Audience, reason: String) {
        let what = format!("notify-{}-{}", notice.as_str(), audience_str(audience));
        self.emit(
            &what,
            EffectKind::Notify {
                notice,
                audience,
                reason,
            },
        );
    }

    /// Notify the owner if there is one and notices reach them (otherwise the office was
    /// already alerted; more mail to a dead address helps nobody).
    fn notify_owner(&mut self, notice: NoticeKind, reason: String) {
        if self.inc.owner.is_some() && !self.inc.owner_unreachable {
            self.notify(notice, Audience::Owner, reason);
        }
    }

    fn hook(&mut self, action: EnforceAction) -> String {
        let what = format!("hook-{}", action.as_str());
        self.emit(&what, EffectKind::Hook { action })
    }

    fn enforce_action(&self) -> EnforceAction {
        match self.inc.subject {
            Subject::Host(_) => EnforceAction::QuarantineHost,
            Subject::Account(_) => EnforceAction::LockAccount,
        }
    }

    fn enforce_verb(&self) -> &'static str {
        match self.inc.subject {
            Subject::Host(_) => "quarantine",
            Subject::Account(_) => "lock the account",
        }
    }

    fn brief_severity(&mut self) {
        let sev = self.inc.severity;
        if sev != Severity::NA {
            self.notify(
                NoticeKind::Briefing,
                Audience::SeverityList(sev),
                format!("severity {sev} incident {}", self.inc.subject),
            );
        }
    }

    fn sort_deadlines(&mut self) {
        self.inc.deadlines.sort_by_key(|d| (d.at, d.kind));
    }

    fn set_deadline(&mut self, kind: DeadlineKind, at: Timestamp) {
        self.inc.deadlines.retain(|d| d.kind != kind);
        self.inc.deadlines.push(Deadline { kind, at });
        self.sort_deadlines();
    }

    fn remove_deadline(&mut self, kind: DeadlineKind) -> bool {
        let before = self.inc.deadlines.len();
        self.inc.deadlines.retain(|d| d.kind != kind);
        before != self.inc.deadlines.len()
    }

    fn has_deadline(&self, kind: DeadlineKind) -> bool {
        self.inc.deadlines.iter().any(|d| d.kind == kind)
    }

    fn answer_window_end(&self, from: Timestamp) -> Timestamp {
        from.checked_add(self.policy.cat1.answer_window.0)
            .unwrap_or(Timestamp::MAX)
    }

    fn first_notice(&self) -> Timestamp {
        self.inc.first_notice_at.unwrap_or(self.inc.opened_at)
    }

    fn enforced_not_released(&self) -> bool {
        self.inc.enforced_at.is_some() && self.inc.released_at.is_none()
    }

    // ---- clocks ----------------------------------------------------------------------------

    /// Start the current category's clock from `now` (deadlines are replaced).
    fn start_clock(&mut self, why: ClockStart) {
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
    fn fire_due(&mut self) {
        for _ in 0..MAX_FIRINGS {
            self.sort_deadlines();
            let Some(pos) = self.inc.deadlines.iter().position(|d| d.at <= self.now) else {
                return;
            };
            let d = self.inc.deadlines.remove(pos);
            self.fire(d);
        }
    }

    fn fire(&mut self, d: Deadline) {
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

    // ---- enforcement -----------------------------------------------------------------------

    /// Enforcement is due now: hold it for approval, or call the hook.
    fn enforce(&mut self, why: &str) {
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

    fn run_hook(&mut self, why: &str) {
        self.inc.phase = Phase::Enforcing;
        let action = self.enforce_action();
        let key = self.hook(action);
        self.notify_owner(NoticeKind::Enforced, format!("{}: {why}", action.as_str()));
        self.audit(format!(
            "Enforcing: {} ({why}); hook {key}",
            action.as_str()
        ));
    }

    fn release(&mut self, why: &str) {
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
    fn on_enforcement_done(&mut self, key: &str, action: EnforceAction, ok: bool, detail: &str) {
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

    fn on_held(&mut self, key: &str, action: EnforceAction, reason: HoldReason) {
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

    /// Keys this incident issued: `<id>/<seq>/...` with a sequence number already used.
    fn own_key(&self, key: &str) -> bool {
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

    // ---- evidence --------------------------------------------------------------------------

    fn on_evidence(&mut self, finding: &Finding) {
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
    fn still_active(&mut self) {
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
    fn escalate(&mut self, to: Category, why: &str) {
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

    fn reopen(&mut self) {
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

    // ---- notices ---------------------------------------------------------------------------

    fn on_notice_failed(&mut self, key: &str, notice: NoticeKind, permanent: bool, reason: &str) {
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

    // ---- answers ---------------------------------------------------------------------------

    fn on_answer(&mut self, answer: &Answer, by: &str) {
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
    fn answered(&mut self, by: &str, what: &str, plan: Option<(&String, Timestamp)>) {
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
                Some((_, requested)) if requested <= self.now => {
                    self.audit(format!(
                        "Plan from {by} refused: the repair date {} is not in the future",
                        self.show(requested)
                    ));
                }
                Some((text, requested)) => {
                    let cap = self
                        .policy
                        .calendar
                        .calendar_days_after(self.first_notice(), self.policy.cat2.max_plan_days);
                    let repair_by = requested.min(cap);
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

    fn resolve(&mut self, why: &str) {
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
        self.inc.resolved_at = Some(self.now);
        self.inc.deadlines.clear();
        self.audit(format!("Resolved: {why}; the office verifies"));
    }

    // ---- the office ------------------------------------------------------------------------

    fn on_office(&mut self, action: &OfficeAction, by: &str) {
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

    fn defer(&mut self, until: Timestamp, reason: &str, by: &str) {
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

    fn approve(&mut self, by: &str) {
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

    fn verify(&mut self, by: &str) {
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

    fn release_by_office(&mut self, reason: &str, by: &str) {
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

    fn close(&mut self, reason: &str, by: &str) {
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

    fn close_now(&mut self, why: &str) {
        self.inc.phase = Phase::Closed;
        self.inc.closed_at = Some(self.now);
        self.inc.deadlines.clear();
        self.notify_owner(NoticeKind::Closed, why.to_string());
        self.audit(format!("Closed: {why}"));
    }

    fn set_category(&mut self, to: Category, reason: &str, by: &str) {
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

    fn set_severity(&mut self, to: Severity, reason: &str, by: &str) {
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
