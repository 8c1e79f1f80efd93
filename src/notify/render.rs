//! Notice text: the [`NoticeContext`] every notice is rendered from, and the minijinja
//! templates the office can edit.
//!
//! Owns the built-in templates (compiled in) and the loading of overrides from
//! `notify.templates_dir`. Pure apart from reading that folder once at load time; never sends.
//! Mail is plain text, so auto-escaping is off: every value is plain text.
use crate::config::OfficeConfig;
use crate::model::{
    Category, Deadline, DeadlineKind, Evidence, Incident, NoticeKind, Phase, Subject,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Template names (file `<name>.j2`), one per notice kind.
pub const TEMPLATE_NAMES: [&str; 9] = [
    "first",
    "second",
    "escalated",
    "enforced",
    "released",
    "held",
    "closed",
    "briefing",
    "office_alert",
];

const NOTICE_KINDS: [NoticeKind; 9] = [
    NoticeKind::First,
    NoticeKind::Second,
    NoticeKind::Escalated,
    NoticeKind::Enforced,
    NoticeKind::Released,
    NoticeKind::Held,
    NoticeKind::Closed,
    NoticeKind::Briefing,
    NoticeKind::OfficeAlert,
];

const BUILTIN: [(&str, &str); 9] = [
    ("first", include_str!("templates/first.j2")),
    ("second", include_str!("templates/second.j2")),
    ("escalated", include_str!("templates/escalated.j2")),
    ("enforced", include_str!("templates/enforced.j2")),
    ("released", include_str!("templates/released.j2")),
    ("held", include_str!("templates/held.j2")),
    ("closed", include_str!("templates/closed.j2")),
    ("briefing", include_str!("templates/briefing.j2")),
    ("office_alert", include_str!("templates/office_alert.j2")),
];

/// Most peers listed in the summary (each evidence is already capped).
const MAX_PEERS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template {path} does not compile: {detail}")]
    Compile { path: String, detail: String },
    #[error("template {name}.j2 failed to render: {detail}")]
    Render { name: String, detail: String },
    #[error("template {name}.j2 does not start with a \"Subject: ...\" line")]
    NoSubject { name: String },
}

/// The compiled notice templates (built-ins overridden by the office's files).
pub struct Templates {
    env: Environment<'static>,
    /// Where each template came from, for error messages.
    sources: Vec<(String, String)>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("sources", &self.sources)
            .finish()
    }
}

impl Templates {
    /// Only the compiled-in templates.
    pub fn builtin() -> Templates {
        match Self::load(None) {
            Ok(t) => t,
            // The built-ins are compiled and tested with the crate.
            Err(e) => unreachable!("built-in templates must compile: {e}"),
        }
    }

    /// Built-ins overridden by `<dir>/<name>.j2` where present. A file that does not compile
    /// is an error naming the file.
    pub fn load(dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // A misspelt variable is an error (caught by the trial render below), not a blank.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        let mut sources = Vec::new();
        for (name, text) in BUILTIN {
            let (src, origin) = match dir.map(|d| d.join(format!("{name}.j2"))) {
                Some(path) if path.is_file() => {
                    let text =
                        std::fs::read_to_string(&path).map_err(|source| RenderError::Read {
                            path: path.clone(),
                            source,
                        })?;
                    (text, path.display().to_string())
                }
                _ => (text.to_string(), format!("built-in {name}.j2")),
            };
            env.add_template_owned(name.to_string(), src)
                .map_err(|e| RenderError::Compile {
                    path: origin.clone(),
                    detail: e.to_string(),
                })?;
            sources.push((name.to_string(), origin));
        }
        let t = Templates { env, sources };
        t.trial_render()?;
        Ok(t)
    }

    /// Render every template against a fully populated and a sparse sample, so an office
    /// template that names an unknown field or lacks its `Subject:` line is refused at load
    /// time (naming the file) instead of failing when a notice is due.
    fn trial_render(&self) -> Result<(), RenderError> {
        let office = OfficeConfig {
            name: "Security Office".into(),
            email: "security@example.edu".into(),
        };
        let (full, sparse) = samples();
        for (i, name) in TEMPLATE_NAMES.iter().enumerate() {
            let notice = NOTICE_KINDS[i];
            for (inc, ev, url) in [
                (
                    &full.0,
                    full.1.as_slice(),
                    Some("https://example.edu/a/t".to_string()),
                ),
                (&sparse.0, sparse.1.as_slice(), None),
            ] {
                let ctx = context(inc, ev, notice, "sample", &TimeZone::UTC, url, &office);
                render(self, &ctx).map_err(|e| RenderError::Compile {
                    path: self.origin(name).unwrap_or(name).to_string(),
                    detail: e.to_string(),
                })?;
            }
        }
        Ok(())
    }

