#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/asn.h"

static void
test_plain_and_asdot(void **state)
{
	uint32_t v;
	struct err err;

	(void)state;
	assert_int_equal(asn_parse("64512", &v, &err), 0);
	assert_int_equal(v, 64512);
	assert_int_equal(asn_parse("1", &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(asn_parse("4294967294", &v, &err), 0);
	assert_int_equal(v, 4294967294u);
	assert_int_equal(asn_parse("1.10", &v, &err), 0);
	assert_int_equal(v, 65546);
	assert_int_equal(asn_parse("0.64512", &v, &err), 0);
	assert_int_equal(v, 64512);
	assert_int_equal(asn_parse("65535.65534", &v, &err), 0);
	assert_int_equal(v, 4294967294u);
}

static void
reject(const char *s, const char *why)
{
	uint32_t v;
	struct err err;

	assert_int_equal(asn_parse(s, &v, &err), -1);
	assert_non_null(strstr(err.msg, why));
	assert_non_null(strstr(err.msg, "accepted: 1-4294967294"));
}

static void
test_reserved(void **state)
{
	(void)state;
	reject("0", "RFC 7607");
	reject("23456", "RFC 6793");
	reject("65535", "RFC 7300");
	reject("4294967295", "RFC 7300");
	reject("0.0", "RFC 7607");
	reject("4294967296", "larger than");
}

static void
test_malformed(void **state)
{
	(void)state;
	reject("", "not an AS number");
	reject("-1", "not an AS number");
	reject("+5", "not an AS number");
	reject("AS64512", "not an AS number");
	reject("64512 ", "not an AS number");
	reject("064512", "not an AS number");
	reject("1.65536", "not an AS number");
	reject("65536.1", "not an AS number");
	reject("1.", "not an AS number");
	reject("1.2.3", "not an AS number");
	reject("99999999999999999999", "not an AS number");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_asdot),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
