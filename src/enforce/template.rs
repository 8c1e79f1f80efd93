//! Hook templates: the placeholders `{incident}`, `{ip}`, `{mac}`, `{account}`, `{action}` and
//! `{key}` in argv elements, URLs and JSON body templates, and nothing else. `{{` and `}}` write
//! a literal brace; any other brace is an error, found by [`check`] when the config is loaded.
//!
//! Values come only from [`HookValues`] (canonical, validated). Owns no I/O.
use super::values::HookValues;
use std::fmt::Write as _;

/// One placeholder name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    Incident,
    Ip,
    Mac,
    Account,
    Action,
    Key,
}

impl Placeholder {
    pub const ALL: [Placeholder; 6] = [
        Placeholder::Incident,
        Placeholder::Ip,
        Placeholder::Mac,
        Placeholder::Account,
        Placeholder::Action,
        Placeholder::Key,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Incident => "incident",
            Placeholder::Ip => "ip",
            Placeholder::Mac => "mac",
            Placeholder::Account => "account",
            Placeholder::Action => "action",
            Placeholder::Key => "key",
        }
    }

    fn from_name(name: &str) -> Option<Placeholder> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// This placeholder's value for one enforcement, if the subject has it.
    pub fn value(self, v: &HookValues) -> Result<String, RenderError> {
        let missing = || RenderError::Missing(self.name());
        Ok(match self {
            Placeholder::Incident => v.incident.to_string(),
            Placeholder::Ip => v.ip.ok_or_else(missing)?.to_string(),
            Placeholder::Mac => v.mac.ok_or_else(missing)?.to_string(),
            Placeholder::Account => v.account.as_ref().ok_or_else(missing)?.to_string(),
            Placeholder::Action => v.action.as_str().to_string(),
            Placeholder::Key => v.key.to_string(),
        })
    }
}

/// Why a template could not be rendered for one enforcement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("bad hook template: {0}")]
    Template(String),
    #[error("hook needs {{{0}}} but the incident has none")]
    Missing(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Ph(Placeholder),
}

