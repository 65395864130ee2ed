# Bad input: one clear line on stderr, exit 2 for usage errors, 1 for other failures,
# and nothing changes in the store.
tabbyctl bgp peer add 192.0.2.300 as 64555
tabbyctl bgp peer add 192.0.2.10 as 0
tabbyctl bgp peer add 192.0.2.10 as 23456
tabbyctl bgp peer add 192.0.2.10 as 65535
tabbyctl bgp peer add 192.0.2.10 as 4294967295
tabbyctl bgp peer add 192.0.2.10 as 4294967296
tabbyctl bgp peer add 192.0.2.10 as AS64555
tabbyctl bgp peer add 192.0.2.10 as 1.65536
tabbyctl bgp peer add 224.0.0.5 as 64555
tabbyctl bgp peer add 192.0.2.10
tabbyctl bgp peer add 192.0.2.10 64555
tabbyctl bgp peer add 192.0.2.10 is 64555
tabbyctl bgp peer add 192.0.2.10 as 64555 extra
tabbyctl bgp peer add
tabbyctl bgp peer remove
tabbyctl bgp peer remove 192.0.2.10
tabbyctl bgp peer remove 2001:db8::99
tabbyctl bgp peer show --ipv4 --ipv6
tabbyctl bgp peer show -o xml
tabbyctl bgp peer show --node=node2
tabbyctl bgp peer frob
tabbyctl bgp peer
tabbyctl bgp
tabbyctl bgp frob
tabbyctl frob
tabbyctl bgp peer show --frob
tabbyctl bgp peer show --ipv4=yes
tabbyctl bgp node-mesh maybe
tabbyctl bgp node-mesh on off
tabbyctl bgp default-node-as 0
tabbyctl bgp default-node-as 23456
tabbyctl node bgp peer add 192.0.2.10 as 64555 --node=bad/name
tabbyctl node --ip=2001:db8::1
tabbyctl node --ip6=192.0.2.1
tabbyctl node --as=65535
tabbyctl node frob
tabbyctl node prefix add 203.0.113.1/24
tabbyctl node prefix add 203.0.113.0/33
tabbyctl node prefix add 203.0.113.0
tabbyctl node prefix remove 203.0.113.0/24
tabbyctl node remove node9
tabbyctl --datastore=mysql://db bgp peer show
tabbyctl --datastore=sqlite:/proc/version bgp peer show
# Nothing above was stored:
tabbyctl bgp peer show
tabbyctl bgp default-node-as
tabbyctl node show
