#!/usr/bin/env bash
# Writes that race, over real HTTP with curl against a real tabby-api (and, for peerings
# an agent holds, a real tabbyd in its own network namespace). 12 rounds each ($ROUNDS),
# every round must come out right:
#  - 20 parallel POSTs on one connection: exactly one 202, the others 409 with a JSON error;
#  - 4 PUTs, a DELETE and 4 more PUTs in parallel: the DELETE wins (202), and the peering
#    never comes back -- on a node without an agent (deleted at once) and on a node whose
#    agent holds a FAILED peering (DEPROVISIONING, then gone);
#  - a token request racing `api-client remove`, `api-client rotate-secret`,
#    `api-user remove` and `api-user passwd`: whatever token it got is refused afterwards.
# Also: ETag / If-Match (412), a DEPROVISIONING peering blocks a new POST until gone, and
# the MD5 key leaves no bytes in the datastore file or its WAL once replaced or deleted.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || tail -n 30 "$T"/*.log >&2; netns_cleanup' EXIT
set -e
ROUNDS=${ROUNDS:-12}
fail() { echo "FAIL: $*" >&2; exit 1; }
ctl() { "$TABBYCTL" "$@"; }
field() { echo "$1" | sed -n "s/.*\"$2\": \"\\(.*\\)\".*/\\1/p"; }

A=$(ctl api-client create acme -o json); AID=$(field "$A" client_id); ASEC=$(field "$A" client_secret)
N1=$(ctl device create --node=n1 --owner="$AID")
DEVNS+=("$(dev_ns "$N1")")   # the agent makes its namespace for the FAILED peerings
# A new device on node ghost, which never runs an agent: one device's peerings may not overlap (issue 15),
# and every connection here uses the same addresses.
ghost() { ctl device create --node=ghost --owner="$AID"; }

api_serve "$T/api.log" --threads 8; API=http://127.0.0.1:$SERVED_PORT
tok() { curl -s -u "$1:$2" -d grant_type=client_credentials "$API/oauth2/v1/token" | sed -n 's/.*"access_token":"\([0-9a-f]*\)".*/\1/p'; }
AT=$(tok "$AID" "$ASEC"); [ -n "$AT" ] || fail "no token"

# req ID METHOD PATH [BODY] [EXTRA CURL ARGS...]: the answer in $T/ID.body, status in $T/ID.st.
req() {
	local id=$1 m=$2 p=$3 body=${4:-}; shift 4 || shift $#
	curl -s -o "$T/$id.body" -w '%{http_code}' -X "$m" "$API$p" -H "Authorization: Bearer $AT" \
		${body:+-H 'Content-Type: application/json' --data-binary "$body"} "$@" > "$T/$id.st"
	record "$m" "$p" "$(cat "$T/$id.st")" "$T/$id.body"
}
record() {  # METHOD PATH STATUS BODYFILE: kept for the check against docs/openapi.yaml
	[ -n "${API_RECORD:-}" ] || return 0
	printf '{"method":"%s","path":"%s","status":%s,"body":%s}\n' "$1" "$2" "$3" "$(cat "$4")" >> "$API_RECORD"
}
st() { cat "$T/$1.st"; }
body() { cat "$T/$1.body"; }
peering() { echo "{\"authenticationKey\":\"${3:-testkey1}\",\"connectionUuid\":\"$1\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":${2:-10013},\"remoteIpAddress\":\"192.0.2.2\"}"; }
replace() { echo "{\"authenticationKey\":\"${2:-testkey1}\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":$1,\"remoteIpAddress\":\"192.0.2.2\"}"; }
uuid_of() { sed -n 's/.*"uuid":"\([0-9a-f-]*\)".*/\1/p' "$T/$1.body"; }

# 1. Parallel POSTs on one connection.
for r in $(seq "$ROUNDS"); do
	C=$(ctl connection create --device="$(ghost)" --interface="p$r")
	J=(); for i in $(seq 20); do req "post$i" POST /ne/v1/bgp "$(peering "$C")" & J+=($!); done
	wait "${J[@]}"
	ok=0
	for i in $(seq 20); do
		case $(st "post$i") in
		202) ok=$((ok + 1)) ;;
		409) body "post$i" | grep -q '"errorCode":"CONFLICT"' || fail "round $r: 409 without a JSON error: $(body "post$i")" ;;
		*) fail "round $r: POST answered $(st "post$i"): $(body "post$i")" ;;
		esac
	done
	[ $ok = 1 ] || fail "round $r: $ok POSTs on one connection answered 202"
	req list GET "/ne/v1/bgp?connectionUuid=$C"
	body list | grep -q '"total":1' || fail "round $r: the connection lists $(body list)"
