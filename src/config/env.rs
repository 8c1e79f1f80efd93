//! `${NAME}` expansion for secrets: the config file can be world-readable while the secrets
//! live in the environment (systemd `LoadCredential`/`EnvironmentFile`).

/// Expand every `${NAME}` in `s` from the process environment. `$$` is a literal `$`.
/// An unset variable is an error that names it.
pub fn expand(s: &str) -> Result<String, String> {
    expand_with(s, |name| std::env::var(name).ok())
}

/// As [`expand`], with a lookup function (for tests).
pub fn expand_with(s: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| "unterminated ${...} reference".to_string())?;
            let name = &body[..end];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("invalid environment variable name {name:?}"));
            }
            let value =
                lookup(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_and_names_missing() {
        let look = |n: &str| (n == "A").then(|| "x".to_string());
        assert_eq!(expand_with("p${A}q", look).unwrap(), "pxq");
        assert_eq!(expand_with("$$5 $x", look).unwrap(), "$5 $x");
        assert!(
            expand_with("${B}", look)
                .unwrap_err()
                .contains("B is not set")
        );
        assert!(expand_with("${A", look).is_err());
    }
}
