#!/usr/bin/env python3
"""Generate synthetic benchmark logs for `cordon replay` and its peers.

Usage: scripts/gen-logs.py [N] [OUTDIR]      (N lines per file, default 1,000,000; OUTDIR default .)

Writes, each with N lines, deterministic for a given N (fixed seed):
  sshd.log       RFC 3164 syslog sshd lines: Failed password / Invalid user / Accepted /
                 Disconnected [preauth]; ~30% of lines come from a few brute-forcing sources.
  netfilter.log  kernel iptables LOG lines (IN= OUT= MAC= SRC= DST= LEN= ... PROTO=TCP SPT= DPT=).
  eve.json       Suricata EVE JSON: flow/dns/http/tls events plus ~5% alerts.

Timestamps run over the two days ending at 00:00 UTC today (so syslog's missing year infers
to this year and nothing lies in the future). Plain string formatting, written in blocks.
"""
import datetime as dt
import os
import random
import sys

BLOCK = 20000
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def clock(n, start):
    """Per-line seconds offsets spread over 2 days, increasing."""
    span = 2 * 86400
    return lambda i: start + dt.timedelta(seconds=i * span // max(n, 1))


def bsd(t):
    return f"{MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S}"


def ext_ip(r):
    # Public-looking sources, avoiding 10/8 (campus) and reserved blocks.
    return f"{r.choice((45, 61, 77, 89, 103, 117, 141, 159, 185, 193, 212))}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"


def campus_ip(r):
    return f"10.{r.choice((10, 20, 30, 40))}.{r.randrange(256)}.{r.randrange(1, 255)}"


USERS = ["root", "admin", "test", "user", "oracle", "postgres", "ubuntu", "git", "guest",
         "ftpuser", "pi", "support", "deploy", "jenkins", "hadoop", "www-data", "mysql", "nagios"]
STAFF = ["alice", "bob", "carol", "dmitri", "eve.k", "farid", "gwen", "hiro", "ines", "jmueller"]


def gen_sshd(n, out, r, when):
    brute = [ext_ip(r) for _ in range(6)]
    servers = [f"srv{k:02d}" for k in range(12)]
    with open(out, "w") as f:
        buf = []
        pid = 20000
        for i in range(n):
            ts = bsd(when(i))
            host = r.choice(servers)
            pid = pid + 1 if pid < 65000 else 20000
            port = r.randrange(1024, 65536)
            x = r.random()
            if x < 0.30:
                src = r.choice(brute)
                u = r.choice(USERS)
                if r.random() < 0.5:
                    m = f"Failed password for invalid user {u} from {src} port {port} ssh2"
                else:
                    m = f"Failed password for root from {src} port {port} ssh2"
            else:
                src = ext_ip(r) if r.random() < 0.8 else campus_ip(r)
                y = r.random()
                if y < 0.35:
                    m = f"Failed password for {r.choice(USERS + STAFF)} from {src} port {port} ssh2"
                elif y < 0.60:
                    m = f"Invalid user {r.choice(USERS)} from {src} port {port}"
                elif y < 0.80:
                    u = r.choice(USERS)
                    m = f"Disconnected from invalid user {u} {src} port {port} [preauth]"
                else:
                    meth = "publickey" if r.random() < 0.7 else "password"
                    m = f"Accepted {meth} for {r.choice(STAFF)} from {src} port {port} ssh2"
                    if meth == "publickey":
                        m += ": ED25519 SHA256:Xb3p0yJ8m9KqTQ2cHn1v6wL4rZsAeUfGiJkLmNoPqRs"
            buf.append(f"{ts} {host} sshd[{pid}]: {m}\n")
            if len(buf) >= BLOCK:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def gen_netfilter(n, out, r, when):
    scanners = [ext_ip(r) for _ in range(8)]
    dports = [22, 23, 80, 443, 445, 3389, 8080, 5900, 1433, 3306, 25, 53, 123, 161]
    with open(out, "w") as f:
        buf = []
        up = 100000.0
        for i in range(n):
            t = when(i)
            up += 0.17
            src = r.choice(scanners) if r.random() < 0.3 else ext_ip(r)
            dst = campus_ip(r)
            pref = "DROP " if r.random() < 0.85 else "[UFW BLOCK] "
            mac = f"00:1b:21:{r.randrange(256):02x}:{r.randrange(256):02x}:0a:3c:fd:1e:b1:22:90:08:00"
            if r.random() < 0.9:
                tail = (f"PROTO=TCP SPT={r.randrange(1024, 65536)} DPT={r.choice(dports)} "
                        f"WINDOW={r.choice((1024, 29200, 65535))} RES=0x00 SYN URGP=0")
                ln = 60 if r.random() < 0.5 else 44
            else:
                tail = f"PROTO=UDP SPT={r.randrange(1024, 65536)} DPT={r.choice((53, 123, 161, 1900))} LEN={r.randrange(20, 120)}"
                ln = r.randrange(48, 148)
            buf.append(
                f"{bsd(t)} fw01 kernel: [{up:.6f}] {pref}IN=eth0 OUT=eth1 MAC={mac} SRC={src} DST={dst} "
                f"LEN={ln} TOS=0x00 PREC=0x00 TTL={r.randrange(32, 250)} ID={r.randrange(65536)} "
                f"{'DF ' if r.random() < 0.5 else ''}{tail}\n")
            if len(buf) >= BLOCK:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


SIGS = [
    (2001219, "ET SCAN Potential SSH Scan", "Attempted Information Leak", 2),
    (2024897, "ET USER_AGENTS Go HTTP Client User-Agent", "Misc activity", 3),
    (2027865, "ET INFO Observed DNS Query to .cloud TLD", "Potentially Bad Traffic", 2),
    (2013028, "ET POLICY curl User-Agent Outbound", "Attempted Information Leak", 2),
    (2008581, "ET P2P BitTorrent DHT ping request", "Potential Corporate Privacy Violation", 1),
    (2018959, "ET POLICY PE EXE or DLL Windows file download HTTP", "Potential Corporate Privacy Violation", 1),
]
TCP_OBJ = ',"tcp":{"tcp_flags":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}'
DOMAINS = ["www.example.org", "api.github.com", "update.microsoft.com", "cdn.jsdelivr.net",
           "login.campus.example.edu", "mail.google.com", "ocsp.digicert.com", "bad.example.cloud"]


def gen_eve(n, out, r, when):
    with open(out, "w") as f:
        buf = []
        for i in range(n):
            t = when(i)
            ts = f"{t:%Y-%m-%dT%H:%M:%S}.{r.randrange(1000000):06d}+0000"
            fid = r.randrange(10**14, 10**15)
            src, dst = campus_ip(r), ext_ip(r)
            sp = r.randrange(1024, 65536)
            x = r.random()
            if x < 0.05:
                sid, sig, cat, sev = r.choice(SIGS)
                dp = r.choice((22, 80, 443, 6881))
                if sid == 2001219:
                    src, dst, sp, dp = ext_ip(r), campus_ip(r), sp, 22
                line = (f'{{"timestamp":"{ts}","flow_id":{fid},"in_iface":"eth0","event_type":"alert",'
                        f'"src_ip":"{src}","src_port":{sp},"dest_ip":"{dst}","dest_port":{dp},"proto":"TCP",'
                        f'"alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":{r.randrange(1, 9)},'
                        f'"signature":"{sig}","category":"{cat}","severity":{sev}}},'
                        f'"flow":{{"pkts_toserver":{r.randrange(1, 40)},"pkts_toclient":{r.randrange(0, 40)},'
                        f'"bytes_toserver":{r.randrange(60, 40000)},"bytes_toclient":{r.randrange(0, 90000)},'
                        f'"start":"{ts}"}}}}\n')
            elif x < 0.40:
                dp = r.choice((80, 443, 22, 53, 123, 8080))
                proto = "UDP" if dp in (53, 123) else "TCP"
                line = (f'{{"timestamp":"{ts}","flow_id":{fid},"in_iface":"eth0","event_type":"flow",'
                        f'"src_ip":"{src}","src_port":{sp},"dest_ip":"{dst}","dest_port":{dp},"proto":"{proto}",'
                        f'"app_proto":"{"tls" if dp == 443 else "http" if dp in (80, 8080) else "failed"}",'
                        f'"flow":{{"pkts_toserver":{r.randrange(1, 400)},"pkts_toclient":{r.randrange(0, 400)},'
                        f'"bytes_toserver":{r.randrange(60, 400000)},"bytes_toclient":{r.randrange(0, 900000)},'
                        f'"start":"{ts}","end":"{ts}","age":{r.randrange(0, 120)},"state":"closed",'
                        f'"reason":"timeout","alerted":false}}'
                        + ("" if proto == "UDP" else TCP_OBJ) + "}\n")
            elif x < 0.65:
                d = r.choice(DOMAINS)
                line = (f'{{"timestamp":"{ts}","flow_id":{fid},"in_iface":"eth0","event_type":"dns",'
                        f'"src_ip":"{src}","src_port":{sp},"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP",'
                        f'"dns":{{"type":"query","id":{r.randrange(65536)},"rrname":"{d}","rrtype":"A","tx_id":0,'
                        f'"opcode":0}}}}\n')
            elif x < 0.82:
                d = r.choice(DOMAINS)
                line = (f'{{"timestamp":"{ts}","flow_id":{fid},"in_iface":"eth0","event_type":"http",'
                        f'"src_ip":"{src}","src_port":{sp},"dest_ip":"{dst}","dest_port":80,"proto":"TCP",'
                        f'"tx_id":0,"http":{{"hostname":"{d}","url":"/index.php?id={r.randrange(10**6)}",'
                        f'"http_user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",'
                        f'"http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1",'
                        f'"status":{r.choice((200, 200, 200, 301, 404))},"length":{r.randrange(0, 50000)}}}}}\n')
            else:
                d = r.choice(DOMAINS)
                line = (f'{{"timestamp":"{ts}","flow_id":{fid},"in_iface":"eth0","event_type":"tls",'
                        f'"src_ip":"{src}","src_port":{sp},"dest_ip":"{dst}","dest_port":443,"proto":"TCP",'
                        f'"tls":{{"subject":"CN={d}","issuerdn":"C=US, O=Let\'s Encrypt, CN=R3",'
                        f'"serial":"04:AB:{r.randrange(256):02X}:9C","fingerprint":"b3:{r.randrange(256):02x}:7a:11:c9:0d:ee:42:18:55:60:9a:fe:01:23:45:67:89:ab:cd",'
                        f'"sni":"{d}","version":"TLS 1.3","notbefore":"2026-09-01T00:00:00",'
                        f'"notafter":"2026-11-30T00:00:00","ja3":{{"hash":"e7d705a3286e19ea42f587b344ee6865"}}}}}}\n')
            buf.append(line)
            if len(buf) >= BLOCK:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def main():
    n = int(sys.argv[1].replace(",", "").replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    outdir = sys.argv[2] if len(sys.argv) > 2 else "."
    os.makedirs(outdir, exist_ok=True)
    today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    when = clock(n, today - dt.timedelta(days=2))
    for name, fn, seed in (("sshd.log", gen_sshd, 1), ("netfilter.log", gen_netfilter, 2),
                           ("eve.json", gen_eve, 3)):
        fn(n, os.path.join(outdir, name), random.Random(seed), when)


if __name__ == "__main__":
    main()
