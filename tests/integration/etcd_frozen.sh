#!/usr/bin/env bash
# The agent's loop never waits on the datastore (issue 17). tabbyd on n1 runs on a
# one-member etcd (its own namespace) with a node peer, BIRD, at a 3 s hold time. A change
# (a prefix for n1 to originate) is written while tabbyd is held with SIGSTOP; then etcd is
# frozen with SIGSTOP (not killed: connections stay open, calls simply get no answer) and
# tabbyd continues. So the watch event is there for tabbyd to read, and everything after it
# meets a store that does not answer. While etcd stays frozen (8 s): the change is applied
# (BIRD gets the prefix), every query on tabbyd's control socket answers within 300 ms
# (`tabbyctl status` reads the datastore, so the socket is asked directly), the session
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
sessions() { "$BUILD/ctl_query" "$T/n1.sock" sessions; }

kill -STOP "${PID_OF[n1]}"
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=n1
sleep 0.5 # etcd sends the event to tabbyd's watch stream
kill -STOP "${PID_OF[e1]}"
frozen_at=$SECONDS
kill -CONT "${PID_OF[n1]}"
echo "etcd frozen with the change pending for tabbyd"

wait_until 3 "the change applied with etcd frozen: BIRD has our prefix" bird_has_ours
worst=0
n=0
while [ $((SECONDS - frozen_at)) -lt 8 ]; do
	t0=$(date +%s%N)
	sessions > "$T/sessions.json" || die "the control socket did not answer"
	ms=$((($(date +%s%N) - t0) / 1000000))
	n=$((n + 1))
	[ "$ms" -gt "$worst" ] && worst=$ms
	grep -q '"192.0.2.10"' "$T/sessions.json" || die "the session is gone from tabbyd"
	grep -q '"Established"' "$T/sessions.json" || die "the session is not Established in tabbyd"
	bird_up bird tabby || die "BIRD's session went down while etcd was frozen"
	sleep 0.2
done
echo "etcd frozen for 8 s: $n control-socket queries, the slowest took $worst ms"
[ "$worst" -lt 300 ] || die "a control-socket query took $worst ms: the loop waited"
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
