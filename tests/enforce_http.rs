//! HTTP hooks against a real HTTP server on 127.0.0.1 (tests/support/http_sink.rs).
#[path = "support/http_sink.rs"]
mod http_sink;

use cordon::config::{Duration as CfgDuration, EnforceConfig};
use cordon::enforce::{Enforcer, HookValues, IdempotencyKey, Outcome};
use cordon::model::{AccountName, EnforceAction, HoldReason, IncidentId, MacAddr};
use std::time::{Duration, Instant};

fn config(url_base: &str, dry_run: bool) -> EnforceConfig {
    let text = format!(
        r#"
        dry_run = {dry_run}
        max_per_minute = 60
        burst = 20
        [hooks.quarantine_host]
        type = "http"
        url = "{url_base}/quarantine/{{ip}}?incident={{incident}}"
        headers = {{ X-Token = "t0ken-secret" }}
        [hooks.quarantine_host.body]
        ip = "{{ip}}"
        mac = "{{mac}}"
        reason = "cordon {{incident}} {{action}}"
        vlan = 999
        notify = true
        [hooks.lock_account]
        type = "http"
        method = "PUT"
        url = "{url_base}/accounts/{{account}}/lock"
        body = {{ user = "{{account}}", key = "{{key}}" }}
        "#
    );
    let mut cfg: EnforceConfig = toml::from_str(&text).unwrap();
    cfg.timeout = CfgDuration(jiff::SignedDuration::from_millis(800));
    cfg
}

fn host(seq: u64) -> HookValues {
    HookValues::host(
        IncidentId::new(2026, 123),
        EnforceAction::QuarantineHost,
        IdempotencyKey::parse(&format!("CRD-2026-000123/{seq}/quarantine_host")).unwrap(),
        "2001:db8::7".parse().unwrap(),
        Some("00:1A:2b:3c:4d:5e".parse::<MacAddr>().unwrap()),
    )
}

#[tokio::test]
async fn request_carries_rendered_body_and_idempotency_key() {
    let sink = http_sink::start().await;
    let e = Enforcer::new(&config(&sink.url(""), false)).unwrap();
    let out = e.execute(&host(4), false, false).await;
    assert!(matches!(out, Outcome::Done { .. }), "{out:?}");
    let reqs = sink.wait_for(1, Duration::from_secs(2)).await;
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        "/quarantine/2001%3Adb8%3A%3A7?incident=CRD-2026-000123"
    );
    assert_eq!(
        r.header("Idempotency-Key"),
        Some("CRD-2026-000123/4/quarantine_host")
    );
    assert_eq!(r.header("X-Token"), Some("t0ken-secret"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        serde_json::json!({
            "ip": "2001:db8::7",
            "mac": "00:1a:2b:3c:4d:5e",
            "reason": "cordon CRD-2026-000123 quarantine_host",
            "vlan": 999,
            "notify": true,
        })
    );

    let acct = HookValues::account(
        IncidentId::new(2026, 9),
        EnforceAction::LockAccount,
        IdempotencyKey::parse("CRD-2026-000009/2/lock_account").unwrap(),
        AccountName::try_from("j.doe@CAMPUS.EDU".to_string()).unwrap(),
    );
    let out = e.execute(&acct, false, false).await;
    assert!(matches!(out, Outcome::Done { .. }), "{out:?}");
    let reqs = sink.wait_for(2, Duration::from_secs(2)).await;
    let r = &reqs[1];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.path, "/accounts/j.doe%40CAMPUS.EDU/lock");
    assert_eq!(
        r.header("idempotency-key"),
        Some("CRD-2026-000009/2/lock_account")
    );
    assert_eq!(
        r.json(),
        serde_json::json!({"user": "j.doe@CAMPUS.EDU", "key": "CRD-2026-000009/2/lock_account"})
    );
    assert_eq!(e.snapshot().executed, 2);
}

