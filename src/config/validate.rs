//! Semantic validation of a config that has been read: collects *every* problem, each with
//! its dotted path. Pure: looks only at the `Config` value (no file system, no network).
//!
//! Decisions worth knowing (also in `config/cordon.toml`):
//! - `policy.category2.max_plan_days >= calendar_cap_days`: a plan exists to buy time beyond
//!   the no-plan cap; a smaller limit would make accepting a plan shorten the window.
//! - `policy.category1.max_deferral_days <= 7`: policy says 3; more than a week is a typo.
//! - `inventory.protected` must lie inside the campus (only campus hosts are enforced);
//!   `inventory.allow` may be anywhere (e.g. an outside scanning service we pay for).
//! - `quarantine_host` needs `release_host`, `lock_account` needs `unlock_account`: never
//!   configure an action that cannot be undone by the same tool.
use super::ConfigProblem;
use super::placeholders;
use super::schema::*;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

/// Record formats a source may declare.
pub const FORMATS: &[&str] = &[
    "suricata_eve",
    "netfilter",
    "pf",
    "cisco_asa",
    "zeek_conn",
    "zeek_notice",
    "sshd",
    "dovecot",
    "postfix",
    "syslog_auth",
    "pcap",
];

/// Hook names in `[enforce.hooks]`.
pub const HOOK_VERBS: &[&str] = &[
    "quarantine_host",
    "release_host",
    "lock_account",
    "unlock_account",
];

/// Audiences a webhook may subscribe to.
pub const AUDIENCES: &[&str] = &["owner", "office", "high", "medium", "low"];

/// HTTP methods a hook may use.
pub const HOOK_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Shortest accepted HMAC key / API token, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// Check everything that serde cannot: ranges, cross-references, consistency.
pub fn validate(c: &Config) -> Vec<ConfigProblem> {
    let mut p = Problems::default();
    agent(&mut p, &c.agent);
    campus(&mut p, &c.campus);
    calendar(&mut p, &c.calendar);
    policy(&mut p, &c.policy);
    severity(&mut p, &c.severity);
    office(&mut p, &c.office);
    inventory(&mut p, &c.inventory, &c.campus.networks);
    sources(&mut p, &c.sources);
    detect(&mut p, &c.detect);
    notify(&mut p, &c.notify);
    enforce(&mut p, &c.enforce);
    api(&mut p, &c.api);
    p.0
}

#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, reason));
    }
    fn email(&mut self, path: impl Into<String>, s: &str) {
        if let Err(r) = check_email(s) {
            self.add(path, r);
        }
    }
    fn non_empty(&mut self, path: impl Into<String>, s: &str) {
        if s.trim().is_empty() {
            self.add(path, "must not be empty");
        }
    }
    fn at_least(&mut self, path: impl Into<String>, v: u32, min: u32) {
        if v < min {
            self.add(path, format!("must be at least {min} (is {v})"));
        }
    }
    fn positive(&mut self, path: impl Into<String>, d: super::Duration) {
        if d.0.is_zero() {
            self.add(path, "must be longer than zero");
        }
    }
    fn host_bits(&mut self, path: impl Into<String>, n: &IpNet) {
        if n.trunc() != *n {
            self.add(
                path,
                format!("{n} has host bits set (did you mean {}?)", n.trunc()),
            );
        }
    }
}

fn agent(p: &mut Problems, a: &AgentConfig) {
    p.non_empty("agent.name", &a.name);
    if a.state_dir.as_os_str().is_empty() {
        p.add("agent.state_dir", "must not be empty");
    }
}

fn campus(p: &mut Problems, c: &CampusConfig) {
    if c.networks.is_empty() {
        p.add("campus.networks", "must list at least one network");
    }
    for (i, n) in c.networks.iter().enumerate() {
        p.host_bits(format!("campus.networks[{i}]"), n);
    }
}

fn calendar(p: &mut Problems, c: &CalendarConfig) {
    if c.workdays.is_empty() {
        p.add(
            "calendar.workdays",
            "must list at least one weekday (business-day deadlines would never arrive)",
        );
    }
    for (i, w) in c.workdays.iter().enumerate() {
        if c.workdays[..i].contains(w) {
            p.add(
                format!("calendar.workdays[{i}]"),
                format!(
                    "duplicate weekday {:?}",
                    format!("{:?}", w.0).to_lowercase()
                ),
            );
        }
    }
    for (i, d) in c.holidays.iter().enumerate() {
        if c.holidays[..i].contains(d) {
            p.add(
                format!("calendar.holidays[{i}]"),
                format!("duplicate holiday {d}"),
            );
        }
    }
}

