/*
 * The datastore's etcd semantics: one conformance suite for every backend.
 *   test_store           SQLite (a new file per test)
 *   test_store etcd      a real one-member etcd started here
 *   test_store etcd3     a real three-member etcd, plus the leader-kill test
 * Revisions are counted from the store's revision when each test starts, since
 * an etcd cluster is shared by the tests (each starts with no keys under /).
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <fcntl.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "etcd_cluster.h"
#include "store/store.h"
#include "tmp_store.h"

static const char *mode = "sqlite";
static struct etcd_cluster cluster;

struct fx {
	char dir[TMP_DIR_LEN];
	char url[300];
	struct store *s;
	bool sqlite;
	int64_t base; /* the store's revision when the test started */
};

static int64_t current_rev(struct store *s);

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err err;

	if (tmp_dir_make(f->dir) != 0)
		return -1;
	f->sqlite = strcmp(mode, "sqlite") == 0;
	if (f->sqlite)
		snprintf(f->url, sizeof(f->url), "sqlite:%s/sub/dir/t.db", f->dir);
	else
		snprintf(f->url, sizeof(f->url), "%s", cluster.url);
	if (store_open(&f->s, f->url, &err) != STORE_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	if (!f->sqlite && store_delete_prefix(f->s, "/", &err) == STORE_ERR) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	f->base = current_rev(f->s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int rc = tmp_store_close(f->s, f->dir);

	free(f);
	return rc;
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

	if (!f->sqlite)
		skip();
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

	int64_t b = f->base;

	assert_int_equal(store_put(f->s, "/a/x", "{\"v\":1}", 0, &r1, &err), STORE_OK);
	assert_int_equal(r1, b + 1);
	assert_int_equal(store_put(f->s, "/a/y", "{}", 0, &r2, &err), STORE_OK);
	assert_int_equal(r2, b + 2);
	assert_int_equal(store_put(f->s, "/a/x", "{\"v\":2}", 0, &r3, &err), STORE_OK);
	assert_int_equal(r3, b + 3);

	assert_int_equal(store_get(f->s, "/a/x", &kv, &err), STORE_OK);
	assert_string_equal(kv.key, "/a/x");
	assert_string_equal(kv.value, "{\"v\":2}");
	assert_int_equal(kv.create_rev, b + 1);
	assert_int_equal(kv.mod_rev, b + 3);
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
	assert_int_equal(kvs.rev, f->base + 6);
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
	assert_int_equal(current_rev(f->s), f->base + 4);
	/* Deleting nothing does not move the revision (as in etcd). */
	assert_int_equal(store_delete(f->s, "/d/1", &err), STORE_NOTFOUND);
	assert_int_equal(current_rev(f->s), f->base + 4);
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
	assert_int_equal(res.rev, f->base + 1);
	assert_int_equal(res.changed, 2);
	/* Now the key exists: the same transaction applies nothing. */
	assert_int_equal(store_txn(f->s, &t, &res, &err), STORE_FAILED);
	assert_int_equal(current_rev(f->s), f->base + 1);
	/* Comparing on the right mod revision applies. */
	cmp.mod_rev = f->base + 1;
	ops[0].value = "{\"n\":2}";
	t.nops = 1;
	assert_int_equal(store_txn(f->s, &t, &res, &err), STORE_OK);
	assert_int_equal(res.rev, f->base + 2);
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
	assert_int_equal(current_rev(f->s), f->base);
}

/*
 * Takes the watch's events until evs holds want of them (5 s at most), waiting
 * as the loop would: on the descriptor when there is one, else the interval.
 * want 0: whatever has come after a short settling time (a backend that
 * delivers from a thread gets the time to deliver what it should not).
 */
static int
drain_n(struct store_watch *w, struct store_events *evs, size_t want)
{
	struct err err;
	int rc = STORE_OK;

	for (int waited = 0; waited < 5000;) {
		struct pollfd pfd = {.fd = store_watch_fd(w), .events = POLLIN};
		int ms = store_watch_interval_ms(w);

		rc = store_watch_next(w, evs, &err);
		if (rc != STORE_OK || (want > 0 && evs->n >= want))
			break;
		if (want == 0 && waited >= 200)
			break;
		if (pfd.fd >= 0)
			poll(&pfd, 1, ms);
		else
			usleep((useconds_t)ms * 1000);
		waited += ms;
	}
	return rc;
}

static int
drain(struct store_watch *w, struct store_events *evs)
{
	return drain_n(w, evs, 0);
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

	/* etcd revokes expired leases on its own clock: up to 3 s for a 1 s lease. */
	for (int i = 0; i < 30; i++) {
		usleep(i == 0 ? 1100 * 1000 : 100 * 1000);
		if (store_get(f->s, "/l/a", &kv, &err) == STORE_NOTFOUND)
			break;
		store_kv_clear(&kv);
	}
	/* Any client's next call sweeps: both keys go in one revision, with delete events. */
	assert_int_equal(store_get(f->s, "/l/a", &kv, &err), STORE_NOTFOUND);
	assert_int_equal(store_get(f->s, "/l/keep", &kv, &err), STORE_OK);
	store_kv_clear(&kv);
	assert_int_equal(current_rev(f->s), f->base + 4);
	assert_int_equal(drain_n(w, &evs, 2), STORE_OK);
	assert_int_equal(evs.n, 2);
	assert_int_equal(evs.v[0].type, STORE_EVENT_DELETE);
	assert_string_equal(evs.v[0].kv.key, "/l/a");
	assert_int_equal(evs.v[0].kv.mod_rev, f->base + 4);
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
	assert_int_equal(store_watch_open(f->s, "/w/", f->base + 2, &w, &err), STORE_OK);
	/* SQLite is polled; etcd's stream thread signals a pipe. */
	assert_int_equal(store_watch_fd(w) >= 0, !f->sqlite);
	assert_true(store_watch_interval_ms(w) > 0);
	assert_int_equal(drain_n(w, &evs, 2), STORE_OK);
	assert_int_equal(evs.n, 2);
	assert_int_equal(evs.v[0].type, STORE_EVENT_PUT);
	assert_string_equal(evs.v[0].kv.value, "{\"n\":2}");
	assert_int_equal(evs.v[0].kv.mod_rev, f->base + 3);
	assert_int_equal(evs.v[0].kv.create_rev, f->base + 1);
	assert_int_equal(evs.v[0].kv.version, 2);
	assert_int_equal(evs.v[1].type, STORE_EVENT_DELETE);
	assert_null(evs.v[1].kv.value);
	assert_int_equal(evs.v[1].kv.mod_rev, f->base + 4);
	store_events_free(&evs);
	/* Nothing new: no events. */
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 0);
	assert_int_equal(store_put(f->s, "/w/b", "{}", 0, NULL, &err), STORE_OK);
	assert_int_equal(drain_n(w, &evs, 1), STORE_OK);
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
	if (!f->sqlite) {
		/* etcd: history is compacted to the last secret write; a watcher behind re-reads. */
		assert_int_equal(store_watch_open(f->s, "/", start, &w, &err), STORE_COMPACTED);
		assert_int_equal(store_watch_open(f->s, "/", start + 2, &w, &err), STORE_OK);
		assert_int_equal(drain_n(w, &evs, 2), STORE_OK);
		assert_int_equal(evs.n, 2);
		assert_string_equal(evs.v[0].kv.value, "{\"key\":\"new-two\"}");
		store_events_free(&evs);
		assert_int_equal(store_delete(f->s, k, &err), STORE_OK);
		assert_int_equal(drain_n(w, &evs, 1), STORE_OK);
		assert_int_equal(evs.n, 1);
		assert_int_equal(evs.v[0].type, STORE_EVENT_DELETE);
		store_events_free(&evs);
		store_watch_close(w);
		/* The delete compacted too: nothing before it can be watched. */
		assert_int_equal(store_watch_open(f->s, STORE_SECRET_PREFIX, start + 3, &w, &err),
				 STORE_COMPACTED);
		return;
	}
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
	assert_int_equal(drain_n(w, &evs, 1), STORE_OK);
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
	struct store_watch *w, *lagging = NULL;
	struct store_events evs = {0};
	struct err err;
	int64_t b = f->base;

	for (int i = 0; i < 10; i++)
		assert_int_equal(store_put(f->s, "/h/k", "{}", 0, NULL, &err), STORE_OK);
	/*
	 * A watcher that has not read the history yet. Only SQLite can hold one
	 * back: etcd streams it as soon as the watch is made.
	 */
	if (f->sqlite)
		assert_int_equal(store_watch_open(f->s, "/h/", b + 3, &lagging, &err), STORE_OK);
	assert_int_equal(store_compact(f->s, b + 6, &err), STORE_OK);
	/* Asking for history before the compaction point fails... */
	assert_int_equal(store_watch_open(f->s, "/h/", b + 5, &w, &err), STORE_COMPACTED);
	assert_non_null(strstr(err.msg, "compacted"));
	/* ...so does a watcher that had not read it yet; it must re-read. */
	if (f->sqlite) {
		assert_int_equal(store_watch_next(lagging, &evs, &err), STORE_COMPACTED);
		store_watch_close(lagging);
	}
	/* From the compaction point on, history is still there. */
	assert_int_equal(store_watch_open(f->s, "/h/", b + 6, &w, &err), STORE_OK);
	assert_int_equal(drain_n(w, &evs, 5), STORE_OK);
	assert_int_equal(drain(w, &evs), STORE_OK);
	assert_int_equal(evs.n, 5);
	store_events_free(&evs);
	store_watch_close(w);
	assert_int_equal(store_compact(f->s, b + 100, &err), STORE_ERR);
}

