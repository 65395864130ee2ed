# Sorting by address (numerically), canonical IPv6, replacement by address, empty families.
tabbyctl bgp peer show
tabbyctl bgp peer add 192.0.2.10 as 64555
tabbyctl bgp peer add 192.0.2.9 as 64556
tabbyctl bgp peer add 198.51.100.1 as 1.10
tabbyctl bgp peer add 2001:0DB8:0:0:0:0:0:10 as 4200000000
tabbyctl bgp peer add 2001:db8::9 as 64590
tabbyctl bgp peer show
tabbyctl bgp peer add 192.0.2.10 as 65010
tabbyctl bgp peer show --ipv4
tabbyctl bgp peer remove 2001:db8:0::10
tabbyctl bgp peer remove 2001:db8::9
tabbyctl bgp peer show --ipv6
tabbyctl bgp peer show
