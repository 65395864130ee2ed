/*
 * Routes through the agent: what peers send goes into the Loc-RIB (after the
 * AS loop check and the peer's import policy), best paths go to the kernel and,
 * per peer, through its export policy into an Adj-RIB-Out that is sent as packed UPDATEs. Changes are
 * collected per peer (a list of prefixes to look at again) and encoded only
 * as the peer's socket drains (pull, as BIRD and FRR do): a slow peer holds
 * a bounded number of encoded bytes and O(its table) of pending prefixes.
 * The Adj-RIB-Out records what the peer is sent once it is staged: a pass
 * stages only when nothing staged waits, and a session that ends drops both.
 *
 * Graceful restart (RFC 4724). As a helper: a restarting peer's routes stay in
 * the Loc-RIB and the kernel, listed as stale, until it sends them again (each
 * one it re-announces or withdraws stops being stale) and its End-of-RIB, or
 * its time runs out; then the stale ones that are left go. As the restarting
 * speaker: the kernel routes an earlier run left are kept while the peers send
 * their tables; route selection is deferred (§4.1: nothing is sent to peers with
 * the capability) until every peer's End-of-RIB or GR_DEFER_TIME, then the kept
 * routes no path chose are removed, and the peers get our table and End-of-RIB.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent.h"
#include "lib/group.h"
#include "lib/log.h"

/*
 * Changes are exported once the loop has nothing else to do (every input read and
 * judged), or after FLUSH_MAX while input keeps coming. A burst that ends is thus
 * sent at once, and one that lasts a while (a table withdrawn and announced again)
 * folds: what a peer takes back and re-announces within FLUSH_MAX leaves as one
 * UPDATE, not a withdrawal and then the route. Benchmark: 10 ms -> 20 ms took the
 * churn from 0.036 to 0.031 s; at 30 ms full tables held more memory for no gain.
 */
#define FLUSH_MAX 0.02     /* seconds */
#define STATS_EVERY 2.0    /* seconds between prefix-count refreshes of the status */
/*
 * Prefixes judged (and staged) per step of a pull. Its arrays and the grouping's
 * index are about 80 bytes a prefix while a step runs: 8192 keeps that near
 * 0.65 MB (65536 cost 7 MB of peak memory at 200x500; 16384, 0.7 MB more; 4096
 * neither less memory nor faster, beyond noise) with the same converge times.
 */
#define PULL_CHUNK 8192
#define PULL_BUDGET 1      /* steps per pull: then other sessions get the loop */
#define PREFETCH_AHEAD 32  /* prefixes whose destinations are loaded ahead of their lookup */
/* RFC 4724 §4.1: the longest a restart waits for its peers' End-of-RIB. */
#define GR_DEFER_TIME 120.0

void
routes_from(const struct session *s, struct routes_from *f)
{
	const struct conn *c = s->conn[0];

	*f = (struct routes_from){
		.src = {
			.ebgp = s->spec.local_as != s->spec.remote_as,
			.peer_as = s->spec.remote_as,
			.router_id = c && c->have_open ? c->peer_open.bgp_id : 0,
			.addr = s->spec.remote,
			.rr_client = s->spec.rr_client,
		},
	};
}

/*
 * RFC 4271 §9.1.2: a path that already holds our AS is a loop, unless the peer is
 * allowed that many (allowas-in); RFC 4456 §8: so is our own route reflected back
 * (ORIGINATOR_ID) or one that passed our cluster (CLUSTER_LIST).
 */
static bool
attr_loop(const struct session *s, const struct rib_attr *x)
{
	return ((x->a.has & BGP_HAS(BGP_ATTR_ORIGINATOR_ID)) &&
		x->a.originator_id == s->ag->cfg.router_id) ||
	       (s->spec.reflector && bgp_attrs_cluster_list_has(&x->a, s->spec.cluster_id)) ||
	       bgp_as_path_count(bgp_attrs_as_path(&x->a), x->a.as_path_len, s->spec.local_as) >
		       s->spec.allowas_in;
}

void
routes_from_attr(const struct session *s, struct routes_from *f, const struct rib_attr *x)
{
	f->x = x;
	f->x_loop = x != NULL && attr_loop(s, x);
}

/* The Loc-RIB of a routing instance: a device's, or (NULL) the node's. */
static struct loc_rib *
loc_of(struct agent *ag, const struct device *dev)
{
	return dev != NULL ? dev->loc : ag->loc;
}

struct fib *
routes_fib(struct agent *ag, const struct device *dev)
{
	return dev != NULL ? dev->fib : ag->fib;
}

