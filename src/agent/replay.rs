//! `cordon replay`: the whole pipeline over recorded input in data time, with an in-memory
//! store. Effects are not carried out: notices count as delivered, hooks as dry runs, and
//! each is reported. After the input ends the clock runs on through the remaining deadlines
//! (nobody answers in a replay), so the report shows what the policy would have done.
use super::pipeline::{Pipeline, SourceView};
use crate::config::Config;
use crate::flow::FlowStats;
use crate::flow::batch::PacketRecord;
use crate::ingest::file_tail::{DEFAULT_LINE_CAP, LineChunks};
use crate::ingest::pcap_file::{FrameFilter, PcapCounts, PcapError};
use crate::model::{EffectKind, Event, Finding, Incident};
use crate::parse::{Format, ParseContext, parser_for};
use crate::policy::{Policy, Step};
use crate::store::{SqliteStore, Store};
use anyhow::{Context, Result};
use jiff::Timestamp;
use serde_json::json;
use std::io::{Read, Write};

/// One input for replay.
pub enum Input {
    Lines {
        name: String,
        format: Format,
        reader: Box<dyn Read>,
    },
    Pcap {
        name: String,
        path: std::path::PathBuf,
    },
}

pub struct Replay<W: Write> {
    cfg: Config,
    policy: Policy,
    store: SqliteStore,
    pipeline: Pipeline,
    out: W,
    json: bool,
    /// Data time: the latest observation time seen.
    clock: Option<Timestamp>,
    /// Read captures on a second thread (see [`Replay::capture_threads`]).
    capture_thread: bool,
    /// Capture filter for packet-capture inputs (see [`Replay::capture_filter`]).
    capture_filter: Option<String>,
    /// What the packet-capture inputs held, for the summary.
    pub captures: CaptureTotals,
    pub incidents_opened: u64,
    pub notices: u64,
    pub hooks: u64,
}

impl<W: Write> Replay<W> {
    pub fn new(cfg: Config, out: W, json: bool) -> Result<Self> {
        Ok(Replay {
            policy: Policy::from_config(&cfg),
            store: SqliteStore::in_memory()?,
            pipeline: Pipeline::new(&cfg),
            cfg,
            out,
            json,
            clock: None,
            capture_thread: !one_core(),
            capture_filter: None,
            captures: CaptureTotals::default(),
            incidents_opened: 0,
            notices: 0,
            hooks: 0,
        })
    }

    pub fn input(&mut self, input: Input) -> Result<()> {
        match input {
            Input::Lines {
                name,
                format,
                reader,
            } => {
                let view = self.view(&name);
                let mut parser = parser_for(format);
                let tz = self.cfg.calendar.timezone.tz.clone();
                // Blocks of whole lines, as `cordon run` reads streams: lines over the cap are
                // skipped and counted, like a tailed file's.
                let mut chunks = LineChunks::new(reader, DEFAULT_LINE_CAP).with_max(BLOCK);
                while let Some(block) = chunks.read_chunk()? {
                    // Year inference needs "now": the data time reached so far.
                    let now = self.clock.unwrap_or_else(Timestamp::now);
                    let pctx = ParseContext::new(tz.clone(), now);
                    self.pipeline.lines(parser.as_mut(), &pctx, &block, &view);
                    // Detectors see a block ahead of the policy engine; findings still reach
                    // it in data-time order, each after the deadlines that fall before it.
                    self.after_input()?;
                }
                if chunks.long_lines > 0 {
                    // Counted with the bad lines so the summary accounts for every line.
                    self.pipeline.stats.lines += chunks.long_lines;
                    self.pipeline.stats.bad += chunks.long_lines;
                    tracing::warn!(source = %name, lines = chunks.long_lines, cap = DEFAULT_LINE_CAP, "skipped lines longer than the cap");
                }
            }
            Input::Pcap { name, path } => {
                let view = self.view(&name);
                let flow = crate::flow::FlowSettings::for_source(&self.cfg, None);
                let path = path.as_path();
                let (read, stats) = if self.capture_thread {
                    self.pcap_threaded(path, &flow, &view)?
                } else {
                    self.pcap_inline(path, &flow, &view)?
                };
                if stats.unjudged_one_way > 0 {
                    tracing::warn!(
                        source = %name,
                        unjudged = stats.unjudged_one_way,
                        "attempts left unjudged: parts of the capture show no answers to anyone (one direction only, or an outage)"
                    );
                }
                if stats.answer_unseen > 0 {
                    tracing::warn!(
                        source = %name,
                        attempts = stats.answer_unseen,
                        "TCP attempts whose initiators acknowledged answers the capture does not hold (split routing? see detect.flow.trust_unseen_answers)"
                    );
                }
                // The caller names the input; the error names the capture and its cause.
                let counts = read?;
                self.captures.add(&counts, &stats);
            }
        }
        Ok(())
    }

