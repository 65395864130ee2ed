/*
 * tabbyd's /metrics (--metrics ADDR:PORT): the Prometheus text format over
 * HTTP/1.x, served on the agent's event loop.
 *
 * A scrape never blocks the BGP loop: the listener and every client socket are
 * non-blocking and watched by libev like the BGP sockets. A client's request is
 * read as it comes (at most REQ_MAX bytes), the answer is rendered in one go
 * into a buffer (O(sessions): every figure is a counter or a count kept as it
 * changes, no table is walked) and written as the socket takes it. A client
 * that neither finishes its request nor reads its answer is dropped after
 * IDLE_TIMEOUT; at most CLIENTS_MAX are served at once (a newcomer beyond that
 * is closed at once).
 *
 * Why a hand-written GET-only responder rather than libmicrohttpd (which
 * tabby-api uses): MHD's own threads would read the agent's sessions and RIB
 * from another thread, and its external-select mode asks for every descriptor
 * to be re-registered with the loop after each call; serving one path with
 * one method takes less code than that glue and keeps everything on the loop.
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/sock.h"
#include "agent/store_writer.h"
#include "lib/log.h"
#include "lib/prom.h"

#define CLIENTS_MAX 16
#define REQ_MAX 4096
#define IDLE_TIMEOUT 10.0 /* seconds */

struct mclient {
	struct metrics *m;
	int fd;
	ev_io io;
	ev_timer idle;
	char req[REQ_MAX + 1];
	size_t reqlen;
	char *out;
	size_t outlen, outoff;
	struct mclient *next;
};

struct metrics {
	struct agent *ag;
	int fd;
	ev_io io;
	struct mclient *clients;
	size_t nclients;
};

/* Short label values for the peer types (what `tabbyctl status` shows, as one word). */
static const char *const type_label[] = {[PEER_NODE] = "node",
					 [PEER_GLOBAL] = "global",
					 [PEER_MESH] = "mesh",
					 [PEER_CONNECTION] = "connection"};

static const char *const state_label[] = {"idle",     "connect",     "active",
					  "opensent", "openconfirm", "established"};

/* A session's labels: peer and type, and the virtual device for a tenant's session
 * (tenants of different devices may peer with the same address). */
static void
session_labels(const struct session *s, char *peer, struct prom_labels *l)
{
	addr_format(&s->spec.remote, peer);
	*l = (struct prom_labels){{"peer", "type"}, {peer, type_label[s->spec.type]}, 2};
	if (s->dev != NULL) {
		l->name[l->n] = "device";
		l->value[l->n++] = s->dev->uuid;
	}
}

