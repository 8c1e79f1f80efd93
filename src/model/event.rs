//! Events the policy engine consumes. Everything that can change an incident is one of these.
use super::{Category, EnforceAction, Finding, NoticeKind, Severity};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Why enforcement waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// The host is a protected asset: never enforced automatically.
    ProtectedAsset,
    /// Too many enforcements at once: the circuit breaker holds further ones.
    CircuitOpen,
    /// The hook failed permanently; a person must look.
    HookFailed,
}

/// What an owner can say through the answer page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// "Handled / host is off the network."
    Handled { note: String },
    /// Category 2: a plan and the date by which the host will be repaired.
    Plan { text: String, repair_by: Timestamp },
    /// "Remediated": the problem is fixed; the office verifies.
    Remediated { note: String },
}

/// What the security office can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OfficeAction {
    /// Record an answer on the owner's behalf (e.g. the owner phoned).
    Ack {
        note: String,
    },
    /// Defer a Category 1 enforcement (capped at the policy maximum).
    Defer {
        until: Timestamp,
        reason: String,
    },
    /// Approve a held enforcement.
    Approve,
    /// Mark remediated.
    Resolve {
        reason: String,
    },
    /// Confirm remediation (and release if enforced).
    Verify,
    /// Lift a quarantine / unlock an account.
    Release {
        reason: String,
    },
    Close {
        reason: String,
    },
    /// A person may lower (or raise) the category, with a reason.
    SetCategory {
        category: Category,
        reason: String,
    },
    SetSeverity {
        severity: Severity,
        reason: String,
    },
    Note {
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// More evidence about this incident's subject.
    Evidence {
        finding: Box<Finding>,
    },
    NoticeDelivered {
        key: String,
        notice: NoticeKind,
    },
    NoticeFailed {
        key: String,
        notice: NoticeKind,
        permanent: bool,
        reason: String,
    },
    /// The owner answered via the signed link; `by` is the recipient the link was made for.
    OwnerAnswered {
        answer: Answer,
        by: String,
    },
    Office {
        action: OfficeAction,
        by: String,
    },
    /// Process every deadline due at `now`.
    Tick,
    /// The hook confirmed (or permanently refused) an enforcement or release.
    EnforcementDone {
        key: String,
        action: EnforceAction,
        ok: bool,
        detail: String,
    },
    /// A guard held an enforcement instead of running it.
    EnforcementHeld {
        key: String,
        action: EnforceAction,
        reason: HoldReason,
    },
    /// A hook call has failed `attempts` times in a row, each time in a way worth retrying
    /// (timeout, refused, 5xx, `EX_TEMPFAIL`). The calls go on; a person should look at the
    /// hook.
    EnforcementFailing {
        key: String,
        action: EnforceAction,
        attempts: u32,
        error: String,
    },
}
