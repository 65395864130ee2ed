/* The BGP configuration model over a real (SQLite) datastore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/bgpconf.h"
#include "model/keys.h"
#include "tmp_store.h"

static struct bgp_peer
peer(const char *ip, uint32_t as)
{
	struct bgp_peer p = {0};

	assert_int_equal(addr_parse(ip, &p.ip), 0);
	p.as_num = as;
	return p;
}

/* The value stored at key is exactly want. */
static void
assert_stored(struct store *s, const char *key, const char *want)
{
	struct store_kv kv;
	struct err err;

	assert_int_equal(store_get(s, key, &kv, &err), STORE_OK);
	assert_string_equal(kv.value, want);
	store_kv_clear(&kv);
}

static void
test_global_defaults_and_updates(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_global g;
	struct err err;

	/* Every field gets its default, whatever the struct held (an empty store). */
	memset(&g, 0xa5, sizeof(g));
	assert_int_equal(bgpconf_global_get(f->s, &g, &err), STORE_OK);
	assert_int_equal(g.as_num, 64512);
	assert_true(g.node_mesh);
	assert_int_equal(g.mesh_max_prefixes, 0);
	assert_int_equal(bgpconf_set_default_as(f->s, 65001, &err), STORE_OK);
	assert_int_equal(bgpconf_set_node_mesh(f->s, false, &err), STORE_OK);
	/* Each update keeps the other field. */
	assert_int_equal(bgpconf_global_get(f->s, &g, &err), STORE_OK);
	assert_int_equal(g.as_num, 65001);
	assert_false(g.node_mesh);
	assert_int_equal(bgpconf_set_default_as(f->s, 23456, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "AS_TRANS"));
}

static void
test_peers_sorted_replaced_removed(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_peer p;
	struct bgp_peers list;
	struct err err;
	char a[ADDR_STRLEN];

	p = peer("192.0.2.10", 64555);
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &p, &err), STORE_OK);
	p = peer("192.0.2.9", 64556);
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &p, &err), STORE_OK);
	p = peer("2001:0db8::1", 64590);
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &p, &err), STORE_OK);
	/* Same address again: replaces the AS. */
	p = peer("192.0.2.10", 64999);
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &p, &err), STORE_OK);

	/* The key holds the canonical address, the value the documented fields. */
	assert_stored(f->s, "/tabby/v1/bgp/global/peer_v6/2001:db8::1", "{\"ip\":\"2001:db8::1\",\"as_num\":64590}");

	assert_int_equal(bgpconf_peer_list(f->s, NULL, 0, &list, &err), STORE_OK);
	assert_int_equal(list.n, 3);
	addr_format(&list.v[0].ip, a);
	assert_string_equal(a, "192.0.2.9");
	addr_format(&list.v[1].ip, a);
	assert_string_equal(a, "192.0.2.10");
	assert_int_equal(list.v[1].as_num, 64999);
	addr_format(&list.v[2].ip, a);
	assert_string_equal(a, "2001:db8::1");
	bgp_peers_free(&list);

	assert_int_equal(bgpconf_peer_list(f->s, NULL, AF_INET6, &list, &err), STORE_OK);
	assert_int_equal(list.n, 1);
	bgp_peers_free(&list);

	p = peer("192.0.2.9", 1);
	assert_int_equal(bgpconf_peer_remove(f->s, NULL, &p.ip, &err), STORE_OK);
	assert_int_equal(bgpconf_peer_remove(f->s, NULL, &p.ip, &err), STORE_NOTFOUND);
	/* A node-specific list is separate from the global one. */
	assert_int_equal(bgpconf_peer_list(f->s, "n1", 0, &list, &err), STORE_OK);
	assert_int_equal(list.n, 0);
	bgp_peers_free(&list);
}

static void
test_peer_validation(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_peer p;
	struct err err;

	p = peer("224.0.0.1", 64555);
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &p, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "multicast"));
	p = peer("192.0.2.1", 0);
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &p, &err), STORE_ERR);
	p = peer("192.0.2.1", 64555);
	assert_int_equal(bgpconf_peer_put(f->s, "bad/name", &p, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "node name"));
	snprintf(p.password, sizeof(p.password), "abc");
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &p, &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "6-80"));
}

