/* The store mirror (an in-memory, read-only backend) and the feed that keeps it current. */
#include "store/mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/backoff.h"
#include "lib/clock.h"
#include "lib/log.h"

/* The longest one datastore call on the feed's thread waits (bounds closing, too). */
#define FEED_TIMEOUT_MS 2000
/*
 * A backend without a descriptor (SQLite) is polled at most this far apart: a look that
 * finds nothing new is one cheap query on this thread, and a change should not wait for
 * the backend's own interval (100 ms) on its way to the agent.
 */
#define FEED_POLL_MS_MAX 20

/* Counts the changes under one prefix (store_mirror_track). */
struct tracker {
	char *prefix;
	size_t len;
	uint64_t changes;
};

struct mirror {
	struct store base;
	char *skip;
	size_t nskip;
	struct store_kv *v; /* sorted by key */
	size_t n, cap;
	int64_t snap_rev; /* the last load's revision: events up to it are in it */
	int64_t rev;
	uint64_t gen;
	struct tracker *track;
	size_t ntrack;
	/* The keys changed since store_mirror_journal_take; journal_all: it cannot tell. */
	char *journal[STORE_JOURNAL_MAX];
	size_t njournal;
	bool journal_all;
};

static const struct store_ops mirror_ops;

static struct mirror *
as_mirror(const struct store *s)
{
	if (s->ops != &mirror_ops)
		fatal("store mirror: called on another backend");
	return (struct mirror *)s;
}

static bool
skipped(const char *skip, size_t nskip, const char *key)
{
	return skip != NULL && strncmp(key, skip, nskip) == 0;
}

/* Secrets keep no copies: a value that leaves the mirror is overwritten first. */
static void
kv_wipe(struct store_kv *kv)
{
	if (kv->value != NULL &&
	    strncmp(kv->key, STORE_SECRET_PREFIX, strlen(STORE_SECRET_PREFIX)) == 0)
		explicit_bzero(kv->value, strlen(kv->value));
	store_kv_clear(kv);
}

/* Frees what the feed drops unused (a replaced snapshot, queued events), secrets wiped. */
static void
kvs_discard(struct store_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++)
		kv_wipe(&kvs->v[i]);
	store_kvs_free(kvs);
}

static void
events_discard(struct store_events *evs)
{
	for (size_t i = 0; i < evs->n; i++)
		kv_wipe(&evs->v[i].kv);
	store_events_free(evs);
}

/* The index of the first key >= key. */
static size_t
lower_bound(const struct mirror *m, const char *key)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
mirror_clear(struct mirror *m)
{
	for (size_t i = 0; i < m->n; i++)
		kv_wipe(&m->v[i]);
	m->n = 0;
}

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_kv *)a)->key, ((const struct store_kv *)b)->key);
}

static void
journal_clear(struct mirror *m, bool all)
{
	for (size_t i = 0; i < m->njournal; i++)
		free(m->journal[i]);
	m->njournal = 0;
	m->journal_all = all;
}

static void
journal_add(struct mirror *m, const char *key)
{
	if (m->journal_all)
		return;
	if (m->njournal == STORE_JOURNAL_MAX)
		journal_clear(m, true);
	else
		m->journal[m->njournal++] = xstrdup(key);
}

void
store_mirror_journal_take(struct store *s, struct store_journal *out)
{
	struct mirror *m = as_mirror(s);

	memcpy(out->keys, m->journal, m->njournal * sizeof(*out->keys));
	out->n = m->njournal;
	out->all = m->journal_all;
	m->njournal = 0;
	m->journal_all = false;
}

void
store_journal_free(struct store_journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->keys[i]);
	j->n = 0;
}

struct store *
store_mirror_new(const char *skip)
{
	struct mirror *m = xcalloc(1, sizeof(*m));

	m->base.ops = &mirror_ops;
	m->journal_all = true;
	if (skip != NULL) {
		m->skip = xstrdup(skip);
		m->nskip = strlen(skip);
	}
	return &m->base;
}

void
store_mirror_load(struct store *s, struct store_kvs *kvs)
{
	struct mirror *m = as_mirror(s);
	size_t out = 0;

	mirror_clear(m);
	free(m->v);
	m->v = kvs->v;
	m->cap = kvs->cap;
	for (size_t i = 0; i < kvs->n; i++) {
		if (skipped(m->skip, m->nskip, m->v[i].key))
			kv_wipe(&m->v[i]);
		else
			m->v[out++] = m->v[i];
	}
	m->n = out;
	/* Backends answer in key order; a snapshot that is not would break every lookup. */
	for (size_t i = 1; i < m->n; i++) {
		if (strcmp(m->v[i - 1].key, m->v[i].key) >= 0) {
			qsort(m->v, m->n, sizeof(*m->v), kv_cmp);
			break;
		}
	}
	m->snap_rev = m->rev = kvs->rev;
	m->gen++;
	journal_clear(m, true);
	for (size_t i = 0; i < m->ntrack; i++)
		m->track[i].changes++;
	memset(kvs, 0, sizeof(*kvs));
}

