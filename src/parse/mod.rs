//! One pure parser per log format: a line in, an [`Observation`] borrowing from it out.
//!
//! Owns: format recognition, field extraction, timestamp normalization (zone and year
//! inference from [`ParseContext`]). Must not touch: I/O, the clock, metrics, detectors. A
//! parser never panics and never fails the pipeline: it answers [`Parsed::Skip`] for lines it
//! understands but that carry nothing of interest, and [`Parsed::Bad`] with a static reason for
//! lines it cannot read; the caller counts and samples both.
use crate::model::{Observation, SensorStats};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::fmt;
use std::str::FromStr;

mod cisco_asa;
mod dovecot;
mod eve;
mod fields;
mod netfilter;
mod pf;
mod postfix;
mod sshd;
pub mod syslog_header;
mod zeek;

pub use cisco_asa::CiscoAsaParser;
pub use dovecot::DovecotParser;
pub use eve::EveParser;
pub use netfilter::NetfilterParser;
pub use pf::PfParser;
pub use postfix::PostfixParser;
pub use sshd::SshdParser;
pub use zeek::{ZeekConnParser, ZeekNoticeParser};

/// The log formats cordon reads. The names (`FromStr`/`Display`) are the ones used in config
/// and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    SuricataEve,
    Netfilter,
    Pf,
    CiscoAsa,
    ZeekConn,
    ZeekNotice,
    Sshd,
    Dovecot,
    Postfix,
}

impl Format {
    /// Every format, in a stable order (for help texts, tests and benches).
    pub const ALL: [Format; 9] = [
        Format::SuricataEve,
        Format::Netfilter,
        Format::Pf,
        Format::CiscoAsa,
        Format::ZeekConn,
        Format::ZeekNotice,
        Format::Sshd,
        Format::Dovecot,
        Format::Postfix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::SuricataEve => "suricata_eve",
            Format::Netfilter => "netfilter",
            Format::Pf => "pf",
            Format::CiscoAsa => "cisco_asa",
            Format::ZeekConn => "zeek_conn",
            Format::ZeekNotice => "zeek_notice",
            Format::Sshd => "sshd",
            Format::Dovecot => "dovecot",
            Format::Postfix => "postfix",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown log format {0:?} (known: suricata_eve, netfilter, pf, cisco_asa, zeek_conn, zeek_notice, sshd, dovecot, postfix)"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// What a parser needs besides the line. Time is an argument (the pure core reads no clock).
/// Build one per batch of lines with [`ParseContext::new`]; it memoizes the last civil stamp
/// it converted, which is what makes zone-less stamps cheap (a busy log repeats the same
/// second for many lines).
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// Zone for stamps that carry none (RFC 3164 syslog, ASA without offset).
    pub tz: TimeZone,
    /// "Now" in data time (a live source: the arrival time; a replay: the file's time).
    /// Year-less syslog stamps get the year that puts them closest to `now`, so a Dec 31 line
    /// read on Jan 1 lands in the old year. Records with no stamp at all (Cisco ASA with its
    /// default `no logging timestamp`, RFC 5424 `-`) are stamped `now`.
    pub now: Timestamp,
    /// `now`'s year in `tz` (year inference starts there).
    now_year: i16,
    /// The last zone-less stamp converted and its instant. Valid for this `tz` and `now`
    /// only, which is why the fields above are fixed at construction.
    memo: std::cell::Cell<Option<(StampKey, Timestamp)>>,
}

/// A civil stamp as written: year 0 means "year-less, inferred from `now`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StampKey {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub time: jiff::civil::Time,
}

impl ParseContext {
    pub fn new(tz: TimeZone, now: Timestamp) -> Self {
        let now_year = now.to_zoned(tz.clone()).year();
        ParseContext {
            tz,
            now,
            now_year,
            memo: std::cell::Cell::new(None),
        }
    }

    pub(crate) fn now_year(&self) -> i16 {
        self.now_year
    }

    /// The instant for `key`, computed by `convert` unless it is the same stamp as last time.
    pub(crate) fn memo_stamp(
        &self,
        key: StampKey,
        convert: impl FnOnce() -> Option<Timestamp>,
    ) -> Option<Timestamp> {
        if let Some((k, ts)) = self.memo.get()
            && k == key
        {
            return Some(ts);
        }
        let ts = convert()?;
        self.memo.set(Some((key, ts)));
        Some(ts)
    }
}

/// The outcome of parsing one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<'a> {
    /// Something a detector may use.
    Obs(Observation<'a>),
    /// Understood, not interesting: headers, comments, other programs' lines.
    Skip,
    /// A sensor's own health counters (Suricata EVE `stats`): for metrics and logs, never for
    /// detectors.
    Stats(SensorStats),
    /// Not understood; the reason is for counters and the sampled log.
    Bad(&'static str),
}

impl<'a> Parsed<'a> {
    /// The observation, if any (handy in tests).
    pub fn obs(self) -> Option<Observation<'a>> {
        match self {
            Parsed::Obs(o) => Some(o),
            _ => None,
        }
    }
}

/// One parser instance per source: `&mut self` lets formats with headers (Zeek TSV `#fields`)
/// keep state between lines.
pub trait LineParser: Send {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a>;
}

/// A fresh parser for `format`.
// Parsers may grow state (caches) without changing this function.
#[allow(clippy::default_constructed_unit_structs)]
pub fn parser_for(format: Format) -> Box<dyn LineParser> {
    match format {
        Format::SuricataEve => Box::new(EveParser::default()),
        Format::Netfilter => Box::new(NetfilterParser::default()),
        Format::Pf => Box::new(PfParser::default()),
        Format::CiscoAsa => Box::new(CiscoAsaParser::default()),
        Format::ZeekConn => Box::new(ZeekConnParser::default()),
        Format::ZeekNotice => Box::new(ZeekNoticeParser::default()),
        Format::Sshd => Box::new(SshdParser::default()),
        Format::Dovecot => Box::new(DovecotParser::default()),
        Format::Postfix => Box::new(PostfixParser::default()),
    }
}
