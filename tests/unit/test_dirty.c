/* A session's pending prefixes: packed per family, compacted into prefix order, taken in chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/dirty.h"

static struct prefix
pfx(const char *s)
{
	struct prefix p;
	struct err err;

	assert_int_equal(prefix_parse(s, &p, &err), 0);
	return p;
}

/* What goes in comes out, in order, in chunks. */
static void
test_round_trip(void **state)
{
	const char *in[] = {"192.0.2.0/24", "10.0.0.0/8", "198.51.100.128/25", "0.0.0.0/0"};
	struct dirty d = {0};
	struct prefix out[4];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct prefix p = pfx(in[i]);

		dirty_push(&d, &p);
	}
	assert_int_equal(dirty_pending(&d), 4);
	assert_int_equal(dirty_take(&d, out, 3), 3);
	assert_int_equal(dirty_pending(&d), 1);
	assert_int_equal(dirty_take(&d, out + 3, 3), 1);
	for (size_t i = 0; i < 4; i++) {
		struct prefix want = pfx(in[i]);

		assert_int_equal(prefix_cmp(&out[i], &want), 0);
		assert_int_equal(out[i].addr.family, AF_INET);
	}
	assert_int_equal(dirty_pending(&d), 0);
	dirty_free(&d);
}

static int
qcmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

/*
 * A fold sorts the pending part in prefix_cmp's order (shorter first at one
 * address) and keeps one of each, for IPv4 and IPv6 alike; what was judged
 * before it is gone.
 */
static void
test_compact_order(void **state)
{
	const char *v4[] = {"10.0.0.0/16", "10.0.0.0/8", "9.255.0.0/16", "10.0.0.0/8", "192.0.2.0/24"};
	const char *v6[] = {"2001:db8::/48", "2001:db8::/32", "2001:db8:1::/48", "2001:db8::/32",
			    "::/0"};
	const char **sets[] = {v4, v6};

	(void)state;
	for (int s = 0; s < 2; s++) {
		struct dirty d = {0};
		struct prefix want[5], got[5], junk;
		size_t n;

		for (size_t i = 0; i < 5; i++) {
			want[i] = pfx(sets[s][i]);
			dirty_push(&d, &want[i]);
		}
		/* One judged already: the fold leaves the other four, three distinct. */
		assert_int_equal(dirty_take(&d, &junk, 1), 1);
		dirty_compact(&d);
		assert_int_equal(d.floor, 3);
		n = dirty_take(&d, got, 5);
		assert_int_equal(n, 3);
		qsort(want + 1, 4, sizeof(want[0]), qcmp);
		/* want[1..4] sorted holds one repeat: drop it. */
		for (size_t i = 1, k = 0; i < 5; i++)
			if (i == 1 || prefix_cmp(&want[i], &want[i - 1]) != 0)
				assert_int_equal(prefix_cmp(&got[k++], &want[i]), 0);
		dirty_free(&d);
	}
}

/*
 * A folded list against qsort with prefix_cmp: it holds want[0..m) sorted, once each
 * (want is sorted here). How many it held.
 */
static size_t
assert_folded(struct dirty *d, struct prefix *want, size_t m)
{
	struct prefix *got = calloc(m ? m : 1, sizeof(*got));
	size_t n = dirty_take(d, got, m), k = 0;

	qsort(want, m, sizeof(*want), qcmp);
	for (size_t i = 0; i < m; i++) {
		if (i > 0 && prefix_cmp(&want[i], &want[i - 1]) == 0)
			continue;
		assert_true(k < n);
		assert_int_equal(prefix_cmp(&got[k], &want[i]), 0);
		k++;
	}
	assert_int_equal(k, n);
	assert_int_equal(d->floor, n);
	free(got);
	return n;
}

/* Random prefix i of a family, of length 0-maxlen; every 4th one of a few, repeated often. */
static void
random_prefix(int family, unsigned maxlen, size_t i, struct prefix *p)
{
	unsigned bits = family == AF_INET ? 32 : 128, len = (unsigned)rand() % (maxlen + 1);

	memset(p, 0, sizeof(*p));
	p->addr.family = family;
	p->len = (uint8_t)len;
	for (unsigned b = 0; b < bits / 8; b++)
		p->addr.b[b] = (uint8_t)rand();
	if (i % 4 == 0)  /* collisions: the same few prefixes again */
		for (unsigned b = 1; b < bits / 8 - 1; b++)
			p->addr.b[b] = 0;
	for (unsigned b = 0; b < bits / 8; b++) {
		unsigned keep = len > 8 * b ? len - 8 * b : 0;

		if (keep < 8)
			p->addr.b[b] &= (uint8_t)(0xff00u >> keep);
	}
}

/*
 * The folds (radix sorts: IPv4 keys and IPv6 ones up to /56 as integers, other
 * IPv6 ones a byte at a time) against qsort with prefix_cmp: many random
 * prefixes, a few repeated often (as a churning table makes them), in one
 * order. The last case turns an IPv6 list of integers into 17-byte keys halfway,
 * after part of it was judged and folded.
 */