static void
schedule_flush(struct agent *ag)
{
	if (!ev_is_active(&ag->flush_timer)) {
		ev_timer_set(&ag->flush_timer, FLUSH_MAX, 0.);
		ev_timer_start(ag->loop, &ag->flush_timer);
		ev_idle_start(ag->loop, &ag->flush_idle);
	}
}

static bool
established(const struct session *s)
{
	return s->conn[0] != NULL && s->conn[0]->fsm.state == FSM_ESTABLISHED;
}

static void
mark_dirty(struct session *s, const struct prefix *p)
{
	/* Churn toward a peer that does not read must not grow without bound: past
	 * twice the table, fold repeats (amortised O(1) per change). Withdrawn prefixes
	 * are no longer in the table: the bound counts what the last fold left, or a
	 * mass withdrawal would fold on every change. */
	if (dirty_pending(&s->dirty) >=
	    2 * (loc_rib_count(loc_of(s->ag, s->dev)) + s->dirty.floor) + 4096)
		dirty_compact(&s->dirty);
	dirty_push(&s->dirty, p);
}

static void
fib_sync(struct agent *ag, struct device *dev, const struct prefix *p)
{
	struct fib *fib = routes_fib(ag, dev);
	struct rib_path best;
	char buf[PREFIX_STRLEN];
	struct err err;
	int rc;

	/* Per changed prefix: with --no-fib, not even the Loc-RIB lookup (a device's own
	 * namespace takes its routes either way). Stopping to restart: the kernel routes
	 * stay as they are. */
	if ((ag->cfg.no_fib && dev == NULL) || ag->keep_fib)
		return;
	/* The kernel refuses a next hop it cannot reach: such a route stays out. */
	if (loc_rib_best(loc_rib_get(loc_of(ag, dev), p), &best) && !best.src->local)
		rc = fib_replace(fib, p, &best.attr->a.next_hop, &err);
	else
		rc = fib_delete(fib, p, &err);
	if (rc != 0) {
		prefix_format(p, buf);
		log_debug("kernel route %s: %s", buf, err.msg);
	}
}

void
routes_exporters_changed(struct agent *ag)
{
	ag->exporters_ok = false;
}

/*
 * The sessions a best-path change is listed for: established ones their export policy
 * lets send something. A peer sent nothing (--export=none: route collectors, one-way
 * feeds, a benchmark's 1,000 generators) is not told; a new policy judges the whole
 * table again. Built when sessions come up, go down or change policy, not walked
 * whole for every changed prefix (1,000 sessions x 100,000 prefixes).
 */
static void
exporters_build(struct agent *ag)
{
	ag->nexporters = 0;
	for (struct session *s = ag->sessions; s; s = s->next) {
		if (!established(s) ||
		    policy_rejects_all(s->spec.policy, POLICY_EXPORT, s->spec.remote.family))
			continue;
		if (ag->nexporters == ag->exporters_cap) {
			ag->exporters_cap = ag->exporters_cap ? 2 * ag->exporters_cap : 16;
			ag->exporters = xrealloc(ag->exporters,
						 ag->exporters_cap * sizeof(*ag->exporters));
		}
		ag->exporters[ag->nexporters++] = s;
	}
	ag->exporters_ok = true;
}

/*
 * The best path for p in a routing instance changed: tell its kernel table and
 * every peer of its family in that instance -- a device's routes never leave the
 * device, and the node's never reach a device's peers.
 */
static void
best_changed(struct agent *ag, struct device *dev, const struct prefix *p)
{
	fib_sync(ag, dev, p);
	/* Stopping: every session is closing, none is owed anything. */
	if (ag->stopping)
		return;
	if (!ag->exporters_ok)
		exporters_build(ag);
	for (size_t i = 0; i < ag->nexporters; i++) {
		struct session *s = ag->exporters[i];

		/* established again: one that went down since is no longer owed anything. */
		if (s->dev == dev && s->spec.remote.family == p->addr.family && established(s))
			mark_dirty(s, p);
	}
	schedule_flush(ag);
}

