#!/usr/bin/env bash
# Slow and greedy clients against tabby-api (loopback only, bounded: about 40 s, 4,100
# connections): a connection dripping a header byte every 5 s is closed by the header
# deadline, 4,100 idle connections from one address do not keep another address's
# GETs waiting (p99 < 50 ms), and libmicrohttpd's messages about them are rate-limited.
. "$(dirname "$0")/api_lib.bash"
LOAD="python3 $(dirname "$0")/api_load.py"
ulimit -n 16384
tenants
api_start "$T/api.log"
AT=$(token "$AID" "$ASEC")

# The default header deadline (10 s); libmicrohttpd's idle timeout (30 s) alone never fires.
out=$($LOAD drip 127.0.0.1 "$PORT" 5 25 127.0.0.7)
echo "drip, a byte every 5 s: $out"
WHAT="drip closed by the deadline"; ST=$(echo "$out" | awk '/^closed/ { print ($3 <= 12) ? "ok" : "late" } /^open/ { print "open" }'); BODY=$out; expect ok

# 4,100 idle connections from 127.0.0.8 (more than the server's 4,096 in all).
: > "$T/idle"
$LOAD idle 127.0.0.1 "$PORT" 4100 127.0.0.8 20 > "$T/idle" & IP=$!; PIDS+=("$IP")
for _ in $(seq 100); do grep -q opened "$T/idle" && break; sleep 0.2; done
grep -q opened "$T/idle" || fail "the idle connections did not open"
lat=$($LOAD latency 127.0.0.1 "$PORT" "$AT" 300 127.0.0.9) || fail "GETs from 127.0.0.9 failed"
echo "GET latency from 127.0.0.9 with 4,100 idle connections from 127.0.0.8: $lat"
WHAT="GET p99 beside 4,100 idle connections"; ST=$(echo "$lat" | awk '{print ($4 < 50) ? "ok" : "slow"}'); BODY=$lat; expect ok
WHAT="a GET from the crowded address"; ST=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.8 "$API/ne/v1/devices" -H "Authorization: Bearer $AT") || true
[ "$ST" = 000 ] || [ "$ST" = 200 ] || fail "$WHAT: $ST"
kill "$IP"; wait "$IP" 2>/dev/null || true

# Thousands of refused connections, a handful of log lines.
n=$(wc -l < "$T/api.log")
echo "log lines: $n"
WHAT="rate-limited log"; ST=$([ "$n" -le 15 ] && echo ok || echo many); BODY="$n lines: $(tail -n 3 "$T/api.log")"; expect ok
api_stop "$T/api.log"
echo "api_slow: $PASSED checks"
