/*
 * api: tabby-api, the peering REST API. The core (request.c, handlers.c, http.c)
 * takes a request as plain data -- method, the target as sent, the headers, the
 * body, the peer's address -- and makes an answer as plain data: it has no socket
 * and can run under a fuzzer. server.c is the libmicrohttpd shell around it;
 * every thread has its own datastore handle.
 */
#ifndef TABBY_API_H
#define TABBY_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/ne.h"
#include "store/store.h"

#define API_BODY_MAX 65536
#define API_TARGET_MAX 8192      /* longer request targets: 414 */
#define API_HEADERS_MAX 16384    /* more header bytes: 431 */
#define API_ARGS_MAX 64          /* more query parameters: 400 */

struct api_kv {
	const char *key, *value;  /* value NULL: a query key with no '=' */
};

struct api_req {
	/* Filled by the caller. */
	const char *method;
	const char *target;          /* path and query as sent, still percent-encoded */
	const struct api_kv *headers;
	size_t n_headers;
	const char *body;
	size_t body_len;
	bool body_too_big;
	const char *peer;            /* the client's address, for the rate limits */
	/* Filled by api_handle from target (decoded; owned by the request). */
	char *path;
	struct api_kv *args;
	size_t n_args;
	bool head;                   /* HEAD, answered as GET without the body */
};

/*
 * A token request's credential checks (argon2id, ~80 ms each): api_handle does not
 * run them on the request's thread but hands them back in api_resp.check; the caller
 * runs them (api_check_run, or on the pool) and then makes the answer with
 * api_token_finish. The client's secret always; for the password grant the user's
 * password too (an unknown user costs a check of the same price).
 */
enum api_grant { API_GRANT_CLIENT, API_GRANT_PASSWORD, API_GRANT_REFRESH };

struct api_check {
	enum api_grant grant;
	char id[NE_UUID_LEN + 1];
	char peer[64];
	char *secret;                /* owned, wiped when freed */
	char *user, *password;       /* the password grant's, owned; the password wiped */
	char *refresh;               /* the refresh_token grant's, owned, wiped */
	int rc;                      /* client: 1 right, 0 wrong, -1 store error, API_CHECK_BUSY */
	int user_rc;                 /* password grant, when rc is 1: 1 right, 0 wrong, -1 */
	struct ne_auth auth;         /* who the checks found */
	struct err err;
	void (*done)(void *cls);     /* on the pool's thread, once rc is set */
	void *cls;
};
#define API_CHECK_BUSY (-2)

struct api_resp {
	int status;
	json_t *doc;                 /* owned */
	const char *www_authenticate;
	char allow[64];
	int retry_after;
	struct api_check *check;     /* set: no answer yet, a secret check to run first */
	char etag[32];               /* "" for none */
	char *body;                  /* owned: an answer that is not JSON (doc NULL) ... */
	size_t body_len;
	const char *content_type;    /* ... and its media type */
};

/* The calling thread's datastore handle (opened on first use); NULL if it cannot open. */
struct store *api_store(void);
void api_set_datastore(const char *url);

/* One error in the API's format: a JSON array of {errorCode, errorMessage, property, moreInfo}. */
void api_error(struct api_resp *r, int status, const char *code, const char *property,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void api_problem(struct api_resp *r, const struct ne_problem *p);
/* A JSON string of text that may hold anything a client sent (bytes that are not UTF-8 become '?'). */
json_t *api_json_text(const char *s);

/* Answers one request: sets r->doc, or r->check. Frees what it put in q. */
void api_handle(struct api_req *q, struct api_resp *r);
/* The token request's answer once its check has run; frees nothing. */
void api_token_finish(struct api_check *c, struct api_resp *r);
/* api_handle with any secret check run on the calling thread (tests, fuzzing). */
void api_handle_sync(struct api_req *q, struct api_resp *r);

/* request.c: the request's parts, parsed strictly. */
/* The one header called name (case-insensitive), or NULL; *count: how many there are. */
const char *api_header(const struct api_req *q, const char *name, int *count);
/* The one query parameter called key, or NULL. */
const char *api_arg(const struct api_req *q, const char *key);
/*
 * Splits q->target into q->path and q->args: percent-decoded, no NUL bytes, no key
 * twice, within the limits above. On a problem answers r (400/414) and returns -1.
 */
int api_parse_target(struct api_req *q, struct api_resp *r);
void api_req_free(struct api_req *q);
/*
 * Decodes an application/x-www-form-urlencoded body into n pairs (*out, owned: free
 * with api_kv_free). -1 with a message in err on a NUL byte, a bad escape or a key
 * given twice (RFC 6749 §3.1: parameters must not be repeated).
 */
int api_form_parse(const char *body, size_t len, struct api_kv **out, size_t *n,
		   struct err *err);
void api_kv_free(struct api_kv *kv, size_t n);
/*
 * RFC 3986 §2.1 percent-decoding of s[0..len) into a new string; plus: '+' is a
 * space (form encoding). NULL when an escape is cut short or not hex, or when the
 * text holds a NUL byte, encoded or not.
 */
char *api_pct_decode(const char *s, size_t len, bool plus);
/* Exact media type comparison (RFC 9110 §8.3.1): type/subtype case-insensitive, parameters allowed. */
bool api_media_type_is(const char *header, const char *type);

/* limit.c: failed client authentications, per address and per client and address. */
bool api_limit_allow(const char *peer, const char *client_id, int *retry_after);
void api_limit_fail(const char *peer, const char *client_id);

/* metrics.c: what /metrics shows; every function is safe from any thread. */
/* One answered request: target as sent (only its path is looked at), its latency. */
void api_metrics_request(const char *method, const char *target, int status, double seconds);
void api_metrics_token(enum api_grant g);
/* bearer: an unknown or expired token; else a wrong client secret or user password. */
void api_metrics_auth_failure(bool bearer);
/* The exposition text; the caller frees it. */
char *api_metrics_render(size_t *len);

/* check.c: the secret-check pool. */
int api_checks_start(unsigned threads, unsigned queue_max, struct err *err);
int api_check_submit(struct api_check *c);  /* -1: the queue is full */
void api_check_run(struct api_check *c);
/* Refuses new checks and waits for the queued and running ones (before stopping). */
void api_checks_drain(void);
void api_check_free(struct api_check *c);

#endif
