//! Golden tests: one realistic line in, the normalized JSON view (`cordon parse` output) out.
//! Stamps without a zone are read in America/New_York; "now" for year inference is
//! 2026-11-23T12:00:00Z.
use cordon::cli::parse::{stats_json, to_json};
use cordon::parse::{Format, ParseContext, Parsed, parser_for};
use jiff::tz::TimeZone;
use serde_json::Value;

fn ctx() -> ParseContext {
    ParseContext::new(
        TimeZone::get("America/New_York").unwrap(),
        "2026-11-23T12:00:00Z".parse().unwrap(),
    )
}

/// Parse `line` as `format` and compare with `expected` (JSON; `"skip"` or `{"error": …}`).
fn check(format: Format, line: &str, expected: &str) {
    let ctx = ctx();
    let mut p = parser_for(format);
    let got = match p.parse(line, &ctx) {
        Parsed::Obs(o) => {
            assert_eq!(o.raw.trim_end(), line.trim_end(), "raw must be the line");
            to_json(1, &o, &ctx.tz)
        }
        Parsed::Skip => Value::String("skip".into()),
        Parsed::Bad(why) => serde_json::json!({ "error": why }),
        Parsed::Stats(s) => stats_json(1, &s, &ctx.tz),
    };
    let mut want: Value = serde_json::from_str(expected).expect("expected is JSON");
    if let Value::Object(m) = &mut want
        && !m.contains_key("error")
    {
        m.insert("line".into(), 1.into());
    }
    assert_eq!(
        got, want,
        "\nformat {format}\nline {line}\n got {got}\nwant {want}"
    );
}

fn check_bad(format: Format, line: &str) {
    let mut p = parser_for(format);
    assert!(
        matches!(p.parse(line, &ctx()), Parsed::Bad(_)),
        "{format} must refuse {line:?}"
    );
}

// ---------------------------------------------------------------- sshd

#[test]
fn sshd_failed_password() {
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[4242]: Failed password for root from 203.0.113.9 port 52144 ssh2",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"203.0.113.9","src_port":52144,"proto":"tcp","user":"root","note":"Failed password"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[4242]: Failed password for invalid user admin from 2001:db8::7 port 40022 ssh2",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"2001:db8::7","src_port":40022,"proto":"tcp","user":"admin","note":"Failed password"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[4242]: message repeated 2 times: [ Failed password for root from 203.0.113.9 port 52144 ssh2]",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"203.0.113.9","src_port":52144,"proto":"tcp","user":"root","note":"Failed password"}"#,
    );
}

#[test]
fn sshd_crafted_user_cannot_move_the_address() {
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[1]: Failed password for invalid user x from 6.6.6.6 port 22 from 198.51.100.4 port 5022 ssh2",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"198.51.100.4","src_port":5022,"proto":"tcp","user":"x from 6.6.6.6 port 22","note":"Failed password"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[1]: Invalid user a from 6.6.6.6 from 198.51.100.4 port 61000",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_invalid_user","src":"198.51.100.4","src_port":61000,"proto":"tcp","user":"a from 6.6.6.6","note":"invalid user"}"#,
    );
}

#[test]
fn sshd_brief_example_and_old_forms() {
    // The issue's example: the last `from <ip> port` wins; a trailing bare `from` does not.
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[1]: Failed password for invalid user x from 1.2.3.4 port 22 ssh2 from 6.6.6.6",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"1.2.3.4","src_port":22,"proto":"tcp","user":"x","note":"Failed password"}"#,
    );
    // OpenSSH 6 (no port), RFC 5424 envelope.
    check(
        Format::Sshd,
        "<38>1 2026-11-23T14:12:01Z gw sshd 24200 - - Invalid user webmaster from 173.234.31.186",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_invalid_user","src":"173.234.31.186","proto":"tcp","user":"webmaster","note":"invalid user"}"#,
    );
    check(
        Format::Sshd,
        "Dec 10 06:55:46 LabSZ sshd[24200]: Received disconnect from 173.234.31.186: 11: Bye Bye [preauth]",
        r#"{"time":"2026-12-10T06:55:46-05:00","kind":"other","src":"173.234.31.186","proto":"tcp","note":"received disconnect"}"#,
    );
}

