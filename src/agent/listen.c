/* The BGP listeners (IPv4 and IPv6): accept, find the session, or refuse. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/sock.h"
#include "lib/log.h"

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct agent *ag = w->data;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct addr peer;
	struct session *s;
	char a[ADDR_STRLEN];
	uint16_t port;
	int fd;

	(void)loop;
	(void)revents;
	fd = accept4(w->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	sock_addr_from(&ss, &peer, &port);
	addr_format(&peer, a);
	s = ag->stopping ? NULL : session_find(ag, &peer);
	if (s == NULL) {
		log_info("connection from %s (port %u) refused: not a configured peer", a, port);
		close(fd);
		return;
	}
	log_debug("peer %s: incoming connection", a);
	session_accept(s, fd);
}

int
listen_start(struct agent *ag, struct err *err)
{
	static const int families[2] = {AF_INET, AF_INET6};

	for (int i = 0; i < 2; i++) {
		ag->listen_fd[i] = sock_listen(families[i], ag->cfg.listen_port, err);
		if (ag->listen_fd[i] < 0) {
			/* A machine without IPv6 still runs IPv4 sessions. */
			if (families[i] == AF_INET6 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
				log_warnx("%s; no IPv6 sessions", err->msg);
				continue;
			}
			return -1;
		}
		ev_io_init(&ag->listen_io[i], accept_cb, ag->listen_fd[i], EV_READ);
		ag->listen_io[i].data = ag;
		ev_io_start(ag->loop, &ag->listen_io[i]);
	}
	return 0;
}

void
listen_md5_update(struct agent *ag, const struct addr *peer, const char *key)
{
	int fd = ag->listen_fd[addr_is_v4(peer) ? 0 : 1];
	struct err err;

	/* RFC 2385 on the listener too: the peer's SYN must be signed with its key. */
	if (fd >= 0 && sock_md5(fd, peer, key, &err) != 0)
		log_warnx("listener: %s", err.msg);
}

void
listen_stop(struct agent *ag)
{
	for (int i = 0; i < 2; i++) {
		if (ag->listen_fd[i] < 0)
			continue;
		ev_io_stop(ag->loop, &ag->listen_io[i]);
		close(ag->listen_fd[i]);
		ag->listen_fd[i] = -1;
	}
}