void
routes_learn(struct session *s, const struct routes_from *f, const struct rib_dest *d,
	     const struct prefix *p, struct rib_attr *x)
{
	static const struct policy_route from_peer = {.from_peer = true};
	struct agent *ag = s->ag;
	bool had, changed;

	/* A loop goes no further, nor what the peer's import policy refuses. */
	if (x != NULL && ((x == f->x ? f->x_loop : attr_loop(s, x)) ||
			  policy_eval(s->spec.policy, POLICY_IMPORT, p, &from_peer) == POLICY_REJECT))
		x = NULL;
	changed = loc_rib_set_at(loc_of(ag, s->dev), ag->rib, d, p, s, &f->src, x, &had);
	s->n.prefixes_accepted += (x != NULL) - had;
	if (changed)
		best_changed(ag, s->dev, p);
}

/* Drops what was judged but not sent (the session went down). */
static void
staged_free(struct session *s)
{
	for (size_t i = s->staged_off; i < s->nstaged; i++)
		rib_attr_unref(s->ag->rib, s->staged[i].x);
	free(s->staged);
	s->staged = NULL;
	s->nstaged = s->staged_off = 0;
}

/* Every prefix of the peer's family, to be looked at again. */
static void
mark_table(struct session *s)
{
	size_t n;
	struct prefix *v;

	v = loc_rib_sorted(loc_of(s->ag, s->dev), &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].addr.family == s->spec.remote.family)
			mark_dirty(s, &v[i]);
	free(v);
}

static uint16_t
afi_of(const struct session *s)
{
	return addr_is_v4(&s->spec.remote) ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
}

static void
peer_log(const struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
peer_log(const struct session *s, const char *fmt, ...)
{
	char a[ADDR_STRLEN], msg[256];
	va_list ap;

	addr_format(&s->spec.remote, a);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("peer %s: %s", a, msg);
}

size_t
routes_stale_count(const struct session *s)
{
	return s->stale != NULL ? adj_in_count(s->stale) : 0;
}

void
routes_stale_drop(struct session *s, const char *why)
{
	struct agent *ag = s->ag;
	struct adj_in_route *v;
	size_t n;

	ev_timer_stop(ag->loop, &s->gr_timer);
	if (s->stale == NULL)
		return;
	v = adj_in_sorted(s->stale, &n);
	for (size_t i = 0; i < n; i++)
		if (loc_rib_set(loc_of(ag, s->dev), ag->rib, &v[i].p, s, NULL, NULL, NULL))
			best_changed(ag, s->dev, &v[i].p);
	free(v);
	adj_in_free(s->stale, ag->rib);
	s->stale = NULL;
	peer_log(s, "%sgraceful restart over (%s): %zu stale routes removed",
		 s->llgr ? "long-lived " : "", why, n);
	s->llgr = false;
}

uint32_t
routes_llgr_begin(struct session *s)
{
	struct agent *ag = s->ag;
	uint32_t t = s->have_gr && s->ours_gr.has_llgr ? bgp_llgr_stale_time(&s->peer_gr, afi_of(s))
						       : 0;
	struct adj_in_route *v;
	struct routes_from from;
	size_t n, gone = 0;

	if (t == 0 || s->stale == NULL)
		return 0;
	routes_from(s, &from);
	v = adj_in_sorted(s->stale, &n);
	for (size_t i = 0; i < n; i++) {
		struct rib_attr *x = v[i].attr, *y;
		struct bgp_attrs a;

		/* RFC 9494 §4.2: a route marked NO_LLGR goes now. */
		if (bgp_attrs_has_community(&x->a, BGP_COMM_NO_LLGR)) {
			adj_in_set(s->stale, ag->rib, &v[i].p, NULL);
			if (loc_rib_set(loc_of(ag, s->dev), ag->rib, &v[i].p, s, NULL, NULL, NULL))
				best_changed(ag, s->dev, &v[i].p);
			gone++;
			continue;
		}
		/* The others carry LLGR_STALE, which makes them the least preferred (§4.3)
		 * and keeps them from peers without LLGR (§4.5). */
		bgp_attrs_copy(&a, &x->a);
		bgp_attrs_add_community(&a, BGP_COMM_LLGR_STALE);
		y = rib_attr_intern(ag->rib, &a);
		bgp_attrs_free(&a);
		adj_in_set(s->stale, ag->rib, &v[i].p, y);
		routes_learn(s, &from, NULL, &v[i].p, y);
		rib_attr_unref(ag->rib, y);
	}
	free(v);
	s->llgr = true;
	peer_log(s, "long-lived graceful restart (RFC 9494): %zu stale routes kept for up to %us, "
		    "%zu with NO_LLGR removed",
		 n - gone, t, gone);
	return t;
}

bool
routes_unstale(struct session *s, const struct prefix *p)
{
	return s->stale != NULL && adj_in_set(s->stale, s->ag->rib, p, NULL);
}

void
routes_eor(struct session *s)
{
	if (s->stale != NULL)
		routes_stale_drop(s, "End-of-RIB");
	routes_defer_check(s->ag);
}

bool
routes_restarting(const struct session *s)
{
	/* Only the node's instance restarts: a device's namespace starts empty. */
	return s->dev == NULL && s->ag->restarting;
}

/* Still owed the peer's table for the deferral of our restart (RFC 4724 §4.1)? */
static bool
awaited(const struct session *s)
{
	const struct conn *c = s->conn[0];

	if (s->dev != NULL)
		return false;
	if (!established(s))
		return true;
	/* Not from a peer without the capability, nor from one restarting itself. */
	return c->peer_open.has_gr && !c->peer_open.gr_restarted && !s->eor_received;
}

static void
defer_end(struct agent *ag, const char *why)
{
	size_t removed = 0;

	ag->restarting = false;
	ev_timer_stop(ag->loop, &ag->defer_timer);
	for (size_t i = 0; i < ag->nkept; i++) {
		struct rib_path best;

		/* Chosen again: the route was replaced in place. Else it is stale. */
		if (!loc_rib_best(loc_rib_get(ag->loc, &ag->kept[i].p), &best) || best.src->local) {
			fib_remove(ag->fib, &ag->kept[i]);
			removed++;
		}
	}
	log_info("graceful restart: route selection done after %.1f s (%s); %zu stale kernel "
		 "routes of the earlier run removed, %zu kept",
		 ev_now(ag->loop) - ag->defer_started, why, removed, ag->nkept - removed);
	free(ag->kept);
	ag->kept = NULL;
	ag->nkept = 0;
	/* The peers that waited get our table and End-of-RIB now; their records say so. */
	schedule_flush(ag);
	for (struct session *s = ag->sessions; s; s = s->next)
		status_session(s);
}

void
routes_defer_check(struct agent *ag)
{
	if (!ag->restarting || ag->stopping)
		return;
	for (const struct session *s = ag->sessions; s; s = s->next)
		if (awaited(s))
			return;
	defer_end(ag, "every peer's End-of-RIB");
}

static void
defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	defer_end(w->data, "deferral time is up");
}

