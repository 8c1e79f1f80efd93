//! Notices: rendering ([`mod@render`]), answer-link signing ([`token`]), and delivery through the
//! configured channels (SMTP, webhooks, a folder of files) with per-recipient rate limits and
//! the retry schedule the outbox worker uses.
//!
//! Owns how a notice leaves the process. It must not decide *whether* a notice is sent (the
//! policy engine does) nor persist anything (the outbox in `store` does); a delivery result
//! is returned, and the caller turns it into an event.
pub mod file;
pub mod render;
pub mod smtp;
pub mod token;
pub mod webhook;

pub use file::FileChannel;
pub use render::{NoticeContext, RenderError, Rendered, Templates, context, render};
pub use smtp::SmtpChannel;
pub use token::{Claims, TokenError};
pub use webhook::WebhookChannel;

use crate::config::{Config, NotifyConfig, RetryConfig};
use crate::model::{Audience, Incident, IncidentId, NoticeKind, Severity};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use std::collections::{HashSet, VecDeque};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

/// One notice ready to send.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Message {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub incident: IncidentId,
    pub notice: NoticeKind,
    pub audience: Audience,
    /// The effect's idempotency key; carried as `Message-ID` and `X-Cordon-Key`.
    pub key: String,
    /// The [`NoticeContext`] as JSON, for webhooks.
    pub context: serde_json::Value,
}

impl Message {
    /// Build a message from a rendered notice.
    pub fn new(
        to: Vec<String>,
        rendered: Rendered,
        ctx: &NoticeContext,
        incident: IncidentId,
        notice: NoticeKind,
        audience: Audience,
        key: String,
    ) -> Message {
        Message {
            to,
            subject: rendered.subject,
            body: rendered.body,
            incident,
            notice,
            audience,
            key,
            context: serde_json::to_value(ctx).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The key reduced to characters safe in a header and a file name.
    pub fn safe_key(&self) -> String {
        self.key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/') {
                    c
                } else {
                    '_'
                }
            })
            .take(200)
            .collect()
    }

    /// `Message-ID` value derived from the key, so a resent message is recognizable.
    pub fn message_id(&self) -> String {
        format!("<{}@cordon>", self.safe_key().replace('/', "."))
    }
}

/// Why a delivery failed, and whether retrying can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("smtp: {detail}")]
    Smtp { permanent: bool, detail: String },
    #[error("webhook {name}: {detail}")]
    Http {
        name: String,
        permanent: bool,
        status: Option<u16>,
        detail: String,
    },
    #[error("file channel: {detail}")]
    File { detail: String },
    #[error("invalid address {address:?}: {detail}")]
    Address { address: String, detail: String },
    #[error("no recipients")]
    NoRecipients,
    /// Over the per-recipient limit: delayed, never dropped.
    #[error("rate limited for {recipient}; retry after {retry_after:?}")]
    RateLimited {
        recipient: String,
        retry_after: Duration,
    },
}