    /// Detectors, then the policy engine, on one batch of packet observations.
    fn packet_batch(&mut self, batch: &[PacketRecord], view: &SourceView) -> Result<()> {
        self.pipeline.observe_packets(batch, view);
        // Once per batch, as per block of lines: findings still reach the policy engine in
        // data-time order, each after the deadlines before it.
        self.after_input()
    }

    /// On a single core a reader thread only adds hand-offs and context switches: the flow
    /// engine hands each batch straight to the detectors on this thread.
    fn pcap_inline(
        &mut self,
        path: &std::path::Path,
        flow: &crate::flow::FlowSettings,
        view: &SourceView,
    ) -> Result<(Result<PcapCounts, PcapError>, FlowStats)> {
        let mut failed = None;
        let mut stats = FlowStats::default();
        let filter = self.capture_filter.as_deref().map(FrameFilter::new);
        let sink = |mut batch: Vec<PacketRecord>| {
            if let Err(e) = self.packet_batch(&batch, view) {
                failed = Some(e);
                return Err(());
            }
            batch.clear();
            Ok(Some(batch))
        };
        let read = crate::ingest::pcap_file::flow_batches(path, flow, filter, sink, |s| stats = s);
        match failed {
            Some(e) => Err(e),
            None => Ok((read, stats)),
        }
    }

    /// As in `cordon run`: the flow engine runs on a reader thread and hands batches of
    /// observations to this one, which runs the detectors and the policy engine on one batch
    /// while the next is decoded. Emptied batches go back for reuse; a bounded channel keeps
    /// memory bounded by the flow and detector tables.
    fn pcap_threaded(
        &mut self,
        path: &std::path::Path,
        flow: &crate::flow::FlowSettings,
        view: &SourceView,
    ) -> Result<(Result<PcapCounts, PcapError>, FlowStats)> {
        let filter = self.capture_filter.as_deref().map(FrameFilter::new);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<PacketRecord>>(4);
        let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Vec<PacketRecord>>();
        std::thread::scope(|s| {
            let reader = std::thread::Builder::new()
                .name("pcap-replay".into())
                .spawn_scoped(s, move || {
                    let sink = |batch| match tx.send(batch) {
                        Ok(()) => Ok(spare_rx.try_recv().ok()),
                        Err(_) => Err(()),
                    };
                    let mut stats = FlowStats::default();
                    let r = crate::ingest::pcap_file::flow_batches(path, flow, filter, sink, |s| {
                        stats = s
                    });
                    drop(tx);
                    (r, stats)
                })
                .context("starting the capture reader thread")?;
            let mut failed = None;
            for mut batch in &rx {
                if let Err(e) = self.packet_batch(&batch, view) {
                    failed = Some(e);
                    break;
                }
                batch.clear();
                let _ = spare_tx.send(batch);
            }
            // Dropping the receiver tells a reader still running to stop.
            drop(rx);
            let read = reader.join();
            if let Some(e) = failed {
                return Err(e);
            }
            read.map_err(|_| anyhow::anyhow!("the capture reader thread panicked"))
        })
    }

