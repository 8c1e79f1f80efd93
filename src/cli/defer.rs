//! `cordon defer ID --until 2026-11-24T18:00 --reason TEXT`: defer a Category 1 enforcement
//! (capped by policy at the maximum deferral after the first notice).
use super::office::{OfficeArgs, apply};
use crate::model::OfficeAction;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DeferArgs {
    #[command(flatten)]
    pub office: OfficeArgs,
    /// Until when: RFC 3339 (`2026-11-24T18:00:00-05:00`) or local civil time in the
    /// calendar's zone (`2026-11-24T18:00`).
    #[arg(long)]
    pub until: String,
    #[arg(long)]
    pub reason: String,
}

pub fn run(a: &DeferArgs) -> ExitCode {
    let until = match a.until.parse::<jiff::Timestamp>() {
        Ok(t) => t,
        Err(_) => {
            let cfg = match super::load_config(&a.office.config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            match a
                .until
                .parse::<jiff::civil::DateTime>()
                .and_then(|dt| dt.to_zoned(cfg.calendar.timezone.tz.clone()))
            {
                Ok(z) => z.timestamp(),
                Err(e) => {
                    eprintln!("error: --until: {e}");
                    return ExitCode::from(super::EX_USAGE);
                }
            }
        }
    };
    apply(
        &a.office,
        OfficeAction::Defer {
            until,
            reason: a.reason.clone(),
        },
    )
}
