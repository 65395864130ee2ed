# Shared helpers for integration scripts: a scratch directory and the processes a test
# starts, all removed on exit (processes by their pid, never by name).
set -u
BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
TABBYCTL=$BUILD/tabbyctl
T=$(mktemp -d /tmp/tabby-it-XXXXXX)
PIDS=()

cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

die() { echo "FAIL: $*" >&2; exit 1; }
