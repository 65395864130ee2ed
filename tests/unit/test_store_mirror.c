/*
 * The store mirror and its feed.
 *   test_store_mirror         SQLite (a new file per test)
 *   test_store_mirror etcd    a real one-member etcd started here
 * The mirror alone: a snapshot, then events applied in order (put replaces, delete
 * removes, skipped prefix left out, nothing at or below the snapshot applied again).
 * The feed: changes made in the store reach the mirror through the thread; a start
 * from a compacted revision (and a compaction while it watches) re-reads in full.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etcd_cluster.h"
#include "store/mirror.h"
#include "store/store.h"
#include "tmp_store.h"

static const char *mode = "sqlite";
static struct etcd_cluster cluster;

struct fx {
	char dir[TMP_DIR_LEN];
	char url[300];
	struct store *s;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err err;

	if (tmp_dir_make(f->dir) != 0)
		return -1;
	if (strcmp(mode, "sqlite") == 0)
		snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
	else
		snprintf(f->url, sizeof(f->url), "%s", cluster.url);
	if (store_open(&f->s, f->url, &err) != STORE_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	if (store_delete_prefix(f->s, "/", &err) == STORE_ERR) {
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

	if (tmp_store_close(f->s, f->dir) != 0)
		return -1;
	free(f);
	return 0;
}

static void
kv_add(struct store_kvs *kvs, const char *key, const char *value, int64_t rev)
{
	struct store_kv *kv = store_kvs_push(kvs);

	kv->key = strdup(key);
	kv->value = strdup(value);
	kv->create_rev = kv->mod_rev = rev;
	kv->version = 1;
}

static void
ev_add(struct store_events *evs, enum store_event_type type, const char *key, const char *value,
       int64_t rev)
{
	struct store_event *ev = store_events_push(evs);

	ev->type = type;
	ev->kv.key = strdup(key);
	ev->kv.value = value ? strdup(value) : NULL;
	ev->kv.mod_rev = rev;
}

/* The mirror's keys under prefix as "key=value;..." */
static char *
dump(struct store *m, const char *prefix)
{
	static char buf[4096];
	struct store_kvs kvs;
	struct err err;
	size_t n = 0;

	assert_int_equal(store_range(m, prefix, &kvs, &err), STORE_OK);
	buf[0] = '\0';
	for (size_t i = 0; i < kvs.n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s=%s;", kvs.v[i].key,
				      kvs.v[i].value);
	store_kvs_free(&kvs);
	return buf;
}

