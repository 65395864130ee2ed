#include "model/peers.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "model/selector.h"

static void
want(struct peer_wants *w, const struct bgp_peer *p, enum peer_src src, const char *name)
{
	/* Grown by doubling: a node with 10,000 peers computes them on every change. */
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n].peer = *p;
	w->v[w->n].src = src;
	w->v[w->n].name = name;
	w->n++;
}

static json_t *
labels_of(const struct peers_in *in, const char *node)
{
	return json_object_get(in->hosts->labels, node);
}

/* Whether a selector BGPPeer applies to a node (spec.node, nodeSelector, else every node). */
static bool
applies(const struct peers_in *in, const struct bgp_selpeer *p, const char *node)
{
	if (p->node[0] != '\0')
		return strcmp(p->node, node) == 0;
	if (p->node_sel != NULL)
		return sel_match(p->node_sel, labels_of(in, node));
	return true;
}

/* Peers with another node's addresses, with its AS (else the default) and listen port. */
static void
want_node(struct peer_wants *w, const struct peers_in *in, const struct host_config *h,
	  const struct bgp_peer *opts, enum peer_src src, const char *name)
{
	struct bgp_peer p = *opts;

	p.as_num = h->has_as ? h->as_num : in->global->as_num;
	p.port = h->port;
	p.has_rr_cluster_id = h->has_rr_cluster_id;
	p.rr_cluster_id = h->rr_cluster_id;
	if (h->has_ip) {
		p.ip = h->ip;
		want(w, &p, src, name);
	}
	if (h->has_ip6) {
		p.ip = h->ip6;
		want(w, &p, src, name);
	}
}

static void
selector_peers(const struct peers_in *in, struct peer_wants *out, bool global)
{
	for (size_t i = 0; i < in->selpeers->n; i++) {
		const struct bgp_selpeer *p = &in->selpeers->v[i];
		enum peer_src src = global ? PEER_SRC_GLOBAL : PEER_SRC_NODE;
		bool mine = applies(in, p, in->node);

		/* A BGPPeer for every node is a global peer; one scoped by node or selector is not. */
		if ((p->node[0] == '\0' && p->node_sel == NULL) != global)
			continue;
		if (mine && p->has_ip)
			want(out, &p->peer, src, p->name);
		if (p->peer_sel == NULL)
			continue;
		for (size_t j = 0; j < in->hosts->n; j++) {
			const struct host_config *h = &in->hosts->v[j];

			if (!h->registered || strcmp(h->name, in->node) == 0)
				continue;
			/* This node applies and the other matches, or the other way round. */
			if ((mine && sel_match(p->peer_sel, labels_of(in, h->name))) ||
			    (sel_match(p->peer_sel, labels_of(in, in->node)) &&
			     applies(in, p, h->name)))
				want_node(out, in, h, &p->peer, src, p->name);
		}
	}
}

void
peers_compute(const struct peers_in *in, struct peer_wants *out)
{
	static const struct bgp_peer no_options;

	out->n = 0;
	for (size_t i = 0; i < in->node_peers->n; i++)
		want(out, &in->node_peers->v[i], PEER_SRC_NODE, NULL);
	selector_peers(in, out, false);
	for (size_t i = 0; i < in->global_peers->n; i++)
		want(out, &in->global_peers->v[i], PEER_SRC_GLOBAL, NULL);
	selector_peers(in, out, true);
	for (size_t i = 0; in->global->node_mesh && i < in->hosts->n; i++) {
		const struct host_config *h = &in->hosts->v[i];
		struct bgp_peer opts = no_options;

		if (strcmp(h->name, in->node) == 0 || !h->registered)
			continue;
		opts.max_prefixes = in->global->mesh_max_prefixes;
		opts.max_restart_time = in->global->mesh_max_restart_time;
		want_node(out, in, h, &opts, PEER_SRC_MESH, NULL);
	}
}

void
peer_wants_free(struct peer_wants *w)
{
	free(w->v);
	memset(w, 0, sizeof(*w));
}
