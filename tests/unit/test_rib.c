/* Attribute interning, the shared table of destinations and its Adj-RIB views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bgp/rib.h"

static void
make_attrs(struct bgp_attrs *a, uint32_t asn)
{
	uint8_t path[] = {0x02, 0x01, (uint8_t)(asn >> 24), (uint8_t)(asn >> 16),
			  (uint8_t)(asn >> 8), (uint8_t)asn};

	bgp_attrs_build(a, path, sizeof(path), NULL, 0);
	addr_parse("192.0.2.10", &a->next_hop);
	a->has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
}

static int
prefix_qsort_cmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

static void
test_interning(void **state)
{
	struct rib *r = rib_new();
	struct bgp_attrs a, b, c;
	struct rib_attr *x, *y, *z;

	(void)state;
	make_attrs(&a, 64555);
	make_attrs(&b, 64555);
	make_attrs(&c, 64556);
	x = rib_attr_intern(r, &a);
	y = rib_attr_intern(r, &b);
	z = rib_attr_intern(r, &c);
	/* Equal sets are stored once. */
	assert_ptr_equal(x, y);
	assert_ptr_not_equal(x, z);
	assert_int_equal(x->refs, 2);
	assert_int_equal(rib_attr_count(r), 2);
	rib_attr_unref(r, x);
	rib_attr_unref(r, y);
	assert_int_equal(rib_attr_count(r), 1);
	rib_attr_unref(r, z);
	assert_int_equal(rib_attr_count(r), 0);
	bgp_attrs_free(&a);
	bgp_attrs_free(&b);
	bgp_attrs_free(&c);
	rib_free(r);
}

static void
test_adj_in(void **state)
{
	struct rib *r = rib_new();
	struct loc_rib *L = loc_rib_new();
	static const int owner;
	struct adj_in *t = adj_in_new(L, &owner, RIB_ADJ_IN);
	struct bgp_attrs a, b;
	struct rib_attr *x, *y;
	struct adj_in_route *v;
	struct prefix p;
	size_t n;

	(void)state;
	make_attrs(&a, 64555);
	make_attrs(&b, 64556);
	x = rib_attr_intern(r, &a);
	y = rib_attr_intern(r, &b);
	/* 100,000 prefixes share one attribute set; half move to another; a quarter go. */
	for (uint32_t i = 0; i < 100000; i++) {
		p = (struct prefix){.addr = {.family = AF_INET, .b = {10, (uint8_t)(i >> 16),
								       (uint8_t)(i >> 8), (uint8_t)i}},
				    .len = 32};
		assert_int_equal(adj_in_set(t, r, &p, x), 1);
	}
	assert_int_equal(adj_in_count(t), 100000);
	assert_int_equal(x->refs, 100001);
	for (uint32_t i = 0; i < 100000; i += 2) {
		p = (struct prefix){.addr = {.family = AF_INET, .b = {10, (uint8_t)(i >> 16),
								       (uint8_t)(i >> 8), (uint8_t)i}},
				    .len = 32};
		assert_int_equal(adj_in_set(t, r, &p, y), 1);
		assert_int_equal(adj_in_set(t, r, &p, y), 0);
	}
	for (uint32_t i = 0; i < 100000; i += 4) {
		p = (struct prefix){.addr = {.family = AF_INET, .b = {10, (uint8_t)(i >> 16),
								       (uint8_t)(i >> 8), (uint8_t)i}},
				    .len = 32};
		assert_int_equal(adj_in_set(t, r, &p, NULL), 1);
		assert_int_equal(adj_in_set(t, r, &p, NULL), 0);
		assert_null(adj_in_get(t, &p));
	}
	assert_int_equal(adj_in_count(t), 75000);
	assert_int_equal(x->refs, 50001);
	assert_int_equal(y->refs, 25001);
	v = adj_in_sorted(t, &n);
	assert_int_equal(n, 75000);
	for (size_t i = 1; i < n; i++)
		assert_true(prefix_cmp(&v[i - 1].p, &v[i].p) < 0);
	{
		/* The unsorted snapshot holds the same prefixes: each one once. */
		size_t np;
		struct prefix *ps = adj_in_prefixes(t, &np);

		assert_int_equal(np, n);
		for (size_t i = 0; i < np; i++)
			assert_non_null(adj_in_get(t, &ps[i]));
		qsort(ps, np, sizeof(*ps), prefix_qsort_cmp);
		for (size_t i = 0; i < np; i++)
			assert_int_equal(prefix_cmp(&ps[i], &v[i].p), 0);
		free(ps);
	}
	free(v);
	/* Routes of an Adj-RIB only: no path in the Loc-RIB. */
	assert_int_equal(loc_rib_count(L), 0);
	adj_in_free(t, r);
	assert_int_equal(x->refs, 1);
	loc_rib_free(L, r);
	rib_attr_unref(r, x);
	rib_attr_unref(r, y);
	assert_int_equal(rib_attr_count(r), 0);
	bgp_attrs_free(&a);
	bgp_attrs_free(&b);
	rib_free(r);
}

