#!/usr/bin/env bash
# tabby-api over real HTTP with curl: the token flow (JSON and form + Basic), the
# 401/403 matrix with two tenants on every endpoint and method, validation errors,
# pagination and filters, PUT, DELETE, revocation, the rate limit, body limits, TLS
# (versions and suites checked with openssl s_client).
. "$(dirname "$0")/api_lib.bash"
tenants
api_start "$T/api.log"

# Tokens: the provider's JSON body, and RFC 6749 form with HTTP Basic.
WHAT="token (JSON)"; M=POST P=/oauth2/v1/token
raw "$API/oauth2/v1/token" -H 'Content-Type: application/json' \
	-d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$AID\",\"client_secret\":\"$ASEC\"}"
expect 200 '"token_type":"Bearer".*"token_timeout":"3600".*"user_name":"acme"'
AT=$(echo "$BODY" | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
WHAT="token (form + Basic)"; M=POST P=/oauth2/v1/token
raw -u "$BID:$BSEC" -d grant_type=client_credentials "$API/oauth2/v1/token"
expect 200 '"access_token":"[0-9a-f]{64}"'
BT=$(echo "$BODY" | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
WHAT="token, wrong secret"; M=POST P=/oauth2/v1/token
raw -u "$BID:nope" -d grant_type=client_credentials "$API/oauth2/v1/token"
expect 401 '"error":"invalid_client"'
WHAT="token, wrong grant"; M=POST P=/oauth2/v1/token
raw -u "$BID:$BSEC" -d grant_type=authorization_code "$API/oauth2/v1/token"
expect 400 '"error":"unsupported_grant_type"'

# A peering for each tenant.
WHAT="POST peering (acme)"; call POST /ne/v1/bgp "$AT" "$(peering "$ACON")"; expect 202 '"uuid":'
AP=$(echo "$BODY" | sed 's/.*"uuid":"\(.*\)".*/\1/')
WHAT="POST peering (beta)"; call POST /ne/v1/bgp "$BT" "$(peering "$BCON")"; expect 202
BP=$(echo "$BODY" | sed 's/.*"uuid":"\(.*\)".*/\1/')
WHAT="GET peering"; call GET "/ne/v1/bgp/$AP" "$AT"
expect 200 '"provisioningStatus":"PROVISIONING".*"state":null'
echo "$BODY" | grep -q authenticationKey && fail "the key was returned"
WHAT="second peering on a connection"; call POST /ne/v1/bgp "$AT" "$(peering "$ACON")"; expect 409 CONFLICT
WHAT="peering on another tenant's connection"; call POST /ne/v1/bgp "$AT" "$(peering "$BCON")"; expect 403 'Access Denied'

# The matrix: no token, a bad token, another tenant's resource -- every endpoint and method.
for ep in "GET /ne/v1/devices" "GET /ne/v1/devices/$BDEV" "GET /ne/v1/connections" \
	"GET /ne/v1/connections/$BCON" "GET /ne/v1/bgp" "POST /ne/v1/bgp" "GET /ne/v1/bgp/$BP" \
	"PUT /ne/v1/bgp/$BP" "DELETE /ne/v1/bgp/$BP"; do
	set -- $ep
	body=""; [ "$1" = POST ] || [ "$1" = PUT ] && body=$(peering "$ACON2")
	WHAT="$ep without a token"; call "$1" "$2" "" "$body"
	expect 401 UNAUTHORIZED
	curl -s -D - -o /dev/null -X "$1" "$API$2" | grep -qi '^WWW-Authenticate: Bearer' || fail "$WHAT: no WWW-Authenticate"
	WHAT="$ep with an unknown token"; call "$1" "$2" "$(printf '%064d' 0)" "$body"
	expect 401 INVALID_TOKEN
	curl -s -D - -o /dev/null -X "$1" "$API$2" -H "Authorization: Bearer $(printf '%064d' 7)" | grep -qi 'error="invalid_token"' || fail "$WHAT: no invalid_token"
	case "$2" in */"$BDEV"|*/"$BCON"|*/"$BP")
		WHAT="$ep as another tenant"; call "$1" "$2" "$AT" "$body"; expect 403 '"errorMessage":"Access Denied"' ;;
	esac
done
WHAT="beta's peering still intact"; call GET "/ne/v1/bgp/$BP" "$BT"; expect 200 '"remoteAsn":10013'

# Lists: only the caller's, paginated and filtered.
WHAT="devices list"; call GET /ne/v1/devices "$AT"; expect 200 "\"total\":1}.*\"$ADEV\""
echo "$BODY" | grep -q "$BDEV" && fail "another tenant's device listed"
WHAT="connections list"; call GET "/ne/v1/connections?offset=1&limit=1" "$AT"; expect 200 '"offset":1,"limit":1,"total":2'
# A second connection of the same device: a subnet of its own (issue 15: no overlap).
call POST /ne/v1/bgp "$AT" "$(peering "$ACON2" 192.0.2.9/29 192.0.2.10)"; AP2=$(echo "$BODY" | sed 's/.*"uuid":"\(.*\)".*/\1/')
WHAT="1.2.3.4/1 refused"; call POST /ne/v1/bgp "$AT" "$(peering "$ACON2" 1.2.3.4/1 1.2.3.5)"
expect 400 '/8-/31.*"property":"localIpAddress"'
WHAT="the same device's subnets may not overlap"; call PUT "/ne/v1/bgp/$AP2" "$AT" "$(peering "$ACON2" 192.0.2.3/29 192.0.2.4 | sed 's/"connectionUuid":"[^"]*",//')"
expect 409 'overlaps.*"property":"localIpAddress"'
WHAT="bgp list"; call GET /ne/v1/bgp "$AT"; expect 200 '"total":2'
WHAT="bgp list page"; call GET "/ne/v1/bgp?offset=1&limit=1" "$AT"; expect 200 '"offset":1,"limit":1,"total":2'
[ "$(echo "$BODY" | grep -o '"uuid"' | wc -l)" = 1 ] || fail "page of 1 has not 1 item"
WHAT="bgp filter connection"; call GET "/ne/v1/bgp?connectionUuid=$ACON2" "$AT"; expect 200 "\"total\":1.*$AP2"
WHAT="bgp filter status"; call GET "/ne/v1/bgp?status=PROVISIONED" "$AT"; expect 200 '"total":0'
WHAT="bad limit"; call GET "/ne/v1/bgp?limit=0" "$AT"; expect 400 '"property":"limit"'
WHAT="bad offset"; call GET "/ne/v1/bgp?offset=-3" "$AT"; expect 400 '"property":"offset"'
WHAT="bad status"; call GET "/ne/v1/bgp?status=UP" "$AT"; expect 400 '"property":"status"'
WHAT="unknown query"; call GET "/ne/v1/bgp?sort=asc" "$AT"; expect 400 '"property":"sort"'

# Validation: which field, what is accepted; nothing written.
v() {  # DESCRIPTION STATUS PROPERTY BODY
	WHAT="$1"; call POST /ne/v1/bgp "$AT" "$4"; expect "$2" "\"property\":\"$3\""
}
C3=$("$TABBYCTL" connection create --device="$ADEV" --interface=eth4)
base="\"connectionUuid\":\"$C3\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013"
v "malformed JSON" 400 "" "{\"connectionUuid\":"
v "not an object" 400 "" "[1,2]"
v "unknown field" 400 color "{$base,\"remoteIpAddress\":\"192.0.2.2\",\"color\":\"red\"}"
v "missing remoteIpAddress" 400 remoteIpAddress "{$base}"
v "wrong type localAsn" 400 localAsn "{\"connectionUuid\":\"$C3\",\"localAsn\":\"10012\",\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}"
v "AS_TRANS remoteAsn" 400 remoteAsn "{\"connectionUuid\":\"$C3\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":23456,\"remoteIpAddress\":\"192.0.2.2\"}"
v "local without length" 400 localIpAddress "{\"connectionUuid\":\"$C3\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}"
v "remote outside the subnet" 400 remoteIpAddress "{$base,\"remoteIpAddress\":\"192.0.2.9\"}"
v "remote is the local address" 400 remoteIpAddress "{$base,\"remoteIpAddress\":\"192.0.2.1\"}"
v "remote of the other family" 400 remoteIpAddress "{$base,\"remoteIpAddress\":\"2001:db8::2\"}"
v "short key" 400 authenticationKey "{$base,\"remoteIpAddress\":\"192.0.2.2\",\"authenticationKey\":\"abc\"}"
v "bad connection uuid" 400 connectionUuid "{\"connectionUuid\":\"42\",\"localAsn\":1,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":2,\"remoteIpAddress\":\"192.0.2.2\"}"
v "unknown connection" 404 connectionUuid "{\"connectionUuid\":\"00000000-0000-4000-8000-000000000000\",\"localAsn\":1,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":2,\"remoteIpAddress\":\"192.0.2.2\"}"
WHAT="wrong content type"; raw -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: text/plain' -d x; expect 415
WHAT="oversized body"; head -c 70000 /dev/zero | tr '\0' ' ' > "$T/big"
raw -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' --data-binary @"$T/big"; expect 413
WHAT="bad path uuid"; call GET /ne/v1/bgp/xyz "$AT"; expect 400 INVALID_PATH_PARAMETER
WHAT="unknown peering"; call GET /ne/v1/bgp/00000000-0000-4000-8000-000000000000 "$AT"; expect 404
WHAT="unknown path"; call GET /ne/v1/frobs "$AT"; expect 404
WHAT="wrong method"; call PATCH "/ne/v1/bgp/$AP" "$AT"; expect 405
WHAT="nothing half-written"; call GET "/ne/v1/bgp?connectionUuid=$C3" "$AT"; expect 200 '"total":0'

# PUT replaces; an absent key means no MD5; it stays the tenant's.
WHAT="PUT"; call PUT "/ne/v1/bgp/$AP" "$AT" '{"localAsn":10012,"localIpAddress":"192.0.2.1/29","remoteAsn":10099,"remoteIpAddress":"192.0.2.3"}'; expect 202
WHAT="after PUT"; call GET "/ne/v1/bgp/$AP" "$AT"; expect 200 '"remoteAsn":10099.*"remoteIpAddress":"192.0.2.3"|"remoteIpAddress":"192.0.2.3".*"remoteAsn":10099'
grep -q '"generation":2' <(sqlite3 "$T/tabby.db" "select value from kv where key like '%/ne/bgp/$AP'") || fail "generation not bumped"
sqlite3 "$T/tabby.db" "select value from kv where key like '%/ne/bgp/$AP'" | grep -q authenticationKey && fail "PUT kept the key"
WHAT="PUT with connectionUuid"; call PUT "/ne/v1/bgp/$AP" "$AT" "{\"connectionUuid\":\"$ACON\",\"localAsn\":1,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":2,\"remoteIpAddress\":\"192.0.2.2\"}"; expect 400 connectionUuid

# DELETE: gone (no agent ever took it up).
WHAT="DELETE"; call DELETE "/ne/v1/bgp/$AP2" "$AT"; expect 202 DEPROVISIONING
WHAT="after DELETE"; call GET "/ne/v1/bgp/$AP2" "$AT"; expect 404

# Revocation: removing a client ends its tokens at once.
"$TABBYCTL" api-client remove "$BID"
WHAT="revoked token"; call GET /ne/v1/bgp "$BT"; expect 401 INVALID_TOKEN
# Rotation too.
"$TABBYCTL" api-client rotate-secret "$AID" > /dev/null
WHAT="rotated: old token"; call GET /ne/v1/bgp "$AT"; expect 401 INVALID_TOKEN

# Failed token requests are limited (10 per client and address; more in api_limits.sh).
for i in $(seq 12); do
	raw -u "$AID:wrong" -d grant_type=client_credentials "$API/oauth2/v1/token"
done
WHAT="rate limit"; M=POST P=/oauth2/v1/token; expect 429 slow_down

# Plain HTTP refuses to serve beyond loopback; TLS serves.
if "$BUILD/tabby-api" --listen 192.0.2.1:8443 > "$T/refuse.log" 2>&1; then fail "served plain HTTP off loopback"; fi
grep -q "plain HTTP only on loopback" "$T/refuse.log"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" > /dev/null 2>&1
api_serve "$T/tls.log" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || fail "no HTTPS"; TLS_PORT=$SERVED_PORT
WHAT="HTTPS"; raw --cacert "$T/cert.pem" "https://127.0.0.1:$TLS_PORT/ne/v1/bgp"; expect 401
# TLS 1.2+ (RFC 8996) with ECDHE and AEAD suites only (RFC 9325 §4.2).
tls() {  # WHAT yes|no OPENSSL-ARGS...
	local what=$1 want=$2 out got=no
	shift 2
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" "$@" < /dev/null 2>&1) && got=yes
	echo "$out" | grep -qE 'Cipher is (\(NONE\)|0000)' && got=no
	WHAT="TLS: $what"; ST=$got; BODY=$(echo "$out" | grep -E 'Protocol|Cipher is' | head -2); expect "$want"
}
tls "TLS 1.0 refused" no -tls1 -cipher 'DEFAULT@SECLEVEL=0'
tls "TLS 1.1 refused" no -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
tls "static RSA, CBC refused" no -tls1_2 -cipher AES128-SHA
tls "static RSA, GCM refused" no -tls1_2 -cipher AES128-GCM-SHA256
tls "ECDHE, CBC refused" no -tls1_2 -cipher ECDHE-RSA-AES128-SHA
tls "DHE refused" no -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
tls "ECDHE-RSA-AES128-GCM-SHA256" yes -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
tls "ECDHE-RSA-AES256-GCM-SHA384" yes -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
tls "ECDHE-RSA-CHACHA20-POLY1305" yes -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305
tls "TLS 1.3" yes -tls1_3
api_stop "$T/api.log"
echo "api: $PASSED checks over HTTP(S), two tenants"