done
echo "parallel POSTs: $ROUNDS rounds of 20, one 202 each"

# 2a. PUT against DELETE on a node without an agent: the DELETE deletes at once.
for r in $(seq "$ROUNDS"); do
	C=$(ctl connection create --device="$(ghost)" --interface="q$r")
	req new POST /ne/v1/bgp "$(peering "$C")"; [ "$(st new)" = 202 ] || fail "round $r: POST $(st new)"
	P=$(uuid_of new)
	J=(); for i in 1 2 3 4; do req "put$i" PUT "/ne/v1/bgp/$P" "$(replace $((10100 + i)))" & J+=($!); done
	req del DELETE "/ne/v1/bgp/$P" & J+=($!)
	for i in 5 6 7 8; do req "put$i" PUT "/ne/v1/bgp/$P" "$(replace $((10100 + i)))" & J+=($!); done
	wait "${J[@]}"
	[ "$(st del)" = 202 ] || fail "round $r: DELETE answered $(st del): $(body del)"
	for i in $(seq 8); do
		case $(st "put$i") in 202|404|409) ;; *) fail "round $r: PUT answered $(st "put$i"): $(body "put$i")" ;; esac
	done
	req after GET "/ne/v1/bgp/$P"
	[ "$(st after)" = 404 ] || fail "round $r: after DELETE the peering answers $(st after): $(body after)"
	# Nothing piles up: the connection is free again.
	req again POST /ne/v1/bgp "$(peering "$C")"; [ "$(st again)" = 202 ] || fail "round $r: POST after DELETE: $(st again) $(body again)"
done
echo "PUT against DELETE, no agent: $ROUNDS rounds, deleted at once and never back"

# ETag and If-Match.
C=$(ctl connection create --device="$(ghost)" --interface=etag0)
curl -s -D "$T/h" -o "$T/b" -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' --data-binary "$(peering "$C")"
P=$(sed -n 's/.*"uuid":"\([0-9a-f-]*\)".*/\1/p' "$T/b")
E1=$(sed -n 's/^ETag: *\([^\r]*\)\r*$/\1/ip' "$T/h"); [ -n "$E1" ] || fail "POST gave no ETag"
curl -s -D "$T/h" -o /dev/null "$API/ne/v1/bgp/$P" -H "Authorization: Bearer $AT"
[ "$(sed -n 's/^ETag: *\([^\r]*\)\r*$/\1/ip' "$T/h")" = "$E1" ] || fail "GET's ETag differs from POST's"
req m1 PUT "/ne/v1/bgp/$P" "$(replace 10201)" -H "If-Match: $E1" -D "$T/h"; [ "$(st m1)" = 202 ] || fail "PUT If-Match current: $(st m1)"
E2=$(sed -n 's/^ETag: *\([^\r]*\)\r*$/\1/ip' "$T/h"); [ -n "$E2" ] && [ "$E2" != "$E1" ] || fail "PUT gave no new ETag"
req m2 PUT "/ne/v1/bgp/$P" "$(replace 10202)" -H "If-Match: $E1"
[ "$(st m2)" = 412 ] && body m2 | grep -q PRECONDITION_FAILED || fail "PUT If-Match stale: $(st m2) $(body m2)"
req m3 DELETE "/ne/v1/bgp/$P" "" -H "If-Match: $E1"; [ "$(st m3)" = 412 ] || fail "DELETE If-Match stale: $(st m3)"
req m4 GET "/ne/v1/bgp/$P"; body m4 | grep -q '"remoteAsn":10201' || fail "a stale If-Match wrote: $(body m4)"
req m5 DELETE "/ne/v1/bgp/$P" "" -H "If-Match: $E2"; [ "$(st m5)" = 202 ] || fail "DELETE If-Match current: $(st m5)"
echo "ETag / If-Match: 412 on a stale revision, nothing written"