/* Peers with the capability get nothing while our restart defers route selection. */
static bool
deferred(const struct session *s)
{
	return routes_restarting(s) && s->conn[0]->peer_open.has_gr;
}

void
routes_policy_changed(struct session *s)
{
	routes_exporters_changed(s->ag);
	if (s->adj_in != NULL) {
		size_t n;
		struct adj_in_route *v = adj_in_sorted(s->adj_in, &n);
		struct routes_from from;

		routes_from(s, &from);
		for (size_t i = 0; i < n; i++)
			routes_learn(s, &from, NULL, &v[i].p, v[i].attr);
		free(v);
	}
	if (established(s)) {
		mark_table(s);
		schedule_flush(s->ag);
	}
}

void
routes_session_up(struct session *s)
{
	bool fwd;

	/* RFC 4724 §4.2: back without the capability for the family, or without its
	 * forwarding state: the stale routes go at once. */
	if (s->stale != NULL && !(bgp_gr_peer_af(&s->conn[0]->peer_open, afi_of(s), &fwd) && fwd))
		routes_stale_drop(s, "the peer came back without preserved forwarding state");
	routes_exporters_changed(s->ag);
	/* The whole table, then End-of-RIB (RFC 4724 §2). */
	mark_table(s);
	s->need_eor = true;
	schedule_flush(s->ag);
	routes_defer_check(s->ag);
}

void
routes_session_down(struct session *s, bool keep_stale)
{
	struct agent *ag = s->ag;

	routes_exporters_changed(ag);
	if (s->adj_in != NULL && keep_stale) {
		size_t n;
		struct adj_in_route *v = adj_in_sorted(s->adj_in, &n);

		/* What the peer sent stays in the Loc-RIB and the kernel, listed as stale
		 * (with what is still stale from a restart before). */
		if (s->stale == NULL)
			s->stale = adj_in_new(loc_of(ag, s->dev), s, RIB_ADJ_STALE);
		for (size_t i = 0; i < n; i++)
			adj_in_set(s->stale, ag->rib, &v[i].p, v[i].attr);
		free(v);
	} else if (s->adj_in != NULL) {
		size_t n;
		struct adj_in_route *v = adj_in_sorted(s->adj_in, &n);

		for (size_t i = 0; i < n; i++)
			if (loc_rib_set(loc_of(ag, s->dev), ag->rib, &v[i].p, s, NULL, NULL, NULL))
				best_changed(ag, s->dev, &v[i].p);
		free(v);
	}
	if (!keep_stale && s->stale != NULL)
		routes_stale_drop(s, "the session ended for good");
	adj_in_free(s->adj_out, ag->rib);
	s->adj_out = NULL;
	dirty_free(&s->dirty);
	staged_free(s);
	s->need_eor = false;
	s->refresh_wanted = s->resending = false;
	s->n.prefixes_sent = s->n.prefixes_accepted = 0;
}

