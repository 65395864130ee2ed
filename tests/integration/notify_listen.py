#!/usr/bin/env python3
# A stand-in for systemd's notify socket: binds the datagram socket PATH, and prints
# each message it receives, one a line. On READY=1 it first checks that the daemon
# serves, as systemd's Type=notify promises: PROBE is unix:SOCKET (a tabbyd control
# socket, asked "log-level") or tcp:HOST:PORT (tabby-api, asked GET /); the line
# then ends with "serving" or "not-serving".
#   notify_listen.py PATH PROBE
import os
import socket
import sys


def probe(spec):
    kind, _, where = spec.partition(":")
    try:
        if kind == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(where)
                s.sendall(b"log-level\n")
                return b"log_level" in s.recv(4096)
        host, _, port = where.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/")
    except OSError:
        return False


path, spec = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
while True:
    msg = sock.recv(4096).decode(errors="replace")
    line = msg.replace("\n", " ")
    if "READY=1" in msg.split("\n"):
        line += " serving" if probe(spec) else " not-serving"
    print(line, flush=True)