fn policy(p: &mut Problems, c: &PolicyConfig) {
    let c1 = &c.category1;
    p.positive("policy.category1.answer_window", c1.answer_window);
    if c1.max_deferral_days > 7 {
        p.add(
            "policy.category1.max_deferral_days",
            format!(
                "must be at most 7 (is {}; policy allows 3 calendar days)",
                c1.max_deferral_days
            ),
        );
    }
    let c2 = &c.category2;
    p.at_least(
        "policy.category2.second_notice_business_days",
        c2.second_notice_business_days,
        1,
    );
    p.at_least(
        "policy.category2.second_notice_answer_business_days",
        c2.second_notice_answer_business_days,
        1,
    );
    p.at_least(
        "policy.category2.calendar_cap_days",
        c2.calendar_cap_days,
        1,
    );
    if c2.max_plan_days < c2.calendar_cap_days {
        p.add(
            "policy.category2.max_plan_days",
            format!(
                "must be at least policy.category2.calendar_cap_days ({}) (is {})",
                c2.calendar_cap_days, c2.max_plan_days
            ),
        );
    }
}

fn severity(p: &mut Problems, s: &SeverityConfig) {
    p.at_least("severity.spread_medium", s.spread_medium, 1);
    if s.spread_high <= s.spread_medium {
        p.add(
            "severity.spread_high",
            format!(
                "must be greater than severity.spread_medium ({}) (is {})",
                s.spread_medium, s.spread_high
            ),
        );
    }
    for (name, list) in [
        ("high", &s.notify.high),
        ("medium", &s.notify.medium),
        ("low", &s.notify.low),
    ] {
        for (i, e) in list.iter().enumerate() {
            p.email(format!("severity.notify.{name}[{i}]"), e);
        }
    }
}

fn office(p: &mut Problems, o: &OfficeConfig) {
    p.non_empty("office.name", &o.name);
    p.email("office.email", &o.email);
}

fn inside(campus: &[IpNet], n: &IpNet) -> bool {
    campus.iter().any(|c| c.contains(n))
}

fn inside_ip(campus: &[IpNet], ip: &IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        v4 => *v4,
    };
    campus.iter().any(|c| c.contains(&ip))
}

fn inventory(p: &mut Problems, inv: &InventoryConfig, campus: &[IpNet]) {
    if let Err(r) = anchored(inv.account_pattern.0.as_str()) {
        p.add("inventory.account_pattern", r);
    }
    if let Some(d) = &inv.account_email_domain
        && let Err(r) = check_domain(d.strip_prefix('@').unwrap_or(d))
    {
        p.add("inventory.account_email_domain", r);
    }
    let mut seen = BTreeMap::new();
    for (i, n) in inv.networks.iter().enumerate() {
        let at = format!("inventory.networks[{i}]");
        p.host_bits(format!("{at}.cidr"), &n.cidr);
        if !inside(campus, &n.cidr) {
            p.add(
                format!("{at}.cidr"),
                format!("{} is not inside campus.networks", n.cidr),
            );
        }
        if let Some(j) = seen.insert(n.cidr.trunc(), i) {
            p.add(
                format!("{at}.cidr"),
                format!("{} is already listed at inventory.networks[{j}]", n.cidr),
            );
        }
        p.non_empty(format!("{at}.name"), &n.name);
        if let Some(e) = &n.email {
            p.email(format!("{at}.email"), e);
        }
    }
    let mut seen = BTreeMap::new();
    for (i, h) in inv.hosts.iter().enumerate() {
        let at = format!("inventory.hosts[{i}]");
        if !inside_ip(campus, &h.ip) {
            p.add(
                format!("{at}.ip"),
                format!("{} is not inside campus.networks", h.ip),
            );
        }
        if let Some(j) = seen.insert(h.ip, i) {
            p.add(
                format!("{at}.ip"),
                format!("{} is already listed at inventory.hosts[{j}]", h.ip),
            );
        }
        if let Some(e) = &h.email {
            p.email(format!("{at}.email"), e);
        }
    }
    for (i, n) in inv.protected.iter().enumerate() {
        let at = format!("inventory.protected[{i}]");
        p.host_bits(&at, n);
        if !inside(campus, n) {
            p.add(at, format!("{n} is not inside campus.networks"));
        }
    }
    for (i, n) in inv.allow.iter().enumerate() {
        p.host_bits(format!("inventory.allow[{i}]"), n);
    }
    let mut seen = BTreeMap::new();
    for (i, a) in inv.accounts.iter().enumerate() {
        let at = format!("inventory.accounts[{i}]");
        if !inv.account_pattern.0.is_match(&a.name) {
            p.add(
                format!("{at}.name"),
                format!("{:?} does not match inventory.account_pattern", a.name),
            );
        }
        if let Some(j) = seen.insert(a.name.as_str(), i) {
            p.add(
                format!("{at}.name"),
                format!("{:?} is already listed at inventory.accounts[{j}]", a.name),
            );
        }
        p.non_empty(format!("{at}.owner"), &a.owner);
        p.email(format!("{at}.email"), &a.email);
    }
}

