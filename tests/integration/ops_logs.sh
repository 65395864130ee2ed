#!/usr/bin/env bash
# Running under a service manager (issue 19): tabbyd and tabby-api log as text or JSON
# (--log-format), without their own timestamp and with sd-daemon priorities when stderr
# is the journal (JOURNAL_STREAM), report READY=1 on $NOTIFY_SOCKET only once they
# serve (and STOPPING=1 on SIGTERM), and tabbyd's log level changes at run time with
# tabbyctl node log-level, seen in its log.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
here=$(cd "$(dirname "$0")" && pwd)
lan_up
host_add n1 1

# Bad values are refused with what is accepted.
out=$("$BUILD/tabbyd" --log-format=xml 2>&1) && die "tabbyd took --log-format=xml"
echo "$out" | grep -q "invalid --log-format 'xml'; accepted: text, json" || die "tabbyd: $out"
out=$("$BUILD/tabby-api" --log-format=xml 2>&1) && die "tabby-api took --log-format=xml"
echo "$out" | grep -q "invalid --log-format 'xml'; accepted: text, json" || die "tabby-api: $out"

# Every line parses as JSON, with time, level, program and msg.
json_lines() {  # FILE PROGRAM: every line a JSON object of PROGRAM's; at least one
	python3 - "$1" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    if "Sanitizer" in line or line.startswith("=="):
        continue
    o = json.loads(line)
    assert {"time", "level", "program", "msg"} <= o.keys(), o
    assert o["program"] == sys.argv[2], o
    n += 1
assert n > 0, "no lines"
print(n, "JSON lines")
PY
}

# tabbyd, JSON, with a notify socket that probes its control socket on READY=1.
ip netns exec "$(ns_of n1)" python3 "$here/notify_listen.py" "$T/notify-d" "unix:$T/n1.sock" \
	> "$T/notify-d.out" 2>&1 &
PIDS+=($!)
wait_until 5 "notify socket bound" test -S "$T/notify-d"
NOTIFY_SOCKET=$T/notify-d tabbyd_start n1 n1 1 --log-format=json
wait_until 10 "tabbyd told the notify socket READY=1" grep -q "READY=1" "$T/notify-d.out"
grep -q "READY=1 serving" "$T/notify-d.out" || die "READY=1 before the control socket served: $(cat "$T/notify-d.out")"

# The log level, live: shown, raised to debug (debug lines follow), lowered to warn.
[ "$("$TABBYCTL" node log-level --node=n1)" = debug ] || die "log level not debug at start"
"$TABBYCTL" node log-level warn --node=n1 | grep -qx "Log level of node n1 set to warn (was debug)."
[ "$("$TABBYCTL" node log-level --node=n1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["log_level"])')" = warn ]
grep -q '"msg":"log level warn (was debug), set on the control socket"' "$T/n1.log" ||
	die "the change is not in the log"
lines=$(wc -l < "$T/n1.log")
"$TABBYCTL" node prefix add 203.0.113.0/24 --node=n1
sleep 2
tail -n +"$((lines + 1))" "$T/n1.log" | grep -q '"level":"debug"' && die "debug lines at level warn"
"$TABBYCTL" node log-level debug --node=n1 >/dev/null
lines=$(wc -l < "$T/n1.log")
"$TABBYCTL" node prefix remove 203.0.113.0/24 --node=n1
wait_until 5 "debug lines again after log-level debug" bash -c \
	"tail -n +$((lines + 1)) '$T/n1.log' | grep -q '\"level\":\"debug\"'"
out=$("$TABBYCTL" node log-level loud --node=n1 2>&1) && die "log-level loud accepted"
echo "$out" | grep -q "expected \[debug|info|warn|error\]" || die "log-level loud: $out"

kill -TERM "${PID_OF[n1]}"
wait "${PID_OF[n1]}" || die "tabbyd did not exit 0 on SIGTERM"
wait_until 5 "STOPPING=1 on SIGTERM" grep -q "STOPPING=1" "$T/notify-d.out"
json_lines "$T/n1.log" tabbyd

