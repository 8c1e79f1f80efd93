//! Prometheus metrics for the agent. Names follow `cordon_<what>_total` for counters.
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Default, Clone)]
pub struct Metrics {
    pub lines: Counter,
    pub lines_bad: Counter,
    pub observations: Counter,
    pub evidence: Counter,
    pub incidents_opened: Counter,
    pub notices_delivered: Counter,
    pub notices_failed: Counter,
    pub hook_calls_done: Counter,
    pub hook_calls_failed: Counter,
    pub effect_retries: Counter,
    pub detector_evictions: Gauge,
}

impl Metrics {
    pub fn register(&self, r: &mut Registry) {
        r.register("cordon_lines", "Input lines read", self.lines.clone());
        r.register(
            "cordon_lines_bad",
            "Input lines that did not parse (skipped)",
            self.lines_bad.clone(),
        );
        r.register(
            "cordon_observations",
            "Observations from lines and packets",
            self.observations.clone(),
        );
        r.register(
            "cordon_evidence",
            "Evidence records produced by detectors",
            self.evidence.clone(),
        );
        r.register(
            "cordon_incidents_opened",
            "Incidents opened",
            self.incidents_opened.clone(),
        );
        r.register(
            "cordon_notices_delivered",
            "Notices delivered",
            self.notices_delivered.clone(),
        );
        r.register(
            "cordon_notices_failed",
            "Notices that failed for good",
            self.notices_failed.clone(),
        );
        r.register(
            "cordon_hook_calls_done",
            "Hook calls that succeeded (or were dry runs)",
            self.hook_calls_done.clone(),
        );
        r.register(
            "cordon_hook_calls_failed",
            "Hook calls refused, held or failed for good",
            self.hook_calls_failed.clone(),
        );
        r.register(
            "cordon_effect_retries",
            "Effect attempts that will be retried",
            self.effect_retries.clone(),
        );
        r.register(
            "cordon_detector_evictions",
            "Detector table entries evicted at their caps",
            self.detector_evictions.clone(),
        );
    }
}