    /// Where the template for `name` came from (a path or "built-in ...").
    pub fn origin(&self, name: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.as_str())
    }
}

/// A rendered notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// One evidence record as a notice shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceContext {
    pub kind: String,
    pub description: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub protocol: String,
    pub ports: Vec<u16>,
    pub peers: Vec<String>,
    pub peer_count: u64,
    pub signature: Option<String>,
    pub signature_id: Option<u64>,
    pub account: Option<String>,
    pub raw: Vec<String>,
    pub detector: String,
    pub sensor: String,
}

/// Everything a notice carries. Templates may use any field; the built-ins use all that a
/// notice to an owner must carry.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeContext {
    pub incident_id: String,
    pub notice: String,
    pub reason: String,
    pub category: u8,
    pub category_meaning: String,
    pub severity: String,
    pub phase: String,
    /// "host 10.1.2.3" / "account alice".
    pub subject: String,
    pub subject_type: String,
    /// Campus address (host incidents, or the host an account incident was seen from).
    pub address: Option<String>,
    pub hostname: Option<String>,
    pub mac: Option<String>,
    pub os: Option<String>,
    pub location: Option<String>,
    pub asset_tag: Option<String>,
    pub network: Option<String>,
    pub account: Option<String>,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    /// The configured time zone name.
    pub timezone: String,
    /// When the evidence was seen, local time with zone, e.g. `2026-11-20 16:02:11 EST (-05:00)`.
    pub evidence_time: String,
    pub evidence_time_utc: String,
    pub first_seen: String,
    pub last_seen: String,
    pub evidence_kinds: Vec<String>,
    pub evidence_count: u64,
    pub evidence: Vec<EvidenceContext>,
    /// All peers, ports, protocols, signatures and raw lines across the evidence.
    pub peers: Vec<String>,
    pub peer_count: u64,
    pub protocols: Vec<String>,
    pub ports: Vec<u16>,
    pub signatures: Vec<String>,
    pub raw_lines: Vec<String>,
    /// The deadline that matters to the owner, local time with zone; None when none is set.
    pub deadline: Option<String>,
    pub deadline_utc: Option<String>,
    pub deadline_kind: Option<String>,
    /// What happens at the deadline.
    pub action: String,
    /// Plan repair date, when a plan was accepted.
    pub plan_repair_by: Option<String>,
    pub enforced_at: Option<String>,
    pub answer_url: Option<String>,
    pub office_name: String,
    pub office_email: String,
}

/// Local time with zone abbreviation and UTC offset: `2026-11-20 16:02:11 EST (-05:00)`.
pub fn local_time(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z (%:z)")
        .to_string()
}

fn utc_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The deadline that matters to the owner: the earliest one that leads to enforcement, or
/// failing that the earliest of all.
fn relevant_deadline(incident: &Incident) -> Option<Deadline> {
    let earliest = |enforcing: bool| {
        incident
            .deadlines
            .iter()
            .filter(|d| !enforcing || d.kind.enforces())
            .min_by_key(|d| d.at)
            .copied()
    };
    earliest(true).or_else(|| earliest(false))
}

