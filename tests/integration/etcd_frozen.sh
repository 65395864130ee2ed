#!/usr/bin/env bash
# The agent's loop never waits on the datastore (issue 17). tabbyd on n1 runs on a
# one-member etcd (its own namespace) with a node peer, BIRD, at a 3 s hold time. A change
# (a prefix for n1 to originate) is written while tabbyd is held with SIGSTOP; then etcd is
# frozen with SIGSTOP (not killed: connections stay open, calls simply get no answer) and
# tabbyd continues. So the watch event is there for tabbyd to read, and everything after it
# meets a store that does not answer. While etcd stays frozen (8 s): the change is applied
# (BIRD gets the prefix), every query on tabbyd's control socket (every 50 ms) answers
# within 600 ms where a read waiting on etcd would take 1 s (`tabbyctl status` reads the
# datastore, so the socket is asked directly), the session
# stays up on both sides (KEEPALIVEs flow). Once etcd runs again, status is written again.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ -n "${PID_OF[e1]:-}" ] && kill -CONT "${PID_OF[e1]}" 2>/dev/null
	[ -n "${PID_OF[n1]:-}" ] && kill -CONT "${PID_OF[n1]}" 2>/dev/null
	[ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
need_etcd

lan_up
host_add e1 11
host_add c 20
host_add n1 1
host_add bird 10
ip netns exec "$(ns_of e1)" etcd --name e1 --data-dir "$T/e1.etcd" \
	--listen-client-urls http://192.0.2.11:2379 --advertise-client-urls http://192.0.2.11:2379 \
	--listen-peer-urls http://192.0.2.11:2380 --initial-advertise-peer-urls http://192.0.2.11:2380 \
	--initial-cluster e1=http://192.0.2.11:2380 --log-level warn >> "$T/e1.log" 2>&1 &
PIDS+=($!)
PID_OF[e1]=$!
ETCD=etcd://192.0.2.11:2379
printf '#!/bin/sh\nexec ip netns exec %s env TABBY_DATASTORE=%s %s "$@"\n' "$(ns_of c)" "$ETCD" \
	"$BUILD/tabbyctl" > "$T/tabbyctl"
chmod +x "$T/tabbyctl"
TABBYCTL=$T/tabbyctl
wait_until 30 "etcd answers" "$TABBYCTL" bgp node-mesh
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node bgp peer add 192.0.2.10 as 65010 --node=n1
TABBY_DATASTORE=$ETCD tabbyd_start n1 n1 1 --as 64512 --hold-time 3
bird_start bird bird "router id 192.0.2.10;
protocol device {}
protocol bgp tabby { local 192.0.2.10 as 65010; neighbor 192.0.2.1 as 64512; hold time 3;
	connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"
wait_until 20 "BIRD up" bird_up bird tabby
wait_until 10 "tabbyd reports the session up" tabby_up n1 192.0.2.10
bird_has_ours() { birdc -s "$T/bird/bird.ctl" show route for 203.0.113.0/24 | grep -q 203.0.113.0/24; }

kill -STOP "${PID_OF[n1]}"
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=n1
sleep 0.5 # etcd sends the event to tabbyd's watch stream
kill -STOP "${PID_OF[e1]}"
kill -CONT "${PID_OF[n1]}"
echo "etcd frozen with the change pending for tabbyd"

wait_until 3 "the change applied with etcd frozen: BIRD has our prefix" bird_has_ours
# One process asks the control socket every 50 ms for 8 s (no process start in the timing):
# a loop that waited on etcd (a read gives up after 1 s) would show it.
python3 - "$T/n1.sock" 8 > "$T/queries.out" << 'PY' || die "the control socket failed: $(cat "$T/queries.out")"
import json, socket, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
end, worst, n = time.monotonic() + seconds, 0.0, 0
while time.monotonic() < end:
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(b"sessions\n")
    buf = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    worst = max(worst, time.monotonic() - t0)
    n += 1
    if b'"192.0.2.10"' not in buf or b'"Established"' not in buf:
        print("no Established session 192.0.2.10 in: %s" % buf[:300])
        sys.exit(1)
    time.sleep(0.05)
print("%d %d" % (n, worst * 1000))
PY
read -r n worst < "$T/queries.out"
bird_up bird tabby || die "BIRD's session went down while etcd was frozen"
echo "etcd frozen for 8 s: $n control-socket queries, the slowest took $worst ms"
[ "$worst" -lt 600 ] || die "a control-socket query took $worst ms: the loop waited"
grep -q "session down\|Hold Timer Expired" "$T/n1.log" && die "a session went down"
bird_has_ours || die "the prefix was withdrawn"

kill -CONT "${PID_OF[e1]}"
echo "etcd runs again"
"$TABBYCTL" node prefix add 203.0.113.64/26 --node=n1
bird_has_second() { birdc -s "$T/bird/bird.ctl" show route for 203.0.113.64/26 | grep -q 203.0.113.64/26; }
wait_until 10 "a change made after the thaw applied" bird_has_second
wait_until 15 "status written again" tabby_up n1 192.0.2.10
bird_up bird tabby || die "the session went down"
echo "etcd frozen: the loop went on (change applied, control answered, KEEPALIVEs flowed)"
