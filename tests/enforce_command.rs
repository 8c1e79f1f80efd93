//! Command hooks, run for real: small `/bin/sh` scripts written by the test prove that every
//! placeholder arrives as exactly one argument, the environment is cleared, exit codes map to
//! outcomes, a timeout kills the whole process group, and hostile values cannot be built.
use cordon::config::{Duration as CfgDuration, EnforceConfig, HookConfig};
use cordon::enforce::{Enforcer, HookValues, IdempotencyKey, Outcome};
use cordon::model::{AccountName, EnforceAction, IncidentId, MacAddr};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// All scripts are written once, before any test starts a process, so no concurrently forked
/// child can hold a script open for writing when it is executed (ETXTBSY).
static SCRIPTS: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let scripts: [(&str, &str, u32); 6] = [
        (
            "background.sh",
            "#!/bin/sh\nsleep 4 &\necho started\nexit 0\n",
            0o755,
        ),
        (
            "args.sh",
            "#!/bin/sh\nout=\"$1\"; shift\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$out\"; done\nenv > \"$out.env\"\n",
            0o755,
        ),
        (
            "exit.sh",
            "#!/bin/sh\nif [ \"$1\" = signal ]; then kill -9 $$; fi\nexit \"$1\"\n",
            0o755,
        ),
        (
            "slow.sh",
            "#!/bin/sh\necho $$ > \"$1\"\nsleep 30 &\necho $! > \"$1.child\"\nwait\n",
            0o755,
        ),
        (
            "loud.sh",
            "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' a\necho oops >&2\nexit 0\n",
            0o755,
        ),
        ("plain.sh", "#!/bin/sh\nexit 0\n", 0o644),
    ];
    for (name, text, mode) in scripts {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    dir
});

fn script(name: &str) -> String {
    SCRIPTS.path().join(name).display().to_string()
}

fn enforcer(verb: &str, argv: &[&str], timeout_ms: i64) -> Enforcer {
    let mut cfg = EnforceConfig {
        dry_run: false,
        max_per_minute: 600,
        burst: 100,
        timeout: CfgDuration(jiff::SignedDuration::from_millis(timeout_ms)),
        hooks: BTreeMap::new(),
        ..EnforceConfig::default()
    };
    cfg.hooks.insert(
        verb.to_string(),
        HookConfig::Command {
            argv: argv.iter().map(|s| s.to_string()).collect(),
        },
    );
    Enforcer::new(&cfg).unwrap()
}

fn host(mac: Option<&str>) -> HookValues {
    HookValues::host(
        IncidentId::new(2026, 42),
        EnforceAction::QuarantineHost,
        IdempotencyKey::parse("CRD-2026-000042/3/quarantine_host").unwrap(),
        "2001:db8::1".parse().unwrap(),
        mac.map(|m| m.parse::<MacAddr>().unwrap()),
    )
}

fn read_args(path: &Path) -> Vec<String> {
    let raw = std::fs::read(path).unwrap();
    assert_eq!(raw.last(), Some(&0), "output ends with NUL");
    raw[..raw.len() - 1]
        .split(|b| *b == 0)
        .map(|a| String::from_utf8(a.to_vec()).unwrap())
        .collect()
}

#[tokio::test]
async fn each_placeholder_is_exactly_one_argument() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("args");
    let out_s = out.display().to_string();
    let args_sh = script("args.sh");
    let e = enforcer(
        "quarantine_host",
        &[
            &args_sh,
            &out_s,
            "{ip}",
            "{mac}",
            "{incident}",
            "{key}",
            "{action}",
            "--ip={ip}",
            "two words",
            "",
            "{{ip}}",
        ],
        5000,
    );
    let res = e
        .execute(&host(Some("AA-BB-CC-00-11-22")), false, false)
        .await;
    assert!(matches!(res, Outcome::Done { .. }), "{res:?}");
    assert_eq!(
        read_args(&out),
        vec![
            "2001:db8::1",
            "aa:bb:cc:00:11:22",
            "CRD-2026-000042",
            "CRD-2026-000042/3/quarantine_host",
            "quarantine_host",
            "--ip=2001:db8::1",
            "two words",
            "",
            "{ip}",
        ]
    );

    let out2 = tmp.path().join("acct");
    let out2_s = out2.display().to_string();
    let e = enforcer(
        "lock_account",
        &[&args_sh, &out2_s, "{account}", "--user={account}"],
        5000,
    );
    let v = HookValues::account(
        IncidentId::new(2026, 43),
        EnforceAction::LockAccount,
        IdempotencyKey::parse("CRD-2026-000043/1/lock_account").unwrap(),
        AccountName::try_from("a.b-c_d@CAMPUS.EDU".to_string()).unwrap(),
    );
    let res = e.execute(&v, false, false).await;
    assert!(matches!(res, Outcome::Done { .. }), "{res:?}");
    assert_eq!(
        read_args(&out2),
        vec!["a.b-c_d@CAMPUS.EDU", "--user=a.b-c_d@CAMPUS.EDU"]
    );
}

#[tokio::test]
async fn environment_is_cleared() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("args");
    let out_s = out.display().to_string();
    let e = enforcer(
        "quarantine_host",
        &[&script("args.sh"), &out_s, "{ip}"],
        5000,
    );
    let res = e.execute(&host(None), false, false).await;
    assert!(matches!(res, Outcome::Done { .. }), "{res:?}");
    let env_text = std::fs::read_to_string(tmp.path().join("args.env")).unwrap();
    let env: BTreeMap<&str, &str> = env_text
        .lines()
        .map(|l| l.split_once('=').unwrap())
        .collect();
    // PWD is added by /bin/sh itself (the hook runs in "/").
    let expected: BTreeMap<&str, &str> = [
        ("CORDON_ACTION", "quarantine_host"),
        (
            "CORDON_IDEMPOTENCY_KEY",
            "CRD-2026-000042/3/quarantine_host",
        ),
        ("CORDON_INCIDENT", "CRD-2026-000042"),
        ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        ("PWD", "/"),
    ]
    .into_iter()
    .collect();
    assert_eq!(env, expected);
}

