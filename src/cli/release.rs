//! `cordon release ID --reason TEXT`: lift a quarantine / unlock an account.
use super::office::{OfficeArgs, apply};
use crate::model::OfficeAction;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub office: OfficeArgs,
    #[arg(long)]
    pub reason: String,
}

pub fn run(a: &ReleaseArgs) -> ExitCode {
    apply(
        &a.office,
        OfficeAction::Release {
            reason: a.reason.clone(),
        },
    )
}
