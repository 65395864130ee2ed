#!/usr/bin/env bash
# Nothing acknowledged is lost when the writer dies: a writer is killed with SIGKILL in the
# middle of a loop of writes, again and again; every write it reported as done must be in
# the store. This proves that a commit has reached the operating system before it is
# acknowledged, not that it has reached the disk: the OS keeps a killed process's writes,
# so this would pass with synchronous=OFF too. That every connection runs with WAL and
# synchronous=FULL (what makes a commit survive power loss) is checked by the unit test
# tests/unit/test_store_durability.c.
. "$(dirname "$0")/lib.bash"
URL="sqlite:$T/db/tabby.db"
rounds=25
for r in $(seq 1 $rounds); do
	"$BUILD/store_stress" write "$URL" "/tabby/v1/test/r$r/" 1000000 >> "$T/acked" 2>"$T/err" &
	pid=$!
	PIDS+=("$pid")
	# Kill at a different point of the write loop each round (10-250 ms in).
	sleep "0.$(printf '%03d' $(( (r * 97) % 240 + 10 )))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
done
n=$(wc -l < "$T/acked")
[ "$n" -gt 100 ] || die "only $n writes were acknowledged before the kills; the test proves nothing"
"$BUILD/store_stress" check "$URL" "$T/acked" || die "acknowledged writes were lost"
echo "$rounds SIGKILLs, $n acknowledged writes, none lost"