static void
render_sessions(struct prom *p, struct agent *ag)
{
	static const struct {
		const char *name, *help;
		enum prom_type type;
		size_t off;
	} per[] = {
#define C(f) offsetof(struct session_counters, f)
	    {"tabby_bgp_session_prefixes_received", "Prefixes in the peer's Adj-RIB-In.",
	     PROM_GAUGE, C(prefixes_received)},
	    {"tabby_bgp_session_prefixes_accepted",
	     "The peer's prefixes in the Loc-RIB (past the import policy, AS loop check and "
	     "limit).",
	     PROM_GAUGE, C(prefixes_accepted)},
	    {"tabby_bgp_session_prefixes_sent",
	     "Prefixes the peer is sent (its Adj-RIB-Out, with those staged to go).", PROM_GAUGE,
	     C(prefixes_sent)},
	    {"tabby_bgp_session_messages_received_total", "BGP messages received.", PROM_COUNTER,
	     C(msgs_in)},
	    {"tabby_bgp_session_messages_sent_total", "BGP messages sent.", PROM_COUNTER,
	     C(msgs_out)},
	    {"tabby_bgp_session_updates_received_total", "UPDATE messages received.", PROM_COUNTER,
	     C(updates_in)},
	    {"tabby_bgp_session_updates_sent_total", "UPDATE messages sent.", PROM_COUNTER,
	     C(updates_out)},
	    {"tabby_bgp_session_fsm_transitions_total", "Changes of the session's FSM state.",
	     PROM_COUNTER, C(fsm_transitions)},
	    {"tabby_bgp_session_established_total", "Times the session reached Established.",
	     PROM_COUNTER, C(established_transitions)},
#undef C
	};
	char peer[ADDR_STRLEN], code[4];
	time_t now = time(NULL);
	struct session *s;

	prom_family(p, "tabby_bgp_session_up", PROM_GAUGE,
		    "1 if the BGP session is Established, else 0.");
	for (s = ag->sessions; s; s = s->next) {
		struct prom_labels l;

		session_labels(s, peer, &l);
		prom_sample(p, "tabby_bgp_session_up", &l, s->state == FSM_ESTABLISHED);
	}
	prom_family(p, "tabby_bgp_session_state", PROM_GAUGE,
		    "The session's FSM state (RFC 4271 section 8): 1 for the current one.");
	for (s = ag->sessions; s; s = s->next) {
		struct prom_labels l;
		int k;

		session_labels(s, peer, &l);
		k = l.n++;
		l.name[k] = "state";
		for (int st = FSM_IDLE; st <= FSM_ESTABLISHED; st++) {
			l.value[k] = state_label[st];
			prom_sample(p, "tabby_bgp_session_state", &l,
				    s->state == (enum fsm_state)st);
		}
	}
	prom_family(p, "tabby_bgp_session_uptime_seconds", PROM_GAUGE,
		    "Seconds since the session was Established; 0 while it is not.");
	for (s = ag->sessions; s; s = s->next) {
		struct prom_labels l;

		session_labels(s, peer, &l);
		prom_sample(p, "tabby_bgp_session_uptime_seconds", &l,
			    s->state == FSM_ESTABLISHED && now > s->since ? (double)(now - s->since)
									  : 0);
	}
	prom_family(p, "tabby_bgp_session_stale_routes", PROM_GAUGE,
		    "Routes of a restarting peer kept, marked stale (graceful restart, RFC 4724).");
	for (s = ag->sessions; s; s = s->next) {
		struct prom_labels l;

		session_labels(s, peer, &l);
		prom_sample(p, "tabby_bgp_session_stale_routes", &l, (double)routes_stale_count(s));
	}
	for (size_t i = 0; i < sizeof(per) / sizeof(per[0]); i++) {
		prom_family(p, per[i].name, per[i].type, per[i].help);
		for (s = ag->sessions; s; s = s->next) {
			struct prom_labels l;

			session_labels(s, peer, &l);
			prom_sample_u64(p, per[i].name, &l,
					*(const uint64_t *)((const char *)&s->n + per[i].off));
		}
	}
	for (int dir = 0; dir < 2; dir++) {
		const char *name = dir ? "tabby_bgp_session_notifications_sent_total"
				       : "tabby_bgp_session_notifications_received_total";

		prom_family(
		    p, name, PROM_COUNTER,
		    dir ? "NOTIFICATION messages sent, by error code (0: a code above 7)."
			: "NOTIFICATION messages received, by error code (0: a code above 7).");
		for (s = ag->sessions; s; s = s->next) {
			const uint64_t *v = dir ? s->n.notifs_out_code : s->n.notifs_in_code;
			struct prom_labels l;

			session_labels(s, peer, &l);
			l.name[l.n] = "code";
			l.value[l.n++] = code;
			for (int k = 0; k < NOTIF_CODE_SLOTS; k++) {
				snprintf(code, sizeof(code), "%d", k);
				prom_sample_u64(p, name, &l, v[k]);
			}
		}
	}
}

static void
render_store(struct prom *p, struct agent *ag)
{
	struct swr_stats w = {0};
	struct store_feed_stats f = {0};
	bool down;

	if (ag->writer != NULL)
		swr_get_stats(ag->writer, &w);
	if (ag->feed != NULL)
		store_feed_stats(ag->feed, &f);
	down = w.failing || f.failing || backoff_failing(&ag->reconcile_retry);
	prom_family(p, "tabby_datastore_up", PROM_GAUGE,
		    "1 if the datastore answered the last status write and the last watch read.");
	prom_sample(p, "tabby_datastore_up", NULL, !down);
	prom_family(p, "tabby_datastore_write_duration_seconds", PROM_HISTOGRAM,
		    "Time of each status write, lease grant and renewal of the writer thread.");
	prom_hist_write(p, "tabby_datastore_write_duration_seconds", NULL, &w.latency,
			prom_latency_bounds, prom_latency_nbounds);
	prom_single(p, "tabby_datastore_write_errors_total", PROM_COUNTER,
		    "Status writes, lease grants and renewals that failed.", w.errors);
	prom_single(p, "tabby_datastore_watch_errors_total", PROM_COUNTER,
		    "Reads of the datastore's watch (and re-reads after a compaction) that failed.",
		    f.errors);
	prom_single(p, "tabby_datastore_pending_writes", PROM_GAUGE,
		    "Status keys waiting for the writer thread.", w.pending);
}

