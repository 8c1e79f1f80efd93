//! (in progress)
use super::{LineParser, ParseContext, Parsed};

#[derive(Debug, Default)]
pub struct CiscoAsaParser;

impl LineParser for CiscoAsaParser {
    fn parse<'a>(&mut self, _line: &'a str, _ctx: &ParseContext) -> Parsed<'a> {
        Parsed::Bad("not implemented yet")
    }
}