static bool
apply_one(struct mirror *m, struct store_event *ev)
{
	struct store_kv *kv = &ev->kv;
	size_t i;
	bool found;

	/*
	 * Events come in revision order. One at or below the snapshot is in it already, one
	 * below the newest applied was applied (several share a revision only within one
	 * transaction, and then touch different keys): applied again, it could undo a later
	 * change.
	 */
	if (kv->mod_rev <= m->snap_rev || kv->mod_rev < m->rev ||
	    skipped(m->skip, m->nskip, kv->key))
		return false;
	i = lower_bound(m, kv->key);
	found = i < m->n && strcmp(m->v[i].key, kv->key) == 0;
	if (found && m->v[i].mod_rev >= kv->mod_rev)
		return false;
	m->rev = kv->mod_rev;
	if (ev->type == STORE_EVENT_DELETE && !found)
		return false;
	for (size_t t = 0; t < m->ntrack; t++)
		if (strncmp(kv->key, m->track[t].prefix, m->track[t].len) == 0)
			m->track[t].changes++;
	journal_add(m, kv->key);
	if (ev->type == STORE_EVENT_DELETE) {
		kv_wipe(&m->v[i]);
		memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
		m->n--;
		return true;
	}
	if (found) {
		kv_wipe(&m->v[i]);
	} else {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
		}
		memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
		m->n++;
	}
	m->v[i] = *kv;
	if (m->v[i].value == NULL)
		m->v[i].value = xstrdup("");
	memset(kv, 0, sizeof(*kv));
	return true;
}

size_t
store_mirror_apply(struct store *s, struct store_events *evs)
{
	struct mirror *m = as_mirror(s);
	size_t changed = 0;

	for (size_t i = 0; i < evs->n; i++)
		if (apply_one(m, &evs->v[i]))
			changed++;
	if (changed > 0)
		m->gen++;
	for (size_t i = 0; i < evs->n; i++)
		if (evs->v[i].kv.key != NULL)
			kv_wipe(&evs->v[i].kv);
	evs->n = 0;
	return changed;
}

int64_t
store_mirror_rev(const struct store *s)
{
	return as_mirror(s)->rev;
}

size_t
store_mirror_count(const struct store *s)
{
	return as_mirror(s)->n;
}

uint64_t
store_mirror_generation(const struct store *s)
{
	return as_mirror(s)->gen;
}

int
store_mirror_track(struct store *s, const char *prefix)
{
	struct mirror *m = as_mirror(s);

	m->track = xrealloc(m->track, (m->ntrack + 1) * sizeof(*m->track));
	m->track[m->ntrack].prefix = xstrdup(prefix);
	m->track[m->ntrack].len = strlen(prefix);
	m->track[m->ntrack].changes = 0;
	return (int)m->ntrack++;
}

uint64_t
store_mirror_changes(const struct store *s, int id)
{
	const struct mirror *m = as_mirror(s);

	if (id < 0 || (size_t)id >= m->ntrack)
		fatal("store mirror: no tracker %d", id);
	return m->track[id].changes;
}

static void
kv_copy(struct store_kv *dst, const struct store_kv *src)
{
	*dst = *src;
	dst->key = xstrdup(src->key);
	dst->value = xstrdup(src->value);
}

static int
mirror_range(struct store *s, const char *key, bool prefix, struct store_kvs *out, struct err *err)
{
	struct mirror *m = as_mirror(s);
	size_t n = strlen(key);

	memset(out, 0, sizeof(*out));
	if (store_key_check(key, err) != 0)
		return STORE_ERR;
	out->rev = m->rev;
	for (size_t i = lower_bound(m, key); i < m->n; i++) {
		if (prefix ? strncmp(m->v[i].key, key, n) != 0 : strcmp(m->v[i].key, key) != 0)
			break;
		kv_copy(store_kvs_push(out), &m->v[i]);
	}
	return STORE_OK;
}

static void
mirror_close(struct store *s)
{
	struct mirror *m = as_mirror(s);

	mirror_clear(m);
	journal_clear(m, true);
	free(m->v);
	free(m->skip);
	for (size_t i = 0; i < m->ntrack; i++)
		free(m->track[i].prefix);
	free(m->track);
	free(m);
}

static void
mirror_set_timeout(struct store *s, int ms)
{
	(void)s;
	(void)ms;
}

static int
read_only(struct err *err)
{
	err_set(err, "the store mirror is read-only");
	return STORE_ERR;
}

