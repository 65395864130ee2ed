/*
 * Desired state in: reads the BGP configuration, has model/peers.c compute
 * this node's peers (node-specific and selector-chosen peers, then global
 * peers, then the node-to-node mesh, first one wins per remote address)
 * and brings the running sessions in line, leaving unchanged ones alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent.h"
#include "lib/log.h"
#include "model/bgpfilter.h"
#include "model/keys.h"
#include "model/peers.h"
#include "store/mirror.h"

/*
 * At most one pass per this long: a change after a quiet spell is applied at once,
 * the rest of a burst waits for the next pass, which takes all of it.
 */
#define RECONCILE_INTERVAL 0.05

struct specs {
	struct peer_spec *v;
	size_t n, cap;
};

/*
 * The global peers parsed at the last pass, kept while nothing under their keys (or the
 * Secrets their passwords may come from) changed: a node with 10,000 global peers then
 * parses none of them for a change elsewhere. Everything else is small and read anew.
 */
static const char *const global_peer_keys[] = {
	KEY_ROOT "bgp/global/peer_v4/", KEY_ROOT "bgp/global/peer_v6/", KEY_SECRETS,
};
#define NGLOBAL_KEYS (sizeof(global_peer_keys) / sizeof(global_peer_keys[0]))

struct reconcile_cache {
	int track[NGLOBAL_KEYS];
	uint64_t changes;            /* the trackers' sum when global was read */
	bool valid;
	struct bgp_peers global;
	/* Buffers kept from pass to pass: megabytes at 10,000 peers, which fresh from the
	 * allocator would cost a page fault every 4 KiB, every pass. */
	struct peer_wants wants;
	struct specs sp;
	bool need_full;              /* the last pass failed: the next one looks at everything */
};

/*
 * One policy per distinct filter setting within a pass: peers configured alike share it
 * (and compare equal by pointer), rather than 10,000 policies built and compared.
 */
struct policy_memo {
	struct {
		bool import_none, export_none;
		const char *filters;
		struct policy *policy;
	} v[16];
	size_t n;
};

static struct reconcile_cache *
cache_of(struct agent *ag)
{
	if (ag->rc == NULL) {
		ag->rc = xcalloc(1, sizeof(*ag->rc));
		for (size_t i = 0; i < NGLOBAL_KEYS; i++)
			ag->rc->track[i] = store_mirror_track(ag->view, global_peer_keys[i]);
	}
	return ag->rc;
}

static struct policy *
memo_policy(struct policy_memo *m, const struct bgpfilter_set *fs, const struct bgp_peer *cfg)
{
	static const struct bgp_peer none;
	struct policy *p;

	if (cfg == NULL)
		cfg = &none;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].import_none == cfg->import_none &&
		    m->v[i].export_none == cfg->export_none &&
		    strcmp(m->v[i].filters, cfg->filters) == 0)
			return policy_ref(m->v[i].policy);
	p = bgpfilter_policy(fs, cfg);
	if (m->n < sizeof(m->v) / sizeof(m->v[0])) {
		m->v[m->n].import_none = cfg->import_none;
		m->v[m->n].export_none = cfg->export_none;
		m->v[m->n].filters = cfg->filters;
		m->v[m->n].policy = policy_ref(p);
		m->n++;
	}
	return p;
}

static void
memo_free(struct policy_memo *m)
{
	for (size_t i = 0; i < m->n; i++)
		policy_unref(m->v[i].policy);
	m->n = 0;
}

/*
 * The peer addresses a pass looks at when only peers changed since the last one (global
 * peers, or this node's): a change then costs the same with 10 peers or 10,000.
 */
struct delta {
	struct addr v[STORE_JOURNAL_MAX];
	size_t n;
};

static bool
in_delta(const struct delta *d, const struct addr *ip)
{
	for (size_t i = 0; i < d->n; i++)
		if (addr_cmp(&d->v[i], ip) == 0)
			return true;
	return false;
}

/*
 * Fills d from the keys changed since the last pass, and says whether they allow a pass
 * over those addresses alone: not after a re-read or a failed pass, nor when anything
 * but a peer changed, nor on a node with API peerings (whose addresses are checked
 * against every configured peer's). Another node's peers do not concern this one.
 */
