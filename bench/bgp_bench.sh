#!/usr/bin/env bash
# Benchmark (not a test): tabbyd, BIRD 2, FRR, GoBGP and OpenBGPD side by side, bgperf-style.
#
#   bench/bgp_bench.sh [DAEMONS] [SCENARIOS] [FAMILIES]
#     DAEMONS    default "tabbyd bird frr gobgp openbgpd"
#     SCENARIOS  NxM: N generator sessions with M prefixes each; NxM-fib: the same with
#                the daemon installing its routes in its namespace's kernel (converged =
#                the last route is in the kernel table), plus two reference rows for
#                the kernel alone (ip -batch; batched netlink); NxM-churn: after NxM
#                converged, every 10th prefix is withdrawn and announced again with
#                another community (converged = the sink has them all again, with the
#                new one); NxM-dev
#                (tabbyd only): N virtual devices with one peering of M prefixes each
#                (converged = all in the devices' kernel tables);
#                default "1x1000000 10x100000 50x100000 200x500 1000x100 1x1000000-fib
#                1x1000000-churn 1x100000-fib 100x1000-dev"
#     FAMILIES   default "ipv4 ipv6" (the -fib, -churn and -dev scenarios: IPv4 only
#                unless BENCH_NEW_V6=1 for -fib and -churn)
#   BENCH_RUNS (3) runs per cell, median with min and max; BENCH_TIMEOUT (300) seconds
#   a run may take to converge; BENCH_OUT=FILE also writes the tables there, and the
#   chart (gnuplot, SVG) next to it as FILE with .svg (or BENCH_CHART=FILE.svg);
#   BENCH_MEM_FLOOR_MB (1536): a run stops, reported as one the machine cannot hold,
#   when less memory than that is left; BENCH_QUICK=1: one run per cell, IPv4 only;
#   BENCH_SMAPS=PREFIX: the daemon's /proc smaps at convergence in PREFIX.DAEMON.N (where
#   its memory is); BENCH_B=DIR: tabby's programs from DIR (default build/; a wrapper for
#   heaptrack or perf, say).
#
#   bench/bgp_bench.sh chart TABLE SVG   redraws the chart of a saved table (BENCH_OUT)
#
# Per run: a fresh namespace for the daemon under test, one for the generators and one
# for the sink, on a bridge (198.18.0.0/15 and 2001:db8::/64). bench/bgpgen encodes
# everything first, opens the N eBGP sessions, and sends once the sink's session is up;
# the daemon accepts everything from the generators, exports nothing back to them and
# everything to the sink, and programs no kernel routes (but in -fib). Convergence is first
# UPDATE sent -> last expected prefix at the sink (-fib: in the kernel; -churn: first churn
# UPDATE sent -> the churn complete at the sink); the sink checks it got exactly the N x M
# prefixes. Sessions is daemon start -> all N generator sessions Established.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
quick=${BENCH_QUICK:-0}
daemons=${1:-"tabbyd bird frr gobgp openbgpd"}
scenarios=${2:-"1x1000000 10x100000 50x100000 200x500 1000x100 1x1000000-fib 1x1000000-churn 1x100000-fib 100x1000-dev"}
families=${3:-$([ "$quick" = 1 ] && echo ipv4 || echo "ipv4 ipv6")}
runs=${BENCH_RUNS:-$([ "$quick" = 1 ] && echo 1 || echo 3)}
limit=${BENCH_TIMEOUT:-300}
out=${BENCH_OUT:-/dev/null}
[ "$out" = /dev/null ] || : > "$out"
chart_out=${BENCH_CHART:-}
[ -z "$chart_out" ] && [ "$out" != /dev/null ] && chart_out=${out%.txt}.svg
CHURN_EVERY=10   # the churn scenario: every 10th prefix
FIB=0
MEM_FLOOR_KB=$((${BENCH_MEM_FLOOR_MB:-1536} * 1024))
make -C "$top" >/dev/null || exit 1
B=${BENCH_B:-$top/build}
T=$(mktemp -d /tmp/tabby-bgpbench-XXXXXX); chmod 755 "$T"
NSS=(); PIDS=(); R=0; P=""

cleanup() {
	local p ns   # local: the callers' variables must survive
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	PIDS=()
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NSS=()
}
trap 'cleanup; rm -rf "$T"' EXIT
trap 'echo "interrupted: cleaning up" >&2; exit 130' INT TERM

for d in $daemons; do
	case $d in
	tabbyd) ;;
	bird) command -v bird >/dev/null || { echo "bird not installed (scripts/deps bench)" >&2; exit 1; } ;;
	frr) [ -x /usr/lib/frr/bgpd ] || { echo "frr not installed (scripts/deps bench)" >&2; exit 1; } ;;
	gobgp) command -v gobgpd >/dev/null || { echo "gobgpd not installed (scripts/deps bench)" >&2; exit 1; } ;;
	chart) [ "$daemons" = chart ] || { echo "chart: bench/bgp_bench.sh chart TABLE SVG" >&2; exit 2; } ;;
	openbgpd) command -v bgpd >/dev/null || { echo "openbgpd not installed (scripts/deps bench)" >&2; exit 1; } ;;
	*) echo "unknown daemon '$d': accepted are tabbyd bird frr gobgp openbgpd" >&2; exit 2 ;;
	esac
done

