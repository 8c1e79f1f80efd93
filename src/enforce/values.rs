//! The only values that may reach a hook (DESIGN invariant 4): the incident id, the verb, the
//! idempotency key, and the subject's canonical IP / MAC / account name. Every one of them is a
//! validated type, so free text (signatures, log lines, host names) has no way in.
use crate::model::{AccountName, EnforceAction, IncidentId, InvalidValue, MacAddr, Subject};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The outbox idempotency key of one hook effect: `CRD-YYYY-NNNNNN/<seq>/<what>`.
///
/// Validated because it is sent to hooks (HTTP header, environment of a command) and must never
/// carry anything but those three canonical parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key accepted.
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let bad = |reason: &str| InvalidValue {
            what: "idempotency key",
            reason: reason.to_string(),
        };
        if raw.len() > Self::MAX_LEN {
            return Err(bad("longer than 100 bytes"));
        }
        let mut parts = raw.split('/');
        let (Some(incident), Some(seq), Some(what), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected CRD-YYYY-NNNNNN/<seq>/<what>"));
        };
        IncidentId::from_str(incident)
            .map_err(|_| bad("first part is not an incident id CRD-YYYY-NNNNNN"))?;
        if seq.is_empty() || seq.len() > 20 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("second part must be 1 to 20 digits"));
        }
        if what.is_empty()
            || what.starts_with('-')
            || !what
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
        {
            return Err(bad("third part must be [a-z_][a-z_-]*"));
        }
        Ok(IdempotencyKey(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The incident id part (always valid: checked by `parse`).
    pub fn incident_part(&self) -> &str {
        self.0.split('/').next().unwrap_or_default()
    }
}

impl FromStr for IdempotencyKey {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::parse(s)
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything a hook may be told about one enforcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookValues {
    pub incident: IncidentId,
    pub action: EnforceAction,
    pub key: IdempotencyKey,
    pub ip: Option<IpAddr>,
    pub mac: Option<MacAddr>,
    pub account: Option<AccountName>,
}

impl HookValues {
    /// Values for an incident's subject: a host gets its IP (and MAC if known), an account its
    /// name. `mac` is ignored for accounts.
    pub fn for_subject(
        incident: IncidentId,
        action: EnforceAction,
        key: IdempotencyKey,
        subject: &Subject,
        mac: Option<MacAddr>,
    ) -> Self {
        match subject {
            Subject::Host(ip) => Self::host(incident, action, key, *ip, mac),
            Subject::Account(a) => Self::account(incident, action, key, a.clone()),
        }
    }

    /// Values for a host verb (`quarantine_host`, `release_host`).
    pub fn host(
        incident: IncidentId,
        action: EnforceAction,
        key: IdempotencyKey,
        ip: IpAddr,
        mac: Option<MacAddr>,
    ) -> Self {
        HookValues {
            incident,
            action,
            key,
            ip: Some(ip),
            mac,
            account: None,
        }
    }

    /// Values for an account verb (`lock_account`, `unlock_account`).
    pub fn account(
        incident: IncidentId,
        action: EnforceAction,
        key: IdempotencyKey,
        account: AccountName,
    ) -> Self {
        HookValues {
            incident,
            action,
            key,
            ip: None,
            mac: None,
            account: Some(account),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_canonical() {
        for ok in [
            "CRD-2026-000123/1/quarantine_host",
            "CRD-2026-123456789/00042/lock_account",
        ] {
            assert_eq!(IdempotencyKey::parse(ok).unwrap().as_str(), ok);
        }
        let long = format!("CRD-2026-000001/1/{}", "a".repeat(90));
        for bad in [
            "",
            "CRD-2026-000123",
            "CRD-2026-000123/1",
            "CRD-2026-000123//quarantine_host",
            "CRD-2026-000123/x/quarantine_host",
            "CRD-2026-000123/1/Quarantine",
            "CRD-2026-000123/1/a;rm -rf /",
            "CRD-2026-000123/1/$(id)",
            "CRD-2026-000123/1/a\nb",
            "CRD-2026-000123/1/a/b",
            "-x",
            "XRD-2026-000123/1/q",
            long.as_str(),
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        let k = IdempotencyKey::parse("CRD-2026-000123/7/lock_account").unwrap();
        assert_eq!(k.incident_part(), "CRD-2026-000123");
    }
}
