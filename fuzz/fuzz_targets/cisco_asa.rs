//! Fuzz the cisco_asa parser: any bytes, split into lines, through one parser instance (so
//! stateful parsers see headers followed by records). It must never panic.
#![no_main]
use cordon::parse::{Format, ParseContext, parser_for};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = ParseContext {
        tz: jiff::tz::TimeZone::UTC,
        now: jiff::Timestamp::from_second(1_795_945_921).unwrap(),
    };
    let text = String::from_utf8_lossy(data);
    let mut p = parser_for(Format::CiscoAsa);
    for line in text.split('\n') {
        let _ = p.parse(line, &ctx);
    }
});
