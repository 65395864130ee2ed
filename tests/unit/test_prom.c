/* lib/prom: the exposition text, label escaping, histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/prom.h"

static void
test_family_and_samples(void **state)
{
	struct prom p;
	struct prom_labels l = {{"peer", "why"}, {"192.0.2.1", "a \"quoted\"\\ line\nbreak"}, 2};

	(void)state;
	prom_init(&p);
	prom_family(&p, "tabby_x_total", PROM_COUNTER, "Help with a \\ and\na newline.");
	prom_sample_u64(&p, "tabby_x_total", &l, 18446744073709551615ull);
	prom_sample(&p, "tabby_y", NULL, 0.5);
	prom_sample(&p, "tabby_y", NULL, 3);
	assert_string_equal(
	    p.buf, "# HELP tabby_x_total Help with a \\\\ and\\na newline.\n"
		   "# TYPE tabby_x_total counter\n"
		   "tabby_x_total{peer=\"192.0.2.1\",why=\"a \\\"quoted\\\"\\\\ line\\nbreak\"} "
		   "18446744073709551615\n"
		   "tabby_y 0.5\n"
		   "tabby_y 3\n");
	prom_free(&p);
}

static void
test_histogram(void **state)
{
	static const double b[] = {0.1, 1};
	struct prom_hist h = {0};
	struct prom_labels l = {{"route"}, {"/v1/x"}, 1};
	struct prom p;

	(void)state;
	prom_hist_observe(&h, b, 2, 0.05);
	prom_hist_observe(&h, b, 2, 0.1); /* le is inclusive */
	prom_hist_observe(&h, b, 2, 0.5);
	prom_hist_observe(&h, b, 2, 7);
	prom_init(&p);
	prom_hist_write(&p, "tabby_d_seconds", &l, &h, b, 2);
	assert_string_equal(p.buf, "tabby_d_seconds_bucket{route=\"/v1/x\",le=\"0.1\"} 2\n"
				   "tabby_d_seconds_bucket{route=\"/v1/x\",le=\"1\"} 3\n"
				   "tabby_d_seconds_bucket{route=\"/v1/x\",le=\"+Inf\"} 4\n"
				   "tabby_d_seconds_sum{route=\"/v1/x\"} 7.6500000000000004\n"
				   "tabby_d_seconds_count{route=\"/v1/x\"} 4\n");
	prom_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family_and_samples),
	    cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
