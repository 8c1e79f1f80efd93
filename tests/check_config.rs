//! `cordon check-config`: the real binary on real files. Each mistake must produce exactly the
//! expected `error: path: reason` line on stdout and exit 78; a good config prints `ok`, exit 0.
use std::io::Write;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cordon");

/// A small, valid config; each test breaks one thing in it.
const BASE: &str = r#"
[agent]
state_dir = "var"

[campus]
networks = ["10.0.0.0/8", "fd00::/8"]

[calendar]
timezone = "America/New_York"
workdays = ["mon", "tue", "wed", "thu", "fri"]
holidays = [2026-12-25, "2027-01-01"]

[policy.category1]
answer_window = "15m"

[office]
name = "Security Office"
email = "security@campus.example.edu"

[[inventory.hosts]]
ip = "10.20.1.10"
email = "db-admins@campus.example.edu"

[[sources]]
name = "eve"
kind = "file"
format = "suricata_eve"
path = "eve.json"

[notify]
from = "cordon@campus.example.edu"
answer_base_url = "https://cordon.campus.example.edu"
token_secret = "0123456789abcdef0123"

[notify.file]
dir = "outbox"

[enforce]
dry_run = true

[enforce.hooks.quarantine_host]
type = "command"
argv = ["/usr/local/sbin/nac", "quarantine", "{ip}", "{incident}"]

[enforce.hooks.release_host]
type = "http"
method = "POST"
url = "http://127.0.0.1:9099/release/{ip}"
"#;