static void
test_malformed_values_skipped(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_peers list;
	struct bgp_global g;
	struct err err;

	assert_int_equal(store_put(f->s, "/tabby/v1/bgp/global/peer_v4/192.0.2.1", "not json", 0,
				   NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/tabby/v1/bgp/global/peer_v4/192.0.2.2",
				   "{\"ip\":\"192.0.2.2\",\"as_num\":0}", 0, NULL, &err), STORE_OK);
	assert_int_equal(store_put(f->s, "/tabby/v1/bgp/global/peer_v4/192.0.2.3",
				   "{\"ip\":\"192.0.2.3\",\"as_num\":65000}", 0, NULL, &err),
			 STORE_OK);
	assert_int_equal(store_put(f->s, KEY_GLOBAL_CONFIG, "[1,2]", 0, NULL, &err), STORE_OK);
	assert_int_equal(bgpconf_peer_list(f->s, NULL, 0, &list, &err), STORE_OK);
	assert_int_equal(list.n, 1);
	assert_int_equal(list.v[0].as_num, 65000);
	bgp_peers_free(&list);
	assert_int_equal(bgpconf_global_get(f->s, &g, &err), STORE_OK);
	assert_int_equal(g.as_num, 64512);
	/* An update replaces a malformed object rather than failing forever. */
	assert_int_equal(bgpconf_set_node_mesh(f->s, false, &err), STORE_OK);
	assert_int_equal(bgpconf_global_get(f->s, &g, &err), STORE_OK);
	assert_false(g.node_mesh);
}

static void
test_hosts(void **state)
{
	struct tmp_fx *f = *state;
	struct host_config h = {0};
	struct host_configs hosts;
	struct bgp_peer p = peer("198.51.100.1", 65010);
	struct prefix pfx;
	struct err err;

	snprintf(h.name, sizeof(h.name), "node-b");
	h.has_ip = true;
	addr_parse("192.0.2.2", &h.ip);
	h.has_as = true;
	h.as_num = 65002;
	assert_int_equal(bgpconf_host_put(f->s, &h, &err), STORE_OK);
	snprintf(h.name, sizeof(h.name), "node-a");
	h.has_as = false;
	assert_int_equal(bgpconf_host_put(f->s, &h, &err), STORE_OK);
	/* A node known only by its peers. */
	assert_int_equal(bgpconf_peer_put(f->s, "node-c", &p, &err), STORE_OK);
	assert_int_equal(bgpconf_host_list(f->s, &hosts, &err), STORE_OK);
	assert_int_equal(hosts.n, 3);
	assert_string_equal(hosts.v[0].name, "node-a");
	assert_false(hosts.v[0].has_as);
	assert_string_equal(hosts.v[1].name, "node-b");
	assert_true(hosts.v[1].has_as);
	assert_int_equal(hosts.v[1].as_num, 65002);
	assert_false(hosts.v[2].registered);
	host_configs_free(&hosts);

	assert_int_equal(prefix_parse("203.0.113.0/24", &pfx, &err), 0);
	assert_int_equal(bgpconf_prefix_add(f->s, "node-b", &pfx, &err), STORE_OK);
	/* A live agent record blocks removal. */
	assert_int_equal(store_put(f->s, "/tabby/v1/status/node-b/agent", "{}", 0, NULL, &err),
			 STORE_OK);
	assert_int_equal(bgpconf_host_remove(f->s, "node-b", &err), STORE_ERR);
	assert_non_null(strstr(err.msg, "running"));
	assert_int_equal(store_delete(f->s, "/tabby/v1/status/node-b/agent", &err), STORE_OK);
	assert_int_equal(bgpconf_host_remove(f->s, "node-b", &err), STORE_OK);
	assert_int_equal(bgpconf_host_remove(f->s, "node-b", &err), STORE_NOTFOUND);
	assert_int_equal(bgpconf_host_list(f->s, &hosts, &err), STORE_OK);
	assert_int_equal(hosts.n, 2);
	host_configs_free(&hosts);
}

