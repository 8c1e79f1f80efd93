//! A small, real SMTP server for tests: listens on 127.0.0.1:0, speaks EHLO/HELO, STARTTLS
//! (optional, with a certificate the test gives it), AUTH PLAIN/LOGIN (optional),
//! MAIL/RCPT/DATA (with dot-unstuffing), RSET, NOOP, QUIT, and keeps every accepted message.
//! It can be told to refuse recipients with a chosen reply code to simulate permanent (5xx)
//! or transient (4xx) failures.
//!
//! Self-contained (tokio, tokio-rustls and std only) so any integration test can use it with
//! `#[path = "support/smtp_sink.rs"] mod smtp_sink;`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// Longest command line or data line accepted.
const MAX_LINE: usize = 64 * 1024;
/// Largest message accepted.
const MAX_DATA: usize = 8 * 1024 * 1024;

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message text after dot-unstuffing, lines joined with "\r\n".
    pub data: String,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
}

/// How the sink behaves.
#[derive(Debug, Clone, Default)]
pub struct SinkConfig {
    /// Advertise AUTH and accept exactly these credentials; MAIL without AUTH gets 530.
    pub credentials: Option<(String, String)>,
    /// A recipient containing `.0` gets reply code `.1` (e.g. ("bad@", 550), ("busy@", 451)).
    pub rcpt_rules: Vec<(String, u16)>,
    /// Offer STARTTLS with this server configuration, and refuse MAIL before it.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

/// What a session reads and writes: the TCP stream, or the TLS stream over it.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    notify: Notify,
    /// Every command line seen (for assertions on the dialogue).
    commands: Mutex<Vec<String>>,
}

pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }
    pub fn commands(&self) -> Vec<String> {
        self.shared.commands.lock().unwrap().clone()
    }
    /// Wait until at least `n` messages arrived (or `timeout` passed); returns what is there.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            {
                let m = self.shared.messages.lock().unwrap();
                if m.len() >= n {
                    return m.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.messages();
            }
        }
    }
}

/// Start a sink on 127.0.0.1 with an OS-chosen port.
pub async fn start(cfg: SinkConfig) -> SmtpSink {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Arc::new(Shared::default());
    let s2 = shared.clone();
    let cfg = Arc::new(cfg);
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let shared = s2.clone();
            let cfg = cfg.clone();
            tokio::spawn(async move {
                let _ = session(sock, &cfg, &shared).await;
            });
        }
    });
    SmtpSink { addr, shared, task }
}

/// Send a reply now (a TLS stream holds written bytes until flushed).
async fn say(r: &mut BufReader<Box<dyn Stream>>, reply: &[u8]) -> std::io::Result<()> {
    r.write_all(reply).await?;
    r.flush().await
}

