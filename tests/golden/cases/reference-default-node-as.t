# The reference page's examples.
tabbyctl bgp default-node-as 64512
tabbyctl bgp default-node-as