fn sources(p: &mut Problems, sources: &[SourceConfig]) {
    let mut names = BTreeMap::new();
    let mut listeners: BTreeMap<(SocketAddr, &str), usize> = BTreeMap::new();
    let mut stdin = None;
    for (i, s) in sources.iter().enumerate() {
        let at = format!("sources[{i}]");
        if s.name.trim().is_empty() {
            p.add(format!("{at}.name"), "must not be empty");
        } else if let Some(j) = names.insert(s.name.as_str(), i) {
            p.add(
                format!("{at}.name"),
                format!("duplicate source name {:?} (also sources[{j}])", s.name),
            );
        }
        if !FORMATS.contains(&s.format.as_str()) {
            p.add(
                format!("{at}.format"),
                format!(
                    "unknown format {:?} (expected one of: {})",
                    s.format,
                    FORMATS.join(", ")
                ),
            );
        } else {
            let pcap_kind = matches!(s.kind, SourceKind::Pcap | SourceKind::PcapFile);
            if pcap_kind && s.format != "pcap" {
                p.add(
                    format!("{at}.format"),
                    format!(
                        "a packet-capture source must use format \"pcap\" (is {:?})",
                        s.format
                    ),
                );
            } else if !pcap_kind && s.format == "pcap" {
                p.add(
                    format!("{at}.format"),
                    "format \"pcap\" needs kind \"pcap\" or \"pcap_file\"",
                );
            }
        }
        let kind = match s.kind {
            SourceKind::File => "file",
            SourceKind::Syslog => "syslog",
            SourceKind::Stdin => "stdin",
            SourceKind::Pcap => "pcap",
            SourceKind::PcapFile => "pcap_file",
        };
        let required = |p: &mut Problems, key: &str, present: bool| {
            if !present {
                p.add(
                    format!("{at}.{key}"),
                    format!("required key is missing (kind = {kind:?})"),
                );
            }
        };
        let unused = |p: &mut Problems, key: &str, present: bool| {
            if present {
                p.add(
                    format!("{at}.{key}"),
                    format!("not used by kind = {kind:?}"),
                );
            }
        };
        let capture_keys = [
            ("interface", s.interface.is_some()),
            ("bpf", s.bpf.is_some()),
            ("snaplen", s.snaplen.is_some()),
            ("promiscuous", s.promiscuous.is_some()),
            ("buffer_size", s.buffer_size.is_some()),
            ("immediate", s.immediate.is_some()),
        ];
        let has_path = s.path.as_deref().is_some_and(|x| !x.trim().is_empty());
        match s.kind {
            SourceKind::File | SourceKind::PcapFile => {
                required(p, "path", has_path);
                unused(p, "listen", s.listen.is_some());
                unused(p, "transport", s.transport.is_some());
                for (k, present) in capture_keys {
                    // An offline capture may still be filtered.
                    if !(s.kind == SourceKind::PcapFile && k == "bpf") {
                        unused(p, k, present);
                    }
                }
            }
            SourceKind::Syslog => {
                required(p, "listen", s.listen.is_some());
                match s.transport.as_deref() {
                    None => required(p, "transport", false),
                    Some(t @ ("udp" | "tcp")) => {
                        if let Some(addr) = s.listen
                            && let Some(j) = listeners.insert((addr, t), i)
                        {
                            p.add(
                                format!("{at}.listen"),
                                format!("{addr}/{t} is already used by sources[{j}]"),
                            );
                        }
                    }
                    Some(t) => p.add(
                        format!("{at}.transport"),
                        format!("unknown transport {t:?} (expected one of: udp, tcp)"),
                    ),
                }
                unused(p, "path", s.path.is_some());
                for (k, present) in capture_keys {
                    unused(p, k, present);
                }
            }
            SourceKind::Pcap => {
                required(
                    p,
                    "interface",
                    s.interface.as_deref().is_some_and(|x| !x.trim().is_empty()),
                );
                if let Some(n) = s.interface.as_deref()
                    && !n.trim().is_empty()
                    && !is_interface_name(n)
                {
                    p.add(
                        format!("{at}.interface"),
                        format!(
                            "{n:?} is not a network interface name (1 to 15 bytes, none of them \
                             '/', ':' or white space, and not \".\" or \"..\"; for an alias \
                             such as eth0:1 give the interface, eth0)"
                        ),
                    );
                }
                unused(p, "path", s.path.is_some());
                unused(p, "listen", s.listen.is_some());
                unused(p, "transport", s.transport.is_some());
                if let Some(n) = s.snaplen
                    && !(64..=262_144).contains(&n)
                {
                    p.add(
                        format!("{at}.snaplen"),
                        format!("must be 64..=262144 (is {n})"),
                    );
                }
                if let Some(n) = s.buffer_size
                    && n <= 0
                {
                    p.add(
                        format!("{at}.buffer_size"),
                        format!("must be positive (is {n})"),
                    );
                }
            }
            SourceKind::Stdin => {
                if let Some(j) = stdin.replace(i) {
                    p.add(
                        format!("{at}.kind"),
                        format!("only one stdin source is possible (also sources[{j}])"),
                    );
                }
                unused(p, "path", s.path.is_some());
                unused(p, "listen", s.listen.is_some());
                unused(p, "transport", s.transport.is_some());
                for (k, present) in capture_keys {
                    unused(p, k, present);
                }
            }
        }
        if let Some(nets) = &s.campus {
            if nets.is_empty() {
                p.add(
                    format!("{at}.campus"),
                    "must list at least one network (or leave it out)",
                );
            }
            for (k, n) in nets.iter().enumerate() {
                p.host_bits(format!("{at}.campus[{k}]"), n);
            }
        }
    }
}