static struct prefix
pfx(uint32_t i)
{
	return (struct prefix){.addr = {.family = AF_INET, .b = {10, (uint8_t)(i >> 16),
							       (uint8_t)(i >> 8), (uint8_t)i}},
			       .len = 32};
}

/*
 * One destination holds every owner's path and Adj-RIB routes for a prefix:
 * the Loc-RIB lists and counts only destinations with a path, each view counts
 * its own routes, and a destination goes when nothing holds it any more.
 */
static void
test_shared_dest(void **state)
{
	static const int peer_a, peer_b;
	struct rib *r = rib_new();
	struct loc_rib *L = loc_rib_new();
	struct adj_in *in_a = adj_in_new(L, &peer_a, RIB_ADJ_IN),
		      *stale_a = adj_in_new(L, &peer_a, RIB_ADJ_STALE),
		      *out_b = adj_in_new(L, &peer_b, RIB_ADJ_OUT);
	struct rib_source src_a = {.ebgp = true, .peer_as = 65001, .router_id = 1},
			  src_b = {.ebgp = true, .peer_as = 65002, .router_id = 2};
	struct bgp_attrs a, b;
	struct rib_attr *x, *y;
	const struct rib_dest *d;
	struct prefix p = pfx(1), q = pfx(2), *ps;
	struct rib_path best;
	bool had;
	size_t n;

	(void)state;
	make_attrs(&a, 64555);
	make_attrs(&b, 64556);
	x = rib_attr_intern(r, &a);
	y = rib_attr_intern(r, &b);
	/* Received from a, into the Loc-RIB, sent to b: one destination. */
	assert_int_equal(adj_in_set(in_a, r, &p, x), 1);
	assert_true(loc_rib_set(L, r, &p, &peer_a, &src_a, x, &had));
	assert_false(had);
	assert_int_equal(adj_in_set(out_b, r, &p, y), 1);
	d = loc_rib_get(L, &p);
	assert_non_null(d);
	/* a's route in, which is a's path (one record), and b's route out. */
	assert_int_equal(rib_dest_records(d), 2);
	assert_true(loc_rib_best(d, &best));
	assert_ptr_equal(best.owner, &peer_a);
	assert_ptr_equal(best.attr, x);
	assert_int_equal(best.src->router_id, 1);
	assert_ptr_equal(adj_in_get(in_a, &p), x);
	assert_ptr_equal(adj_in_get(out_b, &p), y);
	assert_null(adj_in_get(stale_a, &p));
	/* Only in a's Adj-RIB-In (its import policy refused it): no path. */
	assert_int_equal(adj_in_set(in_a, r, &q, x), 1);
	assert_non_null(loc_rib_get(L, &q));
	assert_false(loc_rib_best(loc_rib_get(L, &q), &best));
	assert_int_equal(loc_rib_count(L), 1);
	ps = loc_rib_prefixes(L, &n);
	assert_int_equal(n, 1);
	assert_int_equal(prefix_cmp(&ps[0], &p), 0);
	free(ps);
	free(loc_rib_sorted(L, &n));
	assert_int_equal(n, 1);
	assert_int_equal(adj_in_count(in_a), 2);
	assert_int_equal(adj_in_count(out_b), 1);
	/* b's path too; a's goes: b's is best, a's entry stays for its Adj-RIB-In. */
	assert_false(loc_rib_set(L, r, &p, &peer_b, &src_b, y, &had));
	assert_true(loc_rib_set(L, r, &p, &peer_a, NULL, NULL, &had));
	assert_true(had);
	d = loc_rib_get(L, &p);
	assert_true(loc_rib_best(d, &best));
	assert_ptr_equal(best.owner, &peer_b);
	/* a's route in (its own record again), b's route out and b's path. */
	assert_int_equal(rib_dest_records(d), 3);
	assert_ptr_equal(adj_in_get(in_a, &p), x);
	/* a's Adj-RIB-In goes (a walk of the table): q's destination with it. */
	adj_in_free(in_a, r);
	assert_null(loc_rib_get(L, &q));
	assert_int_equal(rib_dest_records(loc_rib_get(L, &p)), 2);
	/* The last path and the last route: the destination goes. */
	assert_true(loc_rib_set(L, r, &p, &peer_b, NULL, NULL, NULL));
	assert_int_equal(loc_rib_count(L), 0);
	assert_non_null(loc_rib_get(L, &p));
	assert_int_equal(adj_in_set(out_b, r, &p, NULL), 1);
	assert_null(loc_rib_get(L, &p));
	assert_int_equal(x->refs, 1);
	assert_int_equal(y->refs, 1);
	adj_in_free(stale_a, r);
	adj_in_free(out_b, r);
	loc_rib_free(L, r);
	rib_attr_unref(r, x);
	rib_attr_unref(r, y);
	assert_int_equal(rib_attr_count(r), 0);
	bgp_attrs_free(&a);
	bgp_attrs_free(&b);
	rib_free(r);
}

