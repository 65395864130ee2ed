# -o json and -o yaml for every show: stable field names (docs/cli.md).
tabbyctl node --ip=192.0.2.1 --as=65001
tabbyctl node --ip=192.0.2.2 --node=node2
tabbyctl bgp peer add 192.0.2.10 as 64555
tabbyctl bgp peer add 2001:db8::1 as 64590
tabbyctl node bgp peer add 198.51.100.2 as 65020
tabbyctl node prefix add 203.0.113.0/24
tabbyctl bgp peer show -o json
tabbyctl bgp peer show -o yaml
tabbyctl bgp peer show --ipv6 --output=json
tabbyctl node bgp peer show -o yaml
tabbyctl node show -o json
tabbyctl node show -o yaml
tabbyctl node prefix show -o json
tabbyctl bgp node-mesh -o json
tabbyctl bgp default-node-as -o yaml
tabbyctl bgp peer remove 192.0.2.10
tabbyctl bgp peer remove 2001:db8::1
tabbyctl bgp peer show -o json
tabbyctl bgp peer show -o yaml
