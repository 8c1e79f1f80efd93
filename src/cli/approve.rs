//! `cordon approve ID`: approve an enforcement held for a protected asset or by the breaker.
use super::office::{OfficeArgs, apply};
use crate::model::OfficeAction;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub office: OfficeArgs,
}

pub fn run(a: &ApproveArgs) -> ExitCode {
    apply(&a.office, OfficeAction::Approve)
}
