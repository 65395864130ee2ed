/*
 * The control socket: a Unix stream socket whose path is published in the
 * agent record. A client writes one command line and reads one JSON
 * document back. Commands: "sessions" (the live session records) and
 * "adj-rib-in [PEER]" (the routes each peer sent, after RFC 7606 judgement)
 * and "routes [PREFIX]" (the Loc-RIB: every path, the best one marked), both
 * in table order, each destination's paths together. "log-level [LEVEL]"
 * answers one object, the level (and the one it replaced, when it sets one).
 *
 * No client can stall the loop: sockets are non-blocking, and an answer is
 * generated as the client reads it, a bounded buffer at a time. A command
 * takes a snapshot of the keys it will show (session addresses, prefixes) and
 * looks each one up again when its turn comes, so routes that change or go
 * meanwhile are shown as they are then, or skipped. A client that stops
 * reading costs its snapshot and one buffer, and is dropped after a while,
 * or sooner when the socket is full of clients, or their snapshots pass a cap
 * (64 MB: the newest answer is always served), and a new one comes.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/log.h"

static const char *const origins[] = {"IGP", "EGP", "incomplete"};

/* The attribute fields every route view shows. */
static json_t *
attrs_json(const struct bgp_attrs *a)
{
	char buf[1024];
	json_t *o, *comm = json_array(), *large = json_array(), *clusters;
	const uint8_t *c = bgp_attrs_communities(a), *l = bgp_attrs_large_communities(a);

	bgp_as_path_format(bgp_attrs_as_path(a), a->as_path_len, buf, sizeof(buf));
	o = json_pack("{s:s, s:s}", "as_path", buf, "origin", origins[a->origin <= 2 ? a->origin : 2]);
	addr_format(&a->next_hop, buf);
	json_object_set_new(o, "next_hop", json_string(a->next_hop.family ? buf : ""));
	if (a->next_hop_ll.family) {
		addr_format(&a->next_hop_ll, buf);
		json_object_set_new(o, "next_hop_link_local", json_string(buf));
	}
	json_object_set_new(o, "med", (a->has & BGP_HAS(BGP_ATTR_MED)) ? json_integer(a->med)
									 : json_null());
	json_object_set_new(o, "local_pref", (a->has & BGP_HAS(BGP_ATTR_LOCAL_PREF))
						     ? json_integer(a->local_pref)
						     : json_null());
	for (size_t i = 0; i < a->communities_n; i++) {
		snprintf(buf, sizeof(buf), "%u:%u", c[4 * i] << 8 | c[4 * i + 1],
			 c[4 * i + 2] << 8 | c[4 * i + 3]);
		json_array_append_new(comm, json_string(buf));
	}
	for (size_t i = 0; i < a->large_communities_n; i++) {
		const uint8_t *x = l + 12 * i;

		snprintf(buf, sizeof(buf), "%u:%u:%u",
			 (unsigned)x[0] << 24 | x[1] << 16 | x[2] << 8 | x[3],
			 (unsigned)x[4] << 24 | x[5] << 16 | x[6] << 8 | x[7],
			 (unsigned)x[8] << 24 | x[9] << 16 | x[10] << 8 | x[11]);
		json_array_append_new(large, json_string(buf));
	}
	json_object_set_new(o, "communities", comm);
	json_object_set_new(o, "large_communities", large);
	json_object_set_new(o, "originator_id", json_null());
	if (a->has & BGP_HAS(BGP_ATTR_ORIGINATOR_ID)) {
		struct addr id;

		addr_from_u32(a->originator_id, &id);
		addr_format(&id, buf);
		json_object_set_new(o, "originator_id", json_string(buf));
	}
	clusters = json_array();
	for (size_t i = 0; i < a->cluster_list_n; i++) {
		struct addr id;
		const uint8_t *x = bgp_attrs_cluster_list(a) + 4 * i;

		addr_from_u32((uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3],
			      &id);
		addr_format(&id, buf);
		json_array_append_new(clusters, json_string(buf));
	}
	json_object_set_new(o, "cluster_list", clusters);
	json_object_set_new(o, "unknown_attributes_bytes", json_integer(a->unknown_len));
	return o;
}

