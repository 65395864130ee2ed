#!/usr/bin/env python3
"""A peer for agent_fragments.sh that sends its messages cut at awkward places, as
TCP may deliver them: the OPEN one byte at a time, a KEEPALIVE in two pieces, an
UPDATE whose end arrives with the start of the next, and an UPDATE larger than
8 KB (one extended message when both sides announce RFC 8654, else several) in
4 KB slices with pauses. tabbyd must put every message back together: all the
prefixes learned, the session never reset.
Usage: bgp_fragment_peer.py OUR-ADDR TABBYD-ADDR AS FIRST COUNT WATCH-SECONDS
The prefixes are the /28s number FIRST to FIRST+COUNT-1 of 198.18.0.0/15. Prints
one line of JSON: the session's state at the end, whether extended messages were
on, the prefixes sent."""
import json
import select
import socket
import struct
import sys
import time

from bgp_wire import msg as frame, open_msg, read_msg

ours, theirs, asn = sys.argv[1], sys.argv[2], int(sys.argv[3])
first, count, watch = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])


def nlri(i):
    return bytes([28]) + struct.pack("!I", (198 << 24 | 18 << 16) + (first + i) * 16)


def update(indexes):
    as_path = b"\x02\x01" + struct.pack("!I", asn)
    attrs = (b"\x40\x01\x01\x00"                                   # ORIGIN IGP
             + b"\x40\x02" + bytes([len(as_path)]) + as_path       # AS_PATH
             + b"\x40\x03\x04" + socket.inet_aton(ours))           # NEXT_HOP
    return frame(2, struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs
                 + b"".join(nlri(i) for i in indexes))


def updates(indexes, max_len):
    """As few UPDATEs as max_len allows (5 bytes per /28)."""
    per = (max_len - 19 - 4 - 20) // 5
    return b"".join(update(indexes[k:k + per]) for k in range(0, len(indexes), per))


def has_ext_message(body):
    """Whether an OPEN's capabilities include extended messages (code 6)."""
    params, k = body[10:10 + body[9]], 0
    while k + 2 <= len(params):
        ptype, plen = params[k], params[k + 1]
        caps, j = params[k + 2:k + 2 + plen], 0
        while ptype == 2 and j + 2 <= len(caps):
            if caps[j] == 6:
                return True
            j += 2 + caps[j + 1]
        k += 2 + plen
    return False


def slices(conn, data, size, pause):
    for k in range(0, len(data), size):
        conn.sendall(data[k:k + size])
        time.sleep(pause)


end = time.time() + 15
while True:
    try:
        conn = socket.create_connection((theirs, 179), source_address=(ours, 0), timeout=2)
        break
    except OSError:
        if time.time() > end:
            raise
        time.sleep(0.2)
conn.settimeout(None)
slices(conn, open_msg(asn, ours, ext_message=True), 1, 0.002)
kind, body = read_msg(conn)
assert kind == 1, "expected tabbyd's OPEN, got type %d" % kind
ext = has_ext_message(body)
ka = frame(4)
slices(conn, ka, 10, 0.05)
a, b = update(range(0, 100)), update(range(100, 200))
big = updates(list(range(200, count)), 65535 if ext else 4096)
conn.sendall(a + b[:30])
time.sleep(0.2)
conn.sendall(b[30:] + big[:5])
time.sleep(0.2)
slices(conn, big[5:], 4096, 0.05)
conn.sendall(frame(2, b"\x00\x00\x00\x00"))  # End-of-RIB
state, last_ka, end = "Established", time.time(), time.time() + watch
while time.time() < end:
    ready, _, _ = select.select([conn], [], [], 0.5)
    if ready:
        kind, body = read_msg(conn)
        if kind == 3:
            state = "NOTIFICATION %d/%d" % (body[0], body[1])
            break
    if time.time() - last_ka > 3:
        conn.sendall(ka)
        last_ka = time.time()
print(json.dumps({"state": state, "ext": ext, "sent": count, "big": len(big)}), flush=True)
conn.close()
