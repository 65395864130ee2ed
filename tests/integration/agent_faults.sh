#!/usr/bin/env bash
# Faults: a peer frozen past the hold time (Hold Timer Expired, then back by itself when
# thawed); a peer that rejects our AS (the error shows in tabbyctl status); tabbyd killed
# with SIGKILL and restarted (sessions come back, stale status replaced).
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
host_add n1 1
host_add bird 10
host_add picky 11
"$TABBYCTL" bgp node-mesh off
tabbyd_start n1 n1 1
bird_start bird bird "router id 192.0.2.10;
protocol device {}
protocol bgp tabby { local 192.0.2.10 as 64555; neighbor 192.0.2.1 as 64512;
	hold time 9; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"
# This one expects us to be AS 65000: it answers our OPEN with Bad Peer AS.
bird_start picky picky "router id 192.0.2.11;
protocol device {}
protocol bgp tabby { local 192.0.2.11 as 64556; neighbor 192.0.2.1 as 65000;
	connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555
"$TABBYCTL" bgp peer add 192.0.2.11 as 64556
wait_until 10 "BIRD up" tabby_up n1 192.0.2.10

# 1. The peer is frozen: after the negotiated 9 s, our hold timer expires.
status_row n1 192.0.2.10
kill -STOP "${PID_OF[bird]}"
wait_until 15 "Hold Timer Expired, state leaves Established" bash -c \
	"'$TABBYCTL' status --node=n1 | grep -E '^\| 192\.0\.2\.10 ' | grep -q 'start .*Hold timer expired'"
status_row n1 192.0.2.10
kill -CONT "${PID_OF[bird]}"
wait_until 30 "thawed: the session comes back by itself" tabby_up n1 192.0.2.10
wait_until 10 "BIRD agrees" bird_up bird tabby

# 2. The peer rejects our AS.
wait_until 10 "picky peer's NOTIFICATION shows in status" bash -c \
	"'$TABBYCTL' status --node=n1 | grep -E '^\| 192\.0\.2\.11 ' | grep -q 'Received: Bad peer AS'"
status_row n1 192.0.2.11

# 3. tabbyd killed outright, then restarted: sessions return, its stale status is replaced.
old_pid=${PID_OF[n1]}
kill -KILL "$old_pid"
wait "$old_pid" 2>/dev/null || true
"$TABBYCTL" status --node=n1 -o json | grep -q "\"pid\": $old_pid"   # stale, until the lease ends
tabbyd_start n1 n1 1
new_pid=${PID_OF[n1]}
wait_until 10 "restarted agent's record replaces the stale one" bash -c \
	"'$TABBYCTL' status --node=n1 -o json | grep -q '\"pid\": $new_pid'"
wait_until 20 "session back after the restart" tabby_up n1 192.0.2.10
wait_until 10 "BIRD agrees" bird_up bird tabby
echo "faults: hold timer expiry and recovery, rejected AS reported, SIGKILL restart recovered"
