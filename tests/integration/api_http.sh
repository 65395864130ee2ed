#!/usr/bin/env bash
# tabby-api over real HTTP with curl: the token flow (JSON and form + Basic), the
# 401/403 matrix with two tenants on every endpoint and method, validation errors,
# pagination and filters, PUT, DELETE, revocation, the rate limit, body limits, TLS.
. "$(dirname "$0")/lib.bash"
set -e
export TABBY_DATASTORE="sqlite:$T/tabby.db"
PORT=$((20000 + $$ % 20000))
API=http://127.0.0.1:$PORT
fail() { echo "FAIL: $*" >&2; exit 1; }

client() { "$TABBYCTL" api-client create "$1" -o json; }
A=$(client acme); B=$(client beta)
AID=$(echo "$A" | sed -n 's/.*"client_id": "\(.*\)".*/\1/p'); ASEC=$(echo "$A" | sed -n 's/.*"client_secret": "\(.*\)".*/\1/p')
BID=$(echo "$B" | sed -n 's/.*"client_id": "\(.*\)".*/\1/p'); BSEC=$(echo "$B" | sed -n 's/.*"client_secret": "\(.*\)".*/\1/p')
ADEV=$("$TABBYCTL" device create --node=n1 --owner="$AID" --name=acme-dev)
BDEV=$("$TABBYCTL" device create --node=n1 --owner="$BID")
ACON=$("$TABBYCTL" connection create --device="$ADEV" --interface=eth1)
ACON2=$("$TABBYCTL" connection create --device="$ADEV" --interface=eth2)
BCON=$("$TABBYCTL" connection create --device="$BDEV" --interface=eth3)

"$BUILD/tabby-api" --listen "127.0.0.1:$PORT" --threads 2 > "$T/api.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "$API/" && break; sleep 0.1; done

# call METHOD PATH [TOKEN] [BODY] -> "STATUS BODY" (status in $ST, body in $BODY)
call() {
	local args=(-s -o "$T/body" -w '%{http_code}' -X "$1" "$API$2")
	[ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
	[ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	ST=$(curl "${args[@]}"); BODY=$(cat "$T/body")
	M=$1 P=$2
}
expect() {  # STATUS [grep pattern]
	[ "$ST" = "$1" ] || fail "$WHAT: status $ST, expected $1: $BODY"
	[ -z "${2:-}" ] || echo "$BODY" | grep -qE "$2" || fail "$WHAT: body lacks /$2/: $BODY"
	PASSED=$((PASSED + 1))
	# Every response is kept for the check against docs/openapi.yaml.
	if [ -n "${API_RECORD:-}" ] && [ -n "${M:-}" ]; then
		printf '{"method":"%s","path":"%s","status":%s,"body":%s}\n' "$M" "$P" "$ST" \
			"${BODY:-null}" >> "$API_RECORD"
	fi
	M=
}
PASSED=0

# Tokens: the provider's JSON body, and RFC 6749 form with HTTP Basic.
WHAT="token (JSON)"; M=POST P=/oauth2/v1/token
ST=$(curl -s -o "$T/body" -w '%{http_code}' "$API/oauth2/v1/token" -H 'Content-Type: application/json' \
	-d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$AID\",\"client_secret\":\"$ASEC\"}"); BODY=$(cat "$T/body")
expect 200 '"token_type":"Bearer".*"token_timeout":"3600".*"user_name":"acme"'
AT=$(echo "$BODY" | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
WHAT="token (form + Basic)"; M=POST P=/oauth2/v1/token
ST=$(curl -s -o "$T/body" -w '%{http_code}' -u "$BID:$BSEC" -d grant_type=client_credentials "$API/oauth2/v1/token"); BODY=$(cat "$T/body")
expect 200 '"access_token":"[0-9a-f]{64}"'
BT=$(echo "$BODY" | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
WHAT="token, wrong secret"; M=POST P=/oauth2/v1/token
ST=$(curl -s -o "$T/body" -w '%{http_code}' -u "$BID:nope" -d grant_type=client_credentials "$API/oauth2/v1/token"); BODY=$(cat "$T/body")
expect 401 '"error":"invalid_client"'
WHAT="token, wrong grant"; M=POST P=/oauth2/v1/token
ST=$(curl -s -o "$T/body" -w '%{http_code}' -u "$BID:$BSEC" -d grant_type=authorization_code "$API/oauth2/v1/token"); BODY=$(cat "$T/body")
expect 400 '"error":"unsupported_grant_type"'

# A peering for each tenant.
peering() { echo "{\"authenticationKey\":\"testkey1\",\"connectionUuid\":\"$1\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}"; }
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
call POST /ne/v1/bgp "$AT" "$(peering "$ACON2")"; AP2=$(echo "$BODY" | sed 's/.*"uuid":"\(.*\)".*/\1/')
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
WHAT="wrong content type"; ST=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: text/plain' -d x); BODY=$(cat "$T/body"); expect 415
WHAT="oversized body"; head -c 70000 /dev/zero | tr '\0' ' ' > "$T/big"
ST=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' --data-binary @"$T/big"); BODY=$(cat "$T/body"); expect 413
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

# Rate limit on the token endpoint (a burst of 10 per client).
for i in $(seq 12); do
	ST=$(curl -s -o "$T/body" -w '%{http_code}' -u "$AID:wrong" -d grant_type=client_credentials "$API/oauth2/v1/token")
done
WHAT="rate limit"; M=POST P=/oauth2/v1/token; BODY=$(cat "$T/body"); expect 429 slow_down

# Plain HTTP refuses to serve beyond loopback; TLS serves.
if "$BUILD/tabby-api" --listen 192.0.2.1:8443 > "$T/refuse.log" 2>&1; then fail "served plain HTTP off loopback"; fi
grep -q "plain HTTP only on loopback" "$T/refuse.log"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" > /dev/null 2>&1
"$BUILD/tabby-api" --listen "127.0.0.1:$((PORT + 1))" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" > "$T/tls.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -s --cacert "$T/cert.pem" -o /dev/null "https://127.0.0.1:$((PORT + 1))/" && break; sleep 0.1; done
WHAT="HTTPS"; ST=$(curl -s --cacert "$T/cert.pem" -o "$T/body" -w '%{http_code}' "https://127.0.0.1:$((PORT + 1))/ne/v1/bgp"); BODY=$(cat "$T/body"); expect 401
echo "api: $PASSED checks over HTTP(S), two tenants"
