#!/usr/bin/env bash
# Routes with real peers, IPv4 and IPv6: BIRD (AS 65010), FRR (AS 65020), GoBGP
# (AS 65030) and OpenBGPD (AS 65040) each originate a prefix per family to tabbyd (AS 64512, kernel routes on in
# its namespace). Theirs appear in `tabbyctl route show` and in the node's kernel; ours
# appear in their RIBs with AS path 64512 and next hop tabbyd; and each gets the others'
# through tabbyd with tabbyd's AS in front.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
host_add n1 1
host_add bird 10
host_add frr 20
host_add gobgp 30
host_add openbgpd 40
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=n1
"$TABBYCTL" node prefix add 2001:db8:a::/48 --node=n1
for p in "192.0.2.10 65010" "2001:db8::a 65010" "192.0.2.20 65020" "2001:db8::14 65020" \
	"192.0.2.30 65030" "2001:db8::1e 65030" "192.0.2.40 65040" "2001:db8::28 65040"; do
	set -- $p
	"$TABBYCTL" node bgp peer add "$1" as "$2" --node=n1
done
TABBYD_FIB=kernel
tabbyd_start n1 n1 1 --as 64512

bird_start bird bird "$(bird_origin_conf 10 65010 198.51.100.0/26 2001:db8:b1::/48 all)"
frr_start frr frr "hostname frr
router bgp 65020
 bgp router-id 192.0.2.20
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 neighbor 192.0.2.1 remote-as 64512
 neighbor 192.0.2.1 timers connect 2
 neighbor 2001:db8::1 remote-as 64512
 neighbor 2001:db8::1 timers connect 2
 address-family ipv4 unicast
  network 198.51.100.64/26
  neighbor 192.0.2.1 activate
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:b2::/48
  neighbor 2001:db8::1 activate
 exit-address-family"
gobgp_start gobgp gobgp "[global.config]
as = 65030
router-id = \"192.0.2.30\"
$(gobgp_neighbor 192.0.2.1 64512 ipv4-unicast)
$(gobgp_neighbor 2001:db8::1 64512 ipv6-unicast)"
openbgpd_start openbgpd openbgpd "AS 65040
router-id 192.0.2.40
network 198.51.100.192/26
network 2001:db8:b4::/48
$(openbgpd_neighbor 192.0.2.1 64512)
$(openbgpd_neighbor 2001:db8::1 64512)
allow from any
allow to any"
wait_until 10 "GoBGP API" nsx gobgp gobgp -u 127.0.0.1 -p 50051 global
nsx gobgp gobgp -u 127.0.0.1 -p 50051 global rib add -a ipv4 198.51.100.128/26
nsx gobgp gobgp -u 127.0.0.1 -p 50051 global rib add -a ipv6 2001:db8:b3::/48

