//! `cordon replay` reads packet captures however they arrive: a classic pcap file, a pcapng
//! file, standard input (`--format pcap -`) or a capture with another name (`tcpdump -C`
//! rotation names them `dump1`, ...). A capture filter (`--bpf`) judges `greater`/`less` by
//! the length on the wire, also when the snap length cut the frames, on every one of those
//! read paths (our own classic-pcap reader, and libpcap's for pcapng and stdin). Gzipped
//! captures (`tcpdump -z gzip`, archives) replay like the capture inside them, and a broken
//! one is an error that names it.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Replayed {
    events: Vec<serde_json::Value>,
    /// The stderr summary line.
    summary: String,
}

/// `cordon replay --json` of `inputs` with `extra` options, stdin from `stdin` if given.
fn replay(extra: &[&str], inputs: &[&Path], stdin: Option<&Path>) -> Replayed {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .current_dir(root)
        .args(["replay", "--json", "-c", "config/cordon.toml"])
        .args(extra)
        .args(inputs)
        .stdin(match stdin {
            Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
            None => Stdio::null(),
        })
        .output()
        .expect("run cordon replay");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("replay: "))
        .unwrap_or_else(|| panic!("no summary line in {stderr}"))
        .to_string();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    Replayed { events, summary }
}

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// The summary's capture counts: (packets, malformed, filtered out).
fn packet_counts(summary: &str) -> (u64, u64, u64) {
    let nums = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .map(|w| w.parse().unwrap())
            .collect()
    };
    let part = summary
        .split(", ")
        .skip_while(|p| !p.contains(" packets ("))
        .take(2)
        .collect::<Vec<_>>()
        .join(", ");
    let n = nums(&part);
    assert_eq!(n.len(), 3, "no packet counts in {summary:?}");
    (n[0], n[1], n[2])
}

/// One capture record: seconds, microseconds, length on the wire, the captured frame.
type Record = (u32, u32, u32, Vec<u8>);

/// A classic pcap's records and the header's link type. Little-endian microsecond files only
/// (what tcpdump writes here).
fn read_pcap(path: &Path) -> (u32, Vec<Record>) {
    let b = std::fs::read(path).unwrap();
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    assert_eq!(
        u32_at(0),
        0xa1b2_c3d4,
        "{}: not a little-endian µs pcap",
        path.display()
    );
    let link = u32_at(20);
    let mut recs = Vec::new();
    let mut i = 24;
    while i + 16 <= b.len() {
        let incl = u32_at(i + 8) as usize;
        recs.push((
            u32_at(i),
            u32_at(i + 4),
            u32_at(i + 12),
            b[i + 16..i + 16 + incl].to_vec(),
        ));
        i += 16 + incl;
    }
    (link, recs)
}

/// The same records as a classic pcap, each frame cut to `snap` bytes (the original length
/// kept), as a capture taken with `tcpdump -s SNAP` would hold them.
fn write_pcap_cut(path: &Path, link: u32, recs: &[Record], snap: usize) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&(snap as u32).to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    for (sec, usec, orig, frame) in recs {
        let cut = &frame[..frame.len().min(snap)];
        for v in [*sec, *usec, cut.len() as u32, *orig] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(cut);
    }
    std::fs::write(path, out).unwrap();
}

/// The same records as pcapng (one section, one interface, microsecond stamps), each frame
/// cut to `snap` bytes with its original length kept.
fn write_pcapng_cut(path: &Path, link: u32, recs: &[Record], snap: usize) {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&len.to_le_bytes());
    }
    let mut out = Vec::new();
    // Section header: byte-order magic, version 1.0, section length unknown.
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    // Interface description: link type, reserved, snap length.
    let mut idb = Vec::new();
    idb.extend_from_slice(&(link as u16).to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&(snap as u32).to_le_bytes());
    block(&mut out, 1, &idb);
    for (sec, usec, orig, frame) in recs {
        let cut = &frame[..frame.len().min(snap)];
        let ts = u64::from(*sec) * 1_000_000 + u64::from(*usec);
        let mut epb = Vec::new();
        for v in [0, (ts >> 32) as u32, ts as u32, cut.len() as u32, *orig] {
            epb.extend_from_slice(&v.to_le_bytes());
        }
        epb.extend_from_slice(cut);
        epb.resize(epb.len().next_multiple_of(4), 0);
        block(&mut out, 6, &epb);
    }
    std::fs::write(path, out).unwrap();
}

