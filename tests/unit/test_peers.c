/* The pure peer computation: scopes, selectors both ways, labels, precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "model/peers.h"
#include "model/selector.h"

struct world {
	struct bgp_global g;
	struct host_config hv[4];
	struct host_configs hosts;
	struct bgp_peer npv[2], gpv[2];
	struct bgp_peers node_peers, global_peers;
	struct bgp_selpeer spv[4];
	struct bgp_selpeers selpeers;
};

static void
host(struct world *w, const char *name, const char *ip, const char *labels)
{
	struct host_config *h = &w->hv[w->hosts.n++];

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->registered = true;
	h->has_ip = true;
	assert_int_equal(addr_parse(ip, &h->ip), 0);
	if (labels != NULL)
		json_object_set_new(w->hosts.labels, name, json_loads(labels, 0, NULL));
}

static struct bgp_selpeer *
selpeer(struct world *w, const char *name, const char *node_sel, const char *peer_sel)
{
	struct bgp_selpeer *p = &w->spv[w->selpeers.n++];
	struct err err;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (node_sel != NULL)
		assert_non_null(p->node_sel = sel_parse(node_sel, NULL, &err));
	if (peer_sel != NULL)
		assert_non_null(p->peer_sel = sel_parse(peer_sel, NULL, &err));
	return p;
}

static void
init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->g.as_num = 64512;
	w->g.node_mesh = true;
	w->hosts.v = w->hv;
	w->hosts.labels = json_object();
	w->node_peers.v = w->npv;
	w->global_peers.v = w->gpv;
	w->selpeers.v = w->spv;
}

static void
done(struct world *w)
{
	for (size_t i = 0; i < w->selpeers.n; i++) {
		sel_free(w->spv[i].node_sel);
		sel_free(w->spv[i].peer_sel);
	}
	json_decref(w->hosts.labels);
}

/* "src ip as, ..." in order: the computed peers of node. */
static void
peers_are(struct world *w, const char *node, const char *want)
{
	static const char *const src[] = {"node", "global", "mesh"};
	struct peer_wants out = {0};
	char buf[1024] = "", a[ADDR_STRLEN];
	size_t at = 0;

	peers_compute(&(struct peers_in){.node = node, .global = &w->g, .hosts = &w->hosts,
					 .node_peers = &w->node_peers,
					 .global_peers = &w->global_peers, .selpeers = &w->selpeers},
		      &out);
	for (size_t i = 0; i < out.n; i++) {
		addr_format(&out.v[i].peer.ip, a);
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s %s %u", i ? ", " : "",
				       src[out.v[i].src], a, out.v[i].peer.as_num);
	}
	peer_wants_free(&out);
	assert_string_equal(buf, want);
}

static void
test_mesh_and_scopes(void **state)
{
	struct world w;

	(void)state;
	init(&w);
	host(&w, "n1", "192.0.2.1", NULL);
	host(&w, "n2", "192.0.2.2", NULL);
	w.hv[1].has_as = true;
	w.hv[1].as_num = 65002;
	assert_int_equal(addr_parse("198.51.100.1", &w.npv[0].ip), 0);
	w.npv[0].as_num = 65100;
	w.node_peers.n = 1;
	assert_int_equal(addr_parse("198.51.100.9", &w.gpv[0].ip), 0);
	w.gpv[0].as_num = 65200;
	w.global_peers.n = 1;
	peers_are(&w, "n1", "node 198.51.100.1 65100, global 198.51.100.9 65200, "
			    "mesh 192.0.2.2 65002");
	w.g.node_mesh = false;
	peers_are(&w, "n1", "node 198.51.100.1 65100, global 198.51.100.9 65200");
	done(&w);
}

/* The mesh peers take BGPConfiguration's mesh options: the prefix limit and
 * nodeMeshMaxRestartTime (the restart time tabbyd announces, RFC 4724). */
static void
test_mesh_options(void **state)
{
	struct world w;
	struct peer_wants out = {0};

	(void)state;
	init(&w);
	host(&w, "n1", "192.0.2.1", NULL);
	host(&w, "n2", "192.0.2.2", NULL);
	w.g.mesh_max_prefixes = 100;
	w.g.mesh_max_restart_time = 300;
	peers_compute(&(struct peers_in){.node = "n1", .global = &w.g, .hosts = &w.hosts,
					 .node_peers = &w.node_peers,
					 .global_peers = &w.global_peers, .selpeers = &w.selpeers},
		      &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].src, PEER_SRC_MESH);
	assert_int_equal(out.v[0].peer.max_prefixes, 100);
	assert_int_equal(out.v[0].peer.max_restart_time, 300);
	peer_wants_free(&out);
	done(&w);
}

/* Calico's route-reflector layout: mesh off, everyone peers with the nodes labelled so. */
static void
test_peer_selector_both_ways(void **state)
{
	struct world w;

	(void)state;
	init(&w);
	w.g.node_mesh = false;
	host(&w, "rr", "192.0.2.1", "{\"route-reflector\": \"true\"}");
	host(&w, "c1", "192.0.2.2", "{}");
	host(&w, "c2", "192.0.2.3", NULL);
	selpeer(&w, "peer-with-rr", "all()", "route-reflector == 'true'");
	/* Clients peer with the reflector; the reflector peers back with every client. */
	peers_are(&w, "c1", "node 192.0.2.1 64512");
	peers_are(&w, "c2", "node 192.0.2.1 64512");
	peers_are(&w, "rr", "node 192.0.2.2 64512, node 192.0.2.3 64512");
	/* Relabelling moves the sessions: c2 becomes a reflector too. */
	json_object_set_new(w.hosts.labels, "c2", json_pack("{s:s}", "route-reflector", "true"));
	peers_are(&w, "c1", "node 192.0.2.1 64512, node 192.0.2.3 64512");
	peers_are(&w, "c2", "node 192.0.2.1 64512, node 192.0.2.2 64512");
	done(&w);
}

static void
test_node_selector_with_ip(void **state)
{
	struct world w;
	struct bgp_selpeer *p;

	(void)state;
	init(&w);
	w.g.node_mesh = false;
	host(&w, "a", "192.0.2.1", "{\"rack\": \"r1\"}");
	host(&w, "b", "192.0.2.2", "{\"rack\": \"r2\"}");
	p = selpeer(&w, "tor-r1", "rack == 'r1'", NULL);
	p->has_ip = true;
	assert_int_equal(addr_parse("203.0.113.1", &p->peer.ip), 0);
	p->peer.as_num = 65001;
	/* A global (no node, no selector) peer by address too. */
	p = selpeer(&w, "everyone", NULL, NULL);
	p->has_ip = true;
	assert_int_equal(addr_parse("203.0.113.9", &p->peer.ip), 0);
	p->peer.as_num = 65009;
	peers_are(&w, "a", "node 203.0.113.1 65001, global 203.0.113.9 65009");
	peers_are(&w, "b", "global 203.0.113.9 65009");
	/* spec.node scopes a selector peer to one node. */
	p = selpeer(&w, "b-to-a", NULL, "rack == 'r1'");
	snprintf(p->node, sizeof(p->node), "b");
	peers_are(&w, "b", "node 192.0.2.1 64512, global 203.0.113.9 65009");
	peers_are(&w, "a", "node 203.0.113.1 65001, node 192.0.2.2 64512, global 203.0.113.9 65009");
	done(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mesh_and_scopes),
		cmocka_unit_test(test_mesh_options),
		cmocka_unit_test(test_peer_selector_both_ways),
		cmocka_unit_test(test_node_selector_with_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
