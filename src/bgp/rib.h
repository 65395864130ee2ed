/*
 * rib: where routes live. Each distinct attribute set is stored once
 * (interned, reference counted). A routing instance has one table of
 * destinations (a Loc-RIB), shared by all its peers: a destination holds, per
 * owner, the owner's path in the Loc-RIB and its Adj-RIB-In, stale and
 * Adj-RIB-Out routes, so one lookup finds all of a prefix and a prefix is
 * stored once. An Adj-RIB is a view of one owner's routes of one kind, with
 * its count. A destination is its prefix and a short array of route records of
 * two words each (whose, what kind, which attribute set), from slabs: a path
 * costs a few machine words, not a struct per owner.
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
	uint16_t nrec, best;   /* a destination's, in what would be padding */
};

/* An interned attribute set: a.blob is the record's own tail (one allocation). */
struct rib_attr {
	struct rib_hnode node;
	uint32_t refs;
	struct bgp_attrs a;
};

struct rib;
struct adj_in;
struct loc_rib;
struct rib_dest;

struct rib *rib_new(void);
void rib_free(struct rib *r);
/* The interned copy of a (a new reference); a itself is not taken. */
struct rib_attr *rib_attr_intern(struct rib *r, const struct bgp_attrs *a);
void rib_attr_unref(struct rib *r, struct rib_attr *x);
size_t rib_attr_count(const struct rib *r);

/* The kinds of an owner's routes a destination holds besides its Loc-RIB path. */
enum rib_adj {
	RIB_ADJ_IN,      /* as received (before import policy) */
	RIB_ADJ_STALE,   /* kept from before a peer's restart (RFC 4724) */
	RIB_ADJ_OUT,     /* as sent (from when it is staged) */
};

/* owner's routes of a kind in t (which must outlive the view). */
struct adj_in *adj_in_new(struct loc_rib *t, const void *owner, enum rib_adj kind);
/* Drops every route (releasing their attribute references): a walk of the whole table. */
void adj_in_free(struct adj_in *t, struct rib *r);
/* Installs p with x (taking a reference), or withdraws it when x is NULL. 1 if it changed. */
int adj_in_set(struct adj_in *t, struct rib *r, const struct prefix *p, struct rib_attr *x);
/* The same, and *d is p's destination afterwards (NULL: it has none), for
 * loc_rib_set_at: one lookup a prefix for both. */
int adj_in_set_dest(struct adj_in *t, struct rib *r, const struct prefix *p, struct rib_attr *x,
		    const struct rib_dest **d);
struct rib_attr *adj_in_get(const struct adj_in *t, const struct prefix *p);
/* The same at a destination of t already looked up (d may be NULL): no second lookup. */
struct rib_attr *adj_in_at(const struct adj_in *t, const struct rib_dest *d);
/* adj_in_set at a destination of t already looked up (not NULL); d may be freed. */
int adj_in_set_at(struct adj_in *t, struct rib *r, const struct rib_dest *d, struct rib_attr *x);
size_t adj_in_count(const struct adj_in *t);

struct adj_in_route {
	struct prefix p;
	struct rib_attr *attr;
};
/* Every route, sorted by prefix (a walk of the whole table); the caller frees the array. */
struct adj_in_route *adj_in_sorted(const struct adj_in *t, size_t *n);
/* Every prefix, in table order (no sort: cheap on a large table); the caller frees it. */
struct prefix *adj_in_prefixes(const struct adj_in *t, size_t *n);

/*
 * The Loc-RIB: per prefix, every usable path (one per source) and the best one
 * by the decision process. A source is identified by an opaque owner pointer
 * (a session, or the node itself for its own prefixes). What the decision needs
 * about a path's source is shared by the paths learnt with the same source
 * (reference counted by the rib). A destination may have no path: it then holds
 * only Adj-RIB routes.
 */
/* A path, as the rib hands it out (a copy: the rib stores it more tightly). */
struct rib_path {
	const void *owner;
	const struct rib_source *src;
	struct rib_attr *attr;
};

#define RIB_NO_BEST 0xffff

struct loc_rib *loc_rib_new(void);
void loc_rib_free(struct loc_rib *t, struct rib *r);
/*
 * Sets owner's path to p (attr NULL: removes it), taking a reference; src is
 * copied. Returns true when the best path changed (another path, or none).
 * *had (if not NULL): whether owner had a path to p before.
 */
bool loc_rib_set(struct loc_rib *t, struct rib *r, const struct prefix *p, const void *owner,
		 const struct rib_source *src, struct rib_attr *attr, bool *had);
/* The same at d, p's destination as adj_in_set_dest left it (NULL: looked up here). */
bool loc_rib_set_at(struct loc_rib *t, struct rib *r, const struct rib_dest *d, const struct prefix *p,
		    const void *owner, const struct rib_source *src, struct rib_attr *attr, bool *had);
/* The destination, or NULL; it may have no path (only Adj-RIB routes). */
const struct rib_dest *loc_rib_get(const struct loc_rib *t, const struct prefix *p);
/* A hint: lookups of ps[0..n) follow soon (loads them into the cache together). */
void loc_rib_prefetch(const struct loc_rib *t, const struct prefix *ps, size_t n);
/* The best path of d (which may be NULL) into *out; false when there is none. */
bool loc_rib_best(const struct rib_dest *d, struct rib_path *out);
/*
 * The next path of d from record *k on (start at 0), into *out, *best telling
 * whether it is the best one; false when there are no more.
 */
bool rib_dest_next_path(const struct rib_dest *d, size_t *k, struct rib_path *out, bool *best);
void rib_dest_prefix(const struct rib_dest *d, struct prefix *p);
/* Records of every kind (paths and Adj-RIB routes) that d holds. */
size_t rib_dest_records(const struct rib_dest *d);
size_t loc_rib_count(const struct loc_rib *t);
/* Every prefix with a path, sorted; the caller frees the array. */
struct prefix *loc_rib_sorted(const struct loc_rib *t, size_t *n);
/* Every prefix with a path, in table order; the caller frees the array. */
struct prefix *loc_rib_prefixes(const struct loc_rib *t, size_t *n);

#endif
