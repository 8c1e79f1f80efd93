//! Windowed, bounded detectors: observations in, evidence out. Pure: time comes from the
//! observations (data time), never from the clock. Every table keyed by attacker-chosen
//! values has a cap and counts its evictions (DESIGN invariant 5).

use crate::inventory::Campus;
use crate::model::{Evidence, Observation};

/// What every detector may consult.
pub struct DetectContext<'c> {
    /// Which addresses are ours (per source: a source may override the campus networks).
    pub campus: &'c Campus,
    /// Addresses whose traffic never becomes evidence (allow-listed relays, our scanners).
    pub allow: &'c Campus,
    /// Configured source name, recorded in evidence.
    pub sensor: &'c str,
}

/// A detector consumes observations and emits evidence into `out`.
pub trait Detector: Send {
    /// Feed one observation; push any evidence it completes onto `out`.
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>);
    /// Short stable name, used in evidence and metrics.
    fn name(&self) -> &'static str;
}
