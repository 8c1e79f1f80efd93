//! Replay a pcap through the FlowEngine with all flow processing on, for benchmarks:
//!
//!   pcap_replay FILE [--repeat N] [--max-flows N]
//!
//! Prints packets, observations by kind, flow-table counters and packets/s. With `--repeat`,
//! the file is read N times as one continuous stream (timestamps shifted forward each round),
//! which shows memory stays flat. (To be replaced by `cordon replay` once the pipeline is in.)
use cordon::flow::{FlowEngine, FlowSettings};
use cordon::ingest::pcap_file::read_pcap;
use cordon::model::ObsKind;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(file) = args.get(1).map(PathBuf::from) else {
        eprintln!("usage: pcap_replay FILE [--repeat N] [--max-flows N]");
        std::process::exit(2);
    };
    let mut repeat = 1u32;
    let mut settings = FlowSettings::default();
    let mut i = 2;
    while i + 1 < args.len() {
        match args[i].as_str() {
            "--repeat" => repeat = args[i + 1].parse().unwrap_or(1),
            "--max-flows" => settings.max_flows = args[i + 1].parse().unwrap_or(settings.max_flows),
            _ => {}
        }
        i += 2;
    }
    let mut engine = FlowEngine::new(&settings);
    let mut by_kind = [0u64; 10];
    let mut peers = 0u64;
    let mut sink = |o: &cordon::model::Observation<'static>| {
        by_kind[o.kind as usize] += 1;
        peers = peers.wrapping_add(o.dst_port.unwrap_or(0) as u64);
    };
    let started = Instant::now();
    let mut packets = 0u64;
    let mut shift = jiff::SignedDuration::ZERO;
    for _ in 0..repeat {
        let mut first = None;
        let mut last = None;
        let r = read_pcap(&file, |ts, link, frame| {
            let ts = ts.checked_add(shift).unwrap_or(ts);
            first.get_or_insert(ts);
            last = Some(ts);
            engine.packet_ahead(ts, link, frame, &mut sink);
        });
        match r {
            Ok(c) => packets += c.packets,
            Err(e) => {
                eprintln!("pcap_replay: {e}");
                std::process::exit(1);
            }
        }
        if let (Some(f), Some(l)) = (first, last) {
            shift += l.duration_since(f) + jiff::SignedDuration::from_secs(1);
        }
    }
    engine.finish(&mut sink);
    let secs = started.elapsed().as_secs_f64();
    let s = engine.stats();
    println!(
        "packets={packets} seconds={secs:.3} pps={:.0} attempts={} established={} flows={} \
         malformed={} flows_created={} expired={} evicted={} live_at_end={} (check {peers})",
        packets as f64 / secs,
        by_kind[ObsKind::ConnAttempt as usize],
        by_kind[ObsKind::ConnEstablished as usize],
        by_kind[ObsKind::Flow as usize],
        s.malformed.total(),
        s.flows_created,
        s.flows_expired,
        s.flows_evicted,
        s.flows_live,
    );
}
