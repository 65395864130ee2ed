tabbyctl bgp peer add 192.0.2.10 as 64555
tabbyctl bgp peer add 2001:0db8::1 as 64590
# The reference page's examples:
tabbyctl bgp peer remove 192.0.2.10
tabbyctl bgp peer remove 2001:0db8::1
