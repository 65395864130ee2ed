/*
 * The libmicrohttpd shell around the core: it gathers a request (the target as
 * sent, the headers, the body, the peer's address) into a struct api_req, lets
 * api_handle answer it, and sends the answer as JSON. It also keeps the server
 * up against slow or greedy clients: connections per address are capped, a
 * connection must send its headers (and then its whole request) within a deadline,
 * secret checks run on their own pool with the request suspended meanwhile, and
 * libmicrohttpd's own log lines are rate-limited.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/server.h"
#include "lib/clock.h"
#include "lib/log.h"

/*
 * TLS 1.2 and 1.3 only (RFC 8996), with ECDHE key exchange and AEAD ciphers only
 * (RFC 9325 §4.2): no static RSA, no finite-field DHE, no CBC.
 */
#define TLS_PRIORITIES                                                                  \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:"   \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"

/* One connection, watched for its deadline (by the reaper thread). */
struct watch {
	struct watch *prev, *next;
	int fd;
	double deadline;             /* 0: none now (answering, or checking a secret) */
	bool shut;
};

struct api_server {
	struct MHD_Daemon *d;
	struct api_server_conf conf;
	pthread_mutex_t lock;        /* the watch list */
	struct watch *watched;
	pthread_t reaper;
	bool stopping;
	pthread_cond_t stop;
};

/* One request in flight. */
struct pending {
	char *target;                /* as sent, from the URI log callback */
	bool started;
	char *body;
	size_t len;
	bool too_big;
	struct api_check *check;     /* a secret check under way or done */
	double t0;                   /* when the request line came, for /metrics */
};

struct headers {
	struct api_kv *kv;
	size_t n;
};

/* libmicrohttpd's messages (one per dropped connection, say): at most 10 per minute. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static double window;
	static unsigned shown, dropped;
	char msg[256];
	double now = clock_mono();
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	pthread_mutex_lock(&lock);
	if (now - window >= 60) {
		if (dropped > 0)
			log_warnx("libmicrohttpd: %u more messages in the last minute not shown",
				  dropped);
		window = now;
		shown = dropped = 0;
	}
	if (shown < 10) {
		shown++;
		pthread_mutex_unlock(&lock);
		log_warnx("libmicrohttpd: %s", msg);
		return;
	}
	dropped++;
	pthread_mutex_unlock(&lock);
}

static void
set_deadline(struct api_server *srv, struct MHD_Connection *conn, unsigned secs)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watch *w = ci ? ci->socket_context : NULL;

	if (w == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	w->deadline = secs ? clock_mono() + secs : 0;
	pthread_mutex_unlock(&srv->lock);
}

static void
conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
	enum MHD_ConnectionNotificationCode code)
{
	struct api_server *srv = cls;
	struct watch *w = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		w = xcalloc(1, sizeof(*w));
		w->fd = ci ? ci->connect_fd : -1;
		w->deadline = clock_mono() + srv->conf.header_timeout;
		pthread_mutex_lock(&srv->lock);
		w->next = srv->watched;
		if (w->next)
			w->next->prev = w;
		srv->watched = w;
		pthread_mutex_unlock(&srv->lock);
		*socket_context = w;
	} else if (w != NULL) {
		/* Called before libmicrohttpd closes the socket: the reaper never sees a reused fd. */
		pthread_mutex_lock(&srv->lock);
		if (w->prev)
			w->prev->next = w->next;
		else
			srv->watched = w->next;
		if (w->next)
			w->next->prev = w->prev;
		pthread_mutex_unlock(&srv->lock);
		free(w);
		*socket_context = NULL;
	}
}

/*
 * Closes connections past their deadline. libmicrohttpd's own timeout counts idle
 * time only, so a client sending a byte every few seconds would hold a connection
 * for ever; shutdown() wakes the connection's thread, which then closes it.
 */
static void *
reaper(void *arg)
{
	struct api_server *srv = arg;
	struct timespec ts;

	pthread_mutex_lock(&srv->lock);
	while (!srv->stopping) {
		double now = clock_mono();
		unsigned closed = 0;

		for (struct watch *w = srv->watched; w; w = w->next)
			if (!w->shut && w->deadline > 0 && now > w->deadline && w->fd >= 0) {
				shutdown(w->fd, SHUT_RDWR);
				w->shut = true;
				closed++;
			}
		if (closed > 0)
			log_debug("closed %u connections past their deadline", closed);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->stop, &srv->lock, &ts);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static enum MHD_Result
respond(struct MHD_Connection *conn, const struct pending *p, const char *method,
	struct api_resp *r)
{
	char *text = r->body ? r->body : r->doc ? json_dumps(r->doc, JSON_COMPACT) : xstrdup("");
	size_t len = r->body ? r->body_len : strlen(text);
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char retry[16];

	api_metrics_request(method, p->target, r->status, clock_mono() - p->t0);
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type",
				r->body ? r->content_type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->www_authenticate)
		MHD_add_response_header(resp, "WWW-Authenticate", r->www_authenticate);
	if (r->allow[0])
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->etag[0])
		MHD_add_response_header(resp, "ETag", r->etag);
	if (r->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", r->retry_after);
		MHD_add_response_header(resp, "Retry-After", retry);
	}
	rc = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	json_decref(r->doc);
	return rc;
}