static void
test_events_applied(void **state)
{
	struct store *m = store_mirror_new("/t/status/");
	struct store_kvs snap = {0};
	struct store_events evs = {0};
	struct store_kv kv;
	struct err err;
	uint64_t gen;
	int tb, tu;

	(void)state;
	/* Out of order on purpose: the mirror sorts a snapshot that is not. */
	kv_add(&snap, "/t/c", "3", 5);
	kv_add(&snap, "/t/a", "1", 4);
	kv_add(&snap, "/t/status/n1", "s", 6);
	snap.rev = 10;
	store_mirror_load(m, &snap);
	assert_string_equal(dump(m, "/t/"), "/t/a=1;/t/c=3;");
	assert_int_equal(store_mirror_rev(m), 10);
	gen = store_mirror_generation(m);
	tb = store_mirror_track(m, "/t/b");
	tu = store_mirror_track(m, "/u/");

	ev_add(&evs, STORE_EVENT_PUT, "/t/z", "old", 9);    /* in the snapshot already */
	ev_add(&evs, STORE_EVENT_DELETE, "/t/a", NULL, 10); /* so is this */
	ev_add(&evs, STORE_EVENT_PUT, "/t/b", "2", 11);
	ev_add(&evs, STORE_EVENT_PUT, "/t/a", "1b", 12);
	ev_add(&evs, STORE_EVENT_DELETE, "/t/c", NULL, 13);
	ev_add(&evs, STORE_EVENT_PUT, "/t/status/n2", "s", 14);
	ev_add(&evs, STORE_EVENT_DELETE, "/t/none", NULL, 15);
	/* One transaction: two events at one revision, both applied. */
	ev_add(&evs, STORE_EVENT_PUT, "/t/d", "4", 16);
	ev_add(&evs, STORE_EVENT_PUT, "/t/e", "5", 16);
	assert_int_equal(store_mirror_apply(m, &evs), 5);
	assert_string_equal(dump(m, "/t/"), "/t/a=1b;/t/b=2;/t/d=4;/t/e=5;");
	assert_int_equal(store_mirror_rev(m), 16);
	assert_int_equal(store_mirror_count(m), 4);
	assert_true(store_mirror_generation(m) != gen);
	assert_int_equal(store_mirror_changes(m, tb), 1);
	assert_int_equal(store_mirror_changes(m, tu), 0);

	/* Exact reads, and a key that is a prefix of others. */
	assert_int_equal(store_get(m, "/t/a", &kv, &err), STORE_OK);
	assert_string_equal(kv.value, "1b");
	assert_int_equal(kv.mod_rev, 12);
	store_kv_clear(&kv);
	assert_int_equal(store_get(m, "/t/", &kv, &err), STORE_NOTFOUND);
	assert_string_equal(dump(m, "/t/d"), "/t/d=4;");
	assert_string_equal(dump(m, "/u/"), "");

	/* The same events again change nothing; a delete then a put of one key does. */
	gen = store_mirror_generation(m);
	ev_add(&evs, STORE_EVENT_PUT, "/t/b", "2", 11);
	assert_int_equal(store_mirror_apply(m, &evs), 0);
	assert_int_equal(store_mirror_generation(m), gen);
	ev_add(&evs, STORE_EVENT_DELETE, "/t/b", NULL, 17);
	ev_add(&evs, STORE_EVENT_PUT, "/t/b", "2b", 18);
	assert_int_equal(store_mirror_apply(m, &evs), 2);
	assert_string_equal(dump(m, "/t/"), "/t/a=1b;/t/b=2b;/t/d=4;/t/e=5;");
	assert_int_equal(store_mirror_changes(m, tb), 3);
	assert_int_equal(store_mirror_changes(m, tu), 0);

	/* A new snapshot replaces everything. */
	kv_add(&snap, "/t/x", "9", 20);
	snap.rev = 20;
	store_mirror_load(m, &snap);
	assert_string_equal(dump(m, "/t/"), "/t/x=9;");
	assert_int_equal(store_mirror_changes(m, tu), 1);
	/* Writes are refused. */
	assert_int_equal(store_put(m, "/t/y", "1", 0, NULL, &err), STORE_ERR);
	store_events_free(&evs);
	store_close(m);
}

/* Takes from the feed until the mirror under /t/ reads want (or 10 s pass). */
static bool
feed_until(struct store_feed *feed, struct store *m, const char *want, bool *resynced)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = store_feed_fd(feed), .events = POLLIN};
		bool r = false;

		if (strcmp(dump(m, "/t/"), want) == 0)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10) {
			print_message("mirror: %s, wanted %s\n", dump(m, "/t/"), want);
			return false;
		}
		poll(&p, 1, 200);
		store_feed_take(feed, m, &r);
		if (resynced != NULL)
			*resynced = *resynced || r;
	}
}

static int64_t
put(struct store *s, const char *key, const char *value)
{
	struct err err;
	int64_t rev = 0;

	assert_int_equal(store_put(s, key, value, 0, &rev, &err), STORE_OK);
	return rev;
}

static void
test_feed_follows(void **state)
{
	struct fx *f = *state;
	struct store *m = store_mirror_new("/t/status/");
	struct store_feed *feed;
	struct store_feed_stats st;
	struct store_kvs snap;
	struct err err;
	bool resynced = false;

	put(f->s, "/t/a", "1");
	put(f->s, "/t/b", "2");
	assert_int_equal(store_range(f->s, "/t/", &snap, &err), STORE_OK);
	store_mirror_load(m, &snap);
	assert_int_equal(
	    store_feed_open(&feed, f->url, "/t/", "/t/status/", store_mirror_rev(m) + 1, &err),
	    STORE_OK);
	put(f->s, "/t/c", "3");
	put(f->s, "/t/a", "1b");
	put(f->s, "/t/status/x", "s");
	assert_int_equal(store_delete(f->s, "/t/b", &err), STORE_OK);
	put(f->s, "/u/other", "x");
	assert_true(feed_until(feed, m, "/t/a=1b;/t/c=3;", &resynced));
	assert_false(resynced);
	store_feed_stats(feed, &st);
	assert_int_equal(st.resyncs, 0);
	assert_int_equal(st.errors, 0);
	store_feed_close(feed);
	store_close(m);
}

