/*
 * Sessions: the shell around the pure FSM and codec. Sockets and timers live
 * here; every decision is the FSM's. A session has one connection, or two
 * while a collision (RFC 4271 §6.8) is being resolved.
 */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/sock.h"
#include "lib/log.h"
/* Inlined: the hash of a fixed-size key compiles to a few multiplications. */
#define XXH_INLINE_ALL
#include <xxhash.h>

/*
 * Reads go to one buffer all connections share (struct agent's rbuf). A
 * connection gets a buffer of its own only when a message is left incomplete:
 * RBUF_MIN, grown (x4) to RBUF_SIZE when less than a standard message's room is
 * left. A peer whose messages straddle reads is then read about 8 KB at a time:
 * that paces reading against the routes going out (64 KB reads let ten
 * sessions' tables pile up in the pending lists: IPv6 10x100000 peaked at 111
 * MB instead of 97). Writes go straight from the caller's bytes when nothing
 * waits (or, while the routes are corked, from the agent's cbuf: session_cork);
 * only what the socket refuses is kept, in a buffer from WBUF_MIN that doubles.
 * An idle session holds no buffer at all (with 1,000 sessions, 128 MB of address
 * space and ~8 MB resident less).
 */
#define RBUF_SIZE (BGP_EXT_MAX_LEN + BGP_HEADER_LEN)
#define RBUF_MIN 8192
#define WBUF_MIN 4096

/* The next size of a connection's own read buffer. */
static size_t
rbuf_grown(size_t cap)
{
	return cap * 4 < RBUF_SIZE ? cap * 4 : RBUF_SIZE;
}
/*
 * Encoded bytes a connection may hold before the routes wait for the socket:
 * a slow peer costs this much plus one message, not its whole table. The
 * routes are asked for more once less than half of it waits.
 */
#define OUT_HIGH (64 * 1024)
#define OUT_LOW (OUT_HIGH / 2)
/* Corked output is sent once this much gathers: below OUT_HIGH, so room is the socket's to say. */
#define CORK_BYTES (OUT_HIGH / 4)
/* Less than CORK_BYTES gathered, and the largest message (RFC 8654). */
#define CBUF_SIZE (CORK_BYTES + BGP_EXT_MAX_LEN)
/* The default send hold time RFC 9687 suggests: the greater of 8 minutes and twice
 * the negotiated hold time. */
#define SEND_HOLD_MIN 480
/* RFC 4724 §4.2: once a restarting peer is back, how long its stale routes wait for
 * its End-of-RIB (FRR's stalepath-time). */
#define GR_STALE_TIME 360

static void conn_event(struct conn *c, const struct fsm_input *in);
static void conn_free(struct conn *c);
static struct conn *other_conn(struct conn *c);
static void conn_simple_event(struct conn *c, enum fsm_event ev, const struct bgp_notif *n);
static void session_down_routes(struct conn *c);
static void session_gr_timer(struct session *s, uint32_t seconds);
static void session_settle(struct session *s);

const char *
peer_type_name(enum peer_type t)
{
	switch (t) {
	case PEER_NODE: return "node specific";
	case PEER_GLOBAL: return "global";
	case PEER_MESH: return "node-to-node mesh";
	case PEER_CONNECTION: return "connection";
	}
	return "?";
}

static const char *
peer_str(const struct session *s)
{
	static char buf[ADDR_STRLEN + 32];
	size_t n;

	/* Two devices may have a peer at the same address: say whose. */
	addr_format(&s->spec.remote, buf);
	n = strlen(buf);
	if (s->dev != NULL)
		snprintf(buf + n, sizeof(buf) - n, " in %s", s->dev->ns);
	return buf;
}

static size_t
conn_pending(const struct conn *c)
{
	return c->wlen - c->woff;
}

static void
conn_close_fd(struct conn *c)
{
	struct ev_loop *loop = c->s->ag->loop;

	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->send_hold);
	c->want_write = false;
	c->held = false;
	c->held_since = 0;
	/* Ended with a NOTIFICATION that went out whole: closed once the peer closes. */
	if (c->fd >= 0 && c->notified && conn_pending(c) == 0)
		linger_start(c->s->ag, c->fd, c->s->dev, &c->s->spec.remote);
	else if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->notified = false;
	c->rlen = c->woff = c->wlen = 0;
	if (c->s->ag->corked == c) {
		/* Gathered for a connection that is gone: dropped with what waited in wbuf. */
		c->s->ag->corked = NULL;
		c->s->ag->clen = 0;
	}
	c->connecting = false;
	c->have_open = false;
	c->max_len = BGP_MAX_LEN;
}

static void
conn_attach(struct conn *c, int fd, bool outgoing)
{
	c->fd = fd;
	c->outgoing = outgoing;
	ev_io_set(&c->rio, fd, EV_READ);
	ev_io_set(&c->wio, fd, EV_WRITE);
	ev_io_start(c->s->ag->loop, &c->rio);
}

static ev_tstamp
send_hold_time(const struct conn *c)
{
	uint32_t t = c->s->ag->cfg.send_hold_time, twice = 2u * c->fsm.hold;

	if (t == 0)
		t = twice > SEND_HOLD_MIN ? twice : SEND_HOLD_MIN;
	return (ev_tstamp)t;
}

/* Writes what the socket takes; what waits is sent from an offset, never moved per send. */
static void
conn_flush(struct conn *c)
{
	struct ev_loop *loop = c->s->ag->loop;
	bool progress = false;

	while (c->fd >= 0 && conn_pending(c) > 0) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, conn_pending(c), MSG_NOSIGNAL);

		if (n > 0) {
			c->woff += (size_t)n;
			progress = true;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			/* A slow peer: wait for room, never block the loop. */
			ev_io_start(loop, &c->wio);
			/* RFC 9687: the send hold timer restarts whenever the peer takes
			 * data, and runs while nothing it is owed gets through. */
			if (progress || !ev_is_active(&c->send_hold)) {
				c->send_hold.repeat = send_hold_time(c);
				ev_timer_again(loop, &c->send_hold);
			}
			return;
		}
		/* The connection is broken; the read side reports it to the FSM. */
		log_debug("peer %s: send: %s", peer_str(c->s), strerror(errno));
		break;
	}
	c->woff = c->wlen = 0;
	ev_timer_stop(loop, &c->send_hold);
	/* Still watched when the routes asked to produce more once writable. */
	if (!c->connecting && !c->want_write)
		ev_io_stop(loop, &c->wio);
}