    /// Decode captures on a reader thread while this one runs the detectors (`2`), or both on
    /// this thread (`1`). The default is 2, or 1 when the process may use only one core.
    pub fn capture_threads(&mut self, n: u8) {
        self.capture_thread = n >= 2;
    }

    /// Apply a capture filter (`tcpdump` syntax, as `tcpdump -r FILE EXPR` takes it) to every
    /// packet-capture input, compiled for each file's link type. A filter that does not
    /// compile fails the first capture input.
    pub fn capture_filter(&mut self, expr: &str) {
        self.capture_filter = Some(expr.to_string());
    }

    fn view(&self, name: &str) -> SourceView {
        SourceView {
            name: name.to_string(),
            campus: crate::inventory::Campus::new(&self.cfg.campus.networks),
        }
    }

    fn after_input(&mut self) -> Result<()> {
        let findings = self.pipeline.take_findings();
        for f in findings {
            let t = f.evidence.last_seen;
            let now = match self.clock {
                Some(c) if c > t => c,
                _ => t,
            };
            self.advance(now)?;
            self.finding(f, now)?;
        }
        Ok(())
    }

    /// Move data time to `now`, firing every deadline on the way in order.
    fn advance(&mut self, now: Timestamp) -> Result<()> {
        let mut guard = 0u32;
        while let Some(t) = self.store.next_deadline()? {
            if t > now {
                break;
            }
            let steps = super::fire_due(&mut self.store, &self.policy, t)?;
            guard += 1;
            if guard > 10_000 {
                // The engine left a deadline it does not act on: never loop on it.
                anyhow::bail!(
                    "policy engine keeps deadline {t} pending: {:?}",
                    steps
                        .iter()
                        .map(|s| (
                            s.incident.id.to_string(),
                            s.incident.phase.name(),
                            s.incident.deadlines.clone(),
                            s.audit.clone()
                        ))
                        .collect::<Vec<_>>()
                );
            }
            for s in steps {
                self.report_step(&s, t, None)?;
            }
        }
        self.clock = Some(now);
        Ok(())
    }

    fn finding(&mut self, f: Finding, now: Timestamp) -> Result<()> {
        let applied = super::apply_findings(
            &mut self.store,
            &self.policy,
            std::slice::from_ref(&f),
            vec![],
            now,
        )?;
        for a in applied {
            self.report_step(&a.step, now, Some((&f, a.opened)))?;
        }
        Ok(())
    }

    /// Report a step and carry out its effects virtually (feeding the results back).
    fn report_step(
        &mut self,
        step: &Step,
        now: Timestamp,
        finding: Option<(&Finding, bool)>,
    ) -> Result<()> {
        let inc = &step.incident;
        if let Some((f, true)) = finding {
            {
                self.incidents_opened += 1;
                self.emit(now, inc, "incident_opened", json!({
                    "subject": inc.subject.to_string(), "category": inc.category.number(),
                    "severity": inc.severity.as_str(), "evidence": f.evidence.kind.as_str(),
                    "signature": f.evidence.signature, "owner": inc.owner.as_ref().map(|o| &o.email),
                }), &format!("opened: {} category {} severity {} ({}{})", inc.subject, inc.category, inc.severity,
                    f.evidence.kind.as_str(), f.evidence.signature.as_deref().map(|s| format!(": {s}")).unwrap_or_default()))?;
            }
        }
        for e in &step.effects {
            let event = match &e.kind {
                EffectKind::Notify {
                    notice, audience, ..
                } => {
                    self.notices += 1;
                    let to = crate::notify::recipients(*audience, inc, &self.cfg);
                    self.emit(now, inc, "notice", json!({"notice": notice.as_str(), "audience": crate::notify::audience_name(*audience), "to": to}),
                        &format!("notice {} to {} {:?}", notice.as_str(), crate::notify::audience_name(*audience), to))?;
                    (*audience == crate::model::Audience::Owner).then(|| Event::NoticeDelivered {
                        key: e.key.clone(),
                        notice: *notice,
                    })
                }
                EffectKind::Hook { action } => {
                    self.hooks += 1;
                    self.emit(
                        now,
                        inc,
                        "hook",
                        json!({"action": action.as_str(), "subject": inc.subject.to_string()}),
                        &format!(
                            "hook {} for {} (replay: not executed)",
                            action.as_str(),
                            inc.subject
                        ),
                    )?;
                    Some(Event::EnforcementDone {
                        key: e.key.clone(),
                        action: *action,
                        ok: true,
                        detail: "replay".into(),
                    })
                }
            };
            if let Some(ev) = event {
                let s =
                    super::apply_event(&mut self.store, &self.policy, &inc.id, &ev, "replay", now)?;
                self.report_step(&s, now, None)?;
            }
        }
        if let (Some(d), Some((_, true))) = (inc.deadlines.first(), finding) {
            {
                self.emit(
                    now,
                    inc,
                    "deadline",
                    json!({"kind": d.kind.as_str(), "at": d.at.to_string()}),
                    &format!(
                        "next deadline {} at {}",
                        d.kind.as_str(),
                        self.policy.calendar.show(d.at)
                    ),
                )?;
            }
        }
        Ok(())
    }