static bool
delta_of(struct agent *ag, struct delta *d)
{
	struct store_journal j;
	bool ok;

	store_mirror_journal_take(ag->view, &j);
	ok = !j.all && !cache_of(ag)->need_full && ag->napi == 0;
	d->n = 0;
	for (size_t i = 0; ok && i < j.n; i++) {
		char node[NODE_NAME_MAX + 1];
		struct addr ip;

		struct key canon;

		if (key_peer_parse(j.keys[i], node, sizeof(node), &ip) != 0) {
			ok = false;
			break;
		}
		if (node[0] != '\0' && strcmp(node, ag->cfg.node) != 0)
			continue;
		/* A key another tool wrote (2001:DB8::1): the peer is found by its value's "ip"
		 * in a whole pass, not by its key here. */
		key_peer(&canon, node[0] ? node : NULL, &ip);
		if (strcmp(canon.s, j.keys[i]) != 0) {
			ok = false;
			break;
		}
		if (!in_delta(d, &ip))
			d->v[d->n++] = ip;
	}
	store_journal_free(&j);
	return ok;
}

/*
 * The node's (node) or the global (NULL) peers at the delta's addresses; -2 when one
 * stored there names another address in its value (a whole pass sorts that out).
 */
static int
delta_peers(struct agent *ag, const char *node, const struct delta *d, struct bgp_peers *out,
	    struct err *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < d->n; i++) {
		if (bgpconf_peer_get(ag->view, node, &d->v[i], out, err) != STORE_OK) {
			bgp_peers_free(out);
			return -1;
		}
		if (out->n > 0 && !in_delta(d, &out->v[out->n - 1].ip)) {
			bgp_peers_free(out);
			return -2;
		}
	}
	return 0;
}

static uint64_t
global_changes(struct agent *ag)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < NGLOBAL_KEYS; i++)
		sum += store_mirror_changes(ag->view, ag->rc->track[i]);
	return sum;
}

/* The global peers, parsed again only when their keys changed. */
static int
global_peers(struct agent *ag, const struct bgp_peers **out, struct err *err)
{
	struct reconcile_cache *c = cache_of(ag);
	uint64_t now = global_changes(ag);

	if (!c->valid || c->changes != now) {
		bgp_peers_free(&c->global);
		c->valid = false;
		if (bgpconf_peer_list(ag->view, NULL, 0, &c->global, err) != STORE_OK)
			return -1;
		c->valid = true;
		c->changes = now;
	}
	*out = &c->global;
	return 0;
}

void
reconcile_stop(struct agent *ag)
{
	if (ag->rc == NULL)
		return;
	bgp_peers_free(&ag->rc->global);
	peer_wants_free(&ag->rc->wants);
	free(ag->rc->sp.v);
	free(ag->rc);
	ag->rc = NULL;
}

static void
add_spec(struct specs *sp, const struct host_config *self, uint32_t local_as,
	 const struct addr *remote, uint32_t remote_as, uint16_t port, const struct bgp_peer *cfg,
	 uint32_t max_prefixes, enum peer_type type, const struct bgpfilter_set *fs,
	 const struct bgp_peer *rr_peer, struct policy_memo *memo)
{
	struct peer_spec *p;
	bool v4 = addr_is_v4(remote);
	char a[ADDR_STRLEN];

	/* A session runs from the node's own address of that family. */
	if (v4 ? !self->has_ip : !self->has_ip6) {
		addr_format(remote, a);
		log_debug("peer %s: skipped, this node has no IPv%c address", a, v4 ? '4' : '6');
		return;
	}
	if (addr_cmp(remote, v4 ? &self->ip : &self->ip6) == 0)
		return;
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 64;
		sp->v = xrealloc(sp->v, sp->cap * sizeof(*sp->v));
	}
	p = &sp->v[sp->n++];
	memset(p, 0, sizeof(*p));
	p->local = v4 ? self->ip : self->ip6;
	p->remote = *remote;
	p->local_as = local_as;
	p->remote_as = remote_as;
	p->remote_port = port ? port : BGP_PORT;
	snprintf(p->password, sizeof(p->password), "%s", cfg ? cfg->password : "");
	p->policy = memo_policy(memo, fs, cfg);
	if (cfg != NULL) {
		p->keep_next_hop = cfg->keep_original_next_hop;
		p->no_source_address = cfg->source_address_none;
		p->allowas_in = (uint8_t)(cfg->num_allowed_local_as > 255 ? 255
									    : cfg->num_allowed_local_as);
		p->ttl_security = (uint8_t)(cfg->ttl_security > 255 ? 255 : cfg->ttl_security);
	}
	/* RFC 4456, as Calico configures BIRD: a node with a cluster id reflects, and its
	 * iBGP peers that are not reflectors of that same cluster are its clients. */
	p->reflector = self->has_rr_cluster_id;
	p->cluster_id = self->rr_cluster_id;
	p->rr_client = self->has_rr_cluster_id && local_as == remote_as &&
		       !(rr_peer->has_rr_cluster_id && rr_peer->rr_cluster_id == self->rr_cluster_id);
	p->max_prefixes = max_prefixes;
	/* RFC 4724: BGPPeer maxRestartTime (tabbyctl --restart-time), for the mesh
	 * BGPConfiguration nodeMeshMaxRestartTime; clamped to 12 bits when read. */
	p->restart_time = rr_peer->max_restart_time ? (uint16_t)rr_peer->max_restart_time
						    : BGP_GR_RESTART_TIME_DEFAULT;
	p->type = type;
	p->seq = (uint32_t)sp->n;
}

