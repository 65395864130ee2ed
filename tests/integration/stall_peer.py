#!/usr/bin/env python3
"""A BGP peer that stops reading (RFC 9687's case), for tests only.

    stall_peer.py LOCAL REMOTE LOCAL_AS PEER_AS [INTERVAL]

Connects from LOCAL to REMOTE:179 with a small receive buffer, exchanges OPEN
(4-octet ASN, IPv4 unicast, route refresh) and KEEPALIVE, then never reads
again: every INTERVAL seconds (0.1) it sends a KEEPALIVE and a ROUTE-REFRESH,
alternately for IPv4 unicast and for IPv6 unicast (a family the session does
not carry). Its keepalives keep the peer's hold timer happy, so only a send
hold timer can tell that it is stuck. Prints "established", then "closed: WHY"
and exits 0 when the other side drops the connection.
"""
import socket
import struct
import sys
import time

from bgp_wire import msg, open_msg, read_msg

def main():
    local, remote, my_as, peer_as = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.1
    del peer_as  # the daemon checks it; we only announce ours
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((local, 0))
    s.settimeout(30)
    s.connect((remote, 179))
    s.sendall(open_msg(my_as, local, hold=240, route_refresh=True))
    kind, body = read_msg(s)
    if kind != 1:
        print("expected OPEN, got type %d %r" % (kind, body), flush=True)
        return 1
    s.sendall(msg(4))
    while True:
        kind, body = read_msg(s)
        if kind == 4:
            break
        if kind == 3:
            print("NOTIFICATION %d/%d" % (body[0], body[1]), flush=True)
            return 1
    print("established", flush=True)
    n = 0
    try:
        while True:
            afi = 1 if n % 2 == 0 else 2
            s.sendall(msg(4) + msg(5, struct.pack("!HBB", afi, 0, 1)))
            n += 1
            time.sleep(interval)
    except OSError as e:
        print("closed: %s after %d ROUTE-REFRESH" % (e, n), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
