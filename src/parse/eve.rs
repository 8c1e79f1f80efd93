//! (in progress)
use super::{LineParser, ParseContext, Parsed};

#[derive(Debug, Default)]
pub struct EveParser;

impl LineParser for EveParser {
    fn parse<'a>(&mut self, _line: &'a str, _ctx: &ParseContext) -> Parsed<'a> {
        Parsed::Bad("not implemented yet")
    }
}