#[tokio::test]
async fn missing_value_fails_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("args");
    let out_s = out.display().to_string();
    let e = enforcer(
        "quarantine_host",
        &[&script("args.sh"), &out_s, "{mac}"],
        5000,
    );
    let res = e.execute(&host(None), false, false).await;
    assert_eq!(
        res,
        Outcome::Permanent {
            error: "hook needs {mac} but the incident has none".into()
        }
    );
    assert!(!out.exists());
}

#[test]
fn hostile_values_cannot_be_built() {
    let any = regex_lite::Regex::new(".*").unwrap();
    let long = "a".repeat(200);
    for bad in [
        "a;rm -rf /",
        "$(id)",
        "`id`",
        "a\nb",
        "-x",
        "a b",
        "a|b",
        "a>b",
        "",
        &long,
    ] {
        assert!(AccountName::try_from(bad.to_string()).is_err(), "{bad:?}");
        assert!(AccountName::parse_with(bad, &any).is_err(), "{bad:?}");
        assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        let as_key = format!("CRD-2026-000001/1/{bad}");
        assert!(IdempotencyKey::parse(&as_key).is_err(), "{as_key:?}");
        assert!(bad.parse::<MacAddr>().is_err(), "{bad:?}");
        assert!(bad.parse::<IncidentId>().is_err(), "{bad:?}");
        assert!(bad.parse::<std::net::IpAddr>().is_err(), "{bad:?}");
    }
    assert!("aa:bb:cc:dd:ee:ff;id".parse::<MacAddr>().is_err());
    assert!(IdempotencyKey::parse(&format!("CRD-2026-000001/1/{}", "a".repeat(83))).is_err());
    assert!(IdempotencyKey::parse(&format!("CRD-2026-000001/1/{}", "a".repeat(82))).is_ok());
}

#[tokio::test]
async fn exit_codes_map_to_outcomes() {
    let exit_sh = script("exit.sh");
    for (arg, want) in [
        ("0", "done"),
        ("75", "transient"),
        ("1", "transient"),
        ("2", "transient"),
        ("signal", "transient"),
        ("64", "permanent"),
        ("69", "permanent"),
        ("78", "permanent"),
    ] {
        let e = enforcer("quarantine_host", &[&exit_sh, arg], 5000);
        let got = match e.execute(&host(None), false, false).await {
            Outcome::Done { .. } => "done",
            Outcome::Transient { .. } => "transient",
            Outcome::Permanent { .. } => "permanent",
            other => panic!("{arg}: {other:?}"),
        };
        assert_eq!(got, want, "exit {arg}");
    }
    for unrunnable in ["/nonexistent/cordon-hook".to_string(), script("plain.sh")] {
        let e = enforcer("quarantine_host", &[&unrunnable], 5000);
        let res = e.execute(&host(None), false, false).await;
        assert!(
            matches!(&res, Outcome::Permanent { error } if error.contains("cannot start")),
            "{unrunnable}: {res:?}"
        );
    }
}

fn gone(pid: &str) -> bool {
    // Gone, or a zombie waiting for its (new) parent to reap it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[tokio::test]
async fn timeout_kills_the_process_group() {
    let tmp = tempfile::tempdir().unwrap();
    let pidfile = tmp.path().join("pid");
    let pid_s = pidfile.display().to_string();
    let e = enforcer("quarantine_host", &[&script("slow.sh"), &pid_s], 500);
    let t = Instant::now();
    let res = e.execute(&host(None), false, false).await;
    assert!(
        matches!(&res, Outcome::Transient { error } if error.contains("timed out")),
        "{res:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let shell = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let child = std::fs::read_to_string(tmp.path().join("pid.child"))
        .unwrap()
        .trim()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !(gone(&shell) && gone(&child)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone(&shell), "hook shell {shell} still running");
    assert!(gone(&child), "hook's child {child} still running");
}

#[tokio::test]
async fn output_is_captured_and_truncated() {
    let e = enforcer("quarantine_host", &[&script("loud.sh")], 5000);
    let res = e.execute(&host(None), false, false).await;
    let Outcome::Done { detail } = res else {
        panic!("{res:?}")
    };
    assert!(detail.contains("truncated"), "{detail}");
    assert!(detail.contains("oops"), "{detail}");
    assert!(detail.len() < 10_000, "{}", detail.len());
}

#[tokio::test]
async fn dry_run_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("args");
    let out_s = out.display().to_string();
    let args_sh = script("args.sh");
    let mut cfg = EnforceConfig {
        dry_run: true,
        ..EnforceConfig::default()
    };
    cfg.hooks.insert(
        "quarantine_host".into(),
        HookConfig::Command {
            argv: vec![args_sh.clone(), out_s.clone(), "{ip}".into()],
        },
    );
    let e = Enforcer::new(&cfg).unwrap();
    let res = e.execute(&host(None), false, false).await;
    let want = serde_json::json!([args_sh, out_s, "2001:db8::1"]).to_string();
    assert_eq!(res, Outcome::DryRun { rendered: want });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!out.exists());
}

#[tokio::test]
async fn exit_status_decides_even_if_a_background_child_holds_the_output() {
    let e = enforcer("quarantine_host", &[&script("background.sh")], 3000);
    let t = Instant::now();
    let res = e.execute(&host(None), false, false).await;
    assert!(
        matches!(&res, Outcome::Done { detail } if detail.contains("background process")),
        "{res:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}
