//! Enforcement: the hooks that quarantine/release hosts and lock/unlock accounts (HTTP and
//! command), and the guards in front of them (protected assets, rate limit with circuit
//! breaker, dry run).
//!
//! Owns: rendering canonical [`HookValues`] into hook calls, running them once, classifying the
//! result. Must not touch: the store or the outbox (the caller records the [`Outcome`] and
//! retries transient failures with [`backoff`]), and never anything but validated values
//! (DESIGN invariants 4 and 7).
pub mod guard;
pub mod hook_command;
pub mod hook_http;
pub mod template;
pub mod values;

pub use guard::Guard;
pub use values::{HookValues, IdempotencyKey};

use crate::config::{ConfigProblem, EnforceConfig, HookConfig, RetryConfig};
use crate::model::{EnforceAction, HoldReason};
use hook_command::CommandHook;
use hook_http::HttpHook;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use template::Placeholder;

/// The result of one [`Enforcer::execute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The hook accepted the action.
    Done { detail: String },
    /// `dry_run`: what would have run; nothing ran.
    DryRun { rendered: String },
    /// A guard held the action for the office.
    Held(HoldReason),
    /// Worth retrying later (timeout, connection refused, 5xx, EX_TEMPFAIL).
    Transient { error: String },
    /// Retrying will not help; a person must look.
    Permanent { error: String },
    /// No hook is configured for this verb. Treat as permanent.
    NoHook,
}

impl std::fmt::Display for Outcome {
    /// One line for the audit trail.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Done { detail } => write!(f, "done: {detail}"),
            Outcome::DryRun { rendered } => write!(f, "dry run, would run: {rendered}"),
            Outcome::Held(HoldReason::ProtectedAsset) => f.write_str("held: protected asset"),
            Outcome::Held(HoldReason::CircuitOpen) => f.write_str("held: circuit breaker open"),
            Outcome::Held(HoldReason::HookFailed) => f.write_str("held: hook failed"),
            Outcome::Transient { error } => write!(f, "failed (will retry): {error}"),
            Outcome::Permanent { error } => write!(f, "failed: {error}"),
            Outcome::NoHook => f.write_str("failed: no hook is configured for this action"),
        }
    }
}

impl Outcome {
    /// Should the outbox retry this later?
    pub fn is_transient(&self) -> bool {
        matches!(self, Outcome::Transient { .. })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    #[error("invalid enforce config:\n{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Config(Vec<ConfigProblem>),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct EnforceCounters {
    /// Hook calls that succeeded.
    pub executed: AtomicU64,
    pub dry_run: AtomicU64,
    pub held_protected: AtomicU64,
    pub held_breaker: AtomicU64,
    pub transient_failures: AtomicU64,
    /// Includes render errors and verbs with no hook.
    pub permanent_failures: AtomicU64,
}

/// A plain copy of [`EnforceCounters`] (plus breaker state) for reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CounterSnapshot {
    pub executed: u64,
    pub dry_run: u64,
    pub held_protected: u64,
    pub held_breaker: u64,
    pub transient_failures: u64,
    pub permanent_failures: u64,
    pub breaker_trips: u64,
    pub breaker_open: bool,
}

#[derive(Debug)]
enum Hook {
    Http(HttpHook),
    Command(CommandHook),
}

/// Placeholders a verb's subject can never have (a host has no account; an account no IP/MAC).
fn never_has(action: EnforceAction) -> &'static [Placeholder] {
    match action {
        EnforceAction::QuarantineHost | EnforceAction::ReleaseHost => &[Placeholder::Account],
        EnforceAction::LockAccount | EnforceAction::UnlockAccount => {
            &[Placeholder::Ip, Placeholder::Mac]
        }
    }
}

const VERBS: [EnforceAction; 4] = [
    EnforceAction::QuarantineHost,
    EnforceAction::ReleaseHost,
    EnforceAction::LockAccount,
    EnforceAction::UnlockAccount,
];

