//! HTTP: the owners' answer pages (`/a/{token}`), the office API (`/api/incidents`), health and
//! Prometheus metrics.
//!
//! Owns request handling only. The store is reached through two traits the agent implements
//! ([`AnswerSink`], [`IncidentView`]); this module never touches the database or the policy
//! engine directly, and everything it renders is HTML-escaped.
mod html;
mod pages;

use crate::model::{Answer, Incident, IncidentId};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Largest request body accepted (answer forms are small).
pub const MAX_BODY: usize = 16 * 1024;
/// Longest free-text field (note, plan) in characters.
pub const MAX_FIELD_CHARS: usize = 4000;

/// Errors the store side reports back to the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No such incident (shown to token holders as the generic 403 page).
    #[error("no such incident")]
    NotFound,
    /// The answer is not acceptable now (e.g. incident closed, plan for a Category 1).
    #[error("{0}")]
    Rejected(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the store recorded for an answer, shown on the confirmation page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerOutcome {
    /// One sentence: what was recorded.
    pub recorded: String,
    /// For a plan: the repair date accepted (possibly capped by policy).
    pub repair_by: Option<Timestamp>,
    /// The deadline that now applies, if any.
    pub next_deadline: Option<Timestamp>,
}

/// Records an owner's answer (the agent turns it into an `Event::OwnerAnswered`).
/// Synchronous: the implementation may block briefly (SQLite); it is called off the runtime.
pub trait AnswerSink: Send + Sync + 'static {
    fn answer(
        &self,
        id: &IncidentId,
        answer: Answer,
        by: &str,
        now: Timestamp,
    ) -> Result<AnswerOutcome, ApiError>;
}

/// Read access to incidents. Synchronous like [`AnswerSink`].
pub trait IncidentView: Send + Sync + 'static {
    fn get(&self, id: &IncidentId) -> Result<Option<Incident>, ApiError>;
    /// Open (not closed) incidents, newest first, at most `limit`.
    fn list_open(&self, limit: usize) -> Result<Vec<Incident>, ApiError>;
}

/// Renders the metrics text (so the agent can add collectors without this module knowing).
pub type MetricsRegistry = Arc<Mutex<Registry>>;

/// Everything the handlers need.
#[derive(Clone)]
pub struct ApiState {
    pub token_secret: Arc<[u8]>,
    pub sink: Arc<dyn AnswerSink>,
    pub view: Arc<dyn IncidentView>,
    /// Calendar time zone: every time on a page is shown in it.
    pub tz: jiff::tz::TimeZone,
    /// Category 2: a plan's repair date may be at most this many calendar days after the
    /// first notice (shown on the page; the engine enforces it).
    pub max_plan_days: u32,
    /// Office API bearer token; None disables `/api/*` (404).
    pub office_token: Option<String>,
    pub metrics: MetricsRegistry,
    /// The clock (injectable for tests).
    pub now: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    pub office_name: String,
    pub office_email: String,
}

impl ApiState {
    /// State from the config: token secret, calendar zone, plan cap, office token and contact;
    /// the real clock.
    pub fn new(
        cfg: &crate::config::Config,
        sink: Arc<dyn AnswerSink>,
        view: Arc<dyn IncidentView>,
        metrics: MetricsRegistry,
    ) -> ApiState {
        ApiState {
            token_secret: Arc::from(cfg.notify.token_secret.expose().as_bytes()),
            sink,
            view,
            tz: cfg.calendar.timezone.tz.clone(),
            max_plan_days: cfg.policy.category2.max_plan_days,
            office_token: cfg
                .api
                .office_token
                .as_ref()
                .map(|t| t.expose().to_string())
                .filter(|t| !t.is_empty()),
            metrics,
            now: Arc::new(Timestamp::now),
            office_name: cfg.office.name.clone(),
            office_email: cfg.office.email.clone(),
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.now)()
    }
}

/// Most incidents returned by the list endpoint.
const LIST_LIMIT: usize = 1000;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/a/{token}",
            get(pages::answer_page).post(pages::answer_post),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/api/incidents", get(list_incidents))
        .route("/api/incidents/{id}", get(get_incident))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serve until `shutdown` is cancelled, then finish in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn metrics(State(st): State<ApiState>) -> Response {
    let mut out = String::new();
    let res = match st.metrics.lock() {
        Ok(reg) => prometheus_client::encoding::text::encode(&mut out, &reg),
        Err(_) => Err(std::fmt::Error),
    };
    match res {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            out,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Constant-time comparison (of digests, so lengths leak nothing either).
fn token_matches(expected: &str, given: &str) -> bool {
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// `None` → the office API is disabled (404); `Some(false)` → 401.
fn office_auth(st: &ApiState, headers: &HeaderMap) -> Option<bool> {
    let expected = st.office_token.as_deref()?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    Some(!given.is_empty() && token_matches(expected, given))
}

fn auth_failure(st: &ApiState, headers: &HeaderMap) -> Option<Response> {
    match office_auth(st, headers) {
        None => Some(StatusCode::NOT_FOUND.into_response()),
        Some(false) => Some(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "unauthorized",
            )
                .into_response(),
        ),
        Some(true) => None,
    }
}

fn api_error(e: ApiError) -> Response {
    let status = match e {
        ApiError::NotFound => StatusCode::NOT_FOUND,
        ApiError::Rejected(_) => StatusCode::CONFLICT,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let ApiError::Internal(ref d) = e {
        tracing::error!(detail = %d, "office API failed");
    }
    (
        status,
        axum::Json(serde_json::json!({ "error": e.to_string() })),
    )
        .into_response()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

async fn list_incidents(State(st): State<ApiState>, headers: HeaderMap) -> Response {
    if let Some(r) = auth_failure(&st, &headers) {
        return r;
    }
    let view = st.view.clone();
    match blocking(move || view.list_open(LIST_LIMIT)).await {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => api_error(e),
    }
}

async fn get_incident(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = auth_failure(&st, &headers) {
        return r;
    }
    let Ok(id) = id.parse::<IncidentId>() else {
        return api_error(ApiError::NotFound);
    };
    let view = st.view.clone();
    match blocking(move || view.get(&id)).await {
        Ok(Some(i)) => axum::Json(i).into_response(),
        Ok(None) => api_error(ApiError::NotFound),
        Err(e) => api_error(e),
    }
}