# The MD5 key keeps no history: after a PUT with a new key and after the DELETE, the old
# key's bytes are nowhere in the datastore file or its WAL (after a checkpoint).
C=$(ctl connection create --device="$(ghost)" --interface=md50)
req k1 POST /ne/v1/bgp "$(peering "$C" 10013 OldMd5Key-one)"; P=$(uuid_of k1)
req k2 PUT "/ne/v1/bgp/$P" "$(replace 10013 NewMd5Key-two)"; [ "$(st k2)" = 202 ] || fail "PUT new key: $(st k2)"
in_db() {  # KEY: is it anywhere in the file or its WAL?
	sqlite3 "$T/tabby.db" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
	cat "$T/tabby.db" "$T/tabby.db-wal" 2>/dev/null | grep -qa "$1"
}
in_db NewMd5Key-two || fail "the current key is not in the datastore (test is blind)"
in_db OldMd5Key-one && fail "the replaced MD5 key is still in the datastore file"
req k3 DELETE "/ne/v1/bgp/$P"; [ "$(st k3)" = 202 ] || fail "DELETE: $(st k3)"
in_db NewMd5Key-two && fail "the deleted MD5 key is still in the datastore file"
echo "MD5 keys: no bytes left after PUT and DELETE"

# 2b. A node whose agent holds the peering (FAILED: its interface does not exist there).
ip netns add "$(ns_of n1)"; NSS+=("$(ns_of n1)"); nsx n1 ip link set lo up
ip netns exec "$(ns_of n1)" "$BUILD/tabbyd" --node n1 --router-id 198.51.100.1 --as 64512 \
	--listen-port 1179 --control "$T/n1.sock" --no-fib > "$T/n1.log" 2>&1 & PIDS+=($!); AGENT=$!
wait_until 10 "agent n1 registered" bash -c "'$TABBYCTL' node show 2>/dev/null | grep -q n1" > /dev/null
status_is() { req s GET "/ne/v1/bgp/$1"; body s | grep -q "\"provisioningStatus\":\"$2\""; }
gone() { req s GET "/ne/v1/bgp/$1"; [ "$(st s)" = 404 ]; }
for r in $(seq "$ROUNDS"); do
	C=$(ctl connection create --device="$N1" --interface="nosuch$r")
	req new POST /ne/v1/bgp "$(peering "$C")"; P=$(uuid_of new)
	wait_until 10 "round $r: FAILED" status_is "$P" FAILED > /dev/null
	J=(); for i in 1 2 3 4; do req "put$i" PUT "/ne/v1/bgp/$P" "$(replace $((10300 + i)))" & J+=($!); done
	req del DELETE "/ne/v1/bgp/$P" & J+=($!)
	for i in 5 6 7 8; do req "put$i" PUT "/ne/v1/bgp/$P" "$(replace $((10300 + i)))" & J+=($!); done
	wait "${J[@]}"
	[ "$(st del)" = 202 ] || fail "round $r: DELETE answered $(st del): $(body del)"
	req s GET "/ne/v1/bgp/$P"
	case $(st s) in
	404) ;;
	200) body s | grep -q '"provisioningStatus":"DEPROVISIONING"' || fail "round $r: after DELETE: $(body s)" ;;
	*) fail "round $r: GET after DELETE: $(st s)" ;;
	esac
	req put9 PUT "/ne/v1/bgp/$P" "$(replace 10309)"
	case $(st put9) in 404|409) ;; *) fail "round $r: a PUT after the DELETE answered $(st put9)" ;; esac
	wait_until 10 "round $r: the agent removed it" gone "$P" > /dev/null
done
echo "PUT against DELETE, agent holding a FAILED peering: $ROUNDS rounds, DEPROVISIONING then gone"

