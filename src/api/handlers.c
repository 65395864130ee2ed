/* The endpoints: the OAuth2 token, devices, connections and BGP peerings. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/log.h"
#include "model/keys.h"

#define TENANT_MAX (NE_UUID_LEN + 1)

static const char *
header(struct api_req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

static void
ok(struct api_resp *r, int status, json_t *doc)
{
	json_decref(r->doc);
	r->status = status;
	r->doc = doc;
}

static void
store_down(struct api_resp *r, const struct err *err)
{
	api_error(r, 503, "STORE_UNAVAILABLE", NULL, "the datastore cannot be reached: %s",
		  err ? err->msg : "cannot open it");
}

/* RFC 6749 §5.2: the token endpoint answers errors in OAuth's own form. */
static void
oauth_error(struct api_resp *r, int status, const char *error, const char *desc)
{
	ok(r, status, json_pack("{s:s, s:s}", "error", error, "error_description", desc));
}

/* Decodes application/x-www-form-urlencoded text in place. */
static void
url_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = {s[1], s[2], 0};

			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* One field of a form body, decoded, or NULL. */
static char *
form_field(const char *body, size_t len, const char *name)
{
	char *copy = strndup(body, len), *save = NULL, *out = NULL;

	if (copy == NULL)
		fatal("out of memory");
	for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		url_decode(kv);
		if (strcmp(kv, name) == 0) {
			url_decode(eq + 1);
			out = xstrdup(eq + 1);
			break;
		}
	}
	free(copy);
	return out;
}

