#!/usr/bin/env python3
"""A hostile peer for agent_peer_limits.sh: accepts one BGP session on ADDR:179 as AS,
and once it is Established sends a Cease/Administrative Shutdown whose RFC 9003
shutdown communication holds terminal escape sequences, CR LF and a bell; then leaves.
Usage: bgp_shutdown_peer.py ADDR AS"""
import socket
import sys

from bgp_wire import msg as frame, open_msg, read_msg

addr, asn = sys.argv[1], int(sys.argv[2])

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, 179))
srv.listen(1)
conn, _ = srv.accept()
kind, _ = read_msg(conn)
assert kind == 1, "expected an OPEN"
conn.sendall(open_msg(asn, addr) + frame(4))
while read_msg(conn)[0] != 4:
    pass
text = b"\x1b[2J\x1b[31mmaintenance\r\nfake: session up\x07"
conn.sendall(frame(3, bytes([6, 2, len(text)]) + text))
conn.close()
srv.close()
