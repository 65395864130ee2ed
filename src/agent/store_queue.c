/*
 * The coalescing write queue (store_queue.h): a chained hash of keys, each with its
 * latest operation, and a FIFO list of the pending ones.
 */
#include "agent/store_queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

struct entry {
	char *key;
	char *value; /* NULL: delete */
	bool leased;
	bool pending;
	struct entry *hnext;	   /* hash chain */
	struct entry *prev, *next; /* pending list, while pending */
};

struct swq {
	struct entry **slot;
	size_t nslot, nkeys, npending, bytes;
	struct entry *head, *tail;
};

/* FNV-1a: the keys are our own status keys, not chosen by a peer. */
static size_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)h;
}

struct swq *
swq_new(void)
{
	struct swq *q = xcalloc(1, sizeof(*q));

	q->nslot = 64;
	q->slot = xcalloc(q->nslot, sizeof(*q->slot));
	return q;
}

static size_t
value_bytes(const char *v)
{
	return v ? strlen(v) + 1 : 0;
}

static void
entry_free(struct swq *q, struct entry *e)
{
	q->bytes -= strlen(e->key) + 1 + value_bytes(e->value);
	free(e->key);
	free(e->value);
	free(e);
}

void
swq_free(struct swq *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->nslot; i++) {
		struct entry *e = q->slot[i], *n;

		for (; e; e = n) {
			n = e->hnext;
			entry_free(q, e);
		}
	}
	free(q->slot);
	free(q);
}

static struct entry **
find(struct swq *q, const char *key)
{
	struct entry **pp = &q->slot[hash(key) & (q->nslot - 1)];

	while (*pp && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
grow(struct swq *q)
{
	size_t n = q->nslot * 2;
	struct entry **slot = xcalloc(n, sizeof(*slot));

	for (size_t i = 0; i < q->nslot; i++) {
		struct entry *e = q->slot[i], *next;

		for (; e; e = next) {
			size_t h = hash(e->key) & (n - 1);

			next = e->hnext;
			e->hnext = slot[h];
			slot[h] = e;
		}
	}
	free(q->slot);
	q->slot = slot;
	q->nslot = n;
}

static void
unlink_pending(struct swq *q, struct entry *e)
{
	if (!e->pending)
		return;
	*(e->prev ? &e->prev->next : &q->head) = e->next;
	*(e->next ? &e->next->prev : &q->tail) = e->prev;
	e->prev = e->next = NULL;
	e->pending = false;
	q->npending--;
}

static void
pend_tail(struct swq *q, struct entry *e)
{
	if (e->pending)
		return;
	e->prev = q->tail;
	e->next = NULL;
	*(q->tail ? &q->tail->next : &q->head) = e;
	q->tail = e;
	e->pending = true;
	q->npending++;
}

static void
pend_head(struct swq *q, struct entry *e)
{
	if (e->pending)
		return;
	e->prev = NULL;
	e->next = q->head;
	*(q->head ? &q->head->prev : &q->tail) = e;
	q->head = e;
	e->pending = true;
	q->npending++;
}

/* Sets key's latest operation and makes it pending (keeping its place if it already was). */
static void
set(struct swq *q, const char *key, const char *value, bool leased)
{
	struct entry **pp = find(q, key), *e = *pp;

	if (e == NULL) {
		if (q->nkeys + 1 > q->nslot) {
			grow(q);
			pp = find(q, key);
		}
		e = xcalloc(1, sizeof(*e));
		e->key = xstrdup(key);
		q->bytes += strlen(key) + 1;
		*pp = e;
		q->nkeys++;
	}
	q->bytes -= value_bytes(e->value);
	free(e->value);
	e->value = value ? xstrdup(value) : NULL;
	q->bytes += value_bytes(e->value);
	e->leased = leased;
	pend_tail(q, e);
}

void
swq_put(struct swq *q, const char *key, const char *value, bool leased)
{
	set(q, key, value, leased);
}

void
swq_delete(struct swq *q, const char *key)
{
	set(q, key, NULL, false);
}

size_t
swq_take(struct swq *q, struct swq_op *out, size_t max)
{
	size_t n = 0;

	while (n < max && q->head != NULL) {
		struct entry *e = q->head;

		out[n].key = xstrdup(e->key);
		out[n].value = e->value ? xstrdup(e->value) : NULL;
		out[n].leased = e->leased;
		n++;
		unlink_pending(q, e);
	}
	return n;
}

/* A written operation: a delete, or a put with nothing to redo after a lease loss, is forgotten. */
static void
forget(struct swq *q, const char *key)
{
	struct entry **pp = find(q, key), *e = *pp;

	if (e == NULL || e->pending || (e->value != NULL && e->leased))
		return;
	*pp = e->hnext;
	q->nkeys--;
	entry_free(q, e);
}

void
swq_done(struct swq *q, struct swq_op *v, size_t n, bool ok)
{
	/* Back to the head in reverse, so the failed batch keeps its order. */
	for (size_t i = n; i-- > 0;) {
		struct entry *e = *find(q, v[i].key);

		if (ok)
			forget(q, v[i].key);
		else if (e != NULL)
			pend_head(q, e);
		free(v[i].key);
		free(v[i].value);
	}
}

void
swq_repend_leased(struct swq *q)
{
	for (size_t i = 0; i < q->nslot; i++)
		for (struct entry *e = q->slot[i]; e; e = e->hnext)
			if (e->leased && e->value != NULL)
				pend_tail(q, e);
}

size_t
swq_pending(const struct swq *q)
{
	return q->npending;
}

size_t
swq_keys(const struct swq *q)
{
	return q->nkeys;
}

size_t
swq_bytes(const struct swq *q)
{
	return q->bytes;
}
