//! The TOML schema, one struct per table. Unknown keys are errors everywhere
//! (`deny_unknown_fields`); values parse into typed forms while being read.
use super::de;
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
    #[serde(deserialize_with = "de::nets")]
    pub networks: Vec<IpNet>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub timezone: TimeZone,
    #[serde(default = "default_workdays")]
    pub workdays: Vec<Weekday>,
    #[serde(default, deserialize_with = "de::dates")]
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
    #[serde(deserialize_with = "de::nets")]
    pub protected: Vec<IpNet>,
    /// Addresses/networks whose traffic never becomes evidence (mail relays, scanners we run).
    #[serde(deserialize_with = "de::nets")]
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
    #[serde(deserialize_with = "de::net")]
    pub cidr: IpNet,
    pub name: String,
    /// Owner; absent means the network has no known owner (enforce at once for Category 1).
    pub owner: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostRecord {
    #[serde(deserialize_with = "de::ip")]
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
    /// Record format, one of [`crate::config::FORMATS`]; `pcap` exactly for the pcap kinds.
    pub format: String,
    /// Files: a path or glob. Offline pcap: a file.
    pub path: Option<String>,
    /// Files: follow growth (`true`) or read once.
    #[serde(default = "yes")]
    pub follow: bool,
    /// Syslog: listen address (e.g. `0.0.0.0:514`).
    #[serde(default, deserialize_with = "de::opt_socket")]
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
    #[serde(default, deserialize_with = "de::opt_nets")]
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
    /// Outbound scanning (horizontal and vertical).
    pub scan: ScanConfig,
    /// Outbound brute force against outside servers.
    pub bruteforce: BruteForceConfig,
    /// Compromise of campus accounts (success after failures, success from a blamed address).
    pub login: LoginConfig,
    /// Outbound spam (many outside SMTP servers).
    pub spam: SpamConfig,
    /// Outbound floods (denial of service) against one target.
    pub flood: FloodConfig,
    /// Regular contact with one outside address (beaconing, Category 2).
    pub beacon: BeaconConfig,
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
    /// A connection attempt (TCP SYN, UDP or ICMP query) with no answer for this long counts
    /// as failed for the scan detector, without waiting for the idle timeout.
    pub attempt_timeout: Duration,
    /// Trust a TCP initiator that acknowledges an answer the capture never carried (its
    /// answers come back over an uplink the span does not see): its attempt gets no verdict
    /// instead of "unanswered". Off: the initiator is the host being judged, and a scanner
    /// that sends its own ACK after each SYN would hide every probe of a silent address.
    /// Such attempts are counted either way (`cordon_capture_answer_unseen_total`); turn this
    /// on only where the span is known to miss return traffic and cannot be fixed.
    pub trust_unseen_answers: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 1_000_000,
            idle_timeout: Duration::from_secs(120),
            attempt_timeout: Duration::from_secs(5),
            trust_unseen_answers: false,
        }
    }
}

/// Outbound scan detector. Counts *unanswered* probes only (firewall denies, SYNs whose
/// handshake never completed, flows of at most `probe_max_packets` packets), so a busy client or
/// a NAT gateway whose connections complete does not look like a scanner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    pub enabled: bool,
    /// Tumbling window per campus source. 60 s: nmap's default timing probes thousands of
    /// addresses a minute, while a person's failed connections in a minute are a handful.
    pub window: Duration,
    /// Horizontal: distinct outside destinations probed in one window. 100 is far above what
    /// a browser or a NAT gateway leaves unanswered and far below any sweep.
    pub horizontal_min_destinations: u32,
    /// Vertical: distinct ports probed on one outside destination in one window. 50: no
    /// client application opens 50 ports on one server; nmap's top-1000 crosses it at once.
    pub vertical_min_ports: u32,
    /// A flow summary with at most this many packets (and more than 0) is an unanswered probe.
    /// 3: a SYN, a retransmission and a RST; an established TCP connection has more.
    pub probe_max_packets: u64,
    /// Also count probes whose destination is on campus. Off: internal traffic (backup
    /// servers, monitoring) must never open an incident by default.
    pub include_internal: bool,
    /// Most campus sources tracked. 65,536 covers a /16 with every host active.
    pub max_sources: usize,
    /// Most (source, destination) pairs tracked for vertical scans.
    pub max_pairs: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            enabled: true,
            window: Duration::from_secs(60),
            horizontal_min_destinations: 100,
            vertical_min_ports: 50,
            probe_max_packets: 3,
            include_internal: false,
            max_sources: 65_536,
            max_pairs: 65_536,
        }
    }
}