# A DEPROVISIONING peering holds its connection until it is gone.
C=$(ctl connection create --device="$N1" --interface=nosuchx)
req new POST /ne/v1/bgp "$(peering "$C")"; P=$(uuid_of new)
wait_until 10 "FAILED" status_is "$P" FAILED > /dev/null
kill -STOP "$AGENT"
req del DELETE "/ne/v1/bgp/$P"; status_is "$P" DEPROVISIONING || fail "not DEPROVISIONING: $(body s)"
req dup POST /ne/v1/bgp "$(peering "$C")"
[ "$(st dup)" = 409 ] || fail "POST while DEPROVISIONING: $(st dup) $(body dup)"
kill -CONT "$AGENT"
wait_until 10 "the agent removed it" gone "$P" > /dev/null
req dup POST /ne/v1/bgp "$(peering "$C")"; [ "$(st dup)" = 202 ] || fail "POST once gone: $(st dup)"
# Its agent stops (for good: SIGUSR1; device_isolation stops one with SIGTERM), and takes
# the device's namespace with it: DELETE no longer waits for anyone.
P=$(uuid_of dup)
wait_until 10 "the device's namespace for its peering" test -e "/run/netns/$(dev_ns "$N1")" > /dev/null
kill -USR1 "$AGENT"; wait "$AGENT" 2>/dev/null || true
[ -e "/run/netns/$(dev_ns "$N1")" ] && fail "the agent's stop for good left $(dev_ns "$N1") behind"
wait_until 10 "agent record gone" bash -c "! sqlite3 '$T/tabby.db' \"select key from kv where key = '/tabby/v1/status/n1/agent'\" | grep -q agent" > /dev/null
req del DELETE "/ne/v1/bgp/$P"; [ "$(st del)" = 202 ] || fail "DELETE, no agent: $(st del)"
gone "$P" || fail "DELETE with no agent left it: $(body s)"
echo "DEPROVISIONING holds the connection (409) until gone; no agent: gone at once"

# 3. Token requests racing the removal or rotation of their credentials.
held=0
race_token() {  # WHAT ROUND CLIENT_ID SECRET [USER PASSWORD] -- then runs "$CHANGE"
	local what=$1 r=$2 id=$3 sec=$4 user=${5:-} pw=${6:-} d j
	if [ -n "$user" ]; then
		curl -s -o "$T/tok.body" "$API/oauth2/v1/token" -u "$id:$sec" -d grant_type=password \
			--data-urlencode "user_name=$user" --data-urlencode "user_password=$pw" & j=$!
	else
		curl -s -o "$T/tok.body" "$API/oauth2/v1/token" -u "$id:$sec" -d grant_type=client_credentials & j=$!
	fi
	d=$(( (r * 37) % 160 ))
	sleep "$(printf '0.%03d' "$d")"
	eval "$CHANGE" > /dev/null
	wait "$j"
	local t
	t=$(sed -n 's/.*"access_token":"\([0-9a-f]*\)".*/\1/p' "$T/tok.body")
	[ -n "$t" ] || return 0
	held=$((held + 1))
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' "$API/ne/v1/bgp" -H "Authorization: Bearer $t")
	[ "$code" = 401 ] || fail "$what, round $r: a token issued in the race still works after it ($code)"
}
for r in $(seq "$ROUNDS"); do
	X=$(ctl api-client create "race$r" -o json); XID=$(field "$X" client_id); XSEC=$(field "$X" client_secret)
	CHANGE="'$TABBYCTL' api-client rotate-secret '$XID'" race_token rotate-secret "$r" "$XID" "$XSEC"
	X=$(ctl api-client create "race$r" -o json); XID=$(field "$X" client_id); XSEC=$(field "$X" client_secret)
	CHANGE="'$TABBYCTL' api-client remove '$XID'" race_token "api-client remove" "$r" "$XID" "$XSEC"
	X=$(ctl api-client create "race$r" -o json); XID=$(field "$X" client_id); XSEC=$(field "$X" client_secret)
	echo "pw-$r-secret" | ctl api-user create --client="$XID" bob > /dev/null
	CHANGE="echo pw-$r-other | '$TABBYCTL' api-user passwd --client='$XID' bob" race_token "api-user passwd" "$r" "$XID" "$XSEC" bob "pw-$r-secret"
	CHANGE="'$TABBYCTL' api-user remove --client='$XID' bob" race_token "api-user remove" "$r" "$XID" "$XSEC" bob "pw-$r-other"
done
echo "token issue against remove/rotate/passwd: $ROUNDS rounds x 4, $held tokens issued in the race, none survived"
