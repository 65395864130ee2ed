#!/usr/bin/env bash
# tabby-api against a hostile tenant (loopback, curl): requests that used to crash the
# server or answer 5xx, and the strict parsing of RFC 6749 §2.3/§3.1 and RFC 6750.
# Every answer is a JSON error naming what was wrong, and the server is still up
# (and, under BUILD=build-asan, clean) at the end.
. "$(dirname "$0")/api_lib.bash"
tenants
api_start "$T/api.log"
AT=$(token "$AID" "$ASEC"); BT=$(token "$BID" "$BSEC")
[ -n "$AT" ] && [ -n "$BT" ] || fail "no tokens"
alive() { curl -s -o /dev/null -w '%{http_code}' "$API/ne/v1/bgp" | grep -q 401 || fail "$WHAT: the server is down"; }
json_error() { echo "$BODY" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["errorCode"] and d[0]["errorMessage"], d' ||
	fail "$WHAT: not a JSON error: $BODY"; }

# --- Crashes and 5xx from any tenant ---
WHAT="query key of 300 characters"; call GET "/ne/v1/bgp?$(printf 'a%.0s' $(seq 300))=1" "$AT"
expect 400 INVALID_QUERY_PARAMETER; alive
WHAT="query key of 254 characters"; call GET "/ne/v1/bgp?$(printf 'a%.0s' $(seq 254))=1" "$AT"
expect 400 INVALID_QUERY_PARAMETER; alive
WHAT="path byte %ff"; call GET "/ne/v1/devices/%ff" "$AT"; expect 400 '"property":"uuid"'; json_error
WHAT="path byte %ff, unknown path"; call GET "/ne/v1/x%ff" "$AT"; expect 404; json_error
WHAT="localAsn -1"; call POST /ne/v1/bgp "$AT" "{\"connectionUuid\":\"$ACON\",\"localAsn\":-1,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}"
expect 400 '"errorMessage":"localAsn -1 is negative; accepted: 1-4294967294'
echo "$BODY" | grep -q '"property":"localAsn"' || fail "$WHAT: $BODY"
WHAT="600 query parameters"; q=$(for i in $(seq 600); do printf 'k%d=1&' "$i"; done)
call GET "/ne/v1/bgp?$q" "$AT"; expect 400 INVALID_QUERY_PARAMETER; json_error; alive
WHAT="8,000 empty parameters"; call GET "/ne/v1/bgp?$(head -c 8000 /dev/zero | tr "\\0" "&")" "$AT"; expect 200; alive
WHAT="60,000 empty parameters"; call GET "/ne/v1/bgp?$(head -c 60000 /dev/zero | tr "\\0" "&")" "$AT"; expect 414 URI_TOO_LONG; json_error; alive
WHAT="65 query parameters"; q=$(for i in $(seq 65); do printf 'limit%d=1&' "$i"; done)
call GET "/ne/v1/bgp?$q" "$AT"; expect 400 'more than 64 parameters'

