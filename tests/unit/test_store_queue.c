/* The agent's coalescing write queue: order, latest wins, deletes, failures, memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "agent/store_queue.h"

static void
expect_op(const struct swq_op *op, const char *key, const char *value, bool leased)
{
	assert_string_equal(op->key, key);
	if (value == NULL)
		assert_null(op->value);
	else
		assert_string_equal(op->value, value);
	assert_int_equal(op->leased, leased);
}

static void
test_order_is_first_pending(void **state)
{
	struct swq *q = swq_new();
	struct swq_op v[8];

	(void)state;
	swq_put(q, "/a", "1", true);
	swq_put(q, "/b", "1", true);
	swq_put(q, "/c", "1", false);
	swq_put(q, "/a", "2", true); /* keeps /a's place: a busy key does not starve others */
	assert_int_equal(swq_pending(q), 3);
	assert_int_equal(swq_take(q, v, 8), 3);
	expect_op(&v[0], "/a", "2", true);
	expect_op(&v[1], "/b", "1", true);
	expect_op(&v[2], "/c", "1", false);
	swq_done(q, v, 3, true);
	assert_int_equal(swq_pending(q), 0);
	/* Pending again after a write: it goes to the back. */
	swq_put(q, "/b", "2", true);
	swq_put(q, "/a", "3", true);
	assert_int_equal(swq_take(q, v, 1), 1);
	expect_op(&v[0], "/b", "2", true);
	swq_done(q, v, 1, true);
	assert_int_equal(swq_take(q, v, 8), 1);
	expect_op(&v[0], "/a", "3", true);
	swq_done(q, v, 1, true);
	swq_free(q);
}

static void
test_latest_wins(void **state)
{
	struct swq *q = swq_new();
	struct swq_op v[4];
	char val[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(val, sizeof(val), "{\"n\":%d}", i);
		swq_put(q, "/k", val, true);
	}
	assert_int_equal(swq_pending(q), 1);
	assert_int_equal(swq_take(q, v, 4), 1);
	expect_op(&v[0], "/k", "{\"n\":999}", true);
	swq_done(q, v, 1, true);
	swq_free(q);
}

static void
test_delete_after_put_wins(void **state)
{
	struct swq *q = swq_new();
	struct swq_op v[4];

	(void)state;
	swq_put(q, "/k", "1", true);
	swq_delete(q, "/k");
	assert_int_equal(swq_take(q, v, 4), 1);
	expect_op(&v[0], "/k", NULL, false);
	swq_done(q, v, 1, true);
	/* A written delete is forgotten: nothing held for the key. */
	assert_int_equal(swq_keys(q), 0);
	assert_int_equal(swq_bytes(q), 0);
	/* And a put after a delete wins the same way. */
	swq_delete(q, "/k");
	swq_put(q, "/k", "2", true);
	assert_int_equal(swq_take(q, v, 4), 1);
	expect_op(&v[0], "/k", "2", true);
	swq_done(q, v, 1, true);
	swq_free(q);
}

static void
test_failed_batch_goes_back_first(void **state)
{
	struct swq *q = swq_new();
	struct swq_op v[4];

	(void)state;
	swq_put(q, "/a", "1", true);
	swq_put(q, "/b", "1", true);
	assert_int_equal(swq_take(q, v, 4), 2);
	swq_put(q, "/c", "1", true);
	swq_put(q, "/b", "2", true); /* changed while in flight: the newer one is pending */
	swq_done(q, v, 2, false);
	assert_int_equal(swq_pending(q), 3);
	assert_int_equal(swq_take(q, v, 4), 3);
	expect_op(&v[0], "/a", "1", true);
	expect_op(&v[1], "/c", "1", true);
	expect_op(&v[2], "/b", "2", true);
	swq_done(q, v, 3, true);
	/* A write that landed while the key changed again keeps the newer one pending. */
	swq_put(q, "/a", "2", true);
	assert_int_equal(swq_take(q, v, 4), 1);
	swq_delete(q, "/a");
	swq_done(q, v, 1, true);
	assert_int_equal(swq_take(q, v, 4), 1);
	expect_op(&v[0], "/a", NULL, false);
	swq_done(q, v, 1, true);
	swq_free(q);
}

