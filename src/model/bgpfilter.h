/*
 * bgpfilter: turns the stored BGPFilter resources, a peer's filters and
 * import/export switches, and the BGPConfiguration prefixAdvertisements into
 * the compiled policy (bgp/policy.h) the agent's import and export paths run.
 * One read of the store per reconcile pass, then one compile per peer.
 */
#ifndef TABBY_MODEL_BGPFILTER_H
#define TABBY_MODEL_BGPFILTER_H

#include <jansson.h>

#include "bgp/policy.h"
#include "model/bgpconf.h"

struct bgpfilter_set {
	json_t *filters;      /* name -> stored spec (import_v4 ...) */
	json_t *communities;  /* default BGPConfiguration communities: [{name, value}] */
	json_t *adverts;      /* the node's prefixAdvertisements, else the default's */
};

/* STORE_OK or STORE_ERR with err; malformed stored values are logged and skipped. */
int bgpfilter_read(struct store *s, const char *node, struct bgpfilter_set *out,
		   struct err *err);
void bgpfilter_set_free(struct bgpfilter_set *fs);
/* The policy of a peer (NULL for a mesh peer: only the advertisements); NULL if empty. */
struct policy *bgpfilter_policy(const struct bgpfilter_set *fs, const struct bgp_peer *p);
/* "AA:NN" (standard) into *std, or "AA:NN:MM" (large) into large; 1, 3, or 0 if malformed. */
int bgpfilter_community_parse(const char *s, uint32_t *std, uint32_t large[3]);

#endif
