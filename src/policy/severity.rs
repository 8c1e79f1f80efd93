//! Severity classification: who is told and which reports are owed (DESIGN "Severity").
//! Pure function of inventory flags, spread and evidence kinds; never lowers to NA (only a
//! person decides that something was not an incident).
use crate::config::SeverityConfig;
use crate::model::{Category, EvidenceKind, HostInfo, Severity};

/// High: confidential data, a critical service, or spreading (`spread >= spread_high`).
/// Medium: moderate spread (`spread >= spread_medium`), or evidence that the subject harms
/// others or an account is taken over (Category 1 kinds: department-scale impact).
/// Low: otherwise.
pub fn severity(
    host: &HostInfo,
    kinds: &[EvidenceKind],
    spread: u32,
    cfg: &SeverityConfig,
) -> Severity {
    if host.confidential_data || host.critical || spread >= cfg.spread_high.max(1) {
        return Severity::High;
    }
    let harms_others = kinds.iter().any(|k| k.category() == Category::One);
    if harms_others || spread >= cfg.spread_medium.max(1) {
        return Severity::Medium;
    }
    Severity::Low
}

#[cfg(test)]
mod tests {
    use super::*;
    use EvidenceKind::*;

    #[test]
    fn severity_table() {
        let cfg = SeverityConfig::default(); // high at 10, medium at 3
        let plain = HostInfo::default();
        let critical = HostInfo {
            critical: true,
            ..HostInfo::default()
        };
        let pii = HostInfo {
            confidential_data: true,
            ..HostInfo::default()
        };
        let rows: &[(&HostInfo, &[EvidenceKind], u32, Severity)] = &[
            (&plain, &[Vulnerable], 1, Severity::Low),
            (&plain, &[TrojanC2], 1, Severity::Low),
            (&plain, &[TrojanC2], 2, Severity::Low),
            (&plain, &[TrojanC2], 3, Severity::Medium),
            (&plain, &[TrojanC2], 9, Severity::Medium),
            (&plain, &[TrojanC2], 10, Severity::High),
            (&plain, &[OutboundScan], 1, Severity::Medium),
            (
                &plain,
                &[Vulnerable, AccountCompromise],
                1,
                Severity::Medium,
            ),
            (&critical, &[Vulnerable], 1, Severity::High),
            (&pii, &[Beacon], 0, Severity::High),
            (&plain, &[], 0, Severity::Low),
        ];
        for (host, kinds, spread, want) in rows {
            assert_eq!(
                severity(host, kinds, *spread, &cfg),
                *want,
                "{kinds:?} spread {spread}"
            );
        }
    }

    #[test]
    fn zero_thresholds_do_not_make_everything_high() {
        let cfg = SeverityConfig {
            spread_high: 0,
            spread_medium: 0,
            ..SeverityConfig::default()
        };
        assert_eq!(
            severity(&HostInfo::default(), &[Vulnerable], 0, &cfg),
            Severity::Low
        );
    }
}
