# tabbyctl label nodes, as calicoctl label (and kubectl's key- to remove).
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"node1"},"spec":{"bgp":{"ipv4Address":"192.0.2.1"}}}' | tabbyctl apply -f -
tabbyctl label nodes node1 route-reflector=true
tabbyctl label nodes node1 route-reflector=true
tabbyctl label nodes node1 route-reflector=false
tabbyctl label nodes node1 route-reflector=false --overwrite
tabbyctl label nodes node1 example.com/rack=r1
tabbyctl get node node1 -o yaml
tabbyctl label nodes node1 route-reflector --remove
tabbyctl label nodes node1 example.com/rack-
tabbyctl label nodes node1 route-reflector-
tabbyctl label nodes node1 route-reflector
tabbyctl label nodes node1 a=b --remove
tabbyctl label nodes node9 a=b
tabbyctl label bgppeers p1 a=b
tabbyctl label nodes node1 'bad key=x'
tabbyctl get node node1 -o yaml
# The v0.x registration keeps labels.
tabbyctl label nodes node1 rr=yes
tabbyctl node --ip=192.0.2.5 --as=65010
tabbyctl get node node1 -o json
tabbyctl label nodes node1 'rack=not ok'
echo '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"node1","labels":{"-x":"y"}}}' | tabbyctl apply -f -
