#!/usr/bin/env bash
# Three nodes on one LAN, one store, the node-to-node mesh on, each originating the prefix
# of a dummy interface (IPv4 and IPv6): each learns the other two, each kernel gets the
# routes, and TCP crosses from one node's dummy address to another's. Removing a prefix
# withdraws it everywhere; mesh off withdraws the learned routes from RIBs and kernels.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
for i in 1 2 3; do
	host_add "n$i" "$i"
	# A dummy interface; kernels without the dummy module get a port-less bridge instead.
	nsx "n$i" ip link add dummy0 type dummy 2>/dev/null || nsx "n$i" ip link add dummy0 type bridge
	nsx "n$i" ip addr add "203.0.113.$((i * 64 - 63))/26" dev dummy0
	nsx "n$i" ip addr add "2001:db8:f$i::1/64" dev dummy0 nodad
	nsx "n$i" ip link set dummy0 up
	"$TABBYCTL" node prefix add "203.0.113.$((i * 64 - 64))/26" --node="n$i"
	"$TABBYCTL" node prefix add "2001:db8:f$i::/64" --node="n$i"
done
TABBYD_FIB=kernel   # kernel routes on: each node has its own namespace
for i in 1 2 3; do tabbyd_start "n$i" "n$i" "$i"; done

learned() {  # NODE PREFIX NEXT-HOP: best in route show and in the kernel with tabby's protocol
	"$TABBYCTL" route show --node="$1" "$2" | grep -qE "^\| $2 +\| $3 .*\| \* +\|$" &&
		nsx "$1" ip route show proto 201 | grep -q "^$2 via $3"
}
learned6() {
	"$TABBYCTL" route show --node="$1" "$2" | grep -qE "^\| $2 +\| $3 .*\| \* +\|$" &&
		nsx "$1" ip -6 route show proto 201 | grep -q "^$2 via $3"
}
all_learned() {
	for i in 1 2 3; do for j in 1 2 3; do
		[ $i = $j ] && continue
		learned "n$i" "203.0.113.$((j * 64 - 64))/26" "192.0.2.$j" || return 1
		learned6 "n$i" "2001:db8:f$j::/64" "2001:db8::$j" || return 1
	done; done
}
wait_until 20 "every node learned the other two prefixes (v4 and v6), in RIB and kernel" all_learned
"$TABBYCTL" route show --node=n1
nsx n1 ip route show proto 201

# Traffic: n1's dummy address to n3's, across the mesh routes.
nsx n3 "$BUILD/tcp_probe" listen 203.0.113.129 7777 > "$T/probe.out" &
PIDS+=($!)
sleep 0.3
nsx n1 "$BUILD/tcp_probe" connect 203.0.113.1 203.0.113.129 7777 | tee "$T/probe.got"
grep -q "hello from 203.0.113.129" "$T/probe.got"
nsx n3 "$BUILD/tcp_probe" listen 2001:db8:f3::1 7777 > "$T/probe6.out" &
PIDS+=($!)
sleep 0.3
nsx n1 "$BUILD/tcp_probe" connect 2001:db8:f1::1 2001:db8:f3::1 7777 | grep -q "hello from"

# A removed prefix is withdrawn everywhere.
"$TABBYCTL" node prefix remove 203.0.113.128/26 --node=n3
gone() { ! "$TABBYCTL" route show --node="$1" | grep -q "$2" && ! nsx "$1" ip route show proto 201 | grep -q "$2"; }
wait_until 10 "203.0.113.128/26 withdrawn from n1 and n2" bash -c \
	"'$TABBYCTL' route show --node=n1 | grep -qv 203.0.113.128 && ! '$TABBYCTL' route show --node=n1 | grep -q 203.0.113.128 && ! '$TABBYCTL' route show --node=n2 | grep -q 203.0.113.128 && ! ip netns exec $(ns_of n1) ip route show proto 201 | grep -q 203.0.113.128"
learned n1 203.0.113.64/26 192.0.2.2

# Mesh off: learned routes leave every RIB and kernel; own prefixes stay.
"$TABBYCTL" bgp node-mesh off
none_learned() {
	for i in 1 2 3; do
		[ -z "$(nsx "n$i" ip route show proto 201)" ] || return 1
		[ -z "$(nsx "n$i" ip -6 route show proto 201)" ] || return 1
		"$TABBYCTL" route show --node="n$i" | grep -q "192.0.2" && return 1
	done
	return 0
}
wait_until 10 "mesh off: no learned routes left in RIBs or kernels" none_learned
"$TABBYCTL" route show --node=n1 | grep -q "203.0.113.0/26 .*local"
# Stopping an agent removes its kernel routes; a restart re-learns.
"$TABBYCTL" bgp node-mesh on
wait_until 20 "mesh on: learned again" learned n1 203.0.113.64/26 192.0.2.2
echo "three-node mesh: routes learned, in kernels, TCP across; withdrawals and mesh off clean up"
