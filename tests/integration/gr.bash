# Graceful restart tests: three namespaces in a line, so that traffic between the client
# and the peer can only cross tabbyd's node, on routes learned over BGP:
#
#   client 198.51.100.2 ── 198.51.100.1 tabby 192.0.2.1 ── 192.0.2.10 peer (203.0.113.1 on lo)
#
# tabbyd (AS 64512, kernel routes on) originates the client's 198.51.100.0/24 to the
# peer (AS 65010), which installs it in its kernel; the peer originates 203.0.113.0/24
# (and whatever else a test adds), which tabbyd installs in its own. The probe is ping
# from the client to 203.0.113.1 every 50 ms: a lost reply is a lost packet.
. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"

gr_topology() {
	local n
	for n in client tabby peer; do
		ip netns add "$(ns_of $n)" && NSS+=("$(ns_of $n)")
		nsx $n ip link set lo up
	done
	ip link add "gc$$" netns "$(ns_of client)" type veth peer name eth0 netns "$(ns_of tabby)"
	ip link add "gp$$" netns "$(ns_of peer)" type veth peer name eth1 netns "$(ns_of tabby)"
	nsx client ip link set "gc$$" name eth0
	nsx peer ip link set "gp$$" name eth0
	nsx client ip addr add 198.51.100.2/24 dev eth0
	nsx tabby ip addr add 198.51.100.1/24 dev eth0
	nsx tabby ip addr add 192.0.2.1/24 dev eth1
	nsx peer ip addr add 192.0.2.10/24 dev eth0
	nsx peer ip addr add 203.0.113.1/32 dev lo
	for n in client tabby peer; do nsx $n ip link set eth0 up; done
	nsx tabby ip link set eth1 up
	nsx tabby sysctl -qw net.ipv4.ip_forward=1
	nsx client ip route add default via 198.51.100.1
	"$TABBYCTL" bgp node-mesh off
	"$TABBYCTL" node prefix add 198.51.100.0/24 --node=n1
	"$TABBYCTL" node bgp peer add 192.0.2.10 as 65010 --node=n1 "$@"
}

# The peer's route to the client, installed from tabbyd's announcement.
peer_has_client_route() { nsx peer ip -4 route show 198.51.100.0/24 | grep -q "via 192.0.2.1"; }
# tabbyd's kernel routes (protocol 201), one a line: "PREFIX via GW".
tabby_routes() { nsx tabby ip -4 route show proto 201 | awk '{print $1, $2, $3}' | sort; }
tabby_has() { tabby_routes | grep -qx "$1 via 192.0.2.10"; }

# routes_in COMMANDS: runs the route checks above in a shell of its own (for wait_until).
routes_in() { bash -c "$(declare -f nsx ns_of tabby_routes tabby_has peer_has_client_route); NS_PREFIX=$NS_PREFIX; $*"; }

# probe_start SECONDS NAME: pings from the client every 50 ms for SECONDS.
probe_start() {
	nsx client ping -n -q -i 0.05 -W 1 -c $(($1 * 20)) 203.0.113.1 > "$T/$2.ping" 2>&1 &
	PIDS+=($!)
	PROBE=$!
}
# probe_check NAME: waits for the probe to end; no reply may be missing.
probe_check() {
	wait "$PROBE" || true
	local line sent got
	line=$(grep "packets transmitted" "$T/$1.ping") || { cat "$T/$1.ping"; die "probe $1: no summary"; }
	sent=$(echo "$line" | awk '{print $1}')
	got=$(echo "$line" | awk '{print $4}')
	echo "probe $1: $sent sent every 50 ms, $got answered"
	[ "$sent" -gt 0 ] && [ "$sent" = "$got" ] || die "probe $1: $((sent - got)) of $sent probes lost"
}

# A BIRD 2 peer with graceful restart, originating 203.0.113.0/24 and the EXTRA prefixes,
# with its kernel protocol installing what BGP brings.
bird_gr_conf() {  # RESTART-TIME EXTRA-PREFIX...
	local p statics="route 203.0.113.0/24 blackhole;"
	for p in "${@:2}"; do statics="$statics route $p blackhole;"; done
	echo "log stderr all;
router id 192.0.2.10;
protocol device {}
protocol kernel { graceful restart on; ipv4 { export where source = RTS_BGP; }; }
protocol static s4 { ipv4; $statics }
protocol bgp t4 { local 192.0.2.10 as 65010; neighbor 192.0.2.1 as 64512;
	connect retry time 1; error wait time 1,2; hold time 9;
	graceful restart on; graceful restart time $1;
	debug { states, events };
	ipv4 { import all; export all; }; }"
}

