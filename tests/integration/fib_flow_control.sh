#!/usr/bin/env bash
# Flow control toward the kernel. bgpgen sends FIB_FLOW_ROUTES (300,000) routes to tabbyd
# (kernel routes on) faster than the kernel takes them. tabbyd stops reading routes from
# a peer while 8,192 changes wait for the kernel, so the rest waits in TCP instead of in
# its queue: every route still reaches the kernel, the most changes ever queued at once
# (tabby_kernel_routes_pending_max) stay a small part of the table, reading paused at
# least once, and a BIRD peer with a 3 s hold time stays Established throughout (its
# KEEPALIVEs are still read in time). Then that peer goes away while a second one sends
# its table (the first's 300,000 removals reach the kernel at once, behind them the
# second's routes): in the end the kernel has exactly the second peer's routes.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
routes=${FIB_FLOW_ROUTES:-300000}
bound=50000   # HOLD_AT (8,192), what the writer holds and one read's routes, with room
lan_up
host_add n1 1
host_add gen 10
host_add gen2 11
host_add bird 30
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node bgp peer add 192.0.2.10 as 4200000000 --export=none --node=n1
"$TABBYCTL" node bgp peer add 192.0.2.11 as 4200000001 --export=none --node=n1
"$TABBYCTL" node bgp peer add 192.0.2.30 as 64555 --export=none --node=n1
TABBYD_FIB=kernel
tabbyd_start n1 n1 1 --as 64512 --metrics 192.0.2.1:9179
bird_start bird bird "$(bird_watch_conf 30 64555)"
ip netns exec "$(ns_of gen)" "$BUILD/bgpgen" gen 192.0.2.10 1 192.0.2.1 4200000000 "$routes" "$T/go" > "$T/gen.out" 2>&1 &
gen=$!
PIDS+=($gen)
nsx gen2 "$BUILD/bgpgen" gen 192.0.2.11 1 192.0.2.1 4200000001 $((routes / 3)) "$T/go2" > "$T/gen2.out" 2>&1 &
PIDS+=($!)
wait_until 30 "generator sessions up" grep -q '^ready' "$T/gen.out" "$T/gen2.out"
wait_until 15 "BIRD: Established (hold time 3 s)" bird_up bird tabby

in_kernel() { nsx n1 ip -4 route show proto 201 | wc -l; }
metric() {
	nsx bird curl -sf --max-time 2 http://192.0.2.1:9179/metrics | awk -v k="$1" '$1 == k { print $2 }'
}
touch "$T/go"
start=$SECONDS
while :; do
	bird_up bird tabby || die "BIRD: not Established during the load"
	got=$(in_kernel)
	[ "$got" = "$routes" ] && break
	[ $((SECONDS - start)) -lt 120 ] || die "not all $routes routes in the kernel after 120 s (at $got)"
	sleep 0.5
done
max=$(metric tabby_kernel_routes_pending_max)
holds=$(metric tabby_kernel_route_holds_total)
echo "$routes routes in the kernel in about $((SECONDS - start)) s; at most $max changes queued at once, reading paused $holds times"
[ -n "$max" ] && [ "$max" -le "$bound" ] ||
	die "up to ${max:-?} route changes queued at once (more than $bound of $routes): no flow control"
[ -n "$holds" ] && [ "$holds" -ge 1 ] || die "reading never paused for the kernel (holds ${holds:-?})"

kill "$gen"
wait "$gen" 2>/dev/null || true
touch "$T/go2"
by_gateway() { nsx n1 ip -4 route show proto 201 | awk '{ print $3 }' | sort | uniq -c | awk '{ print $2 "=" $1 }' | xargs; }
want="192.0.2.11=$((routes / 3))"
switched() { [ "$(by_gateway)" = "$want" ]; }
wait_until 120 "the first peer's routes gone, the second's in: $want" switched ||
	die "kernel routes by gateway: $(by_gateway), want $want"
bird_up bird tabby || die "BIRD: not Established after the switch"
echo "reads after a connection was held a whole second: $(grep -c 'held for the kernel routes' "$T/n1.log")"
# The session stayed up a few more hold times after the load too.
sleep 4
bird_up bird tabby || die "the BIRD session went down after the load"
grep -q 'Hold timer expired' "$T/bird/bird.log" && die "BIRD's hold timer expired"
grep -qi 'hold timer expired' "$T/n1.log" && die "tabbyd's hold timer expired"
echo "fib_flow_control: every route in the kernel, the queue bounded, the 3 s hold-time peer up"