/* Many owners on one destination (past the inline entries), in and out of the Loc-RIB. */
static void
test_many_owners(void **state)
{
	static int owners[40];
	struct rib *r = rib_new();
	struct loc_rib *L = loc_rib_new();
	struct adj_in *out[40];
	struct bgp_attrs a;
	struct rib_attr *x;
	struct prefix p = pfx(7);
	const struct rib_dest *d;
	struct rib_path best;
	size_t k, n, nbest;
	bool is_best;

	(void)state;
	make_attrs(&a, 64555);
	x = rib_attr_intern(r, &a);
	for (int i = 0; i < 40; i++) {
		struct rib_source src = {.ebgp = true, .peer_as = 65000, .router_id = (uint32_t)i + 1};

		out[i] = adj_in_new(L, &owners[i], RIB_ADJ_OUT);
		assert_int_equal(adj_in_set(out[i], r, &p, x), 1);
		loc_rib_set(L, r, &p, &owners[i], &src, x, NULL);
	}
	d = loc_rib_get(L, &p);
	assert_int_equal(rib_dest_records(d), 80);
	/* The lowest router ID wins (RFC 4271 §9.1.2.2 f). */
	assert_true(loc_rib_best(d, &best));
	assert_ptr_equal(best.owner, &owners[0]);
	/* Every path listed once, the best one marked. */
	for (k = 0, n = 0, nbest = 0; rib_dest_next_path(d, &k, &best, &is_best); n++)
		nbest += is_best && best.owner == &owners[0];
	assert_int_equal(n, 40);
	assert_int_equal(nbest, 1);
	for (int i = 0; i < 40; i++) {
		loc_rib_set(L, r, &p, &owners[i], NULL, NULL, NULL);
		d = loc_rib_get(L, &p);
		assert_non_null(d);
		if (i < 39) {
			assert_true(loc_rib_best(d, &best));
			assert_ptr_equal(best.owner, &owners[i + 1]);
		} else {
			assert_false(loc_rib_best(d, &best));
		}
	}
	for (int i = 0; i < 40; i++) {
		assert_ptr_equal(adj_in_get(out[i], &p), x);
		adj_in_free(out[i], r);
	}
	assert_null(loc_rib_get(L, &p));
	assert_int_equal(x->refs, 1);
	loc_rib_free(L, r);
	rib_attr_unref(r, x);
	bgp_attrs_free(&a);
	rib_free(r);
}

/* The hash of one attribute set in this process. */
/*
 * A destination keeps its prefix in 4 bytes (IPv4) or 16 (IPv6): the two
 * families never meet, what comes back is what went in, and bytes past an IPv4
 * address play no part in finding it.
 */
