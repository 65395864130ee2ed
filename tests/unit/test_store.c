/* The datastore's etcd semantics, on the SQLite backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

struct fx {
	char dir[64];
	char url[128];
	struct store *s;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err err;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tabby-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->url, sizeof(f->url), "sqlite:%s/sub/dir/t.db", f->dir);
	if (store_open(&f->s, f->url, &err) != STORE_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t
current_rev(struct store *s)
{
	struct store_kvs kvs;
	struct err err;
	int64_t rev;

	assert_int_equal(store_range(s, "/none/", &kvs, &err), STORE_OK);
	rev = kvs.rev;
	store_kvs_free(&kvs);
	return rev;
}

static void
test_file_created_0600_in_new_dirs(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	char path[160];

	snprintf(path, sizeof(path), "%s/sub/dir/t.db", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/sub", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
}

static void
test_put_get_revisions(void **state)
{
	struct fx *f = *state;
	struct store_kv kv;
	struct err err;
	int64_t r1, r2, r3;

	assert_int_equal(current_rev(f->s), 0);
	assert_int_equal(store_put(f->s, "/a/x", "{\"v\":1}", 0, &r1, &err), STORE_OK);
	assert_int_equal(r1, 1);
	assert_int_equal(store_put(f->s, "/a/y", "{}", 0, &r2, &err), STORE_OK);
	assert_int_equal(r2, 2);
	assert_int_equal(store_put(f->s, "/a/x", "{\"v\":2}", 0, &r3, &err), STORE_OK);
	assert_int_equal(r3, 3);

	assert_int_equal(store_get(f->s, "/a/x", &kv, &err), STORE_OK);
	assert_string_equal(kv.key, "/a/x");
	assert_string_equal(kv.value, "{\"v\":2}");
	assert_int_equal(kv.create_rev, 1);
	assert_int_equal(kv.mod_rev, 3);
	assert_int_equal(kv.version, 2);
	assert_int_equal(kv.lease, 0);
	store_kv_clear(&kv);
	assert_int_equal(store_get(f->s, "/a/zz", &kv, &err), STORE_NOTFOUND);
}

static void
test_range_prefix_sorted(void **state)
{
	struct fx *f = *state;
	const char *keys[] = {"/p/b", "/p/a", "/p/c/d", "/pa", "/o", "/p"};
	struct store_kvs kvs;
	struct err err;

	for (size_t i = 0; i < 6; i++)
		assert_int_equal(store_put(f->s, keys[i], "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_range(f->s, "/p/", &kvs, &err), STORE_OK);
	assert_int_equal(kvs.n, 3);
	assert_string_equal(kvs.v[0].key, "/p/a");
	assert_string_equal(kvs.v[1].key, "/p/b");
	assert_string_equal(kvs.v[2].key, "/p/c/d");
	assert_int_equal(kvs.rev, 6);
	store_kvs_free(&kvs);
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	struct store_kvs kvs;
	struct err err;

	assert_int_equal(store_put(f->s, "/d/1", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/d/2", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/e/1", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_delete(f->s, "/d/1", &err), STORE_OK);
	assert_int_equal(current_rev(f->s), 4);
	/* Deleting nothing does not move the revision (as in etcd). */
	assert_int_equal(store_delete(f->s, "/d/1", &err), STORE_NOTFOUND);
	assert_int_equal(current_rev(f->s), 4);
	assert_int_equal(store_delete_prefix(f->s, "/d/", &err), STORE_OK);
	assert_int_equal(store_delete_prefix(f->s, "/d/", &err), STORE_NOTFOUND);
	assert_int_equal(store_range(f->s, "/", &kvs, &err), STORE_OK);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.v[0].key, "/e/1");
	store_kvs_free(&kvs);
}

