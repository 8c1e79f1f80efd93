//! ingest (to be built).
pub mod file_tail;
pub mod pcap_file;
pub mod pcap_live;
pub mod file_tail;
