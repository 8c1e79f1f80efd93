//! Login compromise of campus accounts → `AccountCompromise` about the account:
//! - a success after at least `failures_per_user` failures for the same user name, or after
//!   `failures_per_source` failures from the same source address, within the window (unless
//!   every one of those source failures was for the user who now succeeded: that is one person
//!   mistyping, already judged by the per-user rule, which a quiet success resets);
//! - a success from an address that has Category 1 evidence (remembered for `blame_ttl`,
//!   fed by the aggregate with this crate's own evidence and by the pipeline through
//!   [`LoginDetector::note_blamed`] for IDS-derived evidence).
//!
//! The user name in a log line is attacker-controlled. State is keyed by a keyed 64-bit hash
//! of it (no string is stored), and a name becomes an account only through
//! [`AccountName::parse_with`] with the configured pattern; an invalid name yields no evidence
//! and is counted. Logins to servers outside campus are not campus accounts and are ignored.
use super::bounded::{BoundedMap, Fingerprint, Window};
use super::{
    DetectContext, Detector, DetectorStats, keep_raw, new_evidence, push_raws, window_len,
};
use crate::config::LoginConfig;
use crate::model::{AccountName, Evidence, EvidenceKind, ObsKind, Observation, Subject};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

struct User {
    win: Window,
    failures: u64,
    /// Sources of the failures (a sample, for the notice).
    sources: Vec<IpAddr>,
    first_raw: String,
}

impl User {
    fn new(now: Timestamp) -> Self {
        User {
            win: Window::new(now),
            failures: 0,
            sources: Vec::new(),
            first_raw: String::new(),
        }
    }
    fn clear(&mut self) {
        self.failures = 0;
        self.sources.clear();
        self.first_raw.clear();
    }
}

/// Per source address: failures in the window and which user names they were for.
struct Source {
    win: Window,
    users: UserMix,
}

/// Whether a source's failures were all for one user name. Only "one or several" matters,
/// so it is two words inline: no per-source allocation to chase on a busy sshd log.
#[derive(Default, Clone, Copy)]
struct UserMix {
    first: Option<u64>,
    several: bool,
}

impl UserMix {
    fn insert(&mut self, k: u64) {
        match self.first {
            None => self.first = Some(k),
            Some(f) if f != k => self.several = true,
            Some(_) => {}
        }
    }
    /// Every failure was for `k`.
    fn only(&self, k: u64) -> bool {
        self.first == Some(k) && !self.several
    }
    fn clear(&mut self) {
        *self = UserMix::default();
    }
}

pub struct LoginDetector {
    window: SignedDuration,
    per_user: u64,
    per_source: u64,
    blame_ttl: SignedDuration,
    pattern: regex_lite::Regex,
    users: BoundedMap<u64, User>,
    sources: BoundedMap<IpAddr, Source>,
    blamed: BoundedMap<IpAddr, Timestamp>,
    fp: Fingerprint,
    invalid_names: u64,
    emitted: u64,
}

impl LoginDetector {
    /// `pattern` is `inventory.account_pattern`: only names matching it become accounts.
    pub fn new(cfg: &LoginConfig, pattern: regex_lite::Regex) -> Self {
        LoginDetector {
            window: window_len(cfg.window),
            per_user: u64::from(cfg.failures_per_user.max(1)),
            per_source: u64::from(cfg.failures_per_source.max(1)),
            blame_ttl: cfg.blame_ttl.0,
            pattern,
            users: BoundedMap::new(cfg.max_users),
            sources: BoundedMap::new(cfg.max_sources),
            blamed: BoundedMap::new(cfg.max_blamed),
            fp: Fingerprint::default(),
            invalid_names: 0,
            emitted: 0,
        }
    }

    /// `ip` has Category 1 evidence until `until`: a successful login from it is a compromise.
    pub fn note_blamed(&mut self, ip: IpAddr, until: Timestamp) {
        let t = self.blamed.get_or_insert(ip, || until, |t| *t = until);
        if until > *t {
            *t = until;
        }
    }

    /// `ip` had Category 1 evidence at `at`; remember it for the configured `blame_ttl`.
    pub fn note_blamed_for_ttl(&mut self, ip: IpAddr, at: Timestamp) {
        let until = at.checked_add(self.blame_ttl).unwrap_or(Timestamp::MAX);
        self.note_blamed(ip, until);
    }

    /// Is `ip` blamed at `now`?
    pub fn is_blamed(&self, ip: IpAddr, now: Timestamp) -> bool {
        self.blamed.get(&ip).is_some_and(|&until| now < until)
    }

