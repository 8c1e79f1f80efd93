//! The owners' answer pages: `GET /a/{token}` shows the incident and the answer forms,
//! `POST /a/{token}` records one answer. Only the signed token decides who may answer what;
//! an invalid token and an unknown incident look the same (403).
use super::html::{esc, page};
use super::{ApiError, ApiState, MAX_FIELD_CHARS, blocking};
use crate::model::{Answer, Category, Incident, Phase};
use crate::notify::render::{action_text, local_time};
use crate::notify::token::{self, Claims, TokenError};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::Date;

#[derive(Debug, serde::Deserialize)]
pub struct AnswerForm {
    action: Option<String>,
    note: Option<String>,
    plan: Option<String>,
    repair_by: Option<String>,
}

fn forbidden(err: Option<&TokenError>, st: &ApiState) -> Response {
    let why = match err {
        Some(TokenError::Expired(at)) => format!(
            "<p>This answer link expired on {}.</p>",
            esc(&local_time(*at, &st.tz))
        ),
        _ => "<p>This answer link is not valid.</p>".to_string(),
    };
    page(
        StatusCode::FORBIDDEN,
        "Link not valid",
        &format!(
            "{why}<p>Please contact {} &lt;{}&gt; and quote the incident number from the notice.</p>",
            esc(&st.office_name),
            esc(&st.office_email)
        ),
    )
}

fn error_page(status: StatusCode, title: &str, msg: &str) -> Response {
    page(
        status,
        title,
        &format!(
            "<p>{}</p><p><a href=\"\">Back to the answer page</a></p>",
            esc(msg)
        ),
    )
}

/// Verify the token and load the incident it names; any failure is the same 403.
async fn authorize(st: &ApiState, tok: &str) -> Result<(Claims, Incident), Response> {
    let claims =
        token::verify(&st.token_secret, tok, st.now()).map_err(|e| forbidden(Some(&e), st))?;
    let view = st.view.clone();
    let id = claims.incident.clone();
    match blocking(move || view.get(&id)).await {
        Ok(Some(inc)) => Ok((claims, inc)),
        Ok(None) | Err(ApiError::NotFound) => Err(forbidden(None, st)),
        Err(e) => {
            tracing::error!(error = %e, "answer page: incident lookup failed");
            Err(error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Temporary problem",
                "The incident could not be loaded. Please try again in a few minutes.",
            ))
        }
    }
}

/// The latest repair date the policy allows, as a civil date in the calendar zone.
fn plan_cap(st: &ApiState, inc: &Incident) -> Option<Date> {
    let first = inc.first_notice_at?;
    let z = first.to_zoned(st.tz.clone());
    z.checked_add(jiff::Span::new().days(i64::from(st.max_plan_days)))
        .ok()
        .map(|z| z.date())
}

fn today(st: &ApiState) -> Date {
    st.now().to_zoned(st.tz.clone()).date()
}

fn summary(st: &ApiState, inc: &Incident) -> String {
    let mut s = String::from("<dl>");
    let mut row = |k: &str, v: &str| {
        s.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(v)));
    };
    row("Incident", inc.id.as_str());
    row("About", &inc.subject.to_string());
    if let Some(h) = &inc.host.hostname {
        row("Host name", h);
    }
    row(
        "Category",
        &format!("{} — {}", inc.category.number(), inc.category.meaning()),
    );
    let what: Vec<&str> = inc.evidence_kinds.iter().map(|k| k.describe()).collect();
    if !what.is_empty() {
        row("What was seen", &what.join("; "));
    }
    row(
        "When",
        &format!(
            "{} to {}",
            local_time(inc.first_seen, &st.tz),
            local_time(inc.last_seen, &st.tz)
        ),
    );
    row("Status", inc.phase.name());
    match inc.next_deadline() {
        Some(d) if !matches!(inc.phase, Phase::Closed) => row(
            "Deadline",
            &format!("{} — then: {}", local_time(d, &st.tz), action_text(inc)),
        ),
        _ => row("Deadline", "none"),
    }
    if let Some(p) = &inc.plan {
        row("Accepted repair date", &local_time(p.repair_by, &st.tz));
    }
    s.push_str("</dl>");
    s
}