/* Sends buf, keeping in wbuf what the socket refuses, after what already waits there. */
static void
conn_write(struct conn *c, const uint8_t *buf, size_t len)
{
	if (conn_pending(c) == 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			log_debug("peer %s: send: %s", peer_str(c->s), strerror(errno));
			len = 0;  /* broken: the read side reports it to the FSM */
		}
		if (len == 0) {
			conn_flush(c);  /* nothing waits: stops what waited for room */
			return;
		}
	}
	if (c->wcap - c->wlen < len && c->woff > 0) {
		/* Compaction moves at most what waits, which pull keeps near OUT_HIGH. */
		memmove(c->wbuf, c->wbuf + c->woff, conn_pending(c));
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (c->wcap - c->wlen < len) {
		size_t want = c->wlen + len;

		c->wcap = c->wcap < WBUF_MIN ? WBUF_MIN : 2 * c->wcap;
		if (c->wcap < want)
			c->wcap = want;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	conn_flush(c);
}

/* What gathered in the agent's cork buffer goes out (to wbuf if the socket refuses it). */
static void
cork_flush(struct agent *ag)
{
	size_t n = ag->clen;

	ag->clen = 0;
	/* A closed connection is never corked (conn_close_fd). */
	if (n > 0 && ag->corked != NULL)
		conn_write(ag->corked, ag->cbuf, n);
}

static void
conn_send_bytes(struct conn *c, const uint8_t *buf, size_t len)
{
	struct agent *ag = c->s->ag;

	if (c->fd < 0)
		return;
	c->s->n.msgs_out++;
	/*
	 * Corked and nothing refused waits (else it goes after that, in order). The
	 * buffer is flushed once it holds CORK_BYTES, so a message always fits.
	 */
	if (ag->corked == c && conn_pending(c) == 0) {
		memcpy(ag->cbuf + ag->clen, buf, len);
		ag->clen += len;
		if (ag->clen >= CORK_BYTES)
			cork_flush(ag);
		return;
	}
	conn_write(c, buf, len);
}

static void
conn_send(struct conn *c, const struct wr *w)
{
	if (!w->overflow)
		conn_send_bytes(c, w->buf, w->len);
}

void
session_send(struct session *s, const uint8_t *buf, size_t len)
{
	struct conn *c = s->conn[0];

	if (c != NULL && c->fsm.state == FSM_ESTABLISHED)
		conn_send_bytes(c, buf, len);
}

void
session_cork(struct session *s)
{
	struct agent *ag = s->ag;
	struct conn *c = s->conn[0];

	if (ag->corked != NULL)
		session_uncork(ag->corked->s);
	if (c == NULL || c->fsm.state != FSM_ESTABLISHED)
		return;
	if (ag->cbuf == NULL)
		ag->cbuf = xmalloc(CBUF_SIZE);
	ag->corked = c;
}

void
session_uncork(struct session *s)
{
	struct agent *ag = s->ag;

	if (ag->corked == NULL || ag->corked->s != s)
		return;
	cork_flush(ag);
	ag->corked = NULL;
}

bool
session_out_room(const struct session *s)
{
	const struct conn *c = s->conn[0];

	return c != NULL && c->fd >= 0 && c->fsm.state == FSM_ESTABLISHED &&
	       conn_pending(c) < OUT_HIGH;
}

void
session_want_write(struct session *s)
{
	struct conn *c = s->conn[0];

	if (c != NULL && c->fd >= 0) {
		c->want_write = true;
		ev_io_start(s->ag->loop, &c->wio);
	}
}

size_t
session_max_len(const struct session *s)
{
	return s->conn[0] != NULL ? s->conn[0]->max_len : BGP_MAX_LEN;
}

static void
send_open(struct conn *c)
{
	struct session *s = c->s;
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_open o;
	bool v4 = addr_is_v4(&s->spec.remote);

	/* An IPv4 session carries IPv4 unicast, an IPv6 session IPv6 unicast. */
	bgp_open_ours(&o, s->spec.local_as, s->ag->cfg.hold_time, s->ag->cfg.router_id, v4, !v4);
	/* RFC 4724 §3: the Restart State bit while our restart defers route selection. */
	if (s->ag->cfg.graceful_restart) {
		bgp_gr_ours(&o, v4 ? BGP_AFI_IPV4 : BGP_AFI_IPV6, s->spec.restart_time,
			    routes_restarting(s));
		/* RFC 9494: we help peers that ask for long-lived stale routes. */
		bgp_llgr_ours(&o, v4 ? BGP_AFI_IPV4 : BGP_AFI_IPV6, 0);
	}
	c->our_open = o;
	bgp_open_encode(&w, &o);
	conn_send(c, &w);
}

static void
send_simple(struct conn *c, void (*encode)(struct wr *w))
{
	uint8_t buf[64];
	struct wr w = wr_init(buf, sizeof(buf));

	encode(&w);
	conn_send(c, &w);
}

static void
send_notif(struct conn *c, const struct bgp_notif *given)
{
	static uint8_t buf[BGP_MAX_LEN];
	static struct bgp_notif hard;
	struct wr w = wr_init(buf, sizeof(buf));
	char name[BGP_GR_NAME_MAX];
	const struct bgp_notif *n = given;

	if (c->quiet) {
		/* RFC 4724: the peer sees the TCP session end and keeps our routes. */
		log_info("peer %s: closing without a NOTIFICATION for a graceful restart",
			 peer_str(c->s));
		return;
	}
	/* RFC 8538 §5: with the N bit, a Cease that ends the session for good goes out
	 * as a Hard Reset, or the peer would keep our routes as for a restart. */
	if (c->have_open && bgp_gr_notification(&c->our_open, &c->peer_open) &&
	    bgp_gr_needs_hard_reset(given)) {
		hard = *given;
		bgp_gr_hard_reset(&hard);
		n = &hard;
	}
	c->down_how = BGP_GR_DOWN_NOTIF_SENT;
	c->down_code = given->code;
	c->down_subcode = given->subcode;
	log_warnx("peer %s: sending NOTIFICATION %u/%u (%s)", peer_str(c->s), n->code, n->subcode,
		  bgp_gr_notif_name(n, name, sizeof(name)));
	bgp_notif_encode(&w, n);
	c->s->n.notifs_out++;
	c->s->n.notifs_out_code[NOTIF_SLOT(n->code)]++;
	conn_send(c, &w);
	c->notified = c->fd >= 0;
}

/* Starts our connection attempt; an immediate outcome comes back as an event. */
static enum fsm_event
conn_connect(struct conn *c, char *why, size_t whylen)
{
	struct session *s = c->s;
	struct err err;
	int done, fd;

	if (c->fd >= 0)
		conn_close_fd(c);
	/* A device's session connects from inside the device's namespace. */
	if (s->dev != NULL && device_enter(s->ag, s->dev, &err) != 0) {
		snprintf(why, whylen, "%s", err.msg);
		return FSM_EV_TCP_FAILS;
	}
	/* sourceAddress: None leaves the source address to the kernel's route. */
	fd = sock_connect(s->spec.no_source_address ? NULL : &s->spec.local, &s->spec.remote,
			  s->spec.remote_port, s->spec.password, s->spec.ttl_security, &done, &err);
	if (s->dev != NULL)
		device_leave(s->ag);
	if (fd < 0) {
		snprintf(why, whylen, "%s", err.msg);
		return FSM_EV_TCP_FAILS;
	}
	conn_attach(c, fd, true);
	if (done)
		return FSM_EV_TCP_CR_ACKED;
	c->connecting = true;
	ev_io_start(s->ag->loop, &c->wio);
	return 0;
}

/*
 * RFC 4271 §10: the ConnectRetry and Keepalive timers run for a random 75-100 % of their
 * time. Sessions started together (10,000 peers configured at once) otherwise retry and
 * send KEEPALIVEs in step: a burst of 10,000 connects every 5 s that a configuration
 * change arriving then waits behind.
 */
static ev_tstamp
jittered(enum fsm_timer t, uint32_t seconds)
{
	if (t != FSM_TIMER_CONNECT_RETRY && t != FSM_TIMER_KEEPALIVE)
		return (ev_tstamp)seconds;
	return seconds * (0.75 + 0.25 * randombytes_uniform(1001) / 1000.);
}

/*
 * c carries the session from now on, and the other connection goes: c won a
 * collision, or reached Established (§6.8). The peer's may get there while ours
 * has failed back to Connect or Active, with no OPEN left to settle a collision:
 * it must not stay the second one, unused (no routes either way, ours retrying
 * beside it).
 */
static void
conn_takes_session(struct conn *c)
{
	struct session *s = c->s;
	struct conn *other = other_conn(c);

	if (other != NULL) {
		if (other->fsm.state == FSM_OPENSENT || other->fsm.state == FSM_OPENCONFIRM)
			conn_simple_event(other, FSM_EV_OPEN_COLLISION_DUMP, NULL);
		conn_free(other);
	}
	s->conn[0] = c;
	s->conn[1] = NULL;
	c->fsm.cfg.passive = false;
	c->fsm.auto_restart = true;
}

static void
conn_apply(struct conn *c, const struct fsm_actions *a)
{
	struct session *s = c->s;
	struct ev_loop *loop = s->ag->loop;
	enum fsm_event follow = 0;
	char why[ERR_MSG_MAX] = "";

	for (int i = 0; i < a->n; i++) {
		const struct fsm_action *x = &a->v[i];
		ev_timer *t = &c->timers[x->timer];

		switch (x->type) {
		case FSM_ACT_CONNECT:
			follow = conn_connect(c, why, sizeof(why));
			break;
		case FSM_ACT_CLOSE:
			conn_close_fd(c);
			break;
		case FSM_ACT_SEND_OPEN:
			send_open(c);
			break;
		case FSM_ACT_SEND_KEEPALIVE:
			send_simple(c, bgp_keepalive_encode);
			break;
		case FSM_ACT_SEND_NOTIFICATION:
			send_notif(c, x->notif);
			break;
		case FSM_ACT_TIMER_START:
			ev_timer_stop(loop, t);
			ev_timer_set(t, jittered(x->timer, x->seconds), 0.);
			ev_timer_start(loop, t);
			break;
		case FSM_ACT_TIMER_STOP:
			ev_timer_stop(loop, t);
			break;
		case FSM_ACT_SESSION_UP:
			conn_takes_session(c);
			s->n.established_transitions++;
			c->down_how = BGP_GR_DOWN_TCP;
			s->have_gr = true;
			s->ours_gr = c->our_open;
			s->peer_gr = c->peer_open;
			routes_session_up(s);
			/* RFC 4724 §4.2: the stale routes wait for its End-of-RIB. */
			if (s->stale != NULL)
				session_gr_timer(s, GR_STALE_TIME);
			log_info("peer %s: session established (AS %u, hold %us)", peer_str(s),
				 s->spec.remote_as, c->fsm.hold);
			break;
		case FSM_ACT_SESSION_DOWN:
			log_info("peer %s: session down: %s", peer_str(s), c->fsm.last_error);
			/* The peer's routes go with the session, unless it restarts. */
			session_down_routes(c);
			adj_in_free(s->adj_in, s->ag->rib);
			s->adj_in = NULL;
			s->eor_received = false;
			s->n.prefixes_received = 0;
			break;
		}
	}
	if (follow != 0) {
		struct fsm_input in = {.ev = follow, .socket_error = why};

		conn_event(c, &in);
	}
}

static void
session_gr_timer(struct session *s, uint32_t seconds)
{
	ev_timer_stop(s->ag->loop, &s->gr_timer);
	ev_timer_set(&s->gr_timer, (ev_tstamp)seconds, 0.);
	ev_timer_start(s->ag->loop, &s->gr_timer);
}

/*
 * The session went down: the peer restarts (its routes stay, stale, for its
 * restart time; RFC 4724 §4.2, RFC 8538 §4), or its routes go now.
 */
static void
session_down_routes(struct conn *c)
{
	struct session *s = c->s;
	struct bgp_notif n;
	bool keep;
	uint16_t t = c->peer_open.gr_restart_time;

	bgp_notif_set(&n, c->down_code, c->down_subcode, NULL, 0);
	keep = s->ag->cfg.graceful_restart && !s->ag->stopping &&
	       bgp_gr_keeps_routes(&c->our_open, &c->peer_open,
				   addr_is_v4(&s->spec.remote) ? BGP_AFI_IPV4 : BGP_AFI_IPV6,
				   c->down_how, &n);
	routes_session_down(s, keep);
	if (!keep)
		return;
	s->gr_since = time(NULL);
	log_info("peer %s: graceful restart: keeping its %zu routes, stale, for up to %us",
		 peer_str(s), routes_stale_count(s), t);
	ev_timer_stop(s->ag->loop, &s->gr_timer);
	if (t == 0) {
		uint32_t llst = routes_llgr_begin(s);

		if (llst == 0)
			routes_stale_drop(s, "restart time 0");
		else
			session_gr_timer(s, llst);
		return;
	}
	session_gr_timer(s, t);
}

static void
conn_event(struct conn *c, const struct fsm_input *in)
{
	struct fsm_actions acts;
	enum fsm_state before = c->fsm.state;

	acts.n = 0;  /* alone: its 4 KB NOTIFICATION is set only when one is sent */
	fsm_run(&c->fsm, in, &acts);
	if (before != c->fsm.state)
		log_debug("peer %s: %s --%s--> %s", peer_str(c->s), fsm_state_name(before),
			  fsm_event_name(in->ev), fsm_state_name(c->fsm.state));
	conn_apply(c, &acts);
}

static void
conn_simple_event(struct conn *c, enum fsm_event ev, const struct bgp_notif *n)
{
	struct fsm_input in = {.ev = ev, .notif = n};

	conn_event(c, &in);
}

static struct conn *
other_conn(struct conn *c)
{
	struct session *s = c->s;

	return s->conn[0] == c ? s->conn[1] : s->conn[0];
}

static void
handle_open(struct conn *c, const uint8_t *body, size_t len)
{
	struct session *s = c->s;
	struct bgp_open o;
	struct bgp_notif err;
	struct conn *other;
	struct fsm_input in = {.ev = FSM_EV_OPEN};

	if (bgp_open_decode(body, len, &o, &err) != 0 ||
	    bgp_open_check(&o, s->spec.remote_as, s->spec.local_as, s->ag->cfg.router_id, &err) !=
		    0) {
		if (err.code == BGP_ERR_OPEN && err.subcode == BGP_OPEN_BAD_PEER_AS)
			log_warnx("peer %s: OPEN says AS %u, configured AS is %u", peer_str(s),
				  bgp_open_peer_as(&o), s->spec.remote_as);
		conn_simple_event(c, FSM_EV_OPEN_ERR, &err);
		return;
	}
	c->peer_open = o;
	c->have_open = true;
	/* RFC 8654: larger messages once both sides have announced them (we always do). */
	c->max_len = o.ext_message ? BGP_EXT_MAX_LEN : BGP_MAX_LEN;
	/* §6.8: the identifier just learned settles a collision with the other connection. */
	other = other_conn(c);
	if (other != NULL && !other->dead &&
	    (other->fsm.state == FSM_OPENSENT || other->fsm.state == FSM_OPENCONFIRM)) {
		if (fsm_collision_keep_new(s->ag->cfg.router_id, o.bgp_id, other->outgoing)) {
			log_info("peer %s: connection collision, keeping the %s connection",
				 peer_str(s), c->outgoing ? "outgoing" : "incoming");
			conn_simple_event(other, FSM_EV_OPEN_COLLISION_DUMP, NULL);
			other->dead = true;
		} else {
			log_info("peer %s: connection collision, keeping the %s connection",
				 peer_str(s), other->outgoing ? "outgoing" : "incoming");
			conn_simple_event(c, FSM_EV_OPEN_COLLISION_DUMP, NULL);
			c->dead = true;
			return;
		}
	}
	in.peer_hold_time = o.hold_time;
	conn_event(c, &in);
}

/* After the limit was passed: Idle this long, doubling while the peer keeps at it. */
#define MAX_PREFIXES_HOLD_MIN 10
#define MAX_PREFIXES_HOLD_MAX 300
#define MAX_PREFIXES_FORGET (2 * MAX_PREFIXES_HOLD_MAX)  /* quiet this long: start over */

static bool
over_limit(const struct session *s)
{
	return s->spec.max_prefixes != 0 && s->adj_in != NULL &&
	       adj_in_count(s->adj_in) > s->spec.max_prefixes;
}

/*
 * The one check of a session's prefix limit (every peer kind): past it, the
 * session closes with Cease/1 and the data of RFC 4486 §4 (AFI, SAFI, the
 * limit), stays Idle for a back-off that grows while the peer keeps sending too
 * many, then tries again. True if it closed the session.
 */
static bool
max_prefixes_check(struct conn *c)
{
	struct session *s = c->s;
	uint8_t data[7];
	struct wr w = wr_init(data, sizeof(data));
	struct bgp_notif notif;
	char why[128];
	struct fsm_input in = {.ev = FSM_EV_AUTOMATIC_STOP, .notif = &notif, .why = why};
	time_t now = time(NULL);
	size_t n;

	if (c->fsm.state != FSM_ESTABLISHED || !over_limit(s))
		return false;
	n = adj_in_count(s->adj_in);
	if (s->max_prefixes_hold == 0 || now - s->max_prefixes_last > MAX_PREFIXES_FORGET)
		s->max_prefixes_hold = MAX_PREFIXES_HOLD_MIN;
	else if (s->max_prefixes_hold < MAX_PREFIXES_HOLD_MAX / 2)
		s->max_prefixes_hold *= 2;
	else
		s->max_prefixes_hold = MAX_PREFIXES_HOLD_MAX;
	s->max_prefixes_last = now;
	wr_u16(&w, addr_is_v4(&s->spec.remote) ? BGP_AFI_IPV4 : BGP_AFI_IPV6);
	wr_u8(&w, BGP_SAFI_UNICAST);
	wr_u32(&w, s->spec.max_prefixes);
	bgp_notif_set(&notif, BGP_ERR_CEASE, BGP_CEASE_MAX_PREFIXES, data, w.len);
	snprintf(why, sizeof(why), "limit %u, received %zu; next try in %us", s->spec.max_prefixes,
		 n, s->max_prefixes_hold);
	log_warnx("peer %s: %zu prefixes received, more than its limit of %u: closing "
		  "(RFC 4486), next try in %us", peer_str(s), n, s->spec.max_prefixes,
		  s->max_prefixes_hold);
	in.idle_hold = s->max_prefixes_hold;
	conn_event(c, &in);
	return true;
}

void
session_set_max_prefixes(struct session *s, uint32_t limit)
{
	s->spec.max_prefixes = limit;
	if (s->conn[0] != NULL && max_prefixes_check(s->conn[0]))
		session_settle(s);
}

/* Prefixes of an UPDATE whose destinations are loaded together before their lookups. */
#define UPDATE_PREFETCH 64

/* An UPDATE on an established session: judged (RFC 7606), then into the Adj-RIB-In. */
static void
handle_update(struct conn *c, const uint8_t *body, size_t len)
{
	struct session *s = c->s;
	struct rib *rib = s->ag->rib;
	struct bgp_update_ctx ctx = {
		.as4 = c->peer_open.has_as4,
		.ebgp = s->spec.local_as != s->spec.remote_as,
		.peer_as = s->spec.remote_as,
		.family = s->spec.remote.family,
		.local = s->spec.local,
	};
	struct bgp_update_decoded u;
	struct loc_rib *loc = s->dev != NULL ? s->dev->loc : s->ag->loc;
	struct routes_from from;
	const struct rib_dest *d;

	bgp_update_decode(body, len, &ctx, &u);
	for (int i = 0; i < u.nlog; i++)
		log_warnx("peer %s: UPDATE: %s", peer_str(s), u.log[i]);
	if (u.reset) {
		conn_simple_event(c, FSM_EV_UPDATE_ERR, &u.notif);
		bgp_update_free(&u);
		return;
	}
	if (s->adj_in == NULL)
		s->adj_in = adj_in_new(loc, s, RIB_ADJ_IN);
	routes_from(s, &from);
	/* The destinations of the message's prefixes load together (a large table is
	 * cache misses more than work). */
	loc_rib_prefetch(loc, u.withdraw.v, u.withdraw.n);
	for (size_t i = 0; i < u.withdraw.n; i++) {
		/* A stale route withdrawn goes at once (RFC 4724 §4.2). */
		bool was_stale = routes_unstale(s, &u.withdraw.v[i]);

		if (adj_in_set_dest(s->adj_in, rib, &u.withdraw.v[i], NULL, &d) || was_stale)
			routes_learn(s, &from, d, &u.withdraw.v[i], NULL);
	}
	if (u.announce.n > 0) {
		struct rib_attr *x = rib_attr_intern(rib, &u.attrs);

		routes_from_attr(s, &from, x);
		for (size_t i = 0; i < u.announce.n; i++) {
			if (i % UPDATE_PREFETCH == 0)
				loc_rib_prefetch(loc, u.announce.v + i,
						 u.announce.n - i < UPDATE_PREFETCH ? u.announce.n - i
										    : UPDATE_PREFETCH);
			/* Sent again: no longer stale (RFC 4724 §4.2). */
			routes_unstale(s, &u.announce.v[i]);
			if (!adj_in_set_dest(s->adj_in, rib, &u.announce.v[i], x, &d))
				continue;
			/* The prefix past the limit goes no further than the Adj-RIB-In. */
			if (over_limit(s))
				break;
			routes_learn(s, &from, d, &u.announce.v[i], x);
		}
		rib_attr_unref(rib, x);
	}
	if (max_prefixes_check(c)) {
		bgp_update_free(&u);
		return;
	}
	if (u.end_of_rib) {
		s->eor_received = true;
		log_info("peer %s: End-of-RIB, %zu prefixes", peer_str(s), adj_in_count(s->adj_in));
		routes_eor(s);
	}
	s->n.prefixes_received = adj_in_count(s->adj_in);
	if (u.end_of_rib)
		status_session(s);
	bgp_update_free(&u);
	conn_simple_event(c, FSM_EV_UPDATE_MSG, NULL);
}

static void
handle_message(struct conn *c, uint8_t type, const uint8_t *msg, size_t len)
{
	struct session *s = c->s;
	const uint8_t *body = msg + BGP_HEADER_LEN;
	size_t blen = len - BGP_HEADER_LEN;
	struct bgp_notif n;
	struct bgp_route_refresh rr = {0};
	char name[BGP_GR_NAME_MAX];

	s->n.msgs_in++;
	switch (type) {
	case BGP_OPEN:
		handle_open(c, body, blen);
		break;
	case BGP_KEEPALIVE:
		conn_simple_event(c, FSM_EV_KEEPALIVE_MSG, NULL);
		break;
	case BGP_UPDATE:
		s->n.updates_in++;
		if (c->fsm.state != FSM_ESTABLISHED) {
			conn_simple_event(c, FSM_EV_UPDATE_MSG, NULL);  /* an FSM error */
			break;
		}
		handle_update(c, body, blen);
		break;
	case BGP_NOTIFICATION:
		s->n.notifs_in++;
		bgp_notif_decode(body, blen, &n);
		s->n.notifs_in_code[NOTIF_SLOT(n.code)]++;
		c->down_how = BGP_GR_DOWN_NOTIF_RECEIVED;
		c->down_code = n.code;
		c->down_subcode = n.subcode;
		log_warnx("peer %s: received NOTIFICATION %u/%u (%s)", peer_str(s), n.code,
			  n.subcode, bgp_gr_notif_name(&n, name, sizeof(name)));
		/* §6.2: a version error from the peer is not counted as a failure. */
		conn_simple_event(c,
				  n.code == BGP_ERR_OPEN && n.subcode == BGP_OPEN_BAD_VERSION
					  ? FSM_EV_NOTIF_VERSION_ERR
					  : FSM_EV_NOTIF,
				  &n);
		break;
	case BGP_ROUTE_REFRESH:
		/* RFC 7313 §5: a ROUTE-REFRESH of the wrong length is an error of its own. */
		if (bgp_rr_decode(msg, len, &rr, &n) != 0)
			conn_simple_event(c, FSM_EV_UPDATE_ERR, &n);
		else
			conn_simple_event(c, FSM_EV_ROUTE_REFRESH_MSG, NULL);
		if (c->fsm.state == FSM_ESTABLISHED)
			routes_refresh(s, rr.afi, rr.safi);
		break;
	}
}

/*
 * Frames and handles every complete message in buf[0..c->rlen): the shared read
 * buffer or the connection's own. What is left incomplete stays in (or moves to)
 * the connection's own.
 */
static void
conn_process(struct conn *c, uint8_t *buf)
{
	size_t off = 0, left;
	int fd = c->fd;

	while (c->fd == fd && c->rlen - off >= BGP_HEADER_LEN) {
		struct bgp_notif err;
		uint16_t len;
		uint8_t type;

		if (bgp_header_decode(buf + off, c->max_len, &len, &type, &err) != 0) {
			conn_simple_event(c, FSM_EV_HEADER_ERR, &err);
			if (c->fd == fd)
				c->rlen = 0;  /* framing is lost: nothing left may point into buf */
			return;
		}
		if (c->rlen - off < len)
			break;
		handle_message(c, type, buf + off, len);
		off += len;
	}
	if (c->fd != fd)
		return;  /* closed (buffer reset) while handling */
	left = c->rlen - off;
	if (buf != c->rbuf && left > 0) {
		for (c->rcap = RBUF_MIN; c->rcap < left + BGP_MAX_LEN && c->rcap < RBUF_SIZE;)
			c->rcap = rbuf_grown(c->rcap);
		c->rbuf = xmalloc(c->rcap);
	}
	if (left > 0 || buf == c->rbuf)
		memmove(c->rbuf, buf + off, left);
	c->rlen = left;
}

static void
conn_fail(struct conn *c, const char *why)
{
	struct fsm_input in = {.ev = FSM_EV_TCP_FAILS, .socket_error = why};

	conn_event(c, &in);
}

/* Our connect finished: tells the FSM how; true if the connection is up. */
static bool
conn_connect_done(struct conn *c)
{
	int e = sock_connect_result(c->fd);

	c->connecting = false;
	ev_io_stop(c->s->ag->loop, &c->wio);
	if (e != 0) {
		conn_fail(c, strerror(e));
		return false;
	}
	conn_simple_event(c, FSM_EV_TCP_CR_ACKED, NULL);
	return c->fd >= 0;
}

/*
 * After every callback: drop connections that lost a collision or ended, let a
 * surviving incoming connection carry the session, and report a changed state.
 */
static void
session_settle(struct session *s)
{
	struct conn *c0 = s->conn[0], *c1 = s->conn[1];
	enum fsm_state state;
	char info[sizeof(s->info)];

	/* The peer's connection carries nothing once its TCP is gone (Idle, or Active after a
	 * failure): it goes, rather than dial out beside ours and turn the peer's next one away. */
	if (c1 != NULL && (c1->dead || c1->fsm.state <= FSM_ACTIVE)) {
		conn_free(c1);
		s->conn[1] = c1 = NULL;
	}
	if (c1 != NULL && (c0->dead || c0->fsm.state == FSM_IDLE)) {
		/* The incoming connection won: it becomes the session's, and restarts actively. */
		conn_takes_session(c1);
		c0 = c1;
		c1 = NULL;
	}
	if (c0->dead) {
		/* Lost a collision with nothing else alive: start over. */
		c0->dead = false;
		c0->fsm.auto_restart = true;
		conn_simple_event(c0, FSM_EV_AUTOMATIC_START, NULL);
	}
	state = c0->fsm.state;
	if (c1 != NULL && c1->fsm.state > state)
		state = c1->fsm.state;
	snprintf(info, sizeof(info), "%s%s%s", fsm_state_name(state),
		 c0->fsm.last_error[0] ? " " : "", c0->fsm.last_error);
	/* A restarting peer (RFC 4724 §4.2): its routes are kept, stale. */
	if (s->stale != NULL)
		snprintf(info + strlen(info), sizeof(info) - strlen(info),
			 " (%sgraceful restart: %zu stale routes kept)", s->llgr ? "long-lived " : "",
			 routes_stale_count(s));
	if (state != s->state || strcmp(info, s->info) != 0) {
		if (state != s->state) {
			s->since = time(NULL);
			s->n.fsm_transitions++;
		}
		s->state = state;
		snprintf(s->info, sizeof(s->info), "%s", info);
		status_session(s);
	}
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	struct session *s = c->s;
	uint8_t *buf;
	size_t cap;
	ssize_t n;

	(void)revents;
	/* Data can arrive in the same loop pass that completes our connect: settle that first. */
	if (c->connecting && !conn_connect_done(c)) {
		session_settle(s);
		return;
	}
	/* The kernel is behind: the peer's routes wait in TCP flow control, not in the
	 * kernel route queue (session_reads_resume). Held for FIB_HOLD_MAX: one read
	 * (KEEPALIVEs must get through), then it may wait again. */
	if (c->fsm.state == FSM_ESTABLISHED && fib_full(routes_fib(s->ag, s->dev))) {
		ev_tstamp now = ev_now(loop);

		if (c->held_since == 0)
			c->held_since = now;
		if (now - c->held_since < FIB_HOLD_MAX) {
			ev_io_stop(loop, &c->rio);
			c->held = true;
			return;
		}
		log_debug("peer %s: read after %.1f s held for the kernel routes",
			  peer_str(s), now - c->held_since);
		c->held_since = now;
	} else {
		c->held_since = 0;
	}
	if (c->rbuf != NULL) {
		if (c->rcap - c->rlen < BGP_MAX_LEN && c->rcap < RBUF_SIZE) {
			c->rcap = rbuf_grown(c->rcap);
			c->rbuf = xrealloc(c->rbuf, c->rcap);
		}
		buf = c->rbuf;
		cap = c->rcap;
	} else {
		if (s->ag->rbuf == NULL)
			s->ag->rbuf = xmalloc(RBUF_SIZE);
		buf = s->ag->rbuf;
		cap = RBUF_SIZE;
	}
	n = read(c->fd, buf + c->rlen, cap - c->rlen);
	if (n == 0) {
		conn_fail(c, "Connection closed by peer");
	} else if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(c, strerror(errno));
	} else {
		c->rlen += (size_t)n;
		conn_process(c, buf);
	}
	session_settle(s);
}

