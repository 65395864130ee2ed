/*
 * keys: the datastore key layout (DESIGN.md, "Keys"), built in one place.
 * Addresses in keys are canonical; a prefix is written ADDR-LEN.
 */
#ifndef TABBY_KEYS_H
#define TABBY_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/addr.h"
#include "lib/err.h"

#define KEY_MAX 512
#define NODE_NAME_MAX 253

#define KEY_ROOT "/tabby/v1/"
#define KEY_GLOBAL_CONFIG KEY_ROOT "bgp/global/config"
#define KEY_HOSTS KEY_ROOT "host/"

struct key {
	char s[KEY_MAX];
};

/* Node names are host names: letters, digits, '-', '_' and '.', at most 253. */
int node_name_check(const char *name, struct err *err);

/* node NULL: the global peer list. family AF_INET or AF_INET6. */
void key_peer_dir(struct key *k, const char *node, int family);
void key_peer(struct key *k, const char *node, const struct addr *ip);
void key_host_dir(struct key *k, const char *node);
void key_host_config(struct key *k, const char *node);
void key_prefix_dir(struct key *k, const char *node);
void key_prefix(struct key *k, const char *node, const struct prefix *p);
void key_agent(struct key *k, const char *node);
/* The v3 resources that have no v0.x key (resource.h), each by name under its directory. */
#define KEY_BGPPEERS KEY_ROOT "bgp/bgppeer/"
#define KEY_BGPFILTERS KEY_ROOT "bgp/filter/"
#define KEY_SECRETS KEY_ROOT "secret/"
void key_named(struct key *k, const char *dir, const char *name);
/* A node's own BGPConfiguration (node.NAME). */
void key_host_bgpconfig(struct key *k, const char *node);

/* The node name in a key under KEY_HOSTS, copied into buf; -1 if it is not one. */
int key_host_node(const char *key, char *buf, size_t len);
/* A peer's key (key_peer): its node (empty for a global peer) and address; -1 if not one. */
int key_peer_parse(const char *key, char *node, size_t len, struct addr *ip);

#endif
