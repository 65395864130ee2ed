/* The policy step: one test per BGPFilter rule kind, the defaults, and advertised communities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bgp/policy.h"

static struct prefix
P(const char *s)
{
	struct prefix p;
	struct err e;

	assert_int_equal(prefix_parse(s, &p, &e), 0);
	return p;
}

static struct policy_rule
rule(enum policy_action act, enum policy_op op, const char *cidr)
{
	struct policy_rule r;

	memset(&r, 0, sizeof(r));
	r.action = act;
	r.op = op;
	if (cidr != NULL)
		r.cidr = P(cidr);
	return r;
}

static const struct policy_route peer_route = {.from_peer = true};
static const struct policy_route own_route = {.from_peer = false};

static enum policy_action
imp(const struct policy *p, const char *pfx)
{
	struct prefix x = P(pfx);

	return policy_eval(p, POLICY_IMPORT, &x, &peer_route);
}

static void
test_default_accept(void **state)
{
	struct policy *p = policy_new();
	struct policy_rule r = rule(POLICY_REJECT, POLICY_EQUAL, "198.51.100.0/24");

	(void)state;
	assert_int_equal(imp(NULL, "198.51.100.0/24"), POLICY_ACCEPT);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_ACCEPT);
	/* A rule for export does not touch import. */
	policy_add_rule(p, POLICY_EXPORT, AF_INET, &r);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_ACCEPT);
	policy_unref(p);
}

static void
test_equal(void **state)
{
	struct policy *p = policy_new();
	struct policy_rule r = rule(POLICY_REJECT, POLICY_EQUAL, "198.51.100.0/24");

	(void)state;
	policy_add_rule(p, POLICY_IMPORT, AF_INET, &r);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_REJECT);
	assert_int_equal(imp(p, "198.51.100.0/25"), POLICY_ACCEPT);
	assert_int_equal(imp(p, "198.51.0.0/16"), POLICY_ACCEPT);
	policy_unref(p);
}

static void
test_not_equal(void **state)
{
	struct policy *p = policy_new();
	struct policy_rule r = rule(POLICY_REJECT, POLICY_NOT_EQUAL, "198.51.100.0/24");

	(void)state;
	policy_add_rule(p, POLICY_IMPORT, AF_INET, &r);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_ACCEPT);
	assert_int_equal(imp(p, "198.51.100.0/25"), POLICY_REJECT);
	policy_unref(p);
}

static void
test_in_not_in(void **state)
{
	struct policy *p = policy_new(), *q = policy_new();
	struct policy_rule r = rule(POLICY_REJECT, POLICY_IN, "198.51.100.0/24");
	struct policy_rule n = rule(POLICY_REJECT, POLICY_NOT_IN, "198.51.100.0/24");

	(void)state;
	policy_add_rule(p, POLICY_IMPORT, AF_INET, &r);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_REJECT);   /* itself */
	assert_int_equal(imp(p, "198.51.100.128/25"), POLICY_REJECT); /* inside */
	assert_int_equal(imp(p, "198.51.100.7/32"), POLICY_REJECT);
	assert_int_equal(imp(p, "198.51.0.0/16"), POLICY_ACCEPT);     /* covers, not inside */
	assert_int_equal(imp(p, "198.51.101.0/24"), POLICY_ACCEPT);   /* a neighbour */
	policy_add_rule(q, POLICY_IMPORT, AF_INET, &n);
	assert_int_equal(imp(q, "198.51.100.128/25"), POLICY_ACCEPT);
	assert_int_equal(imp(q, "203.0.113.0/24"), POLICY_REJECT);
	policy_unref(p);
	policy_unref(q);
}

static void
test_prefix_length(void **state)
{
	struct policy *p = policy_new(), *q = policy_new();
	struct policy_rule r = rule(POLICY_ACCEPT, POLICY_IN, "198.51.100.0/24");
	struct policy_rule all = rule(POLICY_REJECT, POLICY_OP_NONE, NULL);
	struct policy_rule len = rule(POLICY_REJECT, POLICY_OP_NONE, NULL);

	(void)state;
	/* Calico's sample: Accept In 55.0.0.0/16 with min 30, then reject the rest. */
	r.has_min = true;
	r.min = 30;
	policy_add_rule(p, POLICY_IMPORT, AF_INET, &r);
	policy_add_rule(p, POLICY_IMPORT, AF_INET, &all);
	assert_int_equal(imp(p, "198.51.100.4/30"), POLICY_ACCEPT);
	assert_int_equal(imp(p, "198.51.100.4/32"), POLICY_ACCEPT);
	assert_int_equal(imp(p, "198.51.100.0/29"), POLICY_REJECT);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_REJECT);
	/* Without a cidr, the length bounds alone. */
	len.has_max = true;
	len.max = 24;
	policy_add_rule(q, POLICY_IMPORT, AF_INET, &len);
	assert_int_equal(imp(q, "198.51.0.0/16"), POLICY_REJECT);
	assert_int_equal(imp(q, "198.51.100.0/25"), POLICY_ACCEPT);
	policy_unref(p);
	policy_unref(q);
}

