/* Grouping items by a pointer key: groups in key order (NULL first), items in order within. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/group.h"

struct item {
	int seq;               /* the item's place before grouping */
	const char *key;
	char pad[13];          /* an odd size: items are moved as bytes */
};

static char keys[64];

static void
fill(struct item *v, size_t n, unsigned nkeys, unsigned seed, bool with_null)
{
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		unsigned r = (unsigned)rand() % (nkeys + with_null);

		memset(&v[i], 0, sizeof(v[i]));
		v[i].seq = (int)i;
		/* Keys at descending addresses for ascending r: grouping must not keep first-seen order. */
		v[i].key = r == nkeys ? NULL : &keys[63 - r];
		memset(v[i].pad, (int)i, sizeof(v[i].pad));
	}
}

/* Sorted by key, then by seq: exactly a stable grouping in key order; nothing lost. */
static void
check(const struct item *v, size_t n)
{
	unsigned char *seen = calloc(n ? n : 1, 1);

	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].seq >= 0 && (size_t)v[i].seq < n);
		assert_false(seen[v[i].seq]);
		seen[v[i].seq] = 1;
		for (size_t b = 0; b < sizeof(v[i].pad); b++)
			assert_int_equal((unsigned char)v[i].pad[b], (unsigned char)v[i].seq);
		if (i == 0)
			continue;
		assert_true((uintptr_t)v[i - 1].key <= (uintptr_t)v[i].key);
		if (v[i - 1].key == v[i].key)
			assert_true(v[i - 1].seq < v[i].seq);
	}
	free(seen);
}

static void
test_small(void **state)
{
	struct item v[3];

	(void)state;
	group_by_key(v, 0, sizeof(v[0]), offsetof(struct item, key));
	fill(v, 1, 3, 1, true);
	group_by_key(v, 1, sizeof(v[0]), offsetof(struct item, key));
	assert_int_equal(v[0].seq, 0);
	fill(v, 3, 1, 2, false);
	group_by_key(v, 3, sizeof(v[0]), offsetof(struct item, key));
	check(v, 3);
	assert_int_equal(v[0].seq, 0);
	assert_int_equal(v[2].seq, 2);
}

/* Withdrawals (NULL) come first, whatever their places. */
static void
test_null_first(void **state)
{
	struct item v[4] = {
		{.seq = 0, .key = &keys[1]}, {.seq = 1, .key = NULL},
		{.seq = 2, .key = &keys[0]}, {.seq = 3, .key = NULL},
	};

	(void)state;
	for (int i = 0; i < 4; i++)
		memset(v[i].pad, i, sizeof(v[i].pad));
	group_by_key(v, 4, sizeof(v[0]), offsetof(struct item, key));
	check(v, 4);
	assert_int_equal(v[0].seq, 1);
	assert_int_equal(v[1].seq, 3);
	assert_int_equal(v[2].seq, 2);
	assert_int_equal(v[3].seq, 0);
}

/* A staged chunk's shapes: few keys, every item its own key, and the sizes between. */
static void
test_many(void **state)
{
	static const unsigned nkeys[] = {1, 2, 7, 63};
	static const size_t sizes[] = {2, 100, 8192, 20000};

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct item *v = malloc(sizes[s] * sizeof(*v));

		for (size_t k = 0; k < sizeof(nkeys) / sizeof(nkeys[0]); k++) {
			fill(v, sizes[s], nkeys[k], (unsigned)(s * 10 + k), k % 2 == 0);
			group_by_key(v, sizes[s], sizeof(*v), offsetof(struct item, key));
			check(v, sizes[s]);
		}
		free(v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_null_first),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