fn detect(p: &mut Problems, d: &DetectConfig) {
    // A zero timeout would judge every packet attempt failed before any answer could come
    // (every busy client a scanner), or drop every flow at once.
    p.positive("detect.flow.attempt_timeout", d.flow.attempt_timeout);
    p.positive("detect.flow.idle_timeout", d.flow.idle_timeout);
    if d.ids.max_severity == 0 {
        p.add(
            "detect.ids.max_severity",
            "must be at least 1 (sensor severities start at 1)",
        );
    }
    for (i, r) in d.ids.rules.iter().enumerate() {
        let at = format!("detect.ids.rules[{i}]");
        if r.sid.is_none() && r.signature_contains.is_none() && r.classtype.is_none() {
            p.add(
                at.clone(),
                "needs at least one of sid, signature_contains, classtype (it would match every alert)",
            );
        }
        for (k, v) in [
            ("signature_contains", &r.signature_contains),
            ("classtype", &r.classtype),
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                p.add(format!("{at}.{k}"), "must not be empty");
            }
        }
    }
}

fn notify(p: &mut Problems, n: &NotifyConfig) {
    if let Err(r) = check_mailbox(&n.from) {
        p.add("notify.from", r);
    }
    match check_http_url(&n.answer_base_url) {
        Err(r) => p.add("notify.answer_base_url", r),
        Ok(()) => {
            if n.answer_base_url.contains(['?', '#']) {
                p.add(
                    "notify.answer_base_url",
                    "must not contain a query or fragment (answer paths are appended to it)",
                );
            }
        }
    }
    let len = n.token_secret.expose().len();
    if len < MIN_SECRET_BYTES {
        p.add(
            "notify.token_secret",
            format!("must be at least {MIN_SECRET_BYTES} bytes (is {len})"),
        );
    }
    p.positive("notify.token_ttl", n.token_ttl);
    p.at_least("notify.per_recipient_per_hour", n.per_recipient_per_hour, 1);
    retry(p, "notify.retry", &n.retry);
    if n.smtp.is_none() && n.webhooks.is_empty() && n.file.is_none() {
        p.add(
            "notify",
            "no channel configured: set notify.smtp, notify.webhooks or notify.file",
        );
    }
    if let Some(s) = &n.smtp {
        p.non_empty("notify.smtp.host", &s.host);
        if s.host.contains(char::is_whitespace) {
            p.add(
                "notify.smtp.host",
                format!("{:?} is not a host name", s.host),
            );
        }
        if s.port == Some(0) {
            p.add("notify.smtp.port", "must not be 0");
        }
        match (&s.username, &s.password) {
            (Some(_), None) => p.add(
                "notify.smtp.password",
                "required when notify.smtp.username is set",
            ),
            (None, Some(_)) => p.add(
                "notify.smtp.username",
                "required when notify.smtp.password is set",
            ),
            _ => {}
        }
        p.positive("notify.smtp.timeout", s.timeout);
    }
    let mut names = BTreeMap::new();
    for (i, w) in n.webhooks.iter().enumerate() {
        let at = format!("notify.webhooks[{i}]");
        if w.name.trim().is_empty() {
            p.add(format!("{at}.name"), "must not be empty");
        } else if let Some(j) = names.insert(w.name.as_str(), i) {
            p.add(
                format!("{at}.name"),
                format!(
                    "duplicate webhook name {:?} (also notify.webhooks[{j}])",
                    w.name
                ),
            );
        }
        if let Err(r) = check_http_url(&w.url) {
            p.add(format!("{at}.url"), r);
        }
        let mut seen = BTreeSet::new();
        for (k, a) in w.audiences.iter().enumerate() {
            if !AUDIENCES.contains(&a.as_str()) {
                p.add(
                    format!("{at}.audiences[{k}]"),
                    format!(
                        "unknown audience {a:?} (expected one of: {})",
                        AUDIENCES.join(", ")
                    ),
                );
            } else if !seen.insert(a.as_str()) {
                p.add(
                    format!("{at}.audiences[{k}]"),
                    format!("duplicate audience {a:?}"),
                );
            }
        }
    }
    if let Some(f) = &n.file
        && f.dir.as_os_str().is_empty()
    {
        p.add("notify.file.dir", "must not be empty");
    }
}

fn retry(p: &mut Problems, at: &str, r: &RetryConfig) {
    p.at_least(format!("{at}.max_attempts"), r.max_attempts, 1);
    p.positive(format!("{at}.initial_backoff"), r.initial_backoff);
    if r.max_backoff.0 < r.initial_backoff.0 {
        p.add(
            format!("{at}.max_backoff"),
            format!("must not be shorter than {at}.initial_backoff"),
        );
    }
}

