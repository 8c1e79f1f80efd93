//! Whole-incident timelines through the pure policy engine (DESIGN invariant 1).
//!
//! Each case is a script of (local New York time, event) rows; after every row `check`
//! asserts the effects emitted, the phase and the pending deadlines, plus invariants that hold
//! for every step of every timeline (unique idempotency keys, sorted deadlines, no hook for
//! Category 3 or an unapproved protected host, purity).
use cordon::config::{Category1Config, Category2Config, SeverityConfig};
use cordon::model::{
    AccountName, Answer, Audience, Category, EffectKind, EnforceAction, Event, Evidence,
    EvidenceKind, Finding, HoldReason, HostInfo, Incident, IncidentId, NoticeKind, OfficeAction,
    Owner, Proto, Severity, Subject,
};
use cordon::policy::{self, Calendar, Policy, Step};
use jiff::Timestamp;
use jiff::civil::{Weekday, date};
use jiff::tz::TimeZone;
use std::collections::HashSet;

// ---- fixtures ------------------------------------------------------------------------------

fn ny_calendar() -> Calendar {
    use Weekday::*;
    Calendar::new(
        TimeZone::get("America/New_York").unwrap(),
        &[Monday, Tuesday, Wednesday, Thursday, Friday],
        &[date(2026, 11, 26), date(2026, 12, 25), date(2027, 1, 1)],
    )
}

fn policy() -> Policy {
    Policy::with_defaults(ny_calendar())
}

/// Local New York wall time "YYYY-MM-DD HH:MM" → instant.
fn t(s: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = s.replace(' ', "T").parse().unwrap();
    dt.to_zoned(TimeZone::get("America/New_York").unwrap())
        .unwrap()
        .timestamp()
}

fn show(p: &Policy, at: Timestamp) -> String {
    p.calendar
        .local(at)
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

const HOST: &str = "10.20.30.40";

/// A finding as the correlator would hand it over: owner known, category from the kind,
/// severity from the default rules.
fn f(kind: EvidenceKind) -> Finding {
    let host = HostInfo {
        ip: Some(HOST.parse().unwrap()),
        hostname: Some("lab-pc-7".into()),
        ..HostInfo::default()
    };
    let subject = if kind == EvidenceKind::AccountCompromise {
        Subject::Account(AccountName::try_from("jdoe".to_string()).unwrap())
    } else {
        Subject::Host(HOST.parse().unwrap())
    };
    let severity = policy::severity(&host, &[kind], 1, &SeverityConfig::default());
    let at = t("2026-01-01 00:00");
    Finding {
        evidence: Evidence {
            kind,
            subject,
            first_seen: at,
            last_seen: at,
            count: 1,
            proto: Proto::Tcp,
            ports: vec![22],
            peers: vec![],
            peer_count: 0,
            signature: None,
            signature_id: None,
            account: None,
            raw: vec![],
            detector: "test".into(),
            sensor: "test".into(),
        },
        host,
        owner: Some(Owner {
            name: "Lab Admin".into(),
            email: "lab-admin@campus.example".into(),
        }),
        category: kind.category(),
        severity,
        spread: 1,
    }
}

fn no_owner(mut x: Finding) -> Finding {
    x.owner = None;
    x
}

fn protected(mut x: Finding) -> Finding {
    x.host.protected = true;
    x.host.critical = true;
    x.severity = Severity::High;
    x
}

// ---- the script language -------------------------------------------------------------------

enum E {
    /// Open the incident (first row only).
    Open(Finding),
    Tick,
    /// New evidence observed at the row's time.
    Ev(Finding),
    /// New evidence last observed at the given local time.
    EvSeen(Finding, &'static str),
    Ans(Answer),
    Off(OfficeAction),
    /// The hook confirms the last hook call.
    HookOk,
    /// The hook permanently refuses the last hook call.
    HookFail,
    /// The last hook call has failed this many times, transiently; it is still retried.
    HookFailing(u32),
    /// A guard held the last hook call.
    Held(HoldReason),
    /// The owner's first notice failed.
    FirstFailed {
        permanent: bool,
    },
}

struct R {
    at: &'static str,
    ev: E,
    /// Effects emitted, as `notice>audience` or `hook verb`.
    fx: &'static [&'static str],
    phase: &'static str,
    /// Pending deadlines after the step, as `kind Day YYYY-MM-DD HH:MM ZZZ`.
    dl: &'static [&'static str],
}

fn r(
    at: &'static str,
    ev: E,
    fx: &'static [&'static str],
    phase: &'static str,
    dl: &'static [&'static str],
) -> R {
    R {
        at,
        ev,
        fx,
        phase,
        dl,
    }
}

fn ans_handled() -> E {
    E::Ans(Answer::Handled {
        note: "unplugged".into(),
    })
}
fn ans_remediated() -> E {
    E::Ans(Answer::Remediated {
        note: "reinstalled".into(),
    })
}
fn ans_plan(by: &str) -> E {
    E::Ans(Answer::Plan {
        text: "reimage after the exam".into(),
        repair_by: t(by),
    })
}

fn summarize(step: &Step) -> Vec<String> {
    step.effects
        .iter()
        .map(|e| match &e.kind {
            EffectKind::Notify {
                notice, audience, ..
            } => {
                let to = match audience {
                    Audience::Owner => "owner".to_string(),
                    Audience::Office => "office".to_string(),
                    Audience::SeverityList(s) => format!("list-{s}"),
                };
                format!("{}>{to}", notice.as_str())
            }
            EffectKind::Hook { action } => format!("hook {}", action.as_str()),
        })
        .collect()
}

fn deadlines(p: &Policy, inc: &Incident) -> Vec<String> {
    inc.deadlines
        .iter()
        .map(|d| format!("{} {}", d.kind.as_str(), show(p, d.at)))
        .collect()
}

