#!/usr/bin/env bash
# RFC 7606 against a scripted peer: ExaBGP (eBGP, AS 64555) announces prefixes with good
# attributes, then re-announces each with one attribute broken (ExaBGP's raw attribute
# syntax). The session must stay up and exactly the affected prefixes must leave tabbyd's
# Adj-RIB-In (read on the control socket); last, a malformed MP_REACH_NLRI must reset it.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
exa_setup

# prefix | phase-2 route arguments (ExaBGP raw attributes: [ code flags value ]) | stays or gone
N=next-hop
CASES="198.51.100.0/26   | $N 192.0.2.20 attribute [ 0x01 0x40 0x05 ]                 | gone  | ORIGIN value 5
198.51.100.64/26  | $N 192.0.2.20 attribute [ 0x02 0x40 0x02050000fc2b ]       | gone  | AS_PATH segment overrun
198.51.100.128/26 | $N 192.0.2.1                                               | gone  | NEXT_HOP is tabbyd's own address
198.51.100.192/26 | $N 192.0.2.20 attribute [ 0x08 0xc0 0x0102030405 ]         | gone  | COMMUNITIES length 5
203.0.113.0/26    | $N 192.0.2.20 attribute [ 0x20 0xc0 0x0000fc2b0000000100 ] | gone  | LARGE_COMMUNITIES length 9
203.0.113.64/26   | $N 192.0.2.20 attribute [ 0x01 0xc0 0x00 ]                 | gone  | ORIGIN with the Optional flag
203.0.113.128/26  | $N 192.0.2.20 attribute [ 0x63 0xc0 0xaabbcc ]             | stays | unknown optional transitive
198.18.23.0/24    | $N 192.0.2.20 attribute [ 0x17 0xc0 0x0007ffff ]           | stays | attribute 23 malformed (tunnel encap)
198.18.29.0/24    | $N 192.0.2.20 attribute [ 0x1d 0x80 0x0102030405 ]         | stays | attribute 29 garbage (BGP-LS)
198.18.40.0/24    | $N 192.0.2.20 attribute [ 0x28 0xc0 0x00000000000000 ]     | stays | attribute 40 all zero (Prefix-SID)
198.18.35.0/24    | $N 192.0.2.20 attribute [ 0x23 0xc0 0xfc2b ]               | gone  | attribute 35 wrong length (OTC)"
field() { echo "$1" | cut -d'|' -f"$2" | sed 's/^ *//; s/ *$//'; }

{
	echo "$EXA_FEED_HEAD"
	echo 'pause 1'
	while IFS= read -r line; do
		echo "echo 'announce route $(field "$line" 1) next-hop 192.0.2.20'"
	done <<< "$CASES"
	echo 'echo "announce route 192.0.2.128/28 next-hop 192.0.2.20 community [ 64555:1 ]"'
	echo "while [ ! -e '$T/exa/phase2' ]; do pause 0.2; done"
	while IFS= read -r line; do
		echo "echo 'announce route $(field "$line" 1) $(field "$line" 2)'"
	done <<< "$CASES"
	echo "while [ ! -e '$T/exa/phase3' ]; do pause 0.2; done"
	# MP_REACH_NLRI for IPv4 unicast with an 8-byte next hop: the NLRI cannot be found.
	echo "echo 'announce route 198.18.14.0/24 next-hop 192.0.2.20 attribute [ 0x0e 0x80 0x000101080000000000000000001018c612 ]'"
	echo 'while :; do pause 1; done'
} > "$T/exa/feed.sh"
exabgp_start exa exa 20

rib() { adj_rib_in n1 192.0.2.20; }
has() { rib | grep -q "\"prefix\":\"$1\""; }
count() { rib | grep -o '"prefix"' | wc -l; }
transitions() { "$TABBYCTL" status --node=n1 -o json | grep -o '"established_transitions": [0-9]*' | grep -o '[0-9]*$'; }
wait_until 20 "session up" tabby_up n1 192.0.2.20
wait_until 10 "phase 1: all 12 good announcements in the Adj-RIB-In" bash -c "[ \$('$BUILD/ctl_query' '$T/n1.sock' adj-rib-in 192.0.2.20 | grep -o '\"prefix\"' | wc -l) = 12 ]"
[ "$(transitions)" = 1 ]

touch "$T/exa/phase2"
wait_until 10 "phase 2: the last broken announcement judged" bash -c "! '$BUILD/ctl_query' '$T/n1.sock' adj-rib-in 192.0.2.20 | grep -q '198.18.35.0/24'"
sleep 1
fail=0
while IFS= read -r line; do
	p=$(field "$line" 1)
	want=$(field "$line" 3)
	what=$(field "$line" 4)
	if has "$p"; then got=stays; else got=gone; fi
	printf '%-18s %-38s expected %-5s got %s\n' "$p" "$what" "$want" "$got"
	[ "$got" = "$want" ] || fail=1
done <<< "$CASES"
has 192.0.2.128/28 || { echo "an unrelated prefix disappeared"; fail=1; }
[ $fail = 0 ]
tabby_up n1 192.0.2.20
[ "$(transitions)" = 1 ] || { echo "the session was reset by a malformed attribute"; exit 1; }
# The unknown attribute is kept byte for byte (3 header + 3 value bytes).
rib | tr '{' '\n' | grep '"prefix":"203.0.113.128/26"' | grep -q '"unknown_attributes_bytes":6'
grep -c "treat-as-withdraw" "$T/n1.log"

touch "$T/exa/phase3"
wait_until 10 "phase 3: malformed MP_REACH_NLRI resets the session" \
	grep -q "sending NOTIFICATION 3/9 (Optional attribute error)" "$T/n1.log"
grep -m1 "MP_REACH_NLRI" "$T/n1.log"
echo "RFC 7606 with ExaBGP: 11 broken attributes judged, session kept; MP_REACH reset"