static void
test_prefixes(void **state)
{
	struct tmp_fx *f = *state;
	struct node_prefixes ps;
	struct prefix p;
	struct err err;
	char buf[PREFIX_STRLEN];
	const char *add[] = {"203.0.113.128/25", "203.0.113.0/24", "2001:db8:1::/48"};

	for (int i = 0; i < 3; i++) {
		assert_int_equal(prefix_parse(add[i], &p, &err), 0);
		assert_int_equal(bgpconf_prefix_add(f->s, "n1", &p, &err), STORE_OK);
	}
	assert_stored(f->s, "/tabby/v1/host/n1/prefix/203.0.113.0-24", "{\"prefix\":\"203.0.113.0/24\"}");
	assert_int_equal(bgpconf_prefix_list(f->s, "n1", 0, &ps, &err), STORE_OK);
	assert_int_equal(ps.n, 3);
	prefix_format(&ps.v[0], buf);
	assert_string_equal(buf, "203.0.113.0/24");
	node_prefixes_free(&ps);
	assert_int_equal(bgpconf_prefix_list(f->s, "n1", AF_INET6, &ps, &err), STORE_OK);
	assert_int_equal(ps.n, 1);
	node_prefixes_free(&ps);
	assert_int_equal(prefix_parse("203.0.113.0/24", &p, &err), 0);
	assert_int_equal(bgpconf_prefix_remove(f->s, "n1", &p, &err), STORE_OK);
	assert_int_equal(bgpconf_prefix_remove(f->s, "n1", &p, &err), STORE_NOTFOUND);
}

/* Maximum prefixes: parsed with the accepted range in the error, kept per peer and for the mesh. */
static void
test_max_prefixes(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_peer p;
	struct bgp_peers list;
	struct bgp_global g;
	struct err err;
	uint32_t n;

	assert_int_equal(bgpconf_max_prefixes_parse("10", &n, &err), 0);
	assert_int_equal(n, 10);
	assert_int_equal(bgpconf_max_prefixes_parse("4294967295", &n, &err), 0);
	assert_int_equal(n, 4294967295u);
	assert_int_equal(bgpconf_max_prefixes_parse("none", &n, &err), 0);
	assert_int_equal(n, 0);
	for (const char *const *bad = (const char *const[]){"0", "-1", "4294967296", "1e3", " 5",
							      "", "0x10", "99999999999999999999", NULL};
	     *bad; bad++) {
		assert_int_equal(bgpconf_max_prefixes_parse(*bad, &n, &err), -1);
		assert_string_equal(err.msg, BGPCONF_MAX_PREFIXES_ACCEPTED);
	}
	p = peer("192.0.2.10", 64555);
	p.max_prefixes = 1000;
	assert_int_equal(bgpconf_peer_put(f->s, "n1", &p, &err), STORE_OK);
	assert_stored(f->s, "/tabby/v1/host/n1/bgp/peer_v4/192.0.2.10", "{\"ip\":\"192.0.2.10\",\"as_num\":64555,\"max_prefixes\":1000}");
	assert_int_equal(bgpconf_peer_list(f->s, "n1", 0, &list, &err), STORE_OK);
	assert_int_equal(list.n, 1);
	assert_int_equal(list.v[0].max_prefixes, 1000);
	bgp_peers_free(&list);
	/* The mesh default lives in the global config, beside the other fields. */
	assert_int_equal(bgpconf_set_node_mesh(f->s, false, &err), STORE_OK);
	assert_int_equal(bgpconf_set_mesh_max_prefixes(f->s, 500, &err), STORE_OK);
	assert_int_equal(bgpconf_global_get(f->s, &g, &err), STORE_OK);
	assert_int_equal(g.mesh_max_prefixes, 500);
	assert_false(g.node_mesh);
	assert_int_equal(bgpconf_set_mesh_max_prefixes(f->s, 0, &err), STORE_OK);
	assert_int_equal(bgpconf_global_get(f->s, &g, &err), STORE_OK);
	assert_int_equal(g.mesh_max_prefixes, 0);
	assert_stored(f->s, "/tabby/v1/bgp/global/config", "{\"node_mesh\":false}");
}

/*
 * max_restart_time (RFC 4724 restart time, seconds): stored only when set, 12 bits at
 * most, as the duration a v3 BGPPeer's maxRestartTime is (the same field).
 */