void
session_reads_resume(void *agent, struct fib *fib)
{
	struct agent *ag = agent;

	for (struct session *s = ag->sessions; s != NULL; s = s->next) {
		if (routes_fib(s->ag, s->dev) != fib)
			continue;
		for (size_t i = 0; i < 2; i++) {
			struct conn *c = s->conn[i];

			if (c != NULL && c->held) {
				c->held = false;
				ev_io_start(ag->loop, &c->rio);
			}
		}
	}
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	struct session *s = c->s;

	(void)loop;
	(void)revents;
	if (c->connecting) {
		conn_connect_done(c);
	} else {
		c->want_write = false;
		conn_flush(c);
		/* Room again: the peer is owed more, produced now (pull). */
		if (c == s->conn[0] && c->fsm.state == FSM_ESTABLISHED && conn_pending(c) < OUT_LOW)
			routes_pull(s);
	}
	session_settle(s);
}

static void
conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static const enum fsm_event ev[FSM_TIMER_COUNT] = {
		[FSM_TIMER_CONNECT_RETRY] = FSM_EV_CONNECT_RETRY_EXPIRES,
		[FSM_TIMER_HOLD] = FSM_EV_HOLD_EXPIRES,
		[FSM_TIMER_KEEPALIVE] = FSM_EV_KEEPALIVE_EXPIRES,
		[FSM_TIMER_IDLE_HOLD] = FSM_EV_IDLE_HOLD_EXPIRES,
	};
	struct conn *c = w->data;
	struct session *s = c->s;

	(void)loop;
	(void)revents;
	if (w == &c->timers[FSM_TIMER_HOLD])
		log_warnx("peer %s: hold timer expired (%us without a message)", peer_str(s),
			  c->fsm.state == FSM_OPENSENT ? c->fsm.cfg.open_hold : c->fsm.hold);
	conn_simple_event(c, ev[w - c->timers], NULL);
	session_settle(s);
}

