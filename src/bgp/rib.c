#include "bgp/rib.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
/* Inlined: the hash of a fixed-size key compiles to a few multiplications. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lib/log.h"

/*
 * Every table hashes with a secret drawn from the OS once per process: a peer
 * that cannot know it cannot choose prefixes or attribute sets that collide,
 * so linear probing stays short (hash flooding). XXH3 is inlined here, so keying
 * it costs nothing: fewer instructions than the unkeyed library call it replaced.
 */
static uint8_t hash_secret[192];  /* XXH3's own default secret size */
_Static_assert(sizeof(hash_secret) >= XXH3_SECRET_SIZE_MIN, "XXH3 needs a longer secret");
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void
hash_secret_init(void)
{
	size_t got = 0;

	while (got < sizeof(hash_secret)) {
		ssize_t n = getrandom(hash_secret + got, sizeof(hash_secret) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("rib: getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
}

static uint64_t
hash_bytes(const void *p, size_t len)
{
	return XXH3_64bits_withSecret(p, len, hash_secret, sizeof(hash_secret));
}

/* Open addressing with linear probing; slots hold pointers, NULL is empty, TOMB deleted. */
#define TOMB ((void *)1)

struct table {
	void **slot;
	size_t cap, used, live;   /* used counts tombstones too */
};

/* Every hash is taken for a table, so the secret is drawn before the first one. */
static void
table_init(struct table *t)
{
	pthread_once(&hash_once, hash_secret_init);
	t->cap = 64;
	t->slot = xcalloc(t->cap, sizeof(*t->slot));
	t->used = t->live = 0;
}

/* Finds the slot for an item with this hash that eq() accepts, or where it would go. */
static size_t
table_find(const struct table *t, uint64_t h, const void *key,
	   int (*eq)(const void *item, const void *key), uint64_t (*hash_of)(const void *item),
	   bool *found)
{
	size_t mask = t->cap - 1, i = (size_t)h & mask, first_tomb = SIZE_MAX;

	for (;; i = (i + 1) & mask) {
		void *it = t->slot[i];

		if (it == NULL) {
			*found = false;
			return first_tomb != SIZE_MAX ? first_tomb : i;
		}
		if (it == TOMB) {
			if (first_tomb == SIZE_MAX)
				first_tomb = i;
			continue;
		}
		if (hash_of(it) == h && eq(it, key)) {
			*found = true;
			return i;
		}
	}
}

static void
table_grow(struct table *t, uint64_t (*hash_of)(const void *item))
{
	struct table n = {.cap = t->cap * 2};

	/* Grow only when live items fill half; otherwise a rehash just sweeps tombstones. */
	if (t->live * 2 < t->cap / 2)
		n.cap = t->cap;
	n.slot = xcalloc(n.cap, sizeof(*n.slot));
	for (size_t i = 0; i < t->cap; i++) {
		void *it = t->slot[i];
		size_t j;

		if (it == NULL || it == TOMB)
			continue;
		for (j = (size_t)hash_of(it) & (n.cap - 1); n.slot[j]; j = (j + 1) & (n.cap - 1))
			;
		n.slot[j] = it;
	}
	n.used = n.live = t->live;
	free(t->slot);
	*t = n;
}

struct rib {
	struct table attrs;
};

static uint64_t
attr_hash_of(const void *item)
{
	return ((const struct rib_attr *)item)->hash;
}

/* The fixed fields that make two sets equal, then the blob. */
static uint64_t
attrs_hash(const struct bgp_attrs *a)
{
	XXH3_state_t *st = XXH3_createState();
	uint64_t h;

	if (st == NULL)
		fatal("out of memory");
	XXH3_64bits_reset_withSecret(st, hash_secret, sizeof(hash_secret));
	XXH3_64bits_update(st, &a->has, sizeof(a->has));
	XXH3_64bits_update(st, &a->origin, 1);
	XXH3_64bits_update(st, &a->med, sizeof(a->med));
	XXH3_64bits_update(st, &a->local_pref, sizeof(a->local_pref));
	XXH3_64bits_update(st, &a->next_hop, sizeof(a->next_hop));
	XXH3_64bits_update(st, &a->next_hop_ll, sizeof(a->next_hop_ll));
	XXH3_64bits_update(st, &a->aggregator_as, sizeof(a->aggregator_as));
	XXH3_64bits_update(st, &a->originator_id, sizeof(a->originator_id));
	XXH3_64bits_update(st, &a->otc, sizeof(a->otc));
	XXH3_64bits_update(st, a->blob, a->blob_len);
	h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

static int
attrs_eq(const void *item, const void *key)
{
	const struct bgp_attrs *x = &((const struct rib_attr *)item)->a, *y = key;

	return x->has == y->has && x->origin == y->origin && x->med == y->med &&
	       x->local_pref == y->local_pref && addr_cmp(&x->next_hop, &y->next_hop) == 0 &&
	       x->next_hop_ll.family == y->next_hop_ll.family &&
	       memcmp(x->next_hop_ll.b, y->next_hop_ll.b, 16) == 0 &&
	       x->aggregator_as == y->aggregator_as &&
	       memcmp(&x->aggregator_addr, &y->aggregator_addr, sizeof(x->aggregator_addr)) == 0 &&
	       x->originator_id == y->originator_id && x->otc == y->otc &&
	       x->as_path_len == y->as_path_len && x->communities_n == y->communities_n &&
	       x->ext_communities_n == y->ext_communities_n &&
	       x->large_communities_n == y->large_communities_n &&
	       x->cluster_list_n == y->cluster_list_n && x->unknown_len == y->unknown_len &&
	       x->blob_len == y->blob_len && memcmp(x->blob, y->blob, x->blob_len) == 0;
}

struct rib *
rib_new(void)
{
	struct rib *r = xcalloc(1, sizeof(*r));

	table_init(&r->attrs);
	return r;
}

void
rib_free(struct rib *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->attrs.cap; i++) {
		struct rib_attr *x = r->attrs.slot[i];

		if (x != NULL && x != TOMB) {
			bgp_attrs_free(&x->a);
			free(x);
		}
	}
	free(r->attrs.slot);
	free(r);
}

struct rib_attr *
rib_attr_intern(struct rib *r, const struct bgp_attrs *a)
{
	uint64_t h = attrs_hash(a);
	bool found;
	size_t i = table_find(&r->attrs, h, a, attrs_eq, attr_hash_of, &found);
	struct rib_attr *x;

	if (found) {
		x = r->attrs.slot[i];
		x->refs++;
		return x;
	}
	x = xcalloc(1, sizeof(*x));
	x->hash = h;
	x->refs = 1;
	bgp_attrs_copy(&x->a, a);
	if (r->attrs.slot[i] == NULL)
		r->attrs.used++;
	r->attrs.slot[i] = x;
	r->attrs.live++;
	if (r->attrs.used * 4 >= r->attrs.cap * 3)
		table_grow(&r->attrs, attr_hash_of);
	return x;
}

void
rib_attr_unref(struct rib *r, struct rib_attr *x)
{
	bool found;
	size_t i;

	if (x == NULL || --x->refs > 0)
		return;
	i = table_find(&r->attrs, x->hash, &x->a, attrs_eq, attr_hash_of, &found);
	if (found) {
		r->attrs.slot[i] = TOMB;
		r->attrs.live--;
	}
	bgp_attrs_free(&x->a);
	free(x);
}

size_t
rib_attr_count(const struct rib *r)
{
	return r->attrs.live;
}

struct adj_in {
	struct table routes;
};

static uint64_t
prefix_hash(const struct prefix *p)
{
	uint8_t key[18];

	key[0] = (uint8_t)p->addr.family;
	key[1] = p->len;
	memcpy(key + 2, p->addr.b, 16);
	return hash_bytes(key, sizeof(key));
}

static uint64_t
route_hash_of(const void *item)
{
	return prefix_hash(&((const struct adj_in_route *)item)->p);
}

static int
route_eq(const void *item, const void *key)
{
	return prefix_cmp(&((const struct adj_in_route *)item)->p, key) == 0;
}

struct adj_in *
adj_in_new(void)
{
	struct adj_in *t = xcalloc(1, sizeof(*t));

	table_init(&t->routes);
	return t;
}

void
adj_in_free(struct adj_in *t, struct rib *r)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->routes.cap; i++) {
		struct adj_in_route *e = t->routes.slot[i];

		if (e != NULL && e != TOMB) {
			rib_attr_unref(r, e->attr);
			free(e);
		}
	}
	free(t->routes.slot);
	free(t);
}

int
adj_in_set(struct adj_in *t, struct rib *r, const struct prefix *p, struct rib_attr *x)
{
	uint64_t h = prefix_hash(p);
	bool found;
	size_t i = table_find(&t->routes, h, p, route_eq, route_hash_of, &found);
	struct adj_in_route *e = found ? t->routes.slot[i] : NULL;

	if (x == NULL) {
		if (!found)
			return 0;
		rib_attr_unref(r, e->attr);
		free(e);
		t->routes.slot[i] = TOMB;
		t->routes.live--;
		return 1;
	}
	x->refs++;
	if (found) {
		struct rib_attr *old = e->attr;

		e->attr = x;
		rib_attr_unref(r, old);
		return old != x;
	}
	e = xmalloc(sizeof(*e));
	e->p = *p;
	e->attr = x;
	if (t->routes.slot[i] == NULL)
		t->routes.used++;
	t->routes.slot[i] = e;
	t->routes.live++;
	if (t->routes.used * 4 >= t->routes.cap * 3)
		table_grow(&t->routes, route_hash_of);
	return 1;
}

struct rib_attr *
adj_in_get(const struct adj_in *t, const struct prefix *p)
{
	bool found;
	size_t i = table_find(&t->routes, prefix_hash(p), p, route_eq, route_hash_of, &found);

	return found ? ((struct adj_in_route *)t->routes.slot[i])->attr : NULL;
}

size_t
adj_in_count(const struct adj_in *t)
{
	return t->routes.live;
}

static int
route_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct adj_in_route *)a)->p, &((const struct adj_in_route *)b)->p);
}

