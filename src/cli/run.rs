//! `cordon run -c FILE`: the agent.
use super::load_config;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(short, long, default_value = "/etc/cordon/cordon.toml")]
    pub config: PathBuf,
    /// Do not print the summary when the finite sources are read.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: &RunArgs) -> ExitCode {
    let cfg = match load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    let result = rt.block_on(async {
        let sd = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            sd.cancel();
        });
        let opts = crate::agent::run::RunOptions {
            summary: !args.quiet,
        };
        crate::agent::run::run(cfg, opts, shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
