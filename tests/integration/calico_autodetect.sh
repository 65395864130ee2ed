#!/usr/bin/env bash
# Address autodetection as calico-node does it, in a namespace with three interfaces
# (eth0 on the LAN, ext0 and int0 dummies) besides lo: one run of tabbyd per method, each
# checked in the registered Node (and the router id taken from it).
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
host_add n1 1
for x in "ext0 198.51.100.1/24 2001:db8:e::1/64" "int0 203.0.113.1/24 2001:db8:f::1/64"; do
	set -- $x
	nsx n1 ip link add "$1" type dummy 2>/dev/null || nsx n1 ip link add "$1" type bridge
	nsx n1 ip addr add "$2" dev "$1"
	nsx n1 ip addr add "$3" dev "$1" nodad
	nsx n1 ip link set "$1" up
done
nsx n1 ip -br addr

# detected ARGS... -- IPV4 [IPV6]: tabbyd with ARGS registers IPV4 (and IPV6), router id IPV4.
detected() {
	local args=() want4 want6=""
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	want4=$2; want6=${3:-}
	local ups=$(grep -c "node n1 up" "$T/n1.log" 2>/dev/null || true)
	# ip netns exec (not the nsx function) so that $! is tabbyd itself.
	ip netns exec "$(ns_of n1)" "$BUILD/tabbyd" --node n1 --control "$T/n1.sock" --no-fib --log-level debug \
		"${args[@]}" >> "$T/n1.log" 2>&1 &
	local pid=$!
	PIDS+=($pid)
	wait_until 10 "${args[*]:-no --ip}: up and registered $want4 $want6" bash -c \
		"[ \$(grep -c 'node n1 up' '$T/n1.log') -gt ${ups:-0} ] &&
		 '$TABBYCTL' get node n1 -o yaml | grep -q 'ipv4Address: $want4\$'"
	[ -z "$want6" ] || "$TABBYCTL" get node n1 -o yaml | grep -q "ipv6Address: $want6\$" ||
		die "${args[*]}: IPv6 $want6 not registered"
	"$TABBYCTL" status --node=n1 -o json | grep -q "\"router_id\": *\"$want4\"" ||
		die "router id not $want4"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	! kill -0 "$pid" 2>/dev/null || die "tabbyd $pid still runs"
}
# No --ip and nothing registered: autodetect by first-found (lo is not taken).
detected -- 192.0.2.1
detected --ip=autodetect --ip6=autodetect -- 192.0.2.1 2001:db8::1
detected --ip=autodetect --ip-autodetection-method=interface=int.* \
	--ip6=autodetect --ip6-autodetection-method=interface=ext0 -- 203.0.113.1 2001:db8:e::1
detected --ip=autodetect --ip-autodetection-method=skip-interface=eth.*,int0 -- 198.51.100.1
detected --ip=autodetect --ip-autodetection-method=can-reach=203.0.113.77 -- 203.0.113.1
detected --ip=autodetect --ip-autodetection-method=cidr=198.51.100.0/24 -- 198.51.100.1
# An address registered and no --ip: kept, not detected again.
detected -- 198.51.100.1

# BGPConfiguration listenPort, without --listen-port.
calico_bgpconfig default "  listenPort: 1790" | "$TABBYCTL" apply -f -
detected -- 198.51.100.1
grep -q "node n1 up: BGP port 1790" "$T/n1.log" || die "listenPort 1790 not used"
calico_bgpconfig node.n1 "  listenPort: 1791" | "$TABBYCTL" apply -f -
detected -- 198.51.100.1
grep -q "node n1 up: BGP port 1791" "$T/n1.log" || die "node.n1 listenPort 1791 not used"

# Errors: a bad method, and a method that finds nothing.
if nsx n1 "$BUILD/tabbyd" --node n1 --ip-autodetection-method=nearest 2> "$T/err"; then
	die "a bad method accepted"
fi
grep -q "invalid IP autodetection method 'nearest'; accepted: first-found" "$T/err"
if nsx n1 timeout 10 "$BUILD/tabbyd" --node n1 --control "$T/n1.sock" --no-fib \
	--ip=autodetect --ip-autodetection-method=interface=wlan.* 2> "$T/err"; then
	die "nothing found, yet started"
fi
grep -q "found no IPv4 address" "$T/err"
echo PASS
