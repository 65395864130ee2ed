#!/usr/bin/env bash
# Two tabbyd nodes sharing one store: with the node-to-node mesh on they peer with each
# other (IPv4 and IPv6); mesh off takes the sessions down, on brings them back; changing
# the default node AS re-peers the nodes that inherit it.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
host_add n1 1
host_add n2 2
tabbyd_start n1 n1 1
tabbyd_start n2 n2 2
all_up() {
	tabby_up n1 192.0.2.2 && tabby_up n1 2001:db8::2 && tabby_up n2 192.0.2.1 &&
		tabby_up n2 2001:db8::1
}
none() { ! "$TABBYCTL" status --node=n1 | grep -q "^| 192.0.2.2 " &&
	! "$TABBYCTL" status --node=n2 | grep -q "^| 192.0.2.1 "; }
wait_until 10 "mesh sessions up on both nodes, IPv4 and IPv6" all_up
"$TABBYCTL" status --node=n1
status_row n1 192.0.2.2 | grep -q "node-to-node mesh"
"$TABBYCTL" bgp node-mesh off
wait_until 5 "mesh off: sessions gone" none
"$TABBYCTL" bgp node-mesh on
wait_until 10 "mesh on: sessions back" all_up
"$TABBYCTL" bgp default-node-as 64600
wait_until 10 "default AS 64600: re-peered" bash -c \
	"'$TABBYCTL' status --node=n1 -o json | grep -q '\"local_as\": 64600' && \
	 '$TABBYCTL' status --node=n1 | grep -qE '^\| 192\.0\.2\.2 .*\| up '"
wait_until 10 "both families up again" all_up
# A node with its own AS keeps it when the default changes.
"$TABBYCTL" node --ip=192.0.2.2 --ip6=2001:db8::2 --as=65002 --node=n2
wait_until 10 "n1 sees n2 as AS 65002" bash -c \
	"'$TABBYCTL' status --node=n1 -o json | grep -q '\"remote_as\": 65002'"
wait_until 10 "up with n2's own AS" all_up
echo "mesh: up, off, on, re-peered on default AS and node AS changes"
