//! The command line: one file per verb. The binary's edge: errors become messages and exit
//! codes here (sysexits: 64 usage, 66 no input, 78 configuration).
pub mod ack;
pub mod approve;
pub mod check_config;
pub mod close;
pub mod defer;
pub mod incidents;
pub mod office;
pub mod parse;
pub mod release;
pub mod replay;
pub mod resolve;
pub mod run;

use clap::{Parser, Subcommand};
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "cordon",
    version,
    about = "Network-telemetry enforcement agent"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent: read sources, notify, enforce when windows run out.
    Run(run::RunArgs),
    /// Run the pipeline over recorded input in data time and print what would happen.
    Replay(replay::ReplayArgs),
    /// Validate a config file: prints `ok` or one `error: key.path: reason` line per problem.
    CheckConfig(check_config::CheckConfigArgs),
    /// Parse a log file with one format and print one normalized JSON object per line.
    Parse(parse::ParseArgs),
    /// List or show incidents.
    Incidents(incidents::IncidentsArgs),
    /// Record an answer on the owner's behalf.
    Ack(ack::AckArgs),
    /// Mark an incident remediated.
    Resolve(resolve::ResolveArgs),
    /// Lift a quarantine or unlock an account.
    Release(release::ReleaseArgs),
    /// Approve a held enforcement.
    Approve(approve::ApproveArgs),
    /// Defer a Category 1 enforcement.
    Defer(defer::DeferArgs),
    /// Close an incident.
    Close(close::CloseArgs),
}

/// Exit code for bad configuration or usage (sysexits EX_USAGE / EX_CONFIG).
pub const EX_USAGE: u8 = 64;
pub const EX_CONFIG: u8 = 78;
/// Exit code for an input file that cannot be read (sysexits EX_NOINPUT).
pub const EX_NOINPUT: u8 = 66;

/// Load a config for a verb, printing problems the way `check-config` does.
pub(crate) fn load_config(path: &Path) -> Result<crate::config::Config, ExitCode> {
    // What only libpcap can check (capture filters) is reported like every other problem.
    let loaded = crate::config::load(path).and_then(|c| {
        let problems = crate::ingest::config_problems(&c);
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(crate::config::ConfigError::Invalid(problems))
        }
    });
    match loaded {
        Ok(c) => Ok(c),
        Err(crate::config::ConfigError::Read { path, source }) => {
            eprintln!("error: cannot read {path}: {source}");
            Err(ExitCode::from(EX_NOINPUT))
        }
        Err(crate::config::ConfigError::Invalid(problems)) => {
            for p in problems {
                eprintln!("error: {}: {}", p.path, p.reason);
            }
            Err(ExitCode::from(EX_CONFIG))
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Parse(_) | Command::CheckConfig(_)) {
        crate::telemetry::init();
    }
    match &cli.command {
        Command::Run(a) => run::run(a),
        Command::Replay(a) => replay::run(a),
        Command::CheckConfig(a) => check_config::run(a),
        Command::Parse(a) => parse::run(a),
        Command::Incidents(a) => incidents::run(a),
        Command::Ack(a) => ack::run(a),
        Command::Resolve(a) => resolve::run(a),
        Command::Release(a) => release::run(a),
        Command::Approve(a) => approve::run(a),
        Command::Defer(a) => defer::run(a),
        Command::Close(a) => close::run(a),
    }
}