/* RFC 6749 §2.3.1: HTTP Basic with the form-encoded id and secret. */
static int
basic_auth(const char *h, char **id, char **secret)
{
	unsigned char bin[512];
	size_t n;
	char *colon;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return -1;
	if (sodium_base642bin(bin, sizeof(bin) - 1, h + 6, strlen(h + 6), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	bin[n] = '\0';
	if ((colon = strchr((char *)bin, ':')) == NULL)
		return -1;
	*colon = '\0';
	url_decode((char *)bin);
	url_decode(colon + 1);
	*id = xstrdup((char *)bin);
	*secret = xstrdup(colon + 1);
	return 0;
}

static void
token(struct api_req *q, struct api_resp *r)
{
	const char *ctype = header(q, "Content-Type");
	char *grant = NULL, *id = NULL, *secret = NULL, tok[128], name[NE_NAME_MAX + 1];
	struct store *s = api_store();
	struct err err;
	int retry, rc;

	if (s == NULL)
		return store_down(r, NULL);
	if (ctype != NULL && strncasecmp(ctype, "application/json", 16) == 0) {
		/* The provider's form: a JSON body with the credentials. */
		json_t *b = json_loadb(q->body ? q->body : "", q->body_len, 0, NULL);

		if (!json_is_object(b)) {
			json_decref(b);
			return oauth_error(r, 400, "invalid_request", "the body is not a JSON object");
		}
		if (json_string_value(json_object_get(b, "grant_type")))
			grant = xstrdup(json_string_value(json_object_get(b, "grant_type")));
		if (json_string_value(json_object_get(b, "client_id")))
			id = xstrdup(json_string_value(json_object_get(b, "client_id")));
		if (json_string_value(json_object_get(b, "client_secret")))
			secret = xstrdup(json_string_value(json_object_get(b, "client_secret")));
		json_decref(b);
	} else if (ctype != NULL &&
		   strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
		/* RFC 6749 §4.4: the standard form, credentials in Basic or in the body. */
		grant = form_field(q->body ? q->body : "", q->body_len, "grant_type");
		if (basic_auth(header(q, "Authorization"), &id, &secret) != 0) {
			id = form_field(q->body ? q->body : "", q->body_len, "client_id");
			secret = form_field(q->body ? q->body : "", q->body_len, "client_secret");
		}
	} else {
		return oauth_error(r, 400, "invalid_request",
				   "Content-Type must be application/json or "
				   "application/x-www-form-urlencoded");
	}
	if (grant == NULL || strcmp(grant, "client_credentials") != 0) {
		oauth_error(r, 400, grant ? "unsupported_grant_type" : "invalid_request",
			    "grant_type must be client_credentials");
	} else if (id == NULL || secret == NULL) {
		oauth_error(r, 400, "invalid_request", "client_id and client_secret are required");
	} else if (!api_rate_allow(id, &retry)) {
		r->retry_after = retry;
		oauth_error(r, 429, "slow_down", "too many token requests for this client");
	} else if ((rc = ne_client_check(s, id, secret, name, sizeof(name), &err)) < 0) {
		store_down(r, &err);
	} else if (rc == 0) {
		r->www_authenticate = "Basic realm=\"tabby\"";
		oauth_error(r, 401, "invalid_client", "unknown client or wrong secret");
	} else if (ne_token_issue(s, id, tok, &err) != STORE_OK) {
		store_down(r, &err);
	} else {
		ok(r, 200, json_pack("{s:s, s:s, s:s, s:s}", "access_token", tok, "token_type",
				     "Bearer", "token_timeout", "3600", "user_name", name));
	}
	free(grant);
	free(id);
	free(secret);
}

/* RFC 6750: who is calling, or false after answering 401. */
static bool
authenticate(struct api_req *q, struct api_resp *r, char *tenant)
{
	const char *h = header(q, "Authorization");
	struct store *s = api_store();
	struct err err;
	int rc;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		r->www_authenticate = "Bearer realm=\"tabby\"";
		api_error(r, 401, "UNAUTHORIZED", "Authorization",
			  "a bearer token is required (POST /oauth2/v1/token)");
		return false;
	}
	if (s == NULL) {
		store_down(r, NULL);
		return false;
	}
	rc = ne_token_check(s, h + 7, tenant, TENANT_MAX, &err);
	if (rc < 0) {
		store_down(r, &err);
		return false;
	}
	if (rc == 0) {
		r->www_authenticate = "Bearer realm=\"tabby\", error=\"invalid_token\", "
				      "error_description=\"unknown or expired token\"";
		api_error(r, 401, "INVALID_TOKEN", "Authorization", "the token is unknown or expired");
		return false;
	}
	return true;
}

/* Loads a tenant's resource: 400 bad id, 404 none, 403 someone else's. */
static json_t *
own(struct api_resp *r, const char *kind, const char *uuid, const char *tenant)
{
	struct store *s = api_store();
	struct err err;
	json_t *o;
	int rc;

	if (!ne_uuid_valid(uuid)) {
		api_error(r, 400, "INVALID_PATH_PARAMETER", "uuid", "'%s' is not a UUID", uuid);
		return NULL;
	}
	rc = ne_get(s, kind, uuid, &o, &err);
	if (rc == STORE_NOTFOUND) {
		api_error(r, 404, "NOT_FOUND", "uuid", "no %s '%s'", kind, uuid);
		return NULL;
	}
	if (rc != STORE_OK) {
		store_down(r, &err);
		return NULL;
	}
	if (strcmp(json_string_value(json_object_get(o, "owner")) ?: "", tenant) != 0) {
		json_decref(o);
		api_error(r, 403, "ACCESS_DENIED", NULL, "Access Denied");
		return NULL;
	}
	return o;
}

/* What a tenant sees of a device or connection. */
static json_t *
public_view(json_t *o)
{
	json_object_del(o, "owner");
	json_object_del(o, "node");
	return o;
}

/* Query parameters: offset, limit and the filters; anything else is refused. */
struct list_query {
	long offset, limit;
	const char *device, *connection, *status;
	char bad[256];
};

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct list_query *lq = cls;
	char *end;

	(void)kind;
	if (lq->bad[0])
		return MHD_YES;
	if (strcmp(key, "offset") == 0 || strcmp(key, "limit") == 0) {
		long v = value ? strtol(value, &end, 10) : -1;
		bool is_offset = key[0] == 'o';

		if (value == NULL || *value == '\0' || *end != '\0' || v < (is_offset ? 0 : 1) ||
		    v > (is_offset ? 1000000000L : 1000))
			snprintf(lq->bad, sizeof(lq->bad), "%s|%s must be an integer %s", key, key,
				 is_offset ? "of 0 or more" : "from 1 to 1000");
		else if (is_offset)
			lq->offset = v;
		else
			lq->limit = v;
	} else if (strcmp(key, "virtualDeviceUuid") == 0 || strcmp(key, "connectionUuid") == 0) {
		if (!ne_uuid_valid(value))
			snprintf(lq->bad, sizeof(lq->bad), "%s|%s must be a UUID", key, key);
		else if (key[0] == 'v')
			lq->device = value;
		else
			lq->connection = value;
	} else if (strcmp(key, "status") == 0) {
		static const char *const ok_values[] = {"PROVISIONING", "PENDING_UPDATE",
							"PROVISIONED", "FAILED", "DEPROVISIONING"};
		bool good = false;

		for (size_t i = 0; value && i < 5; i++)
			good = good || strcmp(value, ok_values[i]) == 0;
		if (good)
			lq->status = value;
		else
			snprintf(lq->bad, sizeof(lq->bad), "status|status must be one of "
				 "PROVISIONING, PENDING_UPDATE, PROVISIONED, FAILED, DEPROVISIONING");
	} else {
		snprintf(lq->bad, sizeof(lq->bad), "%s|unknown query parameter '%s'; accepted: "
			 "offset, limit, virtualDeviceUuid, connectionUuid, status", key, key);
	}
	return MHD_YES;
}

