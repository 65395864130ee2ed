#include "agent/dirty.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"

#define DIRTY_SHIFT_MIN 4096  /* keys judged before the list moves down over them */

/*
 * An IPv4 key is one integer, the address then the length (addr << 8 | len): it
 * sorts in prefix_cmp's order as a number, and is pushed, sorted, folded and
 * taken without a byte copy (those copies were a tenth of a full table's time).
 */
static inline uint64_t
key4_make(const struct prefix *p)
{
	uint32_t a;

	memcpy(&a, p->addr.b, 4);
	return (uint64_t)__builtin_bswap32(a) << 8 | p->len;
}

static inline void
key4_prefix(uint64_t k, struct prefix *p)
{
	uint32_t a = __builtin_bswap32((uint32_t)(k >> 8));

	memset(p, 0, sizeof(*p));
	p->addr.family = AF_INET;
	memcpy(p->addr.b, &a, 4);
	p->len = (uint8_t)k;
}

#define RADIX_BITS 10
#define RADIX_PASSES 4  /* 40 bits: the address and the length; even (see below) */

/*
 * IPv4 keys sorted as 40-bit integers, least significant digit first: four
 * linear passes where qsort's comparisons were a fifth of a churn's time.
 */
static void
sort_keys4(uint64_t *a, size_t n)
{
	/* An even number of passes brings the keys back to a. */
	uint64_t *b = xmalloc(n * sizeof(*b)), *t;
	size_t count[1u << RADIX_BITS];

	for (int pass = 0; pass < RADIX_PASSES; pass++) {
		unsigned shift = (unsigned)pass * RADIX_BITS;
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(a[i] >> shift) & ((1u << RADIX_BITS) - 1)]++;
		for (size_t d = 0; d < (1u << RADIX_BITS); d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[(a[i] >> shift) & ((1u << RADIX_BITS) - 1)]++] = a[i];
		t = a, a = b, b = t;
	}
	free(b);
}

#define KEY6 17  /* an IPv6 key: 16 address bytes, then the length */

/*
 * IPv6 keys sorted a byte at a time, least significant first, over only the
 * byte positions where some key differs from the first (a table's prefixes share
 * most of their 17 bytes): a handful of linear passes, where qsort's memcmp
 * calls cost more than the rest of a full table's export.
 */
static void
sort_keys6(uint8_t *v, size_t n)
{
	uint8_t vary[KEY6] = {0}, *a = v, *b, *t;
	size_t count[256];

	for (size_t i = 1; i < n; i++)
		for (int j = 0; j < KEY6; j++)
			vary[j] |= v[i * KEY6 + j] ^ v[j];
	b = xmalloc(n * KEY6);
	for (int j = KEY6 - 1; j >= 0; j--) {
		size_t sum = 0;

		if (vary[j] == 0)
			continue;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[a[i * KEY6 + j]]++;
		for (size_t d = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			memcpy(b + count[a[i * KEY6 + j]]++ * KEY6, a + i * KEY6, KEY6);
		t = a, a = b, b = t;
	}
	if (a != v) {
		memcpy(v, a, n * KEY6);
		b = a;
	}
	free(b);
}

void
dirty_push(struct dirty *d, const struct prefix *p)
{
	uint8_t *k;

	if (d->size == 0) {
		d->family = p->addr.family;
		/* IPv4: one 8-byte integer (key4_make). */
		d->size = p->addr.family == AF_INET ? 8 : KEY6;
	}
	if (p->addr.family != d->family)
		fatal("dirty: a prefix of another family than the list's");
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 1024;
		d->v = xrealloc(d->v, d->cap * d->size);
	}
	if (d->size == 8) {
		((uint64_t *)(void *)d->v)[d->n++] = key4_make(p);
		return;
	}
	/* Constant sizes: a memcpy of a variable 16 bytes was a rep movs, slow to start. */
	k = d->v + d->n++ * KEY6;
	memcpy(k, p->addr.b, 16);
	k[16] = p->len;
}

size_t
dirty_pending(const struct dirty *d)
{
	return d->n - d->off;
}

void
dirty_compact(struct dirty *d)
{
	size_t n = dirty_pending(d), k = 0;

	if (n == 0) {
		dirty_clear(d);
		return;
	}
	memmove(d->v, d->v + d->off * d->size, n * d->size);
	if (d->size == 8) {
		uint64_t *v = (uint64_t *)(void *)d->v;

		sort_keys4(v, n);
		for (size_t i = 0; i < n; i++)
			if (k == 0 || v[i] != v[k - 1])
				v[k++] = v[i];
		d->n = d->floor = k;
		d->off = 0;
		return;
	}
	sort_keys6(d->v, n);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || memcmp(d->v + i * KEY6, d->v + (k - 1) * KEY6, KEY6) != 0)
			memmove(d->v + k++ * KEY6, d->v + i * KEY6, KEY6);
	d->n = d->floor = k;
	d->off = 0;
}

void
dirty_begin_pass(struct dirty *d)
{
	if (d->passing)
		return;
	dirty_compact(d);
	d->passing = true;
}

size_t
dirty_take(struct dirty *d, struct prefix *out, size_t max)
{
	size_t n = dirty_pending(d) < max ? dirty_pending(d) : max;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *k = d->v + (d->off + i) * d->size;

		if (d->size == 8) {
			key4_prefix(*(const uint64_t *)(const void *)k, &out[i]);
			continue;
		}
		memset(&out[i], 0, sizeof(out[i]));
		out[i].addr.family = AF_INET6;
		memcpy(out[i].addr.b, k, 16);
		out[i].len = k[16];
	}
	d->off += n;
	/* What was judged goes once it is half the list: a pass that new changes keep
	 * extending holds what is pending, not every change since the list was empty. */
	if (d->off >= DIRTY_SHIFT_MIN && d->off >= d->n - d->off) {
		memmove(d->v, d->v + d->off * d->size, (d->n - d->off) * d->size);
		d->n -= d->off;
		d->off = 0;
	}
	return n;
}

void
dirty_clear(struct dirty *d)
{
	d->n = d->off = d->floor = 0;
	d->passing = false;
}

void
dirty_free(struct dirty *d)
{
	free(d->v);
	*d = (struct dirty){0};
}