/* One key of an answer: a session (peer), a peer's route (peer, p) or a destination (p). */
struct item {
	struct prefix p;
	uint32_t peer;               /* index into the client's peers */
};

enum command { CMD_SESSIONS, CMD_ADJ_RIB_IN, CMD_ROUTES };

struct client {
	struct agent *ag;
	int fd;
	ev_io io;
	ev_timer idle;
	char in[256];
	size_t inlen;
	bool asked;                  /* the command line is in */
	enum command cmd;
	char device[40];             /* "device-routes": the device's routing instance */
	struct addr *peers;
	size_t npeers;
	struct item *items;
	size_t nitems, pos, snapshot;  /* snapshot: bytes of items and peers */
	bool begun, ended, any;
	ev_tstamp active;            /* when it last asked or read */
	char *out;
	size_t outlen, outoff, outcap;
	struct client *next;
};

#define CLIENTS_MAX 16
#define SNAPSHOTS_MAX (64u << 20)  /* bytes of snapshots over all clients, beyond the newest */
#define OUT_SOFT (64 * 1024)     /* stop generating at this much unsent output */
#define IDLE_TIMEOUT 10.         /* seconds a client may neither ask nor read */

static struct client *clients;
static size_t nclients, snapshots;

static void
out_add(struct client *c, const char *text, size_t len)
{
	if (c->outlen + len > c->outcap) {
		c->outcap = c->outlen + len > 2 * c->outcap ? c->outlen + len : 2 * c->outcap;
		c->out = xrealloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, text, len);
	c->outlen += len;
}

static void
out_doc(struct client *c, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	if (text == NULL)
		fatal("out of memory encoding JSON");
	out_add(c, text, strlen(text));
	free(text);
}

/* The comma before every element of the answer's array but the first. */
static void
out_sep(struct client *c)
{
	if (c->any)
		out_add(c, ",", 1);
	c->any = true;
}

static void
out_elem(struct client *c, json_t *o)
{
	out_sep(c);
	out_doc(c, o);
}

/* The whole answer is this one document (an error). */
static void
out_only(struct client *c, json_t *doc)
{
	out_doc(c, doc);
	out_add(c, "\n", 1);
	c->begun = c->ended = true;
}

static void
route_elem(struct client *c, const struct session *s, const struct prefix *p,
	   const struct rib_attr *x)
{
	char pfx[PREFIX_STRLEN], peer[ADDR_STRLEN];
	json_t *o = attrs_json(&x->a);

	prefix_format(p, pfx);
	addr_format(&s->spec.remote, peer);
	json_object_set_new(o, "peer", json_string(peer));
	json_object_set_new(o, "prefix", json_string(pfx));
	out_elem(c, o);
}

/* Whether a path of a peer (owner: its session) is one kept from before its restart. */
static bool
path_stale(const void *owner, const struct prefix *p)
{
	const struct session *s = owner;

	return s->stale != NULL && adj_in_get(s->stale, p) != NULL;
}

/* Every path to a destination, the best one marked. */
static void
dest_elems(struct client *c, const struct rib_dest *d)
{
	char pfx[PREFIX_STRLEN], from[ADDR_STRLEN];
	struct prefix dp;
	struct rib_path p;
	size_t k = 0;
	bool best;

	rib_dest_prefix(d, &dp);
	prefix_format(&dp, pfx);
	while (rib_dest_next_path(d, &k, &p, &best)) {
		json_t *o = attrs_json(&p.attr->a);

		if (p.src->local)
			snprintf(from, sizeof(from), "local");
		else
			addr_format(&p.src->addr, from);
		json_object_set_new(o, "prefix", json_string(pfx));
		json_object_set_new(o, "from", json_string(from));
		json_object_set_new(o, "best", json_boolean(best));
		/* Kept from a restarting peer until it sends it again (RFC 4724 §4.2). */
		json_object_set_new(o, "stale",
				    json_boolean(!p.src->local && path_stale(p.owner, &dp)));
		out_elem(c, o);
	}
}

/* The Loc-RIB the client asked about: the node's, or a device's (NULL if it is gone). */
static struct loc_rib *
client_loc(struct client *c)
{
	struct device *d;

	if (c->device[0] == '\0')
		return c->ag->loc;
	d = device_find(c->ag, c->device);
	return d != NULL ? d->loc : NULL;
}

