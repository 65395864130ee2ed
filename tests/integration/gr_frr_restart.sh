#!/usr/bin/env bash
# FRR restarts (tabbyd as the RFC 4724 helper): FRR bgpd with `bgp graceful-restart`
# announces 203.0.113.0/24 and 203.0.113.128/25 (tabbyd announces the restart time of
# the peer's --restart-time, 30 s, which FRR reads); a ping from the client crosses tabbyd to
# the peer every 50 ms. bgpd is killed and a new one (FRR sets the R bit at start) comes back
# announcing only the /24: tabbyd keeps FRR's routes in its kernel throughout, loses no
# probe, and after FRR's End-of-RIB removes the /25 alone. (FRR also sends tabbyd's own
# route back, which tabbyd drops as an AS loop: it counts among FRR's routes.)
# Then tabbyd's stops with FRR, which negotiates the N bit (RFC 8538): SIGTERM sends an
# Administrative Reset and FRR keeps tabbyd's route, stale, until the restarted tabbyd
# sends it again; SIGUSR1 (stop for good) sends a Hard Reset and FRR drops it at once.
. "$(dirname "$0")/gr.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
gr_topology --restart-time=30
nsx peer ip route add 198.51.100.0/24 via 192.0.2.1
TABBYD_FIB=kernel
tabbyd_start tabby n1 1 --as 64512
frr_gr_start "$(frr_gr_conf 203.0.113.128/25)"

wait_until 30 "FRR's routes in tabbyd's kernel" routes_in "tabby_has 203.0.113.0/24 && tabby_has 203.0.113.128/25"
wait_until 10 "FRR's End-of-RIB" grep -q "peer 192.0.2.10: End-of-RIB" "$T/n1.log"
"$TABBYCTL" status --node=n1 -o json | python3 -c '
import json, sys
gr = json.load(sys.stdin)["sessions"][0]["graceful_restart"]
print("negotiated:", json.dumps(gr))
assert gr["negotiated"] and gr["notification"] and gr["peer"]["forwarding"], gr
assert gr["peer"]["restart_time"] == 120 and gr["restart_time"] == 30, gr'
# FRR read ours: the peer's --restart-time (30 s), the N bit, the F bit for IPv4 unicast.
nsx peer vtysh --vty_socket "$T/frr" -c "show bgp neighbors 192.0.2.1 json" | python3 -c '
import json, sys
gr = json.load(sys.stdin)["192.0.2.1"]["gracefulRestartInfo"]
print("FRR sees:", json.dumps(gr))
assert gr["timers"]["receivedRestartTimer"] == 30 and gr["nBit"] and gr["ipv4Unicast"]["fBit"], gr'

probe_start 10 frr
sleep 1
kill -KILL "${PID_OF[frr]}"
wait "${PID_OF[frr]}" 2>/dev/null || true
wait_until 5 "tabbyd: FRR restarting, its routes kept" grep -qE "graceful restart: keeping its [0-9]+ routes, stale" "$T/n1.log"
status_row n1 192.0.2.10 | grep -qE "graceful restart: [0-9]+ stale routes kept" || die "INFO does not show the restart"
sleep 1
tabby_has 203.0.113.0/24 && tabby_has 203.0.113.128/25 || die "kernel routes gone while FRR restarts"
frr_gr_start "$(frr_gr_conf)"
gr_peer_back frr
frr_route() { nsx peer vtysh --vty_socket "$T/frr" -c "show bgp ipv4 unicast 198.51.100.0/24 json"; }

# tabbyd restarts: FRR helps (the Cease counts as a restart).
kill -TERM "${PID_OF[n1]}"
wait "${PID_OF[n1]}"
grep -q "sending NOTIFICATION 6/4 (Administrative reset)" "$T/n1.log" || die "no Administrative Reset sent"
wait_until 5 "FRR keeps tabbyd's route, stale" bash -c "$(declare -f nsx ns_of frr_route); NS_PREFIX=$NS_PREFIX T=$T; frr_route | grep -q '\"stale\":true'"
tabbyd_start tabby n1 1 --as 64512
wait_until 20 "tabbyd restarted: FRR's End-of-RIB ends its deferral" \
	grep -q "route selection done after .* (every peer's End-of-RIB)" "$T/n1.log"
wait_until 20 "FRR has tabbyd's route again, not stale" bash -c "$(declare -f nsx ns_of frr_route); NS_PREFIX=$NS_PREFIX T=$T; frr_route | grep -q '\"valid\":true' && ! frr_route | grep -q '\"stale\":true'"

# tabbyd stops for good: a Hard Reset, FRR drops the route, tabbyd's kernel routes go.
wait_until 10 "FRR up" frr_up peer frr 192.0.2.1
kill -USR1 "${PID_OF[n1]}"
wait "${PID_OF[n1]}"
grep -q "sending NOTIFICATION 6/9 (Hard reset (Administrative shutdown))" "$T/n1.log" || die "no Hard Reset sent on SIGUSR1"
wait_until 3 "FRR dropped tabbyd's route" bash -c "$(declare -f nsx ns_of frr_route); NS_PREFIX=$NS_PREFIX T=$T; ! frr_route | grep -q '\"valid\":true'"
[ -z "$(tabby_routes)" ] || { tabby_routes; die "tabbyd left kernel routes after SIGUSR1"; }
echo "FRR restarted: its routes stayed in the kernel, no probe lost, only the one it no longer announces removed; tabbyd's SIGTERM was a restart for FRR (RFC 8538), its SIGUSR1 a Hard Reset"