#[test]
fn sshd_other_messages() {
    check(
        Format::Sshd,
        "2026-11-23T09:12:01.123456+01:00 gw sshd[7]: Accepted publickey for alice from 192.0.2.10 port 50000 ssh2: ED25519 SHA256:abc",
        r#"{"time":"2026-11-23T03:12:01.123456-05:00","kind":"auth_success","src":"192.0.2.10","src_port":50000,"proto":"tcp","user":"alice","note":"Accepted publickey"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: Accepted keyboard-interactive/pam for bob from 192.0.2.10 port 50001 ssh2",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_success","src":"192.0.2.10","src_port":50001,"proto":"tcp","user":"bob","note":"Accepted keyboard-interactive/pam"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: Invalid user  from 192.0.2.11 port 3",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_invalid_user","src":"192.0.2.11","src_port":3,"proto":"tcp","user":"","note":"invalid user"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: error: maximum authentication attempts exceeded for invalid user oracle from 192.0.2.12 port 4444 ssh2 [preauth]",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"notice","src":"192.0.2.12","src_port":4444,"proto":"tcp","user":"oracle","note":"maximum authentication attempts exceeded"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: Disconnected from authenticating user root 192.0.2.13 port 22022 [preauth]",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"other","src":"192.0.2.13","src_port":22022,"proto":"tcp","user":"root","note":"disconnected"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.14  user=root",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"other","src":"192.0.2.14","proto":"tcp","user":"root","note":"pam authentication failure"}"#,
    );
    // journalctl -o short-full
    check(
        Format::Sshd,
        "Mon 2026-11-23 09:12:01 EST gw sshd-session[7]: Failed publickey for git from 192.0.2.15 port 1 ssh2",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"192.0.2.15","src_port":1,"proto":"tcp","user":"git","note":"Failed publickey"}"#,
    );
    // odd whitespace: double blank after the host, CRLF
    check(
        Format::Sshd,
        "Nov  3 09:12:01 gw  sshd[7]: Failed none for invalid user ftp from 192.0.2.16 port 2 ssh2\r\n",
        r#"{"time":"2026-11-03T09:12:01-05:00","kind":"auth_failure","src":"192.0.2.16","src_port":2,"proto":"tcp","user":"ftp","note":"Failed none"}"#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: Server listening on 0.0.0.0 port 22.",
        r#""skip""#,
    );
    check(
        Format::Sshd,
        "Nov 23 09:12:01 gw cron[7]: Failed password for root from 1.2.3.4 port 1 ssh2",
        r#""skip""#,
    );
    check(Format::Sshd, "", r#""skip""#);
}

#[test]
fn sshd_refuses_broken_lines() {
    check_bad(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: Failed password for root from 203.0.11",
    );
    check_bad(Format::Sshd, "Nov 23 09:1");
    check_bad(
        Format::Sshd,
        "Foo 23 09:12:01 gw sshd[7]: Failed password for root from 1.2.3.4 port 1 ssh2",
    );
    check_bad(
        Format::Sshd,
        "Nov 23 09:12:01 gw sshd[7]: Failed password for root from 999.2.3.4 port 1 ssh2",
    );
}

#[test]
fn year_inference_at_new_year() {
    let ctx = ParseContext::new(TimeZone::UTC, "2027-01-01T00:00:30Z".parse().unwrap());
    let mut p = parser_for(Format::Sshd);
    let o = p
        .parse(
            "Dec 31 23:59:59 gw sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2",
            &ctx,
        )
        .obs()
        .unwrap();
    assert_eq!(o.time.to_string(), "2026-12-31T23:59:59Z");
    let o = p
        .parse(
            "Jan  1 00:00:10 gw sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2",
            &ctx,
        )
        .obs()
        .unwrap();
    assert_eq!(o.time.to_string(), "2027-01-01T00:00:10Z");
}

// ---------------------------------------------------------------- netfilter

