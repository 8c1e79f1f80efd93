//! `cordon resolve ID --reason TEXT`: mark remediated (the office verifies before closing).
use super::office::{OfficeArgs, apply};
use crate::model::OfficeAction;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    pub office: OfficeArgs,
    #[arg(long)]
    pub reason: String,
}

pub fn run(a: &ResolveArgs) -> ExitCode {
    apply(
        &a.office,
        OfficeAction::Resolve {
            reason: a.reason.clone(),
        },
    )
}