/* The item as it is now (it may have changed or gone since the snapshot). */
static void
item_elems(struct client *c, const struct item *it)
{
	const struct rib_dest *d;
	struct session *s;
	struct rib_attr *x;
	char *text;

	switch (c->cmd) {
	case CMD_SESSIONS:
		if ((s = session_find(c->ag, NULL, &c->peers[it->peer])) == NULL)
			return;
		text = status_session_json(s);
		out_sep(c);
		out_add(c, text, strlen(text));
		free(text);
		return;
	case CMD_ADJ_RIB_IN:
		s = session_find(c->ag, NULL, &c->peers[it->peer]);
		if (s != NULL && s->adj_in != NULL && (x = adj_in_get(s->adj_in, &it->p)) != NULL)
			route_elem(c, s, &it->p, x);
		return;
	case CMD_ROUTES:
		/* A device removed meanwhile has no routes left to show. */
		if (client_loc(c) != NULL && (d = loc_rib_get(client_loc(c), &it->p)) != NULL)
			dest_elems(c, d);
		return;
	}
}

static struct item *
item_push(struct client *c, size_t *cap)
{
	if (c->nitems == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		c->items = xrealloc(c->items, *cap * sizeof(*c->items));
	}
	memset(&c->items[c->nitems], 0, sizeof(*c->items));
	return &c->items[c->nitems++];
}

static uint32_t
peer_push(struct client *c, const struct addr *a)
{
	c->peers = xrealloc(c->peers, (c->npeers + 1) * sizeof(*c->peers));
	c->peers[c->npeers] = *a;
	return (uint32_t)c->npeers++;
}

/* "sessions": the live session records. */
static void
snap_sessions(struct client *c)
{
	size_t cap = 0;

	/* The node's sessions: a device's may repeat their addresses (its status shows them). */
	for (struct session *s = c->ag->sessions; s; s = s->next)
		if (s->dev == NULL)
			item_push(c, &cap)->peer = peer_push(c, &s->spec.remote);
}

/* "adj-rib-in [PEER]": what each peer sent, per peer in table order. */
static void
snap_adj_rib_in(struct client *c, const char *peer)
{
	struct addr want;
	size_t cap = 0;

	if (peer != NULL && addr_parse(peer, &want) != 0) {
		out_only(c, json_pack("{s:s}", "error",
				      "not an IP address; usage: adj-rib-in [PEER]"));
		return;
	}
	for (struct session *s = c->ag->sessions; s; s = s->next) {
		struct prefix *v;
		uint32_t k;
		size_t n;

		if (s->dev != NULL || s->adj_in == NULL ||
		    (peer != NULL && addr_cmp(&want, &s->spec.remote) != 0))
			continue;
		k = peer_push(c, &s->spec.remote);
		v = adj_in_prefixes(s->adj_in, &n);
		for (size_t i = 0; i < n; i++) {
			struct item *it = item_push(c, &cap);

			it->p = v[i];
			it->peer = k;
		}
		free(v);
	}
}

/*
 * "routes [PREFIX]": the Loc-RIB, in table order, as BIRD's "show route" walks its
 * table: sorting a million prefixes would hold up the loop; tabbyctl sorts what it shows.
 */
static void
snap_routes(struct client *c, const char *want)
{
	struct loc_rib *loc = client_loc(c);
	struct prefix only, *v;
	size_t n, cap = 0;

	if (loc == NULL) {
		out_only(c, json_pack("{s:s}", "error",
				      "the device has no routing instance on this node (no "
				      "peering of it is carried out here)"));
		return;
	}
	if (want != NULL) {
		if (prefix_parse(want, &only, NULL) != 0)
			out_only(c, json_pack("{s:s}", "error",
					      "not a prefix; usage: routes [PREFIX]"));
		else if (loc_rib_get(loc, &only) != NULL)
			item_push(c, &cap)->p = only;
		return;
	}
	v = loc_rib_prefixes(loc, &n);
	c->items = xmalloc((n ? n : 1) * sizeof(*c->items));
	cap = n;
	for (size_t i = 0; i < n; i++)
		item_push(c, &cap)->p = v[i];
	free(v);
}

