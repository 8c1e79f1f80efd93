//! ingest (to be built).
pub mod pcap_file;
pub mod pcap_live;
pub mod file_tail;