# Theirs, in tabbyd's RIB (best, right next hop and AS path) and kernel.
ours_has() {  # PREFIX NEXT-HOP AS-PATH
	"$TABBYCTL" route show --node=n1 "$1" | grep -qE "^\| $1 +\| $2 +\| $3 +\| [a-zA-Z]+ .*\| \* +\|$" &&
		nsx n1 ip "$([ "${1#*:}" != "$1" ] && echo -6 || echo -4)" route show proto 201 |
			grep -q "^$1 via $2"
}
wait_until 30 "BIRD's IPv4 route in tabbyd" ours_has 198.51.100.0/26 192.0.2.10 65010
wait_until 10 "BIRD's IPv6 route in tabbyd" ours_has 2001:db8:b1::/48 2001:db8::a 65010
wait_until 30 "FRR's IPv4 route in tabbyd" ours_has 198.51.100.64/26 192.0.2.20 65020
wait_until 10 "FRR's IPv6 route in tabbyd" ours_has 2001:db8:b2::/48 2001:db8::14 65020
wait_until 30 "GoBGP's IPv4 route in tabbyd" ours_has 198.51.100.128/26 192.0.2.30 65030
wait_until 10 "GoBGP's IPv6 route in tabbyd" ours_has 2001:db8:b3::/48 2001:db8::1e 65030
wait_until 30 "OpenBGPD's IPv4 route in tabbyd" ours_has 198.51.100.192/26 192.0.2.40 65040
wait_until 10 "OpenBGPD's IPv6 route in tabbyd" ours_has 2001:db8:b4::/48 2001:db8::28 65040
"$TABBYCTL" route show --node=n1

# Ours, and the others' through us, in their RIBs.
bird_route() {  # PREFIX AS-PATH NEXT-HOP
	birdc -s "$T/bird/bird.ctl" show route for "$1" all > "$T/bird.route"
	grep -q "BGP.as_path: $2\$" "$T/bird.route" && grep -q "BGP.next_hop: $3" "$T/bird.route"
}
frr_route() {  # AFI PREFIX AS-PATH NEXT-HOP
	nsx frr vtysh --vty_socket "$T/frr" -c "show bgp $1 unicast $2 json" > "$T/frr.route"
	grep -q "\"string\":\"$3\"" "$T/frr.route" && grep -q "\"ip\":\"$4\"" "$T/frr.route"
}
gobgp_route() {  # AFI PREFIX NEXT-HOP AS-PATH
	nsx gobgp gobgp -u 127.0.0.1 -p 50051 global rib -a "$1" "$2" > "$T/gobgp.route"
	grep -qE "$2 +$3 +$4 " "$T/gobgp.route"
}
openbgpd_route() {  # PREFIX NEXT-HOP AS-PATH
	openbgpd_ctl openbgpd show rib "$1" > "$T/openbgpd.route"
	grep -qE " $1 +$2 +.* $3 i\$" "$T/openbgpd.route"
}
wait_until 10 "BIRD has ours (v4)" bird_route 203.0.113.0/24 64512 192.0.2.1
wait_until 10 "BIRD has ours (v6)" bird_route 2001:db8:a::/48 64512 2001:db8::1
wait_until 10 "BIRD has FRR's through us" bird_route 198.51.100.64/26 "64512 65020" 192.0.2.1
wait_until 20 "FRR has ours (v4)" frr_route ipv4 203.0.113.0/24 64512 192.0.2.1
wait_until 10 "FRR has ours (v6)" frr_route ipv6 2001:db8:a::/48 64512 2001:db8::1
wait_until 10 "FRR has GoBGP's through us" frr_route ipv4 198.51.100.128/26 "64512 65030" 192.0.2.1
wait_until 10 "GoBGP has ours (v4)" gobgp_route ipv4 203.0.113.0/24 192.0.2.1 64512
wait_until 10 "GoBGP has ours (v6)" gobgp_route ipv6 2001:db8:a::/48 2001:db8::1 64512
wait_until 10 "GoBGP has BIRD's through us" gobgp_route ipv4 198.51.100.0/26 192.0.2.1 "64512 65010"
wait_until 10 "OpenBGPD has ours (v4)" openbgpd_route 203.0.113.0/24 192.0.2.1 64512
wait_until 10 "OpenBGPD has ours (v6)" openbgpd_route 2001:db8:a::/48 2001:db8::1 64512
wait_until 10 "OpenBGPD has FRR's through us" openbgpd_route 198.51.100.64/26 192.0.2.1 "64512 65020"
wait_until 10 "BIRD has OpenBGPD's through us" bird_route 198.51.100.192/26 "64512 65040" 192.0.2.1
"$TABBYCTL" status --node=n1 -o json | grep -E '"(remote|prefixes_received|prefixes_sent)"' | paste - - -

# A withdrawal at the source reaches tabbyd's RIB and kernel.
nsx gobgp gobgp -u 127.0.0.1 -p 50051 global rib del -a ipv4 198.51.100.128/26
wait_until 10 "GoBGP's withdrawal: gone from tabbyd's RIB and kernel" bash -c \
	"! '$TABBYCTL' route show --node=n1 | grep -q 198.51.100.128 && ! ip netns exec $(ns_of n1) ip route show proto 201 | grep -q 198.51.100.128"
# --import=none: BIRD's route stays in its Adj-RIB-In but not in the RIB or the kernel.
"$TABBYCTL" node bgp peer add 192.0.2.10 as 65010 --node=n1 --import=none
wait_until 15 "import none: BIRD's route out of the RIB and kernel, kept in the Adj-RIB-In" bash -c \
	"! '$TABBYCTL' route show --node=n1 | grep -q '198.51.100.0/26' && \
	 ! ip netns exec $(ns_of n1) ip route show proto 201 | grep -q '198.51.100.0/26' && \
	 '$BUILD/ctl_query' '$T/n1.sock' adj-rib-in 192.0.2.10 | grep -q '198.51.100.0/26'"
# --export=none: GoBGP gets nothing from us any more.
"$TABBYCTL" node bgp peer add 192.0.2.30 as 65030 --node=n1 --export=none
wait_until 15 "export none: GoBGP has no route from tabbyd" bash -c \
	"ip netns exec $(ns_of gobgp) gobgp -u 127.0.0.1 -p 50051 neighbor 192.0.2.1 | grep -qi 'BGP state = established' && \
	 ! ip netns exec $(ns_of gobgp) gobgp -u 127.0.0.1 -p 50051 global rib -a ipv4 | grep -q 203.0.113.0/24"
echo "routes with BIRD, FRR, GoBGP and OpenBGPD, IPv4 and IPv6: both ways and through; import/export none"
