# projectcalico.org/v3 resources: every kind applied, got (table, wide, yaml, json), replaced, deleted.
tabbyctl get bgppeers
tabbyctl create -f bgppeers.yaml
tabbyctl create -f bgppeers.yaml
tabbyctl apply -f secret.yaml
tabbyctl apply -f bgpconfig.yaml
tabbyctl apply -f nodes.yaml
tabbyctl create -f bgpfilter.json
tabbyctl get bgppeers
tabbyctl get bgppeers -o wide
tabbyctl get bgppeer rack-tor-with-options -o yaml
tabbyctl get bgppeer rack1-tor -o json
tabbyctl get bgpconfigurations
tabbyctl get bgpconfig -o wide
tabbyctl get bgpconfig default -o yaml
tabbyctl get bgpconfig node.rack1-host1 -o json
tabbyctl get nodes
tabbyctl get nodes -o wide
tabbyctl get nodes -o yaml
tabbyctl get node node-hostname -o json
tabbyctl get bgpfilters
tabbyctl get bgpfilters -o wide
tabbyctl get bgpfilter my-filter -o yaml
tabbyctl get bgpfilter my-filter -o json
# Secrets: names only, never a value.
tabbyctl get secrets
tabbyctl get secret bgp-secrets -o yaml
tabbyctl get bgppeer no-such-peer
tabbyctl get frobs
# replace: the peer moves to another address, the node gets new labels and AS.
tabbyctl replace -f replace.yaml
tabbyctl get bgppeer global-peer -o yaml
tabbyctl get nodes -o wide
tabbyctl get node rack1-host1 -o yaml
# The round trip: what get prints applies back unchanged.
tabbyctl get bgppeers -o yaml > peers-out.yaml; tabbyctl apply -f peers-out.yaml; tabbyctl get bgppeers -o yaml | grep -v resourceVersion > again.yaml; grep -v resourceVersion peers-out.yaml | diff - again.yaml && echo same
tabbyctl get bgpconfig -o yaml | tabbyctl apply -f -
tabbyctl get nodes -o json | tabbyctl replace -f -
tabbyctl get bgpfilter my-filter -o yaml > filter-out.yaml; tabbyctl apply -f filter-out.yaml; tabbyctl get bgpfilter my-filter -o yaml | grep -v resourceVersion | diff <(grep -v resourceVersion filter-out.yaml) - && echo same
# A stale resourceVersion is refused; the stored object stays.
tabbyctl apply -f stale.yaml
tabbyctl replace -f stale.yaml
tabbyctl get bgppeer global-peer
# delete by kind and name, and by file.
tabbyctl delete bgppeer rack1-tor
tabbyctl delete bgppeer rack1-tor
tabbyctl delete -f bgpconfig.yaml
tabbyctl delete -f bgpfilter.json
tabbyctl delete secret bgp-secrets
tabbyctl delete node node-hostname
tabbyctl get bgppeers
tabbyctl get bgpconfig
tabbyctl get nodes
tabbyctl get bgpfilters
tabbyctl get secrets
# Deleting a node deletes its own BGPConfiguration, as Calico does.
tabbyctl apply -f bgpconfig.yaml
tabbyctl get bgpconfig
tabbyctl delete node rack1-host1
tabbyctl get bgpconfig
