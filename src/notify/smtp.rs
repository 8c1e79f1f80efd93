//! SMTP delivery through lettre. Owns the transport and the mapping of SMTP replies to
//! permanent (5xx, bad address) or transient (4xx, connection, timeout) failures.
use super::{DeliveryError, Message, NotifyConfigError};
use crate::config::{SmtpConfig, SmtpTls};
use lettre::message::Body;
use lettre::message::Mailbox;
use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// `X-Cordon-Key`: the effect's idempotency key, so a resent message is recognizable.
#[derive(Debug, Clone)]
struct XCordonKey(String);

impl Header for XCordonKey {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Cordon-Key")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(XCordonKey(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpChannel {
    /// Default port by mode: 587 (STARTTLS), 465 (implicit TLS), 25 (plain).
    pub fn default_port(tls: SmtpTls) -> u16 {
        match tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }

    pub fn new(cfg: &SmtpConfig, from: &str) -> Result<SmtpChannel, NotifyConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| NotifyConfigError::Smtp(format!("notify.from {from:?}: {e}")))?;
        let builder = match cfg.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .map_err(|e| NotifyConfigError::Smtp(e.to_string()))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
                .map_err(|e| NotifyConfigError::Smtp(e.to_string()))?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        };
        let mut builder = builder
            .port(cfg.port.unwrap_or(Self::default_port(cfg.tls)))
            .timeout(Some(cfg.timeout.std()));
        if let Some(params) =
            ca_tls(cfg).map_err(|why| NotifyConfigError::Smtp(format!("ca_file {why}")))?
        {
            builder = match cfg.tls {
                SmtpTls::Tls => builder.tls(Tls::Wrapper(params)),
                // `ca_tls` refuses a plain relay; were one to get here, TLS is still required.
                SmtpTls::Starttls | SmtpTls::None => builder.tls(Tls::Required(params)),
            };
        }
        match (&cfg.username, &cfg.password) {
            (Some(u), Some(p)) => {
                builder = builder.credentials(Credentials::new(u.clone(), p.expose().to_string()));
            }
            (None, None) => {}
            _ => {
                return Err(NotifyConfigError::Smtp(
                    "username and password must be given together".into(),
                ));
            }
        }
        Ok(SmtpChannel {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send(&self, msg: &Message) -> Result<(), DeliveryError> {
        if msg.to.is_empty() {
            return Err(DeliveryError::NoRecipients);
        }
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .subject(msg.subject.clone())
            .message_id(Some(msg.message_id()))
            .header(XCordonKey(msg.safe_key()))
            .header(ContentType::TEXT_PLAIN);
        for to in &msg.to {
            let mb: Mailbox =
                to.parse()
                    .map_err(|e: lettre::address::AddressError| DeliveryError::Address {
                        address: to.clone(),
                        detail: e.to_string(),
                    })?;
            b = b.to(mb);
        }
        let body = body_8bit(&msg.body).unwrap_or_else(|| Body::new(msg.body.clone()));
        let email = b.body(body).map_err(|e| DeliveryError::Smtp {
            permanent: true,
            detail: format!("cannot build message: {e}"),
        })?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// Longest line an 8bit body may carry (RFC 5322 2.1.1), without CRLF.
const MAX_8BIT_LINE: usize = 998;

/// The body as 8bit text with CRLF line ends, so notices (with their long log lines) stay
/// readable as sent; None when a line is too long or the text holds NUL or a bare CR, in which
/// case lettre picks quoted-printable or base64.
fn body_8bit(text: &str) -> Option<Body> {
    let mut out = String::with_capacity(text.len() + text.len() / 40);
    for line in text.lines() {
        if line.len() > MAX_8BIT_LINE || line.contains(['\0', '\r']) {
            return None;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    Some(Body::dangerous_pre_encoded(
        out.into_bytes(),
        ContentTransferEncoding::EightBit,
    ))
}

/// `[notify.smtp] ca_file` as TLS settings for the relay (`None` when it is not set): the
/// system's roots and the CA certificates in that PEM file. The error says why it cannot be
/// used, after the file's name: it cannot be read, holds no certificate, or is set with
/// `tls = "none"`. `check-config` asks this too.
pub fn ca_tls(cfg: &SmtpConfig) -> Result<Option<TlsParameters>, String> {
    let Some(path) = &cfg.ca_file else {
        return Ok(None);
    };
    let bad = |why: String| format!("{}: {why}", path.display());
    if cfg.tls == SmtpTls::None {
        return Err(bad(
            "set, but tls = \"none\" sends in the clear (use starttls or tls, or remove ca_file)"
                .into(),
        ));
    }
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    if memchr::memmem::find(&pem, b"-----BEGIN CERTIFICATE-----").is_none() {
        return Err(bad("holds no PEM certificate".into()));
    }
    let cert = Certificate::from_pem(&pem).map_err(|e| bad(e.to_string()))?;
    TlsParameters::builder(cfg.host.clone())
        .add_root_certificate(cert)
        .build_rustls()
        .map(Some)
        .map_err(|e| bad(e.to_string()))
}

/// 5xx replies are permanent; everything else (4xx, connection refused, timeouts, TLS
/// trouble) may pass and is transient.
fn classify(e: &lettre::transport::smtp::Error) -> DeliveryError {
    let detail = match e.status() {
        Some(code) => format!("{e} (reply {code})"),
        None => e.to_string(),
    };
    DeliveryError::Smtp {
        permanent: e.is_permanent(),
        detail,
    }
}
