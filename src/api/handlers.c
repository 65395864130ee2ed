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
	return api_header(q, name, NULL);
}

static void
ok(struct api_resp *r, int status, json_t *doc)
{
	json_decref(r->doc);
	r->status = status;
	r->doc = doc;
}

/* The reason goes to the log; the tenant learns nothing of paths or SQLite. */
static void
store_down(struct api_resp *r, const struct err *err)
{
	log_warnx("datastore unavailable: %s", err ? err->msg : "cannot open it");
	api_error(r, 503, "STORE_UNAVAILABLE", NULL, "datastore unavailable; try again later");
}

/* RFC 6749 §5.2: the token endpoint answers errors in OAuth's own form. */
static void
oauth_error(struct api_resp *r, int status, const char *error, const char *desc)
{
	ok(r, status, json_pack("{s:s, s:o}", "error", error, "error_description",
				api_json_text(desc)));
}

/* The token endpoint's store_down, in OAuth's form. */
static void
token_store_down(struct api_resp *r, const struct err *err)
{
	log_warnx("datastore unavailable: %s", err ? err->msg : "cannot open it");
	r->retry_after = 1;
	oauth_error(r, 503, "temporarily_unavailable", "datastore unavailable; try again later");
}

/* One field of a parsed form, or NULL. */
static const char *
form_get(const struct api_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, name) == 0)
			return kv[i].value ? kv[i].value : "";
	return NULL;
}