# Under the journal: stderr is the stream JOURNAL_STREAM names, so no timestamp and a
# "<N>" priority on each line, text or JSON.
: > "$T/j1.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/j1.log") ip netns exec "$(ns_of n1)" "$BUILD/tabbyd" --node j1 \
	--ip 192.0.2.1 --listen-port 1790 --control "$T/j1.sock" --no-fib >> "$T/j1.log" 2>&1 &
PIDS+=($!)
PID_OF[j1]=$!
wait_until 10 "j1 up" grep -q "node j1 up" "$T/j1.log"
kill -TERM "${PID_OF[j1]}"
wait "${PID_OF[j1]}" || die "j1 did not exit 0"
grep -qx "<6>tabbyd info: node j1 up: BGP port 1790, control $T/j1.sock, datastore sqlite:$T/tabby.db, no kernel routes" \
	"$T/j1.log" || die "journal line not as expected: $(head -3 "$T/j1.log")"
grep -vE '^<[3467]>tabbyd (debug|info|warning|error|fatal): ' "$T/j1.log" | grep -v Sanitizer | grep -q . &&
	die "a journal line without its priority: $(grep -vE '^<[3467]>' "$T/j1.log" | head -3)"
# JOURNAL_STREAM naming another stream (a child's stderr went elsewhere): ordinary lines.
: > "$T/j2.log"
JOURNAL_STREAM=1:1 ip netns exec "$(ns_of n1)" "$BUILD/tabbyd" --node j2 --ip 192.0.2.1 \
	--listen-port 1790 --control "$T/j2.sock" --no-fib --log-format json >> "$T/j2.log" 2>&1 &
PIDS+=($!)
PID_OF[j2]=$!
wait_until 10 "j2 up" grep -q "node j2 up" "$T/j2.log"
: > "$T/j3.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/j3.log") ip netns exec "$(ns_of n1)" "$BUILD/tabbyd" --node j3 \
	--ip 192.0.2.1 --listen-port 1791 --control "$T/j3.sock" --no-fib --log-format json >> "$T/j3.log" 2>&1 &
PIDS+=($!)
PID_OF[j3]=$!
wait_until 10 "j3 up" grep -q "node j3 up" "$T/j3.log"
kill -TERM "${PID_OF[j2]}" "${PID_OF[j3]}"
wait "${PID_OF[j2]}" && wait "${PID_OF[j3]}" || die "j2 or j3 did not exit 0"
json_lines "$T/j2.log" tabbyd
grep -q '"time":' "$T/j2.log" || die "no timestamp without the journal"
grep -q '^<6>{"level":"info","program":"tabbyd","msg":"node j3 up' "$T/j3.log" ||
	die "JSON under the journal: $(head -2 "$T/j3.log")"
grep -q '"time":' "$T/j3.log" && die "a timestamp under the journal"

# tabby-api: JSON lines, READY=1 once it answers HTTP, STOPPING=1 on SIGTERM.
ip netns exec "$(ns_of n1)" python3 "$here/notify_listen.py" "$T/notify-a" "tcp:127.0.0.1:8080" \
	> "$T/notify-a.out" 2>&1 &
PIDS+=($!)
wait_until 5 "notify socket bound" test -S "$T/notify-a"
NOTIFY_SOCKET=$T/notify-a ip netns exec "$(ns_of n1)" "$BUILD/tabby-api" --listen 127.0.0.1:8080 \
	--log-format json >> "$T/api.log" 2>&1 &
PIDS+=($!)
api=$!
wait_until 10 "tabby-api told the notify socket READY=1" grep -q "READY=1" "$T/notify-a.out"
grep -q "READY=1 serving" "$T/notify-a.out" || die "tabby-api READY=1 before it served"
kill -TERM "$api"
wait "$api" || die "tabby-api did not exit 0 on SIGTERM"
wait_until 5 "tabby-api STOPPING=1" grep -q "STOPPING=1" "$T/notify-a.out"
json_lines "$T/api.log" tabby-api
echo "logs: JSON lines parse, journal lines carry priorities and no timestamp, READY=1 only when serving, log level changed live"
