#!/usr/bin/env bash
# An attribute set too large for a peer (issue 13): ExaBGP and tabbyd negotiate extended
# messages (RFC 8654); ExaBGP announces 198.51.100.0/24 and 203.0.113.0/24, then
# 198.51.100.0/24 again with 1,100 communities (4,400 bytes of attributes). BIRD, without
# extended messages, must see 198.51.100.0/24 withdrawn and keep the ordinary route, the
# session must never flap (a 4,460-byte UPDATE to it would be a bad message length and a
# reset on every reconnect), and tabbyd says once that the route does not fit.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
exa_setup
host_add bird 30
"$TABBYCTL" bgp peer add 192.0.2.30 as 64600

comms=$(for i in $(seq 1 1100); do printf '64555:%d ' "$i"; done)
# Phase 1: both routes small. Phase 2: 198.51.100.0/24 again, with 1,100 communities.
# The feed ends with ExaBGP (EXA_FEED_HEAD's pause), never left behind.
cat > "$T/exa/feed.sh" <<EOF
$EXA_FEED_HEAD
pause 1
echo 'announce route 198.51.100.0/24 next-hop 192.0.2.20'
echo 'announce route 203.0.113.0/24 next-hop 192.0.2.20'
while [ ! -e '$T/exa/phase2' ]; do pause 0.2; done
echo 'announce route 198.51.100.0/24 next-hop 192.0.2.20 community [ $comms]'
while :; do pause 1; done
EOF
exabgp_start exa exa 20 "capability { extended-message enable; }"
bird_start bird b "router id 192.0.2.30;
protocol device {}
protocol bgp t { local 192.0.2.30 as 64600; neighbor 192.0.2.1 as 64512; hold time 9;
  connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"

rib() { adj_rib_in n1 192.0.2.20; }
bird_has() { birdc -s "$T/b/bird.ctl" show route for "$1" protocol t | grep -q "$1"; }
transitions() {  # established transitions of one peer, from tabbyd's status
	"$TABBYCTL" status --node=n1 -o json | tr '{' '\n' | grep "\"remote\": \"$1\"" -A40 |
		grep -m1 -o '"established_transitions": [0-9]*' | grep -o '[0-9]*$'
}
wait_until 20 "ExaBGP session up" tabby_up n1 192.0.2.20
wait_until 20 "BIRD session up" bird_up b t
wait_until 10 "phase 1: BIRD has both routes through tabbyd" bash -c "birdc -s '$T/b/bird.ctl' show route for 198.51.100.0/24 protocol t | grep -q 198.51.100.0/24 && birdc -s '$T/b/bird.ctl' show route for 203.0.113.0/24 protocol t | grep -q 203.0.113.0/24"
touch "$T/exa/phase2"
wait_until 10 "phase 2: the large route learned (over extended messages)" bash -c "'$BUILD/ctl_query' '$T/n1.sock' adj-rib-in 192.0.2.20 | grep -q '64555:1100'"
wait_until 10 "phase 2: BIRD no longer has 198.51.100.0/24 (withdrawn toward it)" bash -c "! birdc -s '$T/b/bird.ctl' show route for 198.51.100.0/24 protocol t | grep -q 198.51.100.0/24"
bird_has 203.0.113.0/24 || die "BIRD lost the ordinary route"
# Long enough for a reset and a reconnect (error wait 1-2 s, connect retry 1 s) to show.
never_within 8 "BIRD has the oversized route" bird_has 198.51.100.0/24
bird_up b t
birdc -s "$T/b/bird.ctl" show protocols all t | grep -E "BGP state|Last error"
! birdc -s "$T/b/bird.ctl" show protocols all t | grep -q "Last error" ||
	die "BIRD reports an error on the session"
[ "$(transitions 192.0.2.30)" = 1 ] || die "the BIRD session flapped: $(transitions 192.0.2.30) establishments"
# The Adj-RIB-Out records only what is sent: BIRD was sent one prefix.
sent_is() {  # PEER COUNT: tabbyd's status says COUNT prefixes sent to PEER
	"$TABBYCTL" status --node=n1 -o json | tr '{' '\n' | grep "\"remote\": \"$1\"" -A40 |
		grep -m1 -q "\"prefixes_sent\": $2,"
}
wait_until 10 "tabbyd's status: 1 prefix sent to BIRD" sent_is 192.0.2.30 1
n=$(grep -c "does not fit the peer's maximum message size" "$T/n1.log" || true)
[ "$n" = 1 ] || die "expected one log line about the oversized route, got $n"
grep -m1 "does not fit the peer's maximum message size" "$T/n1.log"
echo "oversized attributes: not sent to a 4,096-byte peer, no flap, logged once"