fn enforce(p: &mut Problems, e: &EnforceConfig) {
    p.at_least("enforce.max_per_minute", e.max_per_minute, 1);
    p.at_least("enforce.burst", e.burst, 1);
    p.positive("enforce.timeout", e.timeout);
    retry(p, "enforce.retry", &e.retry);
    if !e.dry_run && e.hooks.is_empty() {
        p.add(
            "enforce.hooks",
            "enforcement enabled but no hooks (configure hooks or set enforce.dry_run = true)",
        );
    }
    for (verb, undo) in [
        ("quarantine_host", "release_host"),
        ("lock_account", "unlock_account"),
    ] {
        if e.hooks.contains_key(verb) && !e.hooks.contains_key(undo) {
            p.add(
                format!("enforce.hooks.{undo}"),
                format!("required when enforce.hooks.{verb} is set (an action must be undoable)"),
            );
        }
    }
    for (verb, hook) in &e.hooks {
        let at = format!("enforce.hooks.{verb}");
        if !HOOK_VERBS.contains(&verb.as_str()) {
            p.add(
                at,
                format!("unknown hook (expected one of: {})", HOOK_VERBS.join(", ")),
            );
            continue;
        }
        match hook {
            HookConfig::Http {
                method, url, body, ..
            } => {
                if !HOOK_METHODS.contains(&method.as_str()) {
                    p.add(
                        format!("{at}.method"),
                        format!(
                            "unknown method {method:?} (expected one of: {})",
                            HOOK_METHODS.join(", ")
                        ),
                    );
                }
                match placeholders::render(url, |_| "x".to_string()) {
                    Err(r) => p.add(format!("{at}.url"), r),
                    Ok(rendered) => {
                        if let Err(r) = check_http_url(&rendered) {
                            p.add(format!("{at}.url"), r);
                        }
                    }
                }
                if let Some(b) = body {
                    body_placeholders(p, &format!("{at}.body"), b);
                }
            }
            HookConfig::Command { argv } => match argv.first() {
                None => p.add(format!("{at}.argv"), "must name a program (argv is empty)"),
                Some(prog) => {
                    if !prog.starts_with('/') {
                        p.add(
                            format!("{at}.argv[0]"),
                            format!("{prog:?} must be an absolute path (no PATH lookup, no shell)"),
                        );
                    } else if prog.contains(['{', '}']) {
                        p.add(format!("{at}.argv[0]"), "must not contain placeholders");
                    }
                    for (i, a) in argv.iter().enumerate().skip(1) {
                        if let Err(r) = placeholders::scan(a) {
                            p.add(format!("{at}.argv[{i}]"), r);
                        }
                    }
                }
            },
        }
    }
}

fn body_placeholders(p: &mut Problems, at: &str, v: &toml::Value) {
    match v {
        toml::Value::String(s) => {
            if let Err(r) = placeholders::scan(s) {
                p.add(at, r);
            }
        }
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                body_placeholders(p, &format!("{at}[{i}]"), x);
            }
        }
        toml::Value::Table(t) => {
            for (k, x) in t {
                body_placeholders(p, &format!("{at}.{k}"), x);
            }
        }
        _ => {}
    }
}

fn api(p: &mut Problems, a: &ApiConfig) {
    match &a.office_token {
        None if !a.listen.ip().is_loopback() => p.add(
            "api.office_token",
            format!(
                "required when api.listen ({}) is not a loopback address",
                a.listen
            ),
        ),
        Some(t) if t.expose().len() < MIN_SECRET_BYTES => p.add(
            "api.office_token",
            format!(
                "must be at least {MIN_SECRET_BYTES} bytes (is {})",
                t.expose().len()
            ),
        ),
        _ => {}
    }
}

/// A simple `local@domain` check: catches typos and missing parts, not every RFC 5322 form.
pub fn check_email(s: &str) -> Result<(), String> {
    let bad = || format!("{s:?} is not an email address (write local@domain)");
    let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.contains(['@', '<', '>', '"', ',', ';'])
        || local.chars().any(|c| c.is_whitespace() || c.is_control())
        || check_domain(domain).is_err()
    {
        return Err(bad());
    }
    Ok(())
}

/// `addr@domain` or `Display Name <addr@domain>`.
fn check_mailbox(s: &str) -> Result<(), String> {
    let t = s.trim();
    if let Some(open) = t.find('<') {
        if let Some(inner) = t[open + 1..].strip_suffix('>')
            && check_email(inner).is_ok()
            && !t[..open].contains(['<', '>'])
        {
            return Ok(());
        }
        return Err(format!(
            "{s:?} is not an email address (write local@domain or \"Name <local@domain>\")"
        ));
    }
    check_email(t)
}

fn check_domain(d: &str) -> Result<(), String> {
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!("{d:?} is not a domain name"))
    }
}