#[test]
fn netfilter_lines() {
    check(
        Format::Netfilter,
        "Nov 23 09:12:01 fw kernel: [50028442.088484] [UFW BLOCK] IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=195.54.160.107 DST=10.20.0.5 LEN=40 TOS=0x00 PREC=0x00 TTL=245 ID=37308 PROTO=TCP SPT=8080 DPT=8123 WINDOW=1024 RES=0x00 SYN URGP=0",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"195.54.160.107","src_port":8080,"dst":"10.20.0.5","dst_port":8123,"proto":"tcp","packets":1,"bytes":40,"note":"[UFW BLOCK]"}"#,
    );
    check(
        Format::Netfilter,
        "Nov 23 09:12:01 fw kernel: ACCEPT-IN IN=eth0 OUT= SRC=2001:db8::1 DST=2001:db8::2 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=1 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=1",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_attempt","src":"2001:db8::1","dst":"2001:db8::2","proto":"icmpv6","icmp_type":128,"icmp_code":0,"packets":1,"bytes":104,"note":"ACCEPT-IN"}"#,
    );
    // ICMP error quoting an inner packet: the outer fields win.
    check(
        Format::Netfilter,
        "Nov 23 09:12:01 fw kernel: IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.2 LEN=56 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.2 DST=192.0.2.1 LEN=28 PROTO=UDP SPT=5 DPT=53 LEN=8 ]",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"192.0.2.1","dst":"10.0.0.2","proto":"icmp","icmp_type":3,"icmp_code":3,"packets":1,"bytes":56}"#,
    );
    // nftables via journald short-iso, log prefix with a trailing blank
    check(
        Format::Netfilter,
        "2026-11-23T09:12:01+0000 fw kernel: nft drop in: IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.3 LEN=60 PROTO=UDP SPT=123 DPT=161 LEN=40",
        r#"{"time":"2026-11-23T04:12:01-05:00","kind":"conn_denied","src":"198.51.100.7","src_port":123,"dst":"10.0.0.3","dst_port":161,"proto":"udp","packets":1,"bytes":60,"note":"nft drop in:"}"#,
    );
    check(
        Format::Netfilter,
        "Nov 23 09:12:01 fw kernel: e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex",
        r#""skip""#,
    );
    check_bad(
        Format::Netfilter,
        "Nov 23 09:12:01 fw kernel: DROP IN=eth0 OUT= SRC=198.51.100.7 DST=",
    );
    check_bad(Format::Netfilter, "IN=eth0 SRC=1.2.3.4 DST=5.6.7.8");
}

// ---------------------------------------------------------------- pf

#[test]
fn pf_lines() {
    check(
        Format::Pf,
        "Nov 23 09:12:01 pfSense filterlog[1]: 53,,,1000000301,em0,match,block,in,4,0x0,,64,420,0,none,6,tcp,460,203.0.113.2,10.0.2.15,53742,22,420,PA,29633380:29633800,3617062173,65535,,",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"203.0.113.2","src_port":53742,"dst":"10.0.2.15","dst_port":22,"proto":"tcp","packets":1,"bytes":460,"note":"53,,,1000000301,em0,match,block,in"}"#,
    );
    check(
        Format::Pf,
        "<134>1 2026-11-23T09:12:01.5+00:00 opnsense filterlog 69805 - [meta sequenceId=\"1\"] 103,,,40b9,re0,match,pass,out,6,0x00,0x00000,64,udp,17,48,2001:db8::5,2001:db8:1::53,64752,53,28",
        r#"{"time":"2026-11-23T04:12:01.5-05:00","kind":"conn_attempt","src":"2001:db8::5","src_port":64752,"dst":"2001:db8:1::53","dst_port":53,"proto":"udp","packets":1,"bytes":48,"note":"103,,,40b9,re0,match,pass,out"}"#,
    );
    check(
        Format::Pf,
        "Nov 23 09:12:01 pfSense filterlog: 5,,,1000000103,igb0,match,block,in,4,0x0,,49,29553,0,none,1,icmp,84,198.51.100.1,10.0.0.1,request,47447,1",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"198.51.100.1","dst":"10.0.0.1","proto":"icmp","icmp_type":8,"icmp_code":0,"packets":1,"bytes":84,"note":"5,,,1000000103,igb0,match,block,in"}"#,
    );
    check(
        Format::Pf,
        "Nov 23 09:12:01 pfSense dhcpd: DHCPACK on 10.0.0.9",
        r#""skip""#,
    );
    check_bad(
        Format::Pf,
        "Nov 23 09:12:01 pfSense filterlog: 53,,,1000000301,em0,match,block",
    );
    check_bad(
        Format::Pf,
        "Nov 23 09:12:01 pfSense filterlog: 53,,,1,em0,match,block,in,4,0x0,,64,1,0,none,6,tcp,40,nothere,10.0.0.1,1,2",
    );
}

// ---------------------------------------------------------------- Cisco ASA

