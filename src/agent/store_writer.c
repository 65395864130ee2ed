/*
 * The writer thread (store_writer.h). Its states, in order: clear the prefixes an earlier
 * run left, hold a lease, then write what is pending and renew the lease on time. Every
 * store call runs with the mutex released; the loop thread only ever waits for the few
 * instructions the queue needs.
 */
#include "agent/store_writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/store_queue.h"
#include "lib/backoff.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "store/store.h"

/* Writes per transaction: etcd refuses more than 128 by default (--max-txn-ops). */
#define BATCH 128
#define WRITER_TIMEOUT_MS 1000 /* one attempt's wait for another process's lock */

struct swr {
	struct store *store;
	struct swq *q;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	/* The thread's own, read and written without the mutex. */
	char **clear;
	size_t nclear;
	bool cleared;
	int64_t lease, ttl;
	double renew, renew_at;
	struct backoff retry;
	double retry_at;
	struct swr_stats stats;      /* under mu */
};

/* A store call that began at t0 ended (ok or not). */
static void
timed(struct swr *w, double t0, bool ok)
{
	double d = clock_mono() - t0;

	pthread_mutex_lock(&w->mu);
	w->stats.calls++;
	w->stats.errors += !ok;
	w->stats.failing = !ok;
	prom_hist_observe(&w->stats.latency, prom_latency_bounds, prom_latency_nbounds, d);
	pthread_mutex_unlock(&w->mu);
}

/* One failed attempt: the next waits one back-off step longer (logged once per step). */
static void
failed(struct swr *w, const char *what, const struct err *err)
{
	double now = clock_mono(), delay = backoff_next(&w->retry, now);

	w->retry_at = now + delay;
	log_warnx("datastore: %s: %s; status writes wait, retrying in %.1f s", what, err->msg,
		  delay);
}

static void
succeeded(struct swr *w)
{
	double was = backoff_reset(&w->retry, clock_mono());

	if (was > 0)
		log_info("datastore: writing again after %.1f s", was);
	w->retry_at = 0;
}

static int
clear_prefixes(struct swr *w, struct err *err)
{
	for (size_t i = 0; i < w->nclear; i++) {
		double t0 = clock_mono();
		bool ok = store_delete_prefix(w->store, w->clear[i], err) != STORE_ERR;

		timed(w, t0, ok);
		if (!ok)
			return -1;
	}
	return 0;
}

/* Writes one batch in one transaction; false if it did not land. */
static bool
write_batch(struct swr *w, struct swq_op *v, size_t n, struct err *err)
{
	struct store_op ops[BATCH];
	struct store_txn t = {.ops = ops, .nops = n};

	for (size_t i = 0; i < n; i++) {
		ops[i] = (struct store_op){
		    .type = v[i].value ? STORE_OP_PUT : STORE_OP_DELETE,
		    .key = v[i].key,
		    .value = v[i].value,
		    .lease = v[i].value && v[i].leased ? w->lease : 0,
		};
	}
	double t0 = clock_mono();
	bool ok = store_txn(w->store, &t, NULL, err) == STORE_OK;

	timed(w, t0, ok);
	return ok;
}

