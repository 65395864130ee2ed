#!/usr/bin/env bash
# tabby across machines on a real etcd cluster: three etcd members, each in its own
# namespace on the test LAN (192.0.2.11-13); a populated SQLite store migrated into it
# (every key and value identical, checked through backups of both); three tabbyd nodes
# (192.0.2.1-3) with the mesh on, each originating a prefix: all sessions Established,
# prefixes in every RIB and kernel, TCP across; tabbyctl status and route show from a
# fifth namespace (192.0.2.20) against the same etcd. Then the whole cluster is down for
# 30 s: sessions stay up past two hold times (6 s here), routes stay; when etcd is back,
# a peer added then is applied within 5 s and the status records are there again.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
fail() { echo "FAIL: $*" >&2; exit 1; }
need_etcd

lan_up
for i in 1 2 3; do host_add "e$i" $((10 + i)); done
host_add c 20
initial=e1=http://192.0.2.11:2380,e2=http://192.0.2.12:2380,e3=http://192.0.2.13:2380
etcd_start() {  # MEMBER N
	ip netns exec "$(ns_of "$1")" etcd --name "$1" --data-dir "$T/$1.etcd" \
		--listen-client-urls "http://192.0.2.$2:2379" --advertise-client-urls "http://192.0.2.$2:2379" \
		--listen-peer-urls "http://192.0.2.$2:2380" --initial-advertise-peer-urls "http://192.0.2.$2:2380" \
		--initial-cluster "$initial" --initial-cluster-token "tby$$" --log-level warn \
		>> "$T/$1.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$1]=$!
}
for i in 1 2 3; do etcd_start "e$i" $((10 + i)); done
ETCD=etcd://192.0.2.11:2379,192.0.2.12:2379,192.0.2.13:2379

# Every tabbyctl below runs in the fifth namespace, against etcd.
printf '#!/bin/sh\nexec ip netns exec %s env TABBY_DATASTORE=%s %s "$@"\n' "$(ns_of c)" "$ETCD" \
	"$BUILD/tabbyctl" > "$T/tabbyctl"
chmod +x "$T/tabbyctl"
TABBYCTL=$T/tabbyctl
wait_until 30 "the etcd cluster answers" "$TABBYCTL" bgp node-mesh

# The configuration is made in a SQLite store first, then migrated.
SEED=sqlite:$T/seed.db
for i in 1 2 3; do
	"$BUILD/tabbyctl" --datastore="$SEED" node --ip="$(v4 "$i")" --ip6="$(v6 "$i")" --node="n$i"
	"$BUILD/tabbyctl" --datastore="$SEED" node prefix add "203.0.113.$((i * 64 - 64))/26" --node="n$i"
done
"$BUILD/tabbyctl" --datastore="$SEED" bgp default-node-as 64512
"$BUILD/tabbyctl" --datastore="$SEED" bgp peer add 198.51.100.7 as 65007 --password=key-one --max-prefixes=10
"$BUILD/tabbyctl" --datastore="$SEED" bgp peer remove 198.51.100.7
"$BUILD/tabbyctl" --datastore="$SEED" bgp peer add 198.51.100.9 as 65009 --password=key-two
"$TABBYCTL" datastore migrate --from="$SEED" --to="$ETCD" | tee "$T/migrate.out"
grep -q "^Copied 8 keys" "$T/migrate.out"
# A second migrate would mix two configurations: refused.
if "$TABBYCTL" datastore migrate --from="$SEED" --to="$ETCD" 2> "$T/again.err"; then
	fail "a second migrate into a non-empty etcd was accepted"
fi
grep -q "already holds 8 keys" "$T/again.err"
"$BUILD/tabbyctl" --datastore="$SEED" datastore backup "$T/seed.json"
"$TABBYCTL" datastore backup "$T/etcd.json"
keys_of() { python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["keys"]))' "$1"; }
cmp <(keys_of "$T/seed.json") <(keys_of "$T/etcd.json") ||
	fail "the keys in etcd differ from the SQLite store's"
echo "migrate: 8 keys, identical in etcd"
"$TABBYCTL" bgp peer remove 198.51.100.9

TABBYD_FIB=kernel
for i in 1 2 3; do
	host_add "n$i" "$i"
	nsx "n$i" ip link add dummy0 type dummy 2>/dev/null || nsx "n$i" ip link add dummy0 type bridge
	nsx "n$i" ip addr add "203.0.113.$((i * 64 - 63))/26" dev dummy0
	nsx "n$i" ip link set dummy0 up
	TABBY_DATASTORE=$ETCD tabbyd_start "n$i" "n$i" "$i" --hold-time 6
done
all_up() {
	for i in 1 2 3; do for j in 1 2 3; do
		[ $i = $j ] || tabby_up "n$i" "192.0.2.$j" || return 1
	done; done
}
learned() {  # NODE PREFIX NEXT-HOP: best in route show and in the kernel
	"$TABBYCTL" route show --node="$1" "$2" | grep -qE "^\| $2 +\| $3 .*\| \* +\|$" &&
		nsx "$1" ip route show proto 201 | grep -q "^$2 via $3"
}
all_learned() {
	for i in 1 2 3; do for j in 1 2 3; do
		[ $i = $j ] || learned "n$i" "203.0.113.$((j * 64 - 64))/26" "192.0.2.$j" || return 1
	done; done
}
wait_until 30 "every mesh session Established" all_up
wait_until 20 "every node's prefix in every other node's RIB and kernel" all_learned
"$TABBYCTL" status --node=n1
"$TABBYCTL" route show --node=n2
probe() {  # FROM-NODE FROM-ADDR TO-NODE TO-ADDR
	nsx "$3" "$BUILD/tcp_probe" listen "$4" 7777 > "$T/probe.out" &
	PIDS+=($!)
	sleep 0.3
	nsx "$1" "$BUILD/tcp_probe" connect "$2" "$4" 7777 | grep -q "hello from $4"
}
probe n1 203.0.113.1 n3 203.0.113.129
echo "three nodes on etcd: mesh up, prefixes in RIBs and kernels, TCP across"

