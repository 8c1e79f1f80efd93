//! Shared by the office verbs (`ack`, `resolve`, `release`, `approve`, `defer`, `close`):
//! apply one office action to one incident in the store. The running agent sees the change
//! within a second (its scheduler and outbox poll the store).
use super::load_config;
use crate::model::{Event, IncidentId, OfficeAction};
use crate::policy::Policy;
use crate::store::SqliteStore;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct OfficeArgs {
    #[arg(short, long, default_value = "/etc/cordon/cordon.toml")]
    pub config: PathBuf,
    /// Incident id, e.g. CRD-2026-000123.
    pub id: String,
    /// Who is acting (recorded in the audit trail). Default: $USER.
    #[arg(long)]
    pub by: Option<String>,
}

pub fn apply(args: &OfficeArgs, action: OfficeAction) -> ExitCode {
    let cfg = match load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let id: IncidentId = match args.id.parse() {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EX_USAGE);
        }
    };
    let by = args
        .by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "office".into());
    let mut store = match SqliteStore::open_dir(&cfg.agent.state_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let policy = Policy::from_config(&cfg);
    let event = Event::Office {
        action,
        by: by.clone(),
    };
    match crate::agent::apply_event(
        &mut store,
        &policy,
        &id,
        &event,
        &format!("office:{by}"),
        jiff::Timestamp::now(),
    ) {
        Ok(step) => {
            for line in &step.audit {
                println!("{line}");
            }
            println!("{}: phase {}", id, step.incident.phase.name());
            for e in &step.effects {
                println!("queued: {}", e.key);
            }
            ExitCode::SUCCESS
        }
        Err(crate::agent::AgentError::NoIncident(_)) => {
            eprintln!("error: no incident {id}");
            ExitCode::from(super::EX_NOINPUT)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
