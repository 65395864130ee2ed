/*
 * rw: the only way tabby reads or writes wire bytes. The reader fails
 * (returns -1) instead of reading past its end; the writer records an
 * overflow instead of writing past its buffer, so encoders check once.
 */
#ifndef TABBY_BGP_RW_H
#define TABBY_BGP_RW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	size_t len, off;
};

static inline struct rd
rd_init(const uint8_t *p, size_t len)
{
	struct rd r = {p, len, 0};

	return r;
}

static inline size_t
rd_left(const struct rd *r)
{
	return r->len - r->off;
}

static inline int
rd_u8(struct rd *r, uint8_t *v)
{
	if (rd_left(r) < 1)
		return -1;
	*v = r->p[r->off++];
	return 0;
}

static inline int
rd_u16(struct rd *r, uint16_t *v)
{
	if (rd_left(r) < 2)
		return -1;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

static inline int
rd_u32(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 4)
		return -1;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	     (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return 0;
}

/* Points *out at the next n bytes and skips them. */
static inline int
rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (rd_left(r) < n)
		return -1;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

/* A reader over the next n bytes, which this reader skips. */
static inline int
rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	const uint8_t *p;

	if (rd_bytes(r, n, &p) != 0)
		return -1;
	*sub = rd_init(p, n);
	return 0;
}

struct wr {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
};

static inline struct wr
wr_init(uint8_t *buf, size_t cap)
{
	struct wr w = {buf, cap, 0, false};

	return w;
}

static inline bool
wr_room(struct wr *w, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return false;
	}
	return true;
}

static inline void
wr_u8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1))
		w->buf[w->len++] = v;
}

static inline void
wr_u16(struct wr *w, uint16_t v)
{
	if (wr_room(w, 2)) {
		w->buf[w->len++] = (uint8_t)(v >> 8);
		w->buf[w->len++] = (uint8_t)v;
	}
}

static inline void
wr_u32(struct wr *w, uint32_t v)
{
	if (wr_room(w, 4)) {
		w->buf[w->len++] = (uint8_t)(v >> 24);
		w->buf[w->len++] = (uint8_t)(v >> 16);
		w->buf[w->len++] = (uint8_t)(v >> 8);
		w->buf[w->len++] = (uint8_t)v;
	}
}

static inline void
wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (n > 0 && wr_room(w, n)) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
	}
}

/* Back-patches a 16-bit length written earlier at pos. */
static inline void
wr_put16_at(struct wr *w, size_t pos, uint16_t v)
{
	if (!w->overflow && pos + 2 <= w->len) {
		w->buf[pos] = (uint8_t)(v >> 8);
		w->buf[pos + 1] = (uint8_t)v;
	}
}

#endif
