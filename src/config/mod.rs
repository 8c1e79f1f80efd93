//! Configuration: the TOML schema, defaults, validation with path-precise errors, and
//! `${ENV}` expansion for secrets. Depends only on `model`; reads the file and the environment
//! (for `${ENV}`) and nothing else.
//!
//! Two stages. Reading (serde) stops at the first problem: a syntax error, an unknown key, a
//! wrong type or a bad value, each reported with its dotted path (`sources[0].kind`). After a
//! successful read, [`mod@validate`] checks the whole config and reports *every* problem it finds.

mod de;
pub mod env;
pub mod placeholders;
pub mod schema;
pub mod types;
pub mod validate;

pub use schema::*;
pub use types::{Duration, Pattern, Secret, TimeZone, Weekday};
pub use validate::{FORMATS, HOOK_VERBS, validate};

use std::path::Path;

/// One problem in a config file, located by its dotted key path (array elements as `[i]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigProblem {
    pub path: String,
    pub reason: String,
}

impl ConfigProblem {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigProblem {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigProblem>),
}

/// Marks a conversion error that concerns a sub-key of the value being read:
/// `"\u{1}key\u{1}reason"` is reported at `<path>.key: reason`.
pub(crate) const SUBKEY_MARK: char = '\u{1}';

/// Read, parse and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

/// Parse and validate config text.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let config = read(text).map_err(|p| ConfigError::Invalid(vec![p]))?;
    let problems = validate(&config);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid(problems))
    }
}

/// Every problem in config text; empty means the config is good.
pub fn check(text: &str) -> Vec<ConfigProblem> {
    match read(text) {
        Ok(config) => validate(&config),
        Err(p) => vec![p],
    }
}

/// Deserialize only (no cross-key validation); the first problem, path-precise.
pub fn read(text: &str) -> Result<Config, ConfigProblem> {
    let de = toml::Deserializer::parse(text).map_err(|e| syntax_problem(text, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let segments: Vec<String> = e.path().iter().map(|s| s.to_string()).collect();
        let inner = e.into_inner();
        if segments.is_empty()
            && inner.span().is_some()
            && !inner.message().starts_with("missing field")
        {
            // toml reports some value errors before serde sees a path; locate them by line.
            return syntax_problem(text, &inner);
        }
        translate(segments, inner.message())
    })
}

/// A TOML syntax error, located by line and column.
fn syntax_problem(text: &str, e: &toml::de::Error) -> ConfigProblem {
    let path = match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {col}")
        }
        None => "(syntax)".to_string(),
    };
    ConfigProblem::new(path, e.message().trim().to_string())
}

/// Turn serde's message into the reason we print, moving key names into the path.
fn translate(mut segments: Vec<String>, message: &str) -> ConfigProblem {
    let message = message.trim();
    let mut reason = message.to_string();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((key, expected)) = rest.split_once('`') {
            if segments.last().map(String::as_str) != Some(key) {
                segments.push(key.to_string());
            }
            reason = format!("unknown key{}", expected_list(expected));
        }
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((value, expected)) = rest.split_once('`') {
            reason = format!("unknown variant {value:?}{}", expected_list(expected));
        }
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.trim_end_matches('`');
        reason = if segments.is_empty() {
            "required section is missing".to_string()
        } else {
            "required key is missing".to_string()
        };
        segments.push(key.to_string());
    } else if let Some(rest) = message.strip_prefix(SUBKEY_MARK)
        && let Some((key, why)) = rest.split_once(SUBKEY_MARK)
    {
        segments.push(key.to_string());
        reason = why.to_string();
    }
    ConfigProblem::new(join_path(&segments), tomlish(&reason))
}