/* The node's kernel table and every device's, those removed included. */
static void
render_fib(struct prom *p, struct agent *ag)
{
	struct fib_stats f = ag->fib_gone, one;
	size_t pending = ag->fib ? fib_pending(ag->fib) : 0;

	if (ag->fib != NULL) {
		fib_get_stats(ag->fib, &one);
		fib_stats_add(&f, &one);
	}
	for (struct device *d = ag->devices; d != NULL; d = d->next)
		if (d->fib != NULL) {
			fib_get_stats(d->fib, &one);
			fib_stats_add(&f, &one);
			pending += fib_pending(d->fib);
		}
	prom_single(p, "tabby_kernel_route_operations_total", PROM_COUNTER,
		    "Kernel route changes sent over rtnetlink.", f.requests);
	prom_single(p, "tabby_kernel_route_failures_total", PROM_COUNTER,
		    "Kernel route changes the kernel refused.", f.failed);
	prom_single(p, "tabby_kernel_route_batches_total", PROM_COUNTER,
		    "rtnetlink messages that carried the route changes.", f.batches);
	prom_single(p, "tabby_kernel_route_acks_lost_total", PROM_COUNTER,
		    "Route changes of unknown outcome (the kernel's refusal reports overflowed).",
		    f.acks_lost);
	prom_single(p, "tabby_kernel_routes_pending", PROM_GAUGE,
		    "Route changes queued and not yet applied by the kernel.", pending);
	prom_single(p, "tabby_kernel_routes_pending_max", PROM_GAUGE,
		    "The most route changes queued at once for one kernel table since the start.",
		    f.pending_max);
	prom_single(p, "tabby_kernel_route_holds_total", PROM_COUNTER,
		    "Times reading routes from peers paused for the kernel to catch up.", f.holds);
}

char *
metrics_render(struct agent *ag, size_t *len)
{
	struct prom_labels info = {
	    {"version", "commit", "node"}, {TABBY_VERSION, TABBY_GIT_COMMIT, ag->cfg.node}, 3};
	uint64_t adj_in = 0, nsessions = 0;
	struct prom p;

	prom_init(&p);
	prom_family(&p, "tabby_build_info", PROM_GAUGE, "tabbyd's version; always 1.");
	prom_sample(&p, "tabby_build_info", &info, 1);
	prom_family(&p, "tabby_start_time_seconds", PROM_GAUGE,
		    "When tabbyd started, in seconds since the epoch.");
	prom_sample(&p, "tabby_start_time_seconds", NULL, (double)ag->started);
	for (struct session *s = ag->sessions; s; s = s->next) {
		adj_in += s->n.prefixes_received;
		nsessions++;
	}
	prom_single(&p, "tabby_bgp_sessions", PROM_GAUGE, "BGP sessions configured on the node.",
		    nsessions);
	render_sessions(&p, ag);
	prom_single(&p, "tabby_rib_prefixes", PROM_GAUGE, "Destinations in the Loc-RIB.",
		    ag->loc ? loc_rib_count(ag->loc) : 0);
	prom_single(&p, "tabby_rib_adj_in_routes", PROM_GAUGE,
		    "Routes in every peer's Adj-RIB-In together.", adj_in);
	prom_single(&p, "tabby_rib_attribute_sets", PROM_GAUGE,
		    "Distinct path attribute sets held (interned).", rib_attr_count(ag->rib));
	render_store(&p, ag);
	render_fib(&p, ag);
	*len = p.len;
	return p.buf;
}

