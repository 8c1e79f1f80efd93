//! The I/O shell that wires the pure core to the world: sources feed the [`pipeline`], findings
//! and events go through the policy engine, every step is committed to the store with its
//! effects, the [`outbox`] worker carries effects out, the [`scheduler`] fires deadlines.
//!
//! Everything that changes an incident goes through [`apply_findings`] or [`apply_event`], so
//! the "engine step + atomic commit" rule lives in one place.

pub mod answers;
pub mod metrics;
pub mod outbox;
pub mod pipeline;
pub mod replay;
pub mod run;
pub mod scheduler;

use crate::model::{Event, Finding, Incident, IncidentId, Subject};
use crate::policy::{self, Policy, Step};
use crate::store::{AuditLine, Commit, EffectOutcome, IncidentChange, Offset, Store, StoreError};
use jiff::Timestamp;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no incident {0}")]
    NoIncident(String),
}

/// What one applied step produced, for reporting (replay, CLI).
#[derive(Debug, Clone)]
pub struct Applied {
    pub opened: bool,
    pub step: Step,
}

fn audit_lines(step: &Step) -> Vec<AuditLine> {
    step.audit
        .iter()
        .map(|s| AuditLine::new("engine", s.clone()))
        .collect()
}

/// Run each finding through the engine (opening an incident for a new subject) and commit
/// all of it, with the source offsets that produced it, in one transaction.
pub fn apply_findings(
    store: &mut dyn Store,
    policy: &Policy,
    findings: &[Finding],
    offsets: Vec<Offset>,
    now: Timestamp,
) -> Result<Vec<Applied>, AgentError> {
    let mut current: HashMap<Subject, Incident> = HashMap::new();
    let mut applied = Vec::with_capacity(findings.len());
    for f in findings {
        let subject = &f.evidence.subject;
        let existing = match current.get(subject) {
            Some(inc) => Some(inc.clone()),
            None => store.open_incident_for(subject)?,
        };
        let (step, opened) = match existing {
            Some(inc) => (
                policy::step(
                    &inc,
                    &Event::Evidence {
                        finding: Box::new(f.clone()),
                    },
                    now,
                    policy,
                ),
                false,
            ),
            None => {
                let year = now.to_zoned(policy.calendar.tz().clone()).year();
                let id = store.allocate_id(year)?;
                (policy::open(id, f, now, policy), true)
            }
        };
        current.insert(subject.clone(), step.incident.clone());
        applied.push(Applied { opened, step });
    }
    let changes = applied
        .iter()
        .zip(findings)
        .map(|(a, f)| {
            let mut audit = vec![AuditLine::new(
                if a.opened { "opened" } else { "evidence" },
                format!(
                    "{} evidence from {} ({}): {}",
                    f.evidence.kind.as_str(),
                    f.evidence.detector,
                    f.evidence.sensor,
                    f.evidence.signature.as_deref().unwrap_or("-")
                ),
            )];
            audit.extend(audit_lines(&a.step));
            IncidentChange {
                incident: &a.step.incident,
                evidence: Some(&f.evidence),
                actor: "cordon".into(),
                audit,
                effects: &a.step.effects,
            }
        })
        .collect();
    store.commit(&Commit {
        incidents: changes,
        offsets,
        outcomes: vec![],
    })?;
    Ok(applied)
}

/// Apply one event to one incident and commit the result.
pub fn apply_event(
    store: &mut dyn Store,
    policy: &Policy,
    id: &IncidentId,
    event: &Event,
    actor: &str,
    now: Timestamp,
) -> Result<Step, AgentError> {
    let inc = load_incident(store, id)?;
    let step = policy::step(&inc, event, now, policy);
    let mut audit = Vec::new();
    event_audit(event, &step, &mut audit);
    commit_one(store, &step.incident, &step.effects, actor, audit, vec![])?;
    Ok(step)
}

