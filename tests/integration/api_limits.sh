#!/usr/bin/env bash
# tabby-api's token endpoint under attack (loopback; 127.0.0.x and 127.1.x.y are distinct
# source addresses): secret checks never hold up bearer-token requests, a known and an
# unknown client_id take as long to refuse, failures are limited per address and per
# client and address (whole keys), and nobody elsewhere can lock a tenant out.
. "$(dirname "$0")/api_lib.bash"
LOAD="python3 $(dirname "$0")/api_load.py"
tenants
api_start "$T/api.log"
AT=$(token "$AID" "$ASEC")
# tok SRC ID SECRET: a token request from SRC; status in $ST
tok() { raw --interface "$1" -u "$2:$3" -d grant_type=client_credentials "$API/oauth2/v1/token"; }

# Bearer requests do not wait behind argon2: 6 connections of wrong secrets (for 40
# clients, each request from another address, so that no limit stops them before the
# check) while we GET.
IDS=$(for i in $(seq 40); do client "x$i" | field client_id; done | paste -sd,)
idle=$($LOAD latency 127.0.0.1 "$PORT" "$AT" 300)
$LOAD hammer 127.0.0.1 "$PORT" "$IDS" 8 6 > "$T/hammer" & HP=$!; PIDS+=("$HP")
sleep 1
busy=$($LOAD latency 127.0.0.1 "$PORT" "$AT" 300)
wait "$HP"
echo "GET latency (ms): idle $idle; with 6 connections of wrong secrets $busy (answers $(cat "$T/hammer"))"
WHAT="GET p99 while secrets are checked"; ST=$(echo "$busy" | awk '{print ($4 < 200) ? "ok" : "slow"}'); BODY=$busy; expect ok

# A known and an unknown client_id take as long to refuse (within 30%).
# Taken in turns, so that the machine's load weighs on both alike.
read -r known unknown < <($LOAD reject 127.0.0.1 "$PORT" "$AID" 00000000-0000-4000-8000-00000000abcd 9 127.0.0.3 127.0.0.4)
echo "refusal (median ms): known id $known, unknown id $unknown"
WHAT="refusal times"; ST=$(awk -v a="$known" -v b="$unknown" 'BEGIN { r = a > b ? b / a : a / b; print (r >= 0.7) ? "ok" : "apart" }'); BODY="$known vs $unknown"; expect ok

# Someone at 127.0.0.2 guesses acme's secret: refused, then limited (429)...
for _ in $(seq 12); do tok 127.0.0.2 "$AID" wrong; done
WHAT="guesser limited"; expect 429 slow_down
WHAT="guesser limited, right secret from its address"; tok 127.0.0.2 "$AID" "$ASEC"; expect 429
# ...but acme, from its own address, gets its token.
WHAT="no lock-out"; tok 127.0.0.1 "$AID" "$ASEC"; expect 200 access_token

# Whole ids: a client_id sharing beta's bucket in a 1,024-slot hash used to reset its count.
TWIN=$(python3 - "$BID" <<'PY'
import sys, uuid
def h(s):
    v = 5381
    for c in s.encode():
        v = (v * 33 + c) & 0xffffffff
    return v % 1024
want = h(sys.argv[1])
while True:
    u = str(uuid.uuid4())
    if h(u) == want and u != sys.argv[1]:
        print(u); break
PY
)
for _ in $(seq 11); do tok 127.0.0.5 "$BID" wrong; done
WHAT="beta limited at 127.0.0.5"; expect 429
WHAT="beta limited at 127.0.0.5, id in upper case"; tok 127.0.0.5 "$(echo "$BID" | tr a-f A-F)" wrong; expect 429
tok 127.0.0.5 "$TWIN" wrong
WHAT="still limited after a request for a hash twin"; tok 127.0.0.5 "$BID" wrong; expect 429

# A client_id that is not a UUID is refused before the limits (and counts for no one).
for _ in $(seq 25); do tok 127.0.0.6 not-a-uuid wrong; done
WHAT="malformed client_id"; expect 401 '"error":"invalid_client".*UUID'
WHAT="right secret after malformed ids"; tok 127.0.0.6 "$AID" "$ASEC"; expect 200 access_token

# Stopped while secrets are being checked: a clean exit (libmicrohttpd aborts when
# stopped with a request suspended, so the checks are drained first).
$LOAD hammer 127.0.0.1 "$PORT" "$IDS" 3 6 > /dev/null 2>&1 & HP=$!; PIDS+=("$HP")
sleep 1
api_stop "$T/api.log"
wait "$HP" || true
PASSED=$((PASSED + 1))
echo "api_limits: $PASSED checks"
