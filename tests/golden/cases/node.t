# Node registration, node-specific peers (--node, else $TABBY_NODE) and prefixes.
tabbyctl node show
tabbyctl node --ip=192.0.2.1 --ip6=2001:db8::1
tabbyctl node --ip=192.0.2.2 --as=65002 --node=node2
tabbyctl node show
tabbyctl bgp default-node-as 65100
tabbyctl node show
tabbyctl node bgp peer show
tabbyctl node bgp peer add 198.51.100.2 as 65020
tabbyctl node bgp peer add 198.51.100.3 as 65030 --node=node2
tabbyctl node bgp peer add 2001:db8:ff::2 as 65021
tabbyctl node bgp peer show
tabbyctl node bgp peer show --node=node2 --ipv4
tabbyctl bgp peer show
tabbyctl node bgp peer remove 198.51.100.3
tabbyctl node bgp peer remove 198.51.100.3 --node=node2
tabbyctl node prefix show
tabbyctl node prefix add 203.0.113.0/24
tabbyctl node prefix add 203.0.113.128/25
tabbyctl node prefix add 2001:db8:1::/48
tabbyctl node prefix show
tabbyctl node prefix show --ipv6
tabbyctl node prefix remove 203.0.113.128/25
tabbyctl node prefix show --ipv4
tabbyctl node prefix show --node=node2
tabbyctl node remove node2
tabbyctl node show
