//! Effects the engine asks the shell to carry out. Each has an idempotency key, is written to
//! the outbox before it runs, and is marked done after (DESIGN invariant 2).
use super::Severity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// First notice to the owner: what was seen, the deadline, the answer link.
    First,
    /// Category 2 second notice after the business-day window.
    Second,
    /// The category rose (e.g. 2 → 1): new clock.
    Escalated,
    /// Enforcement happened.
    Enforced,
    /// Quarantine lifted / account unlocked.
    Released,
    /// Enforcement waits for approval (protected asset, circuit breaker).
    Held,
    /// The incident closed.
    Closed,
    /// Severity-list briefing (CISO/CIO list etc.).
    Briefing,
    /// Something the office must look at (delivery failed, hook failing, ...).
    OfficeAlert,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::First => "first",
            NoticeKind::Second => "second",
            NoticeKind::Escalated => "escalated",
            NoticeKind::Enforced => "enforced",
            NoticeKind::Released => "released",
            NoticeKind::Held => "held",
            NoticeKind::Closed => "closed",
            NoticeKind::Briefing => "briefing",
            NoticeKind::OfficeAlert => "office_alert",
        }
    }
}

/// Who receives a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "to", content = "severity", rename_all = "snake_case")]
pub enum Audience {
    /// The owner from the inventory.
    Owner,
    /// The security office.
    Office,
    /// The notification list configured for a severity.
    SeverityList(Severity),
}

/// The four hook verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforceAction {
    QuarantineHost,
    ReleaseHost,
    LockAccount,
    UnlockAccount,
}

impl EnforceAction {
    /// The hook name in config.
    pub fn as_str(self) -> &'static str {
        match self {
            EnforceAction::QuarantineHost => "quarantine_host",
            EnforceAction::ReleaseHost => "release_host",
            EnforceAction::LockAccount => "lock_account",
            EnforceAction::UnlockAccount => "unlock_account",
        }
    }
    /// The verb that undoes this one.
    pub fn undo(self) -> EnforceAction {
        match self {
            EnforceAction::QuarantineHost => EnforceAction::ReleaseHost,
            EnforceAction::ReleaseHost => EnforceAction::QuarantineHost,
            EnforceAction::LockAccount => EnforceAction::UnlockAccount,
            EnforceAction::UnlockAccount => EnforceAction::LockAccount,
        }
    }
    pub fn is_enforcement(self) -> bool {
        matches!(
            self,
            EnforceAction::QuarantineHost | EnforceAction::LockAccount
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum EffectKind {
    Notify {
        notice: NoticeKind,
        audience: Audience,
        reason: String,
    },
    /// Call a hook: quarantine/release a host, lock/unlock an account.
    Hook { action: EnforceAction },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    /// Idempotency key, unique per effect: `<incident id>/<seq>/<what>`.
    pub key: String,
    pub kind: EffectKind,
}
