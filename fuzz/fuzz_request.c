/*
 * libFuzzer target: the API's request handler, whole -- target (path and query),
 * headers, form and JSON bodies, HTTP Basic and bearer tokens -- against a real
 * datastore with one tenant, as tabby-api runs it but without a socket.
 *
 * Input: "METHOD TARGET\n", then header lines "Name: value\n" up to an empty line,
 * then the body. Placeholders make the valid credentials reachable: @TOKEN (a bearer
 * token), @BASIC (base64 of id:secret), @ID, @SECRET, @CONN (a connection), @DEV,
 * @USER and @PASSWORD (a user of the client), @REFRESH (a refresh token of that user's;
 * once spent, its family is revoked and later uses are refused).
 * Whatever the input, there is one answer: a status 200-499 with a JSON document.
 */
#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	const char *name;
	char value[256];
} subst[] = {{"@TOKEN", ""},  {"@BASIC", ""},	 {"@ID", ""},	   {"@SECRET", ""},
	     {"@CONN", ""},   {"@DEV", ""},	 {"@USER", "fuzzer"}, {"@PASSWORD", "fuzz-password"},
	     {"@REFRESH", ""}};
static bool ready;

static void
setup(void)
{
	char dir[] = "/tmp/tabby-fuzz-request-XXXXXX", url[128], pair[256];
	struct ne_auth a, u;
	struct ne_tokens t;
	struct store *s;
	struct err err;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	api_set_datastore(url);
	log_set_level(LOG_LVL_ERROR);
	if (ne_init() != 0 || (s = api_store()) == NULL ||
	    ne_client_create(s, "fuzz", subst[2].value, subst[3].value, &err) != STORE_OK ||
	    ne_device_create(s, "n1", subst[2].value, NULL, subst[5].value, &err) != STORE_OK ||
	    ne_connection_create(s, subst[5].value, "eth1", NULL, subst[4].value, &err) !=
		    STORE_OK ||
	    ne_user_create(s, subst[2].value, subst[6].value, subst[7].value, NULL, &err) !=
		    STORE_OK ||
	    ne_client_check(s, subst[2].value, subst[3].value, &a, &err) != 1 ||
	    ne_token_issue(s, &a, &t, &err) != STORE_OK)
		abort();
	snprintf(subst[0].value, sizeof(subst[0].value), "%s", t.access);
	u = a;
	if (ne_user_check(s, &u, subst[6].value, subst[7].value, &err) != 1 ||
	    ne_token_issue(s, &u, &t, &err) != STORE_OK)
		abort();
	snprintf(subst[8].value, sizeof(subst[8].value), "%s", t.refresh);
	snprintf(pair, sizeof(pair), "%s:%s", subst[2].value, subst[3].value);
	sodium_bin2base64(subst[1].value, sizeof(subst[1].value), (unsigned char *)pair,
			  strlen(pair), sodium_base64_VARIANT_ORIGINAL);
	ready = true;
}

/* The input with the placeholders filled in, NUL-terminated (it may hold NULs too). */
static char *
expand(const uint8_t *data, size_t size, size_t *len)
{
	size_t cap = size * 4 + 1, n = 0;
	char *out = xmalloc(cap);

	for (size_t i = 0; i < size;) {
		size_t j;

		for (j = 0; j < sizeof(subst) / sizeof(subst[0]); j++) {
			size_t nl = strlen(subst[j].name), vl = strlen(subst[j].value);

			if (size - i >= nl && memcmp(data + i, subst[j].name, nl) == 0 &&
			    n + vl < cap) {
				memcpy(out + n, subst[j].value, vl);
				n += vl;
				i += nl;
				break;
			}
		}
		if (j == sizeof(subst) / sizeof(subst[0])) {
			if (n + 1 >= cap)
				break;
			out[n++] = (char)data[i++];
		}
	}
	out[n] = '\0';
	*len = n;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_kv headers[32];
	struct api_req q = {.peer = "192.0.2.7"};
	struct api_resp r = {.status = 500};
	size_t len, nh = 0;
	char *in, *line, *next, *sp, *text;

	if (!ready)
		setup();
	in = expand(data, size, &len);
	/* The request line, then headers: C strings, as libmicrohttpd hands them over. */
	line = in;
	next = memchr(line, '\n', len);
	if (next == NULL || (sp = memchr(line, ' ', (size_t)(next - line))) == NULL) {
		free(in);
		return 0;
	}
	*next++ = '\0';
	*sp = '\0';
	q.method = line;
	q.target = sp + 1;
	while ((size_t)(next - in) < len && *next != '\n' && nh < 32) {
		char *end = memchr(next, '\n', len - (size_t)(next - in)), *colon;

		if (end == NULL)
			break;
		*end = '\0';
		if ((colon = strchr(next, ':')) != NULL) {
			*colon = '\0';
			headers[nh].key = next;
			headers[nh].value = colon[1] == ' ' ? colon + 2 : colon + 1;
			nh++;
		}
		next = end + 1;
	}
	if ((size_t)(next - in) < len && *next == '\n')
		next++;
	q.headers = headers;
	q.n_headers = nh;
	q.body = next;
	q.body_len = len - (size_t)(next - in);
	api_handle_sync(&q, &r);
	assert(r.check == NULL && r.doc != NULL);
	/* A 500 is always our fault; 503 only with the store down, which it is not here. */
	assert(r.status >= 200 && r.status < 500);
	text = json_dumps(r.doc, JSON_COMPACT);
	assert(text != NULL);
	if (r.status >= 400 && json_is_array(r.doc))
		assert(json_string_value(json_object_get(json_array_get(r.doc, 0), "errorCode")));
	free(text);
	json_decref(r.doc);
	free(in);
	return 0;
}
