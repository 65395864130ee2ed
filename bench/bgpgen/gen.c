/* The route generator: everything encoded first, then sessions, then one burst. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bgp/attr.h"
#include "bgp/rw.h"
#include "bgpgen.h"
#include "prefixes.h"

struct stream {
	uint8_t *p;
	size_t len, cap;
};

static void
stream_room(struct stream *st, size_t n)
{
	if (st->cap - st->len >= n)
		return;
	while (st->cap - st->len < n)
		st->cap = st->cap ? st->cap * 2 : 65536;
	st->p = realloc(st->p, st->cap);
	if (st->p == NULL)
		die("out of memory encoding UPDATEs");
}

/*
 * Attribute set number k of session s: AS path of 2-6 4-octet ASNs, some MED, a
 * community. A churned route carries BGPGEN_CHURN_COMMUNITY instead (a
 * transitive attribute the daemon passes on: MED would stop at its eBGP border).
 */
static void
attrs_of(struct bgp_attrs *a, uint32_t first_hop, uint32_t set, const struct addr *nh, bool churn)
{
	uint32_t hops = 2 + set % 5, comm = churn ? BGPGEN_CHURN_COMMUNITY : 0xfde80000u | (set & 0xffff);
	uint8_t path[2 + 4 * 8];

	path[0] = BGP_AS_SEQUENCE;
	path[1] = (uint8_t)hops;
	for (uint32_t h = 0; h < hops; h++) {
		uint32_t asn = h == 0 ? first_hop : 4200000000u + set * 7 + h;

		path[2 + 4 * h] = (uint8_t)(asn >> 24);
		path[3 + 4 * h] = (uint8_t)(asn >> 16);
		path[4 + 4 * h] = (uint8_t)(asn >> 8);
		path[5 + 4 * h] = (uint8_t)asn;
	}
	bgp_attrs_build(a, path, 2 + 4 * hops, &comm, churn || set % 3 == 0);
	a->next_hop = *nh;   /* IPv6: MP_REACH carries it */
	if (addr_is_v4(nh))
		a->has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
	if (set % 2) {
		a->med = set;
		a->has |= BGP_HAS(BGP_ATTR_MED);
	}
}

/* Session s's M prefixes, PER to an attribute set, packed into 4096-byte UPDATEs. */
static void
encode_session(struct stream *st, int family, uint32_t s, uint32_t as, uint32_t m, uint32_t per,
	       const struct addr *nh)
{
	struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};
	struct prefix *pfx = calloc(per, sizeof(*pfx));

	if (pfx == NULL)
		die("out of memory");
	for (uint32_t i = 0; i < m; i += per) {
		uint32_t k = m - i < per ? m - i : per;
		struct bgp_attrs attrs;
		size_t done = 0, nw, na;

		attrs_of(&attrs, as, (i / per) % 997, nh, false);
		for (uint32_t j = 0; j < k; j++)
			bench_prefix(family, s * m + i + j, &pfx[j]);
		while (done < k) {
			struct wr w;

			stream_room(st, BGP_MAX_LEN);
			w = wr_init(st->p + st->len, BGP_MAX_LEN);
			bgp_update_encode(&w, BGP_MAX_LEN, NULL, 0, pfx + done, k - done, &attrs, &ectx,
					  &nw, &na);
			if (w.overflow || na == 0)
				die("could not encode an UPDATE");
			st->len += w.len;
			done += na;
		}
		bgp_attrs_free(&attrs);
	}
	free(pfx);
}

/*
 * Session s's churn: its prefixes whose global index is a multiple of EVERY are
 * withdrawn (full UPDATEs of withdrawals), then announced again carrying the churn
 * community, PER to an attribute set. Returns how many.
 */