/* RFC 6749 §2.3.1: HTTP Basic with the form-encoded id and secret. -1: malformed. */
static int
basic_auth(const char *h, char **id, char **secret)
{
	unsigned char bin[512];
	size_t n;
	char *colon;

	if (strncasecmp(h, "Basic ", 6) != 0)
		return -1;
	if (sodium_base642bin(bin, sizeof(bin) - 1, h + 6, strlen(h + 6), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	bin[n] = '\0';
	if (strlen((char *)bin) != n || (colon = strchr((char *)bin, ':')) == NULL)
		return -1;
	*id = api_pct_decode((char *)bin, (size_t)(colon - (char *)bin), true);
	*secret = api_pct_decode(colon + 1, strlen(colon + 1), true);
	if (*id == NULL || *secret == NULL) {
		free(*id);
		free(*secret);
		*id = *secret = NULL;
		return -1;
	}
	return 0;
}

/* What a token request says: the grant and the client's credentials. */
struct token_params {
	char *grant, *id, *secret;
};

static void
token_params_free(struct token_params *t)
{
	free(t->grant);
	free(t->id);
	free(t->secret);
}

/* A copy of the body's string field, or NULL; -1 if it is there but not a string. */
static int
json_field(json_t *b, const char *name, char **out)
{
	json_t *v = json_object_get(b, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = xstrdup(json_string_value(v));
	return 0;
}

/*
 * The token request's parameters, from a JSON body (the provider's form) or a form
 * body (RFC 6749 §4.4), the client's credentials from HTTP Basic or the body. Strict:
 * RFC 6749 §2.3 allows one authentication method per request, §3.1 no parameter
 * twice. 0, or -1 after answering r.
 */
static int
token_read(struct api_req *q, struct api_resp *r, struct token_params *t)
{
	const char *ctype = header(q, "Content-Type"), *auth;
	char *bid = NULL, *bsecret = NULL, *what = NULL;
	int nauth;

	memset(t, 0, sizeof(*t));
	auth = api_header(q, "Authorization", &nauth);
	if (nauth > 1) {
		oauth_error(r, 400, "invalid_request", "more than one Authorization header");
		return -1;
	}
	if (auth != NULL && basic_auth(auth, &bid, &bsecret) != 0) {
		oauth_error(r, 400, "invalid_request",
			    "the Authorization header is not HTTP Basic with the form-encoded "
			    "client_id:client_secret in base64 (RFC 6749 section 2.3.1)");
		return -1;
	}
	if (api_media_type_is(ctype, "application/json")) {
		json_t *b = json_loadb(q->body ? q->body : "", q->body_len, JSON_REJECT_DUPLICATES,
				       NULL);

		if (!json_is_object(b)) {
			json_decref(b);
			what = "the body is not a JSON object (or has a field twice)";
		} else if (json_field(b, "grant_type", &t->grant) != 0 ||
			   json_field(b, "client_id", &t->id) != 0 ||
			   json_field(b, "client_secret", &t->secret) != 0) {
			what = "grant_type, client_id and client_secret must be strings";
		}
		json_decref(b);
	} else if (api_media_type_is(ctype, "application/x-www-form-urlencoded")) {
		struct api_kv *kv;
		struct err err;
		size_t n;
		const char *v;

		if (api_form_parse(q->body, q->body_len, &kv, &n, &err) != 0) {
			char *bar = strchr(err.msg, '|');

			oauth_error(r, 400, "invalid_request", bar ? bar + 1 : err.msg);
			goto bad;
		}
		if ((v = form_get(kv, n, "grant_type")) != NULL)
			t->grant = xstrdup(v);
		if ((v = form_get(kv, n, "client_id")) != NULL)
			t->id = xstrdup(v);
		if ((v = form_get(kv, n, "client_secret")) != NULL)
			t->secret = xstrdup(v);
		api_kv_free(kv, n);
	} else {
		what = "Content-Type must be application/json or application/x-www-form-urlencoded";
	}
	if (what == NULL && bid != NULL) {
		if (t->secret != NULL || (t->id != NULL && strcmp(t->id, bid) != 0)) {
			what = "the client authenticates with HTTP Basic or with client_id and "
			       "client_secret in the body, not both (RFC 6749 section 2.3)";
		} else {
			free(t->id);
			t->id = bid;
			t->secret = bsecret;
			bid = bsecret = NULL;
		}
	}
	if (what != NULL) {
		oauth_error(r, 400, "invalid_request", what);
		goto bad;
	}
	return 0;
bad:
	free(bid);
	free(bsecret);
	token_params_free(t);
	return -1;
}

static void
token(struct api_req *q, struct api_resp *r)
{
	struct token_params t;
	struct api_check *c;
	char id[NE_UUID_LEN + 1];
	int retry;

	if (token_read(q, r, &t) != 0)
		return;
	if (t.grant == NULL || strcmp(t.grant, "client_credentials") != 0) {
		oauth_error(r, 400, t.grant ? "unsupported_grant_type" : "invalid_request",
			    "grant_type must be client_credentials");
	} else if (t.id == NULL || t.secret == NULL) {
		oauth_error(r, 400, "invalid_request", "client_id and client_secret are required");
	} else if (!ne_uuid_canon(t.id, id)) {
		/* No client has such an id; said before the limits, which key on whole ids. */
		r->www_authenticate = "Basic realm=\"tabby\"";
		oauth_error(r, 401, "invalid_client", "client_id must be a UUID");
	} else if (!api_limit_allow(q->peer, id, &retry)) {
		r->retry_after = retry;
		oauth_error(r, 429, "slow_down", "too many failed token requests from this address");
	} else {
		c = xcalloc(1, sizeof(*c));
		memcpy(c->id, id, sizeof(c->id));
		snprintf(c->peer, sizeof(c->peer), "%s", q->peer ? q->peer : "");
		c->secret = t.secret;
		t.secret = NULL;
		r->check = c;
	}
	token_params_free(&t);
}

void
api_token_finish(struct api_check *c, struct api_resp *r)
{
	struct store *s = api_store();
	char tok[128];
	struct err err;

	r->check = NULL;
	if (c->rc == API_CHECK_BUSY) {
		r->retry_after = 1;
		oauth_error(r, 503, "temporarily_unavailable", "too many token requests; try again");
	} else if (c->rc < 0) {
		token_store_down(r, &c->err);
	} else if (c->rc == 0) {
		api_limit_fail(c->peer, c->id);
		r->www_authenticate = "Basic realm=\"tabby\"";
		oauth_error(r, 401, "invalid_client", "unknown client or wrong secret");
	} else if (s == NULL) {
		token_store_down(r, NULL);
	} else if (ne_token_issue(s, c->id, tok, &err) != STORE_OK) {
		token_store_down(r, &err);
	} else {
		ok(r, 200, json_pack("{s:s, s:s, s:s, s:s}", "access_token", tok, "token_type",
				     "Bearer", "token_timeout", "3600", "user_name", c->name));
	}
}

/* RFC 6750: who is calling, or false after answering 401. */
static bool
authenticate(struct api_req *q, struct api_resp *r, char *tenant)
{
	int nauth;
	const char *h = api_header(q, "Authorization", &nauth);
	struct store *s = api_store();
	struct err err;
	int rc;

	if (nauth > 1) {
		/* RFC 6750 §2: one way of sending the token, once. */
		r->www_authenticate = "Bearer realm=\"tabby\", error=\"invalid_request\"";
		api_error(r, 400, "INVALID_REQUEST", "Authorization",
			  "more than one Authorization header");
		return false;
	}
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
own(struct api_resp *r, const char *kind, const char *sent, const char *tenant)
{
	struct store *s = api_store();
	char uuid[NE_UUID_LEN + 1];
	struct err err;
	json_t *o;
	int rc;

	if (!ne_uuid_canon(sent, uuid)) {
		api_error(r, 400, "INVALID_PATH_PARAMETER", "uuid", "'%.64s' is not a UUID", sent);
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
	char device[NE_UUID_LEN + 1], connection[NE_UUID_LEN + 1];
	const char *status;
};

/* The filters each list takes, besides offset and limit. */
static const char *
filters_of(const char *kind)
{
	if (strcmp(kind, "bgp") == 0)
		return "virtualDeviceUuid, connectionUuid, status";
	if (strcmp(kind, "connection") == 0)
		return "virtualDeviceUuid, connectionUuid";
	return "virtualDeviceUuid";
}

static bool
query_bad(struct api_resp *r, const char *key, const char *fmt, const char *what)
{
	api_error(r, 400, "INVALID_QUERY_PARAMETER", key, fmt, key, what);
	return false;
}

static bool
parse_query(struct api_req *q, struct api_resp *r, const char *kind, struct list_query *lq)
{
	static const char *const statuses[] = {"PROVISIONING", "PENDING_UPDATE", "PROVISIONED",
					       "FAILED", "DEPROVISIONING"};
	const char *filters = filters_of(kind);

	memset(lq, 0, sizeof(*lq));
	lq->limit = 20;
	for (size_t i = 0; i < q->n_args; i++) {
		const char *key = q->args[i].key, *value = q->args[i].value;
		size_t klen = strlen(key);
		char *end;

		if (strcmp(key, "offset") == 0 || strcmp(key, "limit") == 0) {
			bool is_offset = key[0] == 'o';
			long v = value ? strtol(value, &end, 10) : -1;

			if (value == NULL || *value == '\0' || *end != '\0' ||
			    v < (is_offset ? 0 : 1) || v > (is_offset ? 1000000000L : 1000))
				return query_bad(r, key, "%s must be an integer %s",
						 is_offset ? "of 0 or more" : "from 1 to 1000");
			*(is_offset ? &lq->offset : &lq->limit) = v;
		} else if ((strcmp(key, "virtualDeviceUuid") == 0 ||
			    strcmp(key, "connectionUuid") == 0) &&
			   strstr(filters, key) != NULL) {
			if (!ne_uuid_canon(value, key[0] == 'v' ? lq->device : lq->connection))
				return query_bad(r, key, "%s must be a UUID%s", "");
		} else if (strcmp(key, "status") == 0 && strstr(filters, key) != NULL) {
			for (size_t j = 0; value && j < sizeof(statuses) / sizeof(statuses[0]); j++)
				if (strcmp(value, statuses[j]) == 0)
					lq->status = statuses[j];
			if (lq->status == NULL)
				return query_bad(r, key, "%s must be one of %s",
						 "PROVISIONING, PENDING_UPDATE, PROVISIONED, FAILED, "
						 "DEPROVISIONING");
		} else {
			api_error(r, 400, "INVALID_QUERY_PARAMETER", klen > 64 ? NULL : key,
				  "unknown query parameter '%.64s%s'; accepted: offset, limit, %s", key,
				  klen > 64 ? "..." : "", filters);
			return false;
		}
	}
	return true;
}

static bool
matches(json_t *o, const char *field, const char *want)
{
	return want[0] == '\0' ||
	       strcmp(json_string_value(json_object_get(o, field)) ?: "", want) == 0;
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

	if (!parse_query(q, r, kind, &lq)) {
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
			    !matches(view, "provisioningStatus", lq.status ? lq.status : "")) {
				json_decref(view);
				continue;
			}
		} else {
			bool dev = strcmp(kind, "device") == 0;

			view = public_view(json_incref(o));
			if (!matches(view, dev ? "uuid" : "virtualDeviceUuid", lq.device) ||
			    (!dev && !matches(view, "uuid", lq.connection))) {
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

	if (!api_media_type_is(ctype, "application/json")) {
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
	/* RFC 9110 §9.3.2: HEAD wherever GET is. */
	snprintf(r->allow, sizeof(r->allow), "%s%s", allowed,
		 strstr(allowed, "GET") ? ", HEAD" : "");
	api_error(r, 405, "METHOD_NOT_ALLOWED", NULL, "%.16s is not allowed here; allowed: %s",
		  q->head ? "HEAD" : q->method, r->allow);
	return false;
}

static void
route(struct api_req *q, struct api_resp *r)
{
	static const char dev[] = "/ne/v1/devices", con[] = "/ne/v1/connections",
			  bgp[] = "/ne/v1/bgp";
	char tenant[TENANT_MAX];
	const char *url = q->path;

	if (strcmp(url, "/oauth2/v1/token") == 0) {
		if (method_is(q, r, "POST"))
			token(q, r);
		return;
	}
	if (strncmp(url, "/ne/v1/", 7) != 0)
		return api_error(r, 404, "NOT_FOUND", NULL, "no resource at %.200s", url);
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
		api_error(r, 404, "NOT_FOUND", NULL, "no resource at %.200s", url);
	}
}

void
api_handle(struct api_req *q, struct api_resp *r)
{
	size_t hbytes = 0;
	const char *method = q->method;

	for (size_t i = 0; i < q->n_headers; i++)
		hbytes += strlen(q->headers[i].key) + strlen(q->headers[i].value) + 4;
	if (hbytes > API_HEADERS_MAX) {
		api_error(r, 431, "HEADERS_TOO_LARGE", NULL, "the headers are larger than %d bytes",
			  API_HEADERS_MAX);
	} else if (q->body_too_big) {
		api_error(r, 413, "BODY_TOO_LARGE", NULL, "the body is larger than %d bytes",
			  API_BODY_MAX);
	} else if (api_parse_target(q, r) == 0) {
		if (strcmp(method, "HEAD") == 0) {
			q->head = true;
			q->method = "GET";
		}
		route(q, r);
		q->method = method;
	}
	api_req_free(q);
	if (r->doc == NULL && r->check == NULL)
		api_error(r, 500, "INTERNAL", NULL, "no answer was made");
}

void
api_handle_sync(struct api_req *q, struct api_resp *r)
{
	struct api_check *c;

	api_handle(q, r);
	if ((c = r->check) != NULL) {
		api_check_run(c);
		api_token_finish(c, r);
		api_check_free(c);
	}
}