static void
test_compact_prefixes(void **state)
{
	static const int peer;
	struct rib *r = rib_new();
	struct loc_rib *L = loc_rib_new();
	struct rib_source src = {.ebgp = true, .peer_as = 65001, .router_id = 1};
	struct prefix v4 = pfx(3), v6 = {.addr = {.family = AF_INET6, .b = {10, 0, 0, 3}}, .len = 32};
	struct prefix junk = v4, back, *ps;
	struct bgp_attrs a;
	struct rib_attr *x;
	size_t n;

	(void)state;
	make_attrs(&a, 64555);
	x = rib_attr_intern(r, &a);
	assert_true(loc_rib_set(L, r, &v4, &peer, &src, x, NULL));
	assert_null(loc_rib_get(L, &v6));
	assert_true(loc_rib_set(L, r, &v6, &peer, &src, x, NULL));
	assert_int_equal(loc_rib_count(L), 2);
	rib_dest_prefix(loc_rib_get(L, &v4), &back);
	assert_int_equal(prefix_cmp(&back, &v4), 0);
	assert_int_equal(back.addr.family, AF_INET);
	rib_dest_prefix(loc_rib_get(L, &v6), &back);
	assert_int_equal(prefix_cmp(&back, &v6), 0);
	assert_int_equal(back.addr.family, AF_INET6);
	junk.addr.b[9] = 0xff;
	assert_ptr_equal(loc_rib_get(L, &junk), loc_rib_get(L, &v4));
	ps = loc_rib_sorted(L, &n);
	assert_int_equal(n, 2);
	assert_int_equal(ps[0].addr.family, AF_INET);
	free(ps);
	/* Two paths of one attribute set and source share one route: one reference. */
	assert_int_equal(x->refs, 2);
	loc_rib_free(L, r);
	assert_int_equal(x->refs, 1);
	rib_attr_unref(r, x);
	bgp_attrs_free(&a);
	rib_free(r);
}

/*
 * The best path after any sequence of paths and Adj-RIB-In routes set,
 * replaced and withdrawn is the pairwise fold over the paths in the order the
 * destination lists them, whether it came from one comparison (a new path) or
 * a whole selection; and every owner's route and path read back as set, in
 * one record or two.
 */
static void
test_best_is_the_fold(void **state)
{
	static int owners[12];
	struct rib *r = rib_new();
	struct loc_rib *L = loc_rib_new();
	struct adj_in *in[12];
	struct rib_attr *x[4], *model_in[12] = {0}, *model_loc[12] = {0};
	struct prefix p = pfx(9);
	struct bgp_attrs a[4];
	unsigned seed = 7;

	(void)state;
	for (int i = 0; i < 12; i++)
		in[i] = adj_in_new(L, &owners[i], RIB_ADJ_IN);
	for (int i = 0; i < 4; i++) {
		make_attrs(&a[i], 64555 + (uint32_t)(i % 2));
		a[i].med = (uint32_t)i;
		a[i].has |= BGP_HAS(BGP_ATTR_MED);
		x[i] = rib_attr_intern(r, &a[i]);
	}
	for (int step = 0; step < 4000; step++) {
		int o = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
		int v = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 5;
		int how = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3;
		struct rib_attr *y = v < 4 ? x[v] : NULL;
		struct rib_source src = {.ebgp = true, .peer_as = 65000 + (uint32_t)(o % 3),
					 .router_id = (uint32_t)o + 1};
		struct rib_path best, it, fold;
		const struct rib_dest *d;
		bool has_fold = false, is_best;
		size_t k = 0, npaths = 0;

		/* As a session does (in, then the Loc-RIB), or one of them alone (an import
		 * policy that refuses, a restart's stale path). */
		if (how != 2) {
			adj_in_set(in[o], r, &p, y);
			model_in[o] = y;
		}
		if (how != 1) {
			loc_rib_set(L, r, &p, &owners[o], &src, y, NULL);
			model_loc[o] = y;
		}
		d = loc_rib_get(L, &p);
		while (d != NULL && rib_dest_next_path(d, &k, &it, &is_best)) {
			int w = (int)((const int *)it.owner - owners);

			assert_ptr_equal(it.attr, model_loc[w]);
			npaths++;
			if (!has_fold || rib_path_cmp(&it.attr->a, it.src, &fold.attr->a, fold.src) < 0) {
				fold = it;
				has_fold = true;
			}
		}
		for (int i = 0; i < 12; i++) {
			assert_ptr_equal(adj_in_get(in[i], &p), model_in[i]);
			npaths -= model_loc[i] != NULL;
		}
		assert_int_equal(npaths, 0);
		assert_int_equal(loc_rib_best(d, &best), has_fold);
		if (has_fold) {
			assert_ptr_equal(best.owner, fold.owner);
			assert_ptr_equal(best.attr, fold.attr);
		}
	}
	for (int i = 0; i < 12; i++)
		adj_in_free(in[i], r);
	loc_rib_free(L, r);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(x[i]->refs, 1);
		rib_attr_unref(r, x[i]);
		bgp_attrs_free(&a[i]);
	}
	rib_free(r);
}

