# --restart-time: the graceful restart time (RFC 4724) announced to a peer, stored as
# max_restart_time in seconds; 12 bits on the wire, so 1-4095.
tabbyctl bgp peer add 192.0.2.7 as 65007 --restart-time=30
tabbyctl node bgp peer add 192.0.2.8 as 65008 --restart-time=4095
tabbyctl bgp peer show -o json
tabbyctl node bgp peer show -o json
tabbyctl bgp peer add 192.0.2.9 as 65009 --restart-time=0
tabbyctl bgp peer add 192.0.2.9 as 65009 --restart-time=4096
tabbyctl bgp peer add 192.0.2.9 as 65009 --restart-time=12s
tabbyctl bgp peer add 192.0.2.9 as 65009 --restart-time=-5