# --- Strict parsing ---
WHAT="%00 in the path"; call GET "/ne/v1/bgp%00/x" "$AT"; expect 400 INVALID_PATH; json_error
WHAT="%00 in a query value"; call GET "/ne/v1/bgp?status=FAILED%00x" "$AT"; expect 400 '"property":"status"'
WHAT="cut escape in the query"; call GET "/ne/v1/bgp?status=%4" "$AT"; expect 400 '"property":"status"'
WHAT="repeated query parameter"; call GET "/ne/v1/bgp?limit=1&limit=1000" "$AT"; expect 400 'more than once","property":"limit"'
WHAT="unknown filter on devices"; call GET "/ne/v1/devices?status=FAILED" "$AT"; expect 400 'accepted: offset, limit, virtualDeviceUuid","property":"status"'
WHAT="unknown filter"; call GET "/ne/v1/connections?owner=x" "$AT"; expect 400 '"property":"owner"'
WHAT="devices?virtualDeviceUuid= own device"; call GET "/ne/v1/devices?virtualDeviceUuid=$ADEV" "$AT"; expect 200 "\"total\":1.*\"$ADEV\""
WHAT="connections?connectionUuid="; call GET "/ne/v1/connections?connectionUuid=$ACON2" "$AT"; expect 200 "\"total\":1.*\"$ACON2\""
UPPER=$(echo "$ADEV" | tr a-f A-F)
WHAT="upper-case UUID in the path"; call GET "/ne/v1/devices/$UPPER" "$AT"; expect 200 "\"uuid\":\"$ADEV\""
WHAT="upper-case UUID in a filter"; call GET "/ne/v1/connections?virtualDeviceUuid=$UPPER" "$AT"; expect 200 '"total":2'
WHAT="HEAD"; ST=$(curl -s -I -o "$T/head" -w '%{http_code}' "$API/ne/v1/devices" -H "Authorization: Bearer $AT"); BODY=
expect 200; grep -qi '^Content-Type: application/json' "$T/head" || fail "HEAD: $(cat "$T/head")"
WHAT="HEAD without a token"; ST=$(curl -s -I -o /dev/null -w '%{http_code}' "$API/ne/v1/devices"); expect 401
WHAT="405 names HEAD"; raw -D "$T/hdr" -X PATCH "$API/ne/v1/devices" -H "Authorization: Bearer $AT"
expect 405; grep -qi '^Allow: GET, HEAD' "$T/hdr" || fail "$WHAT: $(cat "$T/hdr")"
WHAT="two Authorization headers"; raw "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H "Authorization: Bearer $BT"
expect 400 '"property":"Authorization"'
WHAT="media type that only begins with application/json"; raw -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: application/jsonx' --data-binary "$(peering "$ACON")"
expect 415
WHAT="application/json; charset=utf-8"; raw -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: application/json; charset=utf-8' --data-binary "$(peering "$ACON" 2001:DB8:0:0::1/064 2001:db8::0:2)"
expect 202; P1=$(echo "$BODY" | sed 's/.*"uuid":"\(.*\)".*/\1/')
WHAT="addresses in canonical form"; call GET "/ne/v1/bgp/$P1" "$AT"; expect 200 '"localIpAddress":"2001:db8::1/64"'
echo "$BODY" | grep -q '"remoteIpAddress":"2001:db8::2"' || fail "$WHAT: $BODY"
WHAT="prefix length /029"; call PUT "/ne/v1/bgp/$P1" "$AT" '{"localAsn":10012,"localIpAddress":"2001:db8::1/064","remoteAsn":10013,"remoteIpAddress":"2001:DB8::2"}'
expect 202; call GET "/ne/v1/bgp/$P1" "$AT"; expect 200 '"localIpAddress":"2001:db8::1/64"'
WHAT="virtualDeviceUuid filter on bgp"; call GET "/ne/v1/bgp?virtualDeviceUuid=$UPPER" "$AT"; expect 200 '"total":1'
WHAT="upper-case connectionUuid in a body"; call POST /ne/v1/bgp "$AT" "$(peering "$(echo "$ACON" | tr a-f A-F)")"; expect 409 CONFLICT

