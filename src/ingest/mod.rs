//! Sources: file tail (rotation, persisted offsets), stdin, syslog receiver, packet capture (live via `pcap`,
//! offline files). The only module that links libpcap. Sources produce bytes or observations;
//! they never parse, decide or write to the store.
pub mod file_tail;
pub mod pcap_file;
pub mod pcap_live;
pub mod syslog;