void
routes_refresh(struct session *s, uint16_t afi, uint8_t safi)
{
	int family = s->spec.remote.family;

	/* RFC 2918 §4: a request for an AFI/SAFI the session does not carry is ignored. */
	if (safi != BGP_SAFI_UNICAST ||
	    afi != (family == AF_INET ? BGP_AFI_IPV4 : BGP_AFI_IPV6)) {
		char a[ADDR_STRLEN];

		addr_format(&s->spec.remote, a);
		log_debug("peer %s: ROUTE-REFRESH for AFI %u SAFI %u, which the session does not "
			  "carry: ignored",
			  a, afi, safi);
		return;
	}
	/* Repeats before the answer starts are one request: the flag coalesces them. */
	s->refresh_wanted = true;
	schedule_flush(s->ag);
}

/*
 * Sends v[0..n) (withdrawn when attrs is NULL) in packed UPDATEs while the
 * connection has room. Returns how many went.
 */
static size_t
send_packed(struct session *s, const struct route_out *v, size_t n, const struct bgp_attrs *attrs,
	    const struct bgp_encode_ctx *ectx)
{
	static uint8_t buf[BGP_EXT_MAX_LEN];
	static struct prefix pfx[BGP_EXT_MAX_LEN / 2];
	size_t max = session_max_len(s), done = 0;

	while (done < n && session_out_room(s)) {
		struct wr wr = wr_init(buf, sizeof(buf));
		size_t k = n - done, cap = sizeof(pfx) / sizeof(pfx[0]), uw, ua, used;

		/* No more prefixes than bytes in a message (a prefix takes one at least). */
		if (cap > max)
			cap = max;
		if (k > cap)
			k = cap;

		for (size_t i = 0; i < k; i++)
			pfx[i] = v[done + i].p;
		if (attrs == NULL)
			bgp_update_encode(&wr, max, pfx, k, NULL, 0, NULL, ectx, &uw, &ua);
		else
			bgp_update_encode(&wr, max, NULL, 0, pfx, k, attrs, ectx, &uw, &ua);
		used = uw + ua;
		if (wr.overflow || used == 0)
			fatal("peer UPDATE encoding: %zu prefixes would not go in one message", k);
		session_send(s, wr.buf, wr.len);
		s->n.updates_out++;
		done += used;
	}
	return done;
}

/* Sends the staged runs while there is room; false when out of room. */
static bool
send_staged(struct session *s, const struct bgp_encode_ctx *ectx)
{
	while (s->staged_off < s->nstaged) {
		struct route_out *v = s->staged + s->staged_off;
		size_t n = s->nstaged - s->staged_off, run, sent;

		for (run = 1; run < n && v[run].x == v[0].x; run++)
			;
		sent = send_packed(s, v, run, v[0].x ? &v[0].x->a : NULL, ectx);
		for (size_t i = 0; i < sent; i++)
			rib_attr_unref(s->ag->rib, v[i].x);
		s->staged_off += sent;
		if (sent < run)
			return false;
	}
	staged_free(s);
	return true;
}

/*
 * The advertisement rules give the same result for every prefix whose best path
 * has the same attribute set and source: a chunk remembers the last one (most
 * prefixes of a table share a few sets), with a reference to the result.
 */
struct export_memo {
	const struct rib_attr *attr;
	const struct rib_source *src;
	struct rib_attr *x;
};

/*
 * What the peer is sent for p (a new reference, or NULL for nothing): the
 * advertisement rules, then its export policy.
 */
