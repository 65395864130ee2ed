#!/usr/bin/env bash
# Calico's route-reflector layout from v3 resources: the mesh off, one BGPPeer with
# nodeSelector all() and peerSelector route-reflector == 'true'. Every node peers with the
# labelled node (IPv4 and IPv6), the labelled node peers back with every node, and the
# others do not peer with each other; the password comes from a Secret (TCP MD5 on both
# ends). Moving the label moves the sessions. (Plain iBGP sessions: route reflection
# itself is the speaker's part.)
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
lan_up
for n in 1 2 3 4; do host_add "n$n" "$n"; done
"$TABBYCTL" apply -f - <<YAML
$(calico_no_mesh)
---
$(calico_rr_peer "  password:" "    secretKeyRef:" "      name: bgp-passwords" "      key: rr")
---
apiVersion: v1
kind: Secret
metadata:
  name: bgp-passwords
  namespace: kube-system
type: Opaque
stringData:
  rr: selector-md5-key
YAML
for n in 1 2 3 4; do tabbyd_start "n$n" "n$n" "$n"; done
wait_until 10 "all four nodes registered" bash -c "[ \$('$TABBYCTL' get nodes | wc -l) = 5 ]"
"$TABBYCTL" label nodes n1 route-reflector=true

up_both() { tabby_up "$1" "$(v4 "$2")" && tabby_up "$1" "$(v6 "$2")"; }
no_row() { ! status_row "$1" "$(v4 "$2")" && ! status_row "$1" "$(v6 "$2")"; }
star_on() {  # CENTRE: every other node up with it, and it with them; no other sessions.
	local c=$1 a b
	for a in 1 2 3 4; do
		[ "$a" = "$c" ] && continue
		up_both "n$a" "$c" && up_both "n$c" "$a" || return 1
		for b in 1 2 3 4; do
			[ "$b" = "$c" ] || [ "$b" = "$a" ] || no_row "n$a" "$b" || return 1
		done
	done
}
wait_until 15 "n2, n3, n4 peer with n1 (the reflector) only, and n1 with each" star_on 1
"$TABBYCTL" status --node=n1
status_row n2 192.0.2.1 | grep -q "node specific"
"$TABBYCTL" status --node=n2 -o json | grep -q '"md5": true'
"$TABBYCTL" status --node=n2 -o json | grep -q '"md5": false' && die "a session without the Secret's key"
"$TABBYCTL" get bgppeers -o wide

# Relabelling: n3 becomes the reflector, n1 an ordinary node.
"$TABBYCTL" label nodes n1 route-reflector-
"$TABBYCTL" label nodes n3 route-reflector=true
wait_until 15 "sessions moved: everyone peers with n3 only" star_on 3
"$TABBYCTL" status --node=n3

# The selector BGPPeer deleted: with the mesh off, no sessions at all.
"$TABBYCTL" delete bgppeer peer-with-route-reflectors
none() { for a in 1 2 4; do no_row "n$a" 3 && no_row n3 "$a" || return 1; done; }
wait_until 10 "BGPPeer deleted: sessions gone" none
echo "selectors: peerSelector star on n1, moved to n3 by relabelling, gone with the BGPPeer"
