#!/usr/bin/env bash
# `make run` on a terminal (issue 19): the demo comes up, says how to stop it and how to
# change its ports, and a Ctrl-C (typed on the terminal: SIGINT to its foreground
# process group) stops the agents and the API cleanly, after which make exits 0 with
# no "Error 130". Runs in a network namespace of its own (the demo's loopback ports),
# on a pseudo-terminal. RUN_TOP: the tree whose `make run` is tried (default: this one).
. "$(dirname "$0")/lib.bash"
set -e
top=${RUN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
ns=tbyrun$$
trap 'ip netns del "$ns" 2>/dev/null; finish' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
# Only this demo's datastore and logs: build/demo is the demo's own directory.
rc=0
python3 - "$ns" "$top" "$T/run.out" <<'PY' || rc=$?
import os, pty, select, signal, sys, time
ns, top, out = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("TABBY_DATASTORE", None)
    os.execvp("ip", ["ip", "netns", "exec", ns, "make", "-s", "-C", top, "run"])
buf = b""
def read_until(what, limit):
    global buf
    end = time.time() + limit
    while what not in buf:
        left = end - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        try:
            chunk = os.read(fd, 4096) if r else b""
        except OSError:
            return what in buf
        if r and not chunk:
            return what in buf
        buf += chunk
    return True
ok = read_until(b"Press Ctrl-C", 240)
if ok:
    time.sleep(0.5)
    os.write(fd, b"\x03")      # Ctrl-C, as typed
    read_until(b"\x00never", 60)
else:
    os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
open(out, "wb").write(buf)
code = os.waitstatus_to_exitcode(status)
print("demo started" if ok else "demo never said 'Press Ctrl-C'", "; make exit status", code)
sys.exit(0 if ok and code == 0 else 1)
PY
tr -d '\r' < "$T/run.out" > "$T/run.txt"
[ $rc = 0 ] || { tail -n 30 "$T/run.txt"; die "make run did not exit 0 on Ctrl-C"; }
for what in "stopped node-a" "stopped node-b" "stopped tabby-api" "API_PORT=" "BGP_PORT_A=" \
	"Press Ctrl-C to stop them"; do
	grep -qF "$what" "$T/run.txt" || { tail -n 30 "$T/run.txt"; die "make run did not say '$what'"; }
done
grep -qE "Error [0-9]+|Interrupt" "$T/run.txt" && { tail -n 10 "$T/run.txt"; die "make reported an error"; }
[ -z "$(ip netns pids "$ns")" ] || die "processes left in the demo's namespace: $(ip netns pids "$ns")"
grep -qE 'signal (2|15): closing every session' "$top/build/demo/node-a.log" || die "node-a did not close its sessions"
echo "make run: up, stopped by Ctrl-C, every daemon exited 0, make exit 0"