    fn emit(
        &mut self,
        now: Timestamp,
        inc: &Incident,
        kind: &str,
        mut detail: serde_json::Value,
        text: &str,
    ) -> Result<()> {
        let local = self.policy.calendar.local(now);
        if self.json {
            if let Some(o) = detail.as_object_mut() {
                o.insert(
                    "time".into(),
                    json!(
                        local
                            .timestamp()
                            .display_with_offset(local.offset())
                            .to_string()
                    ),
                );
                o.insert("incident".into(), json!(inc.id.as_str()));
                o.insert("type".into(), json!(kind));
            }
            writeln!(self.out, "{detail}")?;
        } else {
            writeln!(
                self.out,
                "{}  {}  {}",
                self.policy.calendar.show(now),
                inc.id,
                text
            )?;
        }
        Ok(())
    }

    /// After the input: run the clock on through the remaining deadlines (bounded).
    pub fn finish(&mut self, horizon_days: u32) -> Result<()> {
        if let Some(c) = self.clock {
            let end = self.policy.calendar.calendar_days_after(c, horizon_days);
            self.advance(end)?;
        }
        Ok(())
    }

    pub fn stats(&self) -> super::pipeline::PipelineStats {
        self.pipeline.stats
    }

    /// Write out whatever the report writer still buffers.
    pub fn flush_output(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// What a replay's packet-capture inputs held: every frame read is either tracked, skipped as
/// malformed (counted by reason in the flow engine) or dropped by the capture filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureTotals {
    /// Capture inputs read.
    pub files: u64,
    /// Frames read.
    pub packets: u64,
    /// Frames skipped: undecodable, or stamped outside the representable time range.
    pub malformed: u64,
    /// Frames the capture filter dropped.
    pub filtered: u64,
}

impl CaptureTotals {
    fn add(&mut self, read: &PcapCounts, engine: &FlowStats) {
        self.files += 1;
        self.packets += read.packets;
        self.malformed += engine.malformed.total() + read.bad_time;
        // Frames with a good stamp either passed the filter (and reached the engine) or not.
        self.filtered += read.packets.saturating_sub(read.bad_time + engine.packets);
    }
}

/// Replay reads 1 MiB blocks of whole lines.
const BLOCK: usize = 1 << 20;

/// Open a replay input: `-` is stdin; `.gz` is decompressed. Unbuffered for plain files:
/// the replay reads 1 MiB blocks itself, and a `BufReader` in between would copy each twice.
pub fn open_lines(path: &str) -> Result<Box<dyn Read>> {
    if path == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
    if path.ends_with(".gz") {
        Ok(Box::new(crate::ingest::gzip_members::GzipMembers::of_file(
            f,
        )))
    } else {
        Ok(Box::new(f))
    }
}

/// May this process use one core only? A CPU set of one (`taskset`, cgroup cpuset) or a CPU
/// quota under two (cgroup `cpu.max`) both count: a second thread could not run beside the
/// first anyway.
fn one_core() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() == 1)
}
