#!/usr/bin/env bash
# tabbyd --metrics with a real BIRD peer: the scrape follows the session up (state,
# uptime, prefixes received/accepted/sent, UPDATEs), then down by a Cease from BIRD
# (NOTIFICATION code 6 counted, FSM transitions counted, state leaves established),
# and `promtool check metrics` accepts every scrape. Kernel route operations follow the
# routes (in node1's namespace); with the datastore locked, tabby_datastore_up is 0 and
# write errors are counted. Wrong paths and methods are refused.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; exec 3>&- 2>/dev/null; netns_cleanup' EXIT
set -e
command -v promtool >/dev/null || die "promtool not installed (scripts/deps: prometheus)"
lan_up
host_add node1 1
host_add bird 10
"$TABBYCTL" bgp default-node-as 64512
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=node1 2>/dev/null || true
# Kernel routes on (inside node1's namespace only), so that their counters move too.
TABBYD_FIB=kernel tabbyd_start node1 node1 1 --metrics 192.0.2.1:9179
bird_start bird bird "router id 192.0.2.10;
protocol device {}
protocol static s4 { ipv4; route 198.51.100.0/24 blackhole; route 198.51.100.128/25 blackhole; }
protocol bgp tabby {
	local 192.0.2.10 as 64555; neighbor 192.0.2.1 as 64512;
	hold time 9; connect retry time 1; error wait time 1,3;
	ipv4 { import all; export all; };
}"
wait_until 10 "tabbyd registered" "$TABBYCTL" status --node=node1
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555