/// Run a whole timeline; assert every row and the invariants. Returns the final incident and
/// every effect key, for cases that check more.
fn check(name: &str, p: &Policy, rows: Vec<R>) -> (Incident, Vec<String>) {
    let id = IncidentId::new(2026, 123);
    let mut inc: Option<Incident> = None;
    let mut keys: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut last_hook: Option<(String, EnforceAction)> = None;
    let mut first_notice_key: Option<String> = None;
    for (i, row) in rows.into_iter().enumerate() {
        let now = t(row.at);
        let ctx = format!("[{name}] row {i} at {}", row.at);
        let out = match (&inc, row.ev) {
            (None, E::Open(finding)) => policy::open(id.clone(), &finding, now, p),
            (None, _) => panic!("{ctx}: a timeline starts with Open"),
            (Some(_), E::Open(_)) => panic!("{ctx}: Open only as the first row"),
            (Some(cur), ev) => {
                let event = match ev {
                    E::Open(_) => unreachable!(),
                    E::Tick => Event::Tick,
                    E::Ev(mut finding) => {
                        finding.evidence.first_seen = now;
                        finding.evidence.last_seen = now;
                        Event::Evidence {
                            finding: Box::new(finding),
                        }
                    }
                    E::EvSeen(mut finding, seen_at) => {
                        finding.evidence.first_seen = t(seen_at);
                        finding.evidence.last_seen = t(seen_at);
                        Event::Evidence {
                            finding: Box::new(finding),
                        }
                    }
                    E::Ans(answer) => Event::OwnerAnswered {
                        answer,
                        by: "lab-admin@campus.example".into(),
                    },
                    E::Off(action) => Event::Office {
                        action,
                        by: "soc-analyst".into(),
                    },
                    E::HookOk | E::HookFail => {
                        let (key, action) = last_hook.clone().expect("a hook was called");
                        Event::EnforcementDone {
                            key,
                            action,
                            ok: matches!(ev, E::HookOk),
                            detail: "hook said so".into(),
                        }
                    }
                    E::HookFailing(attempts) => {
                        let (key, action) = last_hook.clone().expect("a hook was called");
                        Event::EnforcementFailing {
                            key,
                            action,
                            attempts,
                            error: "connection refused".into(),
                        }
                    }
                    E::Held(reason) => {
                        let (key, action) = last_hook.clone().expect("a hook was called");
                        Event::EnforcementHeld {
                            key,
                            action,
                            reason,
                        }
                    }
                    E::FirstFailed { permanent } => Event::NoticeFailed {
                        key: first_notice_key.clone().expect("a first notice"),
                        notice: NoticeKind::First,
                        permanent,
                        reason: "550 no such user".into(),
                    },
                };
                let out = policy::step(cur, &event, now, p);
                // Purity: the same input gives the same output.
                assert_eq!(out, policy::step(cur, &event, now, p), "{ctx}: not pure");
                if !matches!(event, Event::Tick) {
                    assert!(!out.audit.is_empty(), "{ctx}: no audit line");
                }
                out
            }
        };
        // Effects, phase, deadlines as the table says.
        assert_eq!(
            summarize(&out),
            row.fx,
            "{ctx}: effects\naudit: {:#?}",
            out.audit
        );
        assert_eq!(
            out.incident.phase.name(),
            row.phase,
            "{ctx}: phase\naudit: {:#?}",
            out.audit
        );
        assert_eq!(
            deadlines(p, &out.incident),
            row.dl,
            "{ctx}: deadlines\naudit: {:#?}",
            out.audit
        );
        // Invariants.
        let inc2 = &out.incident;
        assert!(
            inc2.deadlines.windows(2).all(|w| w[0].at <= w[1].at),
            "{ctx}: deadlines not sorted"
        );
        assert_eq!(
            inc2.next_deadline(),
            inc2.deadlines.first().map(|d| d.at),
            "{ctx}: next_deadline"
        );
        let seq0 = inc.as_ref().map_or(0, |c| c.effect_seq);
        for (j, e) in out.effects.iter().enumerate() {
            let want_prefix = format!("{id}/{}/", seq0 + 1 + j as u32);
            assert!(e.key.starts_with(&want_prefix), "{ctx}: key {} ", e.key);
            assert!(seen.insert(e.key.clone()), "{ctx}: duplicate key {}", e.key);
            keys.push(e.key.clone());
            match e.kind {
                EffectKind::Hook { action } => {
                    if action.is_enforcement() {
                        assert_ne!(inc2.category, Category::Three, "{ctx}: hook for Cat 3");
                        assert!(
                            !inc2.host.protected || inc2.approved,
                            "{ctx}: protected host enforced without approval"
                        );
                    }
                    last_hook = Some((e.key.clone(), action));
                }
                EffectKind::Notify {
                    notice: NoticeKind::First,
                    ..
                } if first_notice_key.is_none() => first_notice_key = Some(e.key.clone()),
                _ => {}
            }
        }
        assert_eq!(inc2.effect_seq, seq0 + out.effects.len() as u32, "{ctx}");
        inc = Some(out.incident);
    }
    (inc.expect("at least one row"), keys)
}

// ---- Category 2 and the calendar -----------------------------------------------------------

#[test]
fn cat2_friday_notice_cap_comes_before_second_notice() {
    use EvidenceKind::TrojanC2;
    // First notice Friday 16:00: second notice Tuesday 16:00 (2 business days), cap Monday
    // 16:00 (3 calendar days) comes first and quarantines.
    check(
        "cat2-friday",
        &policy(),
        vec![
            r(
                "2026-11-20 16:00",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "calendar_cap Mon 2026-11-23 16:00 EST",
                    "second_notice Tue 2026-11-24 16:00 EST",
                ],
            ),
            r(
                "2026-11-22 12:00",
                E::Tick,
                &[],
                "open",
                &[
                    "calendar_cap Mon 2026-11-23 16:00 EST",
                    "second_notice Tue 2026-11-24 16:00 EST",
                ],
            ),
            r(
                "2026-11-23 15:59",
                E::Tick,
                &[],
                "open",
                &[
                    "calendar_cap Mon 2026-11-23 16:00 EST",
                    "second_notice Tue 2026-11-24 16:00 EST",
                ],
            ),
            r(
                "2026-11-23 16:00",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r("2026-11-23 16:00", E::HookOk, &[], "enforced", &[]),
            r("2026-11-24 16:00", E::Tick, &[], "enforced", &[]),
        ],
    );
}

