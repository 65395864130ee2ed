#!/usr/bin/env bash
# tabbyd restarts (RFC 4724 restarting speaker, RFC 8538): a ping from a client
# crosses tabbyd's node to a BIRD peer every 50 ms while tabbyd is SIGKILLed and
# started again, then SIGTERMed and started again. No probe is lost: tabbyd's kernel
# routes stay, BIRD keeps tabbyd's route (it logs a graceful restart, no withdrawal).
# The restarted tabbyd announces the Restart State bit, defers its selection until
# BIRD's End-of-RIB, then removes only the kernel route BIRD stopped announcing while
# tabbyd was down; afterwards no stale route is left on either side. Finally SIGUSR1,
# the stop for good, withdraws everything: BIRD drops the route at once.
. "$(dirname "$0")/gr.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
gr_start_with_bird
bird() { birdc -s "$T/bird/bird.ctl" "$@"; }
nsx client ping -n -q -c 1 -W 2 203.0.113.1 > /dev/null || die "no path across tabbyd"
"$TABBYCTL" status --node=n1 -o json > "$T/status.json"
python3 - "$T/status.json" <<'PY'
import json, sys
gr = json.load(open(sys.argv[1]))["sessions"][0]["graceful_restart"]
print("negotiated:", json.dumps(gr))
assert gr["negotiated"] and gr["peer"]["advertised"], gr
PY

# 1. SIGKILL, and while tabbyd is down BIRD stops announcing 203.0.113.128/25.
probe_start 10 kill
sleep 1
kill -KILL "${PID_OF[n1]}"
wait "${PID_OF[n1]}" 2>/dev/null || true
sed -i 's| route 203.0.113.128/25 blackhole;||' "$T/bird/bird.conf"
bird configure > /dev/null
tabby_has 203.0.113.128/25 || die "the kernel route left by the killed tabbyd is gone"
sleep 0.5
tabbyd_start tabby n1 1 --as 64512
wait_until 20 "selection deferred until BIRD's End-of-RIB" \
	grep -q "route selection done after .* (every peer's End-of-RIB); 1 stale kernel routes of the earlier run removed, 1 kept" "$T/n1.log"
probe_check kill
tabby_has 203.0.113.0/24 || die "tabbyd lost the route BIRD still announces"
! tabby_has 203.0.113.128/25 || die "the route BIRD no longer announces is still in the kernel"
grep -q "graceful restart: 2 kernel routes of an earlier run kept" "$T/n1.log" || die "no routes found at start"
peer_has_client_route || die "BIRD lost the client's route"

# 2. SIGTERM: a restart-style stop (routes stay), then a new tabbyd.
probe_start 10 term
sleep 1
kill -TERM "${PID_OF[n1]}"
rc=0
wait "${PID_OF[n1]}" || rc=$?
[ $rc = 0 ] || die "tabbyd exited with status $rc on SIGTERM"
grep -q "kernel routes kept for the restart" "$T/n1.log" || die "SIGTERM did not keep the kernel routes"
tabby_has 203.0.113.0/24 || die "SIGTERM removed tabbyd's kernel route"
tabbyd_start tabby n1 1 --as 64512
wait_until 20 "second restart done" bash -c "[ \$(grep -c 'route selection done after .* (every peer' '$T/n1.log') = 2 ]"
probe_check term

# BIRD: a graceful restart of its neighbour each time, and never a withdrawal of our route.
[ "$(grep -c "Neighbor graceful restart detected" "$T/bird/bird.log")" -ge 2 ] ||
	die "BIRD did not log two graceful restarts"
peer_has_client_route || die "BIRD lost the client's route"
# Nothing stale is left: BIRD holds our route refreshed, tabbyd exactly what BIRD announces.
wait_until 10 "BIRD holds nothing stale" bash -c "! birdc -s '$T/bird/bird.ctl' show route all | grep -qi stale"
[ "$(tabby_routes)" = "203.0.113.0/24 via 192.0.2.10" ] || { tabby_routes; die "tabbyd's kernel routes are not exactly BIRD's"; }
grep -q "via 192.0.2.1 .*proto bird" <(nsx peer ip -4 route show 198.51.100.0/24) || die "BIRD's kernel route to the client is gone"

# 3. Stopping for good (SIGUSR1, as documented): BIRD drops our route at once (a Cease,
# no graceful restart), and tabbyd's kernel routes go.
restarts=$(grep -c "Neighbor graceful restart detected" "$T/bird/bird.log")
kill -USR1 "${PID_OF[n1]}"
wait "${PID_OF[n1]}"
[ -z "$(tabby_routes)" ] || { tabby_routes; die "tabbyd left kernel routes after SIGUSR1"; }
wait_until 3 "BIRD withdrew the client's route" routes_in '! peer_has_client_route'
[ "$(grep -c "Neighbor graceful restart detected" "$T/bird/bird.log")" = "$restarts" ] ||
	die "BIRD took the stop for good as a graceful restart"
echo "tabbyd SIGKILLed and SIGTERMed under a 50 ms probe: nothing lost; BIRD restarted gracefully with it; only the stale route removed; SIGUSR1 withdrew everything"
