//! Lines and packets in, findings out: parse → detect → correlate. No I/O and no clock: the
//! caller hands in bytes and gets findings; time is the data's own.
use crate::config::{Config, SourceConfig};
use crate::detect::ids::IdsDetector;
use crate::detect::{DetectContext, Detector, Detectors};
use crate::flow::batch::PacketRecord;
use crate::inventory::correlate::Correlator;
use crate::inventory::{Campus, Inventory};
use crate::model::{Category, Evidence, Finding, ObsKind, Observation, SensorStats, Subject};
use crate::parse::{LineParser, ParseContext, Parsed};

/// Counters for one pipeline (exported as metrics by the agent).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct PipelineStats {
    pub lines: u64,
    pub observations: u64,
    pub skipped: u64,
    pub bad: u64,
    pub evidence: u64,
}

/// How long an address blamed by IDS evidence stays suspicious for the login detector.
const BLAME_TTL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Per-source view: which networks are campus for this sensor, its name.
pub struct SourceView {
    pub name: String,
    pub campus: Campus,
}

impl SourceView {
    pub fn new(cfg: &Config, src: &SourceConfig) -> Self {
        SourceView {
            name: src.name.clone(),
            campus: Campus::new(src.campus.as_deref().unwrap_or(&cfg.campus.networks)),
        }
    }
}

pub struct Pipeline {
    detectors: Detectors,
    ids: IdsDetector,
    correlator: Correlator,
    inventory: Inventory,
    severity: crate::config::SeverityConfig,
    evidence: Vec<Evidence>,
    pub stats: PipelineStats,
    bad_samples: u64,
    /// The latest sensor stats record not yet taken (older ones are superseded: the counters
    /// are cumulative). One slot, so a caller that never takes them holds no memory.
    sensor: Option<SensorStats>,
}

impl Pipeline {
    pub fn new(cfg: &Config) -> Self {
        let inventory = Inventory::new(&cfg.inventory, &cfg.campus);
        Pipeline {
            detectors: Detectors::new(&cfg.detect, inventory.account_pattern()),
            ids: IdsDetector::new(&cfg.detect.ids),
            correlator: Correlator::new(100_000),
            inventory,
            severity: cfg.severity.clone(),
            evidence: Vec::new(),
            stats: PipelineStats::default(),
            bad_samples: 0,
            sensor: None,
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Feed a batch of packet records through every detector. Each record's likely cache
    /// misses are started a few records ahead, while the records before it are worked on:
    /// on a busy edge nearly every new connection misses in three tables.
    pub fn observe_packets(&mut self, batch: &[PacketRecord], src: &SourceView) {
        // Two stages: index cells `AHEAD` records ahead, the entries they name `AHEAD / 2`
        // ahead (see `Detectors::prefetch_slots`).
        const AHEAD: usize = 8;
        let prefetch = |d: &Detectors, r: &PacketRecord| {
            if let (Some(s), Some(t)) = (r.src, r.dst) {
                d.prefetch(r.kind, s, t, r.dst_port);
            }
        };
        let prefetch_slots = |d: &Detectors, r: &PacketRecord| {
            if let (Some(s), Some(t)) = (r.src, r.dst) {
                d.prefetch_slots(r.kind, s, t, r.dst_port);
            }
        };
        for r in batch.iter().take(AHEAD) {
            prefetch(&self.detectors, r);
        }
        for r in batch.iter().take(AHEAD / 2) {
            prefetch_slots(&self.detectors, r);
        }
        for (i, r) in batch.iter().enumerate() {
            if let Some(next) = batch.get(i + AHEAD) {
                prefetch(&self.detectors, next);
            }
            if let Some(next) = batch.get(i + AHEAD / 2) {
                prefetch_slots(&self.detectors, next);
            }
            // A flow's summary is counted and goes no further: detectors count a packet
            // connection at its attempt and verdict (see `Detectors::observe`). (The agent's
            // own flow engines emit none: `FlowSettings::for_source`.)
            if r.kind == ObsKind::Flow {
                self.stats.observations += 1;
                continue;
            }
            self.observe(&r.observation(), src);
        }
    }

    /// Feed one observation through every detector.
    pub fn observe(&mut self, obs: &Observation<'_>, src: &SourceView) {
        self.stats.observations += 1;
        let ctx = DetectContext::new(&src.campus, self.inventory.allow(), &src.name);
        // Packets carry no signatures: only log records can be IDS evidence.
        if obs.from_packets {
            self.detectors.observe(obs, &ctx, &mut self.evidence);
            return;
        }
        let before = self.evidence.len();
        self.ids.observe(obs, &ctx, &mut self.evidence);
        for ev in &self.evidence[before..] {
            if let (Subject::Host(ip), Category::One) = (&ev.subject, ev.kind.category()) {
                self.detectors.note_blamed(
                    *ip,
                    ev.last_seen
                        .saturating_add(BLAME_TTL)
                        .unwrap_or(ev.last_seen),
                );
            }
        }
        self.detectors.observe(obs, &ctx, &mut self.evidence);
    }

    /// Parse a block of complete lines and feed what parses. Bad lines are counted and a
    /// sample is logged; they never stop the source.
    pub fn lines(
        &mut self,
        parser: &mut dyn LineParser,
        pctx: &ParseContext,
        data: &[u8],
        src: &SourceView,
    ) {
        // One UTF-8 check for the whole block (the common case, and much cheaper than one per
        // line); a block with a bad line falls back to checking line by line.
        let text = std::str::from_utf8(data).ok();
        let mut start = 0;
        while start < data.len() {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
            let (from, raw) = (start, &data[start..end]);
            start = end + 1;
            if raw.is_empty() {
                continue;
            }
            self.stats.lines += 1;
            // `\n` is ASCII, so a valid block splits into valid lines.
            let line = match text {
                Some(t) => &t[from..end],
                None => match std::str::from_utf8(raw) {
                    Ok(s) => s,
                    Err(_) => {
                        self.bad(src, "not UTF-8", &String::from_utf8_lossy(raw));
                        continue;
                    }
                },
            };
            self.line(parser, pctx, line, src);
        }
    }

    fn line(
        &mut self,
        parser: &mut dyn LineParser,
        pctx: &ParseContext,
        line: &str,
        src: &SourceView,
    ) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match parser.parse(line, pctx) {
            Parsed::Obs(obs) => self.observe(&obs, src),
            Parsed::Skip => self.stats.skipped += 1,
            Parsed::Bad(why) => self.bad(src, why, line),
            // Counted as skipped (no observation); kept for the caller's metrics.
            Parsed::Stats(s) => {
                self.stats.skipped += 1;
                self.sensor = Some(s);
            }
        }
    }

    fn bad(&mut self, src: &SourceView, why: &str, line: &str) {
        self.stats.bad += 1;
        self.bad_samples += 1;
        // The first few, then one in a thousand: a flood of garbage must not flood the log.
        if self.bad_samples <= 5 || self.bad_samples.is_multiple_of(1000) {
            let sample: String = line.chars().take(200).collect();
            tracing::warn!(source = %src.name, reason = why, bad_lines = self.bad_samples, sample = %sample, "skipped a line that did not parse");
        }
    }

    /// Findings for the evidence gathered since the last call.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        // Called after every packet observation: the common empty case must cost nothing.
        if self.evidence.is_empty() {
            return Vec::new();
        }
        let evs = std::mem::take(&mut self.evidence);
        self.stats.evidence += evs.len() as u64;
        evs.into_iter()
            .map(|ev| self.correlator.finding(ev, &self.inventory, &self.severity))
            .collect()
    }

