//! Every sample capture in `captures/` through the real reader and FlowEngine, asserting the
//! observations each must yield (see captures/README.md). Evidence-level assertions come
//! with the detectors.

use cordon::flow::{FlowEngine, FlowSettings, Malformed};
use cordon::ingest::pcap_file::{read_pcap, replay_pcap};
use cordon::model::{ObsKind, Proto};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    kind: &'static str,
    src: IpAddr,
    dst: IpAddr,
    dst_port: Option<u16>,
    proto: &'static str,
    icmp: Option<(u8, u8)>,
    note: String,
}

struct Run {
    obs: Vec<Seen>,
    engine: FlowEngine,
}

fn capture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures")).join(name)
}

fn run(name: &str) -> Run {
    let mut engine = FlowEngine::new(&FlowSettings::default());
    let mut obs = Vec::new();
    let mut push = |o: &cordon::model::Observation<'static>| {
        obs.push(Seen {
            kind: o.kind.as_str(),
            src: o.src.unwrap(),
            dst: o.dst.unwrap(),
            dst_port: o.dst_port,
            proto: o.proto.as_str(),
            icmp: o.icmp,
            note: o.note.as_deref().unwrap_or("").to_string(),
        })
    };
    let counts = replay_pcap(&capture(name), &mut engine, &mut push).unwrap();
    engine.finish(&mut push);
    let s = engine.stats();
    assert_eq!(counts.packets, s.packets);
    // Nothing in our own captures is malformed (ARP and the like are not IP, not errors).
    for why in [
        Malformed::TruncatedLink,
        Malformed::BadIp,
        Malformed::BadTransport,
        Malformed::UnknownLink,
    ] {
        assert_eq!(s.malformed.get(why), 0, "{name}: {}", why.as_str());
    }
    eprintln!("{name}: {s:?}");
    Run { obs, engine }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn of<'a>(r: &'a Run, kind: ObsKind) -> impl Iterator<Item = &'a Seen> + 'a {
    r.obs.iter().filter(move |o| o.kind == kind.as_str())
}

const CAMPUS: &str = "10.20.0.2";
const TARGET: &str = "198.51.100.2";

#[test]
fn scan_yields_attempts_to_a_thousand_ports_and_no_established_connection() {
    let r = run("scan.pcap");
    let ports: BTreeSet<u16> = of(&r, ObsKind::ConnAttempt)
        .filter(|o| o.src == ip(CAMPUS) && o.dst == ip(TARGET) && o.proto == "tcp")
        .filter_map(|o| o.dst_port)
        .collect();
    assert_eq!(ports.len(), 1000, "nmap -p 1-1000 probes every port once");
    assert_eq!(*ports.first().unwrap(), 1);
    assert_eq!(*ports.last().unwrap(), 1000);
    // A SYN scan never completes a handshake: nmap resets the open ports.
    assert_eq!(of(&r, ObsKind::ConnEstablished).count(), 0);
    // Every probe ends in a reset (closed port: RST-ACK; open port: nmap's RST).
    let flows: Vec<_> = of(&r, ObsKind::Flow).collect();
    assert!(flows.iter().filter(|o| o.note == "attempt:rst").count() >= 1000);
    // ...so every probed port gets a failure verdict, the scan detector's input.
    let failed: BTreeSet<u16> = of(&r, ObsKind::ConnFailed)
        .filter(|o| o.src == ip(CAMPUS) && o.note == "refused")
        .filter_map(|o| o.dst_port)
        .collect();
    assert_eq!(failed, ports);
}

