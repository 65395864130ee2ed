/* The decision process, one test per tie-breaker, and the advertisement rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "bgp/decision.h"

struct path {
	struct bgp_attrs a;
	struct rib_source s;
};

/* A path from peer ADDR (AS peer_as) with an AS_PATH of n ASes starting with first. */
static void
mk(struct path *p, const char *addr, uint32_t peer_as, bool ebgp, uint32_t first, int n)
{
	uint8_t path[2 + 4 * 8] = {0};
	size_t len = 0;

	memset(p, 0, sizeof(*p));
	if (n > 0) {
		path[len++] = BGP_AS_SEQUENCE;
		path[len++] = (uint8_t)n;
		for (int i = 0; i < n; i++) {
			uint32_t asn = i == 0 ? first : 65000 + (uint32_t)i;

			path[len++] = (uint8_t)(asn >> 24);
			path[len++] = (uint8_t)(asn >> 16);
			path[len++] = (uint8_t)(asn >> 8);
			path[len++] = (uint8_t)asn;
		}
	}
	bgp_attrs_build(&p->a, path, len, NULL, 0);
	p->s.ebgp = ebgp;
	p->s.peer_as = peer_as;
	p->s.router_id = 0x0a000001;
	addr_parse(addr, &p->s.addr);
	addr_parse("192.0.2.99", &p->a.next_hop);
	p->a.has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
}

static void
better(struct path *a, struct path *b, const char *reason)
{
	assert_true(rib_path_cmp(&a->a, &a->s, &b->a, &b->s) < 0);
	assert_true(rib_path_cmp(&b->a, &b->s, &a->a, &a->s) > 0);
	assert_string_equal(rib_path_cmp_reason(&a->a, &a->s, &b->a, &b->s), reason);
	bgp_attrs_free(&a->a);
	bgp_attrs_free(&b->a);
}

static void
test_local_first(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.1", 0, false, 0, 0);
	a.s.local = true;
	mk(&b, "192.0.2.2", 64512, false, 0, 0);
	b.a.local_pref = 500;
	b.a.has |= BGP_HAS(BGP_ATTR_LOCAL_PREF);
	better(&a, &b, "local");
}

static void
test_highest_local_pref(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.2", 64512, false, 65001, 3);
	mk(&b, "192.0.2.3", 64512, false, 65001, 1);
	a.a.local_pref = 200;
	b.a.local_pref = 150;
	a.a.has |= BGP_HAS(BGP_ATTR_LOCAL_PREF);
	b.a.has |= BGP_HAS(BGP_ATTR_LOCAL_PREF);
	better(&a, &b, "local_pref");
	/* An external peer's LOCAL_PREF counts as the default, 100. */
	mk(&a, "192.0.2.2", 64512, false, 65001, 3);
	a.a.local_pref = 101;
	a.a.has |= BGP_HAS(BGP_ATTR_LOCAL_PREF);
	mk(&b, "192.0.2.3", 65001, true, 65001, 1);
	b.a.local_pref = 1000;
	b.a.has |= BGP_HAS(BGP_ATTR_LOCAL_PREF);
	better(&a, &b, "local_pref");
}

static void
test_shortest_as_path(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.9", 65001, true, 65001, 1);
	mk(&b, "192.0.2.2", 65002, true, 65002, 2);
	better(&a, &b, "as_path");
}

static void
test_lowest_origin(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.9", 65001, true, 65001, 2);
	mk(&b, "192.0.2.2", 65002, true, 65002, 2);
	b.a.origin = BGP_ORIGIN_INCOMPLETE;
	better(&a, &b, "origin");
}

static void
test_lowest_med_same_neighbour_only(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.9", 65001, true, 65001, 2);
	mk(&b, "192.0.2.2", 65001, true, 65001, 2);
	a.a.med = 10;
	b.a.med = 20;
	a.a.has |= BGP_HAS(BGP_ATTR_MED);
	b.a.has |= BGP_HAS(BGP_ATTR_MED);
	better(&a, &b, "med");
	/* From different neighbouring ASes MED is not compared: the peer address decides. */
	mk(&a, "192.0.2.2", 65001, true, 65001, 2);
	mk(&b, "192.0.2.9", 65002, true, 65002, 2);
	a.a.med = 20;
	b.a.med = 10;
	a.a.has |= BGP_HAS(BGP_ATTR_MED);
	b.a.has |= BGP_HAS(BGP_ATTR_MED);
	better(&a, &b, "peer_address");
}

