#!/usr/bin/env bash
# BGPPeer session options and BGPFilter policy against BIRD (issue 18, speaker half).
# tabbyd n1 (AS 64512, kernel routes in its namespace) peers with BIRD A (AS 65010) and
# BIRD B (AS 65020), both from v3 resources:
# - ttlSecurity: A runs 'ttl security on'; without ttlSecurity the session never comes up,
#   with ttlSecurity: 1 it does (GTSM, RFC 5082: TTL 255 both ways), over IPv6 too;
# - peerIP IP:port: B listens on 1790 only and never connects itself (passive);
# - numAllowedLocalASNumbers: B sends a path holding 64512; refused as a loop, then taken
#   with allowas-in 1;
# - keepOriginalNextHop: B's route reaches A with B's next hop, not ours;
# - BGPFilter: an importV4 Reject keeps one of A's prefixes out of the RIB and the kernel,
#   an exportV4 Reject keeps one of ours from A; applied in place, the session stays up;
# - prefixAdvertisements: our prefix reaches A with a standard and a large community.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
host_add n1 1
host_add a 10
host_add b 20

peers() {  # A's extra spec lines, B's extra spec lines
	"$TABBYCTL" apply -f - <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: bird-a
spec:
  node: n1
  peerIP: 192.0.2.10
  asNumber: 65010
$1
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: bird-b
spec:
  node: n1
  peerIP: 192.0.2.20:1790
  asNumber: 65020
$2
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: bird-a6
spec:
  node: n1
  peerIP: 2001:db8::a
  asNumber: 65010
  ttlSecurity: 1
YAML
}
"$TABBYCTL" apply -f - <<YAML
$(calico_no_mesh)
  communities:
  - name: ours
    value: 65000:100
  prefixAdvertisements:
  - cidr: 203.0.113.128/25
    communities: [ours, "64512:7:8"]
YAML
"$TABBYCTL" node prefix add 203.0.113.0/25 --node=n1
"$TABBYCTL" node prefix add 203.0.113.128/25 --node=n1
peers "" ""
TABBYD_FIB=kernel
tabbyd_start n1 n1 1

bird_start a bird-a "log stderr all; router id 192.0.2.10;
protocol device {}
protocol static s4 { ipv4; route 198.51.100.0/26 blackhole; route 198.51.100.64/26 blackhole; }
protocol bgp t4 { local 192.0.2.10 as 65010; neighbor 192.0.2.1 as 64512;
	connect retry time 2; ttl security on; debug all; ipv4 { import all; export all; }; }
protocol bgp t6 { local 2001:db8::a as 65010; neighbor 2001:db8::1 as 64512;
	connect retry time 2; ttl security on; ipv6 { import all; export none; }; }"
bird_start b bird-b "router id 192.0.2.20;
protocol device {}
protocol static s4 { ipv4; route 198.51.100.128/26 blackhole; route 198.51.100.192/26 blackhole; }
protocol bgp t4 { local 192.0.2.20 port 1790 as 65020; neighbor 192.0.2.1 as 64512;
	passive on; ipv4 { import all; export filter {
		if net = 198.51.100.192/26 then bgp_path.prepend(64512); accept; }; }; }"

in_rib() { "$TABBYCTL" route show --node=n1 | grep -q "| $1 "; }
in_kernel() { nsx n1 ip -4 route show proto 201 | grep -q "^$1 "; }
bird_route() {  # NAME PREFIX: A's view of a prefix, all attributes
	birdc -s "$T/$1/bird.ctl" show route for "$2" all
}

# ttlSecurity: with BIRD's 'ttl security on', nothing until tabbyd does GTSM too.
wait_until 20 "B up: tabbyd connected to its port 1790" bird_up bird-b t4
nsx n1 ss -tn state established "( dport = :1790 )" | grep -q 192.0.2.20 || die "not on port 1790"
wait_until 20 "A up over IPv6 with ttlSecurity 1 (GTSM, IPV6_MINHOPCOUNT)" bird_up bird-a t6
never_within 8 "A up without ttlSecurity" bird_up bird-a t4
# allowas-in: B's path holding 64512 is a loop so far.
wait_until 10 "B's plain route in tabbyd" in_rib 198.51.100.128/26
! in_rib 198.51.100.192/26 || die "a path holding our AS taken without allowas-in"
peers "  ttlSecurity: 1" "  numAllowedLocalASNumbers: 1"
# BIRD holds the half-open connections of the first attempts (our FIN came with TTL 64,
# which it drops) until its hold timer: a protocol restart clears them.
sleep 1
birdc -s "$T/bird-a/bird.ctl" restart t4 > /dev/null
wait_until 20 "A up with ttlSecurity 1 (GTSM)" bird_up bird-a t4
wait_until 20 "B's path holding our AS taken with allowas-in 1" in_rib 198.51.100.192/26
nsx n1 ss -tni '( sport = :179 or dport = :179 )' dst 192.0.2.10 > "$T/ss.a"
grep -q "192.0.2.10" "$T/ss.a" || die "no TCP connection with A"