# tabby-api in a namespace of its own, on the same etcd: the reference page's request,
# carried out by n3 on its interface conn0 towards the provider's BIRD (MD5 testkey1).
host_add a 21
ip netns add "$(ns_of prov)" && NSS+=("$(ns_of prov)")
ip link add "p$$" netns "$(ns_of n3)" type veth peer name eth1 netns "$(ns_of prov)"
nsx n3 ip link set "p$$" name conn0
nsx n3 ip link set conn0 up
nsx prov ip addr add 198.51.100.2/29 dev eth1
nsx prov ip link set eth1 up
bird_start prov provbird "router id 198.51.100.2;
protocol device {}
protocol bgp a { local 198.51.100.2 as 10013; neighbor 198.51.100.1 as 10012; password \"testkey1\";
	hold time 9; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"
ip netns exec "$(ns_of a)" "$BUILD/tabby-api" --listen 192.0.2.21:8080 --insecure-http \
	--datastore "$ETCD" >> "$T/api.log" 2>&1 &
PIDS+=($!)
API=http://192.0.2.21:8080
CL=$("$TABBYCTL" api-client create acme -o json)
# field NAME: that field of the JSON object on standard input.
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
CID=$(echo "$CL" | field client_id)
CSEC=$(echo "$CL" | field client_secret)
DEV=$("$TABBYCTL" device create --node=n3 --owner="$CID"); DEVNS+=("$(dev_ns "$DEV")")
CON=$("$TABBYCTL" connection create --device="$DEV" --interface=conn0)
wait_until 10 "tabby-api answers" nsx c curl -s -o /dev/null "$API/"
TOK=$(nsx c curl -s -u "$CID:$CSEC" -d grant_type=client_credentials "$API/oauth2/v1/token" | field access_token)
api() { nsx c curl -s -X "$1" "$API$2" -H "Authorization: Bearer $TOK" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
REQ="{\"authenticationKey\":\"testkey1\",\"connectionUuid\":\"$CON\",\"localAsn\":10012,\"localIpAddress\":\"198.51.100.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"198.51.100.2\"}"
UUID=$(api POST /ne/v1/bgp "$REQ" | field uuid)
provisioned() {
	api GET "/ne/v1/bgp/$UUID" | python3 -c 'import json, sys; d = json.load(sys.stdin)
sys.exit(0 if d["provisioningStatus"] == "PROVISIONED" and d["state"] == "Established" else 1)'
}
wait_until 20 "the API's peering PROVISIONED and Established on n3" provisioned
wait_until 5 "the provider's BIRD agrees" bird_up provbird a
# The device is a router of its own: conn0 now lives in its namespace, with the address.
devx n3 "$DEV" ip addr show conn0 | grep -q "inet 198.51.100.1/29" || fail "the peering's address is not on conn0 in the device's namespace"
api GET "/ne/v1/bgp/$UUID"
echo
echo "tabby-api on etcd: the reference page's peering carried out by n3"

# The whole etcd cluster down for 30 s.
downs() { cat "$T"/n[123].log | grep -c "session down" || true; }
downs_before=$(downs)
for i in 1 2 3; do { kill -9 "${PID_OF[e$i]}" && wait "${PID_OF[e$i]}"; } 2> /dev/null || true; done
down_since=$SECONDS
while [ $((SECONDS - down_since)) -lt 30 ]; do
	for i in 1 2 3; do for j in 1 2 3; do
		[ $i = $j ] && continue
		nsx "n$i" ip route show proto 201 | grep -q "^203.0.113.$((j * 64 - 64))/26 via 192.0.2.$j" ||
			fail "n$i lost its kernel route to n$j's prefix while etcd was down"
	done; done
	sleep 2
done
if ! "$TABBYCTL" status --node=n1 2> "$T/down.err"; then
	grep -q "cannot reach etcd" "$T/down.err" || fail "no clear error with etcd down: $(cat "$T/down.err")"
fi
cat "$T/down.err"
for i in 1 2 3; do etcd_start "e$i" $((10 + i)); done
wait_until 30 "etcd back" "$TABBYCTL" bgp node-mesh
back=$SECONDS
wait_until 20 "status records published again, every session still up" all_up
[ "$(downs)" = "$downs_before" ] || fail "sessions went down while etcd was down: $(grep "session down" "$T"/n[123].log)"
probe n1 203.0.113.1 n3 203.0.113.129
echo "etcd down 30 s: sessions and routes stayed"

# A change made as soon as etcd is back reaches the node within 5 s.
host_add b 30
bird_start b bird "router id 192.0.2.30;
protocol device {}
protocol bgp t4 { local 192.0.2.30 as 65030; neighbor 192.0.2.1 as 64512; passive on;
	hold time 6; ipv4 { import all; export none; }; }"
"$TABBYCTL" node bgp peer add 192.0.2.30 as 65030 --node=n1
wait_until 5 "n1 applied the peer added after etcd's return (its session in status)" \
	status_row n1 192.0.2.30
wait_until 10 "BIRD's session with n1 Established" bird_up bird t4
wait_until 5 "n1 shows the new peer up" tabby_up n1 192.0.2.30
echo "etcd cluster: migrate, three nodes, status from a fifth namespace, 30 s outage survived"
