#!/usr/bin/env bash
# A connection collision (RFC 4271 §6.8) in its unlucky order, from a scripted peer: our
# connection reaches OpenSent, the peer's connection arrives (the second), ours then fails
# (back to Active) and only the peer's completes. The session runs on the peer's connection:
# its route is learned, ours is sent to it, and no new connection is tried while it is up
# (it once stayed on the failed one: Established in status, no routes either way, and a
# connection attempt every 5 s that the peer refused; calico_rr caught it once in CI).
# Then the same with ours connected again and in OpenSent when the peer's completes: ours
# is ended with Cease/7 (connection collision resolution).
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
here=$(cd "$(dirname "$0")" && pwd)
lan_up
host_add n1 1
host_add peer 10
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=n1
run_peer() {  # OUT [late]: the scripted peer, in the background
	ip netns exec "$(ns_of peer)" python3 "$here/bgp_collision_peer.py" 192.0.2.10 192.0.2.1 \
		64600 198.51.100.0/24 14 ${2:-} > "$T/$1" 2>> "$T/peer.log" &
	peer=$!
	PIDS+=($peer)
	sleep 0.3
}
check_peer() {  # OUT: the session ran on the peer's connection
	wait_until 20 "the peer's route learned over its connection" bash -c \
		"'$TABBYCTL' route show --node=n1 198.51.100.0/24 | grep -q 192.0.2.10"
	status_row n1 192.0.2.10 | grep -q Established || die "status does not say Established"
	wait "$peer" || die "the scripted peer failed: $(cat "$T/peer.log")"
	cat "$T/$1"
	python3 - "$T/$1" <<'PY' || die "the session did not run on the surviving connection"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["state"] == "Established", r
assert r["updates"] >= 1, "no UPDATE reached the peer: %s" % r
assert r["reconnects"] == 0, "tabbyd connected again while the session was up: %s" % r
assert r.get("retry_ended_with", "6/7") == "6/7", "the retry was not ended with Cease/7: %s" % r
PY
}
# 1. Ours failed back to Active when the peer's completes.
run_peer first.out
tabbyd_start n1 n1 1
"$TABBYCTL" bgp peer add 192.0.2.10 as 64600
check_peer first.out
# 2. Ours has connected again (OpenSent) when the peer's completes: ours ends with Cease/7.
wait_until 10 "the session down with the peer gone" bash -c "! '$TABBYCTL' status --node=n1 | grep -q Established"
run_peer late.out late
check_peer late.out
echo "collision: the peer's connection carried the session (routes both ways, no new attempt; a late retry of ours ended with Cease/7)"