static void
conn_send_hold_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	struct session *s = c->s;

	(void)revents;
	ev_timer_stop(loop, w);
	log_warnx("peer %s: send hold timer expired (%.0fs without the peer reading; %zu bytes "
		  "waiting)",
		  peer_str(s), w->repeat, conn_pending(c));
	conn_simple_event(c, FSM_EV_SEND_HOLD_EXPIRES, NULL);
	session_settle(s);
}

static void
gr_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;
	bool up = s->conn[0]->fsm.state == FSM_ESTABLISHED;
	uint32_t llst;

	(void)loop;
	(void)revents;
	/* The restart time is up: long-lived stale routes if the peer asked (RFC 9494). */
	if (!up && !s->llgr && (llst = routes_llgr_begin(s)) > 0) {
		session_gr_timer(s, llst);
	} else {
		routes_stale_drop(s, up ? "no End-of-RIB in time"
					: s->llgr ? "long-lived stale time is up" : "restart time is up");
	}
	session_settle(s);
}

static struct conn *
conn_new(struct session *s, bool passive)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct fsm_config cfg;

	c->s = s;
	c->fd = -1;
	c->max_len = BGP_MAX_LEN;
	fsm_config_default(&cfg);
	cfg.hold_time = s->ag->cfg.hold_time;
	cfg.passive = passive;
	fsm_init(&c->fsm, &cfg);
	ev_io_init(&c->rio, conn_read_cb, -1, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, -1, EV_WRITE);
	c->rio.data = c->wio.data = c;
	for (int i = 0; i < FSM_TIMER_COUNT; i++) {
		ev_timer_init(&c->timers[i], conn_timer_cb, 0., 0.);
		c->timers[i].data = c;
	}
	ev_timer_init(&c->send_hold, conn_send_hold_cb, 0., 0.);
	c->send_hold.data = c;
	return c;
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_close_fd(c);
	for (int i = 0; i < FSM_TIMER_COUNT; i++)
		ev_timer_stop(c->s->ag->loop, &c->timers[i]);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/*
 * The session index: every accepted connection and every changed peer finds its session
 * in one probe instead of a walk over all of them (10,000 peers connecting at once made
 * that walk quadratic). Chained through hnext, one slot per session at most; the seed is
 * random, as the addresses come from tenants too.
 */