static void
test_ebgp_over_ibgp(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.9", 65001, true, 65001, 1);
	mk(&b, "192.0.2.2", 64512, false, 65001, 1);
	better(&a, &b, "ebgp");
}

static void
test_lowest_router_id_or_originator(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.9", 64512, false, 65001, 1);
	mk(&b, "192.0.2.2", 64512, false, 65001, 1);
	a.s.router_id = 1;
	b.s.router_id = 2;
	better(&a, &b, "router_id");
	/* ORIGINATOR_ID stands in for the router id where present. */
	mk(&a, "192.0.2.9", 64512, false, 65001, 1);
	mk(&b, "192.0.2.2", 64512, false, 65001, 1);
	a.s.router_id = 9;
	a.a.originator_id = 1;
	a.a.has |= BGP_HAS(BGP_ATTR_ORIGINATOR_ID);
	b.s.router_id = 2;
	better(&a, &b, "router_id");
}

static void
test_lowest_peer_address(void **state)
{
	struct path a, b;

	(void)state;
	mk(&a, "192.0.2.2", 64512, false, 65001, 1);
	mk(&b, "192.0.2.10", 64512, false, 65001, 1);
	better(&a, &b, "peer_address");
}

static const char *
sent_path(const struct path *p, const struct rib_target *t, char *buf, size_t n)
{
	struct bgp_attrs out;

	if (!rib_export(&p->a, &p->s, t, &out))
		return NULL;
	bgp_as_path_format(bgp_attrs_as_path(&out), out.as_path_len, buf, n);
	bgp_attrs_free(&out);
	return buf;
}

static void
test_advertisement_rules(void **state)
{
	struct rib_target ebgp = {.ebgp = true, .local_as = 64512};
	struct rib_target ibgp = {.ebgp = false, .local_as = 64512};
	struct path from_ibgp, from_ebgp, local;
	struct bgp_attrs out;
	char buf[64];

	(void)state;
	addr_parse("192.0.2.1", &ebgp.local);
	addr_parse("198.51.100.7", &ebgp.remote);
	addr_parse("192.0.2.1", &ibgp.local);
	addr_parse("192.0.2.3", &ibgp.remote);
	mk(&from_ibgp, "192.0.2.2", 64512, false, 65001, 1);
	mk(&from_ebgp, "192.0.2.9", 65001, true, 65001, 1);
	mk(&local, "192.0.2.1", 0, false, 0, 0);
	local.s.local = true;
	/* iBGP-learned routes are not sent to iBGP peers; to eBGP peers with our AS first. */
	assert_null(sent_path(&from_ibgp, &ibgp, buf, sizeof(buf)));
	assert_string_equal(sent_path(&from_ibgp, &ebgp, buf, sizeof(buf)), "64512 65001");
	assert_string_equal(sent_path(&from_ebgp, &ibgp, buf, sizeof(buf)), "65001");
	assert_string_equal(sent_path(&local, &ibgp, buf, sizeof(buf)), "");
	assert_string_equal(sent_path(&local, &ebgp, buf, sizeof(buf)), "64512");
	/* Next hop self towards eBGP and for our own routes; kept towards iBGP otherwise. */
	assert_true(rib_export(&from_ebgp.a, &from_ebgp.s, &ebgp, &out));
	assert_int_equal(addr_cmp(&out.next_hop, &ebgp.local), 0);
	bgp_attrs_free(&out);
	assert_true(rib_export(&from_ebgp.a, &from_ebgp.s, &ibgp, &out));
	assert_int_equal(addr_cmp(&out.next_hop, &from_ebgp.a.next_hop), 0);
	bgp_attrs_free(&out);
	assert_true(rib_export(&local.a, &local.s, &ibgp, &out));
	assert_int_equal(addr_cmp(&out.next_hop, &ibgp.local), 0);
	bgp_attrs_free(&out);
	/* Not back to the peer it came from. */
	addr_parse("192.0.2.9", &ebgp.remote);
	assert_null(sent_path(&from_ebgp, &ebgp, buf, sizeof(buf)));
	addr_parse("198.51.100.7", &ebgp.remote);
	/* keepOriginalNextHop: a learned route keeps its next hop toward eBGP; ours do not. */
	ebgp.keep_next_hop = true;
	assert_true(rib_export(&from_ebgp.a, &from_ebgp.s, &ebgp, &out));
	assert_int_equal(addr_cmp(&out.next_hop, &from_ebgp.a.next_hop), 0);
	bgp_attrs_free(&out);
	assert_true(rib_export(&local.a, &local.s, &ebgp, &out));
	assert_int_equal(addr_cmp(&out.next_hop, &ebgp.local), 0);
	bgp_attrs_free(&out);
	ebgp.keep_next_hop = false;
	bgp_attrs_free(&from_ibgp.a);
	bgp_attrs_free(&from_ebgp.a);
	bgp_attrs_free(&local.a);
}

