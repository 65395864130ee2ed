#!/usr/bin/env bash
# The BGP benchmark instrument itself (bench/bgp_bench.sh, bench/bgpgen, bench/fibcount): a
# tiny run with all five daemons and both families, and the churn, kernel-routes and
# virtual-device scenarios, must give a full table with figures in every row (or n/a where
# a daemon cannot) and a chart, a run short of memory must say so;
# and the sink and generator must catch a daemon that sends what it should not (a prefix
# that was never generated, routes back to the generators).
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || { cat "$T"/*.out "$T"/*.log 2>/dev/null | tail -n 40; }; netns_cleanup' EXIT
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)

# 1. The runner: 2 scenarios over IPv4 and one over IPv6 x 5 daemons, every row with
# figures; over IPv4 also the churn (the sink checks every churned prefix came back with the
# new community), the kernel-routes scenario (n/a for GoBGP and OpenBGPD, and the kernel's
# two reference rows: ip -batch, batched netlink) and virtual devices (tabbyd only); and the chart.
BENCH_RUNS=1 BENCH_TIMEOUT=60 BENCH_CHART="$T/chart.svg" "$top/bench/bgp_bench.sh" "tabbyd bird frr gobgp openbgpd" \
	"3x400 30x20 3x400-churn 1x300-fib 3x100-dev" ipv4 > "$T/table.out"
BENCH_RUNS=1 BENCH_TIMEOUT=60 "$top/bench/bgp_bench.sh" "tabbyd bird frr gobgp openbgpd" 3x400 ipv6 >> "$T/table.out"
cat "$T/table.out"
rows=$(grep -cE '^\| (3x400|30x20|3x400-churn|1x300-fib|3x100-dev) ' "$T/table.out")
num='\| +[0-9.]+ +'
figures="\\| [0-9.]+ \\([0-9.]+-[0-9.]+\\) +$num$num$num$num\\|"
good=$(grep -cE "^\\| (3x400|30x20|3x400-churn) +\\| (tabbyd|bird|frr|gobgp|openbgpd) +$figures [0-9.]+x, [0-9.]+x \\|\$" "$T/table.out")
fib=$(grep -cE "^\\| 1x300-fib +\\| (tabbyd|bird|frr) +$figures [0-9.]+x, [0-9.]+x \\|\$" "$T/table.out")
na=$(grep -cE '^\| (1x300-fib +\| (gobgp|openbgpd)|3x100-dev +\| (bird|frr|gobgp|openbgpd)) +\| n/a: ' "$T/table.out")
dev=$(grep -cE "^\\| 3x100-dev +\\| tabbyd +$figures +\\|\$" "$T/table.out")
kernel=$(grep -cE '^\| 1x300-fib +\| (kernel|netlink) +\| [0-9.]+ \(' "$T/table.out")
[ "$rows" = 32 ] && [ "$good" = 20 ] && [ "$fib" = 3 ] && [ "$na" = 6 ] && [ "$dev" = 1 ] && [ "$kernel" = 2 ] ||
	die "expected 32 rows: 20+3+1 with figures, 6 n/a, the kernel's two; got $rows rows, $good+$fib+$dev with figures, $na n/a, $kernel kernel"
grep -q '<svg' "$T/chart.svg" || die "no chart"

# A run the machine cannot hold is reported as such (here: a floor above what is free).
floor=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) / 1024 + 100000))
BENCH_RUNS=1 BENCH_MEM_FLOOR_MB=$floor "$top/bench/bgp_bench.sh" tabbyd 2x100 ipv4 > "$T/oom.out"
grep -E '^\| 2x100 +\| tabbyd +\| machine cannot hold it: ' "$T/oom.out" ||
	die "a run short of memory must be reported as such"

# 2. A daemon that misbehaves: tabbyd exporting to the generators (no --export=none) and
# originating a prefix of its own. The sink must count it as unexpected, the generators
# must see UPDATEs come back.
lan_up
host_add n1 1
host_add gen 10
host_add sink 20
nsx gen ip addr add 192.0.2.11/24 dev eth0
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=n1
"$TABBYCTL" node bgp peer add 192.0.2.10 as 4200000000 --node=n1
"$TABBYCTL" node bgp peer add 192.0.2.11 as 4200000001 --node=n1
"$TABBYCTL" node bgp peer add 192.0.2.20 as 64999 --import=none --node=n1
tabbyd_start n1 n1 1 --as 64512
nsx sink "$BUILD/bgpgen" sink 192.0.2.20 192.0.2.1 64999 2 300 > "$T/sink.out" 2>&1 &
PIDS+=($!)
nsx gen "$BUILD/bgpgen" gen 192.0.2.10 2 192.0.2.1 4200000000 300 "$T/go" > "$T/gen.out" 2>&1 &
PIDS+=($!)
wait_until 30 "generator sessions up" grep -q '^ready' "$T/gen.out"
wait_until 30 "sink session up" grep -q '^up' "$T/sink.out"
touch "$T/go"
wait_until 30 "all 600 prefixes at the sink" grep -q '^done' "$T/sink.out"
wait_until 30 "the sink's final count" grep -q '^final' "$T/sink.out"
grep '^final' "$T/sink.out"
grep -q '^final seen=600 unexpected=1 duplicate=0 withdrawn=0 malformed=0$' "$T/sink.out" ||
	die "the sink should report 600 expected prefixes and 203.0.113.0/24 as unexpected"
grep -q 'unexpected prefix 203.0.113.0/24' "$T/sink.out" || die "the sink should name the unexpected prefix"
wait_until 30 "the generators see routes come back" grep -q '^returned [1-9]' "$T/gen.out"
echo "bench_bgp: ok"
