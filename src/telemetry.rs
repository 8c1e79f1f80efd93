//! Logging set-up: human-readable on a terminal, JSON lines otherwise.
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber. `RUST_LOG` overrides the default filter (`info`).
pub fn init() {
    let filter = EnvFilter::try_from_env("CORDON_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).try_init()
    };
}