/// Outbound flood detector: connection attempts (and packets of per-packet records) from one
/// campus host to one outside target, averaged over the window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloodConfig {
    pub enabled: bool,
    /// 10 s: long enough to average out a burst of page loads, short enough to act quickly.
    pub window: Duration,
    /// Connection attempts per second to one target. 200/s: far beyond any client (a browser
    /// opens at most a few dozen connections to one site), easily reached by hping3/SYN floods.
    pub min_connections_per_sec: u32,
    /// Packets per second to one target from per-packet records (firewall denies, SYNs).
    /// 2,000/s: a modest flood; flow summaries are not counted because a long download's
    /// summary carries its whole packet count at one instant.
    pub min_packets_per_sec: u32,
    /// Count only completed handshakes (`conn_established`). Off by default because a SYN
    /// flood never completes a handshake; the edge's egress filter (BCP 38) drops off-campus
    /// sources, so a campus source address on an attempt is trusted. Turn on where campus
    /// hosts can spoof each other's addresses and that risk outweighs missing SYN floods.
    pub require_handshake: bool,
    /// Most (source, target) pairs tracked; as many pairs seen once wait beside them in a
    /// compact first-sighting table (most pairs on a busy edge never come back).
    pub max_pairs: usize,
}

impl Default for FloodConfig {
    fn default() -> Self {
        FloodConfig {
            enabled: true,
            window: Duration::from_secs(10),
            min_connections_per_sec: 200,
            min_packets_per_sec: 2_000,
            require_handshake: false,
            max_pairs: 65_536,
        }
    }
}

/// Outbound spam detector: distinct outside SMTP servers contacted by one campus host.
/// Campus mail relays belong in `inventory.allow`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpamConfig {
    pub enabled: bool,
    /// 10 minutes: spam bots contact hundreds of MX hosts in minutes; a person's mail client
    /// talks to one submission server.
    pub window: Duration,
    /// Distinct outside servers on an SMTP port within the window. 25: only a relay (which
    /// is allow-listed) legitimately talks to that many MX hosts.
    pub min_servers: u32,
    /// Ports that count as server-to-server SMTP. 25 only: submission (587/465) goes to the
    /// user's own provider.
    pub ports: Vec<u16>,
    /// Most campus sources tracked.
    pub max_sources: usize,
}

impl Default for SpamConfig {
    fn default() -> Self {
        SpamConfig {
            enabled: true,
            window: Duration::from_secs(600),
            min_servers: 25,
            ports: vec![25],
            max_sources: 65_536,
        }
    }
}

/// Outbound brute force: a campus host failing logins against outside servers, or opening
/// many short connections to outside login services.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BruteForceConfig {
    pub enabled: bool,
    /// 5 minutes: password guessers run continuously; a person retrying is done in a minute.
    pub window: Duration,
    /// Failed logins (auth records with a campus source and an outside destination) in the
    /// window. 20: a person gives up long before.
    pub min_failures: u32,
    /// Connections to one outside login service in the window. 30: interactive use opens a
    /// few; hydra/medusa open hundreds. Automation that connects often (deploy tools, CI
    /// fetching git over ssh) belongs in `inventory.allow` (source or destination).
    pub min_connections_one_server: u32,
    /// Distinct outside servers on login ports in the window. 20: nobody logs in to 20
    /// different outside servers in 5 minutes by hand.
    pub min_servers: u32,
    /// Login service ports: ssh, telnet, ftp, pop3, imap, smb, rdp, vnc, mysql, mssql.
    pub ports: Vec<u16>,
    /// Most campus sources tracked.
    pub max_sources: usize,
    /// Most (source, server) pairs tracked.
    pub max_pairs: usize,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            enabled: true,
            window: Duration::from_secs(300),
            min_failures: 20,
            min_connections_one_server: 30,
            min_servers: 20,
            ports: vec![21, 22, 23, 110, 143, 445, 1433, 3306, 3389, 5900],
            max_sources: 65_536,
            max_pairs: 65_536,
        }
    }
}

/// Login compromise of campus accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    pub enabled: bool,
    /// 10 minutes: online guessing that succeeds does so within minutes of its failures.
    pub window: Duration,
    /// Failures for one user name before a success is suspicious. 10: people who forget a
    /// password give up or reset it well before ten tries; an account compromise is
    /// Category 1, so this errs on the side of not locking a fumbling user.
    pub failures_per_user: u32,
    /// Failures from one source address (any users) before a success from it is suspicious.
    /// 20: a shared NAT address sees some failures; a guesser sees hundreds.
    pub failures_per_source: u32,
    /// How long an address with Category 1 evidence stays "blamed" (a success from it is a
    /// compromise). 24 h: a compromised host is not cleaned within a day.
    pub blame_ttl: Duration,
    /// Most user names tracked (attacker-chosen).
    pub max_users: usize,
    /// Most source addresses tracked (attacker-chosen).
    pub max_sources: usize,
    /// Most blamed addresses remembered.
    pub max_blamed: usize,
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            enabled: true,
            window: Duration::from_secs(600),
            failures_per_user: 10,
            failures_per_source: 20,
            blame_ttl: Duration::from_secs(24 * 3600),
            max_users: 100_000,
            max_sources: 100_000,
            max_blamed: 65_536,
        }
    }
}

