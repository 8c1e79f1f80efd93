use serde::{Deserialize, Serialize};
use std::fmt;

/// Policy category: drives the enforcement clock. Lower number = more urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Category {
    /// Actively harming others (or a compromised account): 15-minute window.
    One,
    /// Compromised but quiet: notices, plan, 3-calendar-day cap.
    Two,
    /// Vulnerable: notify and track, never enforced.
    Three,
}

impl Category {
    pub fn number(self) -> u8 {
        match self {
            Category::One => 1,
            Category::Two => 2,
            Category::Three => 3,
        }
    }
    /// True when `self` is more urgent than `other` (category only rises automatically).
    pub fn is_above(self, other: Category) -> bool {
        self.number() < other.number()
    }
    pub fn meaning(self) -> &'static str {
        match self {
            Category::One => {
                "a compromise that is actively causing problems for other computers or users"
            }
            Category::Two => "a compromised host that is not (yet) causing problems for others",
            Category::Three => "a host vulnerable to a known exploit",
        }
    }
}

impl From<Category> for u8 {
    fn from(c: Category) -> u8 {
        c.number()
    }
}

impl TryFrom<u8> for Category {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            1 => Ok(Category::One),
            2 => Ok(Category::Two),
            3 => Ok(Category::Three),
            other => Err(format!("category must be 1, 2 or 3, not {other}")),
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// Severity: drives who is told, how fast, and which reports are owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Investigated and found not to be an incident; kept for statistics.
    #[serde(rename = "na")]
    NA,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::NA => "na",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
