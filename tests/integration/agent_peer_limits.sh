#!/usr/bin/env bash
# What a peer can send us and what it cannot do with it (issue 13, "A peer cannot hurt the
# node"), against real BIRD and a scripted peer:
# 1. --max-prefixes N and a BIRD that announces N+1: Cease/1 (RFC 4486) seen by BIRD, the
#    reason in `tabbyctl status`, a retry after a back-off that doubles; a limit lowered on
#    an Established session applies at once.
# 2. A BIRD that refuses our OPEN (Bad Peer AS): that reason stays in status through the
#    failed retries that follow.
# 3. A peer whose shutdown communication (RFC 9003) holds escape sequences and CR LF: status
#    and the log show it escaped, never a raw control character.
# 4. The mesh default (bgp node-mesh --max-prefixes): another tabbyd node originating two
#    prefixes against a limit of one.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
here=$(cd "$(dirname "$0")" && pwd)
lan_up
host_add n1 1
host_add bird 10
host_add picky 11
host_add many 12
host_add rude 13
host_add n2 2
"$TABBYCTL" bgp node-mesh off
tabbyd_start n1 n1 1
statics() {  # COUNT THIRD-OCTET: COUNT /24 blackhole routes in 198.18.THIRD+i.0
	for i in $(seq 0 $(($1 - 1))); do echo "route 198.18.$(($2 + i)).0/24 blackhole;"; done
}
bird_start bird bird "router id 192.0.2.10;
protocol device {}
protocol static { ipv4; $(statics 6 0) }
protocol bgp tabby { local 192.0.2.10 as 64555; neighbor 192.0.2.1 as 64512;
	connect retry time 1; error wait time 1,2; ipv4 { import all; export all; }; }"
# It expects us to be AS 65000 and answers our OPEN with Bad Peer AS, then waits 20 s, closing
# the connections of our retries meanwhile.
bird_start picky picky "router id 192.0.2.11;
protocol device {}
protocol bgp tabby { local 192.0.2.11 as 64556; neighbor 192.0.2.1 as 65000;
	connect retry time 1; error wait time 20,30; ipv4 { import all; export none; }; }"
bird_start many many "router id 192.0.2.12;
protocol device {}
protocol static { ipv4; $(statics 6 100) }
protocol bgp tabby { local 192.0.2.12 as 64557; neighbor 192.0.2.1 as 64512;
	connect retry time 1; error wait time 1,2; ipv4 { import all; export all; }; }"
ip netns exec "$(ns_of rude)" python3 "$here/bgp_shutdown_peer.py" 192.0.2.13 64558 \
	>> "$T/rude.log" 2>&1 &
PIDS+=($!)
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555 --max-prefixes=5
"$TABBYCTL" bgp peer add 192.0.2.11 as 64556
"$TABBYCTL" node bgp peer add 192.0.2.12 as 64557 --node=n1
"$TABBYCTL" bgp peer add 192.0.2.13 as 64558
info_has() { status_row n1 "$1" | grep -qF -- "$2"; }

# 1. Six prefixes against a limit of five.
wait_until 15 "BIRD told Cease/1" bash -c \
	"birdc -s '$T/bird/bird.ctl' show protocols all tabby | grep -q 'Received: Maximum number of prefixes reached'"
bird_show bird tabby | grep -E "Last error|BGP state|State"
wait_until 5 "status INFO says why" info_has 192.0.2.10 \
	"Maximum number of prefixes reached (limit 5, received 6; next try in 10s)"
status_row n1 192.0.2.10
grep -q "192.0.2.10: 6 prefixes received, more than its limit of 5: closing (RFC 4486), next try in 10s" "$T/n1.log"
# None of the six reached the Loc-RIB's other users: no route via BIRD while it is Idle.
never_within 5 "tabbyd comes back before its 10 s back-off" tabby_up n1 192.0.2.10
wait_until 20 "retried after the back-off, passed the limit again, back-off doubled" grep -q \
	"192.0.2.10: 6 prefixes received, more than its limit of 5: closing (RFC 4486), next try in 20s" "$T/n1.log"
# A limit lowered on an Established session: applied in place, at once.
wait_until 15 "node-specific peer with six prefixes up" tabby_up n1 192.0.2.12
"$TABBYCTL" node bgp peer add 192.0.2.12 as 64557 --max-prefixes=3 --node=n1
wait_until 5 "lowered limit closes the session" info_has 192.0.2.12 \
	"Maximum number of prefixes reached (limit 3, received 6"
wait_until 5 "BIRD told Cease/1" bash -c \
	"birdc -s '$T/many/bird.ctl' show protocols all tabby | grep -q 'Received: Maximum number of prefixes reached'"

# 2. Bad Peer AS stays in view while the retries fail.
wait_until 10 "picky peer's NOTIFICATION shows in status" info_has 192.0.2.11 "Received: Bad peer AS"
never_within 8 "a retry's socket error replaces Bad peer AS" bash -c \
	"! '$TABBYCTL' status --node=n1 | grep -E '^\| 192\.0\.2\.11 ' | grep -qF 'Received: Bad peer AS'"
status_row n1 192.0.2.11

# 3. Control characters from the peer reach no terminal and no log line.
wait_until 15 "shutdown communication shown, escaped" info_has 192.0.2.13 \
	'Received: Administrative shutdown: "\x1b[2J\x1b[31mmaintenance\r\nfake: session up\x07"'
status_row n1 192.0.2.13
if "$TABBYCTL" status --node=n1 | grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; then
	die "tabbyctl status printed a control character"
fi
if grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/n1.log"; then
	die "tabbyd logged a control character"
fi
grep -F 'session down: Received: Administrative shutdown: "\x1b[2J' "$T/n1.log" | tail -n 1

# 4. The mesh, limited to one prefix per session; n1 holds no other routes by now. (n2 starts
# only now: global peers would be its peers too.)
for p in 192.0.2.10 192.0.2.11 192.0.2.13; do "$TABBYCTL" bgp peer remove $p >/dev/null; done
"$TABBYCTL" node bgp peer remove 192.0.2.12 --node=n1 >/dev/null
tabbyd_start n2 n2 2
"$TABBYCTL" node prefix add 203.0.113.0/25 --node=n2
"$TABBYCTL" node prefix add 203.0.113.128/25 --node=n2
"$TABBYCTL" bgp node-mesh on --max-prefixes=1
wait_until 15 "n1 closes the mesh session that brings two prefixes" info_has 192.0.2.2 \
	"Maximum number of prefixes reached (limit 1, received 2"
status_row n1 192.0.2.2
# Both tabbyds announce RFC 8538's N bit: the Cease goes as a Hard Reset carrying it.
wait_until 5 "n2 was told why" grep -q "192.0.2.1: received NOTIFICATION 6/9 (Hard reset (Maximum number of prefixes reached))" "$T/n2.log"
echo "peer limits: max-prefixes Cease/1 with back-off, lowered limit, mesh default, Bad Peer AS kept, peer text escaped"
