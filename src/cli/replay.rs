//! `cordon replay -c FILE [--format F] INPUT...`: what would have happened, in data time.
use super::load_config;
use crate::agent::replay::{Input, Replay, open_lines};
use crate::parse::Format;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[arg(short, long, default_value = "/etc/cordon/cordon.toml")]
    pub config: PathBuf,
    /// Format of the line inputs (suricata_eve, netfilter, sshd, ...). `.pcap`/`.pcapng`
    /// inputs are read as packet captures.
    #[arg(long, default_value = "suricata_eve")]
    pub format: String,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Threads for packet captures: 2 decodes on one while the detectors run on the other,
    /// 1 does both on one thread. Default: 2, or 1 when the process may use only one core.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub capture_threads: Option<u8>,
    /// After the input, run the clock on this many days through the remaining deadlines.
    #[arg(long, default_value_t = 8)]
    pub horizon_days: u32,
    /// Input files (`-` for stdin, `.gz` decompressed).
    #[arg(required = true)]
    pub inputs: Vec<String>,
}

pub fn run(args: &ReplayArgs) -> ExitCode {
    let cfg = match load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let format: Format = match args.format.parse() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --format: {e}");
            return ExitCode::from(super::EX_USAGE);
        }
    };
    let stdout = std::io::stdout();
    let out = std::io::BufWriter::new(stdout.lock());
    let mut replay = match Replay::new(cfg, out, args.json) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(n) = args.capture_threads {
        replay.capture_threads(n);
    }
    let started = std::time::Instant::now();
    for path in &args.inputs {
        let input = if path.ends_with(".pcap") || path.ends_with(".pcapng") {
            Input::Pcap {
                name: path.clone(),
                path: PathBuf::from(path),
            }
        } else {
            match open_lines(path) {
                Ok(reader) => Input::Lines {
                    name: path.clone(),
                    format,
                    reader,
                },
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::from(super::EX_NOINPUT);
                }
            }
        };
        if let Err(e) = replay.input(input) {
            eprintln!("error: {path}: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = replay.finish(args.horizon_days) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let s = replay.stats();
    eprintln!(
        "replay: {} lines ({} bad, {} skipped), {} observations, {} evidence, {} incidents, {} notices, {} hook calls in {:.2}s",
        s.lines,
        s.bad,
        s.skipped,
        s.observations,
        s.evidence,
        replay.incidents_opened,
        replay.notices,
        replay.hooks,
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = replay.flush_output() {
        eprintln!("error: writing the report: {e}");
        return ExitCode::FAILURE;
    }
    // The process ends here: freeing every detector and flow table entry one by one costs
    // more than the kernel takes to reclaim the pages (2 % of a packet replay's instructions,
    // callgrind). The report is flushed above and the store is in memory.
    std::mem::forget(replay);
    ExitCode::SUCCESS
}
