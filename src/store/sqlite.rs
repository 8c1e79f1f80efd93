//! The embedded SQLite store: WAL journal, `synchronous = FULL` (a committed step survives
//! power loss, not only a killed process), migrations applied at open.
use super::{
    AuditEntry, AuditLine, Commit, EffectOutcome, IncidentFilter, Offset, OutboxItem, Store,
    StoreError,
};
use crate::model::{Effect, EffectKind, Evidence, Incident, IncidentId, Subject};
use jiff::Timestamp;
use rusqlite::{Connection, Transaction, params};
use std::path::Path;

/// Migrations in order; version N is `MIGRATIONS[N-1]`.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_init.sql")];

pub struct SqliteStore {
    conn: Connection,
}

/// Milliseconds, rounded up: a deadline read back is never earlier than the real one, so a
/// `Tick` at the stored time always finds it due.
fn ms(t: Timestamp) -> i64 {
    let floor = t.as_millisecond();
    if t.subsec_nanosecond().rem_euclid(1_000_000) != 0 {
        floor + 1
    } else {
        floor
    }
}

fn from_ms(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(v).map_err(|e| StoreError::Corrupt {
        what: "timestamp".into(),
        reason: e.to_string(),
    })
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
        reason: e.to_string(),
    }
}

fn subject_key(s: &Subject) -> (&'static str, String) {
    match s {
        Subject::Host(ip) => ("host", ip.to_string()),
        Subject::Account(a) => ("account", a.to_string()),
    }
}

impl SqliteStore {
    /// Open (creating if needed) `<state_dir>/cordon.db`.
    pub fn open_dir(state_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(state_dir).map_err(|source| StoreError::Dir {
            path: state_dir.display().to_string(),
            source,
        })?;
        Self::open(&state_dir.join("cordon.db"))
    }

    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory store (tests, replay).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Every statement is prepared once and reused (SQL parsing was a fifth of the time of a
        // replay that opens thousands of incidents); room for all of them with margin.
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    fn write_incident(
        tx: &Transaction<'_>,
        inc: &Incident,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (st, sid) = subject_key(&inc.subject);
        let data = serde_json::to_string(inc).map_err(|e| corrupt("incident", e))?;
        tx.prepare_cached("INSERT INTO incidents (id, subject_type, subject_id, category, severity, phase, opened_at, updated_at, next_deadline, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT(id) DO UPDATE SET category = excluded.category, severity = excluded.severity,
               phase = excluded.phase, updated_at = excluded.updated_at,
               next_deadline = excluded.next_deadline, data = excluded.data")?.execute(params![
                inc.id.as_str(),
                st,
                sid,
                inc.category.number(),
                inc.severity.as_str(),
                inc.phase.name(),
                inc.opened_at.to_string(),
                now.to_string(),
                inc.next_deadline().map(ms),
                data
            ],
        )?;
        Ok(())
    }

    fn insert_audit(
        tx: &Connection,
        id: &str,
        actor: &str,
        line: &AuditLine,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let data = match &line.data {
            Some(v) => Some(serde_json::to_string(v).map_err(|e| corrupt("audit", e))?),
            None => None,
        };
        tx.prepare_cached("INSERT INTO audit (incident_id, at, actor, kind, text, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![id, now.to_string(), actor, line.kind, line.text, data],
        )?;
        Ok(())
    }

    fn read_incidents(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<Incident>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let data = row?;
            out.push(serde_json::from_str(&data).map_err(|e| corrupt("incident", e))?);
        }
        Ok(out)
    }

    fn read_outbox(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, inc, effect, status, attempts, next, last_error, result) = row?;
            out.push(OutboxItem {
                key,
                incident: inc.parse().map_err(|e| corrupt("outbox incident id", e))?,
                effect: serde_json::from_str(&effect).map_err(|e| corrupt("outbox effect", e))?,
                status,
                attempts,
                next_attempt_at: from_ms(next)?,
                last_error,
                result,
            });
        }
        Ok(out)
    }
}

const OUTBOX_COLS: &str =
    "key, incident_id, effect, status, attempts, next_attempt_at, last_error, result";

fn effect_audit(e: &Effect) -> AuditLine {
    let text = match &e.kind {
        EffectKind::Notify {
            notice, audience, ..
        } => format!("queued {} notice to {:?}", notice.as_str(), audience),
        EffectKind::Hook { action } => format!("queued {} hook call", action.as_str()),
    };
    AuditLine::new("effect_queued", text)
        .with_data(serde_json::to_value(e).unwrap_or(serde_json::Value::Null))
}

