/*
 * peers: which BGP peers a node has, computed from the stored model alone
 * (pure: no datastore, no clock). tabbyd's reconcile calls it and turns
 * the result into sessions.
 *
 * In order of precedence (the first one naming an address wins, which the
 * caller applies): the node's own peers (v0.x node peers, v3 BGPPeers with
 * spec.node or a nodeSelector that matches the node), global peers, then
 * the node-to-node mesh while it is on. A BGPPeer with a peerSelector means
 * "peer with the nodes that match": a node it applies to peers with every
 * other matching node, and, as Calico does, a node that matches peers back
 * with every node the BGPPeer applies to, so both ends are configured.
 */
#ifndef TABBY_PEERS_H
#define TABBY_PEERS_H

#include "model/bgpconf.h"

enum peer_src { PEER_SRC_NODE, PEER_SRC_GLOBAL, PEER_SRC_MESH };

struct peer_want {
	struct bgp_peer peer;     /* address, AS, port and options */
	enum peer_src src;
	const char *name;         /* the BGPPeer it comes from; NULL for v0.x and mesh */
};

struct peer_wants {
	struct peer_want *v;
	size_t n, cap;
};

struct peers_in {
	const char *node;                   /* the node whose peers are computed */
	const struct bgp_global *global;
	const struct host_configs *hosts;   /* with their labels */
	const struct bgp_peers *node_peers, *global_peers;
	const struct bgp_selpeers *selpeers;
};

/*
 * Fills out in precedence order; the node's own addresses are not left out here. out's
 * buffer is reused (a caller computing often keeps it warm): zero out before the first call.
 */
void peers_compute(const struct peers_in *in, struct peer_wants *out);
void peer_wants_free(struct peer_wants *w);

#endif