#[test]
fn cisco_asa_lines() {
    check(
        Format::CiscoAsa,
        "<164>Nov 23 2026 09:12:01 asa01 : %ASA-4-106023: Deny tcp src outside:203.0.113.5/4455 dst inside:10.1.2.3/22 by access-group \"outside_in\" [0x0, 0x0]",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"203.0.113.5","src_port":4455,"dst":"10.1.2.3","dst_port":22,"proto":"tcp","packets":1,"note":"%ASA-4-106023"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-4-106023: Deny icmp src outside:203.0.113.5 dst inside:10.1.2.3 (type 8, code 0) by access-group \"outside_in\" [0x0, 0x0]",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"203.0.113.5","dst":"10.1.2.3","proto":"icmp","icmp_type":8,"icmp_code":0,"packets":1,"note":"%ASA-4-106023"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-6-302013: Built outbound TCP connection 99 for outside:198.51.100.25/25 (198.51.100.25/25) to inside:10.1.2.4/51000 (192.0.2.4/51000)",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_attempt","src":"10.1.2.4","src_port":51000,"dst":"198.51.100.25","dst_port":25,"proto":"tcp","note":"%ASA-6-302013"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %FTD-6-302014: Teardown TCP connection 99 for outside:198.51.100.25/25 to inside:10.1.2.4/51000 duration 0:00:30 bytes 5120 TCP FINs",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"flow","src":"198.51.100.25","src_port":25,"dst":"10.1.2.4","dst_port":51000,"proto":"tcp","bytes":5120,"note":"%FTD-6-302014"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-5-106100: access-list outside_in denied udp outside/203.0.113.8(5353) -> inside/10.1.2.5(161) hit-cnt 3 first hit [0x1, 0x0]",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"203.0.113.8","src_port":5353,"dst":"10.1.2.5","dst_port":161,"proto":"udp","packets":3,"note":"%ASA-5-106100"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-6-605004: Login denied from 203.0.113.9/40000 to outside:192.0.2.1/ssh for user \"ad\"min\"",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"203.0.113.9","src_port":40000,"dst":"192.0.2.1","dst_port":22,"proto":"tcp","user":"ad\"min","note":"%ASA-6-605004"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-6-113015: AAA user authentication Rejected : reason = AAA failure : server = 10.0.0.5 : user = bob : user IP = 6.6.6.6 : user IP = 203.0.113.10",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"203.0.113.10","dst":"10.0.0.5","user":"bob : user IP = 6.6.6.6","note":"%ASA-6-113015"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-4-733100: [ Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, max configured rate is 10",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"notice","note":"[ Scanning] drop rate-1 exceeded"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-3-313001: Denied ICMP type=8, code=0 from 2001:db8::9 on interface outside",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"conn_denied","src":"2001:db8::9","proto":"icmp","icmp_type":8,"icmp_code":0,"packets":1,"note":"%ASA-3-313001"}"#,
    );
    check(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-5-111008: User 'enable_15' executed the 'write' command.",
        r#""skip""#,
    );
    check_bad(
        Format::CiscoAsa,
        "Nov 23 09:12:01 asa01 %ASA-4-106023: Deny tcp src outside:203.0.113.5/",
    );
    // No stamp (the ASA default): ctx.now stands in.
    check(
        Format::CiscoAsa,
        "%ASA-2-106001: Inbound TCP connection denied from 203.0.113.5/54322 to 10.1.2.3/1433 flags SYN on interface outside",
        r#"{"time":"2026-11-23T07:00:00-05:00","kind":"conn_denied","src":"203.0.113.5","src_port":54322,"dst":"10.1.2.3","dst_port":1433,"proto":"tcp","packets":1,"note":"%ASA-2-106001"}"#,
    );
}

// ---------------------------------------------------------------- Suricata EVE

