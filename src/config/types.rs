//! Value types that parse themselves while the TOML is read, so a bad value is reported with
//! its dotted key path (through `serde_path_to_error`) and a reason.
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A duration written the friendly way: `"15m"`, `"90s"`, `"2h 30m"`. Days are not accepted
/// here because a day is not a fixed length; day counts are separate integer keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Duration(pub jiff::SignedDuration);

impl Duration {
    pub fn from_secs(s: i64) -> Self {
        Duration(jiff::SignedDuration::from_secs(s))
    }
    pub fn std(self) -> std::time::Duration {
        self.0.unsigned_abs()
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // jiff's own message is about its grammar, not about our keys; say what to write.
        let v: jiff::SignedDuration = s.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "invalid duration {s:?} (write e.g. \"15m\", \"90s\", \"2h 30m\"; days are not accepted)"
            ))
        })?;
        if v.is_negative() {
            return Err(serde::de::Error::custom(format!(
                "duration {s:?} must not be negative"
            )));
        }
        Ok(Duration(v))
    }
}

/// An IANA time zone name, resolved against the bundled tz database.
#[derive(Clone, PartialEq)]
pub struct TimeZone {
    pub name: String,
    pub tz: jiff::tz::TimeZone,
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl TimeZone {
    pub fn utc() -> Self {
        TimeZone {
            name: "UTC".into(),
            tz: jiff::tz::TimeZone::UTC,
        }
    }
    pub fn get(name: &str) -> Result<Self, String> {
        jiff::tz::TimeZone::get(name)
            .map(|tz| TimeZone {
                name: name.to_string(),
                tz,
            })
            .map_err(|_| format!("unknown time zone {name:?}"))
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeZone::get(&s).map_err(serde::de::Error::custom)
    }
}

/// A regular expression from config, compiled at load time.
#[derive(Clone)]
pub struct Pattern(pub regex_lite::Regex);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex_lite::Regex::new(&s)
            .map(Pattern)
            .map_err(|e| serde::de::Error::custom(format!("invalid pattern {s:?}: {e}")))
    }
}

/// A secret, possibly written as `${ENV_NAME}` (expanded at load time). Never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        super::env::expand(&s)
            .map(Secret)
            .map_err(serde::de::Error::custom)
    }
}

/// A day of the week, written `mon`..`sun` (or in full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weekday(pub jiff::civil::Weekday);

impl<'de> Deserialize<'de> for Weekday {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use jiff::civil::Weekday as W;
        let s = String::deserialize(d)?;
        let w = match s.to_ascii_lowercase().as_str() {
            "mon" | "monday" => W::Monday,
            "tue" | "tuesday" => W::Tuesday,
            "wed" | "wednesday" => W::Wednesday,
            "thu" | "thursday" => W::Thursday,
            "fri" | "friday" => W::Friday,
            "sat" | "saturday" => W::Saturday,
            "sun" | "sunday" => W::Sunday,
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "unknown weekday {s:?} (use mon, tue, wed, thu, fri, sat, sun)"
                )));
            }
        };
        Ok(Weekday(w))
    }
}
