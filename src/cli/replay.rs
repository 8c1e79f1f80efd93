//! `cordon replay -c FILE [--format F] INPUT...`: what would have happened, in data time.
use super::load_config;
use crate::agent::replay::{Input, Replay, open_lines};
use crate::ingest::pcap_file;
use crate::parse::Format;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[arg(short, long, default_value = "/etc/cordon/cordon.toml")]
    pub config: PathBuf,
    /// Format of the line inputs (suricata_eve, netfilter, sshd, ...), or `pcap`: every input
    /// (`-` too) is a packet capture. Files named `.pcap`, `.pcapng` or `.cap`, and files that
    /// start like one (`tcpdump -C` names them `dump1`, `dump2`, ...), are read as packet
    /// captures whatever the format.
    #[arg(long, default_value = "suricata_eve")]
    pub format: String,
    /// Capture filter for the packet-capture inputs, in tcpdump syntax (as `tcpdump -r FILE
    /// EXPR` takes it), e.g. "not net 192.0.2.0/24".
    #[arg(long, value_name = "EXPR")]
    pub bpf: Option<String>,
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
    // `pcap` is not a line format: it makes every input a packet capture (`None`).
    let line_format: Option<Format> = if args.format == "pcap" {
        None
    } else {
        match args.format.parse() {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("error: --format: {e}; or pcap, for packet captures");
                return ExitCode::from(super::EX_USAGE);
            }
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
    if let Some(expr) = &args.bpf {
        replay.capture_filter(expr);
    }
    let started = std::time::Instant::now();
    for path in &args.inputs {
        let input = match line_format {
            Some(format) if !is_capture(path) => match open_lines(path) {
                Ok(reader) => Input::Lines {
                    name: path.clone(),
                    format,
                    reader,
                },
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::from(super::EX_NOINPUT);
                }
            },
            _ => Input::Pcap {
                name: path.clone(),
                path: PathBuf::from(path),
            },
        };
        if let Err(e) = replay.input(input) {
            // Name the input, unless the message does already (most capture errors do).
            let msg = format!("{e:#}");
            if e.downcast_ref::<pcap_file::PcapError>()
                .is_some_and(pcap_file::PcapError::names_file)
            {
                eprintln!("error: {msg}");
            } else {
                eprintln!("error: {path}: {msg}");
            }
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = replay.finish(args.horizon_days) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let s = replay.stats();
    let c = replay.captures;
    let packets = if c.files > 0 {
        format!(
            ", {} packets ({} malformed, {} filtered out)",
            c.packets, c.malformed, c.filtered
        )
    } else {
        String::new()
    };
    eprintln!(
        "replay: {} lines ({} bad, {} skipped){packets}, {} observations, {} evidence, {} incidents, {} notices, {} hook calls in {:.2}s",
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

/// Is `path` a packet capture? By its name, or, for a regular file with another name, by the
/// magic number it starts with (classic pcap in either byte order and time unit, or pcapng).
/// Text logs never start with these bytes. Only regular files are looked into: the bytes read
/// from a pipe (`<(zcat log.gz)`) would be lost to the line reader. An unreadable file is left
/// to the line reader, which reports the error.
fn is_capture(path: &str) -> bool {
    let named = [".pcap", ".pcapng", ".cap"]
        .iter()
        .any(|x| path.ends_with(x) || path.strip_suffix(".gz").is_some_and(|p| p.ends_with(x)));
    named || (path != "-" && pcap_file::holds_capture(std::path::Path::new(path)))
}
