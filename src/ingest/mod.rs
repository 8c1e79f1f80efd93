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
pub fn config_problems(cfg: &Config) -> Vec<ConfigProblem> {
    cfg.sources
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let expr = s.bpf.as_deref()?;
            let why = pcap_file::check_bpf(expr).err()?;
            Some(ConfigProblem::new(
                format!("sources[{i}].bpf"),
                format!("not a valid capture filter: {why}"),
            ))
        })
        .collect()
}