/* One step of work with the mutex released; false when there was nothing to do. */
static bool
step(struct swr *w)
{
	struct swq_op v[BATCH];
	struct err err;
	double t0 = clock_mono();
	size_t n;
	int rc;

	if (!w->cleared) {
		if (clear_prefixes(w, &err) != 0) {
			failed(w, "clearing an earlier run's status", &err);
			return true;
		}
		w->cleared = true;
		succeeded(w);
		return true;
	}
	if (w->lease == 0) {
		rc = store_lease_grant(w->store, w->ttl, &w->lease, &err);
		timed(w, t0, rc == STORE_OK);
		if (rc != STORE_OK) {
			w->lease = 0;
			failed(w, "status lease", &err);
			return true;
		}
		succeeded(w);
		w->renew_at = clock_mono() + w->renew;
		pthread_mutex_lock(&w->mu);
		swq_repend_leased(w->q);
		pthread_mutex_unlock(&w->mu);
		return true;
	}
	if (clock_mono() >= w->renew_at) {
		rc = store_lease_keepalive(w->store, w->lease, &err);
		timed(w, t0, rc == STORE_OK || rc == STORE_NOTFOUND);
		if (rc == STORE_NOTFOUND) {
			/* Away longer than the TTL: a new lease gets every key again. */
			log_warnx("status lease expired; publishing status again");
			w->lease = 0;
		} else if (rc != STORE_OK) {
			failed(w, "renewing the status lease", &err);
		} else {
			succeeded(w);
			w->renew_at = clock_mono() + w->renew;
		}
		return true;
	}
	pthread_mutex_lock(&w->mu);
	n = swq_take(w->q, v, BATCH);
	pthread_mutex_unlock(&w->mu);
	if (n == 0)
		return false;
	if (write_batch(w, v, n, &err)) {
		succeeded(w);
	} else {
		failed(w, "writing status", &err);
		/* It may have failed on our lease: check it before the next attempt. */
		w->renew_at = 0;
	}
	pthread_mutex_lock(&w->mu);
	swq_done(w->q, v, n, !backoff_failing(&w->retry));
	pthread_mutex_unlock(&w->mu);
	return true;
}

static void
wait_until(struct swr *w, double until)
{
	double d = until - clock_mono();
	struct timespec ts;

	if (d <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)d;
	ts.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *
run(void *arg)
{
	struct swr *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		bool worked;

		if (w->retry_at > clock_mono()) {
			wait_until(w, w->retry_at);
			continue;
		}
		pthread_mutex_unlock(&w->mu);
		worked = step(w);
		pthread_mutex_lock(&w->mu);
		if (!worked && !w->stopping && swq_pending(w->q) == 0)
			wait_until(w, w->renew_at);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
swr_start(struct swr **out, const struct swr_config *cfg, struct err *err)
{
	struct swr *w = xcalloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (store_open(&w->store, cfg->url, err) != STORE_OK) {
		free(w);
		return -1;
	}
	store_set_timeout(w->store, WRITER_TIMEOUT_MS);
	w->q = swq_new();
	w->ttl = cfg->lease_ttl;
	w->renew = cfg->renew;
	w->nclear = cfg->nclear;
	w->clear = xcalloc(cfg->nclear + 1, sizeof(*w->clear));
	for (size_t i = 0; i < cfg->nclear; i++)
		w->clear[i] = xstrdup(cfg->clear[i]);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, run, w) != 0)
		fatal("cannot start the datastore writer thread");
	*out = w;
	return 0;
}

void
swr_put(struct swr *w, const char *key, const char *value)
{
	pthread_mutex_lock(&w->mu);
	swq_put(w->q, key, value, true);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
swr_delete(struct swr *w, const char *key)
{
	pthread_mutex_lock(&w->mu);
	swq_delete(w->q, key);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
swr_get_stats(struct swr *w, struct swr_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	out->pending = swq_pending(w->q);
	pthread_mutex_unlock(&w->mu);
}

void
swr_stop(struct swr *w, double wait_s)
{
	double deadline = clock_mono() + wait_s;
	struct err err;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	/* The thread is gone: what is left is ours to finish, for a bounded time. */
	while (w->lease != 0 && swq_pending(w->q) > 0 && clock_mono() < deadline) {
		w->retry_at = 0;
		w->renew_at = deadline;
		if (!step(w))
			break;
	}
	if (swq_pending(w->q) > 0)
		log_warnx("datastore: %zu status writes could not be made before stopping",
			  swq_pending(w->q));
	/* Revoking the lease removes every leased key at once. */
	if (w->lease != 0 && store_lease_revoke(w->store, w->lease, &err) != STORE_OK)
		log_warnx("cannot revoke the status lease: %s", err.msg);
	store_close(w->store);
	swq_free(w->q);
	for (size_t i = 0; i < w->nclear; i++)
		free(w->clear[i]);
	free(w->clear);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
