#!/usr/bin/env bash
# The agent's watch falls behind the store's compaction (tabbyd held with SIGSTOP while
# 10,600 other writes go by; the SQLite store keeps 10,000 revisions of history): on
# SIGCONT it watches again from now and re-reads everything, without touching its
# session, and applies the change made while it was stopped.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; [ -n "${PID_OF[n1]:-}" ] && kill -CONT "${PID_OF[n1]}" 2>/dev/null; netns_cleanup' EXIT
set -e
lan_up
host_add n1 1
host_add bird 10
"$TABBYCTL" bgp node-mesh off
"$TABBYCTL" node bgp peer add 192.0.2.10 as 65010 --node=n1
# Hold times of 10 minutes: the writes below take tabbyd's 90 s and more on a busy machine,
# and a hold timer that runs out while tabbyd is stopped is not what this tests.
tabbyd_start n1 n1 1 --as 64512 --hold-time 600
bird_start bird bird "router id 192.0.2.10;
protocol device {}
protocol bgp tabby { local 192.0.2.10 as 65010; neighbor 192.0.2.1 as 64512; hold time 600;
	connect retry time 1; error wait time 1,2; ipv4 { import all; export none; }; }"
wait_until 20 "BIRD up" bird_up bird tabby
bird_has_ours() { birdc -s "$T/bird/bird.ctl" show route for 203.0.113.0/24 | grep -q 203.0.113.0/24; }

kill -STOP "${PID_OF[n1]}"
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=n1
"$BUILD/store_stress" write "$TABBY_DATASTORE" /tabby/v1/test/ 10600 > /dev/null
kill -CONT "${PID_OF[n1]}"
wait_until 10 "the watch reopened after compaction" grep -q "store watch: .*compacted.*re-reading" "$T/n1.log"
wait_until 10 "the change made meanwhile applied: BIRD has our prefix" bird_has_ours
bird_up bird tabby || die "the session went down"
grep -q "session down" "$T/n1.log" && die "the session was reset"
echo "watch behind compaction: reopened, configuration re-read, session untouched"
