//! Placeholders in hook URLs, bodies and argv: `{incident}`, `{ip}`, `{mac}`, `{account}`,
//! `{action}`, `{key}`. `{{` and `}}` stand for literal braces. Anything else between braces
//! is refused at load time, so a hook can never receive a value we did not validate.
//! Owns the syntax only; which value fills a placeholder is the enforcer's business.

/// Every placeholder name a hook may use.
pub const NAMES: &[&str] = &["incident", "ip", "mac", "account", "action", "key"];

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Literal(std::borrow::Cow<'a, str>),
    Placeholder(&'a str),
}

/// Split `s` into literal text and known placeholders; the error says what is wrong.
pub fn scan(s: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                lit.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                lit.push('}');
                i += 2;
            }
            b'{' => {
                let Some(len) = s[i + 1..].find('}') else {
                    return Err("unmatched \"{\" (write \"{{\" for a literal brace)".to_string());
                };
                let name = &s[i + 1..i + 1 + len];
                if !NAMES.contains(&name) {
                    return Err(format!(
                        "unknown placeholder {{{name}}} (known: {}; write \"{{{{\" for a literal brace)",
                        NAMES
                            .iter()
                            .map(|n| format!("{{{n}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if !lit.is_empty() {
                    out.push(Piece::Literal(std::mem::take(&mut lit).into()));
                }
                out.push(Piece::Placeholder(name));
                i += len + 2;
            }
            b'}' => {
                return Err("unmatched \"}\" (write \"}}\" for a literal brace)".to_string());
            }
            _ => {
                // Copy the whole run up to the next brace (keeps UTF-8 intact).
                let end = s[i..].find(['{', '}']).map_or(s.len(), |k| i + k);
                lit.push_str(&s[i..end]);
                i = end;
            }
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Literal(lit.into()));
    }
    Ok(out)
}

/// Fill a template. `value` returns the already-validated, canonical text for a name.
pub fn render(s: &str, value: impl Fn(&str) -> String) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    for p in scan(s)? {
        match p {
            Piece::Literal(t) => out.push_str(&t),
            Piece::Placeholder(n) => out.push_str(&value(n)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_known_and_escapes() {
        let v = render("a{ip}b{{c}}d{incident}é", |n| n.to_uppercase()).unwrap();
        assert_eq!(v, "aIPb{c}dINCIDENTé");
        assert_eq!(render("plain", |_| String::new()).unwrap(), "plain");
    }

    #[test]
    fn refuses_unknown_and_unmatched() {
        assert!(
            scan("{host}")
                .unwrap_err()
                .starts_with("unknown placeholder {host}")
        );
        assert!(scan("{ip").unwrap_err().starts_with("unmatched \"{\""));
        assert!(scan("x}").unwrap_err().starts_with("unmatched \"}\""));
        assert!(
            scan("{}")
                .unwrap_err()
                .starts_with("unknown placeholder {}")
        );
        assert!(scan("{ ip }").is_err());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text either scans or is refused; it never panics, and rendering a template
        /// that scans with the names themselves gives back only known names between braces.
        #[test]
        fn never_panics_and_only_known_names(s in "\\PC{0,40}") {
            if let Ok(pieces) = scan(&s) {
                for p in pieces {
                    if let Piece::Placeholder(n) = p {
                        prop_assert!(NAMES.contains(&n));
                    }
                }
            }
        }

        /// Literal text with escaped braces round-trips unchanged.
        #[test]
        fn escaped_literals_round_trip(s in "[a-z{}/ é]{0,30}") {
            let escaped = s.replace('{', "{{").replace('}', "}}");
            prop_assert_eq!(render(&escaped, |_| unreachable!()).unwrap(), s);
        }
    }
}