fn build_hooks(cfg: &EnforceConfig) -> Result<HashMap<EnforceAction, Hook>, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    let mut hooks = HashMap::new();
    let mut problem = |path: String, reason: String| problems.push(ConfigProblem { path, reason });
    if cfg.max_per_minute == 0 {
        problem("enforce.max_per_minute".into(), "must be at least 1".into());
    }
    if cfg.burst == 0 {
        problem("enforce.burst".into(), "must be at least 1".into());
    }
    if cfg.timeout.std().is_zero() {
        problem("enforce.timeout".into(), "must be more than zero".into());
    }
    for (name, hc) in &cfg.hooks {
        let path = format!("enforce.hooks.{name}");
        let Some(action) = VERBS.into_iter().find(|v| v.as_str() == name) else {
            problem(
                path,
                "unknown verb (use quarantine_host, release_host, lock_account, unlock_account)"
                    .into(),
            );
            continue;
        };
        let built = match hc {
            HookConfig::Http {
                method,
                url,
                headers,
                body,
            } => HttpHook::new(method, url, headers, body.as_ref()).map(|h| {
                let t = h.templates();
                (Hook::Http(h), t)
            }),
            HookConfig::Command { argv } => CommandHook::new(argv).map(|h| {
                let t = h.templates().to_vec();
                (Hook::Command(h), t)
            }),
        };
        match built {
            Ok((hook, templates)) => {
                let impossible = templates
                    .iter()
                    .filter_map(|t| template::placeholders(t).ok())
                    .flatten()
                    .find(|p| never_has(action).contains(p));
                if let Some(p) = impossible {
                    problem(
                        path,
                        format!("uses {{{}}}, which a {name} subject never has", p.name()),
                    );
                } else {
                    hooks.insert(action, hook);
                }
            }
            // The hook checkers say "field: reason"; make the field part of the path.
            Err(e) => match e.split_once(": ") {
                Some((field, reason)) => problem(format!("{path}.{field}"), reason.to_string()),
                None => problem(path, e),
            },
        }
    }
    if problems.is_empty() {
        Ok(hooks)
    } else {
        Err(problems)
    }
}

/// Every problem in the `[enforce]` section, path-precise (for `check-config`).
pub fn problems(cfg: &EnforceConfig) -> Vec<ConfigProblem> {
    build_hooks(cfg).err().unwrap_or_default()
}

/// Wait before retry number `attempt` (0 = first retry): `initial_backoff · 2^attempt`,
/// capped at `max_backoff`.
pub fn backoff(cfg: &RetryConfig, attempt: u32) -> Duration {
    let initial = cfg.initial_backoff.std();
    let max = cfg.max_backoff.std();
    let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
    initial.checked_mul(factor).unwrap_or(max).min(max)
}

/// Runs hooks behind the guards. One per agent; shared by reference (`Arc`).
#[derive(Debug)]
pub struct Enforcer {
    dry_run: bool,
    timeout: Duration,
    hooks: HashMap<EnforceAction, Hook>,
    client: reqwest::Client,
    guard: Guard,
    counters: EnforceCounters,
}

impl Enforcer {
    pub fn new(cfg: &EnforceConfig) -> Result<Self, EnforceError> {
        let hooks = build_hooks(cfg).map_err(EnforceError::Config)?;
        let guard = Guard::new(cfg.max_per_minute, cfg.burst).map_err(|e| {
            EnforceError::Config(vec![ConfigProblem {
                path: "enforce".into(),
                reason: e,
            }])
        })?;
        let timeout = cfg.timeout.std();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Hooks talk to the campus's own controls directly: an inherited HTTP(S)_PROXY must
            // not silently route enforcement through somewhere else.
            .no_proxy()
            .user_agent(concat!("cordon/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Enforcer {
            dry_run: cfg.dry_run,
            timeout,
            hooks,
            client,
            guard,
            counters: EnforceCounters::default(),
        })
    }