scrape() { nsx bird curl -sf --max-time 5 http://192.0.2.1:9179/metrics > "$T/scrape.txt"; }
# metric NAME LABELS: the value of the sample NAME{LABELS} in the last scrape.
metric() {
	local k=$1
	[ -z "$2" ] || k="$1{$2}"
	awk -v k="$k" '$1 == k { print $2 }' "$T/scrape.txt"
}
has() { scrape && [ "$(metric "$1" "$2")" = "$3" ]; }
has_more() { scrape && [ "$(metric "$1" "")" -ge "$2" ]; }
check() { promtool check metrics < "$T/scrape.txt" || die "promtool check metrics failed on the scrape above"; }
P='peer="192.0.2.10",type="global"'

wait_until 10 "session up in the scrape" has tabby_bgp_session_up "$P" 1
wait_until 5 "2 prefixes received" has tabby_bgp_session_prefixes_received "$P" 2
wait_until 5 "2 prefixes accepted" has tabby_bgp_session_prefixes_accepted "$P" 2
scrape; check
[ "$(metric tabby_bgp_session_state "$P,state=\"established\"")" = 1 ] || die "state not established"
[ "$(metric tabby_bgp_session_state "$P,state=\"idle\"")" = 0 ] || die "idle should be 0"
[ "$(metric tabby_bgp_session_updates_received_total "$P")" -ge 1 ] || die "no UPDATE counted"
[ "$(metric tabby_bgp_sessions "")" = 1 ] || die "tabby_bgp_sessions"
[ "$(awk '$1 == "tabby_rib_prefixes" { print $2 }' "$T/scrape.txt")" -ge 2 ] || die "Loc-RIB size"
[ "$(awk '$1 == "tabby_datastore_up" { print $2 }' "$T/scrape.txt")" = 1 ] || die "datastore up"
[ "$(awk '$1 == "tabby_datastore_write_duration_seconds_count" { print $2 }' "$T/scrape.txt")" -ge 1 ] ||
	die "no datastore write timed"
sleep 2; scrape
[ "$(metric tabby_bgp_session_uptime_seconds "$P")" -ge 1 ] || die "uptime does not run"
kops=$(metric tabby_kernel_route_operations_total "")
[ "${kops:-0}" -ge 2 ] || die "BIRD's 2 routes made ${kops:-no} kernel route operations"
[ "$(metric tabby_kernel_route_failures_total "")" = 0 ] || die "kernel route failures"
nsx node1 ip route show proto 201 | grep -q '^198\.51\.100\.0/24 via 192\.0\.2\.10' || die "no kernel route"
t_up=$(metric tabby_bgp_session_fsm_transitions_total "$P")

# Down: BIRD sends a Cease (code 6); tabbyd counts it and leaves Established.
birdc -s "$T/bird/bird.ctl" disable tabby > /dev/null
wait_until 5 "session down in the scrape" has tabby_bgp_session_up "$P" 0
scrape; check
[ "$(metric tabby_bgp_session_notifications_received_total "$P,code=\"6\"")" = 1 ] ||
	die "the Cease was not counted under code 6"
[ "$(metric tabby_bgp_session_state "$P,state=\"established\"")" = 0 ] || die "still established"
[ "$(metric tabby_bgp_session_uptime_seconds "$P")" = 0 ] || die "uptime while down"
[ "$(metric tabby_bgp_session_prefixes_received "$P")" = 0 ] || die "prefixes kept while down"
[ "$(metric tabby_bgp_session_prefixes_accepted "$P")" = 0 ] || die "accepted kept while down"
[ "$(metric tabby_bgp_session_fsm_transitions_total "$P")" -gt "$t_up" ] || die "no FSM transition counted"
wait_until 5 "the kernel routes removed, counted" has_more tabby_kernel_route_operations_total "$((kops + 1))"

# Up again: the values follow.
birdc -s "$T/bird/bird.ctl" enable tabby > /dev/null
wait_until 10 "session up again" has tabby_bgp_session_up "$P" 1
wait_until 5 "2 prefixes again" has tabby_bgp_session_prefixes_accepted "$P" 2
[ "$(metric tabby_bgp_session_established_total "$P")" = 2 ] || die "established twice"
check

# The datastore locked by another process (an open BEGIN EXCLUSIVE): the status writes
# fail, tabby_datastore_up goes 0 and the errors are counted; unlocked, it is 1 again.
errs=$(metric tabby_datastore_write_errors_total "")
mkfifo "$T/lock.in"
sqlite3 "$T/tabby.db" < "$T/lock.in" > "$T/lock.out" 2>&1 &
LOCK_PID=$!; PIDS+=($LOCK_PID)
exec 3> "$T/lock.in"
printf ".timeout 5000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n" >&3
wait_until 10 "the datastore locked" grep -q locked "$T/lock.out"
birdc -s "$T/bird/bird.ctl" disable tabby > /dev/null   # a state change: a status write
wait_until 10 "tabby_datastore_up 0 while locked" has tabby_datastore_up "" 0
[ "$(metric tabby_datastore_write_errors_total "")" -gt "$errs" ] || die "write errors not counted"
check
printf 'COMMIT;\n.quit\n' >&3
exec 3>&-
wait "$LOCK_PID"
wait_until 15 "tabby_datastore_up 1 once unlocked" has tabby_datastore_up "" 1
birdc -s "$T/bird/bird.ctl" enable tabby > /dev/null

# The docs name only metrics that exist: every tabbyd metric the alert rules and the
# Grafana dashboard use is in the scrape; the rules and every dashboard query parse.
top=$(cd "$(dirname "$0")/../.." && pwd)
promtool check rules "$top/docs/prometheus-alerts.yml" || die "alert rules"
python3 - "$top/docs/grafana-dashboard.json" > "$T/dash-rules.yml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
for i, p in enumerate(d["panels"]):
    for t in p["targets"]:
        e = t["expr"].replace("$instance", ".*")
        print(f"      - record: dashboard:panel{i}:{t['refId']}\n        expr: {json.dumps(e)}")
PY
promtool check rules "$T/dash-rules.yml" > /dev/null || die "a dashboard query does not parse"
for name in $(cat "$top/docs/prometheus-alerts.yml" "$top/docs/grafana-dashboard.json" |
		grep -oE 'tabby_[a-z_]+' | grep -v '^tabby_api_' | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
	grep -qE "^# TYPE $name " "$T/scrape.txt" || die "the docs use $name, which tabbyd does not serve"
done

# Only GET/HEAD /metrics.
code() { nsx bird curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
[ "$(code http://192.0.2.1:9179/other)" = 404 ] || die "other path not 404"
[ "$(code -X POST http://192.0.2.1:9179/metrics)" = 405 ] || die "POST not 405"
[ "$(code -I http://192.0.2.1:9179/metrics)" = 200 ] || die "HEAD not 200"
# On the embedded datastore, libcurl (etcd's client) and its TLS, Kerberos and LDAP
# libraries stay unloaded: about 5 MB of resident memory a node on SQLite never needs.
! grep -q 'libcurl' "/proc/${PID_OF[node1]}/maps" || die "tabbyd on SQLite has libcurl mapped"
echo "metrics: session up/down/up followed, Cease counted under code 6, promtool check metrics passes, no libcurl on SQLite"