    /// User names that failed validation (no account evidence was produced for them).
    pub fn invalid_names(&self) -> u64 {
        self.invalid_names
    }

    fn failure(&mut self, obs: &Observation<'_>, src: IpAddr) {
        let now = obs.time;
        let key = obs.user.as_deref().map(|u| self.fp.of(&u));
        let s = self.sources.get_or_insert(
            src,
            || Source {
                win: Window::new(now),
                users: UserMix::default(),
            },
            |s| {
                s.win.recycle(now);
                s.users.clear();
            },
        );
        if s.win.advance(now, self.window) {
            s.users.clear();
        }
        if let Some(k) = key {
            s.users.insert(k);
        }
        let Some(key) = key else {
            return;
        };
        let u = self.users.get_or_insert(
            key,
            || User::new(now),
            |u| {
                u.win.recycle(now);
                u.clear();
            },
        );
        if u.win.advance(now, self.window) {
            u.clear();
        }
        if u.first_raw.is_empty() {
            keep_raw(&mut u.first_raw, obs.raw);
        }
        u.failures += 1;
        if u.sources.len() < Evidence::MAX_LIST && !u.sources.contains(&src) {
            u.sources.push(src);
        }
    }

    fn success(
        &mut self,
        obs: &Observation<'_>,
        src: IpAddr,
        ctx: &DetectContext<'_>,
        out: &mut Vec<Evidence>,
    ) {
        let now = obs.time;
        let window = self.window;
        let Some(user) = obs.user.as_deref() else {
            return;
        };
        let in_window = |w: &Window| now.duration_since(w.start) < window;
        let key = self.fp.of(&user);
        let (src_failures, src_since) = self
            .sources
            .get(&src)
            .filter(|s| in_window(&s.win))
            .filter(|s| !s.users.only(key))
            .map_or((0, now), |s| (s.win.count, s.win.start));
        let blamed = self.is_blamed(src, now);
        let user_failures = self
            .users
            .get(&key)
            .filter(|u| in_window(&u.win))
            .map_or(0, |u| u.failures);
        let hit = user_failures >= self.per_user || src_failures >= self.per_source || blamed;
        if !hit {
            // A quiet success: the person got in; their earlier typos no longer count.
            if let Some(u) = self.users.get_mut(&key) {
                u.clear();
            }
            return;
        }
        let name = match AccountName::parse_with(user, &self.pattern) {
            Ok(n) => n,
            Err(e) => {
                self.invalid_names += 1;
                tracing::debug!(reason = %e, source = %src, "login success after failures: user name rejected");
                return;
            }
        };
        let u = self.users.get_or_insert(
            key,
            || User::new(now),
            |u| {
                u.win.recycle(now);
                u.clear();
            },
        );
        if !in_window(&u.win) {
            u.win.recycle_keep_emitted(now);
            u.clear();
        }
        if !u.win.may_emit(now, window) {
            return;
        }
        u.win.mark_emitted(now);
        let mut first = if u.failures > 0 { u.win.start } else { now };
        if src_failures >= self.per_source && src_since < first {
            first = src_since;
        }
        let mut ev = new_evidence(
            EvidenceKind::AccountCompromise,
            Subject::Account(name.clone()),
            first,
            now,
            user_failures.max(src_failures) + 1,
            obs.proto,
            "login",
            ctx.sensor,
        );
        ev.account = Some(name);
        ev.push_peer(src);
        ev.push_peers(&u.sources, 0);
        if let Some(p) = obs.dst_port {
            ev.push_port(p);
        }
        push_raws(&mut ev, &u.first_raw, obs.raw);
        u.clear();
        tracing::debug!(source = %src, user_failures, src_failures, blamed, "account compromise");
        self.emitted += 1;
        out.push(ev);
    }
}

impl Detector for LoginDetector {
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>) {
        if !matches!(
            obs.kind,
            ObsKind::AuthFailure | ObsKind::AuthInvalidUser | ObsKind::AuthSuccess
        ) {
            return;
        }
        let Some(src) = obs.src else { return };
        if ctx.allow.contains(src) {
            return;
        }
        // A login to an outside server is not a campus account.
        if obs.dst.is_some_and(|d| !ctx.campus.contains(d)) {
            return;
        }
        if obs.kind == ObsKind::AuthSuccess {
            self.success(obs, src, ctx, out);
        } else {
            self.failure(obs, src);
        }
    }

    fn name(&self) -> &'static str {
        "login"
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            evictions: self.users.evictions() + self.sources.evictions() + self.blamed.evictions(),
            tracked: (self.users.len() + self.sources.len() + self.blamed.len()) as u64,
            emitted: self.emitted,
        }
    }
}
