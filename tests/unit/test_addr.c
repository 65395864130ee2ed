#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"

static void
canonical(const char *in, const char *want)
{
	char buf[ADDR_STRLEN];
	struct addr a;

	assert_int_equal(addr_parse(in, &a), 0);
	addr_format(&a, buf);
	assert_string_equal(buf, want);
}

static void
test_parse_canonical(void **state)
{
	(void)state;
	canonical("192.0.2.10", "192.0.2.10");
	canonical("2001:0db8::1", "2001:db8::1");
	canonical("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
	/* RFC 5952 §4.2.2: a single zero field is not compressed. */
	canonical("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	/* RFC 5952 §4.2.3: the first of equal-length zero runs is compressed. */
	canonical("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
}

static void
test_parse_rejects(void **state)
{
	struct addr a;
	const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ",
			     "2001:db8::1::2", "fe80::1%eth0", "abc", "::g"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(addr_parse(bad[i], &a), 0);
}

static void
test_order(void **state)
{
	struct addr a, b, c;

	(void)state;
	addr_parse("192.0.2.9", &a);
	addr_parse("192.0.2.10", &b);
	addr_parse("2001:db8::1", &c);
	assert_true(addr_cmp(&a, &b) < 0); /* numeric, not textual */
	assert_true(addr_cmp(&b, &c) < 0); /* IPv4 first */
	assert_int_equal(addr_cmp(&c, &c), 0);
}

static void
test_unicast(void **state)
{
	struct addr a;

	(void)state;
	addr_parse("0.0.0.0", &a);
	assert_non_null(addr_not_unicast(&a));
	addr_parse("224.0.0.5", &a);
	assert_non_null(addr_not_unicast(&a));
	addr_parse("255.255.255.255", &a);
	assert_non_null(addr_not_unicast(&a));
	addr_parse("::", &a);
	assert_non_null(addr_not_unicast(&a));
	addr_parse("ff02::1", &a);
	assert_non_null(addr_not_unicast(&a));
	addr_parse("198.51.100.1", &a);
	assert_null(addr_not_unicast(&a));
	addr_parse("fe80::1", &a);
	assert_null(addr_not_unicast(&a));
}

static void
test_prefix(void **state)
{
	char buf[PREFIX_STRLEN];
	struct prefix p;
	struct err err;

	(void)state;
	assert_int_equal(prefix_parse("203.0.113.0/24", &p, &err), 0);
	prefix_format(&p, buf);
	assert_string_equal(buf, "203.0.113.0/24");
	prefix_key(&p, buf);
	assert_string_equal(buf, "203.0.113.0-24");
	assert_int_equal(prefix_parse("2001:0db8:0::/48", &p, &err), 0);
	prefix_format(&p, buf);
	assert_string_equal(buf, "2001:db8::/48");
	assert_int_equal(prefix_parse("0.0.0.0/0", &p, &err), 0);

	assert_int_not_equal(prefix_parse("203.0.113.5/24", &p, &err), 0);
	assert_non_null(strstr(err.msg, "did you mean 203.0.113.0/24"));
	assert_int_not_equal(prefix_parse("203.0.113.0/33", &p, &err), 0);
	assert_non_null(strstr(err.msg, "0-32"));
	assert_int_not_equal(prefix_parse("203.0.113.0", &p, &err), 0);
	assert_int_not_equal(prefix_parse("203.0.113.0/", &p, &err), 0);
	assert_int_not_equal(prefix_parse("203.0.113.0/-1", &p, &err), 0);
	assert_int_not_equal(prefix_parse("/24", &p, &err), 0);
	assert_int_not_equal(prefix_parse("2001:db8::/129", &p, &err), 0);
}

static void
test_cidr(void **state)
{
	struct addr a;
	unsigned len;

	(void)state;
	assert_int_equal(addr_parse_cidr("192.0.2.1/29", &a, &len), 0);
	assert_int_equal(len, 29);
	assert_int_equal(addr_parse_cidr("2001:db8::1/64", &a, &len), 0);
	assert_int_equal(len, 64);
	assert_int_not_equal(addr_parse_cidr("192.0.2.1", &a, &len), 0);
	assert_int_not_equal(addr_parse_cidr("192.0.2.1/33", &a, &len), 0);
	assert_int_not_equal(addr_parse_cidr("192.0.2.1/", &a, &len), 0);
	assert_int_not_equal(addr_parse_cidr("x/8", &a, &len), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_canonical), cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_order),           cmocka_unit_test(test_unicast),
		cmocka_unit_test(test_prefix),          cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