static void
test_first_match_wins(void **state)
{
	struct policy *p = policy_new();
	struct policy_rule a = rule(POLICY_ACCEPT, POLICY_EQUAL, "198.51.100.0/25");
	struct policy_rule b = rule(POLICY_REJECT, POLICY_IN, "198.51.100.0/24");

	(void)state;
	policy_add_rule(p, POLICY_IMPORT, AF_INET, &a);
	policy_add_rule(p, POLICY_IMPORT, AF_INET, &b);
	assert_int_equal(imp(p, "198.51.100.0/25"), POLICY_ACCEPT);
	assert_int_equal(imp(p, "198.51.100.128/25"), POLICY_REJECT);
	policy_unref(p);
}

static void
test_families_apart(void **state)
{
	struct policy *p = policy_new();
	struct policy_rule all = rule(POLICY_REJECT, POLICY_OP_NONE, NULL);

	(void)state;
	/* A rule of importV6 leaves IPv4 alone. */
	policy_add_rule(p, POLICY_IMPORT, AF_INET6, &all);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_ACCEPT);
	assert_int_equal(imp(p, "2001:db8::/32"), POLICY_REJECT);
	policy_unref(p);
}

static void
test_source_remote_peers(void **state)
{
	struct policy *p = policy_new();
	struct policy_rule r = rule(POLICY_REJECT, POLICY_OP_NONE, NULL);
	struct prefix x = P("203.0.113.0/24");

	(void)state;
	r.remote_peers = true;
	policy_add_rule(p, POLICY_EXPORT, AF_INET, &r);
	assert_int_equal(policy_eval(p, POLICY_EXPORT, &x, &peer_route), POLICY_REJECT);
	assert_int_equal(policy_eval(p, POLICY_EXPORT, &x, &own_route), POLICY_ACCEPT);
	policy_unref(p);
}

static void
test_interface(void **state)
{
	struct policy *p = policy_new();
	struct policy_rule r = rule(POLICY_REJECT, POLICY_OP_NONE, NULL);
	struct prefix x = P("203.0.113.0/24");
	struct policy_route cali = {.iface = "cali12ab"}, eth = {.iface = "eth0"};

	(void)state;
	strcpy(r.iface, "cali*");
	policy_add_rule(p, POLICY_EXPORT, AF_INET, &r);
	assert_int_equal(policy_eval(p, POLICY_EXPORT, &x, &cali), POLICY_REJECT);
	assert_int_equal(policy_eval(p, POLICY_EXPORT, &x, &eth), POLICY_ACCEPT);
	/* BGP routes have no interface: no interface rule matches them. */
	assert_int_equal(policy_eval(p, POLICY_EXPORT, &x, &peer_route), POLICY_ACCEPT);
	assert_true(policy_glob("*.calico", "eth0.calico"));
	assert_true(policy_glob("*", ""));
	assert_true(policy_glob("a*b*c", "aXbYbZc"));
	assert_false(policy_glob("a*b*c", "aXbYbZ"));
	assert_false(policy_glob("eth0", "eth01"));
	policy_unref(p);
}

static void
test_reject_all(void **state)
{
	struct policy *p = policy_new();
	struct prefix v6;

	(void)state;
	/* --import=none is the same kind of policy: one Reject rule per family. */
	policy_reject_all(p, POLICY_IMPORT);
	assert_int_equal(imp(p, "198.51.100.0/24"), POLICY_REJECT);
	assert_int_equal(imp(p, "2001:db8::/32"), POLICY_REJECT);
	v6 = P("2001:db8::/32");
	assert_int_equal(policy_eval(p, POLICY_EXPORT, &v6, &own_route), POLICY_ACCEPT);
	/* Known to reject everything (the agent then skips the peer's change list). */
	assert_true(policy_rejects_all(p, POLICY_IMPORT, AF_INET));
	assert_true(policy_rejects_all(p, POLICY_IMPORT, AF_INET6));
	assert_false(policy_rejects_all(p, POLICY_EXPORT, AF_INET));
	assert_false(policy_rejects_all(NULL, POLICY_EXPORT, AF_INET));
	policy_unref(p);
}