#[test]
fn eve_lines() {
    check(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T16:02:11.123456-0500","flow_id":1,"in_iface":"eth0","event_type":"alert","src_ip":"10.1.2.3","src_port":49152,"dest_ip":"198.51.100.80","dest_port":80,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2013028,"rev":7,"signature":"ET POLICY curl User-Agent \"Outbound\"","category":"Attempted Information Leak","severity":2},"http":{"hostname":"x"}}"#,
        r#"{"time":"2026-11-20T16:02:11.123456-05:00","kind":"alert","src":"10.1.2.3","src_port":49152,"dst":"198.51.100.80","dst_port":80,"proto":"tcp","signature":{"id":2013028,"text":"ET POLICY curl User-Agent \"Outbound\"","class":"Attempted Information Leak","severity":2},"note":"allowed"}"#,
    );
    check(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T21:02:11.000000+0000","event_type":"flow","src_ip":"2001:db8::1","src_port":1,"dest_ip":"2001:db8::2","dest_port":25,"proto":"TCP","flow":{"pkts_toserver":5,"pkts_toclient":4,"bytes_toserver":500,"bytes_toclient":400,"start":"x","state":"closed","reason":"timeout"}}"#,
        r#"{"time":"2026-11-20T16:02:11-05:00","kind":"flow","src":"2001:db8::1","src_port":1,"dst":"2001:db8::2","dst_port":25,"proto":"tcp","packets":9,"bytes":900,"note":"closed"}"#,
    );
    check(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T21:02:11Z","event_type":"ssh","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":22,"proto":"TCP","ssh":{"client":{"software_version":"libssh"}}}"#,
        r#"{"time":"2026-11-20T16:02:11-05:00","kind":"other","src":"10.0.0.1","src_port":1,"dst":"10.0.0.2","dst_port":22,"proto":"tcp","note":"ssh"}"#,
    );
    check(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T21:02:11Z","event_type":"anomaly","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP","anomaly":{"type":"decode","event":"decoder.udp.pkt_too_small"}}"#,
        r#"{"time":"2026-11-20T16:02:11-05:00","kind":"notice","src":"10.0.0.1","dst":"10.0.0.2","proto":"udp","note":"decoder.udp.pkt_too_small"}"#,
    );
    check(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T21:02:11Z","event_type":"stats","stats":{"uptime":5}}"#,
        r#"{"time":"2026-11-20T16:02:11-05:00","kind":"stats","uptime":5}"#,
    );
    check(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T21:02:11Z","event_type":"futuretype","src_ip":"10.0.0.1"}"#,
        r#""skip""#,
    );
    check_bad(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T21:02:11Z","event_type":"alert","src_ip":"10.0.0.1","alert":{"signature_id":1"#,
    );
    check_bad(Format::SuricataEve, "Nov 23 09:12:01 not json");
    check_bad(
        Format::SuricataEve,
        r#"{"timestamp":"yesterday","event_type":"flow","src_ip":"10.0.0.1"}"#,
    );
    check_bad(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-20T21:02:11Z","event_type":"flow","src_ip":5}"#,
    );
}

// ---------------------------------------------------------------- Zeek

#[test]
fn zeek_conn_tsv_and_json() {
    let ctx = ctx();
    let mut p = parser_for(Format::ZeekConn);
    // A header with a reordered, shortened column list: the parser must follow it.
    for h in [
        "#separator \\x09",
        "#path\tconn",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes",
        "#types\ttime\taddr\tport\taddr\tport\tenum\tstring\tcount\tcount\tcount\tcount",
    ] {
        assert_eq!(p.parse(h, &ctx), Parsed::Skip);
    }
    let line = "1795945921.250000\t10.1.2.3\t50000\t198.51.100.9\t445\ttcp\tS0\t2\t104\t0\t0";
    let o = p.parse(line, &ctx).obs().unwrap();
    assert_eq!(
        to_json(1, &o, &ctx.tz),
        serde_json::json!({"line":1,"time":"2026-11-29T04:52:01.25-05:00","kind":"conn_attempt","src":"10.1.2.3","src_port":50000,"dst":"198.51.100.9","dst_port":445,"proto":"tcp","packets":2,"bytes":104,"note":"S0"})
    );
    let line = "1795945921.250000\t10.1.2.3\t50000\t-\t445\ttcp\tS0\t2\t104\t0\t0";
    assert!(matches!(p.parse(line, &ctx), Parsed::Bad(_)));
    check(
        Format::ZeekConn,
        r#"{"ts":1795945921.25,"uid":"C1","id.orig_h":"2001:db8::3","id.orig_p":1,"id.resp_h":"2001:db8::4","id.resp_p":80,"proto":"tcp","conn_state":"SF","orig_pkts":3,"orig_ip_bytes":200,"resp_pkts":2,"resp_ip_bytes":100}"#,
        r#"{"time":"2026-11-29T04:52:01.25-05:00","kind":"flow","src":"2001:db8::3","src_port":1,"dst":"2001:db8::4","dst_port":80,"proto":"tcp","packets":5,"bytes":300,"note":"SF"}"#,
    );
    // Without a header the stock column order is assumed (a tailer resuming mid-file).
    check(
        Format::ZeekConn,
        "1795945921.000000\tCx\t10.1.2.3\t5\t198.51.100.9\t23\ttcp\t-\t-\t-\t-\tREJ\tT\tF\t0\tSr\t1\t60\t1\t40\t-",
        r#"{"time":"2026-11-29T04:52:01-05:00","kind":"conn_denied","src":"10.1.2.3","src_port":5,"dst":"198.51.100.9","dst_port":23,"proto":"tcp","packets":2,"bytes":100,"note":"REJ"}"#,
    );
    check_bad(
        Format::ZeekConn,
        r#"{"ts":1795945921.25,"id.orig_h":"10.0.0.1""#,
    );
}