static void
test_feed_compacted_rereads(void **state)
{
	struct fx *f = *state;
	struct store *m = store_mirror_new(NULL);
	struct store_feed *feed;
	struct store_feed_stats st;
	struct store_kvs snap;
	struct err err;
	bool resynced = false;
	int64_t rev;

	put(f->s, "/t/a", "1");
	put(f->s, "/t/b", "2");
	assert_int_equal(store_range(f->s, "/t/", &snap, &err), STORE_OK);
	store_mirror_load(m, &snap);
	/* Changes the mirror missed, then their history compacted away. */
	assert_int_equal(store_delete(f->s, "/t/a", &err), STORE_OK);
	put(f->s, "/t/c", "3");
	rev = put(f->s, "/t/d", "4");
	assert_int_equal(store_compact(f->s, rev, &err), STORE_OK);
	assert_int_equal(store_feed_open(&feed, f->url, "/t/", NULL, store_mirror_rev(m) + 1, &err),
			 STORE_OK);
	assert_true(feed_until(feed, m, "/t/b=2;/t/c=3;/t/d=4;", &resynced));
	assert_true(resynced);
	/* And it goes on from the re-read: later changes arrive once. */
	put(f->s, "/t/e", "5");
	assert_int_equal(store_delete(f->s, "/t/b", &err), STORE_OK);
	assert_true(feed_until(feed, m, "/t/c=3;/t/d=4;/t/e=5;", NULL));
	store_feed_stats(feed, &st);
	assert_int_equal(st.resyncs, 1);
	store_feed_close(feed);
	store_close(m);
}

/* The journal: the keys events changed since the last take; "all" after a load or too many. */
static void
test_journal(void **state)
{
	struct store *m = store_mirror_new("/t/status/");
	struct store_kvs snap = {0};
	struct store_events evs = {0};
	struct store_journal j;
	char key[64];

	(void)state;
	store_mirror_journal_take(m, &j);
	assert_true(j.all);   /* nothing taken yet: anything may have changed */
	kv_add(&snap, "/t/a", "1", 4);
	snap.rev = 10;
	store_mirror_load(m, &snap);
	store_mirror_journal_take(m, &j);
	assert_true(j.all);   /* a load replaced everything */
	store_mirror_journal_take(m, &j);
	assert_false(j.all);
	assert_int_equal(j.n, 0);

	ev_add(&evs, STORE_EVENT_PUT, "/t/b", "2", 11);
	ev_add(&evs, STORE_EVENT_DELETE, "/t/a", NULL, 12);
	ev_add(&evs, STORE_EVENT_PUT, "/t/status/n1", "s", 13);   /* skipped: not kept */
	ev_add(&evs, STORE_EVENT_DELETE, "/t/zz", NULL, 14);      /* nothing there: no change */
	ev_add(&evs, STORE_EVENT_PUT, "/t/b", "2", 9);            /* in the snapshot already */
	store_mirror_apply(m, &evs);
	store_mirror_journal_take(m, &j);
	assert_false(j.all);
	assert_int_equal(j.n, 2);
	assert_string_equal(j.keys[0], "/t/b");
	assert_string_equal(j.keys[1], "/t/a");
	store_journal_free(&j);
	store_mirror_journal_take(m, &j);
	assert_int_equal(j.n, 0);

	/* One key more than the journal holds: it can no longer tell which. */
	for (int i = 0; i <= STORE_JOURNAL_MAX; i++) {
		snprintf(key, sizeof(key), "/t/k%03d", i);
		ev_add(&evs, STORE_EVENT_PUT, key, "v", 20 + i);
	}
	store_mirror_apply(m, &evs);
	store_mirror_journal_take(m, &j);
	assert_true(j.all);
	assert_int_equal(j.n, 0);
	store_events_free(&evs);
	store_close(m);
}

int
main(int argc, char **argv)
{
	int rc;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_events_applied),
	    cmocka_unit_test(test_journal),
	    T(test_feed_follows),
	    T(test_feed_compacted_rereads),
	};

	if (argc > 1)
		mode = argv[1];
	if (strcmp(mode, "sqlite") != 0) {
		if (strcmp(mode, "etcd") != 0) {
			fprintf(stderr, "usage: %s [sqlite|etcd]\n", argv[0]);
			return 2;
		}
		if (etcd_cluster_start(&cluster, 1) != 0) {
			etcd_cluster_stop(&cluster);
			return 1;
		}
	}
	rc = cmocka_run_group_tests_name(mode, tests, NULL, NULL);
	if (cluster.n > 0)
		etcd_cluster_stop(&cluster);
	return rc;
}
