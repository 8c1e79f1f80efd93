//! The command line: one file per verb.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod parse;

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
    /// Placeholder until the verbs land.
    Version,
    /// Parse a log file with one format and print one normalized JSON object per line.
    Parse(parse::ParseArgs),
}

/// Exit code for bad configuration or usage (sysexits EX_USAGE / EX_CONFIG).
pub const EX_USAGE: u8 = 64;
pub const EX_CONFIG: u8 = 78;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Version => ExitCode::SUCCESS,
        Command::Parse(args) => parse::run(args),
    }
}