#[test]
fn zeek_notice() {
    check(
        Format::ZeekNotice,
        r#"{"ts":"2026-11-29T09:52:01.000000Z","note":"Scan::Port_Scan","msg":"10.1.2.3 scanned at least 15 unique ports of host 198.51.100.9 in 0m2s","sub":"local","src":"10.1.2.3","dst":"198.51.100.9","actions":["Notice::ACTION_LOG"]}"#,
        r#"{"time":"2026-11-29T04:52:01-05:00","kind":"notice","src":"10.1.2.3","dst":"198.51.100.9","signature":{"id":null,"text":"10.1.2.3 scanned at least 15 unique ports of host 198.51.100.9 in 0m2s","class":"Scan::Port_Scan","severity":null},"note":"Scan::Port_Scan"}"#,
    );
    check(
        Format::ZeekNotice,
        "1795945921.000000\t-\t-\t-\t-\t-\t-\t-\t-\ttcp\tSSH::Password_Guessing\t203.0.113.4 appears to be guessing SSH passwords\t-\t203.0.113.4\t-\t22/tcp\t30\tzeek\tNotice::ACTION_LOG\t-\t3600.0\t-\t-\t-\t-\t-",
        r#"{"time":"2026-11-29T04:52:01-05:00","kind":"notice","src":"203.0.113.4","dst_port":22,"proto":"tcp","signature":{"id":null,"text":"203.0.113.4 appears to be guessing SSH passwords","class":"SSH::Password_Guessing","severity":null},"note":"SSH::Password_Guessing"}"#,
    );
    check(
        Format::ZeekNotice,
        "#close\t2026-11-29-10-00-00",
        r#""skip""#,
    );
}

// ---------------------------------------------------------------- Dovecot, Postfix

#[test]
fn dovecot_lines() {
    check(
        Format::Dovecot,
        "Nov 23 09:12:01 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 6 secs): user=<toto@example.edu>, method=PLAIN, rip=203.0.113.20, lip=10.0.0.25, TLS, session=<azdaDADSqqsvf-za>",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"203.0.113.20","dst":"10.0.0.25","proto":"tcp","user":"toto@example.edu","note":"auth failed"}"#,
    );
    check(
        Format::Dovecot,
        "Nov 23 09:12:01 mail dovecot: imap-login: Login: user=<a>, rip=6.6.6.6>, method=PLAIN, rip=2001:db8::20, lip=2001:db8::25, mpid=18, TLS, session=<x>",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_success","src":"2001:db8::20","dst":"2001:db8::25","proto":"tcp","user":"a>, rip=6.6.6.6","note":"login"}"#,
    );
    check(
        Format::Dovecot,
        "Nov 23 09:12:01 mail dovecot: auth-worker(63712): conn unix:auth-worker (pid=58074,uid=109): auth-worker<4>: sql(contact,220.169.110.101): unknown user",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_invalid_user","src":"220.169.110.101","proto":"tcp","user":"contact","note":"unknown user"}"#,
    );
    check(
        Format::Dovecot,
        "Nov 23 09:12:01 mail dovecot: master: Dovecot v2.3.21 starting up",
        r#""skip""#,
    );
    check_bad(
        Format::Dovecot,
        "Nov 23 09:12:01 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 6 secs): user=<x>, rip=1.2.3",
    );
}

