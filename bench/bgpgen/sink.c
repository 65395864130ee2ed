/* The sink: one session that receives the daemon's exports and checks them off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bgp/attr.h"
#include "bgp/rw.h"
#include "bgpgen.h"
#include "prefixes.h"

#define QUIET_NS (2 * 1000000000LL)
#define SHOW_UNEXPECTED 5

/*
 * bits: the prefixes the sink has. With a churn (every > 0) a withdrawal takes a
 * prefix away again, and fresh marks the churned prefixes (index a multiple of
 * every) that came back with the churn community.
 */
static struct {
	uint64_t total, seen, unexpected, duplicate, withdrawn, malformed;
	uint64_t every, nchurn, fresh_n, stale;
	uint8_t *bits, *fresh;
	long long last_update;
} sk;

static bool
bit(const uint8_t *b, uint32_t i)
{
	return b[i / 8] & (1u << (i % 8));
}

static void
set_bit(uint8_t *b, uint32_t i, bool on)
{
	if (on)
		b[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		b[i / 8] &= (uint8_t)~(1u << (i % 8));
}

static void
unexpected(const struct prefix *p, const char *what)
{
	char text[PREFIX_STRLEN];

	if (sk.unexpected++ < SHOW_UNEXPECTED) {
		prefix_format(p, text);
		fprintf(stderr, "bgpgen sink: unexpected %s %s\n", what, text);
	}
}

static void
announce(const struct prefix *p, bool churn_comm)
{
	uint32_t i;
	bool churned;

	if (!bench_prefix_index(p, &i) || i >= sk.total) {
		unexpected(p, "prefix");
		return;
	}
	churned = sk.every > 0 && i % sk.every == 0;
	if (churn_comm && !churned) {
		unexpected(p, "churn community on");
		return;
	}
	if (churned && churn_comm != bit(sk.fresh, i)) {
		/* The churned route replaces the old one (implicit withdrawal), or an old
		 * route comes back after the new one: that is stale. */
		if (!churn_comm)
			sk.stale++;
		set_bit(sk.fresh, i, churn_comm);
		sk.fresh_n += churn_comm ? 1 : -1;
	} else if (bit(sk.bits, i)) {
		sk.duplicate++;
		return;
	}
	if (!bit(sk.bits, i)) {
		set_bit(sk.bits, i, true);
		sk.seen++;
	}
}

static void
withdraw(const struct prefix *p)
{
	uint32_t i;

	sk.withdrawn++;
	if (sk.every == 0 || !bench_prefix_index(p, &i) || i >= sk.total)
		return;   /* without a churn, a withdrawal is only counted */
	if (bit(sk.bits, i)) {
		set_bit(sk.bits, i, false);
		sk.seen--;
	}
	if (bit(sk.fresh, i)) {
		set_bit(sk.fresh, i, false);
		sk.fresh_n--;
	}
}

/* The prefixes of one family in r (the codec's NLRI reader). */
static int
prefixes(struct rd *r, int family, bool withdrawn, bool churn_comm)
{
	struct prefix p;
	int rc;

	while ((rc = bgp_nlri_next(r, family, &p)) == 1) {
		if (withdrawn)
			withdraw(&p);
		else
			announce(&p, churn_comm);
	}
	return rc;
}

/* Whether a COMMUNITIES value holds the churn community. */
static bool
has_churn_community(const struct bgp_attr_raw *a)
{
	struct rd v = rd_init(a->val, a->len);
	uint32_t c;

	while (rd_u32(&v, &c) == 0)
		if (c == BGPGEN_CHURN_COMMUNITY)
			return true;
	return false;
}

/* MP_REACH or MP_UNREACH value: IPv4/IPv6 unicast only; the next hop is skipped. */
static int
mp(const struct bgp_attr_raw *a, bool churn_comm)
{
	struct rd v = rd_init(a->val, a->len);
	bool reach = a->type == BGP_ATTR_MP_REACH;
	uint16_t afi;
	uint8_t safi, nhlen, reserved;
	const uint8_t *skip;

	if (rd_u16(&v, &afi) != 0 || rd_u8(&v, &safi) != 0 || (afi != 1 && afi != 2) || safi != 1)
		return -1;
	if (reach && (rd_u8(&v, &nhlen) != 0 || rd_bytes(&v, nhlen, &skip) != 0 ||
		      rd_u8(&v, &reserved) != 0))
		return -1;
	return prefixes(&v, afi == 1 ? AF_INET : AF_INET6, !reach, churn_comm);
}

/* Only NLRI matter here: withdrawn routes, MP_REACH/MP_UNREACH, NLRI. */
static int
update(const uint8_t *body, size_t len)
{
	struct bgp_update u;
	struct bgp_notif err;
	struct bgp_attr_raw a;
	struct rd wd, attrs, nlri;
	bool churn_comm = false;
	int rc;

	if (bgp_update_frame(body, len, &u, &err) != 0)
		return -1;
	wd = rd_init(u.withdrawn, u.withdrawn_len);
	attrs = rd_init(u.attrs, u.attrs_len);
	nlri = rd_init(u.nlri, u.nlri_len);
	if (prefixes(&wd, AF_INET, true, false) != 0)
		return -1;
	/* The communities first: MP_REACH may come before them. */
	while ((rc = bgp_attr_next(&attrs, &a)) == BGP_ATTR_FRAME_OK)
		if (a.type == BGP_ATTR_COMMUNITIES && has_churn_community(&a))
			churn_comm = true;
	if (rc != BGP_ATTR_FRAME_END)
		return -1;
	attrs = rd_init(u.attrs, u.attrs_len);
	while ((rc = bgp_attr_next(&attrs, &a)) == BGP_ATTR_FRAME_OK)
		if ((a.type == BGP_ATTR_MP_REACH || a.type == BGP_ATTR_MP_UNREACH) && mp(&a, churn_comm) != 0)
			return -1;
	if (rc != BGP_ATTR_FRAME_END)
		return -1;
	return prefixes(&nlri, AF_INET, false, churn_comm);
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
	struct addr local, peer;
	struct conn c;
	uint32_t as = (uint32_t)strtoul(argv[2], NULL, 10);
	uint64_t n = strtoull(argv[3], NULL, 10), m = strtoull(argv[4], NULL, 10);
	long long last_ka = 0, last_progress = 0, done_at = 0, churned_at = 0, retry_at = 0;
	const char *ch = getenv("BGPGEN_CHURN");
	uint64_t shown = UINT64_MAX;
	bool final = false;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)argc;
	if (addr_parse(argv[0], &local) != 0 || addr_parse(argv[1], &peer) != 0 ||
	    local.family != family || peer.family != family || n == 0 || m == 0 || ep < 0)
		die("bad arguments (addresses must match the family: -6 for IPv6)");
	sk.total = n * m;
	sk.every = ch ? strtoull(ch, NULL, 10) : 0;
	sk.nchurn = sk.every ? (sk.total + sk.every - 1) / sk.every : 0;
	sk.bits = calloc(sk.total / 8 + 1, 1);
	sk.fresh = calloc(sk.total / 8 + 1, 1);
	if (sk.bits == NULL || sk.fresh == NULL)
		die("out of memory");
	/* Identifier: its IPv4 address, or 198.18.255.2 for an IPv6-only sink. */
	conn_init(&c, &local, &peer, as, addr_is_v4(&local) ? addr_to_u32(&local) : 0xc612ff02u);
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
		if (done_at != 0 && sk.every > 0 && churned_at == 0 && sk.fresh_n == sk.nchurn &&
		    sk.seen == sk.total) {
			churned_at = sk.last_update;
			say("churned %lld %llu", churned_at, (unsigned long long)sk.fresh_n);
		}
		if (done_at != 0 && (sk.every == 0 || churned_at != 0) && !final &&
		    now - sk.last_update >= QUIET_NS) {
			final = true;
			if (sk.every == 0)
				say("final seen=%llu unexpected=%llu duplicate=%llu withdrawn=%llu malformed=%llu",
				    (unsigned long long)sk.seen, (unsigned long long)sk.unexpected,
				    (unsigned long long)sk.duplicate, (unsigned long long)sk.withdrawn,
				    (unsigned long long)sk.malformed);
			else
				say("final seen=%llu unexpected=%llu duplicate=%llu withdrawn=%llu stale=%llu "
				    "malformed=%llu churned=%llu",
				    (unsigned long long)sk.seen, (unsigned long long)sk.unexpected,
				    (unsigned long long)sk.duplicate, (unsigned long long)sk.withdrawn,
				    (unsigned long long)sk.stale, (unsigned long long)sk.malformed,
				    (unsigned long long)sk.fresh_n);
		}
	}
}