fn parse(template: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        lit.push_str(&rest[..i]);
        let brace = rest.as_bytes()[i];
        let after = &rest[i + 1..];
        if brace == b'}' {
            if let Some(r) = after.strip_prefix('}') {
                lit.push('}');
                rest = r;
                continue;
            }
            return Err(format!(
                "stray '}}' at byte {i} (write '}}}}' for a literal brace)"
            ));
        }
        if let Some(r) = after.strip_prefix('{') {
            lit.push('{');
            rest = r;
            continue;
        }
        let Some(end) = after
            .find(['}', '{'])
            .filter(|&e| after.as_bytes()[e] == b'}')
        else {
            return Err(format!(
                "unclosed '{{' at byte {i} (write '{{{{' for a literal brace)"
            ));
        };
        let name = &after[..end];
        let Some(p) = Placeholder::from_name(name) else {
            return Err(format!(
                "unknown placeholder {{{name}}} (known: {})",
                Placeholder::ALL
                    .map(|p| format!("{{{}}}", p.name()))
                    .join(", ")
            ));
        };
        if !lit.is_empty() {
            out.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        out.push(Piece::Ph(p));
        rest = &after[end + 1..];
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

/// Validate one template string (config validation): unknown placeholders and stray braces are
/// errors.
pub fn check(template: &str) -> Result<(), String> {
    parse(template).map(|_| ())
}

/// The placeholders a template uses, in order.
pub fn placeholders(template: &str) -> Result<Vec<Placeholder>, String> {
    Ok(parse(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Ph(p) => Some(p),
            Piece::Lit(_) => None,
        })
        .collect())
}

/// Validate every string leaf of a JSON body template. Table keys are literal.
pub fn check_body(body: &toml::Value) -> Result<(), String> {
    match body {
        toml::Value::String(s) => check(s),
        toml::Value::Array(items) => items.iter().try_for_each(check_body),
        toml::Value::Table(t) => t
            .iter()
            .try_for_each(|(k, v)| check_body(v).map_err(|e| format!("{k}: {e}"))),
        _ => Ok(()),
    }
}

fn render_with(
    template: &str,
    values: &HookValues,
    encode: impl Fn(&str, &mut String),
) -> Result<String, RenderError> {
    let pieces = parse(template).map_err(RenderError::Template)?;
    let mut out = String::with_capacity(template.len() + 32);
    for piece in pieces {
        match piece {
            Piece::Lit(s) => out.push_str(&s),
            Piece::Ph(p) => encode(&p.value(values)?, &mut out),
        }
    }
    Ok(out)
}

/// Render one argv element: values are substituted as they are, and the element stays one
/// argument whatever it contains (no shell ever sees it).
pub fn render_arg(template: &str, values: &HookValues) -> Result<String, RenderError> {
    render_with(template, values, |v, out| out.push_str(v))
}

/// Render a URL: values are percent-encoded (everything but RFC 3986 unreserved characters).
pub fn render_url(template: &str, values: &HookValues) -> Result<String, RenderError> {
    render_with(template, values, percent_encode)
}

fn percent_encode(v: &str, out: &mut String) {
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Render a JSON body template (a TOML tree from config) into a JSON value. A string leaf that
/// is exactly one placeholder becomes the JSON string of that value; strings with placeholders
/// inside are substituted; everything else is copied (TOML datetimes become strings).
pub fn render_body(
    body: &toml::Value,
    values: &HookValues,
) -> Result<serde_json::Value, RenderError> {
    use serde_json::Value as J;
    Ok(match body {
        toml::Value::String(s) => match parse(s).map_err(RenderError::Template)?.as_slice() {
            [Piece::Ph(p)] => J::String(p.value(values)?),
            _ => J::String(render_arg(s, values)?),
        },
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => J::from(*f),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .iter()
                .map(|i| render_body(i, values))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), render_body(v, values)?)))
                .collect::<Result<_, RenderError>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::values::IdempotencyKey;
    use crate::model::{AccountName, EnforceAction, IncidentId, MacAddr};

    fn host() -> HookValues {
        HookValues::host(
            IncidentId::new(2026, 123),
            EnforceAction::QuarantineHost,
            IdempotencyKey::parse("CRD-2026-000123/3/quarantine_host").unwrap(),
            "2001:db8::1".parse().unwrap(),
            Some("AA:BB:CC:00:11:22".parse::<MacAddr>().unwrap()),
        )
    }

    #[test]
    fn check_accepts_known_and_escapes() {
        for ok in [
            "",
            "plain",
            "{ip}",
            "--ip={ip}/{mac}",
            "{incident}{key}{action}{account}",
            "{{literal}} {{ }}",
        ] {
            assert!(check(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn check_rejects_unknown_and_stray() {
        for (bad, why) in [
            ("{hostname}", "unknown placeholder {hostname}"),
            ("{IP}", "unknown placeholder"),
            ("{}", "unknown placeholder {}"),
            ("a}b", "stray '}'"),
            ("a{ip", "unclosed"),
            ("{ip{mac}}", "unclosed"),
            ("{ ip }", "unknown placeholder"),
        ] {
            let e = check(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn argv_values_verbatim() {
        let v = host();
        assert_eq!(render_arg("--ip={ip}", &v).unwrap(), "--ip=2001:db8::1");
        assert_eq!(render_arg("{mac}", &v).unwrap(), "aa:bb:cc:00:11:22");
        assert_eq!(
            render_arg("{incident} {action} {key} {{x}}", &v).unwrap(),
            "CRD-2026-000123 quarantine_host CRD-2026-000123/3/quarantine_host {x}"
        );
    }

    #[test]
    fn missing_value_is_an_error_not_empty() {
        let v = host();
        let e = render_arg("{account}", &v).unwrap_err();
        assert_eq!(
            e.to_string(),
            "hook needs {account} but the incident has none"
        );
        let mut nomac = host();
        nomac.mac = None;
        assert_eq!(
            render_url("http://x/{mac}", &nomac).unwrap_err(),
            RenderError::Missing("mac")
        );
    }

    #[test]
    fn url_values_are_percent_encoded() {
        let v = host();
        assert_eq!(
            render_url("https://nac/q/{ip}?k={key}", &v).unwrap(),
            "https://nac/q/2001%3Adb8%3A%3A1?k=CRD-2026-000123%2F3%2Fquarantine_host"
        );
    }

    #[test]
    fn body_template_renders_to_json() {
        let v = HookValues::account(
            IncidentId::new(2026, 7),
            EnforceAction::LockAccount,
            IdempotencyKey::parse("CRD-2026-000007/1/lock_account").unwrap(),
            AccountName::try_from("alice@campus.edu".to_string()).unwrap(),
        );
        let body: toml::Value = toml::from_str(
            r#"
            user = "{account}"
            reason = "cordon {incident} ({action})"
            n = 3
            f = 1.5
            on = true
            list = ["{key}", 1]
            [nested]
            lit = "{{not a placeholder}}"
            "#,
        )
        .unwrap();
        check_body(&body).unwrap();
        let j = render_body(&body, &v).unwrap();
        assert_eq!(
            j,
            serde_json::json!({
                "user": "alice@campus.edu",
                "reason": "cordon CRD-2026-000007 (lock_account)",
                "n": 3, "f": 1.5, "on": true,
                "list": ["CRD-2026-000007/1/lock_account", 1],
                "nested": {"lit": "{not a placeholder}"},
            })
        );
        let bad: toml::Value = toml::from_str("[a]\nb = \"{ip}\"\nc = \"{host}\"").unwrap();
        assert!(check_body(&bad).unwrap_err().contains("{host}"));
        let needs_ip: toml::Value = toml::from_str("ip = \"{ip}\"").unwrap();
        assert_eq!(
            render_body(&needs_ip, &v).unwrap_err(),
            RenderError::Missing("ip")
        );
    }
}
