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
//! - **Phase Enforcing means a hook call is in flight.** Its result (or a guard's hold) moves
//!   the incident on; results for keys this incident did not issue, or arriving when no call
//!   is in flight, are only noted. Resolving while in flight records `resolved_at` and waits
//!   for the result; Release and Close are refused until it arrives.
//! - An owner answer stops the Category 1 answer window; an office deferral that is running
//!   still ends in enforcement unless the incident is resolved (the deferral cap is a cap).
//! - After a permanent delivery failure to the owner no more owner notices are emitted.
//! - New evidence reopens a Resolved incident only when its category is at least the
//!   incident's; if the earlier enforcement was never released the incident is Enforced again.
//! - A failed release hook still alerts the office after the incident is closed.
//! - Events that do not apply in the current phase change nothing but an audit line.
use super::Policy;
use crate::model::{
    Audience, Deadline, DeadlineKind, Effect, EffectKind, EnforceAction, Event, Finding, Incident,
    IncidentId, NoticeKind, OfficeAction, Phase, Severity, Subject,
};
use jiff::Timestamp;

mod answers;
mod clocks;
mod enforcement;
mod evidence;
mod office;

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
        Event::EnforcementFailing {
            key,
            action,
            attempts,
            error,
        } => cx.on_failing(key, *action, *attempts, error),
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
        Event::EnforcementFailing { .. } => "hook failing",
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
}
