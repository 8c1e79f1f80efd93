//! (in progress)
use super::{LineParser, ParseContext, Parsed};

#[derive(Debug, Default)]
pub struct ZeekConnParser;
#[derive(Debug, Default)]
pub struct ZeekNoticeParser;

impl LineParser for ZeekConnParser {
    fn parse<'a>(&mut self, _line: &'a str, _ctx: &ParseContext) -> Parsed<'a> {
        Parsed::Bad("not implemented yet")
    }
}
impl LineParser for ZeekNoticeParser {
    fn parse<'a>(&mut self, _line: &'a str, _ctx: &ParseContext) -> Parsed<'a> {
        Parsed::Bad("not implemented yet")
    }
}
