//! Generate a synthetic Ethernet/IPv4 pcap for benchmarks (see scripts/bench-pcap.sh).
//!
//!   gen_pcap OUT.pcap [--packets N] [--peers P] [--interleave K]
//!
//! Default: ~N packets of mixed traffic from a /16 campus to P outside peers (default 50,000):
//! TCP sessions (handshake, data, FIN), DNS over UDP, SYN probes answered by RST, ICMP echo.
//! With `--peers 1000000` every session uses a new outside peer and sessions are two packets
//! (SYN/RST-ACK or UDP query/answer), so a 2,000,000-packet file reaches a million distinct
//! peers — the memory worst case for the flow table.
//!
//! Sessions are written one after another by default. With `--interleave K`, K sessions are
//! open at once and each next packet comes from one of them picked at random, as on a real
//! link: a flow's packets are then far apart, and which way a packet goes cannot be guessed
//! from the packets before it.
use std::io::{BufWriter, Write};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

struct Gen<W: Write> {
    w: W,
    usec: u64,
    n: u64,
    buf: Vec<u8>,
    /// Interleaving: the frames of the session being built, the sessions open (each a list
    /// of frames, next one last), how many may be open, and the generator that picks.
    building: Vec<Vec<u8>>,
    open: Vec<Vec<Vec<u8>>>,
    interleave: usize,
    pick: Rng,
    /// Frames made (written, or waiting in open sessions).
    made: u64,
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;

impl<W: Write> Gen<W> {
    /// The frame in `buf` is the next of the current session.
    fn record(&mut self) -> std::io::Result<()> {
        self.made += 1;
        if self.interleave > 1 {
            self.building.push(self.buf.clone());
            return Ok(());
        }
        self.write_frame()
    }

    /// The current session is complete: with interleaving, open it, and while too many are
    /// open write the next frame of a random one.
    fn end_session(&mut self) -> std::io::Result<()> {
        if self.interleave > 1 {
            let mut frames = std::mem::take(&mut self.building);
            frames.reverse();
            self.open.push(frames);
            while self.open.len() >= self.interleave {
                self.write_from_open()?;
            }
        }
        Ok(())
    }

    fn write_from_open(&mut self) -> std::io::Result<()> {
        let i = (self.pick.next() % self.open.len() as u64) as usize;
        let Some(frame) = self.open[i].pop() else {
            self.open.swap_remove(i);
            return Ok(());
        };
        if self.open[i].is_empty() {
            self.open.swap_remove(i);
        }
        self.buf = frame;
        self.write_frame()
    }

    /// Write every frame still waiting in open sessions.
    fn finish(&mut self) -> std::io::Result<()> {
        while !self.open.is_empty() {
            self.write_from_open()?;
        }
        Ok(())
    }

    fn write_frame(&mut self) -> std::io::Result<()> {
        self.usec += 20;
        let sec = 1_800_000_000 + self.usec / 1_000_000;
        let us = self.usec % 1_000_000;
        let len = self.buf.len() as u32;
        self.w.write_all(&(sec as u32).to_le_bytes())?;
        self.w.write_all(&(us as u32).to_le_bytes())?;
        self.w.write_all(&len.to_le_bytes())?;
        self.w.write_all(&len.to_le_bytes())?;
        self.w.write_all(&self.buf)?;
        self.n += 1;
        Ok(())
    }

