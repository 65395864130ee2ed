/* The address chooser of autodetection, one test per method, over a made-up host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/autodetect.h"

/* lo, a docker bridge, eth0, eth1 and a dummy, in interface order. */
static struct autodetect_addr host[] = {
	{"lo", {0}, 8},          {"lo", {0}, 128},        {"docker0", {0}, 16},
	{"eth0", {0}, 64},       {"eth0", {0}, 24},       {"eth1", {0}, 24},
	{"eth1", {0}, 64},       {"ext0", {0}, 24},
};
static const char *const host_addrs[] = {
	"127.0.0.1", "::1", "203.0.113.1", "fe80::1", "192.0.2.10", "198.51.100.10",
	"2001:db8:1::10", "203.0.113.200",
};
static const struct autodetect_addrs list = {host, sizeof(host) / sizeof(host[0])};

static int
setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < list.n; i++)
		assert_int_equal(addr_parse(host_addrs[i], &host[i].a), 0);
	return 0;
}

static const char *
choose(int family, const char *method, const char *reach)
{
	static char buf[ADDR_STRLEN + 24];
	struct autodetect_addr out;
	struct addr src;
	struct err err;

	if (reach != NULL)
		assert_int_equal(addr_parse(reach, &src), 0);
	if (autodetect_choose(&list, family, method, reach ? &src : NULL, &out, &err) != 0)
		return NULL;
	addr_format(&out.a, buf);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%u %s", out.plen, out.ifname);
	return buf;
}

static void
test_first_found(void **state)
{
	(void)state;
	/* Not lo, not docker0 (calico-node's default exclusions), not link-local. */
	assert_string_equal(choose(AF_INET, "first-found", NULL), "192.0.2.10/24 eth0");
	assert_string_equal(choose(AF_INET6, "first-found", NULL), "2001:db8:1::10/64 eth1");
}

static void
test_interface(void **state)
{
	(void)state;
	assert_string_equal(choose(AF_INET, "interface=eth1", NULL), "198.51.100.10/24 eth1");
	/* The regexes in the order given: the first one matching an interface wins. */
	assert_string_equal(choose(AF_INET, "interface=ext.*,eth.*", NULL), "203.0.113.200/24 ext0");
	/* interface= has no default exclusions. */
	assert_string_equal(choose(AF_INET, "interface=docker.*", NULL), "203.0.113.1/16 docker0");
	assert_null(choose(AF_INET, "interface=wlan.*", NULL));
}

static void
test_skip_interface(void **state)
{
	(void)state;
	assert_string_equal(choose(AF_INET, "skip-interface=docker0,eth0", NULL),
			    "198.51.100.10/24 eth1");
}

static void
test_can_reach(void **state)
{
	(void)state;
	/* The source the kernel picked toward DEST (given here), found among the addresses. */
	assert_string_equal(choose(AF_INET, "can-reach=198.51.100.1", "198.51.100.10"),
			    "198.51.100.10/24 eth1");
	assert_null(choose(AF_INET, "can-reach=198.51.100.1", NULL));
}

static void
test_cidr(void **state)
{
	(void)state;
	assert_string_equal(choose(AF_INET, "cidr=203.0.113.0/24", NULL), "203.0.113.200/24 ext0");
	assert_string_equal(choose(AF_INET, "cidr=192.0.2.0/25,198.51.100.0/24", NULL),
			    "192.0.2.10/24 eth0");
	assert_string_equal(choose(AF_INET6, "cidr=2001:db8::/32", NULL), "2001:db8:1::10/64 eth1");
}

static void
test_bad_methods(void **state)
{
	struct err err;

	(void)state;
	assert_int_equal(autodetect_method_check("first-found", &err), 0);
	assert_int_equal(autodetect_method_check("firstfound", &err), -1);
	assert_non_null(strstr(err.msg, "accepted: first-found"));
	assert_int_equal(autodetect_method_check("interface=eth(", &err), -1);
	assert_non_null(strstr(err.msg, "'eth(' is not a regular expression"));
	assert_int_equal(autodetect_method_check("can-reach=example", &err), -1);
	assert_non_null(strstr(err.msg, "not an IP address"));
	assert_int_equal(autodetect_method_check("cidr=10.0.0.0/33", &err), -1);
	assert_non_null(strstr(err.msg, "not a CIDR"));
	assert_int_equal(autodetect_method_check("interface=", &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_found),   cmocka_unit_test(test_interface),
		cmocka_unit_test(test_skip_interface), cmocka_unit_test(test_can_reach),
		cmocka_unit_test(test_cidr),           cmocka_unit_test(test_bad_methods),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
