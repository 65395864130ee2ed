#!/usr/bin/env bash
# Messages cut at awkward places, from two scripted peers at once: an OPEN one byte at a
# time, a KEEPALIVE in two pieces, an UPDATE whose end comes with the next one's start,
# an extended UPDATE over 8 KB in 4 KB slices (bgp_fragment_peer.py). tabbyd reads every
# connection into one shared buffer and keeps only an incomplete message per connection:
# every prefix of both peers must be learned, neither session reset, and each peer's
# routes carry its own next hop (nothing of one connection's bytes in the other's).
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
here=$(cd "$(dirname "$0")" && pwd)
lan_up
host_add n1 1
host_add p1 10
host_add p2 11
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node bgp peer add 192.0.2.10 as 64600 --node=n1
"$TABBYCTL" node bgp peer add 192.0.2.11 as 64601 --node=n1
tabbyd_start n1 n1 1 --as 64512
peer() {  # HOST ADDR AS FIRST
	ip netns exec "$(ns_of "$1")" python3 "$here/bgp_fragment_peer.py" "$2" 192.0.2.1 "$3" "$4" 3000 8 \
		> "$T/$1.out" 2>> "$T/$1.log" &
	PIDS+=($!)
	PID_OF[$1]=$!
}
peer p1 192.0.2.10 64600 0
peer p2 192.0.2.11 64601 3000
wait_until 30 "3000 routes from each peer" bash -c \
	"[ \$('$TABBYCTL' route show --ipv4 --node=n1 | grep -c '198\\.1[89]\\.') -ge 6000 ]"
"$TABBYCTL" route show --ipv4 --node=n1 > "$T/routes.txt"
head -n 5 "$T/routes.txt"
# p1 sent the /28s number 0-2999 of 198.18.0.0/15, p2 3000-5999: each from its peer, with its next hop.
python3 - "$T/routes.txt" <<'PY' || die "the routes learned are not exactly what the peers sent"
import ipaddress, sys
got = {"192.0.2.10": set(), "192.0.2.11": set()}
for line in open(sys.argv[1]):
    f = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(f) == 8 and f[0].endswith("/28"):
        i = (int(ipaddress.ip_network(f[0]).network_address) - int(ipaddress.ip_address("198.18.0.0"))) // 16
        assert f[1] == f[6], line
        got[f[6]].add(i)
assert got["192.0.2.10"] == set(range(0, 3000)), len(got["192.0.2.10"])
assert got["192.0.2.11"] == set(range(3000, 6000)), len(got["192.0.2.11"])
PY
for p in p1 p2; do
	wait "${PID_OF[$p]}" || die "the scripted peer $p failed: $(cat "$T/$p.log")"
	cat "$T/$p.out"
	grep -q '"state": "Established"' "$T/$p.out" || die "$p: the session was reset"
	grep -q '"ext": true' "$T/$p.out" || die "$p: extended messages not negotiated"
done
echo "fragments: 2 x 3000 prefixes learned from byte-wise, split and sliced messages, no reset"