static uint32_t
encode_churn(struct stream *st, int family, uint32_t s, uint32_t as, uint32_t m, uint32_t per,
	     uint32_t every, const struct addr *nh)
{
	struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};
	struct prefix *pfx = calloc(m / every + 1, sizeof(*pfx));
	uint32_t n = 0;
	size_t done = 0, nw, na;

	if (pfx == NULL)
		die("out of memory");
	for (uint64_t g = (uint64_t)s * m; g < (uint64_t)(s + 1) * m; g++)
		if (g % every == 0)
			bench_prefix(family, (uint32_t)g, &pfx[n++]);
	while (done < n) {
		struct wr w;

		stream_room(st, BGP_MAX_LEN);
		w = wr_init(st->p + st->len, BGP_MAX_LEN);
		bgp_update_encode(&w, BGP_MAX_LEN, pfx + done, n - done, NULL, 0, NULL, &ectx, &nw, &na);
		if (w.overflow || nw == 0)
			die("could not encode a withdrawal");
		st->len += w.len;
		done += nw;
	}
	for (uint32_t i = 0; i < n; i += per) {
		uint32_t k = n - i < per ? n - i : per;
		struct bgp_attrs attrs;

		attrs_of(&attrs, as, (i / per) % 997, nh, true);
		for (done = 0; done < k; done += na) {
			struct wr w;

			stream_room(st, BGP_MAX_LEN);
			w = wr_init(st->p + st->len, BGP_MAX_LEN);
			bgp_update_encode(&w, BGP_MAX_LEN, NULL, 0, pfx + i + done, k - done, &attrs, &ectx,
					  &nw, &na);
			if (w.overflow || na == 0)
				die("could not encode an UPDATE");
			st->len += w.len;
		}
		bgp_attrs_free(&attrs);
	}
	free(pfx);
	return n;
}

/* UPDATEs the daemon sent back to generators (it should send none; End-of-RIB aside). */
static uint64_t returned;

static void
on_msg(struct conn *c, int type, const uint8_t *msg, size_t len)
{
	(void)c;
	(void)msg;
	if (type == BGP_UPDATE && len > 30)
		returned++;
}

struct gen {
	int ep, n, parallel, in_flight, up;
	struct conn *conns;
	int *queue;          /* sessions waiting to (re)connect, FIFO */
	int q_head, q_len;
	long long last_ka;
};

static void
lost(struct conn *c)
{
	char a[ADDR_STRLEN];

	addr_format(&c->local, a);
	die("session %d from %s lost: %s", c->index, a, c->why);
}

/* Generator s's address: the base plus s, in the last 32 bits. */
static struct addr
addr_plus(const struct addr *base, uint32_t s)
{
	struct addr a = *base;
	size_t at = addr_is_v4(base) ? 0 : 12;
	struct rd r = rd_init(a.b + at, 4);
	struct wr w = wr_init(a.b + at, 4);
	uint32_t v = 0;

	rd_u32(&r, &v);
	wr_u32(&w, v + s);
	return a;
}

/* Connect c again after a short wait (the daemon may not listen yet). */
static void
requeue(struct gen *g, struct conn *c)
{
	c->retry_at = now_ns() + RETRY_AFTER_NS;
	g->queue[(g->q_head + g->q_len++) % g->n] = c->index;
}

static void
start_due(struct gen *g)
{
	long long now = now_ns();

	while (g->q_len > 0 && g->in_flight < g->parallel) {
		struct conn *c = &g->conns[g->queue[g->q_head]];

		if (c->retry_at > now)
			break;
		g->q_head = (g->q_head + 1) % g->n;
		g->q_len--;
		if (conn_connect(c, g->ep) == 0)
			g->in_flight++;
		else
			requeue(g, c);
	}
}

/* One round of events; with connecting, failed handshakes are queued again. */
static void
poll_once(struct gen *g, int timeout_ms, bool connecting)
{
	struct epoll_event evs[256];
	int k = epoll_wait(g->ep, evs, 256, timeout_ms);

	for (int i = 0; i < k; i++) {
		struct conn *c = evs[i].data.ptr;
		enum conn_state before = c->state;

		if (conn_event(c, evs[i].events) != 0) {
			/* Before the burst a daemon may still reset sessions (FRR does while it
			 * applies its configuration): connect again. After, it is a failure. */
			if (!connecting)
				lost(c);
			if (before == CONN_UP)
				g->up--;
			else
				g->in_flight--;
			requeue(g, c);
			continue;
		}
		if (before != CONN_UP && c->state == CONN_UP) {
			g->in_flight--;
			g->up++;
		}
	}
	if (now_ns() - g->last_ka >= KEEPALIVE_EVERY_NS) {
		g->last_ka = now_ns();
		for (int s = 0; s < g->n; s++)
			if (conn_keepalive(&g->conns[s]) != 0)
				lost(&g->conns[s]);
	}
}

