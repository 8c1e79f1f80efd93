//! Property tests: no parser panics, whatever the input — arbitrary bytes, arbitrary strings,
//! and realistic lines cut, spliced and mutated at random places (where slicing bugs live).
use cordon::parse::{Format, ParseContext, Parsed, parser_for};
use jiff::tz::TimeZone;
use proptest::prelude::*;

const SAMPLES: [&str; 12] = [
    "Nov 23 09:12:01 gw sshd[4242]: Failed password for invalid user admin from 2001:db8::7 port 40022 ssh2",
    "<134>1 2026-11-23T09:12:01.5+00:00 opnsense filterlog 69805 - [meta sequenceId=\"1\"] 103,,,40b9,re0,match,pass,out,6,0x00,0x00000,64,udp,17,48,2001:db8::5,2001:db8:1::53,64752,53,28",
    "Nov 23 09:12:01 pfSense filterlog: 5,,,1000000103,igb0,match,block,in,4,0x0,,49,29553,0,none,1,icmp,84,198.51.100.1,10.0.0.1,request,47447,1",
    "Nov 23 09:12:01 fw kernel: [50028442.088484] [UFW BLOCK] IN=eth0 OUT= MAC=00:08 SRC=195.54.160.107 DST=10.20.0.5 LEN=40 PROTO=TCP SPT=8080 DPT=8123 SYN",
    "0 3 PVEFW-HOST-IN 20/Jun/2022:13:09:14 +0200 policy DROP: IN=vmbr0.94 SRC=10.3.94.11 DST=10.3.94.12 LEN=52 PROTO=UDP SPT=49152 DPT=3784",
    "<164>Nov 23 2026 09:12:01 asa01 : %ASA-6-605004: Login denied from 203.0.113.9/40000 to outside:192.0.2.1/ssh for user \"admin\"",
    "%ASA-5-106100: access-list outside_in denied udp outside/203.0.113.8(5353) -> inside/10.1.2.5(161) hit-cnt 3 first hit [0x1, 0x0]",
    r#"{"timestamp":"2026-11-20T16:02:11.123456-0500","event_type":"alert","src_ip":"10.1.2.3","src_port":49152,"dest_ip":"198.51.100.80","dest_port":80,"proto":"TCP","alert":{"signature_id":2013028,"signature":"ET \"x\"","category":"c","severity":2},"flow":{"pkts_toserver":1}}"#,
    "1795945921.250000\tC1\t10.1.2.3\t50000\t198.51.100.9\t445\ttcp\t-\t-\t-\t-\tS0\tT\tF\t0\tS\t2\t104\t0\t0\t-",
    r#"{"ts":"2026-11-29T09:52:01.000000Z","note":"Scan::Port_Scan","msg":"m","src":"10.1.2.3","p":22}"#,
    "Nov 23 09:12:01 mail dovecot: auth-worker(1): conn unix:auth-worker (pid=5,uid=1): auth-worker<4>: sql(contact,220.169.110.101,<x>): unknown user",
    "Nov 23 09:12:01 mx postfix/smtpd[26897]: 4F3A21C0: client=host.example[2001:db8::42], sasl_method=PLAIN, sasl_username=alice",
];

fn ctx() -> ParseContext {
    ParseContext::new(
        TimeZone::get("Europe/Berlin").unwrap(),
        "2026-12-31T23:59:59Z".parse().unwrap(),
    )
}

/// Every parser (fresh and, for Zeek, after a header) on `line`; also checks `raw`.
fn all_parsers(line: &str) {
    let ctx = ctx();
    for f in Format::ALL {
        let mut p = parser_for(f);
        if let Parsed::Obs(o) = p.parse(line, &ctx) {
            assert!(line.contains(o.raw.trim_end_matches(['\r', '\n'])));
        }
        // A second line through the same (possibly stateful) parser.
        let _ = p.parse(line, &ctx);
    }
    let mut z = parser_for(Format::ZeekConn);
    let _ = z.parse("#separator ,", &ctx);
    let _ = z.parse("#fields,ts,id.orig_h", &ctx);
    let _ = z.parse(line, &ctx);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        all_parsers(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_strings(s in ".{0,300}") {
        all_parsers(&s);
    }

    #[test]
    fn mutated_samples(
        which in 0..SAMPLES.len(),
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        insert in "[ :\\[\\]=,/().\"{}<>0-9a-zA-Z\u{e9}\u{1F600}\t-]{0,12}",
        truncate in any::<bool>(),
    ) {
        let s = SAMPLES[which];
        let chars: Vec<char> = s.chars().collect();
        let a = at.index(chars.len() + 1);
        let mut m: String = chars[..a].iter().collect();
        m.push_str(&insert);
        if !truncate {
            let b = cut.index(chars.len() + 1).max(a);
            m.extend(&chars[b..]);
        }
        all_parsers(&m);
    }
}
