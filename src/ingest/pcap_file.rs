//! Offline packet captures: pcap and pcapng files, or `-` for standard input, read with
//! libpcap. Each frame is handed to a callback with its timestamp and link type; nothing is
//! copied or allocated per packet (the frame borrows libpcap's buffer).
//!
//! Owns file reading only; decoding and flow tracking are `crate::flow`'s.

use crate::flow::{FlowEngine, LinkType};
use crate::model::Observation;
use jiff::Timestamp;
use std::path::{Path, PathBuf};

/// Errors reading a capture file.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("cannot open capture {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: pcap::Error,
    },
    #[error("cannot read standard input as a capture: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("capture {path} has link type {dlt} ({name}), which cordon does not decode")]
    UnsupportedLink {
        path: PathBuf,
        dlt: i32,
        name: String,
    },
    #[error("reading capture {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: pcap::Error,
    },
    #[error("cannot start the capture thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("live capture on {interface}: {source}")]
    Live {
        interface: String,
        #[source]
        source: pcap::Error,
    },
}

/// What a read handed on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PcapCounts {
    /// Frames read.
    pub packets: u64,
    /// Captured bytes (after snap length).
    pub bytes: u64,
    /// Frames whose timestamp was out of range (skipped).
    pub bad_time: u64,
}

/// A libpcap timestamp as a jiff timestamp; `None` when out of range.
pub(crate) fn timestamp(sec: i64, usec: i64) -> Option<Timestamp> {
    let nanos = i32::try_from(usec.clamp(0, 999_999) * 1000).ok()?;
    Timestamp::new(sec, nanos).ok()
}

/// Open a capture file, or standard input for `-`.
fn open(path: &Path) -> Result<pcap::Capture<pcap::Offline>, PcapError> {
    if path == Path::new("-") {
        use std::os::fd::{AsFd, IntoRawFd};
        let fd = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(PcapError::Stdin)?
            .into_raw_fd();
        // SAFETY: `fd` is a fresh duplicate of stdin that nothing else owns; libpcap takes
        // ownership (fdopen + fclose on drop).
        unsafe { pcap::Capture::from_raw_fd(fd) }.map_err(|source| PcapError::Open {
            path: path.to_path_buf(),
            source,
        })
    } else {
        pcap::Capture::from_file(path).map_err(|source| PcapError::Open {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Read every frame of `path` (`-` = stdin) and hand it to `on_frame(ts, link, frame)`.
pub fn read_pcap(
    path: &Path,
    mut on_frame: impl FnMut(Timestamp, LinkType, &[u8]),
) -> Result<PcapCounts, PcapError> {
    let mut cap = open(path)?;
    let dl = cap.get_datalink();
    let link = LinkType::from_dlt(dl.0).ok_or_else(|| PcapError::UnsupportedLink {
        path: path.to_path_buf(),
        dlt: dl.0,
        name: dl.get_name().unwrap_or_else(|_| "unknown".into()),
    })?;
    let mut counts = PcapCounts::default();
    loop {
        match cap.next_packet() {
            Ok(pkt) => {
                counts.packets += 1;
                counts.bytes += pkt.data.len() as u64;
                let t = &pkt.header.ts;
                match timestamp(t.tv_sec, t.tv_usec) {
                    Some(ts) => on_frame(ts, link, pkt.data),
                    None => counts.bad_time += 1,
                }
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(source) => {
                return Err(PcapError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(counts)
}

/// Run every frame of `path` through `engine`, handing observations to `on_obs`. Does not call
/// [`FlowEngine::finish`], so several files can be replayed as one stream; call it at the end.
pub fn replay_pcap(
    path: &Path,
    engine: &mut FlowEngine,
    mut on_obs: impl FnMut(&Observation<'static>),
) -> Result<PcapCounts, PcapError> {
    read_pcap(path, |ts, link, frame| {
        engine.packet(ts, link, frame, &mut on_obs)
    })
}
