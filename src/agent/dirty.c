#include "agent/dirty.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"

static int
key5_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 5);
}

static int
key17_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 17);
}

void
dirty_push(struct dirty *d, const struct prefix *p)
{
	uint8_t *k;

	if (d->size == 0) {
		d->family = p->addr.family;
		d->alen = (uint8_t)(addr_bits(&p->addr) / 8);
		/* IPv4: 8 bytes keep the keys aligned for the sort's copies. */
		d->size = p->addr.family == AF_INET ? 8 : 17;
	}
	if (p->addr.family != d->family)
		fatal("dirty: a prefix of another family than the list's");
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 1024;
		d->v = xrealloc(d->v, d->cap * d->size);
	}
	k = d->v + d->n++ * d->size;
	memset(k, 0, d->size);
	memcpy(k, p->addr.b, d->alen);
	k[d->alen] = p->len;
}

size_t
dirty_pending(const struct dirty *d)
{
	return d->n - d->off;
}

void
dirty_compact(struct dirty *d)
{
	size_t n = dirty_pending(d), k = 0, cmp = (size_t)d->alen + 1;

	if (n == 0) {
		dirty_clear(d);
		return;
	}
	memmove(d->v, d->v + d->off * d->size, n * d->size);
	qsort(d->v, n, d->size, d->alen == 4 ? key5_cmp : key17_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || memcmp(d->v + i * d->size, d->v + (k - 1) * d->size, cmp) != 0)
			memmove(d->v + k++ * d->size, d->v + i * d->size, d->size);
	d->n = d->floor = k;
	d->off = 0;
}

size_t
dirty_take(struct dirty *d, struct prefix *out, size_t max)
{
	size_t n = dirty_pending(d) < max ? dirty_pending(d) : max;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *k = d->v + (d->off + i) * d->size;

		memset(&out[i], 0, sizeof(out[i]));
		out[i].addr.family = d->family;
		memcpy(out[i].addr.b, k, d->alen);
		out[i].len = k[d->alen];
	}
	d->off += n;
	return n;
}

void
dirty_clear(struct dirty *d)
{
	d->n = d->off = d->floor = 0;
}

void
dirty_free(struct dirty *d)
{
	free(d->v);
	*d = (struct dirty){0};
}