# Addresses: the daemon, the sink, and generator i (bgpgen adds i to the base).
fam=ipv4
dut_ip() { [ $fam = ipv4 ] && echo 198.18.0.1 || echo 2001:db8::1; }
sink_ip() { [ $fam = ipv4 ] && echo 198.18.0.2 || echo 2001:db8::2; }
gen_ip() {
	if [ $fam = ipv4 ]; then
		local v=$(((198 << 24) + (18 << 16) + (1 << 8) + 1 + $1))
		echo "$((v >> 24 & 255)).$((v >> 16 & 255)).$((v >> 8 & 255)).$((v & 255))"
	else
		printf '2001:db8::1:%x\n' "$1"
	fi
}
plen() { [ $fam = ipv4 ] && echo 15 || echo 64; }
gen_as() { echo $((4200000000 + $1)); }

topology() {  # N generators
	local h i
	cleanup
	R=$((R + 1)); P="bb$$r$R"   # fresh names: namespace removal finishes asynchronously
	for h in lan dut gen sink; do ip netns add "$P-$h"; NSS+=("$P-$h"); ip -n "$P-$h" link set lo up; done
	ip -n "$P-lan" link add br0 type bridge; ip -n "$P-lan" link set br0 up
	for h in dut gen sink; do
		ip link add "v$R$h" netns "$P-lan" type veth peer name eth0 netns "$P-$h"
		ip -n "$P-lan" link set "v$R$h" master br0 up
		ip -n "$P-$h" link set eth0 up
	done
	local nodad=""; [ $fam = ipv6 ] && nodad=nodad
	ip -n "$P-dut" addr add "$(dut_ip)/$(plen)" dev eth0 $nodad
	ip -n "$P-sink" addr add "$(sink_ip)/$(plen)" dev eth0 $nodad
	for i in $(seq 0 $(($1 - 1))); do echo "addr add $(gen_ip "$i")/$(plen) dev eth0 $nodad"; done > "$T/addrs"
	ip -n "$P-gen" -batch "$T/addrs"
}

# ---- the daemons, configured alike: eBGP, all in from generators, nothing back, all to the sink
start_tabbyd() {  # N
	local i ip6=() nofib=--no-fib
	[ "$FIB" = 1 ] && nofib=""
	export TABBY_DATASTORE="sqlite:$T/tabby.db"
	rm -f "$T/tabby.db"*
	"$B/tabbyctl" bgp node-mesh off >/dev/null
	for i in $(seq 0 $(($1 - 1))); do
		"$B/tabbyctl" node bgp peer add "$(gen_ip "$i")" as "$(gen_as "$i")" --export=none --node=dut >/dev/null
	done
	"$B/tabbyctl" node bgp peer add "$(sink_ip)" as 64999 --import=none --node=dut >/dev/null
	[ $fam = ipv6 ] && ip6=(--ip6 "$(dut_ip)")
	START=$(date +%s%N)   # configuration written: the daemon starts now
	ip netns exec "$P-dut" "$B/tabbyd" --node dut --ip 198.18.0.1 "${ip6[@]}" --as 64512 $nofib \
		--hold-time 240 --control "$T/dut.sock" --log-level warn > "$T/dut.log" 2>&1 &
	DPIDS=($!)
}

start_bird() {  # N
	local i
	{
		echo "router id 198.18.0.1;"
		echo "protocol device {}"
		[ "$FIB" = 1 ] && echo "protocol kernel { $fam { export all; }; }"
		for i in $(seq 0 $(($1 - 1))); do
			echo "protocol bgp g$i { local $(dut_ip) as 64512; neighbor $(gen_ip "$i") as $(gen_as "$i"); hold time 240; $fam { import all; export none; }; }"
		done
		echo "protocol bgp sink { local $(dut_ip) as 64512; neighbor $(sink_ip) as 64999; hold time 240; $fam { import none; export all; }; }"
	} > "$T/bird.conf"
	START=$(date +%s%N)   # configuration written: the daemon starts now
	ip netns exec "$P-dut" bird -f -c "$T/bird.conf" -s "$T/bird.ctl" > "$T/dut.log" 2>&1 &
	DPIDS=($!)
}

# FRR as its documentation advises for this: one peer-group (one update group) for the
# generators, no advertisement interval, no subgroup coalescing delay, no zebra (-Z);
# with kernel routes, zebra in the same namespace on its own socket (and its netlink
# buffer as Debian's default, -s 90000000).
start_frr() {  # N
	local i af=ipv4; [ $fam = ipv6 ] && af=ipv6
	{
		echo "frr defaults traditional"
		echo "hostname dut"
		echo "router bgp 64512"
		echo " bgp router-id 198.18.0.1"
		echo " no bgp ebgp-requires-policy"
		echo " no bgp default ipv4-unicast"
		echo " no bgp network import-check"
		echo " coalesce-time 0"
		echo " timers bgp 80 240"
		echo " neighbor GEN peer-group"
		echo " neighbor GEN advertisement-interval 0"
		for i in $(seq 0 $(($1 - 1))); do
			echo " neighbor $(gen_ip "$i") remote-as $(gen_as "$i")"
			echo " neighbor $(gen_ip "$i") peer-group GEN"
		done
		echo " neighbor $(sink_ip) remote-as 64999"
		echo " neighbor $(sink_ip) advertisement-interval 0"
		echo " address-family $af unicast"
		echo "  neighbor GEN activate"
		echo "  neighbor GEN route-map NONE out"
		echo "  neighbor $(sink_ip) activate"
		echo "  neighbor $(sink_ip) route-map NONE in"
		echo " exit-address-family"
		echo "route-map NONE deny 10"
	} > "$T/bgpd.conf"
	rm -rf "$T/frr"; mkdir "$T/frr"; chown frr:frr "$T/frr"   # bgpd drops to user frr
	chmod 644 "$T/bgpd.conf"
	START=$(date +%s%N)   # configuration written: the daemon starts now
	DPIDS=()
	if [ "$FIB" = 1 ]; then
		echo "hostname dut" > "$T/zebra.conf"; chmod 644 "$T/zebra.conf"
		ip netns exec "$P-dut" /usr/lib/frr/zebra -f "$T/zebra.conf" -i "$T/frr/zebra.pid" -z "$T/frr/zserv.api" \
			--vty_socket "$T/frr" -u frr -g frr -s 90000000 > "$T/zebra.log" 2>&1 &
		DPIDS=($!)
		ip netns exec "$P-dut" /usr/lib/frr/bgpd -f "$T/bgpd.conf" -i "$T/frr/bgpd.pid" -z "$T/frr/zserv.api" \
			--vty_socket "$T/frr" -u frr -g frr -p 179 > "$T/dut.log" 2>&1 &
	else
		ip netns exec "$P-dut" /usr/lib/frr/bgpd -f "$T/bgpd.conf" -i "$T/frr/bgpd.pid" -z "$T/frr/zserv.api" \
			--vty_socket "$T/frr" -n -Z -u frr -g frr -p 179 > "$T/dut.log" 2>&1 &
	fi
	DPIDS+=($!)
}

