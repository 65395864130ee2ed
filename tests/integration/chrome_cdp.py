#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
no port is opened). Commands, one a line on standard input, each answered by one line:
  open URL          load a page                    -> ok
  eval EXPRESSION   evaluate it in the page        -> its value as JSON
  shot FILE         save a PNG of the page         -> ok
  quit              close the browser
Usage: chrome_cdp.py [CHROMIUM-ARGS...]"""
import base64, json, os, subprocess, sys

r_ours, w_chrome = os.pipe()   # chrome writes on its fd 4, we read
r_chrome, w_ours = os.pipe()   # we write, chrome reads on its fd 3
def fds():
    os.dup2(r_chrome, 3)
    os.dup2(w_chrome, 4)
proc = subprocess.Popen(["chromium", "--headless", "--remote-debugging-pipe"] + sys.argv[1:],
                        pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL)
os.close(r_chrome)
os.close(w_chrome)
inbox = b""
next_id = 0
session = None

def call(method, params=None, use_session=True):
    global next_id, inbox
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if use_session and session:
        msg["sessionId"] = session
    os.write(w_ours, json.dumps(msg).encode() + b"\0")
    while True:
        while b"\0" not in inbox:
            chunk = os.read(r_ours, 1 << 20)
            if not chunk:
                sys.exit("chromium closed the pipe")
            inbox += chunk
        raw, inbox = inbox.split(b"\0", 1)
        m = json.loads(raw)
        if m.get("id") == next_id:
            if "error" in m:
                sys.exit(f"{method}: {m['error']}")
            return m["result"]

target = call("Target.createTarget", {"url": "about:blank"}, False)["targetId"]
session = call("Target.attachToTarget", {"targetId": target, "flatten": True}, False)["sessionId"]
call("Page.enable")
for line in sys.stdin:
    cmd, _, arg = line.rstrip("\n").partition(" ")
    if cmd == "open":
        call("Page.navigate", {"url": arg})
        out = "ok"
    elif cmd == "eval":
        res = call("Runtime.evaluate", {"expression": arg, "returnByValue": True, "awaitPromise": True})
        out = json.dumps(res.get("result", {}).get("value"))
    elif cmd == "shot":
        data = call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(arg, "wb") as f:
            f.write(base64.b64decode(data))
        out = "ok"
    elif cmd == "quit":
        break
    else:
        out = json.dumps({"error": f"unknown command {cmd}"})
    print(out, flush=True)
try:
    call("Browser.close", use_session=False)
except SystemExit:
    pass
proc.wait(timeout=10)
