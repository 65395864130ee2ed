#!/usr/bin/env bash
# Benchmark (not a test): convergence and memory of BGP daemons side by side, bgperf-style.
# Generators (bench/bgpgen.c) open N eBGP sessions to the daemon under test and send M
# unique IPv4 prefixes each; a sink session receives what the daemon exports; the clock runs
# from the first UPDATE sent to the last expected prefix at the sink. The daemon runs in its
# own namespace with no kernel routes, accepting everything from the generators, exporting
# nothing back to them and everything to the sink. Addresses: 198.18.0.0/15 (RFC 2544).
#   bench/bgp_bench.sh [DAEMONS] [SCENARIOS]     e.g. "tabbyd bird" "1x100000 10x10000"
# Status: tabbyd and BIRD 2 only so far (FRR, GoBGP and IPv6 are still to come).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
daemons=${1:-"tabbyd bird"}
scenarios=${2:-"1x100000 10x10000"}
limit=${BENCH_TIMEOUT:-300}
make -C "$top" >/dev/null || exit 1
B=$top/build
T=$(mktemp -d /tmp/tabby-bgpbench-XXXXXX); chmod 755 "$T"
P="bb$$"; NSS=(); PIDS=()
cleanup() {
	local p ns   # local: callers' variables (n, p) must survive
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	PIDS=()
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NSS=()
}
trap 'cleanup; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

R=0
topology() {  # N generators
	cleanup
	R=$((R + 1)); P="bb$$r$R"   # fresh names: namespace removal finishes asynchronously
	for h in lan dut gen sink; do ip netns add "$P-$h"; NSS+=("$P-$h"); ip -n "$P-$h" link set lo up; done
	ip -n "$P-lan" link add br0 type bridge; ip -n "$P-lan" link set br0 up
	for h in dut gen sink; do
		ip link add "v$R$h" netns "$P-lan" type veth peer name eth0 netns "$P-$h"
		ip -n "$P-lan" link set "v$R$h" master br0 up
		ip -n "$P-$h" link set eth0 up
	done
	ip -n "$P-dut" addr add 198.18.0.1/15 dev eth0
	ip -n "$P-sink" addr add 198.18.0.2/15 dev eth0
	for i in $(seq 0 $(($1 - 1))); do
		ip -n "$P-gen" addr add "198.18.$((1 + i / 250)).$((1 + i % 250))/15" dev eth0
	done
}
gen_ip() { echo "198.18.$((1 + $1 / 250)).$((1 + $1 % 250))"; }

start_tabbyd() {  # N
	export TABBY_DATASTORE="sqlite:$T/tabby.db"
	rm -f "$T/tabby.db"*
	"$B/tabbyctl" bgp node-mesh off
	for i in $(seq 0 $(($1 - 1))); do
		"$B/tabbyctl" node bgp peer add "$(gen_ip "$i")" as $((4200000000 + i)) --export=none --node=dut
	done
	"$B/tabbyctl" node bgp peer add 198.18.0.2 as 64999 --import=none --node=dut
	ip netns exec "$P-dut" "$B/tabbyd" --node dut --ip 198.18.0.1 --as 64512 --no-fib \
		--hold-time 240 --control "$T/dut.sock" --log-level warn > "$T/dut.log" 2>&1 &
	DPID=$!; PIDS+=($DPID)
}
start_bird() {
	{
		echo "router id 198.18.0.1;"
		echo "protocol device {}"
		for i in $(seq 0 $(($1 - 1))); do
			echo "protocol bgp g$i { local 198.18.0.1 as 64512; neighbor $(gen_ip "$i") as $((4200000000 + i)); hold time 240; ipv4 { import all; export none; }; }"
		done
		echo "protocol bgp sink { local 198.18.0.1 as 64512; neighbor 198.18.0.2 as 64999; hold time 240; ipv4 { import none; export all; }; }"
	} > "$T/bird.conf"
	ip netns exec "$P-dut" bird -f -c "$T/bird.conf" -s "$T/bird.ctl" > "$T/dut.log" 2>&1 &
	DPID=$!; PIDS+=($DPID)
}

# Prints: convergence_s established_s cpu_s rss_MB bytes_per_path, or a reason.
run_one() {  # DAEMON N M
	local d=$1 n=$2 m=$3 t0 done est start line
	topology "$n"
	"start_$d" "$n"
	rm -f "$T/go"
	ip netns exec "$P-sink" "$B/bgpgen" sink 198.18.0.2 198.18.0.1 64512 64999 $((n * m)) > "$T/sink.out" 2>&1 &
	PIDS+=($!)
	start=$(date +%s%N)
	ip netns exec "$P-gen" "$B/bgpgen" gen 198.18.1.1 "$n" 198.18.0.1 64512 4200000000 "$m" "$T/go" > "$T/gen.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq $((limit * 10))); do grep -qs ready "$T/gen.out" && grep -qs up "$T/sink.out" && break; sleep 0.1; done
	grep -q ready "$T/gen.out" || { echo "sessions-not-up"; return; }
	est=$(awk '/established/ {print $2}' "$T/gen.out")
	touch "$T/go"
	for _ in $(seq $((limit * 20))); do grep -qs "^done" "$T/sink.out" && break; sleep 0.05; done
	if ! grep -q "^done" "$T/sink.out"; then echo "not-converged-in-${limit}s"; return; fi
	t0=$(awk '/^sent/ {print $2}' "$T/gen.out")
	done=$(awk '/^done/ {print $2}' "$T/sink.out")
	local ticks cpu rss
	ticks=$(awk '{print $14 + $15}' "/proc/$DPID/stat")
	cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}')
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$DPID/status")
	awk -v c="$done" -v t="$t0" -v e="$est" -v s="$start" -v cpu="$cpu" -v rss="$rss" -v paths=$((n * m)) \
		'BEGIN{printf "%.2f %.2f %s %.0f %.0f\n", (c - t) / 1e9, (e - s) / 1e9, cpu, rss / 1024, rss * 1024 / paths}'
}

printf '%-10s %-8s %12s %12s %8s %10s %10s\n' scenario daemon converge_s sessions_s cpu_s peak_MB bytes/path
for sc in $scenarios; do
	n=${sc%x*}; m=${sc#*x}
	for d in $daemons; do
		run_one "$d" "$n" "$m" > "$T/result"   # not $(...): the run's processes and namespaces stay ours
		r=$(cat "$T/result")
		set -- $r
		if [ $# -eq 5 ]; then
			printf '%-10s %-8s %12s %12s %8s %10s %10s\n' "$sc" "$d" "$1" "$2" "$3" "$4" "$5"
		else
			printf '%-10s %-8s %s\n' "$sc" "$d" "$r"
		fi
	done
done
