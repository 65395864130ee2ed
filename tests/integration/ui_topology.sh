#!/usr/bin/env bash
# The live topology page in headless Chromium: three tabbyd nodes in namespaces (the
# node-to-node mesh) and a BIRD peer of all three; tabby-api and Chromium in a namespace of
# their own (loopback and the test LAN only: the browser reaches nothing else).
# - the page, signed in as an operator client, shows every session (9 edges, all up) and
#   the tenant's API peering with its provisioning status;
# - stopping BIRD turns its three edges to "down" within 2 s (data-since on each edge:
#   when the page first saw the state, against the time BIRD was stopped);
# - a screenshot is kept as build/ui-topology.png (UI_SCREENSHOT to put it elsewhere);
# - a tenant's token gets 403 on /ui/ and /ui/api/topology; no token gets 401 on the latter.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
command -v chromium >/dev/null || die "chromium not installed (scripts/deps)"
lan_up
for n in 1 2 3; do host_add "node$n" "$n"; done
host_add bird 10
host_add ui 20
"$TABBYCTL" bgp default-node-as 64512
"$TABBYCTL" bgp peer add 192.0.2.10 as 64555
for n in 1 2 3; do tabbyd_start "node$n" "node$n" "$n"; done
bird_start bird bird "router id 192.0.2.10;
protocol device {}
protocol static s4 { ipv4; route 198.51.100.0/24 blackhole; route 198.51.100.128/25 blackhole; }
template bgp tabby { local 192.0.2.10 as 64555; hold time 9; connect retry time 1;
	error wait time 1,3; ipv4 { import all; export all; }; }
protocol bgp n1 from tabby { neighbor 192.0.2.1 as 64512; }
protocol bgp n2 from tabby { neighbor 192.0.2.2 as 64512; }
protocol bgp n3 from tabby { neighbor 192.0.2.3 as 64512; }"
for n in 1 2 3; do
	wait_until 20 "node$n: BIRD up" tabby_up "node$n" 192.0.2.10
	for m in 1 2 3; do
		[ "$n" = "$m" ] || wait_until 20 "node$n: mesh to node$m up" tabby_up "node$n" "192.0.2.$m"
	done
done

# An operator, a tenant with a device, a connection and a peering (its interface does not
# exist: it shows as FAILED, which is a provisioning status to see).
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
OPS=$("$TABBYCTL" api-client create ops --operator -o json)
OID=$(echo "$OPS" | json_field client_id); OSEC=$(echo "$OPS" | json_field client_secret)
[ "$(echo "$OPS" | json_field role)" = operator ] || die "api-client create --operator: role"
TEN=$("$TABBYCTL" api-client create acme -o json)
TID=$(echo "$TEN" | json_field client_id); TSEC=$(echo "$TEN" | json_field client_secret)
DEV=$("$TABBYCTL" device create --node=node1 --owner="$TID" --name=acme-dev)
CON=$("$TABBYCTL" connection create --device="$DEV" --interface=eth9)