/* RFC 4456 §6 and §8: who a reflector sends an iBGP route to, and what it adds. */
static void
test_route_reflection(void **state)
{
	struct rib_target client = {.local_as = 64512, .reflector = true, .cluster_id = 0xe0000001,
				    .rr_client = true};
	struct rib_target nonclient = client, plain = {.local_as = 64512};
	struct path from_client, from_nonclient, from_ebgp;
	struct bgp_attrs out;
	char buf[64];

	(void)state;
	nonclient.rr_client = false;
	addr_parse("192.0.2.1", &client.local);
	addr_parse("192.0.2.3", &client.remote);
	nonclient.local = plain.local = client.local;
	addr_parse("192.0.2.5", &nonclient.remote);
	plain.remote = nonclient.remote;
	mk(&from_client, "192.0.2.2", 64512, false, 0, 0);
	from_client.s.rr_client = true;
	from_client.s.router_id = 0xc0000202;
	mk(&from_nonclient, "192.0.2.4", 64512, false, 0, 0);
	mk(&from_ebgp, "192.0.2.9", 65001, true, 65001, 1);
	/* From a client: to clients and non-clients; from a non-client: to clients only. */
	assert_non_null(sent_path(&from_client, &client, buf, sizeof(buf)));
	assert_non_null(sent_path(&from_client, &nonclient, buf, sizeof(buf)));
	assert_non_null(sent_path(&from_nonclient, &client, buf, sizeof(buf)));
	assert_null(sent_path(&from_nonclient, &nonclient, buf, sizeof(buf)));
	/* Not a reflector: iBGP to iBGP as ever. */
	assert_null(sent_path(&from_client, &plain, buf, sizeof(buf)));
	/* Reflected: ORIGINATOR_ID the peer it came from, our cluster id first in the list. */
	assert_true(rib_export(&from_client.a, &from_client.s, &nonclient, &out));
	assert_true(out.has & BGP_HAS(BGP_ATTR_ORIGINATOR_ID));
	assert_int_equal(out.originator_id, 0xc0000202);
	assert_int_equal(out.cluster_list_n, 1);
	assert_true(bgp_attrs_cluster_list_has(&out, 0xe0000001));
	assert_int_equal(addr_cmp(&out.next_hop, &from_client.a.next_hop), 0);
	/* Reflected again by another cluster: the originator stays, the list grows in front. */
	{
		struct path again = from_client;
		struct bgp_attrs out2;

		again.a = out;
		client.cluster_id = 0xe0000002;
		assert_true(rib_export(&again.a, &again.s, &client, &out2));
		assert_int_equal(out2.originator_id, 0xc0000202);
		assert_int_equal(out2.cluster_list_n, 2);
		assert_memory_equal(bgp_attrs_cluster_list(&out2),
				    ((uint8_t[]){0xe0, 0, 0, 2, 0xe0, 0, 0, 1}), 8);
		bgp_attrs_free(&out2);
	}
	bgp_attrs_free(&out);
	/* An eBGP route is not reflected: no ORIGINATOR_ID, no CLUSTER_LIST. */
	assert_true(rib_export(&from_ebgp.a, &from_ebgp.s, &nonclient, &out));
	assert_false(out.has & BGP_HAS(BGP_ATTR_ORIGINATOR_ID));
	assert_int_equal(out.cluster_list_n, 0);
	bgp_attrs_free(&out);
	bgp_attrs_free(&from_client.a);
	bgp_attrs_free(&from_nonclient.a);
	bgp_attrs_free(&from_ebgp.a);
}

