//! Canonical, validated values: the only things that may ever be placed into an enforcement
//! hook (DESIGN invariant 4). Each type can only be built through a parser that rejects
//! anything that is not in canonical form.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct InvalidValue {
    pub what: &'static str,
    pub reason: String,
}

/// Who an incident is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum Subject {
    Host(IpAddr),
    Account(AccountName),
}

impl Subject {
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Subject::Host(ip) => Some(*ip),
            Subject::Account(_) => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Host(ip) => write!(f, "host {ip}"),
            Subject::Account(a) => write!(f, "account {a}"),
        }
    }
}

/// An account name that passed the configured pattern. Log text claims a user name; only a
/// name that matches the pattern (and a hard, conservative character set) becomes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountName(String);

impl AccountName {
    /// Longest name accepted regardless of the configured pattern.
    pub const MAX_LEN: usize = 64;

    /// Validate `raw` against the hard character set and the site's `pattern`.
    pub fn parse_with(raw: &str, pattern: &regex_lite::Regex) -> Result<Self, InvalidValue> {
        let name = Self::parse_charset(raw)?;
        if !pattern.is_match(&name.0) {
            return Err(InvalidValue {
                what: "account name",
                reason: "does not match the configured account pattern".into(),
            });
        }
        Ok(name)
    }

    /// Hard character set: letters, digits, `.`, `_`, `-`, `@` (for user@realm), not starting
    /// with `-` (so it can never be read as an option by a hook program).
    fn parse_charset(raw: &str) -> Result<Self, InvalidValue> {
        let bad = |reason: &str| InvalidValue {
            what: "account name",
            reason: reason.to_string(),
        };
        if raw.is_empty() {
            return Err(bad("empty"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(bad("longer than 64 bytes"));
        }
        if raw.starts_with('-') {
            return Err(bad("starts with '-'"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
        {
            return Err(bad("contains characters outside [A-Za-z0-9._@-]"));
        }
        Ok(AccountName(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountName {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse_charset(&s)
    }
}

impl From<AccountName> for String {
    fn from(a: AccountName) -> String {
        a.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A MAC address, canonical form `aa:bb:cc:dd:ee:ff` (lower case, colons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddr(pub [u8; 6]);

impl FromStr for MacAddr {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue {
            what: "MAC address",
            reason: format!(
                "{:?} is not six hex octets separated by ':' or '-'",
                truncate(s)
            ),
        };
        let mut out = [0u8; 6];
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        for (i, p) in parts.iter().enumerate() {
            if p.len() != 2 {
                return Err(bad());
            }
            out[i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        Ok(MacAddr(out))
    }
}

impl TryFrom<String> for MacAddr {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        s.parse()
    }
}

impl From<MacAddr> for String {
    fn from(m: MacAddr) -> String {
        m.to_string()
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_are_conservative() {
        let any = regex_lite::Regex::new(".*").unwrap();
        assert!(AccountName::parse_with("alice", &any).is_ok());
        assert!(AccountName::parse_with("a.b-c_d@CAMPUS.EDU", &any).is_ok());
        for bad in ["", "-rf", "a b", "a;b", "a\nb", "$(id)", "a`b`", "é"] {
            assert!(AccountName::parse_with(bad, &any).is_err(), "{bad:?}");
        }
        assert!(AccountName::parse_with(&"a".repeat(65), &any).is_err());
        let strict = regex_lite::Regex::new("^[a-z][a-z0-9]{1,15}$").unwrap();
        assert!(AccountName::parse_with("Root@x", &strict).is_err());
    }

    #[test]
    fn mac_canonical_form() {
        let m: MacAddr = "AA-bb-0c-DD-ee-0F".parse().unwrap();
        assert_eq!(m.to_string(), "aa:bb:0c:dd:ee:0f");
        assert!("aa:bb:cc:dd:ee".parse::<MacAddr>().is_err());
        assert!("aa:bb:cc:dd:ee:fg".parse::<MacAddr>().is_err());
        assert!("aa:bb:cc:dd:ee:f".parse::<MacAddr>().is_err());
    }
}
