# The reference page's examples.
tabbyctl bgp node-mesh on
tabbyctl bgp node-mesh off
tabbyctl bgp node-mesh