/*
 * The URI as the client sent it: the core decodes it itself, strictly. Then the
 * query is cut from libmicrohttpd's copy: it would parse it next, into the
 * connection's memory pool at ~56 bytes a parameter, and a target of a few KB of
 * '&' runs the pool dry -- the connection is then closed unanswered. The buffer is
 * libmicrohttpd's request line, which it modifies itself right after this call.
 */
static void *
uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	char *qm;

	(void)cls;
	(void)conn;
	p->target = xstrdup(uri);
	p->t0 = clock_mono();
	if ((qm = strchr(uri, '?')) != NULL)
		qm[1] = '\0';
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

/* On a pool thread: the check is done, the request goes on. */
static void
check_done(void *cls)
{
	MHD_resume_connection(cls);
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct api_server *srv = cls;
	struct pending *p = *con_cls;
	struct api_req q = {.method = method};
	struct api_resp r = {.status = 500};
	struct headers h = {0};
	char peer[INET6_ADDRSTRLEN];

	(void)url;
	(void)version;
	if (!p->started) {
		/* The headers are in: now the deadline is for the whole request. */
		p->started = true;
		set_deadline(srv, conn, srv->conf.request_timeout);
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
	if (p->check != NULL) {
		/* Resumed after the secret check. */
		api_token_finish(p->check, &r);
		api_check_free(p->check);
		p->check = NULL;
		set_deadline(srv, conn, 0);
		return respond(conn, p, method, &r);
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
	if (r.check != NULL) {
		p->check = r.check;
		p->check->done = check_done;
		p->check->cls = conn;
		set_deadline(srv, conn, 0);
		MHD_suspend_connection(conn);
		if (api_check_submit(p->check) != 0) {
			p->check->rc = API_CHECK_BUSY;
			MHD_resume_connection(conn);
		}
		return MHD_YES;
	}
	set_deadline(srv, conn, 0);
	return respond(conn, p, method, &r);
}

static void
done_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct api_server *srv = cls;
	struct pending *p = *con_cls;

	(void)t;
	/* Kept alive: the next request's headers have the header deadline. */
	set_deadline(srv, conn, srv->conf.header_timeout);
	if (p != NULL) {
		api_check_free(p->check);
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
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;

	srv->conf = *c;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->stop, NULL);
	if (api_checks_start(c->check_threads, c->check_queue, err) != 0)
		goto fail;
	if (c->sa->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (c->cert_pem != NULL)
		flags |= MHD_USE_TLS;
	srv->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, srv,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
				  MHD_OPTION_SOCK_ADDR, c->sa,
				  MHD_OPTION_THREAD_POOL_SIZE, c->threads,
				  MHD_OPTION_URI_LOG_CALLBACK, uri_cb, srv,
				  MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, srv,
				  MHD_OPTION_NOTIFY_COMPLETED, done_cb, srv,
				  MHD_OPTION_NOTIFY_CONNECTION, conn_cb, srv,
				  MHD_OPTION_CONNECTION_TIMEOUT, c->idle_timeout,
				  MHD_OPTION_CONNECTION_LIMIT, c->max_connections,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->per_ip_limit,
				  /* Room to read targets and headers far past the core's limits,
				   * so that it is the core that answers 414 and 431, in JSON. */
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(512 * 1024),
				  MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
				  c->cert_pem ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END,
				  TLS_PRIORITIES,
				  MHD_OPTION_HTTPS_MEM_CERT, c->cert_pem,
				  MHD_OPTION_HTTPS_MEM_KEY, c->key_pem, MHD_OPTION_END);
	if (srv->d == NULL) {
		err_set(err, "%s", errno ? strerror(errno) : "libmicrohttpd cannot start");
		goto fail;
	}
	if (pthread_create(&srv->reaper, NULL, reaper, srv) != 0) {
		MHD_stop_daemon(srv->d);
		err_set(err, "cannot start a thread");
		goto fail;
	}
	return srv;
fail:
	free(srv);
	return NULL;
}

void
api_server_stop(struct api_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	pthread_cond_signal(&srv->stop);
	pthread_mutex_unlock(&srv->lock);
	pthread_join(srv->reaper, NULL);
	/* libmicrohttpd aborts if stopped with a connection suspended: let every
	 * check finish and resume its request first. */
	MHD_quiesce_daemon(srv->d);
	api_checks_drain();
	MHD_stop_daemon(srv->d);
	free(srv);
}
