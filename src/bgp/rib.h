/*
 * rib: where routes live. Each distinct attribute set is stored once
 * (interned, reference counted); each peer's Adj-RIB-In maps prefixes to an
 * interned set. Open-addressing hash tables keep the per-path cost small
 * (one 8-byte slot and one entry); the decision process and the Loc-RIB
 * build on this (routes issue).
 */
#ifndef TABBY_BGP_RIB_H
#define TABBY_BGP_RIB_H

#include <stddef.h>
#include <stdint.h>

#include "bgp/attr.h"

struct rib_attr {
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

#endif
