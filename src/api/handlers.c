/* The endpoints: the OAuth2 token, devices, connections and BGP peerings. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/ui.h"
#include "lib/log.h"
#include "model/keys.h"

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

/*
 * What a token request says: the grant, the client's credentials, and the grant's
 * own parameters (RFC 6749 §4.3 user_name and user_password -- the provider's names
 * for username and password -- and §6 refresh_token).
 */
enum { TP_GRANT, TP_ID, TP_SECRET, TP_USER, TP_PASSWORD, TP_REFRESH, TP_COUNT };
static const char *const token_names[TP_COUNT] = {
	"grant_type", "client_id", "client_secret", "user_name", "user_password", "refresh_token"};

struct token_params {
	char *v[TP_COUNT];
};

static void
token_params_free(struct token_params *t)
{
	for (int i = 0; i < TP_COUNT; i++) {
		/* Secrets, passwords and refresh tokens do not stay in freed memory. */
		if (t->v[i] != NULL && i != TP_GRANT && i != TP_ID && i != TP_USER)
			sodium_memzero(t->v[i], strlen(t->v[i]));
		free(t->v[i]);
		t->v[i] = NULL;
	}
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
			what = "the body is not a JSON object (or has a field twice)";
		} else {
			for (int i = 0; i < TP_COUNT && what == NULL; i++)
				if (json_field(b, token_names[i], &t->v[i]) != 0)
					what = "grant_type, client_id, client_secret, user_name, "
					       "user_password and refresh_token must be strings";
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
		for (int i = 0; i < TP_COUNT; i++)
			if ((v = form_get(kv, n, token_names[i])) != NULL)
				t->v[i] = xstrdup(v);
		api_kv_free(kv, n);
	} else {
		what = "Content-Type must be application/json or application/x-www-form-urlencoded";
	}
	if (what == NULL && bid != NULL) {
		if (t->v[TP_SECRET] != NULL ||
		    (t->v[TP_ID] != NULL && strcmp(t->v[TP_ID], bid) != 0)) {
			what = "the client authenticates with HTTP Basic or with client_id and "
			       "client_secret in the body, not both (RFC 6749 section 2.3)";
		} else {
			free(t->v[TP_ID]);
			t->v[TP_ID] = bid;
			t->v[TP_SECRET] = bsecret;
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
	if (bsecret != NULL)
		sodium_memzero(bsecret, strlen(bsecret));
	free(bsecret);
	token_params_free(t);
	return -1;
}

static const char *const grant_names[] = {
	[API_GRANT_CLIENT] = "client_credentials",
	[API_GRANT_PASSWORD] = "password",
	[API_GRANT_REFRESH] = "refresh_token",
};

/* The audit line of a token request (never a secret): who asked, the grant, the status. */
static void
token_audit(const char *client_id, const char *user, const char *grant, const struct api_resp *r)
{
	char status[8];
	const char *action = "token.client";

	if (grant != NULL && strcmp(grant, "password") == 0)
		action = "token.password";
	else if (grant != NULL && strcmp(grant, "refresh_token") == 0)
		action = "token.refresh";
	snprintf(status, sizeof(status), "%d", r->status);
	ne_audit(client_id, user, action, NULL, status);
}

/*
 * Reads and checks the request; what needs the client's secret (and, for the password
 * grant, the user's password) checked -- argon2id -- goes back in r->check, to run
 * off the request's thread. Everything else is answered here.
 */
static void
token(struct api_req *q, struct api_resp *r)
{
	struct token_params t;
	struct api_check *c;
	char id[NE_UUID_LEN + 1];
	char **v = t.v;
	int retry, grant = -1;

	if (token_read(q, r, &t) != 0) {
		token_audit(NULL, NULL, NULL, r);
		return;
	}
	for (int i = 0; v[TP_GRANT] && i < (int)(sizeof(grant_names) / sizeof(grant_names[0])); i++)
		if (strcmp(v[TP_GRANT], grant_names[i]) == 0)
			grant = i;
	if (grant < 0) {
		oauth_error(r, 400, v[TP_GRANT] ? "unsupported_grant_type" : "invalid_request",
			    "grant_type must be client_credentials, password or refresh_token");
	} else if (v[TP_ID] == NULL || v[TP_SECRET] == NULL) {
		oauth_error(r, 400, "invalid_request", "client_id and client_secret are required");
	} else if (grant == API_GRANT_PASSWORD && (v[TP_USER] == NULL || v[TP_PASSWORD] == NULL)) {
		oauth_error(r, 400, "invalid_request",
			    "the password grant needs user_name and user_password");
	} else if (grant == API_GRANT_REFRESH && v[TP_REFRESH] == NULL) {
		oauth_error(r, 400, "invalid_request", "the refresh_token grant needs refresh_token");
	} else if (!ne_uuid_canon(v[TP_ID], id)) {
		/* No client has such an id; said before the limits, which key on whole ids. */
		r->www_authenticate = "Basic realm=\"tabby\"";
		oauth_error(r, 401, "invalid_client", "client_id must be a UUID");
	} else if (!api_limit_allow(q->peer, id, &retry)) {
		r->retry_after = retry;
		oauth_error(r, 429, "slow_down", "too many failed token requests from this address");
	} else {
		c = xcalloc(1, sizeof(*c));
		c->grant = (enum api_grant)grant;
		memcpy(c->id, id, sizeof(c->id));
		snprintf(c->peer, sizeof(c->peer), "%s", q->peer ? q->peer : "");
		c->secret = v[TP_SECRET];
		v[TP_SECRET] = NULL;
		if (grant == API_GRANT_PASSWORD) {
			c->user = v[TP_USER];
			c->password = v[TP_PASSWORD];
			v[TP_USER] = v[TP_PASSWORD] = NULL;
		} else if (grant == API_GRANT_REFRESH) {
			c->refresh = v[TP_REFRESH];
			v[TP_REFRESH] = NULL;
		}
		r->check = c;
	}
	if (r->check == NULL)
		token_audit(v[TP_ID], v[TP_USER], v[TP_GRANT], r);
	token_params_free(&t);
}

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

/* The client (and the user) checked right: the grant's tokens, or the OAuth error. */
static void
token_grant(struct api_check *c, struct api_resp *r, struct store *s)
{
	struct ne_tokens t;
	struct err err;
	int rc;

	if (c->grant == API_GRANT_REFRESH) {
		rc = ne_token_refresh(s, &c->auth, c->refresh, &t, &err);
		if (rc == NE_REFRESH_OK)
			return token_answer(r, &c->auth, &t);
		if (rc == NE_REFRESH_INVALID)
			return oauth_error(r, 400, "invalid_grant",
					   "unknown, expired or revoked refresh token");
		if (rc == NE_REFRESH_REUSED)
			return oauth_error(r, 400, "invalid_grant",
					   "the refresh token was already used; every token "
					   "of its login is revoked, log in again");
		return token_store_down(r, &err);
	}
	/* The issue compares the client (and user) records the checks read: a remove,
	 * rotate-secret or passwd that landed meanwhile leaves no token behind. */
	rc = ne_token_issue(s, &c->auth, &t, &err);
	if (rc == STORE_OK)
		return token_answer(r, &c->auth, &t);
	if (rc == STORE_FAILED && c->auth.user[0])
		return oauth_error(r, 400, "invalid_grant", "the user changed meanwhile");
	if (rc == STORE_FAILED) {
		r->www_authenticate = "Basic realm=\"tabby\"";
		return oauth_error(r, 401, "invalid_client", "unknown client or wrong secret");
	}
	token_store_down(r, &err);
}

void
api_token_finish(struct api_check *c, struct api_resp *r)
{
	struct store *s = api_store();

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
	} else if (c->grant == API_GRANT_PASSWORD && c->user_rc < 0) {
		token_store_down(r, &c->err);
	} else if (c->grant == API_GRANT_PASSWORD && c->user_rc == 0) {
		/* A wrong password is a guess like a wrong secret: it counts against the limits. */
		api_limit_fail(c->peer, c->id);
		oauth_error(r, 400, "invalid_grant", "unknown user or wrong password");
	} else if (s == NULL) {
		token_store_down(r, NULL);
	} else {
		token_grant(c, r, s);
		if (r->status == 200)
			api_metrics_token(c->grant);
	}
	token_audit(c->id, r->status == 200 ? c->auth.user : c->user, grant_names[c->grant], r);
}

