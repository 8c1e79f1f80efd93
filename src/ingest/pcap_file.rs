//! Offline packet captures: pcap and pcapng files, gzipped or not (`tcpdump -z gzip`), or `-`
//! for standard input, read with libpcap. Each frame is handed to a callback with its
//! timestamp and link type; nothing is copied or allocated per packet (the frame borrows
//! libpcap's buffer).
//!
//! Owns file reading only; decoding and flow tracking are `crate::flow`'s.

use super::gzip_members::GzipMembers;
use crate::flow::batch::{BatchSink, Batcher};
use crate::flow::{FlowEngine, FlowSettings, FlowStats, LinkType};
use crate::model::Observation;
use jiff::Timestamp;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Errors reading a capture file. Each message carries its cause, and none is also given
/// as `source()`: they are logged with their `Display` (`error = %e`) and reported with
/// anyhow's `{:#}`, which prints the source chain after the message and would repeat it.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("cannot open capture {path}: {cause}")]
    Open { path: PathBuf, cause: pcap::Error },
    #[error("cannot read standard input as a capture: {0}")]
    Stdin(std::io::Error),
    #[error("capture {path} has link type {dlt} ({name}), which cordon does not decode")]
    UnsupportedLink {
        path: PathBuf,
        dlt: i32,
        name: String,
    },
    #[error("reading capture {path}: {cause}")]
    Read { path: PathBuf, cause: pcap::Error },
    #[error("reading capture {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is gzipped but holds no pcap or pcapng capture")]
    NotACapture { path: PathBuf },
    #[error("decompressing capture {path}: {cause}")]
    Gzip {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("capture {path} is corrupt: record of {len} bytes at offset {offset}")]
    Corrupt {
        path: PathBuf,
        len: u32,
        offset: u64,
    },
    #[error("capture filter {filter:?}: {cause}")]
    Filter { filter: String, cause: pcap::Error },
    #[error("cannot start the capture thread: {0}")]
    Thread(std::io::Error),
    #[error("live capture on {interface}: {cause}")]
    Live {
        interface: String,
        cause: pcap::Error,
    },
}