fn load_incident(store: &dyn Store, id: &IncidentId) -> Result<Incident, AgentError> {
    store
        .incident(id)?
        .ok_or_else(|| AgentError::NoIncident(id.to_string()))
}

/// Commit one incident's change (no new evidence) with `outcomes`, in one transaction.
fn commit_one(
    store: &mut dyn Store,
    incident: &Incident,
    effects: &[crate::model::Effect],
    actor: &str,
    audit: Vec<AuditLine>,
    outcomes: Vec<EffectOutcome<'_>>,
) -> Result<(), StoreError> {
    store.commit(&Commit {
        incidents: vec![IncidentChange {
            incident,
            evidence: None,
            actor: actor.to_string(),
            audit,
            effects,
        }],
        offsets: vec![],
        outcomes,
    })
}

/// The audit lines of `event` and the step it made.
fn event_audit(event: &Event, step: &Step, audit: &mut Vec<AuditLine>) {
    if !matches!(event, Event::Tick) {
        audit.push(
            AuditLine::new("event", event_summary(event))
                .with_data(serde_json::to_value(event).unwrap_or(serde_json::Value::Null)),
        );
    }
    audit.extend(audit_lines(step));
}

/// Record what one outbox attempt on incident `id` came to: the effect's new state, `line`
/// for the audit trail, and the engine step of the event it produced, if any, all in one
/// transaction. A crash keeps all of it or none, so a hook call is never marked done while
/// the incident still waits for its result (the call is made again instead, under the same
/// idempotency key).
pub fn record_outcome(
    store: &mut dyn Store,
    policy: &Policy,
    id: &IncidentId,
    outcome: EffectOutcome<'_>,
    line: AuditLine,
    event: Option<&Event>,
    now: Timestamp,
) -> Result<(), AgentError> {
    let inc = load_incident(store, id)?;
    let mut audit = vec![line];
    let step = event.map(|ev| {
        let step = policy::step(&inc, ev, now, policy);
        event_audit(ev, &step, &mut audit);
        step
    });
    let (incident, effects) = match &step {
        Some(s) => (&s.incident, &s.effects[..]),
        None => (&inc, &[][..]),
    };
    commit_one(store, incident, effects, "outbox", audit, vec![outcome])?;
    Ok(())
}

fn event_summary(e: &Event) -> String {
    match e {
        Event::Evidence { finding } => format!("evidence {}", finding.evidence.kind.as_str()),
        Event::NoticeDelivered { notice, .. } => format!("{} notice delivered", notice.as_str()),
        Event::NoticeFailed {
            notice,
            permanent,
            reason,
            ..
        } => format!(
            "{} notice failed ({}): {reason}",
            notice.as_str(),
            if *permanent { "permanent" } else { "transient" }
        ),
        Event::OwnerAnswered { answer, by } => format!("owner {by} answered: {answer:?}"),
        Event::Office { action, by } => format!("office {by}: {action:?}"),
        Event::Tick => "deadline".into(),
        Event::EnforcementDone {
            action, ok, detail, ..
        } => format!(
            "{} {}: {detail}",
            action.as_str(),
            if *ok { "done" } else { "failed" }
        ),
        Event::EnforcementHeld { action, reason, .. } => {
            format!("{} held: {reason:?}", action.as_str())
        }
        Event::EnforcementFailing {
            action,
            attempts,
            error,
            ..
        } => format!("{} failing ({attempts} attempts): {error}", action.as_str()),
    }
}

/// Fire every deadline due at `now`.
pub fn fire_due(
    store: &mut dyn Store,
    policy: &Policy,
    now: Timestamp,
) -> Result<Vec<Step>, AgentError> {
    let mut out = Vec::new();
    for inc in store.due_incidents(now)? {
        out.push(apply_event(
            store,
            policy,
            &inc.id,
            &Event::Tick,
            "scheduler",
            now,
        )?);
    }
    Ok(out)
}
