//! The TOML schema, one struct per table. Unknown keys are errors everywhere
//! (`deny_unknown_fields`); values parse into typed forms while being read.
use super::types::{Duration, Pattern, Secret, TimeZone, Weekday};
use crate::model::{EvidenceKind, MacAddr};
use ipnet::IpNet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub agent: AgentConfig,
    pub campus: CampusConfig,
    pub calendar: CalendarConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub severity: SeverityConfig,
    pub office: OfficeConfig,
    #[serde(default)]
    pub inventory: InventoryConfig,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub detect: DetectConfig,
    pub notify: NotifyConfig,
    #[serde(default)]
    pub enforce: EnforceConfig,
    #[serde(default)]
    pub api: ApiConfig,
}

/// Process-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Where the database lives (relative paths are relative to the working directory).
    pub state_dir: PathBuf,
    /// Name of this sensor/agent, recorded as the reporter of automated incidents.
    pub name: String,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            state_dir: PathBuf::from("/var/lib/cordon"),
            name: "cordon".into(),
        }
    }
}

/// Which addresses are ours.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampusConfig {
    pub networks: Vec<IpNet>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub timezone: TimeZone,
    #[serde(default = "default_workdays")]
    pub workdays: Vec<Weekday>,
    #[serde(default)]
    pub holidays: Vec<jiff::civil::Date>,
}

