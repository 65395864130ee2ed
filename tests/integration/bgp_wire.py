"""BGP messages for the scripted peers of the integration tests (RFC 4271 framing,
an OPEN with the capabilities they need). Imported from the script's own folder."""
import socket
import struct

MARKER = b"\xff" * 16


def msg(kind, body=b""):
    """One message: marker, length, type, body."""
    return MARKER + struct.pack("!HB", 19 + len(body), kind) + body


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        data += chunk
    return data


def read_msg(conn):
    """(type, body) of the next message; ConnectionError when the connection closes."""
    hdr = read_exact(conn, 19)
    length, kind = struct.unpack("!HB", hdr[16:19])
    return kind, read_exact(conn, length - 19)


def open_msg(my_as, bgp_id, hold=90, route_refresh=False, ext_message=False):
    """An OPEN for IPv4 unicast (RFC 4760) with a 4-octet AS (RFC 6793)."""
    caps = bytes([1, 4]) + struct.pack("!HBB", 1, 0, 1)
    if route_refresh:
        caps += bytes([2, 0])  # RFC 2918
    if ext_message:
        caps += bytes([6, 0])  # RFC 8654
    caps += bytes([65, 4]) + struct.pack("!I", my_as)
    params = bytes([2, len(caps)]) + caps
    two = my_as if my_as <= 0xFFFF else 23456
    return msg(1, struct.pack("!BHH4sB", 4, two, hold, socket.inet_aton(bgp_id), len(params))
               + params)
