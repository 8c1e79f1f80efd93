//! `LineChunks` (what `stdin_chunks` returns for `-`) over a real OS pipe fed by a slow writer:
//! complete lines come out as soon as they arrive, a line split across writes is joined, and a
//! final unterminated line is returned at end of stream.
use cordon::ingest::file_tail::{DEFAULT_LINE_CAP, LineChunks};
use std::io::Write;
use std::time::Duration;

#[test]
fn pipe_chunks_complete_lines_without_waiting_for_max() {
    let (reader, mut writer) = std::io::pipe().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let w = std::thread::spawn(move || {
        writer.write_all(b"first line\nsec").unwrap();
        // Wait until the reader has returned the first line: no blocking on a full chunk.
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        writer.write_all(b"ond line\n").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        writer.write_all(b"third\nno-newline").unwrap();
    });
    let mut lc = LineChunks::new(reader, DEFAULT_LINE_CAP).with_max(1 << 20);
    assert_eq!(lc.read_chunk().unwrap().unwrap(), b"first line\n");
    tx.send(()).unwrap();
    let mut rest = Vec::new();
    for c in lc.by_ref() {
        let c = c.unwrap();
        assert!(c.ends_with(b"\n"));
        rest.extend(c);
    }
    w.join().unwrap();
    assert_eq!(rest, b"second line\nthird\nno-newline\n");
    assert_eq!(lc.consumed, 11 + 12 + 6 + 10);
}
