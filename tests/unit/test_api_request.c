/*
 * The API core's strict parsing (request.c), the failure limits (limit.c), and the
 * token endpoint's grants as the core hands their credential checks to the pool.
 */
#include <pthread.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/clock.h"

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
	double t0 = clock_mono(), took;

	assert_non_null(c);
	assert_null(r->doc);
	api_check_run(c);
	took = clock_mono() - t0;
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
	/*
	 * Wrong passwords count against the failure limits like wrong secrets: six so far.
	 * The budget refills with time and each check is a slow hash, so on a loaded machine a
	 * few more may pass; without the counting none would ever be refused.
	 */
	for (int i = 0; i < 20 && r.status != 429; i++) {
		token_req(&r, basic, "grant_type=password&user_name=alice&user_password=wrong-one");
		if (r.check != NULL)
			finish(&r);
	}
	assert_int_equal(r.status, 429);
	token_req(&r, basic, "grant_type=password&user_name=alice&user_password=alice-password");
	assert_null(r.check);
	assert_int_equal(r.status, 429);
	json_decref(r.doc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A GET of target with a bearer token (or none); the answer in r (cleared first). */
static void
get(struct api_resp *r, const char *target, const char *token)
{
	char auth[128];
	struct api_kv h[1] = {{"Authorization", auth}};
	struct api_req q = {.method = "GET", .target = target, .headers = h,
			    .n_headers = token ? 1 : 0, .peer = "192.0.2.9"};

	snprintf(auth, sizeof(auth), "Bearer %s", token ? token : "");
	json_decref(r->doc);
	free(r->body);
	memset(r, 0, sizeof(*r));
	api_handle_sync(&q, r);
}

/* An access token for a new client of the given role. */
static void
client_token(struct store *s, bool operator_role, char *token)
{
	char id[NE_UUID_LEN + 1], secret[128];
	struct ne_tokens t;
	struct ne_auth a;
	struct err err;

	assert_int_equal(ne_client_create_role(s, operator_role ? "noc" : "acme", operator_role, id,
					       secret, &err),
			 STORE_OK);
	assert_int_equal(ne_client_check(s, id, secret, &a, &err), 1);
	assert_int_equal(a.operator_role, operator_role);
	assert_int_equal(ne_token_issue(s, &a, &t, &err), STORE_OK);
	strcpy(token, t.access);
}

/* One request of test_operator_ui and what came back. */
struct ui_case {
	const char *target, *token, *needle;
	int status;
	const char *content_type;
	bool found;                  /* needle in the body (or in the JSON text) */
};

/*
 * On a thread of its own: api_store() keeps one handle per thread, opened on first
 * use, and the earlier tests' thread holds one on another (removed) datastore.
 */
static void *
ui_cases_run(void *arg)
{
	struct ui_case *c = arg;
	struct api_resp r = {0};

	for (; c->target; c++) {
		get(&r, c->target, c->token);
		c->status = r.status;
		c->content_type = r.content_type;
		if (r.body != NULL) {
			c->found = memmem(r.body, r.body_len, c->needle, strlen(c->needle)) != NULL;
		} else {
			char *t = json_dumps(r.doc, JSON_COMPACT);

			c->found = strstr(t, c->needle) != NULL;
			free(t);
		}
	}
	json_decref(r.doc);
	free(r.body);
	return NULL;
}

/*
 * The topology page: its files without a token, its data (and the files) to an
 * operator's token only -- a tenant's gets 403; /metrics in the text format.
 */
static void
test_operator_ui(void **state)
{
	char dir[] = "/tmp/tabby-test-api-XXXXXX", url[128], cmd[128];
	char tenant[NE_TOKEN_HEX + 1], operator[NE_TOKEN_HEX + 1];
	struct ui_case cases[] = {
		{"/ui/api/topology", NULL, "UNAUTHORIZED", 0, NULL, false},
		{"/ui/api/topology", tenant, "ACCESS_DENIED", 0, NULL, false},
		{"/ui/api/topology", operator, "\"sessions\":[]", 0, NULL, false},
		{"/ui/", NULL, "<script src=\"/ui/app.js\">", 0, NULL, false},
		{"/ui/", tenant, "operator", 0, NULL, false},
		{"/ui/app.js", operator, "/ui/api/topology", 0, NULL, false},
		{"/ui/missing.js", NULL, "NOT_FOUND", 0, NULL, false},
		{"/metrics", NULL, "# TYPE tabby_api_requests_total counter", 0, NULL, false},
		{NULL, NULL, NULL, 0, NULL, false},
	};
	static const int want[] = {401, 403, 200, 200, 403, 200, 404, 200};
	struct store *s;
	struct err err;
	pthread_t t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	assert_int_equal(ne_init(), 0);
	assert_int_equal(store_open(&s, url, &err), STORE_OK);
	client_token(s, false, tenant);
	client_token(s, true, operator);
	api_set_datastore(url);
	assert_int_equal(pthread_create(&t, NULL, ui_cases_run, cases), 0);
	pthread_join(t, NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		print_message("GET %s %s: %d\n", cases[i].target,
			      cases[i].token == tenant ? "(tenant)" : cases[i].token ? "(operator)" : "",
			      cases[i].status);
		assert_int_equal(cases[i].status, want[i]);
		assert_true(cases[i].found);
	}
	assert_string_equal(cases[3].content_type, "text/html; charset=utf-8");
	assert_string_equal(cases[5].content_type, "text/javascript; charset=utf-8");
	assert_string_equal(cases[7].content_type, "text/plain; version=0.0.4; charset=utf-8");
	store_close(s);
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
		cmocka_unit_test(test_operator_ui),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
