//! Syslog receiver: UDP (one message per datagram, RFC 5426) and TCP (newline framing or
//! RFC 6587 octet counting, chosen per connection by a leading digit, with a fallback to
//! newline framing when the first "count" is not followed by a space). It only frames: every
//! message becomes one line ending in `\n` (embedded CR/LF become spaces, messages over
//! [`MAX_MESSAGE`] are cut and counted). Headers (RFC 3164/5424, year inference) are the
//! parsers' business (`parse::syslog_header`); this module never parses, decides or stores.
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// Longest message kept; the rest is dropped and counted. 64 KiB covers the largest UDP
/// datagram and any sane log line, and bounds what one sender can make us buffer.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Most TCP connections served at once; further ones are closed at once and counted, so a
/// flood of idle connections cannot exhaust file descriptors or memory.
pub const MAX_CONNECTIONS: usize = 256;
/// A TCP connection silent this long is closed (frees its slot from dead peers).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Batches are handed on once they reach this size (or the socket has nothing more).
const BATCH: usize = 256 * 1024;
/// Longest octet-count prefix accepted (9 digits: < 1 GB, anything longer is garbage).
const MAX_COUNT_DIGITS: usize = 9;

/// How a syslog source listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown transport {0:?} (expected one of: udp, tcp)")]
pub struct UnknownTransport(String);

impl Transport {
    /// The config spelling (also the metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

impl std::str::FromStr for Transport {
    type Err = UnknownTransport;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            other => Err(UnknownTransport(other.to_string())),
        }
    }
}

/// What the receiver saw; read with [`Counters::snapshot`].
#[derive(Debug, Default)]
pub struct Counters {
    messages: AtomicU64,
    truncated: AtomicU64,
    framing_errors: AtomicU64,
    refused: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    pub messages: u64,
    pub truncated: u64,
    pub framing_errors: u64,
    pub connections_refused: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            messages: self.messages.load(Ordering::Relaxed),
            truncated: self.truncated.load(Ordering::Relaxed),
            framing_errors: self.framing_errors.load(Ordering::Relaxed),
            connections_refused: self.refused.load(Ordering::Relaxed),
        }
    }
    fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// A bound socket, so a caller can learn the address (port 0) before serving, and so a bad
/// listen address fails at startup rather than inside a task.
#[derive(Debug)]
pub enum Bound {
    Udp(UdpSocket),
    Tcp(TcpListener),
}

impl Bound {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Bound::Udp(s) => s.local_addr(),
            Bound::Tcp(l) => l.local_addr(),
        }
    }
}

/// Binds `listen`. Synchronous so it can run where no `.await` is possible; must be called
/// inside a Tokio runtime.
pub fn bind(listen: SocketAddr, transport: Transport) -> std::io::Result<Bound> {
    Ok(match transport {
        Transport::Udp => {
            let s = std::net::UdpSocket::bind(listen)?;
            s.set_nonblocking(true)?;
            Bound::Udp(UdpSocket::from_std(s)?)
        }
        Transport::Tcp => {
            let l = std::net::TcpListener::bind(listen)?;
            l.set_nonblocking(true)?;
            Bound::Tcp(TcpListener::from_std(l)?)
        }
    })
}

/// Listens on `listen` and sends batches of complete lines to `tx` until `shutdown`.
pub async fn serve(
    listen: SocketAddr,
    transport: Transport,
    tx: mpsc::Sender<Vec<u8>>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let bound = bind(listen, transport)?;
    serve_bound(bound, tx, shutdown, Arc::new(Counters::default())).await
}

/// Serves an already bound socket (see [`bind`]), counting into `counters`.
pub async fn serve_bound(
    bound: Bound,
    tx: mpsc::Sender<Vec<u8>>,
    shutdown: CancellationToken,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    let r = match bound {
        Bound::Udp(s) => serve_udp(s, tx, &shutdown, &counters).await,
        Bound::Tcp(l) => serve_tcp(l, tx, &shutdown, &counters).await,
    };
    let c = counters.snapshot();
    tracing::info!(
        messages = c.messages,
        truncated = c.truncated,
        framing_errors = c.framing_errors,
        connections_refused = c.connections_refused,
        "syslog receiver stopped"
    );
    r
}