int
bgpgen_gen(int family, int argc, char **argv)
{
	struct addr base, peer;
	struct gen g = {0};
	uint32_t first_as = (uint32_t)strtoul(argv[3], NULL, 10);
	uint32_t m = (uint32_t)strtoul(argv[4], NULL, 10);
	uint32_t per = argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 10) : 10;
	const char *gofile = argv[5], *par = getenv("BGPGEN_PARALLEL"), *ch = getenv("BGPGEN_CHURN");
	const char *st = getenv("BGPGEN_STEP");
	uint32_t step = st ? (uint32_t)strtoul(st, NULL, 10) : 0;
	uint32_t every = ch ? (uint32_t)strtoul(ch, NULL, 10) : 0, nchurn = 0;
	char churnfile[4096];
	struct stream *streams, *churns;
	size_t total = 0;
	bool churned = false;
	long long last_up = 0, t0;
	int drained = 0;
	uint64_t told = 0;

	g.n = atoi(argv[1]);
	g.parallel = par ? atoi(par) : 32;
	if (g.n <= 0 || m == 0 || per == 0 || g.parallel <= 0 ||
	    addr_parse(argv[0], &base) != 0 || addr_parse(argv[2], &peer) != 0 ||
	    base.family != family || peer.family != family)
		die("bad arguments (addresses must match the family: -6 for IPv6)");
	if ((uint64_t)g.n * m > UINT32_MAX - 65536)
		die("N x M too large");
	streams = calloc((size_t)g.n, sizeof(*streams));
	churns = calloc((size_t)g.n, sizeof(*churns));
	if ((size_t)snprintf(churnfile, sizeof(churnfile), "%s.churn", gofile) >= sizeof(churnfile))
		die("GOFILE name too long");
	g.conns = calloc((size_t)g.n, sizeof(*g.conns));
	g.queue = calloc((size_t)g.n, sizeof(*g.queue));
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	if (streams == NULL || churns == NULL || g.conns == NULL || g.queue == NULL || g.ep < 0)
		die("setup failed");
	for (int s = 0; s < g.n; s++) {
		/* With a step, session s is from base + s x step to PEER + s x step (a link each). */
		struct addr local = addr_plus(&base, step ? (uint32_t)s * step : (uint32_t)s);
		struct addr remote = step ? addr_plus(&peer, (uint32_t)s * step) : peer;

		/* BGP identifiers 198.19.0.1 up: unique, never the daemon's */
		conn_init(&g.conns[s], &local, &remote, first_as + (uint32_t)s, 0xc6130001u + (uint32_t)s);
		g.conns[s].index = s;
		g.conns[s].on_msg = on_msg;
		g.queue[g.q_len++] = s;
		encode_session(&streams[s], family, (uint32_t)s, first_as + (uint32_t)s, m, per, &local);
		total += streams[s].len;
		if (every > 0)
			nchurn += encode_churn(&churns[s], family, (uint32_t)s, first_as + (uint32_t)s, m, per,
					       every, &local);
	}
	if (every > 0)
		say("churn-prefixes %u", nchurn);
	say("encoded %zu bytes", total);
	g.last_ka = now_ns();
	while (g.up < g.n) {
		start_due(&g);
		poll_once(&g, 20, true);
	}
	for (int s = 0; s < g.n; s++)
		if (g.conns[s].up_at > last_up)
			last_up = g.conns[s].up_at;
	say("established %lld", last_up);
	say("ready %d sessions, %zu bytes of UPDATEs", g.n, total);
	while (access(gofile, F_OK) != 0)
		poll_once(&g, 5, false);
	t0 = now_ns();
	say("sent %lld", t0);
	for (int s = 0; s < g.n; s++)
		if (conn_send(&g.conns[s], streams[s].p, streams[s].len) != 0)
			lost(&g.conns[s]);
	for (;;) {
		poll_once(&g, drained < g.n || (every > 0 && !churned) ? 20 : 1000, false);
		if (drained < g.n) {
			drained = 0;
			for (int s = 0; s < g.n; s++)
				drained += conn_drained(&g.conns[s]);
			if (drained == g.n)
				say("%s %lld", churned ? "churn-flushed" : "flushed", now_ns());
		}
		/* The churn: once everything is written and the runner says so. */
		if (every > 0 && !churned && drained == g.n && access(churnfile, F_OK) == 0) {
			churned = true;
			drained = 0;
			say("churn %lld", now_ns());
			for (int s = 0; s < g.n; s++)
				if (conn_send(&g.conns[s], churns[s].p, churns[s].len) != 0)
					lost(&g.conns[s]);
		}
		if (returned != told) {
			told = returned;
			say("returned %llu", (unsigned long long)returned);
		}
	}
}