#[test]
fn sweep_yields_probes_to_the_whole_slash24_and_answers_from_live_hosts_only() {
    let r = run("sweep.pcap");
    let probed: BTreeSet<IpAddr> = of(&r, ObsKind::ConnAttempt)
        .filter(|o| o.src == ip(CAMPUS))
        .map(|o| o.dst)
        .collect();
    // nmap -sn probes .0 to .255 (minus nothing: the sweep is routed, not ARP).
    assert!(probed.len() >= 254, "probed {}", probed.len());
    assert!(
        probed
            .iter()
            .all(|a| a.to_string().starts_with("198.51.100."))
    );
    // ICMP echo requests are among the probes.
    assert!(of(&r, ObsKind::ConnAttempt).any(|o| o.icmp == Some((8, 0))));
    // Only the 71 addresses assigned in the outside namespace (.2, .10-.39, .100-.139) answer.
    let answered: BTreeSet<IpAddr> = of(&r, ObsKind::ConnEstablished).map(|o| o.dst).collect();
    let mut live: BTreeSet<IpAddr> = (10..40)
        .chain(100..140)
        .map(|i| ip(&format!("198.51.100.{i}")))
        .collect();
    live.insert(ip(TARGET));
    assert_eq!(answered, live);
    // The 185 silent addresses: no probe to them is ever answered, so each gets a failure
    // verdict; no live host is judged failed on every probe.
    let failed: BTreeSet<IpAddr> = of(&r, ObsKind::ConnFailed).map(|o| o.dst).collect();
    let silent: BTreeSet<IpAddr> = probed.difference(&live).copied().collect();
    assert!(
        silent.is_subset(&failed),
        "{:?}",
        silent.difference(&failed)
    );
    assert!(silent.len() >= 183, "silent {}", silent.len());
}

#[test]
fn flood_yields_two_thousand_attempts_and_no_handshake() {
    let r = run("flood.pcap");
    let attempts: Vec<_> = of(&r, ObsKind::ConnAttempt)
        .filter(|o| o.src == ip(CAMPUS) && o.dst == ip(TARGET) && o.dst_port == Some(80))
        .collect();
    // hping3 -c 2000 with source ports cycling over a range: a few 5-tuples may repeat, and a
    // repeated SYN on a closed (reset) flow starts a new attempt.
    assert_eq!(attempts.len(), 2000);
    assert_eq!(of(&r, ObsKind::ConnEstablished).count(), 0);
    // The target answers nothing (no listener path back): every attempt is judged failed.
    assert_eq!(of(&r, ObsKind::ConnFailed).count(), 2000);
    assert_eq!(r.engine.stats().packets, 6000);
}

#[test]
fn spoofed_flood_is_spread_over_random_sources_none_of_them_real() {
    let r = run("flood-spoofed.pcap");
    let srcs: BTreeMap<IpAddr, usize> =
        of(&r, ObsKind::ConnAttempt).fold(BTreeMap::new(), |mut m, o| {
            *m.entry(o.src).or_default() += 1;
            m
        });
    let total: usize = srcs.values().sum();
    assert_eq!(total, 2000);
    assert!(srcs.len() > 1900, "random sources: {}", srcs.len());
    assert!(!srcs.contains_key(&ip(CAMPUS)));
    // Nobody completed a handshake: no source is proven real.
    assert_eq!(of(&r, ObsKind::ConnEstablished).count(), 0);
}

#[test]
fn spam_burst_connects_to_forty_mail_exchangers() {
    let r = run("spam.pcap");
    let mx: BTreeSet<IpAddr> = of(&r, ObsKind::ConnEstablished)
        .filter(|o| o.src == ip(CAMPUS) && o.dst_port == Some(25))
        .map(|o| o.dst)
        .collect();
    assert_eq!(mx.len(), 40);
    assert_eq!(
        of(&r, ObsKind::ConnAttempt)
            .filter(|o| o.dst_port == Some(25))
            .count(),
        40
    );
    // Every session ends cleanly.
    assert_eq!(
        of(&r, ObsKind::Flow)
            .filter(|o| o.dst_port == Some(25) && o.note == "established:fin")
            .count(),
        40
    );
}

#[test]
fn ssh_attempts_in_linux_cooked_capture() {
    let r = run("ssh.pcap");
    let est = of(&r, ObsKind::ConnEstablished)
        .filter(|o| o.src == ip(CAMPUS) && o.dst == ip(TARGET) && o.dst_port == Some(22))
        .count();
    // 45 ssh runs; the first may race tcpdump's start on the "any" device.
    let attempts = of(&r, ObsKind::ConnAttempt).count();
    assert!(attempts >= 44, "attempts {attempts}");
    assert_eq!(of(&r, ObsKind::ConnFailed).count(), 0);
    // Each one is a real connection (the server answers with its banner).
    assert_eq!(est, attempts);
}

