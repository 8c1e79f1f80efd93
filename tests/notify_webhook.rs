//! Webhook delivery to a real HTTP server (axum) started by the test on 127.0.0.1.
#[path = "support/notify_fixture.rs"]
mod notify_fixture;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cordon::model::{Audience, Category, NoticeKind, Severity};
use cordon::notify::{self, DeliveryError, Message, Notifier, Templates};
use notify_fixture::*;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Hook {
    got: Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>,
    status: Arc<Mutex<u16>>,
}

async fn receive(
    State(h): State<Hook>,
    headers: HeaderMap,
    axum::Json(v): axum::Json<serde_json::Value>,
) -> StatusCode {
    h.got.lock().unwrap().push((headers, v));
    StatusCode::from_u16(*h.status.lock().unwrap()).unwrap()
}

async fn start_hook() -> (String, Hook) {
    let hook = Hook::default();
    *hook.status.lock().unwrap() = 200;
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(hook.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, hook)
}

fn message(audience: Audience) -> Message {
    let cfg = config("");
    let inc = incident(Category::Two);
    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let ctx = notify::context(
        &inc,
        &[evidence()],
        NoticeKind::Briefing,
        "Medium severity incident opened.",
        &tz,
        None,
        &cfg.office,
    );
    let r = notify::render(&Templates::builtin(), &ctx).unwrap();
    Message::new(
        vec!["it-managers@campus.edu".into()],
        r,
        &ctx,
        inc.id.clone(),
        NoticeKind::Briefing,
        audience,
        "CRD-2026-000123/2/notify".into(),
    )
}

fn notifier(url: &str, audiences: &str) -> Notifier {
    let cfg = config(&format!(
        "[[notify.webhooks]]\nname = \"chat\"\nurl = \"{url}\"\naudiences = {audiences}\n\
         [notify.webhooks.headers]\nAuthorization = \"Bearer hook-token\"\n"
    ));
    Notifier::from_config(&cfg.notify).unwrap()
}

#[tokio::test]
async fn posts_the_notice_as_json() {
    let (url, hook) = start_hook().await;
    let n = notifier(&url, "[]");
    n.deliver(&message(Audience::SeverityList(Severity::Medium)))
        .await
        .unwrap();
    let got = hook.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (h, v) = &got[0];
    assert_eq!(h["authorization"], "Bearer hook-token");
    assert_eq!(h["x-cordon-key"], "CRD-2026-000123/2/notify");
    assert_eq!(v["incident"], "CRD-2026-000123");
    assert_eq!(v["kind"], "briefing");
    assert_eq!(v["audience"], "medium");
    assert_eq!(v["key"], "CRD-2026-000123/2/notify");
    assert!(v["subject"].as_str().unwrap().contains("MEDIUM severity"));
    assert!(v["body"].as_str().unwrap().contains("10.1.2.3"));
    assert_eq!(v["context"]["category"], 2);
    assert_eq!(v["context"]["address"], "10.1.2.3");
    assert_eq!(
        v["context"]["evidence_time"],
        "2026-11-20 16:02:11 EST (-05:00)"
    );
    assert_eq!(v["context"]["ports"], serde_json::json!([22, 2222]));
}

#[tokio::test]
async fn server_error_is_transient_client_error_permanent() {
    let (url, hook) = start_hook().await;
    let n = notifier(&url, "[]");
    let msg = message(Audience::Office);
    for (status, permanent) in [
        (500, false),
        (503, false),
        (408, false),
        (429, false),
        (400, true),
        (404, true),
    ] {
        *hook.status.lock().unwrap() = status;
        let err = n.deliver(&msg).await.unwrap_err();
        match err {
            DeliveryError::Http {
                permanent: p,
                status: Some(s),
                ..
            } => {
                assert_eq!(s, status);
                assert_eq!(p, permanent, "status {status}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(hook.got.lock().unwrap().len(), 6);
}

#[tokio::test]
async fn unreachable_hook_is_transient_and_audiences_filter() {
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    // A chat webhook's URL is its credential (the token in the path): the error, which goes
    // to logs and the outbox, names the channel and leaves the URL out.
    let n = notifier(
        &format!("http://127.0.0.1:{port}/services/T0/B0/s3cr3t-token"),
        "[]",
    );
    let err = n.deliver(&message(Audience::Office)).await.unwrap_err();
    assert!(!err.permanent(), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("s3cr3t-token"), "{shown}");

    let (url, hook) = start_hook().await;
    let n = notifier(&url, "[\"high\"]");
    n.deliver(&message(Audience::Office)).await.unwrap();
    assert!(hook.got.lock().unwrap().is_empty());
    n.deliver(&message(Audience::SeverityList(Severity::High)))
        .await
        .unwrap();
    assert_eq!(hook.got.lock().unwrap().len(), 1);
}

#[test]
fn bad_webhook_config_is_refused() {
    // Refused without repeating the URL, which for a chat webhook is its credential.
    let cfg = config("[[notify.webhooks]]\nname = \"x\"\nurl = \"ftp://h/services/s3cr3t\"\n");
    let Err(err) = Notifier::from_config(&cfg.notify) else {
        panic!("an ftp webhook must be refused");
    };
    assert!(!format!("{err} {err:?}").contains("s3cr3t"), "{err}");
    let cfg = config(
        "[[notify.webhooks]]\nname = \"x\"\nurl = \"http://h/\"\naudiences = [\"everyone\"]\n",
    );
    assert!(Notifier::from_config(&cfg.notify).is_err());
}
