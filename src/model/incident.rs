//! The incident record as the policy engine sees it. The engine is the only code that
//! changes an [`Incident`]; the store persists it whole (as JSON) plus indexed columns.
use super::{
    AccountName, Category, EvidenceKind, HoldReason, HostInfo, InvalidValue, Owner, Severity,
    Subject,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `CRD-YYYY-NNNNNN`: human-readable, unique, sortable within a year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IncidentId(String);

impl IncidentId {
    pub fn new(year: i16, seq: u64) -> Self {
        IncidentId(format!("CRD-{year:04}-{seq:06}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IncidentId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        let b = s.as_bytes();
        let ok = b.len() >= 15
            && b.len() <= 20
            && s.starts_with("CRD-")
            && b[4..8].iter().all(u8::is_ascii_digit)
            && b[8] == b'-'
            && b[9..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(IncidentId(s.to_string()))
        } else {
            Err(InvalidValue {
                what: "incident id",
                reason: "expected CRD-YYYY-NNNNNN".into(),
            })
        }
    }
}

impl TryFrom<String> for IncidentId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        s.parse()
    }
}

impl From<IncidentId> for String {
    fn from(i: IncidentId) -> String {
        i.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Notified; the policy clocks run.
    Open,
    /// The owner (or the office on the owner's behalf) answered; the enforcement clock of
    /// Category 1 is stopped. A Category 2 plan keeps its repair date as the deadline.
    Answered,
    /// Enforcement is due but waits for the office to approve it.
    AwaitingApproval { reason: HoldReason },
    /// Enforcement was requested from the hook; the result is not back yet.
    Enforcing,
    /// The host is quarantined or the account locked.
    Enforced,
    /// Remediation was reported; the office verifies before closing.
    Resolved,
    /// Finished. Kept for reports and statistics.
    Closed,
}

impl Phase {
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Open => "open",
            Phase::Answered => "answered",
            Phase::AwaitingApproval { .. } => "awaiting_approval",
            Phase::Enforcing => "enforcing",
            Phase::Enforced => "enforced",
            Phase::Resolved => "resolved",
            Phase::Closed => "closed",
        }
    }
    pub fn is_closed(&self) -> bool {
        matches!(self, Phase::Closed)
    }
}

/// Named deadlines are data, so the scheduler can be rebuilt from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Category 1: the answer window after the notice; enforce when it passes.
    AnswerDue,
    /// Category 2: time to send the second notice.
    SecondNotice,
    /// Category 2: the answer window after the second notice; enforce when it passes.
    SecondNoticeDue,
    /// Category 2: the calendar-day cap after the first notice with no accepted plan.
    CalendarCap,
    /// Category 2: the accepted plan's repair date.
    PlanDue,
    /// Category 1: the office's deferral ends (never beyond the cap).
    DeferralEnds,
}

impl DeadlineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::AnswerDue => "answer_due",
            DeadlineKind::SecondNotice => "second_notice",
            DeadlineKind::SecondNoticeDue => "second_notice_due",
            DeadlineKind::CalendarCap => "calendar_cap",
            DeadlineKind::PlanDue => "plan_due",
            DeadlineKind::DeferralEnds => "deferral_ends",
        }
    }
    /// Does reaching this deadline lead to enforcement?
    pub fn enforces(self) -> bool {
        !matches!(self, DeadlineKind::SecondNotice)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub at: Timestamp,
}

/// A Category 2 owner's repair plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub text: String,
    /// The date the owner asked for.
    pub requested: Timestamp,
    /// The date accepted (the request capped at the policy's maximum).
    pub repair_by: Timestamp,
    pub by: String,
    pub at: Timestamp,
}

/// The office's deferral of a Category 1 enforcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    /// As requested.
    pub requested: Timestamp,
    /// As granted (capped).
    pub until: Timestamp,
    pub reason: String,
    pub by: String,
}

/// The engine's whole view of one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub subject: Subject,
    pub host: HostInfo,
    pub owner: Option<Owner>,
    pub category: Category,
    pub severity: Severity,
    /// How many subjects share the finding (spread), highest seen.
    pub spread: u32,
    pub phase: Phase,
    /// When the engine opened the incident.
    pub opened_at: Timestamp,
    /// Evidence time span.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Evidence kinds seen (sorted, unique) and how many evidence records in all.
    pub evidence_kinds: Vec<EvidenceKind>,
    pub evidence_count: u64,
    /// Account involved in a host incident (or the subject of an account incident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountName>,
    /// First notice to the owner for the current category's clock.
    pub first_notice_at: Option<Timestamp>,
    pub second_notice_at: Option<Timestamp>,
    /// When the current category was reached (escalations restart clocks from here).
    pub category_since: Timestamp,
    /// A notice to the owner failed permanently.
    pub owner_unreachable: bool,
    pub answered_at: Option<Timestamp>,
    pub plan: Option<Plan>,
    pub deferral: Option<Deferral>,
    /// The office approved enforcement of a held incident.
    pub approved: bool,
    pub enforced_at: Option<Timestamp>,
    pub released_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// Pending deadlines, earliest first.
    pub deadlines: Vec<Deadline>,
    /// Counter for deterministic effect idempotency keys.
    pub effect_seq: u32,
}

impl Incident {
    /// The earliest pending deadline: when the scheduler must call the engine next.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.iter().map(|d| d.at).min()
    }
}
