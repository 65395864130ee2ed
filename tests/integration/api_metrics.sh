#!/usr/bin/env bash
# tabby-api's /metrics follows the requests: by route pattern, method and status, the
# latency histogram per route, tokens issued per grant, authentication failures (a wrong
# secret, an unknown token) and rate-limit refusals (429 past the failed-secret limit).
# `promtool check metrics` accepts the scrape; every tabby_api_ metric the Grafana
# dashboard and alert rules use is served.
. "$(dirname "$0")/api_lib.bash"
command -v promtool >/dev/null || { echo "FAIL: promtool not installed (scripts/deps: prometheus)" >&2; exit 1; }
top=$(cd "$(dirname "$0")/../.." && pwd)
tenants
api_start "$T/api.log"

scrape() { curl -sf "$API/metrics" > "$T/m.txt" || fail "GET /metrics failed"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$T/m.txt"; }
token() { curl -s -u "$AID:$1" -d grant_type=client_credentials "$API/oauth2/v1/token"; }

scrape
promtool check metrics < "$T/m.txt" || fail "promtool check metrics (fresh)"
[ "$(val 'tabby_api_tokens_issued_total{grant="client_credentials"}')" = 0 ] || fail "tokens before any"

AT=$(token "$ASEC" | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
token "$ASEC" > /dev/null
token wrong > /dev/null
for _ in 1 2 3; do curl -s -o /dev/null -H "Authorization: Bearer $AT" "$API/ne/v1/devices"; done
curl -s -o /dev/null -H "Authorization: Bearer $AT" "$API/ne/v1/devices/$ADEV"
curl -s -o /dev/null -H "Authorization: Bearer $(printf '%064d' 0)" "$API/ne/v1/bgp"
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $AT" "$API/ne/v1/devices"
scrape
WHAT="API metrics"
R='tabby_api_requests_total'
[ "$(val "$R{route=\"/ne/v1/devices\",method=\"GET\",status=\"200\"}")" = 3 ] || fail "3 device lists: $(grep devices "$T/m.txt")"
[ "$(val "$R{route=\"/ne/v1/devices/{uuid}\",method=\"GET\",status=\"200\"}")" = 1 ] || fail "1 device by uuid"
[ "$(val "$R{route=\"/ne/v1/devices\",method=\"DELETE\",status=\"405\"}")" = 1 ] || fail "the 405"
[ "$(val "$R{route=\"/ne/v1/bgp\",method=\"GET\",status=\"401\"}")" = 1 ] || fail "the 401 on /ne/v1/bgp"
[ "$(val "$R{route=\"/oauth2/v1/token\",method=\"POST\",status=\"200\"}")" = 2 ] || fail "2 tokens answered 200"
[ "$(val "$R{route=\"/oauth2/v1/token\",method=\"POST\",status=\"401\"}")" = 1 ] || fail "1 token refused"
[ "$(val "$R{route=\"/metrics\",method=\"GET\",status=\"200\"}")" = 1 ] || fail "the first scrape counted"
[ "$(val 'tabby_api_tokens_issued_total{grant="client_credentials"}')" = 2 ] || fail "tokens issued"
[ "$(val 'tabby_api_auth_failures_total{reason="credentials"}')" = 1 ] || fail "wrong secret counted"
[ "$(val 'tabby_api_auth_failures_total{reason="token"}')" = 1 ] || fail "unknown token counted"
[ "$(val 'tabby_api_request_duration_seconds_count{route="/ne/v1/devices"}')" = 4 ] || fail "latency count"
[ "$(val 'tabby_api_request_duration_seconds_bucket{route="/ne/v1/devices",le="+Inf"}')" = 4 ] || fail "+Inf bucket"
[ "$(val 'tabby_api_rate_limited_total')" = 0 ] || fail "no 429 yet"
promtool check metrics < "$T/m.txt" || fail "promtool check metrics"

# Past the failed-secret limit (10 per client and address): 429s, counted.
for _ in $(seq 12); do token wrong > /dev/null; done
scrape
n429=$(val "$R{route=\"/oauth2/v1/token\",method=\"POST\",status=\"429\"}")
[ "${n429:-0}" -ge 1 ] || fail "no 429 after 13 wrong secrets"
[ "$(val 'tabby_api_rate_limited_total')" = "$n429" ] || fail "rate_limited_total != the 429s"
promtool check metrics < "$T/m.txt" || fail "promtool check metrics (after 429)"

for name in $(cat "$top/docs/prometheus-alerts.yml" "$top/docs/grafana-dashboard.json" |
		grep -oE 'tabby_api_[a-z_]+' | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
	grep -qE "^# TYPE $name " "$T/m.txt" || fail "the docs use $name, which tabby-api does not serve"
done
api_stop "$T/api.log"
[ "$FAILED" = 0 ] || exit 1
echo "api_metrics: requests, latency, tokens, auth failures and 429s counted; promtool check metrics passes"
