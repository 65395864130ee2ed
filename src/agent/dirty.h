/*
 * dirty: a session's prefixes to judge again for its peer, in arrival order,
 * packed for one address family (an IPv4 prefix in 8 bytes, IPv6 in 8 while
 * every one is at most /56, else 17, where struct prefix takes 24): during a
 * full table the list holds about one entry per route, so its size is part of
 * the memory per path. Keys sort in prefix_cmp's order without decoding: 8-byte
 * ones as integers, 17-byte ones as bytes.
 */
#ifndef TABBY_AGENT_DIRTY_H
#define TABBY_AGENT_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

struct dirty {
	uint8_t *v;        /* n keys of size bytes: the address, then the length */
	size_t n, cap;
	size_t off;        /* judged up to here */
	size_t floor;      /* distinct prefixes the last fold left */
	int family;        /* of every key (set by the first one) */
	uint8_t size;       /* of a key: 8 (an integer) or 17 (IPv6 bytes) */
	bool passing;      /* dirty_begin_pass sorted it, dirty_clear not yet called */
};

/* Appends p (of the list's family: a list never mixes them). */
void dirty_push(struct dirty *d, const struct prefix *p);
size_t dirty_pending(const struct dirty *d);
/* Sorts the pending part to the front, without repeats. */
void dirty_compact(struct dirty *d);
/* Before taking: a new pass (after a clear) sorts the pending part first (dirty_compact). */
void dirty_begin_pass(struct dirty *d);
/* Up to max pending prefixes into out, judged from then on; how many. The keys
 * judged may go (the pending ones move down over them). */
size_t dirty_take(struct dirty *d, struct prefix *out, size_t max);
/* Empty, keeping the memory. */
void dirty_clear(struct dirty *d);
void dirty_free(struct dirty *d);

#endif
