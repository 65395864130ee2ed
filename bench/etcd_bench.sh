#!/usr/bin/env bash
# Benchmark (not a test): tabby on etcd next to SQLite.
#   bench/etcd_bench.sh [N] [CHANGES]      defaults 10000 100
# 1. N `tabbyctl bgp peer add`, one process each, against a one-member etcd on loopback
#    and against SQLite.
# 2. With those N global peers configured, a tabbyd node (its own namespace, --no-fib):
#    CHANGES times, a node peer is added and the time from the start of that
#    `tabbyctl node bgp peer add` to tabbyd's "peer ...: starting" log line is taken
#    (p50, p99; it includes the tabbyctl process, whose own time is printed too, and so
#    is the time from its return, the change committed, to the log line).
# 3. bench/etcd_nodes (C) against a three-member etcd on loopback: simulated nodes, each
#    a writer with its own connection and lease putting status records; nodes doubled
#    until the writes' p99 passes 100 ms.
# STEPS="1 2 3" (default) picks steps; without step 1, step 2 loads the N peers with
# `tabbyctl datastore restore` (STEPS=2: the reconcile part alone).
# BACKENDS="etcd sqlite" (default) picks the datastores of steps 1 and 2.
# TABBY_BUILD=DIR takes tabbyd and tabbyctl from DIR instead of building build/ (to
# compare two builds in one run, e.g. TABBY_BUILD=/tmp/base/build).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
changes=${2:-100}
# Everything runs in a namespace of its own with only a loopback: etcd, tabbyctl, and a
# tabbyd whose 10,000 peers (198.18.0.0/15) are unreachable, so no packet leaves it.
if [ -z "${TABBY_BENCH_NS:-}" ]; then
	[ -n "${TABBY_BUILD:-}" ] || make -C "$top" > /dev/null
	ns=tbe$$
	ip netns add "$ns"
	trap 'ip netns del "$ns"' EXIT
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 192.0.2.1/32 dev lo
	TABBY_BENCH_NS=$ns ip netns exec "$ns" bash "$0" "$@"
	exit
fi
B=${TABBY_BUILD:-$top/build}
ctl=$B/tabbyctl
T=$(mktemp -d /tmp/tabby-bench-XXXXXX)
PIDS=()
cleanup() {
	set +e # some of them are gone already
	for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
etcd_member() {  # NAME CLIENT-PORT PEER-PORT INITIAL-CLUSTER
	etcd --name "$1" --data-dir "$T/$1" --listen-client-urls "http://127.0.0.1:$2" \
		--advertise-client-urls "http://127.0.0.1:$2" --listen-peer-urls "http://127.0.0.1:$3" \
		--initial-advertise-peer-urls "http://127.0.0.1:$3" --initial-cluster "$4" \
		--quota-backend-bytes 4294967296 --log-level warn > "$T/$1.log" 2>&1 &
	PIDS+=($!)
}
wait_etcd() {
	for _ in $(seq 100); do
		curl -sf --noproxy '*' -X POST "http://127.0.0.1:$1/v3/kv/range" -d '{"key":"Lw=="}' > /dev/null && return 0
		sleep 0.1
	done
	echo "etcd on port $1 did not start" >&2
	return 1
}
addr() { echo "198.$((18 + $1 / 65536)).$((($1 / 256) % 256)).$(($1 % 256))"; }
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.1f", v[i] }'; }

cp=$(free_port) pp=$(free_port)
etcd_member b1 "$cp" "$pp" "b1=http://127.0.0.1:$pp"
wait_etcd "$cp"
ETCD=etcd://127.0.0.1:$cp
SQLITE=sqlite:$T/tabby.db
dss=
for b in ${BACKENDS:-etcd sqlite}; do
	case $b in
	etcd) dss="$dss $ETCD" ;;
	sqlite) dss="$dss $SQLITE" ;;
	*) echo "BACKENDS: unknown '$b' (etcd, sqlite)" >&2; exit 2 ;;
	esac
done

steps=${STEPS:-1 2 3}
step() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }

step 1 && echo "== 1. $n x tabbyctl bgp peer add (one process each)"
step 1 && for ds in $dss; do
	start=$(date +%s%N)
	for i in $(seq 1 "$n"); do
		"$ctl" --datastore="$ds" bgp peer add "$(addr "$i")" as $((4200000000 + i))
	done
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "${ds%%:*}: $n adds in $ms ms = $(awk "BEGIN { printf \"%.2f\", $ms / $n }") ms per add"
done

if step 2 && ! step 1; then
	python3 - "$n" > "$T/peers.json" << 'PY'
import json, sys
n = int(sys.argv[1])
keys = []
for i in range(1, n + 1):
    a = "198.%d.%d.%d" % (18 + i // 65536, (i // 256) % 256, i % 256)
    keys.append({"key": "/tabby/v1/bgp/global/peer_v4/" + a,
                 "value": json.dumps({"ip": a, "as_num": 4200000000 + i}, separators=(",", ":"))})
print(json.dumps({"tabby_backup": 1, "revision": 0, "keys": keys}))
PY
	for ds in $dss; do "$ctl" --datastore="$ds" datastore restore "$T/peers.json"; done
fi
step 2 && echo "== 2. watch event -> session starting, $n peers configured, $changes changes"
step 2 && for ds in $dss; do
	name=${ds%%:*}
	log=$T/tabbyd-$name.log
	"$B/tabbyd" --node bench --ip 192.0.2.1 --as 64512 --datastore "$ds" --no-fib \
		--listen-port 1179 --control "$T/bench-$name.sock" --log-level info > "$log" 2>&1 &
	PIDS+=($!)
	tpid=$!
	for _ in $(seq 600); do grep -q "starting" "$log" && break; sleep 0.1; done
	sleep 5 # the first $n sessions start and publish their status
	: > "$T/lat-$name" && : > "$T/ctl-$name" && : > "$T/agent-$name"
	for i in $(seq 1 "$changes"); do
		peer="203.0.113.$i"
		[ "$name" = sqlite ] && peer="198.51.100.$i"
		t0=$(date +%s%N)
		"$ctl" --datastore="$ds" node bgp peer add "$peer" as $((65000 + i)) --node=bench
		t1=$(date +%s%N)
		for _ in $(seq 1500); do grep -q "peer $peer: starting" "$log" && break; sleep 0.005; done
		ts=$(grep -m1 "peer $peer: starting" "$log" | cut -d' ' -f1)
		[ -n "$ts" ] || { echo "$name: $peer never started" >&2; break; }
		tst=$(date -d "${ts/T/ }" +%s%N)
		echo "$(((tst - t0) / 1000))" | awk '{ print $1 / 1000 }' >> "$T/lat-$name"
		echo "$(((tst - t1) / 1000))" | awk '{ print $1 / 1000 }' >> "$T/agent-$name"
		echo "$(((t1 - t0) / 1000))" | awk '{ print $1 / 1000 }' >> "$T/ctl-$name"
	done
	echo "$name: slowest ten (ms): $(sort -n "$T/lat-$name" | tail -n 10 | tr "\n" " ")"
	echo "$name: add -> starting p50 $(pct 50 < "$T/lat-$name") ms, p99 $(pct 99 < "$T/lat-$name") ms" \
		"(the tabbyctl add itself: p50 $(pct 50 < "$T/ctl-$name") ms; from its return: p50" \
		"$(pct 50 < "$T/agent-$name") ms, p99 $(pct 99 < "$T/agent-$name") ms); RSS $(awk '/VmRSS/ { print $2 / 1024 " MB" }' /proc/$tpid/status)"
	kill "$tpid"
	wait "$tpid" 2> /dev/null || true
done

step 3 || exit 0
echo "== 3. simulated nodes on a three-member etcd (status writes, each node 2 per second)"
c1=$(free_port) c2=$(free_port) c3=$(free_port) p1=$(free_port) p2=$(free_port) p3=$(free_port)
init="c1=http://127.0.0.1:$p1,c2=http://127.0.0.1:$p2,c3=http://127.0.0.1:$p3"
etcd_member c1 "$c1" "$p1" "$init"
etcd_member c2 "$c2" "$p2" "$init"
etcd_member c3 "$c3" "$p3" "$init"
wait_etcd "$c1"
"$B/etcd_nodes" "etcd://127.0.0.1:$c1,127.0.0.1:$c2,127.0.0.1:$c3" 2 10
