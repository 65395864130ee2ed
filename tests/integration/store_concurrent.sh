#!/usr/bin/env bash
# Two processes add 1,000 peers each at the same time with tabbyctl; all 2,000 are there.
. "$(dirname "$0")/lib.bash"
export TABBY_DATASTORE="sqlite:$T/tabby.db"
add() {  # hex group
	for i in $(seq 1 1000); do
		"$TABBYCTL" bgp peer add "2001:db8:$1::$(printf '%x' "$i")" as $((4200000000 + i)) || exit 1
	done
}
add a & PIDS+=($!); a=$!
add b & PIDS+=($!); b=$!
wait "$a" || die "writer a failed"
wait "$b" || die "writer b failed"
n=$("$TABBYCTL" bgp peer show --ipv6 -o json | grep -c '"ip"')
[ "$n" = 2000 ] || die "expected 2000 peers, found $n"
rows=$("$TABBYCTL" bgp peer show --ipv6 | grep -c '^| 2001:db8:')
[ "$rows" = 2000 ] || die "expected 2000 table rows, found $rows"
echo "2 writers x 1000 peers: all 2000 present"
