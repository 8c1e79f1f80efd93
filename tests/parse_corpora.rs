//! Our parsers against third-party corpora (`../shared/corpora`, see its README): CrowdSec hub
//! parser tests, Wazuh ruleset tests, and loghub's 2,000 OpenSSH lines. Each test skips with a
//! message when the corpora are absent (e.g. on a user's machine).
//!
//! CrowdSec's `parser.assert` lists, per line, whether its parser succeeded and the fields it
//! extracted. We map that to our model: every line CrowdSec parses with a `source_ip` must give
//! us an observation with the same source address (and the same user when it names one), except
//! the few messages listed in `DELIBERATELY_SKIPPED` with the reason.
use cordon::parse::{Format, ParseContext, Parsed, parser_for};
use jiff::tz::TimeZone;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpora() -> Option<PathBuf> {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora"));
    if p.is_dir() {
        Some(p.to_path_buf())
    } else {
        eprintln!(
            "SKIPPED: corpora not found at {} (see its README)",
            p.display()
        );
        None
    }
}

fn ctx() -> ParseContext {
    ParseContext::new(TimeZone::UTC, "2026-11-23T12:00:00Z".parse().unwrap())
}

/// Messages CrowdSec counts that we do not turn into an observation, and why.
const DELIBERATELY_SKIPPED: [(&str, &str); 1] = [(
    "refused connect from",
    "tcp_wrappers refusal: names a host or address but no login attempt",
)];

/// One line's expectations from `parser.assert` (stage s01 = the format parser).
#[derive(Debug, Default)]
struct Expect {
    success: bool,
    source_ip: Option<String>,
    user: Option<String>,
}

/// Parse `parser.assert`: `results["s01-parse"]["NODE"][i].Success == true`,
/// `….Evt.Meta["source_ip"] == "…"`, `….Evt.Meta["target_user"] == "…"`: expectations by
/// stage-1 node, then by event index.
fn read_assert(text: &str) -> BTreeMap<String, BTreeMap<usize, Expect>> {
    let re = regex_lite::Regex::new(
        r#"^results\["s01-[a-z]+"\]\["([^"]+)"\]\[(\d+)\]\.(Success == (true|false)|Evt\.Meta\["(source_ip|target_user)"\] == "(.*)")$"#,
    )
    .unwrap();
    let mut nodes: BTreeMap<String, BTreeMap<usize, Expect>> = BTreeMap::new();
    for line in text.lines() {
        let Some(c) = re.captures(line) else { continue };
        let i: usize = c[2].parse().unwrap();
        let e = nodes
            .entry(c[1].to_string())
            .or_default()
            .entry(i)
            .or_default();
        if let Some(ok) = c.get(4) {
            e.success = ok.as_str() == "true";
        }
        match c.get(5).map(|m| m.as_str()) {
            Some("source_ip") => e.source_ip = Some(c[6].to_string()),
            Some("target_user") => e.user = Some(c[6].to_string()),
            _ => {}
        }
    }
    nodes
}

/// Merge the nodes that saw every line (one result per line, in line order): a line counts as
/// parsed when any of them parsed it.
fn aligned(
    nodes: BTreeMap<String, BTreeMap<usize, Expect>>,
    n: usize,
) -> Option<BTreeMap<usize, Expect>> {
    let mut out: BTreeMap<usize, Expect> = BTreeMap::new();
    let mut any = false;
    for (_, m) in nodes {
        if m.len() != n || m.keys().next_back() != Some(&(n - 1)) {
            continue;
        }
        any = true;
        for (i, e) in m {
            let o = out.entry(i).or_default();
            if e.success {
                o.success = true;
                o.source_ip = o.source_ip.take().or(e.source_ip);
                o.user = o.user.take().or(e.user);
            }
        }
    }
    any.then_some(out)
}

struct Tally {
    checked: usize,
    misses: Vec<String>,
}

fn crowdsec_case(root: &Path, case: &str, format: Format, strict: bool, t: &mut Tally) {
    let dir = root.join("crowdsec-hub-tests").join(case);
    let Ok(assert) = std::fs::read_to_string(dir.join("parser.assert")) else {
        eprintln!("  {case}: no parser.assert, skipped");
        return;
    };
    let log = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let all: Vec<&str> = text.lines().collect();
    let non_empty: Vec<&str> = all
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let nodes = read_assert(&assert);
    let (lines, expect) = if let Some(e) = aligned(read_assert(&assert), all.len()) {
        (all, e)
    } else if let Some(e) = aligned(nodes, non_empty.len()) {
        (non_empty, e)
    } else {
        eprintln!("  {case}: no stage-1 node saw every line, skipped");
        return;
    };
    let ctx = ctx();
    let mut p = parser_for(format);
    for (i, e) in &expect {
        let line = lines[*i];
        let got = p.parse(line, &ctx);
        if let Parsed::Bad(why) = &got
            && e.success
        {
            t.misses
                .push(format!("{case}[{i}] refused ({why}): {line}"));
            continue;
        }
        let (Some(ip), true) = (&e.source_ip, e.success) else {
            continue;
        };
        if DELIBERATELY_SKIPPED.iter().any(|(m, _)| line.contains(m)) {
            continue;
        }
        t.checked += 1;
        match got {
            Parsed::Obs(o) => {
                let src = o.src.map(|a| a.to_string());
                if src.as_deref() != Some(ip.as_str()) {
                    t.misses
                        .push(format!("{case}[{i}] src {src:?} != {ip}: {line}"));
                }
                if let Some(u) = &e.user
                    && o.user.as_deref() != Some(u.as_str())
                {
                    t.misses
                        .push(format!("{case}[{i}] user {:?} != {u}: {line}", o.user));
                }
            }
            other if strict => t.misses.push(format!("{case}[{i}] {other:?}: {line}")),
            _ => {}
        }
    }
}

