//! Fuzz the pf parser: any bytes, split into lines, through one parser instance (so
//! stateful parsers see headers followed by records). It must never panic, and an observation's
//! `raw` must be (a part of) the line it came from.
#![no_main]
use cordon::parse::{Format, ParseContext, Parsed, parser_for};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = ParseContext::new(jiff::tz::TimeZone::UTC, jiff::Timestamp::from_second(1_795_945_921).unwrap());
    let text = String::from_utf8_lossy(data);
    let mut p = parser_for(Format::Pf);
    for line in text.split('\n') {
        if let Parsed::Obs(o) = p.parse(line, &ctx) {
            assert!(line.contains(o.raw.trim_end_matches(['\r', '\n'])));
        }
    }
});