# bird_restarted CONFIG: a new BIRD after `birdc graceful restart`, in recovery (-R):
# it announces the Restart State bit and keeps its kernel routes until it has converged.
bird_restarted() {
	printf '%s\n' "$1" > "$T/bird/bird.conf"
	ip netns exec "$(ns_of peer)" bird -R -f -c "$T/bird/bird.conf" -s "$T/bird/bird.ctl" >> "$T/bird/bird.log" 2>&1 &
	PIDS+=($!)
	PID_OF[bird]=$!
}

# Seconds (with milliseconds) between the last log lines of tabbyd matching two patterns.
log_gap_last() {  # PATTERN-FROM PATTERN-TO
	python3 - "$T/n1.log" "$1" "$2" <<'PY'
import re, sys, datetime
lines = open(sys.argv[1]).read().splitlines()
def at(pat):
    for l in reversed(lines):
        if re.search(pat, l):
            return datetime.datetime.strptime(l.split()[0], "%Y-%m-%dT%H:%M:%S.%f")
    sys.exit("no log line matches: " + pat)
print("%.2f" % (at(sys.argv[3]) - at(sys.argv[2])).total_seconds())
PY
}

# FRR bgpd as the peer, graceful restart on (restart time $FRR_RESTART_TIME, default 120 s,
# and the lines of $FRR_GR_EXTRA), originating 203.0.113.0/24 and the EXTRA prefixes (a
# "PREFIX route-map NAME" works too). Without zebra (-Z) it programs no kernel: the peer's way back to the client
# is a static route. frr_gr_start CONFIG [BGPD-ARGS...].
frr_gr_conf() {  # EXTRA-PREFIX...
	local p nets="  network 203.0.113.0/24"
	for p in "$@"; do nets="$nets
  network $p"; done
	echo "hostname frr
router bgp 65010
 bgp router-id 192.0.2.10
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp graceful-restart preserve-fw-state
 bgp graceful-restart restart-time ${FRR_RESTART_TIME:-120}${FRR_GR_EXTRA:+
$FRR_GR_EXTRA}
 neighbor 192.0.2.1 remote-as 64512
 neighbor 192.0.2.1 timers connect 1
 address-family ipv4 unicast
$nets
 exit-address-family"
}
frr_gr_start() {
	mkdir -p "$T/frr" && chmod 777 "$T/frr"
	printf '%s\n' "$1" > "$T/frr/bgpd.conf"
	chmod 644 "$T/frr/bgpd.conf"
	ip netns exec "$(ns_of peer)" /usr/lib/frr/bgpd -f "$T/frr/bgpd.conf" -i "$T/frr/bgpd.pid" -z "$T/frr/zserv.api" \
		--vty_socket "$T/frr" -n -Z -u frr -g frr -p 179 "${@:2}" >> "$T/frr/bgpd.log" 2>&1 &
	PIDS+=($!)
	PID_OF[frr]=$!
}

# tabbyd with BIRD announcing 203.0.113.0/24 and 203.0.113.128/25 (restart time 120 s),
# once the routes are in both kernels.
gr_start_with_bird() {
	gr_topology
	TABBYD_FIB=kernel
	tabbyd_start tabby n1 1 --as 64512
	bird_start peer bird "$(bird_gr_conf 120 203.0.113.128/25)"
	wait_until 30 "routes both ways" routes_in \
		"tabby_has 203.0.113.0/24 && tabby_has 203.0.113.128/25 && peer_has_client_route"
}

# A restarting peer (NAME, its probe running) came back announcing the /24 alone: its
# End-of-RIB removes the stale /25 only, no probe was lost, nothing is marked stale.
gr_peer_back() {  # NAME
	wait_until 30 "tabbyd: $1's End-of-RIB ends its restart" \
		grep -q "graceful restart over (End-of-RIB): 1 stale routes removed" "$T/n1.log"
	probe_check "$1"
	tabby_has 203.0.113.0/24 || die "the route $1 announces again is gone"
	! tabby_has 203.0.113.128/25 || die "the route $1 no longer announces is still in the kernel"
	! "$TABBYCTL" route show --node=n1 | grep -q stale || die "a route is still marked stale"
}