/* A first Reject with any condition, or a first Accept, does not reject everything. */
static void
test_rejects_all_conditions(void **state)
{
	struct policy *p = policy_new(), *q = policy_new();
	struct policy_rule in = rule(POLICY_REJECT, POLICY_IN, "198.51.100.0/24");
	struct policy_rule len = rule(POLICY_REJECT, POLICY_OP_NONE, "0.0.0.0/0");
	struct policy_rule acc = rule(POLICY_ACCEPT, POLICY_OP_NONE, "0.0.0.0/0");

	(void)state;
	len.has_max = true;
	len.max = 24;
	policy_add_rule(p, POLICY_EXPORT, AF_INET, &in);
	assert_false(policy_rejects_all(p, POLICY_EXPORT, AF_INET));
	policy_add_rule(q, POLICY_EXPORT, AF_INET, &len);
	assert_false(policy_rejects_all(q, POLICY_EXPORT, AF_INET));
	policy_unref(q);
	q = policy_new();
	policy_add_rule(q, POLICY_EXPORT, AF_INET, &acc);
	policy_reject_all(q, POLICY_EXPORT);
	assert_false(policy_rejects_all(q, POLICY_EXPORT, AF_INET));
	assert_true(policy_rejects_all(q, POLICY_EXPORT, AF_INET6));
	policy_unref(p);
	policy_unref(q);
}

static void
test_equal_policies(void **state)
{
	struct policy *a = policy_new(), *b = policy_new();
	struct policy_rule r = rule(POLICY_REJECT, POLICY_IN, "198.51.100.0/24");

	(void)state;
	assert_true(policy_equal(a, NULL));
	policy_add_rule(a, POLICY_IMPORT, AF_INET, &r);
	assert_false(policy_equal(a, b));
	policy_add_rule(b, POLICY_IMPORT, AF_INET, &r);
	assert_true(policy_equal(a, b));
	r.has_max = true;
	r.max = 28;
	policy_add_rule(b, POLICY_IMPORT, AF_INET, &r);
	assert_false(policy_equal(a, b));
	assert_ptr_equal(policy_ref(a), a);
	policy_unref(a);
	policy_unref(a);
	policy_unref(b);
}

static void
test_communities(void **state)
{
	struct policy *p = policy_new();
	struct policy_advert ad = {.cidr = P("203.0.113.0/24")};
	struct prefix in = P("203.0.113.0/25"), out = P("198.51.100.0/24");
	struct bgp_attrs a;
	const uint8_t *c, *l;

	(void)state;
	ad.std = calloc(2, sizeof(*ad.std));
	ad.std[0] = 65000u << 16 | 100;
	ad.std[1] = 65000u << 16 | 100;  /* twice: sent once */
	ad.nstd = 2;
	ad.large = calloc(1, sizeof(*ad.large));
	ad.large[0][0] = 64512;
	ad.large[0][1] = 300;
	ad.large[0][2] = 4000000000u;
	ad.nlarge = 1;
	policy_add_advert(p, &ad);
	bgp_attrs_build(&a, (const uint8_t[]){BGP_AS_SEQUENCE, 1, 0, 0, 0xfd, 0xe8}, 6, NULL, 0);
	policy_communities(p, &out, &a);
	assert_int_equal(a.communities_n, 0);
	policy_communities(p, &in, &a);
	assert_int_equal(a.communities_n, 1);
	assert_int_equal(a.large_communities_n, 1);
	assert_true(bgp_attrs_has_community(&a, 65000u << 16 | 100));
	assert_true(a.has & BGP_HAS(BGP_ATTR_COMMUNITIES));
	assert_true(a.has & BGP_HAS(BGP_ATTR_LARGE_COMMUNITIES));
	c = bgp_attrs_communities(&a);
	l = bgp_attrs_large_communities(&a);
	assert_memory_equal(c, ((uint8_t[]){0xfd, 0xe8, 0, 100}), 4);
	assert_memory_equal(l, ((uint8_t[]){0, 0, 0xfc, 0, 0, 0, 1, 0x2c, 0xee, 0x6b, 0x28, 0}), 12);
	/* The AS_PATH is untouched by the sections that moved. */
	assert_true(bgp_as_path_contains(bgp_attrs_as_path(&a), a.as_path_len, 65000));
	bgp_attrs_free(&a);
	policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_accept),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_not_equal),
		cmocka_unit_test(test_in_not_in),
		cmocka_unit_test(test_prefix_length),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_families_apart),
		cmocka_unit_test(test_source_remote_peers),
		cmocka_unit_test(test_interface),
		cmocka_unit_test(test_reject_all),
		cmocka_unit_test(test_rejects_all_conditions),
		cmocka_unit_test(test_equal_policies),
		cmocka_unit_test(test_communities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
