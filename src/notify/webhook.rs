//! Webhook delivery: POST a JSON document per notice. Owns the HTTP client and the mapping of
//! HTTP statuses to permanent (4xx except 408/429) or transient (5xx, 408, 429, network).
use super::{DeliveryError, Message, audience_name};
use crate::config::WebhookConfig;
use crate::model::Audience;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(15);

pub struct WebhookChannel {
    name: String,
    url: reqwest::Url,
    client: reqwest::Client,
    audiences: Vec<String>,
}

#[derive(serde::Serialize)]
struct Payload<'a> {
    incident: &'a str,
    kind: &'a str,
    audience: &'a str,
    key: &'a str,
    to: &'a [String],
    subject: &'a str,
    body: &'a str,
    context: &'a serde_json::Value,
}

impl WebhookChannel {
    pub fn new(cfg: &WebhookConfig) -> Result<WebhookChannel, String> {
        // The URL itself is never in these messages: a chat webhook's URL is its credential.
        let url = reqwest::Url::parse(&cfg.url).map_err(|e| format!("url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "url: scheme {:?} must be http or https",
                url.scheme()
            ));
        }
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| format!("header name {k:?}: {e}"))?;
            let mut value = HeaderValue::from_str(v.expose())
                .map_err(|_| format!("header {k:?}: value is not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        for a in &cfg.audiences {
            if !["owner", "office", "high", "medium", "low", "na"].contains(&a.as_str()) {
                return Err(format!(
                    "audience {a:?} (use owner, office, high, medium, low)"
                ));
            }
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebhookChannel {
            name: cfg.name.clone(),
            url,
            client,
            audiences: cfg.audiences.clone(),
        })
    }

    /// Does this webhook receive notices for `a`? (No list = all.)
    pub fn wants(&self, a: Audience) -> bool {
        self.audiences.is_empty() || self.audiences.iter().any(|x| x == audience_name(a))
    }

    pub async fn send(&self, msg: &Message) -> Result<(), DeliveryError> {
        let payload = Payload {
            incident: msg.incident.as_str(),
            kind: msg.notice.as_str(),
            audience: audience_name(msg.audience),
            key: &msg.key,
            to: &msg.to,
            subject: &msg.subject,
            body: &msg.body,
            context: &msg.context,
        };
        let resp = self
            .client
            .post(self.url.clone())
            .header("Idempotency-Key", msg.safe_key())
            .header("X-Cordon-Key", msg.safe_key())
            .json(&payload)
            .send()
            .await
            .map_err(|e| DeliveryError::Http {
                name: self.name.clone(),
                permanent: false,
                status: None,
                // Without the URL: a chat webhook's URL is its credential (a token in the
                // path), and this detail goes to logs and the outbox. The name says which.
                detail: e.without_url().to_string(),
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let code = status.as_u16();
        let permanent = status.is_client_error() && code != 408 && code != 429;
        Err(DeliveryError::Http {
            name: self.name.clone(),
            permanent,
            status: Some(code),
            detail: format!("HTTP {status}"),
        })
    }
}
