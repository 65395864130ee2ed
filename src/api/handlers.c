/* The endpoints: the OAuth2 token, devices, connections and BGP peerings. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/log.h"
#include "model/keys.h"

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

/* The token request's parameters, from a JSON body or a form (RFC 6749 §4.3, §4.4, §6). */
enum { TP_GRANT, TP_ID, TP_SECRET, TP_USER, TP_PASSWORD, TP_REFRESH, TP_COUNT };
static const char *const token_params[TP_COUNT] = {
	"grant_type", "client_id", "client_secret", "user_name", "user_password", "refresh_token"};

static void
token_answer(struct api_resp *r, const struct ne_auth *a, const struct ne_tokens *t)
{
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "access_token", t->access, "token_type",
				"Bearer", "token_timeout", "3600", "user_name",
				a->user[0] ? a->user : a->client_name);

	if (t->refresh[0])
		json_object_set_new(doc, "refresh_token", json_string(t->refresh));
	ok(r, 200, doc);
}

/* One grant, the client already authenticated: 200 with tokens, or the OAuth error. */
static void
token_grant(struct api_resp *r, struct store *s, char **v, struct ne_auth *a)
{
	struct ne_tokens t;
	struct err err;
	int rc;

	if (strcmp(v[TP_GRANT], "refresh_token") == 0) {
		rc = ne_token_refresh(s, a, v[TP_REFRESH], &t, &err);
		if (rc == NE_REFRESH_OK)
			return token_answer(r, a, &t);
		if (rc == NE_REFRESH_INVALID)
			return oauth_error(r, 400, "invalid_grant",
					   "unknown, expired or revoked refresh token");
		if (rc == NE_REFRESH_REUSED)
			return oauth_error(r, 400, "invalid_grant",
					   "the refresh token was already used; every token "
					   "of its login is revoked, log in again");
		return store_down(r, &err);
	}
	if (strcmp(v[TP_GRANT], "password") == 0) {
		rc = ne_user_check(s, a, v[TP_USER], v[TP_PASSWORD], &err);
		if (rc < 0)
			return store_down(r, &err);
		if (rc == 0)
			return oauth_error(r, 400, "invalid_grant", "unknown user or wrong password");
	}
	/* The issue compares the client (and user) records the checks read: a remove,
	 * rotate-secret or passwd that landed meanwhile leaves no token behind. */
	rc = ne_token_issue(s, a, &t, &err);
	if (rc == STORE_OK)
		return token_answer(r, a, &t);
	if (rc == STORE_FAILED && a->user[0])
		return oauth_error(r, 400, "invalid_grant", "the user changed meanwhile");
	if (rc == STORE_FAILED) {
		r->www_authenticate = "Basic realm=\"tabby\"";
		return oauth_error(r, 401, "invalid_client", "unknown client or wrong secret");
	}
	store_down(r, &err);
}

