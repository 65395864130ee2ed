#!/usr/bin/env bash
# API peerings carried out by a node agent (the reference page's request, for real):
# tabbyd on node n1 whose connection interfaces are bare, BIRD as the provider's router at
# 192.0.2.2 (AS 10013, MD5 testkey1) and, for a second tenant, at 192.0.2.10 (AS 10023).
# POST -> PROVISIONED and Established (BIRD agrees), the address put on the interface;
# a wrong key never comes up; PUT to a new remote AS -> PENDING_UPDATE -> PROVISIONED,
# re-established; a missing interface -> FAILED with the reason; DELETE -> Cease, address
# removed, 404; two tenants see only their own.
. "$(dirname "$0")/netns.bash"
. "$(dirname "$0")/tenants.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
fail() { echo "FAIL: $*" >&2; exit 1; }
for h in n1 prov; do ip netns add "$(ns_of $h)"; NSS+=("$(ns_of $h)"); nsx $h ip link set lo up; done
ip link add "a$$" netns "$(ns_of n1)" type veth peer name eth1 netns "$(ns_of prov)"
ip link add "b$$" netns "$(ns_of n1)" type veth peer name eth2 netns "$(ns_of prov)"
nsx n1 ip link set "a$$" name conn0; nsx n1 ip link set "b$$" name conn1
nsx n1 ip link set conn0 up; nsx n1 ip link set conn1 up
nsx prov ip addr add 192.0.2.2/29 dev eth1; nsx prov ip addr add 192.0.2.10/29 dev eth2
nsx prov ip link set eth1 up; nsx prov ip link set eth2 up

two_tenants
ACON=$(ctl connection create --device="$ADEV" --interface=conn0)
AMISS=$(ctl connection create --device="$ADEV" --interface=nosuch0)
BCON=$(ctl connection create --device="$BDEV" --interface=conn1)

api_serve "$T/api.log"; API=http://127.0.0.1:$SERVED_PORT
ip netns exec "$(ns_of n1)" "$BUILD/tabbyd" --node n1 --router-id 198.51.100.1 --as 64512 \
	--control "$T/n1.sock" --no-fib --log-level debug >> "$T/n1.log" 2>&1 &