static int
spec_cmp(const void *a, const void *b)
{
	const struct peer_spec *x = a, *y = b;
	int c = strcmp(x->device, y->device);

	if (c == 0)
		c = addr_cmp(&x->remote, &y->remote);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A session's identity: its routing instance (device) and its remote address. */
static int
spec_remote_cmp(const void *key, const void *elem)
{
	const struct peer_spec *x = key, *y = elem;
	int c = strcmp(x->device, y->device);

	return c != 0 ? c : addr_cmp(&x->remote, &y->remote);
}

/* qsort's and bsearch's base may not be NULL (C11 7.22.5), even for no elements. */
static void
sort_specs(struct specs *sp)
{
	if (sp->n > 1)
		qsort(sp->v, sp->n, sizeof(*sp->v), spec_cmp);
}

/* Sorted by remote address; of several for one address the first added (highest precedence) stays. */
static void
dedupe(struct specs *sp)
{
	size_t out = 0;

	sort_specs(sp);
	for (size_t i = 0; i < sp->n; i++)
		if (out == 0 || addr_cmp(&sp->v[out - 1].remote, &sp->v[i].remote) != 0)
			sp->v[out++] = sp->v[i];
		else
			policy_unref(sp->v[i].policy);
	sp->n = out;
}

/*
 * Reads everything a node's sessions depend on: the specs of all its peers, or with d,
 * of the peers at d's addresses (the same specs, computed from just their peers).
 * -1: a read failed; -2 (with d): those peers need a whole pass (delta_peers).
 */
static int
desired(struct agent *ag, const struct delta *d, struct specs *sp, struct err *err)
{
	struct bgp_global g;
	struct host_configs hosts;
	struct bgp_peers node_peers, global_d = {0};
	const struct bgp_peers *global;
	struct policy_memo memo = {0};
	struct bgp_selpeers selpeers;
	struct host_config self = {0};
	struct peer_wants wants = cache_of(ag)->wants;
	struct bgpfilter_set fs;
	uint32_t local_as;
	int rc = -1;
	static const enum peer_type types[] = {
		[PEER_SRC_NODE] = PEER_NODE, [PEER_SRC_GLOBAL] = PEER_GLOBAL,
		[PEER_SRC_MESH] = PEER_MESH,
	};

	if (bgpconf_global_get(ag->view, &g, err) != STORE_OK)
		return -1;
	if (bgpconf_host_list(ag->view, &hosts, err) != STORE_OK)
		return -1;
	if (d != NULL ? (rc = delta_peers(ag, ag->cfg.node, d, &node_peers, err)) != 0
		      : bgpconf_peer_list(ag->view, ag->cfg.node, 0, &node_peers, err) != STORE_OK)
		goto out_hosts;
	if (d != NULL ? (rc = delta_peers(ag, NULL, d, &global_d, err)) != 0
		      : global_peers(ag, &global, err) != 0)
		goto out_node;
	rc = -1;
	if (d != NULL)
		global = &global_d;
	if (bgpconf_selpeer_list(ag->view, &selpeers, err) != STORE_OK)
		goto out_global;
	if (bgpfilter_read(ag->view, ag->cfg.node, &fs, err) != STORE_OK) {
		bgp_selpeers_free(&selpeers);
		goto out_global;
	}
	for (size_t i = 0; i < hosts.n; i++)
		if (strcmp(hosts.v[i].name, ag->cfg.node) == 0)
			self = hosts.v[i];
	/* The node's AS, else the default: changing the default re-peers inheriting nodes. */
	local_as = self.has_as ? self.as_num : g.as_num;
	peers_compute(&(struct peers_in){.node = ag->cfg.node, .global = &g, .hosts = &hosts,
					 .node_peers = &node_peers, .global_peers = global,
					 .selpeers = &selpeers},
		      &wants);
	sp->n = 0;
	for (size_t i = 0; i < wants.n; i++) {
		const struct bgp_peer *p = &wants.v[i].peer;

		/* The mesh and selectors are computed whole; their other addresses are not ours. */
		if (d != NULL && !in_delta(d, &p->ip))
			continue;
		add_spec(sp, &self, local_as, &p->ip, p->as_num, p->port,
			 wants.v[i].src == PEER_SRC_MESH ? NULL : p, p->max_prefixes,
			 types[wants.v[i].src], &fs, p, &memo);
	}
	memo_free(&memo);
	bgpfilter_set_free(&fs);
	ag->rc->wants = wants;
	bgp_selpeers_free(&selpeers);
	dedupe(sp);
	/* API peerings last: one naming a configured peer's address is an error, not merged. */
	if (d == NULL && peerings_want(ag, &sp->v, &sp->n, &sp->cap, err) != 0)
		goto out_global;
	sort_specs(sp);
	rc = 0;
out_global:
	bgp_peers_free(&global_d);
out_node:
	bgp_peers_free(&node_peers);
out_hosts:
	host_configs_free(&hosts);
	return rc;
}

/* Whether a running session can stay as it is for the wanted spec (its policy aside). */
static bool
same_session(const struct peer_spec *a, const struct peer_spec *b)
{
	return addr_cmp(&a->local, &b->local) == 0 && a->local_as == b->local_as &&
	       a->remote_as == b->remote_as && a->remote_port == b->remote_port &&
	       a->keep_next_hop == b->keep_next_hop && a->no_source_address == b->no_source_address &&
	       a->allowas_in == b->allowas_in && a->ttl_security == b->ttl_security &&
	       a->reflector == b->reflector && a->cluster_id == b->cluster_id &&
	       a->rr_client == b->rr_client &&
	       strcmp(a->password, b->password) == 0;
}

/* Drops the specs' policies; the buffer goes back to the cache for the next pass. */
static void
specs_clear(struct agent *ag, struct specs *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		policy_unref(sp->v[i].policy);
	sp->n = 0;
	ag->rc->sp = *sp;
}

static void reconcile_cb(struct ev_loop *loop, ev_timer *w, int revents);

/*
 * A read failed: what runs stays as it is (a failed read never means "gone"), and the
 * whole pass is tried again one back-off step later.
 */
static void
retry_later(struct agent *ag, const char *keeping, const struct err *err)
{
	double d = backoff_next(&ag->reconcile_retry, ev_now(ag->loop));

	log_warnx("reconcile: %s; keeping %s, retrying in %.1f s", err->msg, keeping, d);
	ev_timer_stop(ag->loop, &ag->reconcile_timer);
	ev_timer_init(&ag->reconcile_timer, reconcile_cb, d, 0.);
	ag->reconcile_timer.data = ag;
	ev_timer_start(ag->loop, &ag->reconcile_timer);
}

/* Brings a running session in line with the spec wanted for its peer. */
static void
session_update(struct agent *ag, struct session *s, const struct peer_spec *want)
{
	if (!same_session(&s->spec, want)) {
		/* RFC 4486: Other Configuration Change; then start afresh. */
		session_free(s, BGP_CEASE_CONFIG_CHANGE, NULL);
		session_start(session_new(ag, want));
		return;
	}
	if (s->spec.type != want->type || s->spec.generation != want->generation) {
		/* Only where it came from (or a no-op PUT) changed: not disturbed. */
		s->spec.type = want->type;
		s->spec.generation = want->generation;
		snprintf(s->spec.peering, sizeof(s->spec.peering), "%s", want->peering);
		status_session(s);
	}
	/* A new restart time is announced in the next OPEN: no reason to reset now. */
	s->spec.restart_time = want->restart_time;
	/* A new limit applies in place, without a restart (as BIRD reconfigures one). */
	if (s->spec.max_prefixes != want->max_prefixes)
		session_set_max_prefixes(s, want->max_prefixes);
	/* So does a new policy: the routes are judged again, the session stays up. */
	if (!policy_equal(s->spec.policy, want->policy)) {
		policy_unref(s->spec.policy);
		s->spec.policy = policy_ref(want->policy);
		routes_policy_changed(s);
	}
}

/* Every session against the specs (sorted): the ones not wanted go, the missing start. */
static void
apply_all(struct agent *ag, const struct specs *sp)
{
	bool *matched = xcalloc(sp->n ? sp->n : 1, sizeof(*matched));
	struct session *s, *next;

	for (s = ag->sessions; s; s = next) {
		const struct peer_spec *want;

		next = s->next;
		/* No peers wanted: sp->v is NULL, which bsearch must not be given (UBSan). */
		want = sp->n == 0 ? NULL
				  : bsearch(&s->spec, sp->v, sp->n, sizeof(*sp->v), spec_remote_cmp);
		if (want == NULL) {
			/* RFC 4486: Peer De-configured. */
			session_free(s, BGP_CEASE_PEER_DECONFIGURED, NULL);
			continue;
		}
		matched[want - sp->v] = true;
		session_update(ag, s, want);
	}
	for (size_t i = 0; i < sp->n; i++)
		if (!matched[i])
			session_start(session_new(ag, &sp->v[i]));
	free(matched);
}

/* The sessions at d's addresses against their specs (the node's own, no device's). */
static void
apply_delta(struct agent *ag, const struct delta *d, const struct specs *sp)
{
	for (size_t i = 0; i < d->n; i++) {
		struct session *s = session_find(ag, NULL, &d->v[i]);
		const struct peer_spec *want = NULL;

		for (size_t j = 0; j < sp->n && want == NULL; j++)
			if (addr_cmp(&sp->v[j].remote, &d->v[i]) == 0)
				want = &sp->v[j];
		if (s != NULL && want == NULL)
			session_free(s, BGP_CEASE_PEER_DECONFIGURED, NULL);
		else if (s == NULL && want != NULL)
			session_start(session_new(ag, want));
		else if (s != NULL)
			session_update(ag, s, want);
	}
}

void
reconcile(struct agent *ag)
{
	struct specs sp;
	struct node_prefixes prefixes;
	struct delta d;
	struct err err;
	double was, started;
	size_t wanted;
	bool partial;
	int rc;

	if (ag->stopping)
		return;
	ag->reconciled = ev_now(ag->loop);
	started = ev_time();
	partial = delta_of(ag, &d);
	cache_of(ag)->need_full = true;  /* until this pass has done its work */
	/* The prefixes this node originates (a pass over some peers: they did not change). */
	if (!partial) {
		if (bgpconf_prefix_list(ag->view, ag->cfg.node, 0, &prefixes, &err) != STORE_OK) {
			retry_later(ag, "the originated prefixes and the current sessions", &err);
			return;
		}
		routes_originate(ag, &prefixes);
		node_prefixes_free(&prefixes);
	}
	sp = ag->rc->sp;
	sp.n = 0;
	rc = !partial || d.n > 0 ? desired(ag, partial ? &d : NULL, &sp, &err) : 0;
	if (rc == -2) {
		partial = false;
		rc = desired(ag, NULL, &sp, &err);
	}
	if (rc != 0) {
		retry_later(ag, "the current sessions", &err);
		specs_clear(ag, &sp);
		return;
	}
	if ((was = backoff_reset(&ag->reconcile_retry, ev_now(ag->loop))) > 0)
		log_info("reconcile: the datastore reads again after %.1f s", was);
	if (partial)
		apply_delta(ag, &d, &sp);
	else
		apply_all(ag, &sp);
	ag->rc->need_full = false;
	wanted = sp.n;
	specs_clear(ag, &sp);
	/* A pass over some peers changed no API peering, so no device either. */
	if (!partial) {
		peerings_settle(ag);
		devices_settle(ag);
	}
	/* A peer gone from the configuration is no longer waited for. */
	routes_defer_check(ag);
	if (partial)
		log_debug("reconcile: %zu changed peer addresses, %zu sessions wanted there, %.1f ms",
			  d.n, wanted, (ev_time() - started) * 1e3);
	else
		log_debug("reconcile: %zu sessions wanted, %.1f ms", wanted,
			  (ev_time() - started) * 1e3);
}

static void
reconcile_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	reconcile(w->data);
}

void
reconcile_soon(struct agent *ag)
{
	double wait = ag->reconciled + RECONCILE_INTERVAL - ev_now(ag->loop);

	if (!ev_is_active(&ag->reconcile_timer)) {
		ev_timer_init(&ag->reconcile_timer, reconcile_cb, wait > 0 ? wait : 0., 0.);
		ag->reconcile_timer.data = ag;
		ev_timer_start(ag->loop, &ag->reconcile_timer);
	}
}