    /// The latest sensor stats record read since the last call (from the lines of one
    /// `lines` call when called after each).
    pub fn take_sensor_stats(&mut self) -> Option<SensorStats> {
        self.sensor.take()
    }

    pub fn detect_stats(&self) -> crate::detect::DetectStats {
        self.detectors.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Proto;

    fn demo() -> Config {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/cordon.toml");
        crate::config::load(std::path::Path::new(path)).unwrap()
    }

    fn record(kind: ObsKind, n: u8) -> PacketRecord {
        PacketRecord {
            time: jiff::Timestamp::from_second(1_800_000_000 + i64::from(n)).unwrap(),
            kind,
            proto: Proto::Tcp,
            icmp: None,
            src: Some([10, 20, 0, n].into()),
            dst: Some([198, 51, 100, n].into()),
            src_port: Some(40_000),
            dst_port: Some(443),
            packets: 1,
            bytes: 60,
            note: None,
        }
    }

    #[test]
    fn packet_flow_summaries_are_counted_but_reach_no_detector() {
        let cfg = demo();
        let view = SourceView {
            name: "capture".into(),
            campus: Campus::new(&cfg.campus.networks),
        };
        let mut p = Pipeline::new(&cfg);
        // Many summaries of refused connections from one campus host to many peers: were they
        // taken for connections, they would be the scan and flood detectors' input.
        let batch: Vec<PacketRecord> = (0..200u8)
            .map(|n| PacketRecord {
                src: Some([10, 20, 0, 1].into()),
                note: Some("attempt:rst"),
                ..record(ObsKind::Flow, n)
            })
            .chain([record(ObsKind::ConnAttempt, 1)])
            .collect();
        p.observe_packets(&batch, &view);
        assert_eq!(p.stats.observations, 201, "every record is counted");
        assert!(p.take_findings().is_empty());
        // The detectors hold what the attempt alone gives them.
        let mut alone = Pipeline::new(&cfg);
        alone.observe_packets(&batch[200..], &view);
        assert_eq!(alone.stats.observations, 1);
        assert_eq!(p.detect_stats(), alone.detect_stats());
        assert!(
            p.detect_stats().flood.tracked > 0,
            "the attempt did reach them"
        );
    }
}
