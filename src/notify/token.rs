//! Answer-link tokens: an HMAC-SHA256 signed claim "recipient R may answer incident I until T".
//!
//! Owns signing and verification only; knows nothing about the store or HTTP. The token is
//! `base64url(payload) "." base64url(mac)` (no padding), payload `incident \n recipient \n
//! expires-unix-seconds`. Verification checks the MAC in constant time before it looks at the
//! payload, so a forged token learns nothing about what it names.
use crate::model::IncidentId;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Longest token accepted; anything longer is malformed before any work is done.
pub const MAX_TOKEN_LEN: usize = 1024;

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub incident: IncidentId,
    pub recipient: String,
    pub expires: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token at all (wrong shape, bad base64, unreadable payload).
    #[error("malformed answer token")]
    Malformed,
    /// Well-formed, but the signature does not match: altered or signed with another key.
    #[error("answer token signature does not match")]
    BadSignature,
    /// Genuine but past its expiry.
    #[error("answer token expired at {0}")]
    Expired(Timestamp),
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// Sign a token for one incident and one recipient.
pub fn sign(secret: &[u8], incident: &IncidentId, recipient: &str, expires: Timestamp) -> String {
    let payload = format!(
        "{}\n{}\n{}",
        incident.as_str(),
        recipient,
        expires.as_second()
    );
    let mut m = mac(secret);
    m.update(payload.as_bytes());
    let tag = m.finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Verify a token at `now`: signature (constant time), then shape, then expiry.
pub fn verify(secret: &[u8], token: &str, now: Timestamp) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let (p64, t64) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = URL_SAFE_NO_PAD
        .decode(p64)
        .map_err(|_| TokenError::Malformed)?;
    let tag = URL_SAFE_NO_PAD
        .decode(t64)
        .map_err(|_| TokenError::Malformed)?;
    if tag.len() != 32 {
        return Err(TokenError::Malformed);
    }
    let mut m = mac(secret);
    m.update(&payload);
    m.verify_slice(&tag).map_err(|_| TokenError::BadSignature)?;

    let text = std::str::from_utf8(&payload).map_err(|_| TokenError::Malformed)?;
    let (incident, rest) = text.split_once('\n').ok_or(TokenError::Malformed)?;
    let (recipient, expires) = rest.rsplit_once('\n').ok_or(TokenError::Malformed)?;
    let incident: IncidentId = incident.parse().map_err(|_| TokenError::Malformed)?;
    let secs: i64 = expires.parse().map_err(|_| TokenError::Malformed)?;
    let expires = Timestamp::from_second(secs).map_err(|_| TokenError::Malformed)?;
    if recipient.is_empty() {
        return Err(TokenError::Malformed);
    }
    if now >= expires {
        return Err(TokenError::Expired(expires));
    }
    Ok(Claims {
        incident,
        recipient: recipient.to_string(),
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn round_trip() {
        let id = IncidentId::new(2026, 42);
        let t = sign(b"k", &id, "alice@campus.edu", ts("2026-12-01T00:00:00Z"));
        let c = verify(b"k", &t, ts("2026-11-30T00:00:00Z")).unwrap();
        assert_eq!(c.incident, id);
        assert_eq!(c.recipient, "alice@campus.edu");
        assert_eq!(c.expires, ts("2026-12-01T00:00:00Z"));
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }

    #[test]
    fn distinct_errors() {
        let id = IncidentId::new(2026, 1);
        let t = sign(b"k", &id, "a@b", ts("2026-12-01T00:00:00Z"));
        assert_eq!(
            verify(b"k", &t, ts("2026-12-01T00:00:00Z")),
            Err(TokenError::Expired(ts("2026-12-01T00:00:00Z")))
        );
        assert_eq!(
            verify(b"other", &t, ts("2026-11-01T00:00:00Z")),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(b"k", "nodot", ts("2026-11-01T00:00:00Z")),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify(b"k", "a.b", ts("2026-11-01T00:00:00Z")),
            Err(TokenError::Malformed)
        );
    }
}