# The token endpoint: one way to authenticate, no parameter twice, no NUL.
tok() { raw "$API/oauth2/v1/token" "$@"; }
WHAT="token: NUL in a form value"; tok -d "grant_type=client_credentials&client_id=$AID&client_secret=$ASEC%00x"; expect 400 invalid_request
printf 'grant_type=client_credentials&k\xff=1&k\xff=2' > "$T/form"
WHAT="token: a key that is not UTF-8, twice"; tok --data-binary @"$T/form"; expect 400 "invalid_request.*'k\\?' is given more than once"
WHAT="token: repeated parameter"; tok -d "grant_type=client_credentials&grant_type=client_credentials&client_id=$AID&client_secret=$ASEC"; expect 400 'invalid_request.*more than once'
WHAT="token: Basic and a differing body client_id"; tok -u "$AID:$ASEC" -d "grant_type=client_credentials&client_id=$BID"; expect 400 invalid_request
WHAT="token: Basic and a body secret"; tok -u "$AID:$ASEC" -d "grant_type=client_credentials&client_secret=$ASEC"; expect 400 invalid_request
WHAT="token: Basic and the same body client_id"; tok -u "$AID:$ASEC" -d "grant_type=client_credentials&client_id=$AID"; expect 200 access_token
WHAT="token: malformed Basic with body credentials"; tok -H 'Authorization: Basic !!!' -d "grant_type=client_credentials&client_id=$AID&client_secret=$ASEC"; expect 400 invalid_request
WHAT="token: Basic without a colon"; tok -H "Authorization: Basic $(printf '%s' "$AID" | base64 -w0)" -d "grant_type=client_credentials"; expect 400 invalid_request
BASIC="Authorization: Basic $(printf '%s:%s' "$AID" "$ASEC" | base64 -w0)"
WHAT="token: two Authorization headers"; tok -H "$BASIC" -H "$BASIC" -d "grant_type=client_credentials"; expect 400 'more than one Authorization'
WHAT="token: one Authorization header"; tok -H "$BASIC" -d "grant_type=client_credentials"; expect 200 access_token
WHAT="token: JSON with a field twice"; tok -H 'Content-Type: application/json' -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$AID\",\"client_id\":\"$AID\",\"client_secret\":\"$ASEC\"}"; expect 400 invalid_request
WHAT="token: application/jsonp"; tok -H 'Content-Type: application/jsonp' -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$AID\",\"client_secret\":\"$ASEC\"}"; expect 400 invalid_request
WHAT="token: JSON, charset"; tok -H 'Content-Type: application/json;charset=utf-8' -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$AID\",\"client_secret\":\"$ASEC\"}"; expect 200 access_token

# 414 and 431 are JSON like every other error.
WHAT="414"; call GET "/ne/v1/bgp?x=$(head -c 9000 /dev/zero | tr '\0' a)" "$AT"; expect 414 URI_TOO_LONG; json_error
WHAT="431"; raw "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H "X-Big: $(head -c 17000 /dev/zero | tr '\0' a)"
expect 431 HEADERS_TOO_LARGE; json_error

# Tenants see no node names (the node n1 has no agent: FAILED after the deadline).
sqlite3 "$T/tabby.db" "update kv set value = replace(value, '\"lastUpdatedDate\":\"20', '\"lastUpdatedDate\":\"19') where key like '%/ne/bgp/$P1'"
WHAT="no node name in provisioningError"; call GET "/ne/v1/bgp/$P1" "$AT"; expect 200 '"provisioningStatus":"FAILED"'
echo "$BODY" | grep -q '"provisioningError":"the agent of the connection.s node is not running"' || fail "$WHAT: $BODY"
echo "$BODY" | grep -q n1 && fail "$WHAT: the node's name is shown: $BODY"

# 503: the reason is logged; the tenant gets no path and no SQLite text. Another
# process holds the database's write lock past the store's busy timeout.
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(30)' "$T/tabby.db" > "$T/locker" & LP=$!; PIDS+=("$LP")
for _ in $(seq 50); do grep -q locked "$T/locker" && break; sleep 0.1; done
WHAT="503"; call POST /ne/v1/bgp "$AT" "$(peering "$ACON2")"; expect 503 '"errorMessage":"datastore unavailable; try again later"'
echo "$BODY" | grep -qiE "sqlite|locked|$T|database" && fail "$WHAT: leaks: $BODY"
grep -q "datastore unavailable: " "$T/api.log" || fail "$WHAT: the reason is not logged"
WHAT="503 (token)"; tok -u "$AID:$ASEC" -d grant_type=client_credentials; expect 503 '"error":"temporarily_unavailable","error_description":"datastore unavailable; try again later"' 
echo "$BODY" | grep -qiE "sqlite|locked|$T|database\b" && fail "$WHAT: leaks: $BODY"
kill "$LP"
alive
api_stop "$T/api.log"
echo "api_hostile: $PASSED checks"