static uint64_t
attrs_hash_here(void)
{
	struct rib *r = rib_new();
	struct bgp_attrs a;
	struct rib_attr *x;
	uint64_t h;

	make_attrs(&a, 64555);
	x = rib_attr_intern(r, &a);
	h = x->node.hash;
	rib_attr_unref(r, x);
	bgp_attrs_free(&a);
	rib_free(r);
	return h;
}

/* The same, in a new process: this test binary run again with --hash. */
static uint64_t
hash_in_child(void)
{
	char exe[4096], cmd[4200], line[64] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;

	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd), "'%s' --hash", exe);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(pclose(f), 0);
	return strtoull(line, NULL, 16);
}

/*
 * Hash flooding: the tables' hash is keyed per process from the OS random
 * source, so the same attribute set hashes differently in two processes (a
 * peer cannot precompute colliding keys), and consistently within one.
 */
static void
test_hash_keyed_per_process(void **state)
{
	struct rib *r = rib_new(), *r2 = rib_new();
	struct bgp_attrs a;
	struct rib_attr *x, *y;
	uint64_t c1, c2;

	(void)state;
	make_attrs(&a, 64555);
	x = rib_attr_intern(r, &a);
	y = rib_attr_intern(r2, &a);
	assert_true(x->node.hash == y->node.hash);
	assert_true(attrs_hash_here() == x->node.hash);
	c1 = hash_in_child();
	c2 = hash_in_child();
	assert_true(c1 != x->node.hash);
	assert_true(c2 != x->node.hash);
	assert_true(c1 != c2);
	rib_attr_unref(r, x);
	rib_attr_unref(r2, y);
	bgp_attrs_free(&a);
	rib_free(r);
	rib_free(r2);
}

/*
 * The import's one lookup a prefix: adj_in_set_dest leaves the destination it
 * set (the one loc_rib_get finds), or NULL once its last record went; the Loc-RIB
 * change made there is the one a lookup would make, down to dropping the
 * destination when its last path goes.
 */
static void
test_set_at_dest(void **state)
{
	static const int peer;
	struct rib *r = rib_new();
	struct loc_rib *L = loc_rib_new();
	struct adj_in *in = adj_in_new(L, &peer, RIB_ADJ_IN);
	struct rib_source src = {.ebgp = true, .peer_as = 65001, .router_id = 1};
	struct bgp_attrs a;
	struct rib_attr *x;
	const struct rib_dest *d = NULL;
	struct prefix p = pfx(7), q = pfx(8);
	struct rib_path best;
	bool had;

	(void)state;
	make_attrs(&a, 64555);
	x = rib_attr_intern(r, &a);
	/* Nothing there, nothing withdrawn: no destination. */
	assert_int_equal(adj_in_set_dest(in, r, &p, NULL, &d), 0);
	assert_null(d);
	assert_false(loc_rib_set_at(L, r, d, &p, &peer, NULL, NULL, &had));
	assert_false(had);
	/* Announced: the destination made for the Adj-RIB-In takes the path. */
	assert_int_equal(adj_in_set_dest(in, r, &p, x, &d), 1);
	assert_non_null(d);
	assert_ptr_equal(d, loc_rib_get(L, &p));
	assert_true(loc_rib_set_at(L, r, d, &p, &peer, &src, x, &had));
	assert_false(had);
	assert_true(loc_rib_best(loc_rib_get(L, &p), &best));
	assert_ptr_equal(best.attr, x);
	assert_int_equal(loc_rib_count(L), 1);
	/* Withdrawn: the Adj-RIB-In's record goes first, the path stays until the
	 * Loc-RIB is told, then the destination goes with it. */
	assert_int_equal(adj_in_set_dest(in, r, &p, NULL, &d), 1);
	assert_ptr_equal(d, loc_rib_get(L, &p));
	assert_true(loc_rib_set_at(L, r, d, &p, &peer, NULL, NULL, &had));
	assert_true(had);
	assert_null(loc_rib_get(L, &p));
	assert_int_equal(loc_rib_count(L), 0);
	/* Only in the Adj-RIB-In (never a path): its withdrawal drops the destination. */
	assert_int_equal(adj_in_set_dest(in, r, &q, x, &d), 1);
	assert_non_null(d);
	assert_int_equal(adj_in_set_dest(in, r, &q, NULL, &d), 1);
	assert_null(d);
	assert_null(loc_rib_get(L, &q));
	/* NULL for a destination not looked up: loc_rib_set_at looks it up. */
	assert_int_equal(adj_in_set(in, r, &q, x), 1);
	assert_true(loc_rib_set_at(L, r, NULL, &q, &peer, &src, x, &had));
	assert_int_equal(loc_rib_count(L), 1);
	assert_true(loc_rib_set(L, r, &q, &peer, NULL, NULL, &had));
	assert_true(had);
	adj_in_free(in, r);
	loc_rib_free(L, r);
	rib_attr_unref(r, x);
	bgp_attrs_free(&a);
	rib_free(r);
}