# Without keepOriginalNextHop, A has B's route from us with our next hop.
wait_until 20 "A has B's route via us" bash -c \
	"birdc -s '$T/bird-a/bird.ctl' show route for 198.51.100.128/26 all | grep -q 'BGP.next_hop: 192.0.2.1\$'"
peers "  ttlSecurity: 1
  keepOriginalNextHop: true" "  numAllowedLocalASNumbers: 1"
wait_until 30 "keepOriginalNextHop: A has B's route with B's next hop" bash -c \
	"birdc -s '$T/bird-a/bird.ctl' show route for 198.51.100.128/26 all | grep -q 'BGP.next_hop: 192.0.2.20\$'"

# prefixAdvertisements: communities on our prefix in the cidr, none on the other.
wait_until 20 "A has our prefixes" bash -c \
	"birdc -s '$T/bird-a/bird.ctl' show route for 203.0.113.0/25 | grep -q 203.0.113.0/25"
bird_route bird-a 203.0.113.128/25 > "$T/adv"
grep -q "BGP.community: (65000,100)" "$T/adv" || { cat "$T/adv"; die "standard community missing"; }
grep -q "BGP.large_community: (64512, 7, 8)" "$T/adv" || { cat "$T/adv"; die "large community missing"; }
bird_route bird-a 203.0.113.0/25 > "$T/adv0"
! grep -q "community" "$T/adv0" || { cat "$T/adv0"; die "community outside the advertisement's cidr"; }

# BGPFilter, applied to a running session.
wait_until 10 "A's routes in the RIB and kernel" bash -c \
	"'$TABBYCTL' route show --node=n1 | grep -q '198.51.100.64/26' && ip netns exec $(ns_of n1) ip -4 route show proto 201 | grep -q '^198.51.100.64/26'"
"$TABBYCTL" apply -f - <<'YAML'
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata:
  name: a-filter
spec:
  importV4:
  - action: Reject
    matchOperator: In
    cidr: 198.51.100.64/26
  exportV4:
  - action: Reject
    matchOperator: Equal
    cidr: 203.0.113.0/25
YAML
peers "  ttlSecurity: 1
  keepOriginalNextHop: true
  filters: [a-filter]" "  numAllowedLocalASNumbers: 1"
wait_until 20 "import Reject: 198.51.100.64/26 out of the RIB and the kernel" bash -c \
	"! '$TABBYCTL' route show --node=n1 | grep -q '198.51.100.64/26' && ! ip netns exec $(ns_of n1) ip -4 route show proto 201 | grep -q '^198.51.100.64/26'"
in_rib 198.51.100.0/26 || die "the filter took more than its cidr"
in_kernel 198.51.100.0/26 || die "A's other prefix left the kernel"
wait_until 20 "export Reject: A no longer has 203.0.113.0/25" bash -c \
	"! birdc -s '$T/bird-a/bird.ctl' show route for 203.0.113.0/25 | grep -q 203.0.113.0/25"
bird_route bird-a 203.0.113.128/25 | grep -q "203.0.113.128/25" || die "export filter took too much"
# A new filter re-judges in place: the session was not restarted for it.
"$TABBYCTL" status --node=n1 -o json > "$T/status.json"
python3 - "$T/status.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
rows = rows if isinstance(rows, list) else rows.get("peers", rows.get("sessions", []))
a = [r for r in rows if r.get("remote", r.get("peer_address")) == "192.0.2.10"]
assert a, rows
n = a[0].get("established_transitions", a[0].get("counters", {}).get("established_transitions"))
assert n == 1, ("A's session restarted for a policy change", a[0])
PY
# Rule removed: the prefix comes back without a restart either.
"$TABBYCTL" delete bgpfilter a-filter
peers "  ttlSecurity: 1
  keepOriginalNextHop: true" "  numAllowedLocalASNumbers: 1"
wait_until 20 "filter gone: 198.51.100.64/26 back in the kernel" in_kernel 198.51.100.64/26
echo PASS