static void
test_txn_compare(void **state)
{
	struct fx *f = *state;
	struct store_cmp cmp = {.key = "/t/k", .mod_rev = 0};
	struct store_op ops[2] = {
		{.type = STORE_OP_PUT, .key = "/t/k", .value = "{\"n\":1}"},
		{.type = STORE_OP_PUT, .key = "/t/other", .value = "{}"},
	};
	struct store_txn t = {.cmps = &cmp, .ncmps = 1, .ops = ops, .nops = 2};
	struct store_txn_res res;
	struct store_kv kv;
	struct err err;

	/* "absent" holds: both puts apply in one revision. */
	assert_int_equal(store_txn(f->s, &t, &res, &err), STORE_OK);
	assert_int_equal(res.rev, 1);
	assert_int_equal(res.changed, 2);
	/* Now the key exists: the same transaction applies nothing. */
	assert_int_equal(store_txn(f->s, &t, &res, &err), STORE_FAILED);
	assert_int_equal(current_rev(f->s), 1);
	/* Comparing on the right mod revision applies. */
	cmp.mod_rev = 1;
	ops[0].value = "{\"n\":2}";
	t.nops = 1;
	assert_int_equal(store_txn(f->s, &t, &res, &err), STORE_OK);
	assert_int_equal(res.rev, 2);
	assert_int_equal(store_get(f->s, "/t/k", &kv, &err), STORE_OK);
	assert_string_equal(kv.value, "{\"n\":2}");
	store_kv_clear(&kv);
	/* A stale mod revision fails. */
	assert_int_equal(store_txn(f->s, &t, &res, &err), STORE_FAILED);
}

static void
test_bad_keys(void **state)
{
	struct fx *f = *state;
	struct err err;

	assert_int_equal(store_put(f->s, "", "{}", 0, NULL, &err), STORE_ERR);
	assert_int_equal(store_put(f->s, "/a b", "{}", 0, NULL, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "printable ASCII"));
	assert_int_equal(store_put(f->s, "/a\n", "{}", 0, NULL, &err), STORE_ERR);
	assert_int_equal(current_rev(f->s), 0);
}

static int
drain(struct store_watch *w, struct store_events *evs)
{
	struct err err;

	return store_watch_next(w, evs, &err);
}

static void
test_lease_expiry_and_events(void **state)
{
	struct fx *f = *state;
	struct store_watch *w;
	struct store_events evs = {0};
	struct store_kv kv;
	struct err err;
	int64_t lease;

	assert_int_equal(store_lease_grant(f->s, 1, &lease, &err), STORE_OK);
	assert_true(lease > 0);
	assert_int_equal(store_put(f->s, "/l/a", "{}", lease, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/l/b", "{}", lease, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/l/keep", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_watch_open(f->s, "/l/", 0, &w, &err), STORE_OK);
	assert_int_equal(store_get(f->s, "/l/a", &kv, &err), STORE_OK);
	assert_int_equal(kv.lease, lease);
	store_kv_clear(&kv);

	usleep(1200 * 1000);
	/* Any client's next call sweeps: both keys go in one revision, with delete events. */
	assert_int_equal(store_get(f->s, "/l/a", &kv, &err), STORE_NOTFOUND);
	assert_int_equal(store_get(f->s, "/l/keep", &kv, &err), STORE_OK);
	store_kv_clear(&kv);
	assert_int_equal(current_rev(f->s), 4);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 2);
	assert_int_equal(evs.v[0].type, STORE_EVENT_DELETE);
	assert_string_equal(evs.v[0].kv.key, "/l/a");
	assert_int_equal(evs.v[0].kv.mod_rev, 4);
	assert_string_equal(evs.v[1].kv.key, "/l/b");
	store_events_free(&evs);
	store_watch_close(w);

	/* The lease is gone with its keys. */
	assert_int_equal(store_lease_keepalive(f->s, lease, &err), STORE_NOTFOUND);
	assert_int_equal(store_put(f->s, "/l/c", "{}", lease, NULL, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "lease"));
}

