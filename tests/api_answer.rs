//! The answer pages and office API over real HTTP: the router is served on 127.0.0.1:0 and
//! driven with reqwest. The store side is a recording test double of the sink/view traits.
#[path = "support/notify_fixture.rs"]
mod notify_fixture;

use cordon::api::{self, AnswerOutcome, AnswerSink, ApiError, ApiState, IncidentView};
use cordon::model::*;
use cordon::notify::token;
use jiff::Timestamp;
use notify_fixture::*;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

const SECRET: &[u8] = b"answer-secret";

#[derive(Default)]
struct Store {
    incidents: Mutex<HashMap<IncidentId, Incident>>,
    calls: Mutex<Vec<(IncidentId, Answer, String, Timestamp)>>,
}

impl AnswerSink for Store {
    fn answer(
        &self,
        id: &IncidentId,
        answer: Answer,
        by: &str,
        now: Timestamp,
    ) -> Result<AnswerOutcome, ApiError> {
        if !self.incidents.lock().unwrap().contains_key(id) {
            return Err(ApiError::NotFound);
        }
        let repair_by = match &answer {
            Answer::Plan { repair_by, .. } => Some(*repair_by),
            _ => None,
        };
        self.calls
            .lock()
            .unwrap()
            .push((id.clone(), answer, by.to_string(), now));
        Ok(AnswerOutcome {
            recorded: "Your answer was recorded.".into(),
            repair_by,
            next_deadline: repair_by,
        })
    }
}

impl IncidentView for Store {
    fn get(&self, id: &IncidentId) -> Result<Option<Incident>, ApiError> {
        Ok(self.incidents.lock().unwrap().get(id).cloned())
    }
    fn list_open(&self, limit: usize) -> Result<Vec<Incident>, ApiError> {
        let mut v: Vec<Incident> = self
            .incidents
            .lock()
            .unwrap()
            .values()
            .filter(|i| !i.phase.is_closed())
            .cloned()
            .collect();
        v.sort_by(|a, b| b.id.cmp(&a.id));
        v.truncate(limit);
        Ok(v)
    }
}

const NOW: &str = "2026-11-20T21:10:00Z";

struct Server {
    base: String,
    store: Arc<Store>,
    client: reqwest::Client,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(office_token: Option<&str>) -> Server {
    let store = Arc::new(Store::default());
    let one = incident(Category::One);
    let mut two = incident(Category::Two);
    two.id = IncidentId::new(2026, 124);
    let mut closed = incident(Category::One);
    closed.id = IncidentId::new(2026, 125);
    closed.phase = Phase::Closed;
    for i in [one, two, closed] {
        store.incidents.lock().unwrap().insert(i.id.clone(), i);
    }
    let mut reg = Registry::default();
    let c: Counter = Counter::default();
    c.inc_by(7);
    reg.register("cordon_test_events", "Test counter", c);
    let state = ApiState {
        token_secret: Arc::from(SECRET),
        sink: store.clone(),
        view: store.clone(),
        tz: jiff::tz::TimeZone::get(TZ).unwrap(),
        max_plan_days: 7,
        office_token: office_token.map(str::to_string),
        metrics: Arc::new(Mutex::new(reg)),
        now: Arc::new(|| ts(NOW)),
        office_name: "Campus Security Office".into(),
        office_email: "security@campus.edu".into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(api::serve(listener, api::router(state), shutdown.clone()));
    Server {
        base,
        store,
        client: reqwest::Client::new(),
        shutdown,
        task,
    }
}

fn tok(id: u64, who: &str) -> String {
    token::sign(
        SECRET,
        &IncidentId::new(2026, id),
        who,
        ts("2026-12-04T00:00:00Z"),
    )
}

/// application/x-www-form-urlencoded, by hand (reqwest's `form` feature is not enabled).
fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Server {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }
    async fn post(&self, path: &str, body: String) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn page_shows_summary_forms_and_strict_headers() {
    let s = start(None).await;
    let r = s
        .get(&format!("/a/{}", tok(124, "dana@chem.campus.edu")))
        .await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    for needle in [
        "CRD-2026-000124",
        "host 10.1.2.3",
        "lab-ws-17.chem.campus.edu",
        "scanning other computers",
        "2026-11-20 16:02:11 EST (-05:00)",
        "2026-11-20 16:21:00 EST (-05:00)",
        "disconnected from the network",
        "value=\"handled\"",
        "value=\"plan\"",
        "value=\"remediated\"",
        "type=\"date\"",
        "min=\"2026-11-20\"",
        "max=\"2026-11-27\"",
        "at most 7 calendar days",
        "dana@chem.campus.edu",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    assert!(!html.contains("<script"));

    // Category 1: no plan form.
    let html = s
        .get(&format!("/a/{}", tok(123, "dana@chem.campus.edu")))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"handled\"") && !html.contains("value=\"plan\""));

    // Closed: the summary, no forms.
    let r = s
        .get(&format!("/a/{}", tok(125, "dana@chem.campus.edu")))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("closed") && !html.contains("<form"));
}