static bool
parse_query(struct api_req *q, struct api_resp *r, struct list_query *lq)
{
	char *bar;

	memset(lq, 0, sizeof(*lq));
	lq->limit = 20;
	MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, query_arg, lq);
	if (lq->bad[0] == '\0')
		return true;
	bar = strchr(lq->bad, '|');
	*bar = '\0';
	api_error(r, 400, "INVALID_QUERY_PARAMETER", lq->bad, "%s", bar + 1);
	return false;
}

static bool
matches(json_t *o, const char *field, const char *want)
{
	return want == NULL || strcmp(json_string_value(json_object_get(o, field)) ?: "", want) == 0;
}

/* GET list: {"pagination": {offset, limit, total}, "data": [...]}, only the caller's. */
static void
list(struct api_req *q, struct api_resp *r, const char *kind, const char *tenant)
{
	struct list_query lq;
	struct store *s = api_store();
	json_t *all, *data = json_array(), *o;
	struct err err;
	size_t i, total = 0;

	if (!parse_query(q, r, &lq)) {
		json_decref(data);
		return;
	}
	if (ne_list(s, kind, tenant, &all, &err) != STORE_OK) {
		json_decref(data);
		return store_down(r, &err);
	}
	json_array_foreach(all, i, o) {
		json_t *view;

		if (strcmp(kind, "bgp") == 0) {
			view = ne_peering_view(s, o);
			if (!matches(view, "virtualDeviceUuid", lq.device) ||
			    !matches(view, "connectionUuid", lq.connection) ||
			    !matches(view, "provisioningStatus", lq.status)) {
				json_decref(view);
				continue;
			}
		} else {
			view = public_view(json_incref(o));
			if (!matches(view, "virtualDeviceUuid", lq.device) ||
			    !matches(view, "uuid", strcmp(kind, "device") ? NULL : lq.device)) {
				json_decref(view);
				continue;
			}
		}
		if (total >= (size_t)lq.offset && total < (size_t)(lq.offset + lq.limit))
			json_array_append_new(data, view);
		else
			json_decref(view);
		total++;
	}
	json_decref(all);
	ok(r, 200, json_pack("{s:{s:I, s:I, s:I}, s:o}", "pagination", "offset",
			     (json_int_t)lq.offset, "limit", (json_int_t)lq.limit, "total",
			     (json_int_t)total, "data", data));
}

static json_t *
parse_body(struct api_req *q, struct api_resp *r)
{
	const char *ctype = header(q, "Content-Type");
	json_error_t jerr;
	json_t *b;

	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
		api_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
			  "the body must be application/json");
		return NULL;
	}
	b = json_loadb(q->body ? q->body : "", q->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (b == NULL)
		api_error(r, 400, "INVALID_JSON", NULL, "malformed JSON at line %d column %d: %s",
			  jerr.line, jerr.column, jerr.text);
	return b;
}

static int
put_peering(struct store *s, json_t *o, struct err *err)
{
	char key[KEY_MAX], *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	snprintf(key, sizeof(key), KEY_ROOT_NE "bgp/%s",
		 json_string_value(json_object_get(o, "uuid")));
	rc = store_put(s, key, text, 0, NULL, err);
	free(text);
	return rc;
}

static void
bgp_create(struct api_req *q, struct api_resp *r, const char *tenant)
{
	struct store *s = api_store();
	struct ne_problem p;
	struct err err;
	json_t *body = parse_body(q, r), *o;

	if (body == NULL)
		return;
	if (ne_peering_from_request(s, tenant, body, true, NULL, &o, &p) != 0)
		api_problem(r, &p);
	else if (put_peering(s, o, &err) != STORE_OK)
		store_down(r, &err);
	else
		ok(r, 202, json_pack("{s:O}", "uuid", json_object_get(o, "uuid")));
	json_decref(o);
	json_decref(body);
}