#[tokio::test]
async fn status_codes_map_to_outcomes() {
    let sink = http_sink::start().await;
    let e = Enforcer::new(&config(&sink.url(""), false)).unwrap();
    for (code, transient) in [
        (500, true),
        (503, true),
        (429, true),
        (408, true),
        (400, false),
        (404, false),
        (403, false),
    ] {
        sink.set_status(code);
        let out = e.execute(&host(1), false, false).await;
        match (&out, transient) {
            (Outcome::Transient { error }, true) | (Outcome::Permanent { error }, false) => {
                assert!(error.contains(&code.to_string()), "{code}: {error}")
            }
            _ => panic!("{code}: unexpected {out:?}"),
        }
    }
    assert_eq!(sink.requests().len(), 7);
    sink.set_status(204);
    assert!(matches!(
        e.execute(&host(1), false, false).await,
        Outcome::Done { .. }
    ));
    let s = e.snapshot();
    assert_eq!(
        (s.transient_failures, s.permanent_failures, s.executed),
        (4, 3, 1)
    );
}

#[tokio::test]
async fn connection_refused_is_transient_and_succeeds_once_up() {
    let down = http_sink::start_down();
    let e = Enforcer::new(&config(&down.url(""), false)).unwrap();
    let out = e.execute(&host(1), false, false).await;
    assert!(matches!(out, Outcome::Transient { .. }), "{out:?}");
    // The same call, retried once the far end is up, goes through with the same key.
    let sink = down.up().await;
    let out = e.execute(&host(1), false, false).await;
    assert!(matches!(out, Outcome::Done { .. }), "{out:?}");
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("idempotency-key"),
        Some("CRD-2026-000123/1/quarantine_host")
    );
}

#[tokio::test]
async fn slow_server_times_out_as_transient() {
    let sink = http_sink::start().await;
    sink.set_delay(Duration::from_secs(6));
    let e = Enforcer::new(&config(&sink.url(""), false)).unwrap();
    let t = Instant::now();
    let out = e.execute(&host(1), false, false).await;
    assert!(matches!(out, Outcome::Transient { .. }), "{out:?}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert_eq!(sink.requests().len(), 1);
}

#[tokio::test]
async fn dry_run_sends_nothing_and_holds_still_apply() {
    let sink = http_sink::start().await;
    let dry = Enforcer::new(&config(&sink.url(""), true)).unwrap();
    let out = dry.execute(&host(1), false, false).await;
    let Outcome::DryRun { rendered } = out else {
        panic!("expected dry run, got {out:?}")
    };
    assert!(rendered.starts_with(&format!(
        "POST {}/quarantine/2001%3Adb8%3A%3A7?incident=CRD-2026-000123\n",
        sink.url("")
    )));
    assert!(rendered.contains("x-token: ***"), "{rendered}");
    assert!(!rendered.contains("t0ken-secret"));
    assert!(
        rendered.contains(r#""mac":"00:1a:2b:3c:4d:5e""#),
        "{rendered}"
    );
    assert_eq!(
        dry.execute(&host(1), true, false).await,
        Outcome::Held(HoldReason::ProtectedAsset)
    );
    // Nothing reached the server; the same config without dry_run does reach it.
    assert!(
        sink.wait_for(1, Duration::from_millis(300))
            .await
            .is_empty()
    );
    let live = Enforcer::new(&config(&sink.url(""), false)).unwrap();
    assert!(matches!(
        live.execute(&host(1), false, false).await,
        Outcome::Done { .. }
    ));
    assert_eq!(sink.wait_for(1, Duration::from_secs(2)).await.len(), 1);
}

#[tokio::test]
async fn breaker_holds_before_the_network() {
    let sink = http_sink::start().await;
    let mut cfg = config(&sink.url(""), false);
    cfg.max_per_minute = 1;
    cfg.burst = 2;
    let e = Enforcer::new(&cfg).unwrap();
    // Distinct enforcements (distinct keys): a retry of one key would not use the budget.
    for n in 1..=2 {
        assert!(matches!(
            e.execute(&host(n), false, false).await,
            Outcome::Done { .. }
        ));
    }
    assert_eq!(
        e.execute(&host(3), false, false).await,
        Outcome::Held(HoldReason::CircuitOpen)
    );
    assert!(e.breaker_open());
    assert_eq!(sink.requests().len(), 2);
    // Approved by the office: goes through despite the open breaker.
    assert!(matches!(
        e.execute(&host(4), false, true).await,
        Outcome::Done { .. }
    ));
    assert_eq!(sink.requests().len(), 3);
}