struct adj_in_route *
adj_in_sorted(const struct adj_in *t, size_t *n)
{
	struct adj_in_route *v = xcalloc(t->routes.live ? t->routes.live : 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < t->routes.cap; i++) {
		const struct adj_in_route *e = t->routes.slot[i];

		if (e != NULL && e != TOMB)
			v[k++] = *e;
	}
	qsort(v, k, sizeof(*v), route_cmp);
	*n = k;
	return v;
}

struct loc_rib {
	struct table dests;
};

/*
 * Every prefix in t, in table order: one pass, no sort, so a caller on an event loop
 * can take a snapshot of a large table. Items begin with their prefix.
 */
static struct prefix *
table_prefixes(const struct table *t, size_t *n)
{
	struct prefix *v = xcalloc(t->live ? t->live : 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i] != NULL && t->slot[i] != TOMB)
			v[k++] = *(const struct prefix *)t->slot[i];
	*n = k;
	return v;
}

_Static_assert(offsetof(struct adj_in_route, p) == 0, "an Adj-RIB-In item begins with its prefix");
_Static_assert(offsetof(struct rib_dest, p) == 0, "a Loc-RIB item begins with its prefix");

struct prefix *
adj_in_prefixes(const struct adj_in *t, size_t *n)
{
	return table_prefixes(&t->routes, n);
}