#[test]
fn postfix_lines() {
    check(
        Format::Postfix,
        "Nov 23 09:12:01 mx postfix/submission/smtpd[26897]: warning: unknown[203.0.113.42]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_failure","src":"203.0.113.42","proto":"tcp","note":"SASL LOGIN authentication failed"}"#,
    );
    check(
        Format::Postfix,
        "Nov 23 09:12:01 mx postfix/smtpd[26897]: 4F3A21C0: client=host.example[2001:db8::42], sasl_method=PLAIN, sasl_username=alice@example.edu",
        r#"{"time":"2026-11-23T09:12:01-05:00","kind":"auth_success","src":"2001:db8::42","proto":"tcp","user":"alice@example.edu","note":"sasl login"}"#,
    );
    check(
        Format::Postfix,
        "Nov 23 09:12:01 mx postfix/smtpd[26897]: connect from unknown[203.0.113.42]",
        r#""skip""#,
    );
    check_bad(
        Format::Postfix,
        "Nov 23 09:12:01 mx postfix/smtpd[1]: warning: unknown[203.0.113]: SASL LOGIN authentication failed: x",
    );
}

#[test]
fn format_names_round_trip() {
    for f in Format::ALL {
        assert_eq!(f.as_str().parse::<Format>().unwrap(), f);
    }
    assert!("syslog".parse::<Format>().is_err());
}

/// A Suricata 7 `stats` record (AF_PACKET capture, `totals: yes`, `threads: no`; app-layer and
/// memuse counters abridged): the counters that say whether the sensor saw everything.
#[test]
fn eve_suricata7_stats() {
    check(
        Format::SuricataEve,
        r#"{"timestamp":"2026-11-23T09:14:40.000231-0500","event_type":"stats","stats":{"uptime":604811,"capture":{"kernel_packets":921775310,"kernel_drops":48211,"errors":0,"afpacket":{"busy_loop_avg":0,"polls":20112873,"poll_signal":0,"poll_timeout":801221,"poll_data":19311652,"poll_errors":0,"send_errors":0}},"decoder":{"pkts":921727099,"bytes":811342998120,"invalid":1204,"ipv4":915022117,"ipv6":6704982,"ethernet":921727099,"arp":0,"unknown_ethertype":0,"tcp":611928004,"udp":306512993,"icmpv4":2411120,"icmpv6":874982,"vlan":0,"vxlan":0,"avg_pkt_size":880,"max_pkt_size":1514,"too_many_layers":0},"flow":{"memcap":17,"total":20311422,"active":41210,"tcp":8112933,"udp":12120011,"icmpv4":71004,"icmpv6":7474,"tcp_reuse":1188,"get_used":0,"get_used_eval":0,"get_used_failed":0,"spare":9771,"emerg_mode_entered":0,"emerg_mode_over":0,"memuse":12873232},"tcp":{"sessions":7933201,"ssn_memcap_drop":0,"pseudo":20114,"pseudo_failed":0,"invalid_checksum":0,"syn":8120009,"synack":7644120,"rst":1022871,"midstream_pickups":0,"pkt_on_wrong_thread":0,"segment_memcap_drop":0,"segment_from_cache":0,"segment_from_pool":0,"stream_depth_reached":30114,"reassembly_gap":2208,"overlap":51100,"overlap_diff_data":0,"insert_data_normal_fail":0,"insert_data_overlap_fail":0,"memuse":3031040,"reassembly_memuse":41943040},"detect":{"engines":[{"id":0,"last_reload":"2026-11-16T09:14:29.413002-0500","rules_loaded":45102,"rules_failed":3,"rules_skipped":0}],"alert":5521,"alert_queue_overflow":0,"alerts_suppressed":102},"app_layer":{"flow":{"http":310223,"ftp":12,"smtp":1920,"tls":3811022,"ssh":20011,"dns_udp":9920112,"failed_tcp":41022,"failed_udp":22107},"tx":{"http":712993,"smtp":2022,"dns_udp":19811310},"error":{"http":{"gap":211,"alloc":0,"parser":0,"internal":0}}},"flow_bypassed":{"local_pkts":1200,"local_bytes":1612000,"local_capture_pkts":0,"local_capture_bytes":0,"closed":4,"pkts":300,"bytes":412000},"memcap_pressure":11,"memcap_pressure_max":38,"http":{"memuse":1212,"memcap":0},"ftp":{"memuse":0,"memcap":0}}}"#,
        r#"{"time":"2026-11-23T09:14:40.000231-05:00","kind":"stats","uptime":604811,"kernel_packets":921775310,"kernel_drops":48211,"decoder_packets":921727099,"decoder_invalid":1204,"flow_memcap":17,"tcp_reassembly_gap":2208,"flow_bypassed_packets":1500,"detect_alerts":5521}"#,
    );
}
