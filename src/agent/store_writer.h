/*
 * store_writer: a process's datastore writes, done off its event loop.
 *
 * The loop side only enqueues: swr_put / swr_delete never wait on the store (they take
 * a mutex that the writer holds only to move items in and out of its queue). A writer
 * thread with its own store handle coalesces them per key (store_queue.h), writes them
 * in batches, one transaction each, and owns the lease its puts hang on: it grants it,
 * keeps it alive, and when it was lost (the store was unreachable longer than the TTL)
 * grants a new one and writes every live key again. Failures are retried with back-off
 * (0.1 s doubling to 5 s), logged once per step; the latest value of every key lands
 * once the store is free. Nothing here knows the backend: it uses the store_ API only.
 */
#ifndef TABBY_STORE_WRITER_H
#define TABBY_STORE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/prom.h"

struct swr;

struct swr_config {
	const char *url;	  /* the datastore, opened again for the thread */
	int64_t lease_ttl;	  /* seconds */
	double renew;		  /* seconds between keep-alives */
	const char *const *clear; /* prefixes deleted once, before the first lease */
	size_t nclear;
};

/* Opens the writer's own handle (failing here if the store cannot be opened) and starts it. */
int swr_start(struct swr **out, const struct swr_config *cfg, struct err *err);
/* Leased: the key goes when the writer's lease does. */
void swr_put(struct swr *w, const char *key, const char *value);
void swr_delete(struct swr *w, const char *key);
/* What the writer did, for /metrics: every store call it made, timed. */
struct swr_stats {
	uint64_t calls, errors;      /* store calls (writes, lease grants and renewals); failed */
	struct prom_hist latency;    /* seconds per call, over prom_latency_bounds */
	bool failing;                /* the last call failed: the store is unreachable or refusing */
	size_t pending;              /* keys waiting to be written */
};

void swr_get_stats(struct swr *w, struct swr_stats *out);
/* Writes what it can within wait_s seconds, revokes the lease, stops and frees the writer. */
void swr_stop(struct swr *w, double wait_s);

#endif
