//! Throughput of each parser on realistic lines (bytes/s and lines/s via `cargo bench --bench
//! parse`). Lines vary addresses and ports so no branch predictor or cache sees one line.
use cordon::parse::{Format, ParseContext, Parsed, parser_for};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::tz::TimeZone;
use std::hint::black_box;

fn lines(format: Format) -> Vec<String> {
    (0..1000u32)
        .map(|i| {
            let (a, b, p) = (i % 250 + 1, (i * 7) % 250 + 1, 1024 + i * 31 % 60000);
            match format {
                Format::Netfilter => format!(
                    "Nov 23 09:12:{:02} fw kernel: [50028442.088484] [UFW BLOCK] IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=203.0.{a}.{b} DST=10.20.{b}.{a} LEN=40 TOS=0x00 PREC=0x00 TTL=245 ID=37308 PROTO=TCP SPT={p} DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0",
                    i % 60
                ),
                Format::Sshd => format!(
                    "Nov 23 09:12:{:02} gw sshd[{p}]: Failed password for invalid user user{a} from 198.51.{a}.{b} port {p} ssh2",
                    i % 60
                ),
                Format::SuricataEve => format!(
                    r#"{{"timestamp":"2026-11-20T16:02:{:02}.123456-0500","flow_id":{p}{p},"in_iface":"eth0","event_type":"alert","src_ip":"10.1.{a}.{b}","src_port":{p},"dest_ip":"198.51.100.{b}","dest_port":80,"proto":"TCP","community_id":"1:abc","alert":{{"action":"allowed","gid":1,"signature_id":2013028,"rev":7,"signature":"ET POLICY curl User-Agent Outbound","category":"Attempted Information Leak","severity":2,"metadata":{{"created_at":["2011_06_14"],"updated_at":["2024_03_05"]}}}},"http":{{"hostname":"example.com","url":"/x","http_user_agent":"curl/8.0","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":12}},"app_proto":"http","flow":{{"pkts_toserver":4,"pkts_toclient":3,"bytes_toserver":400,"bytes_toclient":300,"start":"2026-11-20T16:02:10.000000-0500"}}}}"#,
                    i % 60
                ),
                Format::Pf => format!(
                    "Nov 23 09:12:{:02} pfSense filterlog[1]: 53,,,1000000301,em0,match,block,in,4,0x0,,64,420,0,none,6,tcp,60,203.0.{a}.{b},10.0.{b}.{a},{p},22,0,S,29633380,,65535,,mss",
                    i % 60
                ),
                Format::CiscoAsa => format!(
                    "<164>Nov 23 2026 09:12:{:02} asa01 : %ASA-4-106023: Deny tcp src outside:203.0.{a}.{b}/{p} dst inside:10.1.{b}.{a}/22 by access-group \"outside_in\" [0x0, 0x0]",
                    i % 60
                ),
                Format::ZeekConn => format!(
                    "1795945921.{i:06}\tC{p}\t10.1.{a}.{b}\t{p}\t198.51.{b}.{a}\t443\ttcp\tssl\t0.5\t100\t200\tSF\tT\tF\t0\tShADadFf\t5\t300\t4\t400\t-"
                ),
                Format::ZeekNotice => format!(
                    "1795945921.{i:06}\t-\t-\t-\t-\t-\t-\t-\t-\ttcp\tSSH::Password_Guessing\t203.0.{a}.{b} appears to be guessing SSH passwords\t-\t203.0.{a}.{b}\t-\t22/tcp\t30\tzeek\tNotice::ACTION_LOG\t-\t3600.0\t-\t-\t-\t-\t-"
                ),
                Format::Dovecot => format!(
                    "Nov 23 09:12:{:02} mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 6 secs): user=<u{a}@example.edu>, method=PLAIN, rip=203.0.{a}.{b}, lip=10.0.0.25, TLS, session=<azdaDADSqqsvf-za>",
                    i % 60
                ),
                Format::Postfix => format!(
                    "Nov 23 09:12:{:02} mx postfix/smtpd[{p}]: warning: unknown[203.0.{a}.{b}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                    i % 60
                ),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ctx = ParseContext::new(
        TimeZone::get("America/New_York").unwrap(),
        "2026-11-23T12:00:00Z".parse().unwrap(),
    );
    let mut g = c.benchmark_group("parse");
    for format in Format::ALL {
        let input = lines(format);
        let bytes: usize = input.iter().map(|l| l.len() + 1).sum();
        let mut p = parser_for(format);
        // Every line must be understood, or the bench measures the error path.
        for l in &input {
            assert!(matches!(p.parse(l, &ctx), Parsed::Obs(_)), "{format}: {l}");
        }
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format.as_str(), |b| {
            b.iter(|| {
                for l in &input {
                    black_box(p.parse(black_box(l), &ctx));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
