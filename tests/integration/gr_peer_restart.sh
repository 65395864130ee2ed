#!/usr/bin/env bash
# A peer restarts (tabbyd as the RFC 4724 helper). BIRD (graceful restart on) announces
# 203.0.113.0/24 and 203.0.113.128/25 to tabbyd; a ping from the client crosses tabbyd to
# BIRD every 50 ms. `birdc graceful restart`, then a new BIRD (bird -R) that announces
# only the /24: tabbyd keeps both routes in its kernel while BIRD is away (INFO shows
# the restart, `route show` marks them stale), loses no probe, and after BIRD's
# End-of-RIB removes the /25 alone. Then the new BIRD (restart time 4 s) is killed and
# never comes back: its stale routes go when the 4 s end, not before, not much after.
# In between, a BIRD that comes back without the Forwarding State bit (started without
# -R) loses its stale routes at once. Last, a peer removed from the configuration while
# it restarts loses its stale routes at once, and tabbyd goes on.
. "$(dirname "$0")/gr.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
gr_start_with_bird --metrics 127.0.0.1:9179
# The metric of a peer's stale routes (tabbyd's namespace has its own loopback).
stale_metric() {
	nsx tabby curl -sf --max-time 5 http://127.0.0.1:9179/metrics |
		awk '/^tabby_bgp_session_stale_routes\{peer="192.0.2.10"/ { print $NF }'
}
[ "$(stale_metric)" = 0 ] || die "stale routes metric not 0 before the restart: '$(stale_metric)'"

# 1. BIRD restarts gracefully, and comes back without the /25.
probe_start 8 bird
sleep 1
birdc -s "$T/bird/bird.ctl" graceful restart > /dev/null
wait "${PID_OF[bird]}" 2>/dev/null || true
wait_until 5 "tabbyd: BIRD restarting, its routes kept" grep -q "graceful restart: keeping its 2 routes, stale" "$T/n1.log"
# Status reaches the datastore through the writer thread: give it a moment.
info_shows_restart() { status_row n1 192.0.2.10 | tee "$T/row" | grep -q "graceful restart: 2 stale routes kept"; }
wait_until 5 "INFO shows the restart" info_shows_restart || { cat "$T/row"; die "INFO does not show the restart"; }
"$TABBYCTL" route show --node=n1 | tee "$T/routes" | grep -E "^\| 203\.0\.113\.128/25 " | grep -q "stale" || { cat "$T/routes"; die "route show does not mark the stale route"; }
"$TABBYCTL" route show --node=n1 -o json | grep -q '"stale": true' || die "route show -o json has no stale route"
"$TABBYCTL" status --node=n1 -o json | python3 -c '
import json, sys
gr = json.load(sys.stdin)["sessions"][0]["graceful_restart"]
assert gr["peer_restarting"] and gr["stale_prefixes"] == 2, gr'
tabby_has 203.0.113.0/24 && tabby_has 203.0.113.128/25 || die "kernel routes gone while BIRD restarts"
[ "$(stale_metric)" = 2 ] || die "stale routes metric is '$(stale_metric)' while BIRD restarts, not 2"
bird_restarted "$(bird_gr_conf 4)"
gr_peer_back bird
[ "$(stale_metric)" = 0 ] || die "stale routes metric is '$(stale_metric)' after BIRD's End-of-RIB, not 0"

# 2. BIRD restarts again, but comes back as a plain new BIRD (no -R): its OPEN has the
# Forwarding State bit clear, so its stale routes go at once (RFC 4724 §4.2).
wait_until 10 "BIRD up again" bird_up bird t4
birdc -s "$T/bird/bird.ctl" graceful restart > /dev/null
wait "${PID_OF[bird]}" 2>/dev/null || true
wait_until 5 "tabbyd keeps BIRD's route" bash -c "[ \$(grep -c 'keeping its 1 routes, stale' '$T/n1.log') = 1 ]"
bird_start peer bird "$(bird_gr_conf 4)"
wait_until 20 "stale routes dropped when BIRD came back without forwarding state" \
	grep -q "graceful restart over (the peer came back without preserved forwarding state): 1 stale" "$T/n1.log"
wait_until 10 "BIRD's route back" routes_in 'tabby_has 203.0.113.0/24'

# 3. BIRD (restart time 4 s now) dies and never comes back.
wait_until 10 "BIRD up again" bird_up bird t4
kill -KILL "${PID_OF[bird]}"
wait "${PID_OF[bird]}" 2>/dev/null || true
wait_until 5 "tabbyd keeps BIRD's route for its restart time" bash -c "[ \$(grep -c 'keeping its 1 routes, stale, for up to 4s' '$T/n1.log') = 2 ]"
sleep 2.5
tabby_has 203.0.113.0/24 || die "the stale route went before the restart time ended"
wait_until 5 "the stale route gone" routes_in '! tabby_has 203.0.113.0/24'
gap=$(log_gap_last "keeping its 1 routes, stale, for up to 4s" "graceful restart over \(restart time is up\): 1 stale")
echo "stale routes removed ${gap}s after the session went down (restart time 4 s)"
python3 -c "import sys; g=float('$gap'); sys.exit(0 if 3.9 <= g <= 4.3 else 1)" || die "removed after ${gap}s, not at 4 s"

# 4. BIRD comes back, dies again, and is removed from the configuration while tabbyd
# keeps its routes: they go at once (tabbyd once freed the session's connection first).
bird_start peer bird "$(bird_gr_conf 120)"
wait_until 20 "BIRD up again" routes_in 'tabby_has 203.0.113.0/24'
kill -KILL "${PID_OF[bird]}"
wait "${PID_OF[bird]}" 2>/dev/null || true
wait_until 10 "tabbyd keeps BIRD's route" grep -q "keeping its 1 routes, stale, for up to 120s" "$T/n1.log"
"$TABBYCTL" node bgp peer remove 192.0.2.10 --node=n1
wait_until 10 "stale routes dropped with the peer" \
	grep -q "graceful restart over (the session ended for good): 1 stale" "$T/n1.log"
wait_until 5 "the stale route gone" routes_in '! tabby_has 203.0.113.0/24'
sleep 0.5
kill -0 "${PID_OF[n1]}" || die "tabbyd died when a restarting peer was removed"
echo "BIRD restarted gracefully: no probe lost, only the route it no longer announces removed; a peer that never returned lost its routes at its restart time"