static int
mirror_txn(struct store *s, const struct store_txn *t, struct store_txn_res *res, struct err *err)
{
	(void)s;
	(void)t;
	(void)res;
	return read_only(err);
}

static int
mirror_lease(struct store *s, int64_t id, struct err *err)
{
	(void)s;
	(void)id;
	return read_only(err);
}

static int
mirror_lease_grant(struct store *s, int64_t ttl, int64_t *id, struct err *err)
{
	(void)s;
	(void)ttl;
	(void)id;
	return read_only(err);
}

static int
mirror_watch_open(struct store *s, const char *prefix, int64_t start_rev, struct store_watch **out,
		  struct err *err)
{
	(void)s;
	(void)prefix;
	(void)start_rev;
	*out = NULL;
	err_set(err, "the store mirror has no watch; its feed is the watch");
	return STORE_ERR;
}

static const struct store_ops mirror_ops = {
    .scheme = "mirror",
    .close = mirror_close,
    .set_timeout = mirror_set_timeout,
    .range = mirror_range,
    .txn = mirror_txn,
    .lease_grant = mirror_lease_grant,
    .lease_keepalive = mirror_lease,
    .lease_revoke = mirror_lease,
    .compact = mirror_lease,
    .watch_open = mirror_watch_open,
};

/* --- the feed --- */

struct store_feed {
	struct store *s; /* the thread's own handle */
	char *prefix, *skip;
	size_t nskip;
	int64_t next_rev; /* thread only: the watch starts here; 0: read first */
	struct store_watch *w;
	pthread_t thread;
	atomic_bool stop;
	int stop_pipe[2];
	int wake_pipe[2];   /* the owner's: readable when something waits */
	pthread_mutex_t mu; /* guards the fields below */
	bool has_snap;
	struct store_kvs snap;
	struct store_events q;
	struct store_feed_stats stats;
};

static void
feed_wake(struct store_feed *f)
{
	char c = 1;

	if (write(f->wake_pipe[1], &c, 1) < 0 && errno != EAGAIN)
		log_warn("store feed: waking the loop");
}

/* Waits up to ms for the watch's descriptor (if any) or a close; false when closing. */
static bool
feed_wait(struct store_feed *f, int fd, int ms)
{
	struct pollfd p[2] = {{.fd = f->stop_pipe[0], .events = POLLIN},
			      {.fd = fd, .events = POLLIN}};

	if (atomic_load(&f->stop))
		return false;
	if (poll(p, fd >= 0 ? 2 : 1, ms) < 0 && errno != EINTR)
		fatal("store feed: poll: %s", strerror(errno));
	return !atomic_load(&f->stop);
}

static void
feed_failed(struct store_feed *f, struct backoff *b, const char *what, const struct err *err)
{
	double d = backoff_next(b, clock_mono());

	pthread_mutex_lock(&f->mu);
	f->stats.errors++;
	f->stats.failing = true;
	snprintf(f->stats.last_error, sizeof(f->stats.last_error), "%s: %s", what, err->msg);
	pthread_mutex_unlock(&f->mu);
	log_warnx("store watch: %s: %s; the configuration as last read stays, retrying in %.1f s",
		  what, err->msg, d);
	feed_wait(f, -1, (int)(d * 1000));
}

static void
feed_ok(struct store_feed *f, struct backoff *b)
{
	double was = backoff_reset(b, clock_mono());

	if (was > 0) {
		log_info("store watch: working again after %.1f s", was);
		pthread_mutex_lock(&f->mu);
		f->stats.failing = false;
		pthread_mutex_unlock(&f->mu);
	}
}

/* Drops the keys under skip, in place. */
static void
filter_events(struct store_feed *f, struct store_events *evs)
{
	size_t out = 0;

	for (size_t i = 0; i < evs->n; i++) {
		if (skipped(f->skip, f->nskip, evs->v[i].kv.key))
			kv_wipe(&evs->v[i].kv);
		else
			evs->v[out++] = evs->v[i];
	}
	evs->n = out;
}

/* A full read after a compaction: it replaces whatever waits, which it is newer than. */
static int
feed_reread(struct store_feed *f, struct err *err)
{
	struct store_kvs kvs;

	if (store_range(f->s, f->prefix, &kvs, err) != STORE_OK)
		return STORE_ERR;
	f->next_rev = kvs.rev + 1;
	pthread_mutex_lock(&f->mu);
	kvs_discard(&f->snap);
	f->snap = kvs;
	f->has_snap = true;
	events_discard(&f->q);
	f->stats.resyncs++;
	pthread_mutex_unlock(&f->mu);
	feed_wake(f);
	return STORE_OK;
}

