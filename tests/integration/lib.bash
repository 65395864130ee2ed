# Shared helpers for integration scripts: a scratch directory and the processes a test
# starts, all removed on exit (processes by their pid, never by name).
#
# With BUILD pointing at an ASan+UBSan build (build-asan), the daemons' sanitizer
# reports go to files in $SAN_DIR (TABBY_SAN_DIR, or a folder of the scratch directory);
# a test that leaves any report there fails, whatever it checked itself.
set -u
BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
TABBYCTL=$BUILD/tabbyctl
T=$(mktemp -d /tmp/tabby-it-XXXXXX)
PIDS=()
SAN_DIR=${TABBY_SAN_DIR:-$T/san}
mkdir -p "$SAN_DIR"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$SAN_DIR/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$SAN_DIR/ubsan"

# Kills every process the test started (PIDS) and everything those started in turn
# (ExaBGP's API scripts, say). The tree is stopped first, and read again until no new
# process shows up: a stopped process forks no more, so none started between a reading
# and the kill escapes it.
kill_started() {
	local p pp c all=() queue more=1
	local -A kids=() seen=()
	while [ $more = 1 ]; do
		more=0
		kids=()
		while read -r p pp; do kids[$pp]+=" $p"; done < <(ps -e -o pid=,ppid=)
		queue=("${PIDS[@]}")
		while [ ${#queue[@]} -gt 0 ]; do
			p=${queue[0]}
			queue=("${queue[@]:1}")
			if [ -z "${seen[$p]:-}" ]; then
				seen[$p]=1; all+=("$p"); more=1
				kill -STOP "$p" 2>/dev/null
			fi
			for c in ${kids[$p]:-}; do queue+=("$c"); done
		done
	done
	for p in "${all[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}

# A sanitizer's report, wherever it went: ASan writes to log_path, while GCC's UBSan (in
# the ASan runtime) ignores log_path and writes to the daemon's stderr, i.e. its log.
SAN_PATTERN='ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: (Address|UndefinedBehavior)Sanitizer|\.[ch]:[0-9]+:[0-9]+: runtime error: '

# Prints the sanitizer reports of the test's processes; true if there are any.
san_reports() {
	local f found=1
	for f in "$SAN_DIR"/asan.* "$SAN_DIR"/ubsan.* $(grep -rlE --include='*.log' "$SAN_PATTERN" "$T" 2>/dev/null); do
		[ -s "$f" ] || continue
		echo "---- sanitizer report in $f" >&2
		grep -m1 -A30 -E "$SAN_PATTERN|^=+$" "$f" >&2
		found=0
	done
	return $found
}

# The end of every test: processes, sanitizer reports (a report fails the test), scratch.
finish() {
	set +e
	kill_started
	if san_reports; then
		rm -rf "$T"
		echo "FAIL: sanitizer report(s) above" >&2
		exit 1
	fi
	rm -rf "$T"
}

cleanup() { finish; }
trap cleanup EXIT

die() { echo "FAIL: $*" >&2; exit 1; }

# api_serve LOG [ARGS...]: tabby-api on a loopback port, ready to answer; the port in
# SERVED_PORT, the pid in SERVED_PID. The port is picked below the kernel's ephemeral range,
# so no outgoing connection takes it between the pick and the bind (a port taken from
# the pid did, once), and another listener on it only means trying the next pick.
api_serve() {
	local log=$1 lo
	shift
	read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range
	for _ in $(seq 20); do
		SERVED_PORT=$((10000 + RANDOM % (lo - 10000)))
		"$BUILD/tabby-api" --listen "127.0.0.1:$SERVED_PORT" "$@" > "$log" 2>&1 &
		SERVED_PID=$!
		PIDS+=("$SERVED_PID")
		for _ in $(seq 100); do
			grep -q "serving HTTP" "$log" && return 0
			kill -0 "$SERVED_PID" 2> /dev/null || break
			sleep 0.1
		done
		# Alive but not serving after 10 s: a failure, not a port to try again.
		kill -0 "$SERVED_PID" 2> /dev/null && break
		wait "$SERVED_PID" 2> /dev/null || true
		grep -q "Address already in use" "$log" || break
	done
	echo "FAIL: tabby-api did not start: $(cat "$log")" >&2
	return 1
}

# Calico v3 manifests for `tabbyctl apply -f -`; the arguments are further lines of the spec.
# calico_bgpconfig NAME [LINE...]: the BGPConfiguration NAME (default, or node.NODE).
calico_bgpconfig() {
	printf '%s\n' "apiVersion: projectcalico.org/v3" "kind: BGPConfiguration" "metadata:" \
		"  name: $1" "spec:" "${@:2}"
}
# The default BGPConfiguration of a layout without the node-to-node mesh, AS 64512.
calico_no_mesh() { calico_bgpconfig default "  nodeToNodeMeshEnabled: false" "  asNumber: 64512" "$@"; }
# Calico's route-reflector BGPPeer: every node peers with the nodes labelled route-reflector=true.
calico_rr_peer() {
	printf '%s\n' "apiVersion: projectcalico.org/v3" "kind: BGPPeer" "metadata:" \
		"  name: peer-with-route-reflectors" "spec:" "  nodeSelector: all()" \
		"  peerSelector: route-reflector == 'true'" "$@"
}
