#!/usr/bin/env bash
# Benchmark (not a test): adds N global peers (default 10,000) one tabbyctl process each,
# then times `tabbyctl bgp peer show` over them. Targets: < 5 ms per add, < 50 ms per show.
#   bench/ctl_peers.sh [N]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
"$top/scripts/deps" bench
make -C "$top" >/dev/null
ctl=$top/build/tabbyctl
dir=$(mktemp -d /tmp/tabby-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
export TABBY_DATASTORE="sqlite:$dir/tabby.db"

# Addresses: 10.x.y.z style spread over 198.18.0.0/15 (RFC 2544); they are only stored.
addr() { echo "198.$((18 + $1 / 65536)).$(( ($1 / 256) % 256 )).$(( $1 % 256 ))"; }

start=$(date +%s%N)
for i in $(seq 1 "$n"); do
	"$ctl" bgp peer add "$(addr "$i")" as $((4200000000 + i))
done
end=$(date +%s%N)
total_ms=$(( (end - start) / 1000000 ))
echo "tabbyctl bgp peer add: $n peers in $total_ms ms = $(awk "BEGIN{printf \"%.2f\", $total_ms / $n}") ms per add (process start, open, one durable commit)"

rows=$("$ctl" bgp peer show --ipv4 | grep -c '^| 198\.')
[ "$rows" = "$n" ] || { echo "expected $n rows, got $rows" >&2; exit 1; }
hyperfine -N --warmup 3 --runs 20 --export-json "$dir/show.json" \
	"$ctl bgp peer show" "$ctl bgp peer show -o json" \
	"$ctl bgp peer add 198.51.100.1 as 64555" 2>&1 | grep -E "Benchmark|Time|Range"

# The same N peers as one v3 manifest, applied to an empty datastore and again over
# itself (each write a durable commit; the kind is scanned once, not once a document).
for i in $(seq 1 "$n"); do
	printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: p%d\nspec:\n  peerIP: %s\n  asNumber: %d\n' \
		"$i" "$(addr "$i")" $((4200000000 + i))
done > "$dir/peers.yaml"
export TABBY_DATASTORE="sqlite:$dir/apply.db"
for what in "into an empty datastore" "again, over the same $n"; do
	start=$(date +%s%N)
	"$ctl" apply -f "$dir/peers.yaml" > /dev/null
	end=$(date +%s%N)
	echo "tabbyctl apply -f of $n BGPPeers $what: $(( (end - start) / 1000000 )) ms"
done
