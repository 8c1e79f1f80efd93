//! `cordon incidents list|show`: read the store.
use super::load_config;
use crate::model::IncidentId;
use crate::store::{IncidentFilter, SqliteStore, Store};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct IncidentsArgs {
    #[arg(short, long, default_value = "/etc/cordon/cordon.toml", global = true)]
    pub config: PathBuf,
    /// JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub what: IncidentsCmd,
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCmd {
    /// Open incidents (with --all, closed ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// One incident: record, evidence, notices and hook calls, audit trail.
    Show { id: String },
}

pub fn run(args: &IncidentsArgs) -> ExitCode {
    let cfg = match load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match SqliteStore::open_dir(&cfg.agent.state_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cal = crate::policy::Calendar::from_config(&cfg.calendar);
    let r = match &args.what {
        IncidentsCmd::List { all } => list(&store, &cal, *all, args.json),
        IncidentsCmd::Show { id } => show(&store, &cal, id, args.json),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn list(
    store: &SqliteStore,
    cal: &crate::policy::Calendar,
    all: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let v = store.incidents(&IncidentFilter {
        include_closed: all,
        limit: None,
    })?;
    for i in &v {
        if json {
            println!("{}", serde_json::to_string(i)?);
        } else {
            println!(
                "{}  {:<28} cat {}  {:<6}  {:<18} next {}",
                i.id,
                i.subject.to_string(),
                i.category,
                i.severity.as_str(),
                i.phase.name(),
                i.next_deadline()
                    .map(|t| cal.show(t))
                    .unwrap_or_else(|| "-".into())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(
    store: &SqliteStore,
    cal: &crate::policy::Calendar,
    id: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let id: IncidentId = id.parse()?;
    let Some(inc) = store.incident(&id)? else {
        eprintln!("error: no incident {id}");
        return Ok(ExitCode::from(super::EX_NOINPUT));
    };
    let evidence = store.evidence(&id)?;
    let outbox = store.outbox(&id)?;
    let audit = store.audit(&id)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"incident": inc, "evidence": evidence, "effects": outbox, "audit": audit})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}  {}  category {} ({})  severity {}  phase {}",
        inc.id,
        inc.subject,
        inc.category,
        inc.category.meaning(),
        inc.severity,
        inc.phase.name()
    );
    println!(
        "  opened {}   evidence {} .. {}",
        cal.show(inc.opened_at),
        cal.show(inc.first_seen),
        cal.show(inc.last_seen)
    );
    if let Some(o) = &inc.owner {
        println!("  owner {} <{}>", o.name, o.email);
    } else {
        println!("  owner unknown");
    }
    for d in &inc.deadlines {
        println!("  deadline {:<18} {}", d.kind.as_str(), cal.show(d.at));
    }
    println!("Evidence:");
    for e in &evidence {
        println!(
            "  {} x{} {} peers {:?} ports {:?} {}",
            e.kind.as_str(),
            e.count,
            e.detector,
            e.peers,
            e.ports,
            e.signature.as_deref().unwrap_or("")
        );
        for r in &e.raw {
            println!("    | {r}");
        }
    }
    println!("Effects:");
    for o in &outbox {
        println!(
            "  {:<48} {:<8} attempts {}  {}",
            o.key,
            o.status,
            o.attempts,
            o.result
                .as_deref()
                .or(o.last_error.as_deref())
                .unwrap_or("")
        );
    }
    println!("Audit trail:");
    for a in &audit {
        println!("  {}  {:<10} {:<14} {}", a.at, a.actor, a.kind, a.text);
    }
    Ok(ExitCode::SUCCESS)
}
