#!/usr/bin/env python3
"""A hostile peer for agent_peer_limits.sh: accepts one BGP session on ADDR:179 as AS,
and once it is Established sends a Cease/Administrative Shutdown whose RFC 9003
shutdown communication holds terminal escape sequences, CR LF and a bell; then leaves.
Usage: bgp_shutdown_peer.py ADDR AS"""
import socket
import struct
import sys

addr, asn = sys.argv[1], int(sys.argv[2])


def frame(kind, body=b""):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), kind) + body


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            sys.exit("peer closed the connection")
        data += chunk
    return data


def read_msg(conn):
    hdr = read_exact(conn, 19)
    length, kind = struct.unpack("!HB", hdr[16:19])
    return kind, read_exact(conn, length - 19)


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, 179))
srv.listen(1)
conn, _ = srv.accept()
kind, _ = read_msg(conn)
assert kind == 1, "expected an OPEN"
# Capabilities: IPv4 unicast (RFC 4760), 4-octet AS (RFC 6793).
caps = b"\x01\x04\x00\x01\x00\x01" + b"\x41\x04" + struct.pack("!I", asn)
params = b"\x02" + bytes([len(caps)]) + caps
body = struct.pack("!BHH4sB", 4, asn if asn < 65536 else 23456, 90, socket.inet_aton(addr),
                   len(params)) + params
conn.sendall(frame(1, body) + frame(4))
while read_msg(conn)[0] != 4:
    pass
text = b"\x1b[2J\x1b[31mmaintenance\r\nfake: session up\x07"
conn.sendall(frame(3, bytes([6, 2, len(text)]) + text))
conn.close()
srv.close()
