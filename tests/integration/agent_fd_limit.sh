#!/usr/bin/env bash
# Out of file descriptors (issue 13): 1,000 peers configured and connecting (bench/bgpgen,
# 198.18.0.0/15 inside the test's namespaces) to a tabbyd started with RLIMIT_NOFILE
# 256 soft / 512 hard. tabbyd raises the soft limit to the hard one; once the 512 are
# used, accept(2) fails with EMFILE while connections wait in the backlog: the listener
# must pause (no busy loop: little CPU over 10 s), say so in a rate-limited log line with
# a count, and the sessions that fit must come up and stay up.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
N=${FD_LIMIT_SESSIONS:-1000}
lan_up
host_add n1 1
host_add gen 40
ip -n "$(ns_of n1)" addr add 198.18.0.1/15 dev eth0
gen_ip() { local v=$(((198 << 24) + (18 << 16) + (1 << 8) + 1 + $1)); echo "$((v >> 24 & 255)).$((v >> 16 & 255)).$((v >> 8 & 255)).$((v & 255))"; }
for i in $(seq 0 $((N - 1))); do echo "addr add $(gen_ip "$i")/15 dev eth0"; done > "$T/addrs"
ip -n "$(ns_of gen)" -batch "$T/addrs"
"$TABBYCTL" bgp node-mesh off
# One `apply` of 1,000 BGPPeer resources (1,000 `node bgp peer add` took 100 s with ASan).
for i in $(seq 0 $((N - 1))); do
	printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: gen-%s\n' "$i"
	printf 'spec:\n  node: n1\n  peerIP: %s\n  asNumber: %s\n' "$(gen_ip "$i")" $((4200000000 + i))
done > "$T/peers.yaml"
"$TABBYCTL" apply -f "$T/peers.yaml" >/dev/null
ip netns exec "$(ns_of n1)" prlimit --nofile=256:512 "$BUILD/tabbyd" --node n1 --ip 198.18.0.1 --as 64512 --no-fib \
	--control "$T/n1.sock" > "$T/n1.log" 2>&1 &
PIDS+=($!)
pid=$!
ip netns exec "$(ns_of gen)" env BGPGEN_PARALLEL=64 "$BUILD/bgpgen" gen 198.18.1.1 "$N" 198.18.0.1 4200000000 1 "$T/go" > "$T/gen.log" 2>&1 &
PIDS+=($!)

wait_until 10 "tabbyd raised its soft limit to the hard one" grep -q "open files limit raised from 256 to 512" "$T/n1.log"
grep -m1 "open files limit raised" "$T/n1.log"
wait_until 60 "tabbyd ran out of descriptors and paused accepting" grep -q "accept: Too many open files" "$T/n1.log"
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }   # utime + stime, in clock ticks
up() { "$TABBYCTL" status --node=n1 | grep -cE "\| up +\|" || true; }
sleep 5   # the sessions that fit settle
hz=$(getconf CLK_TCK)
c0=$(cpu); s0=$(up); l0=$(grep -c "accept: Too many open files" "$T/n1.log")
sleep 10
c1=$(cpu); s1=$(up); l1=$(grep -c "accept: Too many open files" "$T/n1.log")
grep "accept: Too many open files" "$T/n1.log" | tail -n 1
used=$(( (c1 - c0) * 1000 / hz ))
echo "over 10 s at the limit: tabbyd used $used ms of CPU; sessions up: $s0, then $s1; $((l1 - l0)) log lines"
nfd=$(ls "/proc/$pid/fd" | wc -l)
echo "tabbyd holds $nfd descriptors (limit 512)"
# A busy loop would take the whole 10 s; pausing 1 s at a time costs a few ms.
[ "$used" -lt 1500 ] || die "tabbyd used $used ms of CPU in 10 s: a busy loop"
# One line per 10 s interval, not one per refused accept.
[ $((l1 - l0)) -le 2 ] || die "$((l1 - l0)) log lines about EMFILE in 10 s (rate limit: one per 10 s)"
# The sessions that fit (512 less the datastore, listeners, control socket...) work.
[ "$s1" -ge 400 ] || die "only $s1 sessions up under a limit of 512 descriptors"
[ "$s1" -ge "$s0" ] || die "sessions went down at the limit: $s0 -> $s1"
echo "1,000 peers against 512 descriptors: no busy loop, one log line per interval, $s1 sessions up"