impl PcapError {
    /// Does the message name the capture file? A caller reporting the error names the file
    /// itself when it does not.
    pub fn names_file(&self) -> bool {
        !matches!(
            self,
            PcapError::Stdin(_)
                | PcapError::Filter { .. }
                | PcapError::Thread(_)
                | PcapError::Live { .. }
        )
    }
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

/// An open capture, and the thread decompressing it if it is gzipped.
struct Opened {
    cap: pcap::Capture<pcap::Offline>,
    gunzip: Option<std::thread::JoinHandle<std::io::Result<u64>>>,
}

impl Opened {
    /// Close the capture and report how its decompression went: a gzip error is the cause of
    /// whatever libpcap made of the cut-short stream, so it is reported instead. `read` is
    /// `Ok(true)` when the reader stopped early on purpose: what the rest of the file holds
    /// does not matter then.
    fn close(self, path: &Path, read: Result<bool, pcap::Error>) -> Result<(), PcapError> {
        // Closing the pipe's read end first lets a decompressor still writing (the read
        // stopped early) fail and finish, so the join cannot wait forever.
        drop(self.cap);
        let stopped = matches!(read, Ok(true));
        let gunzip = match self.gunzip.map(std::thread::JoinHandle::join) {
            _ if stopped => Ok(()),
            Some(Ok(Err(e))) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
            Some(Err(_)) => Err(std::io::Error::other("the decompression thread panicked")),
            _ => Ok(()),
        };
        gunzip.map_err(|cause| PcapError::Gzip {
            path: path.to_path_buf(),
            cause,
        })?;
        read.map(drop).map_err(|cause| PcapError::Read {
            path: path.to_path_buf(),
            cause,
        })
    }
}

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Does the regular file at `path` start with [`GZIP_MAGIC`]? (Anything else, a FIFO
/// included, is read as it is: looking would consume the bytes.)
pub fn is_gzip(path: &Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut magic = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == GZIP_MAGIC
}

/// Open a capture file (decompressing it on a thread if it is gzipped), or standard input
/// for `-`.
fn open(path: &Path) -> Result<Opened, PcapError> {
    if is_gzip(path) {
        return open_gzip(path);
    }
    let cap = if path == Path::new("-") {
        use std::os::fd::{AsFd, IntoRawFd};
        let fd = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(PcapError::Stdin)?
            .into_raw_fd();
        // SAFETY: `fd` is a fresh duplicate of stdin that nothing else owns; libpcap takes
        // ownership (fdopen + fclose on drop).
        unsafe { pcap::Capture::from_raw_fd(fd) }.map_err(|cause| PcapError::Open {
            path: path.to_path_buf(),
            cause,
        })
    } else {
        pcap::Capture::from_file(path).map_err(|cause| PcapError::Open {
            path: path.to_path_buf(),
            cause,
        })
    }?;
    Ok(Opened { cap, gunzip: None })
}

/// Decompressed bytes read before libpcap opens the pipe: enough for any capture header,
/// and no more than one page, so writing them cannot block on a pipe that may hold only
/// that (Linux shrinks new pipes to one page for a user over `pipe-user-pages-soft`).
const GZIP_HEAD: usize = 4096;

/// libpcap reads a `FILE *`; a gzipped capture reaches it through a pipe that a thread fills
/// with the decompressed stream (all gzip members, as `zcat` does). The start is decompressed
/// here first, so a broken gzip stream or one that holds no capture is reported at once, by
/// name, and libpcap only ever opens a capture.
fn open_gzip(path: &Path) -> Result<Opened, PcapError> {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let io = |cause| PcapError::Io {
        path: path.to_path_buf(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut z = GzipMembers::of_file(file);
    let mut head = Vec::with_capacity(GZIP_HEAD);
    (&mut z)
        .take(GZIP_HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|cause| PcapError::Gzip {
            path: path.to_path_buf(),
            cause,
        })?;
    if !head
        .first_chunk::<4>()
        .is_some_and(|m| is_capture_magic(*m))
    {
        return Err(PcapError::NotACapture {
            path: path.to_path_buf(),
        });
    }
    let (rx, mut tx) = std::io::pipe().map_err(io)?;
    tx.write_all(&head).map_err(io)?;
    let gunzip = std::thread::Builder::new()
        .name("cordon-gunzip".into())
        .spawn(move || std::io::copy(&mut z, &mut tx))
        .map_err(PcapError::Thread)?;
    // libpcap opens the pipe by name, so the descriptor it reads is its own: it closes it
    // when it rejects the stream, as it does not close one it was handed. Ours is closed
    // either way, so a rejected stream leaves no reader and the thread ends at its next write.
    let by_name = format!("/proc/self/fd/{}", rx.as_raw_fd());
    let cap = pcap::Capture::from_file(&by_name);
    drop(rx);
    match cap {
        Ok(cap) => Ok(Opened {
            cap,
            gunzip: Some(gunzip),
        }),
        Err(cause) => {
            let _ = gunzip.join();
            Err(PcapError::Open {
                path: path.to_path_buf(),
                cause,
            })
        }
    }
}

/// Does a file starting with `magic` hold a pcap or pcapng capture (either byte order,
/// micro- or nanosecond stamps)?
pub fn is_capture_magic(magic: [u8; 4]) -> bool {
    const PCAP: [u32; 2] = [0xa1b2_c3d4, 0xa1b2_3c4d];
    const PCAPNG: u32 = 0x0a0d_0d0a;
    let (le, be) = (u32::from_le_bytes(magic), u32::from_be_bytes(magic));
    PCAP.contains(&le) || PCAP.contains(&be) || le == PCAPNG
}

/// Does the regular file at `path` hold a capture, gzipped or not (by its first bytes)?
pub fn holds_capture(path: &Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| {
        f.read_exact(&mut magic)?;
        if magic[..2] == GZIP_MAGIC {
            // The bytes already read go back in front of the rest for the decoder.
            let whole = std::io::Cursor::new(magic).chain(f);
            GzipMembers::new(std::io::BufReader::new(whole)).read_exact(&mut magic)?;
        }
        Ok(())
    });
    read.is_ok() && is_capture_magic(magic)
}

/// Read every frame of `path` (`-` = stdin) and hand it to `on_frame(ts, link, frame)`.
///
/// Classic pcap files (either byte order, micro- or nanosecond stamps) are read by our own
/// record walker over a reusable 320 KiB buffer: libpcap's offline reader does two `fread`s and
/// a copy per packet, which costs more than all of flow tracking. pcapng files, standard input
/// and anything unusual go through libpcap.
pub fn read_pcap(
    path: &Path,
    mut on_frame: impl FnMut(Timestamp, LinkType, &[u8]),
) -> Result<PcapCounts, PcapError> {
    read_pcap_until(path, |ts, link, frame| {
        on_frame(ts, link, frame);
        ControlFlow::Continue(())
    })
}

/// [`read_pcap`], stopping early (with the counts so far) when `on_frame` says `Break`.
pub fn read_pcap_until(
    path: &Path,
    mut on_frame: impl FnMut(Timestamp, LinkType, &[u8]) -> ControlFlow<()>,
) -> Result<PcapCounts, PcapError> {
    read_frames(path, |ts, link, frame, _| on_frame(ts, link, frame))
}

/// [`read_pcap_until`], also handing on each frame's length on the wire (its length before
/// the snap length cut it), which capture filters need for `len`, `greater` and `less`.
fn read_frames(
    path: &Path,
    mut on_frame: impl FnMut(Timestamp, LinkType, &[u8], u32) -> ControlFlow<()>,
) -> Result<PcapCounts, PcapError> {
    if path != Path::new("-")
        && let Some(r) = fast::read(path, &mut on_frame)
    {
        return r;
    }
    let mut opened = open(path)?;
    let cap = &mut opened.cap;
    let dl = cap.get_datalink();
    let link = LinkType::from_dlt(dl.0).ok_or_else(|| PcapError::UnsupportedLink {
        path: path.to_path_buf(),
        dlt: dl.0,
        name: dl.get_name().unwrap_or_else(|_| "unknown".into()),
    })?;
    let mut counts = PcapCounts::default();
    let read = loop {
        match cap.next_packet() {
            Ok(pkt) => {
                counts.packets += 1;
                counts.bytes += pkt.data.len() as u64;
                let t = &pkt.header.ts;
                match timestamp(t.tv_sec, t.tv_usec) {
                    Some(ts) => {
                        if on_frame(ts, link, pkt.data, pkt.header.len).is_break() {
                            break Ok(true);
                        }
                    }
                    None => counts.bad_time += 1,
                }
            }
            Err(pcap::Error::NoMorePackets) => break Ok(false),
            Err(cause) => break Err(cause),
        }
    };
    opened.close(path, read).map(|()| counts)
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

/// A BPF filter (`tcpdump` syntax) applied to a capture file's frames before they reach the
/// flow engine, as libpcap applies a live capture's in the kernel. Compiled with libpcap for
/// the file's link type at its first frame.
pub struct FrameFilter {
    expr: String,
    compiled: Option<(LinkType, pcap::BpfProgram)>,
}

impl FrameFilter {
    pub fn new(expr: &str) -> FrameFilter {
        FrameFilter {
            expr: expr.to_string(),
            compiled: None,
        }
    }

    /// Does `frame`, `wire_len` bytes long on the wire (at least the frame's own length is
    /// assumed), pass the filter?
    pub fn matches(
        &mut self,
        link: LinkType,
        frame: &[u8],
        wire_len: u32,
    ) -> Result<bool, PcapError> {
        let program = match &self.compiled {
            Some((l, p)) if *l == link => p,
            _ => {
                let p = compile_bpf(&self.expr, link).map_err(|cause| PcapError::Filter {
                    filter: self.expr.clone(),
                    cause,
                })?;
                &self.compiled.insert((link, p)).1
            }
        };
        Ok(run_filter(program, frame, wire_len))
    }
}

// libpcap's filter interpreter. `pcap::BpfProgram::filter` takes the captured length as the
// length on the wire, which breaks `len`, `greater` and `less` on a capture cut by its snap
// length; this takes both.
unsafe extern "C" {
    fn bpf_filter(
        program: *const pcap::BpfInstruction,
        packet: *const u8,
        wire_len: std::ffi::c_uint,
        captured_len: std::ffi::c_uint,
    ) -> std::ffi::c_uint;
}

fn run_filter(program: &pcap::BpfProgram, frame: &[u8], wire_len: u32) -> bool {
    let insns = program.get_instructions();
    let captured = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    // SAFETY: `insns` is a whole, non-empty program from libpcap's own code generator
    // (`pcap_compile` emits only forward jumps within the program and in-range scratch
    // indices), alive for the call (`BpfInstruction` is `repr(transparent)` over libpcap's
    // `struct bpf_insn`); `frame` is valid for `captured` bytes, and the interpreter checks
    // every packet load against that length (reading past it rejects the packet), so no read
    // leaves the slice.
    unsafe {
        bpf_filter(
            insns.as_ptr(),
            frame.as_ptr(),
            wire_len.max(captured),
            captured,
        ) != 0
    }
}

fn compile_bpf(expr: &str, link: LinkType) -> Result<pcap::BpfProgram, pcap::Error> {
    pcap::Capture::dead(pcap::Linktype(link.dlt()))?.compile(expr, true)
}

/// Does `expr` compile as a capture filter for `link`? libpcap's message when it does not.
pub fn check_bpf(expr: &str, link: LinkType) -> Result<(), String> {
    compile_bpf(expr, link).map(drop).map_err(|e| e.to_string())
}

/// The framing of the capture file at `path`, read from its header (pcap or pcapng). `None`
/// when it is not a regular file (standard input, a FIFO a capture is still being written
/// into: opening would wait for the writer), cannot be opened yet, or uses a framing cordon
/// does not decode (reading it reports that).
pub fn link_type(path: &Path) -> Option<LinkType> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    LinkType::from_dlt(open(path).ok()?.cap.get_datalink().0)
}

/// Run `path` through a fresh flow engine on the calling thread and hand its observations on in
/// batches (the engine is finished at the end, so open flows are summarized). This is how a
/// capture file meets the detectors in `cordon run` and `cordon replay`: the reader thread
/// decodes and tracks flows while another thread runs the detectors on the previous batch
/// (a replay on one core calls it on the detector thread, with a sink that runs them).
///
/// `filter`, if any, drops frames before the engine (they are not counted as packets).
/// `progress` sees the engine's counters every 65,536 frames and at the end. A sink that
/// reports its consumer gone stops the read. A read error (a corrupt record, say) still
/// finishes the engine first, so the flows read up to it are judged and summarized; then the
/// error is returned.
pub fn flow_batches<S>(
    path: &Path,
    settings: &FlowSettings,
    mut filter: Option<FrameFilter>,
    sink: S,
    mut progress: impl FnMut(FlowStats),
) -> Result<PcapCounts, PcapError>
where
    S: BatchSink,
{
    let mut engine = FlowEngine::new(settings);
    let mut batcher = Batcher::new(sink);
    let mut frames = 0u64;
    let mut filter_error = None;
    let mut track = |ts: Timestamp, link: LinkType, frame: &[u8]| {
        engine.packet_ahead(ts, link, frame, &mut |o| batcher.push(o));
        frames += 1;
        if frames.is_multiple_of(1 << 16) {
            engine.drain(&mut |o| batcher.push(o));
            progress(engine.stats());
        }
        // Only a push can close the batcher, so this is the one place to look.
        if batcher.is_closed() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    // Without a filter the read loop is the plain one: only a filter needs the wire length,
    // and carrying it through the unfiltered loop cost 2 % more instructions per replay
    // (callgrind).
    let r = match &mut filter {
        None => read_pcap_until(path, &mut track),
        Some(f) => read_frames(path, |ts, link, frame, wire_len| {
            match f.matches(link, frame, wire_len) {
                Ok(true) => track(ts, link, frame),
                Ok(false) => ControlFlow::Continue(()),
                Err(e) => {
                    filter_error = Some(e);
                    ControlFlow::Break(())
                }
            }
        }),
    };
    engine.finish(&mut |o| batcher.push(o));
    batcher.flush();
    progress(engine.stats());
    match filter_error {
        Some(e) => Err(e),
        None => r,
    }
}

/// The classic-pcap fast path.
mod fast {
    use super::{PcapCounts, PcapError, timestamp};
    use crate::flow::LinkType;
    use jiff::Timestamp;
    use std::io::Read;
    use std::ops::ControlFlow;
    use std::path::Path;

    /// Small enough that a block read lands in L2 and is parsed from there; large enough for
    /// the largest record and its header (a partial record is moved to the front before each
    /// read, so there is always room to complete it).
    const BUF: usize = 320 << 10;
    /// Larger records mean a corrupt file (libpcap's own limit is 256 KiB).
    const MAX_RECORD: u32 = 262_144;
    const _: () = assert!(BUF >= 16 + MAX_RECORD as usize);

    /// `None` when the file is not a classic pcap we handle (let libpcap try it).
    pub(super) fn read(
        path: &Path,
        on_frame: &mut impl FnMut(Timestamp, LinkType, &[u8], u32) -> ControlFlow<()>,
    ) -> Option<Result<PcapCounts, PcapError>> {
        let mut f = std::fs::File::open(path).ok()?;
        let mut hdr = [0u8; 24];
        f.read_exact(&mut hdr).ok()?;
        let magic = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let (le, nanos) = match magic {
            0xa1b2_c3d4 => (true, false),
            0xa1b2_3c4d => (true, true),
            0xd4c3_b2a1 => (false, false),
            0x4d3c_b2a1 => (false, true),
            _ => return None,
        };
        let u32_at = |b: &[u8], i: usize| {
            let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
            if le {
                u32::from_le_bytes(w)
            } else {
                u32::from_be_bytes(w)
            }
        };
        // The low 16 bits are the link type; the upper bits carry FCS flags.
        let link = LinkType::from_dlt((u32_at(&hdr, 20) & 0xffff) as i32)?;
        Some(walk(path, f, le, nanos, link, on_frame))
    }

    fn walk(
        path: &Path,
        mut f: std::fs::File,
        le: bool,
        nanos: bool,
        link: LinkType,
        on_frame: &mut impl FnMut(Timestamp, LinkType, &[u8], u32) -> ControlFlow<()>,
    ) -> Result<PcapCounts, PcapError> {
        let io = |cause| PcapError::Io {
            path: path.to_path_buf(),
            cause,
        };
        let rd = |b: &[u8], i: usize| {
            let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
            if le {
                u32::from_le_bytes(w)
            } else {
                u32::from_be_bytes(w)
            }
        };
        let mut buf = vec![0u8; BUF];
        let (mut start, mut end) = (0usize, 0usize);
        let mut offset = 24u64;
        let mut counts = PcapCounts::default();
        loop {
            // Walk every complete record in buf[start..end].
            while end - start >= 16 {
                let h = &buf[start..start + 16];
                let incl = rd(h, 8);
                if incl > MAX_RECORD {
                    return Err(PcapError::Corrupt {
                        path: path.to_path_buf(),
                        len: incl,
                        offset,
                    });
                }
                let need = 16 + incl as usize;
                if end - start < need {
                    break;
                }
                let sec = i64::from(rd(h, 0));
                let frac = i64::from(rd(h, 4));
                let ts = if nanos {
                    Timestamp::new(sec, frac.clamp(0, 999_999_999) as i32).ok()
                } else {
                    timestamp(sec, frac)
                };
                counts.packets += 1;
                counts.bytes += u64::from(incl);
                match ts {
                    Some(ts) => {
                        let frame = &buf[start + 16..start + need];
                        if on_frame(ts, link, frame, rd(h, 12)).is_break() {
                            return Ok(counts);
                        }
                    }
                    None => counts.bad_time += 1,
                }
                start += need;
                offset += need as u64;
            }
            // Keep the partial record, refill behind it.
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            let n = loop {
                match f.read(&mut buf[end..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io(e)),
                }
            };
            if n == 0 {
                // A truncated last record is dropped, as libpcap does (with a warning).
                if end > 0 {
                    tracing::warn!(path = %path.display(), bytes = end, "capture ends in a truncated record");
                }
                return Ok(counts);
            }
            end += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A little-endian microsecond pcap (Ethernet) of the given records: the captured length
    /// and the length on the wire its header claims, and the bytes that follow it.
    fn pcap_of(records: &[(u32, u32, &[u8])]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        b.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&262_144u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        for (i, &(captured, wire, data)) in records.iter().enumerate() {
            b.extend_from_slice(&1_800_000_000u32.to_le_bytes());
            b.extend_from_slice(&(i as u32).to_le_bytes());
            b.extend_from_slice(&captured.to_le_bytes());
            b.extend_from_slice(&wire.to_le_bytes());
            b.extend_from_slice(data);
        }
        f.write_all(&b).unwrap();
        f
    }

    /// A pcap of whole records of the given lengths (at most 300,000 bytes of each follow).
    fn pcap_with(lens: &[u32]) -> tempfile::NamedTempFile {
        let data: Vec<Vec<u8>> = lens
            .iter()
            .map(|&len| vec![0xab; len.min(300_000) as usize])
            .collect();
        let records: Vec<_> = lens
            .iter()
            .zip(&data)
            .map(|(&len, d)| (len, len, d.as_slice()))
            .collect();
        pcap_of(&records)
    }

    /// A minimal IPv4/UDP packet (no link header).
    fn ipv4_udp() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 8, 0, 0]);
        p
    }

    /// BSD loopback framings differ only in the byte order of the address family: host order
    /// for DLT_NULL, network order for DLT_LOOP (OpenBSD). A filter compiled for the wrong one
    /// reads the family backwards and drops every IP packet (on a little-endian host).
    #[test]
    fn loopback_filters_read_the_family_in_their_own_byte_order() {
        for (dlt, af) in [(0, 2u32.to_ne_bytes()), (108, 2u32.to_be_bytes())] {
            let link = LinkType::from_dlt(dlt).unwrap();
            assert_eq!(link.dlt(), dlt);
            let mut frame = af.to_vec();
            frame.extend_from_slice(&ipv4_udp());
            assert!(
                crate::flow::decode::decode(link, &frame).is_ok(),
                "DLT {dlt}"
            );
            let mut f = FrameFilter::new("ip and udp port 53");
            assert!(
                f.matches(link, &frame, frame.len() as u32).unwrap(),
                "DLT {dlt}: filter dropped IPv4"
            );
            let mut f = FrameFilter::new("ip6");
            assert!(
                !f.matches(link, &frame, frame.len() as u32).unwrap(),
                "DLT {dlt}: IPv4 passed ip6"
            );
        }
    }

    #[test]
    fn the_largest_record_fits_between_small_ones() {
        let f = pcap_with(&[60, 262_144, 60, 262_144, 1500]);
        let mut lens = Vec::new();
        let c = read_pcap(f.path(), |_, _, frame| lens.push(frame.len())).unwrap();
        assert_eq!(lens, [60, 262_144, 60, 262_144, 1500]);
        assert_eq!(c.packets, 5);
    }

    #[test]
    fn records_cut_at_block_boundaries_are_carried_over() {
        // Lengths that put record starts, headers and bodies across the block boundaries.
        let lens: Vec<u32> = (0..4000u32).map(|i| (i * 7919) % 1700).collect();
        let f = pcap_with(&lens);
        let mut got = Vec::new();
        let c = read_pcap(f.path(), |ts, _, frame| {
            got.push((ts.subsec_microsecond(), frame.len() as u32))
        })
        .unwrap();
        let want: Vec<(i32, u32)> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| (i as i32, l))
            .collect();
        assert_eq!(got, want);
        assert_eq!(c.packets, 4000);
    }

    /// Length primitives (`len`, `greater`, `less`) see a frame's length on the wire, not what
    /// a snap length left of it: a 1,500-byte packet captured as its first 42 bytes is still
    /// "greater 1000".
    #[test]
    fn capture_filters_see_the_length_on_the_wire() {
        let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
        frame.extend_from_slice(&ipv4_udp());
        let mut f = FrameFilter::new("greater 1000");
        assert!(f.matches(LinkType::Ethernet, &frame, 1500).unwrap());
        assert!(
            !f.matches(LinkType::Ethernet, &frame, frame.len() as u32)
                .unwrap()
        );
        // A wire length below the captured one (a corrupt record) counts as the captured one.
        let mut f = FrameFilter::new("len >= 42");
        assert!(f.matches(LinkType::Ethernet, &frame, 0).unwrap());

        // From a file: the record says 42 bytes captured of 1,500.
        let file = pcap_of(&[(frame.len() as u32, 1500, &frame)]);
        let tracked = |expr: &str| {
            let mut packets = 0;
            flow_batches(
                file.path(),
                &FlowSettings::default(),
                Some(FrameFilter::new(expr)),
                |_| Ok(None),
                |s| packets = s.packets,
            )
            .unwrap();
            packets
        };
        assert_eq!(tracked("greater 1000"), 1);
        assert_eq!(tracked("less 100"), 0);
    }

    #[test]
    fn a_truncated_last_record_is_dropped() {
        let f = pcap_with(&[60, 1500]);
        let len = std::fs::metadata(f.path()).unwrap().len();
        f.as_file().set_len(len - 100).unwrap();
        let c = read_pcap(f.path(), |_, _, _| {}).unwrap();
        assert_eq!(c.packets, 1);
    }

    #[test]
    fn an_oversized_record_is_a_clear_error_naming_its_offset() {
        let f = pcap_with(&[60, 262_145]);
        let e = read_pcap(f.path(), |_, _, _| {}).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                PcapError::Corrupt {
                    len: 262_145,
                    offset: 100,
                    ..
                }
            ),
            "{msg}"
        );
    }

    #[test]
    fn capture_magic_numbers() {
        for m in [
            [0xd4, 0xc3, 0xb2, 0xa1],
            [0xa1, 0xb2, 0xc3, 0xd4],
            [0x4d, 0x3c, 0xb2, 0xa1],
            [0xa1, 0xb2, 0x3c, 0x4d],
            [0x0a, 0x0d, 0x0d, 0x0a],
        ] {
            assert!(is_capture_magic(m), "{m:x?}");
        }
        for m in [*b"{\"ti", *b"Dec ", *b"<34>", [0; 4]] {
            assert!(!is_capture_magic(m), "{m:x?}");
        }
    }
}