static struct rib_attr *
export_judge(const struct session *s, const struct prefix *p, const struct rib_path *best,
	     const struct rib_target *t, struct export_memo *m)
{
	struct policy_route rt = {.from_peer = !best->src->local};
	struct rib *rib = s->ag->rib;
	struct rib_attr *x = NULL;
	struct bgp_attrs out;

	if (policy_eval(s->spec.policy, POLICY_EXPORT, p, &rt) == POLICY_REJECT)
		return NULL;
	/* Our own prefixes get per-prefix communities: never from the memo. */
	if (!best->src->local && m->attr == best->attr && m->src == best->src) {
		if (m->x != NULL)
			m->x->refs++;
		return m->x;
	}
	if (rib_export(&best->attr->a, best->src, t, &out)) {
		/* BGPConfiguration prefixAdvertisements: communities on what this node originates. */
		if (best->src->local)
			policy_communities(s->spec.policy, p, &out);
		x = rib_attr_intern(rib, &out);
		bgp_attrs_free(&out);
	}
	if (!best->src->local) {
		rib_attr_unref(rib, m->x);
		m->attr = best->attr;
		m->src = best->src;
		m->x = x;
		if (x != NULL)
			x->refs++;
	}
	return x;
}

/*
 * Judges up to PULL_CHUNK pending prefixes against the Adj-RIB-Out and stages
 * what changed: withdrawals, then one run per attribute set, sent as the
 * socket takes them. The Adj-RIB-Out records a change as it is staged (at the
 * destination just looked up: one lookup a prefix); no new pass stages before
 * the staged ones are sent, and a session that goes down drops both. Staging a
 * large chunk keeps UPDATEs well packed while what a slow peer waits for stays
 * O(its table).
 */
static void
stage_chunk(struct session *s, const struct bgp_encode_ctx *ectx, const struct rib_target *t)
{
	struct agent *ag = s->ag;
	struct loc_rib *loc = loc_of(ag, s->dev);
	size_t k = dirty_pending(&s->dirty), n = 0, i, max = session_max_len(s);
	struct route_out *v;
	struct prefix *ps;
	struct export_memo memo = {0};
	size_t refused = 0;

	if (k > PULL_CHUNK)
		k = PULL_CHUNK;
	v = xcalloc(k, sizeof(*v));
	ps = xcalloc(k, sizeof(*ps));
	k = dirty_take(&s->dirty, ps, k);
	for (i = 0; i < k; i++) {
		const struct prefix *p = &ps[i];

		/* The next block's destinations load while this block is judged. */
		if (i == 0)
			loc_rib_prefetch(loc, p, k < PREFETCH_AHEAD ? k : PREFETCH_AHEAD);
		if (i % PREFETCH_AHEAD == 0 && i + PREFETCH_AHEAD < k)
			loc_rib_prefetch(loc, p + PREFETCH_AHEAD,
					 k - i - PREFETCH_AHEAD < PREFETCH_AHEAD ? k - i - PREFETCH_AHEAD
										 : PREFETCH_AHEAD);
		struct rib_path best;
		/* The Adj-RIB-Out's records are on the destination: one lookup for both. */
		const struct rib_dest *d = loc_rib_get(loc, p);
		struct rib_attr *cur = adj_in_at(s->adj_out, d), *x = NULL;

		if (loc_rib_best(d, &best))
			x = export_judge(s, p, &best, t, &memo);
		/* RFC 8654 / RFC 7606: a set that cannot fit the peer's maximum message is
		 * never sent malformed; toward this peer the prefix is withdrawn. */
		if (x != NULL && !bgp_update_fits(&x->a, ectx, s->spec.remote.family, max)) {
			rib_attr_unref(ag->rib, x);
			x = NULL;
			refused++;
		}
		if (x == cur && (x == NULL || !s->resending)) {
			rib_attr_unref(ag->rib, x);
			continue;
		}
		/* Something is sent, so d exists (a route or a record of cur); it may go here. */
		adj_in_set_at(s->adj_out, ag->rib, d, x);
		v[n++] = (struct route_out){.p = *p, .x = x};
	}
	if (refused > 0) {
		char a[ADDR_STRLEN];

		addr_format(&s->spec.remote, a);
		log_warnx("peer %s: %zu prefixes not sent (withdrawn if sent before): their attribute "
			  "set does not fit the peer's maximum message size of %zu bytes (RFC 8654)",
			  a, refused, max);
	}
	rib_attr_unref(ag->rib, memo.x);
	free(ps);
	/* Withdrawals (NULL) first, then one run per attribute set, each in the order judged. */
	group_by_key(v, n, sizeof(*v), offsetof(struct route_out, x));
	staged_free(s);
	s->staged = v;
	s->nstaged = n;
}