# GoBGP: one global export policy refuses the generators (a neighbor set matches the
# receiving peer on export); warnings-only logging; the sink is a BGP peer, not a
# gRPC monitor.
start_gobgp() {  # N
	local i af=ipv4-unicast; [ $fam = ipv6 ] && af=ipv6-unicast
	{
		echo "[global.config]"
		echo "  as = 64512"
		echo "  router-id = \"198.18.0.1\""
		echo "[global.apply-policy.config]"
		echo "  export-policy-list = [\"no-generators\"]"
		echo "  default-export-policy = \"accept-route\""
		echo "[[defined-sets.neighbor-sets]]"
		echo "  neighbor-set-name = \"generators\""
		printf '  neighbor-info-list = ['
		for i in $(seq 0 $(($1 - 1))); do printf '"%s",' "$(gen_ip "$i")"; done
		echo "]"
		echo "[[policy-definitions]]"
		echo "  name = \"no-generators\""
		echo "  [[policy-definitions.statements]]"
		echo "    name = \"reject\""
		echo "    [policy-definitions.statements.conditions.match-neighbor-set]"
		echo "      neighbor-set = \"generators\""
		echo "    [policy-definitions.statements.actions]"
		echo "      route-disposition = \"reject-route\""
		for i in $(seq -1 $(($1 - 1))); do
			local a as
			if [ "$i" -lt 0 ]; then a=$(sink_ip); as=64999; else a=$(gen_ip "$i"); as=$(gen_as "$i"); fi
			echo "[[neighbors]]"
			echo "  [neighbors.config]"
			echo "    neighbor-address = \"$a\""
			echo "    peer-as = $as"
			echo "  [neighbors.timers.config]"
			echo "    hold-time = 240"
			echo "    keepalive-interval = 80"
			echo "  [[neighbors.afi-safis]]"
			echo "    [neighbors.afi-safis.config]"
			echo "      afi-safi-name = \"$af\""
		done
	} > "$T/gobgp.toml"
	START=$(date +%s%N)   # configuration written: the daemon starts now
	ip netns exec "$P-dut" gobgpd -f "$T/gobgp.toml" --api-hosts 127.0.0.1:50051 --pprof-disable \
		-l warn > "$T/dut.log" 2>&1 &
	DPIDS=($!)
}

# OpenBGPD (portable bgpd 7.x): the generators in one group, filters "deny from/to any"
# then "allow from group gens" and "allow to" the sink (the last matching rule wins);
# multi-line neighbor blocks (bgpd 7.7 refuses one-line ones); its own control socket
# in the temp dir (the "socket" line: bgpd 7.7 has no -s, only bgpctl does). Run as root in the foreground (-d): it forks a session engine,
# an RDE and an RTR process that chroot to /run/openbgpd (compiled in; the home of
# user _openbgpd) and drop to that user.
start_openbgpd() {  # N
	local i
	{
		echo "socket \"$T/bgpd.sock\""
		echo "AS 64512"
		echo "router-id 198.18.0.1"
		echo "holdtime 240"
		if [ "$FIB" = 1 ]; then echo "fib-update yes"; else echo "fib-update no"; fi
		echo "group gens {"
		for i in $(seq 0 $(($1 - 1))); do
			printf '\tneighbor %s {\n\t\tremote-as %s\n\t}\n' "$(gen_ip "$i")" "$(gen_as "$i")"
		done
		echo "}"
		printf 'neighbor %s {\n\tremote-as 64999\n\tdescr "sink"\n}\n' "$(sink_ip)"
		echo "deny from any"
		echo "deny to any"
		echo "allow from group gens"
		echo "allow to $(sink_ip)"
	} > "$T/bgpd-openbgpd.conf"
	chmod 600 "$T/bgpd-openbgpd.conf"   # bgpd refuses a configuration others can read
	mkdir -p /run/openbgpd
	if ! bgpd -n -f "$T/bgpd-openbgpd.conf" > "$T/dut.log" 2>&1; then
		DPIDS=(); return 1
	fi
	START=$(date +%s%N)   # configuration written: the daemon starts now
	ip netns exec "$P-dut" bgpd -d -f "$T/bgpd-openbgpd.conf" > "$T/dut.log" 2>&1 &
	DPIDS=($!)
}