static void client_free(struct client *c);

/* The client that asked or read least recently, other than keep; with a snapshot if asked. */
static struct client *
longest_idle(const struct client *keep, bool with_snapshot)
{
	struct client *old = NULL;

	for (struct client *c = clients; c; c = c->next)
		if (c != keep && (!with_snapshot || c->snapshot > 0) &&
		    (old == NULL || c->active < old->active))
			old = c;
	return old;
}

/* "log-level [LEVEL]": the agent's log level, shown or changed without a restart. */
static void
log_level_cmd(struct client *c, const char *want)
{
	enum log_level was = log_get_level(), lvl;

	if (want == NULL) {
		out_only(c, json_pack("{s:s}", "log_level", log_level_name(was)));
		return;
	}
	if (log_parse_level(want, &lvl) != 0) {
		out_only(c, json_pack("{s:s}", "error",
				      "unknown log level; accepted: debug, info, warn, error"));
		return;
	}
	log_set_level(lvl);
	/* Said at the louder of the two levels, so the change shows either way. */
	if (lvl <= LOG_LVL_INFO || was <= LOG_LVL_INFO)
		log_set_level(LOG_LVL_INFO);
	log_info("log level %s (was %s), set on the control socket", log_level_name(lvl),
		 log_level_name(was));
	log_set_level(lvl);
	out_only(c, json_pack("{s:s, s:s}", "log_level", log_level_name(lvl), "was",
			      log_level_name(was)));
}

static void
command(struct client *c, char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
	c->asked = true;
	if (strcmp(line, "sessions") == 0) {
		c->cmd = CMD_SESSIONS;
		snap_sessions(c);
	} else if (strcmp(line, "adj-rib-in") == 0 || strncmp(line, "adj-rib-in ", 11) == 0) {
		c->cmd = CMD_ADJ_RIB_IN;
		snap_adj_rib_in(c, line[10] ? line + 11 : NULL);
	} else if (strcmp(line, "routes") == 0 || strncmp(line, "routes ", 7) == 0) {
		c->cmd = CMD_ROUTES;
		snap_routes(c, line[6] ? line + 7 : NULL);
	} else if (strncmp(line, "device-routes ", 14) == 0) {
		/* "device-routes UUID [PREFIX]": a device's Loc-RIB. */
		char *uuid = line + 14, *rest = uuid + strcspn(uuid, " ");

		if (*rest != '\0')
			*rest++ = '\0';
		c->cmd = CMD_ROUTES;
		snprintf(c->device, sizeof(c->device), "%s", uuid);
		snap_routes(c, *rest ? rest : NULL);
	} else if (strcmp(line, "log-level") == 0 || strncmp(line, "log-level ", 10) == 0) {
		log_level_cmd(c, line[9] ? line + 10 : NULL);
	} else {
		out_only(c, json_pack("{s:s}", "error",
				      "unknown command; accepted: sessions, adj-rib-in [PEER], "
				      "routes [PREFIX], device-routes UUID [PREFIX], log-level [LEVEL]"));
	}
	/* Snapshots are O(table) each: past the cap, the longest-idle ones make room. */
	c->snapshot = c->nitems * sizeof(*c->items) + c->npeers * sizeof(*c->peers);
	snapshots += c->snapshot;
	while (snapshots > SNAPSHOTS_MAX) {
		struct client *old = longest_idle(c, true);

		if (old == NULL)
			break;
		log_info("control socket: snapshots over %u MB; dropping a client idle for %.1f s",
			 SNAPSHOTS_MAX >> 20, ev_now(c->ag->loop) - old->active);
		client_free(old);
	}
}

/* Generates more of the answer, up to the soft limit of unsent output. */
static void
fill(struct client *c)
{
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (!c->begun) {
		out_add(c, "[", 1);
		c->begun = true;
	}
	while (!c->ended && c->outlen < OUT_SOFT) {
		if (c->pos == c->nitems) {
			out_add(c, "]\n", 2);
			c->ended = true;
			break;
		}
		item_elems(c, &c->items[c->pos++]);
	}
}

