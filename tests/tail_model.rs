//! Model-based property test: random interleavings of writes, polls, rename+create rotations
//! and copytruncates against a model of what was written. Properties: no line is ever read
//! twice; every line is read exactly once unless it fell in the documented copytruncate window
//! (after a truncation, the writer wrote at least as many bytes as our old offset before we
//! looked — then the truncation is invisible and those bytes are skipped).
use cordon::ingest::file_tail::Tailer;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Write(usize),
    Poll(usize),
    Drain,
    /// Rename the file away; the writer keeps writing to the old inode until `Reopen`.
    Rename,
    Reopen,
    CopyTruncate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..15).prop_map(Op::Write),
        3 => (1usize..400).prop_map(Op::Poll),
        1 => Just(Op::Drain),
        1 => Just(Op::Rename),
        1 => Just(Op::Reopen),
        1 => Just(Op::CopyTruncate),
    ]
}

fn line(id: usize) -> String {
    format!("L{id}:{}", "p".repeat(id * 7 % 41))
}

fn parse(s: &str) -> Option<usize> {
    let id: usize = s.strip_prefix('L')?.split(':').next()?.parse().ok()?;
    (line(id) == s).then_some(id)
}

struct Run {
    t: Tailer,
    got: Vec<String>,
    /// Copytruncate not yet observed by a poll: (offset when truncated, bytes since, ids since).
    pending: Option<(u64, u64, Vec<usize>)>,
    at_risk: HashSet<usize>,
}

impl Run {
    fn before_poll(&mut self) {
        if let Some((old, since, ids)) = self.pending.take()
            && since >= old
        {
            self.at_risk.extend(ids);
        }
    }
    fn poll(&mut self, max: usize) -> bool {
        self.before_poll();
        match self.t.poll(max).unwrap() {
            Some(c) => {
                assert!(c.data.ends_with(b"\n"));
                let s = String::from_utf8(c.data).unwrap();
                self.got.extend(s.lines().map(String::from));
                true
            }
            None => false,
        }
    }
    fn drain(&mut self) {
        while self.poll(4096) {}
    }
}

fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("app.log");
    fs::write(&p, "").unwrap();
    let mut t = Tailer::new("s", p.to_str().unwrap(), true, vec![]).unwrap();
    // Rotated files stay watched for the whole run; set to zero at the end to drop them.
    t.set_rotate_grace(Duration::from_secs(3600));
    let mut writer = OpenOptions::new().append(true).open(&p).unwrap();
    let mut renamed = false;
    let mut r = Run {
        t,
        got: Vec::new(),
        pending: None,
        at_risk: HashSet::new(),
    };
    let mut next = 0usize;
    let mut rotations = 0;
    for op in ops {
        match op {
            Op::Write(k) => {
                for _ in 0..k {
                    let l = line(next) + "\n";
                    writer.write_all(l.as_bytes()).unwrap();
                    if let Some((_, since, ids)) = r.pending.as_mut()
                        && !renamed
                    {
                        *since += l.len() as u64;
                        ids.push(next);
                    }
                    next += 1;
                }
            }
            Op::Poll(max) => {
                r.poll(max);
            }
            Op::Drain => r.drain(),
            Op::Rename if !renamed => {
                // A path-only pattern must have seen the current file before it moves again.
                r.drain();
                rotations += 1;
                fs::rename(&p, dir.path().join(format!("app.log.{rotations}"))).unwrap();
                renamed = true;
            }
            Op::Reopen if renamed => {
                writer = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&p)
                    .unwrap();
                renamed = false;
            }
            Op::Rename | Op::Reopen => {}
            Op::CopyTruncate if renamed => {}
            Op::CopyTruncate => {
                r.drain();
                let old = fs::metadata(&p).unwrap().len();
                fs::copy(&p, dir.path().join("app.log.copy")).unwrap();
                OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
                r.pending = Some((old, 0, Vec::new()));
            }
        }
    }
    r.drain();
    r.t.set_rotate_grace(Duration::ZERO);
    r.drain();
    r.drain();
    assert_eq!(
        r.t.stats().files,
        u64::from(!renamed),
        "rotated files dropped"
    );
    let mut count: HashMap<usize, usize> = HashMap::new();
    let mut fragments = 0;
    for l in &r.got {
        match parse(l) {
            Some(id) => *count.entry(id).or_default() += 1,
            None => fragments += 1,
        }
    }
    for (id, n) in &count {
        assert_eq!(*n, 1, "line {id} read {n} times");
    }
    for id in 0..next {
        if !r.at_risk.contains(&id) {
            assert_eq!(
                count.get(&id),
                Some(&1),
                "line {id} lost outside the race window"
            );
        }
    }
    if r.at_risk.is_empty() {
        assert_eq!(fragments, 0, "fragments only in the copytruncate window");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn tailer_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

#[test]
fn model_smoke() {
    run(vec![
        Op::Write(5),
        Op::Poll(10),
        Op::Rename,
        Op::Drain,
        Op::Write(3),
        Op::Poll(10),
        Op::Reopen,
        Op::Write(3),
        Op::CopyTruncate,
        Op::Write(2),
        Op::Drain,
    ]);
}
