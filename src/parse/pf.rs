//! (in progress)
use super::{LineParser, ParseContext, Parsed};

#[derive(Debug, Default)]
pub struct PfParser;

impl LineParser for PfParser {
    fn parse<'a>(&mut self, _line: &'a str, _ctx: &ParseContext) -> Parsed<'a> {
        Parsed::Bad("not implemented yet")
    }
}
