#!/usr/bin/env bash
# Route reflection (RFC 4456) as Calico sets it up: the mesh off, every node peering
# with the nodes labelled route-reflector=true, and those with a routeReflectorClusterID.
# 1. One reflector (n1) and three tabbyd clients (n2, n3, n4) plus FRR as a client: every
#    client learns every other client's prefix, with ORIGINATOR_ID the originating client
#    and CLUSTER_LIST the cluster id, next hop unchanged; TCP crosses between clients.
# 2. n2 becomes a second reflector of the same cluster (each drops what the other reflects
#    to it: CLUSTER_LIST); n1 is stopped; the clients keep each other's routes (through
#    n2) and TCP still crosses.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
for i in 1 2 3 4; do
	host_add "n$i" "$i"
	nsx "n$i" ip link add dummy0 type dummy 2>/dev/null || nsx "n$i" ip link add dummy0 type bridge
	nsx "n$i" ip addr add "203.0.113.$((i * 32 - 31))/27" dev dummy0
	nsx "n$i" ip link set dummy0 up
	"$TABBYCTL" node prefix add "203.0.113.$((i * 32 - 32))/27" --node="n$i"
done
host_add frr 20

node() {  # NAME N CLUSTER-ID|"" : a Node manifest, labelled as reflector when it has a cluster id
	echo "apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: $1
$([ -n "$3" ] && echo "  labels:
    route-reflector: 'true'")
spec:
  bgp:
    ipv4Address: 192.0.2.$2/24
    ipv6Address: $(v6 "$2")/64
$([ -n "$3" ] && echo "    routeReflectorClusterID: $3")"
}
"$TABBYCTL" apply -f - <<YAML
$(calico_no_mesh)
---
$(calico_rr_peer)
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: frr-client
spec:
  nodeSelector: route-reflector == 'true'
  peerIP: 192.0.2.20
  asNumber: 64512
---
$(node n1 1 224.0.0.1)
---
$(node n2 2 "")
---
$(node n3 3 "")
---
$(node n4 4 "")
YAML
TABBYD_FIB=kernel
for i in 1 2 3 4; do tabbyd_start "n$i" "n$i" "$i"; done
frr_start frr frr "hostname frr
router bgp 64512
 bgp router-id 192.0.2.20
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 neighbor 192.0.2.1 remote-as 64512
 neighbor 192.0.2.1 timers connect 2
 neighbor 192.0.2.2 remote-as 64512
 neighbor 192.0.2.2 timers connect 2
 address-family ipv4 unicast
  network 198.51.100.0/24
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.2 activate
 exit-address-family"

# The client's best route for PREFIX: next hop, ORIGINATOR_ID and CLUSTER_LIST, and in its kernel.
reflected() {  # NODE PREFIX NEXT-HOP ORIGINATOR CLUSTER-LIST(comma-separated)
	"$TABBYCTL" route show --node="$1" "$2" -o json > "$T/rr.$1.json" || return 1
	python3 - "$T/rr.$1.json" "$2" "$3" "$4" "$5" <<'PY' || return 1
import json, sys
doc, pfx, nh, orig, cl = sys.argv[1:]
def walk(o):
    if isinstance(o, dict):
        yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
ok = [p for p in walk(json.load(open(doc)))
      if p.get("next_hop") == nh and p.get("originator_id") == orig
      and ",".join(p.get("cluster_list", [])) == cl]
sys.exit(0 if ok else 1)
PY
	nsx "$1" ip route show proto 201 | grep -q "^$2 via $3"
}
clients_learn() {  # CLUSTER-LIST: every client has every other client's prefix, reflected
	for i in 2 3 4; do for j in 2 3 4; do
		[ $i = $j ] && continue
		reflected "n$i" "203.0.113.$((j * 32 - 32))/27" "192.0.2.$j" "192.0.2.$j" "$1" || return 1
	done; reflected "n$i" 198.51.100.0/24 192.0.2.20 192.0.2.20 "$1" || return 1; done
}
frr_reflected() {  # PREFIX ORIGINATOR
	nsx frr vtysh --vty_socket "$T/frr" -c "show bgp ipv4 unicast $1 json" > "$T/frr.json"
	python3 - "$T/frr.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
paths = d.get("paths", [])
ok = [p for p in paths if p.get("originatorId") == sys.argv[2]
      and "224.0.0.1" in json.dumps(p.get("clusterList", {}))]
sys.exit(0 if ok else 1)
PY
}
probe() {  # FROM-N TO-N: TCP from one client's dummy address to another's
	nsx "n$2" "$BUILD/tcp_probe" listen "203.0.113.$(($2 * 32 - 31))" 7777 > "$T/probe.out" &
	PIDS+=($!)
	sleep 0.3
	nsx "n$1" "$BUILD/tcp_probe" connect "203.0.113.$(($1 * 32 - 31))" "203.0.113.$(($2 * 32 - 31))" 7777 |
		grep -q "hello from"
}

wait_until 40 "one reflector: every client has every other client's prefix, reflected" clients_learn 224.0.0.1
"$TABBYCTL" route show --node=n2
wait_until 20 "FRR (a client) has n3's prefix reflected" frr_reflected 203.0.113.64/27 192.0.2.3
! status_row n2 192.0.2.3 || die "clients peer with each other: the mesh is on"
probe 2 4 || die "TCP from n2 to n4 across reflected routes"
echo "TCP n2 -> n4: ok"

# A reflector's own loop checks: n1 has no route of its own reflected back to it.
! "$TABBYCTL" route show --node=n1 203.0.113.0/27 | grep -q "192.0.2.[234]" ||
	die "n1 took its own prefix back"

# Two reflectors of one cluster, then one is stopped.
node n2 2 224.0.0.1 | "$TABBYCTL" apply -f -
wait_until 30 "n3 has n4's route from both reflectors" bash -c \
	"'$TABBYCTL' route show --node=n3 -o json 203.0.113.96/27 | grep -o '\"originator_id\": *\"192.0.2.4\"' | wc -l | grep -q '^[2-9]'"
wait_until 40 "two reflectors: clients still learn each other (n3, n4)" bash -c \
	"$(declare -f reflected); T='$T' TABBYCTL='$TABBYCTL' NS_PREFIX='$NS_PREFIX'; $(declare -f ns_of nsx); \
	 reflected n3 203.0.113.96/27 192.0.2.4 192.0.2.4 224.0.0.1 && reflected n4 203.0.113.64/27 192.0.2.3 192.0.2.3 224.0.0.1"
# RFC 4456 §8: n2 drops what n1 reflects to it (its own cluster id in CLUSTER_LIST), so
# n3's route at n2 comes from n3 only.
"$TABBYCTL" route show --node=n2 203.0.113.64/27 -o json > "$T/n2.json"
grep -q '"from": *"192.0.2.3"' "$T/n2.json" || die "n2 lacks n3's route"
! grep -q '"from": *"192.0.2.1"' "$T/n2.json" || die "n2 took a route reflected inside its cluster"
kill "${PID_OF[n1]}"
wait "${PID_OF[n1]}" 2>/dev/null || true
never_within 8 "n3 loses n4's route with n1 stopped" bash -c \
	"! ip netns exec $(ns_of n3) ip route show proto 201 | grep -q '^203.0.113.96/27 via 192.0.2.4'"
probe 3 4 || die "TCP from n3 to n4 with one reflector stopped"
echo "TCP n3 -> n4 with n1 stopped: ok"
echo PASS