    /// Run the hook for `values.action` once, behind the guards.
    ///
    /// Order: protected asset (unless `approved`) → hook lookup → render → breaker / rate
    /// limit (unless `approved`; release verbs never held or counted) → dry run → call.
    /// In dry-run mode the guards still apply, so a replay shows what would have been held.
    pub async fn execute(&self, values: &HookValues, protected: bool, approved: bool) -> Outcome {
        let action = values.action;
        let outcome = self.execute_inner(values, protected, approved).await;
        let c = &self.counters;
        let counter = match &outcome {
            Outcome::Done { .. } => &c.executed,
            Outcome::DryRun { .. } => &c.dry_run,
            Outcome::Held(HoldReason::ProtectedAsset) => &c.held_protected,
            Outcome::Held(_) => &c.held_breaker,
            Outcome::Transient { .. } => &c.transient_failures,
            Outcome::Permanent { .. } | Outcome::NoHook => &c.permanent_failures,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match &outcome {
            Outcome::Done { detail } => {
                tracing::info!(incident = %values.incident, action = action.as_str(), %detail, "hook done")
            }
            Outcome::Transient { error } | Outcome::Permanent { error } => {
                tracing::warn!(incident = %values.incident, action = action.as_str(), %error, "hook failed")
            }
            other => {
                tracing::info!(incident = %values.incident, action = action.as_str(), outcome = ?other, "hook not run")
            }
        }
        outcome
    }

    async fn execute_inner(&self, values: &HookValues, protected: bool, approved: bool) -> Outcome {
        let action = values.action;
        if action.is_enforcement() && protected && !approved {
            return Outcome::Held(HoldReason::ProtectedAsset);
        }
        let Some(hook) = self.hooks.get(&action) else {
            return Outcome::NoHook;
        };
        if values.key.incident_part() != values.incident.as_str() {
            return Outcome::Permanent {
                error: format!(
                    "idempotency key {} does not belong to incident {}",
                    values.key, values.incident
                ),
            };
        }
        match hook {
            Hook::Command(h) => {
                let argv = match h.render(values) {
                    Ok(a) => a,
                    Err(e) => {
                        return Outcome::Permanent {
                            error: e.to_string(),
                        };
                    }
                };
                let describe = || serde_json::Value::from(argv.clone()).to_string();
                if let Some(stop) = self.gate(action, values, protected, approved, describe) {
                    return stop;
                }
                h.run(&argv, values, self.timeout).await
            }
            Hook::Http(h) => {
                let rendered = match h.render(values) {
                    Ok(r) => r,
                    Err(e) => {
                        return Outcome::Permanent {
                            error: e.to_string(),
                        };
                    }
                };
                let describe = || h.describe(&rendered, values);
                if let Some(stop) = self.gate(action, values, protected, approved, describe) {
                    return stop;
                }
                h.call(&self.client, rendered, values).await
            }
        }
    }

    /// The guards every hook passes after rendering and before running: protected asset,
    /// breaker and rate limit (held), then dry run (described, not run). `None` = run it.
    fn gate(
        &self,
        action: EnforceAction,
        values: &HookValues,
        protected: bool,
        approved: bool,
        describe: impl FnOnce() -> String,
    ) -> Option<Outcome> {
        if let Err(reason) = self
            .guard
            .admit(action, values.key.as_str(), protected, approved)
        {
            return Some(Outcome::Held(reason));
        }
        self.dry_run.then(|| Outcome::DryRun {
            rendered: describe(),
        })
    }

    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Is a hook configured for this verb?
    pub fn has_hook(&self, action: EnforceAction) -> bool {
        self.hooks.contains_key(&action)
    }

    pub fn breaker_open(&self) -> bool {
        self.guard.breaker_open()
    }

    /// The office closes the circuit breaker.
    pub fn reset_breaker(&self) {
        self.guard.reset_breaker()
    }

    pub fn counters(&self) -> &EnforceCounters {
        &self.counters
    }

    pub fn snapshot(&self) -> CounterSnapshot {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CounterSnapshot {
            executed: get(&c.executed),
            dry_run: get(&c.dry_run),
            held_protected: get(&c.held_protected),
            held_breaker: get(&c.held_breaker),
            transient_failures: get(&c.transient_failures),
            permanent_failures: get(&c.permanent_failures),
            breaker_trips: self.guard.trips(),
            breaker_open: self.guard.breaker_open(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Duration as CfgDuration;
    use crate::model::IncidentId;

    fn retry(initial: i64, max: i64) -> RetryConfig {
        RetryConfig {
            max_attempts: 5,
            initial_backoff: CfgDuration::from_secs(initial),
            max_backoff: CfgDuration::from_secs(max),
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let r = retry(2, 60);
        let secs: Vec<u64> = (0..8).map(|a| backoff(&r, a).as_secs()).collect();
        assert_eq!(secs, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(&r, u32::MAX), Duration::from_secs(60));
    }

    fn cfg(hooks: &str) -> EnforceConfig {
        let mut c: EnforceConfig = toml::from_str(hooks).unwrap();
        c.max_per_minute = 1;
        c.burst = 2;
        c
    }

    fn host_values(action: EnforceAction) -> HookValues {
        HookValues::host(
            IncidentId::new(2026, 1),
            action,
            IdempotencyKey::parse(&format!("CRD-2026-000001/1/{}", action.as_str())).unwrap(),
            "192.0.2.7".parse().unwrap(),
            None,
        )
    }

    const HOOKS: &str = r#"
        dry_run = true
        [hooks.quarantine_host]
        type = "command"
        argv = ["/usr/local/bin/quarantine", "--ip", "{ip}", "{key}"]
        [hooks.release_host]
        type = "http"
        method = "delete"
        url = "https://nac.example/q/{ip}"
        headers = { Authorization = "Bearer s3cret" }
        body = { incident = "{incident}" }
    "#;

    #[test]
    fn config_problems_are_path_precise() {
        let c = cfg(r#"
            [hooks.quarantine_host]
            type = "command"
            argv = ["/bin/q", "{account}"]
            [hooks.lock_account]
            type = "command"
            argv = ["/bin/l", "{user}"]
            [hooks.unlock_account]
            type = "http"
            url = "https://x/{ip}"
            [hooks.nuke]
            type = "command"
            argv = ["/bin/x"]
        "#);
        let p = problems(&c);
        let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "enforce.hooks.lock_account.argv[1]",
                "enforce.hooks.nuke",
                "enforce.hooks.quarantine_host",
                "enforce.hooks.unlock_account",
            ],
            "{p:?}"
        );
        assert!(p[0].reason.contains("{user}"));
        assert!(p[2].reason.contains("{account}"));
        assert!(Enforcer::new(&c).is_err());
        assert!(problems(&cfg(HOOKS)).is_empty());
    }

    #[tokio::test]
    async fn dry_run_renders_and_masks_secrets() {
        let e = Enforcer::new(&cfg(HOOKS)).unwrap();
        let q = e
            .execute(&host_values(EnforceAction::QuarantineHost), false, false)
            .await;
        assert_eq!(
            q,
            Outcome::DryRun {
                rendered: r#"["/usr/local/bin/quarantine","--ip","192.0.2.7","CRD-2026-000001/1/quarantine_host"]"#.into()
            }
        );
        let Outcome::DryRun { rendered } = e
            .execute(&host_values(EnforceAction::ReleaseHost), false, false)
            .await
        else {
            panic!("expected dry run")
        };
        assert!(
            rendered.starts_with("DELETE https://nac.example/q/192.0.2.7\n"),
            "{rendered}"
        );
        assert!(rendered.contains("authorization: ***"), "{rendered}");
        assert!(!rendered.contains("s3cret"));
        assert!(rendered.contains("idempotency-key: CRD-2026-000001/1/release_host"));
        assert!(
            rendered.ends_with(r#"{"incident":"CRD-2026-000001"}"#),
            "{rendered}"
        );
        assert_eq!(
            e.execute(&host_values(EnforceAction::LockAccount), false, false)
                .await,
            Outcome::NoHook
        );
        let s = e.snapshot();
        assert_eq!((s.dry_run, s.permanent_failures), (2, 1));
    }

    #[tokio::test]
    async fn guards_in_execute() {
        let e = Enforcer::new(&cfg(HOOKS)).unwrap();
        let q = host_values(EnforceAction::QuarantineHost);
        // Each automatic call is a distinct enforcement (its own key); a retry of one key
        // would not use up the budget.
        let qn = |n: u32| {
            let mut v = host_values(EnforceAction::QuarantineHost);
            v.key = IdempotencyKey::parse(&format!("CRD-2026-000001/{n}/quarantine_host")).unwrap();
            v
        };
        let r = host_values(EnforceAction::ReleaseHost);
        assert_eq!(
            e.execute(&q, true, false).await,
            Outcome::Held(HoldReason::ProtectedAsset)
        );
        assert!(matches!(
            e.execute(&q, true, true).await,
            Outcome::DryRun { .. }
        ));
        // burst = 2: two automatic ones pass, the third opens the breaker.
        assert!(matches!(
            e.execute(&qn(11), false, false).await,
            Outcome::DryRun { .. }
        ));
        assert!(matches!(
            e.execute(&qn(12), false, false).await,
            Outcome::DryRun { .. }
        ));
        assert!(!e.breaker_open());
        assert_eq!(
            e.execute(&qn(13), false, false).await,
            Outcome::Held(HoldReason::CircuitOpen)
        );
        assert!(e.breaker_open());
        assert_eq!(
            e.execute(&qn(14), false, false).await,
            Outcome::Held(HoldReason::CircuitOpen)
        );
        assert!(matches!(
            e.execute(&r, true, false).await,
            Outcome::DryRun { .. }
        ));
        assert!(matches!(
            e.execute(&q, false, true).await,
            Outcome::DryRun { .. }
        ));
        e.reset_breaker();
        assert!(!e.breaker_open());
        let s = e.snapshot();
        assert_eq!(
            (s.held_protected, s.held_breaker, s.dry_run, s.breaker_trips),
            (1, 2, 5, 1)
        );
    }

    #[test]
    fn enforcer_is_shareable_and_execute_is_send() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let e = Enforcer::new(&cfg(HOOKS)).unwrap();
        send_sync(&e);
        let v = host_values(EnforceAction::QuarantineHost);
        let fut = e.execute(&v, false, false);
        send(&fut);
    }

    #[test]
    fn outcome_lines() {
        assert_eq!(
            Outcome::NoHook.to_string(),
            "failed: no hook is configured for this action"
        );
        assert_eq!(
            Outcome::Held(HoldReason::CircuitOpen).to_string(),
            "held: circuit breaker open"
        );
    }

    #[test]
    fn values_for_subject() {
        use crate::model::{AccountName, Subject};
        let key = IdempotencyKey::parse("CRD-2026-000001/1/lock_account").unwrap();
        let a = AccountName::try_from("bob".to_string()).unwrap();
        let v = HookValues::for_subject(
            IncidentId::new(2026, 1),
            EnforceAction::LockAccount,
            key.clone(),
            &Subject::Account(a.clone()),
            Some("00:11:22:33:44:55".parse().unwrap()),
        );
        assert_eq!((v.ip, v.mac, v.account), (None, None, Some(a)));
        let v = HookValues::for_subject(
            IncidentId::new(2026, 1),
            EnforceAction::QuarantineHost,
            key,
            &Subject::Host("192.0.2.1".parse().unwrap()),
            None,
        );
        assert_eq!(v.ip, Some("192.0.2.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn key_must_belong_to_incident() {
        let e = Enforcer::new(&cfg(HOOKS)).unwrap();
        let mut v = host_values(EnforceAction::QuarantineHost);
        v.key = IdempotencyKey::parse("CRD-2026-000002/1/quarantine_host").unwrap();
        assert!(matches!(
            e.execute(&v, false, false).await,
            Outcome::Permanent { .. }
        ));
    }
}
