/*
 * Routes through the agent: what peers send goes into the Loc-RIB (after the
 * import switch and the AS loop check), best paths go to the kernel and, per
 * peer, into an Adj-RIB-Out that is sent as packed UPDATEs. Changes are
 * collected per peer and flushed together, so a burst becomes few messages.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent.h"
#include "lib/log.h"

#define FLUSH_DELAY 0.01   /* seconds: coalesces a burst of changes */
#define STATS_EVERY 2.0    /* seconds between prefix-count refreshes of the status */

static struct rib_source
source_of(const struct session *s)
{
	const struct conn *c = s->conn[0];
	struct rib_source src = {
		.ebgp = s->spec.local_as != s->spec.remote_as,
		.peer_as = s->spec.remote_as,
		.router_id = c && c->have_open ? c->peer_open.bgp_id : 0,
		.addr = s->spec.remote,
	};

	return src;
}

static void
schedule_flush(struct agent *ag)
{
	if (!ev_is_active(&ag->flush_timer)) {
		ev_timer_set(&ag->flush_timer, FLUSH_DELAY, 0.);
		ev_timer_start(ag->loop, &ag->flush_timer);
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
	bgp_prefixes_push(&s->dirty, p);
}

static void
fib_sync(struct agent *ag, const struct prefix *p)
{
	const struct rib_path *best;
	char buf[PREFIX_STRLEN];
	struct err err;
	int rc;

	/* Per changed prefix: with --no-fib, not even the Loc-RIB lookup. */
	if (ag->cfg.no_fib)
		return;
	best = loc_rib_best(loc_rib_get(ag->loc, p));
	/* The kernel refuses a next hop it cannot reach: such a route stays out. */
	if (best != NULL && !best->src.local)
		rc = fib_replace(ag->fib, p, &best->attr->a.next_hop, &err);
	else
		rc = fib_delete(ag->fib, p, &err);
	if (rc != 0) {
		prefix_format(p, buf);
		log_debug("kernel route %s: %s", buf, err.msg);
	}
}

/* The best path for p changed: tell the kernel and every peer of its family. */
static void
best_changed(struct agent *ag, const struct prefix *p)
{
	fib_sync(ag, p);
	/* A peer with --export=none is sent nothing: no need to track what changed for it. */
	for (struct session *s = ag->sessions; s; s = s->next)
		if (established(s) && s->spec.export_all && s->spec.remote.family == p->addr.family)
			mark_dirty(s, p);
	schedule_flush(ag);
}

void
routes_learn(struct session *s, const struct prefix *p, struct rib_attr *x)
{
	struct agent *ag = s->ag;
	struct rib_source src = source_of(s);

	/* RFC 4271 §9.1.2: a path that already holds our AS is a loop; --import=none takes nothing. */
	if (x != NULL && (!s->spec.import_all ||
			  bgp_as_path_contains(bgp_attrs_as_path(&x->a), x->a.as_path_len,
					       s->spec.local_as)))
		x = NULL;
	if (loc_rib_set(ag->loc, ag->rib, p, s, &src, x))
		best_changed(ag, p);
}

void
routes_session_up(struct session *s)
{
	size_t n;
	const struct rib_dest **v = loc_rib_sorted(s->ag->loc, &n);

	/* The whole table, then End-of-RIB (RFC 4724 §2). */
	for (size_t i = 0; s->spec.export_all && i < n; i++)
		if (v[i]->p.addr.family == s->spec.remote.family)
			mark_dirty(s, &v[i]->p);
	free(v);
	s->need_eor = true;
	schedule_flush(s->ag);
}

void
routes_session_down(struct session *s)
{
	struct agent *ag = s->ag;

	if (s->adj_in != NULL) {
		size_t n;
		struct adj_in_route *v = adj_in_sorted(s->adj_in, &n);

		for (size_t i = 0; i < n; i++)
			if (loc_rib_set(ag->loc, ag->rib, &v[i].p, s, NULL, NULL))
				best_changed(ag, &v[i].p);
		free(v);
	}
	adj_in_free(s->adj_out, ag->rib);
	s->adj_out = NULL;
	bgp_prefixes_free(&s->dirty);
	s->need_eor = false;
	s->n.prefixes_sent = 0;
}

void
routes_refresh(struct session *s)
{
	/* RFC 2918: send the whole Adj-RIB-Out again. */
	adj_in_free(s->adj_out, s->ag->rib);
	s->adj_out = NULL;
	routes_session_up(s);
}

struct out_route {
	struct prefix p;
	struct rib_attr *x;
};

static int
out_cmp(const void *a, const void *b)
{
	const struct out_route *x = a, *y = b;

	if (x->x != y->x)
		return (uintptr_t)x->x < (uintptr_t)y->x ? -1 : 1;
	return prefix_cmp(&x->p, &y->p);
}

static void
send_packed(struct session *s, const struct prefix *w, size_t nw, const struct prefix *a,
	    size_t na, const struct bgp_attrs *attrs, const struct bgp_encode_ctx *ectx)
{
	static uint8_t buf[BGP_EXT_MAX_LEN];
	size_t max = s->conn[0]->max_len, uw, ua;

	while (nw > 0 || na > 0) {
		struct wr wr = wr_init(buf, sizeof(buf));

		bgp_update_encode(&wr, max, w, nw, a, na, attrs, ectx, &uw, &ua);
		if (wr.overflow || (uw == 0 && ua == 0)) {
			log_warnx("cannot fit an UPDATE for the peer; %zu prefixes not sent", nw + na);
			return;
		}
		session_send(s, wr.buf, wr.len);
		s->n.updates_out++;
		w += uw;
		nw -= uw;
		a += ua;
		na -= ua;
	}
}

static int
prefix_sort_cmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

/* Works out what changed for one peer and sends it: withdrawals, then one group per attribute set. */
static void
flush_session(struct session *s)
{
	struct agent *ag = s->ag;
	struct rib_target t = {
		.ebgp = s->spec.local_as != s->spec.remote_as,
		.export_all = s->spec.export_all,
		.local_as = s->spec.local_as,
		.local = s->spec.local,
		.remote = s->spec.remote,
	};
	struct bgp_encode_ctx ectx = {.as4 = s->conn[0]->peer_open.has_as4, .ebgp = t.ebgp};
	struct bgp_prefixes gone = {0};
	struct out_route *out = NULL;
	size_t nout = 0, i, j, n = s->dirty.n;
	struct prefix *dirty = s->dirty.v;

	if (s->adj_out == NULL)
		s->adj_out = adj_in_new();
	/* Nothing dirty: the array may be NULL, which qsort must not be given (UBSan). */
	if (n > 1)
		qsort(dirty, n, sizeof(*dirty), prefix_sort_cmp);
	out = xcalloc(n ? n : 1, sizeof(*out));
	for (i = 0; i < n; i++) {
		const struct rib_path *best;
		struct rib_attr *cur, *x = NULL;
		struct bgp_attrs sent;

		if (i > 0 && prefix_cmp(&dirty[i], &dirty[i - 1]) == 0)
			continue;
		best = loc_rib_best(loc_rib_get(ag->loc, &dirty[i]));
		cur = adj_in_get(s->adj_out, &dirty[i]);
		if (best != NULL && rib_export(&best->attr->a, &best->src, &t, &sent)) {
			x = rib_attr_intern(ag->rib, &sent);
			bgp_attrs_free(&sent);
		}
		if (x == cur) {
			rib_attr_unref(ag->rib, x);
			continue;
		}
		adj_in_set(s->adj_out, ag->rib, &dirty[i], x);
		if (x != NULL)
			out[nout++] = (struct out_route){.p = dirty[i], .x = x};
		else
			bgp_prefixes_push(&gone, &dirty[i]);
	}
	s->dirty.n = 0;
	if (gone.n > 0)
		send_packed(s, gone.v, gone.n, NULL, 0, NULL, &ectx);
	/* Many prefixes per attribute set: sort by set, send each run together. */
	qsort(out, nout, sizeof(*out), out_cmp);
	for (i = 0; i < nout; i = j) {
		struct bgp_prefixes run = {0};

		for (j = i; j < nout && out[j].x == out[i].x; j++)
			bgp_prefixes_push(&run, &out[j].p);
		send_packed(s, NULL, 0, run.v, run.n, &out[i].x->a, &ectx);
		bgp_prefixes_free(&run);
	}
	for (i = 0; i < nout; i++)
		rib_attr_unref(ag->rib, out[i].x);
	free(out);
	bgp_prefixes_free(&gone);
	if (s->need_eor) {
		uint8_t eor[64];
		struct wr w = wr_init(eor, sizeof(eor));

		bgp_end_of_rib_encode(&w, s->spec.remote.family);
		session_send(s, w.buf, w.len);
		s->need_eor = false;
	}
	s->n.prefixes_sent = adj_in_count(s->adj_out);
}

static void
flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct agent *ag = w->data;

	(void)loop;
	(void)revents;
	for (struct session *s = ag->sessions; s; s = s->next)
		if (established(s) && (s->dirty.n > 0 || s->need_eor))
			flush_session(s);
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
			if (loc_rib_set(ag->loc, ag->rib, &ag->local.v[i], ag, &local, NULL))
				best_changed(ag, &ag->local.v[i]);
			i++;
		} else if (c > 0) {
			if (loc_rib_set(ag->loc, ag->rib, &sorted.v[j], ag, &local, ag->local_attr))
				best_changed(ag, &sorted.v[j]);
			j++;
		} else {
			i++;
			j++;
		}
	}
	node_prefixes_free(&ag->local);
	ag->local = sorted;
}