# The forked helpers of the daemon's processes (bgpd's session engine, RDE, RTR), once
# they exist: their CPU and memory count too.
add_children() {  # (no /proc/PID/task/*/children on every kernel: pgrep -P)
	local p c
	for p in "${DPIDS[@]}"; do
		for c in $(pgrep -P "$p"); do
			[[ " ${DPIDS[*]} " == *" $c "* ]] || { DPIDS+=("$c"); PIDS+=("$c"); }
		done
	done
}

# ---- one run
daemon_cpu() {  # seconds of CPU used by the daemon's processes so far
	local p t=0
	for p in "${DPIDS[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
	awk -v t=$t -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}'
}
daemon_kb() {  # VmHWM or VmRSS (kB) summed over the daemon's processes
	local p k=0
	for p in "${DPIDS[@]}"; do k=$((k + $(awk -v f="$1:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
	echo $k
}
# True when less than the floor is left, with MEM_KB set to what is left; no process
# (wait_for checks it 20 times a second beside the daemon).
mem_low() {
	local k v _
	while read -r k v _; do [ "$k" = MemAvailable: ] && { MEM_KB=$v; [ "$v" -lt $MEM_FLOOR_KB ]; return; }; done < /proc/meminfo
	return 1
}
daemon_alive() { local p; for p in "${DPIDS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done; }

# Waits (at most $2 s) for the line pattern $1 in file $3; fails early if the daemon
# died or the machine ran short of memory (then $why says so).
why=""; who=daemon; wholog=/dev/null
wait_for() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		grep -qs "$1" "$3" && return 0
		if ! daemon_alive; then why="$who exited ($(tail -n 1 "$wholog" 2>/dev/null | cut -c1-80))"; return 1; fi
		if mem_low; then
			why="machine cannot hold it: stopped with $(($(daemon_kb VmRSS) / 1024)) MB in the $who and $((MEM_KB / 1024)) MB left"
			return 1
		fi
		sleep 0.05
	done
	why="timeout"
	return 1
}

# Prints "converge_s sessions_s cpu_s peak_MB bytes_per_path", or "FAIL reason".
# MODE: plain; fib (the daemon installs its routes in its namespace's kernel: converged
# = the last of them is in the kernel table, bench/fibcount watching); churn (after
# convergence the generators withdraw every 10th prefix and announce it again with
# another community: converged = the sink has all N x M again, those with the new one).
run_one() {  # DAEMON N M MODE
	local d=$1 n=$2 m=$3 mode=$4 est t0 done final seen sflag="" churn=0 want
	[ $fam = ipv6 ] && sflag=-6
	FIB=0; [ "$mode" = fib ] && FIB=1
	[ "$mode" = churn ] && churn=$CHURN_EVERY
	topology "$n"
	rm -f "$T/go" "$T/go.churn" "$T/sink.out" "$T/gen.out" "$T/dut.log" "$T/fib.out"
	# The generator encodes before the daemon starts, then connects (retrying until it listens).
	BGPGEN_CHURN=$churn ip netns exec "$P-gen" "$B/bgpgen" gen $sflag "$(gen_ip 0)" "$n" "$(dut_ip)" 4200000000 \
		"$m" "$T/go" > "$T/gen.out" 2>&1 &
	PIDS+=($!); DPIDS=($!); who=generator; wholog=$T/gen.out
	wait_for '^encoded' "$limit" "$T/gen.out" || { echo "FAIL $why"; return; }
	if [ $FIB = 1 ]; then
		ip netns exec "$P-dut" "$B/fibcount" $sflag $((n * m)) > "$T/fib.out" 2>&1 &
		PIDS+=($!)
		wait_for '^ready' 30 "$T/fib.out" || { echo "FAIL fibcount: $(tail -n 1 "$T/fib.out")"; return; }
	fi
	who=daemon; wholog=$T/dut.log
	BGPGEN_CHURN=$churn ip netns exec "$P-sink" "$B/bgpgen" sink $sflag "$(sink_ip)" "$(dut_ip)" 64999 "$n" "$m" \
		> "$T/sink.out" 2>&1 &
	PIDS+=($!)
	if ! "start_$d" "$n"; then echo "FAIL configuration refused: $(tail -n 1 "$T/dut.log" | cut -c1-100)"; return; fi
	PIDS+=("${DPIDS[@]}")
	if ! wait_for '^ready' "$limit" "$T/gen.out" || ! wait_for '^up' 60 "$T/sink.out"; then
		[ "$why" = timeout ] && why="sessions not all up in ${limit} s ($(tail -n 1 "$T/gen.out"))"
		echo "FAIL $why"; return
	fi
	add_children
	est=$(awk '/^established/ {print $2}' "$T/gen.out")
	touch "$T/go"
	if ! wait_for '^done' "$limit" "$T/sink.out"; then
		seen=$(awk '/^progress/ {p = $2} END {print p + 0}' "$T/sink.out")
		[ "$why" = timeout ] && why="not converged in ${limit} s: the sink had $seen of $((n * m)) prefixes"
		echo "FAIL $why"; return
	fi
	if [ $FIB = 1 ] && ! wait_for '^done' "$limit" "$T/fib.out"; then
		seen=$(awk '/^(progress|ready)/ {p = $2} END {print p + 0}' "$T/fib.out")
		[ "$why" = timeout ] && why="not in the kernel in ${limit} s: its table had $seen of $((n * m)) routes"
		echo "FAIL $why"; return
	fi
	if [ "$churn" != 0 ]; then
		touch "$T/go.churn"
		if ! wait_for '^churned' "$limit" "$T/sink.out"; then
			[ "$why" = timeout ] && why="churn not through in ${limit} s ($(grep -c . "$T/sink.out") lines at the sink)"
			echo "FAIL $why"; return
		fi
	fi
	if ! wait_for '^final' 60 "$T/sink.out"; then echo "FAIL after convergence: $why"; return; fi
	final=$(grep '^final' "$T/sink.out")
	want="*\" seen=$((n * m)) unexpected=0 \"*\" malformed=0\""
	[ "$churn" != 0 ] && want="*\" seen=$((n * m)) unexpected=0 \"*\" stale=0 malformed=0 churned=$(((n * m + churn - 1) / churn))\""
	# shellcheck disable=SC2254
	eval "case \"\$final\" in $want) ;; *) echo \"FAIL wrong prefixes at the sink: \$final\"; return ;; esac"
	if grep -qs '^returned' "$T/gen.out"; then
		echo "FAIL the daemon sent $(awk '/^returned/ {r = $2} END {print r}' "$T/gen.out") UPDATEs back to the generators"; return
	fi
	case $mode in
	fib) t0=$(awk '/^sent/ {print $2}' "$T/gen.out"); done=$(awk '/^done/ {print $2}' "$T/fib.out") ;;
	churn) t0=$(awk '$1 == "churn" {print $2}' "$T/gen.out"); done=$(awk '/^churned/ {print $2}' "$T/sink.out") ;;
	*) t0=$(awk '/^sent/ {print $2}' "$T/gen.out"); done=$(awk '/^done/ {print $2}' "$T/sink.out") ;;
	esac
	[ -n "${BENCH_SMAPS:-}" ] && { cat "/proc/${DPIDS[0]}/smaps" > "$BENCH_SMAPS.$d.$n"; grep -E "VmHWM|Rss" "/proc/${DPIDS[0]}/status" >> "$BENCH_SMAPS.$d.$n"; }
	awk -v c="$done" -v t="$t0" -v e="$est" -v s="$START" -v cpu="$(daemon_cpu)" -v kb="$(daemon_kb VmHWM)" \
		-v paths=$((n * m)) 'BEGIN{printf "%.3f %.3f %s %.0f %.0f\n", (c - t) / 1e9, (e - s) / 1e9, cpu, kb / 1024, kb * 1024 / paths}'
}

