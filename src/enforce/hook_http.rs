//! HTTP hooks: one request per enforcement to the network's own controls (NAC, firewall API,
//! identity system), carrying `Idempotency-Key` so a retried call is not applied twice.
//!
//! Owns the request and the mapping of its result to an [`Outcome`]; never decides whether to
//! call (that is the guard's job) and never retries (the outbox does).
use super::Outcome;
use super::template::{self, RenderError};
use super::values::HookValues;
use crate::config::Secret;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::BTreeMap;

/// Longest response body kept for the record.
const KEEP_BODY: usize = 4096;

/// A configured HTTP hook, checked once at start-up.
#[derive(Debug, Clone)]
pub struct HttpHook {
    method: reqwest::Method,
    url: String,
    headers: HeaderMap,
    body: Option<toml::Value>,
}

/// What one call will send.
#[derive(Debug, Clone)]
pub struct RenderedHttp {
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    pub body: Option<serde_json::Value>,
}

impl HttpHook {
    /// Check method, URL template, header names/values and body template.
    pub fn new(
        method: &str,
        url: &str,
        headers: &BTreeMap<String, Secret>,
        body: Option<&toml::Value>,
    ) -> Result<Self, String> {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("method: {method:?} is not an HTTP method"))?;
        template::check(url).map_err(|e| format!("url: {e}"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err("url: must start with http:// or https://".into());
        }
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("headers: {name:?} is not a header name"))?;
            if n == HeaderName::from_static("idempotency-key") {
                return Err("headers: Idempotency-Key is set by cordon".into());
            }
            let mut v = HeaderValue::from_str(value.expose())
                .map_err(|_| format!("headers.{name}: value is not a valid header value"))?;
            v.set_sensitive(true);
            map.insert(n, v);
        }
        if let Some(b) = body {
            template::check_body(b).map_err(|e| format!("body: {e}"))?;
        }
        Ok(HttpHook {
            method,
            url: url.to_string(),
            headers: map,
            body: body.cloned(),
        })
    }

    pub fn templates(&self) -> Vec<String> {
        let mut out = vec![self.url.clone()];
        if let Some(b) = &self.body {
            collect_strings(b, &mut out);
        }
        out
    }

    pub fn render(&self, values: &HookValues) -> Result<RenderedHttp, RenderError> {
        let url = template::render_url(&self.url, values)?;
        let url = reqwest::Url::parse(&url)
            .map_err(|e| RenderError::Template(format!("rendered URL is invalid: {e}")))?;
        let body = self
            .body
            .as_ref()
            .map(|b| template::render_body(b, values))
            .transpose()?;
        Ok(RenderedHttp {
            method: self.method.clone(),
            url,
            body,
        })
    }

    /// What would be sent, with every configured header value masked.
    pub fn describe(&self, r: &RenderedHttp, values: &HookValues) -> String {
        let mut s = format!("{} {}\n", r.method, shown(&r.url));
        for name in self.headers.keys() {
            s.push_str(&format!("{name}: ***\n"));
        }
        s.push_str(&format!("idempotency-key: {}\n", values.key));
        if let Some(b) = &r.body {
            s.push_str("content-type: application/json\n\n");
            s.push_str(&b.to_string());
        }
        s
    }

    /// Send the request and classify the answer.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        r: RenderedHttp,
        values: &HookValues,
    ) -> Outcome {
        let mut req = client
            .request(r.method.clone(), r.url.clone())
            .headers(self.headers.clone())
            .header("Idempotency-Key", values.key.as_str());
        if let Some(b) = &r.body {
            req = req.json(b);
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => return classify_error(e, &r),
        };
        let status = resp.status();
        let text = match resp.text().await {
            Ok(t) => truncate(t, KEEP_BODY),
            // reqwest's message names the URL unmasked; it is shown once, masked, below.
            Err(e) => format!("(body unreadable: {})", e.without_url()),
        };
        let detail = format!("{} {} → {status}: {text}", r.method, shown(&r.url));
        match classify_status(status.as_u16()) {
            Class::Done => Outcome::Done { detail },
            Class::Transient => Outcome::Transient { error: detail },
            Class::Permanent => Outcome::Permanent { error: detail },
        }
    }
}

/// How a status code is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Done,
    Transient,
    Permanent,
}

/// 2xx done; 408, 429 and 5xx are worth retrying; anything else (other 4xx, unexpected 1xx/3xx
/// — redirects are not followed) needs a person.
pub fn classify_status(code: u16) -> Class {
    match code {
        200..=299 => Class::Done,
        408 | 429 | 500..=599 => Class::Transient,
        _ => Class::Permanent,
    }
}

/// The URL as results, audit lines and office alerts show it: user name and password are
/// masked (either may be the credential: `https://KEY:x@host/`, `https://TOKEN@host/`), the
/// fragment is dropped (never sent), and so is the value of every query parameter whose name
/// says it holds a secret (`token`, `api_key`, `sig`, ...; see [`secret_name`]). Everything
/// else stays as written, the host address a hook acts on, say.
fn shown(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    if !u.username().is_empty() {
        let _ = u.set_username("***");
    }
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.set_fragment(None);
    if let Some(q) = url.query() {
        // Segment by segment (split at `&` and at `;`, which some servers also take), so the
        // parameters around a masked one keep their own encoding.
        let mut masked = String::with_capacity(q.len());
        for seg in q.split_inclusive(['&', ';']) {
            let (body, sep) = match seg.strip_suffix(['&', ';']) {
                Some(b) => (b, &seg[b.len()..]),
                None => (seg, ""),
            };
            match body.split_once('=') {
                Some((name, _))
                    if form_urlencoded::parse(name.as_bytes())
                        .next()
                        .is_some_and(|(n, _)| secret_name(&n)) =>
                {
                    masked.push_str(name);
                    masked.push_str("=***");
                }
                _ => masked.push_str(body),
            }
            masked.push_str(sep);
        }
        u.set_query(Some(&masked));
    }
    u.to_string()
}