static void
test_compact_random(void **state)
{
	enum { N = 20000 };
	const struct {
		int family;
		unsigned maxlen, later;   /* from N/2 on: prefixes up to later */
	} cases[] = {
		{AF_INET, 32, 32}, {AF_INET6, 56, 56}, {AF_INET6, 128, 128}, {AF_INET6, 56, 128},
	};

	(void)state;
	srand(7);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct prefix *in = calloc(N, sizeof(*in)), junk[10];
		struct dirty d = {0};
		size_t n, m = 0;

		for (size_t i = 0; i < N; i++) {
			random_prefix(cases[c].family, i < N / 2 ? cases[c].maxlen : cases[c].later, i,
				      &in[i]);
			if (i == N / 2) {
				/* Ten judged, the rest folded: what was pushed so far of those ten
				 * is not pending any more. */
				dirty_compact(&d);
				assert_int_equal(dirty_take(&d, junk, 10), 10);
				for (size_t j = 0; j < i; j++)
					for (size_t t = 0; t < 10; t++)
						if (prefix_cmp(&in[j], &junk[t]) == 0)
							in[j].len = 255;   /* dropped below */
			}
			dirty_push(&d, &in[i]);
		}
		dirty_compact(&d);
		for (size_t i = 0; i < N; i++)
			if (in[i].len != 255)
				in[m++] = in[i];
		n = assert_folded(&d, in, m);
		assert_true(n < m);  /* the repeats were folded */
		dirty_free(&d);
		free(in);
	}
}

/*
 * Keys in a few ascending runs (a table sent in order; a churn that withdraws
 * prefixes in order and announces them again) are merged, not radix-sorted:
 * one to five runs (five: the radix sort again), overlapping and with repeats,
 * for IPv4 and IPv6, against qsort with prefix_cmp.
 */
static void
test_compact_runs(void **state)
{
	enum { N = 6000 };
	const int families[] = {AF_INET, AF_INET6};

	(void)state;
	srand(11);
	for (size_t f = 0; f < 2; f++)
		for (size_t runs = 1; runs <= 5; runs++) {
			struct prefix *in = calloc(N, sizeof(*in));
			struct dirty d = {0};
			size_t per = N / runs;

			for (size_t i = 0; i < N; i++)
				random_prefix(families[f], families[f] == AF_INET ? 32 : 56, i, &in[i]);
			/* The second run repeats the first one's prefixes (a churn's shape). */
			if (runs > 1)
				memcpy(in + per, in, per * sizeof(*in));
			for (size_t r = 0; r < runs; r++)
				qsort(in + r * per, r + 1 == runs ? N - r * per : per, sizeof(*in), qcmp);
			for (size_t i = 0; i < N; i++)
				dirty_push(&d, &in[i]);
			dirty_compact(&d);
			assert_folded(&d, in, N);
			dirty_free(&d);
			free(in);
		}
}

/* Emptied, the list takes prefixes again; freed, it may take another family. */
static void
test_clear_and_reuse(void **state)
{
	struct dirty d = {0};
	struct prefix a = pfx("192.0.2.0/24"), b = pfx("2001:db8::/32"), out;

	(void)state;
	for (int i = 0; i < 5000; i++)
		dirty_push(&d, &a);
	dirty_clear(&d);
	assert_int_equal(dirty_pending(&d), 0);
	dirty_push(&d, &a);
	assert_int_equal(dirty_take(&d, &out, 1), 1);
	assert_int_equal(prefix_cmp(&out, &a), 0);
	dirty_free(&d);
	dirty_push(&d, &b);
	assert_int_equal(dirty_take(&d, &out, 1), 1);
	assert_int_equal(prefix_cmp(&out, &b), 0);
	dirty_free(&d);
}

/*
 * A pass that new changes keep extending (a full table arriving while it goes
 * out): the list holds what is pending, not every change since it was empty,
 * and every prefix comes out once, in arrival order, across the moves.
 */
static void
test_taken_part_dropped(void **state)
{
	enum { N = 200000, CHUNK = 8192 };
	struct prefix *out = calloc(CHUNK, sizeof(*out));
	struct dirty d = {0};
	uint32_t next_in = 0, next_out = 0;

	(void)state;
	assert_non_null(out);
	while (next_out < N) {
		/* A chunk's worth arrives, then a chunk is judged. */
		for (int i = 0; i < CHUNK && next_in < N; i++, next_in++) {
			struct prefix p = {.addr.family = AF_INET, .len = 24};

			p.addr.b[0] = (uint8_t)(next_in >> 16);
			p.addr.b[1] = (uint8_t)(next_in >> 8);
			p.addr.b[2] = (uint8_t)next_in;
			dirty_push(&d, &p);
		}
		size_t n = dirty_take(&d, out, CHUNK);

		for (size_t i = 0; i < n; i++, next_out++) {
			uint32_t got = (uint32_t)out[i].addr.b[0] << 16 | (uint32_t)out[i].addr.b[1] << 8 |
				       out[i].addr.b[2];

			assert_int_equal(got, next_out);
		}
		assert_true(d.cap <= 4 * CHUNK);
	}
	assert_int_equal(dirty_pending(&d), 0);
	dirty_free(&d);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_compact_order),
		cmocka_unit_test(test_compact_random),
		cmocka_unit_test(test_compact_runs),
		cmocka_unit_test(test_clear_and_reuse),
		cmocka_unit_test(test_taken_part_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
