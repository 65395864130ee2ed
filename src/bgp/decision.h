/*
 * decision: which path wins (RFC 4271 §9.1.2.2) and what a peer is sent
 * (§9.1.3 and the advertisement rules). Pure: paths and peers in, an order
 * or an attribute set out.
 */
#ifndef TABBY_BGP_DECISION_H
#define TABBY_BGP_DECISION_H

#include <stdbool.h>
#include <stdint.h>

#include "bgp/attr.h"

/* What the decision process needs to know about where a path came from. */
struct rib_source {
	bool local;              /* originated by this node */
	bool ebgp;
	uint32_t peer_as;
	uint32_t router_id;      /* the peer's BGP identifier */
	struct addr addr;        /* the peer's address */
	bool rr_client;          /* the peer is our route-reflection client (RFC 4456) */
};

#define RIB_DEFAULT_LOCAL_PREF 100

/* < 0 when path a is better than b, > 0 when worse; never 0 for distinct sources. */
int rib_path_cmp(const struct bgp_attrs *a, const struct rib_source *sa,
		 const struct bgp_attrs *b, const struct rib_source *sb);
/* Which step decided, for explanations and tests: "local_pref", "as_path", ... */
const char *rib_path_cmp_reason(const struct bgp_attrs *a, const struct rib_source *sa,
				const struct bgp_attrs *b, const struct rib_source *sb);

/* A peer we may send to. */
struct rib_target {
	bool ebgp;
	bool keep_next_hop;      /* eBGP: the next hop as learned (keepOriginalNextHop) */
	bool llgr;               /* the peer announced long-lived graceful restart (RFC 9494) */
	uint32_t local_as;
	struct addr local;       /* our address on the session: next hop self */
	struct addr remote;
	bool reflector;          /* we reflect routes (RFC 4456) with cluster_id */
	uint32_t cluster_id;
	bool rr_client;          /* the target is one of our clients */
};

/*
 * What the target gets for a best path: false if nothing (iBGP to iBGP,
 * NO_ADVERTISE, NO_EXPORT to eBGP, back to its source);
 * a reflector (RFC 4456 §6) sends iBGP routes on to its clients (from anyone) and to
 * its non-clients (from clients), with ORIGINATOR_ID and CLUSTER_LIST.
 * otherwise *out is the attribute set to send (caller frees).
 */
bool rib_export(const struct bgp_attrs *best, const struct rib_source *src,
		const struct rib_target *t, struct bgp_attrs *out);

#endif
