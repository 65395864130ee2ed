# One model, two grammars: v0.x commands and v3 resources see each other's objects.
tabbyctl bgp peer add 192.0.2.10 as 64555 --password=secret1
tabbyctl bgp peer add 2001:db8::1 as 64590
tabbyctl node bgp peer add 198.51.100.2 as 65020
tabbyctl node --ip=192.0.2.1 --ip6=2001:db8::11 --as=65001
tabbyctl bgp node-mesh off
tabbyctl bgp default-node-as 65100
tabbyctl get bgppeers
tabbyctl get bgppeers -o yaml
tabbyctl get nodes -o wide
tabbyctl get bgpconfig default -o yaml
# v3 into v0.x: a node-scoped and a global BGPPeer, a Node, the default BGPConfiguration.
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"tor"},"spec":{"node":"node2","peerIP":"203.0.113.1","asNumber":65030}}' | tabbyctl apply -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"upstream"},"spec":{"peerIP":"203.0.113.9","asNumber":65040}}' | tabbyctl apply -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"node2","labels":{"rack":"r2"}},"spec":{"bgp":{"ipv4Address":"192.0.2.2/24"}}}' | tabbyctl apply -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"nodeToNodeMeshEnabled":true,"asNumber":64999}}' | tabbyctl apply -f -
tabbyctl bgp peer show
tabbyctl node bgp peer show --node=node2
tabbyctl node show
tabbyctl bgp node-mesh
tabbyctl bgp default-node-as
# A derived name edits the v0.x peer; its password (not part of the v3 view) is kept.
tabbyctl get bgppeer global.192-0-2-10 -o yaml | sed 's/asNumber: 64555/asNumber: 64556/' | tabbyctl apply -f -
tabbyctl bgp peer show --ipv4
tabbyctl bgp peer show -o json
# v0.x into a v3 peer: 'bgp peer add' of its address changes the AS, keeps its name and v3 fields.
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"upstream"},"spec":{"peerIP":"203.0.113.9","asNumber":65040,"keepOriginalNextHop":true}}' | tabbyctl apply -f -
tabbyctl bgp peer add 203.0.113.9 as 65041
tabbyctl get bgppeer upstream -o yaml
# v0.x commands keep the v3-only parts: labels survive 'node --ip', and removal works both ways.
tabbyctl node --ip=192.0.2.3 --node=node2
tabbyctl get node node2 -o yaml
tabbyctl bgp peer remove 203.0.113.9
tabbyctl delete bgppeer global.2001-db8--1
tabbyctl node bgp peer remove 203.0.113.1 --node=node2
tabbyctl get bgppeers
tabbyctl bgp peer show