#[test]
fn background_traffic_is_only_established_flows() {
    let r = run("background.pcap");
    let attempts: Vec<_> = of(&r, ObsKind::ConnAttempt).collect();
    let established: Vec<_> = of(&r, ObsKind::ConnEstablished).collect();
    // 5 DNS lookups + 10 HTTP downloads.
    assert_eq!(attempts.len(), 15);
    assert_eq!(established.len(), attempts.len());
    assert!(of(&r, ObsKind::Flow).all(|o| o.note.starts_with("established:")));
    assert_eq!(of(&r, ObsKind::ConnFailed).count(), 0);
    assert!(attempts.iter().all(|o| o.src == ip(CAMPUS)));
    assert_eq!(attempts.iter().filter(|o| o.proto == "udp").count(), 5);
}

/// A span port missing the uplink that answers return on (captures/README.md): the campus
/// host's 130 downloads whose answers the capture lacks are counted as answered unseen and
/// judged so (`answer_unseen`); the one whose answers it holds is established. Trusting such
/// initiators, the 130 get no verdict.
#[test]
fn split_route_capture_counts_the_answers_it_does_not_hold() {
    let r = run("split-route.pcap");
    let attempts: BTreeSet<_> = of(&r, ObsKind::ConnAttempt).map(|o| o.dst).collect();
    assert_eq!(attempts.len(), 131);
    let established: Vec<_> = of(&r, ObsKind::ConnEstablished).map(|o| o.dst).collect();
    assert_eq!(established, vec![ip(TARGET)]);
    let failed: Vec<_> = of(&r, ObsKind::ConnFailed).collect();
    assert_eq!(failed.len(), 130);
    assert!(
        failed.iter().all(|o| o.note == "answer_unseen"),
        "{failed:?}"
    );
    let s = r.engine.stats();
    assert_eq!(s.answer_unseen, 130);
    assert_eq!(
        s.unjudged_one_way, 0,
        "one campus host cannot make the link one-way"
    );

    let mut trusting = FlowEngine::new(&FlowSettings {
        trust_unseen_answers: true,
        ..FlowSettings::default()
    });
    let mut failed = 0;
    let mut count = |o: &cordon::model::Observation<'static>| {
        failed += usize::from(o.kind == ObsKind::ConnFailed);
    };
    replay_pcap(&capture("split-route.pcap"), &mut trusting, &mut count).unwrap();
    trusting.finish(&mut count);
    assert_eq!(failed, 0);
    assert_eq!(trusting.stats().answer_unseen, 130);
}

#[test]
fn pcapng_reads_like_pcap() {
    let a = run("background.pcap");
    let b = run("background.pcapng");
    assert_eq!(a.obs, b.obs);
    assert!(!a.obs.is_empty());
}

#[test]
fn reader_reports_link_types_and_counts() {
    let mut links = BTreeSet::new();
    let c = read_pcap(&capture("ssh.pcap"), |_, l, _| {
        links.insert(format!("{l:?}"));
    })
    .unwrap();
    assert_eq!(links.into_iter().collect::<Vec<_>>(), ["LinuxSll2"]);
    assert!(c.packets > 0 && c.bytes > 0);
    let err = read_pcap(&capture("no-such.pcap"), |_, _, _| {}).unwrap_err();
    assert!(err.to_string().contains("no-such.pcap"), "{err}");
    let _ = Proto::Tcp;
}

#[test]
fn stdin_dash_reads_a_capture() {
    // Re-run this test binary's helper below with the capture on its standard input.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stdin_child", "--ignored", "--nocapture"])
        .stdin(std::fs::File::open(capture("scan.pcap")).unwrap())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let want = run("scan.pcap");
    let attempts = of(&want, ObsKind::ConnAttempt).count();
    assert!(
        text.contains(&format!(
            "STDIN packets={} attempts={attempts}\n",
            want.engine.stats().packets
        )),
        "{text}"
    );
}