# Many routing instances (tabbyd only): N virtual devices (tabbyd's per-tenant routing
# instances, namespaces tby-<hex>) with one peering each, from a generator session with M
# prefixes over a link of its own (a /30 of 198.18.0.0/15: the device .1, the generator
# .2). Devices, connections and an API client are written with tabbyctl, the peerings
# posted to tabby-api as that tenant. Converged = all N x M routes in the devices' kernel
# tables (one fibcount following them all, started once all sessions are up). No sink: a
# device's only peer is its generator. Prints what run_one prints.
dev_ip() { local v=$(((198 << 24) + (18 << 16) + 4 * $1 + $2)); echo "$((v >> 24 & 255)).$((v >> 16 & 255)).$((v >> 8 & 255)).$((v & 255))"; }
run_dev() {  # N M
	local n=$1 m=$2 i cid sec tok port dev con dpid est t0 last
	[ $fam = ipv4 ] || { echo "FAIL IPv4 only"; return; }
	cleanup
	R=$((R + 1)); P="bb$$r$R"
	for h in dut gen; do ip netns add "$P-$h"; NSS+=("$P-$h"); ip -n "$P-$h" link set lo up; done
	ip -n "$P-dut" addr add 198.19.255.1/32 dev lo
	for i in $(seq 0 $((n - 1))); do
		echo "link add conn$i netns $P-dut type veth peer name e$i"
		echo "link set e$i up"
		echo "addr add $(dev_ip "$i" 2)/30 dev e$i"
	done > "$T/links"
	ip -n "$P-gen" -batch "$T/links" 2>&1 | head -n 3
	for i in $(seq 0 $((n - 1))); do echo "link set conn$i up"; done > "$T/links"
	ip -n "$P-dut" -batch "$T/links"
	rm -f "$T/go" "$T/gen.out" "$T/dut.log" "$T/fib.out"
	BGPGEN_STEP=4 ip netns exec "$P-gen" "$B/bgpgen" gen "$(dev_ip 0 2)" "$n" "$(dev_ip 0 1)" 4200000000 "$m" "$T/go" \
		> "$T/gen.out" 2>&1 &
	PIDS+=($!); DPIDS=($!); who=generator; wholog=$T/gen.out
	wait_for '^encoded' "$limit" "$T/gen.out" || { echo "FAIL $why"; return; }
	export TABBY_DATASTORE="sqlite:$T/tabby.db"
	rm -f "$T/tabby.db"*
	"$B/tabbyctl" bgp node-mesh off > /dev/null
	cid=$("$B/tabbyctl" api-client create bench -o json)
	sec=$(echo "$cid" | sed -n 's/.*"client_secret": "\(.*\)".*/\1/p'); cid=$(echo "$cid" | sed -n 's/.*"client_id": "\(.*\)".*/\1/p')
	port=$((10000 + RANDOM % 20000))   # below the ephemeral range (32768 up): no outgoing connection holds it
	"$B/tabby-api" --listen "127.0.0.1:$port" > "$T/api.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	tok=$(curl -s -u "$cid:$sec" -d grant_type=client_credentials "http://127.0.0.1:$port/oauth2/v1/token" |
		sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
	: > "$T/devs"
	for i in $(seq 0 $((n - 1))); do
		dev=$("$B/tabbyctl" device create --node=dut --owner="$cid")
		con=$("$B/tabbyctl" connection create --device="$dev" --interface="conn$i" --max-prefixes=none)
		curl -s -o "$T/post.out" -w '%{http_code}' -X POST "http://127.0.0.1:$port/ne/v1/bgp" -H "Authorization: Bearer $tok" \
			-H 'Content-Type: application/json' -d "{\"connectionUuid\":\"$con\",\"localAsn\":64512,\"localIpAddress\":\"$(dev_ip "$i" 1)/30\",\"remoteAsn\":$(gen_as "$i"),\"remoteIpAddress\":\"$(dev_ip "$i" 2)\"}" \
			> "$T/post.code"
		grep -q '^20' "$T/post.code" || { echo "FAIL peering $i: HTTP $(cat "$T/post.code") $(head -c 100 "$T/post.out")"; return; }
		dev=${dev//-/}; echo "tby-${dev:0:12}" >> "$T/devs"
		NSS+=("tby-${dev:0:12}")   # tabbyd's bind mount reaches /run/netns: removed after the run
	done
	who=daemon; wholog=$T/dut.log
	START=$(date +%s%N)   # configuration written: the daemon starts now
	ip netns exec "$P-dut" "$B/tabbyd" --node dut --ip 198.19.255.1 --as 64512 --no-fib --hold-time 240 \
		--control "$T/dut.sock" --log-level warn > "$T/dut.log" 2>&1 &
	dpid=$!; DPIDS=($dpid); PIDS+=($dpid)
	if ! wait_for '^ready' "$limit" "$T/gen.out"; then
		[ "$why" = timeout ] && why="sessions not all up in ${limit} s ($(tail -n 1 "$T/gen.out"))"
		echo "FAIL $why"; return
	fi
	est=$(awk '/^established/ {print $2}' "$T/gen.out")
	# One fibcount follows every device's namespace (bound in tabbyd's mount namespace: it
	# runs under ip netns exec) by polling their tables' sizes: a hundred subscribed
	# sockets would charge the devices' route writers for every notification.
	nsenter -t "$dpid" -m "$B/fibcount" $((n * m)) 0 $(sed 's|^|/run/netns/|' "$T/devs") > "$T/fib.out" 2>&1 &
	PIDS+=($!)
	wait_for '^ready' 30 "$T/fib.out" || { echo "FAIL fibcount: $(tail -n 1 "$T/fib.out")"; return; }
	touch "$T/go"
	if ! wait_for '^done' "$limit" "$T/fib.out"; then
		[ "$why" = timeout ] && why="not in the devices' kernels in ${limit} s: $(tail -n 1 "$T/fib.out")"
		echo "FAIL $why"; return
	fi
	last=$(awk '/^done/ {print $2}' "$T/fib.out")
	t0=$(awk '/^sent/ {print $2}' "$T/gen.out")
	awk -v c="$last" -v t="$t0" -v e="$est" -v s="$START" -v cpu="$(daemon_cpu)" -v kb="$(daemon_kb VmHWM)" \
		-v paths=$((n * m)) 'BEGIN{printf "%.3f %.3f %s %.0f %.0f\n", (c - t) / 1e9, (e - s) / 1e9, cpu, kb / 1024, kb * 1024 / paths}'
}

# The kernel alone, the reference rows of a kernel-routes scenario: N x M routes to the
# same prefixes, via a generator's address, into a fresh namespace. HOW: "ip" (one
# `ip -batch`: iproute2 sends one request and waits for its answer at a time) or
# "netlink" (`fibcount load`: 64 KB of requests per sendmsg, unacknowledged, as tabbyd's
# writer sends them; with a fibcount following the table as in the daemons' runs, and
# done when it has seen the last route). Prints "seconds" or "FAIL reason".
run_kernel() {  # N M HOW
	local n=$1 m=$2 how=$3 t0 t1 sflag=""
	[ $fam = ipv6 ] && sflag=-6
	cleanup
	R=$((R + 1)); P="bb$$r$R"
	ip netns add "$P-dut"; NSS+=("$P-dut")
	ip -n "$P-dut" link set lo up
	ip -n "$P-dut" link add eth0 type veth peer name eth1
	ip -n "$P-dut" link set eth0 up; ip -n "$P-dut" link set eth1 up
	ip -n "$P-dut" addr add "$(dut_ip)/$(plen)" dev eth0 $([ $fam = ipv6 ] && echo nodad)
	if [ "$how" = netlink ]; then
		ip netns exec "$P-dut" "$B/fibcount" $sflag $((n * m)) > "$T/fib.out" 2>&1 &
		PIDS+=($!); DPIDS=($!); who=fibcount; wholog=$T/fib.out
		wait_for '^ready' 30 "$T/fib.out" || { echo "FAIL fibcount: $(tail -n 1 "$T/fib.out")"; return; }
		t0=$(date +%s%N)
		if ! ip netns exec "$P-dut" "$B/fibcount" load $sflag $((n * m)) "$(gen_ip 0)" > "$T/kernel.log" 2>&1; then
			echo "FAIL fibcount load: $(tail -n 1 "$T/kernel.log")"; return
		fi
		wait_for '^done' 60 "$T/fib.out" || { echo "FAIL fibcount: $(tail -n 1 "$T/fib.out")"; return; }
		t1=$(awk '/^done/ {print $2; exit}' "$T/fib.out")
	else
		"$B/fibcount" batch $sflag $((n * m)) "$(gen_ip 0)" > "$T/kernel.batch"
		t0=$(date +%s%N)
		if ! ip -n "$P-dut" -batch "$T/kernel.batch" > "$T/kernel.log" 2>&1; then
			echo "FAIL ip -batch: $(tail -n 1 "$T/kernel.log")"; return
		fi
		t1=$(date +%s%N)
		rm -f "$T/kernel.batch"
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", (b - a) / 1e9}'
}

# ---- the table
stats() {  # values... -> "median min max"
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR]}'
}
median() { stats "$@" | cut -d' ' -f1; }