nsx ui "$BUILD/tabby-api" --listen 127.0.0.1:8080 --threads 2 >> "$T/api.log" 2>&1 &
PIDS+=($!)
API=http://127.0.0.1:8080
wait_until 10 "tabby-api up" nsx ui curl -sf -o /dev/null "$API/ui/"
tok() { nsx ui curl -s -u "$1:$2" -d grant_type=client_credentials "$API/oauth2/v1/token" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
TT=$(tok "$TID" "$TSEC"); OT=$(tok "$OID" "$OSEC")
code() { nsx ui curl -s -o "$T/body" -w '%{http_code}' "$@"; }
PEERING="{\"authenticationKey\":\"testkey1\",\"connectionUuid\":\"$CON\",\"localAsn\":64512,\"localIpAddress\":\"203.0.113.1/29\",\"remoteAsn\":64999,\"remoteIpAddress\":\"203.0.113.2\"}"
[ "$(code -H "Authorization: Bearer $TT" -H 'Content-Type: application/json' -d "$PEERING" "$API/ne/v1/bgp")" = 202 ] ||
	die "the tenant's peering: $(cat "$T/body")"
PID_UUID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$T/body")

# Who may look.
[ "$(code -H "Authorization: Bearer $TT" "$API/ui/")" = 403 ] || die "a tenant's token on /ui/: not 403"
[ "$(code -H "Authorization: Bearer $TT" "$API/ui/api/topology")" = 403 ] || die "tenant on the topology: not 403"
[ "$(code "$API/ui/api/topology")" = 401 ] || die "no token on the topology: not 401"
[ "$(code -H "Authorization: Bearer $OT" "$API/ui/api/topology")" = 200 ] || die "operator: not 200"
[ "$(code "$API/ui/")" = 200 ] && grep -q '<script src="/ui/app.js">' "$T/body" || die "the page without a token"
[ "$(code "$API/ui/app.js")" = 200 ] || die "app.js"
# Kept for the check against docs/openapi.yaml (scripts/test sets API_RECORD).
if [ -n "${API_RECORD:-}" ]; then
	for who in "$OT" "$TT" ""; do
		st=$(code ${who:+-H "Authorization: Bearer $who"} "$API/ui/api/topology")
		printf '{"method":"GET","path":"/ui/api/topology","status":%s,"body":%s}\n' "$st" "$(cat "$T/body")" >> "$API_RECORD"
	done
fi
echo "403 for a tenant, 401 without a token, 200 for the operator"

# Chromium in the ui namespace, driven over the DevTools protocol on a pipe (chrome_cdp.py).
URL="$API/ui/#client_id=$OID&client_secret=$OSEC"
coproc CDP { nsx ui python3 "$(dirname "$0")/chrome_cdp.py" --no-sandbox --disable-gpu --no-first-run \
	--no-default-browser-check --disable-background-networking --disable-component-update \
	--disable-sync --disable-extensions --user-data-dir="$T/chrome" --window-size=1100,1000 \
	2>> "$T/chromium.log"; }
PIDS+=($CDP_PID)
# Plain descriptors: bash does not pass a coprocess's own to subshells ($(...), pipes).
exec {TO_CDP}>&"${CDP[1]}" {FROM_CDP}<&"${CDP[0]}"
cdp() {
	local line
	echo "$*" >&"$TO_CDP"
	read -r -t 30 line <&"$FROM_CDP" || die "chromium: no answer to '$1'"
	echo "$line"
}
EDGES='[...document.querySelectorAll("path.edge")].map(e => [e.dataset.node, e.dataset.peer, e.dataset.state, e.dataset.since].join(" "))'
edges() { cdp eval "$EDGES" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)))' | sort; }
n_edges() { [ "$(cdp eval 'document.querySelectorAll("path.edge").length')" = "$1" ]; }
# Sessions: each node has the mesh to the other two over IPv4 and IPv6, and BIRD.
EXPECT=15
cdp open "$URL" > /dev/null
wait_until 10 "the page shows $EXPECT sessions" n_edges $EXPECT
edges > "$T/edges1"
cat "$T/edges1"
for n in 1 2 3; do
	for p in 1 2 3 10; do
		[ "$n" = "$p" ] && continue
		grep -q "^node$n 192.0.2.$p up " "$T/edges1" || die "no up edge node$n -> 192.0.2.$p"
		[ "$p" = 10 ] || grep -q "^node$n 2001:db8::$p up " "$T/edges1" || die "no up edge node$n -> 2001:db8::$p"
	done
done
cdp eval 'document.documentElement.outerHTML' > "$T/dom1.json"
python3 - "$T/dom1.json" "$PID_UUID" <<'PY' || die "the API peering and its provisioning status are not on the page"
import json, re, sys
dom = json.load(open(sys.argv[1]))
assert re.search(r"<td>%s</td>.*?<td>(FAILED|PROVISIONING|PROVISIONED)</td>" % sys.argv[2], dom), dom[-3000:]
counts = [int(n) for n in re.findall(r'data-prefixes-received="(\d+)"', dom)]
assert len(counts) == 3 and min(counts) >= 2, f"prefix counts per node: {counts}"
PY
echo "every session on the page, up; the API peering with its provisioning status; prefix counts"

# Stop BIRD while the page runs: its edges must turn "down" within 2 s.
sleep 1
t_stop=$(date +%s%3N)
kill -TERM "${PID_OF[bird]}"
bird_gone() { [ "$(edges | grep -c ' 192\.0\.2\.10 down ')" = 3 ]; }
wait_until 5 "BIRD's three edges down on the page" bird_gone
edges > "$T/edges2"
n_down=0
while read -r node peer state since; do
	[ "$peer" = 192.0.2.10 ] || { [ "$state" = up ] || die "$node -> $peer went $state"; continue; }
	lag=$((since - t_stop))
	echo "$node -> BIRD: down on the page $lag ms after BIRD was stopped"
	[ "$lag" -gt 0 ] && [ "$lag" -le 2000 ] || die "$node -> BIRD: turned down after $lag ms (expected 0-2000)"
	n_down=$((n_down + 1))
done < "$T/edges2"
[ "$n_down" = 3 ] || die "expected 3 BIRD edges down, got $n_down"

# The artefact.
SHOT=${UI_SCREENSHOT:-$(cd "$(dirname "$0")/../.." && pwd)/build/ui-topology.png}
mkdir -p "$(dirname "$SHOT")"
rm -f "$SHOT"
cdp shot "$SHOT" > /dev/null
[ -s "$SHOT" ] || die "no screenshot"
echo quit >&"$TO_CDP"
echo "ui_topology: every session shown, BIRD's edges down within 2 s, tenant 403; screenshot $SHOT"