static void
test_watch_large_batches(void **state)
{
	struct fx *f = *state;
	struct store_op *ops = calloc(10000, sizeof(*ops));
	char(*keys)[32] = calloc(10000, 32);
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
		assert_int_equal(drain_n(w, &evs, 10000), STORE_OK);
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
	assert_non_null(strstr(err.msg, "etcd://HOST:PORT"));
	if (!f->sqlite)
		skip();
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

	if (!f->sqlite)
		skip();
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

/* etcd URLs and settings: refused with the reason before anything is sent. */
static void
test_etcd_url_errors(void **state)
{
	struct store *s;
	struct err err;

	(void)state;
	assert_int_equal(store_open(&s, "etcd:127.0.0.1:2379", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "expected etcd://HOST:PORT"));
	assert_int_equal(store_open(&s, "etcd://127.0.0.1", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "HOST:PORT"));
	assert_int_equal(store_open(&s, "etcd://h:1,h:99999", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "'h:99999'"));
	/* Credentials in the URL would show in ps. */
	assert_int_equal(store_open(&s, "etcd://root:pw@127.0.0.1:2379", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "TABBY_ETCD_USER"));
	assert_null(strstr(err.msg, "pw"));
	setenv("TABBY_ETCD_CA", "/nonexistent/ca.pem", 1);
	assert_int_equal(store_open(&s, "etcd://127.0.0.1:2379", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "etcds://"));
	unsetenv("TABBY_ETCD_CA");
	setenv("TABBY_ETCD_TIMEOUT_MS", "5", 1);
	assert_int_equal(store_open(&s, "etcd://127.0.0.1:2379", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "TABBY_ETCD_TIMEOUT_MS"));
	unsetenv("TABBY_ETCD_TIMEOUT_MS");
	setenv("TABBY_ETCD_USER", "tabby", 1);
	assert_int_equal(store_open(&s, "etcd://127.0.0.1:2379", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "TABBY_ETCD_PASSWORD_FILE"));
	unsetenv("TABBY_ETCD_USER");
}

/* Nothing listens: the call fails within its deadline, naming every member tried. */
static void
test_etcd_unreachable(void **state)
{
	struct store_kvs kvs;
	struct store *s;
	struct err err;

	(void)state;
	setenv("TABBY_ETCD_TIMEOUT_MS", "500", 1);
	assert_int_equal(store_open(&s, "etcd://127.0.0.1:1,127.0.0.1:2", &err), STORE_OK);
	assert_int_equal(store_range(s, "/", &kvs, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "cannot reach etcd"));
	assert_non_null(strstr(err.msg, "127.0.0.1:1"));
	assert_non_null(strstr(err.msg, "127.0.0.1:2"));
	store_close(s);
	unsetenv("TABBY_ETCD_TIMEOUT_MS");
}

/*
 * The leader is killed in the middle of a write loop, and the history is
 * compacted while it is down: every acknowledged write is there. Two watchers:
 * one lists the leader first (its stream breaks and moves to another member),
 * one knows only the leader (it is away until the member restarts, and by then
 * what it needs is compacted: it must re-read). Each has seen every key once,
 * in strictly increasing revisions.
 */
#define LK_WRITES 300

struct follower {
	const char *name;
	struct store *s;
	struct store_watch *w;
	struct store_events evs;
	size_t taken;
	int64_t last_seen, seen_rev[LK_WRITES];
	int rereads;
};

static void
follower_open(struct follower *fl, const char *name, const char *url)
{
	struct err err;

	memset(fl, 0, sizeof(*fl));
	fl->name = name;
	assert_int_equal(store_open(&fl->s, url, &err), STORE_OK);
	assert_int_equal(store_watch_open(fl->s, "/lk/", 0, &fl->w, &err), STORE_OK);
}

/* Takes events until every key has been seen (10 s at most); re-reads when compacted. */
static void
follower_catch_up(struct follower *fl)
{
	struct store_kvs kvs;
	struct err err;

	for (int waited = 0; waited < 10000 && fl->seen_rev[LK_WRITES - 1] == 0; waited += 20) {
		int rc = store_watch_next(fl->w, &fl->evs, &err);

		if (rc == STORE_COMPACTED) {
			fl->rereads++;
			assert_int_equal(store_range(fl->s, "/lk/", &kvs, &err), STORE_OK);
			for (size_t i = 0; i < kvs.n; i++)
				fl->seen_rev[atoi(kvs.v[i].key + 4)] = kvs.v[i].mod_rev;
			store_watch_close(fl->w);
			assert_int_equal(store_watch_open(fl->s, "/lk/", kvs.rev + 1, &fl->w, &err),
					 STORE_OK);
			fl->last_seen = kvs.rev;
			store_kvs_free(&kvs);
			continue;
		}
		assert_int_equal(rc, STORE_OK);
		for (; fl->taken < fl->evs.n; fl->taken++) {
			struct store_kv *kv = &fl->evs.v[fl->taken].kv;

			assert_true(kv->mod_rev > fl->last_seen);
			fl->last_seen = kv->mod_rev;
			assert_int_equal(fl->seen_rev[atoi(kv->key + 4)], 0);
			fl->seen_rev[atoi(kv->key + 4)] = kv->mod_rev;
		}
		usleep(20 * 1000);
	}
	for (int i = 0; i < LK_WRITES; i++)
		if (fl->seen_rev[i] == 0)
			fail_msg("%s watcher: key %d never seen (%zu events, %d re-reads)", fl->name,
				 i, fl->taken, fl->rereads);
	store_events_free(&fl->evs);
	store_watch_close(fl->w);
	store_close(fl->s);
}

static void
test_cluster_leader_kill(void **state)
{
	struct fx *f = *state;
	static struct follower moving, stuck;
	struct store_kvs kvs;
	struct err err;
	char url[300], key[32], val[32];
	int leader = etcd_cluster_leader(&cluster), acked = 0;

	if (cluster.n < 3)
		skip();
	assert_true(leader >= 0);
	snprintf(url, sizeof(url), "etcd://127.0.0.1:%d,%s", cluster.client_port[leader],
		 cluster.url + strlen("etcd://"));
	follower_open(&moving, "moving", url);
	snprintf(url, sizeof(url), "etcd://127.0.0.1:%d", cluster.client_port[leader]);
	follower_open(&stuck, "stuck", url);
	for (int i = 0; i < LK_WRITES; i++) {
		/* Guarded by "absent", so a write whose answer was lost can be sent again. */
		struct store_cmp cmp = {.key = key, .mod_rev = 0};
		struct store_op op = {.type = STORE_OP_PUT, .key = key, .value = val};
		struct store_txn t = {.cmps = &cmp, .ncmps = 1, .ops = &op, .nops = 1};
		int rc;

		snprintf(key, sizeof(key), "/lk/%04d", i);
		snprintf(val, sizeof(val), "{\"i\":%d}", i);
		if (i == LK_WRITES / 3)
			etcd_cluster_kill(&cluster, leader);
		if (i == LK_WRITES / 2)
			assert_int_equal(store_compact(f->s, current_rev(f->s), &err), STORE_OK);
		rc = store_txn(f->s, &t, NULL, &err);
		if (rc != STORE_OK && rc != STORE_FAILED)
			fail_msg("write %d: %s", i, err.msg);
		acked++;
	}
	assert_int_equal(acked, LK_WRITES);
	/* Every write is there, with its value. */
	assert_int_equal(store_range(f->s, "/lk/", &kvs, &err), STORE_OK);
	assert_int_equal(kvs.n, LK_WRITES);
	for (int i = 0; i < LK_WRITES; i++) {
		snprintf(val, sizeof(val), "{\"i\":%d}", i);
		assert_string_equal(kvs.v[i].value, val);
	}
	store_kvs_free(&kvs);
	follower_catch_up(&moving);
	assert_int_equal(etcd_cluster_restart(&cluster, leader), 0);
	follower_catch_up(&stuck);
	assert_true(stuck.rereads > 0);
	print_message("leader kill: the moving watcher re-read %d times, the stuck one %d\n",
		      moving.rereads, stuck.rereads);
}

int
main(int argc, char **argv)
{
	int rc;
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
		T(test_etcd_url_errors),
		T(test_etcd_unreachable),
		T(test_cluster_leader_kill),
	};

	if (argc > 1)
		mode = argv[1];
	if (strcmp(mode, "sqlite") != 0) {
		if (strcmp(mode, "etcd") != 0 && strcmp(mode, "etcd3") != 0) {
			fprintf(stderr, "usage: %s [sqlite|etcd|etcd3]\n", argv[0]);
			return 2;
		}
		if (etcd_cluster_start(&cluster, strcmp(mode, "etcd3") == 0 ? 3 : 1) != 0) {
			etcd_cluster_stop(&cluster);
			return 1;
		}
	}
	rc = cmocka_run_group_tests_name(mode, tests, NULL, NULL);
	if (cluster.n > 0)
		etcd_cluster_stop(&cluster);
	return rc;
}
