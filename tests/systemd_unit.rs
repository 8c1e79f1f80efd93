//! The shipped systemd unit keeps its hardening: every key the deployment relies on is present
//! with the expected value, and `systemd-analyze verify` accepts the file when it is installed.

use std::path::Path;
use std::process::Command;

const UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/cordon.service");

fn unit_text() -> String {
    std::fs::read_to_string(UNIT).unwrap()
}

/// `key=value` lines of the `[Service]` section, comments and blank lines dropped.
fn service_settings(text: &str) -> Vec<(String, String)> {
    let mut in_service = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_service = line == "[Service]";
            continue;
        }
        if !in_service || line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn values<'a>(settings: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    settings
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn hardening_keys_are_present() {
    let s = service_settings(&unit_text());
    let expect = [
        ("User", "cordon"),
        ("DynamicUser", "no"),
        (
            "ExecStart",
            "/usr/local/bin/cordon run -c /etc/cordon/cordon.toml",
        ),
        ("StateDirectory", "cordon"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", "CAP_NET_RAW"),
        ("AmbientCapabilities", "CAP_NET_RAW"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("RestrictNamespaces", "yes"),
        ("EnvironmentFile", "-/etc/cordon/secrets.env"),
        ("KillSignal", "SIGTERM"),
        ("TimeoutStopSec", "30"),
        ("Restart", "on-failure"),
    ];
    let mut missing = Vec::new();
    for (key, want) in expect {
        if !values(&s, key).contains(&want) {
            missing.push(format!("{key}={want} (found {:?})", values(&s, key)));
        }
    }
    assert!(missing.is_empty(), "unit lacks: {missing:#?}");
}

#[test]
fn address_families_and_syscalls_are_restricted() {
    let s = service_settings(&unit_text());
    let fams = values(&s, "RestrictAddressFamilies");
    assert_eq!(fams.len(), 1, "exactly one RestrictAddressFamilies line");
    let mut got: Vec<&str> = fams[0].split_whitespace().collect();
    got.sort_unstable();
    assert_eq!(
        got,
        ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_UNIX"]
    );
    assert!(values(&s, "SystemCallFilter").contains(&"@system-service"));
    let ro = values(&s, "ReadOnlyPaths");
    assert!(!ro.is_empty(), "ReadOnlyPaths for tailed logs");
    // The capability set must never grow silently beyond what live capture needs.
    for key in ["CapabilityBoundingSet", "AmbientCapabilities"] {
        for v in values(&s, key) {
            for cap in v.split_whitespace() {
                assert_eq!(cap, "CAP_NET_RAW", "{key} grants {cap}");
            }
        }
    }
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let Some(tool) = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    // verify also checks that ExecStart exists; the binary is not installed in a test
    // environment, so only that complaint is tolerated.
    let out = Command::new(tool)
        .args(["verify", "--man=no", UNIT])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !l.contains("/usr/local/bin/cordon"))
        .filter(|l| !l.contains("Failed to prepare filename"))
        .filter(|l| !l.contains("Command /usr/local/bin/cordon is not executable"))
        .collect();
    assert!(problems.is_empty(), "systemd-analyze verify: {problems:#?}");
}
