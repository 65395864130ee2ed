/*
 * The libmicrohttpd shell around the core: it gathers a request (the target as
 * sent, the headers, the body, the peer's address) into a struct api_req, lets
 * api_handle answer it, and sends the answer as JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/server.h"
#include "lib/log.h"

struct api_server {
	struct MHD_Daemon *d;
};

/* One request in flight. */
struct pending {
	char *target;                /* as sent, from the URI log callback */
	bool started;
	char *body;
	size_t len;
	bool too_big;
};

struct headers {
	struct api_kv *kv;
	size_t n;
};

static enum MHD_Result
respond(struct MHD_Connection *conn, struct api_resp *r)
{
	char *text = r->doc ? json_dumps(r->doc, JSON_COMPACT) : xstrdup("");
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char retry[16];

	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->www_authenticate)
		MHD_add_response_header(resp, "WWW-Authenticate", r->www_authenticate);
	if (r->allow[0])
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", r->retry_after);
		MHD_add_response_header(resp, "Retry-After", retry);
	}
	rc = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	json_decref(r->doc);
	return rc;
}

/* The URI as the client sent it: the core decodes it itself, strictly. */
static void *
uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	(void)cls;
	(void)conn;
	p->target = xstrdup(uri);
	return p;
}

/* libmicrohttpd decodes paths and arguments by default; the core wants them as sent. */
static size_t
unescape_none(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

static enum MHD_Result
header_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct headers *h = cls;

	(void)kind;
	h->kv = xrealloc(h->kv, (h->n + 1) * sizeof(*h->kv));
	h->kv[h->n].key = key;
	h->kv[h->n].value = value ? value : "";
	h->n++;
	return MHD_YES;
}

static void
peer_of(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	buf[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)len);
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct pending *p = *con_cls;
	struct api_req q = {.method = method};
	struct api_resp r = {.status = 500};
	struct headers h = {0};
	char peer[INET6_ADDRSTRLEN];

	(void)cls;
	(void)url;
	(void)version;
	if (!p->started) {
		p->started = true;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* Bodies past the limit are drained, not kept, and answered 413. */
		if (p->len + *upload_size > API_BODY_MAX) {
			p->too_big = true;
		} else {
			p->body = xrealloc(p->body, p->len + *upload_size + 1);
			memcpy(p->body + p->len, upload, *upload_size);
			p->len += *upload_size;
			p->body[p->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	MHD_get_connection_values(conn, MHD_HEADER_KIND, header_cb, &h);
	peer_of(conn, peer, sizeof(peer));
	q.target = p->target;
	q.headers = h.kv;
	q.n_headers = h.n;
	q.body = p->body;
	q.body_len = p->len;
	q.body_too_big = p->too_big;
	q.peer = peer;
	api_handle(&q, &r);
	free(h.kv);
	return respond(conn, &r);
}

static void
done_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct pending *p = *con_cls;

	(void)cls;
	(void)conn;
	(void)t;
	if (p != NULL) {
		free(p->target);
		free(p->body);
		free(p);
		*con_cls = NULL;
	}
}

struct api_server *
api_server_start(const struct api_server_conf *c, struct err *err)
{
	struct api_server *srv = xcalloc(1, sizeof(*srv));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (c->sa->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (c->cert_pem != NULL)
		flags |= MHD_USE_TLS;
	srv->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, srv,
				  MHD_OPTION_SOCK_ADDR, c->sa,
				  MHD_OPTION_THREAD_POOL_SIZE, c->threads,
				  MHD_OPTION_URI_LOG_CALLBACK, uri_cb, srv,
				  MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, srv,
				  MHD_OPTION_NOTIFY_COMPLETED, done_cb, srv,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(512 * 1024),
				  c->cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, c->cert_pem,
				  MHD_OPTION_HTTPS_MEM_KEY, c->key_pem, MHD_OPTION_END);
	if (srv->d == NULL) {
		err_set(err, "%s", strerror(errno));
		free(srv);
		return NULL;
	}
	return srv;
}

void
api_server_stop(struct api_server *srv)
{
	MHD_stop_daemon(srv->d);
	free(srv);
}
