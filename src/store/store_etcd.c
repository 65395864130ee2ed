/*
 * The etcd backend: etcd v3 (3.4 and later) through its JSON gateway, with
 * libcurl (loaded on first use: curl_dl.h).
 *
 * URLs: etcd://HOST:PORT[,HOST:PORT...] (plain HTTP) and etcds://... (TLS).
 * Keys and values travel base64-encoded, int64 fields as JSON strings, as the
 * gateway's protobuf-JSON mapping has them.
 *
 * Several endpoints: a call goes to the member that answered last; on a
 * connection failure or an "unavailable" answer it moves to the next one, until
 * the call's deadline. Only what is safe is sent again: reads, lease calls,
 * transactions guarded by a compare, and any request that never left (connect
 * refused, no leader). An unguarded write whose answer was lost fails with an
 * error that says its outcome is unknown.
 *
 * Settings come from the environment, never from the URL, so that no secret
 * shows in `ps`: TABBY_ETCD_CA, TABBY_ETCD_CERT, TABBY_ETCD_KEY (TLS files),
 * TABBY_ETCD_USER with TABBY_ETCD_PASSWORD_FILE (or TABBY_ETCD_PASSWORD) for
 * etcd's authentication, TABBY_ETCD_TIMEOUT_MS for the deadline of one call
 * (default 10000, 100..600000;
 * store_set_timeout overrides it). A URL with user information is refused.
 *
 * Watches run in a thread of their own (one stream each, on a curl multi
 * handle it can wake): the thread decodes the stream and queues the events;
 * the caller's loop is woken through a pipe (store_watch_fd) and takes them
 * with store_watch_next, which never blocks on the network. When the stream
 * breaks, the thread reconnects, to the next member if need be, from the
 * revision after the last one it delivered, so nothing is missed or repeated;
 * when that revision has been compacted, the watch reports STORE_COMPACTED.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/curl_dl.h"
#include "store/store.h"

#define EC_TIMEOUT_MS_DEFAULT 10000
#define EC_CONNECT_MS_MAX 1000
/*
 * The shortest deadline a call gets: etcd's JSON gateway takes ~100 ms to answer a
 * read of 10,000 keys on loopback, so a caller's shorter deadline (the agent's loop
 * asks for 100 ms) bounds connecting, not the call.
 */
#define EC_CALL_MS_MIN 1000
#define EC_RETRY_PAUSE_MS 100
#define EC_WATCH_BACKOFF_MAX_MS 2000
#define EC_WATCH_POLL_MS 500

/* gRPC status codes the gateway passes on. */
#define GRPC_UNAVAILABLE 14
#define GRPC_UNAUTHENTICATED 16

struct ec_buf {
	char *p;
	size_t n, cap;
};

/* One client connection's settings and state; a watch thread has its own copy. */
struct ec_conn {
	char *url; /* as errors name the datastore */
	char **ep; /* "host:port" */
	size_t nep, cur;
	bool tls;
	char *ca, *cert, *key;
	char *user, *password; /* etcd auth; never logged */
	char *token;
	long timeout_ms;
	long connect_ms; /* at most EC_CONNECT_MS_MAX */
	CURL *h;
	/* The last refusal by etcd (not a transport failure). */
	int code;
	char msg[256];
};

struct ec_store {
	struct store base;
	struct ec_conn c;
};