pub async fn answer_page(State(st): State<ApiState>, Path(tok): Path<String>) -> Response {
    let (claims, inc) = match authorize(&st, &tok).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut body = summary(&st, &inc);
    if inc.phase.is_closed() {
        body.push_str("<p>This incident is closed; no answer is needed.</p>");
        return page(StatusCode::OK, &format!("Incident {}", inc.id), &body);
    }
    body.push_str(&format!(
        "<p>Answering as <strong>{}</strong>.</p>",
        esc(&claims.recipient)
    ));
    let note = |id: &str| {
        format!(
            "<label for=\"{id}\">Note (optional)</label>\
             <textarea id=\"{id}\" name=\"note\" rows=\"3\" cols=\"50\" maxlength=\"{MAX_FIELD_CHARS}\"></textarea>"
        )
    };
    body.push_str(&format!(
        "<form method=\"post\"><fieldset><legend>Handled / host is off the network</legend>\
         <input type=\"hidden\" name=\"action\" value=\"handled\">{}\
         <button type=\"submit\">Report handled</button></fieldset></form>",
        note("note-handled")
    ));
    if inc.category == Category::Two {
        let min = today(&st);
        let cap = plan_cap(&st, &inc);
        let cap_text = match cap {
            Some(c) => format!(
                "The repair date can be at most {} calendar days after the first notice, i.e. \
                 no later than {}. A later date is shortened to that day; the host is \
                 quarantined if it is still compromised then.",
                st.max_plan_days, c
            ),
            None => format!(
                "The repair date can be at most {} calendar days after the first notice.",
                st.max_plan_days
            ),
        };
        body.push_str(&format!(
            "<form method=\"post\"><fieldset><legend>Plan and repair date</legend>\
             <input type=\"hidden\" name=\"action\" value=\"plan\">\
             <label for=\"plan\">What you will do</label>\
             <textarea id=\"plan\" name=\"plan\" rows=\"4\" cols=\"50\" required maxlength=\"{MAX_FIELD_CHARS}\"></textarea>\
             <label for=\"repair_by\">Repaired by (date)</label>\
             <input id=\"repair_by\" type=\"date\" name=\"repair_by\" required min=\"{min}\"{max}>\
             <p>{}</p>\
             <button type=\"submit\">Submit plan</button></fieldset></form>",
            esc(&cap_text),
            max = cap.map(|c| format!(" max=\"{c}\"")).unwrap_or_default(),
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\"><fieldset><legend>Remediated</legend>\
         <input type=\"hidden\" name=\"action\" value=\"remediated\">{}\
         <button type=\"submit\">Report remediated</button></fieldset></form>",
        note("note-remediated")
    ));
    page(StatusCode::OK, &format!("Incident {}", inc.id), &body)
}

/// Why an answer was not accepted (kept small; turned into a page by the handler).
struct Refusal {
    status: StatusCode,
    title: &'static str,
    msg: String,
}

fn refuse(status: StatusCode, title: &'static str, msg: &str) -> Refusal {
    Refusal {
        status,
        title,
        msg: msg.to_string(),
    }
}

fn field(v: &Option<String>, name: &str, required: bool) -> Result<String, Refusal> {
    let s = v.as_deref().unwrap_or("").trim();
    if required && s.is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Missing field",
            &format!("The field \"{name}\" is required."),
        ));
    }
    if s.chars().count() > MAX_FIELD_CHARS {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Field too long",
            &format!("The field \"{name}\" is longer than {MAX_FIELD_CHARS} characters."),
        ));
    }
    Ok(s.to_string())
}