#[test]
fn crowdsec_hub_cases() {
    let Some(root) = corpora() else { return };
    let strict = [
        ("sshd-logs", Format::Sshd),
        ("sshd-invalid-bf", Format::Sshd),
        ("sshd-success-logs", Format::Sshd),
        ("sshd-bad-keyexchange-bf", Format::Sshd),
        ("sshd-logs-fp", Format::Sshd),
        ("sshd-impossible-travel", Format::Sshd),
        ("sshd-impossible-travel-user", Format::Sshd),
        ("sshd-refused-conn", Format::Sshd),
        ("ssh-timeout", Format::Sshd),
        ("opnsense-sshd", Format::Sshd),
        ("iptables-logs", Format::Netfilter),
        ("iptables-scan-multi-port", Format::Netfilter),
        ("proxmox-iptables-logs", Format::Netfilter),
        ("pf-logs", Format::Pf),
        ("pf-scan-multi-port", Format::Pf),
        ("pfsense-rfc5424-filterlog", Format::Pf),
        ("suricata-logs-evelog", Format::SuricataEve),
        ("suricata-eve-detect", Format::SuricataEve),
        ("dovecot-logs", Format::Dovecot),
    ];
    // CrowdSec's postfix parser reads every smtpd line; we only read SASL lines, so only
    // agreement (not coverage) is checked there.
    let lenient = [
        ("postfix-logs", Format::Postfix),
        ("postfix-sasl-bf", Format::Postfix),
    ];
    let mut t = Tally {
        checked: 0,
        misses: vec![],
    };
    for (case, f) in strict {
        crowdsec_case(&root, case, f, true, &mut t);
    }
    for (case, f) in lenient {
        crowdsec_case(&root, case, f, false, &mut t);
    }
    eprintln!(
        "crowdsec: {} lines checked, {} misses",
        t.checked,
        t.misses.len()
    );
    assert!(t.checked >= 60, "too few lines checked: {}", t.checked);
    assert!(t.misses.is_empty(), "misses:\n{}", t.misses.join("\n"));
}

/// Wazuh test lines: `log N pass = LINE` under `[section]` headers.
fn wazuh_lines(root: &Path, file: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root.join("wazuh-ruleset-tests").join(file)).unwrap();
    let mut section = String::new();
    let mut out = vec![];
    for l in text.lines() {
        if l.starts_with('[') {
            section = l.trim_matches(['[', ']']).to_string();
        } else if l.starts_with("log ")
            && let Some((_, line)) = l.split_once(" = ")
        {
            out.push((section.clone(), line.to_string()));
        }
    }
    out
}

#[test]
fn wazuh_firewall_lines() {
    let Some(root) = corpora() else { return };
    let ctx = ctx();
    // ASA/FTD/PIX: our message ids must give an observation with an address (except the
    // address-less 733100 threat-detection and 113004), all others a Skip, never Bad.
    const OURS: [&str; 20] = [
        "106001", "106006", "106007", "106014", "106015", "106023", "106100", "302013", "302014",
        "302015", "302016", "313001", "419002", "710003", "733100", "113004", "113015", "605004",
        "605005", "106010",
    ];
    let mut n_obs = 0;
    for file in ["cisco_asa.ini", "cisco_ftd.ini", "pix.ini"] {
        let mut p = parser_for(Format::CiscoAsa);
        for (sec, line) in wazuh_lines(&root, file) {
            let id = line.split(['%', ':']).find_map(|t| {
                t.rsplit('-')
                    .next()
                    .filter(|x| x.len() == 6 && x.bytes().all(|b| b.is_ascii_digit()))
            });
            match p.parse(&line, &ctx) {
                Parsed::Obs(o) => {
                    n_obs += 1;
                    let no_addr_ok = matches!(id, Some("733100" | "113004"));
                    assert!(
                        o.src.is_some() || no_addr_ok,
                        "{file} [{sec}] no src: {line}"
                    );
                }
                Parsed::Skip | Parsed::Stats(_) => assert!(
                    !id.is_some_and(|id| OURS[..19].contains(&id)),
                    "{file} [{sec}] skipped one of our ids: {line}"
                ),
                // Wazuh keeps templates (`192.168.1.59/port`) and masked addresses (`***`) beside real lines.
                Parsed::Bad(_)
                    if [
                        "/port",
                        "interface_name",
                        "{",
                        "source_address",
                        "source-address",
                        "source_port",
                        "dest_address",
                        "***",
                    ]
                    .iter()
                    .any(|t| line.contains(t)) => {}
                Parsed::Bad(why) => {
                    let ours = id.is_some_and(|id| OURS.contains(&id));
                    assert!(!ours, "{file} [{sec}] refused ({why}): {line}");
                }
            }
        }
    }
    assert!(n_obs >= 5, "only {n_obs} ASA observations");
    for (file, format) in [
        ("iptables.ini", Format::Netfilter),
        ("pfsense.ini", Format::Pf),
    ] {
        let mut p = parser_for(format);
        let lines = wazuh_lines(&root, file);
        let mut obs = 0;
        for (sec, line) in &lines {
            match p.parse(line, &ctx) {
                Parsed::Obs(o) => {
                    assert!(o.src.is_some() && o.dst.is_some(), "{file} [{sec}]: {line}");
                    obs += 1;
                }
                Parsed::Skip | Parsed::Stats(_) => {}
                Parsed::Bad(why) => panic!("{file} [{sec}] refused ({why}): {line}"),
            }
        }
        eprintln!("wazuh {file}: {obs}/{} observations", lines.len());
        assert!(obs * 10 >= lines.len() * 9, "{file}: {obs}/{}", lines.len());
    }
}

