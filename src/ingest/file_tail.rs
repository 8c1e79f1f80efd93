//! Log-file tailer: globs over one directory, follows growth, survives rotation (rename+create
//! and copytruncate), resumes from stored offsets, replays `.gz` files, and reads stdin in
//! complete-line chunks. Synchronous and std-only (plus `flate2`/`sha2`): the pipeline runs it
//! on a blocking thread and persists each [`Chunk::offset`] in the same transaction as what the
//! chunk's lines produced, so a crash never loses or double-counts a line.
//!
//! Owns file reading and read positions only; it never parses lines.
//!
//! # Identity and fingerprint
//! A file is `dev:inode` plus a fingerprint `"N:HEX"` = SHA-256 of the file's first `N` bytes,
//! with `N = min(offset, 256)` — only bytes we have already consumed, which cannot change unless
//! the file is truncated. While a file is shorter than 256 bytes the fingerprint grows with the
//! offset; on resume the current file's first `N` bytes are hashed and compared, so even a short
//! file is verified exactly. A stored offset whose `file_id` or fingerprint does not match is
//! ignored and the file is read from 0 (design: no line lost).
//!
//! # Rotation
//! Each refresh rescans the directory. A tracked inode no longer matched by the pattern is
//! *orphaned* (renamed away or deleted, counted as a rotation): we keep its open handle, read
//! it before any other file, and drop it once it has not grown for the rotate grace (default
//! 1 s). Lines written to the old inode after that are lost (documented race). A file that the
//! glob still matches under its new name (`app.log*` after `app.log → app.log.1`) stays tracked
//! by inode and is never re-read. Copytruncate is seen as size < offset: restart at 0 and count
//! a truncation; lines written between the copy and the truncation, or enough bytes written after
//! the truncation to pass our old offset before we look, are the documented loss window.
//!
//! # Gzip
//! `.gz` files are read once, decompressed (offset = decompressed bytes; every gzip member, as
//! gzip(1) reads them). In follow mode a `.gz`
//! that appears after start is taken to be a compressed rotation of a file already read and is
//! ignored (reading it would count its lines twice).
use super::gzip_members::GzipMembers;
use crate::store::Offset;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Longest line kept; longer lines are skipped and counted in [`TailStats::long_lines`].
pub const DEFAULT_LINE_CAP: usize = 1 << 20;
/// How long an orphaned (rotated/deleted) file is watched for late writes after its last growth.
pub const DEFAULT_ROTATE_GRACE: Duration = Duration::from_secs(1);
/// Fingerprint covers at most this many leading bytes.
pub const FINGERPRINT_BYTES: u64 = 256;
/// Rescan the directory at least this often even while files are busy.
const REFRESH_EVERY: Duration = Duration::from_millis(200);
/// Largest chunk `poll` builds, whatever the caller asks (bounds the read buffer).
pub const MAX_CHUNK: usize = 16 << 20;
/// Scratch read size for streams and for skipping long lines.
const READ_BLOCK: usize = 64 * 1024;
/// Cap on remembered ignored identities (late `.gz`, unopenable files); cleared when full.
const IGNORED_CAP: usize = 4096;

/// Errors from the tailer.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("bad file pattern {pattern:?}: {why}")]
    Pattern { pattern: String, why: &'static str },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Counters since the tailer started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Files currently tracked.
    pub files: u64,
    /// Files opened in total.
    pub files_opened: u64,
    pub bytes: u64,
    pub lines: u64,
    /// Tracked files that stopped matching the pattern (renamed away or deleted).
    pub rotations: u64,
    pub truncations: u64,
    /// Lines longer than the cap, skipped.
    pub long_lines: u64,
    /// Files dropped after a read error.
    pub errors: u64,
}

/// Complete lines from one file and the position after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub path: String,
    /// One or more complete lines, each ending in `\n` (a final unterminated line at EOF of a
    /// finished file gets a `\n` appended; `offset` counts only the file's real bytes).
    pub data: Vec<u8>,
    /// Position after `data`: persist it with whatever `data` produced.
    pub offset: Offset,
}

enum Reader {
    Plain(File),
    Gz(Box<LineChunks<GzipMembers<std::io::BufReader<File>>>>),
}