#[test]
#[ignore = "helper process for stdin_dash_reads_a_capture"]
fn stdin_child() {
    let mut e = FlowEngine::new(&FlowSettings::default());
    let mut attempts = 0;
    let c = replay_pcap(std::path::Path::new("-"), &mut e, |o| {
        attempts += usize::from(o.kind == ObsKind::ConnAttempt)
    })
    .unwrap();
    println!("\nSTDIN packets={} attempts={attempts}", c.packets);
}

/// `flow_batches` (how `cordon run` and `cordon replay` read capture files) hands on exactly
/// what the engine emits, in order, in batches of at most `BATCH`; and a consumer that goes
/// away stops the read instead of letting it run to the end of the file.
#[test]
fn flow_batches_hand_on_every_observation_and_stop_when_the_consumer_goes() {
    use cordon::flow::batch::{BATCH, PacketRecord};
    use cordon::ingest::pcap_file::flow_batches;
    let path = capture("scan.pcap");
    let mut want = Vec::new();
    let mut engine = FlowEngine::new(&FlowSettings::default());
    let mut push = |o: &cordon::model::Observation<'static>| want.push(o.clone());
    let all = replay_pcap(&path, &mut engine, &mut push).unwrap();
    engine.finish(&mut push);
    assert!(want.len() > 2 * BATCH, "{} observations", want.len());

    let mut got = Vec::new();
    let mut sizes = Vec::new();
    let mut last_progress = None;
    let counts = flow_batches(
        &path,
        &FlowSettings::default(),
        None,
        |b: Vec<PacketRecord>| {
            sizes.push(b.len());
            got.extend(b.iter().map(PacketRecord::observation));
            Ok(Some(b))
        },
        |s| last_progress = Some(s),
    )
    .unwrap();
    assert_eq!(counts, all);
    assert_eq!(got, want);
    assert!(sizes.iter().all(|&n| n > 0 && n <= BATCH), "{sizes:?}");
    assert_eq!(
        last_progress.map(|s| s.observations),
        Some(want.len() as u64)
    );

    let mut sends = 0;
    let cut = flow_batches(
        &path,
        &FlowSettings::default(),
        None,
        |_b: Vec<PacketRecord>| {
            sends += 1;
            Err(())
        },
        |_| {},
    )
    .unwrap();
    assert_eq!(sends, 1);
    assert!(
        cut.packets < all.packets,
        "read {} of {} packets after the consumer went",
        cut.packets,
        all.packets
    );
}

/// A capture file's `bpf` filter is applied before the flow engine, compiled for the file's
/// own link type (Ethernet here, Linux cooked for captures made on "any").
#[test]
fn flow_batches_apply_a_capture_filter() {
    use cordon::flow::batch::PacketRecord;
    use cordon::ingest::pcap_file::{FrameFilter, flow_batches};
    let count = |file: &str, filter: Option<&str>| {
        let mut attempts = 0;
        let mut packets = 0;
        flow_batches(
            &capture(file),
            &FlowSettings::default(),
            filter.map(FrameFilter::new),
            |b: Vec<PacketRecord>| {
                attempts += b.iter().filter(|r| r.kind == ObsKind::ConnAttempt).count();
                Ok(None)
            },
            |s| packets = s.packets,
        )
        .unwrap();
        (attempts, packets)
    };
    for file in ["scan.pcap", "ssh.pcap"] {
        let (all, all_packets) = count(file, None);
        let (none, none_packets) = count(file, Some("udp port 9"));
        assert!(all > 0 && all_packets > 0, "{file}");
        assert_eq!(
            (none, none_packets),
            (0, 0),
            "{file}: filtered frames never reach the engine"
        );
        let (tcp, _) = count(file, Some("tcp"));
        assert_eq!(tcp, all, "{file}: every attempt in it is TCP");
    }
    let err = flow_batches(
        &capture("scan.pcap"),
        &FlowSettings::default(),
        Some(FrameFilter::new("tcp and and")),
        |_b: Vec<PacketRecord>| Ok(None),
        |_| {},
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("capture filter \"tcp and and\": "),
        "{err}"
    );
}