static void *
feed_thread(void *arg)
{
	struct store_feed *f = arg;
	struct backoff b = {0};
	struct err err;
	int rc, ms;

	while (!atomic_load(&f->stop)) {
		struct store_events evs = {0};

		if (f->next_rev == 0) {
			if (feed_reread(f, &err) != STORE_OK) {
				feed_failed(f, &b, "cannot re-read the configuration", &err);
				continue;
			}
			log_info("store watch: configuration re-read at revision %lld",
				 (long long)(f->next_rev - 1));
		}
		if (f->w == NULL) {
			rc = store_watch_open(f->s, f->prefix, f->next_rev, &f->w, &err);
			if (rc == STORE_COMPACTED) {
				log_warnx("store watch: %s; re-reading the configuration", err.msg);
				f->w = NULL;
				f->next_rev = 0;
				continue;
			}
			if (rc != STORE_OK) {
				f->w = NULL;
				feed_failed(f, &b, "cannot watch", &err);
				continue;
			}
		}
		rc = store_watch_next(f->w, &evs, &err);
		if (rc == STORE_COMPACTED) {
			log_warnx("store watch: %s; re-reading the configuration", err.msg);
			events_discard(&evs);
			store_watch_close(f->w);
			f->w = NULL;
			f->next_rev = 0;
			continue;
		}
		if (rc != STORE_OK) {
			events_discard(&evs);
			feed_failed(f, &b, "cannot read", &err);
			continue;
		}
		feed_ok(f, &b);
		if (evs.n > 0)
			f->next_rev = evs.v[evs.n - 1].kv.mod_rev + 1;
		filter_events(f, &evs);
		if (evs.n > 0) {
			pthread_mutex_lock(&f->mu);
			for (size_t i = 0; i < evs.n; i++)
				*store_events_push(&f->q) = evs.v[i];
			pthread_mutex_unlock(&f->mu);
			evs.n = 0;
			feed_wake(f);
		}
		store_events_free(&evs);
		ms = store_watch_interval_ms(f->w);
		if (store_watch_fd(f->w) < 0 && ms > FEED_POLL_MS_MAX)
			ms = FEED_POLL_MS_MAX;
		feed_wait(f, store_watch_fd(f->w), ms);
	}
	return NULL;
}

int
store_feed_open(struct store_feed **out, const char *url, const char *prefix, const char *skip,
		int64_t start_rev, struct err *err)
{
	struct store_feed *f = xcalloc(1, sizeof(*f));

	*out = NULL;
	if (store_open(&f->s, url, err) != STORE_OK) {
		free(f);
		return STORE_ERR;
	}
	store_set_timeout(f->s, FEED_TIMEOUT_MS);
	f->prefix = xstrdup(prefix);
	if (skip != NULL) {
		f->skip = xstrdup(skip);
		f->nskip = strlen(skip);
	}
	f->next_rev = start_rev;
	pthread_mutex_init(&f->mu, NULL);
	if (pipe2(f->stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
	    pipe2(f->wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		fatal("store feed: pipe: %s", strerror(errno));
	if (pthread_create(&f->thread, NULL, feed_thread, f) != 0)
		fatal("store feed: cannot start its thread");
	*out = f;
	return STORE_OK;
}

int
store_feed_fd(struct store_feed *f)
{
	return f->wake_pipe[0];
}

bool
store_feed_take(struct store_feed *f, struct store *m, bool *resynced)
{
	struct store_kvs snap = {0};
	struct store_events q;
	bool has_snap, changed;
	char drain[64];

	while (read(f->wake_pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&f->mu);
	has_snap = f->has_snap;
	if (has_snap)
		snap = f->snap;
	memset(&f->snap, 0, sizeof(f->snap));
	f->has_snap = false;
	q = f->q;
	memset(&f->q, 0, sizeof(f->q));
	pthread_mutex_unlock(&f->mu);
	if (has_snap)
		store_mirror_load(m, &snap);
	changed = store_mirror_apply(m, &q) > 0 || has_snap;
	store_events_free(&q);
	if (resynced != NULL)
		*resynced = has_snap;
	return changed;
}

void
store_feed_stats(struct store_feed *f, struct store_feed_stats *out)
{
	pthread_mutex_lock(&f->mu);
	*out = f->stats;
	pthread_mutex_unlock(&f->mu);
}

void
store_feed_close(struct store_feed *f)
{
	char c = 1;

	if (f == NULL)
		return;
	atomic_store(&f->stop, true);
	if (write(f->stop_pipe[1], &c, 1) < 0)
		log_warn("store feed: stopping its thread");
	pthread_join(f->thread, NULL);
	store_watch_close(f->w);
	store_close(f->s);
	for (int i = 0; i < 2; i++) {
		close(f->stop_pipe[i]);
		close(f->wake_pipe[i]);
	}
	pthread_mutex_destroy(&f->mu);
	kvs_discard(&f->snap);
	events_discard(&f->q);
	free(f->prefix);
	free(f->skip);
	free(f);
}
