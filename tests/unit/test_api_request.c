/*
 * The API core's strict parsing (request.c), the failure limits (limit.c), and the
 * token endpoint's grants as the core hands their credential checks to the pool.
 */
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
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


/* A token request in form encoding from 192.0.2.9, the client in HTTP Basic. */
static void
token_req(struct api_resp *r, const char *basic, const char *form)
{
	struct api_kv h[2] = {{"Content-Type", "application/x-www-form-urlencoded"},
			      {"Authorization", basic}};
	struct api_req q = {.method = "POST", .target = "/oauth2/v1/token", .headers = h,
			    .n_headers = 2, .body = form, .body_len = strlen(form),
			    .peer = "192.0.2.9"};

	json_decref(r->doc);
	memset(r, 0, sizeof(*r));
	api_handle(&q, r);
}

/* Runs r's check as the pool would and makes the answer; the seconds the check took. */
static double
finish(struct api_resp *r)
{
	struct api_check *c = r->check;
	double t0 = api_monotonic(), took;

	assert_non_null(c);
	assert_null(r->doc);
	api_check_run(c);
	took = api_monotonic() - t0;
	api_token_finish(c, r);
	api_check_free(c);
	return took;
}

static const char *
error_of(const struct api_resp *r)
{
	return json_string_value(json_object_get(r->doc, "error")) ?: "";
}

/*
 * The password grant: strict parsing as for the client's credentials, the user's
 * password checked with the client's secret off the request's thread (in r->check),
 * an unknown user as costly as a wrong password, and a refresh token that works.
 */
static void
test_password_grant(void **state)
{
	char dir[] = "/tmp/tabby-test-api-XXXXXX", url[128], id[NE_UUID_LEN + 1], secret[128];
	char basic[256], b64[200], pair[200], form[512], cmd[128];
	struct api_resp r = {0};
	struct store *s;
	struct err err;
	double known = 0, unknown = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	assert_int_equal(ne_init(), 0);
	assert_int_equal(store_open(&s, url, &err), STORE_OK);
	assert_int_equal(ne_client_create(s, "acme", id, secret, &err), STORE_OK);
	assert_int_equal(ne_user_create(s, id, "alice", "alice-password", NULL, &err), STORE_OK);
	store_close(s);
	api_set_datastore(url);
	snprintf(pair, sizeof(pair), "%s:%s", id, secret);
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)pair, strlen(pair),
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(basic, sizeof(basic), "Basic %s", b64);

	/* Refused before any check: a JSON body that is no object, a parameter twice, a
	 * missing password. */
	{
		struct api_kv h[1] = {{"Content-Type", "application/json"}};
		struct api_req q = {.method = "POST", .target = "/oauth2/v1/token", .headers = h,
				    .n_headers = 1, .body = "[{}]", .body_len = 4};

		api_handle(&q, &r);
		assert_null(r.check);
		assert_int_equal(r.status, 400);
	}
	token_req(&r, basic, "grant_type=password&user_name=alice&user_name=bob&user_password=x");
	assert_null(r.check);
	assert_int_equal(r.status, 400);
	assert_string_equal(error_of(&r), "invalid_request");
	token_req(&r, basic, "grant_type=password&user_name=alice");
	assert_null(r.check);
	assert_int_equal(r.status, 400);

	/* The right password: the check comes back unanswered, and then a token pair. */
	token_req(&r, basic, "grant_type=password&user_name=alice&user_password=alice-password");
	assert_int_equal(r.check->grant, API_GRANT_PASSWORD);
	finish(&r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.doc, "user_name")), "alice");
	snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s",
		 json_string_value(json_object_get(r.doc, "refresh_token")) ?: "none");
	token_req(&r, basic, form);
	finish(&r);
	assert_int_equal(r.status, 200);

	/* Wrong password and unknown user: the same answer, at the same price. */
	for (int i = 0; i < 3; i++) {
		token_req(&r, basic, "grant_type=password&user_name=alice&user_password=wrong-one");
		known += finish(&r);
		assert_int_equal(r.status, 400);
		assert_string_equal(error_of(&r), "invalid_grant");
		token_req(&r, basic, "grant_type=password&user_name=nobody&user_password=wrong-one");
		unknown += finish(&r);
		assert_int_equal(r.status, 400);
		assert_string_equal(error_of(&r), "invalid_grant");
	}
	assert_true(unknown > 0.6 * known && known > 0.6 * unknown);
	/* Wrong passwords count against the failure limits like wrong secrets: six so far. */
	for (int i = 0; i < 4; i++) {
		token_req(&r, basic, "grant_type=password&user_name=alice&user_password=wrong-one");
		finish(&r);
	}
	token_req(&r, basic, "grant_type=password&user_name=alice&user_password=alice-password");
	assert_null(r.check);
	assert_int_equal(r.status, 429);
	json_decref(r.doc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_decode), cmocka_unit_test(test_form),
		cmocka_unit_test(test_media_type), cmocka_unit_test(test_target),
		cmocka_unit_test(test_limits), cmocka_unit_test(test_password_grant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
