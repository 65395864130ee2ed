#!/usr/bin/env bash
# Benchmark (not a test): tabby-api on loopback. wrk against GET /ne/v1/bgp/{uuid} (the
# targets: >= 20k requests/s, p99 < 5 ms), then POST /ne/v1/bgp, each to a fresh connection
# (every one a durable datastore write).  bench/api_wrk.sh [SECONDS] [THREADS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
"$top/scripts/deps" bench
make -C "$top" >/dev/null
dir=$(mktemp -d /tmp/tabby-bench-api-XXXXXX)
export TABBY_DATASTORE="sqlite:$dir/tabby.db"
ctl=$top/build/tabbyctl
port=$((10000 + RANDOM % 20000))   # below the ephemeral range (32768 up): no outgoing connection holds it
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
creds=$("$ctl" api-client create bench)
id=$(echo "$creds" | sed -n 's/Client ID: //p'); secret=$(echo "$creds" | sed -n 's/Client secret: //p')
dev=$("$ctl" device create --node=n1 --owner="$id")
"$top/build/tabby-api" --listen "127.0.0.1:$port" ${2:+--threads "$2"} > "$dir/api.log" 2>&1 &
pid=$!
sleep 0.5
api=http://127.0.0.1:$port
token=$(curl -s -u "$id:$secret" -d grant_type=client_credentials "$api/oauth2/v1/token" |
	sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
conn=$("$ctl" connection create --device="$dev" --interface=eth0)
body() { echo "{\"connectionUuid\":\"$1\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\"}"; }
uuid=$(curl -s "$api/ne/v1/bgp" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d "$(body "$conn")" | sed 's/.*"uuid":"\(.*\)".*/\1/')
echo "== GET /ne/v1/bgp/{uuid}, wrk -t2 -c32 -d${secs}s"
wrk -t2 -c32 -d"${secs}s" --latency -H "Authorization: Bearer $token" "$api/ne/v1/bgp/$uuid" |
	grep -E "Requests/sec|Latency|50%|90%|99%"
n=300
for i in $(seq "$n"); do "$ctl" connection create --device="$dev" --interface="e$i" >> "$dir/conns"; done
echo "== POST /ne/v1/bgp, $n peerings, one client, sequential"
start=$(date +%s%N)
while read -r c; do
	curl -s -o /dev/null -w '%{http_code}\n' "$api/ne/v1/bgp" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' -d "$(body "$c")"
done < "$dir/conns" | sort | uniq -c
end=$(date +%s%N)
echo "POST: $n in $(( (end - start) / 1000000 )) ms = $(awk "BEGIN{printf \"%.2f\", ($end-$start)/1e6/$n}") ms each (curl process included)"