#[test]
fn wazuh_auth_lines() {
    let Some(root) = corpora() else { return };
    let ctx = ctx();
    let mut p = parser_for(Format::Sshd);
    let mut obs = 0;
    let lines = wazuh_lines(&root, "sshd.ini");
    for (sec, line) in &lines {
        match p.parse(line, &ctx) {
            Parsed::Obs(_) => obs += 1,
            Parsed::Skip | Parsed::Stats(_) => {
                let attempt = ["Failed password", "Invalid user", "Accepted "]
                    .iter()
                    .any(|m| line.contains(m));
                assert!(
                    !attempt || !line.contains(" from "),
                    "[{sec}] skipped attempt: {line}"
                );
            }
            // Wazuh anonymises some addresses (`183.106.179.x`): refusing them is right.
            Parsed::Bad(_) if line.contains(".x ") => {}
            Parsed::Bad(why) => panic!("sshd.ini [{sec}] refused ({why}): {line}"),
        }
    }
    eprintln!("wazuh sshd.ini: {obs}/{} observations", lines.len());
    let mut p = parser_for(Format::Dovecot);
    for (sec, line) in wazuh_lines(&root, "dovecot.ini") {
        if let Parsed::Bad(why) = p.parse(&line, &ctx) {
            panic!("dovecot.ini [{sec}] refused ({why}): {line}");
        }
    }
}

#[test]
fn loghub_openssh_2k() {
    let Some(root) = corpora() else { return };
    let text = std::fs::read_to_string(root.join("loghub/OpenSSH/OpenSSH_2k.log")).unwrap();
    let csv =
        std::fs::read_to_string(root.join("loghub/OpenSSH/OpenSSH_2k.log_structured.csv")).unwrap();
    // Event ids per line (column 8 of the structured CSV; the content column may hold commas,
    // so take the second-to-last field after a right split).
    let events: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').nth(1).unwrap_or(""))
        .collect();
    let ctx = ParseContext::new(TimeZone::UTC, "2017-12-20T00:00:00Z".parse().unwrap());
    let mut p = parser_for(Format::Sshd);
    let (mut total, mut obs, mut bad) = (0, 0, 0);
    for (i, line) in text.lines().enumerate() {
        total += 1;
        let ev = events.get(i).copied().unwrap_or("");
        match p.parse(line, &ctx) {
            Parsed::Obs(o) => {
                obs += 1;
                assert!(o.src.is_some(), "no src: {line}");
                let kind = o.kind.as_str();
                match ev {
                    "E9" | "E10" | "E8" | "E14" => assert_eq!(kind, "auth_failure", "{line}"),
                    "E13" => assert_eq!(kind, "auth_invalid_user", "{line}"),
                    "E1" => assert_eq!(kind, "auth_success", "{line}"),
                    _ => {}
                }
            }
            Parsed::Skip | Parsed::Stats(_) => {
                // Every login attempt template must be read.
                assert!(
                    !matches!(ev, "E1" | "E8" | "E9" | "E10" | "E13" | "E14"),
                    "{ev} skipped: {line}"
                );
            }
            Parsed::Bad(why) => {
                bad += 1;
                eprintln!("refused ({why}): {line}");
            }
        }
    }
    let share = obs as f64 / total as f64;
    eprintln!(
        "loghub OpenSSH: {obs}/{total} lines give an observation ({:.1}%), {bad} refused",
        share * 100.0
    );
    assert_eq!(bad, 0);
    assert!(share > 0.75, "share {share}");
}