struct prefix *
loc_rib_prefixes(const struct loc_rib *t, size_t *n)
{
	return table_prefixes(&t->dests, n);
}

static uint64_t
dest_hash_of(const void *item)
{
	return prefix_hash(&((const struct rib_dest *)item)->p);
}

static int
dest_eq(const void *item, const void *key)
{
	return prefix_cmp(&((const struct rib_dest *)item)->p, key) == 0;
}

struct loc_rib *
loc_rib_new(void)
{
	struct loc_rib *t = xcalloc(1, sizeof(*t));

	table_init(&t->dests);
	return t;
}

void
loc_rib_free(struct loc_rib *t, struct rib *r)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->dests.cap; i++) {
		struct rib_dest *d = t->dests.slot[i];

		if (d == NULL || d == TOMB)
			continue;
		for (uint16_t k = 0; k < d->npaths; k++)
			rib_attr_unref(r, d->paths[k].attr);
		free(d->paths);
		free(d);
	}
	free(t->dests.slot);
	free(t);
}

/* §9.1.2: the best of all paths, compared pairwise in a fixed order. */
static uint16_t
select_best(const struct rib_dest *d)
{
	uint16_t best = RIB_NO_BEST;

	for (uint16_t k = 0; k < d->npaths; k++) {
		if (best == RIB_NO_BEST ||
		    rib_path_cmp(&d->paths[k].attr->a, &d->paths[k].src, &d->paths[best].attr->a,
				 &d->paths[best].src) < 0)
			best = k;
	}
	return best;
}