/// Beacon detector: a campus host contacting one outside address at regular intervals.
/// Legitimate pollers (monitoring, update checks) do this too: put their destinations in
/// `inventory.allow` or their ports in `ignore_ports`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeaconConfig {
    pub enabled: bool,
    /// Consecutive contacts needed (intervals = contacts - 1). 12: an hour of a 5-minute
    /// beacon; fewer regular contacts happen by chance.
    pub min_contacts: u32,
    /// Largest allowed standard deviation of the intervals, as a fraction of their mean.
    /// 0.05: malware jitter is usually configured at 0 or ≥ 10 %; 60 s ± 1 s is 1 %.
    pub max_jitter_ratio: f64,
    /// Contacts closer than this to the previous one are the same contact (a SYN and its
    /// handshake, a DNS lookup and the connection). 5 s.
    pub min_interval: Duration,
    /// A gap longer than this restarts the series. 1 h.
    pub max_interval: Duration,
    /// Destination ports never considered (NTP and DNS are regular by design).
    pub ignore_ports: Vec<u16>,
    /// Re-emit evidence for the same pair at most this often. 1 h.
    pub reemit_after: Duration,
    /// Most (host, outside address) pairs tracked; as many first contacts wait beside them in
    /// a compact first-sighting table (a pair gets a series at its second contact).
    pub max_pairs: usize,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            enabled: true,
            min_contacts: 12,
            max_jitter_ratio: 0.05,
            min_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(3600),
            ignore_ports: vec![53, 123],
            reemit_after: Duration::from_secs(3600),
            max_pairs: 131_072,
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
    /// `notify.retry`: attempts before a delivery failure is permanent (owner unreachable).
    /// `enforce.retry`: failed attempts of one hook call after which the office is alerted;
    /// the calls go on, because enforcement is never given up on a transient failure.
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
    /// PEM file of CA certificates to trust for the relay's certificate, beside the system's
    /// (a campus relay whose certificate an internal CA signed).
    pub ca_file: Option<std::path::PathBuf>,
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
    /// Record what would run; run nothing. Defaults to `true`: a config that names no hooks
    /// is a watch-only deployment, and turning enforcement on is a deliberate act.
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
            dry_run: true,
            max_per_minute: 10,
            burst: 5,
            timeout: Duration::from_secs(30),
            retry: RetryConfig {
                max_attempts: 3,
                initial_backoff: Duration::from_secs(2),
                max_backoff: Duration::from_secs(300),
            },
            hooks: BTreeMap::new(),
        }
    }
}

/// One enforcement hook. Read through `RawHook` so that every key (including secret headers)
/// is reported with its full path.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawHook")]
pub enum HookConfig {
    Http {
        #[serde(default = "default_method")]
        method: String,
        /// May contain placeholders such as `{ip}` (see [`crate::config::placeholders`]);
        /// values are URL-encoded.
        url: String,
        #[serde(default)]
        headers: BTreeMap<String, Secret>,
        /// JSON body template: a TOML table whose string values may be placeholders.
        body: Option<toml::Value>,
    },
    Command {
        /// Program (an absolute path, no placeholders) and arguments; never run through a
        /// shell. Arguments may contain placeholders (see [`crate::config::placeholders`]).
        argv: Vec<String>,
    },
}

fn default_method() -> String {
    "POST".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum HookType {
    Http,
    Command,
}

/// The flat form of a hook table, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    #[serde(rename = "type")]
    kind: HookType,
    method: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, Secret>,
    body: Option<toml::Value>,
    argv: Option<Vec<String>>,
}

/// A conversion error about one key of a hook: `parse` moves `key` into the reported path.
fn hook_key_error(key: &str, reason: &str) -> String {
    format!("{}{key}{}{reason}", super::SUBKEY_MARK, super::SUBKEY_MARK)
}

impl TryFrom<RawHook> for HookConfig {
    type Error = String;
    fn try_from(r: RawHook) -> Result<Self, String> {
        match r.kind {
            HookType::Http => {
                if r.argv.is_some() {
                    return Err(hook_key_error(
                        "argv",
                        "not a key of an http hook (expected one of: type, method, url, headers, body)",
                    ));
                }
                let url = r.url.ok_or_else(|| {
                    hook_key_error("url", "required key is missing (type = \"http\")")
                })?;
                Ok(HookConfig::Http {
                    method: r.method.unwrap_or_else(default_method),
                    url,
                    headers: r.headers,
                    body: r.body,
                })
            }
            HookType::Command => {
                for (key, present) in [
                    ("method", r.method.is_some()),
                    ("url", r.url.is_some()),
                    ("headers", !r.headers.is_empty()),
                    ("body", r.body.is_some()),
                ] {
                    if present {
                        return Err(hook_key_error(
                            key,
                            "not a key of a command hook (expected one of: type, argv)",
                        ));
                    }
                }
                let argv = r.argv.ok_or_else(|| {
                    hook_key_error("argv", "required key is missing (type = \"command\")")
                })?;
                Ok(HookConfig::Command { argv })
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Answer pages, office API, metrics.
    #[serde(deserialize_with = "de::socket")]
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
