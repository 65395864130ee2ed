#include "bgp/rib.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/*
 * Chained hash tables, intrusive: an item carries its link and its hash, so a
 * lookup touches the bucket and the items of one short chain, never hashes an
 * item again, and growing relinks items without hashing them. The load stays at
 * most one item per bucket: 8 to 16 bytes of buckets per item.
 */
#define hnode rib_hnode

struct table {
	struct hnode **b;
	size_t cap, live;
};

/*
 * Large arrays (a big table's buckets, slab chunks) on transparent huge pages
 * where the kernel gives them on request: a lookup in a table of a million
 * prefixes touches memory at random, and with 4 KiB pages nearly every touch
 * is also a TLB miss (the profile's largest cost after the cache misses).
 */
#define HUGE_PAGE (2u << 20)

static void *
big_alloc(size_t n)
{
	void *p;

	if (n < HUGE_PAGE)
		return xmalloc(n);
	n = (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	p = aligned_alloc(HUGE_PAGE, n);
	if (p == NULL)
		fatal("out of memory");
	/* Only advice: without huge pages the memory works the same. */
	(void)madvise(p, n, MADV_HUGEPAGE);
	return p;
}

/* Every hash is taken for a table, so the secret is drawn before the first one. */
static void
table_init(struct table *t)
{
	pthread_once(&hash_once, hash_secret_init);
	t->cap = 64;
	t->b = xcalloc(t->cap, sizeof(*t->b));
	t->live = 0;
}

/*
 * The link that points at the item with this hash that eq() accepts, or the
 * chain's terminating NULL link (where a new item goes).
 */
static struct hnode **
table_find(const struct table *t, uint32_t h, const void *key,
	   bool (*eq)(const struct hnode *item, const void *key))
{
	struct hnode **l = &t->b[h & (t->cap - 1)];

	for (; *l != NULL; l = &(*l)->next)
		if ((*l)->hash == h && eq(*l, key))
			return l;
	return l;
}

static void
table_grow(struct table *t)
{
	size_t cap = t->cap * 2;
	struct hnode **b = big_alloc(cap * sizeof(*b));

	memset(b, 0, cap * sizeof(*b));
	for (size_t i = 0; i < t->cap; i++) {
		struct hnode *it = t->b[i], *next;

		for (; it != NULL; it = next) {
			next = it->next;
			it->next = b[it->hash & (cap - 1)];
			b[it->hash & (cap - 1)] = it;
		}
	}
	free(t->b);
	t->b = b;
	t->cap = cap;
}

/* Links item (hash set) at l, the NULL link table_find returned. */
static void
table_link(struct table *t, struct hnode **l, struct hnode *item)
{
	item->next = NULL;
	*l = item;
	if (++t->live > t->cap)
		table_grow(t);
}

static void
table_unlink(struct table *t, struct hnode **l)
{
	*l = (*l)->next;
	t->live--;
}

#define TABLE_FOREACH(t, it)                                                      \
	for (size_t it##_i = 0; it##_i < (t)->cap; it##_i++)                          \
		for (struct hnode *it = (t)->b[it##_i], *it##_n; it != NULL &&          \
		     (it##_n = it->next, 1); it = it##_n)

#define ITEM(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * Fixed-size items carved from chunks, with a free list: no allocator header
 * per item (a path record is a few words), and freeing is O(1). Chunks are
 * 64 KiB while the slab is small, then huge pages; they go back to the system
 * with the rib.
 */
#define SLAB_CHUNK 65536
#define SLAB_SMALL_CHUNKS 32

struct slab {
	size_t size;
	void *free;
	char *cur, *end;
	void **chunks;
	size_t nchunks, live;
};

static void *
slab_alloc(struct slab *s)
{
	void *p = s->free;

	if (p != NULL) {
		s->free = *(void **)p;
	} else {
		if (s->cur == NULL || (size_t)(s->end - s->cur) < s->size) {
			size_t len = s->nchunks < SLAB_SMALL_CHUNKS ? SLAB_CHUNK : HUGE_PAGE;

			s->chunks = xrealloc(s->chunks, (s->nchunks + 1) * sizeof(*s->chunks));
			s->cur = s->chunks[s->nchunks++] = big_alloc(len);
			s->end = s->cur + len;
		}
		p = s->cur;
		s->cur += s->size;
	}
	s->live++;
	return p;
}

static void
slab_free(struct slab *s, void *p)
{
	*(void **)p = s->free;
	s->free = p;
	s->live--;
}

static void
slab_destroy(struct slab *s)
{
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
}

/* A path's source, shared by the paths learnt with it (one per session and connection). */
struct rib_src {
	struct rib_source s;   /* first: paths point here */
	uint32_t refs;
};

static bool
source_eq(const struct rib_source *a, const struct rib_source *b)
{
	return a->local == b->local && a->ebgp == b->ebgp && a->peer_as == b->peer_as &&
	       a->router_id == b->router_id && a->rr_client == b->rr_client &&
	       addr_cmp(&a->addr, &b->addr) == 0;
}
struct rib {
	struct table attrs;
	struct slab dests;         /* struct dest */
	struct rib_src *last_src;  /* the source of the last path set, with a reference */
};

/* The fixed fields that make two sets equal, then the blob. */
static uint32_t
attrs_hash(const struct bgp_attrs *a)
{
	XXH3_state_t st;

	XXH3_INITSTATE(&st);
	XXH3_64bits_reset_withSecret(&st, hash_secret, sizeof(hash_secret));
	XXH3_64bits_update(&st, &a->has, sizeof(a->has));
	XXH3_64bits_update(&st, &a->origin, 1);
	XXH3_64bits_update(&st, &a->med, sizeof(a->med));
	XXH3_64bits_update(&st, &a->local_pref, sizeof(a->local_pref));
	XXH3_64bits_update(&st, &a->next_hop, sizeof(a->next_hop));
	XXH3_64bits_update(&st, &a->next_hop_ll, sizeof(a->next_hop_ll));
	XXH3_64bits_update(&st, &a->aggregator_as, sizeof(a->aggregator_as));
	XXH3_64bits_update(&st, &a->originator_id, sizeof(a->originator_id));
	XXH3_64bits_update(&st, &a->otc, sizeof(a->otc));
	XXH3_64bits_update(&st, a->blob, a->blob_len);
	return (uint32_t)XXH3_64bits_digest(&st);
}

static bool
attrs_eq(const struct hnode *item, const void *key)
{
	const struct bgp_attrs *x = &ITEM(item, struct rib_attr, node)->a, *y = key;

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

/*
 * A destination: its prefix, and per owner (a session, or the node) one entry
 * holding the owner's path in the Loc-RIB and its Adj-RIB-In, stale and
 * Adj-RIB-Out routes. Two entries (one peer in, one out: the common shape) are
 * stored inline; more go to an array of their own.
 */
#define DEST_INLINE 2

struct dest {
	struct hnode node;
	struct rib_dest d;
	struct rib_path inl[DEST_INLINE];
};

struct rib *
rib_new(void)
{
	struct rib *r = xcalloc(1, sizeof(*r));

	table_init(&r->attrs);
	r->dests.size = sizeof(struct dest);
	return r;
}

static void
src_unref(const struct rib_source *s)
{
	struct rib_src *x = (struct rib_src *)(void *)s;

	if (x != NULL && --x->refs == 0)
		free(x);
}

void
rib_free(struct rib *r)
{
	if (r == NULL)
		return;
	src_unref(r->last_src != NULL ? &r->last_src->s : NULL);
	TABLE_FOREACH(&r->attrs, it) {
		struct rib_attr *x = ITEM(it, struct rib_attr, node);

		bgp_attrs_free(&x->a);
		free(x);
	}
	free(r->attrs.b);
	slab_destroy(&r->dests);
	free(r);
}

struct rib_attr *
rib_attr_intern(struct rib *r, const struct bgp_attrs *a)
{
	uint32_t h = attrs_hash(a);
	struct hnode **l = table_find(&r->attrs, h, a, attrs_eq);
	struct rib_attr *x;

	if (*l != NULL) {
		x = ITEM(*l, struct rib_attr, node);
		x->refs++;
		return x;
	}
	x = xcalloc(1, sizeof(*x));
	x->node.hash = h;
	x->hash = h;
	x->refs = 1;
	bgp_attrs_copy(&x->a, a);
	table_link(&r->attrs, l, &x->node);
	return x;
}

void
rib_attr_unref(struct rib *r, struct rib_attr *x)
{
	struct hnode **l;

	if (x == NULL || --x->refs > 0)
		return;
	for (l = &r->attrs.b[x->node.hash & (r->attrs.cap - 1)]; *l != &x->node; l = &(*l)->next)
		;
	table_unlink(&r->attrs, l);
	bgp_attrs_free(&x->a);
	free(x);
}

size_t
rib_attr_count(const struct rib *r)
{
	return r->attrs.live;
}

static uint32_t
prefix_hash(const struct prefix *p)
{
	uint8_t key[18];

	key[0] = (uint8_t)p->addr.family;
	key[1] = p->len;
	memcpy(key + 2, p->addr.b, 16);
	return (uint32_t)hash_bytes(key, sizeof(key));
}

/* Prefixes compared for equality only: the hot path of every lookup. */
static inline bool
prefix_same(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && a->addr.family == b->addr.family &&
	       memcmp(a->addr.b, b->addr.b, 16) == 0;
}

struct loc_rib {
	struct table dests;
	size_t nloc;   /* destinations with a path in the Loc-RIB */
};

static bool
dest_eq(const struct hnode *item, const void *key)
{
	return prefix_same(&ITEM(item, struct dest, node)->d.p, key);
}

/* A new destination for p, linked at l (the link table_find gave for h). */
static struct dest *
dest_new(struct loc_rib *t, struct rib *r, struct hnode **l, uint32_t h, const struct prefix *p)
{
	struct dest *e = slab_alloc(&r->dests);

	e->node.hash = h;
	e->d = (struct rib_dest){.p = *p, .paths = e->inl, .best = RIB_NO_BEST};
	table_link(&t->dests, l, &e->node);
	return e;
}

static uint16_t
entry_find(const struct rib_dest *d, const void *owner)
{
	uint16_t k;

	for (k = 0; k < d->npaths && d->paths[k].owner != owner; k++)
		;
	return k;
}

/* A new, empty entry for owner; its index. The entries may move. */
static uint16_t
entry_add(struct dest *e, const void *owner)
{
	struct rib_dest *d = &e->d;
	uint16_t n = d->npaths;

	/* One entry per session that holds the prefix: fewer than 65,535 (RIB_NO_BEST). */
	if (n >= RIB_NO_BEST - 1)
		fatal("rib: more than %u entries on one destination", RIB_NO_BEST - 2);
	/*
	 * The heap array's capacity doubles at every power of two, so a prefix that many
	 * peers hold costs O(peers) copies in all, not O(peers^2).
	 */
	if (n == DEST_INLINE) {
		struct rib_path *v = xmalloc(2 * DEST_INLINE * sizeof(*v));

		memcpy(v, e->inl, sizeof(e->inl));
		d->paths = v;
	} else if (n > DEST_INLINE && (n & (n - 1)) == 0) {
		d->paths = xrealloc(d->paths, 2 * (size_t)n * sizeof(*d->paths));
	}
	d->paths[n] = (struct rib_path){.owner = owner};
	d->npaths++;
	return n;
}

/* Drops entry k if it holds nothing any more. The entries may move (best follows). */
static void
entry_gc(struct dest *e, uint16_t k)
{
	struct rib_dest *d = &e->d;
	const struct rib_path *x = &d->paths[k];
	uint16_t last = d->npaths - 1;

	if (x->attr != NULL || x->adj[0] != NULL || x->adj[1] != NULL || x->adj[2] != NULL)
		return;
	d->paths[k] = d->paths[last];
	if (d->best == last)
		d->best = k;
	d->npaths--;
	if (d->npaths == DEST_INLINE) {
		memcpy(e->inl, d->paths, sizeof(e->inl));
		free(d->paths);
		d->paths = e->inl;
	}
}

/* Unlinks and frees a destination without entries (l: its link). */
static void
dest_drop(struct loc_rib *t, struct rib *r, struct hnode **l, struct dest *e)
{
	table_unlink(&t->dests, l);
	slab_free(&r->dests, e);
}

/*
 * A view of one owner's routes of one kind in a Loc-RIB's destinations: an
 * Adj-RIB is not a table of its own (one lookup finds a prefix's paths and every
 * peer's routes for it, and a prefix is stored once).
 */
struct adj_in {
	struct loc_rib *t;
	const void *owner;
	enum rib_adj kind;
	size_t n;
};

struct adj_in *
adj_in_new(struct loc_rib *t, const void *owner, enum rib_adj kind)
{
	struct adj_in *a = xcalloc(1, sizeof(*a));

	a->t = t;
	a->owner = owner;
	a->kind = kind;
	return a;
}

void
adj_in_free(struct adj_in *a, struct rib *r)
{
	struct table *tb;

	if (a == NULL)
		return;
	tb = &a->t->dests;
	for (size_t i = 0; a->n > 0 && i < tb->cap; i++) {
		struct hnode **l = &tb->b[i];

		while (*l != NULL) {
			struct dest *e = ITEM(*l, struct dest, node);
			uint16_t k = entry_find(&e->d, a->owner);

			if (k < e->d.npaths && e->d.paths[k].adj[a->kind] != NULL) {
				rib_attr_unref(r, e->d.paths[k].adj[a->kind]);
				e->d.paths[k].adj[a->kind] = NULL;
				a->n--;
				entry_gc(e, k);
				if (e->d.npaths == 0) {
					dest_drop(a->t, r, l, e);
					continue;
				}
			}
			l = &(*l)->next;
		}
	}
	free(a);
}

int
adj_in_set(struct adj_in *a, struct rib *r, const struct prefix *p, struct rib_attr *x)
{
	uint32_t h = prefix_hash(p);
	struct hnode **l = table_find(&a->t->dests, h, p, dest_eq);
	struct dest *e = *l != NULL ? ITEM(*l, struct dest, node) : NULL;
	struct rib_attr *old;
	uint16_t k;

	if (e == NULL) {
		if (x == NULL)
			return 0;
		e = dest_new(a->t, r, l, h, p);
	}
	k = entry_find(&e->d, a->owner);
	if (x == NULL) {
		if (k == e->d.npaths || e->d.paths[k].adj[a->kind] == NULL)
			return 0;
		rib_attr_unref(r, e->d.paths[k].adj[a->kind]);
		e->d.paths[k].adj[a->kind] = NULL;
		a->n--;
		entry_gc(e, k);
		/* The destination was there before: l is its link. */
		if (e->d.npaths == 0)
			dest_drop(a->t, r, l, e);
		return 1;
	}
	x->refs++;
	if (k == e->d.npaths)
		k = entry_add(e, a->owner);
	old = e->d.paths[k].adj[a->kind];
	e->d.paths[k].adj[a->kind] = x;
	if (old == NULL) {
		a->n++;
		return 1;
	}
	rib_attr_unref(r, old);
	return old != x;
}

struct rib_attr *
adj_in_get(const struct adj_in *a, const struct prefix *p)
{
	struct hnode **l = table_find(&a->t->dests, prefix_hash(p), p, dest_eq);
	const struct rib_dest *d;
	uint16_t k;

	if (*l == NULL)
		return NULL;
	d = &ITEM(*l, struct dest, node)->d;
	k = entry_find(d, a->owner);
	return k < d->npaths ? d->paths[k].adj[a->kind] : NULL;
}

size_t
adj_in_count(const struct adj_in *a)
{
	return a->n;
}

static int
route_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct adj_in_route *)a)->p, &((const struct adj_in_route *)b)->p);
}

/* The view's routes in table order (a walk of the whole table). */
static struct adj_in_route *
adj_in_list(const struct adj_in *a, size_t *n)
{
	struct adj_in_route *v = xcalloc(a->n ? a->n : 1, sizeof(*v));
	size_t m = 0;

	/* An empty view (a peer sent nothing, or is sent nothing) costs no walk. */
	if (a->n == 0)
		goto done;
	TABLE_FOREACH(&a->t->dests, it) {
		const struct rib_dest *d = &ITEM(it, struct dest, node)->d;
		uint16_t k = entry_find(d, a->owner);

		if (k < d->npaths && d->paths[k].adj[a->kind] != NULL) {
			v[m++] = (struct adj_in_route){.p = d->p, .attr = d->paths[k].adj[a->kind]};
			if (m == a->n)
				goto done;
		}
	}
done:
	*n = m;
	return v;
}

struct adj_in_route *
adj_in_sorted(const struct adj_in *a, size_t *n)
{
	struct adj_in_route *v = adj_in_list(a, n);

	qsort(v, *n, sizeof(*v), route_cmp);
	return v;
}

struct prefix *
adj_in_prefixes(const struct adj_in *a, size_t *n)
{
	struct adj_in_route *v = adj_in_list(a, n);
	struct prefix *ps = xcalloc(*n ? *n : 1, sizeof(*ps));

	for (size_t i = 0; i < *n; i++)
		ps[i] = v[i].p;
	free(v);
	return ps;
}

struct prefix *
loc_rib_prefixes(const struct loc_rib *t, size_t *n)
{
	struct prefix *v = xcalloc(t->nloc ? t->nloc : 1, sizeof(*v));
	size_t k = 0;

	TABLE_FOREACH(&t->dests, it) {
		const struct rib_dest *d = &ITEM(it, struct dest, node)->d;

		if (d->best != RIB_NO_BEST && k < t->nloc)
			v[k++] = d->p;
	}
	*n = k;
	return v;
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
	TABLE_FOREACH(&t->dests, it) {
		struct dest *e = ITEM(it, struct dest, node);

		for (uint16_t k = 0; k < e->d.npaths; k++) {
			struct rib_path *x = &e->d.paths[k];

			rib_attr_unref(r, x->attr);
			src_unref(x->src);
			for (int j = 0; j < 3; j++)
				rib_attr_unref(r, x->adj[j]);
		}
		if (e->d.paths != e->inl)
			free(e->d.paths);
		slab_free(&r->dests, e);
	}
	free(t->dests.b);
	free(t);
}

/* §9.1.2: the best of all paths, compared pairwise in a fixed order. */
static uint16_t
select_best(const struct rib_dest *d)
{
	uint16_t best = RIB_NO_BEST;

	for (uint16_t k = 0; k < d->npaths; k++) {
		if (d->paths[k].attr == NULL)
			continue;
		if (best == RIB_NO_BEST ||
		    rib_path_cmp(&d->paths[k].attr->a, d->paths[k].src, &d->paths[best].attr->a,
				 d->paths[best].src) < 0)
			best = k;
	}
	return best;
}

/* The shared source equal to src (a new reference): the last one used, most of the time. */
static const struct rib_source *
source_get(struct rib *r, const struct rib_source *src)
{
	struct rib_src *x = r->last_src;

	if (x == NULL || !source_eq(&x->s, src)) {
		x = xmalloc(sizeof(*x));
		x->s = *src;
		x->refs = 1;   /* the cache's */
		src_unref(r->last_src != NULL ? &r->last_src->s : NULL);
		r->last_src = x;
	}
	x->refs++;
	return &x->s;
}

bool
loc_rib_set(struct loc_rib *t, struct rib *r, const struct prefix *p, const void *owner,
	    const struct rib_source *src, struct rib_attr *attr, bool *had)
{
	uint32_t h = prefix_hash(p);
	struct hnode **l = table_find(&t->dests, h, p, dest_eq);
	struct dest *e = *l != NULL ? ITEM(*l, struct dest, node) : NULL;
	struct rib_dest *d;
	const void *old_owner = NULL;
	struct rib_attr *old_attr = NULL;
	struct rib_path *x;
	uint16_t k;

	if (had != NULL)
		*had = false;
	if (e == NULL) {
		/* Nothing to withdraw. */
		if (attr == NULL)
			return false;
		/* A new destination gets a path below, so l (stale after a grow) is not used again. */
		e = dest_new(t, r, l, h, p);
	}
	d = &e->d;
	if (d->best != RIB_NO_BEST) {
		old_owner = d->paths[d->best].owner;
		old_attr = d->paths[d->best].attr;
	}
	k = entry_find(d, owner);
	if (had != NULL)
		*had = k < d->npaths && d->paths[k].attr != NULL;
	if (attr == NULL) {
		if (k == d->npaths || d->paths[k].attr == NULL)
			return false;
		x = &d->paths[k];
		rib_attr_unref(r, x->attr);
		src_unref(x->src);
		x->attr = NULL;
		x->src = NULL;
		entry_gc(e, k);
	} else {
		attr->refs++;
		if (k == d->npaths)
			k = entry_add(e, owner);
		x = &d->paths[k];
		rib_attr_unref(r, x->attr);
		src_unref(x->src);
		x->attr = attr;
		x->src = source_get(r, src);
	}
	d->best = select_best(d);
	if (d->best == RIB_NO_BEST) {
		/* No path left in the Loc-RIB; nor anything else: the destination goes. */
		if (old_attr != NULL)
			t->nloc--;
		if (d->npaths == 0)
			dest_drop(t, r, l, e);
		return old_attr != NULL;
	}
	if (old_attr == NULL)
		t->nloc++;
	return d->paths[d->best].owner != old_owner || d->paths[d->best].attr != old_attr;
}

const struct rib_dest *
loc_rib_get(const struct loc_rib *t, const struct prefix *p)
{
	struct hnode **l = table_find(&t->dests, prefix_hash(p), p, dest_eq);

	return *l != NULL ? &ITEM(*l, struct dest, node)->d : NULL;
}

/*
 * Two rounds of loads issued together, instead of two cache misses (bucket,
 * then destination) waited for one prefix after another: in a table much larger
 * than the cache, the lookups that follow then find their lines there.
 */
#define PREFETCH_BLOCK 32

void
loc_rib_prefetch(const struct loc_rib *t, const struct prefix *ps, size_t n)
{
	struct hnode *const *b[PREFETCH_BLOCK];

	for (size_t i = 0; i < n; i += PREFETCH_BLOCK) {
		size_t m = n - i < PREFETCH_BLOCK ? n - i : PREFETCH_BLOCK;

		for (size_t j = 0; j < m; j++) {
			b[j] = &t->dests.b[prefix_hash(&ps[i + j]) & (t->dests.cap - 1)];
			__builtin_prefetch(b[j]);
		}
		for (size_t j = 0; j < m; j++)
			if (*b[j] != NULL)
				__builtin_prefetch(*b[j]);
	}
}

const struct rib_path *
loc_rib_best(const struct rib_dest *d)
{
	return d == NULL || d->best == RIB_NO_BEST ? NULL : &d->paths[d->best];
}

size_t
loc_rib_count(const struct loc_rib *t)
{
	return t->nloc;
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
	const struct rib_dest **v = xcalloc(t->nloc ? t->nloc : 1, sizeof(*v));
	size_t k = 0;

	TABLE_FOREACH(&t->dests, it) {
		const struct rib_dest *d = &ITEM(it, struct dest, node)->d;

		if (d->best != RIB_NO_BEST && k < t->nloc)
			v[k++] = d;
	}
	qsort(v, k, sizeof(*v), dest_ptr_cmp);
	*n = k;
	return v;
}
