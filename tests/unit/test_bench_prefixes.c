/* The benchmark's prefix numbering: the sink's exact check stands on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "lib/err.h"
#include "prefixes.h"

#define COUNT 1200000u   /* more than the largest session's M, across 8-length cycles */

static void
round_trip(int family, unsigned full)
{
	unsigned per_len[129] = {0};
	struct prefix p;
	uint32_t back;

	for (uint32_t i = 0; i < COUNT; i++) {
		bench_prefix(family, i, &p);
		assert_int_equal(p.addr.family, family);
		/* index(prefix(i)) == i for every i: no two indices share a prefix */
		assert_true(bench_prefix_index(&p, &back));
		assert_int_equal(back, i);
		per_len[p.len]++;
	}
	assert_int_equal(per_len[full], COUNT - COUNT / 50);
	for (unsigned l = full - 8; l < full; l++)
		assert_int_equal(per_len[l], COUNT / 50 / 8);
}

static void
test_ipv4(void **state)
{
	(void)state;
	round_trip(AF_INET, 24);
}

static void
test_ipv6(void **state)
{
	(void)state;
	round_trip(AF_INET6, 48);
}

static void
not_ours(const char *text)
{
	struct prefix p;
	struct err err;
	uint32_t i;

	assert_int_equal(prefix_parse(text, &p, &err), 0);
	assert_false(bench_prefix_index(&p, &i));
}

static void
test_first_and_foreign(void **state)
{
	struct prefix p, q;
	struct err err;
	uint32_t i;

	(void)state;
	bench_prefix(AF_INET, 0, &p);
	assert_int_equal(prefix_parse("1.0.0.0/24", &q, &err), 0);
	assert_int_equal(prefix_cmp(&p, &q), 0);
	bench_prefix(AF_INET6, 0, &p);
	assert_int_equal(prefix_parse("2a00:1::/48", &q, &err), 0);
	assert_int_equal(prefix_cmp(&p, &q), 0);
	assert_true(bench_prefix_index(&q, &i));
	assert_int_equal(i, 0);
	not_ours("0.255.255.0/24");    /* below the first word */
	not_ours("1.0.0.0/25");        /* longer than any */
	not_ours("1.0.0.0/15");        /* shorter than any */
	not_ours("1.0.0.0/23");        /* a length no index near it has */
	not_ours("10.0.0.0/8");
	not_ours("2a01:1::/48");       /* another /16 */
	not_ours("2a00:1:0:1::/64");   /* bits beyond the word */
	not_ours("2a00:1::/64");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_first_and_foreign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