static void
client_close(struct mclient *c)
{
	struct metrics *m = c->m;

	ev_io_stop(m->ag->loop, &c->io);
	ev_timer_stop(m->ag->loop, &c->idle);
	close(c->fd);
	for (struct mclient **pp = &m->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	m->nclients--;
	free(c->out);
	free(c);
}

/* Queues the answer and turns the client from reading to writing. */
static void
respond(struct mclient *c, const char *status, const char *type, char *body, size_t len, bool head)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	if (head)
		len = 0;
	c->out = xmalloc((size_t)n + len);
	memcpy(c->out, hdr, (size_t)n);
	if (len)
		memcpy(c->out + n, body, len);
	c->outlen = (size_t)n + len;
	c->outoff = 0;
	ev_io_stop(c->m->ag->loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(c->m->ag->loop, &c->io);
}

static void
respond_text(struct mclient *c, const char *status, const char *text)
{
	respond(c, status, "text/plain; charset=utf-8", (char *)text, strlen(text), false);
}

/* The request line is in: GET (or HEAD) /metrics, anything else is refused. */
static void
handle_request(struct mclient *c)
{
	char *sp1 = strchr(c->req, ' '), *sp2, *q;
	bool head;

	if (sp1 == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		respond_text(c, "400 Bad Request", "expected an HTTP/1.x request line\n");
		return;
	}
	*sp1 = *sp2 = '\0';
	if ((q = strchr(sp1 + 1, '?')) != NULL)
		*q = '\0';
	head = strcmp(c->req, "HEAD") == 0;
	if (strcmp(c->req, "GET") != 0 && !head) {
		respond_text(c, "405 Method Not Allowed", "only GET and HEAD are served\n");
		return;
	}
	if (strcmp(sp1 + 1, "/metrics") != 0) {
		respond_text(c, "404 Not Found", "tabbyd serves /metrics only\n");
		return;
	}
	{
		size_t len;
		char *body = metrics_render(c->m->ag, &len);

		respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, len, head);
		free(body);
	}
}

static void
client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mclient *c = w->data;
	ssize_t n;

	(void)revents;
	ev_timer_again(loop, &c->idle);
	if (c->out != NULL) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (c->outoff += (size_t)n) == c->outlen)
			client_close(c);
		return;
	}
	n = recv(c->fd, c->req + c->reqlen, REQ_MAX - c->reqlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->reqlen += (size_t)n;
	c->req[c->reqlen] = '\0';
	/* The request line is all we need; the headers are read (and ignored) up to the end. */
	if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL) {
		c->req[strcspn(c->req, "\r\n")] = '\0';
		handle_request(c);
	} else if (c->reqlen == REQ_MAX) {
		respond_text(c, "431 Request Header Fields Too Large", "request over 4096 bytes\n");
	}
}

static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	client_close(w->data);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics *m = w->data;
	int fd;

	(void)revents;
	while ((fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct mclient *c;

		if (m->nclients >= CLIENTS_MAX) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->m = m;
		c->fd = fd;
		ev_io_init(&c->io, client_cb, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_init(&c->idle, idle_cb, 0., IDLE_TIMEOUT);
		c->idle.data = c;
		ev_timer_again(loop, &c->idle);
		c->next = m->clients;
		m->clients = c;
		m->nclients++;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
		log_warn("metrics: accept");
}

int
metrics_start(struct agent *ag, struct err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct metrics *m;
	char buf[ADDR_STRLEN];
	int fd, one = 1;

	if (!ag->cfg.has_metrics)
		return 0;
	addr_format(&ag->cfg.metrics_addr, buf);
	sl = sock_addr_to(&ag->cfg.metrics_addr, ag->cfg.metrics_port, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "--metrics: socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, CLIENTS_MAX) != 0) {
		err_set(err, "--metrics: cannot listen on %s port %u: %s", buf,
			ag->cfg.metrics_port, strerror(errno));
		close(fd);
		return -1;
	}
	m = xcalloc(1, sizeof(*m));
	m->ag = ag;
	m->fd = fd;
	ev_io_init(&m->io, accept_cb, fd, EV_READ);
	m->io.data = m;
	ev_io_start(ag->loop, &m->io);
	ag->metrics = m;
	log_info("metrics: serving /metrics on %s port %u", buf, ag->cfg.metrics_port);
	return 0;
}

void
metrics_stop(struct agent *ag)
{
	struct metrics *m = ag->metrics;

	if (m == NULL)
		return;
	while (m->clients)
		client_close(m->clients);
	ev_io_stop(ag->loop, &m->io);
	close(m->fd);
	free(m);
	ag->metrics = NULL;
}
