# Test hosts for integration scripts: network namespaces on one LAN (a bridge in its own
# namespace), documentation addresses only (192.0.2.0/24, 2001:db8::/64), and helpers to
# run tabbyd, BIRD, FRR, GoBGP and OpenBGPD inside them. Everything is removed on exit: processes by
# the pid we started, namespaces by the names we made.
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

NS_PREFIX="tby$$"
NSS=()
declare -A PID_OF   # daemon pid by the name it was started under
LAN="$NS_PREFIX-lan"
export TABBY_DATASTORE="sqlite:$T/tabby.db"
chmod 755 "$T"   # FRR drops to its own user

DEVNS=()   # device namespaces tabbyd makes (dev_ns), removed here if tabbyd left any

# The device namespaces the test's tabbyd processes have bound now (in their own mount
# namespaces, so only their mountinfo shows them). kill_started's SIGKILL leaves them on
# the host: a stop for good or to restart removes them, a kill cannot.
dev_ns_bound() {
	local p
	for p in "${PID_OF[@]}"; do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = tabbyd ] || continue
		awk '$5 ~ /^\/run\/netns\/tby-/ { sub(/^\/run\/netns\//, "", $5); print $5 }' "/proc/$p/mountinfo"
	done
}

netns_cleanup() {
	set +e
	DEVNS+=($(dev_ns_bound))
	kill_started
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	for n in "${DEVNS[@]}"; do umount "/run/netns/$n" 2>/dev/null; rm -f "/run/netns/$n"; done
	finish
}
trap netns_cleanup EXIT

lan_up() {
	ip netns add "$LAN" && NSS+=("$LAN")
	ip -n "$LAN" link add br0 type bridge
	ip -n "$LAN" link set br0 up
}

# host_add NAME N: namespace NAME on the LAN with 192.0.2.N/24 and 2001:db8::N/64.
host_add() {
	local ns="$NS_PREFIX-$1" n=$2
	ip netns add "$ns" && NSS+=("$ns")
	ip -n "$ns" link set lo up
	ip link add "v$$-$n" netns "$LAN" type veth peer name eth0 netns "$ns"
	ip -n "$LAN" link set "v$$-$n" master br0 up
	ip -n "$ns" addr add "192.0.2.$n/24" dev eth0
	ip -n "$ns" addr add "2001:db8::$(printf '%x' "$n")/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
}

