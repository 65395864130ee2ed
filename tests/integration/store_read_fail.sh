#!/usr/bin/env bash
# A failed read of the datastore never tears a session down. tabbyd on n1 carries an
# API peering (BIRD at 192.0.2.2, MD5) and a configured node peer (BIRD at 192.0.2.10),
# both with a 3 s hold time. tabbyd reads its configuration from a mirror in memory that a
# thread keeps current from the watch; it reads the store itself only when the watch's
# history is gone (compacted). So: a change (a prefix for n1 to originate) is written, and
# right after it the datastore breaks for its readers -- another process renames the key
# table, so every full read fails ("no such table") -- and compacts the change log past
# the agent's watch, which must then re-read. The re-read fails; the mirror keeps what it
# had (the change is not applied), both sessions stay up for 10 s of failed reads, and
# once the table is back the change is applied by the agent's own retry (no further
# change made), and status is written again.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ -n "${PID_OF[n1]:-}" ] && kill -CONT "${PID_OF[n1]}" 2>/dev/null; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
for h in n1 prov; do ip netns add "$(ns_of $h)"; NSS+=("$(ns_of $h)"); nsx $h ip link set lo up; done
ip link add "a$$" netns "$(ns_of n1)" type veth peer name eth1 netns "$(ns_of prov)"
ip link add "b$$" netns "$(ns_of n1)" type veth peer name eth2 netns "$(ns_of prov)"
nsx n1 ip link set "a$$" name conn0; nsx n1 ip link set "b$$" name eth0
nsx n1 ip link set conn0 up; nsx n1 ip addr add 192.0.2.9/29 dev eth0; nsx n1 ip link set eth0 up
nsx prov ip addr add 192.0.2.2/29 dev eth1; nsx prov ip addr add 192.0.2.10/29 dev eth2
nsx prov ip link set eth1 up; nsx prov ip link set eth2 up

ctl() { "$TABBYCTL" "$@"; }
ctl bgp node-mesh off
ctl node bgp peer add 192.0.2.10 as 65010 --node=n1
A=$(ctl api-client create acme -o json)
field() { echo "$1" | sed -n "s/.*\"$2\": \"\\(.*\\)\".*/\\1/p"; }
AID=$(field "$A" client_id); ASEC=$(field "$A" client_secret)
ADEV=$(ctl device create --node=n1 --owner="$AID"); DEVNS+=("$(dev_ns "$ADEV")")
ACON=$(ctl connection create --device="$ADEV" --interface=conn0)
api_serve "$T/api.log"; API=http://127.0.0.1:$SERVED_PORT
ip netns exec "$(ns_of n1)" "$BUILD/tabbyd" --node n1 --ip 192.0.2.9 --as 64512 --hold-time 3 \
	--control "$T/n1.sock" --no-fib --log-level debug >> "$T/n1.log" 2>&1 &
PIDS+=($!); PID_OF[n1]=$!
bird_start prov bird "router id 192.0.2.2;
protocol device {}
protocol bgp a { local 192.0.2.2 as 10013; neighbor 192.0.2.1 as 10012; password \"testkey1\";
	hold time 3; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }
protocol bgp c { local 192.0.2.10 as 65010; neighbor 192.0.2.9 as 64512;
	hold time 3; connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"
for _ in $(seq 50); do curl -s -o /dev/null "$API/" && break; sleep 0.1; done
AT=$(curl -s -u "$AID:$ASEC" -d grant_type=client_credentials "$API/oauth2/v1/token" | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
curl -s -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' \
	-d "{\"authenticationKey\":\"testkey1\",\"connectionUuid\":\"$ACON\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}" > /dev/null
wait_until 20 "API peering Established (BIRD)" bird_up bird a
wait_until 20 "node peer Established (BIRD)" bird_up bird c
wait_until 10 "both up in status" bash -c "'$TABBYCTL' status --node=n1 | grep -E '^\| 192\.0\.2\.2 .*\| up ' && '$TABBYCTL' status --node=n1 | grep -E '^\| 192\.0\.2\.10 .*\| up '"

db() { sqlite3 -cmd ".timeout 5000" "$T/tabby.db" "$@"; }
bird_has_ours() { birdc -s "$T/bird/bird.ctl" show route for 203.0.113.0/24 protocol c | grep -q 203.0.113.0/24; }
export T; export -f bird_has_ours
# The change, then the break: the table away and the history up to the change compacted,
# so that the agent's watch, behind it, must re-read the broken table. The agent is held
# (SIGSTOP, 1 s: less than the hold time) meanwhile, so that its watch cannot take the
# change first.
kill -STOP "${PID_OF[n1]}"
ctl node prefix add 203.0.113.0/24 --node=n1
db "ALTER TABLE kv RENAME TO kv_away; DELETE FROM log;
	UPDATE meta SET v = (SELECT v FROM meta WHERE k = 'rev') + 1 WHERE k = 'compact_rev';"
broke_at=$SECONDS
kill -CONT "${PID_OF[n1]}"
wait_until 5 "the agent's re-read failed" grep -q "store watch: cannot re-read the configuration: .*no such table: kv.*as last read stays" "$T/n1.log"
grep "store watch: " "$T/n1.log" | tail -n 3
bird_has_ours && die "the change was applied although the read that carries it failed"

# 10 s of failing reads: both sessions stay up on both sides.
while [ $((SECONDS - broke_at)) -lt 10 ]; do
	bird_up bird a || die "the API peering went down while reads failed"
	bird_up bird c || die "the node peer went down while reads failed"
	grep -q "Peer de-configured\|Peer De-configured" "$T/n1.log" "$T/bird/bird.log" && die "a session was de-configured"
	sleep 0.5
done
echo "10 s of failing reads: the API peering and the node peer stayed Established"
db "ALTER TABLE kv_away RENAME TO kv;"
# No further change: the agent's retry applies the prefix, and status is written again.
wait_until 15 "the change applied by the retry: BIRD has our prefix" bird_has_ours
bird_up bird a && bird_up bird c || die "a session went down"
wait_until 10 "status written again" bash -c "'$TABBYCTL' status --node=n1 | grep -E '^\| 192\.0\.2\.10 .*\| up '"
n=$(grep -c "store watch: cannot re-read" "$T/n1.log")
echo "failed re-reads logged: $n (one per back-off step, 0.1 s doubling to 5 s)"
[ "$n" -le 10 ] || die "the failing re-read was logged $n times in 10 s: not once per back-off step"
grep -E "store watch|reconcile|datastore:" "$T/n1.log" | cut -c1-170 | tail -n 12
echo "failed reads: sessions kept, the change applied by the retry once the store read again"
