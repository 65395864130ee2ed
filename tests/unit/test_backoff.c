/* Retry back-off: 0.1 s doubling to 5 s, and how long it has been failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/backoff.h"

static void
test_doubling_to_the_cap(void **state)
{
	static const double want[] = {0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0};
	struct backoff b = {0};
	double now = 100;

	(void)state;
	assert_false(backoff_failing(&b));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		double d = backoff_next(&b, now);

		assert_float_equal(d, want[i], 1e-3);
		assert_true(backoff_failing(&b));
		now += d;
	}
	/* Failing since the first failure, at 100. */
	assert_float_equal(backoff_reset(&b, now), now - 100, 1e-3);
	assert_false(backoff_failing(&b));
	assert_float_equal(backoff_reset(&b, now + 1), 0, 1e-3);
	assert_float_equal(backoff_next(&b, now + 2), 0.1, 1e-3);
}

static void
test_other_bounds(void **state)
{
	struct backoff b = {.first = 1, .max = 3};

	(void)state;
	assert_float_equal(backoff_next(&b, 0), 1, 1e-3);
	assert_float_equal(backoff_next(&b, 1), 2, 1e-3);
	assert_float_equal(backoff_next(&b, 3), 3, 1e-3);
	assert_float_equal(backoff_next(&b, 6), 3, 1e-3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling_to_the_cap),
		cmocka_unit_test(test_other_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
