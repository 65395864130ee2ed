#!/usr/bin/env python3
"""Load and slow-client tools for the tabby-api tests (loopback only, bounded).

  latency HOST PORT TOKEN N [SRC]         N sequential GETs on one connection: p50 and p99 in ms
  hammer HOST PORT CLIENT_ID SECS CONNS   CONNS threads posting wrong secrets for SECS seconds,
                                          each request from the next of 127.1.0.0/16
                                          (CLIENT_ID a,b,c: one id after the other)
  reject HOST PORT ID1 ID2 N SRC1 SRC2    median times of N rejected token requests for each id
                                          (ID1 from SRC1, ID2 from SRC2, taken in turns), in ms
  idle HOST PORT N SRC SECS               holds N connections from SRC, half a request line each
  drip HOST PORT EVERY MAXSECS SRC        one header byte every EVERY s; prints when the server
                                          closed the connection (or 'open' after MAXSECS)
"""
import base64
import http.client
import socket
import statistics
import sys
import threading
import time


def conn(host, port, src=None, timeout=10):
    return http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(src, 0) if src else None)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def latency(host, port, token, n, src=None):
    c = conn(host, port, src)
    times = []
    for _ in range(int(n)):
        t = time.perf_counter()
        c.request("GET", "/ne/v1/devices", headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        r.read()
        times.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            sys.exit("latency: status %d" % r.status)
    print("p50 %.2f p99 %.2f" % (pct(times, 50), pct(times, 99)))


def token_request(host, port, client_id, secret, src):
    c = conn(host, port, src)
    auth = base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
    c.request("POST", "/oauth2/v1/token", body="grant_type=client_credentials",
              headers={"Authorization": "Basic " + auth,
                       "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def hammer(host, port, client_id, secs, conns):
    stop = time.time() + float(secs)
    counts = {}
    lock = threading.Lock()
    nxt = [0]
    ids = client_id.split(",")

    def run():
        while time.time() < stop:
            with lock:
                nxt[0] += 1
                i = nxt[0]
            src = "127.1.%d.%d" % ((i // 250) % 250, i % 250 + 1)
            try:
                st = token_request(host, port, ids[i % len(ids)], "wrong-secret", src)
            except OSError:
                st = 0
            with lock:
                counts[st] = counts.get(st, 0) + 1

    ts = [threading.Thread(target=run) for _ in range(int(conns))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join("%s:%d" % kv for kv in sorted(counts.items())))


def reject(host, port, id1, id2, n, src1, src2):
    times = ([], [])
    for _ in range(int(n)):
        for k, (cid, src) in enumerate(((id1, src1), (id2, src2))):
            t = time.perf_counter()
            st = token_request(host, port, cid, "wrong-secret", src)
            times[k].append((time.perf_counter() - t) * 1000)
            if st != 401:
                sys.exit("reject: status %d" % st)
    print("%.1f %.1f" % (statistics.median(times[0]), statistics.median(times[1])))


def idle(host, port, n, src, secs):
    socks = []
    for _ in range(int(n)):
        s = socket.socket()
        s.bind((src, 0))
        try:
            s.connect((host, int(port)))
            s.send(b"GET /ne/v1/devices HT")
        except OSError:
            pass
        socks.append(s)
    print("opened %d" % len(socks), flush=True)
    time.sleep(float(secs))
    for s in socks:
        s.close()


def drip(host, port, every, maxsecs, src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect((host, int(port)))
    s.settimeout(float(every))
    start = time.time()
    data = b"GET /ne/v1/devices HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
    for i in range(len(data)):
        try:
            s.send(data[i:i + 1])
            if s.recv(1, socket.MSG_PEEK) == b"":
                break
        except socket.timeout:
            pass
        except OSError:
            break
        if time.time() - start > float(maxsecs):
            print("open")
            return
    print("closed after %.1f s" % (time.time() - start))


if __name__ == "__main__":
    cmds = {"latency": latency, "hammer": hammer, "reject": reject, "idle": idle, "drip": drip}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