static void
test_max_restart_time(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_peer p = peer("192.0.2.10", 64555);
	struct bgp_peers list;
	struct bgp_global g;
	struct err err;

	p.max_restart_time = 30;
	assert_int_equal(bgpconf_peer_put(f->s, "n1", &p, &err), STORE_OK);
	assert_stored(f->s, "/tabby/v1/host/n1/bgp/peer_v4/192.0.2.10",
		      "{\"ip\":\"192.0.2.10\",\"as_num\":64555,\"max_restart_time\":\"30s\"}");
	assert_int_equal(bgpconf_peer_list(f->s, "n1", 0, &list, &err), STORE_OK);
	assert_int_equal(list.n, 1);
	assert_int_equal(list.v[0].max_restart_time, 30);
	bgp_peers_free(&list);
	p.max_restart_time = BGPCONF_RESTART_TIME_MAX + 1;
	assert_int_equal(bgpconf_peer_put(f->s, "n1", &p, &err), STORE_ERR);
	assert_string_equal(err.msg, "the restart time must be 1-4095 seconds (RFC 4724: 12 bits)");
	/* A value written by another tool past 12 bits is read as the largest there is. */
	assert_int_equal(store_put(f->s, "/tabby/v1/host/n1/bgp/peer_v4/192.0.2.10",
				   "{\"ip\":\"192.0.2.10\",\"as_num\":64555,\"max_restart_time\":\"2h\"}",
				   0, NULL, &err),
			 STORE_OK);
	assert_int_equal(bgpconf_peer_list(f->s, "n1", 0, &list, &err), STORE_OK);
	assert_int_equal(list.v[0].max_restart_time, BGPCONF_RESTART_TIME_MAX);
	bgp_peers_free(&list);
	/* BGPConfiguration nodeMeshMaxRestartTime, for the mesh, the same way. */
	assert_int_equal(store_put(f->s, "/tabby/v1/bgp/global/config",
				   "{\"mesh_max_restart_time\":\"1m30s\"}", 0, NULL, &err),
			 STORE_OK);
	assert_int_equal(bgpconf_global_get(f->s, &g, &err), STORE_OK);
	assert_int_equal(g.mesh_max_restart_time, 90);
}

/* One peer by address (reconcile's pass over changed peers), and its key read back. */
static void
test_peer_get_and_key(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_peer p = peer("2001:db8::7", 64590), v4 = peer("192.0.2.1", 1);
	struct bgp_peers got = {0};
	struct key k;
	struct addr ip;
	struct err err;
	char node[NODE_NAME_MAX + 1], a[ADDR_STRLEN];

	assert_int_equal(bgpconf_peer_put(f->s, "n1", &p, &err), STORE_OK);
	assert_int_equal(bgpconf_peer_get(f->s, "n1", &p.ip, &got, &err), STORE_OK);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v[0].as_num, 64590);
	/* Not there (globally; another address): nothing appended, no error. */
	assert_int_equal(bgpconf_peer_get(f->s, NULL, &p.ip, &got, &err), STORE_OK);
	assert_int_equal(bgpconf_peer_get(f->s, "n1", &v4.ip, &got, &err), STORE_OK);
	assert_int_equal(got.n, 1);
	bgp_peers_free(&got);

	key_peer(&k, "n1", &p.ip);
	assert_int_equal(key_peer_parse(k.s, node, sizeof(node), &ip), 0);
	assert_string_equal(node, "n1");
	addr_format(&ip, a);
	assert_string_equal(a, "2001:db8::7");
	key_peer(&k, NULL, &v4.ip);
	assert_int_equal(key_peer_parse(k.s, node, sizeof(node), &ip), 0);
	assert_string_equal(node, "");
	addr_format(&ip, a);
	assert_string_equal(a, "192.0.2.1");
	/* Not peers: other keys of a node, the global configuration, a family mismatch. */
	assert_int_equal(key_peer_parse("/tabby/v1/host/n1/config", node, sizeof(node), &ip), -1);
	assert_int_equal(key_peer_parse("/tabby/v1/host/n1/bgp/prefix/192.0.2.0-24", node,
					sizeof(node), &ip),
			 -1);
	assert_int_equal(key_peer_parse(KEY_GLOBAL_CONFIG, node, sizeof(node), &ip), -1);
	assert_int_equal(key_peer_parse("/tabby/v1/bgp/global/peer_v4/2001:db8::1", node,
					sizeof(node), &ip),
			 -1);
	assert_int_equal(key_peer_parse("/tabby/v1/bgp/global/peer_v4/", node, sizeof(node), &ip),
			 -1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tmp_fx_setup, tmp_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_global_defaults_and_updates), T(test_peers_sorted_replaced_removed),
		T(test_peer_validation),             T(test_malformed_values_skipped),
		T(test_hosts),                       T(test_prefixes),
		T(test_max_prefixes),                T(test_max_restart_time),
		T(test_peer_get_and_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
