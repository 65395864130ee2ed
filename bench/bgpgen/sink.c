/* The sink: one session that receives the daemon's exports and checks them off. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bgp/attr.h"
#include "bgp/rw.h"
#include "bgpgen.h"
#include "prefixes.h"

#define QUIET_NS (2 * 1000000000LL)
#define SHOW_UNEXPECTED 5

static struct {
	uint64_t total, seen, unexpected, duplicate, withdrawn, malformed;
	uint8_t *bits;
	long long last_update;
} sk;

static void
announce(const struct prefix *p)
{
	uint32_t i;
	char text[PREFIX_STRLEN];

	if (!bench_prefix_index(p, &i) || i >= sk.total) {
		if (sk.unexpected++ < SHOW_UNEXPECTED) {
			prefix_format(p, text);
			fprintf(stderr, "bgpgen sink: unexpected prefix %s\n", text);
		}
		return;
	}
	if (sk.bits[i / 8] & (1u << (i % 8))) {
		sk.duplicate++;
		return;
	}
	sk.bits[i / 8] |= (uint8_t)(1u << (i % 8));
	sk.seen++;
}

/* Prefixes of one family in r; withdrawn ones only counted. -1 if malformed. */
static int
prefixes(struct rd *r, int family, bool withdraw)
{
	unsigned max = family == AF_INET ? 32 : 128;

	while (rd_left(r) > 0) {
		struct prefix p;
		const uint8_t *b;
		uint8_t len;

		if (rd_u8(r, &len) != 0 || len > max || rd_bytes(r, (len + 7u) / 8, &b) != 0)
			return -1;
		if (withdraw) {
			sk.withdrawn++;
			continue;
		}
		memset(&p, 0, sizeof(p));
		p.addr.family = family;
		p.len = len;
		memcpy(p.addr.b, b, (len + 7u) / 8);
		announce(&p);
	}
	return 0;
}

/* MP_REACH (14) or MP_UNREACH (15): IPv4/IPv6 unicast only. */
static int
mp(struct rd *v, bool reach)
{
	uint16_t afi;
	uint8_t safi, nhlen, reserved;
	const uint8_t *skip;

	if (rd_u16(v, &afi) != 0 || rd_u8(v, &safi) != 0 || (afi != 1 && afi != 2) || safi != 1)
		return -1;
	if (reach && (rd_u8(v, &nhlen) != 0 || rd_bytes(v, nhlen, &skip) != 0 ||
		      rd_u8(v, &reserved) != 0))
		return -1;
	return prefixes(v, afi == 1 ? AF_INET : AF_INET6, !reach);
}

/* Only NLRI matter here: withdrawn routes, MP_REACH/MP_UNREACH, NLRI. */
static int
update(const uint8_t *body, size_t len)
{
	struct rd r = rd_init(body, len), wd, attrs, v;
	uint16_t wlen, alen;

	if (rd_u16(&r, &wlen) != 0 || rd_sub(&r, wlen, &wd) != 0 || prefixes(&wd, AF_INET, true) != 0)
		return -1;
	if (rd_u16(&r, &alen) != 0 || rd_sub(&r, alen, &attrs) != 0)
		return -1;
	while (rd_left(&attrs) > 0) {
		uint8_t flags, type, l8;
		uint16_t l;

		if (rd_u8(&attrs, &flags) != 0 || rd_u8(&attrs, &type) != 0)
			return -1;
		if (flags & 0x10) {
			if (rd_u16(&attrs, &l) != 0)
				return -1;
		} else {
			if (rd_u8(&attrs, &l8) != 0)
				return -1;
			l = l8;
		}
		if (rd_sub(&attrs, l, &v) != 0)
			return -1;
		if ((type == 14 || type == 15) && mp(&v, type == 14) != 0)
			return -1;
	}
	return prefixes(&r, AF_INET, false);
}

static void
on_msg(struct conn *c, int type, const uint8_t *msg, size_t len)
{
	(void)c;
	if (type != BGP_UPDATE)
		return;
	sk.last_update = now_ns();
	if (update(msg + BGP_HEADER_LEN, len - BGP_HEADER_LEN) != 0 && sk.malformed++ == 0)
		fprintf(stderr, "bgpgen sink: malformed UPDATE from the daemon\n");
}

int
bgpgen_sink(int family, int argc, char **argv)
{
	struct sockaddr_storage local, peer;
	struct conn c;
	uint32_t as = (uint32_t)strtoul(argv[2], NULL, 10);
	uint64_t n = strtoull(argv[3], NULL, 10), m = strtoull(argv[4], NULL, 10);
	long long last_ka = 0, last_progress = 0, done_at = 0, retry_at = 0;
	uint64_t shown = UINT64_MAX;
	bool final = false;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)argc;
	if (conn_addr_parse(argv[0], 0, &local) != 0 || conn_addr_parse(argv[1], 179, &peer) != 0 ||
	    local.ss_family != family || peer.ss_family != family || n == 0 || m == 0 || ep < 0)
		die("bad arguments (addresses must match the family: -6 for IPv6)");
	sk.total = n * m;
	sk.bits = calloc(sk.total / 8 + 1, 1);
	if (sk.bits == NULL)
		die("out of memory");
	conn_init(&c, &local, &peer, as, ntohl(((struct sockaddr_in *)&local)->sin_addr.s_addr),
		  family == AF_INET6);
	if (family == AF_INET6)
		c.id = 0xc612ff02u;   /* 198.18.255.2: an identifier for an IPv6-only sink */
	c.on_msg = on_msg;
	for (;;) {
		struct epoll_event ev;
		long long now;
		int k;

		if (c.state == CONN_IDLE && now_ns() >= retry_at && conn_connect(&c, ep) != 0)
			retry_at = now_ns() + RETRY_AFTER_NS;
		k = epoll_wait(ep, &ev, 1, 100);
		if (k == 1) {
			enum conn_state before = c.state;

			if (conn_event(&c, ev.events) != 0) {
				if (before == CONN_UP)
					die("the sink's session was lost: %s", c.why);
				retry_at = now_ns() + RETRY_AFTER_NS;
			} else if (before != CONN_UP && c.state == CONN_UP) {
				say("up %lld", c.up_at);
				last_ka = c.up_at;
			}
		}
		now = now_ns();
		if (c.state == CONN_UP && now - last_ka >= KEEPALIVE_EVERY_NS) {
			last_ka = now;
			if (conn_keepalive(&c) != 0)
				die("the sink's session was lost: %s", c.why);
		}
		if (done_at == 0 && sk.seen == sk.total) {
			done_at = sk.last_update;
			say("done %lld %llu", done_at, (unsigned long long)sk.seen);
		}
		if (now - last_progress >= 1000000000LL && sk.seen != shown) {
			last_progress = now;
			shown = sk.seen;
			say("progress %llu", (unsigned long long)sk.seen);
		}
		if (done_at != 0 && !final && now - sk.last_update >= QUIET_NS) {
			final = true;
			say("final seen=%llu unexpected=%llu duplicate=%llu withdrawn=%llu malformed=%llu",
			    (unsigned long long)sk.seen, (unsigned long long)sk.unexpected,
			    (unsigned long long)sk.duplicate, (unsigned long long)sk.withdrawn,
			    (unsigned long long)sk.malformed);
		}
	}
}
