# Commands that only read never create a datastore: a mistyped path is an error (exit 1)
# naming the datastore and the reason, and the file is still not there afterwards.
tabbyctl --datastore=sqlite:nonexistent/x.db bgp peer show
tabbyctl --datastore=sqlite:nonexistent/x.db node show
tabbyctl --datastore=sqlite:nonexistent/x.db bgp node-mesh
tabbyctl --datastore=sqlite:nonexistent/x.db route show --node=node1
tabbyctl --datastore=sqlite:missing/x.db status
test -e missing/x.db || test -e nonexistent/x.db || echo "not created"
# A command that writes creates it.
tabbyctl --datastore=sqlite:created/x.db bgp peer add 192.0.2.10 as 64555
tabbyctl --datastore=sqlite:created/x.db bgp peer show
# An etcd URL that is not one.
tabbyctl --datastore=etcd:127.0.0.1:2379 bgp peer show
tabbyctl --datastore=etcd://127.0.0.1:99999 bgp peer show
tabbyctl --datastore=etcd://root:secret@127.0.0.1:2379 bgp peer show
