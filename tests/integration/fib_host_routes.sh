#!/usr/bin/env bash
# The host's own routes are never touched, and a stopping agent removes its own. tabbyd
# (kernel routes on, in its namespace) learns 198.51.100.0/24 and 2001:db8:b1::/48 from
# BIRD while the host already has a static route to each: tabbyd's routes sit beside
# them (protocol 201, metric 40), and the host's routes survive learn, withdraw, relearn
# and tabbyd's stop for good (SIGUSR1: decommission), after which no route of tabbyd's is
# left. Then tabbyd is killed (SIGKILL, its routes stay, as graceful restart wants) and
# started again without graceful restart: it flushes them at start. (With graceful
# restart it keeps them until its peers' End-of-RIB: gr_tabbyd_restart.sh.)
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
host_add n1 1
host_add bird 10
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node bgp peer add 192.0.2.10 as 65010 --node=n1
"$TABBYCTL" node bgp peer add 2001:db8::a as 65010 --node=n1
# The host's routes, there before tabbyd: static, metric 0, via other routers of the LAN.
nsx n1 ip -4 route add 198.51.100.0/24 via 192.0.2.99 proto static
nsx n1 ip -6 route add 2001:db8:b1::/48 via 2001:db8::63 proto static
host_routes_there() {
	nsx n1 ip -4 route show 198.51.100.0/24 proto static | grep -q "^198.51.100.0/24 via 192.0.2.99 dev eth0" &&
		nsx n1 ip -6 route show 2001:db8:b1::/48 proto static | grep -q "^2001:db8:b1::/48 via 2001:db8::63 dev eth0 metric 1024"
}
ours() { nsx n1 ip -4 route show proto 201; nsx n1 ip -6 route show proto 201; }
ours_learnt() {
	ours > "$T/ours"
	grep -q "^198.51.100.0/24 via 192.0.2.10 dev eth0 metric 40" "$T/ours" &&
		grep -q "^2001:db8:b1::/48 via 2001:db8::a dev eth0 metric 40" "$T/ours"
}

TABBYD_FIB=kernel
tabbyd_start n1 n1 1 --as 64512
bird_start bird bird "$(bird_origin_conf 10 65010 198.51.100.0/24 2001:db8:b1::/48 none)"

wait_until 30 "learnt: tabbyd's routes in the kernel with protocol 201 and metric 40" ours_learnt
host_routes_there || { nsx n1 ip route; nsx n1 ip -6 route; die "learning replaced the host's routes"; }
nsx n1 ip -4 route show 198.51.100.0/24

birdc -s "$T/bird/bird.ctl" disable s4 > /dev/null
birdc -s "$T/bird/bird.ctl" disable s6 > /dev/null
wait_until 15 "withdrawn: tabbyd's routes gone" bash -c \
	"! ip netns exec $(ns_of n1) ip -4 route show proto 201 | grep -q 198.51.100.0/24 &&
	 ! ip netns exec $(ns_of n1) ip -6 route show proto 201 | grep -q 2001:db8:b1::/48"
host_routes_there || die "a withdrawal removed the host's routes"

birdc -s "$T/bird/bird.ctl" enable s4 > /dev/null
birdc -s "$T/bird/bird.ctl" enable s6 > /dev/null
wait_until 15 "relearnt" ours_learnt
host_routes_there || die "relearning replaced the host's routes"

# SIGUSR1, stopping for good: tabbyd removes every route of its own, and only those,
# before it exits.
kill -USR1 "${PID_OF[n1]}"
rc=0
wait "${PID_OF[n1]}" || rc=$?
[ $rc = 0 ] || die "tabbyd exited with status $rc on SIGUSR1"
[ -z "$(ours)" ] || { ours; die "tabbyd left routes of its own after SIGUSR1"; }
host_routes_there || die "tabbyd's shutdown removed the host's routes"
echo "after SIGUSR1: no route with protocol 201; the host's routes are there"

# SIGKILL leaves tabbyd's routes behind; a start without graceful restart flushes them.
tabbyd_start n1 n1 1 --as 64512
wait_until 30 "learnt again" ours_learnt
kill -KILL "${PID_OF[n1]}"
wait "${PID_OF[n1]}" 2>/dev/null || true
ours_learnt || die "tabbyd's routes did not outlive SIGKILL (nothing to flush)"
birdc -s "$T/bird/bird.ctl" disable t4 > /dev/null
birdc -s "$T/bird/bird.ctl" disable t6 > /dev/null
tabbyd_start n1 n1 1 --as 64512 --no-graceful-restart
wait_until 15 "stale routes flushed at start" grep -q "removed 2 stale kernel routes of an earlier run" "$T/n1.log"
[ -z "$(ours)" ] || { ours; die "stale routes are left"; }
host_routes_there || die "the start-up flush removed the host's routes"
echo "host routes kept through learn, withdraw, relearn, SIGUSR1 and a stale flush; tabbyd's own removed"
