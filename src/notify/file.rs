//! The file channel: one RFC 5322-style text file per message in a folder (for audit, for
//! sites without mail, and for tests). Files appear atomically: written to a temporary name,
//! synced, then linked to the final name (never overwriting) and the temporary removed.
use super::{DeliveryError, Message, NotifyConfigError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Most name collisions tried before giving up (same second, incident and kind).
const MAX_SUFFIX: u32 = 10_000;

pub struct FileChannel {
    dir: PathBuf,
    from: String,
}

impl FileChannel {
    pub fn new(dir: &Path, from: &str) -> Result<FileChannel, NotifyConfigError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| NotifyConfigError::File(format!("{}: {e}", dir.display())))?;
        Ok(FileChannel {
            dir: dir.to_path_buf(),
            from: from.to_string(),
        })
    }

    /// Write `msg` as one new file.
    pub async fn send(&self, msg: &Message) -> Result<(), DeliveryError> {
        let dir = self.dir.clone();
        let text = self.format(msg, jiff::Timestamp::now());
        let stem = format!(
            "{}-{}-{}",
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.6fZ"),
            msg.incident.as_str(),
            msg.notice.as_str()
        );
        tokio::task::spawn_blocking(move || write_atomic(&dir, &stem, text.as_bytes()))
            .await
            .map_err(|e| DeliveryError::File {
                detail: e.to_string(),
            })?
            .map(|_| ())
    }

    fn format(&self, msg: &Message, now: jiff::Timestamp) -> String {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        let mut out = String::new();
        out.push_str(&format!("From: {}\r\n", clean(&self.from)));
        out.push_str(&format!("To: {}\r\n", clean(&msg.to.join(", "))));
        out.push_str(&format!("Subject: {}\r\n", clean(&msg.subject)));
        out.push_str(&format!(
            "Date: {}\r\n",
            now.strftime("%a, %d %b %Y %H:%M:%S +0000")
        ));
        out.push_str(&format!("Message-ID: {}\r\n", msg.message_id()));
        out.push_str(&format!("X-Cordon-Key: {}\r\n", msg.safe_key()));
        out.push_str(&format!("X-Cordon-Incident: {}\r\n", msg.incident));
        out.push_str(&format!("X-Cordon-Notice: {}\r\n", msg.notice.as_str()));
        out.push_str(&format!(
            "X-Cordon-Audience: {}\r\n",
            super::audience_name(msg.audience)
        ));
        out.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        for line in msg.body.lines() {
            out.push_str(line);
            out.push_str("\r\n");
        }
        out
    }
}

fn write_atomic(dir: &Path, stem: &str, data: &[u8]) -> Result<PathBuf, DeliveryError> {
    let err = |what: &str, e: std::io::Error| DeliveryError::File {
        detail: format!("{what} in {}: {e}", dir.display()),
    };
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{stem}.{}.{seq}.tmp", std::process::id()));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| err("create temp file", e))?;
        f.write_all(data).map_err(|e| err("write", e))?;
        f.sync_all().map_err(|e| err("sync", e))?;
    }
    let mut result = Err(DeliveryError::File {
        detail: format!("no free file name for {stem} in {}", dir.display()),
    });
    for n in 1..=MAX_SUFFIX {
        let dest = dir.join(format!("{stem}-{n}.eml"));
        // hard_link fails if `dest` exists: atomic and never overwrites another message.
        match std::fs::hard_link(&tmp, &dest) {
            Ok(()) => {
                result = Ok(dest);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                result = Err(err("link", e));
                break;
            }
        }
    }
    let _ = std::fs::remove_file(&tmp);
    result
}
