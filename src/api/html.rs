//! Minimal HTML building for the answer pages: escaping and the page frame with its headers.
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escape text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// No scripts, no external anything; forms may only post back here; inline CSS only.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5}dt{font-weight:bold}fieldset{margin:1rem 0}\
label{display:block;margin-top:.5rem}textarea,input{font:inherit;max-width:100%}\
button{font:inherit;margin-top:.5rem;padding:.4rem 1rem}";

/// A whole page. `title` and `body_html` are already escaped/assembled by the caller.
pub fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\">\
<title>{t}</title><style>{STYLE}</style></head>\
<body><main><h1>{t}</h1>\n{body_html}\n</main></body></html>\n",
        t = esc(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // The token is in the URL: never send it elsewhere, never cache the page.
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            super::esc("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