    fn ip(&mut self, src: [u8; 4], dst: [u8; 4], proto: u8, l4_len: usize) {
        self.buf.clear();
        self.buf
            .extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00]);
        let total = (20 + l4_len) as u16;
        self.buf.extend_from_slice(&[0x45, 0]);
        self.buf.extend_from_slice(&total.to_be_bytes());
        self.buf
            .extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
        self.buf.extend_from_slice(&src);
        self.buf.extend_from_slice(&dst);
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        src: [u8; 4],
        dst: [u8; 4],
        sp: u16,
        dp: u16,
        flags: u8,
        payload: usize,
    ) -> std::io::Result<()> {
        self.ip(src, dst, 6, 20 + payload);
        self.buf.extend_from_slice(&sp.to_be_bytes());
        self.buf.extend_from_slice(&dp.to_be_bytes());
        self.buf
            .extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        self.buf.resize(self.buf.len() + payload, 0x61);
        self.record()
    }

    fn udp(
        &mut self,
        src: [u8; 4],
        dst: [u8; 4],
        sp: u16,
        dp: u16,
        payload: usize,
    ) -> std::io::Result<()> {
        self.ip(src, dst, 17, 8 + payload);
        self.buf.extend_from_slice(&sp.to_be_bytes());
        self.buf.extend_from_slice(&dp.to_be_bytes());
        self.buf
            .extend_from_slice(&((8 + payload) as u16).to_be_bytes());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.resize(self.buf.len() + payload, 0x62);
        self.record()
    }

    fn icmp(&mut self, src: [u8; 4], dst: [u8; 4], ty: u8, id: u16) -> std::io::Result<()> {
        self.ip(src, dst, 1, 16);
        self.buf.extend_from_slice(&[ty, 0, 0, 0]);
        self.buf.extend_from_slice(&id.to_be_bytes());
        self.buf.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        self.record()
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .expect("usage: gen_pcap OUT.pcap [--packets N] [--peers P] [--interleave K]");
    let mut packets: u64 = 2_000_000;
    let mut peers: u64 = 50_000;
    let mut interleave: usize = 1;
    let mut i = 2;
    while i + 1 < args.len() {
        match args[i].as_str() {
            "--packets" => packets = args[i + 1].parse().expect("--packets N"),
            "--peers" => peers = args[i + 1].parse().expect("--peers P"),
            "--interleave" => interleave = args[i + 1].parse().expect("--interleave K"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    let million = peers >= 500_000;
    let f = std::fs::File::create(out)?;
    let mut g = Gen {
        w: BufWriter::with_capacity(1 << 20, f),
        usec: 0,
        n: 0,
        buf: Vec::with_capacity(2048),
        building: Vec::new(),
        open: Vec::with_capacity(interleave),
        interleave,
        pick: Rng(0x2545_F491_4F6C_DD1D),
        made: 0,
    };
    // pcap global header: magic, v2.4, tz 0, sigfigs 0, snaplen 65535, Ethernet.
    g.w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    g.w.write_all(&2u16.to_le_bytes())?;
    g.w.write_all(&4u16.to_le_bytes())?;
    g.w.write_all(&[0; 8])?;
    g.w.write_all(&65535u32.to_le_bytes())?;
    g.w.write_all(&1u32.to_le_bytes())?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut session: u64 = 0;
    while g.made < packets {
        let r = rng.next();
        let host = (r >> 8) as u16 % 4096;
        let campus = [10, 20, (host >> 8) as u8, host as u8];
        let p = if million {
            session % peers
        } else {
            (r >> 24) % peers
        };
        let peer = [100 + (p >> 16) as u8, (p >> 8) as u8, p as u8, 7];
        let sp = 1024 + (session % 60000) as u16;
        let pick = r % 100;
        if million {
            if pick < 50 {
                g.tcp(campus, peer, sp, 443, SYN, 0)?;
                g.tcp(peer, campus, 443, sp, RST | ACK, 0)?;
            } else {
                g.udp(campus, peer, sp, 53, 40)?;
                g.udp(peer, campus, 53, sp, 80)?;
            }
        } else if pick < 60 {
            let dp = [443, 80, 22, 25, 993][(r >> 40) as usize % 5];
            g.tcp(campus, peer, sp, dp, SYN, 0)?;
            g.tcp(peer, campus, dp, sp, SYN | ACK, 0)?;
            g.tcp(campus, peer, sp, dp, ACK, 0)?;
            g.tcp(campus, peer, sp, dp, PSH | ACK, 200)?;
            g.tcp(peer, campus, dp, sp, PSH | ACK, 1200)?;
            g.tcp(peer, campus, dp, sp, PSH | ACK, 1200)?;
            g.tcp(campus, peer, sp, dp, ACK, 0)?;
            g.tcp(campus, peer, sp, dp, FIN | ACK, 0)?;
            g.tcp(peer, campus, dp, sp, FIN | ACK, 0)?;
            g.tcp(campus, peer, sp, dp, ACK, 0)?;
        } else if pick < 85 {
            g.udp(campus, peer, sp, 53, 40)?;
            g.udp(peer, campus, 53, sp, 120)?;
        } else if pick < 95 {
            let dp = (r >> 32) as u16 | 1;
            g.tcp(campus, peer, sp, dp, SYN, 0)?;
            g.tcp(peer, campus, dp, sp, RST | ACK, 0)?;
        } else {
            g.icmp(campus, peer, 8, sp)?;
            g.icmp(peer, campus, 0, sp)?;
        }
        g.end_session()?;
        session += 1;
    }
    g.finish()?;
    g.w.flush()?;
    eprintln!("{out}: {} packets, {session} sessions", g.n);
    Ok(())
}
