//! `cordon parse --format FORMAT FILE`: run one parser over a file (or `-` for stdin) and print
//! one normalized JSON object per input line — the tool a network team uses to check that a new
//! log source is read the way they expect. Summary counts go to stderr.
//!
//! Owns only presentation; the parsing is `crate::parse`.
use crate::model::{Observation, Proto, SensorStats};
use crate::parse::{Format, ParseContext, Parsed, parser_for};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// Log format: suricata_eve, netfilter, pf, cisco_asa, zeek_conn, zeek_notice, sshd,
    /// dovecot, postfix.
    #[arg(long)]
    pub format: String,
    /// File to read; `-` reads standard input.
    pub file: PathBuf,
    /// IANA zone of stamps that carry none (default: the system zone); output uses it too.
    #[arg(long)]
    pub timezone: Option<String>,
}

/// sysexits EX_NOINPUT: the input file could not be opened or read.
const EX_NOINPUT: u8 = 66;

pub fn run(args: &ParseArgs) -> ExitCode {
    let format: Format = match args.format.parse() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cordon parse: {e}");
            return ExitCode::from(super::EX_USAGE);
        }
    };
    let tz = match &args.timezone {
        Some(name) => match TimeZone::get(name) {
            Ok(tz) => tz,
            Err(e) => {
                eprintln!("cordon parse: unknown time zone {name:?}: {e}");
                return ExitCode::from(super::EX_USAGE);
            }
        },
        None => TimeZone::system(),
    };
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("cordon parse: cannot open {}: {e}", args.file.display());
                return ExitCode::from(EX_NOINPUT);
            }
        }
    };
    let ctx = ParseContext::new(tz, Timestamp::now());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match run_on(format, &ctx, BufReader::new(input), &mut out) {
        Ok(c) => {
            if c.stats > 0 {
                eprintln!(
                    "{} lines: {} observations, {} sensor stats, {} skipped, {} errors",
                    c.lines, c.obs, c.stats, c.skipped, c.bad
                );
            } else {
                eprintln!(
                    "{} lines: {} observations, {} skipped, {} errors",
                    c.lines, c.obs, c.skipped, c.bad
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cordon parse: {e}");
            ExitCode::from(EX_NOINPUT)
        }
    }
}

/// What `run_on` saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    pub obs: u64,
    pub skipped: u64,
    pub bad: u64,
    /// Sensor stats records (Suricata EVE `stats`).
    pub stats: u64,
}

/// Parse every line of `input` and write one JSON object per line to `out`.
pub fn run_on(
    format: Format,
    ctx: &ParseContext,
    mut input: impl BufRead,
    out: &mut impl Write,
) -> std::io::Result<Counts> {
    let mut parser = parser_for(format);
    let mut c = Counts::default();
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        c.lines += 1;
        let text = String::from_utf8_lossy(&buf);
        let line = text.trim_end_matches(['\n', '\r']);
        let v = match parser.parse(line, ctx) {
            Parsed::Obs(o) => {
                c.obs += 1;
                to_json(c.lines, &o, &ctx.tz)
            }
            Parsed::Skip => {
                c.skipped += 1;
                json!({"line": c.lines, "skip": true})
            }
            Parsed::Bad(why) => {
                c.bad += 1;
                json!({"line": c.lines, "error": why})
            }
            Parsed::Stats(s) => {
                c.stats += 1;
                stats_json(c.lines, &s, &ctx.tz)
            }
        };
        serde_json::to_writer(&mut *out, &v)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(c)
}

/// The normalized view of one observation (absent fields are left out).
pub fn to_json(line: u64, o: &Observation<'_>, tz: &TimeZone) -> Value {
    let mut m = Map::new();
    m.insert("line".into(), json!(line));
    let offset = tz.to_offset(o.time);
    m.insert(
        "time".into(),
        json!(o.time.display_with_offset(offset).to_string()),
    );
    m.insert("kind".into(), json!(o.kind.as_str()));
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            m.insert(k.into(), v);
        }
    };
    put("src", json!(o.src.map(|a| a.to_string())));
    put("src_port", json!(o.src_port));
    put("dst", json!(o.dst.map(|a| a.to_string())));
    put("dst_port", json!(o.dst_port));
    put(
        "proto",
        match o.proto {
            Proto::Unknown => Value::Null,
            Proto::Other(n) => json!(n.to_string()),
            p => json!(p.as_str()),
        },
    );
    if let Some((t, c)) = o.icmp {
        put("icmp_type", json!(t));
        put("icmp_code", json!(c));
    }
    put("user", json!(o.user.as_deref()));
    if let Some(s) = &o.signature {
        put(
            "signature",
            json!({"id": s.id, "text": s.text, "class": s.class, "severity": s.severity}),
        );
    }
    if o.packets > 0 {
        put("packets", json!(o.packets));
    }
    if o.bytes > 0 {
        put("bytes", json!(o.bytes));
    }
    put("note", json!(o.note.as_deref()));
    Value::Object(m)
}

/// The normalized view of a sensor stats record: `kind` "stats" and the counters it carries.
pub fn stats_json(line: u64, s: &SensorStats, tz: &TimeZone) -> Value {
    let offset = tz.to_offset(s.time);
    let mut v = json!({
        "line": line,
        "time": s.time.display_with_offset(offset).to_string(),
        "kind": "stats",
    });
    if let (Value::Object(m), Ok(Value::Object(counters))) = (&mut v, serde_json::to_value(s)) {
        m.extend(counters.into_iter().filter(|(k, _)| k != "time"));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eve_stats_line_prints_its_counters() {
        let line = r#"{"timestamp":"2026-11-23T11:59:52.000412+0000","event_type":"stats","stats":{"uptime":60,"capture":{"kernel_packets":1000,"kernel_drops":7},"decoder":{"pkts":993,"invalid":1},"detect":{"alert":2}}}"#;
        let ctx = ParseContext::new(TimeZone::UTC, "2026-11-23T12:00:00Z".parse().unwrap());
        let mut out = Vec::new();
        let c = run_on(Format::SuricataEve, &ctx, line.as_bytes(), &mut out).unwrap();
        assert_eq!((c.lines, c.stats, c.obs, c.skipped), (1, 1, 0, 0));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({"line": 1, "time": "2026-11-23T11:59:52.000412+00:00", "kind": "stats",
                   "uptime": 60, "kernel_packets": 1000, "kernel_drops": 7,
                   "decoder_packets": 993, "decoder_invalid": 1, "detect_alerts": 2})
        );
    }
}
