/*
 * The control socket: a Unix stream socket whose path is published in the
 * agent record. A client writes one command line and reads one JSON
 * document back. Commands: "sessions" (the live session records) and
 * "adj-rib-in [PEER]" (the routes each peer sent, after RFC 7606 judgement)
 * and "routes [PREFIX]" (the Loc-RIB: every path, the best one marked).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/log.h"

static json_t *
cmd_sessions(struct agent *ag)
{
	json_t *arr = json_array();

	for (struct session *s = ag->sessions; s; s = s->next) {
		char *text = status_session_json(s);

		json_array_append_new(arr, json_loads(text, 0, NULL));
		free(text);
	}
	return arr;
}

static const char *const origins[] = {"IGP", "EGP", "incomplete"};

/* The attribute fields every route view shows. */
static json_t *
attrs_json(const struct bgp_attrs *a)
{
	char buf[1024];
	json_t *o, *comm = json_array(), *large = json_array();
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
	json_object_set_new(o, "unknown_attributes_bytes", json_integer(a->unknown_len));
	return o;
}

static json_t *
route_json(const struct session *s, const struct adj_in_route *r)
{
	char pfx[PREFIX_STRLEN], peer[ADDR_STRLEN];
	json_t *o = attrs_json(&r->attr->a);

	prefix_format(&r->p, pfx);
	addr_format(&s->spec.remote, peer);
	json_object_set_new(o, "peer", json_string(peer));
	json_object_set_new(o, "prefix", json_string(pfx));
	return o;
}

/* "routes [PREFIX]": the Loc-RIB, every path with the best one marked. */
static json_t *
cmd_routes(struct agent *ag, const char *want)
{
	json_t *arr = json_array();
	const struct rib_dest **v;
	struct prefix only;
	size_t n;

	if (want != NULL && prefix_parse(want, &only, NULL) != 0)
		return json_pack("{s:s}", "error", "not a prefix; usage: routes [PREFIX]");
	v = loc_rib_sorted(ag->loc, &n);
	for (size_t i = 0; i < n; i++) {
		char pfx[PREFIX_STRLEN], from[ADDR_STRLEN];

		if (want != NULL && prefix_cmp(&v[i]->p, &only) != 0)
			continue;
		prefix_format(&v[i]->p, pfx);
		for (uint16_t k = 0; k < v[i]->npaths; k++) {
			const struct rib_path *p = &v[i]->paths[k];
			json_t *o = attrs_json(&p->attr->a);

			if (p->src.local)
				snprintf(from, sizeof(from), "local");
			else
				addr_format(&p->src.addr, from);
			json_object_set_new(o, "prefix", json_string(pfx));
			json_object_set_new(o, "from", json_string(from));
			json_object_set_new(o, "best", json_boolean(k == v[i]->best));
			json_array_append_new(arr, o);
		}
	}
	free(v);
	return arr;
}

static json_t *
cmd_adj_rib_in(struct agent *ag, const char *peer)
{
	json_t *arr = json_array();
	struct addr want;

	if (peer != NULL && addr_parse(peer, &want) != 0)
		return json_pack("{s:s}", "error", "not an IP address; usage: adj-rib-in [PEER]");
	for (struct session *s = ag->sessions; s; s = s->next) {
		struct adj_in_route *v;
		size_t n;

		if (s->adj_in == NULL || (peer != NULL && addr_cmp(&want, &s->spec.remote) != 0))
			continue;
		v = adj_in_sorted(s->adj_in, &n);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, route_json(s, &v[i]));
		free(v);
	}
	return arr;
}

static void
reply(int fd, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0, off = 0;

	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	send(fd, "\n", 1, MSG_NOSIGNAL);
	free(text);
	json_decref(doc);
}

static void
control_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct agent *ag = w->data;
	struct timeval tv = {.tv_sec = 1};
	char line[256];
	ssize_t n;
	int fd;

	(void)loop;
	(void)revents;
	fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* A client gets one second to ask and to read; it cannot stall the agent longer. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = recv(fd, line, sizeof(line) - 1, 0);
	if (n > 0) {
		line[n] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "sessions") == 0)
			reply(fd, cmd_sessions(ag));
		else if (strcmp(line, "adj-rib-in") == 0)
			reply(fd, cmd_adj_rib_in(ag, NULL));
		else if (strncmp(line, "adj-rib-in ", 11) == 0)
			reply(fd, cmd_adj_rib_in(ag, line + 11));
		else if (strcmp(line, "routes") == 0)
			reply(fd, cmd_routes(ag, NULL));
		else if (strncmp(line, "routes ", 7) == 0)
			reply(fd, cmd_routes(ag, line + 7));
		else
			reply(fd, json_pack("{s:s}", "error",
					    "unknown command; accepted: sessions, adj-rib-in [PEER], "
					    "routes [PREFIX]"));
	}
	close(fd);
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
	if (ag->control_fd < 0)
		return;
	ev_io_stop(ag->loop, &ag->control_io);
	close(ag->control_fd);
	unlink(ag->cfg.control);
	ag->control_fd = -1;
}
