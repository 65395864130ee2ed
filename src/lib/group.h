/*
 * group: reorders an array of fixed-size items so that items with the same key
 * (a pointer stored in each item) are together, the groups in ascending key
 * order (NULL first), each keeping its items' order. A counting sort through a
 * hash of the keys: O(n) for the few keys a chunk of staged routes has, where
 * a comparison sort moved every item log n times.
 */
#ifndef TABBY_GROUP_H
#define TABBY_GROUP_H

#include <stddef.h>

/* v: n items of size bytes, the key at key_off in each (read with memcpy). */
void group_by_key(void *v, size_t n, size_t size, size_t key_off);

#endif