/// Sends `batch` unless shutdown comes first; false when the receiver is gone or stopping.
async fn hand_on(
    tx: &mpsc::Sender<Vec<u8>>,
    batch: &mut Vec<u8>,
    shutdown: &CancellationToken,
) -> bool {
    if batch.is_empty() {
        return true;
    }
    let data = std::mem::take(batch);
    tokio::select! {
        r = tx.send(data) => r.is_ok(),
        _ = shutdown.cancelled() => false,
    }
}

async fn serve_udp(
    sock: UdpSocket,
    tx: mpsc::Sender<Vec<u8>>,
    shutdown: &CancellationToken,
    c: &Counters,
) -> std::io::Result<()> {
    // One byte more than a message may be, so a datagram that filled it is known to be cut.
    let mut buf = vec![0u8; MAX_MESSAGE + 1];
    let mut batch = Vec::new();
    loop {
        let n = tokio::select! {
            r = sock.recv_from(&mut buf) => r,
            _ = shutdown.cancelled() => return Ok(()),
        };
        match n {
            Ok((n, _)) => push_message(&mut batch, &buf[..n], c),
            // ICMP errors and the like surface here on some systems; the socket stays usable.
            Err(e) => {
                tracing::debug!(error = %e, "syslog udp receive error");
                continue;
            }
        }
        // Drain whatever else has arrived so a busy sender gets large batches.
        while batch.len() < BATCH {
            match sock.try_recv_from(&mut buf) {
                Ok((n, _)) => push_message(&mut batch, &buf[..n], c),
                Err(_) => break,
            }
        }
        if !hand_on(&tx, &mut batch, shutdown).await {
            return Ok(());
        }
    }
}

async fn serve_tcp(
    listener: TcpListener,
    tx: mpsc::Sender<Vec<u8>>,
    shutdown: &CancellationToken,
    c: &Arc<Counters>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.cancelled() => return Ok(()),
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "syslog tcp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            Counters::inc(&c.refused);
            tracing::debug!(%peer, "syslog tcp connection refused: too many connections");
            drop(stream);
            continue;
        };
        let (tx, sd, c) = (tx.clone(), shutdown.clone(), c.clone());
        tokio::spawn(async move {
            serve_connection(stream, tx, sd, &c).await;
            drop(permit);
        });
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    tx: mpsc::Sender<Vec<u8>>,
    shutdown: CancellationToken,
    c: &Counters,
) {
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut batch = Vec::new();
    loop {
        let r = tokio::select! {
            r = tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut buf)) => r,
            _ = shutdown.cancelled() => break,
        };
        let n = match r {
            Ok(Ok(0)) | Err(_) => break, // end of stream or idle
            Ok(Ok(n)) => n,
            Ok(Err(_)) => break,
        };
        let ok = framer.feed(&buf[..n], &mut batch, c);
        if !hand_on(&tx, &mut batch, &shutdown).await {
            return;
        }
        if !ok {
            return; // framing lost: the rest of the stream cannot be split reliably
        }
    }
    framer.finish(&mut batch, c);
    let _ = hand_on(&tx, &mut batch, &shutdown).await;
}

