#!/usr/bin/env bash
# Virtual devices are isolated routers (issue 15). Node n1 (tabbyd, kernel routes on) is on a
# LAN with node n2 (tabbyd, the node-to-node mesh) and a BIRD global peer "g"; n1 originates
# 203.0.113.0/26, g announces 203.0.113.128/26. Two tenants, each with a device on n1 and a
# BIRD of their own behind a veth, both use the page's 192.0.2.1/29 <-> 192.0.2.2 with MD5
# testkey1 (and n1's own LAN address is 192.0.2.1 too). Each tenant BIRD announces its own
# prefix and 0.0.0.0/0. Tenant A's device has a second connection to a third BIRD ("two
# clouds") and a third over IPv6. Checked: both PROVISIONED and Established; each device's kernel table holds only
# its own peers' routes; n1's main table, n2 and g get none of them; the tenants' BIRDs get
# nothing of each other or of the node; A's two clouds reach each other through the device
# with its AS prepended; 101 prefixes past the default limit of 100 close the session with
# Cease/1 and the API says why, and it comes back after the back-off with fewer; a removed
# device leaves no namespace, address or session, and its interface is back on the node;
# SIGTERM (a graceful-restart stop) gives device peers a plain Cease; a device namespace
# left with tabby routes is flushed at start.
. "$(dirname "$0")/netns.bash"
. "$(dirname "$0")/tenants.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
fail() { echo "FAIL: $*" >&2; exit 1; }
lan_up
host_add n1 1
host_add n2 2
host_add g 10
# The tenants' routers, each behind its own veth to n1: pa and pb (the same addresses), pc.
for h in pa pb pc pd; do ip netns add "$(ns_of $h)"; NSS+=("$(ns_of $h)"); nsx $h ip link set lo up; done
i=0
for h in pa pb pc pd; do
	ip link add "c$$-$i" netns "$(ns_of n1)" type veth peer name eth1 netns "$(ns_of $h)"
	nsx n1 ip link set "c$$-$i" name "conn$i"
	nsx n1 ip link set "conn$i" up
	nsx $h ip link set eth1 up
	i=$((i + 1))
done
nsx pa ip addr add 192.0.2.2/29 dev eth1
nsx pb ip addr add 192.0.2.2/29 dev eth1
nsx pc ip addr add 192.0.2.10/29 dev eth1
nsx pd ip addr add 2001:db8:1::2/64 dev eth1 nodad

"$TABBYCTL" node prefix add 203.0.113.0/26 --node=n1
"$TABBYCTL" bgp peer add 192.0.2.10 as 64600
two_tenants
ACON=$(ctl connection create --device="$ADEV" --interface=conn0)
CCON=$(ctl connection create --device="$ADEV" --interface=conn2 --max-prefixes=50)
ctl connection show | grep -E "^\| $CCON .*\| 50 +\|$" > /dev/null || fail "connection show lacks the limit 50"
BCON=$(ctl connection create --device="$BDEV" --interface=conn1)
DCON=$(ctl connection create --device="$ADEV" --interface=conn3)

api_serve "$T/api.log"; API=http://127.0.0.1:$SERVED_PORT
TABBYD_FIB=kernel   # every node in its own test namespace
tabbyd_start n1 n1 1 --metrics 192.0.2.1:9179
tabbyd_start n2 n2 2
bird_start g g "router id 192.0.2.10;
log stderr all;
protocol device {}
protocol static { ipv4; route 203.0.113.128/26 blackhole; }
protocol bgp n1 { local 192.0.2.10 as 64600; neighbor 192.0.2.1 as 64512;
	connect retry time 1; ipv4 { import all; export all; }; }"