static void
token(struct api_req *q, struct api_resp *r)
{
	const char *ctype = header(q, "Content-Type");
	char *v[TP_COUNT] = {NULL}, status[8];
	struct store *s = api_store();
	struct ne_auth a = {0};
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
		for (int i = 0; i < TP_COUNT; i++)
			if (json_string_value(json_object_get(b, token_params[i])))
				v[i] = xstrdup(json_string_value(json_object_get(b, token_params[i])));
		json_decref(b);
	} else if (ctype != NULL &&
		   strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
		/* RFC 6749 §2.3.1: the client's credentials in Basic or in the body. */
		for (int i = 0; i < TP_COUNT; i++)
			if (i != TP_ID && i != TP_SECRET)
				v[i] = form_field(q->body ? q->body : "", q->body_len, token_params[i]);
		if (basic_auth(header(q, "Authorization"), &v[TP_ID], &v[TP_SECRET]) != 0) {
			v[TP_ID] = form_field(q->body ? q->body : "", q->body_len, "client_id");
			v[TP_SECRET] = form_field(q->body ? q->body : "", q->body_len, "client_secret");
		}
	} else {
		return oauth_error(r, 400, "invalid_request",
				   "Content-Type must be application/json or "
				   "application/x-www-form-urlencoded");
	}
	if (v[TP_GRANT] == NULL || (strcmp(v[TP_GRANT], "client_credentials") != 0 &&
				    strcmp(v[TP_GRANT], "password") != 0 &&
				    strcmp(v[TP_GRANT], "refresh_token") != 0)) {
		oauth_error(r, 400, v[TP_GRANT] ? "unsupported_grant_type" : "invalid_request",
			    "grant_type must be client_credentials, password or refresh_token");
	} else if (v[TP_ID] == NULL || v[TP_SECRET] == NULL) {
		oauth_error(r, 400, "invalid_request", "client_id and client_secret are required");
	} else if (strcmp(v[TP_GRANT], "password") == 0 &&
		   (v[TP_USER] == NULL || v[TP_PASSWORD] == NULL)) {
		oauth_error(r, 400, "invalid_request",
			    "the password grant needs user_name and user_password");
	} else if (strcmp(v[TP_GRANT], "refresh_token") == 0 && v[TP_REFRESH] == NULL) {
		oauth_error(r, 400, "invalid_request", "the refresh_token grant needs refresh_token");
	} else if (!api_rate_allow(v[TP_ID], &retry)) {
		r->retry_after = retry;
		oauth_error(r, 429, "slow_down", "too many token requests for this client");
	} else if ((rc = ne_client_check(s, v[TP_ID], v[TP_SECRET], &a, &err)) < 0) {
		store_down(r, &err);
	} else if (rc == 0) {
		r->www_authenticate = "Basic realm=\"tabby\"";
		oauth_error(r, 401, "invalid_client", "unknown client or wrong secret");
	} else {
		token_grant(r, s, v, &a);
	}
	snprintf(status, sizeof(status), "%d", r->status);
	ne_audit(v[TP_ID], r->status == 200 ? a.user : v[TP_USER],
		 v[TP_GRANT] && strcmp(v[TP_GRANT], "password") == 0	   ? "token.password"
		 : v[TP_GRANT] && strcmp(v[TP_GRANT], "refresh_token") == 0 ? "token.refresh"
									     : "token.client",
		 NULL, status);
	for (int i = 0; i < TP_COUNT; i++)
		free(v[i]);
}