impl Store for SqliteStore {
    fn allocate_id(&mut self, year: i16) -> Result<IncidentId, StoreError> {
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO incident_seq (year, last) VALUES (?1, 1)
             ON CONFLICT(year) DO UPDATE SET last = last + 1",
        )?
        .execute(params![year])?;
        let last: i64 = tx
            .prepare_cached("SELECT last FROM incident_seq WHERE year = ?1")?
            .query_row(params![year], |r| r.get(0))?;
        tx.commit()?;
        Ok(IncidentId::new(year, last as u64))
    }

    fn commit(&mut self, commit: &Commit<'_>) -> Result<(), StoreError> {
        let now = Timestamp::now();
        let tx = self.conn.transaction()?;
        for ch in &commit.incidents {
            let inc = ch.incident;
            Self::write_incident(&tx, inc, now)?;
            if let Some(ev) = ch.evidence {
                let data = serde_json::to_string(ev).map_err(|e| corrupt("evidence", e))?;
                tx.prepare_cached("INSERT INTO evidence (incident_id, kind, first_seen, last_seen, recorded_at, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![
                        inc.id.as_str(),
                        ev.kind.as_str(),
                        ev.first_seen.to_string(),
                        ev.last_seen.to_string(),
                        now.to_string(),
                        data
                    ],
                )?;
            }
            for line in &ch.audit {
                Self::insert_audit(&tx, inc.id.as_str(), &ch.actor, line, now)?;
            }
            for e in ch.effects {
                let json = serde_json::to_string(e).map_err(|e| corrupt("effect", e))?;
                // A key already present means this effect was queued before: keep the first.
                let n = tx.prepare_cached("INSERT OR IGNORE INTO outbox (key, incident_id, effect, status, attempts, next_attempt_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5, ?5)")?.execute(params![e.key, inc.id.as_str(), json, ms(now), now.to_string()],
                )?;
                if n > 0 {
                    Self::insert_audit(&tx, inc.id.as_str(), &ch.actor, &effect_audit(e), now)?;
                }
            }
        }
        for o in &commit.outcomes {
            match *o {
                EffectOutcome::Finished { key, ok, result } => {
                    tx.prepare_cached("UPDATE outbox SET status = ?2, result = ?3, updated_at = ?4, attempts = attempts + 1 WHERE key = ?1")?
                        .execute(params![key, if ok { "done" } else { "failed" }, result, now.to_string()])?;
                }
                EffectOutcome::Retry {
                    key,
                    error,
                    next_attempt_at,
                } => {
                    tx.prepare_cached("UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3, updated_at = ?4 WHERE key = ?1")?
                        .execute(params![key, error, ms(next_attempt_at), now.to_string()])?;
                }
            }
        }
        for o in &commit.offsets {
            tx.prepare_cached("INSERT INTO offsets (source, file_id, path, offset, fingerprint, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(source, file_id) DO UPDATE SET path = excluded.path,
                   offset = excluded.offset, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at")?.execute(params![o.source, o.file_id, o.path, o.offset as i64, o.fingerprint, now.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn incident(&self, id: &IncidentId) -> Result<Option<Incident>, StoreError> {
        Ok(self
            .read_incidents(
                "SELECT data FROM incidents WHERE id = ?1",
                params![id.as_str()],
            )?
            .pop())
    }

    fn open_incident_for(&self, subject: &Subject) -> Result<Option<Incident>, StoreError> {
        let (st, sid) = subject_key(subject);
        Ok(self
            .read_incidents(
                "SELECT data FROM incidents WHERE subject_type = ?1 AND subject_id = ?2 AND phase != 'closed'
                 ORDER BY opened_at DESC LIMIT 1",
                params![st, sid],
            )?
            .pop())
    }

    fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        let limit = filter.limit.map(i64::from).unwrap_or(-1);
        if filter.include_closed {
            self.read_incidents(
                "SELECT data FROM incidents ORDER BY id LIMIT ?1",
                params![limit],
            )
        } else {
            self.read_incidents(
                "SELECT data FROM incidents WHERE phase != 'closed' ORDER BY id LIMIT ?1",
                params![limit],
            )
        }
    }

    fn due_incidents(&self, now: Timestamp) -> Result<Vec<Incident>, StoreError> {
        self.read_incidents(
            "SELECT data FROM incidents WHERE next_deadline IS NOT NULL AND next_deadline <= ?1
             ORDER BY next_deadline",
            params![ms(now)],
        )
    }

    fn next_deadline(&self) -> Result<Option<Timestamp>, StoreError> {
        let v: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT MIN(next_deadline) FROM incidents WHERE next_deadline IS NOT NULL",
            )?
            .query_row([], |r| r.get(0))?;
        v.map(from_ms).transpose()
    }

    fn evidence(&self, id: &IncidentId) -> Result<Vec<Evidence>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM evidence WHERE incident_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![id.as_str()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?).map_err(|e| corrupt("evidence", e))?);
        }
        Ok(out)
    }

    fn audit(&self, id: &IncidentId) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, incident_id, at, actor, kind, text, data FROM audit WHERE incident_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![id.as_str()], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                incident: r.get(1)?,
                at: r.get(2)?,
                actor: r.get(3)?,
                kind: r.get(4)?,
                text: r.get(5)?,
                data: r
                    .get::<_, Option<String>>(6)?
                    .and_then(|s| serde_json::from_str(&s).ok()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn due_effects(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxItem>, StoreError> {
        self.read_outbox(
            &format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, created_at LIMIT ?2"
            ),
            params![ms(now), limit],
        )
    }

    fn next_effect_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let v: Option<i64> = self
            .conn
            .prepare_cached("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")?
            .query_row([], |r| r.get(0))?;
        v.map(from_ms).transpose()
    }

    fn outbox(&self, id: &IncidentId) -> Result<Vec<OutboxItem>, StoreError> {
        self.read_outbox(
            &format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE incident_id = ?1 ORDER BY created_at, key"
            ),
            params![id.as_str()],
        )
    }

    fn offsets(&self, source: &str) -> Result<Vec<Offset>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT source, file_id, path, offset, fingerprint FROM offsets WHERE source = ?1",
        )?;
        let rows = stmt.query_map(params![source], |r| {
            Ok(Offset {
                source: r.get(0)?,
                file_id: r.get(1)?,
                path: r.get(2)?,
                offset: r.get::<_, i64>(3)? as u64,
                fingerprint: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::store::IncidentChange;

    fn incident(id: IncidentId, at: Timestamp) -> Incident {
        Incident {
            id,
            subject: Subject::Host("10.1.2.3".parse().unwrap()),
            host: HostInfo::default(),
            owner: None,
            category: Category::One,
            severity: Severity::Low,
            spread: 1,
            phase: Phase::Open,
            opened_at: at,
            first_seen: at,
            last_seen: at,
            evidence_kinds: vec![EvidenceKind::OutboundScan],
            evidence_count: 1,
            account: None,
            first_notice_at: Some(at),
            second_notice_at: None,
            category_since: at,
            owner_unreachable: false,
            answered_at: None,
            plan: None,
            deferral: None,
            approved: false,
            enforced_at: None,
            released_at: None,
            resolved_at: None,
            closed_at: None,
            deadlines: vec![Deadline {
                kind: DeadlineKind::AnswerDue,
                at: at + jiff::SignedDuration::from_mins(15),
            }],
            effect_seq: 1,
        }
    }

    #[test]
    fn ids_are_sequential_per_year() {
        let mut s = SqliteStore::in_memory().unwrap();
        assert_eq!(s.allocate_id(2026).unwrap().as_str(), "CRD-2026-000001");
        assert_eq!(s.allocate_id(2026).unwrap().as_str(), "CRD-2026-000002");
        assert_eq!(s.allocate_id(2027).unwrap().as_str(), "CRD-2027-000001");
    }

    /// A hook's result and the step it made are one transaction: when writing the incident
    /// fails (here a trigger stands in for a full disk or a crash), the effect is not marked
    /// done either, so it is tried again rather than lost.
    #[test]
    fn an_outcome_is_recorded_with_its_step_or_not_at_all() {
        let mut s = SqliteStore::in_memory().unwrap();
        let t: Timestamp = "2026-11-20T21:00:00Z".parse().unwrap();
        let id = s.allocate_id(2026).unwrap();
        let mut inc = incident(id.clone(), t);
        let eff = [Effect {
            key: format!("{id}/1/quarantine_host"),
            kind: EffectKind::Hook {
                action: EnforceAction::QuarantineHost,
            },
        }];
        fn change<'a>(inc: &'a Incident, effects: &'a [Effect]) -> IncidentChange<'a> {
            IncidentChange {
                incident: inc,
                evidence: None,
                actor: "test".into(),
                audit: vec![],
                effects,
            }
        }
        s.commit(&Commit {
            incidents: vec![change(&inc, &eff[..])],
            offsets: vec![],
            outcomes: vec![],
        })
        .unwrap();
        inc.phase = Phase::Enforced;
        fn done<'a>(inc: &'a Incident, key: &'a str) -> Commit<'a> {
            Commit {
                incidents: vec![change(inc, &[])],
                offsets: vec![],
                outcomes: vec![EffectOutcome::Finished {
                    key,
                    ok: true,
                    result: "done",
                }],
            }
        }
        s.conn
            .execute_batch(
                "CREATE TRIGGER disk_full BEFORE UPDATE ON incidents
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        assert!(s.commit(&done(&inc, &eff[0].key)).is_err());
        let queued = s.outbox(&id).unwrap();
        assert_eq!(
            (queued[0].status.as_str(), queued[0].attempts),
            ("pending", 0)
        );
        assert_eq!(s.incident(&id).unwrap().unwrap().phase, Phase::Open);

        s.conn.execute_batch("DROP TRIGGER disk_full;").unwrap();
        s.commit(&done(&inc, &eff[0].key)).unwrap();
        assert_eq!(s.outbox(&id).unwrap()[0].status, "done");
        assert_eq!(s.incident(&id).unwrap().unwrap().phase, Phase::Enforced);
    }

    #[test]
    fn commit_is_durable_and_outbox_dedupes_and_audit_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let t: Timestamp = "2026-11-20T21:00:00Z".parse().unwrap();
        let eff = vec![Effect {
            key: "CRD-2026-000001/1/quarantine_host".into(),
            kind: EffectKind::Hook {
                action: EnforceAction::QuarantineHost,
            },
        }];
        {
            let mut s = SqliteStore::open_dir(dir.path()).unwrap();
            let id = s.allocate_id(2026).unwrap();
            let inc = incident(id.clone(), t);
            for _ in 0..2 {
                s.commit(&Commit {
                    incidents: vec![IncidentChange {
                        incident: &inc,
                        evidence: None,
                        actor: "test".into(),
                        audit: vec![AuditLine::new("opened", "opened")],
                        effects: &eff,
                    }],
                    offsets: vec![],
                    outcomes: vec![],
                })
                .unwrap();
            }
        }
        let mut s = SqliteStore::open_dir(dir.path()).unwrap();
        let id: IncidentId = "CRD-2026-000001".parse().unwrap();
        let inc = s.incident(&id).unwrap().unwrap();
        assert_eq!(inc.phase, Phase::Open);
        assert_eq!(s.open_incident_for(&inc.subject).unwrap().unwrap().id, id);
        assert_eq!(s.outbox(&id).unwrap().len(), 1, "same key queued once");
        assert_eq!(
            s.next_deadline().unwrap(),
            Some(t + jiff::SignedDuration::from_mins(15))
        );
        assert!(s.due_incidents(t).unwrap().is_empty());
        assert_eq!(
            s.due_incidents(t + jiff::SignedDuration::from_mins(15))
                .unwrap()
                .len(),
            1
        );
        let due = s.due_effects(Timestamp::now(), 10).unwrap();
        assert_eq!(due.len(), 1);
        let later = Timestamp::now() + jiff::SignedDuration::from_secs(60);
        let record = |s: &mut SqliteStore, outcome| {
            s.commit(&Commit {
                incidents: vec![],
                offsets: vec![],
                outcomes: vec![outcome],
            })
            .unwrap()
        };
        record(
            &mut s,
            EffectOutcome::Retry {
                key: &due[0].key,
                error: "down",
                next_attempt_at: later,
            },
        );
        assert!(s.due_effects(Timestamp::now(), 10).unwrap().is_empty());
        let queued = s.outbox(&id).unwrap();
        assert_eq!(
            (queued[0].attempts, queued[0].last_error.as_deref()),
            (1, Some("down"))
        );
        record(
            &mut s,
            EffectOutcome::Finished {
                key: &due[0].key,
                ok: true,
                result: "ok",
            },
        );
        assert_eq!(s.next_effect_at().unwrap(), None);
        assert_eq!(s.outbox(&id).unwrap()[0].status, "done");
        assert!(
            s.conn.execute("DELETE FROM audit", []).is_err(),
            "audit must be append-only"
        );
        assert!(s.conn.execute("UPDATE audit SET text = 'x'", []).is_err());
        assert!(s.audit(&id).unwrap().len() >= 3);
    }
}
