/*
 * What store_sigkill.sh cannot show: that a commit reaches the disk, not only the OS.
 * Every SQLite connection the store opens (seen through sqlite3_auto_extension, so no
 * hook in the store itself) must run in WAL mode with synchronous=FULL: in WAL mode
 * anything less may lose the last commits on power loss, which a SIGKILL never shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define MAX_CONNS 32

static struct {
	sqlite3 *db;
	int closed;
} conns[MAX_CONNS];
static int nconns;

static int
on_close(unsigned type, void *ctx, void *p, void *x)
{
	(void)type;
	(void)p;
	(void)x;
	conns[(intptr_t)ctx].closed = 1;
	return 0;
}

/* Called by SQLite for each new connection of this process. */
static int
on_open(sqlite3 *db, const char **errmsg, const void *api)
{
	(void)errmsg;
	(void)api;
	if (nconns < MAX_CONNS) {
		conns[nconns].db = db;
		sqlite3_trace_v2(db, SQLITE_TRACE_CLOSE, on_close, (void *)(intptr_t)nconns);
		nconns++;
	}
	return SQLITE_OK;
}

static void
pragma(sqlite3 *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void
test_wal_and_synchronous_full(void **state)
{
	char dir[64], url[128], val[32];
	struct store *s;
	struct store_watch *w;
	struct store_kvs kvs = {0};
	struct err err;
	int live = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tabby-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	assert_int_equal(sqlite3_auto_extension((void (*)(void))on_open), SQLITE_OK);
	/* Whatever the store opens to write, read and watch. */
	assert_int_equal(store_open(&s, url, &err), STORE_OK);
	assert_int_equal(store_put(s, "/tabby/v1/test/a", "1", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_range(s, "/tabby/v1/test/", &kvs, &err), STORE_OK);
	store_kvs_free(&kvs);
	assert_int_equal(store_watch_open(s, "/tabby/v1/", 0, &w, &err), STORE_OK);
	assert_true(nconns > 0);
	for (int i = 0; i < nconns; i++) {
		if (conns[i].closed)
			continue;
		live++;
		pragma(conns[i].db, "PRAGMA journal_mode", val, sizeof(val));
		assert_string_equal(val, "wal");
		/* 2 is FULL, 3 EXTRA (stronger still). */
		pragma(conns[i].db, "PRAGMA synchronous", val, sizeof(val));
		if (strcmp(val, "2") != 0 && strcmp(val, "3") != 0)
			fail_msg("connection %d runs with synchronous=%s, not FULL (2)", i, val);
	}
	print_message("%d connections, %d open, all WAL with synchronous=FULL\n", nconns, live);
	assert_true(live > 0);
	store_watch_close(w);
	store_close(s);
	sqlite3_reset_auto_extension();
	snprintf(url, sizeof(url), "rm -rf %s", dir);
	assert_int_equal(system(url), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_and_synchronous_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
