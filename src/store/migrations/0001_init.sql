-- cordon schema v1. Migrations are append-only: never edit a released file, add the next one.

CREATE TABLE incident_seq (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- One row per incident: indexed columns for queries, the engine's whole view as JSON.
CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    category      INTEGER NOT NULL,
    severity      TEXT NOT NULL,
    phase         TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    next_deadline INTEGER,          -- unix ms
    data          TEXT NOT NULL
);
CREATE INDEX incidents_subject ON incidents(subject_type, subject_id, phase);
CREATE INDEX incidents_deadline ON incidents(next_deadline) WHERE next_deadline IS NOT NULL;

CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX evidence_incident ON evidence(incident_id);

-- The audit trail: append-only, enforced by triggers.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    data        TEXT
);
CREATE INDEX audit_incident ON audit(incident_id, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- Effects are written here before they run and marked done after (DESIGN invariant 2).
CREATE TABLE outbox (
    key             TEXT PRIMARY KEY,
    incident_id     TEXT NOT NULL,
    effect          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, -- unix ms
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    last_error      TEXT,
    result          TEXT
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE status = 'pending';

-- Where each source stopped reading.
CREATE TABLE offsets (
    source      TEXT NOT NULL,
    file_id     TEXT NOT NULL,
    path        TEXT NOT NULL,
    offset      INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (source, file_id)
);
