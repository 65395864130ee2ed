# --max-prefixes (RFC 4486): per peer, global and node-specific, and the mesh default.
tabbyctl bgp peer add 192.0.2.10 as 64555 --max-prefixes=1000
tabbyctl bgp peer add 2001:db8::10 as 64555 --max-prefixes 5
tabbyctl bgp peer add 192.0.2.11 as 64556 --max-prefixes=none
tabbyctl bgp peer show
tabbyctl bgp peer show -o json
tabbyctl node bgp peer add 192.0.2.12 as 64557 --max-prefixes=4294967295
tabbyctl node bgp peer show -o yaml
# Bad values name the flag and what is accepted; nothing is stored.
tabbyctl bgp peer add 192.0.2.13 as 64555 --max-prefixes=0
tabbyctl bgp peer add 192.0.2.13 as 64555 --max-prefixes=4294967296
tabbyctl node bgp peer add 192.0.2.13 as 64555 --max-prefixes=-1
tabbyctl bgp peer add 192.0.2.13 as 64555 --max-prefixes=1k
tabbyctl bgp peer add 192.0.2.13 as 64555 --max-prefixes=
tabbyctl bgp peer show --ipv4
# Replacing a peer without the flag removes its limit.
tabbyctl bgp peer add 192.0.2.10 as 64555
tabbyctl bgp peer show --ipv4 -o json
# The mesh default, in the global BGP configuration; the table stays calicoctl's.
tabbyctl bgp node-mesh --max-prefixes=500
tabbyctl bgp node-mesh
tabbyctl bgp node-mesh -o yaml
tabbyctl bgp node-mesh off
tabbyctl bgp node-mesh -o json
tabbyctl bgp node-mesh on --max-prefixes=none
tabbyctl bgp node-mesh -o json
tabbyctl bgp node-mesh --max-prefixes=many
tabbyctl bgp default-node-as --max-prefixes=5
