//! Durable state: incidents, evidence, the append-only audit trail, the outbox of effects and
//! source offsets. Only this module writes SQL. The [`Store`] trait is what the rest of the
//! agent sees, so a PostgreSQL store can stand beside the embedded SQLite one.
//!
//! The unit of change is a [`Commit`]: everything one pipeline step decided (incident state,
//! new evidence, audit lines, effects to run, source offsets) lands in one transaction, so a
//! crash either loses the whole step (and its input is read again) or none of it.

mod sqlite;

pub use sqlite::SqliteStore;

use crate::model::{Effect, Evidence, Incident, IncidentId, Subject};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create state directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("stored record {what} is corrupt: {reason}")]
    Corrupt { what: String, reason: String },
    #[error("no incident {0}")]
    NoIncident(String),
    #[error("database schema version {found} is newer than this cordon understands ({known})")]
    TooNew { found: i64, known: i64 },
}

/// One audit line to append.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLine {
    pub kind: String,
    pub text: String,
    /// Structured detail (the event, the effect, the hook result), as JSON.
    pub data: Option<serde_json::Value>,
}

impl AuditLine {
    pub fn new(kind: &str, text: impl Into<String>) -> Self {
        AuditLine {
            kind: kind.to_string(),
            text: text.into(),
            data: None,
        }
    }
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// A read position in one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offset {
    pub source: String,
    /// Stable identity of the file (device:inode) — survives renames.
    pub file_id: String,
    pub path: String,
    pub offset: u64,
    /// Hash of the file's first bytes, so a new file that reuses an inode is not mistaken
    /// for the old one.
    pub fingerprint: String,
}

/// Everything one step decided, written atomically.
#[derive(Debug, Default)]
pub struct Commit<'a> {
    pub incidents: Vec<IncidentChange<'a>>,
    pub offsets: Vec<Offset>,
    /// Outbox attempts this step records, in the same transaction as the step their result
    /// made: a crash cannot keep a hook's result without the incident learning of it.
    pub outcomes: Vec<EffectOutcome<'a>>,
}

/// What one outbox attempt came to.
#[derive(Debug)]
pub enum EffectOutcome<'a> {
    /// Done (`ok`) or failed for good, with its result.
    Finished {
        key: &'a str,
        ok: bool,
        result: &'a str,
    },
    /// The attempt failed; the next one is due at `next_attempt_at`.
    Retry {
        key: &'a str,
        error: &'a str,
        next_attempt_at: Timestamp,
    },
}

#[derive(Debug)]
pub struct IncidentChange<'a> {
    pub incident: &'a Incident,
    pub evidence: Option<&'a Evidence>,
    pub actor: String,
    pub audit: Vec<AuditLine>,
    pub effects: &'a [Effect],
}

/// An effect waiting in (or finished in) the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxItem {
    pub key: String,
    pub incident: IncidentId,
    pub effect: Effect,
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub result: Option<String>,
}

/// One audit trail entry as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub incident: String,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub text: String,
    pub data: Option<serde_json::Value>,
}

/// Which incidents to list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Include closed incidents.
    pub include_closed: bool,
    pub limit: Option<u32>,
}

pub trait Store: Send {
    /// Allocate the next `CRD-YYYY-NNNNNN` for `year`.
    fn allocate_id(&mut self, year: i16) -> Result<IncidentId, StoreError>;
    /// Write a step atomically.
    fn commit(&mut self, commit: &Commit<'_>) -> Result<(), StoreError>;
    fn incident(&self, id: &IncidentId) -> Result<Option<Incident>, StoreError>;
    /// The incident that is not closed for this subject, if any.
    fn open_incident_for(&self, subject: &Subject) -> Result<Option<Incident>, StoreError>;
    fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError>;
    /// Incidents with a deadline at or before `now`.
    fn due_incidents(&self, now: Timestamp) -> Result<Vec<Incident>, StoreError>;
    /// The earliest pending deadline over all incidents.
    fn next_deadline(&self) -> Result<Option<Timestamp>, StoreError>;
    fn evidence(&self, id: &IncidentId) -> Result<Vec<Evidence>, StoreError>;
    fn audit(&self, id: &IncidentId) -> Result<Vec<AuditEntry>, StoreError>;
    /// Pending effects due at `now`, oldest first.
    fn due_effects(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxItem>, StoreError>;
    /// When the next pending effect is due.
    fn next_effect_at(&self) -> Result<Option<Timestamp>, StoreError>;
    fn outbox(&self, id: &IncidentId) -> Result<Vec<OutboxItem>, StoreError>;
    fn offsets(&self, source: &str) -> Result<Vec<Offset>, StoreError>;
}
