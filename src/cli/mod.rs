//! The command line: one file per verb.
pub mod check_config;

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
    /// Validate a config file: prints `ok` or one `error: key.path: reason` line per problem.
    CheckConfig(check_config::CheckConfigArgs),
    /// Parse a log file with one format and print one normalized JSON object per line.
    Parse(parse::ParseArgs),
}

/// Exit code for bad configuration or usage (sysexits EX_USAGE / EX_CONFIG).
pub const EX_USAGE: u8 = 64;
pub const EX_CONFIG: u8 = 78;
/// Exit code for an input file that cannot be read (sysexits EX_NOINPUT).
pub const EX_NOINPUT: u8 = 66;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::CheckConfig(args) => check_config::run(args),
        Command::Parse(args) => parse::run(args),
    }
}
