//! Correlation: evidence in, finding out. Places evidence in context (inventory, owner),
//! assigns the category its kind implies, counts spread (how many distinct subjects share
//! the same finding in the last 24 hours of data time) and derives severity.
//!
//! Owns the spread tracker. Must not do I/O or read the clock (time is the evidence's data
//! time), and must not decide enforcement (that is `policy`). The tracker is keyed by
//! attacker-influenced values (subjects, signature text), so it is capped, evicts the oldest
//! entries first and counts what it evicts (DESIGN invariant 5).

use super::Inventory;
use crate::config::SeverityConfig;
use crate::model::{Evidence, EvidenceKind, Finding, HostInfo, Subject};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// How far back spread counts.
pub const SPREAD_WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// Longest signature text used as a tracker key (bytes).
const MAX_KEY_TEXT: usize = 256;

/// What makes two findings "the same": the evidence kind and the signature (id, else text)
/// or, for detector evidence, the detector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Tag {
    Sid(u64),
    Text(String),
    Detector(String),
}

type Key = (EvidenceKind, Tag);

/// Bounded spread tracker and finding builder.
#[derive(Debug)]
pub struct Correlator {
    cap: usize,
    /// Per key: subject → last data time seen.
    seen: HashMap<Key, HashMap<Subject, Timestamp>>,
    entries: usize,
    evictions: u64,
    /// Latest data time seen (data time may arrive out of order; the window follows the max).
    now: Option<Timestamp>,
}

impl Correlator {
    /// A tracker holding at most `cap` (subject, key) entries (at least 1).
    pub fn new(cap: usize) -> Self {
        Correlator {
            cap: cap.max(1),
            seen: HashMap::new(),
            entries: 0,
            evictions: 0,
            now: None,
        }
    }

    /// Evidence in context. Spread counts this subject too, so it is at least 1.
    pub fn finding(&mut self, ev: Evidence, inv: &Inventory, sev: &SeverityConfig) -> Finding {
        let spread = self.track(&ev);
        let (host, owner) = match &ev.subject {
            Subject::Host(ip) => inv.host(*ip),
            Subject::Account(name) => {
                let (owner, protected) = inv.account(name);
                (
                    HostInfo {
                        protected,
                        ..HostInfo::default()
                    },
                    owner,
                )
            }
        };
        let severity = crate::policy::severity(&host, &[ev.kind], spread, sev);
        Finding {
            category: ev.kind.category(),
            evidence: ev,
            host,
            owner,
            severity,
            spread,
        }
    }

    /// Entries evicted because the tracker was full (expiry is not counted).
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Entries currently held.
    pub fn tracked(&self) -> usize {
        self.entries
    }

    /// Record the subject under the evidence's key; return the key's distinct subjects.
    fn track(&mut self, ev: &Evidence) -> u32 {
        let now = self.now.map_or(ev.last_seen, |n| n.max(ev.last_seen));
        self.now = Some(now);
        let horizon = now - SPREAD_WINDOW;
        let key: Key = (ev.kind, tag(ev));

        if let Some(set) = self.seen.get_mut(&key) {
            let before = set.len();
            set.retain(|_, t| *t >= horizon);
            self.entries -= before - set.len();
        }
        let is_new = !self
            .seen
            .get(&key)
            .is_some_and(|s| s.contains_key(&ev.subject));
        if is_new && self.entries >= self.cap {
            self.expire_all(horizon);
            if self.entries >= self.cap {
                self.evict_oldest();
            }
        }
        let set = self.seen.entry(key).or_default();
        let t = set.entry(ev.subject.clone()).or_insert(ev.last_seen);
        *t = (*t).max(ev.last_seen);
        if is_new {
            self.entries += 1;
        }
        u32::try_from(set.len()).unwrap_or(u32::MAX)
    }

    /// Drop every entry older than `horizon` (not counted as eviction: it aged out).
    fn expire_all(&mut self, horizon: Timestamp) {
        let mut removed = 0;
        self.seen.retain(|_, set| {
            let before = set.len();
            set.retain(|_, t| *t >= horizon);
            removed += before - set.len();
            !set.is_empty()
        });
        self.entries -= removed;
    }

    /// Drop the single oldest entry (full table: O(entries), only when at the cap).
    fn evict_oldest(&mut self) {
        let oldest = self
            .seen
            .iter()
            .flat_map(|(k, set)| set.iter().map(move |(s, t)| (*t, k, s)))
            .min_by_key(|(t, _, _)| *t)
            .map(|(_, k, s)| (k.clone(), s.clone()));
        let Some((key, subject)) = oldest else { return };
        if let Some(set) = self.seen.get_mut(&key) {
            if set.remove(&subject).is_some() {
                self.entries -= 1;
                self.evictions += 1;
            }
            if set.is_empty() {
                self.seen.remove(&key);
            }
        }
    }
}

fn tag(ev: &Evidence) -> Tag {
    if let Some(id) = ev.signature_id {
        return Tag::Sid(id);
    }
    if let Some(text) = &ev.signature {
        let mut end = text.len().min(MAX_KEY_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        return Tag::Text(text[..end].to_owned());
    }
    Tag::Detector(ev.detector.clone())
}
