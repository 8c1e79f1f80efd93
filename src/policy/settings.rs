//! The policy's numbers, gathered from config once so the engine reads plain values.
//! Owns no behaviour; every default lives in `config::schema`.
use super::Calendar;
use crate::config::{Category1Config, Category2Config, Config, SeverityConfig};

/// Everything the engine needs besides the incident, the event and the time.
#[derive(Debug, Clone)]
pub struct Policy {
    pub calendar: Calendar,
    pub cat1: Category1Config,
    pub cat2: Category2Config,
    pub severity: SeverityConfig,
}

impl Policy {
    pub fn new(
        calendar: Calendar,
        cat1: Category1Config,
        cat2: Category2Config,
        severity: SeverityConfig,
    ) -> Self {
        Policy {
            calendar,
            cat1,
            cat2,
            severity,
        }
    }

    pub fn from_config(c: &Config) -> Self {
        Policy {
            calendar: Calendar::from_config(&c.calendar),
            cat1: c.policy.category1.clone(),
            cat2: c.policy.category2.clone(),
            severity: c.severity.clone(),
        }
    }

    /// The policy defaults with the given calendar (tests, replay with a bare calendar).
    pub fn with_defaults(calendar: Calendar) -> Self {
        Policy::new(
            calendar,
            Category1Config::default(),
            Category2Config::default(),
            SeverityConfig::default(),
        )
    }
}