static void
test_lease_keepalive_and_revoke(void **state)
{
	struct fx *f = *state;
	struct store_kv kv;
	struct err err;
	int64_t lease;

	assert_int_equal(store_lease_grant(f->s, 1, &lease, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/k/a", "{}", lease, NULL, &err), STORE_OK);
	for (int i = 0; i < 3; i++) {
		usleep(600 * 1000);
		assert_int_equal(store_lease_keepalive(f->s, lease, &err), STORE_OK);
	}
	assert_int_equal(store_get(f->s, "/k/a", &kv, &err), STORE_OK);
	store_kv_clear(&kv);
	assert_int_equal(store_lease_revoke(f->s, lease, &err), STORE_OK);
	assert_int_equal(store_get(f->s, "/k/a", &kv, &err), STORE_NOTFOUND);
	assert_int_equal(store_lease_grant(f->s, 0, &lease, &err), STORE_ERR);
}

static void
test_watch_history_and_prefix(void **state)
{
	struct fx *f = *state;
	struct store_watch *w;
	struct store_events evs = {0};
	struct err err;

	assert_int_equal(store_put(f->s, "/w/a", "{\"n\":1}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/x/a", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/w/a", "{\"n\":2}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_delete(f->s, "/w/a", &err), STORE_OK);

	/* From revision 2: the two later changes under /w/ only. */
	assert_int_equal(store_watch_open(f->s, "/w/", 2, &w, &err), STORE_OK);
	assert_int_equal(store_watch_fd(w), -1);
	assert_true(store_watch_interval_ms(w) > 0);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 2);
	assert_int_equal(evs.v[0].type, STORE_EVENT_PUT);
	assert_string_equal(evs.v[0].kv.value, "{\"n\":2}");
	assert_int_equal(evs.v[0].kv.mod_rev, 3);
	assert_int_equal(evs.v[0].kv.create_rev, 1);
	assert_int_equal(evs.v[0].kv.version, 2);
	assert_int_equal(evs.v[1].type, STORE_EVENT_DELETE);
	assert_null(evs.v[1].kv.value);
	assert_int_equal(evs.v[1].kv.mod_rev, 4);
	store_events_free(&evs);
	/* Nothing new: no events. */
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 0);
	assert_int_equal(store_put(f->s, "/w/b", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 1);
	assert_string_equal(evs.v[0].kv.key, "/w/b");
	store_events_free(&evs);
	store_watch_close(w);
}

/* Secrets keep no history: a watcher that was behind gets the newest event of each. */
static void
test_secret_keeps_no_history(void **state)
{
	struct fx *f = *state;
	const char *k = STORE_SECRET_PREFIX "t/a";
	struct store_watch *w;
	struct store_events evs = {0};
	struct err err;
	int64_t start = current_rev(f->s) + 1;

	assert_int_equal(store_put(f->s, k, "{\"key\":\"old-one\"}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/p/a", "{\"n\":1}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, k, "{\"key\":\"new-two\"}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/p/a", "{\"n\":2}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_watch_open(f->s, "/", start, &w, &err), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	/* Both puts of the plain key, only the newest of the secret. */
	assert_int_equal(evs.n, 3);
	assert_string_equal(evs.v[0].kv.key, "/p/a");
	assert_string_equal(evs.v[1].kv.key, k);
	assert_string_equal(evs.v[1].kv.value, "{\"key\":\"new-two\"}");
	assert_int_equal(evs.v[1].kv.version, 2);
	assert_string_equal(evs.v[2].kv.key, "/p/a");
	store_events_free(&evs);
	/* A delete leaves only the delete event. */
	assert_int_equal(store_delete(f->s, k, &err), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 1);
	assert_int_equal(evs.v[0].type, STORE_EVENT_DELETE);
	store_events_free(&evs);
	store_watch_close(w);
	assert_int_equal(store_watch_open(f->s, STORE_SECRET_PREFIX, start, &w, &err), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 1);
	assert_int_equal(evs.v[0].type, STORE_EVENT_DELETE);
	store_events_free(&evs);
	store_watch_close(w);
}

static void
test_watch_sees_other_connection(void **state)
{
	struct fx *f = *state;
	struct store *other;
	struct store_watch *w;
	struct store_events evs = {0};
	struct err err;

	assert_int_equal(store_open(&other, f->url, &err), STORE_OK);
	assert_int_equal(store_watch_open(f->s, "/c/", 0, &w, &err), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 0);
	/* A write by another connection (another process, in real life). */
	assert_int_equal(store_put(other, "/c/1", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 1);
	assert_string_equal(evs.v[0].kv.key, "/c/1");
	store_events_free(&evs);
	store_watch_close(w);
	store_close(other);
}

static void
test_watch_compacted(void **state)
{
	struct fx *f = *state;
	struct store_watch *w, *lagging;
	struct store_events evs = {0};
	struct err err;

	for (int i = 0; i < 10; i++)
		assert_int_equal(store_put(f->s, "/h/k", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_watch_open(f->s, "/h/", 3, &lagging, &err), STORE_OK);
	assert_int_equal(store_compact(f->s, 6, &err), STORE_OK);
	/* Asking for history before the compaction point fails... */
	assert_int_equal(store_watch_open(f->s, "/h/", 5, &w, &err), STORE_COMPACTED);
	assert_non_null(strstr(err.msg, "compacted"));
	/* ...so does a watcher that had not read it yet; it must re-read. */
	assert_int_equal(store_watch_next(lagging, &evs, &err), STORE_COMPACTED);
	store_watch_close(lagging);
	/* From the compaction point on, history is still there. */
	assert_int_equal(store_watch_open(f->s, "/h/", 6, &w, &err), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 5);
	store_events_free(&evs);
	store_watch_close(w);
	assert_int_equal(store_compact(f->s, 100, &err), STORE_ERR);
}

static void
test_watch_large_batches(void **state)
{
	struct fx *f = *state;
	struct store_op *ops = calloc(10000, sizeof(*ops));
	char (*keys)[32] = calloc(10000, 32);
	struct store_txn t = {.ops = ops, .nops = 10000};
	struct store_events evs = {0};
	struct store_watch *w;
	struct err err;
	int64_t got = 0;

	assert_int_equal(store_watch_open(f->s, "/big/", 0, &w, &err), STORE_OK);
	for (int i = 0; i < 10000; i++) {
		snprintf(keys[i], 32, "/big/%05d", i);
		ops[i] = (struct store_op){.type = STORE_OP_PUT, .key = keys[i], .value = "{}"};
	}
	/* One revision of 10,000 changes arrives over several calls, none lost. */
	assert_int_equal(store_txn(f->s, &t, NULL, &err), STORE_OK);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(drain(w, &evs), STORE_OK);
		got = (int64_t)evs.n;
	}
	assert_int_equal(got, 10000);
	assert_string_equal(evs.v[9999].kv.key, "/big/09999");
	store_events_free(&evs);
	store_watch_close(w);
	free(ops);
	free(keys);
}

static void
test_open_errors(void **state)
{
	struct fx *f = *state;
	struct store *s;
	struct err err;
	char url[200], path[160];
	int fd;

	assert_int_equal(store_open(&s, "mysql://x", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "accepted: sqlite:PATH"));
	assert_int_equal(store_open(&s, "sqlite:", &err), STORE_ERR);
	snprintf(url, sizeof(url), "sqlite:%s", f->dir);
	assert_int_equal(store_open(&s, url, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "is a directory"));

	/* A file that is not a database: a clear error, never a crash. */
	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(write(fd, "this is not a sqlite file at all", 32), 32);
	close(fd);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	assert_int_equal(store_open(&s, url, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "not a usable tabby datastore"));
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An event loop's handle: a write lock held elsewhere fails it fast; reads still work. */
static void
test_set_timeout_fails_fast(void **state)
{
	struct fx *f = *state;
	struct store_kv kv;
	struct err err;
	char path[160];
	sqlite3 *db;
	double t0;

	assert_int_equal(store_put(f->s, "/t/a", "{}", 0, NULL, &err), STORE_OK);
	snprintf(path, sizeof(path), "%s/sub/dir/t.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	store_set_timeout(f->s, 100);
	t0 = mono();
	assert_int_equal(store_put(f->s, "/t/b", "{}", 0, NULL, &err), STORE_ERR);
	assert_true(mono() - t0 < 2.0);
	assert_non_null(strstr(err.msg, "locked by another process for 100 ms"));
	assert_int_equal(store_get(f->s, "/t/a", &kv, &err), STORE_OK);
	store_kv_clear(&kv);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_put(f->s, "/t/b", "{}", 0, NULL, &err), STORE_OK);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_file_created_0600_in_new_dirs),
		T(test_put_get_revisions),
		T(test_range_prefix_sorted),
		T(test_delete),
		T(test_txn_compare),
		T(test_bad_keys),
		T(test_lease_expiry_and_events),
		T(test_lease_keepalive_and_revoke),
		T(test_watch_history_and_prefix),
		T(test_secret_keeps_no_history),
		T(test_watch_sees_other_connection),
		T(test_watch_compacted),
		T(test_watch_large_batches),
		T(test_open_errors),
		T(test_set_timeout_fails_fast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