fn run_on(text: &str, env: &[(&str, &str)]) -> Output {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("check-config").arg("-c").arg(f.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Replace `from` (which must occur) in BASE by `to`.
fn variant(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "test bug: {from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

/// The broken config yields exactly these lines and exit 78.
fn expect(text: &str, lines: &[&str]) {
    let o = run_on(text, &[]);
    let out = stdout(&o);
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got, lines, "stdout was:\n{out}");
    assert_eq!(o.status.code(), Some(78), "stdout was:\n{out}");
}

#[test]
fn base_config_is_ok() {
    let o = run_on(BASE, &[]);
    assert_eq!(stdout(&o), "ok\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn bundled_demo_config_is_ok() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/cordon.toml");
    let o = Command::new(BIN)
        .args(["check-config", "--config", path])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        "ok\n",
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn unreadable_file_exits_66() {
    let o = Command::new(BIN)
        .args(["check-config", "-c", "/nonexistent/cordon.toml"])
        .output()
        .unwrap();
    assert!(
        stdout(&o).starts_with("error: /nonexistent/cordon.toml: cannot read: "),
        "{}",
        stdout(&o)
    );
    assert_eq!(o.status.code(), Some(66));
}

#[test]
fn bad_time_zone() {
    expect(
        &variant("America/New_York", "America/New_Yrok"),
        &[r#"error: calendar.timezone: unknown time zone "America/New_Yrok""#],
    );
}

#[test]
fn unknown_key_lists_the_expected_ones() {
    expect(
        &variant("dir = \"outbox\"", "dri = \"outbox\""),
        &["error: notify.file.dri: unknown key (expected: dir)"],
    );
    expect(
        &variant(
            "[notify.file]",
            "[notify.smtp]\nhots = \"x\"\n[notify.file]",
        ),
        &[
            "error: notify.smtp.hots: unknown key (expected one of: host, port, tls, username, password, ca_file, timeout)",
        ],
    );
}

#[test]
fn smtp_ca_file_must_hold_a_certificate_and_go_with_tls() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("campus-ca.pem");
    let smtp = |tls: &str| {
        variant(
            "[notify.file]",
            &format!(
                "[notify.smtp]\nhost = \"smtp.campus.example.edu\"\ntls = \"{tls}\"\nca_file = '{}'\n[notify.file]",
                missing.display()
            ),
        )
    };
    expect(
        &smtp("starttls"),
        &[&format!(
            "error: notify.smtp.ca_file: {}: No such file or directory (os error 2)",
            missing.display()
        )],
    );
    std::fs::write(&missing, "not a certificate\n").unwrap();
    expect(
        &smtp("tls"),
        &[&format!(
            "error: notify.smtp.ca_file: {}: holds no PEM certificate",
            missing.display()
        )],
    );
    expect(
        &smtp("none"),
        &[&format!(
            "error: notify.smtp.ca_file: {}: set, but tls = \"none\" sends in the clear (use starttls or tls, or remove ca_file)",
            missing.display()
        )],
    );
}

#[test]
fn wrong_type() {
    expect(
        &variant("dry_run = true", "dry_run = \"yes\""),
        &[r#"error: enforce.dry_run: invalid type: string "yes", expected a boolean"#],
    );
}

#[test]
fn bad_cidr() {
    expect(
        &variant(r#""fd00::/8"]"#, r#""10.0.0.0/33"]"#),
        &[
            r#"error: campus.networks[1]: invalid network "10.0.0.0/33" (write e.g. "10.0.0.0/8" or "fd00::/8")"#,
        ],
    );
}

#[test]
fn missing_required_section() {
    expect(
        &variant(
            "[office]\nname = \"Security Office\"\nemail = \"security@campus.example.edu\"\n",
            "",
        ),
        &["error: office: required section is missing"],
    );
    expect(
        &variant("name = \"Security Office\"\n", ""),
        &["error: office.name: required key is missing"],
    );
}

#[test]
fn unknown_weekday() {
    expect(
        &variant("\"thu\", \"fri\"", "\"thu\", \"fry\""),
        &[
            r#"error: calendar.workdays[4]: unknown weekday "fry" (use mon, tue, wed, thu, fri, sat, sun)"#,
        ],
    );
}

#[test]
fn unknown_variant() {
    expect(
        &variant("kind = \"file\"", "kind = \"fil\""),
        &[
            r#"error: sources[0].kind: unknown variant "fil" (expected one of: file, syslog, stdin, pcap, pcap_file)"#,
        ],
    );
}

#[test]
fn env_secret_unset_names_key_and_variable_and_set_works() {
    let text = variant(
        "token_secret = \"0123456789abcdef0123\"",
        "token_secret = \"${CORDON_TEST_UNSET_SECRET_7F3A}\"",
    );
    expect(
        &text,
        &[
            "error: notify.token_secret: environment variable CORDON_TEST_UNSET_SECRET_7F3A is not set",
        ],
    );
    let o = run_on(
        &text,
        &[(
            "CORDON_TEST_UNSET_SECRET_7F3A",
            "a-long-enough-secret-value",
        )],
    );
    assert_eq!(stdout(&o), "ok\n");
    // The expanded value is what gets length-checked.
    let o = run_on(&text, &[("CORDON_TEST_UNSET_SECRET_7F3A", "short")]);
    assert_eq!(
        stdout(&o),
        "error: notify.token_secret: must be at least 16 bytes (is 5)\n"
    );
}

#[test]
fn secret_in_hook_header_is_path_precise() {
    expect(
        &variant(
            "url = \"http://127.0.0.1:9099/release/{ip}\"",
            "url = \"http://127.0.0.1:9099/release/{ip}\"\nheaders = { Authorization = \"Bearer ${CORDON_TEST_UNSET_NAC_9C1}\" }",
        ),
        &[
            "error: enforce.hooks.release_host.headers.Authorization: environment variable CORDON_TEST_UNSET_NAC_9C1 is not set",
        ],
    );
}

#[test]
fn bad_placeholder_in_hook() {
    expect(
        &variant("/release/{ip}", "/release/{host}"),
        &[
            r#"error: enforce.hooks.release_host.url: unknown placeholder {host} (known: {incident}, {ip}, {mac}, {account}, {action}, {key}; write "{{" for a literal brace)"#,
        ],
    );
    expect(
        &variant("\"{incident}\"]", "\"{incident\"]"),
        &[
            r#"error: enforce.hooks.quarantine_host.argv[3]: unmatched "{" (write "{{" for a literal brace)"#,
        ],
    );
}

#[test]
fn relative_argv0() {
    expect(
        &variant("\"/usr/local/sbin/nac\"", "\"nac\""),
        &[
            r#"error: enforce.hooks.quarantine_host.argv[0]: "nac" must be an absolute path (no PATH lookup, no shell)"#,
        ],
    );
}

#[test]
fn duplicate_source_names_and_file_source_without_path() {
    let text = format!(
        "{BASE}\n[[sources]]\nname = \"eve\"\nkind = \"file\"\nformat = \"suricata_eve\"\n"
    );
    expect(
        &text,
        &[
            r#"error: sources[1].name: duplicate source name "eve" (also sources[0])"#,
            r#"error: sources[1].path: required key is missing (kind = "file")"#,
        ],
    );
}

#[test]
fn bad_duration() {
    expect(
        &variant(
            "answer_window = \"15m\"",
            "answer_window = \"fifteen minutes\"",
        ),
        &[
            r#"error: policy.category1.answer_window: invalid duration "fifteen minutes" (write e.g. "15m", "90s", "2h 30m"; days are not accepted)"#,
        ],
    );
    expect(
        &variant("answer_window = \"15m\"", "answer_window = \"1d\""),
        &[
            r#"error: policy.category1.answer_window: invalid duration "1d" (write e.g. "15m", "90s", "2h 30m"; days are not accepted)"#,
        ],
    );
    expect(
        &variant("answer_window = \"15m\"", "answer_window = \"0s\""),
        &["error: policy.category1.answer_window: must be longer than zero"],
    );
}

#[test]
fn short_token_secret() {
    expect(
        &variant("\"0123456789abcdef0123\"", "\"tooshort\""),
        &["error: notify.token_secret: must be at least 16 bytes (is 8)"],
    );
}

#[test]
fn host_outside_campus() {
    expect(
        &variant("ip = \"10.20.1.10\"", "ip = \"192.0.2.10\""),
        &["error: inventory.hosts[0].ip: 192.0.2.10 is not inside campus.networks"],
    );
}

#[test]
fn syntax_error_has_line_and_column() {
    let text = variant("dry_run = true", "dry_run = tru");
    let line = text.lines().position(|l| l == "dry_run = tru").unwrap() + 1;
    let o = run_on(&text, &[]);
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!("error: line {line}, column 11: ")),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(78));
}

#[test]
fn enforcement_without_hooks_and_without_undo() {
    let text = variant("dry_run = true", "dry_run = false");
    let no_hooks = &text[..text.find("[enforce.hooks.quarantine_host]").unwrap()];
    expect(
        no_hooks,
        &[
            "error: enforce.hooks: enforcement enabled but no hooks (configure hooks or set enforce.dry_run = true)",
        ],
    );
    let no_release = &text[..text.find("[enforce.hooks.release_host]").unwrap()];
    expect(
        no_release,
        &[
            "error: enforce.hooks.release_host: required when enforce.hooks.quarantine_host is set (an action must be undoable)",
        ],
    );
}

#[test]
fn all_semantic_problems_are_reported_together() {
    let text = BASE
        .replace("\"fri\"]", "\"fri\", \"mon\"]")
        .replace("email = \"security@campus.example.edu\"", "email = \"security\"")
        .replace("[enforce.hooks.quarantine_host]", "[enforce.hooks.quarantine]")
        .replace("method = \"POST\"", "method = \"post\"")
        .replace(
            "[agent]",
            "[api]\nlisten = \"0.0.0.0:8088\"\n\n[severity]\nspread_high = 3\nspread_medium = 3\n\n[agent]",
        );
    expect(
        &text,
        &[
            r#"error: calendar.workdays[5]: duplicate weekday "monday""#,
            "error: severity.spread_high: must be greater than severity.spread_medium (3) (is 3)",
            r#"error: office.email: "security" is not an email address (write local@domain)"#,
            "error: enforce.hooks.quarantine: unknown hook (expected one of: quarantine_host, release_host, lock_account, unlock_account)",
            r#"error: enforce.hooks.release_host.method: unknown method "post" (expected one of: GET, POST, PUT, PATCH, DELETE)"#,
            "error: api.office_token: required when api.listen (0.0.0.0:8088) is not a loopback address",
        ],
    );
}

#[test]
fn syslog_and_pcap_sources() {
    let syslog = "[[sources]]\nname = \"fw\"\nkind = \"syslog\"\nformat = \"netfilter\"\nlisten = \"0.0.0.0:514\"\ntransport = \"udp\"\n";
    let twice = format!("{BASE}\n{syslog}\n{}", syslog.replace("\"fw\"", "\"fw2\""));
    expect(
        &twice,
        &["error: sources[2].listen: 0.0.0.0:514/udp is already used by sources[1]"],
    );
    let pcap = format!(
        "{BASE}\n[[sources]]\nname = \"span\"\nkind = \"pcap\"\nformat = \"suricata_eve\"\n"
    );
    expect(
        &pcap,
        &[
            r#"error: sources[1].format: a packet-capture source must use format "pcap" (is "suricata_eve")"#,
            r#"error: sources[1].interface: required key is missing (kind = "pcap")"#,
        ],
    );
}

#[test]
fn hook_type_and_keys() {
    expect(
        &variant("type = \"command\"", "type = \"shell\""),
        &[
            r#"error: enforce.hooks.quarantine_host.type: unknown variant "shell" (expected one of: http, command)"#,
        ],
    );
    expect(
        &variant("type = \"command\"", "type = \"http\""),
        &[
            "error: enforce.hooks.quarantine_host.argv: not a key of an http hook (expected one of: type, method, url, headers, body)",
        ],
    );
}

/// BASE plus a live `pcap` source (sources[1]) on `interface` with filter `bpf`.
fn with_live_capture(interface: &str, bpf: &str) -> String {
    variant(
        "[notify]",
        &format!(
            "[[sources]]\nname = \"span\"\nkind = \"pcap\"\nformat = \"pcap\"\ninterface = \"{interface}\"\nbpf = \"{bpf}\"\n\n[notify]"
        ),
    )
}

/// A live interface's filter is compiled for the framing the interface will have, found
/// without opening it: `any` captures in Linux cooked framing, which has no VLAN tags and no
/// Ethernet addresses, so such a filter is refused by check-config, not at start-up.
#[test]
fn live_capture_filter_is_checked_against_the_interfaces_link_type() {
    let o = run_on(&with_live_capture("any", "vlan"), &[]);
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "error: sources[1].bpf: not a valid capture filter for interface any, a Linux cooked (SLL) capture: "
        ),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(78));
    assert_eq!(
        stdout(&run_on(&with_live_capture("any", "tcp port 22"), &[])),
        "ok\n"
    );
    // Linux captures its loopback as Ethernet (sysfs type 772), so `vlan` compiles there.
    if std::path::Path::new("/sys/class/net/lo/type").exists() {
        assert_eq!(
            stdout(&run_on(&with_live_capture("lo", "vlan"), &[])),
            "ok\n"
        );
    }
    // An interface that is not there (yet) is checked as Ethernet.
    assert_eq!(
        stdout(&run_on(&with_live_capture("cordon-none0", "vlan"), &[])),
        "ok\n"
    );
}

/// BASE plus a `pcap_file` source (sources[1]) reading `path` through filter `bpf`.
fn with_capture_file(path: &str, bpf: &str) -> String {
    variant(
        "[notify]",
        &format!(
            "[[sources]]\nname = \"tap\"\nkind = \"pcap_file\"\nformat = \"pcap\"\npath = \"{path}\"\nbpf = \"{bpf}\"\n\n[notify]"
        ),
    )
}

/// A capture file's filter is compiled for the file's own framing, read from its header: an
/// Ethernet-only filter on a raw-IP capture is refused by check-config, not at start-up.
#[test]
fn capture_filter_is_checked_against_the_files_link_type() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.pcap");
    // Classic pcap header, no records: magic, v2.4, zone, sigfigs, snaplen, LINKTYPE_RAW (101).
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    h.extend_from_slice(&65_535u32.to_le_bytes());
    h.extend_from_slice(&101u32.to_le_bytes());
    std::fs::write(&raw, h).unwrap();
    let raw_path = raw.display().to_string();
    let with_filter = |bpf: &str| with_capture_file(&raw_path, bpf);
    assert_eq!(stdout(&run_on(&with_filter("tcp port 22"), &[])), "ok\n");
    let o = run_on(&with_filter("ether host 00:11:22:33:44:55"), &[]);
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "error: sources[1].bpf: not a valid capture filter for {}, a raw IP capture: ",
            raw.display()
        )),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(78));

    // A FIFO (a capture still being written into it) is not opened: that would wait for the
    // writer. Its filter is checked as Ethernet, and check-config returns at once.
    let fifo = dir.path().join("live.pcap");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let text = with_capture_file(&fifo.display().to_string(), "tcp");
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    let mut child = Command::new(BIN)
        .arg("check-config")
        .arg("-c")
        .arg(f.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "check-config on a FIFO"
    );
}

/// Capture filters are compiled by libpcap, as the capture would: a typo is reported against
/// its key before anything starts (by check-config, and by every verb that loads the config).
#[test]
fn capture_filter_that_does_not_compile() {
    let with_filter = |bpf: &str| with_capture_file("t.pcap", bpf);
    let o = run_on(&with_filter("tcp port 22 or udp"), &[]);
    assert_eq!(stdout(&o), "ok\n");

    let bad = with_filter("tcp and and port 22");
    let o = run_on(&bad, &[]);
    let out = stdout(&o);
    assert!(
        out.starts_with("error: sources[1].bpf: not a valid capture filter: ")
            && out.lines().count() == 1,
        "{out}"
    );
    assert_eq!(o.status.code(), Some(78));

    // `replay` (like `run`) refuses the same config before reading any input.
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bad.as_bytes()).unwrap();
    let o = Command::new(BIN)
        .arg("replay")
        .arg("-c")
        .arg(f.path())
        .arg("/nonexistent.pcap")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("sources[1].bpf: not a valid capture filter"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
