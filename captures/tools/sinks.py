#!/usr/bin/env python3
"""Tiny protocol sinks for make-captures.sh, run inside the "outside" namespace.

  sinks.py smtp PORT   - accepts any SMTP dialogue, discards the mail (swaks target)
  sinks.py dns PORT [ADDR] - answers every A query with 198.51.100.80 (dig target)
  sinks.py ssh PORT    - sends an SSH banner, reads the client's, closes (login-attempt target
                         when openssh-server is not installed)
"""
import socket
import socketserver
import struct
import sys


class Smtp(socketserver.StreamRequestHandler):
    def handle(self):
        w = lambda s: self.wfile.write(s.encode() + b"\r\n")
        w("220 sink.example.test ESMTP")
        data = False
        for line in self.rfile:
            l = line.decode("latin-1").strip()
            if data:
                if l == ".":
                    data = False
                    w("250 2.0.0 queued")
                continue
            cmd = l[:4].upper()
            if cmd in ("EHLO", "HELO"):
                w("250 sink.example.test")
            elif cmd == "DATA":
                data = True
                w("354 go ahead")
            elif cmd == "QUIT":
                w("221 bye")
                return
            else:
                w("250 ok")


class Ssh(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"SSH-2.0-OpenSSH_9.2p1 sink\r\n")
        self.rfile.readline()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def dns(port, addr):
    # Bound to one address so replies leave from the address that was asked.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        q, peer = s.recvfrom(512)
        if len(q) < 12:
            continue
        # Question section runs from byte 12 to the end of the query (no EDNS assumed).
        end = 12
        while end < len(q) and q[end] != 0:
            end += q[end] + 1
        end += 5
        hdr = q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01\x00\x00\x00\x00"
        ans = b"\xc0\x0c\x00\x01\x00\x01" + struct.pack(">IH", 60, 4) + bytes([198, 51, 100, 80])
        s.sendto(hdr + q[12:end] + ans, peer)


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "dns":
        dns(port, sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0")
    else:
        Server(("0.0.0.0", port), {"smtp": Smtp, "ssh": Ssh}[kind]).serve_forever()
