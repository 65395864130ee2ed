#!/usr/bin/env bash
# The reference page's example, for real: tabbyd at 192.0.2.1 (AS 64512) and BIRD 2 at
# 192.0.2.10 (AS 64555). `tabbyctl bgp peer add 192.0.2.10 as 64555` brings the session
# up on both sides within 5 s; `tabbyctl bgp peer remove 192.0.2.10` makes BIRD report a
# Cease (Peer de-configured) and the session is gone. SIGTERM closes with RFC 9003 text.
# A changed AS restarts the session only once BIRD has read the old one's Cease (linger.c):
# connecting at once made BIRD reset the old connection unread, about one run in ten.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
host_add node1 1
host_add bird 10
"$TABBYCTL" bgp default-node-as 64512
tabbyd_start node1 node1 1
bird_start bird bird "router id 192.0.2.10;
log stderr all;
protocol device {}
protocol bgp tabby {
	local 192.0.2.10 as 64555; neighbor 192.0.2.1 as 64512;
	hold time 9; connect retry time 1; error wait time 1,3;
	ipv4 { import all; export none; };
}"
wait_until 10 "tabbyd registered" "$TABBYCTL" status --node=node1
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555
wait_until 5 "tabbyd: 192.0.2.10 up" tabby_up node1 192.0.2.10
wait_until 5 "BIRD: Established" bird_up bird tabby
"$TABBYCTL" status --node=node1 | tee "$T/status.txt"
grep -qE '^\| 192\.0\.2\.10 +\| global +\| up +\| [0-9:]{8} \| Established +\|$' "$T/status.txt"
grep -q "^No IPv6 peers found.$" "$T/status.txt"

"$TABBYCTL" bgp peer remove 192.0.2.10
wait_until 5 "BIRD: Cease (Peer de-configured) received" \
	bash -c "birdc -s '$T/bird/bird.ctl' show protocols all tabby | grep -q 'Received: Peer de-configured'"
wait_until 5 "session gone from tabbyctl status" bash -c "! '$TABBYCTL' status --node=node1 | grep -q 192.0.2.10"

# Re-adding brings it back; unrelated changes leave the running session alone.
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555
wait_until 5 "BIRD: Established again" bird_up bird tabby
transitions() { "$TABBYCTL" status --node=node1 -o json | grep -o '"established_transitions": [0-9]*'; }
before=$(transitions)
"$TABBYCTL" bgp peer add 2001:db8::99 as 64999
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=node1
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555
# The same peer configured for the node too: it is the node's (precedence), then global again.
"$TABBYCTL" node bgp peer add 192.0.2.10 as 64555 --node=node1
wait_until 5 "the node-specific peer takes precedence" bash -c \
	"'$TABBYCTL' status --node=node1 | grep -qE '^\| 192\.0\.2\.10 +\| node specific +\| up '"
"$TABBYCTL" node bgp peer remove 192.0.2.10 --node=node1
wait_until 5 "the global peer again" bash -c \
	"'$TABBYCTL' status --node=node1 | grep -qE '^\| 192\.0\.2\.10 +\| global +\| up '"
# Changes of single peers went through reconcile's pass over the changed addresses alone.
grep -q "reconcile: 1 changed peer addresses, 1 sessions wanted there" "$T/node1.log" ||
	{ echo "no change of one peer was a pass over that peer alone"; exit 1; }
sleep 1
[ "$(transitions | head -1)" = "$(echo "$before" | head -1)" ] || { echo "session was disturbed"; exit 1; }
bird_up bird tabby
"$TABBYCTL" bgp peer remove 2001:db8::99

# A changed AS: Cease "Other Configuration Change" (RFC 4486), then BIRD refuses the new AS.
"$TABBYCTL" bgp peer add 192.0.2.10 as 64556
wait_until 5 "BIRD: Cease (Other configuration change) received" \
	grep -q "Received: Other configuration change" "$T/bird/bird.log"
# Up to 10 s: a first connect that lands in BIRD's error wait (1 s) is refused, and the
# next is tabbyd's ConnectRetry (3.75-5 s) or BIRD's connect delay (5 s) later; 5 s failed
# one CI run in many.
wait_until 10 "tabbyd reports BIRD's refusal" bash -c \
	"'$TABBYCTL' status --node=node1 | grep -E '^\| 192\.0\.2\.10 ' | grep -q 'Bad peer AS'"
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555
wait_until 10 "BIRD: Established with the right AS" bird_up bird tabby

# Shutdown: a Cease with the RFC 9003 message, and the status disappears.
kill -TERM "${PID_OF[node1]}"
wait "${PID_OF[node1]}"
wait_until 5 "BIRD: shutdown communication received" \
	bash -c "birdc -s '$T/bird/bird.ctl' show protocols all tabby | grep -q 'tabbyd shutting down'"
"$TABBYCTL" status --node=node1 | grep -q "tabby process is not running."
echo "reference example: up within 5 s, Cease on removal, shutdown message on SIGTERM"
