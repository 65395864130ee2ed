#include "lib/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int
addr_parse(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return -1;
	if (strchr(s, ':') != NULL) {
		out->family = AF_INET6;
		return inet_pton(AF_INET6, s, out->b) == 1 ? 0 : -1;
	}
	out->family = AF_INET;
	return inet_pton(AF_INET, s, out->b) == 1 ? 0 : -1;
}

void
addr_format(const struct addr *a, char buf[ADDR_STRLEN])
{
	/* glibc's inet_ntop already prints RFC 5952 text for IPv6. */
	if (inet_ntop(a->family, a->b, buf, ADDR_STRLEN) == NULL)
		snprintf(buf, ADDR_STRLEN, "?");
}

bool
addr_is_v4(const struct addr *a)
{
	return a->family == AF_INET;
}

unsigned
addr_bits(const struct addr *a)
{
	return addr_is_v4(a) ? 32 : 128;
}

void
addr_from_u32(uint32_t v, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->b[0] = (uint8_t)(v >> 24);
	out->b[1] = (uint8_t)(v >> 16);
	out->b[2] = (uint8_t)(v >> 8);
	out->b[3] = (uint8_t)v;
}

uint32_t
addr_to_u32(const struct addr *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

int
addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return addr_is_v4(a) ? -1 : 1;
	/* IPv4 as one integer (sorts of a full table call this millions of times). */
	if (addr_is_v4(a)) {
		uint32_t x = addr_to_u32(a), y = addr_to_u32(b);

		return (x > y) - (x < y);
	}
	return memcmp(a->b, b->b, 16);
}

const char *
addr_not_unicast(const struct addr *a)
{
	static const uint8_t zero[16];

	if (addr_is_v4(a)) {
		if (a->b[0] == 0)
			return "addresses in 0.0.0.0/8 are not usable (RFC 1122)";
		if (a->b[0] == 127)
			return "it is a loopback address";
		if (a->b[0] >= 224 && a->b[0] <= 239)
			return "it is a multicast address";
		if (a->b[0] >= 240)
			return "addresses in 240.0.0.0/4 are reserved or broadcast";
		return NULL;
	}
	if (memcmp(a->b, zero, 16) == 0)
		return "it is the unspecified address";
	if (memcmp(a->b, zero, 15) == 0 && a->b[15] == 1)
		return "it is the loopback address";
	if (a->b[0] == 0xff)
		return "it is a multicast address";
	return NULL;
}

int
addr_parse_cidr(const char *s, struct addr *a, unsigned *len)
{
	char buf[ADDR_STRLEN + 8], *slash, *end;
	unsigned long l;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (addr_parse(buf, a) != 0 || slash[1] < '0' || slash[1] > '9')
		return -1;
	l = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || l > addr_bits(a))
		return -1;
	*len = (unsigned)l;
	return 0;
}

int
prefix_parse(const char *s, struct prefix *out, struct err *err)
{
	char host[ADDR_STRLEN + 1], *end;
	const char *slash;
	unsigned long len;
	size_t hl;

	memset(out, 0, sizeof(*out));
	slash = s ? strchr(s, '/') : NULL;
	if (slash == NULL) {
		err_set(err, "'%s' is not a prefix: expected ADDRESS/LENGTH, e.g. 203.0.113.0/24 "
			     "or 2001:db8::/48", s ? s : "");
		return -1;
	}
	hl = (size_t)(slash - s);
	if (hl < sizeof(host)) {
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (hl == 0 || hl >= sizeof(host) || addr_parse(host, &out->addr) != 0) {
		err_set(err, "'%s' is not a prefix: '%.*s' is not an IPv4 or IPv6 address", s,
			(int)hl, s);
		return -1;
	}
	if (slash[1] < '0' || slash[1] > '9') {
		err_set(err, "'%s' is not a prefix: the length after '/' must be a number", s);
		return -1;
	}
	len = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || len > addr_bits(&out->addr)) {
		err_set(err, "'%s' is not a prefix: the length must be 0-%u for IPv%c", s,
			addr_bits(&out->addr), addr_is_v4(&out->addr) ? '4' : '6');
		return -1;
	}
	out->len = (uint8_t)len;
	for (unsigned bit = out->len; bit < addr_bits(&out->addr); bit++) {
		if (out->addr.b[bit / 8] & (0x80 >> (bit % 8))) {
			struct prefix fixed = *out;
			char buf[PREFIX_STRLEN];

			for (unsigned b = out->len; b < addr_bits(&fixed.addr); b++)
				fixed.addr.b[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
			prefix_format(&fixed, buf);
			err_set(err, "'%s' is not a prefix: host bits are set (did you mean %s?)", s,
				buf);
			return -1;
		}
	}
	return 0;
}

static void
prefix_format_sep(const struct prefix *p, char sep, char buf[PREFIX_STRLEN])
{
	char a[ADDR_STRLEN];

	addr_format(&p->addr, a);
	snprintf(buf, PREFIX_STRLEN, "%s%c%u", a, sep, p->len);
}

void
prefix_format(const struct prefix *p, char buf[PREFIX_STRLEN])
{
	prefix_format_sep(p, '/', buf);
}

void
prefix_key(const struct prefix *p, char buf[PREFIX_STRLEN])
{
	prefix_format_sep(p, '-', buf);
}

int
prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int c = addr_cmp(&a->addr, &b->addr);

	if (c != 0)
		return c;
	return (int)a->len - (int)b->len;
}