static void
client_free(struct client *c)
{
	struct client **pp;

	ev_io_stop(c->ag->loop, &c->io);
	ev_timer_stop(c->ag->loop, &c->idle);
	close(c->fd);
	for (pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	nclients--;
	snapshots -= c->snapshot;
	free(c->peers);
	free(c->items);
	free(c->out);
	free(c);
}

/* Reads the command line; false when the client is gone or done. */
static bool
client_read(struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	/* A line, a full buffer, or the client's end of the stream: that is the command. */
	if (n == 0 || memchr(c->in, '\n', c->inlen) != NULL || c->inlen == sizeof(c->in) - 1) {
		if (c->inlen == 0)
			return false;
		command(c, c->in);
	}
	return true;
}

/* Sends what the socket takes; false when the client is gone or the answer is complete. */
static bool
client_write(struct client *c)
{
	for (;;) {
		ssize_t n;

		if (c->outoff == c->outlen) {
			if (c->ended)
				return false;
			fill(c);
			continue;
		}
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->outoff += (size_t)n;
		if (c->outoff == c->outlen && !c->ended && c->outlen >= OUT_SOFT)
			return true; /* one buffer per turn of the loop: others get theirs */
	}
}

static void
client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	bool alive;

	(void)revents;
	alive = c->asked ? client_write(c) : client_read(c);
	if (alive && c->asked && !(w->events & EV_WRITE)) {
		ev_io_stop(loop, w);
		ev_io_set(w, c->fd, EV_WRITE);
		ev_io_start(loop, w);
	}
	if (!alive) {
		client_free(c);
		return;
	}
	c->active = ev_now(loop);
	ev_timer_again(loop, &c->idle);
}

static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	log_info("control socket: dropping a client that neither asked nor read for %.0f s",
		 IDLE_TIMEOUT);
	client_free(c);
}

static void
control_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct agent *ag = w->data;
	struct client *c;
	int fd;

	(void)revents;
	fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (nclients >= CLIENTS_MAX) {
		/* Full: the client that made no progress for the longest makes room. */
		struct client *old = longest_idle(NULL, false);

		log_info("control socket: %d clients; dropping the one idle for %.1f s",
			 CLIENTS_MAX, ev_now(loop) - old->active);
		client_free(old);
	}
	c = xcalloc(1, sizeof(*c));
	c->ag = ag;
	c->fd = fd;
	ev_io_init(&c->io, client_cb, fd, EV_READ);
	c->io.data = c;
	ev_init(&c->idle, idle_cb);
	c->idle.repeat = IDLE_TIMEOUT;
	c->idle.data = c;
	c->active = ev_now(loop);
	ev_io_start(loop, &c->io);
	ev_timer_again(loop, &c->idle);
	c->next = clients;
	clients = c;
	nclients++;
}

int
control_start(struct agent *ag, struct err *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char *dir, *slash;

	if (strlen(ag->cfg.control) >= sizeof(sun.sun_path)) {
		err_set(err, "control socket path too long: %s", ag->cfg.control);
		return -1;
	}
	dir = xstrdup(ag->cfg.control);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			log_warn("mkdir %s", dir);
	}
	free(dir);
	strcpy(sun.sun_path, ag->cfg.control);
	unlink(ag->cfg.control);
	ag->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ag->control_fd < 0 || bind(ag->control_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(ag->control_fd, 16) != 0) {
		err_set(err, "control socket %s: %s", ag->cfg.control, strerror(errno));
		if (ag->control_fd >= 0)
			close(ag->control_fd);
		ag->control_fd = -1;
		return -1;
	}
	chmod(ag->cfg.control, 0600);
	ev_io_init(&ag->control_io, control_cb, ag->control_fd, EV_READ);
	ag->control_io.data = ag;
	ev_io_start(ag->loop, &ag->control_io);
	return 0;
}

void
control_stop(struct agent *ag)
{
	while (clients != NULL)
		client_free(clients);
	if (ag->control_fd < 0)
		return;
	ev_io_stop(ag->loop, &ag->control_io);
	close(ag->control_fd);
	unlink(ag->cfg.control);
	ag->control_fd = -1;
}