/// What enforcement means for this subject.
pub fn action_text(incident: &Incident) -> &'static str {
    if incident.category == Category::Three {
        return "none (Category 3 is never enforced)";
    }
    match incident.subject {
        Subject::Host(_) => "this host will be disconnected from the network (quarantine)",
        Subject::Account(_) => "the account will be locked",
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Build the context for one notice.
pub fn context(
    incident: &Incident,
    evidence: &[Evidence],
    notice: NoticeKind,
    reason: &str,
    tz: &TimeZone,
    answer_url: Option<String>,
    office: &OfficeConfig,
) -> NoticeContext {
    let mut peers: Vec<String> = Vec::new();
    let mut peer_set = BTreeSet::new();
    let mut protocols = Vec::new();
    let mut ports = Vec::new();
    let mut signatures = Vec::new();
    let mut raw_lines = Vec::new();
    let mut peer_count = 0u64;
    let mut accounts = Vec::new();
    let ev: Vec<EvidenceContext> = evidence
        .iter()
        .map(|e| {
            for p in &e.peers {
                if peer_set.insert(*p) && peers.len() < MAX_PEERS {
                    peers.push(p.to_string());
                }
            }
            peer_count += e.peer_count;
            push_unique(&mut protocols, e.proto.as_str().to_string());
            for p in &e.ports {
                push_unique(&mut ports, *p);
            }
            if let Some(s) = &e.signature {
                let s = match e.signature_id {
                    Some(id) => format!("{s} (sid {id})"),
                    None => s.clone(),
                };
                push_unique(&mut signatures, s);
            }
            if let Some(a) = &e.account {
                push_unique(&mut accounts, a.to_string());
            }
            raw_lines.extend(e.raw.iter().cloned());
            EvidenceContext {
                kind: e.kind.as_str().to_string(),
                description: e.kind.describe().to_string(),
                count: e.count,
                first_seen: local_time(e.first_seen, tz),
                last_seen: local_time(e.last_seen, tz),
                protocol: e.proto.as_str().to_string(),
                ports: e.ports.clone(),
                peers: e.peers.iter().map(|p| p.to_string()).collect(),
                peer_count: e.peer_count,
                signature: e.signature.clone(),
                signature_id: e.signature_id,
                account: e.account.as_ref().map(|a| a.to_string()),
                raw: e.raw.clone(),
                detector: e.detector.clone(),
                sensor: e.sensor.clone(),
            }
        })
        .collect();
    ports.sort_unstable();
    peer_count = peer_count.max(peer_set.len() as u64);

    // The time of the evidence: the earliest evidence shown, else the incident's span.
    let seen = evidence
        .iter()
        .map(|e| e.first_seen)
        .min()
        .unwrap_or(incident.first_seen);
    let (subject_type, address, account) = match &incident.subject {
        Subject::Host(ip) => (
            "host",
            Some(ip.to_string()),
            incident.account.as_ref().map(|a| a.to_string()),
        ),
        Subject::Account(a) => (
            "account",
            incident.host.ip.map(|ip| ip.to_string()),
            Some(a.to_string()),
        ),
    };
    let account = account.or_else(|| accounts.first().cloned());
    let deadline = relevant_deadline(incident);
    let phase = match &incident.phase {
        Phase::AwaitingApproval { reason } => format!("awaiting_approval ({reason:?})"),
        p => p.name().to_string(),
    };
    NoticeContext {
        incident_id: incident.id.to_string(),
        notice: notice.as_str().to_string(),
        reason: reason.to_string(),
        category: incident.category.number(),
        category_meaning: incident.category.meaning().to_string(),
        severity: incident.severity.as_str().to_string(),
        phase,
        subject: incident.subject.to_string(),
        subject_type: subject_type.to_string(),
        address,
        hostname: incident.host.hostname.clone(),
        mac: incident.host.mac.map(|m| m.to_string()),
        os: incident.host.os.clone(),
        location: incident.host.location.clone(),
        asset_tag: incident.host.asset_tag.clone(),
        network: incident.host.network.clone(),
        account,
        owner_name: incident.owner.as_ref().map(|o| o.name.clone()),
        owner_email: incident.owner.as_ref().map(|o| o.email.clone()),
        timezone: tz.iana_name().unwrap_or("UTC").to_string(),
        evidence_time: local_time(seen, tz),
        evidence_time_utc: utc_time(seen),
        first_seen: local_time(incident.first_seen, tz),
        last_seen: local_time(incident.last_seen, tz),
        evidence_kinds: incident
            .evidence_kinds
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        evidence_count: incident.evidence_count,
        evidence: ev,
        peers,
        peer_count,
        protocols,
        ports,
        signatures,
        raw_lines,
        deadline: deadline.map(|d| local_time(d.at, tz)),
        deadline_utc: deadline.map(|d| utc_time(d.at)),
        deadline_kind: deadline.map(|d| deadline_kind_text(d.kind).to_string()),
        action: action_text(incident).to_string(),
        plan_repair_by: incident.plan.as_ref().map(|p| local_time(p.repair_by, tz)),
        enforced_at: incident.enforced_at.map(|t| local_time(t, tz)),
        answer_url,
        office_name: office.name.clone(),
        office_email: office.email.clone(),
    }
}

fn deadline_kind_text(k: DeadlineKind) -> &'static str {
    match k {
        DeadlineKind::AnswerDue => "answer due",
        DeadlineKind::SecondNotice => "second notice",
        DeadlineKind::SecondNoticeDue => "answer to the second notice due",
        DeadlineKind::CalendarCap => "calendar-day limit",
        DeadlineKind::PlanDue => "repair date of the plan",
        DeadlineKind::DeferralEnds => "deferral ends",
    }
}