static uint64_t index_seed;

static struct session **
index_slot(const struct agent *ag, const struct device *dev, const struct addr *remote)
{
	/* The bytes addr_cmp compares: an IPv4 address is its first four. */
	uint64_t h = XXH3_64bits_withSeed(remote->b, addr_is_v4(remote) ? 4 : sizeof(remote->b),
					  index_seed ^ (uint64_t)(uintptr_t)dev ^
						  (uint64_t)remote->family);

	return &ag->sindex[h & (ag->sindex_cap - 1)];
}

static void
index_grow(struct agent *ag)
{
	struct session **old = ag->sindex;
	size_t n = ag->sindex_cap;

	if (index_seed == 0)
		randombytes_buf(&index_seed, sizeof(index_seed));
	ag->sindex_cap = n ? 2 * n : 64;
	ag->sindex = xcalloc(ag->sindex_cap, sizeof(*ag->sindex));
	for (size_t i = 0; i < n; i++) {
		struct session *s, *next;

		for (s = old[i]; s; s = next) {
			struct session **slot = index_slot(ag, s->dev, &s->spec.remote);

			next = s->hnext;
			s->hnext = *slot;
			*slot = s;
		}
	}
	free(old);
}

static void
index_add(struct session *s)
{
	struct agent *ag = s->ag;
	struct session **slot;

	if (ag->nsessions >= ag->sindex_cap)
		index_grow(ag);
	slot = index_slot(ag, s->dev, &s->spec.remote);
	s->hnext = *slot;
	*slot = s;
	ag->nsessions++;
}