/* RFC 6750: who is calling, or false after answering 401. */
static bool
authenticate(struct api_req *q, struct api_resp *r, struct ne_auth *who)
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
	/* Every request: the token, and its client (and user) still there, unchanged. */
	rc = ne_token_check(s, h + 7, who, &err);
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
own(struct api_resp *r, const char *kind, const char *uuid, const char *tenant, int64_t *rev)
{
	struct store *s = api_store();
	struct err err;
	json_t *o;
	int rc;

	if (!ne_uuid_valid(uuid)) {
		api_error(r, 400, "INVALID_PATH_PARAMETER", "uuid", "'%s' is not a UUID", uuid);
		return NULL;
	}
	rc = ne_read(s, kind, uuid, &o, rev, &err);
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

/* RFC 9110 §8.8.3: an ETag names the revision of the stored peering. */
static void
set_etag(struct api_resp *r, int64_t rev)
{
	snprintf(r->etag, sizeof(r->etag), "\"%lld\"", (long long)rev);
}

/* RFC 9110 §13.1.1: If-Match, compared strongly with the revision read. True when it holds
 * (or is absent); otherwise answers 412. */
static bool
if_match(struct api_req *q, struct api_resp *r, int64_t rev)
{
	const char *h = header(q, "If-Match");
	char want[32], list[256], *save = NULL;

	if (h == NULL)
		return true;
	snprintf(want, sizeof(want), "\"%lld\"", (long long)rev);
	snprintf(list, sizeof(list), "%s", h);
	for (char *t = strtok_r(list, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
		if (strcmp(t, "*") == 0 || strcmp(t, want) == 0)
			return true;
	set_etag(r, rev);
	api_error(r, 412, "PRECONDITION_FAILED", "If-Match",
		  "the peering is at revision %s, not %s; read it again", want, h);
	return false;
}

static void
audit(const struct ne_auth *who, const char *action, const char *resource,
      const struct api_resp *r)
{
	char status[8];

	snprintf(status, sizeof(status), "%d", r->status);
	ne_audit(who->client_id, who->user, action, resource, status);
}

static void
bgp_create(struct api_req *q, struct api_resp *r, const struct ne_auth *who)
{
	struct store *s = api_store();
	struct ne_problem p;
	char uuid[NE_UUID_LEN + 1] = "";
	int64_t rev;
	json_t *body = parse_body(q, r);

	if (body != NULL) {
		if (ne_peering_create(s, who, body, uuid, &rev, &p) != 0) {
			api_problem(r, &p);
		} else {
			ok(r, 202, json_pack("{s:s}", "uuid", uuid));
			set_etag(r, rev);
		}
	}
	audit(who, "bgp.create", uuid[0] ? uuid : json_string_value(json_object_get(body,
							       "connectionUuid")), r);
	json_decref(body);
}

static void
bgp_replace(struct api_req *q, struct api_resp *r, const char *uuid, const struct ne_auth *who)
{
	struct store *s = api_store();
	struct ne_problem p;
	int64_t rev, now;
	json_t *cur = own(r, "bgp", uuid, who->client_id, &rev), *body;

	if (cur != NULL && if_match(q, r, rev) && (body = parse_body(q, r)) != NULL) {
		if (ne_peering_replace(s, who, cur, rev, body, &now, &p) != 0) {
			api_problem(r, &p);
		} else {
			ok(r, 202, json_pack("{s:s}", "uuid", uuid));
			set_etag(r, now);
		}
		json_decref(body);
	}
	json_decref(cur);
	audit(who, "bgp.replace", uuid, r);
}

static void
bgp_delete(struct api_req *q, struct api_resp *r, const char *uuid, const struct ne_auth *who)
{
	struct store *s = api_store();
	struct ne_problem p;
	int64_t rev;
	json_t *cur;
	int rc;

	/* A race with another write is retried: what a DELETE means does not depend on the
	 * values it raced with. With If-Match the client asked for exactly one revision. */
	for (int tries = 0;; tries++) {
		if ((cur = own(r, "bgp", uuid, who->client_id, &rev)) == NULL)
			break;
		if (!if_match(q, r, rev)) {
			json_decref(cur);
			break;
		}
		rc = ne_peering_delete(s, who, cur, rev, &p);
		json_decref(cur);
		if (rc == 0) {
			ok(r, 202, json_pack("{s:s, s:s}", "uuid", uuid, "provisioningStatus",
					     "DEPROVISIONING"));
			break;
		}
		if (p.status != 409 || header(q, "If-Match") != NULL || tries == 4) {
			api_problem(r, &p);
			break;
		}
	}
	audit(who, "bgp.delete", uuid, r);
}

static void
bgp_one(struct api_req *q, struct api_resp *r, const char *uuid, const struct ne_auth *who)
{
	int64_t rev;
	json_t *cur;

	if (strcmp(q->method, "PUT") == 0)
		return bgp_replace(q, r, uuid, who);
	if (strcmp(q->method, "DELETE") == 0)
		return bgp_delete(q, r, uuid, who);
	if ((cur = own(r, "bgp", uuid, who->client_id, &rev)) != NULL) {
		ok(r, 200, ne_peering_view(api_store(), cur));
		set_etag(r, rev);
		json_decref(cur);
	}
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
	struct ne_auth who;
	const char *tenant = who.client_id;
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
	if (!authenticate(q, r, &who))
		return;
	if (strcmp(url, dev) == 0 || strcmp(url, con) == 0) {
		if (method_is(q, r, "GET"))
			list(q, r, url[7] == 'd' ? "device" : "connection", tenant);
	} else if (strncmp(url, dev, sizeof(dev) - 1) == 0 && url[sizeof(dev) - 1] == '/') {
		json_t *o;

		if (method_is(q, r, "GET") && (o = own(r, "device", url + sizeof(dev), tenant, NULL)))
			ok(r, 200, public_view(o));
	} else if (strncmp(url, con, sizeof(con) - 1) == 0 && url[sizeof(con) - 1] == '/') {
		json_t *o;

		if (method_is(q, r, "GET") && (o = own(r, "connection", url + sizeof(con), tenant, NULL)))
			ok(r, 200, public_view(o));
	} else if (strcmp(url, bgp) == 0) {
		if (method_is(q, r, "GET, POST")) {
			if (strcmp(q->method, "GET") == 0)
				list(q, r, "bgp", tenant);
			else
				bgp_create(q, r, &who);
		}
	} else if (strncmp(url, bgp, sizeof(bgp) - 1) == 0 && url[sizeof(bgp) - 1] == '/') {
		if (method_is(q, r, "GET, PUT, DELETE"))
			bgp_one(q, r, url + sizeof(bgp), &who);
	} else {
		api_error(r, 404, "NOT_FOUND", NULL, "no resource at %s", url);
	}
}