/// Render the notice for `ctx.notice`. The first line of the output must be `Subject: ...`.
pub fn render(templates: &Templates, ctx: &NoticeContext) -> Result<Rendered, RenderError> {
    let name = ctx.notice.as_str();
    let err = |detail: String| RenderError::Render {
        name: name.to_string(),
        detail,
    };
    let tmpl = templates
        .env
        .get_template(name)
        .map_err(|e| err(e.to_string()))?;
    let out = tmpl.render(ctx).map_err(|e| err(e.to_string()))?;
    let out = out.trim_start_matches(['\r', '\n']);
    let (first, body) = out.split_once('\n').unwrap_or((out, ""));
    let subject = first
        .trim_end_matches('\r')
        .strip_prefix("Subject:")
        .ok_or_else(|| RenderError::NoSubject {
            name: name.to_string(),
        })?
        .trim();
    // A header must stay one line whatever the values contain.
    let subject: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Ok(Rendered {
        subject,
        body: body.trim_start_matches(['\r', '\n']).to_string(),
    })
}

/// Sample incidents for the trial render: one with every field set, one with as little as an
/// incident can have (no owner, no host details, no evidence, no deadline).
fn samples() -> ((Incident, Vec<Evidence>), (Incident, Vec<Evidence>)) {
    use crate::model::{EvidenceKind, HostInfo, IncidentId, Owner, Plan, Proto, Severity};
    let t = Timestamp::UNIX_EPOCH;
    let ip = std::net::IpAddr::from([10, 0, 0, 1]);
    let sparse = Incident {
        id: IncidentId::new(2000, 1),
        subject: Subject::Host(ip),
        host: HostInfo::default(),
        owner: None,
        category: Category::Three,
        severity: Severity::Low,
        spread: 1,
        phase: Phase::Open,
        opened_at: t,
        first_seen: t,
        last_seen: t,
        evidence_kinds: Vec::new(),
        evidence_count: 0,
        account: None,
        first_notice_at: None,
        second_notice_at: None,
        category_since: t,
        owner_unreachable: false,
        answered_at: None,
        plan: None,
        deferral: None,
        approved: false,
        enforced_at: None,
        released_at: None,
        resolved_at: None,
        closed_at: None,
        deadlines: Vec::new(),
        effect_seq: 0,
    };
    let mut full = sparse.clone();
    full.host = HostInfo {
        ip: Some(ip),
        mac: Some(crate::model::MacAddr([2, 0, 0, 0, 0, 1])),
        hostname: Some("host.example.edu".into()),
        os: Some("os".into()),
        asset_tag: Some("tag".into()),
        location: Some("room".into()),
        network: Some("net".into()),
        ..HostInfo::default()
    };
    full.owner = Some(Owner {
        name: "Owner".into(),
        email: "owner@example.edu".into(),
    });
    full.category = Category::Two;
    full.evidence_kinds = vec![EvidenceKind::TrojanC2];
    full.evidence_count = 1;
    full.first_notice_at = Some(t);
    full.enforced_at = Some(t);
    full.plan = Some(Plan {
        text: "plan".into(),
        requested: t,
        repair_by: t,
        by: "owner@example.edu".into(),
        at: t,
    });
    full.deadlines = vec![Deadline {
        kind: DeadlineKind::CalendarCap,
        at: t,
    }];
    let ev = Evidence {
        kind: EvidenceKind::TrojanC2,
        subject: Subject::Host(ip),
        first_seen: t,
        last_seen: t,
        count: 1,
        proto: Proto::Tcp,
        ports: vec![443],
        peers: vec![std::net::IpAddr::from([192, 0, 2, 1])],
        peer_count: 1,
        signature: Some("signature".into()),
        signature_id: Some(1),
        account: None,
        raw: vec!["raw line".into()],
        detector: "ids".into(),
        sensor: "sensor".into(),
    };
    ((full, vec![ev]), (sparse, Vec::new()))
}
