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

/*
 * An IPv6 prefix of at most /56 with nothing in its last 72 bits (the whole
 * routing table, in practice) is one integer too: its first 8 bytes, whose last
 * byte is 0, with the length in that byte. The list keeps such keys (8 bytes
 * where 17 were: a pending full table's largest part) until a prefix comes that
 * does not fit; then every key becomes 17 bytes (key6_widen).
 */
static inline bool
key6_fits(const struct prefix *p)
{
	static const uint8_t zero[9];

	return p->len <= 56 && memcmp(p->addr.b + 7, zero, 9) == 0;
}

static inline uint64_t
key6_make(const struct prefix *p)
{
	uint64_t hi;

	memcpy(&hi, p->addr.b, 8);
	return __builtin_bswap64(hi) | p->len;
}

static inline void
key6_prefix(uint64_t k, struct prefix *p)
{
	uint64_t hi = __builtin_bswap64(k & ~(uint64_t)0xff);

	memset(p, 0, sizeof(*p));
	p->addr.family = AF_INET6;
	memcpy(p->addr.b, &hi, 8);
	p->len = (uint8_t)k;
}

#define RADIX_BITS 10

/* A counting pass's counts become where each digit's keys start. */
static void
radix_starts(size_t *count, size_t ndigits)
{
	size_t sum = 0;

	for (size_t d = 0; d < ndigits; d++) {
		size_t c = count[d];

		count[d] = sum;
		sum += c;
	}
}

/* After the passes the keys are in a, v or the scratch buffer: into v, the scratch freed. */
static void
radix_finish(void *v, void *a, void *b, size_t bytes)
{
	if (a != v) {
		memcpy(v, a, bytes);
		b = a;
	}
	free(b);
}

/*
 * Integer keys sorted least significant digit first, over only the digits where
 * some key differs from the first: a few linear passes (four for a full IPv4
 * table) where qsort's comparisons were a fifth of a churn's time.
 */
static void
sort_keys8(uint64_t *v, size_t n, int family)
{
	/* IPv4 keys are 40 bits, every digit of which a table varies: not looked for. */
	uint64_t *a = v, *b = xmalloc(n * sizeof(*b)), *t,
		 vary = family == AF_INET ? ((uint64_t)1 << 40) - 1 : 0;
	size_t count[1u << RADIX_BITS];

	if (family != AF_INET)
		for (size_t i = 1; i < n; i++)
			vary |= v[i] ^ v[0];
	for (unsigned shift = 0; shift < 64; shift += RADIX_BITS) {
		if (((vary >> shift) & ((1u << RADIX_BITS) - 1)) == 0)
			continue;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(a[i] >> shift) & ((1u << RADIX_BITS) - 1)]++;
		radix_starts(count, 1u << RADIX_BITS);
		for (size_t i = 0; i < n; i++)
			b[count[(a[i] >> shift) & ((1u << RADIX_BITS) - 1)]++] = a[i];
		t = a, a = b, b = t;
	}
	radix_finish(v, a, b, n * sizeof(*v));
}

/*
 * Keys mostly come in a few ascending runs: a peer sends its table in order, and a
 * churn withdraws prefixes in order, then announces them again in order. Up to
 * MERGE_RUNS runs are merged a pair at a time (one linear pass per halving; a
 * single run is left as it is), where a radix sort takes four passes, each with
 * a counting pass before it. More runs than that are radix-sorted.
 */
#define MERGE_RUNS 4

static void
merge_keys8(const uint64_t *x, size_t nx, const uint64_t *y, size_t ny, uint64_t *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < nx && j < ny)
		out[k++] = y[j] < x[i] ? y[j++] : x[i++];
	memcpy(out + k, x + i, (nx - i) * sizeof(*x));
	memcpy(out + k + nx - i, y + j, (ny - j) * sizeof(*y));
}

static void
order_keys8(uint64_t *v, size_t n, int family)
{
	size_t start[MERGE_RUNS + 1], runs = 1;
	uint64_t *a = v, *b, *t;

	start[0] = 0;
	for (size_t i = 1; i < n; i++) {
		if (v[i] >= v[i - 1])
			continue;
		if (runs == MERGE_RUNS) {
			sort_keys8(v, n, family);
			return;
		}
		start[runs++] = i;
	}
	if (runs == 1)
		return;
	b = xmalloc(n * sizeof(*b));
	while (runs > 1) {
		size_t r, k = 0;

		start[runs] = n;
		for (r = 0; r + 1 < runs; r += 2) {
			merge_keys8(a + start[r], start[r + 1] - start[r], a + start[r + 1],
				    start[r + 2] - start[r + 1], b + start[r]);
			start[k++] = start[r];
		}
		if (r < runs) {   /* an odd run out: copied as it is */
			memcpy(b + start[r], a + start[r], (n - start[r]) * sizeof(*a));
			start[k++] = start[r];
		}
		runs = k;
		t = a, a = b, b = t;
	}
	radix_finish(v, a, b, n * sizeof(*v));
}

#define KEY6 17  /* an IPv6 key: 16 address bytes, then the length */

/* Constant sizes: a memcpy of a variable 16 bytes was a rep movs, slow to start. */
static inline void
key17_put(uint8_t *k, const struct prefix *p)
{
	memcpy(k, p->addr.b, 16);
	k[16] = p->len;
}

static inline void
key17_prefix(const uint8_t *k, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr.family = AF_INET6;
	memcpy(p->addr.b, k, 16);
	p->len = k[16];
}

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
		if (vary[j] == 0)
			continue;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[a[i * KEY6 + j]]++;
		radix_starts(count, 256);
		for (size_t i = 0; i < n; i++)
			memcpy(b + count[a[i * KEY6 + j]]++ * KEY6, a + i * KEY6, KEY6);
		t = a, a = b, b = t;
	}
	radix_finish(v, a, b, n * KEY6);
}

/* Every IPv6 key from 8 bytes to 17, in place: from the last, whose new place is
 * past every older key's old one. */
static void
key6_widen(struct dirty *d)
{
	const uint64_t *v;

	d->v = xrealloc(d->v, (d->cap ? d->cap : 1) * KEY6);
	v = (const uint64_t *)(const void *)d->v;
	for (size_t i = d->n; i-- > 0;) {
		struct prefix p;

		key6_prefix(v[i], &p);
		key17_put(d->v + i * KEY6, &p);
	}
	d->size = KEY6;
}

void
dirty_push(struct dirty *d, const struct prefix *p)
{
	if (d->size == 0) {
		d->family = p->addr.family;
		/* One 8-byte integer (key4_make, key6_make) while the prefixes allow. */
		d->size = 8;
	}
	if (p->addr.family != d->family)
		fatal("dirty: a prefix of another family than the list's");
	if (d->size == 8 && d->family == AF_INET6 && !key6_fits(p))
		key6_widen(d);
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 1024;
		d->v = xrealloc(d->v, d->cap * d->size);
	}
	if (d->size == 8) {
		((uint64_t *)(void *)d->v)[d->n++] =
			d->family == AF_INET ? key4_make(p) : key6_make(p);
		return;
	}
	key17_put(d->v + d->n++ * KEY6, p);
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

		order_keys8(v, n, d->family);
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
			uint64_t x = *(const uint64_t *)(const void *)k;

			if (d->family == AF_INET)
				key4_prefix(x, &out[i]);
			else
				key6_prefix(x, &out[i]);
			continue;
		}
		key17_prefix(k, &out[i]);
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