static void
bgp_one(struct api_req *q, struct api_resp *r, const char *uuid, const char *tenant)
{
	struct store *s = api_store();
	struct ne_problem p;
	struct err err;
	json_t *cur = own(r, "bgp", uuid, tenant), *body, *o = NULL;

	if (cur == NULL)
		return;
	if (strcmp(q->method, "GET") == 0) {
		ok(r, 200, ne_peering_view(s, cur));
	} else if (strcmp(q->method, "PUT") == 0) {
		if (json_is_true(json_object_get(cur, "deleting"))) {
			api_error(r, 409, "CONFLICT", "uuid", "the peering is being deleted");
		} else if ((body = parse_body(q, r)) != NULL) {
			if (ne_peering_from_request(s, tenant, body, false, cur, &o, &p) != 0)
				api_problem(r, &p);
			else if (put_peering(s, o, &err) != STORE_OK)
				store_down(r, &err);
			else
				ok(r, 202, json_pack("{s:s}", "uuid", uuid));
			json_decref(body);
			json_decref(o);
		}
	} else {
		json_t *view = ne_peering_view(s, cur);
		const char *ps = json_string_value(json_object_get(view, "provisioningStatus"));

		/* Never picked up by an agent: nothing to undo, it goes at once. Otherwise the
		 * agent closes the session (Cease) and removes the key (DEPROVISIONING). */
		if (strcmp(ps, "PROVISIONING") == 0) {
			if (ne_remove(s, "bgp", uuid, &err) == STORE_ERR)
				store_down(r, &err);
			else
				ok(r, 202, json_pack("{s:s, s:s}", "uuid", uuid, "provisioningStatus",
						     "DEPROVISIONING"));
		} else {
			json_object_set_new(cur, "deleting", json_true());
			if (put_peering(s, cur, &err) != STORE_OK)
				store_down(r, &err);
			else
				ok(r, 202, json_pack("{s:s, s:s}", "uuid", uuid, "provisioningStatus",
						     "DEPROVISIONING"));
		}
		json_decref(view);
	}
	json_decref(cur);
}

static bool
method_is(struct api_req *q, struct api_resp *r, const char *allowed)
{
	char list[64], *save = NULL;

	snprintf(list, sizeof(list), "%s", allowed);
	for (char *m = strtok_r(list, ", ", &save); m; m = strtok_r(NULL, ", ", &save))
		if (strcmp(q->method, m) == 0)
			return true;
	snprintf(r->allow, sizeof(r->allow), "%s", allowed);
	api_error(r, 405, "METHOD_NOT_ALLOWED", NULL, "%s is not allowed here; allowed: %s",
		  q->method, allowed);
	return false;
}

void
api_handle(struct api_req *q, struct api_resp *r)
{
	static const char dev[] = "/ne/v1/devices", con[] = "/ne/v1/connections",
			  bgp[] = "/ne/v1/bgp";
	char tenant[TENANT_MAX];
	const char *url = q->url;

	if (q->body_too_big)
		return api_error(r, 413, "BODY_TOO_LARGE", NULL, "the body is larger than %d bytes",
				 API_BODY_MAX);
	if (strcmp(url, "/oauth2/v1/token") == 0) {
		if (method_is(q, r, "POST"))
			token(q, r);
		return;
	}
	if (strncmp(url, "/ne/v1/", 7) != 0)
		return api_error(r, 404, "NOT_FOUND", NULL, "no resource at %s", url);
	if (!authenticate(q, r, tenant))
		return;
	if (strcmp(url, dev) == 0 || strcmp(url, con) == 0) {
		if (method_is(q, r, "GET"))
			list(q, r, url[7] == 'd' ? "device" : "connection", tenant);
	} else if (strncmp(url, dev, sizeof(dev) - 1) == 0 && url[sizeof(dev) - 1] == '/') {
		json_t *o;

		if (method_is(q, r, "GET") && (o = own(r, "device", url + sizeof(dev), tenant)))
			ok(r, 200, public_view(o));
	} else if (strncmp(url, con, sizeof(con) - 1) == 0 && url[sizeof(con) - 1] == '/') {
		json_t *o;

		if (method_is(q, r, "GET") && (o = own(r, "connection", url + sizeof(con), tenant)))
			ok(r, 200, public_view(o));
	} else if (strcmp(url, bgp) == 0) {
		if (method_is(q, r, "GET, POST")) {
			if (strcmp(q->method, "GET") == 0)
				list(q, r, "bgp", tenant);
			else
				bgp_create(q, r, tenant);
		}
	} else if (strncmp(url, bgp, sizeof(bgp) - 1) == 0 && url[sizeof(bgp) - 1] == '/') {
		if (method_is(q, r, "GET, PUT, DELETE"))
			bgp_one(q, r, url + sizeof(bgp), tenant);
	} else {
		api_error(r, 404, "NOT_FOUND", NULL, "no resource at %s", url);
	}
}