struct ec_watch {
	struct store_watch base;
	struct ec_conn c;
	char *key, *end;  /* the watched range, not encoded */
	int64_t next_rev; /* thread only: the next revision to deliver */
	pthread_t thread;
	atomic_bool stop;
	CURLM *multi;
	int pipe[2];
	struct ec_buf line; /* thread only: the stream's partial line */
	bool got_data;	    /* thread only: this connection delivered something */
	bool broken;	    /* thread only: this connection's stream must be dropped */
	pthread_mutex_t mu; /* guards the fields below */
	struct store_events q;
	int64_t compacted; /* > 0: the compaction revision that ended the watch */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static size_t
buf_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct ec_buf *b = ud;
	size_t n = size * nmemb;

	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, ptr, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* --- encoding --- */

static char *
b64(const char *s, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = xmalloc(len);

	sodium_bin2base64(out, len, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* Decodes a base64 field into a NUL-terminated string; NULL when absent or bad. */
static char *
unb64(json_t *o, const char *field)
{
	const char *in = json_string_value(json_object_get(o, field));
	size_t inlen, outlen;
	char *out;

	if (in == NULL)
		return NULL;
	inlen = strlen(in);
	out = xmalloc(inlen / 4 * 3 + 4);
	if (sodium_base642bin((unsigned char *)out, inlen / 4 * 3 + 3, in, inlen, NULL, &outlen,
			      NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(out);
		return NULL;
	}
	out[outlen] = '\0';
	return out;
}

/* int64 fields arrive as strings (protobuf JSON); absent means 0. */
static int64_t
jint(json_t *o, const char *field)
{
	json_t *v = json_object_get(o, field);

	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	if (json_is_integer(v))
		return json_integer_value(v);
	return 0;
}

static json_t *
jint_new(int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	return json_string(s);
}

static void
set_b64(json_t *o, const char *field, const char *s)
{
	char *e = b64(s, strlen(s));

	json_object_set_new(o, field, json_string(e));
	free(e);
}

/* The end of the range of keys starting with prefix (keys are printable ASCII). */
static char *
prefix_end(const char *prefix)
{
	char *end = xstrdup(prefix);
	size_t n = strlen(end);

	end[n - 1]++;
	return end;
}

static void
set_range(json_t *o, const char *key, bool prefix)
{
	set_b64(o, "key", key);
	if (prefix) {
		char *end = prefix_end(key);

		set_b64(o, "range_end", end);
		free(end);
	}
}

static void
kv_decode(json_t *j, struct store_kv *kv)
{
	kv->key = unb64(j, "key");
	kv->value = unb64(j, "value");
	if (kv->key == NULL)
		kv->key = xstrdup("");
	if (kv->value == NULL)
		kv->value = xstrdup("");
	kv->create_rev = jint(j, "create_revision");
	kv->mod_rev = jint(j, "mod_revision");
	kv->version = jint(j, "version");
	kv->lease = jint(j, "lease");
}

/* --- the connection --- */

static char *
env_dup(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

static int
read_password_file(const char *path, char **out, struct err *err)
{
	FILE *f = fopen(path, "re");
	char buf[1024];
	size_t n;

	if (f == NULL) {
		err_set(err, "TABBY_ETCD_PASSWORD_FILE %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = xstrdup(buf);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

static int
parse_endpoints(struct ec_conn *c, const char *loc, struct err *err)
{
	const char *p;

	if (strncmp(loc, "//", 2) != 0 || loc[2] == '\0') {
		err_set(err, "expected etcd://HOST:PORT[,HOST:PORT...] (or etcds:// for TLS)");
		return -1;
	}
	if (strchr(loc, '@') != NULL) {
		err_set(err, "credentials in the URL would show in ps and logs; give the user in "
			     "TABBY_ETCD_USER and the password in TABBY_ETCD_PASSWORD_FILE");
		return -1;
	}
	p = loc + 2;
	while (*p != '\0') {
		size_t n = strcspn(p, ",/");
		char *ep = xmalloc(n + 1), *colon, *end;
		long port;

		memcpy(ep, p, n);
		ep[n] = '\0';
		colon = strrchr(ep, ':');
		port = colon ? strtol(colon + 1, &end, 10) : 0;
		if (n == 0 || colon == NULL || colon == ep || colon[1] == '\0' || *end != '\0' ||
		    port < 1 || port > 65535) {
			err_set(err,
				"endpoint '%s': expected HOST:PORT with a port from 1 to 65535",
				ep);
			free(ep);
			return -1;
		}
		c->ep = xrealloc(c->ep, (c->nep + 1) * sizeof(*c->ep));
		c->ep[c->nep++] = ep;
		p += n;
		if (*p == '/') {
			if (p[1] != '\0') {
				err_set(err, "unexpected path '%s' after the endpoints", p);
				return -1;
			}
			break;
		}
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
conn_settings(struct ec_conn *c, struct err *err)
{
	const char *t = getenv("TABBY_ETCD_TIMEOUT_MS"), *pwfile;
	char *end;

	c->timeout_ms = EC_TIMEOUT_MS_DEFAULT;
	c->connect_ms = EC_CONNECT_MS_MAX;
	if (t != NULL && *t != '\0') {
		c->timeout_ms = strtol(t, &end, 10);
		if (*end != '\0' || c->timeout_ms < 100 || c->timeout_ms > 600000) {
			err_set(err,
				"TABBY_ETCD_TIMEOUT_MS '%s': expected milliseconds from 100 "
				"to 600000",
				t);
			return -1;
		}
	}
	c->ca = env_dup("TABBY_ETCD_CA");
	c->cert = env_dup("TABBY_ETCD_CERT");
	c->key = env_dup("TABBY_ETCD_KEY");
	if (!c->tls && (c->ca || c->cert || c->key)) {
		err_set(err, "TLS files given (TABBY_ETCD_CA/CERT/KEY or --etcd-ca/cert/key) for a "
			     "plain etcd:// URL; use etcds://");
		return -1;
	}
	if ((c->cert == NULL) != (c->key == NULL)) {
		err_set(err, "a client certificate needs its key and a key its certificate "
			     "(TABBY_ETCD_CERT and TABBY_ETCD_KEY, or --etcd-cert and --etcd-key)");
		return -1;
	}
	c->user = env_dup("TABBY_ETCD_USER");
	pwfile = getenv("TABBY_ETCD_PASSWORD_FILE");
	if (pwfile != NULL && *pwfile != '\0') {
		if (read_password_file(pwfile, &c->password, err) != 0)
			return -1;
	} else {
		c->password = env_dup("TABBY_ETCD_PASSWORD");
	}
	if (c->user != NULL && c->password == NULL) {
		err_set(err, "TABBY_ETCD_USER is set but no password: set TABBY_ETCD_PASSWORD_FILE "
			     "(a file holding it) or TABBY_ETCD_PASSWORD");
		return -1;
	}
	return 0;
}

static void
conn_clone(struct ec_conn *dst, const struct ec_conn *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->url = xstrdup(src->url);
	dst->ep = xcalloc(src->nep, sizeof(*dst->ep));
	for (size_t i = 0; i < src->nep; i++)
		dst->ep[i] = xstrdup(src->ep[i]);
	dst->nep = src->nep;
	dst->cur = src->cur;
	dst->tls = src->tls;
	dst->ca = src->ca ? xstrdup(src->ca) : NULL;
	dst->cert = src->cert ? xstrdup(src->cert) : NULL;
	dst->key = src->key ? xstrdup(src->key) : NULL;
	dst->user = src->user ? xstrdup(src->user) : NULL;
	dst->password = src->password ? xstrdup(src->password) : NULL;
	dst->token = src->token ? xstrdup(src->token) : NULL;
	dst->timeout_ms = src->timeout_ms;
	dst->connect_ms = src->connect_ms;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

static void
conn_free(struct ec_conn *c)
{
	for (size_t i = 0; i < c->nep; i++)
		free(c->ep[i]);
	free(c->ep);
	free(c->url);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->user);
	free_secret(c->password);
	free_secret(c->token);
	if (c->h != NULL)
		curl.easy_cleanup(c->h);
	memset(c, 0, sizeof(*c));
}

/* Sets up h for a POST of body to path on the current member. */
static void
conn_prepare(struct ec_conn *c, CURL *h, const char *path, const char *body,
	     struct curl_slist **hdrs, char *errbuf)
{
	char url[512];

	snprintf(url, sizeof(url), "%s://%s%s", c->tls ? "https" : "http", c->ep[c->cur], path);
	curl.easy_reset(h);
	curl.easy_setopt(h, CURLOPT_URL, url);
	curl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(h, CURLOPT_PROXY, "");
	curl.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl.easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl.easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	if (c->ca != NULL)
		curl.easy_setopt(h, CURLOPT_CAINFO, c->ca);
	if (c->cert != NULL) {
		curl.easy_setopt(h, CURLOPT_SSLCERT, c->cert);
		curl.easy_setopt(h, CURLOPT_SSLKEY, c->key);
	}
	*hdrs = curl.slist_append(NULL, "Content-Type: application/json");
	if (c->token != NULL) {
		char auth[600];

		snprintf(auth, sizeof(auth), "Authorization: %s", c->token);
		*hdrs = curl.slist_append(*hdrs, auth);
		sodium_memzero(auth, sizeof(auth));
	}
	curl.easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	errbuf[0] = '\0';
}

/* The request never reached etcd: safe to send again, whatever it was. */
static bool
not_sent(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE;
}

static bool
tls_problem(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_RECV_ERROR;
}

/* The first reason each member gave, "host:port: why; ..." */
static void
add_reason(char *reasons, size_t len, const char *ep, const char *why)
{
	size_t n = strlen(reasons);
	char tag[300];

	snprintf(tag, sizeof(tag), "%s: ", ep);
	if (strstr(reasons, tag) != NULL)
		return;
	snprintf(reasons + n, len - n, "%s%s%s", n ? "; " : "", tag, why);
}

static int conn_auth(struct ec_conn *c, int64_t deadline, struct err *err);

/*
 * POSTs req to path, moving through the members until one answers or the
 * deadline passes. retry_safe: the request may be sent again after an answer
 * was lost. Returns STORE_OK with *resp, or STORE_ERR; when etcd itself refused,
 * c->code and c->msg hold its answer.
 */
static int
conn_call_until(struct ec_conn *c, const char *path, json_t *req, bool retry_safe, int64_t deadline,
		json_t **resp, struct err *err)
{
	char *body = json_dumps(req, JSON_COMPACT);
	char reasons[ERR_MSG_MAX] = "", errbuf[CURL_ERROR_SIZE];
	bool reauthed = false;
	int rc = STORE_ERR;

	*resp = NULL;
	c->code = 0;
	c->msg[0] = '\0';
	if (c->h == NULL && (c->h = curl.easy_init()) == NULL)
		fatal("curl_easy_init failed");
	if (c->user != NULL && c->token == NULL && strcmp(path, "/v3/auth/authenticate") != 0 &&
	    conn_auth(c, deadline, err) != STORE_OK) {
		free(body);
		return STORE_ERR;
	}
	for (size_t tried = 0;;) {
		struct curl_slist *hdrs = NULL;
		struct ec_buf b = {0};
		const char *ep = c->ep[c->cur];
		int64_t left = deadline - now_ms();
		long http = 0;
		CURLcode cc;
		json_t *j;

		if (left <= 0) {
			if (reasons[0] == '\0')
				snprintf(reasons, sizeof(reasons), "no answer within %ld ms",
					 c->timeout_ms);
			err_set(err, "datastore %s: cannot reach etcd: %s", c->url, reasons);
			break;
		}
		conn_prepare(c, c->h, path, body, &hdrs, errbuf);
		/*
		 * A request a member cannot serve (its proposal went to a leader that
		 * just died) hangs until etcd's own timeout; one that may be sent again
		 * gets a third of the deadline per member, so the next can answer.
		 */
		if (retry_safe && left > c->timeout_ms / 3 && c->nep > 1)
			left = c->timeout_ms / 3;
		curl.easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)left);
		curl.easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)(left < c->connect_ms ? left : c->connect_ms));
		curl.easy_setopt(c->h, CURLOPT_WRITEFUNCTION, buf_write);
		curl.easy_setopt(c->h, CURLOPT_WRITEDATA, &b);
		cc = curl.easy_perform(c->h);
		curl.slist_free_all(hdrs);
		if (cc != CURLE_OK) {
			free(b.p);
			add_reason(reasons, sizeof(reasons), ep,
				   errbuf[0] ? errbuf : curl.easy_strerror(cc));
			if (!retry_safe && !not_sent(cc)) {
				err_set(err,
					"etcd at %s: %s; the write may or may not have been "
					"applied",
					ep, errbuf[0] ? errbuf : curl.easy_strerror(cc));
				break;
			}
			if (c->tls && tls_problem(cc) && tried + 1 >= c->nep) {
				err_set(err,
					"datastore %s: cannot reach etcd: %s (TLS: check the CA, "
					"client certificate and key: --etcd-ca, --etcd-cert, "
					"--etcd-key or TABBY_ETCD_CA/CERT/KEY)",
					c->url, reasons);
				break;
			}
			goto next;
		}
		curl.easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &http);
		j = b.p ? json_loads(b.p, 0, NULL) : NULL;
		if (http == 200 && json_is_object(j)) {
			free(b.p);
			*resp = j;
			rc = STORE_OK;
			break;
		}
		c->code = (int)jint(j, "code");
		snprintf(c->msg, sizeof(c->msg), "%s",
			 json_string_value(json_object_get(j, "error"))
			     ? json_string_value(json_object_get(j, "error"))
			     : (b.p ? b.p : ""));
		if (c->msg[0] == '\0')
			snprintf(c->msg, sizeof(c->msg), "HTTP status %ld", http);
		json_decref(j);
		free(b.p);
		if ((c->code == GRPC_UNAUTHENTICATED || http == 401) && c->user != NULL &&
		    !reauthed && strcmp(path, "/v3/auth/authenticate") != 0) {
			/* The token expired (or the member restarted): get a new one, once. */
			reauthed = true;
			free_secret(c->token);
			c->token = NULL;
			if (conn_auth(c, deadline, err) != STORE_OK)
				break;
			continue;
		}
		if (c->code == GRPC_UNAVAILABLE &&
		    (retry_safe || strstr(c->msg, "no leader") != NULL)) {
			add_reason(reasons, sizeof(reasons), ep, c->msg);
			goto next;
		}
		err_set(err, "etcd at %s: %s", ep, c->msg);
		break;
	next:
		c->cur = (c->cur + 1) % c->nep;
		if (++tried % c->nep == 0)
			sleep_ms(EC_RETRY_PAUSE_MS);
	}
	free(body);
	return rc;
}

static int
conn_call(struct ec_conn *c, const char *path, json_t *req, bool retry_safe, json_t **resp,
	  struct err *err)
{
	return conn_call_until(c, path, req, retry_safe, now_ms() + c->timeout_ms, resp, err);
}

static int
conn_auth(struct ec_conn *c, int64_t deadline, struct err *err)
{
	json_t *req = json_object(), *resp;
	const char *tok;
	int rc;

	json_object_set_new(req, "name", json_string(c->user));
	json_object_set_new(req, "password", json_string(c->password));
	rc = conn_call_until(c, "/v3/auth/authenticate", req, true, deadline, &resp, err);
	/* jansson holds a copy of the password; overwrite it before letting go. */
	json_object_set_new(req, "password", json_string(""));
	json_decref(req);
	if (rc != STORE_OK) {
		err_prefix(err, "datastore %s: authenticating as %s", c->url, c->user);
		return STORE_ERR;
	}
	tok = json_string_value(json_object_get(resp, "token"));
	if (tok == NULL) {
		err_set(err, "authenticating as %s: etcd sent no token (is auth enabled?)",
			c->user);
		json_decref(resp);
		return STORE_ERR;
	}
	c->token = xstrdup(tok);
	json_decref(resp);
	return STORE_OK;
}

/* --- key-value calls --- */

static int
ec_open(struct store **out, const char *loc, bool tls, const struct store_ops *ops, struct err *err)
{
	struct ec_store *s;

	if (curl_load(err) != 0)
		return STORE_ERR;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = ops;
	s->c.tls = tls;
	if (parse_endpoints(&s->c, loc, err) != 0 || conn_settings(&s->c, err) != 0) {
		conn_free(&s->c);
		free(s);
		return STORE_ERR;
	}
	s->c.url = xmalloc(strlen(loc) + 8);
	sprintf(s->c.url, "%s:%s", tls ? "etcds" : "etcd", loc);
	*out = &s->base;
	return STORE_OK;
}

/* etcd creates nothing by being read: must_exist needs no check. */
static int
ec_open_plain(struct store **out, const char *loc, bool must_exist, struct err *err)
{
	(void)must_exist;
	return ec_open(out, loc, false, &store_etcd_ops, err);
}

static int
ec_open_tls(struct store **out, const char *loc, bool must_exist, struct err *err)
{
	(void)must_exist;
	return ec_open(out, loc, true, &store_etcds_ops, err);
}

static void
ec_close(struct store *base)
{
	struct ec_store *s = (struct ec_store *)base;

	conn_free(&s->c);
	free(s);
}

static void
ec_set_timeout(struct store *base, int ms)
{
	struct ec_conn *c = &((struct ec_store *)base)->c;

	c->connect_ms = ms < 1 ? 1 : ms > EC_CONNECT_MS_MAX ? EC_CONNECT_MS_MAX : ms;
	c->timeout_ms = ms < EC_CALL_MS_MIN ? EC_CALL_MS_MIN : ms;
}

static int
ec_range(struct store *base, const char *key, bool prefix, struct store_kvs *out, struct err *err)
{
	struct ec_store *s = (struct ec_store *)base;
	json_t *req = json_object(), *resp, *kvs, *kv;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_key_check(key, err) != 0) {
		json_decref(req);
		return STORE_ERR;
	}
	set_range(req, key, prefix);
	rc = conn_call(&s->c, "/v3/kv/range", req, true, &resp, err);
	json_decref(req);
	if (rc != STORE_OK)
		return STORE_ERR;
	out->rev = jint(json_object_get(resp, "header"), "revision");
	kvs = json_object_get(resp, "kvs");
	json_array_foreach(kvs, i, kv) kv_decode(kv, store_kvs_push(out));
	json_decref(resp);
	return STORE_OK;
}

static json_t *
txn_request(const struct store_txn *t, struct err *err)
{
	json_t *req = json_object(), *cmps = json_array(), *ops = json_array();

	json_object_set_new(req, "compare", cmps);
	json_object_set_new(req, "success", ops);
	for (size_t i = 0; i < t->ncmps; i++) {
		json_t *c = json_object();

		if (store_key_check(t->cmps[i].key, err) != 0)
			goto fail;
		set_b64(c, "key", t->cmps[i].key);
		json_object_set_new(c, "target", json_string("MOD"));
		json_object_set_new(c, "result", json_string("EQUAL"));
		json_object_set_new(c, "mod_revision", jint_new(t->cmps[i].mod_rev));
		json_array_append_new(cmps, c);
	}
	for (size_t i = 0; i < t->nops; i++) {
		const struct store_op *op = &t->ops[i];
		json_t *r = json_object(), *o = json_object();

		json_array_append_new(ops, o);
		if (store_key_check(op->key, err) != 0) {
			json_decref(r);
			goto fail;
		}
		switch (op->type) {
		case STORE_OP_PUT:
			if (op->value == NULL) {
				err_set(err, "put %s: no value", op->key);
				json_decref(r);
				goto fail;
			}
			set_b64(r, "key", op->key);
			set_b64(r, "value", op->value);
			if (op->lease != 0)
				json_object_set_new(r, "lease", jint_new(op->lease));
			json_object_set_new(o, "request_put", r);
			break;
		case STORE_OP_DELETE:
		case STORE_OP_DELETE_PREFIX:
			set_range(r, op->key, op->type == STORE_OP_DELETE_PREFIX);
			json_object_set_new(o, "request_delete_range", r);
			break;
		default:
			err_set(err, "unknown transaction operation %d", (int)op->type);
			json_decref(r);
			goto fail;
		}
	}
	return req;
fail:
	json_decref(req);
	return NULL;
}

/* etcd's refusal of a transaction, in the words the SQLite backend uses. */
static void
txn_refused(const struct ec_conn *c, const struct store_txn *t, struct err *err)
{
	if (strstr(c->msg, "lease not found") != NULL) {
		for (size_t i = 0; i < t->nops; i++) {
			if (t->ops[i].type == STORE_OP_PUT && t->ops[i].lease != 0) {
				err_set(err, "put %s: lease %lld not found (expired or revoked)",
					t->ops[i].key, (long long)t->ops[i].lease);
				return;
			}
		}
	}
	if (strstr(c->msg, "too many operations") != NULL)
		err_set(err,
			"etcd refused a transaction of %zu operations: %s (raise etcd's "
			"--max-txn-ops)",
			t->nops + t->ncmps, c->msg);
}

/* Whether a transaction writes or deletes a secret (store.h: secrets keep no history). */
static bool
txn_touches_secret(const struct store_txn *t)
{
	size_t n = strlen(STORE_SECRET_PREFIX);

	for (size_t i = 0; i < t->nops; i++) {
		const char *k = t->ops[i].key;

		if (strncmp(k, STORE_SECRET_PREFIX, n) == 0 ||
		    (t->ops[i].type == STORE_OP_DELETE_PREFIX &&
		     strncmp(STORE_SECRET_PREFIX, k, strlen(k)) == 0))
			return true;
	}
	return false;
}

/*
 * etcd keeps every revision until a (global) compaction: after a secret was
 * written, compact to that revision, physically, and defragment every member so
 * that the old value's pages are freed. Watchers behind get STORE_COMPACTED.
 * Best effort: the write itself has succeeded; a member that is down is
 * defragmented by nobody (its raft log and snapshots hold the value anyway).
 */
static void
forget_secret_history(struct ec_store *s, int64_t rev)
{
	json_t *req = json_object(), *resp;
	struct err err;
	size_t cur = s->c.cur;

	json_object_set_new(req, "revision", jint_new(rev));
	json_object_set_new(req, "physical", json_true());
	if (conn_call(&s->c, "/v3/kv/compaction", req, true, &resp, &err) == STORE_OK)
		json_decref(resp);
	json_decref(req);
	/* Defragmenting is per member: ask each (one that is down may be asked twice). */
	req = json_object();
	for (size_t i = 0; i < s->c.nep; i++) {
		s->c.cur = i;
		if (conn_call(&s->c, "/v3/maintenance/defragment", req, false, &resp, &err) ==
		    STORE_OK)
			json_decref(resp);
	}
	s->c.cur = cur;
	json_decref(req);
}

static int
ec_txn(struct store *base, const struct store_txn *t, struct store_txn_res *res, struct err *err)
{
	struct ec_store *s = (struct ec_store *)base;
	json_t *req = txn_request(t, err), *resp, *r;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (req == NULL)
		return STORE_ERR;
	/* A compare makes a second delivery harmless: it fails instead of applying twice. */
	rc = conn_call(&s->c, "/v3/kv/txn", req, t->ncmps > 0, &resp, err);
	json_decref(req);
	if (rc != STORE_OK) {
		if (s->c.code != 0)
			txn_refused(&s->c, t, err);
		return STORE_ERR;
	}
	res->rev = jint(json_object_get(resp, "header"), "revision");
	if (!json_is_true(json_object_get(resp, "succeeded"))) {
		json_decref(resp);
		return STORE_FAILED;
	}
	json_array_foreach(json_object_get(resp, "responses"), i, r)
	{
		json_t *del = json_object_get(r, "response_delete_range");

		res->changed += del ? (size_t)jint(del, "deleted") : 1;
	}
	json_decref(resp);
	if (res->changed > 0 && txn_touches_secret(t))
		forget_secret_history(s, res->rev);
	return STORE_OK;
}

static int
ec_lease_grant(struct store *base, int64_t ttl_s, int64_t *id, struct err *err)
{
	struct ec_store *s = (struct ec_store *)base;
	json_t *req = json_object(), *resp;
	int rc;

	json_object_set_new(req, "TTL", jint_new(ttl_s));
	/* Not retried after a lost answer: a second grant would leave a stray lease. */
	rc = conn_call(&s->c, "/v3/lease/grant", req, false, &resp, err);
	json_decref(req);
	if (rc != STORE_OK)
		return STORE_ERR;
	*id = jint(resp, "ID");
	json_decref(resp);
	if (*id == 0) {
		err_set(err, "lease grant: etcd returned no lease");
		return STORE_ERR;
	}
	return STORE_OK;
}

static int
lease_call(struct store *base, const char *path, int64_t id, json_t **resp, struct err *err)
{
	struct ec_store *s = (struct ec_store *)base;
	json_t *req = json_object();
	int rc;

	json_object_set_new(req, "ID", jint_new(id));
	rc = conn_call(&s->c, path, req, true, resp, err);
	json_decref(req);
	if (rc != STORE_OK && strstr(s->c.msg, "lease not found") != NULL) {
		err_set(err, "lease %lld not found (expired or revoked)", (long long)id);
		return STORE_NOTFOUND;
	}
	return rc;
}

static int
ec_lease_keepalive(struct store *base, int64_t id, struct err *err)
{
	json_t *resp;
	int rc = lease_call(base, "/v3/lease/keepalive", id, &resp, err);

	if (rc != STORE_OK)
		return rc;
	/* The gateway streams; one request gives one {"result": ...}. TTL 0: no such lease. */
	if (jint(json_object_get(resp, "result"), "TTL") <= 0) {
		err_set(err, "lease %lld not found (expired or revoked)", (long long)id);
		rc = STORE_NOTFOUND;
	}
	json_decref(resp);
	return rc;
}

static int
ec_lease_revoke(struct store *base, int64_t id, struct err *err)
{
	json_t *resp;
	int rc = lease_call(base, "/v3/lease/revoke", id, &resp, err);

	if (rc == STORE_OK)
		json_decref(resp);
	/* Gone already is what revoking asked for (the SQLite backend agrees). */
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
ec_compact(struct store *base, int64_t rev, struct err *err)
{
	struct ec_store *s = (struct ec_store *)base;
	json_t *req = json_object(), *resp;
	int rc;

	json_object_set_new(req, "revision", jint_new(rev));
	rc = conn_call(&s->c, "/v3/kv/compaction", req, true, &resp, err);
	json_decref(req);
	if (rc == STORE_OK) {
		json_decref(resp);
		return STORE_OK;
	}
	if (strstr(s->c.msg, "has been compacted") != NULL)
		return STORE_OK;
	if (strstr(s->c.msg, "future revision") != NULL)
		err_set(err, "cannot compact at revision %lld: the store is not there yet",
			(long long)rev);
	return STORE_ERR;
}

/* --- watches --- */

static void
watch_wake(struct ec_watch *w)
{
	char c = 1;

	if (write(w->pipe[1], &c, 1) < 0 && errno != EAGAIN)
		log_warn("etcd watch: waking the loop");
}

/* One message of the stream. Returns false when this stream must be dropped. */
static bool
watch_message(struct ec_watch *w, json_t *j)
{
	json_t *r = json_object_get(j, "result"), *evs, *e;
	size_t i, before;
	int64_t last = 0;

	if (r == NULL) {
		/* {"error": {...}}: the stream failed (auth expired, member going away). */
		free_secret(w->c.token);
		w->c.token = NULL;
		return false;
	}
	if (jint(r, "compact_revision") > 0) {
		pthread_mutex_lock(&w->mu);
		w->compacted = jint(r, "compact_revision");
		pthread_mutex_unlock(&w->mu);
		watch_wake(w);
		return false;
	}
	if (json_is_true(json_object_get(r, "canceled")))
		return false;
	w->got_data = true;
	evs = json_object_get(r, "events");
	pthread_mutex_lock(&w->mu);
	before = w->q.n;
	json_array_foreach(evs, i, e)
	{
		json_t *kv = json_object_get(e, "kv");
		struct store_event *ev;

		if (jint(kv, "mod_revision") < w->next_rev)
			continue; /* delivered before the stream broke */
		ev = store_events_push(&w->q);
		ev->type =
		    json_is_string(json_object_get(e, "type")) &&
			    strcmp(json_string_value(json_object_get(e, "type")), "DELETE") == 0
			? STORE_EVENT_DELETE
			: STORE_EVENT_PUT;
		kv_decode(kv, &ev->kv);
		if (ev->type == STORE_EVENT_DELETE) {
			free(ev->kv.value);
			ev->kv.value = NULL;
		}
		last = ev->kv.mod_rev;
	}
	pthread_mutex_unlock(&w->mu);
	if (last > 0)
		w->next_rev = last + 1;
	else if (json_array_size(evs) == 0 && !json_is_true(json_object_get(r, "created"))) {
		/* A progress notification: everything up to its revision has been sent. */
		int64_t rev = jint(json_object_get(r, "header"), "revision");

		if (rev + 1 > w->next_rev)
			w->next_rev = rev + 1;
	}
	if (w->q.n != before)
		watch_wake(w);
	return true;
}

static size_t
watch_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct ec_watch *w = ud;
	size_t n = size * nmemb;
	char *nl;

	buf_write(ptr, size, nmemb, &w->line);
	while (!w->broken && (nl = memchr(w->line.p, '\n', w->line.n)) != NULL) {
		size_t len = (size_t)(nl - w->line.p) + 1;
		json_t *j = json_loadb(w->line.p, len, 0, NULL);

		if (j != NULL && !watch_message(w, j))
			w->broken = true;
		json_decref(j);
		memmove(w->line.p, w->line.p + len, w->line.n - len);
		w->line.n -= len;
	}
	/* Returning less than n ends the transfer: the stream is reopened. */
	return w->broken ? 0 : n;
}

static bool
watch_compacted(struct ec_watch *w)
{
	bool c;

	pthread_mutex_lock(&w->mu);
	c = w->compacted > 0;
	pthread_mutex_unlock(&w->mu);
	return c;
}

/* One stream, until it breaks or the watch is closed. */
static void
watch_stream(struct ec_watch *w)
{
	json_t *req = json_object(), *cr = json_object();
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE], *body;
	struct err err;
	int running = 1;

	if (w->c.user != NULL && w->c.token == NULL &&
	    conn_auth(&w->c, now_ms() + w->c.timeout_ms, &err) != STORE_OK) {
		json_decref(req);
		json_decref(cr);
		return;
	}
	set_b64(cr, "key", w->key);
	set_b64(cr, "range_end", w->end);
	json_object_set_new(cr, "start_revision", jint_new(w->next_rev));
	json_object_set_new(cr, "progress_notify", json_true());
	json_object_set_new(req, "create_request", cr);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (w->c.h == NULL && (w->c.h = curl.easy_init()) == NULL)
		fatal("curl_easy_init failed");
	conn_prepare(&w->c, w->c.h, "/v3/watch", body, &hdrs, errbuf);
	curl.easy_setopt(w->c.h, CURLOPT_CONNECTTIMEOUT_MS, (long)EC_CONNECT_MS_MAX);
	curl.easy_setopt(w->c.h, CURLOPT_WRITEFUNCTION, watch_write);
	curl.easy_setopt(w->c.h, CURLOPT_WRITEDATA, w);
	w->line.n = 0;
	w->broken = false;
	w->got_data = false;
	curl.multi_add_handle(w->multi, w->c.h);
	while (running && !atomic_load(&w->stop)) {
		if (curl.multi_perform(w->multi, &running) != CURLM_OK)
			break;
		if (running)
			curl.multi_poll(w->multi, NULL, 0, 1000, NULL);
	}
	curl.multi_remove_handle(w->multi, w->c.h);
	curl.slist_free_all(hdrs);
	free(body);
}

static void *
watch_thread(void *arg)
{
	struct ec_watch *w = arg;
	long backoff = EC_RETRY_PAUSE_MS;

	while (!atomic_load(&w->stop)) {
		watch_stream(w);
		if (atomic_load(&w->stop) || watch_compacted(w))
			break;
		if (w->got_data)
			backoff = EC_RETRY_PAUSE_MS;
		/* Wait, waking early when the watch is closed; then try the next member. */
		curl.multi_poll(w->multi, NULL, 0, (int)backoff, NULL);
		backoff =
		    backoff * 2 > EC_WATCH_BACKOFF_MAX_MS ? EC_WATCH_BACKOFF_MAX_MS : backoff * 2;
		w->c.cur = (w->c.cur + 1) % w->c.nep;
	}
	return NULL;
}

/* The current revision, or whether start_rev is still in etcd's history. */
static int
watch_start(struct ec_store *s, const char *key, int64_t start_rev, int64_t *next, struct err *err)
{
	json_t *req = json_object(), *resp;
	int rc;

	set_b64(req, "key", key);
	json_object_set_new(req, "count_only", json_true());
	if (start_rev > 0)
		json_object_set_new(req, "revision", jint_new(start_rev));
	rc = conn_call(&s->c, "/v3/kv/range", req, true, &resp, err);
	json_decref(req);
	if (rc == STORE_OK) {
		*next = start_rev > 0 ? start_rev
				      : jint(json_object_get(resp, "header"), "revision") + 1;
		json_decref(resp);
		return STORE_OK;
	}
	if (start_rev > 0 && strstr(s->c.msg, "future revision") != NULL) {
		*next = start_rev;
		return STORE_OK;
	}
	if (strstr(s->c.msg, "has been compacted") != NULL) {
		err_set(err, "watch from revision %lld: compacted", (long long)start_rev);
		return STORE_COMPACTED;
	}
	return STORE_ERR;
}

static int
ec_watch_open(struct store *base, const char *prefix, int64_t start_rev, struct store_watch **out,
	      struct err *err)
{
	struct ec_store *s = (struct ec_store *)base;
	struct ec_watch *w;
	int64_t next;
	int rc;

	if (store_key_check(prefix, err) != 0)
		return STORE_ERR;
	rc = watch_start(s, prefix, start_rev, &next, err);
	if (rc != STORE_OK)
		return rc;
	w = xcalloc(1, sizeof(*w));
	w->base.ops = s->base.ops;
	conn_clone(&w->c, &s->c);
	w->key = xstrdup(prefix);
	w->end = prefix_end(prefix);
	w->next_rev = next;
	pthread_mutex_init(&w->mu, NULL);
	if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		fatal("etcd watch: pipe: %s", strerror(errno));
	if ((w->multi = curl.multi_init()) == NULL)
		fatal("curl_multi_init failed");
	if (pthread_create(&w->thread, NULL, watch_thread, w) != 0)
		fatal("etcd watch: cannot start its thread");
	*out = &w->base;
	return STORE_OK;
}

static int
ec_watch_fd(struct store_watch *base)
{
	return ((struct ec_watch *)base)->pipe[0];
}

static int
ec_watch_interval_ms(struct store_watch *base)
{
	(void)base;
	return EC_WATCH_POLL_MS;
}

static int
ec_watch_next(struct store_watch *base, struct store_events *out, struct err *err)
{
	struct ec_watch *w = (struct ec_watch *)base;
	char drain[64];
	int rc = STORE_OK;
	size_t queued;

	while (read(w->pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&w->mu);
	queued = w->q.n;
	for (size_t i = 0; i < w->q.n; i++)
		*store_events_push(out) = w->q.v[i];
	w->q.n = 0;
	/* The events before the compaction first; the next call reports it. */
	if (queued == 0 && w->compacted > 0) {
		err_set(err, "watch: compacted (history starts at %lld)", (long long)w->compacted);
		rc = STORE_COMPACTED;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void
ec_watch_close(struct store_watch *base)
{
	struct ec_watch *w = (struct ec_watch *)base;

	atomic_store(&w->stop, true);
	curl.multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	curl.multi_cleanup(w->multi);
	conn_free(&w->c);
	close(w->pipe[0]);
	close(w->pipe[1]);
	pthread_mutex_destroy(&w->mu);
	store_events_free(&w->q);
	free(w->line.p);
	free(w->key);
	free(w->end);
	free(w);
}

/* The two schemes differ only in how they open (TLS or not). */
#define EC_OPS(name, scheme_name, open_fn)                                                         \
	const struct store_ops name = {                                                            \
	    .scheme = scheme_name,                                                                 \
	    .open = open_fn,                                                                       \
	    .close = ec_close,                                                                     \
	    .set_timeout = ec_set_timeout,                                                         \
	    .range = ec_range,                                                                     \
	    .txn = ec_txn,                                                                         \
	    .lease_grant = ec_lease_grant,                                                         \
	    .lease_keepalive = ec_lease_keepalive,                                                 \
	    .lease_revoke = ec_lease_revoke,                                                       \
	    .compact = ec_compact,                                                                 \
	    .watch_open = ec_watch_open,                                                           \
	    .watch_fd = ec_watch_fd,                                                               \
	    .watch_interval_ms = ec_watch_interval_ms,                                             \
	    .watch_next = ec_watch_next,                                                           \
	    .watch_close = ec_watch_close,                                                         \
	}

EC_OPS(store_etcd_ops, "etcd", ec_open_plain);
EC_OPS(store_etcds_ops, "etcds", ec_open_tls);