struct Tracked {
    path: String,
    dev_ino: (u64, u64),
    file_id: String,
    reader: Reader,
    offset: u64,
    /// `(N, "N:HEX")`, recomputed while `N < FINGERPRINT_BYTES`.
    fp: Option<(u64, String)>,
    skipping: bool,
    orphaned: bool,
    last_growth: Instant,
    done: bool,
}

/// Follows the files matching one pattern. See the module docs.
pub struct Tailer {
    source: String,
    dir: PathBuf,
    name_pattern: Vec<u8>,
    follow: bool,
    files: Vec<Tracked>,
    cursor: usize,
    ignored: HashSet<(u64, u64)>,
    last_refresh: Instant,
    line_cap: usize,
    rotate_grace: Duration,
    stats: TailStats,
}

struct Found {
    path: PathBuf,
    dev_ino: (u64, u64),
    mtime: SystemTime,
}

impl Tailer {
    /// `pattern` is a path or a glob (`*`, `?`, `[..]`, `[!..]` in the file-name part only;
    /// matched here, no glob crate). `stored` are the offsets the store holds for `source`.
    pub fn new(
        source: &str,
        pattern: &str,
        follow: bool,
        stored: Vec<Offset>,
    ) -> Result<Self, TailError> {
        let bad = |why| TailError::Pattern {
            pattern: pattern.to_string(),
            why,
        };
        let p = Path::new(pattern);
        let name = p.file_name().ok_or_else(|| bad("no file name"))?;
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dir
            .to_string_lossy()
            .bytes()
            .any(|b| matches!(b, b'*' | b'?' | b'['))
        {
            return Err(bad(
                "glob characters are allowed only in the file-name part",
            ));
        }
        let mut t = Tailer {
            source: source.to_string(),
            dir,
            name_pattern: name.as_encoded_bytes().to_vec(),
            follow,
            files: Vec::new(),
            cursor: 0,
            ignored: HashSet::new(),
            last_refresh: Instant::now(),
            line_cap: DEFAULT_LINE_CAP,
            rotate_grace: DEFAULT_ROTATE_GRACE,
            stats: TailStats::default(),
        };
        let mut found = t.scan()?;
        found.sort_by(|a, b| (a.mtime, &a.path).cmp(&(b.mtime, &b.path)));
        for f in found {
            if let Err(e) = t.open(&f, &stored, true) {
                tracing::warn!(path = %f.path.display(), error = %e, "cannot open log file");
                t.stats.errors += 1;
            }
        }
        Ok(t)
    }

    /// Longest line kept (bytes, without the newline); longer ones are skipped and counted.
    pub fn set_line_cap(&mut self, cap: usize) {
        self.line_cap = cap.max(1);
    }

    /// How long a rotated-away or deleted file is still watched after it last grew.
    pub fn set_rotate_grace(&mut self, grace: Duration) {
        self.rotate_grace = grace;
    }

    /// Read up to `max_bytes` of complete lines from one file (more only when a single line is
    /// longer). `None` when nothing new. Rotated-away files are drained before any other.
    pub fn poll(&mut self, max_bytes: usize) -> Result<Option<Chunk>, TailError> {
        let max_bytes = max_bytes.clamp(1, MAX_CHUNK);
        if self.follow && self.last_refresh.elapsed() >= REFRESH_EVERY {
            self.refresh()?;
        }
        if let Some(c) = self.read_any(max_bytes) {
            return Ok(Some(c));
        }
        if self.follow {
            self.refresh()?;
            return Ok(self.read_any(max_bytes));
        }
        Ok(None)
    }

    /// `follow = false`: every file has been read to its end.
    pub fn is_done(&self) -> bool {
        !self.follow && self.files.is_empty()
    }

    pub fn stats(&self) -> TailStats {
        TailStats {
            files: self.files.len() as u64,
            ..self.stats
        }
    }