/// Does a query parameter of this name carry a credential? By the words such names are made
/// of, as log scrubbers decide (`access_token`, `apiKey`, `X-Amz-Signature`, `passwd`, ...).
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token",
        "key",
        "secret",
        "pass",
        "pwd",
        "auth",
        "sig",
        "credential",
        "session",
        "jwt",
        "bearer",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn classify_error(e: reqwest::Error, r: &RenderedHttp) -> Outcome {
    let permanent = e.is_builder();
    // reqwest's message repeats the URL unmasked; it is shown once, masked, in front.
    let error = format!("{} {}: {}", r.method, shown(&r.url), e.without_url());
    if permanent {
        Outcome::Permanent { error }
    } else {
        // Connect, timeout, reset, body errors: the far end may be back later.
        Outcome::Transient { error }
    }
}

fn collect_strings(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::String(s) => out.push(s.clone()),
        toml::Value::Array(a) => a.iter().for_each(|i| collect_strings(i, out)),
        toml::Value::Table(t) => t.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("…(truncated)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_hook_url_is_never_shown() {
        let u = reqwest::Url::parse("https://nac:s3cret@nac.example.edu/q?ip=10.1.2.3").unwrap();
        let s = shown(&u);
        assert_eq!(s, "https://***:***@nac.example.edu/q?ip=10.1.2.3");
        // The user name may be the credential, alone or with a dummy password.
        let u = reqwest::Url::parse("https://xoxb-123-abc@hooks.example.edu/q").unwrap();
        assert_eq!(shown(&u), "https://***@hooks.example.edu/q");
        let u = reqwest::Url::parse("https://sk_live_42:x@api.example.edu/q").unwrap();
        assert_eq!(shown(&u), "https://***:***@api.example.edu/q");
        // The fragment is never sent, and may hold a token: dropped.
        let u = reqwest::Url::parse("https://nac.example.edu/q?ip=1#access_token=zz").unwrap();
        assert_eq!(shown(&u), "https://nac.example.edu/q?ip=1");
    }

    #[test]
    fn secrets_in_a_hook_urls_query_are_masked_and_the_rest_is_kept() {
        let u = reqwest::Url::parse(
            "https://nac.example.edu/q?ip=10.1.2.3&access_token=abc&apiKey=k1&X-Amz-Signature=f0&mac=aa",
        )
        .unwrap();
        assert_eq!(
            shown(&u),
            "https://nac.example.edu/q?ip=10.1.2.3&access_token=***&apiKey=***&X-Amz-Signature=***&mac=aa"
        );
        // Around a masked value, parameters keep their own encoding; names are decoded first.
        let u = reqwest::Url::parse(
            "https://nac.example.edu/q?mac=aa%3Abb%3Acc&api%5Fkey=k2&note=a+b&flag&token&;x=1;sig=s",
        )
        .unwrap();
        assert_eq!(
            shown(&u),
            "https://nac.example.edu/q?mac=aa%3Abb%3Acc&api%5Fkey=***&note=a+b&flag&token&;x=1;sig=***"
        );
        let plain = reqwest::Url::parse("https://nac.example.edu/q?ip=10.1.2.3&vlan=66").unwrap();
        assert_eq!(
            shown(&plain),
            plain.as_str(),
            "nothing secret: left as it was"
        );
    }

    #[test]
    fn status_classes() {
        assert_eq!(classify_status(200), Class::Done);
        assert_eq!(classify_status(204), Class::Done);
        for t in [408, 429, 500, 502, 503, 599] {
            assert_eq!(classify_status(t), Class::Transient, "{t}");
        }
        for p in [100, 301, 302, 400, 401, 403, 404, 409, 422] {
            assert_eq!(classify_status(p), Class::Permanent, "{p}");
        }
    }

    #[test]
    fn config_checks() {
        let h = BTreeMap::new();
        assert!(HttpHook::new("post", "https://nac/{ip}", &h, None).is_ok());
        assert!(HttpHook::new("PO ST", "https://nac/", &h, None).is_err());
        assert!(HttpHook::new("POST", "ftp://nac/", &h, None).is_err());
        assert!(HttpHook::new("POST", "https://nac/{host}", &h, None).is_err());
        let mut bad = BTreeMap::new();
        bad.insert("Idempotency-Key".to_string(), Secret("x".into()));
        assert!(HttpHook::new("POST", "https://nac/", &bad, None).is_err());
        let mut bad = BTreeMap::new();
        bad.insert("X-A".to_string(), Secret("a\nb".into()));
        assert!(HttpHook::new("POST", "https://nac/", &bad, None).is_err());
    }

    #[test]
    fn truncate_on_char_boundary() {
        assert_eq!(truncate("ééé".into(), 3), "é…(truncated)");
        assert_eq!(truncate("abc".into(), 3), "abc");
    }
}
