//! `cordon ack ID`: record an answer on the owner's behalf (e.g. the owner phoned).
use super::office::{OfficeArgs, apply};
use crate::model::OfficeAction;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct AckArgs {
    #[command(flatten)]
    pub office: OfficeArgs,
    #[arg(long, default_value = "acknowledged by the office")]
    pub note: String,
}

pub fn run(a: &AckArgs) -> ExitCode {
    apply(
        &a.office,
        OfficeAction::Ack {
            note: a.note.clone(),
        },
    )
}