PIDS+=($!); PID_OF[n1]=$!
bird_conf() { echo "router id 192.0.2.2;
log stderr all;
protocol device {}
protocol bgp a { local 192.0.2.2 as $1; neighbor 192.0.2.1 as 10012; password \"$2\";
	hold time 9; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }
protocol bgp b { local 192.0.2.10 as 10023; neighbor 192.0.2.9 as 10022;
	connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"; }
bird_start prov bird "$(bird_conf 10013 testkey1)"
for _ in $(seq 50); do curl -s -o /dev/null "$API/" && break; sleep 0.1; done

AT=$(token "$AID" "$ASEC"); BT=$(token "$BID" "$BSEC")

# The reference page's request.
REQ="{\"authenticationKey\":\"testkey1\",\"connectionUuid\":\"$ACON\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}"
AP=$(api POST /ne/v1/bgp "$AT" "$REQ" | sed 's/.*"uuid":"\(.*\)".*/\1/')
wait_until 15 "PROVISIONED and Established" is "$AP" "$AT" PROVISIONED Established
wait_until 5 "BIRD agrees" bird_up bird a
# The connection's interface is in the device's namespace now, with the address.
devx n1 "$ADEV" ip addr show conn0 | grep -q "inet 192.0.2.1/29" || fail "address not on conn0"
api GET "/ne/v1/bgp/$AP" "$AT"; echo
"$TABBYCTL" status --node=n1 | tee "$T/st"
grep -qE '^\| 192\.0\.2\.2 +\| connection +\| up ' "$T/st" || fail "status lacks the connection peering"

# A second tenant, its own connection, no key; each sees only its own.
BP=$(api POST /ne/v1/bgp "$BT" "{\"connectionUuid\":\"$BCON\",\"localAsn\":10022,\"localIpAddress\":\"192.0.2.9/29\",\"remoteAsn\":10023,\"remoteIpAddress\":\"192.0.2.10\"}" | sed 's/.*"uuid":"\(.*\)".*/\1/')
wait_until 15 "second tenant: PROVISIONED and Established" is "$BP" "$BT" PROVISIONED Established
wait_until 5 "BIRD agrees (b)" bird_up bird b
api GET "/ne/v1/bgp/$BP" "$AT" | grep -q "Access Denied" || fail "tenant A read B's peering"
api GET /ne/v1/bgp "$AT" | grep -q '"total":1' || fail "A's list is not only A's"

# A wrong key never gets Established.
api PUT "/ne/v1/bgp/$AP" "$AT" '{"authenticationKey":"wrongkey9","localAsn":10012,"localIpAddress":"192.0.2.1/29","remoteAsn":10013,"remoteIpAddress":"192.0.2.2"}' > /dev/null
wait_until 10 "wrong key applied" is "$AP" "$AT" PROVISIONED
never_within 8 "Established with the wrong key" bash -c \
	"birdc -s '$T/bird/bird.ctl' show protocols all a | grep -q 'BGP state: *Established'"

# PUT to a new remote AS (the router moved to AS 10014, key back): PENDING_UPDATE while the
# agent has not applied it (held with SIGSTOP), then PROVISIONED and re-established.
bird_conf 10014 testkey1 > "$T/bird/bird.conf"; birdc -s "$T/bird/bird.ctl" configure > /dev/null
kill -STOP "${PID_OF[n1]}"
api PUT "/ne/v1/bgp/$AP" "$AT" '{"authenticationKey":"testkey1","localAsn":10012,"localIpAddress":"192.0.2.1/29","remoteAsn":10014,"remoteIpAddress":"192.0.2.2"}' > /dev/null
is "$AP" "$AT" PENDING_UPDATE || fail "not PENDING_UPDATE while unapplied: $(status_of "$AP" "$AT")"
kill -CONT "${PID_OF[n1]}"
wait_until 20 "PUT applied: PROVISIONED and Established with AS 10014" is "$AP" "$AT" PROVISIONED Established
wait_until 5 "BIRD agrees" bird_up bird a

# A connection on a missing interface: FAILED, with the reason.
MP=$(api POST /ne/v1/bgp "$AT" "{\"connectionUuid\":\"$AMISS\",\"localAsn\":10012,\"localIpAddress\":\"198.51.100.1/30\",\"remoteAsn\":10013,\"remoteIpAddress\":\"198.51.100.2\"}" | sed 's/.*"uuid":"\(.*\)".*/\1/')
wait_until 10 "missing interface: FAILED" is "$MP" "$AT" FAILED
api GET "/ne/v1/bgp/$MP" "$AT" | grep -q '"provisioningError":"interface nosuch0 does not exist on the connection.s node"' || fail "no reason"

# DELETE: Cease to the router, the address removed, then 404.
api DELETE "/ne/v1/bgp/$AP" "$AT" | grep -q DEPROVISIONING || fail "DELETE not DEPROVISIONING"
wait_until 10 "BIRD: Cease (Peer de-configured)" grep -q "Received: Peer de-configured" "$T/bird/bird.log"
wait_until 10 "gone: 404" bash -c "curl -s -o /dev/null -w '%{http_code}' '$API/ne/v1/bgp/$AP' -H 'Authorization: Bearer $AT' | grep -q 404"
wait_until 5 "conn0 back in the node's namespace" nsx n1 ip link show conn0
nsx n1 ip addr show conn0 | grep -q "192.0.2.1/29" && fail "address still on conn0"
is "$BP" "$BT" PROVISIONED Established || fail "the other tenant's peering was disturbed"
echo "API peerings: PROVISIONED/Established with MD5, wrong key never up, PUT re-established, FAILED with reason, DELETE with Cease, two tenants"