fn default_workdays() -> Vec<Weekday> {
    use jiff::civil::Weekday as W;
    [W::Monday, W::Tuesday, W::Wednesday, W::Thursday, W::Friday]
        .into_iter()
        .map(Weekday)
        .collect()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    pub category1: Category1Config,
    pub category2: Category2Config,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Category1Config {
    /// No answer within this window after the notice → enforce.
    pub answer_window: Duration,
    /// The office may defer enforcement at most this many calendar days after the first notice.
    pub max_deferral_days: u32,
    /// Escalation from Category 2/3 to 1: enforce at once (`true`) or open a fresh answer window.
    pub escalation_enforces_at_once: bool,
}

impl Default for Category1Config {
    fn default() -> Self {
        Category1Config {
            answer_window: Duration::from_secs(15 * 60),
            max_deferral_days: 3,
            escalation_enforces_at_once: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Category2Config {
    /// Second notice this many business days after the first.
    pub second_notice_business_days: u32,
    /// Quarantine when the second notice is unanswered this many business days later.
    pub second_notice_answer_business_days: u32,
    /// Quarantine when still compromised this many calendar days after the first notice with
    /// no accepted plan.
    pub calendar_cap_days: u32,
    /// A plan's repair date may be at most this many calendar days after the first notice.
    pub max_plan_days: u32,
}

impl Default for Category2Config {
    fn default() -> Self {
        Category2Config {
            second_notice_business_days: 2,
            second_notice_answer_business_days: 1,
            calendar_cap_days: 3,
            max_plan_days: 7,
        }
    }
}

/// How severity is derived, and who hears of each severity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeverityConfig {
    /// The same finding on at least this many hosts is High (spreading).
    pub spread_high: u32,
    /// ... at least this many is Medium.
    pub spread_medium: u32,
    /// Notification lists per severity (`high`, `medium`, `low`).
    pub notify: SeverityLists,
}

impl Default for SeverityConfig {
    fn default() -> Self {
        SeverityConfig {
            spread_high: 10,
            spread_medium: 3,
            notify: SeverityLists::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeverityLists {
    pub high: Vec<String>,
    pub medium: Vec<String>,
    pub low: Vec<String>,
}

/// The security office: alerts, approvals, escalations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeConfig {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryConfig {
    /// Account names from logs become accounts only if they match this pattern.
    pub account_pattern: Pattern,
    /// When an account has no explicit owner, mail `<account>@<domain>` (if set).
    pub account_email_domain: Option<String>,
    /// Owners by network; the most specific network wins.
    pub networks: Vec<NetworkOwner>,
    /// Host records (override network owners).
    pub hosts: Vec<HostRecord>,
    /// Addresses/networks never enforced automatically (routers, DNS, critical servers).
    pub protected: Vec<IpNet>,
    /// Addresses/networks whose traffic never becomes evidence (mail relays, scanners we run).
    pub allow: Vec<IpNet>,
    pub accounts: Vec<AccountRecord>,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig {
            account_pattern: Pattern(
                regex_lite::Regex::new("^[a-z_][a-z0-9._-]{0,31}$").expect("static pattern"),
            ),
            account_email_domain: None,
            networks: Vec::new(),
            hosts: Vec::new(),
            protected: Vec::new(),
            allow: Vec::new(),
            accounts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkOwner {
    pub cidr: IpNet,
    pub name: String,
    /// Owner; absent means the network has no known owner (enforce at once for Category 1).
    pub owner: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostRecord {
    pub ip: IpAddr,
    pub mac: Option<MacAddr>,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub asset_tag: Option<String>,
    pub location: Option<String>,
    pub owner: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub critical: bool,
    #[serde(default)]
    pub confidential_data: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRecord {
    pub name: String,
    pub owner: String,
    pub email: String,
    #[serde(default)]
    pub protected: bool,
}

/// One input. `kind` says how it is read; `format` how its records are parsed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    /// Record format (`suricata_eve`, `netfilter`, `pf`, `cisco_asa`, `zeek_conn`, `zeek_notice`,
    /// `sshd`, `dovecot`, `postfix`, `pcap`).
    pub format: String,
    /// Files: a path or glob. Offline pcap: a file.
    pub path: Option<String>,
    /// Files: follow growth (`true`) or read once.
    #[serde(default = "yes")]
    pub follow: bool,
    /// Syslog: listen address (e.g. `0.0.0.0:514`).
    pub listen: Option<SocketAddr>,
    /// Syslog: `udp` or `tcp`.
    pub transport: Option<String>,
    /// Live capture: interface.
    pub interface: Option<String>,
    /// Live capture: BPF filter.
    pub bpf: Option<String>,
    pub snaplen: Option<i32>,
    pub promiscuous: Option<bool>,
    pub buffer_size: Option<i32>,
    pub immediate: Option<bool>,
    /// Time zone of stamps that carry none (syslog). Default: the calendar's.
    pub timezone: Option<TimeZone>,
    /// Overrides `campus.networks` for this source (e.g. a sensor that sees NAT-ed space).
    pub campus: Option<Vec<IpNet>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    File,
    Syslog,
    Stdin,
    Pcap,
    PcapFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    pub ids: IdsConfig,
    /// Detector tables (issue-specific detectors add their own keys here).
    pub scan: Option<toml::Table>,
    pub bruteforce: Option<toml::Table>,
    pub login: Option<toml::Table>,
    pub spam: Option<toml::Table>,
    pub flood: Option<toml::Table>,
    pub beacon: Option<toml::Table>,
    /// Packet flow tracking (`[detect.flow]`).
    pub flow: FlowConfig,
}

/// The packet flow table: cap and idle timeout (see `flow::FlowSettings`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowConfig {
    /// Most flows tracked at once; the least recently active is evicted (and counted) beyond.
    pub max_flows: usize,
    /// A flow with no packet for this long is summarized and dropped.
    pub idle_timeout: Duration,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 1_000_000,
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// IDS signature mapping: which alerts mean which evidence kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdsConfig {
    /// Use the built-in classtype defaults (rules below are checked first).
    pub default_rules: bool,
    pub rules: Vec<IdsRule>,
    /// Ignore alerts whose sensor severity is numerically greater than this (Suricata: 1 high, 3 low).
    pub max_severity: u8,
}

impl Default for IdsConfig {
    fn default() -> Self {
        IdsConfig {
            default_rules: true,
            rules: Vec::new(),
            max_severity: 3,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdsRule {
    /// Match by signature id.
    pub sid: Option<u64>,
    /// Match when the signature text contains this (case-insensitive).
    pub signature_contains: Option<String>,
    /// Match by classification (Suricata `category` or classtype, case-insensitive).
    pub classtype: Option<String>,
    /// What the alert means; `ignore` drops it.
    pub kind: IdsKind,
    /// Which side is the campus subject: `auto` (the campus side, by role), `src` or `dst`.
    #[serde(default)]
    pub subject: SubjectSide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdsKind {
    /// Attack traffic (scan/exploit/dos): attacker side is Category 1, victim ignored.
    Scan,
    Exploit,
    Dos,
    BruteForce,
    /// Trojan/C2/malware: the campus side is compromised (Category 2).
    TrojanC2,
    MalwareDownload,
    /// A successful attack against the campus side (Category 2).
    InboundCompromise,
    /// Vulnerable or policy-violating software on the campus side (Category 3).
    Vulnerable,
    /// Drop the alert.
    Ignore,
    /// Direct mapping to an evidence kind.
    Evidence(EvidenceKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectSide {
    #[default]
    Auto,
    Src,
    Dst,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Sender address.
    pub from: String,
    /// Base URL of the answer pages as owners reach them (e.g. `https://cordon.campus.edu`).
    pub answer_base_url: String,
    /// HMAC key for answer links (write `${ENV}`).
    pub token_secret: Secret,
    /// How long an answer link stays valid.
    #[serde(default = "default_token_ttl")]
    pub token_ttl: Duration,
    /// Folder of templates the office edits; built-in templates are used for missing files.
    pub templates_dir: Option<PathBuf>,
    /// Most notices per recipient per hour (beyond this they are delayed, not dropped).
    #[serde(default = "default_per_recipient")]
    pub per_recipient_per_hour: u32,
    #[serde(default)]
    pub retry: RetryConfig,
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// Write every notice also to this folder, one file per message.
    pub file: Option<FileNotifierConfig>,
}

fn default_token_ttl() -> Duration {
    Duration::from_secs(14 * 24 * 3600)
}
fn default_per_recipient() -> u32 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts before a delivery failure is permanent (owner unreachable).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 6,
            initial_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit), or `none` (plain; only for a local relay).
    #[serde(default)]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Connect/command timeout.
    #[serde(default = "default_smtp_timeout")]
    pub timeout: Duration,
}

fn default_smtp_timeout() -> Duration {
    Duration::from_secs(30)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    #[default]
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Which audiences it receives: `owner`, `office`, `high`, `medium`, `low`. Default all.
    #[serde(default)]
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileNotifierConfig {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnforceConfig {
    /// Record what would run; run nothing.
    pub dry_run: bool,
    /// Most enforcements per minute before the circuit breaker opens.
    pub max_per_minute: u32,
    /// Burst allowed within the rate.
    pub burst: u32,
    /// Hook call timeout.
    pub timeout: Duration,
    pub retry: RetryConfig,
    /// Hooks by verb: `quarantine_host`, `release_host`, `lock_account`, `unlock_account`.
    pub hooks: BTreeMap<String, HookConfig>,
}

impl Default for EnforceConfig {
    fn default() -> Self {
        EnforceConfig {
            dry_run: false,
            max_per_minute: 10,
            burst: 5,
            timeout: Duration::from_secs(30),
            retry: RetryConfig {
                max_attempts: 0,
                initial_backoff: Duration::from_secs(2),
                max_backoff: Duration::from_secs(300),
            },
            hooks: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "snake_case")]
pub enum HookConfig {
    Http {
        #[serde(default = "default_method")]
        method: String,
        /// May contain placeholders such as `{ip}`; values are URL-encoded.
        url: String,
        #[serde(default)]
        headers: BTreeMap<String, Secret>,
        /// JSON body template: a TOML table whose string values may be placeholders.
        body: Option<toml::Value>,
    },
    Command {
        /// Program and arguments; never run through a shell. Elements may be placeholders.
        argv: Vec<String>,
    },
}

fn default_method() -> String {
    "POST".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Answer pages, office API, metrics.
    pub listen: SocketAddr,
    /// Bearer token for the office API (write `${ENV}`); absent → office API disabled.
    pub office_token: Option<Secret>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            office_token: None,
        }
    }
}
