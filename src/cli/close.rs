//! `cordon close ID --reason TEXT`: finish an incident (releasing an active quarantine).
use super::office::{OfficeArgs, apply};
use crate::model::OfficeAction;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CloseArgs {
    #[command(flatten)]
    pub office: OfficeArgs,
    #[arg(long)]
    pub reason: String,
}

pub fn run(a: &CloseArgs) -> ExitCode {
    apply(
        &a.office,
        OfficeAction::Close {
            reason: a.reason.clone(),
        },
    )
}