/// serde speaks Rust (`struct CampusConfig`, `sequence`, `u32`); the reader writes TOML.
fn tomlish(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    // "expected struct Name" → "expected a table"
    while let Some(i) = rest.find("expected struct ") {
        out.push_str(&rest[..i]);
        out.push_str("expected a table");
        let after = &rest[i + "expected struct ".len()..];
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    let mut out = out
        .replace("expected a sequence", "expected an array")
        .replace("invalid type: sequence", "invalid type: array")
        .replace("expected a map", "expected a table")
        .replace("invalid type: map", "invalid type: table");
    for (rust, toml) in [
        ("expected usize", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u16", "expected an integer from 0 to 65535"),
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer"),
    ] {
        if let Some(stripped) = out.strip_suffix(rust) {
            out = format!("{stripped}{toml}");
        }
    }
    out
}

/// `a`, `[0]`, `b` → `a[0].b`; the empty path is the document itself.
fn join_path(segments: &[String]) -> String {
    let mut out = String::new();
    for s in segments {
        if !(out.is_empty() || s.starts_with('[')) {
            out.push('.');
        }
        out.push_str(s);
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// serde's ", expected one of `a`, `b`" / "`a` or `b`" → " (expected one of: a, b)".
fn expected_list(expected: &str) -> String {
    let e = expected.trim_start_matches(',').trim();
    let Some(list) = e.strip_prefix("expected ") else {
        return String::new();
    };
    if list == "nothing" || list.contains("there are no") {
        return " (this table takes no keys)".to_string();
    }
    let list = list.strip_prefix("one of ").unwrap_or(list);
    let names: Vec<&str> = list
        .split([',', ' '])
        .filter(|w| w.starts_with('`'))
        .map(|w| w.trim_matches('`'))
        .collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => format!(" (expected: {one})"),
        many => format!(" (expected one of: {})", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_lists() {
        assert_eq!(
            expected_list(", expected one of `a`, `b`, `c`"),
            " (expected one of: a, b, c)"
        );
        assert_eq!(
            expected_list(", expected `a` or `b`"),
            " (expected one of: a, b)"
        );
        assert_eq!(expected_list(", expected `a`"), " (expected: a)");
    }

    #[test]
    fn demo_config_loads_with_every_section() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/cordon.toml"));
        let c = load(path).unwrap();
        assert_eq!(c.calendar.timezone.name, "America/New_York");
        assert_eq!(c.calendar.holidays.len(), 23);
        assert_eq!(c.sources[0].format, "suricata_eve");
        assert!(!c.sources[0].follow);
        assert!(c.enforce.dry_run);
        let verbs: Vec<&str> = c.enforce.hooks.keys().map(String::as_str).collect();
        assert_eq!(
            verbs,
            [
                "lock_account",
                "quarantine_host",
                "release_host",
                "unlock_account"
            ]
        );
        assert!(c.notify.file.is_some() && c.notify.smtp.is_none());
        assert!(c.api.listen.ip().is_loopback());
    }

    #[test]
    fn load_reports_all_problems_and_unreadable_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        let demo = include_str!("../../config/cordon.toml")
            .replace("spread_high = 10", "spread_high = 1")
            .replace(
                "email = \"security@campus.example.edu\"",
                "email = \"security\"",
            );
        std::fs::write(&f, demo).unwrap();
        match load(&f) {
            Err(ConfigError::Invalid(p)) => assert_eq!(
                p.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
                ["severity.spread_high", "office.email"]
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            load(&dir.path().join("missing.toml")),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn rust_type_names_become_toml_words() {
        let r = |t: &str| read(t).unwrap_err().to_string();
        assert_eq!(
            r("campus = 5"),
            "campus: invalid type: integer `5`, expected a table"
        );
        assert_eq!(
            r("[campus]\nnetworks = \"10.0.0.0/8\""),
            "campus.networks: invalid type: string \"10.0.0.0/8\", expected an array"
        );
        assert_eq!(
            r("[policy.category2]\nmax_plan_days = -1"),
            "policy.category2.max_plan_days: invalid value: integer `-1`, expected a non-negative integer"
        );
    }

    #[test]
    fn paths_join_with_indices() {
        let s = |v: &[&str]| join_path(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["sources", "[0]", "kind"]), "sources[0].kind");
        assert_eq!(s(&[]), ".");
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        /// Whatever the text, `check` answers (never panics) and every problem has a path.
        #[test]
        fn check_never_panics(s in "(\\PC|\n){0,200}") {
            for p in super::check(&s) {
                prop_assert!(!p.path.is_empty());
            }
        }

        /// Mutating one line of the demo config never panics either.
        #[test]
        fn mutated_demo_never_panics(line in 0usize..300, junk in "\\PC{0,20}") {
            let demo = include_str!("../../config/cordon.toml");
            let text: String = demo
                .lines()
                .enumerate()
                .map(|(i, l)| if i == line { format!("{junk}\n") } else { format!("{l}\n") })
                .collect();
            for p in super::check(&text) {
                prop_assert!(!p.path.is_empty());
            }
        }
    }
}
