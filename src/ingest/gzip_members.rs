//! A gzip stream read the way gzip(1) reads one: every member in turn (`cat a.gz b.gz` makes
//! one file of two), and zero bytes after the last member ignored. Tape drives, block devices
//! and some copying tools pad a file with zeros to a block boundary; flate2's
//! `MultiGzDecoder` takes them for the header of another member and fails the whole read.
//! Any other bytes after the last member are an error, as they are for gzip(1) (which names
//! them "trailing garbage").

use flate2::bufread::GzDecoder;
use std::io::{self, BufRead, Read};

/// The decompressed bytes of every member of the gzip stream `R` holds.
pub struct GzipMembers<R: BufRead> {
    /// The member being read, or `None` once the stream has ended.
    member: Option<GzDecoder<R>>,
}

impl<R: BufRead> GzipMembers<R> {
    pub fn new(r: R) -> Self {
        GzipMembers {
            member: Some(GzDecoder::new(r)),
        }
    }
}

impl GzipMembers<std::io::BufReader<std::fs::File>> {
    /// The decompressed bytes of a gzip file, read 64 KiB at a time.
    pub fn of_file(f: std::fs::File) -> Self {
        GzipMembers::new(std::io::BufReader::with_capacity(1 << 16, f))
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = &mut self.member else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This member has ended: what follows decides whether the stream has.
            let Some(member) = self.member.take() else {
                return Ok(0);
            };
            let mut rest = member.into_inner();
            let next = rest.fill_buf()?.first().copied();
            match next {
                None => return Ok(0),
                // Another member's header (its first byte; the decoder checks the rest).
                Some(0x1f) => self.member = Some(GzDecoder::new(rest)),
                Some(0) if only_zeros(&mut rest)? => return Ok(0),
                Some(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "bytes after the end of the gzip data that are neither another \
                         member nor zero padding",
                    ));
                }
            }
        }
    }
}

/// Is everything left in `r` a zero byte?
fn only_zeros(r: &mut impl BufRead) -> io::Result<bool> {
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(true);
        }
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let n = chunk.len();
        r.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        // A small buffer, so member boundaries and padding straddle refills.
        GzipMembers::new(io::BufReader::with_capacity(7, io::Cursor::new(bytes)))
            .read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_are_read_one_after_another() {
        let mut bytes = gz(b"first ");
        bytes.extend(gz(b""));
        bytes.extend(gz(b"second"));
        assert_eq!(read_all(bytes).unwrap(), b"first second");
    }

    #[test]
    fn zero_padding_after_the_last_member_is_ignored() {
        let mut bytes = gz(b"capture");
        bytes.extend([0u8; 1000]);
        assert_eq!(read_all(bytes).unwrap(), b"capture");
    }

    #[test]
    fn other_trailing_bytes_are_an_error_after_the_data_before_them() {
        let mut bytes = gz(b"capture");
        bytes.extend([0, 0, b'x']);
        let mut out = Vec::new();
        let mut r = GzipMembers::new(io::Cursor::new(bytes));
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(out, b"capture");
    }

    #[test]
    fn bytes_that_only_start_like_another_member_are_an_error() {
        let mut bytes = gz(b"capture");
        bytes.extend([0x1f, 0x00, 0x00, 0x00]);
        assert!(read_all(bytes).is_err());
    }

    #[test]
    fn a_cut_member_is_an_error() {
        let mut bytes = gz(b"a capture cut short by a full disk");
        bytes.truncate(bytes.len() - 6);
        assert!(read_all(bytes).is_err());
    }
}
