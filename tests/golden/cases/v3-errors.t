# Each validation error of the v3 resources: the field, what was wrong, what is accepted.
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2","asNumber":64512}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1:0","asNumber":64512}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"224.0.0.1","asNumber":64512}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":23456}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"asNumber":64512}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"peerSelector":"all()"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerSelector":"all()","asNumber":1}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"node":"n1","nodeSelector":"all()","peerSelector":"all()"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"nodeSelector":"rack = \"r1\"","peerSelector":"all()"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerSelector":"has(rr"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"keepOriginalNextHop":"yes"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"sourceAddress":"Other"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"maxRestartTime":"10 minutes"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"ttlSecurity":256}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"numAllowedLocalASNumbers":-1}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"password":{"secretKeyRef":{"name":"s"}}}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"filters":["ok","not ok"]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1,"frob":1}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"bad name"},"spec":{"peerIP":"192.0.2.1","asNumber":1}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{},"spec":{"peerIP":"192.0.2.1","asNumber":1}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v1","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.1","asNumber":1}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"bgppeer","metadata":{"name":"p"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"p"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","metadata":{"name":"p"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p","resourceVersion":"x"},"spec":{"peerIP":"192.0.2.1","asNumber":1}}' | tabbyctl apply -f -
# Two BGPPeers for one address and scope would be one session.
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"a"},"spec":{"peerIP":"192.0.2.1","asNumber":1}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"b"},"spec":{"peerIP":"192.0.2.1","asNumber":2}}' | tabbyctl create -f -
# BGPConfiguration
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"global"},"spec":{}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"logSeverityScreen":"Verbose"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"listenPort":0}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"nodeToNodeMeshEnabled":"off"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"communities":[{"name":"c","value":"65536:1"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"prefixAdvertisements":[{"cidr":"192.0.2.1/24"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"prefixAdvertisements":[{"cidr":"192.0.2.0/24","communities":["nosuch"]}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"node.n1"},"spec":{"asNumber":65000}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"node.n1"},"spec":{"nodeToNodeMeshEnabled":false}}' | tabbyctl create -f -
# Node
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1"},"spec":{"bgp":{"ipv4Address":"2001:db8::1/64"}}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1"},"spec":{"bgp":{"ipv6Address":"192.0.2.1"}}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1"},"spec":{"bgp":{"routeReflectorClusterID":"rr1"}}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1","labels":{"rr":true}},"spec":{}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1"},"spec":{"bgp":{"asNumber":0}}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1"},"spec":{"bgp":{"frob":0}}}' | tabbyctl create -f -
# BGPFilter
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"importV4":[{"action":"Drop"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"importV4":[{"matchOperator":"In","cidr":"192.0.2.0/24"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"importV4":[{"action":"Accept","matchOperator":"In","cidr":"2001:db8::/32"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"importV6":[{"action":"Accept","cidr":"2001:db8::/32"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"exportV4":[{"action":"Accept","matchOperator":"Like","cidr":"192.0.2.0/24"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"exportV4":[{"action":"Accept","matchOperator":"In","cidr":"192.0.2.0/24","prefixLength":{"min":33}}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"exportV4":[{"action":"Accept","source":"Local"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPFilter","metadata":{"name":"f"},"spec":{"exportV4":{"action":"Accept"}}}' | tabbyctl create -f -
# Secret
echo '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"not base64!"}}' | tabbyctl create -f -
echo '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"type":"kubernetes.io/tls","stringData":{"k":"v"}}' | tabbyctl create -f -
# Files
tabbyctl create -f no-such-file.yaml
printf 'kind: BGPPeer\n  bad: [indent\n' | tabbyctl create -f -
printf '# nothing\n' | tabbyctl apply -f -
tabbyctl apply
tabbyctl get
tabbyctl get bgppeers -o table
tabbyctl get bgppeers -o frob
tabbyctl bgp peer show -o wide
tabbyctl replace -f nodes.yaml
tabbyctl delete bgppeer
# Nothing above was stored.
tabbyctl get bgppeers
tabbyctl get bgpconfig
tabbyctl get nodes
tabbyctl get bgpfilters
# AS numbers as Calico takes them: a number, or a string also in asdot.
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"asdot"},"spec":{"peerIP":"192.0.2.7","asNumber":"1.10"}}' | tabbyctl create -f -
tabbyctl get bgppeer asdot
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"192.0.2.8","asNumber":"1.x"}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"node.n1"},"spec":{"communities":[{"name":"c","value":"1:1"}]}}' | tabbyctl create -f -
echo '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"node.n1"},"spec":{"prefixAdvertisements":[{"cidr":"192.0.2.0/24","communities":["defined-in-default"]}]}}' | tabbyctl create -f -