    fn scan(&self) -> Result<Vec<Found>, TailError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            // In follow mode the directory may come (back) later.
            Err(e) if self.follow && e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(TailError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut out = Vec::new();
        for entry in rd.flatten() {
            let name = entry.file_name();
            if !glob_match(&self.name_pattern, name.as_encoded_bytes()) {
                continue;
            }
            let path = entry.path();
            // Follows symlinks: identity is the target's.
            let Ok(md) = std::fs::metadata(&path) else {
                continue;
            };
            if !md.is_file() {
                continue;
            }
            out.push(Found {
                path,
                dev_ino: (md.dev(), md.ino()),
                mtime: md.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
        Ok(out)
    }

    fn open(&mut self, f: &Found, stored: &[Offset], at_start: bool) -> io::Result<()> {
        let file = File::open(&f.path)?;
        let md = file.metadata()?;
        let dev_ino = (md.dev(), md.ino());
        let file_id = format!("{}:{}", dev_ino.0, dev_ino.1);
        let is_gz = f.path.extension().is_some_and(|e| e == "gz");
        let path = f.path.to_string_lossy().into_owned();
        if is_gz && !at_start {
            if self.ignored.len() >= IGNORED_CAP {
                self.ignored.clear();
            }
            if self.ignored.insert(dev_ino) {
                tracing::info!(%path, "ignoring .gz that appeared while following (compressed rotation)");
            }
            return Ok(());
        }
        let resume = stored
            .iter()
            .filter(|o| o.file_id == file_id)
            .find(|o| fingerprint_matches(&f.path, &file, is_gz, &o.fingerprint))
            .map(|o| o.offset);
        let mut skipped_truncated = false;
        let (reader, offset) = if is_gz {
            let mut lc = LineChunks::new(GzipMembers::of_file(file), self.line_cap);
            let start = resume.unwrap_or(0);
            let got = lc.skip_bytes(start)?;
            (Reader::Gz(Box::new(lc)), got)
        } else {
            let start = match resume {
                Some(o) if o > md.len() => {
                    skipped_truncated = true;
                    0
                }
                Some(o) => o,
                None => 0,
            };
            (Reader::Plain(file), start)
        };
        if skipped_truncated {
            self.stats.truncations += 1;
            tracing::info!(%path, "file shorter than stored offset: truncated while down, reading from 0");
        }
        tracing::debug!(%path, offset, resumed = resume.is_some(), "tailing file");
        self.stats.files_opened += 1;
        self.files.push(Tracked {
            path,
            dev_ino,
            file_id,
            reader,
            offset,
            fp: None,
            skipping: false,
            orphaned: false,
            last_growth: Instant::now(),
            done: false,
        });
        Ok(())
    }

    fn refresh(&mut self) -> Result<(), TailError> {
        self.last_refresh = Instant::now();
        let found = self.scan()?;
        let seen: HashSet<(u64, u64)> = found.iter().map(|f| f.dev_ino).collect();
        for t in &mut self.files {
            let matched = seen.contains(&t.dev_ino);
            if !t.orphaned && !matched {
                t.orphaned = true;
                // The grace runs from now: the writer may still append before it reopens.
                t.last_growth = Instant::now();
                self.stats.rotations += 1;
                tracing::info!(path = %t.path, "file rotated away or deleted; draining it");
            } else if t.orphaned && matched {
                t.orphaned = false;
            }
        }
        for f in found {
            let known = self.files.iter().any(|t| t.dev_ino == f.dev_ino)
                || self.ignored.contains(&f.dev_ino);
            if !known && let Err(e) = self.open(&f, &[], false) {
                // Logged once: the file is not retried until restart (or the cap clears it).
                tracing::warn!(path = %f.path.display(), error = %e, "cannot open log file; ignoring it");
                self.stats.errors += 1;
                if self.ignored.len() >= IGNORED_CAP {
                    self.ignored.clear();
                }
                self.ignored.insert(f.dev_ino);
            }
        }
        Ok(())
    }

    fn read_any(&mut self, max_bytes: usize) -> Option<Chunk> {
        let n = self.files.len();
        let mut order: Vec<usize> = (0..n).filter(|&i| self.files[i].orphaned).collect();
        order.extend(
            (0..n)
                .map(|k| (self.cursor + k) % n)
                .filter(|&i| !self.files[i].orphaned),
        );
        let mut out = None;
        for i in order {
            let follow = self.follow;
            let grace = self.rotate_grace;
            let cap = self.line_cap;
            let t = &mut self.files[i];
            // A file is finished when replaying, or when rotated away and quiet for the grace.
            let finishing = !follow || (t.orphaned && t.last_growth.elapsed() >= grace);
            match read_tracked(t, max_bytes, cap, finishing, &mut self.stats) {
                Ok(Some(data)) => {
                    t.last_growth = Instant::now();
                    self.stats.bytes += data.len() as u64;
                    self.stats.lines += memchr::memchr_iter(b'\n', &data).count() as u64;
                    let offset = self.offset_record(i);
                    let path = self.files[i].path.clone();
                    if !self.files[i].orphaned {
                        self.cursor = (i + 1) % n;
                    }
                    out = Some(Chunk { path, data, offset });
                    break;
                }
                Ok(None) => {
                    // A `.gz` is read once, even when following.
                    if finishing || matches!(t.reader, Reader::Gz(_)) {
                        t.done = true;
                    }
                }
                Err(e) => {
                    tracing::warn!(path = %t.path, error = %e, "read error; dropping file");
                    self.stats.errors += 1;
                    t.done = true;
                }
            }
        }
        if self.files.iter().any(|t| t.done) {
            self.files.retain(|t| !t.done);
            self.cursor = 0;
        }
        out
    }

    fn offset_record(&mut self, i: usize) -> Offset {
        let t = &mut self.files[i];
        let want = t.offset.min(FINGERPRINT_BYTES);
        if t.fp.as_ref().is_none_or(|(n, _)| *n != want) {
            let fp = match &t.reader {
                Reader::Plain(f) => pread(f, 0, want as usize).map(|head| fp_string(&head)),
                Reader::Gz(lc) => Ok(fp_string(&lc.head[..(want as usize).min(lc.head.len())])),
            };
            match fp {
                Ok(s) => t.fp = Some((want, s)),
                Err(e) => tracing::warn!(path = %t.path, error = %e, "cannot fingerprint"),
            }
        }
        Offset {
            source: self.source.clone(),
            file_id: t.file_id.clone(),
            path: t.path.clone(),
            offset: t.offset,
            fingerprint: t.fp.as_ref().map(|(_, s)| s.clone()).unwrap_or_default(),
        }
    }
}

/// `"N:HEX"` of `head` (N = its length).
fn fp_string(head: &[u8]) -> String {
    format!("{}:{}", head.len(), hex::encode(Sha256::digest(head)))
}

fn fingerprint_matches(path: &Path, file: &File, gz: bool, stored: &str) -> bool {
    let Some((n, _)) = stored.split_once(':') else {
        return false;
    };
    let Ok(n) = n.parse::<usize>() else {
        return false;
    };
    if n as u64 > FINGERPRINT_BYTES {
        return false;
    }
    let head = if gz {
        let Ok(f) = File::open(path) else {
            return false;
        };
        let mut head = Vec::with_capacity(n);
        if GzipMembers::of_file(f)
            .take(n as u64)
            .read_to_end(&mut head)
            .is_err()
        {
            return false;
        }
        head
    } else {
        match pread(file, 0, n) {
            Ok(h) => h,
            Err(_) => return false,
        }
    };
    head.len() == n && fp_string(&head) == stored
}

/// Read up to `n` bytes at `at` (fewer at EOF).
fn pread(f: &File, at: u64, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match f.read_at(&mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

fn read_tracked(
    t: &mut Tracked,
    max: usize,
    cap: usize,
    finishing: bool,
    st: &mut TailStats,
) -> io::Result<Option<Vec<u8>>> {
    match &mut t.reader {
        Reader::Gz(lc) => {
            lc.max = max.clamp(1, MAX_CHUNK);
            let before = lc.long_lines;
            let r = lc.read_chunk()?;
            st.long_lines += lc.long_lines - before;
            t.offset = lc.consumed;
            Ok(r)
        }
        Reader::Plain(f) => {
            let before = st.truncations;
            let r = read_plain(
                f,
                &mut t.offset,
                &mut t.skipping,
                &mut t.fp,
                max,
                cap,
                finishing,
                st,
            );
            if st.truncations != before {
                tracing::info!(path = %t.path, "file truncated (copytruncate?); reading from 0");
            }
            r
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn read_plain(
    f: &File,
    offset: &mut u64,
    skipping: &mut bool,
    fp: &mut Option<(u64, String)>,
    max: usize,
    cap: usize,
    finishing: bool,
    st: &mut TailStats,
) -> io::Result<Option<Vec<u8>>> {
    let max = max.max(1);
    loop {
        let len = f.metadata()?.len();
        if len < *offset {
            // Copytruncate (or any truncation): the content we knew is gone.
            st.truncations += 1;
            *offset = 0;
            *skipping = false;
            *fp = None;
        }
        let avail = len - *offset;
        if avail == 0 {
            return Ok(None);
        }
        if *skipping {
            let buf = pread(f, *offset, (avail as usize).min(READ_BLOCK))?;
            if buf.is_empty() {
                return Ok(None);
            }
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    *offset += i as u64 + 1;
                    *skipping = false;
                }
                None => *offset += buf.len() as u64,
            }
            continue;
        }
        let mut buf = pread(f, *offset, (avail.min(max as u64)) as usize)?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(i) = memchr::memrchr(b'\n', &buf) {
            buf.truncate(i + 1);
            *offset += buf.len() as u64;
            return Ok(Some(buf));
        }
        // No newline in the first `max` bytes: one line longer than `max`, or a partial tail.
        let limit = (cap as u64 + 1).min(avail) as usize;
        let mut big = if buf.len() < limit {
            pread(f, *offset, limit)?
        } else {
            buf
        };
        if let Some(i) = memchr::memchr(b'\n', &big) {
            big.truncate(i + 1);
            *offset += big.len() as u64;
            return Ok(Some(big));
        }
        if big.len() > cap {
            st.long_lines += 1;
            *offset += big.len() as u64;
            *skipping = true;
            tracing::warn!(cap, "line longer than cap skipped");
            continue;
        }
        // Partial last line: hold it until its newline arrives, unless the file is finished.
        if finishing {
            *offset += big.len() as u64;
            big.push(b'\n');
            return Ok(Some(big));
        }
        return Ok(None);
    }
}

/// Splits a byte stream into chunks of complete lines (stdin, decompressed `.gz`). Memory is
/// bounded by the line cap plus one read block; longer lines are skipped and counted.
pub struct LineChunks<R> {
    r: R,
    buf: Vec<u8>,
    cap: usize,
    /// Target chunk size.
    pub max: usize,
    eof: bool,
    skipping: bool,
    /// Stream bytes accounted for by emitted chunks and skipped lines.
    pub consumed: u64,
    /// Lines longer than the cap, skipped.
    pub long_lines: u64,
    /// First `FINGERPRINT_BYTES` of the stream (for fingerprints).
    head: Vec<u8>,
}

impl<R: Read> LineChunks<R> {
    /// Chunks of about 64 KiB; [`LineChunks::with_max`] changes that. Lines over `cap` are skipped.
    pub fn new(r: R, cap: usize) -> Self {
        LineChunks {
            r,
            buf: Vec::new(),
            cap: cap.max(1),
            max: READ_BLOCK,
            eof: false,
            skipping: false,
            consumed: 0,
            long_lines: 0,
            head: Vec::new(),
        }
    }

    pub fn with_max(mut self, max: usize) -> Self {
        self.max = max.clamp(1, MAX_CHUNK);
        self
    }

    /// Read once, straight into the buffer's tail (at least a read block, up to a chunk).
    fn fill(&mut self) -> io::Result<()> {
        let at = self.buf.len();
        self.buf.resize(at + self.max.max(READ_BLOCK), 0);
        loop {
            match self.r.read(&mut self.buf[at..]) {
                Ok(k) => {
                    self.buf.truncate(at + k);
                    if k == 0 {
                        self.eof = true;
                    }
                    let room = (FINGERPRINT_BYTES as usize).saturating_sub(self.head.len());
                    self.head.extend_from_slice(&self.buf[at..at + k.min(room)]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(at);
                    return Err(e);
                }
            }
        }
    }

    /// Discard the first `n` bytes (resume); returns how many were there.
    fn skip_bytes(&mut self, n: u64) -> io::Result<u64> {
        while self.consumed < n {
            if self.buf.is_empty() {
                if self.eof {
                    break;
                }
                self.fill()?;
                continue;
            }
            let take = ((n - self.consumed) as usize).min(self.buf.len());
            self.buf.drain(..take);
            self.consumed += take as u64;
        }
        Ok(self.consumed)
    }

    /// The next chunk of complete lines, `None` at end of stream. A final unterminated line
    /// gets a `\n` appended (not counted in `consumed`).
    pub fn read_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let max = self.max.max(1);
        loop {
            if self.skipping {
                match memchr::memchr(b'\n', &self.buf) {
                    Some(i) => {
                        self.buf.drain(..=i);
                        self.consumed += i as u64 + 1;
                        self.skipping = false;
                    }
                    None => {
                        self.consumed += self.buf.len() as u64;
                        self.buf.clear();
                        if self.eof {
                            return Ok(None);
                        }
                        self.fill()?;
                    }
                }
                continue;
            }
            let window = &self.buf[..self.buf.len().min(max)];
            let end = memchr::memrchr(b'\n', window)
                .or_else(|| memchr::memchr(b'\n', &self.buf))
                .map(|i| i + 1);
            if let Some(end) = end {
                if end - 1 > self.cap {
                    // A complete line, but over the cap.
                    self.buf.drain(..end);
                    self.consumed += end as u64;
                    self.long_lines += 1;
                    continue;
                }
                // Hand out the buffer itself and keep only the partial line after it, so a
                // chunk is never copied.
                let rest = self.buf.split_off(end);
                let out = std::mem::replace(&mut self.buf, rest);
                self.consumed += end as u64;
                return Ok(Some(out));
            }
            if self.buf.len() > self.cap {
                self.long_lines += 1;
                self.skipping = true;
                continue;
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let mut out = std::mem::take(&mut self.buf);
                self.consumed += out.len() as u64;
                out.push(b'\n');
                return Ok(Some(out));
            }
            self.fill()?;
        }
    }
}

impl<R: Read> Iterator for LineChunks<R> {
    type Item = io::Result<Vec<u8>>;
    fn next(&mut self) -> Option<Self::Item> {
        self.read_chunk().transpose()
    }
}

/// Standard input (`-`) in chunks of complete lines of about `max_bytes`.
pub fn stdin_chunks(max_bytes: usize) -> LineChunks<io::Stdin> {
    LineChunks::new(io::stdin(), DEFAULT_LINE_CAP).with_max(max_bytes)
}

/// Shell-style match of one file name: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`/`[^x]`.
pub fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((hit, next)) = class_match(pat, p, name[n]) {
                        if hit {
                            p = next;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                c if c == name[n] => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    while p < pat.len() && pat[p] == b'*' {
        p += 1;
    }
    p == pat.len()
}

/// `pat[p] == '['`: whether `c` is in the class, and the index after `]`; `None` if unclosed.
fn class_match(pat: &[u8], p: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = p + 1;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let first = i;
    let mut hit = false;
    while i < pat.len() {
        if pat[i] == b']' && i > first {
            return Some((hit != negate, i + 1));
        }
        if i + 2 < pat.len() && pat[i + 1] == b'-' && pat[i + 2] != b']' {
            hit |= pat[i] <= c && c <= pat[i + 2];
            i += 3;
        } else {
            hit |= pat[i] == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        assert!(glob_match(b"auth.log", b"auth.log"));
        assert!(!glob_match(b"auth.log", b"auth.log.1"));
        assert!(glob_match(b"auth.log*", b"auth.log.1"));
        assert!(glob_match(b"*.log", b"a.log"));
        assert!(!glob_match(b"*.log", b"a.log.gz"));
        assert!(glob_match(b"a?.[0-9]", b"ab.7"));
        assert!(!glob_match(b"a?.[!0-9]", b"ab.7"));
        assert!(glob_match(b"x[", b"x["));
        assert!(glob_match(b"*a*b*c", b"zzazzbzzc"));
    }

    #[test]
    fn line_chunks_cap_and_partial() {
        let input = b"short\n"
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'x', 50))
            .chain(b"\nok\ntail".iter().copied())
            .collect::<Vec<u8>>();
        let lc = LineChunks::new(&input[..], 10).with_max(4);
        let all: Vec<u8> = lc.flat_map(|r| r.unwrap()).collect();
        assert_eq!(all, b"short\nok\ntail\n");
    }
}