/// Read one line (without the line ending), bounded.
async fn read_line(r: &mut BufReader<Box<dyn Stream>>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = (&mut *r)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn addr_of(arg: &str) -> String {
    let a = arg.trim();
    let a = a.split_once('<').map(|(_, r)| r).unwrap_or(a);
    let a = a.split_once('>').map(|(l, _)| l).unwrap_or(a);
    a.trim().to_string()
}

async fn session(
    sock: tokio::net::TcpStream,
    cfg: &SinkConfig,
    shared: &Shared,
) -> std::io::Result<()> {
    // One buffered stream both ways (tokio's BufReader passes writes through), so that
    // STARTTLS can take the stream back and wrap it.
    let mut r = BufReader::new(Box::new(sock) as Box<dyn Stream>);
    say(&mut r, b"220 sink.test ESMTP cordon-test-sink\r\n").await?;
    let mut secure = false;
    let mut authed: Option<String> = None;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    while let Some(line) = read_line(&mut r).await? {
        shared.commands.lock().unwrap().push(line.clone());
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let verb = verb.to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => {
                let mut s = String::from("250-sink.test\r\n");
                if cfg.tls.is_some() && !secure {
                    s.push_str("250-STARTTLS\r\n");
                }
                if cfg.credentials.is_some() {
                    s.push_str("250-AUTH PLAIN LOGIN\r\n");
                }
                s.push_str("250 8BITMIME\r\n");
                s
            }
            "HELO" => "250 sink.test\r\n".into(),
            "STARTTLS" => {
                let Some(tls) = cfg.tls.clone().filter(|_| !secure) else {
                    say(&mut r, b"502 5.5.1 STARTTLS not offered\r\n").await?;
                    continue;
                };
                say(&mut r, b"220 2.0.0 ready to start TLS\r\n").await?;
                // The client waits for the 220 before its handshake: nothing is buffered.
                let plain = r.into_inner();
                let encrypted = tokio_rustls::TlsAcceptor::from(tls).accept(plain).await?;
                r = BufReader::new(Box::new(encrypted) as Box<dyn Stream>);
                // RFC 3207: the session starts over; the client must EHLO again.
                secure = true;
                authed = None;
                from = None;
                to.clear();
                continue;
            }
            "AUTH" => {
                let Some((user, pass)) = &cfg.credentials else {
                    say(&mut r, b"502 AUTH not offered\r\n").await?;
                    continue;
                };
                let mut parts = arg.split_whitespace();
                let mech = parts.next().unwrap_or("").to_ascii_uppercase();
                let initial = parts.next().map(str::to_string);
                let got = match mech.as_str() {
                    "PLAIN" => {
                        let resp = match initial {
                            Some(i) => i,
                            None => {
                                say(&mut r, b"334 \r\n").await?;
                                read_line(&mut r).await?.unwrap_or_default()
                            }
                        };
                        b64_decode(&resp).and_then(|d| {
                            let mut it = d.split(|b| *b == 0);
                            let _authz = it.next()?;
                            let u = String::from_utf8(it.next()?.to_vec()).ok()?;
                            let p = String::from_utf8(it.next()?.to_vec()).ok()?;
                            Some((u, p))
                        })
                    }
                    "LOGIN" => {
                        let u = match initial {
                            Some(i) => i,
                            None => {
                                say(&mut r, b"334 VXNlcm5hbWU6\r\n").await?;
                                read_line(&mut r).await?.unwrap_or_default()
                            }
                        };
                        say(&mut r, b"334 UGFzc3dvcmQ6\r\n").await?;
                        let p = read_line(&mut r).await?.unwrap_or_default();
                        match (b64_decode(&u), b64_decode(&p)) {
                            (Some(u), Some(p)) => Some((
                                String::from_utf8_lossy(&u).into_owned(),
                                String::from_utf8_lossy(&p).into_owned(),
                            )),
                            _ => None,
                        }
                    }
                    _ => {
                        say(&mut r, b"504 mechanism not supported\r\n").await?;
                        continue;
                    }
                };
                match got {
                    Some((u, p)) if &u == user && &p == pass => {
                        authed = Some(u);
                        "235 2.7.0 authenticated\r\n".into()
                    }
                    _ => "535 5.7.8 bad credentials\r\n".into(),
                }
            }
            "MAIL" => {
                if cfg.tls.is_some() && !secure {
                    "530 5.7.0 must issue a STARTTLS command first\r\n".into()
                } else if cfg.credentials.is_some() && authed.is_none() {
                    "530 5.7.0 authentication required\r\n".into()
                } else {
                    from = Some(addr_of(arg.split_once(':').map(|x| x.1).unwrap_or(arg)));
                    to.clear();
                    "250 2.1.0 ok\r\n".into()
                }
            }
            "RCPT" => {
                let a = addr_of(arg.split_once(':').map(|x| x.1).unwrap_or(arg));
                if from.is_none() {
                    "503 5.5.1 MAIL first\r\n".into()
                } else if let Some((_, code)) =
                    cfg.rcpt_rules.iter().find(|(p, _)| a.contains(p.as_str()))
                {
                    format!("{code} recipient refused by test rule\r\n")
                } else {
                    to.push(a);
                    "250 2.1.5 ok\r\n".into()
                }
            }
            "DATA" => {
                if from.is_none() || to.is_empty() {
                    "554 5.5.1 no valid recipients\r\n".into()
                } else {
                    say(&mut r, b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    let mut lines: Vec<String> = Vec::new();
                    let mut size = 0usize;
                    loop {
                        let Some(l) = read_line(&mut r).await? else {
                            return Ok(());
                        };
                        if l == "." {
                            break;
                        }
                        size += l.len() + 2;
                        if size > MAX_DATA {
                            say(&mut r, b"552 5.3.4 too big\r\n").await?;
                            return Ok(());
                        }
                        // Dot-unstuffing (RFC 5321 4.5.2).
                        let l = l.strip_prefix('.').map(str::to_string).unwrap_or(l);
                        lines.push(l);
                    }
                    let msg = Received {
                        from: from.take().unwrap_or_default(),
                        to: std::mem::take(&mut to),
                        data: lines.join("\r\n"),
                        auth_user: authed.clone(),
                    };
                    shared.messages.lock().unwrap().push(msg);
                    shared.notify.notify_waiters();
                    "250 2.0.0 queued\r\n".into()
                }
            }
            "RSET" => {
                from = None;
                to.clear();
                "250 2.0.0 ok\r\n".into()
            }
            "NOOP" => "250 2.0.0 ok\r\n".into(),
            "QUIT" => {
                say(&mut r, b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 command not recognized\r\n".into(),
        };
        say(&mut r, reply.as_bytes()).await?;
    }
    Ok(())
}