#[tokio::test]
async fn each_answer_kind_reaches_the_sink() {
    let s = start(None).await;
    let t1 = tok(123, "dana@chem.campus.edu");
    let r = s
        .post(
            &format!("/a/{t1}"),
            form(&[("action", "handled"), ("note", "unplugged <it>")]),
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Answer recorded") && html.contains("handled"));

    let t2 = tok(124, "dana@chem.campus.edu");
    let r = s
        .post(
            &format!("/a/{t2}"),
            form(&[
                ("action", "plan"),
                ("plan", "Reinstall from clean media"),
                ("repair_by", "2026-11-24"),
            ]),
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("2026-11-24 23:59:59 EST (-05:00)"), "{html}");

    let r = s
        .post(
            &format!("/a/{t1}"),
            form(&[("action", "remediated"), ("note", "")]),
        )
        .await;
    assert_eq!(r.status(), 200);

    let calls = s.store.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].0, IncidentId::new(2026, 123));
    assert_eq!(
        calls[0].1,
        Answer::Handled {
            note: "unplugged <it>".into()
        }
    );
    assert_eq!(calls[0].2, "dana@chem.campus.edu");
    assert_eq!(calls[0].3, ts(NOW));
    assert_eq!(
        calls[1].1,
        Answer::Plan {
            text: "Reinstall from clean media".into(),
            repair_by: ts("2026-11-25T04:59:59Z"),
        }
    );
    assert_eq!(
        calls[2].1,
        Answer::Remediated {
            note: String::new()
        }
    );
    s.shutdown.cancel();
    s.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn bad_inputs_are_refused_and_nothing_recorded() {
    let s = start(None).await;
    let t2 = tok(124, "dana@chem.campus.edu");
    let t1 = tok(123, "dana@chem.campus.edu");
    let cases: Vec<(String, String, u16)> = vec![
        // Repair date in the past.
        (
            t2.clone(),
            form(&[
                ("action", "plan"),
                ("plan", "x"),
                ("repair_by", "2026-11-19"),
            ]),
            400,
        ),
        // Not a date.
        (
            t2.clone(),
            form(&[("action", "plan"), ("plan", "x"), ("repair_by", "soon")]),
            400,
        ),
        // Plan missing.
        (
            t2.clone(),
            form(&[("action", "plan"), ("repair_by", "2026-11-24")]),
            400,
        ),
        // Plan on Category 1.
        (
            t1.clone(),
            form(&[
                ("action", "plan"),
                ("plan", "x"),
                ("repair_by", "2026-11-24"),
            ]),
            400,
        ),
        // Unknown action.
        (t1.clone(), form(&[("action", "delete")]), 400),
        // Field too long (under the body limit).
        (
            t1.clone(),
            form(&[("action", "handled"), ("note", &"n".repeat(5000))]),
            400,
        ),
        // Closed incident.
        (
            tok(125, "dana@chem.campus.edu"),
            form(&[("action", "handled")]),
            409,
        ),
    ];
    for (t, body, status) in cases {
        let r = s.post(&format!("/a/{t}"), body.clone()).await;
        assert_eq!(r.status().as_u16(), status, "{body}");
    }
    // Oversized body.
    let r = s
        .post(
            &format!("/a/{t1}"),
            form(&[("action", "handled"), ("note", &"x".repeat(40_000))]),
        )
        .await;
    assert_eq!(r.status().as_u16(), 413);
    assert!(s.store.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn bad_tokens_get_the_same_403() {
    let s = start(None).await;
    let good = tok(123, "dana@chem.campus.edu");
    let mut tampered = good.clone().into_bytes();
    let i = tampered.len() - 3;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let other_key = token::sign(
        b"other",
        &IncidentId::new(2026, 123),
        "dana@chem.campus.edu",
        ts("2026-12-04T00:00:00Z"),
    );
    let unknown_incident = tok(999, "dana@chem.campus.edu");
    let expired = token::sign(
        SECRET,
        &IncidentId::new(2026, 123),
        "dana@chem.campus.edu",
        ts("2026-11-20T21:00:00Z"),
    );
    let mut bodies = Vec::new();
    for t in [
        &tampered,
        &other_key,
        &unknown_incident,
        &"garbage".to_string(),
    ] {
        let r = s.get(&format!("/a/{t}")).await;
        assert_eq!(r.status(), 403, "{t}");
        bodies.push(r.text().await.unwrap());
        let r = s
            .post(&format!("/a/{t}"), form(&[("action", "handled")]))
            .await;
        assert_eq!(r.status(), 403, "{t}");
    }
    // An unknown incident is indistinguishable from a forged token.
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert!(!bodies[0].contains("CRD-2026"));
    let r = s.get(&format!("/a/{expired}")).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("expired"));
    assert!(s.store.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn health_metrics_and_office_api() {
    let s = start(Some("office-secret")).await;
    let r = s.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    let m = s.get("/metrics").await.text().await.unwrap();
    assert!(m.contains("cordon_test_events_total 7"), "{m}");

    assert_eq!(s.get("/api/incidents").await.status(), 401);
    let auth = |p: &str, t: &str| {
        s.client
            .get(format!("{}{}", s.base, p))
            .header("authorization", format!("Bearer {t}"))
            .send()
    };
    assert_eq!(auth("/api/incidents", "wrong").await.unwrap().status(), 401);
    let list: Vec<serde_json::Value> = auth("/api/incidents", "office-secret")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["CRD-2026-000124", "CRD-2026-000123"]);
    let one: serde_json::Value = auth("/api/incidents/CRD-2026-000124", "office-secret")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["category"], 2);
    assert_eq!(
        auth("/api/incidents/CRD-2026-000999", "office-secret")
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        auth("/api/incidents/nonsense", "office-secret")
            .await
            .unwrap()
            .status(),
        404
    );

    // No office token configured: the office API does not exist.
    let s2 = start(None).await;
    assert_eq!(s2.get("/api/incidents").await.status(), 404);
}