# "time, memory" of daemon $1 against the best other daemon of the scenario (conv, mem).
ratio_of() {
	local o bt="" bm=""
	[ -n "${conv[$1]:-}" ] || return 0
	for o in $daemons; do
		[ "$o" = "$1" ] || [ -z "${conv[$o]:-}" ] && continue
		[ -z "$bt" ] || awk -v a="${conv[$o]}" -v b="$bt" 'BEGIN{exit !(a < b)}' && bt=${conv[$o]}
		[ -z "$bm" ] || [ "${bpp[$o]}" -lt "$bm" ] && bm=${bpp[$o]}
	done
	[ -n "$bt" ] && awk -v t="${conv[$1]}" -v bt="$bt" -v k="${bpp[$1]}" -v bm="$bm" \
		'BEGIN{printf "%.2fx, %.2fx", (bt > 0 ? t / bt : 0), (bm > 0 ? k / bm : 0)}'
}

# The chart of a table file (this script's output): converge time and peak memory per
# scenario and family, one bar per daemon (the kernel's reference too), with gnuplot.
chart() {  # TABLE SVG
	local d i=2 plots1="" plots2="" names title
	command -v gnuplot > /dev/null || { echo "gnuplot not installed (scripts/deps bench): no chart" >&2; return; }
	# Rows "scenario/v4 conv mem conv mem ..." in the daemons' order of appearance; "-" for none.
	awk -F'|' '
		/^\*\*IPv/ { fam = ($0 ~ /IPv6/) ? "v6" : "v4" }
		/^\| [0-9]/ {
			for (f = 2; f <= 8; f++) gsub(/^ +| +$/, "", $f)
			sc = $2 "/" fam; d = $3
			if (!(sc in seen)) { seen[sc] = 1; rows[++nr] = sc }
			if (!(d in col)) { col[d] = ++nd; names[nd] = d }
			if ($4 ~ /^[0-9.]+ \(/) { split($4, c, " "); conv[sc, d] = c[1]; mem[sc, d] = ($7 == "" ? "-" : $7) }
		}
		END {
			printf "#"; for (k = 1; k <= nd; k++) printf " %s", names[k]; print ""
			for (r = 1; r <= nr; r++) {
				printf "%s", rows[r]
				for (k = 1; k <= nd; k++) {
					d = names[k]
					printf " %s %s", ((rows[r], d) in conv ? conv[rows[r], d] : "-"), ((rows[r], d) in mem ? mem[rows[r], d] : "-")
				}
				print ""
			}
		}' "$1" > "$T/chart.dat"
	names=$(head -n 1 "$T/chart.dat" | cut -c3-)
	title=$(grep -m 1 '^Measured' "$1" | cut -d';' -f1-2)
	for d in $names; do
		plots1+="${plots1:+, }'$T/chart.dat' using $i:xtic(1) title '$d'"
		plots2+="${plots2:+, }'$T/chart.dat' using $((i + 1)):xtic(1) title '$d'"
		i=$((i + 2))
	done
	gnuplot <<-GP 2> "$T/gnuplot.log" || { echo "chart: gnuplot failed: $(tail -n 1 "$T/gnuplot.log")" >&2; return; }
		set terminal svg size 1100,760 dynamic font "sans,11" background "white"
		set output '$2'
		set datafile missing '-'
		set style data histogram
		set style histogram clustered gap 1
		set style fill solid 0.85 border -1
		set grid ytics
		set logscale y
		set xtics nomirror rotate by 30 right font ",10"
		set bmargin 7
		set key outside top center horizontal Left reverse samplen 2 width 2
		set multiplot layout 2,1 title "BGP benchmark (lower is better): ${title//\"/}"
		set ylabel "converge, s (log)"
		set format y "%g"
		plot $plots1
		set ylabel "peak memory, MB (log)"
		plot $plots2
		unset multiplot
	GP
	echo "chart: $2"
}
if [ "$daemons" = chart ]; then   # bench/bgp_bench.sh chart TABLE SVG: redraws a saved table
	chart "$2" "$3"
	exit 0
fi

# Markdown tables, aligned for the terminal too.
hdr=$(printf '| %-15s | %-8s | %-24s | %10s | %7s | %8s | %10s | %s |\n|---|---|---|---|---|---|---|---|' \
	scenario daemon "converge s (min-max)" "sessions s" "CPU s" "peak MB" bytes/path "vs best other: time, memory")
version() {
	case $1 in
	bird) bird --version 2>&1 | head -n 1 ;;
	frr) echo "FRR $(/usr/lib/frr/bgpd --version 2>/dev/null | awk 'NR == 1 {print $3}')" ;;
	gobgp) echo "GoBGP $(gobgpd --version 2>/dev/null | awk '{print $3}')" ;;
	openbgpd) bgpd -V 2>&1 | head -n 1 ;;
	tabbyd) echo "tabbyd $(git -C "$top" rev-parse --short HEAD 2>/dev/null)" ;;
	esac
}
vs=""; for d in $daemons; do vs+="${vs:+, }$(version "$d")"; done
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo); median of $runs runs; $vs" | tee -a "$out" "$T/table.md"
for fam in $families; do
	case $fam in ipv4 | ipv6) ;; *) echo "unknown family '$fam': accepted are ipv4 ipv6" >&2; exit 2 ;; esac
	printf '\n**%s**\n\n%s\n' "${fam/ip/IP}" "$hdr" | tee -a "$out" "$T/table.md"
	for sc in $scenarios; do
		nm=${sc%%-*}; mode=plain; [ "$nm" != "$sc" ] && mode=${sc#*-}
		n=${nm%x*}; m=${nm#*x}
		case $mode in plain | fib | churn | dev) ;; *) echo "unknown scenario '$sc': NxM, NxM-fib, NxM-churn or NxM-dev" >&2; exit 2 ;; esac
		# The kernel-routes and churn scenarios run for IPv4 only unless asked (BENCH_NEW_V6=1):
		# the kernel's and the daemons' paths are alike per family, and the hour stays an hour.
		[ $mode != plain ] && [ $fam = ipv6 ] && { [ "${BENCH_NEW_V6:-0}" != 1 ] || [ $mode = dev ]; } && continue
		declare -A conv=() line=() mem=() bpp=()
		for d in $daemons; do
			if [ $mode = fib ] && [ $d = gobgp ]; then
				line[$d]=$(printf '| %-15s | %-8s | %s | | | | |' "$sc" "$d" \
					"n/a: GoBGP has no kernel FIB of its own (only through FRR's zebra)")
				continue
			fi
			if [ $mode = dev ] && [ $d != tabbyd ]; then
				line[$d]=$(printf '| %-15s | %-8s | %s | | | | |' "$sc" "$d" "n/a: tabbyd's virtual devices")
				continue
			fi
			# Portable bgpd on Linux accepts "fib-update yes" but its kernel interface is a
			# stub: it never adds a route (and lists interfaces as "(unknown)").
			if [ $mode = fib ] && [ $d = openbgpd ]; then
				line[$d]=$(printf '| %-15s | %-8s | %s | | | | |' "$sc" "$d" \
					"n/a: portable OpenBGPD does not program the Linux kernel")
				continue
			fi
			cs=(); es=(); us=(); ks=(); bs=(); fail=""
			for r in $(seq "$runs"); do
				if [ $mode = dev ]; then
					run_dev "$n" "$m" > "$T/result"
				else
					run_one "$d" "$n" "$m" "$mode" > "$T/result"   # not $(...): processes and namespaces stay ours
				fi
				cleanup
				read -r a b c k bp < "$T/result"
				if [ "$a" = FAIL ]; then fail="$(cut -c6- "$T/result") (run $r of $runs)"; break; fi
				cs+=("$a"); es+=("$b"); us+=("$c"); ks+=("$k"); bs+=("$bp")
			done
			if [ -n "$fail" ]; then
				line[$d]=$(printf '| %-15s | %-8s | %s | | | | |' "$sc" "$d" "$fail")
				continue
			fi
			read -r cm cmin cmax <<< "$(stats "${cs[@]}")"
			# The memory ratio from bytes a path (the same N x M for every daemon): peak MB
			# is rounded, so 14.6 against 15.0 MB would read 1.00x.
			conv[$d]=$cm; mem[$d]=$(median "${ks[@]}"); bpp[$d]=$(median "${bs[@]}")
			line[$d]=$(printf '| %-15s | %-8s | %-24s | %10s | %7s | %8s | %10s |' "$sc" "$d" "$cm ($cmin-$cmax)" \
				"$(median "${es[@]}")" "$(median "${us[@]}")" "${mem[$d]}" "$(median "${bs[@]}")")
		done
		for d in $daemons; do
			printf '%s %s |\n' "${line[$d]}" "$(ratio_of "$d")" | tee -a "$out" "$T/table.md"
		done
		if [ $mode = fib ]; then
			for how in ip netlink; do
				cs=(); fail=""
				for r in $(seq "$runs"); do
					run_kernel "$n" "$m" $how > "$T/result"
					cleanup
					read -r a < "$T/result"
					if [ "$a" = FAIL ]; then fail="$(cut -c6- "$T/result")"; break; fi
					cs+=("$a")
				done
				row=kernel; why="reference: ip -batch of the $((n * m)) routes alone"
				[ $how = netlink ] && row=netlink why="reference: the kernel alone, 64 KB netlink batches (fibcount load)"
				if [ -n "$fail" ]; then
					printf '| %-15s | %-8s | %s | | | | | |\n' "$sc" $row "$fail" | tee -a "$out" "$T/table.md"
				else
					read -r cm cmin cmax <<< "$(stats "${cs[@]}")"
					printf '| %-15s | %-8s | %-24s | %10s | %7s | %8s | %10s | %s |\n' "$sc" $row "$cm ($cmin-$cmax)" \
						"" "" "" "" "$why" | tee -a "$out" "$T/table.md"
				fi
			done
		fi
		unset conv line mem
	done
done
[ -n "$chart_out" ] && [ -s "$T/table.md" ] && chart "$T/table.md" "$chart_out"
exit 0
