# Shared by the tabby-api tests: a datastore with two tenants (acme, beta), tabby-api
# on a loopback port, curl helpers, and a clean stop that fails the test on any
# AddressSanitizer/UBSan report (run with BUILD=build-asan for the sanitized binary).
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
set -e
# On failure, the server's last words.
api_cleanup() {
	local rc=$?
	if [ "$rc" != 0 ]; then
		for f in "$T"/api*.log; do [ -f "$f" ] && { echo "--- $f (exit $rc)"; tail -n 20 "$f"; }; done >&2
	fi
	cleanup
}
trap api_cleanup EXIT
export TABBY_DATASTORE="sqlite:$T/tabby.db"
# API_KEEP_GOING=1: report every failure, not only the first (to see what old code fails).
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=$((FAILED + 1)); [ -n "${API_KEEP_GOING:-}" ] || exit 1; }
# A sanitizer's report fails the test; the server keeps running past one only to say it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

client() { "$TABBYCTL" api-client create "$1" -o json; }
field() { sed -n "s/.*\"$1\": \"\\(.*\\)\".*/\\1/p"; }
# acme (AID, ASEC) with a device ADEV and connections ACON, ACON2; beta (BID, BSEC) with BDEV, BCON.
tenants() {
	local a b
	a=$(client acme); b=$(client beta)
	AID=$(echo "$a" | field client_id); ASEC=$(echo "$a" | field client_secret)
	BID=$(echo "$b" | field client_id); BSEC=$(echo "$b" | field client_secret)
	ADEV=$("$TABBYCTL" device create --node=n1 --owner="$AID" --name=acme-dev)
	BDEV=$("$TABBYCTL" device create --node=n1 --owner="$BID")
	ACON=$("$TABBYCTL" connection create --device="$ADEV" --interface=eth1)
	ACON2=$("$TABBYCTL" connection create --device="$ADEV" --interface=eth2)
	BCON=$("$TABBYCTL" connection create --device="$BDEV" --interface=eth3)
}

# api_start LOG [ARGS...]: tabby-api on a free port ($PORT, $API; API_PID), ready to answer.
api_start() {
	api_serve "$1" --threads 2 "${@:2}" || fail "tabby-api did not start"
	PORT=$SERVED_PORT API=http://127.0.0.1:$SERVED_PORT API_PID=$SERVED_PID
}
# api_stop LOG: SIGTERM, a clean exit, and no sanitizer report in the log.
api_stop() {
	local rc=0
	kill -TERM "$API_PID"
	wait "$API_PID" || rc=$?
	if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1" > /dev/null; then
		cat "$1" >&2
		fail "a sanitizer report in $1"
	fi
	[ "$rc" = 0 ] || fail "tabby-api exited $rc: $(tail -n 20 "$1")"
}

# call METHOD PATH [TOKEN] [BODY] -> status in $ST, body in $BODY
call() {
	local args=(-s -o "$T/body" -w '%{http_code}' -X "$1" "$API$2")
	[ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
	[ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	: > "$T/body"; ST=$(curl "${args[@]}") || true; BODY=$(cat "$T/body")
	M=$1 P=$2
}
# raw CURL-ARGS...: any request; status in $ST, body in $BODY
raw() {
	: > "$T/body"; ST=$(curl -s -o "$T/body" -w "%{http_code}" "$@") || true; BODY=$(cat "$T/body")
}
expect() {  # STATUS [grep pattern]
	[ "$ST" = "$1" ] || fail "$WHAT: status $ST, expected $1: $BODY"
	[ -z "${2:-}" ] || echo "$BODY" | grep -qE -- "$2" || fail "$WHAT: body lacks /$2/: $BODY"
	PASSED=$((PASSED + 1))
	# Every response is kept for the check against docs/openapi.yaml.
	if [ -n "${API_RECORD:-}" ] && [ -n "${M:-}" ]; then
		printf '{"method":"%s","path":"%s","status":%s,"body":%s}\n' "$M" "$P" "$ST" \
			"${BODY:-null}" >> "$API_RECORD"
	fi
	M=
}
PASSED=0
# token ID SECRET: an access token (client credentials, form + Basic).
token() {
	curl -s -u "$1:$2" -d grant_type=client_credentials "$API/oauth2/v1/token" |
		sed -n 's/.*"access_token":"\([0-9a-f]*\)".*/\1/p'
}
peering() { echo "{\"authenticationKey\":\"testkey1\",\"connectionUuid\":\"$1\",\"localAsn\":10012,\"localIpAddress\":\"${2:-192.0.2.1/29}\",\"remoteAsn\":10013,\"remoteIpAddress\":\"${3:-192.0.2.2}\"}"; }
