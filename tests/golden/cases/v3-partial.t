# A manifest that fails part way: what came before the error is written, nothing after it,
# and the message says how far it got (calicoctl's wording).
tabbyctl apply -f partial.yaml
tabbyctl get bgppeers
# The same peers with a good second peerIP: create fails on the first, before anything is written.
sed 's/192.0.2.300/192.0.2.2/' partial.yaml > fixed.yaml && tabbyctl create -f fixed.yaml
tabbyctl apply -f fixed.yaml
tabbyctl get bgppeers
# One deleted behind the manifest's back: delete -f stops there.
tabbyctl delete bgppeer second
tabbyctl delete -f fixed.yaml
tabbyctl get bgppeers
