#!/usr/bin/env bash
# Three processes add peers at the same time with tabbyctl (150 each, or
# $STORE_CONCURRENT_N): every one of them is there afterwards, none twice.
. "$(dirname "$0")/lib.bash"
export TABBY_DATASTORE="sqlite:$T/tabby.db"
N=${STORE_CONCURRENT_N:-150}
add() {  # hex group
	for i in $(seq 1 "$N"); do
		"$TABBYCTL" bgp peer add "2001:db8:$1::$(printf '%x' "$i")" as $((4200000000 + i)) || exit 1
	done
}
w=()
for g in a b c; do
	add "$g" & PIDS+=($!); w+=($!)
done
for p in "${w[@]}"; do
	wait "$p" || die "a writer failed"
done
want=$((3 * N))
n=$("$TABBYCTL" bgp peer show --ipv6 -o json | grep -c '"ip"')
[ "$n" = "$want" ] || die "expected $want peers, found $n"
rows=$("$TABBYCTL" bgp peer show --ipv6 | grep -E '^\| 2001:db8:' | sort -u | wc -l)
[ "$rows" = "$want" ] || die "expected $want distinct table rows, found $rows"
echo "3 writers x $N peers: all $want present"