/* RFC 6750: who is calling, or false after answering 401. */
static bool
authenticate(struct api_req *q, struct api_resp *r, struct ne_auth *who)
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
	/* Every request: the token, and its client (and user) still there, unchanged. */
	rc = ne_token_check(s, h + 7, who, &err);
	if (rc < 0) {
		store_down(r, &err);
		return false;
	}
	if (rc == 0) {
		api_metrics_auth_failure(true);
		r->www_authenticate = "Bearer realm=\"tabby\", error=\"invalid_token\", "
				      "error_description=\"unknown or expired token\"";
		api_error(r, 401, "INVALID_TOKEN", "Authorization", "the token is unknown or expired");
		return false;
	}
	return true;
}

/* Loads a tenant's resource: 400 bad id, 404 none, 403 someone else's. */
static json_t *
own(struct api_resp *r, const char *kind, const char *sent, const char *tenant, int64_t *rev)
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
	int count;
	const char *h = api_header(q, "If-Match", &count);
	char want[32], list[256], *save = NULL;

	if (h == NULL)
		return true;
	if (count > 1 || strlen(h) >= sizeof(list)) {
		api_error(r, 400, "INVALID_REQUEST", "If-Match",
			  "If-Match must be one header of at most %zu bytes: \"*\" or a list of "
			  "ETags, e.g. \"42\"", sizeof(list) - 1);
		return false;
	}
	snprintf(want, sizeof(want), "\"%lld\"", (long long)rev);
	snprintf(list, sizeof(list), "%s", h);
	for (char *t = strtok_r(list, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
		if (strcmp(t, "*") == 0 || strcmp(t, want) == 0)
			return true;
	set_etag(r, rev);
	api_error(r, 412, "PRECONDITION_FAILED", "If-Match",
		  "the peering is at revision %s, not %.64s; read it again", want, h);
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
bgp_one(struct api_req *q, struct api_resp *r, const char *sent, const struct ne_auth *who)
{
	char canon[NE_UUID_LEN + 1];
	/* Answers name the peering as stored (lower case); own() refuses what is no UUID. */
	const char *uuid = ne_uuid_canon(sent, canon) ? canon : sent;
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
	struct ne_auth who;
	const char *tenant = who.client_id;
	const char *url = q->path;

	if (strcmp(url, "/oauth2/v1/token") == 0) {
		if (method_is(q, r, "POST"))
			token(q, r);
		return;
	}
	if (strcmp(url, "/metrics") == 0) {
		if (method_is(q, r, "GET")) {
			json_decref(r->doc);
			r->doc = NULL;
			r->status = 200;
			r->body = api_metrics_render(&r->body_len);
			r->content_type = "text/plain; version=0.0.4; charset=utf-8";
		}
		return;
	}
	if (strcmp(url, "/ui") == 0 || strncmp(url, "/ui/", 4) == 0) {
		/* The page itself holds no data: served without a token, refused to a tenant's. */
		if (!method_is(q, r, "GET"))
			return;
		if (strcmp(url, "/ui/api/topology") != 0 && api_header(q, "Authorization", NULL) == NULL)
			return ui_handle(q, r, NULL);
		if (authenticate(q, r, &who))
			ui_handle(q, r, &who);
		return;
	}
	if (strncmp(url, "/ne/v1/", 7) != 0)
		return api_error(r, 404, "NOT_FOUND", NULL, "no resource at %.200s", url);
	if (!authenticate(q, r, &who))
		return;
	if (strcmp(url, dev) == 0 || strcmp(url, con) == 0) {
		if (method_is(q, r, "GET"))
			list(q, r, url[7] == 'd' ? "device" : "connection", tenant);
	} else if (strncmp(url, dev, sizeof(dev) - 1) == 0 && url[sizeof(dev) - 1] == '/') {
		json_t *o;

		if (method_is(q, r, "GET") &&
		    (o = own(r, "device", url + sizeof(dev), tenant, NULL))) {
			/* The device's own routing table, as its node's agent reports it. */
			ne_device_status(api_store(), o);
			ok(r, 200, public_view(o));
		}
	} else if (strncmp(url, con, sizeof(con) - 1) == 0 && url[sizeof(con) - 1] == '/') {
		json_t *o;

		if (method_is(q, r, "GET") &&
		    (o = own(r, "connection", url + sizeof(con), tenant, NULL)))
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
	if (r->doc == NULL && r->check == NULL && r->body == NULL)
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
