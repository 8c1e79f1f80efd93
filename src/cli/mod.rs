//! The command line: one file per verb.
use clap::{Parser, Subcommand};
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
    /// Placeholder until the verbs land.
    Version,
}

/// Exit code for bad configuration or usage (sysexits EX_USAGE / EX_CONFIG).
pub const EX_USAGE: u8 = 64;
pub const EX_CONFIG: u8 = 78;

pub fn main() -> ExitCode {
    let _cli = Cli::parse();
    ExitCode::SUCCESS
}
