//! `cordon check-config -c FILE`: read and validate a config without starting anything.
//! Prints `ok`, or one `error: <dotted.key.path>: <reason>` line per problem, on stdout so
//! that scripts and deployment pipelines can read it. Touches nothing but the file, the
//! environment (for `${ENV}` secrets) and the files the config names (capture files' headers,
//! the SMTP relay's CA file), which it only reads.
use crate::config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// The config file to check.
    #[arg(short, long)]
    pub config: PathBuf,
}

/// Exit 0 when the config is good, 78 (EX_CONFIG) when it has problems, 66 (EX_NOINPUT) when
/// the file cannot be read.
pub fn run(args: &CheckConfigArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.config) {
        Ok(t) => t,
        Err(e) => {
            println!("error: {}: cannot read: {e}", args.config.display());
            return ExitCode::from(super::EX_NOINPUT);
        }
    };
    let problems = match config::read(&text) {
        Ok(cfg) => match config::validate(&cfg) {
            // What only libpcap can check (capture filters), and the files the config names,
            // once the rest is sound.
            p if p.is_empty() => {
                let mut p = crate::ingest::config_problems(&cfg);
                if let Some(smtp) = &cfg.notify.smtp
                    && let Err(why) = crate::notify::smtp::ca_tls(smtp)
                {
                    p.push(config::ConfigProblem::new("notify.smtp.ca_file", why));
                }
                p
            }
            p => p,
        },
        Err(p) => vec![p],
    };
    if problems.is_empty() {
        println!("ok");
        return ExitCode::SUCCESS;
    }
    for p in &problems {
        println!("error: {p}");
    }
    ExitCode::from(super::EX_CONFIG)
}