fn have_tcpdump() -> bool {
    Command::new("sh")
        .args(["-c", "command -v tcpdump"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Standard input (`--format pcap -`) and a capture named like a rotated `tcpdump -C` file
/// replay exactly like the capture file itself, for a classic pcap and a pcapng.
#[test]
fn captures_on_stdin_and_under_other_names_replay_like_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["scan.pcap", "background.pcapng"] {
        let file = capture(name);
        let want = replay(&[], &[&file], None);
        let (packets, _, filtered) = packet_counts(&want.summary);
        assert!(packets > 0 && filtered == 0, "{name}: {}", want.summary);
        if name == "scan.pcap" {
            assert!(
                want.events.iter().any(|e| e["type"] == "incident_opened"),
                "{name}: the scan opens an incident, so there is something to compare"
            );
        }

        let stdin = replay(&["--format", "pcap"], &[Path::new("-")], Some(&file));
        assert_eq!(stdin.events, want.events, "{name} on stdin");
        assert_eq!(packet_counts(&stdin.summary), packet_counts(&want.summary));

        let rotated = dir.path().join("dump1");
        std::fs::copy(&file, &rotated).unwrap();
        let sniffed = replay(&[], &[&rotated], None);
        assert_eq!(sniffed.events, want.events, "{name} as dump1");
    }
}

/// `--bpf "greater N"` keeps a frame by its length on the wire. With the frames cut to 96
/// bytes by the snap length, every read path must still pass the same frames as tcpdump does
/// on the uncut capture; a reader that handed the filter the captured length would pass
/// none.
#[test]
fn a_capture_filter_judges_length_by_the_wire_on_every_read_path() {
    if !have_tcpdump() {
        eprintln!("SKIPPED a_capture_filter…: tcpdump is not installed (scripts/setup-deps.sh)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let full = capture("background.pcap");
    let (link, recs) = read_pcap(&full);
    let cut = dir.path().join("cut.pcap");
    let cut_ng = dir.path().join("cut.pcapng");
    write_pcap_cut(&cut, link, &recs, 96);
    write_pcapng_cut(&cut_ng, link, &recs, 96);

    // What tcpdump drops with the same filter, counted from the frames it writes out.
    let dropped_file = dir.path().join("dropped.pcap");
    let st = Command::new("tcpdump")
        .arg("-r")
        .arg(&full)
        .arg("-w")
        .arg(&dropped_file)
        .arg("not greater 1000")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let dropped = read_pcap(&dropped_file).1.len() as u64;
    let total = recs.len() as u64;
    assert!(
        0 < dropped && dropped < total,
        "the filter must keep some frames and drop others ({dropped} of {total})"
    );

    let filter = ["--bpf", "greater 1000"];
    let runs = [
        ("uncut pcap", replay(&filter, &[&full], None)),
        ("cut pcap", replay(&filter, &[&cut], None)),
        ("cut pcapng", replay(&filter, &[&cut_ng], None)),
        (
            "cut pcap on stdin",
            replay(
                &["--bpf", "greater 1000", "--format", "pcap"],
                &[Path::new("-")],
                Some(&cut),
            ),
        ),
    ];
    for (what, r) in &runs {
        let (packets, malformed, filtered) = packet_counts(&r.summary);
        assert_eq!(packets, total, "{what}: {}", r.summary);
        assert_eq!(malformed, 0, "{what}: {}", r.summary);
        assert_eq!(filtered, dropped, "{what}: {}", r.summary);
    }
    // The frames that passed tell the flow engine the same story on every path.
    for (what, r) in &runs[1..] {
        assert_eq!(r.events, runs[0].1.events, "{what}");
    }
}

/// A filter that does not compile stops the replay with a message naming the filter.
#[test]
fn a_bad_capture_filter_is_reported() {
    let (line, stderr) = failed_replay(&["--bpf", "tcp and and"], &capture("scan.pcap"));
    assert!(
        line.contains("scan.pcap: capture filter \"tcp and and\": ")
            && line.matches("syntax error").count() == 1,
        "{stderr}"
    );
}

/// `cordon replay` of `input` with `extra` options, which must fail: its `error: ` line and
/// all of its stderr.
fn failed_replay(extra: &[&str], input: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["replay", "-c", "config/cordon.toml"])
        .args(extra)
        .arg(input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or("")
        .to_string();
    (line, stderr)
}

/// A log arriving through a pipe (`cordon replay <(zcat eve.json.gz)`) is not looked into for
/// a capture's magic number: reading its first bytes to find out would lose them to the
/// replay. It replays like the file itself.
#[test]
fn a_log_through_a_named_pipe_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("eve.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/eve-demo.json");
    let want = replay(&[], &[&log], None);
    assert!(!want.events.is_empty(), "the demo EVE log opens incidents");

    let root = env!("CARGO_MANIFEST_DIR");
    let child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .current_dir(root)
        .args(["replay", "--json", "-c", "config/cordon.toml"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let writer = {
        let (fifo, log) = (fifo.clone(), log.clone());
        // Opening a FIFO for writing waits for its reader.
        std::thread::spawn(move || {
            let data = std::fs::read(&log).unwrap();
            std::fs::write(&fifo, data)
        })
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let Ok(out) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
        let _ = Command::new("kill").args(["-9", &pid]).status();
        // Unblock a writer still waiting for a reader (O_NONBLOCK: never wait for a writer).
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(0o4000)
            .open(&fifo);
        panic!("cordon replay of a FIFO did not finish");
    };
    let out = out.unwrap();
    writer.join().unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events, want.events);
    assert!(
        stderr.contains(&want.summary[..want.summary.find(" in ").unwrap()]),
        "{stderr}"
    );
}

/// `bytes` gzipped in `members` gzip members, concatenated (as `cat a.gz b.gz` or pigz
/// make them: `zcat` reads them as one stream).
fn gzip(bytes: &[u8], members: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    for part in bytes.chunks(bytes.len().div_ceil(members)) {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(part).unwrap();
        out.extend(z.finish().unwrap());
    }
    out
}

/// A gzipped capture, named as such or not, in one gzip member or several, and padded with
/// zeros after the last (as tape and block devices leave files), replays exactly like the
/// capture itself (classic pcap and pcapng).
#[test]
fn gzipped_captures_replay_like_the_capture_inside() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["scan.pcap", "background.pcapng"] {
        let file = capture(name);
        let want = replay(&[], &[&file], None);
        let bytes = std::fs::read(&file).unwrap();
        for (members, padding, gz_name) in [
            (1, 0, format!("{name}.gz")),
            (3, 0, "dump7.gz".to_string()),
            (2, 10_000, format!("padded-{name}.gz")),
        ] {
            let gz = dir.path().join(&gz_name);
            let mut zipped = gzip(&bytes, members);
            zipped.extend(vec![0u8; padding]);
            std::fs::write(&gz, zipped).unwrap();
            let got = replay(&[], &[&gz], None);
            assert_eq!(got.events, want.events, "{gz_name} ({members} members)");
            assert_eq!(
                packet_counts(&got.summary),
                packet_counts(&want.summary),
                "{gz_name}: {}",
                got.summary
            );
        }
    }
    let scan = replay(&[], &[&capture("scan.pcap")], None);
    assert!(
        scan.events.iter().any(|e| e["type"] == "incident_opened"),
        "the scan opens an incident, so the comparison above compares something"
    );
}

/// A gzipped capture cut short or followed by bytes that are neither gzip nor padding, and a
/// gzipped log named like a capture, each stop the replay with an error naming the file and
/// what is wrong with it.
#[test]
fn a_broken_gzipped_capture_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let whole = gzip(&std::fs::read(capture("scan.pcap")).unwrap(), 1);
    let cut = dir.path().join("cut.pcap.gz");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let trailing = dir.path().join("trailing.pcap.gz");
    std::fs::write(&trailing, [&whole[..], b"\0\0garbage"].concat()).unwrap();
    let log = dir.path().join("log.pcap.gz");
    std::fs::write(&log, gzip(b"Dec  4 05:00:00 host sshd[1]: hello\n", 1)).unwrap();
    // A pcap magic number, then a version libpcap refuses, then more than a pipe holds: the
    // decompressing thread must not be left writing to a pipe nobody reads.
    let mut bad_version = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    bad_version.extend([9, 0, 9, 0]);
    bad_version.extend([0u8; 16]);
    bad_version.extend(vec![b'x'; 200_000]);
    let refused = dir.path().join("refused.pcap.gz");
    std::fs::write(&refused, gzip(&bad_version, 1)).unwrap();
    for (file, want) in [
        (&cut, "decompressing capture"),
        (&trailing, "neither another member nor zero padding"),
        (&log, "is gzipped but holds no pcap or pcapng capture"),
        (&refused, "unsupported pcap savefile version 9.9"),
    ] {
        let (line, stderr) = failed_replay(&[], file);
        assert!(
            line.contains(want) && line.matches(file.to_str().unwrap()).count() == 1,
            "{stderr}"
        );
    }
}