#[test]
fn cat2_deadlines_missed_while_down_fire_in_time_order_once() {
    use EvidenceKind::TrojanC2;
    // The agent was down from Friday until Wednesday: both deadlines are past; the cap
    // (earlier) enforces, and the second notice is no longer sent.
    check(
        "cat2-down",
        &policy(),
        vec![
            r(
                "2026-11-20 16:00",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "calendar_cap Mon 2026-11-23 16:00 EST",
                    "second_notice Tue 2026-11-24 16:00 EST",
                ],
            ),
            r(
                "2026-11-25 08:00",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn cat2_tuesday_second_notice_then_tie_enforces_once() {
    use EvidenceKind::MalwareDownload;
    check(
        "cat2-tuesday",
        &policy(),
        vec![
            r(
                "2026-11-17 10:00",
                E::Open(f(MalwareDownload)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "second_notice Thu 2026-11-19 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
            r(
                "2026-11-19 10:00",
                E::Tick,
                &["second>owner"],
                "open",
                &[
                    "second_notice_due Fri 2026-11-20 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
            // Two enforcing deadlines at the same instant: one hook.
            r(
                "2026-11-20 10:00",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn cat2_saturday_notice_and_plan_capped_at_one_week() {
    use EvidenceKind::TrojanC2;
    // Saturday: business days start Monday 00:00, so the second notice is Wednesday 00:00.
    check(
        "cat2-saturday",
        &policy(),
        vec![
            r(
                "2026-11-21 10:30",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "calendar_cap Tue 2026-11-24 10:30 EST",
                    "second_notice Wed 2026-11-25 00:00 EST",
                ],
            ),
            // The owner asks for mid-December; the plan is capped at one week after the notice.
            r(
                "2026-11-23 09:00",
                ans_plan("2026-12-10 12:00"),
                &[],
                "answered",
                &["plan_due Sat 2026-11-28 10:30 EST"],
            ),
            r(
                "2026-11-25 00:00",
                E::Tick,
                &[],
                "answered",
                &["plan_due Sat 2026-11-28 10:30 EST"],
            ),
            r(
                "2026-11-28 10:29",
                E::Tick,
                &[],
                "answered",
                &["plan_due Sat 2026-11-28 10:30 EST"],
            ),
            r(
                "2026-11-28 10:30",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn cat2_plan_within_the_week_is_kept_and_remediation_stops_it() {
    use EvidenceKind::TrojanC2;
    let p = policy();
    let (inc, _) = check(
        "cat2-plan-ok",
        &p,
        vec![
            r(
                "2026-11-16 09:00",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "second_notice Wed 2026-11-18 09:00 EST",
                    "calendar_cap Thu 2026-11-19 09:00 EST",
                ],
            ),
            r(
                "2026-11-16 11:00",
                ans_plan("2026-11-20 17:00"),
                &[],
                "answered",
                &["plan_due Fri 2026-11-20 17:00 EST"],
            ),
            r("2026-11-20 12:00", ans_remediated(), &[], "resolved", &[]),
            r("2026-11-20 17:00", E::Tick, &[], "resolved", &[]),
            // Office verifies: nothing was enforced, so no release; the owner hears it closed.
            r(
                "2026-11-23 09:00",
                E::Off(OfficeAction::Verify),
                &["closed>owner"],
                "closed",
                &[],
            ),
            r("2026-11-30 09:00", E::Ev(f(TrojanC2)), &[], "closed", &[]),
        ],
    );
    let plan = inc.plan.expect("plan kept");
    assert_eq!(plan.requested, plan.repair_by);
    assert_eq!(inc.evidence_count, 1, "closed incidents ignore evidence");
}

#[test]
fn cat2_day_before_holiday_second_notice_and_its_answer_window() {
    use EvidenceKind::Beacon;
    // A long cap so the business-day clocks decide. Wednesday before Thanksgiving: +2
    // business days skips Thursday (holiday) and the weekend → Monday; +1 → Tuesday.
    let mut p = policy();
    p.cat2.calendar_cap_days = 10;
    check(
        "cat2-holiday",
        &p,
        vec![
            r(
                "2026-11-25 09:00",
                E::Open(f(Beacon)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "second_notice Mon 2026-11-30 09:00 EST",
                    "calendar_cap Sat 2026-12-05 09:00 EST",
                ],
            ),
            r(
                "2026-11-30 09:00",
                E::Tick,
                &["second>owner"],
                "open",
                &[
                    "second_notice_due Tue 2026-12-01 09:00 EST",
                    "calendar_cap Sat 2026-12-05 09:00 EST",
                ],
            ),
            r(
                "2026-12-01 09:00",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn cat2_across_fall_back_keeps_wall_clock() {
    use EvidenceKind::TrojanC2;
    // Friday 16:00 EDT; DST ends Sunday 2026-11-01. The cap is Monday 16:00 EST (73 hours).
    let p = policy();
    let (inc, _) = check(
        "cat2-fall-back",
        &p,
        vec![r(
            "2026-10-30 16:00",
            E::Open(f(TrojanC2)),
            &["first>owner", "briefing>list-low"],
            "open",
            &[
                "calendar_cap Mon 2026-11-02 16:00 EST",
                "second_notice Tue 2026-11-03 16:00 EST",
            ],
        )],
    );
    let cap = inc.deadlines[0].at;
    assert_eq!(cap.duration_since(t("2026-10-30 16:00")).as_hours(), 73);
}

#[test]
fn cat2_across_spring_forward_from_a_0230_wall_time() {
    use EvidenceKind::TrojanC2;
    // Thursday 02:30 EST; the cap three days later is Sunday 2026-03-08 02:30, which does not
    // exist in New York: it moves forward to 03:30 EDT.
    check(
        "cat2-spring-forward",
        &policy(),
        vec![
            r(
                "2026-03-05 02:30",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "calendar_cap Sun 2026-03-08 03:30 EDT",
                    "second_notice Mon 2026-03-09 02:30 EDT",
                ],
            ),
            r(
                "2026-03-08 01:59",
                E::Tick,
                &[],
                "open",
                &[
                    "calendar_cap Sun 2026-03-08 03:30 EDT",
                    "second_notice Mon 2026-03-09 02:30 EDT",
                ],
            ),
            r(
                "2026-03-08 03:30",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn cat2_without_owner_alerts_office_and_runs_clocks() {
    use EvidenceKind::TrojanC2;
    check(
        "cat2-no-owner",
        &policy(),
        vec![
            r(
                "2026-11-17 10:00",
                E::Open(no_owner(f(TrojanC2))),
                &["briefing>list-low", "office_alert>office"],
                "open",
                &[
                    "second_notice Thu 2026-11-19 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
            r(
                "2026-11-19 10:00",
                E::Tick,
                &[],
                "open",
                &[
                    "second_notice_due Fri 2026-11-20 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
            r(
                "2026-11-20 10:00",
                E::Tick,
                &["hook quarantine_host"],
                "enforcing",
                &[],
            ),
        ],
    );
}

// ---- Category 1 ------------------------------------------------------------------------------

fn cat1_open() -> R {
    r(
        "2026-11-20 16:00",
        E::Open(f(EvidenceKind::OutboundScan)),
        &["first>owner", "briefing>list-medium"],
        "open",
        &["answer_due Fri 2026-11-20 16:15 EST"],
    )
}

/// The answer window of [`cat1_open`] passes unanswered: the quarantine hook is called.
fn cat1_quarantined_at_deadline() -> R {
    r(
        "2026-11-20 16:15",
        E::Tick,
        &["hook quarantine_host", "enforced>owner"],
        "enforcing",
        &[],
    )
}

#[test]
fn cat1_answer_one_minute_before_deadline_stops_the_clock() {
    check(
        "cat1-answer-in-time",
        &policy(),
        vec![
            cat1_open(),
            r("2026-11-20 16:14", ans_handled(), &[], "answered", &[]),
            r("2026-11-20 16:15", E::Tick, &[], "answered", &[]),
            r("2026-11-23 16:15", E::Tick, &[], "answered", &[]),
        ],
    );
}

#[test]
fn cat1_office_ack_before_deadline_stops_the_clock() {
    check(
        "cat1-ack",
        &policy(),
        vec![
            cat1_open(),
            r(
                "2026-11-20 16:05",
                E::Off(OfficeAction::Ack {
                    note: "owner phoned".into(),
                }),
                &[],
                "answered",
                &[],
            ),
        ],
    );
}

#[test]
fn cat1_answer_one_minute_late_after_tick_is_too_late() {
    check(
        "cat1-late-after-tick",
        &policy(),
        vec![
            cat1_open(),
            cat1_quarantined_at_deadline(),
            r("2026-11-20 16:16", ans_handled(), &[], "enforcing", &[]),
            r("2026-11-20 16:16", E::HookOk, &[], "enforced", &[]),
        ],
    );
}

#[test]
fn cat1_answer_one_minute_late_before_any_tick_enforces_first() {
    // The scheduler's Tick has not run yet: due deadlines are processed before the answer.
    check(
        "cat1-late-no-tick",
        &policy(),
        vec![
            cat1_open(),
            r(
                "2026-11-20 16:16",
                ans_handled(),
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn cat1_owner_unknown_enforces_at_once() {
    check(
        "cat1-no-owner",
        &policy(),
        vec![r(
            "2026-11-20 16:00",
            E::Open(no_owner(f(EvidenceKind::OutboundSpam))),
            &[
                "briefing>list-medium",
                "office_alert>office",
                "hook quarantine_host",
            ],
            "enforcing",
            &[],
        )],
    );
}

#[test]
fn cat1_notice_failed_permanently_enforces_at_once() {
    check(
        "cat1-notice-failed",
        &policy(),
        vec![
            cat1_open(),
            // A temporary failure changes nothing.
            r(
                "2026-11-20 16:01",
                E::FirstFailed { permanent: false },
                &[],
                "open",
                &["answer_due Fri 2026-11-20 16:15 EST"],
            ),
            r(
                "2026-11-20 16:02",
                E::FirstFailed { permanent: true },
                &["office_alert>office", "hook quarantine_host"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn cat1_protected_host_waits_for_approval() {
    let open = r(
        "2026-11-20 16:00",
        E::Open(protected(f(EvidenceKind::OutboundDos))),
        &["first>owner", "briefing>list-high"],
        "open",
        &["answer_due Fri 2026-11-20 16:15 EST"],
    );
    let (inc, _) = check(
        "cat1-protected",
        &policy(),
        vec![
            open,
            r(
                "2026-11-20 16:15",
                E::Tick,
                &["held>office"],
                "awaiting_approval",
                &[],
            ),
            r("2026-11-21 09:00", E::Tick, &[], "awaiting_approval", &[]),
            r(
                "2026-11-21 09:00",
                ans_handled(),
                &[],
                "awaiting_approval",
                &[],
            ),
            r(
                "2026-11-21 09:05",
                E::Off(OfficeAction::Approve),
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r("2026-11-21 09:06", E::HookOk, &[], "enforced", &[]),
            r(
                "2026-11-21 12:00",
                E::Off(OfficeAction::Release {
                    reason: "service restored on clean host".into(),
                }),
                &["hook release_host", "released>owner"],
                "resolved",
                &[],
            ),
            // Verify after a release: no second release.
            r(
                "2026-11-21 13:00",
                E::Off(OfficeAction::Verify),
                &["closed>owner"],
                "closed",
                &[],
            ),
            r("2026-11-22 13:00", E::Tick, &[], "closed", &[]),
            r(
                "2026-11-22 13:00",
                E::Off(OfficeAction::Approve),
                &[],
                "closed",
                &[],
            ),
        ],
    );
    assert!(inc.approved);
    assert!(inc.released_at.is_some() && inc.closed_at.is_some());
}

#[test]
fn cat1_protected_owner_unknown_is_held_not_enforced() {
    check(
        "cat1-protected-no-owner",
        &policy(),
        vec![r(
            "2026-11-20 16:00",
            E::Open(no_owner(protected(f(EvidenceKind::OutboundScan)))),
            &["briefing>list-high", "office_alert>office", "held>office"],
            "awaiting_approval",
            &[],
        )],
    );
}

#[test]
fn cat1_deferral_is_capped_at_three_calendar_days_across_dst() {
    // First notice Friday 16:00 EDT before the fall-back; the office asks for two weeks; the
    // cap is three calendar days later at the same wall time, Monday 16:00 EST.
    let p = policy();
    let (inc, _) = check(
        "cat1-deferral",
        &p,
        vec![
            r(
                "2026-10-30 16:00",
                E::Open(protected(f(EvidenceKind::OutboundScan))),
                &["first>owner", "briefing>list-high"],
                "open",
                &["answer_due Fri 2026-10-30 16:15 EDT"],
            ),
            // Without a reason the deferral is refused.
            r(
                "2026-10-30 16:05",
                E::Off(OfficeAction::Defer {
                    until: t("2026-11-13 16:00"),
                    reason: " ".into(),
                }),
                &[],
                "open",
                &["answer_due Fri 2026-10-30 16:15 EDT"],
            ),
            r(
                "2026-10-30 16:06",
                E::Off(OfficeAction::Defer {
                    until: t("2026-11-13 16:00"),
                    reason: "payroll server, migrating".into(),
                }),
                &[],
                "open",
                &["deferral_ends Mon 2026-11-02 16:00 EST"],
            ),
            r(
                "2026-10-30 16:15",
                E::Tick,
                &[],
                "open",
                &["deferral_ends Mon 2026-11-02 16:00 EST"],
            ),
            // Protected: at the end of the deferral it is held for approval, not enforced.
            r(
                "2026-11-02 16:00",
                E::Tick,
                &["held>office"],
                "awaiting_approval",
                &[],
            ),
        ],
    );
    let d = inc.deferral.expect("deferral recorded");
    assert_eq!(d.requested, t("2026-11-13 16:00"));
    assert_eq!(d.until, t("2026-11-02 16:00"));
}

#[test]
fn cat1_short_deferral_enforces_when_it_ends() {
    check(
        "cat1-short-deferral",
        &policy(),
        vec![
            cat1_open(),
            r(
                "2026-11-20 16:10",
                E::Off(OfficeAction::Defer {
                    until: t("2026-11-21 09:00"),
                    reason: "owner travelling, deputy on it".into(),
                }),
                &[],
                "open",
                &["deferral_ends Sat 2026-11-21 09:00 EST"],
            ),
            r(
                "2026-11-21 09:00",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn deferral_refused_for_category_2() {
    use EvidenceKind::TrojanC2;
    check(
        "cat2-defer-refused",
        &policy(),
        vec![
            r(
                "2026-11-17 10:00",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "second_notice Thu 2026-11-19 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
            r(
                "2026-11-17 11:00",
                E::Off(OfficeAction::Defer {
                    until: t("2026-11-18 10:00"),
                    reason: "please".into(),
                }),
                &[],
                "open",
                &[
                    "second_notice Thu 2026-11-19 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
        ],
    );
}

#[test]
fn cat1_still_active_after_answer_gets_a_new_window() {
    use EvidenceKind::OutboundScan;
    check(
        "cat1-still-active",
        &policy(),
        vec![
            cat1_open(),
            r("2026-11-20 16:10", ans_handled(), &[], "answered", &[]),
            // Evidence observed before the answer, delivered late: nothing new.
            r(
                "2026-11-20 16:20",
                E::EvSeen(f(OutboundScan), "2026-11-20 16:09"),
                &[],
                "answered",
                &[],
            ),
            // Observed after the answer: the host is still active.
            r(
                "2026-11-20 16:31",
                E::EvSeen(f(OutboundScan), "2026-11-20 16:30"),
                &["first>owner"],
                "open",
                &["answer_due Fri 2026-11-20 16:46 EST"],
            ),
            r(
                "2026-11-20 16:46",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn hook_failure_and_circuit_hold_need_the_office() {
    check(
        "hook-failure",
        &policy(),
        vec![
            cat1_open(),
            cat1_quarantined_at_deadline(),
            r(
                "2026-11-20 16:16",
                E::HookFail,
                &["office_alert>office"],
                "awaiting_approval",
                &[],
            ),
            r(
                "2026-11-20 16:30",
                E::Off(OfficeAction::Approve),
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r(
                "2026-11-20 16:31",
                E::Held(HoldReason::CircuitOpen),
                &["held>office"],
                "awaiting_approval",
                &[],
            ),
            r(
                "2026-11-20 16:40",
                E::Off(OfficeAction::Approve),
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r("2026-11-20 16:41", E::HookOk, &[], "enforced", &[]),
        ],
    );
}

/// A hook that keeps failing transiently alerts the office, and the enforcement still
/// happens when the hook answers: nothing waits for approval. A report about a call no
/// longer in flight is only noted.
#[test]
fn a_failing_hook_alerts_the_office_and_enforcement_goes_on() {
    check(
        "hook-failing",
        &policy(),
        vec![
            cat1_open(),
            cat1_quarantined_at_deadline(),
            r(
                "2026-11-20 16:16",
                E::HookFailing(3),
                &["office_alert>office"],
                "enforcing",
                &[],
            ),
            r("2026-11-20 16:30", E::HookOk, &[], "enforced", &[]),
            r("2026-11-20 16:31", E::HookFailing(3), &[], "enforced", &[]),
        ],
    );
}

#[test]
fn account_compromise_locks_and_unlocks_the_account() {
    check(
        "account",
        &policy(),
        vec![
            r(
                "2026-11-20 16:00",
                E::Open(f(EvidenceKind::AccountCompromise)),
                &["first>owner", "briefing>list-medium"],
                "open",
                &["answer_due Fri 2026-11-20 16:15 EST"],
            ),
            r(
                "2026-11-20 16:15",
                E::Tick,
                &["hook lock_account", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r("2026-11-20 16:15", E::HookOk, &[], "enforced", &[]),
            r("2026-11-20 17:00", ans_remediated(), &[], "resolved", &[]),
            r(
                "2026-11-21 10:00",
                E::Off(OfficeAction::Verify),
                &["hook unlock_account", "released>owner", "closed>owner"],
                "closed",
                &[],
            ),
        ],
    );
}

// ---- Category 3 ------------------------------------------------------------------------------

#[test]
fn cat3_is_never_enforced_through_a_long_timeline() {
    use EvidenceKind::Vulnerable;
    let mut rows = vec![r(
        "2026-11-02 09:00",
        E::Open(f(Vulnerable)),
        &["first>owner", "briefing>list-low"],
        "open",
        &[],
    )];
    // Seven weeks of ticks and repeated Category 3 evidence.
    const DAYS: [&str; 7] = [
        "2026-11-09 09:00",
        "2026-11-16 09:00",
        "2026-11-23 09:00",
        "2026-11-30 09:00",
        "2026-12-07 09:00",
        "2026-12-14 09:00",
        "2026-12-21 09:00",
    ];
    for d in DAYS {
        rows.push(r(d, E::Tick, &[], "open", &[]));
        rows.push(r(d, E::Ev(f(Vulnerable)), &[], "open", &[]));
    }
    rows.extend([
        r(
            "2026-12-21 10:00",
            E::FirstFailed { permanent: true },
            &["office_alert>office"],
            "open",
            &[],
        ),
        r(
            "2026-12-21 10:01",
            E::Off(OfficeAction::Approve),
            &[],
            "open",
            &[],
        ),
        r(
            "2026-12-21 10:02",
            E::Off(OfficeAction::Defer {
                until: t("2026-12-22 10:00"),
                reason: "x".into(),
            }),
            &[],
            "open",
            &[],
        ),
        r("2026-12-21 10:03", ans_handled(), &[], "open", &[]),
        r("2026-12-28 10:00", E::Tick, &[], "open", &[]),
        r(
            "2026-12-28 11:00",
            E::Off(OfficeAction::Resolve {
                reason: "patched".into(),
            }),
            &[],
            "resolved",
            &[],
        ),
        // Owner unreachable: the close notice is not sent to a dead address.
        r(
            "2026-12-28 12:00",
            E::Off(OfficeAction::Verify),
            &[],
            "closed",
            &[],
        ),
    ]);
    let (inc, keys) = check("cat3-long", &policy(), rows);
    assert_eq!(inc.evidence_count, 8);
    assert!(keys.iter().all(|k| !k.contains("/hook-")));
}

// ---- escalation and people ---------------------------------------------------------------------

#[test]
fn escalation_3_to_2_starts_category_2_clocks_from_now() {
    use EvidenceKind::{TrojanC2, Vulnerable};
    let (inc, _) = check(
        "esc-3-2",
        &policy(),
        vec![
            r(
                "2026-11-16 10:00",
                E::Open(f(Vulnerable)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[],
            ),
            r(
                "2026-11-18 11:00",
                E::Ev(f(TrojanC2)),
                &["escalated>owner"],
                "open",
                &[
                    "second_notice Fri 2026-11-20 11:00 EST",
                    "calendar_cap Sat 2026-11-21 11:00 EST",
                ],
            ),
            // Lower-category evidence only adds evidence.
            r(
                "2026-11-18 12:00",
                E::Ev(f(Vulnerable)),
                &[],
                "open",
                &[
                    "second_notice Fri 2026-11-20 11:00 EST",
                    "calendar_cap Sat 2026-11-21 11:00 EST",
                ],
            ),
        ],
    );
    assert_eq!(inc.category, Category::Two);
    assert_eq!(inc.category_since, t("2026-11-18 11:00"));
    assert_eq!(inc.first_notice_at, Some(t("2026-11-18 11:00")));
    assert_eq!(
        inc.evidence_kinds,
        vec![EvidenceKind::TrojanC2, EvidenceKind::Vulnerable]
    );
}

#[test]
fn escalation_2_to_1_replaces_the_plan_with_an_answer_window() {
    use EvidenceKind::{OutboundScan, TrojanC2};
    let (inc, _) = check(
        "esc-2-1",
        &policy(),
        vec![
            r(
                "2026-11-16 10:00",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "second_notice Wed 2026-11-18 10:00 EST",
                    "calendar_cap Thu 2026-11-19 10:00 EST",
                ],
            ),
            r(
                "2026-11-16 12:00",
                ans_plan("2026-11-19 09:00"),
                &[],
                "answered",
                &["plan_due Thu 2026-11-19 09:00 EST"],
            ),
            // It starts scanning: Category 1, severity rises to medium (told once).
            r(
                "2026-11-17 08:00",
                E::Ev(f(OutboundScan)),
                &["briefing>list-medium", "escalated>owner"],
                "open",
                &["answer_due Tue 2026-11-17 08:15 EST"],
            ),
            r(
                "2026-11-17 08:05",
                E::Ev(f(OutboundScan)),
                &[],
                "open",
                &["answer_due Tue 2026-11-17 08:15 EST"],
            ),
            r(
                "2026-11-17 08:15",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
        ],
    );
    assert_eq!(inc.category, Category::One);
    assert_eq!(inc.severity, Severity::Medium);
    assert!(inc.plan.is_none());
}

#[test]
fn escalation_to_1_may_enforce_at_once_by_config() {
    use EvidenceKind::{OutboundExploit, TrojanC2};
    let p = Policy::new(
        ny_calendar(),
        Category1Config {
            escalation_enforces_at_once: true,
            ..Category1Config::default()
        },
        Category2Config::default(),
        SeverityConfig::default(),
    );
    check(
        "esc-at-once",
        &p,
        vec![
            r(
                "2026-11-16 10:00",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "second_notice Wed 2026-11-18 10:00 EST",
                    "calendar_cap Thu 2026-11-19 10:00 EST",
                ],
            ),
            r(
                "2026-11-16 10:30",
                E::Ev(f(OutboundExploit)),
                &[
                    "briefing>list-medium",
                    "escalated>owner",
                    "hook quarantine_host",
                    "enforced>owner",
                ],
                "enforcing",
                &[],
            ),
        ],
    );
}

#[test]
fn category_lowered_by_a_person_needs_a_reason() {
    let (inc, _) = check(
        "lowered",
        &policy(),
        vec![
            cat1_open(),
            r(
                "2026-11-20 16:05",
                E::Off(OfficeAction::SetCategory {
                    category: Category::Two,
                    reason: "".into(),
                }),
                &[],
                "open",
                &["answer_due Fri 2026-11-20 16:15 EST"],
            ),
            // 1 → 2: Category 2 clocks from now.
            r(
                "2026-11-20 16:05",
                E::Off(OfficeAction::SetCategory {
                    category: Category::Two,
                    reason: "authorised scan by the network team".into(),
                }),
                &[],
                "open",
                &[
                    "calendar_cap Mon 2026-11-23 16:05 EST",
                    "second_notice Tue 2026-11-24 16:05 EST",
                ],
            ),
            r(
                "2026-11-20 16:15",
                E::Tick,
                &[],
                "open",
                &[
                    "calendar_cap Mon 2026-11-23 16:05 EST",
                    "second_notice Tue 2026-11-24 16:05 EST",
                ],
            ),
            // 2 → 3: no clocks.
            r(
                "2026-11-20 16:20",
                E::Off(OfficeAction::SetCategory {
                    category: Category::Three,
                    reason: "only vulnerable".into(),
                }),
                &[],
                "open",
                &[],
            ),
            r("2026-11-24 16:05", E::Tick, &[], "open", &[]),
            // Severity by a person: raise tells the new list; NA does not.
            r(
                "2026-11-24 17:00",
                E::Off(OfficeAction::SetSeverity {
                    severity: Severity::High,
                    reason: "PII on the box".into(),
                }),
                &["briefing>list-high"],
                "open",
                &[],
            ),
            r(
                "2026-11-24 17:05",
                E::Off(OfficeAction::SetSeverity {
                    severity: Severity::NA,
                    reason: "false positive".into(),
                }),
                &[],
                "open",
                &[],
            ),
        ],
    );
    assert_eq!(inc.category, Category::Three);
    assert_eq!(inc.severity, Severity::NA);
}

// ---- resolve / verify / release / close / reopen -----------------------------------------------

#[test]
fn resolve_verify_release_close_and_reopen() {
    use EvidenceKind::OutboundScan;
    check(
        "lifecycle-end",
        &policy(),
        vec![
            cat1_open(),
            cat1_quarantined_at_deadline(),
            // Close while the hook has not answered is refused (the host would stay cut off).
            r(
                "2026-11-20 16:15",
                E::Off(OfficeAction::Close {
                    reason: "dup".into(),
                }),
                &[],
                "enforcing",
                &[],
            ),
            r("2026-11-20 16:16", E::HookOk, &[], "enforced", &[]),
            r(
                "2026-11-20 18:00",
                E::Off(OfficeAction::Resolve {
                    reason: "reimaged".into(),
                }),
                &[],
                "resolved",
                &[],
            ),
            // New evidence on a resolved (not closed) incident reopens it; the quarantine was
            // never lifted, so it is simply enforced again (no clock, no new hook).
            r(
                "2026-11-21 09:00",
                E::Ev(f(OutboundScan)),
                &[],
                "enforced",
                &[],
            ),
            r("2026-11-21 09:10", ans_remediated(), &[], "resolved", &[]),
            // Still quarantined from before: Close releases it too.
            r(
                "2026-11-23 09:00",
                E::Off(OfficeAction::Close {
                    reason: "verified clean".into(),
                }),
                &["hook release_host", "released>owner", "closed>owner"],
                "closed",
                &[],
            ),
            r(
                "2026-11-23 10:00",
                E::Ev(f(OutboundScan)),
                &[],
                "closed",
                &[],
            ),
            r(
                "2026-11-23 10:00",
                E::Off(OfficeAction::Note {
                    text: "reporter informed".into(),
                }),
                &[],
                "closed",
                &[],
            ),
        ],
    );
}

#[test]
fn release_without_enforcement_and_verify_before_resolve_are_noops() {
    check(
        "noops",
        &policy(),
        vec![
            cat1_open(),
            r(
                "2026-11-20 16:01",
                E::Off(OfficeAction::Release { reason: "?".into() }),
                &[],
                "open",
                &["answer_due Fri 2026-11-20 16:15 EST"],
            ),
            r(
                "2026-11-20 16:02",
                E::Off(OfficeAction::Verify),
                &[],
                "open",
                &["answer_due Fri 2026-11-20 16:15 EST"],
            ),
            r(
                "2026-11-20 16:03",
                E::Off(OfficeAction::Approve),
                &[],
                "open",
                &["answer_due Fri 2026-11-20 16:15 EST"],
            ),
            r(
                "2026-11-20 16:04",
                E::Off(OfficeAction::Close {
                    reason: "false positive".into(),
                }),
                &["closed>owner"],
                "closed",
                &[],
            ),
        ],
    );
}

#[test]
fn idempotency_keys_unique_and_deterministic_over_a_long_timeline() {
    use EvidenceKind::{OutboundScan, TrojanC2, Vulnerable};
    let rows = || {
        vec![
            r(
                "2026-11-16 10:00",
                E::Open(f(Vulnerable)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[],
            ),
            r(
                "2026-11-17 10:00",
                E::Ev(f(TrojanC2)),
                &["escalated>owner"],
                "open",
                &[
                    "second_notice Thu 2026-11-19 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
            r(
                "2026-11-19 10:00",
                E::Tick,
                &["second>owner"],
                "open",
                &[
                    "second_notice_due Fri 2026-11-20 10:00 EST",
                    "calendar_cap Fri 2026-11-20 10:00 EST",
                ],
            ),
            r(
                "2026-11-19 11:00",
                E::Ev(f(OutboundScan)),
                &["briefing>list-medium", "escalated>owner"],
                "open",
                &["answer_due Thu 2026-11-19 11:15 EST"],
            ),
            r(
                "2026-11-19 11:15",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r(
                "2026-11-19 11:16",
                E::HookFail,
                &["office_alert>office"],
                "awaiting_approval",
                &[],
            ),
            r(
                "2026-11-19 12:00",
                E::Off(OfficeAction::Approve),
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r("2026-11-19 12:01", E::HookOk, &[], "enforced", &[]),
            r(
                "2026-11-20 12:00",
                E::Off(OfficeAction::Release {
                    reason: "clean".into(),
                }),
                &["hook release_host", "released>owner"],
                "resolved",
                &[],
            ),
            r(
                "2026-11-23 12:00",
                E::Ev(f(OutboundScan)),
                &["first>owner"],
                "open",
                &["answer_due Mon 2026-11-23 12:15 EST"],
            ),
            r(
                "2026-11-23 12:15",
                E::Tick,
                &["hook quarantine_host", "enforced>owner"],
                "enforcing",
                &[],
            ),
            r("2026-11-23 12:16", E::HookOk, &[], "enforced", &[]),
            r(
                "2026-11-24 09:00",
                E::Off(OfficeAction::Close {
                    reason: "machine retired".into(),
                }),
                &["hook release_host", "released>owner", "closed>owner"],
                "closed",
                &[],
            ),
        ]
    };
    let (_, a) = check("keys", &policy(), rows());
    let (_, b) = check("keys-again", &policy(), rows());
    assert_eq!(a, b, "keys are a function of the state");
    assert_eq!(a.len(), 19);
    assert_eq!(a.iter().collect::<HashSet<_>>().len(), a.len());
    // The re-run of a failed hook after Approve has a new key; so has the later enforcement.
    for k in [
        "CRD-2026-000123/7/hook-quarantine_host",
        "CRD-2026-000123/10/hook-quarantine_host",
        "CRD-2026-000123/12/hook-release_host",
        "CRD-2026-000123/15/hook-quarantine_host",
        "CRD-2026-000123/17/hook-release_host",
    ] {
        assert!(a.iter().any(|x| x == k), "{k} missing from {a:#?}");
    }
}

// ---- property: random timelines --------------------------------------------------------------

mod random {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Tick,
        Evidence(EvidenceKind),
        Answer(u8, i64),
        NoticeFailed(bool),
        Defer(i64, bool),
        Approve,
        Resolve,
        Verify,
        Release,
        Close,
        SetCategory(u8, bool),
        SetSeverity(u8),
        HookDone(bool),
        Held,
        Note,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Tick),
            3 => (0usize..11).prop_map(|i| Op::Evidence(EvidenceKind::ALL[i])),
            2 => (0u8..3, -3i64 * 86400..14 * 86400).prop_map(|(a, s)| Op::Answer(a, s)),
            1 => any::<bool>().prop_map(Op::NoticeFailed),
            1 => (-86400i64..14 * 86400, any::<bool>()).prop_map(|(s, r)| Op::Defer(s, r)),
            2 => Just(Op::Approve),
            1 => Just(Op::Resolve),
            1 => Just(Op::Verify),
            1 => Just(Op::Release),
            1 => Just(Op::Close),
            1 => (1u8..4, any::<bool>()).prop_map(|(c, r)| Op::SetCategory(c, r)),
            1 => (0u8..4).prop_map(Op::SetSeverity),
            2 => any::<bool>().prop_map(Op::HookDone),
            1 => Just(Op::Held),
            1 => Just(Op::Note),
        ]
    }

    fn to_event(op: &Op, now: Timestamp, last_hook: &Option<(String, EnforceAction)>) -> Event {
        let office = |action| Event::Office {
            action,
            by: "soc".into(),
        };
        let hook = last_hook.clone().unwrap_or((
            "CRD-2026-000001/0/none".into(),
            EnforceAction::QuarantineHost,
        ));
        match op {
            Op::Tick => Event::Tick,
            Op::Evidence(k) => {
                let mut x = f(*k);
                x.evidence.last_seen = now;
                Event::Evidence {
                    finding: Box::new(x),
                }
            }
            Op::Answer(a, s) => Event::OwnerAnswered {
                answer: match a {
                    0 => Answer::Handled { note: "h".into() },
                    1 => Answer::Plan {
                        text: "p".into(),
                        repair_by: now
                            .checked_add(jiff::SignedDuration::from_secs(*s))
                            .unwrap(),
                    },
                    _ => Answer::Remediated { note: "r".into() },
                },
                by: "owner".into(),
            },
            Op::NoticeFailed(p) => Event::NoticeFailed {
                // Sequence 1 is the first notice (or the briefing when there is no owner).
                key: "CRD-2026-000001/1/notify-first-owner".into(),
                notice: NoticeKind::First,
                permanent: *p,
                reason: "bounce".into(),
            },
            Op::Defer(s, r) => office(OfficeAction::Defer {
                until: now
                    .checked_add(jiff::SignedDuration::from_secs(*s))
                    .unwrap(),
                reason: if *r { "why".into() } else { String::new() },
            }),
            Op::Approve => office(OfficeAction::Approve),
            Op::Resolve => office(OfficeAction::Resolve { reason: "r".into() }),
            Op::Verify => office(OfficeAction::Verify),
            Op::Release => office(OfficeAction::Release { reason: "r".into() }),
            Op::Close => office(OfficeAction::Close { reason: "r".into() }),
            Op::SetCategory(c, r) => office(OfficeAction::SetCategory {
                category: Category::try_from(*c).unwrap(),
                reason: if *r { "why".into() } else { String::new() },
            }),
            Op::SetSeverity(s) => office(OfficeAction::SetSeverity {
                severity: [
                    Severity::NA,
                    Severity::Low,
                    Severity::Medium,
                    Severity::High,
                ][*s as usize],
                reason: "why".into(),
            }),
            Op::HookDone(ok) => Event::EnforcementDone {
                key: hook.0,
                action: hook.1,
                ok: *ok,
                detail: "d".into(),
            },
            Op::Held => Event::EnforcementHeld {
                key: hook.0,
                action: hook.1,
                reason: HoldReason::CircuitOpen,
            },
            Op::Note => office(OfficeAction::Note { text: "n".into() }),
        }
    }

    /// Drive a random timeline; check the invariants after every step.
    /// `cat3_only`: the timeline never leaves Category 3, so no hook of any kind may appear.
    fn run(first: Finding, ops: &[(u32, Op)], cat3_only: bool, is_allowed: impl Fn(&Op) -> bool) {
        let p = policy();
        let mut now = t("2026-10-29 23:30");
        let id = IncidentId::new(2026, 1);
        let out = policy::open(id, &first, now, &p);
        let mut keys: HashSet<String> = out.effects.iter().map(|e| e.key.clone()).collect();
        let mut inc = out.incident;
        let mut last_hook = None;
        let no_hook_at_all = cat3_only;
        assert!(!cat3_only || first.category == Category::Three);
        let protected = first.host.protected;
        for (gap, op) in ops {
            if !is_allowed(op) {
                continue;
            }
            now = now
                .checked_add(jiff::SignedDuration::from_secs(i64::from(*gap)))
                .unwrap();
            let ev = to_event(op, now, &last_hook);
            let approve = matches!(op, Op::Approve);
            let out = policy::step(&inc, &ev, now, &p);
            for e in &out.effects {
                assert!(keys.insert(e.key.clone()), "duplicate key {}", e.key);
                if let EffectKind::Hook { action } = e.kind {
                    assert!(!no_hook_at_all, "hook for a Category 3 timeline: {op:?}");
                    if action.is_enforcement() {
                        // Due deadlines run before the event, so a hook may precede a
                        // lowering in the same step; it never happens with Category 3 on
                        // both sides.
                        assert!(
                            inc.category != Category::Three
                                || out.incident.category != Category::Three,
                            "{op:?}"
                        );
                        assert!(
                            !protected || (approve && out.incident.approved),
                            "protected host enforced without Approve: {op:?}"
                        );
                    }
                    last_hook = Some((e.key.clone(), action));
                }
            }
            assert!(
                out.incident
                    .deadlines
                    .windows(2)
                    .all(|w| w[0].at <= w[1].at)
            );
            assert!(out.incident.deadlines.iter().all(|d| d.at > now));
            if out.incident.phase.is_closed() || out.incident.category == Category::Three {
                assert!(
                    out.incident.deadlines.is_empty(),
                    "{:?}",
                    out.incident.deadlines
                );
            }
            inc = out.incident;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn random_timelines_never_panic(
            kind in (0usize..11).prop_map(|i| EvidenceKind::ALL[i]),
            owner in any::<bool>(),
            prot in any::<bool>(),
            ops in proptest::collection::vec((0u32..200_000, op()), 0..60),
        ) {
            let mut first = f(kind);
            if !owner { first = no_owner(first); }
            if prot { first = protected(first); }
            run(first, &ops, false, |_| true);
        }

        #[test]
        fn category_3_never_hooks(
            owner in any::<bool>(),
            ops in proptest::collection::vec((0u32..400_000, op()), 0..80),
        ) {
            let mut first = f(EvidenceKind::Vulnerable);
            if !owner { first = no_owner(first); }
            // Everything except what would raise the category.
            run(first, &ops, true, |op| match op {
                Op::Evidence(k) => k.category() == Category::Three,
                Op::SetCategory(c, _) => *c == 3,
                _ => true,
            });
        }

        #[test]
        fn protected_host_never_enforced_without_approve(
            kind in (0usize..10).prop_map(|i| EvidenceKind::ALL[i]),
            owner in any::<bool>(),
            ops in proptest::collection::vec((0u32..200_000, op()), 0..60),
        ) {
            let mut first = protected(f(kind));
            if !owner { first = no_owner(first); }
            run(first, &ops, false, |_| true);
        }
    }
}

#[test]
fn resolved_while_the_hook_runs_then_verified_releases() {
    check(
        "resolved-in-flight",
        &policy(),
        vec![
            cat1_open(),
            cat1_quarantined_at_deadline(),
            // The owner says it is fixed while the hook call is still in flight.
            r("2026-11-20 16:15", ans_remediated(), &[], "enforcing", &[]),
            r(
                "2026-11-20 16:16",
                E::Off(OfficeAction::Verify),
                &[],
                "enforcing",
                &[],
            ),
            // The quarantine happened: resolved, and verification must release it.
            r("2026-11-20 16:16", E::HookOk, &[], "resolved", &[]),
            r(
                "2026-11-20 17:00",
                E::Off(OfficeAction::Verify),
                &["hook release_host", "released>owner", "closed>owner"],
                "closed",
                &[],
            ),
            // The release hook fails after the close: the office still hears of it.
            r(
                "2026-11-20 17:01",
                E::HookFail,
                &["office_alert>office"],
                "closed",
                &[],
            ),
        ],
    );
}

#[test]
fn cat2_reopen_plan_in_the_past_and_foreign_hook_results() {
    use EvidenceKind::{Beacon, TrojanC2};
    let (inc, _) = check(
        "cat2-reopen",
        &policy(),
        vec![
            r(
                "2026-11-16 09:00",
                E::Open(f(TrojanC2)),
                &["first>owner", "briefing>list-low"],
                "open",
                &[
                    "second_notice Wed 2026-11-18 09:00 EST",
                    "calendar_cap Thu 2026-11-19 09:00 EST",
                ],
            ),
            // A repair date already past is not a plan.
            r(
                "2026-11-16 10:00",
                ans_plan("2026-11-15 10:00"),
                &[],
                "open",
                &[
                    "second_notice Wed 2026-11-18 09:00 EST",
                    "calendar_cap Thu 2026-11-19 09:00 EST",
                ],
            ),
            r(
                "2026-11-16 11:00",
                E::Off(OfficeAction::Resolve {
                    reason: "reimaged".into(),
                }),
                &[],
                "resolved",
                &[],
            ),
            // Lower-category evidence does not reopen it.
            r(
                "2026-11-17 13:00",
                E::Ev(f(EvidenceKind::Vulnerable)),
                &[],
                "resolved",
                &[],
            ),
            // Seen again: reopened with Category 2 clocks from now.
            r(
                "2026-11-17 14:00",
                E::Ev(f(Beacon)),
                &["first>owner"],
                "open",
                &[
                    "second_notice Thu 2026-11-19 14:00 EST",
                    "calendar_cap Fri 2026-11-20 14:00 EST",
                ],
            ),
        ],
    );
    assert_eq!(inc.phase.name(), "open");
    // Results for keys an enforcing incident never issued change nothing.
    let p = policy();
    let (inc, _) = check(
        "foreign-keys",
        &p,
        vec![cat1_open(), cat1_quarantined_at_deadline()],
    );
    for key in [
        "CRD-2026-000999/1/hook-quarantine_host",
        "CRD-2026-000123/99/hook-quarantine_host",
        "CRD-2026-000123/0/x",
        "garbage",
    ] {
        let ev = Event::EnforcementDone {
            key: key.into(),
            action: EnforceAction::QuarantineHost,
            ok: true,
            detail: "forged".into(),
        };
        let out = policy::step(&inc, &ev, t("2026-11-20 16:16"), &p);
        assert_eq!(out.incident, inc, "{key}");
        assert!(out.effects.is_empty() && !out.audit.is_empty(), "{key}");
    }
}

#[test]
fn cat1_answer_window_is_real_minutes_across_fall_back() {
    // 01:50 EDT on the fall-back night: fifteen real minutes later the clocks read 01:05 EST.
    check(
        "cat1-fall-back",
        &policy(),
        vec![
            r(
                "2026-11-01 01:50",
                E::Open(f(EvidenceKind::OutboundBruteForce)),
                &["first>owner", "briefing>list-medium"],
                "open",
                &["answer_due Sun 2026-11-01 01:05 EST"],
            ),
            r(
                "2026-11-01 01:59",
                E::Tick,
                &[],
                "open",
                &["answer_due Sun 2026-11-01 01:05 EST"],
            ),
        ],
    );
    let due = t("2026-11-01 01:50")
        .checked_add(jiff::SignedDuration::from_mins(15))
        .unwrap();
    let out = policy::step(
        &policy::open(
            IncidentId::new(2026, 9),
            &f(EvidenceKind::OutboundBruteForce),
            t("2026-11-01 01:50"),
            &policy(),
        )
        .incident,
        &Event::Tick,
        due,
        &policy(),
    );
    assert_eq!(summarize(&out), ["hook quarantine_host", "enforced>owner"]);
}
