#!/usr/bin/env python3
"""A peer for agent_collision.sh that makes the order of a connection collision
(RFC 4271 §6.8) the unlucky one: tabbyd connects to us and sends its OPEN; we
connect to it too (its second connection); we then close the first without an
OPEN, so that connection fails back to Active, and only then finish the second
(OPEN, KEEPALIVE). The session must run on the second connection: routes both
ways, and no new attempt from tabbyd while it is up.
With "late": the second connection's KEEPALIVE waits until tabbyd has connected
again and sent its OPEN there; that third connection must then be ended with
Cease/7 (connection collision resolution) when the second reaches Established.
Usage: bgp_collision_peer.py OUR-ADDR TABBYD-ADDR AS PREFIX WATCH-SECONDS [late]
Prints one line of JSON: what tabbyd sent and how often it connected again."""
import json
import select
import socket
import struct
import sys
import time

from bgp_wire import msg as frame, open_msg, read_msg

ours, theirs, asn, prefix, watch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], \
    float(sys.argv[5])
late = len(sys.argv) > 6 and sys.argv[6] == "late"


def update_msg():
    net, plen = prefix.split("/")
    plen = int(plen)
    nlri = bytes([plen]) + socket.inet_aton(net)[:(plen + 7) // 8]
    as_path = b"\x02\x01" + struct.pack("!I", asn)
    attrs = (b"\x40\x01\x01\x00"                                   # ORIGIN IGP
             + b"\x40\x02" + bytes([len(as_path)]) + as_path       # AS_PATH
             + b"\x40\x03\x04" + socket.inet_aton(ours))           # NEXT_HOP
    return frame(2, struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + nlri)


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((ours, 179))
srv.listen(8)
first, _ = srv.accept()
assert read_msg(first)[0] == 1, "expected tabbyd's OPEN on its connection"
# tabbyd is in OpenSent on its own connection: ours arrives as the second one.
second = socket.create_connection((theirs, 179), source_address=(ours, 0))
assert read_msg(second)[0] == 1, "expected tabbyd's OPEN on our connection"
first.close()
time.sleep(0.5)  # tabbyd sees its connection fail (OpenSent -> Active)
result = {}
if late:
    second.sendall(open_msg(asn, ours))
    srv.settimeout(15)
    third, _ = srv.accept()  # tabbyd's retry (its ConnectRetry timer)
    assert read_msg(third)[0] == 1, "expected tabbyd's OPEN on its retry"
    second.sendall(frame(4))
    third.settimeout(5)
    kind, body = read_msg(third)
    result["retry_ended_with"] = "%d/%d" % (body[0], body[1]) if kind == 3 else "type %d" % kind
    third.close()
else:
    second.sendall(open_msg(asn, ours) + frame(4))
updates, reconnects, state = 0, 0, "OpenConfirm"
end = time.time() + watch
last_ka = time.time()
while time.time() < end:
    ready, _, _ = select.select([second, srv], [], [], 0.5)
    if srv in ready:
        extra, _ = srv.accept()
        reconnects += 1
        extra.close()
    if second in ready:
        kind, _ = read_msg(second)
        if kind == 4 and state == "OpenConfirm":
            state = "Established"
            second.sendall(update_msg())
        elif kind == 2:
            updates += 1
        elif kind == 3:
            state = "NOTIFICATION"
            break
    if time.time() - last_ka > 5:
        second.sendall(frame(4))
        last_ka = time.time()
result.update({"state": state, "updates": updates, "reconnects": reconnects})
print(json.dumps(result), flush=True)
second.close()
