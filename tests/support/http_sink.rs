//! A real HTTP server for tests, on 127.0.0.1: records every request (method, path with query,
//! headers, body) and answers with a status the test chooses, optionally after a delay. It can
//! also start "down" (an address reserved but not listening) and come up later.
//!
//! Self-contained: include with `#[path = "support/http_sink.rs"] mod http_sink;`.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// One request as the sink saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent (still percent-encoded).
    pub path: String,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("<non-utf8 body>")
    }

    /// The body parsed as JSON (panics in the test if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body_str()))
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    status: AtomicU16,
    delay_ms: AtomicU64,
    arrived: Notify,
}

/// A running sink. Dropping it stops the server.
pub struct HttpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start a sink on 127.0.0.1 with a free port, answering 200.
pub async fn start() -> HttpSink {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    serve(listener)
}

/// Reserve an address on which nothing listens yet (connections are refused); call
/// [`DownSink::up`] to start the sink there.
pub fn start_down() -> DownSink {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = l.local_addr().expect("local addr");
    drop(l);
    DownSink { addr }
}

pub struct DownSink {
    addr: SocketAddr,
}

impl DownSink {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Bind the reserved address and start serving.
    pub async fn up(self) -> HttpSink {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("bind the reserved address");
        serve(listener)
    }
}

fn serve(listener: tokio::net::TcpListener) -> HttpSink {
    let addr = listener.local_addr().expect("local addr");
    let shared = Arc::new(Shared {
        status: AtomicU16::new(200),
        ..Shared::default()
    });
    let app = axum::Router::new()
        .fallback(record)
        .with_state(shared.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    HttpSink { addr, shared, task }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let rec = Recorded {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| uri.path().to_string()),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    shared.requests.lock().expect("sink lock").push(rec);
    shared.arrived.notify_waiters();
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let code = shared.status.load(Ordering::SeqCst);
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, format!("sink answered {code}"))
}

impl HttpSink {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().expect("sink lock").clone()
    }

    /// Wait until at least `n` requests arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.requests();
            }
        }
    }

    /// Status for every following answer (e.g. 200, 400, 500).
    pub fn set_status(&self, code: u16) {
        self.shared.status.store(code, Ordering::SeqCst);
    }

    /// Wait this long before answering (to test client timeouts).
    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Forget recorded requests.
    pub fn clear(&self) {
        self.shared.requests.lock().expect("sink lock").clear();
    }
}