tenant_bird() {  # HOST NAME LOCAL-AS NEIGHBOUR-AS LOCAL REMOTE PASSWORD STATIC-ROUTES [OPTIONS]
	bird_start "$1" "$2" "router id $5;
log stderr all;
protocol device {}
protocol static { ipv4; $8 }
protocol bgp cloud { local $5 as $3; neighbor $6 as $4; ${7:+password \"$7\";}
	hold time 9; connect retry time 1; error wait time 1,2; ${9:-} ipv4 { import all; export all; }; }"
}
tenant_bird pa a 10013 10012 192.0.2.2 192.0.2.1 testkey1 \
	"route 198.51.100.0/25 blackhole; route 0.0.0.0/0 blackhole;"
tenant_bird pb b 10013 10022 192.0.2.2 192.0.2.1 testkey1 \
	"route 198.51.100.128/25 blackhole; route 0.0.0.0/0 blackhole;"
tenant_bird pc c 10033 10012 192.0.2.10 192.0.2.9 "" "route 203.0.113.64/26 blackhole;" \
	"graceful restart on;"
# Tenant A's third cloud speaks IPv6 (the provider's Terraform resource cannot).
bird_start pd d "router id 198.51.100.4;
log stderr all;
protocol device {}
protocol static { ipv6; route 2001:db8:ff::/48 blackhole; }
protocol bgp cloud { local 2001:db8:1::2 as 10043; neighbor 2001:db8:1::1 as 10012;
	hold time 9; connect retry time 1; error wait time 1,2; ipv6 { import all; export all; }; }"
for _ in $(seq 50); do curl -s -o /dev/null "$API/" && break; sleep 0.1; done

AT=$(token "$AID" "$ASEC"); BT=$(token "$BID" "$BSEC")
uuid_of() { sed 's/.*"uuid":"\([^"]*\)".*/\1/'; }
# GET PATH TOKEN, kept for the check against docs/openapi.yaml (scripts/test sets API_RECORD).
record() {
	local body code
	body=$(curl -s -w '\n%{http_code}' "$API$1" -H "Authorization: Bearer $2")
	code=${body##*$'\n'}; body=${body%$'\n'*}
	[ -z "${API_RECORD:-}" ] || printf '{"method":"GET","path":"%s","status":%s,"body":%s}\n' "$1" "$code" "$body" >> "$API_RECORD"
	echo "$body"
}

# Both tenants make the page's request, on their own connections.
page() { echo "{\"authenticationKey\":\"testkey1\",\"connectionUuid\":\"$1\",\"localAsn\":$2,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}"; }
AP=$(api POST /ne/v1/bgp "$AT" "$(page "$ACON" 10012)" | uuid_of)
BP=$(api POST /ne/v1/bgp "$BT" "$(page "$BCON" 10022)" | uuid_of)
CP=$(api POST /ne/v1/bgp "$AT" "{\"connectionUuid\":\"$CCON\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.9/29\",\"remoteAsn\":10033,\"remoteIpAddress\":\"192.0.2.10\"}" | uuid_of)
wait_until 20 "tenant A: PROVISIONED and Established" is "$AP" "$AT" PROVISIONED Established
wait_until 20 "tenant B: PROVISIONED and Established (the same addresses)" is "$BP" "$BT" PROVISIONED Established
wait_until 20 "tenant A's second cloud: PROVISIONED and Established" is "$CP" "$AT" PROVISIONED Established
for b in a b c; do wait_until 10 "BIRD $b agrees" bird_up "$b" cloud; done
wait_until 20 "BIRD g and n2 up with n1" bash -c "birdc -s '$T/g/bird.ctl' show protocols n1 | grep -q Established"

# Positive controls first, so that the absences below mean something: the node's own
# routes do travel (n2 and g learn 203.0.113.0/26, n1 learns g's 203.0.113.128/26), and
# each device's kernel table has its own peer's routes.
bird_has() { birdc -s "$T/$1/bird.ctl" show route "$2" | grep -q "^$2 "; }
wait_until 20 "g learned n1's own prefix" bird_has g 203.0.113.0/26
wait_until 20 "n2 learned n1's own prefix" bash -c "'$TABBYCTL' route show --node=n2 | grep -q 203.0.113.0/26"
wait_until 20 "n1 learned g's prefix" bash -c "ip netns exec $(ns_of n1) ip route show proto 201 | grep -q 203.0.113.128/26"
dev_route() { devx n1 "$1" ip route show proto 201 | grep -q "^$2 via $3"; }
wait_until 20 "device A's table: A's prefix" dev_route "$ADEV" 198.51.100.0/25 192.0.2.2
wait_until 20 "device A's table: A's default" dev_route "$ADEV" default 192.0.2.2
wait_until 20 "device A's table: the second cloud's prefix" dev_route "$ADEV" 203.0.113.64/26 192.0.2.10
wait_until 20 "device B's table: B's prefix" dev_route "$BDEV" 198.51.100.128/25 192.0.2.2
wait_until 20 "device B's table: B's default" dev_route "$BDEV" default 192.0.2.2
echo "--- device A's kernel table"; devx n1 "$ADEV" ip route show
echo "--- device B's kernel table"; devx n1 "$BDEV" ip route show
# The kernel route metrics add up the node's table and the devices' tables.
ops=$(nsx n1 curl -sf --max-time 2 http://192.0.2.1:9179/metrics | awk '$1 == "tabby_kernel_route_operations_total" { print $2 }')
tables=$(( $(nsx n1 ip route show proto 201 | wc -l) + $(devx n1 "$ADEV" ip route show proto 201 | wc -l) + $(devx n1 "$BDEV" ip route show proto 201 | wc -l) ))
echo "kernel route changes counted: ${ops:-?}; routes in the node's and the devices' tables: $tables"
[ -n "$ops" ] && [ "$ops" -ge "$tables" ] || fail "tabby_kernel_route_operations_total ${ops:-?} < $tables routes in the node's and devices' tables"

# Two clouds: each of A's routers gets the other's routes through the device, AS prepended.
wait_until 20 "cloud c got cloud a's prefix" bird_has c 198.51.100.0/25
wait_until 20 "cloud a got cloud c's prefix" bird_has a 203.0.113.64/26
birdc -s "$T/c/bird.ctl" show route 198.51.100.0/25 all | tee "$T/c.route" | grep -q "BGP.as_path: 10012 10013" ||
	{ cat "$T/c.route"; fail "cloud c: path is not 10012 10013"; }
birdc -s "$T/a/bird.ctl" show route 203.0.113.64/26 all | grep -q "BGP.as_path: 10012 10033" ||
	fail "cloud a: path is not 10012 10033"

# The device forwards between its connections: cloud a's router reaches cloud c's through it.
nsx pa ip route add 192.0.2.8/29 via 192.0.2.1
nsx pc ip route add 192.0.2.0/29 via 192.0.2.9
nsx pc "$BUILD/tcp_probe" listen 192.0.2.10 7777 > "$T/probe.out" &
PIDS+=($!)
sleep 0.3
nsx pa "$BUILD/tcp_probe" connect 192.0.2.2 192.0.2.10 7777 | grep -q "hello from 192.0.2.10" ||
	fail "no TCP from cloud a to cloud c through device A"

# Isolation: nothing of a tenant anywhere else. (Checked for a while: routes would have come
# within the time the positive controls took.)
leaked() {
	devx n1 "$ADEV" ip route show | grep -q 198.51.100.128 && { echo "B's route in device A"; return 0; }
	devx n1 "$BDEV" ip route show | grep -qE "198.51.100.0/25|203.0.113" && { echo "A's or the node's route in device B"; return 0; }
	devx n1 "$ADEV" ip route show | grep -qE "203.0.113.(0|128)/26" && { echo "the node's routes in device A"; return 0; }
	nsx n1 ip route show | grep -qE "198.51.100|^default .*proto 201" && { echo "a tenant route in n1's main table"; return 0; }
	nsx n1 ip route show | grep -q "203.0.113.64/26" && { echo "cloud c's route in n1's main table"; return 0; }
	"$TABBYCTL" route show --node=n1 | grep -qE "198.51.100|0.0.0.0/0|203.0.113.64" && { echo "a tenant route in n1's RIB"; return 0; }
	"$TABBYCTL" route show --node=n2 | grep -qE "198.51.100|0.0.0.0/0|203.0.113.64" && { echo "a tenant route at n2 (mesh)"; return 0; }
	for r in 198.51.100.0/25 198.51.100.128/25 0.0.0.0/0 203.0.113.64/26; do
		bird_has g $r && { echo "$r at the global peer"; return 0; }
	done
	for r in 198.51.100.128/25 203.0.113.0/26 203.0.113.128/26; do
		bird_has a $r && { echo "$r at tenant A's BIRD"; return 0; }
	done
	for r in 198.51.100.0/25 203.0.113.0/26 203.0.113.128/26 203.0.113.64/26; do
		bird_has b $r && { echo "$r at tenant B's BIRD"; return 0; }
	done
	return 1
}
if leaked; then fail "a route leaked"; fi
never_within 4 "any route leaked out of its device" leaked

# Seeing it: the device's routes, its sessions under it, its table size through the API.
"$TABBYCTL" route show --device="$ADEV" | tee "$T/routes.a"
grep -qE "^\| 198\.51\.100\.0/25 +\| 192\.0\.2\.2 +\| 10013 " "$T/routes.a" || fail "route show --device lacks A's route"
grep -q "198.51.100.128" "$T/routes.a" && fail "route show --device=A shows B's route"
"$TABBYCTL" route show --device="$BDEV" 0.0.0.0/0 | grep -qE "^\| 0\.0\.0\.0/0 +\| 192\.0\.2\.2 " || fail "route show --device=B 0.0.0.0/0"
"$TABBYCTL" route show --device=nonsense 2>&1 | grep -q "device UUID is accepted" || fail "route show --device=nonsense"
"$TABBYCTL" status --node=n1 | tee "$T/status"
sed -n "/virtual device $ADEV/,/^\$/p" "$T/status" > "$T/status.a"
grep -cE "^\| 192\.0\.2\.(2|10) +\| connection +\| up " "$T/status.a" | grep -qx 2 || fail "status: A's two peerings not under A"
sed -n "/^IPv4 BGP status\$/,/^\$/p" "$T/status" | grep -q connection && fail "status: a device's peering among the node's"
wait_until 10 "GET device A: routing table size (3 IPv4 routes)" bash -c \
	"curl -s '$API/ne/v1/devices/$ADEV' -H 'Authorization: Bearer $AT' | grep -q '\"routingTableSize\":{\"ipv4\":3,\"ipv6\":0}'"
record "/ne/v1/devices/$ADEV" "$AT"
record "/ne/v1/connections/$CCON" "$AT" | grep -q '"maxPrefixes":50' || fail "GET connection lacks maxPrefixes"
record "/ne/v1/bgp/$AP" "$AT" > /dev/null

# The prefix limit (default 100): tenant B's router announces 101 prefixes.
statics() { for k in $(seq 0 $(($1 - 1))); do echo "route 198.18.$k.0/24 blackhole;"; done; }
sed -i "s|route 198.51.100.128/25 blackhole;|$(statics 101 | tr '\n' ' ')|" "$T/b/bird.conf"
birdc -s "$T/b/bird.ctl" configure > /dev/null
wait_until 20 "BIRD b: Cease/1 (Maximum number of prefixes reached)" bash -c \
	"birdc -s '$T/b/bird.ctl' show protocols all cloud | grep -q 'Received: Maximum number of prefixes reached'"
# The status reaches the store from tabbyd's writer thread, a moment after BIRD has the Cease.
says_why() { record "/ne/v1/bgp/$BP" "$BT" > "$T/bp.json" && grep -q '"stateReason":"[^"]*prefix' "$T/bp.json"; }
wait_until 10 "GET says why the session is down (the prefix limit)" says_why ||
	{ cat "$T/bp.json"; fail "GET does not say why the session is down"; }
cat "$T/bp.json"
is "$AP" "$AT" PROVISIONED Established || fail "tenant A disturbed by B's limit"
sed -i "s|route 198.18.[0-9]*.0/24 blackhole; ||g; s|protocol static { ipv4; |protocol static { ipv4; route 198.51.100.128/25 blackhole; |" "$T/b/bird.conf"
birdc -s "$T/b/bird.ctl" configure > /dev/null
wait_until 40 "tenant B back after the back-off with fewer prefixes" is "$BP" "$BT" PROVISIONED Established
wait_until 10 "device B's table: B's prefix again" dev_route "$BDEV" 198.51.100.128/25 192.0.2.2

# The operator lowers B's connection limit to 1 (tabbyctl connection update): B sends 2.
ctl connection update "$BCON" --max-prefixes=1 > /dev/null
wait_until 10 "GET: the session is down at the operator's limit of 1" bash -c \
	"curl -s '$API/ne/v1/bgp/$BP' -H 'Authorization: Bearer $BT' | grep -q '\"stateReason\":\"[^\"]*limit 1, received 2'"
ctl connection update "$BCON" --max-prefixes=0x > /dev/null 2>&1 && fail "--max-prefixes=0x accepted"

# IPv6 through the API, end to end: tenant A's third connection.
DP=$(api POST /ne/v1/bgp "$AT" "{\"connectionUuid\":\"$DCON\",\"localAsn\":10012,\"localIpAddress\":\"2001:db8:1::1/64\",\"remoteAsn\":10043,\"remoteIpAddress\":\"2001:db8:1::2\"}" | uuid_of)
wait_until 20 "IPv6 peering: PROVISIONED and Established" is "$DP" "$AT" PROVISIONED Established
wait_until 10 "BIRD d agrees" bird_up d cloud
wait_until 20 "device A's table: the IPv6 cloud's prefix" bash -c \
	"nsenter -t ${PID_OF[n1]} -m ip netns exec $(dev_ns "$ADEV") ip -6 route show proto 201 | grep -q '^2001:db8:ff::/48 via 2001:db8:1::2'"
nsx n1 ip -6 route show | grep -q 2001:db8:ff:: && fail "the IPv6 tenant route is in n1's main table"
"$TABBYCTL" route show --node=n2 | grep -q 2001:db8:ff:: && fail "the IPv6 tenant route reached n2"

# A PUT to another localIpAddress: the old address leaves conn2, the new one is there;
# and back, re-established with cloud c.
cput() { api PUT "/ne/v1/bgp/$CP" "$AT" "{\"localAsn\":10012,\"localIpAddress\":\"$1\",\"remoteAsn\":10033,\"remoteIpAddress\":\"192.0.2.10\"}" > /dev/null; }
addr_on() { devx n1 "$ADEV" ip -4 addr show conn2 | grep -q "inet $1 "; }
cput 192.0.2.11/29
wait_until 10 "192.0.2.11/29 on conn2" addr_on 192.0.2.11/29
addr_on 192.0.2.9/29 && fail "the old address 192.0.2.9/29 stayed on conn2"
cput 192.0.2.9/29
wait_until 20 "back on 192.0.2.9/29 and Established with cloud c" is "$CP" "$AT" PROVISIONED Established
addr_on 192.0.2.11/29 && fail "192.0.2.11/29 stayed on conn2"

# Removing device B: its session, namespace and address go, conn1 is back on the node.
BNS=$(dev_ns "$BDEV")
nsenter -t "${PID_OF[n1]}" -m test -e "/run/netns/$BNS" || fail "no namespace $BNS while B exists"
ctl device remove "$BDEV" > /dev/null
# (B's session is down at its limit here; a DELETE's Cease is api_peering.sh's.)
wait_until 10 "B's session gone from n1's status" bash -c "! '$TABBYCTL' status --node=n1 -o json | grep -q '$BDEV'"
wait_until 10 "conn1 back in n1's namespace" nsx n1 ip link show conn1
wait_until 10 "namespace $BNS removed" bash -c "! nsenter -t ${PID_OF[n1]} -m test -e /run/netns/$BNS"
[ -e "/run/netns/$BNS" ] && fail "/run/netns/$BNS left on the host"
nsx n1 ip addr show conn1 | grep -q "192.0.2.1/29" && fail "B's address still on conn1"
is "$AP" "$AT" PROVISIONED Established || fail "tenant A disturbed by B's removal"

# tabbyd stopping takes device A's namespace with it and gives its interfaces back. SIGTERM
# is a graceful-restart stop for the node's peers, but a device's routes go with its
# namespace: its peers get a plain Cease, never a restart to wait for (tenant BIRD c has
# graceful restart on and would keep our routes stale).
ANS=$(dev_ns "$ADEV")
bird_up c cloud || fail "BIRD c not up before the stop"
kill "${PID_OF[n1]}"; wait "${PID_OF[n1]}" || true
grep -q "kernel routes kept for the restart" "$T/n1.log" || fail "SIGTERM was no restart stop for the node"
wait_until 10 "BIRD c: the session is down" bash -c "! birdc -s '$T/c/bird.ctl' show protocols cloud | grep -q Established"
wait_until 5 "BIRD c dropped the routes it had through device A (none kept stale)" bash -c \
	"! birdc -s '$T/c/bird.ctl' show route 198.51.100.0/25 | grep -q '^198.51.100.0/25 '"
grep -q "Neighbor graceful restart detected" "$T/c/bird.log" &&
	fail "device A's peer took tabbyd's stop as a graceful restart (its namespace is gone)"
grep -q "cloud: Received: Administrative shutdown" "$T/c/bird.log" ||
	fail "BIRD c got no Cease from device A (a silent close is a graceful-restart signal)"
nsx n1 ip link show conn0 > /dev/null || fail "conn0 not back on the node after tabbyd stopped"
nsx n1 ip link show conn2 > /dev/null || fail "conn2 not back on the node after tabbyd stopped"
nsx n1 ip link show conn3 > /dev/null || fail "conn3 not back on the node after tabbyd stopped"
[ -e "/run/netns/$ANS" ] && fail "/run/netns/$ANS left behind"

# A device's namespace with an earlier run's route (as a run that died could leave it) is
# taken over and flushed at start: the device's instance does not restart gracefully.
ip netns add "$ANS"; NSS+=("$ANS")
ip netns exec "$ANS" ip link set lo up
ip netns exec "$ANS" ip route add 203.0.113.99/32 dev lo scope global proto 201 metric 40
tabbyd_start n1 n1 1
wait_until 30 "tenant A Established again after the restart" is "$AP" "$AT" PROVISIONED Established
grep -q "device $ADEV: removed 1 kernel routes of an earlier run" "$T/n1.log" ||
	fail "device A's namespace was not flushed at start"
wait_until 10 "the earlier run's route gone from device A's namespace" bash -c \
	"! ip netns exec '$ANS' ip route show proto 201 | grep -q 203.0.113.99"
wait_until 20 "device A's table: A's prefix again" dev_route "$ADEV" 198.51.100.0/25 192.0.2.2
echo "devices isolated: overlapping tenants Established, own kernel tables, nothing leaked, two clouds via the device, Cease/1 past 100 prefixes and back, device removal cleans up, a restart stop Ceases device peers, a left device namespace is flushed"