/* A destination's hash: its link is the first thing in it (rib.c). */
static uint32_t
dest_hash(const struct loc_rib *L, const struct prefix *p)
{
	const struct rib_dest *d = loc_rib_get(L, p);

	assert_non_null(d);
	return ((const struct rib_hnode *)(const void *)d)->hash;
}

static struct prefix
v4(uint32_t a, uint8_t len)
{
	return (struct prefix){.addr = {.family = AF_INET, .b = {(uint8_t)(a >> 24), (uint8_t)(a >> 16),
								 (uint8_t)(a >> 8), (uint8_t)a}},
			       .len = len};
}

/*
 * The 256 prefixes that differ only in their last 8 bits take consecutive hash
 * values (adjacent buckets: a table sent in order walks them a cache line at a
 * time), at any length and alignment and in both families; where such a run
 * starts is the keyed hash's, and everything is still found after the table grew.
 */
static void
test_prefix_hash_runs(void **state)
{
	struct rib *r = rib_new();
	struct loc_rib *L = loc_rib_new();
	static const int owner;
	struct adj_in *t = adj_in_new(L, &owner, RIB_ADJ_IN);
	struct bgp_attrs a;
	struct rib_attr *x;
	struct prefix p[4][256], q;
	uint32_t h0[4];

	(void)state;
	make_attrs(&a, 64555);
	x = rib_attr_intern(r, &a);
	for (uint32_t k = 0; k < 256; k++) {
		p[0][k] = v4(0x0a010000 | k << 8, 24);          /* 10.1.k.0/24 */
		p[1][k] = v4(0x0a020000 | k << 8, 24);          /* 10.2.k.0/24 */
		p[2][k] = v4(0x0a000000 | k << 11, 21);         /* the run across a byte */
		p[3][k] = (struct prefix){.addr = {.family = AF_INET6,
						   .b = {0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)k}},
					  .len = 48};
		for (int j = 0; j < 4; j++)
			assert_int_equal(adj_in_set(t, r, &p[j][k], x), 1);
	}
	for (int j = 0; j < 4; j++) {
		h0[j] = dest_hash(L, &p[j][0]);
		for (uint32_t k = 0; k < 256; k++) {
			assert_int_equal(dest_hash(L, &p[j][k]) - h0[j], k);
			assert_ptr_equal(adj_in_get(t, &p[j][k]), x);
		}
	}
	/* Neighbouring runs are not neighbours in the table. */
	assert_true(h0[1] - h0[0] != 256);
	/* Another length is another run. */
	q = v4(0x0a010000, 23);
	assert_int_equal(adj_in_set(t, r, &q, x), 1);
	assert_true(dest_hash(L, &q) != h0[0]);
	assert_int_equal(adj_in_count(t), 4 * 256 + 1);
	adj_in_free(t, r);
	loc_rib_free(L, r);
	rib_attr_unref(r, x);
	bgp_attrs_free(&a);
	rib_free(r);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interning),
		cmocka_unit_test(test_adj_in),
		cmocka_unit_test(test_shared_dest),
		cmocka_unit_test(test_many_owners),
		cmocka_unit_test(test_compact_prefixes),
		cmocka_unit_test(test_best_is_the_fold),
		cmocka_unit_test(test_hash_keyed_per_process),
		cmocka_unit_test(test_prefix_hash_runs),
		cmocka_unit_test(test_set_at_dest),
	};

	if (argc == 2 && strcmp(argv[1], "--hash") == 0) {
		printf("%llx\n", (unsigned long long)attrs_hash_here());
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
