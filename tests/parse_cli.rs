//! `cordon parse` as a user runs it: the real binary on a real file and on stdin.
use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_cordon");

#[test]
fn prints_one_object_per_line_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.log");
    std::fs::write(
        &path,
        "Nov 23 09:12:01 gw sshd[1]: Failed password for root from 192.0.2.7 port 5022 ssh2\n\
         Nov 23 09:12:02 gw sshd[1]: Server listening on :: port 22.\n\
         garbage\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["parse", "--format", "sshd", "--timezone", "Europe/Berlin"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["kind"], "auth_failure");
    assert_eq!(rows[0]["src"], "192.0.2.7");
    assert_eq!(rows[0]["user"], "root");
    assert!(
        rows[0]["time"]
            .as_str()
            .unwrap()
            .ends_with("T09:12:01+01:00")
    );
    assert_eq!(rows[1]["skip"], true);
    assert_eq!(rows[2]["line"], 3);
    assert!(rows[2]["error"].as_str().is_some());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("3 lines: 1 observations, 1 skipped, 1 errors"),
        "{stderr}"
    );
}

#[test]
fn reads_stdin() {
    let mut child = Command::new(BIN)
        .args(["parse", "--format", "netfilter", "--timezone", "UTC", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Nov 23 09:12:01 fw kernel: DROP IN=eth0 OUT= SRC=203.0.113.1 DST=10.0.0.1 LEN=40 PROTO=TCP SPT=1 DPT=23\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "conn_denied");
    assert_eq!(v["dst_port"], 23);
}

#[test]
fn usage_errors_exit_64_and_missing_file_66() {
    let out = Command::new(BIN)
        .args(["parse", "--format", "nope", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = Command::new(BIN)
        .args([
            "parse",
            "--format",
            "sshd",
            "--timezone",
            "Mars/Olympus",
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = Command::new(BIN)
        .args(["parse", "--format", "sshd", "/nonexistent/file"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
}
