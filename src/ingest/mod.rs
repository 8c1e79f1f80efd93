//! Sources: file tail (rotation, persisted offsets), stdin, syslog receiver, packet capture (live via `pcap`,
//! offline files). The only module that links libpcap. Sources produce bytes or observations;
//! they never parse, decide or write to the store.
pub mod file_tail;
pub mod gzip_members;
pub mod pcap_file;
pub mod pcap_live;
pub mod syslog;

use crate::config::{Config, ConfigProblem};

/// Config problems only libpcap can find: capture filters that do not compile. (`config`
/// validates everything else but must not link libpcap.) Checked by `check-config` and before
/// any verb starts its sources.
///
/// A filter is compiled for the framing it will meet: a capture file's own (read from its
/// header; `vlan` or `ether host` do not compile for raw IP), a live interface's as far as it
/// can be known without opening it (`pcap_live::link_type`: `any` is Linux cooked, a tun
/// device raw IP), else Ethernet. A filter that does not compile for the framing found at
/// start stops that source then, naming the filter.
pub fn config_problems(cfg: &Config) -> Vec<ConfigProblem> {
    cfg.sources
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let expr = s.bpf.as_deref()?;
            // What the filter will read from, and its framing, when that is known now.
            let known = match s.kind {
                crate::config::SourceKind::PcapFile => s.path.as_deref().and_then(|p| {
                    Some((
                        p.to_string(),
                        pcap_file::link_type(std::path::Path::new(p))?,
                    ))
                }),
                crate::config::SourceKind::Pcap => s
                    .interface
                    .as_deref()
                    .and_then(|n| Some((format!("interface {n}"), pcap_live::link_type(n)?))),
                _ => None,
            };
            let link = known
                .as_ref()
                .map_or(crate::flow::LinkType::Ethernet, |(_, l)| *l);
            let why = pcap_file::check_bpf(expr, link).err()?;
            let what = match known {
                Some((what, l)) => format!(
                    "not a valid capture filter for {what}, a {} capture: {why}",
                    l.name()
                ),
                None => format!("not a valid capture filter: {why}"),
            };
            Some(ConfigProblem::new(format!("sources[{i}].bpf"), what))
        })
        .collect()
}