impl DeliveryError {
    /// Retrying cannot help (the owner is unreachable through this address).
    pub fn permanent(&self) -> bool {
        match self {
            DeliveryError::Smtp { permanent, .. } | DeliveryError::Http { permanent, .. } => {
                *permanent
            }
            DeliveryError::Address { .. } | DeliveryError::NoRecipients => true,
            DeliveryError::File { .. } | DeliveryError::RateLimited { .. } => false,
        }
    }
    /// When the caller should try again at the earliest, if the error says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Delay before retry number `attempt` (1 = first retry): `initial * 2^(attempt-1)`, capped
/// at `max_backoff`. Deterministic; see [`backoff_jittered`].
pub fn backoff(retry: &RetryConfig, attempt: u32) -> Duration {
    let initial = retry.initial_backoff.std();
    let max = retry.max_backoff.std().max(initial);
    let shift = attempt.saturating_sub(1).min(32);
    initial
        .checked_mul(1u32 << shift.min(31))
        .map_or(max, |d| d.min(max))
}

/// [`backoff`] minus up to a quarter, by `jitter` in `[0, 1]` (the caller supplies the
/// randomness, so this stays testable). Never above the cap.
pub fn backoff_jittered(retry: &RetryConfig, attempt: u32, jitter: f64) -> Duration {
    let base = backoff(retry, attempt);
    let j = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    base.mul_f64(1.0 - 0.25 * j)
}

/// Who receives a notice for `audience`.
pub fn recipients(audience: Audience, incident: &Incident, cfg: &Config) -> Vec<String> {
    match audience {
        Audience::Owner => incident
            .owner
            .as_ref()
            .map(|o| vec![o.email.clone()])
            .unwrap_or_default(),
        Audience::Office => vec![cfg.office.email.clone()],
        Audience::SeverityList(s) => match s {
            Severity::High => cfg.severity.notify.high.clone(),
            Severity::Medium => cfg.severity.notify.medium.clone(),
            Severity::Low => cfg.severity.notify.low.clone(),
            Severity::NA => Vec::new(),
        },
    }
}

/// The audience name used in config (`owner`, `office`, `high`, `medium`, `low`, `na`).
pub fn audience_name(a: Audience) -> &'static str {
    match a {
        Audience::Owner => "owner",
        Audience::Office => "office",
        Audience::SeverityList(s) => s.as_str(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyConfigError {
    #[error("notify.smtp: {0}")]
    Smtp(String),
    #[error("notify.webhooks[{index}]: {detail}")]
    Webhook { index: usize, detail: String },
    #[error("notify.file.dir: {0}")]
    File(String),
    #[error("notify.templates_dir: {0}")]
    Templates(#[from] RenderError),
}

/// Build the answer link for one recipient of one incident, valid for `notify.token_ttl`.
pub fn answer_link(
    cfg: &NotifyConfig,
    incident: &IncidentId,
    recipient: &str,
    now: jiff::Timestamp,
) -> String {
    let expires = now
        .checked_add(cfg.token_ttl.0)
        .unwrap_or(jiff::Timestamp::MAX);
    let tok = token::sign(
        cfg.token_secret.expose().as_bytes(),
        incident,
        recipient,
        expires,
    );
    format!("{}/a/{tok}", cfg.answer_base_url.trim_end_matches('/'))
}

/// Which side channels (file, webhooks) already took a message, so a retry caused by an SMTP
/// failure does not write or post it again. Bounded: oldest entries are forgotten first.
#[derive(Default)]
struct SentSet {
    set: HashSet<(usize, String)>,
    order: VecDeque<(usize, String)>,
    evicted: u64,
}

/// Most (channel, key) pairs remembered.
const SENT_CAP: usize = 8192;

impl SentSet {
    fn contains(&self, ch: usize, key: &str) -> bool {
        self.set.contains(&(ch, key.to_string()))
    }
    fn insert(&mut self, ch: usize, key: &str) {
        let k = (ch, key.to_string());
        if self.set.insert(k.clone()) {
            self.order.push_back(k);
            while self.order.len() > SENT_CAP {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                    self.evicted += 1;
                }
            }
        }
    }
}

type KeyedLimiter = RateLimiter<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    DefaultClock,
    governor::middleware::NoOpMiddleware<<DefaultClock as Clock>::Instant>,
>;

/// Most distinct recipients tracked by the rate limiter before stale entries are pruned.
const LIMITER_PRUNE_AT: usize = 10_000;

/// All configured channels plus the per-recipient limit.
pub struct Notifier {
    smtp: Option<SmtpChannel>,
    webhooks: Vec<WebhookChannel>,
    file: Option<FileChannel>,
    limiter: Option<KeyedLimiter>,
    clock: DefaultClock,
    sent: Mutex<SentSet>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("smtp", &self.smtp.is_some())
            .field("webhooks", &self.webhooks.len())
            .field("file", &self.file.is_some())
            .finish()
    }
}

impl Notifier {
    pub fn from_config(cfg: &NotifyConfig) -> Result<Notifier, NotifyConfigError> {
        let smtp = cfg
            .smtp
            .as_ref()
            .map(|s| SmtpChannel::new(s, &cfg.from))
            .transpose()?;
        let webhooks = cfg
            .webhooks
            .iter()
            .enumerate()
            .map(|(index, w)| {
                WebhookChannel::new(w)
                    .map_err(|detail| NotifyConfigError::Webhook { index, detail })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let file = cfg
            .file
            .as_ref()
            .map(|f| FileChannel::new(&f.dir, &cfg.from))
            .transpose()?;
        let limiter = NonZeroU32::new(cfg.per_recipient_per_hour)
            .map(|n| RateLimiter::keyed(Quota::per_hour(n)));
        Ok(Notifier {
            smtp,
            webhooks,
            file,
            limiter,
            clock: DefaultClock::default(),
            sent: Mutex::new(SentSet::default()),
        })
    }

    /// Check the per-recipient limit for every recipient of `msg`.
    fn check_rate(&self, msg: &Message) -> Result<(), DeliveryError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > LIMITER_PRUNE_AT {
            limiter.retain_recent();
        }
        for r in &msg.to {
            let key = r.to_ascii_lowercase();
            if let Err(not_until) = limiter.check_key(&key) {
                let retry_after = not_until.wait_time_from(self.clock.now());
                tracing::info!(recipient = %r, ?retry_after, key = %msg.key, "notice delayed by rate limit");
                return Err(DeliveryError::RateLimited {
                    recipient: r.clone(),
                    retry_after,
                });
            }
        }
        Ok(())
    }

    fn already_sent(&self, ch: usize, key: &str) -> bool {
        self.sent
            .lock()
            .map(|s| s.contains(ch, key))
            .unwrap_or(false)
    }
    fn mark_sent(&self, ch: usize, key: &str) {
        if let Ok(mut s) = self.sent.lock() {
            s.insert(ch, key);
        }
    }
    /// How many remembered side-channel deliveries were forgotten to stay bounded.
    pub fn sent_evictions(&self) -> u64 {
        self.sent.lock().map(|s| s.evicted).unwrap_or(0)
    }

    /// Send `msg` through every configured channel. With SMTP configured, its result decides
    /// (it is what reaches people); the file channel and webhooks are always attempted and
    /// their failures logged. Without SMTP, the first failure of the others is returned.
    /// A side channel that already took a message with the same key is skipped on retry.
    pub async fn deliver(&self, msg: &Message) -> Result<(), DeliveryError> {
        if msg.to.is_empty() && self.smtp.is_some() {
            return Err(DeliveryError::NoRecipients);
        }
        self.check_rate(msg)?;
        let mut other_err: Option<DeliveryError> = None;
        if let Some(f) = &self.file
            && !self.already_sent(0, &msg.key)
        {
            match f.send(msg).await {
                Ok(()) => self.mark_sent(0, &msg.key),
                Err(e) => {
                    tracing::warn!(error = %e, key = %msg.key, "file channel failed");
                    other_err.get_or_insert(e);
                }
            }
        }
        for (i, w) in self.webhooks.iter().enumerate() {
            if !w.wants(msg.audience) || self.already_sent(i + 1, &msg.key) {
                continue;
            }
            match w.send(msg).await {
                Ok(()) => self.mark_sent(i + 1, &msg.key),
                Err(e) => {
                    tracing::warn!(error = %e, key = %msg.key, "webhook failed");
                    other_err.get_or_insert(e);
                }
            }
        }
        match &self.smtp {
            Some(s) => s.send(msg).await,
            None => other_err.map_or(Ok(()), Err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Duration as CDuration;

    #[test]
    fn backoff_doubles_and_caps() {
        let r = RetryConfig {
            max_attempts: 6,
            initial_backoff: CDuration::from_secs(5),
            max_backoff: CDuration::from_secs(60),
        };
        let got: Vec<u64> = (1..=6).map(|a| backoff(&r, a).as_secs()).collect();
        assert_eq!(got, vec![5, 10, 20, 40, 60, 60]);
        assert_eq!(backoff(&r, u32::MAX).as_secs(), 60);
        assert_eq!(backoff(&r, 0).as_secs(), 5);
        let j = backoff_jittered(&r, 3, 1.0);
        assert_eq!(j, Duration::from_secs(15));
        assert_eq!(backoff_jittered(&r, 3, f64::NAN), Duration::from_secs(20));
    }

    #[test]
    fn permanence() {
        assert!(DeliveryError::NoRecipients.permanent());
        assert!(
            !DeliveryError::RateLimited {
                recipient: "a".into(),
                retry_after: Duration::from_secs(1)
            }
            .permanent()
        );
    }
}
