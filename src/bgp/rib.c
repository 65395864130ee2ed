#include "bgp/rib.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
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
 * A big table's buckets on transparent huge pages where the kernel gives them on
 * request: prefixes that arrive out of order touch them at random, and with
 * 4 KiB pages nearly every touch would also be a TLB miss.
 */
#define HUGE_PAGE (2u << 20)

static void *
big_alloc(size_t n, bool huge)
{
	void *p;

	if (n < HUGE_PAGE)
		return xmalloc(n);
	n = (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	p = aligned_alloc(HUGE_PAGE, n);
	if (p == NULL)
		fatal("out of memory");
	/* Only advice: without huge pages the memory works the same. */
	if (huge)
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
	struct hnode **b = big_alloc(cap * sizeof(*b), true);

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
 * 64 KiB while the slab is small, then 2 MiB; they go back to the system with
 * the rib. Huge pages are not asked for: items are carved in arrival order, so
 * a table's load touches them in sequence (few TLB misses), and a huge page
 * costs its whole 2 MiB at its first touch. On this machine's virtual host that
 * first touch clears 0.5 GB/s when the host has to back the page anew, against
 * 3 GB/s for small pages: a full table's load took 0.33 s with huge slab chunks
 * and 0.24 s without (bench, 1x1000000, alternating runs).
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
			s->cur = s->chunks[s->nchunks++] = big_alloc(len, false);
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

/*
 * A Loc-RIB path's attribute set with its source, interned: a path record then
 * needs one pointer for both, and the paths of one UPDATE share one route.
 */
struct rib_route {
	struct hnode node;
	struct rib_attr *attr;
	const struct rib_source *src;
	uint32_t refs;
};

struct rib {
	struct table attrs;
	struct table routes;            /* struct rib_route */
	struct slab dests[2];           /* struct rib_dest, IPv4 and IPv6 sized */
	struct rib_src *last_src;       /* the source of the last path set, with a reference */
	struct rib_route *last_route;   /* the route of the last path set (no reference) */
};

/*
 * The fixed fields that make two sets equal, then the blob: the keyed hash of
 * the fields seeds the blob's hash (a seed no peer can know keys it too). A
 * streaming hash of ten small pieces cost more than the rest of interning a set.
 */
static uint32_t
attrs_hash(const struct bgp_attrs *a)
{
	struct {
		uint64_t has;
		uint32_t med, local_pref, aggregator_as, originator_id, otc, origin;
		struct addr next_hop, next_hop_ll;
	} k;

	memset(&k, 0, sizeof(k));   /* no padding bytes hashed unset */
	k.has = a->has;
	k.med = a->med;
	k.local_pref = a->local_pref;
	k.aggregator_as = a->aggregator_as;
	k.originator_id = a->originator_id;
	k.otc = a->otc;
	k.origin = a->origin;
	k.next_hop = a->next_hop;
	k.next_hop_ll = a->next_hop_ll;
	return (uint32_t)XXH3_64bits_withSeed(a->blob, a->blob_len, hash_bytes(&k, sizeof(k)));
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
 * A route record: whose, and a tagged pointer: an attribute set (an Adj-RIB
 * route, its kind in the low bits) or a route (REC_LOC: the owner's path;
 * REC_INLOC: the owner's path, which is also its Adj-RIB-In route as received,
 * the common case, in one record). Both are heap objects from malloc, aligned
 * to more than the tag needs.
 */
#define REC_LOC 3u
#define REC_INLOC 4u
#define REC_TAG 7u
_Static_assert((unsigned)RIB_ADJ_IN < REC_LOC && (unsigned)RIB_ADJ_STALE < REC_LOC &&
		       (unsigned)RIB_ADJ_OUT < REC_LOC,
	       "an Adj-RIB kind must fit the tag beside REC_LOC");
_Static_assert(_Alignof(max_align_t) > REC_TAG, "malloc's alignment must leave room for the tag");

struct rec {
	const void *owner;
	uintptr_t p;
};

static inline unsigned
rec_kind(const struct rec *x)
{
	return (unsigned)(x->p & REC_TAG);
}

static inline void *
rec_ptr(const struct rec *x)
{
	return (void *)(x->p & ~(uintptr_t)REC_TAG);
}

static inline uintptr_t
rec_make(const void *ptr, unsigned kind)
{
	return (uintptr_t)ptr | kind;
}

static inline bool
rec_is_path(const struct rec *x)
{
	return rec_kind(x) >= REC_LOC;
}

/* Whether x holds a route of kind (a REC_INLOC record is both a path and an Adj-RIB-In route). */
static inline bool
rec_holds(const struct rec *x, unsigned kind)
{
	unsigned k = rec_kind(x);

	return k == kind || (k == REC_INLOC && (kind == RIB_ADJ_IN || kind == REC_LOC));
}

/* The Adj-RIB route of a record that holds one. */
static inline struct rib_attr *
rec_attr(const struct rec *x)
{
	return rec_kind(x) == REC_INLOC ? ((struct rib_route *)rec_ptr(x))->attr : rec_ptr(x);
}

/*
 * A destination: its link (which holds the record count and the best path's
 * record), its prefix in 4 or 16 bytes, then its records: two inline (a peer's
 * route as received and its path, and one peer's Adj-RIB-Out route: the common
 * shape), more in an array of their own. An IPv4 destination takes 56 bytes.
 */
#define DEST_INLINE 2

struct rib_dest {
	struct hnode node;
	uint8_t family, len;
	uint8_t addr[];
};

union dest_recs {
	struct rec inl[DEST_INLINE];
	struct rec *heap;   /* more than DEST_INLINE records */
};

/* Where the records start: after the prefix, 8-byte aligned. */
#define DEST_RECS_V4 24
#define DEST_RECS_V6 40
_Static_assert(offsetof(struct rib_dest, addr) + 4 <= DEST_RECS_V4, "IPv4 prefix overlaps");
_Static_assert(offsetof(struct rib_dest, addr) + 16 <= DEST_RECS_V6, "IPv6 prefix overlaps");

static inline bool
fam_v6(int family)
{
	return family != AF_INET;
}

static inline size_t
dest_size(int family)
{
	return (fam_v6(family) ? DEST_RECS_V6 : DEST_RECS_V4) + sizeof(union dest_recs);
}

static inline union dest_recs *
dest_u(const struct rib_dest *e)
{
	return (union dest_recs *)((char *)e + (fam_v6(e->family) ? DEST_RECS_V6 : DEST_RECS_V4));
}

static inline struct rec *
dest_recs(const struct rib_dest *e)
{
	union dest_recs *u = dest_u(e);

	return e->node.nrec > DEST_INLINE ? u->heap : u->inl;
}

static inline size_t
addr_len(int family)
{
	return fam_v6(family) ? 16 : 4;
}

/*
 * Only the address bytes that count: an IPv4 prefix is 4. The prefix's last 8
 * bits are left out of the keyed hash and added to it instead, so the 256
 * neighbours of a block (the /24s of a /16) take 256 adjacent buckets: a table
 * sent in order, as peers send theirs, then walks the buckets a cache line at a
 * time instead of missing the cache once per prefix. Where each block starts is
 * still the secret-keyed hash's, so chains stay as short as with a plain hash.
 */
#define HASH_RUN_BITS 8

/* The keyed hash of a (key, family, length) triple, and where its run starts. */
static uint32_t
run_hash(const void *key, size_t n, uint32_t run)
{
	return (uint32_t)hash_bytes(key, n) + run;
}

/*
 * Whole words, not a byte string: building the key bytewise and reading it back
 * wide stalled on store forwarding, a tenth of a full table's load.
 */
static uint32_t
prefix_hash(const struct prefix *p)
{
	unsigned len = p->len, sh;

	if (!fam_v6(p->addr.family)) {
		uint32_t a;
		uint64_t k;

		memcpy(&a, p->addr.b, 4);
		a = __builtin_bswap32(a);
		if (len < HASH_RUN_BITS || len > 32)
			return run_hash(&(uint64_t){(uint64_t)a << 16 | len}, 8, 0);
		sh = 32 - len;
		k = (uint64_t)(a & ~(0xffu << sh)) << 16 | len;
		return run_hash(&k, 8, (a >> sh) & 0xff);
	} else {
		unsigned __int128 a;
		uint64_t w[2], k[3];
		uint32_t run;

		memcpy(w, p->addr.b, 16);
		a = (unsigned __int128)__builtin_bswap64(w[0]) << 64 | __builtin_bswap64(w[1]);
		k[2] = (uint64_t)AF_INET6 << 8 | len;
		if (len < HASH_RUN_BITS || len > 128) {
			k[0] = (uint64_t)(a >> 64), k[1] = (uint64_t)a;
			return run_hash(k, sizeof(k), 0);
		}
		sh = 128 - len;
		run = (uint32_t)(a >> sh) & 0xff;
		a &= ~((unsigned __int128)0xff << sh);
		k[0] = (uint64_t)(a >> 64), k[1] = (uint64_t)a;
		return run_hash(k, sizeof(k), run);
	}
}

static bool
dest_eq(const struct hnode *item, const void *key)
{
	const struct rib_dest *e = ITEM(item, struct rib_dest, node);
	const struct prefix *p = key;

	if (e->len != p->len || e->family != p->addr.family)
		return false;
	/* Constant sizes: compiled inline, where a call to memcmp was a tenth of a churn. */
	return p->addr.family == AF_INET ? memcmp(e->addr, p->addr.b, 4) == 0
					 : memcmp(e->addr, p->addr.b, 16) == 0;
}

void
rib_dest_prefix(const struct rib_dest *d, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr.family = d->family;
	p->len = d->len;
	memcpy(p->addr.b, d->addr, addr_len(d->family));
}

size_t
rib_dest_records(const struct rib_dest *d)
{
	return d->node.nrec;
}

struct rib *
rib_new(void)
{
	struct rib *r = xcalloc(1, sizeof(*r));

	table_init(&r->attrs);
	table_init(&r->routes);
	r->dests[0].size = dest_size(AF_INET);
	r->dests[1].size = dest_size(AF_INET6);
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
	TABLE_FOREACH(&r->attrs, it)
		free(ITEM(it, struct rib_attr, node));
	free(r->attrs.b);
	/* Every Loc-RIB is gone before the rib, and its routes with it. */
	free(r->routes.b);
	slab_destroy(&r->dests[0]);
	slab_destroy(&r->dests[1]);
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
	x = xcalloc(1, sizeof(*x) + a->blob_len);
	x->node.hash = h;
	x->refs = 1;
	x->a = *a;
	x->a.blob = (uint8_t *)(x + 1);
	if (a->blob_len)
		memcpy(x->a.blob, a->blob, a->blob_len);
	table_link(&r->attrs, l, &x->node);
	return x;
}

/* Unlinks item from t: its own chain, found by its hash. */
static void
table_remove(struct table *t, struct hnode *item)
{
	struct hnode **l = &t->b[item->hash & (t->cap - 1)];

	while (*l != item)
		l = &(*l)->next;
	table_unlink(t, l);
}

void
rib_attr_unref(struct rib *r, struct rib_attr *x)
{
	if (x == NULL || --x->refs > 0)
		return;
	table_remove(&r->attrs, &x->node);
	free(x);
}

size_t
rib_attr_count(const struct rib *r)
{
	return r->attrs.live;
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

struct route_key {
	const struct rib_attr *attr;
	const struct rib_source *src;
};

static bool
route_eq(const struct hnode *item, const void *key)
{
	const struct rib_route *x = ITEM(item, struct rib_route, node);
	const struct route_key *k = key;

	return x->attr == k->attr && x->src == k->src;
}

/* The route of attr with (a source equal to) src: a new reference. */
static struct rib_route *
route_get(struct rib *r, struct rib_attr *attr, const struct rib_source *src)
{
	struct rib_route *x = r->last_route;
	struct route_key k;
	struct hnode **l;
	uint32_t h;

	/* The paths of one UPDATE: the same route again. */
	if (x != NULL && x->attr == attr && source_eq(x->src, src)) {
		x->refs++;
		return x;
	}
	k = (struct route_key){.attr = attr, .src = source_get(r, src)};
	h = (uint32_t)hash_bytes(&k, sizeof(k));
	l = table_find(&r->routes, h, &k, route_eq);
	if (*l != NULL) {
		x = ITEM(*l, struct rib_route, node);
		src_unref(k.src);
	} else {
		x = xmalloc(sizeof(*x));
		x->node.hash = h;
		x->attr = attr;
		attr->refs++;
		x->src = k.src;   /* source_get's reference */
		x->refs = 0;
		table_link(&r->routes, l, &x->node);
	}
	r->last_route = x;
	x->refs++;
	return x;
}

static void
route_unref(struct rib *r, struct rib_route *x)
{
	if (--x->refs > 0)
		return;
	if (r->last_route == x)
		r->last_route = NULL;
	table_remove(&r->routes, &x->node);
	rib_attr_unref(r, x->attr);
	src_unref(x->src);
	free(x);
}

/* Releases what record x refers to. */
static void
rec_release(struct rib *r, const struct rec *x)
{
	if (rec_is_path(x))
		route_unref(r, rec_ptr(x));
	else
		rib_attr_unref(r, rec_ptr(x));
}

struct loc_rib {
	struct table dests;
	size_t nloc;   /* destinations with a path in the Loc-RIB */
};

/* A new destination for p, linked at l (the link table_find gave for h). */
static struct rib_dest *
dest_new(struct loc_rib *t, struct rib *r, struct hnode **l, uint32_t h, const struct prefix *p)
{
	struct rib_dest *e = slab_alloc(&r->dests[fam_v6(p->addr.family)]);

	e->node.hash = h;
	e->node.nrec = 0;
	e->node.best = RIB_NO_BEST;
	e->family = (uint8_t)p->addr.family;
	e->len = p->len;
	memcpy(e->addr, p->addr.b, addr_len(p->addr.family));
	table_link(&t->dests, l, &e->node);
	return e;
}

/* The index of owner's record that holds kind, or the count when there is none. */
static uint16_t
rec_find(const struct rib_dest *e, const void *owner, unsigned kind)
{
	const struct rec *v = dest_recs(e);
	uint16_t k;

	for (k = 0; k < e->node.nrec && (v[k].owner != owner || !rec_holds(&v[k], kind)); k++)
		;
	return k;
}

/* Appends a record; its index. The records may move. */
static uint16_t
rec_add(struct rib_dest *e, const void *owner, uintptr_t p)
{
	union dest_recs *u = dest_u(e);
	uint16_t n = e->node.nrec;
	struct rec *v;

	/* A few records per session that holds the prefix: fewer than RIB_NO_BEST. */
	if (n >= RIB_NO_BEST - 1)
		fatal("rib: more than %u records on one destination", RIB_NO_BEST - 2);
	/*
	 * The heap array's capacity doubles at every power of two, so a prefix that many
	 * peers hold costs O(peers) copies in all, not O(peers^2).
	 */
	if (n == DEST_INLINE) {
		v = xmalloc(4 * sizeof(*v));
		memcpy(v, u->inl, sizeof(u->inl));
		u->heap = v;
	} else if (n > DEST_INLINE && (n & (n - 1)) == 0) {
		u->heap = xrealloc(u->heap, 2 * (size_t)n * sizeof(*u->heap));
	}
	e->node.nrec = n + 1;
	v = dest_recs(e);
	v[n] = (struct rec){.owner = owner, .p = p};
	return n;
}

/*
 * Drops record k (released already). The others keep their order, so the
 * best path stays the fold over the paths in order (a short array: the move is
 * cheap), and best follows.
 */
static void
rec_del(struct rib_dest *e, uint16_t k)
{
	union dest_recs *u = dest_u(e);
	struct rec *v = dest_recs(e);
	uint16_t last = e->node.nrec - 1;

	memmove(&v[k], &v[k + 1], (size_t)(last - k) * sizeof(*v));
	if (e->node.best != RIB_NO_BEST && e->node.best > k)
		e->node.best--;
	e->node.nrec = last;
	if (last == DEST_INLINE) {
		memcpy(u->inl, v, sizeof(u->inl));
		free(v);
	}
}

/* Unlinks and frees a destination without records (l: its link). */
static void
dest_drop(struct loc_rib *t, struct rib *r, struct hnode **l, struct rib_dest *e)
{
	table_unlink(&t->dests, l);
	slab_free(&r->dests[fam_v6(e->family)], e);
}

/*
 * Drops the Adj-RIB route of record k; a path held in the same record stays
 * (as a record of its own kind).
 */
static void
rec_drop_adj(struct rib *r, struct rib_dest *e, uint16_t k)
{
	struct rec *v = dest_recs(e);

	if (rec_kind(&v[k]) == REC_INLOC) {
		v[k].p = rec_make(rec_ptr(&v[k]), REC_LOC);
		return;
	}
	rec_release(r, &v[k]);
	rec_del(e, k);
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
			struct rib_dest *e = ITEM(*l, struct rib_dest, node);
			uint16_t k = rec_find(e, a->owner, a->kind);

			if (k < e->node.nrec) {
				rec_drop_adj(r, e, k);
				a->n--;
				if (e->node.nrec == 0) {
					dest_drop(a->t, r, l, e);
					continue;
				}
			}
			l = &(*l)->next;
		}
	}
	free(a);
}

/* The link that points at e (which is in t): its chain is walked from its bucket. */
static struct hnode **
dest_link(const struct loc_rib *t, const struct rib_dest *e)
{
	struct hnode **l = &t->dests.b[e->node.hash & (t->dests.cap - 1)];

	while (*l != &e->node)
		l = &(*l)->next;
	return l;
}

/*
 * adj_in_set at destination e (in the table, found or new); l is its link, or
 * NULL to find it if e goes.
 */
static int
adj_set(struct adj_in *a, struct rib *r, struct rib_dest *e, struct hnode **l, struct rib_attr *x,
	bool *gone)
{
	uint16_t k = rec_find(e, a->owner, a->kind);
	struct rib_attr *old;
	struct rec *v;

	if (x == NULL) {
		if (k == e->node.nrec)
			return 0;
		rec_drop_adj(r, e, k);
		a->n--;
		if (e->node.nrec == 0) {
			dest_drop(a->t, r, l != NULL ? l : dest_link(a->t, e), e);
			if (gone != NULL)
				*gone = true;
		}
		return 1;
	}
	x->refs++;
	if (k == e->node.nrec) {
		rec_add(e, a->owner, rec_make(x, a->kind));
		a->n++;
		return 1;
	}
	v = dest_recs(e);
	if (rec_kind(&v[k]) == REC_INLOC) {
		if (rec_attr(&v[k]) == x) {
			rib_attr_unref(r, x);
			return 0;
		}
		/* The path stays as it is until the Loc-RIB is told: two records again. */
		v[k].p = rec_make(rec_ptr(&v[k]), REC_LOC);
		rec_add(e, a->owner, rec_make(x, a->kind));
		return 1;
	}
	old = rec_ptr(&v[k]);
	v[k].p = rec_make(x, a->kind);
	rib_attr_unref(r, old);
	return old != x;
}

int
adj_in_set_dest(struct adj_in *a, struct rib *r, const struct prefix *p, struct rib_attr *x,
		const struct rib_dest **d)
{
	uint32_t h = prefix_hash(p);
	struct hnode **l = table_find(&a->t->dests, h, p, dest_eq);
	struct rib_dest *e;
	bool gone = false;
	int rc;

	if (*l != NULL) {
		e = ITEM(*l, struct rib_dest, node);
		rc = adj_set(a, r, e, l, x, &gone);
	} else if (x == NULL) {
		e = NULL;
		rc = 0;
	} else {
		/* A new destination is not dropped below, so l (stale after a grow) is not used. */
		e = dest_new(a->t, r, l, h, p);
		rc = adj_set(a, r, e, NULL, x, NULL);
	}
	if (d != NULL)
		*d = gone ? NULL : e;
	return rc;
}

int
adj_in_set(struct adj_in *a, struct rib *r, const struct prefix *p, struct rib_attr *x)
{
	return adj_in_set_dest(a, r, p, x, NULL);
}

int
adj_in_set_at(struct adj_in *a, struct rib *r, const struct rib_dest *d, struct rib_attr *x)
{
	/* d is one of a's table's destinations: the table is a's to change. */
	return adj_set(a, r, (struct rib_dest *)(uintptr_t)d, NULL, x, NULL);
}

struct rib_attr *
adj_in_at(const struct adj_in *a, const struct rib_dest *d)
{
	uint16_t k;

	if (d == NULL)
		return NULL;
	k = rec_find(d, a->owner, a->kind);
	return k < d->node.nrec ? rec_attr(&dest_recs(d)[k]) : NULL;
}

struct rib_attr *
adj_in_get(const struct adj_in *a, const struct prefix *p)
{
	struct hnode **l = table_find(&a->t->dests, prefix_hash(p), p, dest_eq);

	return adj_in_at(a, *l != NULL ? ITEM(*l, struct rib_dest, node) : NULL);
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
		const struct rib_dest *e = ITEM(it, struct rib_dest, node);
		uint16_t k = rec_find(e, a->owner, a->kind);

		if (k < e->node.nrec) {
			rib_dest_prefix(e, &v[m].p);
			v[m++].attr = rec_attr(&dest_recs(e)[k]);
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
		const struct rib_dest *e = ITEM(it, struct rib_dest, node);

		if (e->node.best != RIB_NO_BEST && k < t->nloc)
			rib_dest_prefix(e, &v[k++]);
	}
	*n = k;
	return v;
}

static int
prefix_qcmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

struct prefix *
loc_rib_sorted(const struct loc_rib *t, size_t *n)
{
	struct prefix *v = loc_rib_prefixes(t, n);

	qsort(v, *n, sizeof(*v), prefix_qcmp);
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
		struct rib_dest *e = ITEM(it, struct rib_dest, node);
		struct rec *v = dest_recs(e);

		for (uint16_t k = 0; k < e->node.nrec; k++)
			rec_release(r, &v[k]);
		if (e->node.nrec > DEST_INLINE)
			free(v);
		slab_free(&r->dests[fam_v6(e->family)], e);
	}
	free(t->dests.b);
	free(t);
}

/* Record x as a path (it is one). */
static void
rec_path(const struct rec *x, struct rib_path *out)
{
	const struct rib_route *y = rec_ptr(x);

	*out = (struct rib_path){.owner = x->owner, .src = y->src, .attr = y->attr};
}

static inline int
rec_cmp(const struct rec *a, const struct rec *b)
{
	const struct rib_route *x = rec_ptr(a), *y = rec_ptr(b);

	return rib_path_cmp(&x->attr->a, x->src, &y->attr->a, y->src);
}

/* §9.1.2: the best of all paths, compared pairwise in a fixed order (the records'). */
static uint16_t
select_best(const struct rib_dest *e)
{
	const struct rec *v = dest_recs(e);
	uint16_t best = RIB_NO_BEST;

	for (uint16_t k = 0; k < e->node.nrec; k++) {
		if (!rec_is_path(&v[k]))
			continue;
		if (best == RIB_NO_BEST || rec_cmp(&v[k], &v[best]) < 0)
			best = k;
	}
	return best;
}

/* loc_rib_set at destination e, whose link is l (NULL: found again if e goes). */
static bool
dest_set(struct loc_rib *t, struct rib *r, struct rib_dest *e, struct hnode **l, const void *owner,
	 const struct rib_source *src, struct rib_attr *attr, bool *had)
{
	const void *old_owner = NULL;
	const struct rib_attr *old_attr = NULL;
	uint16_t k, best;
	struct rec *v;

	if (had != NULL)
		*had = false;
	if (e->node.best != RIB_NO_BEST) {
		const struct rec *b = &dest_recs(e)[e->node.best];

		old_owner = b->owner;
		old_attr = ((const struct rib_route *)rec_ptr(b))->attr;
	}
	k = rec_find(e, owner, REC_LOC);
	if (had != NULL)
		*had = k < e->node.nrec;
	if (attr == NULL) {
		if (k == e->node.nrec)
			return false;
		v = dest_recs(e);
		if (rec_kind(&v[k]) == REC_INLOC) {
			/* The Adj-RIB-In route stays, in a record of its own. */
			struct rib_route *y = rec_ptr(&v[k]);

			y->attr->refs++;
			v[k].p = rec_make(y->attr, RIB_ADJ_IN);
			route_unref(r, y);
		} else {
			rec_release(r, &v[k]);
			rec_del(e, k);
		}
		best = select_best(e);
	} else if (k == e->node.nrec) {
		struct rib_route *y = route_get(r, attr, src);
		uint16_t j = rec_find(e, owner, RIB_ADJ_IN);

		v = dest_recs(e);
		if (j < e->node.nrec && rec_ptr(&v[j]) == attr) {
			/* The path is the route as received: one record for both. */
			v[j].p = rec_make(y, REC_INLOC);
			rib_attr_unref(r, attr);
			k = j;
		} else {
			k = rec_add(e, owner, rec_make(y, REC_LOC));
			v = dest_recs(e);
		}
		/*
		 * A new path last: the pairwise fold over the records in order then gives
		 * what it gave before, compared with the new one (one comparison, not one
		 * per path; the same choice as a whole new selection).
		 */
		if (k == e->node.nrec - 1) {
			best = e->node.best;
			if (best == RIB_NO_BEST || rec_cmp(&v[k], &v[best]) < 0)
				best = k;
		} else {
			best = select_best(e);
		}
	} else {
		struct rib_route *y = route_get(r, attr, src), *old;
		uint16_t j;

		v = dest_recs(e);
		old = rec_ptr(&v[k]);
		if (rec_kind(&v[k]) == REC_INLOC && old->attr != attr) {
			/* The Adj-RIB-In route keeps what it was: a record of its own. */
			old->attr->refs++;
			v[k].p = rec_make(y, REC_LOC);
			rec_add(e, owner, rec_make(old->attr, RIB_ADJ_IN));
		} else {
			v[k].p = rec_make(y, rec_kind(&v[k]));
		}
		route_unref(r, old);
		/* A new route that is the Adj-RIB-In's (a route sent again): one record again. */
		v = dest_recs(e);
		if (rec_kind(&v[k]) == REC_LOC && (j = rec_find(e, owner, RIB_ADJ_IN)) < e->node.nrec &&
		    rec_ptr(&v[j]) == attr) {
			v[k].p = rec_make(y, REC_INLOC);
			rib_attr_unref(r, attr);
			rec_del(e, j);
		}
		best = select_best(e);
	}
	e->node.best = best;
	if (best == RIB_NO_BEST) {
		/* No path left in the Loc-RIB; nor anything else: the destination goes. */
		if (old_attr != NULL)
			t->nloc--;
		if (e->node.nrec == 0)
			dest_drop(t, r, l != NULL ? l : dest_link(t, e), e);
		return old_attr != NULL;
	}
	if (old_attr == NULL)
		t->nloc++;
	v = dest_recs(e);
	return v[best].owner != old_owner ||
	       ((const struct rib_route *)rec_ptr(&v[best]))->attr != old_attr;
}

bool
loc_rib_set(struct loc_rib *t, struct rib *r, const struct prefix *p, const void *owner,
	    const struct rib_source *src, struct rib_attr *attr, bool *had)
{
	uint32_t h = prefix_hash(p);
	struct hnode **l = table_find(&t->dests, h, p, dest_eq);
	struct rib_dest *e = *l != NULL ? ITEM(*l, struct rib_dest, node) : NULL;

	if (e == NULL) {
		if (had != NULL)
			*had = false;
		/* Nothing to withdraw. */
		if (attr == NULL)
			return false;
		/* A new destination gets a path, so l (stale after a grow) is not used again. */
		e = dest_new(t, r, l, h, p);
		l = NULL;
	}
	return dest_set(t, r, e, l, owner, src, attr, had);
}

bool
loc_rib_set_at(struct loc_rib *t, struct rib *r, const struct rib_dest *d, const struct prefix *p,
	       const void *owner, const struct rib_source *src, struct rib_attr *attr, bool *had)
{
	if (d == NULL)
		return loc_rib_set(t, r, p, owner, src, attr, had);
	/* d is one of t's destinations: the table is t's to change. */
	return dest_set(t, r, (struct rib_dest *)(uintptr_t)d, NULL, owner, src, attr, had);
}

const struct rib_dest *
loc_rib_get(const struct loc_rib *t, const struct prefix *p)
{
	struct hnode **l = table_find(&t->dests, prefix_hash(p), p, dest_eq);

	return *l != NULL ? ITEM(*l, struct rib_dest, node) : NULL;
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
	uint32_t h[PREFETCH_BLOCK];

	for (size_t i = 0; i < n; i += PREFETCH_BLOCK) {
		size_t m = n - i < PREFETCH_BLOCK ? n - i : PREFETCH_BLOCK;

		for (size_t j = 0; j < m; j++) {
			h[j] = prefix_hash(&ps[i + j]);
			b[j] = &t->dests.b[h[j] & (t->dests.cap - 1)];
			__builtin_prefetch(b[j]);
		}
		for (size_t j = 0; j < m; j++)
			if (*b[j] != NULL)
				__builtin_prefetch(*b[j]);
		/* A third round for a chain's second item (a third of the lookups at a full
		 * table's load), whose miss was most of a churn's lookup time. */
		for (size_t j = 0; j < m; j++) {
			const struct hnode *it = *b[j];

			if (it != NULL && it->hash != h[j] && it->next != NULL)
				__builtin_prefetch(it->next);
		}
	}
}

bool
loc_rib_best(const struct rib_dest *d, struct rib_path *out)
{
	if (d == NULL || d->node.best == RIB_NO_BEST)
		return false;
	rec_path(&dest_recs(d)[d->node.best], out);
	return true;
}

bool
rib_dest_next_path(const struct rib_dest *d, size_t *k, struct rib_path *out, bool *best)
{
	const struct rec *v = dest_recs(d);

	for (; *k < d->node.nrec; (*k)++) {
		if (!rec_is_path(&v[*k]))
			continue;
		rec_path(&v[*k], out);
		*best = *k == d->node.best;
		(*k)++;
		return true;
	}
	return false;
}

size_t
loc_rib_count(const struct loc_rib *t)
{
	return t->nloc;
}
