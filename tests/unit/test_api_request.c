/* The API core's strict parsing (request.c) and the failure limits (limit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static void
decodes(const char *in, bool plus, const char *want)
{
	char *out = api_pct_decode(in, strlen(in), plus);

	if (want == NULL) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void
test_pct_decode(void **state)
{
	(void)state;
	decodes("a%20b%2Fc", false, "a b/c");
	decodes("a+b", false, "a+b");
	decodes("a+b", true, "a b");
	decodes("%C3%A9", false, "\xc3\xa9");
	decodes("%00", false, NULL);        /* NUL would cut the string short */
	decodes("ab%4", false, NULL);       /* cut short */
	decodes("ab%", false, NULL);
	decodes("%zz", false, NULL);
	assert_null(api_pct_decode("a\0b", 3, false));
}

static void
test_form(void **state)
{
	const char ok[] = "grant_type=client_credentials&client_id=a%2Bb&empty=&flag";
	struct api_kv *kv;
	struct err err;
	size_t n;

	(void)state;
	assert_int_equal(api_form_parse(ok, strlen(ok), &kv, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(kv[1].key, "client_id");
	assert_string_equal(kv[1].value, "a+b");
	assert_string_equal(kv[2].value, "");
	assert_null(kv[3].value);
	api_kv_free(kv, n);
	assert_int_equal(api_form_parse("a=1&a=2", 7, &kv, &n, &err), -1);
	assert_non_null(strstr(err.msg, "more than once"));
	assert_int_equal(api_form_parse("a=1%00", 6, &kv, &n, &err), -1);
	assert_int_equal(api_form_parse("a=1\0", 4, &kv, &n, &err), -1);
	assert_int_equal(api_form_parse(NULL, 0, &kv, &n, &err), 0);
	assert_int_equal(n, 0);
}

static void
test_media_type(void **state)
{
	(void)state;
	assert_true(api_media_type_is("application/json", "application/json"));
	assert_true(api_media_type_is("Application/JSON; charset=utf-8", "application/json"));
	assert_true(api_media_type_is("application/json ;charset=utf-8", "application/json"));
	assert_false(api_media_type_is("application/jsonx", "application/json"));
	assert_false(api_media_type_is("application/json-patch+json", "application/json"));
	assert_false(api_media_type_is(NULL, "application/json"));
}

static void
test_target(void **state)
{
	struct api_req q = {.target = "/ne/v1/devices/AB%2Dc?limit=5&virtualDeviceUuid=x%20y"};
	struct api_resp r = {0};
	char big[API_TARGET_MAX + 16];

	(void)state;
	assert_int_equal(api_parse_target(&q, &r), 0);
	assert_string_equal(q.path, "/ne/v1/devices/AB-c");
	assert_int_equal(q.n_args, 2);
	assert_string_equal(api_arg(&q, "virtualDeviceUuid"), "x y");
	assert_null(api_arg(&q, "offset"));
	api_req_free(&q);

	q = (struct api_req){.target = "/ne/v1/bgp%00"};
	assert_int_equal(api_parse_target(&q, &r), -1);
	assert_int_equal(r.status, 400);
	api_req_free(&q);

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	q = (struct api_req){.target = big};
	assert_int_equal(api_parse_target(&q, &r), -1);
	assert_int_equal(r.status, 414);
	api_req_free(&q);

	q = (struct api_req){.target = "/x?k=1&k=2"};
	assert_int_equal(api_parse_target(&q, &r), -1);
	assert_int_equal(r.status, 400);
	api_req_free(&q);
	json_decref(r.doc);
}

static void
test_limits(void **state)
{
	const char *id = "00000000-0000-4000-8000-00000000000a",
		   *other = "00000000-0000-4000-8000-00000000000b";
	int retry;

	(void)state;
	/* Ten failures for a client from one address: that address is held back... */
	for (int i = 0; i < 10; i++) {
		assert_true(api_limit_allow("192.0.2.1", id, &retry));
		api_limit_fail("192.0.2.1", id);
	}
	assert_false(api_limit_allow("192.0.2.1", id, &retry));
	assert_true(retry > 0);
	/* ...not the client from elsewhere, nor another client from there (yet). */
	assert_true(api_limit_allow("192.0.2.2", id, &retry));
	assert_true(api_limit_allow("192.0.2.1", other, &retry));
	/* Twenty failures from an address hold back every client from it. */
	for (int i = 0; i < 10; i++)
		api_limit_fail("192.0.2.1", other);
	assert_false(api_limit_allow("192.0.2.1", "00000000-0000-4000-8000-00000000000c", &retry));
	assert_true(api_limit_allow("192.0.2.3", other, &retry));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_decode), cmocka_unit_test(test_form),
		cmocka_unit_test(test_media_type), cmocka_unit_test(test_target),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
