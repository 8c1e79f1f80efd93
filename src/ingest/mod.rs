//! Sources: file tail (rotation, persisted offsets), stdin, syslog receiver, packet capture (live via `pcap`,
//! offline files). The only module that links libpcap. Sources produce bytes or observations;
//! they never parse, decide or write to the store.
pub mod file_tail;
pub mod pcap_file;
pub mod pcap_live;
pub mod syslog;

use crate::config::{Config, ConfigProblem};

/// Config problems only libpcap can find: capture filters that do not compile. (`config`
/// validates everything else but must not link libpcap.) Checked by `check-config` and before
/// any verb starts its sources.
///
/// A filter is compiled for the framing it will meet: a capture file's own (read from its
/// header; `vlan` or `ether host` do not compile for raw IP), else Ethernet. A live
/// interface's framing is known only once it is opened, which may need privileges that
/// `check-config` lacks; a filter that does not compile for it stops that source at start,
/// naming the filter.
pub fn config_problems(cfg: &Config) -> Vec<ConfigProblem> {
    cfg.sources
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let expr = s.bpf.as_deref()?;
            // The capture file and its framing, when the header can be read now.
            let file = match s.kind {
                crate::config::SourceKind::PcapFile => s
                    .path
                    .as_deref()
                    .and_then(|p| Some((p, pcap_file::link_type(std::path::Path::new(p))?))),
                _ => None,
            };
            let link = file.map_or(crate::flow::LinkType::Ethernet, |(_, l)| l);
            let why = pcap_file::check_bpf(expr, link).err()?;
            let what = match file {
                Some((path, l)) => format!(
                    "not a valid capture filter for {path}, a {} capture: {why}",
                    l.name()
                ),
                None => format!("not a valid capture filter: {why}"),
            };
            Some(ConfigProblem::new(format!("sources[{i}].bpf"), what))
        })
        .collect()
}
