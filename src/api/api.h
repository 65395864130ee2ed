/*
 * api: tabby-api, the peering REST API (libmicrohttpd + jansson). http.c
 * turns requests into struct api_req and answers into responses;
 * handlers.c holds the endpoints; every thread has its own datastore handle.
 */
#ifndef TABBY_API_H
#define TABBY_API_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "model/ne.h"
#include "store/store.h"

#define API_BODY_MAX 65536

struct api_req {
	struct MHD_Connection *conn;
	const char *method, *url;
	const char *body;
	size_t body_len;
	bool body_too_big;
};

struct api_resp {
	int status;
	json_t *doc;                 /* owned */
	const char *www_authenticate;
	char allow[64];
	int retry_after;
	char etag[32];               /* "" for none */
};

/* The calling thread's datastore handle (opened on first use); NULL if it cannot open. */
struct store *api_store(void);
void api_set_datastore(const char *url);

/* One error in the API's format: a JSON array of {errorCode, errorMessage, property, moreInfo}. */
void api_error(struct api_resp *r, int status, const char *code, const char *property,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void api_problem(struct api_resp *r, const struct ne_problem *p);

void api_handle(struct api_req *q, struct api_resp *r);

/* Token endpoint limits, per client. */
bool api_rate_allow(const char *client_id, int *retry_after);

#endif