fn parse_answer(st: &ApiState, inc: &Incident, f: &AnswerForm) -> Result<Answer, Refusal> {
    match f.action.as_deref().unwrap_or("") {
        "handled" => Ok(Answer::Handled {
            note: field(&f.note, "note", false)?,
        }),
        "remediated" => Ok(Answer::Remediated {
            note: field(&f.note, "note", false)?,
        }),
        "plan" => {
            if inc.category != Category::Two {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "Plan not possible",
                    "A repair plan applies only to Category 2 incidents.",
                ));
            }
            let text = field(&f.plan, "plan", true)?;
            let raw = field(&f.repair_by, "repair_by", true)?;
            let date: Date = raw.parse().map_err(|_| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "Invalid date",
                    "The repair date must be a date written YYYY-MM-DD.",
                )
            })?;
            if date < today(st) {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "Date in the past",
                    "The repair date must not be in the past.",
                ));
            }
            // "Repaired by <day>" means by the end of that day in the calendar zone.
            let repair_by = date
                .at(23, 59, 59, 0)
                .to_zoned(st.tz.clone())
                .map(|z| z.timestamp())
                .map_err(|_| {
                    refuse(
                        StatusCode::BAD_REQUEST,
                        "Invalid date",
                        "The repair date is out of range.",
                    )
                })?;
            Ok(Answer::Plan { text, repair_by })
        }
        _ => Err(refuse(
            StatusCode::BAD_REQUEST,
            "Unknown answer",
            "Please use one of the buttons on the answer page.",
        )),
    }
}

pub async fn answer_post(
    State(st): State<ApiState>,
    Path(tok): Path<String>,
    form: Result<Form<AnswerForm>, FormRejection>,
) -> Response {
    let (claims, inc) = match authorize(&st, &tok).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Form(form) = match form {
        Ok(f) => f,
        Err(rej) => {
            let status = rej.status();
            let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "The answer is too large."
            } else {
                "The form could not be read."
            };
            return error_page(status, "Answer not accepted", msg);
        }
    };
    if inc.phase.is_closed() {
        return error_page(
            StatusCode::CONFLICT,
            "Incident closed",
            "This incident is closed; no answer is needed.",
        );
    }
    let answer = match parse_answer(&st, &inc, &form) {
        Ok(a) => a,
        Err(r) => return error_page(r.status, r.title, &r.msg),
    };
    let sink = st.sink.clone();
    let id = claims.incident.clone();
    let by = claims.recipient.clone();
    let now: Timestamp = st.now();
    let kind = match &answer {
        Answer::Handled { .. } => "handled",
        Answer::Plan { .. } => "plan",
        Answer::Remediated { .. } => "remediated",
    };
    match blocking(move || sink.answer(&id, answer, &by, now)).await {
        Ok(out) => {
            tracing::info!(incident = %claims.incident, answer = kind, "owner answered");
            let mut body = format!("<p>{}</p><dl>", esc(&out.recorded));
            body.push_str(&format!(
                "<dt>Incident</dt><dd>{}</dd><dt>Answer</dt><dd>{}</dd><dt>By</dt><dd>{}</dd>\
                 <dt>Recorded at</dt><dd>{}</dd>",
                esc(claims.incident.as_str()),
                esc(kind),
                esc(&claims.recipient),
                esc(&local_time(now, &st.tz))
            ));
            if let Some(r) = out.repair_by {
                body.push_str(&format!(
                    "<dt>Accepted repair date</dt><dd>{}</dd>",
                    esc(&local_time(r, &st.tz))
                ));
            }
            if let Some(d) = out.next_deadline {
                body.push_str(&format!(
                    "<dt>Next deadline</dt><dd>{}</dd>",
                    esc(&local_time(d, &st.tz))
                ));
            }
            body.push_str("</dl>");
            page(StatusCode::OK, "Answer recorded", &body)
        }
        Err(ApiError::NotFound) => forbidden(None, &st),
        Err(ApiError::Rejected(m)) => error_page(StatusCode::CONFLICT, "Answer not accepted", &m),
        Err(ApiError::Internal(e)) => {
            tracing::error!(error = %e, "answer could not be recorded");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Temporary problem",
                "The answer could not be recorded. Please try again in a few minutes.",
            )
        }
    }
}
