/*
 * rib: where routes live. Each distinct attribute set is stored once
 * (interned, reference counted); each peer's Adj-RIB-In maps prefixes to an
 * interned set. Chained hash tables whose items carry their link and hash, and
 * items from slabs, keep the per-path cost small; the decision process and the
 * Loc-RIB build on this (routes issue).
 */
#ifndef TABBY_BGP_RIB_H
#define TABBY_BGP_RIB_H

#include <stddef.h>
#include <stdint.h>

#include "bgp/attr.h"
#include "bgp/decision.h"

/* The link of a hash table item (the rib's own business). */
struct rib_hnode {
	struct rib_hnode *next;
	uint32_t hash;
};

struct rib_attr {
	struct rib_hnode node;
	uint64_t hash;
	uint32_t refs;
	struct bgp_attrs a;
};

struct rib;
struct adj_in;

struct rib *rib_new(void);
void rib_free(struct rib *r);
/* The interned copy of a (a new reference); a itself is not taken. */
struct rib_attr *rib_attr_intern(struct rib *r, const struct bgp_attrs *a);
void rib_attr_unref(struct rib *r, struct rib_attr *x);
size_t rib_attr_count(const struct rib *r);

struct adj_in *adj_in_new(void);
/* Drops every route (releasing their attribute references). */
void adj_in_free(struct adj_in *t, struct rib *r);
/* Installs p with x (taking a reference), or withdraws it when x is NULL. 1 if it changed. */
int adj_in_set(struct adj_in *t, struct rib *r, const struct prefix *p, struct rib_attr *x);
struct rib_attr *adj_in_get(const struct adj_in *t, const struct prefix *p);
size_t adj_in_count(const struct adj_in *t);

struct adj_in_route {
	struct prefix p;
	struct rib_attr *attr;
};
/* Every route, sorted by prefix; the caller frees the array. */
struct adj_in_route *adj_in_sorted(const struct adj_in *t, size_t *n);
/* Every prefix, in table order (no sort: cheap on a large table); the caller frees it. */
struct prefix *adj_in_prefixes(const struct adj_in *t, size_t *n);

/*
 * The Loc-RIB: per prefix, every usable path (one per source) and the best one
 * by the decision process. A source is identified by an opaque owner pointer
 * (a session, or the node itself for its own prefixes). A path is three words:
 * what the decision needs about its source is shared by the paths learnt with
 * the same source (reference counted by the rib).
 */
struct rib_path {
	const void *owner;
	const struct rib_source *src;
	struct rib_attr *attr;
};

struct rib_dest {
	struct prefix p;
	struct rib_path *paths;
	uint16_t npaths, best;    /* best: index into paths, or RIB_NO_BEST */
};

#define RIB_NO_BEST 0xffff

struct loc_rib;

struct loc_rib *loc_rib_new(void);
void loc_rib_free(struct loc_rib *t, struct rib *r);
/*
 * Sets owner's path to p (attr NULL: removes it), taking a reference; src is
 * copied. Returns true when the best path changed (another path, or none).
 * *had (if not NULL): whether owner had a path to p before.
 */
bool loc_rib_set(struct loc_rib *t, struct rib *r, const struct prefix *p, const void *owner,
		 const struct rib_source *src, struct rib_attr *attr, bool *had);
const struct rib_dest *loc_rib_get(const struct loc_rib *t, const struct prefix *p);
const struct rib_path *loc_rib_best(const struct rib_dest *d);
size_t loc_rib_count(const struct loc_rib *t);
/* Every destination, sorted by prefix; the caller frees the array (not the dests). */
const struct rib_dest **loc_rib_sorted(const struct loc_rib *t, size_t *n);
/* Every destination's prefix, in table order; the caller frees the array. */
struct prefix *loc_rib_prefixes(const struct loc_rib *t, size_t *n);

#endif