bool
loc_rib_set(struct loc_rib *t, struct rib *r, const struct prefix *p, const void *owner,
	    const struct rib_source *src, struct rib_attr *attr)
{
	uint64_t h = prefix_hash(p);
	bool found;
	size_t i = table_find(&t->dests, h, p, dest_eq, dest_hash_of, &found);
	struct rib_dest *d = found ? t->dests.slot[i] : NULL;
	const void *old_owner = NULL;
	struct rib_attr *old_attr = NULL;
	uint16_t k;

	if (d == NULL) {
		if (attr == NULL)
			return false;
		d = xcalloc(1, sizeof(*d));
		d->p = *p;
		d->best = RIB_NO_BEST;
		if (t->dests.slot[i] == NULL)
			t->dests.used++;
		t->dests.slot[i] = d;
		t->dests.live++;
		if (t->dests.used * 4 >= t->dests.cap * 3)
			table_grow(&t->dests, dest_hash_of);
	}
	if (d->best != RIB_NO_BEST) {
		old_owner = d->paths[d->best].owner;
		old_attr = d->paths[d->best].attr;
	}
	for (k = 0; k < d->npaths && d->paths[k].owner != owner; k++)
		;
	if (attr == NULL) {
		if (k == d->npaths)
			return false;
		rib_attr_unref(r, d->paths[k].attr);
		d->paths[k] = d->paths[--d->npaths];
	} else {
		attr->refs++;
		if (k == d->npaths) {
			d->paths = xrealloc(d->paths, (size_t)(d->npaths + 1) * sizeof(*d->paths));
			d->npaths++;
		} else {
			rib_attr_unref(r, d->paths[k].attr);
		}
		d->paths[k] = (struct rib_path){.owner = owner, .src = *src, .attr = attr};
	}
	if (d->npaths == 0) {
		/* No path left: the destination goes. */
		i = table_find(&t->dests, h, p, dest_eq, dest_hash_of, &found);
		t->dests.slot[i] = TOMB;
		t->dests.live--;
		free(d->paths);
		free(d);
		return old_owner != NULL || old_attr != NULL;
	}
	d->best = select_best(d);
	return d->paths[d->best].owner != old_owner || d->paths[d->best].attr != old_attr;
}

const struct rib_dest *
loc_rib_get(const struct loc_rib *t, const struct prefix *p)
{
	bool found;
	size_t i = table_find(&t->dests, prefix_hash(p), p, dest_eq, dest_hash_of, &found);

	return found ? t->dests.slot[i] : NULL;
}

const struct rib_path *
loc_rib_best(const struct rib_dest *d)
{
	return d == NULL || d->best == RIB_NO_BEST ? NULL : &d->paths[d->best];
}

size_t
loc_rib_count(const struct loc_rib *t)
{
	return t->dests.live;
}

static int
dest_ptr_cmp(const void *a, const void *b)
{
	return prefix_cmp(&(*(const struct rib_dest *const *)a)->p,
			  &(*(const struct rib_dest *const *)b)->p);
}

const struct rib_dest **
loc_rib_sorted(const struct loc_rib *t, size_t *n)
{
	const struct rib_dest **v = xcalloc(t->dests.live ? t->dests.live : 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < t->dests.cap; i++) {
		const struct rib_dest *d = t->dests.slot[i];

		if (d != NULL && d != TOMB)
			v[k++] = d;
	}
	qsort(v, k, sizeof(*v), dest_ptr_cmp);
	*n = k;
	return v;
}