static void
index_remove(struct session *s)
{
	struct agent *ag = s->ag;

	for (struct session **pp = index_slot(ag, s->dev, &s->spec.remote); *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			ag->nsessions--;
			return;
		}
	}
}

void
session_shared_free(struct agent *ag)
{
	free(ag->rbuf);
	ag->rbuf = NULL;
	free(ag->cbuf);
	ag->cbuf = NULL;
	free(ag->sindex);
	ag->sindex = NULL;
	ag->sindex_cap = ag->nsessions = 0;
}

struct session *
session_new(struct agent *ag, const struct peer_spec *spec)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->ag = ag;
	s->spec = *spec;
	policy_ref(s->spec.policy);
	s->dev = spec->device[0] ? device_find(ag, spec->device) : NULL;
	s->state = FSM_IDLE;
	s->since = time(NULL);
	s->conn[0] = conn_new(s, false);
	ev_timer_init(&s->gr_timer, gr_timer_cb, 0., 0.);
	s->gr_timer.data = s;
	s->next = ag->sessions;
	ag->sessions = s;
	index_add(s);
	return s;
}

void
session_start(struct session *s)
{
	log_info("peer %s: starting (%s, AS %u, local AS %u%s)", peer_str(s),
		 peer_type_name(s->spec.type), s->spec.remote_as, s->spec.local_as,
		 s->spec.password[0] ? ", TCP MD5" : "");
	if (s->spec.password[0])
		listen_md5_update(s->ag, s->dev, &s->spec.remote, s->spec.password);
	if (linger_defer(s->ag, s)) {
		log_debug("peer %s: starts once the peer has closed the old connection", peer_str(s));
		return;
	}
	session_go(s);
}

