#!/usr/bin/env bash
# No control-socket client stalls the agent. tabbyd holds 200,000 routes (bench/bgpgen
# feeds them over one session) and peers with BIRD on a 3 s hold time. Clients connect,
# ask for every route and never read, one after another for 20 s (more than the agent
# will hold at once, and longer than its idle limit): BIRD stays Established, the
# control socket keeps answering other clients promptly, and a client that does read
# gets the whole table as one valid JSON document. What they hold is bounded (their
# snapshots are capped at 64 MB together; the longest-idle client makes room).
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
ROUTES=200000
lan_up
host_add n1 1
host_add bird 10
host_add gen 20
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node bgp peer add 192.0.2.10 as 65010 --node=n1 --export=none
"$TABBYCTL" node bgp peer add 192.0.2.20 as 4200000000 --node=n1 --export=none
# Under ASan, freed memory waits in a 256 MB quarantine: keep it small so RSS measures what
# tabbyd holds, not what the sanitizer delays.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8" tabbyd_start n1 n1 1 --as 64512
# BIRD's 3 s is the hold time of its session (RFC 4271 §4.2: the smaller one wins).
bird_start bird bird "router id 192.0.2.10;
protocol device {}
protocol bgp tabby { local 192.0.2.10 as 65010; neighbor 192.0.2.1 as 64512; hold time 3;
	connect retry time 1; error wait time 1,2; ipv4 { import none; export none; }; }"
ip netns exec "$(ns_of gen)" "$BUILD/bgpgen" gen 192.0.2.20 1 192.0.2.1 4200000000 $ROUTES "$T/go" > "$T/gen.log" 2>&1 &
PIDS+=($!)
wait_until 60 "generator session up" grep -q '^ready' "$T/gen.log"
touch "$T/go"
q() { "$BUILD/ctl_query" "$T/n1.sock" "$@"; }
received() {
	q sessions | python3 -c 'import json,sys
print([s for s in json.load(sys.stdin) if s["remote"] == "192.0.2.20"][0]["prefixes_received"])'
}
export BUILD T; export -f q received
wait_until 120 "$ROUTES routes in tabbyd" bash -c "[ \"\$(received)\" = $ROUTES ]"
wait_until 10 "BIRD up" bird_up bird tabby
birdc -s "$T/bird/bird.ctl" show protocols all tabby | grep -E "Hold timer|Keepalive timer" || true

# A client that asks for every route and never reads a byte.
stuck_client() {
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"routes\n")
time.sleep(float(sys.argv[2]))' "$T/n1.sock" "$1" &
	PIDS+=($!)
}
rss() { awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/${PID_OF[n1]}/status"; }
rss0=$(rss)
start=$SECONDS; worst=0
while [ $((SECONDS - start)) -lt 20 ]; do
	stuck_client 25
	sleep 0.5
	bird_up bird tabby || die "BIRD's session went down with stuck control clients"
	# Another client is served meanwhile; how long it waits is the loop's delay.
	t0=$(date +%s%N)
	q sessions > "$T/s.out" || die "ctl_query failed"; grep -q "192.0.2.10" "$T/s.out" || { cat "$T/s.out"; die "the control socket did not answer"; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -gt $worst ] && worst=$ms
done
echo "20 s of clients that never read: BIRD Established; 'sessions' answered in at most ${worst} ms"
[ $worst -lt 1000 ] || die "a control-socket answer took ${worst} ms"
echo "tabbyd RSS: ${rss0} MB before the stuck clients, $(rss) MB with them"
[ $(($(rss) - rss0)) -lt 128 ] || die "stuck clients cost tabbyd $(($(rss) - rss0)) MB"
grep -q "Hold timer expired" "$T/bird/bird.log" "$T/n1.log" && die "a hold timer expired"
# A client that reads gets the whole table.
t0=$(date +%s%N)
n=$(q routes | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
echo "route show over $ROUTES routes: $n paths in $((($(date +%s%N) - t0) / 1000000)) ms"
[ "$n" -ge $ROUTES ] || die "the full table came back with $n paths"
bird_up bird tabby || die "BIRD's session went down"
echo "control socket: stuck clients stall nothing; the full table streams"