static void
test_lease_lost_repends_live_leased_keys(void **state)
{
	struct swq *q = swq_new();
	struct swq_op v[8];

	(void)state;
	swq_put(q, "/agent", "a", true);
	swq_put(q, "/s1", "up", true);
	swq_put(q, "/s2", "up", true);
	swq_put(q, "/desired", "x", false);
	assert_int_equal(swq_take(q, v, 8), 4);
	swq_done(q, v, 4, true);
	swq_delete(q, "/s2");
	assert_int_equal(swq_take(q, v, 8), 1);
	swq_done(q, v, 1, true);
	swq_repend_leased(q);
	/* The live leased keys again, not the deleted one, not the unleased one. */
	assert_int_equal(swq_take(q, v, 8), 2);
	expect_op(&v[0], v[0].key[1] == 'a' ? "/agent" : "/s1", v[0].key[1] == 'a' ? "a" : "up",
		  true);
	expect_op(&v[1], v[1].key[1] == 'a' ? "/agent" : "/s1", v[1].key[1] == 'a' ? "a" : "up",
		  true);
	swq_done(q, v, 2, true);
	swq_free(q);
}

/* Memory follows the distinct keys, never the number of changes. */
static void
test_bounded_memory(void **state)
{
	struct swq *q = swq_new();
	struct swq_op v[64];
	char key[32], val[64];
	size_t bytes;

	(void)state;
	for (int k = 0; k < 50; k++) {
		snprintf(key, sizeof(key), "/status/s%02d", k);
		swq_put(q, key, "{\"state\":\"Established\",\"n\":000000}", true);
	}
	bytes = swq_bytes(q);
	/* 200,000 more changes, as a store locked for a long time would see them. */
	for (int i = 0; i < 200000; i++) {
		snprintf(key, sizeof(key), "/status/s%02d", i % 50);
		snprintf(val, sizeof(val), "{\"state\":\"Established\",\"n\":%06d}", i % 1000000);
		swq_put(q, key, val, true);
	}
	assert_int_equal(swq_keys(q), 50);
	assert_int_equal(swq_pending(q), 50);
	assert_int_equal(swq_bytes(q), bytes);
	assert_int_equal(swq_take(q, v, 64), 50);
	swq_done(q, v, 50, true);
	swq_free(q);
}

/* Many keys: the hash grows and every key is found again. */
static void
test_many_keys(void **state)
{
	struct swq *q = swq_new();
	struct swq_op v[256];
	char key[32];
	size_t got = 0, n;

	(void)state;
	for (int k = 0; k < 5000; k++) {
		snprintf(key, sizeof(key), "/k/%d", k);
		swq_put(q, key, "v", false);
	}
	for (int k = 0; k < 5000; k++) {
		snprintf(key, sizeof(key), "/k/%d", k);
		swq_delete(q, key);
	}
	assert_int_equal(swq_keys(q), 5000);
	while ((n = swq_take(q, v, 256)) > 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "/k/%zu", got + i);
			expect_op(&v[i], key, NULL, false);
		}
		got += n;
		swq_done(q, v, n, true);
	}
	assert_int_equal(got, 5000);
	assert_int_equal(swq_keys(q), 0);
	swq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_is_first_pending),
	    cmocka_unit_test(test_latest_wins),
	    cmocka_unit_test(test_delete_after_put_wins),
	    cmocka_unit_test(test_failed_batch_goes_back_first),
	    cmocka_unit_test(test_lease_lost_repends_live_leased_keys),
	    cmocka_unit_test(test_bounded_memory),
	    cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