int
routes_start(struct agent *ag, struct err *err)
{
	int n;

	ag->loc = loc_rib_new();
	ag->fib = fib_open(ag->loop, !ag->cfg.no_fib, err);
	if (ag->fib == NULL)
		return -1;
	/* Routes an earlier run left behind. */
	if ((n = fib_flush_stale(ag->fib, err)) < 0)
		return -1;
	if (n > 0)
		log_info("removed %d stale kernel routes of an earlier run", n);
	ev_timer_init(&ag->flush_timer, flush_cb, FLUSH_DELAY, 0.);
	ag->flush_timer.data = ag;
	ev_timer_init(&ag->stats_timer, stats_cb, STATS_EVERY, STATS_EVERY);
	ag->stats_timer.data = ag;
	ev_timer_start(ag->loop, &ag->stats_timer);
	return 0;
}

void
routes_stop(struct agent *ag)
{
	size_t n;
	const struct rib_dest **v;

	ev_timer_stop(ag->loop, &ag->flush_timer);
	ev_timer_stop(ag->loop, &ag->stats_timer);
	/* Our kernel routes go with us: a stopped node must not keep forwarding on them. */
	v = loc_rib_sorted(ag->loc, &n);
	for (size_t i = 0; i < n; i++) {
		const struct rib_path *best = loc_rib_best(v[i]);
		struct err err;

		if (best != NULL && !best->src.local)
			fib_delete(ag->fib, &v[i]->p, &err);
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