void
routes_pull(struct session *s)
{
	struct rib_target t = {
		.ebgp = s->spec.local_as != s->spec.remote_as,
		.keep_next_hop = s->spec.keep_next_hop,
		.reflector = s->spec.reflector,
		.cluster_id = s->spec.cluster_id,
		.rr_client = s->spec.rr_client,
		.llgr = s->conn[0]->peer_open.has_llgr,
		.local_as = s->spec.local_as,
		.local = s->spec.local,
		.remote = s->spec.remote,
	};
	struct bgp_encode_ctx ectx = {.as4 = s->conn[0]->peer_open.has_as4, .ebgp = t.ebgp};
	int steps = 0;

	if (!established(s) || !session_out_room(s) || deferred(s))
		return;
	session_cork(s);
	if (s->adj_out == NULL)
		s->adj_out = adj_in_new(loc_of(s->ag, s->dev), s, RIB_ADJ_OUT);
	if (s->refresh_wanted) {
		/* RFC 2918: the whole Adj-RIB-Out again. Withdrawals still pending stay so:
		 * the Adj-RIB-Out is kept, and this pass sends even what it already holds. */
		s->refresh_wanted = false;
		s->resending = true;
		mark_table(s);
	}
	for (;;) {
		if (!send_staged(s, &ectx) || dirty_pending(&s->dirty) == 0)
			break;
		if (steps++ == PULL_BUDGET) {
			/* More to judge: on the next writable event, after the other sessions. */
			session_want_write(s);
			break;
		}
		/* A new pass over the pending prefixes: in order, without repeats. */
		dirty_begin_pass(&s->dirty);
		stage_chunk(s, &ectx, &t);
	}
	if (s->nstaged == 0 && dirty_pending(&s->dirty) == 0) {
		dirty_clear(&s->dirty);
		s->resending = false;
		if (s->need_eor && session_out_room(s)) {
			uint8_t eor[64];
			struct wr w = wr_init(eor, sizeof(eor));

			bgp_end_of_rib_encode(&w, s->spec.remote.family);
			session_send(s, w.buf, w.len);
			s->need_eor = false;
		}
	}
	session_uncork(s);
	s->n.prefixes_sent = adj_in_count(s->adj_out);
}

static void
flush(struct agent *ag)
{
	ev_timer_stop(ag->loop, &ag->flush_timer);
	ev_idle_stop(ag->loop, &ag->flush_idle);
	for (struct session *s = ag->sessions; s; s = s->next)
		if (established(s) && (dirty_pending(&s->dirty) > 0 || s->nstaged > 0 || s->need_eor ||
				       s->refresh_wanted))
			routes_pull(s);
}

static void
flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	flush(w->data);
}

static void
flush_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)revents;
	flush(w->data);
}

static void
stats_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct agent *ag = w->data;

	(void)loop;
	(void)revents;
	/* Prefix counts move with every UPDATE; the status follows at most every few seconds. */
	for (struct session *s = ag->sessions; s; s = s->next) {
		if (s->n.prefixes_received != s->reported_received ||
		    s->n.prefixes_sent != s->reported_sent) {
			s->reported_received = s->n.prefixes_received;
			s->reported_sent = s->n.prefixes_sent;
			status_session(s);
		}
	}
	devices_report(ag);
}

static int
local_cmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

void
routes_originate(struct agent *ag, const struct node_prefixes *want)
{
	static const struct rib_source local = {.local = true};
	struct node_prefixes sorted = {0};
	size_t i = 0, j = 0;

	if (ag->local_attr == NULL) {
		struct bgp_attrs a;

		/* Our own prefixes: ORIGIN IGP, an empty AS_PATH; next hop self on the way out. */
		bgp_attrs_build(&a, NULL, 0, NULL, 0);
		ag->local_attr = rib_attr_intern(ag->rib, &a);
		bgp_attrs_free(&a);
	}
	sorted.v = xcalloc(want->n ? want->n : 1, sizeof(*sorted.v));
	sorted.n = want->n;
	if (want->n)
		memcpy(sorted.v, want->v, want->n * sizeof(*want->v));
	qsort(sorted.v, sorted.n, sizeof(*sorted.v), local_cmp);
	/* Merge the sorted old and new lists: withdraw what went, announce what came. */
	while (i < ag->local.n || j < sorted.n) {
		int c = i == ag->local.n   ? 1
			: j == sorted.n    ? -1
					   : prefix_cmp(&ag->local.v[i], &sorted.v[j]);

		if (c < 0) {
			if (loc_rib_set(ag->loc, ag->rib, &ag->local.v[i], ag, &local, NULL, NULL))
				best_changed(ag, NULL, &ag->local.v[i]);
			i++;
		} else if (c > 0) {
			if (loc_rib_set(ag->loc, ag->rib, &sorted.v[j], ag, &local, ag->local_attr, NULL))
				best_changed(ag, NULL, &sorted.v[j]);
			j++;
		} else {
			i++;
			j++;
		}
	}
	node_prefixes_free(&ag->local);
	ag->local = sorted;
}

