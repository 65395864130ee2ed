/* Stored BGPFilters, peer switches and prefixAdvertisements compiled into a peer's policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "model/bgpfilter.h"

static const struct policy_route from_peer = {.from_peer = true};
static const struct policy_route own = {.from_peer = false};

static struct bgpfilter_set
set_of(const char *filters, const char *communities, const char *adverts)
{
	struct bgpfilter_set fs = {
		.filters = json_loads(filters, 0, NULL),
		.communities = communities ? json_loads(communities, 0, NULL) : NULL,
		.adverts = adverts ? json_loads(adverts, 0, NULL) : NULL,
	};

	assert_non_null(fs.filters);
	return fs;
}

static enum policy_action
eval(const struct policy *p, enum policy_dir dir, const char *pfx,
     const struct policy_route *rt)
{
	struct prefix x;
	struct err e;

	assert_int_equal(prefix_parse(pfx, &x, &e), 0);
	return policy_eval(p, dir, &x, rt);
}

/* Calico's sample BGPFilter, as stored (import_v4 ... with the v3 rule fields). */
static const char sample[] =
	"{\"my-filter\": {"
	"\"export_v4\": [{\"action\": \"Accept\", \"matchOperator\": \"In\", \"cidr\": \"198.51.100.0/24\","
	" \"source\": \"RemotePeers\"}, {\"action\": \"Reject\", \"interface\": \"*.calico\"}],"
	"\"import_v4\": [{\"action\": \"Accept\", \"matchOperator\": \"In\", \"cidr\": \"203.0.113.0/24\","
	" \"prefixLength\": {\"min\": 30}}, {\"action\": \"Reject\", \"matchOperator\": \"NotIn\","
	" \"cidr\": \"192.0.2.0/24\"}],"
	"\"import_v6\": [{\"action\": \"Accept\", \"matchOperator\": \"Equal\", \"cidr\": \"2001:db8::/64\"},"
	" {\"action\": \"Reject\"}]},"
	"\"second\": {\"import_v4\": [{\"action\": \"Reject\"}]}}";

static void
test_sample_filter(void **state)
{
	struct bgpfilter_set fs = set_of(sample, NULL, NULL);
	struct bgp_peer p;
	struct policy *pol;

	(void)state;
	memset(&p, 0, sizeof(p));
	snprintf(p.filters, sizeof(p.filters), "my-filter");
	pol = bgpfilter_policy(&fs, &p);
	assert_non_null(pol);
	assert_int_equal(eval(pol, POLICY_IMPORT, "203.0.113.4/30", &from_peer), POLICY_ACCEPT);
	assert_int_equal(eval(pol, POLICY_IMPORT, "198.51.100.0/24", &from_peer), POLICY_REJECT);
	assert_int_equal(eval(pol, POLICY_IMPORT, "192.0.2.128/25", &from_peer), POLICY_ACCEPT);
	assert_int_equal(eval(pol, POLICY_IMPORT, "2001:db8::/64", &from_peer), POLICY_ACCEPT);
	assert_int_equal(eval(pol, POLICY_IMPORT, "2001:db8:1::/64", &from_peer), POLICY_REJECT);
	assert_int_equal(eval(pol, POLICY_EXPORT, "198.51.100.0/25", &from_peer), POLICY_ACCEPT);
	assert_int_equal(eval(pol, POLICY_EXPORT, "198.51.100.0/25", &own), POLICY_ACCEPT);
	policy_unref(pol);
	/* Two filters: one list in the order the peer names them. */
	snprintf(p.filters, sizeof(p.filters), "second,my-filter");
	pol = bgpfilter_policy(&fs, &p);
	assert_int_equal(eval(pol, POLICY_IMPORT, "203.0.113.4/30", &from_peer), POLICY_REJECT);
	policy_unref(pol);
	snprintf(p.filters, sizeof(p.filters), "my-filter,second");
	pol = bgpfilter_policy(&fs, &p);
	assert_int_equal(eval(pol, POLICY_IMPORT, "203.0.113.4/30", &from_peer), POLICY_ACCEPT);
	assert_int_equal(eval(pol, POLICY_IMPORT, "192.0.2.0/24", &from_peer), POLICY_REJECT);
	policy_unref(pol);
	bgpfilter_set_free(&fs);
}

static void
test_switches_and_missing(void **state)
{
	struct bgpfilter_set fs = set_of("{}", NULL, NULL);
	struct bgp_peer p;
	struct policy *pol;

	(void)state;
	memset(&p, 0, sizeof(p));
	/* Nothing to do: no policy at all (the fast path). */
	assert_null(bgpfilter_policy(&fs, &p));
	assert_null(bgpfilter_policy(&fs, NULL));
	/* A filter that is not there applies nothing. */
	snprintf(p.filters, sizeof(p.filters), "gone");
	assert_null(bgpfilter_policy(&fs, &p));
	p.import_none = true;
	pol = bgpfilter_policy(&fs, &p);
	assert_int_equal(eval(pol, POLICY_IMPORT, "192.0.2.0/24", &from_peer), POLICY_REJECT);
	assert_int_equal(eval(pol, POLICY_EXPORT, "192.0.2.0/24", &own), POLICY_ACCEPT);
	policy_unref(pol);
	p.import_none = false;
	p.export_none = true;
	pol = bgpfilter_policy(&fs, &p);
	assert_int_equal(eval(pol, POLICY_EXPORT, "2001:db8::/32", &own), POLICY_REJECT);
	policy_unref(pol);
	bgpfilter_set_free(&fs);
}

static void
test_adverts(void **state)
{
	struct bgpfilter_set fs = set_of(
		"{}", "[{\"name\": \"ours\", \"value\": \"65000:100\"}]",
		"[{\"cidr\": \"203.0.113.0/24\", \"communities\": [\"ours\", \"64512:7:8\", \"1:2\"]}]");
	struct policy *pol = bgpfilter_policy(&fs, NULL);

	(void)state;
	assert_non_null(pol);
	assert_int_equal(pol->nadverts, 1);
	assert_int_equal(pol->adverts[0].nstd, 2);
	assert_int_equal(pol->adverts[0].std[0], 65000u << 16 | 100);
	assert_int_equal(pol->adverts[0].std[1], 1u << 16 | 2);
	assert_int_equal(pol->adverts[0].nlarge, 1);
	assert_int_equal(pol->adverts[0].large[0][0], 64512);
	assert_int_equal(pol->adverts[0].large[0][2], 8);
	policy_unref(pol);
	bgpfilter_set_free(&fs);
}

static void
test_community_parse(void **state)
{
	uint32_t std, large[3];

	(void)state;
	assert_int_equal(bgpfilter_community_parse("65535:65535", &std, large), 1);
	assert_int_equal(std, 0xffffffffu);
	assert_int_equal(bgpfilter_community_parse("4294967295:0:1", &std, large), 3);
	assert_int_equal(large[0], 4294967295u);
	assert_int_equal(bgpfilter_community_parse("65536:1", &std, large), 0);
	assert_int_equal(bgpfilter_community_parse("1:2:3:4", &std, large), 0);
	assert_int_equal(bgpfilter_community_parse("1:", &std, large), 0);
	assert_int_equal(bgpfilter_community_parse("ours", &std, large), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_filter),
		cmocka_unit_test(test_switches_and_missing),
		cmocka_unit_test(test_adverts),
		cmocka_unit_test(test_community_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
