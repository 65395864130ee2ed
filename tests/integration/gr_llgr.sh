#!/usr/bin/env bash
# Long-lived graceful restart (RFC 9494), tabbyd as the helper. FRR announces graceful
# restart (restart time 2 s) and LLGR (long-lived stale time 6 s) and originates
# 203.0.113.0/24, and 203.0.113.128/25 with the NO_LLGR community. FRR is killed and
# does not come back: for 2 s both routes are stale; then the /25 (NO_LLGR) goes, and the
# /24 stays in the kernel as long-lived stale, carrying LLGR_STALE (least preferred,
# RFC 9494 §4.3), shown in status; after 6 s more it goes too.
. "$(dirname "$0")/gr.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
gr_topology
TABBYD_FIB=kernel
tabbyd_start tabby n1 1 --as 64512
frr_gr_start "$(FRR_RESTART_TIME=2 FRR_GR_EXTRA=" bgp long-lived-graceful-restart stale-time 6" \
	frr_gr_conf "203.0.113.128/25 route-map NOLLGR")
route-map NOLLGR permit 10
 set community no-llgr"
wait_until 30 "FRR's routes in tabbyd's kernel" routes_in "tabby_has 203.0.113.0/24 && tabby_has 203.0.113.128/25"
wait_until 10 "FRR's End-of-RIB" grep -q "peer 192.0.2.10: End-of-RIB" "$T/n1.log"
"$TABBYCTL" status --node=n1 -o json | python3 -c '
import json, sys
s = json.load(sys.stdin)["sessions"][0]
print("llgr:", json.dumps(s["llgr"]))
assert s["llgr"]["negotiated"] and s["llgr"]["peer_stale_time"] == 6 and not s["llgr"]["active"], s["llgr"]'

kill -KILL "${PID_OF[frr]}"
wait "${PID_OF[frr]}" 2>/dev/null || true
wait_until 5 "graceful restart: FRR's routes kept for 2 s" grep -qE "keeping its [0-9]+ routes, stale, for up to 2s" "$T/n1.log"
wait_until 5 "long-lived: the NO_LLGR route removed, the other kept" \
	grep -qE "long-lived graceful restart \(RFC 9494\): [0-9]+ stale routes kept for up to 6s, 1 with NO_LLGR removed" "$T/n1.log"
tabby_has 203.0.113.0/24 || die "the long-lived stale route left the kernel"
! tabby_has 203.0.113.128/25 || die "the NO_LLGR route is still in the kernel"
"$TABBYCTL" route show --node=n1 -o json | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["prefix"] == "203.0.113.0/24"][0]
print("long-lived stale:", json.dumps(r))
assert r["stale"] and "65535:6" in r["communities"], r'
status_row n1 192.0.2.10 | grep -qE "long-lived graceful restart: [0-9]+ stale routes kept" || { status_row n1 192.0.2.10; die "INFO does not show it"; }
"$TABBYCTL" status --node=n1 -o json | python3 -c '
import json, sys
assert json.load(sys.stdin)["sessions"][0]["llgr"]["active"]'
wait_until 10 "the long-lived stale route gone" routes_in '! tabby_has 203.0.113.0/24'
gap=$(log_gap_last "keeping its [0-9]+ routes, stale, for up to 2s" "long-lived graceful restart over \(long-lived stale time is up\)")
echo "stale routes gone ${gap}s after the session went down (restart time 2 s + long-lived stale time 6 s)"
python3 -c "import sys; g=float('$gap'); sys.exit(0 if 7.9 <= g <= 8.3 else 1)" || die "gone after ${gap}s, not at 8 s"
echo "LLGR: NO_LLGR route removed at the end of the restart time, the other kept as long-lived stale for 6 s more"