/*
 * Routes an earlier run left in the kernel: with graceful restart, those of our
 * metric are kept while the peers send their tables again (and forwarding goes
 * on); without it, or of another metric, they are removed now.
 */
static int
earlier_routes(struct agent *ag, struct err *err)
{
	struct fib_route *v;
	size_t n, k = 0;
	int flushed;

	if (!ag->cfg.graceful_restart) {
		if ((flushed = fib_flush_stale(ag->fib, err)) < 0)
			return -1;
		if (flushed > 0)
			log_info("removed %d stale kernel routes of an earlier run", flushed);
		return 0;
	}
	if (fib_routes_ours(ag->fib, &v, &n, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].metric == FIB_METRIC)
			v[k++] = v[i];
		else
			fib_remove(ag->fib, &v[i]);
	}
	if (k == 0) {
		free(v);
		return 0;
	}
	ag->kept = v;
	ag->nkept = k;
	ag->restarting = true;
	ag->defer_started = ev_now(ag->loop);
	ev_timer_start(ag->loop, &ag->defer_timer);
	log_info("graceful restart: %zu kernel routes of an earlier run kept while the peers "
		 "send their tables (at most %.0f s)",
		 k, GR_DEFER_TIME);
	return 0;
}

int
routes_start(struct agent *ag, struct err *err)
{
	ag->loc = loc_rib_new();
	ag->fib = fib_open(ag->loop, !ag->cfg.no_fib, err);
	if (ag->fib == NULL)
		return -1;
	fib_set_on_room(ag->fib, session_reads_resume, ag);
	ev_timer_init(&ag->defer_timer, defer_cb, GR_DEFER_TIME, 0.);
	ag->defer_timer.data = ag;
	if (earlier_routes(ag, err) != 0)
		return -1;
	ev_timer_init(&ag->flush_timer, flush_cb, FLUSH_MAX, 0.);
	ag->flush_timer.data = ag;
	ev_idle_init(&ag->flush_idle, flush_idle_cb);
	/* Idle: no read, write or timer of any session pending. */
	ev_set_priority(&ag->flush_idle, EV_MINPRI);
	ag->flush_idle.data = ag;
	ev_timer_init(&ag->stats_timer, stats_cb, STATS_EVERY, STATS_EVERY);
	ag->stats_timer.data = ag;
	ev_timer_start(ag->loop, &ag->stats_timer);
	return 0;
}

void
routes_stop(struct agent *ag)
{
	size_t n = 0;
	struct prefix *v;

	ev_timer_stop(ag->loop, &ag->flush_timer);
	ev_idle_stop(ag->loop, &ag->flush_idle);
	ev_timer_stop(ag->loop, &ag->stats_timer);
	ev_timer_stop(ag->loop, &ag->defer_timer);
	free(ag->exporters);
	ag->exporters = NULL;
	ag->nexporters = ag->exporters_cap = 0;
	ag->exporters_ok = false;
	/* Stopping for good during a restart's deferral: what the earlier run left goes too. */
	for (size_t i = 0; !ag->keep_fib && i < ag->nkept; i++)
		fib_remove(ag->fib, &ag->kept[i]);
	free(ag->kept);
	ag->kept = NULL;
	ag->nkept = 0;
	/* Our kernel routes go with us, a stopped node must not keep forwarding on them;
	 * unless it stops to restart (graceful restart): then they stay for the next run. */
	if (ag->keep_fib)
		log_info("kernel routes kept for the restart (graceful restart)");
	v = ag->keep_fib ? NULL : loc_rib_prefixes(ag->loc, &n);
	for (size_t i = 0; v != NULL && i < n; i++) {
		struct rib_path best;
		struct err err;

		if (loc_rib_best(loc_rib_get(ag->loc, &v[i]), &best) && !best.src->local)
			fib_delete(ag->fib, &v[i], &err);
	}
	free(v);
	loc_rib_free(ag->loc, ag->rib);
	ag->loc = NULL;
	rib_attr_unref(ag->rib, ag->local_attr);
	ag->local_attr = NULL;
	node_prefixes_free(&ag->local);
	fib_close(ag->fib);
	ag->fib = NULL;
}