void
session_go(struct session *s)
{
	conn_simple_event(s->conn[0], FSM_EV_MANUAL_START, NULL);
	session_settle(s);
}

static void
conn_stop(struct conn *c, uint8_t cease_subcode, const char *why)
{
	struct fsm_actions acts;

	acts.n = 0;
	fsm_stop(&c->fsm, cease_subcode, why, &acts);
	conn_apply(c, &acts);
}

static void
release(struct session *s, uint8_t cease_subcode, const char *why, bool restart)
{
	struct agent *ag = s->ag;
	struct session **pp;
	uint16_t afi = addr_is_v4(&s->spec.remote) ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
	bool fwd;

	for (int i = 0; i < 2; i++) {
		struct conn *c = s->conn[i];
		uint8_t sub = cease_subcode;
		const char *text = why;

		/* Only a peer that keeps routes of the session's family gets a restart. */
		if (c != NULL && restart && c->fsm.state == FSM_ESTABLISHED && c->have_open &&
		    bgp_gr_peer_af(&c->peer_open, afi, &fwd)) {
			/* RFC 8538 §4: a Cease other than Hard Reset counts as a restart;
			 * without the N bit, only a TCP session ending without one does. */
			if (bgp_gr_notification(&c->our_open, &c->peer_open)) {
				sub = BGP_CEASE_ADMIN_RESET;
				text = "tabbyd restarting";
			} else {
				c->quiet = true;
			}
		}
		if (c != NULL)
			conn_stop(c, sub, text);
		conn_free(c);
		/* Dropping stale routes below walks every session, this one too. */
		s->conn[i] = NULL;
	}
	ev_timer_stop(s->ag->loop, &s->gr_timer);
	linger_forget(ag, s);
	if (s->spec.password[0])
		listen_md5_update(s->ag, s->dev, &s->spec.remote, "");
	routes_session_down(s, false);
	adj_in_free(s->adj_in, s->ag->rib);
	status_session_remove(s);
	for (pp = &s->ag->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	index_remove(s);
	routes_exporters_changed(s->ag);
	policy_unref(s->spec.policy);
	free(s);
	routes_defer_check(ag);
}

void
session_free(struct session *s, uint8_t cease_subcode, const char *why)
{
	log_info("peer %s: stopping (%s)", peer_str(s), bgp_notif_name(BGP_ERR_CEASE, cease_subcode));
	release(s, cease_subcode, why, false);
}

void
session_free_restart(struct session *s)
{
	/* A device's namespace and its routes go when tabbyd stops: its peers are told
	 * it is for good, they must not forward to it while it is away. */
	if (s->dev != NULL) {
		session_free(s, BGP_CEASE_ADMIN_SHUTDOWN, "tabbyd shutting down");
		return;
	}
	log_info("peer %s: stopping for a restart (graceful restart)", peer_str(s));
	release(s, BGP_CEASE_ADMIN_SHUTDOWN, "tabbyd shutting down", true);
}

struct session *
session_find(struct agent *ag, const struct device *dev, const struct addr *remote)
{
	if (ag->sindex_cap == 0)
		return NULL;
	for (struct session *s = *index_slot(ag, dev, remote); s; s = s->hnext)
		if (s->dev == dev && addr_cmp(&s->spec.remote, remote) == 0)
			return s;
	return NULL;
}

void
session_accept(struct session *s, int fd)
{
	struct conn *c0 = s->conn[0], *c;
	struct err err;

	/* The listener answered with TTL 255; from here on the peer's own setting. */
	if (s->spec.ttl_security == 0) {
		sock_ttl_default(fd, s->spec.remote.family);
	} else if (sock_gtsm(fd, s->spec.remote.family, s->spec.ttl_security, &err) != 0) {
		log_warnx("peer %s: %s; connection refused", peer_str(s), err.msg);
		close(fd);
		return;
	}
	switch (c0->fsm.state) {
	case FSM_CONNECT:
	case FSM_ACTIVE:
		/* §8.2.2: the peer's connection serves; drop our pending attempt. */
		conn_close_fd(c0);
		conn_attach(c0, fd, false);
		conn_simple_event(c0, FSM_EV_TCP_CONFIRMED, NULL);
		break;
	case FSM_OPENSENT:
	case FSM_OPENCONFIRM:
		if (s->conn[1] != NULL) {
			close(fd);
			return;
		}
		/* A collision: run the second connection until the OPEN tells who wins. */
		c = s->conn[1] = conn_new(s, true);
		conn_simple_event(c, FSM_EV_MANUAL_START, NULL);
		conn_attach(c, fd, false);
		conn_simple_event(c, FSM_EV_TCP_CONFIRMED, NULL);
		break;
	default:
		/* Established keeps its connection; Idle refuses (§8.2.2). */
		log_debug("peer %s: refusing a connection in state %s", peer_str(s),
			  fsm_state_name(c0->fsm.state));
		close(fd);
		return;
	}
	session_settle(s);
}
