/*
 * store_queue: the datastore writes a process still owes, coalesced per key.
 *
 * A pure data structure (no threads, no store, no clock): the caller adds puts and
 * deletes, takes a batch of what is pending, writes it however its backend does, and
 * reports back. Per key only the latest operation is kept (a put replaces an earlier
 * put, a delete replaces a put and the reverse), so memory is bounded by the number of
 * distinct keys, never by the number of changes. Pending keys come out oldest first
 * (by when each became pending), so a key changed all the time does not starve others.
 *
 * Leased puts stay known after they are written: when the lease is lost, swq_repend_leased
 * makes every live leased key pending again, so the new lease gets the current values.
 */
#ifndef TABBY_STORE_QUEUE_H
#define TABBY_STORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct swq;

/* One operation taken for writing; value NULL is a delete. The strings are copies. */
struct swq_op {
	char *key;
	char *value;
	bool leased;
};

struct swq *swq_new(void);
void swq_free(struct swq *q);

void swq_put(struct swq *q, const char *key, const char *value, bool leased);
void swq_delete(struct swq *q, const char *key);

/* Moves up to max pending operations into out (oldest first); returns how many. */
size_t swq_take(struct swq *q, struct swq_op *out, size_t max);
/*
 * After a take: ok, the operations reached the store; else they go back to the head of
 * the queue, unless the key changed again since (then the newer operation is pending).
 * Frees the copies in v either way.
 */
void swq_done(struct swq *q, struct swq_op *v, size_t n, bool ok);
/* The lease is gone: every live leased key is to be written again. */
void swq_repend_leased(struct swq *q);

size_t swq_pending(const struct swq *q);
size_t swq_keys(const struct swq *q);  /* keys held: pending, or leased and live */
size_t swq_bytes(const struct swq *q); /* bytes of keys and values held */

#endif