static void
test_well_known_communities(void **state)
{
	struct rib_target ebgp = {.ebgp = true, .local_as = 64512};
	struct rib_target ibgp = {.ebgp = false, .local_as = 64512};
	const uint8_t path[] = {0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9};
	const uint32_t no_export = BGP_COMM_NO_EXPORT, no_adv = BGP_COMM_NO_ADVERTISE;
	struct rib_source src = {.ebgp = true, .peer_as = 65001};
	struct bgp_attrs a, out;

	(void)state;
	addr_parse("198.51.100.7", &ebgp.remote);
	addr_parse("192.0.2.3", &ibgp.remote);
	addr_parse("192.0.2.9", &src.addr);
	bgp_attrs_build(&a, path, sizeof(path), &no_export, 1);
	assert_false(rib_export(&a, &src, &ebgp, &out));
	assert_true(rib_export(&a, &src, &ibgp, &out));
	bgp_attrs_free(&out);
	bgp_attrs_free(&a);
	bgp_attrs_build(&a, path, sizeof(path), &no_adv, 1);
	assert_false(rib_export(&a, &src, &ebgp, &out));
	assert_false(rib_export(&a, &src, &ibgp, &out));
	bgp_attrs_free(&a);
}

/* RFC 9494 §4.3 and §4.5: a long-lived stale route loses to any other (even with a higher
 * LOCAL_PREF) and goes only to peers that announced LLGR. */
static void
test_llgr_stale(void **state)
{
	struct path a, b;
	struct rib_target plain = {.ebgp = true, .local_as = 64512};
	struct rib_target llgr = plain;
	struct bgp_attrs out;

	(void)state;
	llgr.llgr = true;
	mk(&a, "192.0.2.2", 64512, false, 65001, 3);
	mk(&b, "192.0.2.3", 64512, false, 65001, 1);
	b.a.local_pref = 500;
	b.a.has |= BGP_HAS(BGP_ATTR_LOCAL_PREF);
	bgp_attrs_add_community(&b.a, BGP_COMM_LLGR_STALE);
	bgp_attrs_add_community(&b.a, BGP_COMM_LLGR_STALE);  /* once only */
	assert_int_equal(b.a.communities_n, 1);
	assert_true(bgp_attrs_has_community(&b.a, BGP_COMM_LLGR_STALE));
	assert_false(rib_export(&b.a, &b.s, &plain, &out));
	assert_true(rib_export(&b.a, &b.s, &llgr, &out));
	assert_true(bgp_attrs_has_community(&out, BGP_COMM_LLGR_STALE));
	assert_int_equal(bgp_as_path_length(bgp_attrs_as_path(&out), out.as_path_len), 2);
	bgp_attrs_free(&out);
	better(&a, &b, "llgr_stale");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_first),
		cmocka_unit_test(test_highest_local_pref),
		cmocka_unit_test(test_shortest_as_path),
		cmocka_unit_test(test_lowest_origin),
		cmocka_unit_test(test_lowest_med_same_neighbour_only),
		cmocka_unit_test(test_ebgp_over_ibgp),
		cmocka_unit_test(test_lowest_router_id_or_originator),
		cmocka_unit_test(test_lowest_peer_address),
		cmocka_unit_test(test_advertisement_rules),
		cmocka_unit_test(test_route_reflection),
		cmocka_unit_test(test_well_known_communities),
		cmocka_unit_test(test_llgr_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