# Runs a command in a host's namespace. `ip netns exec` execs the command, so "$!" of
# "ns_of HOST ... &" is the daemon's own pid (a shell function in the background would not be).
ns_of() { echo "$NS_PREFIX-$1"; }
nsx() { ip netns exec "$(ns_of "$1")" "${@:2}"; }
# A virtual device's namespace, as tabbyd names it (tby- and 12 hex digits of the uuid).
# tabbyd binds it in its own mount namespace (it runs under `ip netns exec`), so commands
# get there through that: devx HOST DEVICE_UUID CMD...
dev_ns() { local u=${1//-/}; echo "tby-${u:0:12}"; }
devx() { nsenter -t "${PID_OF[$1]}" -m ip netns exec "$(dev_ns "$2")" "${@:3}"; }
v4() { echo "192.0.2.$1"; }
v6() { echo "2001:db8::$(printf '%x' "$1")"; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls every 0.2 s.
wait_until() {
	local limit=$1 what=$2 start=$SECONDS; shift 2
	while ! "$@" >/dev/null 2>&1; do
		if [ $((SECONDS - start)) -ge "$limit" ]; then
			echo "timed out after ${limit}s waiting for: $what" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "after $((SECONDS - start))s: $what"
}

# never_within SECONDS DESCRIPTION COMMAND...: the command must not succeed in that time.
never_within() {
	local limit=$1 what=$2 start=$SECONDS; shift 2
	while [ $((SECONDS - start)) -lt "$limit" ]; do
		if "$@" >/dev/null 2>&1; then
			echo "happened, but must not: $what" >&2
			return 1
		fi
		sleep 0.5
	done
	echo "for ${limit}s, as required, not: $what"
}

# tabbyd_start HOST NODE N [ARGS...]: tabbyd in HOST's namespace with its LAN addresses.
# It runs with --no-fib unless TABBYD_FIB=kernel (it may then program the namespace's routes).
tabbyd_start() {
	local host=$1 node=$2 n=$3; shift 3
	ip netns exec "$(ns_of "$host")" "$BUILD/tabbyd" --node "$node" --ip "$(v4 "$n")" --ip6 "$(v6 "$n")" \
		--control "$T/$node.sock" $([ "${TABBYD_FIB:-}" = kernel ] || echo --no-fib) --log-level debug "$@" >> "$T/$node.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$node]=$!
}

# The row of a peer in `tabbyctl status` (empty if none): "| ADDR | TYPE | STATE | SINCE | INFO |".
status_row() { "$TABBYCTL" status --node="$1" | grep -E "^\| $2 +\|"; }
tabby_up() { status_row "$1" "$2" | grep -qE "\| up +\|"; }

bird_start() {  # HOST NAME CONFIG-TEXT
	mkdir -p "$T/$2"
	printf '%s\n' "$3" > "$T/$2/bird.conf"
	ip netns exec "$(ns_of "$1")" bird -f -c "$T/$2/bird.conf" -s "$T/$2/bird.ctl" >> "$T/$2/bird.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$2]=$!
}
# A BIRD config: router 192.0.2.N in AS, originating PREFIX4 and PREFIX6 to tabbyd at
# 192.0.2.1 and 2001:db8::1 (AS 64512) over sessions t4 and t6 (static protocols s4, s6),
# importing IMPORT (all or none) from it.
bird_origin_conf() {  # N AS PREFIX4 PREFIX6 IMPORT
	echo "router id $(v4 "$1");
protocol device {}
protocol static s4 { ipv4; route $3 blackhole; }
protocol static s6 { ipv6; route $4 blackhole; }
protocol bgp t4 { local $(v4 "$1") as $2; neighbor 192.0.2.1 as 64512;
	connect retry time 2; ipv4 { import $5; export all; }; }
protocol bgp t6 { local $(v6 "$1") as $2; neighbor 2001:db8::1 as 64512;
	connect retry time 2; ipv6 { import $5; export all; }; }"
}
# A BIRD config: router 192.0.2.N in AS, session "tabby" to tabbyd at 192.0.2.1 (AS 64512)
# with a 3 s hold time, importing its routes, exporting none: it stays Established only
# while tabbyd's KEEPALIVEs come on time.
bird_watch_conf() {  # N AS
	echo "router id $(v4 "$1");
protocol device {}
protocol bgp tabby {
	local $(v4 "$1") as $2; neighbor 192.0.2.1 as 64512;
	hold time 3; keepalive time 1; connect retry time 1;
	ipv4 { import all; export none; };
}"
}
bird_show() { birdc -s "$T/$1/bird.ctl" show protocols all "$2"; }
bird_up() { bird_show "$1" "$2" | grep -q "BGP state: *Established"; }

# The start of an ExaBGP feed script. Its pause waits with the read builtin on the pipe from
# ExaBGP and ends the feed when ExaBGP is gone; it forks nothing (a sleep forked just as the
# test kills the feed would be left behind).
EXA_FEED_HEAD='#!/bin/bash
pause() { read -r -t "$1" _; [ $? != 1 ] || exit 0; }'
# ExaBGP in HOST's namespace, its files in $T/NAME: router 192.0.2.N, AS 64555, IPv4
# unicast with tabbyd at 192.0.2.1 (AS 64512), announcing what the script $T/NAME/feed.sh
# (written first) prints to its text API. Extra lines go into the neighbor block.
exabgp_start() {  # HOST NAME N [LINE...]
	local dir=$T/$2
	chmod +x "$dir/feed.sh"
	{
		echo "process feed { run $dir/feed.sh; encoder text; }"
		echo "neighbor 192.0.2.1 {"
		printf '\t%s\n' "router-id $(v4 "$3");" "local-address $(v4 "$3");" "local-as 64555;" \
			"peer-as 64512;" "family { ipv4 unicast; }" "${@:4}" "api { processes [ feed ]; }"
		echo "}"
	} > "$dir/exa.conf"
	ip netns exec "$(ns_of "$1")" env exabgp.daemon.user=root exabgp.log.destination=stdout \
		exabgp.daemon.drop=false exabgp.api.ack=false exabgp "$dir/exa.conf" > "$dir/exa.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$2]=$!
}
# The ExaBGP tests' start: the LAN, tabbyd n1 (192.0.2.1, AS 64512, no mesh) and host exa
# (192.0.2.20) configured as its peer in AS 64555, with $T/exa for exabgp_start exa exa 20.
exa_setup() {
	lan_up
	host_add n1 1
	host_add exa 20
	"$TABBYCTL" bgp node-mesh off
	tabbyd_start n1 n1 1 --as 64512
	"$TABBYCTL" bgp peer add 192.0.2.20 as 64555
	mkdir -p "$T/exa"
}
# A node's Adj-RIB-In from one peer, as JSON (on tabbyd's control socket).
adj_rib_in() { "$BUILD/ctl_query" "$T/$1.sock" adj-rib-in "$2"; }

frr_start() {  # HOST NAME CONFIG-TEXT
	mkdir -p "$T/$2" && chmod 777 "$T/$2"
	printf '%s\n' "$3" > "$T/$2/bgpd.conf"
	chmod 644 "$T/$2/bgpd.conf"
	ip netns exec "$(ns_of "$1")" /usr/lib/frr/bgpd -f "$T/$2/bgpd.conf" -i "$T/$2/bgpd.pid" -z "$T/$2/zserv.api" \
		--vty_socket "$T/$2" -n -Z -u frr -g frr -p 179 >> "$T/$2/bgpd.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$2]=$!
}
frr_up() { nsx "$1" vtysh --vty_socket "$T/$2" -c "show bgp neighbors $3 json" | grep -q '"bgpState":"Established"'; }

gobgp_start() {  # HOST NAME CONFIG-TEXT
	mkdir -p "$T/$2"
	printf '%s\n' "$3" > "$T/$2/gobgp.toml"
	ip netns exec "$(ns_of "$1")" gobgpd -f "$T/$2/gobgp.toml" --api-hosts 127.0.0.1:50051 --pprof-disable \
		>> "$T/$2/gobgpd.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$2]=$!
}
# One [[neighbors]] block of a GoBGP TOML: ADDR PEER-AS AFI-SAFI [EXTRA-LINES...], the
# extra lines inside [neighbors.config] before the timers (e.g. auth-password).
gobgp_neighbor() {
	printf '%s\n' "[[neighbors]]" "[neighbors.config]" "neighbor-address = \"$1\"" "peer-as = $2" \
		"${@:4}" "[neighbors.timers.config]" "connect-retry = 2" "[[neighbors.afi-safis]]" \
		"[neighbors.afi-safis.config]" "afi-safi-name = \"$3\""
}
gobgp_up() { nsx "$1" gobgp -u 127.0.0.1 -p 50051 neighbor "$2" | grep -qi "BGP state = established"; }

# OpenBGPD (foreground, logging to its log file). The control socket line is added to the
# config; the file is made 600 because bgpd refuses one that others can read, and checked
# with bgpd -n first. /run/openbgpd is the chroot of its unprivileged processes. It forks
# its session engine, RDE and RTR processes: kill_started takes them with the parent.
openbgpd_start() {  # HOST NAME CONFIG-TEXT
	mkdir -p "$T/$2" /run/openbgpd
	{ echo "socket \"$T/$2/bgpd.sock\""; printf '%s\n' "$3"; } > "$T/$2/bgpd.conf"
	chmod 600 "$T/$2/bgpd.conf"
	bgpd -n -f "$T/$2/bgpd.conf" >> "$T/$2/bgpd.log" 2>&1 || { cat "$T/$2/bgpd.log" >&2; return 1; }
	ip netns exec "$(ns_of "$1")" bgpd -d -f "$T/$2/bgpd.conf" >> "$T/$2/bgpd.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$2]=$!
}
# One neighbor block of a bgpd.conf: ADDR PEER-AS [EXTRA-LINES...] (e.g. tcp md5sig password K).
openbgpd_neighbor() {
	printf '%s\n' "neighbor $1 {" "	remote-as $2" "${@:3}" "}"
}
openbgpd_ctl() { bgpctl -s "$T/$1/bgpd.sock" "${@:2}"; }  # NAME ARGS...: its socket is a file
openbgpd_up() { openbgpd_ctl "$1" show neighbor "$2" | grep -q "BGP state = Established"; }

# etcd-server is in scripts/deps; a test that needs it fails clearly without it.
need_etcd() {
	command -v etcd > /dev/null ||
		{ echo "FAIL: etcd not installed (scripts/deps installs etcd-server)" >&2; exit 1; }
}

# Prints the logs of everything a failed test ran.
dump_logs() {
	for f in "$T"/*.log "$T"/*/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 40 lines)"
		tail -n 40 "$f"
	done
}
