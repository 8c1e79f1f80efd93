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
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Write(usize),
    Poll(usize),
    Drain,
    Rotate,
    CopyTruncate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..15).prop_map(Op::Write),
        3 => (1usize..400).prop_map(Op::Poll),
        1 => Just(Op::Drain),
        1 => Just(Op::Rotate),
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
    t.set_rotate_grace(Duration::ZERO);
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
                let mut f = OpenOptions::new().append(true).open(&p).unwrap();
                for _ in 0..k {
                    let l = line(next) + "\n";
                    f.write_all(l.as_bytes()).unwrap();
                    if let Some((_, since, ids)) = r.pending.as_mut() {
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
            Op::Rotate => {
                r.drain();
                rotations += 1;
                fs::rename(&p, dir.path().join(format!("app.log.{rotations}"))).unwrap();
                fs::write(&p, "").unwrap();
            }
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
    r.drain();
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
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn tailer_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

#[test]
fn model_smoke() {
    let _ = Path::new(".");
    run(vec![
        Op::Write(5),
        Op::Poll(10),
        Op::Rotate,
        Op::Write(3),
        Op::CopyTruncate,
        Op::Write(2),
        Op::Drain,
    ]);
}
