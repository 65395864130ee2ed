#!/usr/bin/env bash
# A scrape never blocks the BGP loop: while bgpgen feeds tabbyd METRICS_LOAD_ROUTES
# (500,000) routes, /metrics is scraped every 0.2 s, and a BIRD peer with a 3 s hold time
# must stay Established throughout (tabbyd's KEEPALIVEs come on time), every scrape must
# answer (within 2 s), and the scrapes must show the load arriving.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
routes=${METRICS_LOAD_ROUTES:-500000}
lan_up
host_add n1 1
host_add gen 10
host_add bird 30
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node bgp peer add 192.0.2.10 as 4200000000 --export=none --node=n1
"$TABBYCTL" node bgp peer add 192.0.2.30 as 64555 --export=none --node=n1
tabbyd_start n1 n1 1 --as 64512 --metrics 192.0.2.1:9179
bird_start bird bird "$(bird_watch_conf 30 64555)"
nsx gen "$BUILD/bgpgen" gen 192.0.2.10 1 192.0.2.1 4200000000 "$routes" "$T/go" > "$T/gen.out" 2>&1 &
PIDS+=($!)
wait_until 30 "generator session up" grep -q '^ready' "$T/gen.out"
wait_until 15 "BIRD: Established (hold time 3 s)" bird_up bird tabby

scrape() { nsx bird curl -sf --max-time 2 -o "$T/scrape.txt" -w '%{time_total}\n' http://192.0.2.1:9179/metrics; }
value() { awk -v k="$1" '$1 == k { print $2 }' "$T/scrape.txt"; }
G='tabby_bgp_session_prefixes_received{peer="192.0.2.10",type="node"}'
B='tabby_bgp_session_established_total{peer="192.0.2.30",type="node"}'
touch "$T/go"
n=0 slowest=0 start=$SECONDS seen=()
while :; do
	t=$(scrape) || die "scrape $n did not answer within 2 s (during the load)"
	n=$((n + 1))
	slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
	got=$(value "$G")
	seen+=("$got")
	[ "$(value "$B")" = 1 ] || die "the BIRD session (hold 3 s) went down during the load"
	bird_up bird tabby || die "BIRD: not Established during the load"
	[ "$got" = "$routes" ] && break
	[ $((SECONDS - start)) -lt 120 ] || die "not all $routes routes in after 120 s (at ${got:-?})"
	sleep 0.2
done
mid=$(printf '%s\n' "${seen[@]}" | awk -v r="$routes" '$1 > 0 && $1 < r' | wc -l)
echo "load of $routes routes: $n scrapes in $((SECONDS - start)) s, slowest ${slowest}s, $mid during the load"
[ "$mid" -ge 1 ] || echo "note: no scrape landed mid-load (the load finished between two scrapes)"
# The session stayed up a few more hold times after the load too.
sleep 4
scrape > /dev/null
[ "$(value "$B")" = 1 ] && bird_up bird tabby || die "the BIRD session went down after the load"
grep -q 'Hold timer expired' "$T/bird/bird.log" && die "BIRD's hold timer expired"
echo "metrics_load: the 3 s hold-time peer stayed up, every scrape answered"