/// Appends one message as one line: trailing CR/LF dropped, inner CR/LF become spaces,
/// cut at [`MAX_MESSAGE`]. Empty messages are ignored.
fn push_message(out: &mut Vec<u8>, msg: &[u8], c: &Counters) {
    let mut end = msg.len();
    while end > 0 && matches!(msg[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let mut msg = &msg[..end];
    if msg.is_empty() {
        return;
    }
    if msg.len() > MAX_MESSAGE {
        msg = &msg[..MAX_MESSAGE];
        Counters::inc(&c.truncated);
    }
    Counters::inc(&c.messages);
    out.reserve(msg.len() + 1);
    out.extend(
        msg.iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
    );
    out.push(b'\n');
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    #[default]
    Unknown,
    Newline,
    Octet,
}

/// Splits one TCP stream into messages (pure; the connection task feeds it).
#[derive(Debug, Default)]
pub struct Framer {
    mode: Mode,
    buf: Vec<u8>,
    /// Newline mode: the current line was cut; drop bytes up to the next newline.
    discarding: bool,
    /// Octet mode: body bytes of a cut message still to drop.
    skip: usize,
    /// Octet mode: frames seen. A stream whose very first "count" is not one was newline
    /// framed after all (e.g. a header-less line starting with a date) and is re-read so.
    frames: u64,
}

impl Framer {
    /// Feeds bytes; complete messages go to `out`. Returns false on a framing error (bad
    /// octet count), after which the stream should be closed.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>, c: &Counters) -> bool {
        let mut data = data;
        if self.mode == Mode::Unknown {
            // Leading blank lines say nothing about the framing.
            let start = data
                .iter()
                .position(|b| !matches!(b, b'\n' | b'\r'))
                .unwrap_or(data.len());
            data = &data[start..];
            match data.first() {
                None => return true,
                Some(b) if b.is_ascii_digit() => self.mode = Mode::Octet,
                Some(_) => self.mode = Mode::Newline,
            }
        }
        match self.mode {
            Mode::Octet => self.feed_octet(data, out, c),
            _ => {
                self.feed_newline(data, out, c);
                true
            }
        }
    }

    /// End of stream: a final unterminated line is still a message; an incomplete
    /// octet-counted frame is kept as far as it goes and counted as a framing error.
    pub fn finish(&mut self, out: &mut Vec<u8>, c: &Counters) {
        let rest = std::mem::take(&mut self.buf);
        match self.mode {
            Mode::Newline if !self.discarding => push_message(out, &rest, c),
            Mode::Octet if !rest.iter().all(|b| matches!(b, b'\n' | b'\r' | b' ')) => {
                Counters::inc(&c.framing_errors);
                if let Some(sp) = rest.iter().position(|&b| b == b' ') {
                    push_message(out, &rest[sp + 1..], c);
                }
            }
            _ => {}
        }
    }

    fn feed_newline(&mut self, mut data: &[u8], out: &mut Vec<u8>, c: &Counters) {
        if self.discarding {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.discarding = false;
                    data = &data[i + 1..];
                }
                None => return,
            }
        }
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &self.buf[start..]) {
            push_message(out, &self.buf[start..start + i], c);
            start += i + 1;
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_MESSAGE {
            push_message(out, &self.buf, c); // cuts and counts
            self.buf.clear();
            self.discarding = true;
        }
    }

    fn feed_octet(&mut self, data: &[u8], out: &mut Vec<u8>, c: &Counters) -> bool {
        self.buf.extend_from_slice(data);
        let mut pos = 0;
        let ok = loop {
            if self.skip > 0 {
                let n = self.skip.min(self.buf.len() - pos);
                self.skip -= n;
                pos += n;
                if self.skip > 0 {
                    break true;
                }
            }
            // Some senders end frames with a newline too; tolerate it between frames.
            while pos < self.buf.len() && matches!(self.buf[pos], b'\n' | b'\r') {
                pos += 1;
            }
            let rest = &self.buf[pos..];
            if rest.is_empty() {
                break true;
            }
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if self.frames == 0 && digits < rest.len() && rest[digits] != b' ' {
                let line = std::mem::take(&mut self.buf);
                self.mode = Mode::Newline;
                self.feed_newline(&line[pos..], out, c);
                return true;
            }
            if digits == rest.len() {
                if digits > MAX_COUNT_DIGITS {
                    break false;
                }
                break true; // the count is still arriving
            }
            if digits == 0 || digits > MAX_COUNT_DIGITS || rest[digits] != b' ' {
                break false;
            }
            let Ok(len) = std::str::from_utf8(&rest[..digits])
                .unwrap_or("")
                .parse::<usize>()
            else {
                break false;
            };
            let body = &rest[digits + 1..];
            if body.len() >= len {
                push_message(out, &body[..len], c);
                pos += digits + 1 + len;
                self.frames += 1;
            } else if len > MAX_MESSAGE && body.len() >= MAX_MESSAGE {
                // Cut now rather than buffer the whole oversized frame.
                push_message(out, body, c);
                self.skip = len - body.len();
                self.frames += 1;
                pos = self.buf.len();
            } else {
                break true;
            }
        };
        if !ok {
            Counters::inc(&c.framing_errors);
            self.buf.clear();
            return false;
        }
        self.buf.drain(..pos);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(chunks: &[&[u8]]) -> (String, CounterSnapshot, bool) {
        let c = Counters::default();
        let mut f = Framer::default();
        let mut out = Vec::new();
        let mut ok = true;
        for ch in chunks {
            ok &= f.feed(ch, &mut out, &c);
        }
        if ok {
            f.finish(&mut out, &c);
        }
        (String::from_utf8(out).unwrap(), c.snapshot(), ok)
    }

    #[test]
    fn newline_framing_joins_split_lines() {
        let (s, c, ok) = frame(&[b"<13>Jan  1 a: one\n<13>Jan  1 a: t", b"wo\r\n", b"three"]);
        assert!(ok);
        assert_eq!(s, "<13>Jan  1 a: one\n<13>Jan  1 a: two\nthree\n");
        assert_eq!(c.messages, 3);
    }

    #[test]
    fn octet_counting_with_split_count_and_embedded_newline() {
        let (s, c, ok) = frame(&[b"5 hello1", b"1 a\nb\nc d e f", b"\n6 x"]);
        assert!(ok);
        assert_eq!(s, "hello\na b c d e f\nx\n");
        assert_eq!(c.framing_errors, 1, "incomplete final frame counted");
    }

    #[test]
    fn octet_counting_bad_count_is_a_framing_error() {
        let (_, c, ok) = frame(&[b"12 abcdefghijkl", b"zz nope"]);
        assert!(!ok);
        assert_eq!(c.framing_errors, 1);
        assert_eq!(c.messages, 1);
    }

    #[test]
    fn leading_digit_without_a_count_falls_back_to_newline_framing() {
        let (s, c, ok) = frame(&[b"2026-11-23T06:30:00 h app: a\n", b"20 second\n"]);
        assert!(ok);
        assert_eq!(s, "2026-11-23T06:30:00 h app: a\n20 second\n");
        assert_eq!((c.messages, c.framing_errors), (2, 0));
    }

    #[test]
    fn oversize_is_cut_in_both_framings() {
        let big = vec![b'x'; MAX_MESSAGE + 100];
        let mut nl = big.clone();
        nl.extend_from_slice(b"\nnext\n");
        let (s, c, _) = frame(&[&nl[..1000], &nl[1000..]]);
        assert_eq!(s.len(), MAX_MESSAGE + 1 + 5);
        assert!(s.ends_with("x\nnext\n"));
        assert_eq!((c.messages, c.truncated), (2, 1));

        let mut oc = format!("{} ", big.len()).into_bytes();
        oc.extend_from_slice(&big);
        oc.extend_from_slice(b"4 next");
        let (s, c, ok) = frame(&[&oc[..7000], &oc[7000..]]);
        assert!(ok);
        assert_eq!(s.len(), MAX_MESSAGE + 1 + 5);
        assert!(s.ends_with("x\nnext\n"));
        assert_eq!((c.messages, c.truncated, c.framing_errors), (2, 1, 0));
    }
}
