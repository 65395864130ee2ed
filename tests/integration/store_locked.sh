#!/usr/bin/env bash
# The datastore held locked by another process for 15 s (an open BEGIN EXCLUSIVE from the
# sqlite3 shell) costs freshness of status, never a session: two BIRD peers with a 3 s
# hold time stay Established throughout, a route BIRD announces during the lock reaches
# tabbyd's RIB (seen on the control socket, which answers during the lock), a peer
# restarted during the lock comes back, and afterwards `tabbyctl status` catches up: both
# Established, the restarted one's second Established transition, the right prefix counts.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; exec 3>&- 2>/dev/null; netns_cleanup' EXIT
set -e
LOCK_S=15
lan_up
host_add n1 1
host_add bird 10
host_add bird2 11
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" bgp peer add 192.0.2.10 as 65010
"$TABBYCTL" bgp peer add 192.0.2.11 as 65011
tabbyd_start n1 n1 1 --as 64512 --hold-time 3
bird_conf() {  # N AS PREFIX PREFIX-ANNOUNCED-LATER
	echo "router id 192.0.2.$1;
protocol device {}
protocol static s1 { ipv4; route $3 blackhole; }
protocol static s2 { disabled; ipv4; route $4 blackhole; }
protocol bgp tabby { local 192.0.2.$1 as $2; neighbor 192.0.2.1 as 64512; hold time 3;
	connect retry time 1; error wait time 1,2; ipv4 { import all; export all; }; }"
}
bird_start bird bird "$(bird_conf 10 65010 198.51.100.0/26 198.51.100.64/26)"
bird_start bird2 bird2 "$(bird_conf 11 65011 198.51.100.128/26 198.51.100.192/26)"
wait_until 20 "BIRD up" tabby_up n1 192.0.2.10
wait_until 20 "BIRD 2 up" tabby_up n1 192.0.2.11

q() { "$BUILD/ctl_query" "$T/n1.sock" "$@"; }
# FIELD of the live session record of PEER, from the control socket (no datastore involved).
live() {
	q sessions | python3 -c 'import json,sys
for s in json.load(sys.stdin):
    if s["remote"] == sys.argv[1]: print(s[sys.argv[2]])' "$1" "$2"
}
# FIELD of PEER's record in the datastore, as tabbyctl shows it.
stored() {
	"$TABBYCTL" status --node=n1 -o json | python3 -c 'import json,sys
for s in json.load(sys.stdin).get("sessions", []):
    if s["remote"] == sys.argv[1]: print(s[sys.argv[2]])' "$1" "$2"
}
export BUILD T TABBYCTL
export -f q live stored
wait_until 10 "status stored before the lock" bash -c '[ "$(stored 192.0.2.11 state)" = Established ]'
[ "$(live 192.0.2.10 established_transitions)" = 1 ] || die "BIRD's session flapped before the test"
[ "$(live 192.0.2.11 established_transitions)" = 1 ] || die "BIRD 2's session flapped before the test"

# The lock: one sqlite3 shell process, fed through a FIFO, BEGIN EXCLUSIVE held open.
mkfifo "$T/lock.in"
sqlite3 "$T/tabby.db" < "$T/lock.in" > "$T/lock.out" 2>&1 &
LOCK_PID=$!; PIDS+=($LOCK_PID)
exec 3> "$T/lock.in"
printf ".timeout 5000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n" >&3
wait_until 10 "the datastore locked" grep -q locked "$T/lock.out"
locked_at=$SECONDS
sqlite3 -cmd ".timeout 200" "$T/tabby.db" "BEGIN IMMEDIATE; ROLLBACK;" 2>/dev/null &&
	die "another writer got through: the test locks nothing"

# During the lock: both sessions stay up on both sides, a new route arrives, a peer restarts.
check_up() {
	bird_up bird tabby || die "BIRD's session went down during the lock"
	[ "$(live 192.0.2.10 state)" = Established ] || die "tabbyd's session to BIRD left Established during the lock"
	[ "$(live 192.0.2.10 established_transitions)" = 1 ] || die "tabbyd's session to BIRD flapped during the lock"
}
check_up
birdc -s "$T/bird/bird.ctl" enable s2 > /dev/null
wait_until 5 "BIRD's new route in tabbyd's RIB, on the control socket" bash -c "'$BUILD/ctl_query' '$T/n1.sock' routes 198.51.100.64/26 | grep -q 192.0.2.10"
check_up
kill -9 "${PID_OF[bird2]}"; wait "${PID_OF[bird2]}" 2>/dev/null || true
bird_start bird2 bird2 "$(cat "$T/bird2/bird.conf")"
wait_until 10 "BIRD 2, restarted, Established again (live)" bash -c \
	'[ "$(live 192.0.2.11 established_transitions)" = 2 ]'
while [ $((SECONDS - locked_at)) -lt $LOCK_S ]; do
	check_up
	sleep 0.5
done
echo "for ${LOCK_S}s locked: sessions up, route exchange and the control socket working"
# .quit: daemons started meanwhile inherited the FIFO, so its end of file would not come.
printf 'COMMIT;\n.quit\n' >&3
exec 3>&-
wait "$LOCK_PID"

# Afterwards: the status catches up with the latest of everything.
wait_until 15 "status: BIRD 2's second Established transition stored" bash -c \
	'[ "$(stored 192.0.2.11 established_transitions)" = 2 ]'
wait_until 10 "status: BIRD's two prefixes stored" bash -c '[ "$(stored 192.0.2.10 prefixes_received)" = 2 ]'
tabby_up n1 192.0.2.10 || die "status does not show BIRD Established"
tabby_up n1 192.0.2.11 || die "status does not show BIRD 2 Established"
"$TABBYCTL" status --node=n1
bird_up bird tabby || die "BIRD's session went down"
grep -q "datastore: writing again after" "$T/n1.log" || die "tabbyd never logged that its writes failed and resumed"
echo "datastore locked ${LOCK_S}s: sessions stayed up, routes flowed, status caught up"
