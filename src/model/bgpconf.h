/*
 * bgpconf: the BGP configuration resources (global settings, global and
 * node-specific peers, node registrations, originated prefixes), their
 * validation and their JSON form in the datastore. The CLI, the agent and
 * the API all go through here, so they agree on what is valid.
 *
 * Functions return STORE_OK, STORE_NOTFOUND where noted, or STORE_ERR with
 * err filled.
 */
#ifndef TABBY_BGPCONF_H
#define TABBY_BGPCONF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "model/keys.h"
#include "store/store.h"

#define BGP_PASSWORD_MAX 80
#define BGP_FILTERS_MAX 512
#define BGPCONF_RESTART_TIME_MAX 4095  /* RFC 4724 §3: the restart time has 12 bits */

struct bgp_global {
	uint32_t as_num;   /* default node AS */
	bool node_mesh;
	uint32_t mesh_max_prefixes;  /* limit for each mesh peer; 0: none */
	uint32_t mesh_max_restart_time;  /* nodeMeshMaxRestartTime, seconds; 0: default 120 */
};

/*
 * Maximum prefixes a peer may send (RFC 4486): past it the session closes
 * with Cease/1 and is retried after a back-off. 0 means no limit.
 */
#define BGPCONF_MAX_PREFIXES_ACCEPTED "accepted: a whole number 1-4294967295, or none"

struct bgp_peer {
	struct addr ip;
	uint32_t as_num;
	char password[BGP_PASSWORD_MAX + 1];  /* "" when none; never printed */
	bool import_none, export_none;         /* --import=none / --export=none */
	uint32_t max_prefixes;                 /* --max-prefixes; 0: no limit */
	/* From a v3 BGPPeer (resource.h); the password may come from a Secret. */
	uint16_t port;                         /* peerIP IP:port; 0: 179 */
	bool keep_original_next_hop;
	bool source_address_none;              /* sourceAddress: None */
	uint32_t max_restart_time;             /* RFC 4724 restart time, seconds; 0: default 120 */
	uint32_t num_allowed_local_as;
	uint32_t ttl_security;                 /* hops; 0: off */
	char filters[BGP_FILTERS_MAX];         /* BGPFilter names, in order, comma-separated */
	bool has_rr_cluster_id;                /* a node peer: its routeReflectorClusterID */
	uint32_t rr_cluster_id;
};

struct bgp_peers {
	struct bgp_peer *v;
	size_t n;
};

struct host_config {
	char name[NODE_NAME_MAX + 1];
	bool registered;    /* has a config record (else only peers or prefixes) */
	bool has_ip, has_ip6, has_as;
	struct addr ip, ip6;
	uint32_t as_num;
	uint16_t port;      /* BGP port the node's agent listens on; 0: 179 */
	bool has_rr_cluster_id;   /* Node routeReflectorClusterID: a route reflector */
	uint32_t rr_cluster_id;   /* host order */
};

struct host_configs {
	struct host_config *v;
	size_t n;
	json_t *labels;     /* node name -> its Node labels (a JSON object of strings) */
};

struct sel;

/* A v3 BGPPeer with a nodeSelector or peerSelector (stored by name). */
struct bgp_selpeer {
	char name[254];
	char node[NODE_NAME_MAX + 1];    /* spec.node, or "" */
	struct sel *node_sel, *peer_sel; /* parsed; NULL when not set */
	bool has_ip;                     /* peerIP (with nodeSelector) */
	struct bgp_peer peer;            /* the address, AS and options */
};

struct bgp_selpeers {
	struct bgp_selpeer *v;
	size_t n;
};

struct node_prefixes {
	struct prefix *v;
	size_t n;
};

int bgpconf_global_get(struct store *s, struct bgp_global *out, struct err *err);
/* BGPConfiguration listenPort for the node (node.NAME, else default); 0 when not set. */
int bgpconf_listen_port(struct store *s, const char *node, uint16_t *port, struct err *err);
int bgpconf_set_node_mesh(struct store *s, bool on, struct err *err);
int bgpconf_set_default_as(struct store *s, uint32_t as_num, struct err *err);
/* The default limit of every node-to-node mesh session; 0 removes it. */
int bgpconf_set_mesh_max_prefixes(struct store *s, uint32_t n, struct err *err);
/* "1".."4294967295", or "none" (0); err says what is accepted. 0 / -1. */
int bgpconf_max_prefixes_parse(const char *text, uint32_t *out, struct err *err);

/* Peers: node NULL means the global list. family 0 lists both, IPv4 first. */
int bgpconf_peer_check(const struct bgp_peer *p, struct err *err);
int bgpconf_peer_put(struct store *s, const char *node, const struct bgp_peer *p,
		     struct err *err);
int bgpconf_peer_remove(struct store *s, const char *node, const struct addr *ip,
			struct err *err);
int bgpconf_peer_list(struct store *s, const char *node, int family, struct bgp_peers *out,
		      struct err *err);
/* Appends the peer stored at ip (node NULL: the global one) to out, if there is one. */
int bgpconf_peer_get(struct store *s, const char *node, const struct addr *ip, struct bgp_peers *out,
		     struct err *err);
void bgp_peers_free(struct bgp_peers *p);
/* The BGPPeers chosen by selectors, by name; malformed ones are logged and skipped. */
int bgpconf_selpeer_list(struct store *s, struct bgp_selpeers *out, struct err *err);
void bgp_selpeers_free(struct bgp_selpeers *p);

/* Sets the registration's address, AS and port; labels and v3 fields are kept. */
int bgpconf_host_put(struct store *s, const struct host_config *h, struct err *err);
/* Every node with a registration, a peer or a prefix, sorted by name. */
int bgpconf_host_list(struct store *s, struct host_configs *out, struct err *err);
/* STORE_NOTFOUND if nothing was stored for the node; refuses while its agent runs. */
int bgpconf_host_remove(struct store *s, const char *node, struct err *err);
void host_configs_free(struct host_configs *h);

int bgpconf_prefix_add(struct store *s, const char *node, const struct prefix *p,
		       struct err *err);
int bgpconf_prefix_remove(struct store *s, const char *node, const struct prefix *p,
			  struct err *err);
int bgpconf_prefix_list(struct store *s, const char *node, int family,
			struct node_prefixes *out, struct err *err);
void node_prefixes_free(struct node_prefixes *p);

#endif
