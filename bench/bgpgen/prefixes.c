#include "prefixes.h"

#include <string.h>
#include <sys/socket.h>

#define WORD_BASE 65536u
#define SHORT_EVERY 50u

static unsigned
full_len(int family)
{
	return family == AF_INET ? 24 : 48;
}

/* The length of index i: full, or 8..1 bits shorter for every 50th. */
static unsigned
len_of(int family, uint32_t i)
{
	return i % SHORT_EVERY == SHORT_EVERY - 1 ? full_len(family) - 8 + (i / SHORT_EVERY) % 8
						   : full_len(family);
}

/* Writes word w (its low bits beyond len cleared) where the family keeps it. */
static void
put_word(int family, uint32_t w, unsigned len, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr.family = family;
	p->len = (uint8_t)len;
	w &= ~0u << (full_len(family) - len);
	if (family == AF_INET) {
		p->addr.b[0] = (uint8_t)(w >> 16);
		p->addr.b[1] = (uint8_t)(w >> 8);
		p->addr.b[2] = (uint8_t)w;
	} else {
		p->addr.b[0] = 0x2a;
		p->addr.b[1] = 0x00;
		p->addr.b[2] = (uint8_t)(w >> 24);
		p->addr.b[3] = (uint8_t)(w >> 16);
		p->addr.b[4] = (uint8_t)(w >> 8);
		p->addr.b[5] = (uint8_t)w;
	}
}

void
bench_prefix(int family, uint32_t i, struct prefix *p)
{
	put_word(family, i + WORD_BASE, len_of(family, i), p);
}

bool
bench_prefix_index(const struct prefix *p, uint32_t *i)
{
	unsigned full = full_len(p->addr.family), span;
	uint32_t w;
	struct prefix back;

	if (p->len > full || p->len < full - 8)
		return false;
	if (p->addr.family == AF_INET)
		w = (uint32_t)p->addr.b[0] << 16 | (uint32_t)p->addr.b[1] << 8 | p->addr.b[2];
	else
		w = (uint32_t)p->addr.b[2] << 24 | (uint32_t)p->addr.b[3] << 16 |
		    (uint32_t)p->addr.b[4] << 8 | p->addr.b[5];
	/* A shortened prefix covers up to 256 words; exactly one index in them is it. */
	span = 1u << (full - p->len);
	for (unsigned k = 0; k < span; k++) {
		if (w + k < WORD_BASE)
			continue;
		if (len_of(p->addr.family, w + k - WORD_BASE) != p->len)
			continue;
		bench_prefix(p->addr.family, w + k - WORD_BASE, &back);
		if (back.len == p->len && back.addr.family == p->addr.family &&
		    memcmp(back.addr.b, p->addr.b, sizeof(back.addr.b)) == 0) {
			*i = w + k - WORD_BASE;
			return true;
		}
	}
	return false;
}