/// `http://` or `https://`, a host, no spaces.
/// The messages never repeat the URL: a webhook's or a hook's URL may be its credential (a
/// token in the path or query), and they go to the terminal and the journal. The key they are
/// reported under says which URL.
fn check_http_url(s: &str) -> Result<(), String> {
    let lower = s.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &s[7..]
    } else if lower.starts_with("https://") {
        &s[8..]
    } else {
        let scheme = s.split_once("://").map(|(sc, _)| sc).filter(|sc| {
            sc.len() <= 16
                && sc
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        return Err(match scheme {
            Some(sc) => format!("scheme {sc:?} is not http or https"),
            None => "not an http:// or https:// URL".to_string(),
        });
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err("the URL has no host".to_string());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL contains white space".to_string());
    }
    Ok(())
}

/// The pattern must match whole names only: `^...$` (or `\A...\z`) with no top-level `|`
/// and no multi-line flag, so `^root|admin$` cannot sneak through as "anchored".
fn anchored(pat: &str) -> Result<(), String> {
    let need = || {
        format!(
            "{pat:?} must be anchored: start with ^ and end with $ (e.g. \"^[a-z][a-z0-9_]{{0,31}}$\")"
        )
    };
    let mut body = pat;
    // Leading flag groups like (?i) are fine, but not multi-line mode.
    while let Some(rest) = body.strip_prefix("(?") {
        let Some(end) = rest.find(')') else { break };
        let flags = &rest[..end];
        if flags.contains(':') {
            break;
        }
        if flags.contains('m') {
            return Err(format!("{pat:?} must not use the multi-line flag (m)"));
        }
        body = &rest[end + 1..];
    }
    let body = body
        .strip_prefix('^')
        .or_else(|| body.strip_prefix("\\A"))
        .ok_or_else(need)?;
    let end_ok = |suffix: &str| {
        body.strip_suffix(suffix).is_some_and(|b| {
            // The anchor must not itself be escaped.
            b.bytes().rev().take_while(|&c| c == b'\\').count() % 2 == 0
        })
    };
    if !(end_ok("$") || end_ok("\\z")) {
        return Err(need());
    }
    // Top-level alternation splits the anchors apart.
    let (mut depth, mut class, mut esc) = (0i32, false, false);
    for c in body.chars() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '[' if !class => class = true,
            ']' if class => class = false,
            '(' if !class => depth += 1,
            ')' if !class => depth -= 1,
            '|' if !class && depth == 0 => {
                return Err(format!(
                    "{pat:?} has a top-level | that escapes the anchors (write ^(?:a|b)$)"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Could the kernel name a network interface `n`? Linux's `dev_valid_name`, for ASCII
/// white space (`\v` included). Such a name is one path component, so it is also safe to look
/// up under `/sys/class/net`.
pub fn is_interface_name(n: &str) -> bool {
    (1..16).contains(&n.len())
        && n != "."
        && n != ".."
        && !n
            .bytes()
            .any(|b| b == b'/' || b == b':' || b == 0x0b || b.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchoring() {
        assert!(anchored("^[a-z_][a-z0-9._-]{0,31}$").is_ok());
        assert!(anchored("(?i)^(?:root|admin)$").is_ok());
        assert!(anchored(r"\A[a-z]+\z").is_ok());
        assert!(anchored("[a-z]+").is_err());
        assert!(anchored("^[a-z]+").is_err());
        assert!(anchored(r"^[a-z]+\$").is_err());
        assert!(anchored("^root|admin$").is_err());
        assert!(anchored("^[|]$").is_ok());
        assert!(anchored("(?m)^a$").is_err());
    }

    #[test]
    fn emails_and_urls() {
        assert!(check_email("alice@campus.example.edu").is_ok());
        assert!(check_email("root@localhost").is_ok());
        for bad in [
            "alice",
            "@x.edu",
            "a@",
            "a b@x.edu",
            "a@x..edu",
            "a@-x.edu",
            "a@x_y.edu",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_mailbox("Cordon <cordon@x.edu>").is_ok());
        assert!(check_mailbox("Cordon <cordon@x.edu").is_err());
        assert!(check_http_url("https://x.edu/a?b").is_ok());
        assert!(check_http_url("http://127.0.0.1:8088").is_ok());
        assert!(check_http_url("ftp://x").is_err());
        assert!(check_http_url("http:///x").is_err());
        assert!(check_http_url("http://x y").is_err());
    }
}

#[cfg(test)]
mod config_tests {
    //! Each semantic rule, through `config::check` on real TOML text.
    use crate::config::{ConfigProblem, check, parse};

    const BASE: &str = r#"
[campus]
networks = ["10.0.0.0/8"]
[calendar]
timezone = "UTC"
[office]
name = "Office"
email = "office@x.edu"
[notify]
from = "cordon@x.edu"
answer_base_url = "https://cordon.x.edu"
token_secret = "0123456789abcdef"
[notify.file]
dir = "outbox"
"#;

    /// BASE plus `extra`, with every problem as "path: reason".
    fn problems(extra: &str) -> Vec<String> {
        check(&format!("{BASE}\n{extra}"))
            .iter()
            .map(ConfigProblem::to_string)
            .collect()
    }

    fn has(extra: &str, want: &str) {
        let got = problems(extra);
        assert!(got.iter().any(|g| g == want), "want {want:?}, got {got:#?}");
    }

    #[test]
    fn base_is_clean_and_defaults_are_valid() {
        assert_eq!(problems(""), Vec::<String>::new());
        let c = parse(BASE).unwrap();
        assert!(c.enforce.dry_run, "a config without hooks is watch-only");
        assert_eq!(c.policy.category2.max_plan_days, 7);
    }

    #[test]
    fn campus_and_calendar() {
        let c = check(&BASE.replace("[\"10.0.0.0/8\"]", "[]"));
        assert_eq!(
            c[0].to_string(),
            "campus.networks: must list at least one network"
        );
        let c = check(&BASE.replace("[\"10.0.0.0/8\"]", "[\"10.1.2.3/8\"]"));
        assert_eq!(
            c[0].to_string(),
            "campus.networks[0]: 10.1.2.3/8 has host bits set (did you mean 10.0.0.0/8?)"
        );
        let t = BASE.replace("timezone = \"UTC\"", "timezone = \"UTC\"\nworkdays = []");
        assert!(check(&t)[0].path == "calendar.workdays");
        let t = BASE.replace(
            "timezone = \"UTC\"",
            "timezone = \"UTC\"\nholidays = [2026-12-25, \"2026-12-25\"]",
        );
        assert_eq!(
            check(&t)[0].to_string(),
            "calendar.holidays[1]: duplicate holiday 2026-12-25"
        );
    }

    #[test]
    fn flow_timeouts_must_be_positive() {
        has(
            "[detect.flow]\nattempt_timeout = \"0s\"",
            "detect.flow.attempt_timeout: must be longer than zero",
        );
        has(
            "[detect.flow]\nidle_timeout = \"0s\"",
            "detect.flow.idle_timeout: must be longer than zero",
        );
    }

    #[test]
    fn policy_numbers() {
        has(
            "[policy.category1]\nmax_deferral_days = 8",
            "policy.category1.max_deferral_days: must be at most 7 (is 8; policy allows 3 calendar days)",
        );
        has(
            "[policy.category2]\ncalendar_cap_days = 0",
            "policy.category2.calendar_cap_days: must be at least 1 (is 0)",
        );
        has(
            "[policy.category2]\ncalendar_cap_days = 5\nmax_plan_days = 4",
            "policy.category2.max_plan_days: must be at least policy.category2.calendar_cap_days (5) (is 4)",
        );
        has(
            "[severity]\nspread_medium = 0",
            "severity.spread_medium: must be at least 1 (is 0)",
        );
        has(
            "[severity.notify]\nhigh = [\"ciso@x.edu\", \"nobody\"]",
            "severity.notify.high[1]: \"nobody\" is not an email address (write local@domain)",
        );
    }

    #[test]
    fn inventory_rules() {
        has(
            "[inventory]\naccount_pattern = \"[a-z]+\"",
            "inventory.account_pattern: \"[a-z]+\" must be anchored: start with ^ and end with $ (e.g. \"^[a-z][a-z0-9_]{0,31}$\")",
        );
        has(
            "[inventory]\nprotected = [\"192.0.2.1/32\"]\nallow = [\"198.51.100.7/32\"]",
            "inventory.protected[0]: 192.0.2.1/32 is not inside campus.networks",
        );
        assert_eq!(
            problems("[inventory]\nallow = [\"198.51.100.7\"]"),
            Vec::<String>::new()
        );
        has(
            "[[inventory.networks]]\ncidr = \"10.1.0.0/16\"\nname = \"a\"\n[[inventory.networks]]\ncidr = \"10.1.0.0/16\"\nname = \"b\"\nemail = \"b@\"",
            "inventory.networks[1].cidr: 10.1.0.0/16 is already listed at inventory.networks[0]",
        );
        has(
            "[[inventory.networks]]\ncidr = \"10.1.0.0/16\"\nname = \"b\"\nemail = \"b@\"",
            "inventory.networks[0].email: \"b@\" is not an email address (write local@domain)",
        );
        has(
            "[[inventory.hosts]]\nip = \"10.0.0.1\"\n[[inventory.hosts]]\nip = \"10.0.0.1\"",
            "inventory.hosts[1].ip: 10.0.0.1 is already listed at inventory.hosts[0]",
        );
        has(
            "[[inventory.accounts]]\nname = \"Root!\"\nowner = \"x\"\nemail = \"r@x.edu\"",
            "inventory.accounts[0].name: \"Root!\" does not match inventory.account_pattern",
        );
    }

    #[test]
    fn source_rules() {
        has(
            "[[sources]]\nname = \"a\"\nkind = \"pcap\"\nformat = \"pcap\"\ninterface = \"../lo\"",
            "sources[0].interface: \"../lo\" is not a network interface name (1 to 15 bytes, none of them '/', ':' or white space, and not \".\" or \"..\"; for an alias such as eth0:1 give the interface, eth0)",
        );
        has(
            "[[sources]]\nname = \"a\"\nkind = \"pcap\"\nformat = \"pcap\"\ninterface = \"enp0s31f6-uplink0\"",
            "sources[0].interface: \"enp0s31f6-uplink0\" is not a network interface name (1 to 15 bytes, none of them '/', ':' or white space, and not \".\" or \"..\"; for an alias such as eth0:1 give the interface, eth0)",
        );
        has(
            "[[sources]]\nname = \"a\"\nkind = \"file\"\nformat = \"snort\"\npath = \"x\"",
            "sources[0].format: unknown format \"snort\" (expected one of: suricata_eve, netfilter, pf, cisco_asa, zeek_conn, zeek_notice, sshd, dovecot, postfix, syslog_auth, pcap)",
        );
        has(
            "[[sources]]\nname = \"a\"\nkind = \"syslog\"\nformat = \"sshd\"\nlisten = \"127.0.0.1:514\"",
            "sources[0].transport: required key is missing (kind = \"syslog\")",
        );
        has(
            "[[sources]]\nname = \"a\"\nkind = \"syslog\"\nformat = \"sshd\"\nlisten = \"127.0.0.1:514\"\ntransport = \"sctp\"",
            "sources[0].transport: unknown transport \"sctp\" (expected one of: udp, tcp)",
        );
        has(
            "[[sources]]\nname = \"a\"\nkind = \"file\"\nformat = \"pcap\"\npath = \"x\"",
            "sources[0].format: format \"pcap\" needs kind \"pcap\" or \"pcap_file\"",
        );
        has(
            "[[sources]]\nname = \"a\"\nkind = \"file\"\nformat = \"sshd\"\npath = \"x\"\ninterface = \"eth0\"",
            "sources[0].interface: not used by kind = \"file\"",
        );
        // A syslog pair on different transports is fine.
        assert_eq!(
            problems(
                "[[sources]]\nname = \"u\"\nkind = \"syslog\"\nformat = \"sshd\"\nlisten = \"127.0.0.1:514\"\ntransport = \"udp\"\n\
                 [[sources]]\nname = \"t\"\nkind = \"syslog\"\nformat = \"sshd\"\nlisten = \"127.0.0.1:514\"\ntransport = \"tcp\""
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn notify_rules() {
        let t = BASE.replace("https://cordon.x.edu", "https://cordon.x.edu/?a=1");
        assert_eq!(
            check(&t)[0].to_string(),
            "notify.answer_base_url: must not contain a query or fragment (answer paths are appended to it)"
        );
        let t = BASE.replace("https://cordon.x.edu", "cordon.x.edu");
        assert_eq!(
            check(&t)[0].to_string(),
            "notify.answer_base_url: not an http:// or https:// URL"
        );
        let t = BASE.replace("[notify.file]\ndir = \"outbox\"", "");
        assert_eq!(
            check(&t)[0].to_string(),
            "notify: no channel configured: set notify.smtp, notify.webhooks or notify.file"
        );
        has(
            "[notify.smtp]\nhost = \"smtp.x.edu\"\nusername = \"u\"",
            "notify.smtp.password: required when notify.smtp.username is set",
        );
        has(
            "[[notify.webhooks]]\nname = \"w\"\nurl = \"https://w.x.edu/h\"\naudiences = [\"owner\", \"ciso\"]",
            "notify.webhooks[0].audiences[1]: unknown audience \"ciso\" (expected one of: owner, office, high, medium, low)",
        );
        // The URL is not repeated: a chat webhook's URL is its credential.
        has(
            "[[notify.webhooks]]\nname = \"w\"\nurl = \"ftp://w.x.edu/services/s3cr3t\"",
            "notify.webhooks[0].url: scheme \"ftp\" is not http or https",
        );
    }

    #[test]
    fn hook_rules() {
        has(
            "[enforce.hooks.lock_account]\ntype = \"command\"\nargv = [\"/bin/lock\", \"{account}\"]",
            "enforce.hooks.unlock_account: required when enforce.hooks.lock_account is set (an action must be undoable)",
        );
        has(
            "[enforce.hooks.release_host]\ntype = \"command\"\nargv = []",
            "enforce.hooks.release_host.argv: must name a program (argv is empty)",
        );
        has(
            "[enforce.hooks.release_host]\ntype = \"http\"\nurl = \"http://nac/{ip}\"\nbody = { who = \"{ip}\", list = [\"{oops}\"] }",
            "enforce.hooks.release_host.body.list[0]: unknown placeholder {oops} (known: {incident}, {ip}, {mac}, {account}, {action}, {key}; write \"{{\" for a literal brace)",
        );
        has(
            "[enforce.hooks.release_host]\ntype = \"command\"\nargv = [\"/bin/x\"]\nurl = \"http://x\"",
            "enforce.hooks.release_host.url: not a key of a command hook (expected one of: type, argv)",
        );
        // Escaped braces are literal text, not placeholders.
        assert_eq!(
            problems(
                "[enforce.hooks.release_host]\ntype = \"command\"\nargv = [\"/usr/sbin/nft\", \"{{\", \"{ip}\", \"}}\"]"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn api_rules() {
        has(
            "[api]\nlisten = \"[::]:8088\"\noffice_token = \"short\"",
            "api.office_token: must be at least 16 bytes (is 5)",
        );
        assert_eq!(
            problems("[api]\nlisten = \"[::1]:8088\""),
            Vec::<String>::new()
        );
    }
}
