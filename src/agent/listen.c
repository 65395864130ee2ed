/* The BGP listeners (IPv4 and IPv6) of the node and of each device: accept, find the
 * session in that routing instance, or refuse. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/sock.h"
#include "lib/log.h"

/* Out of descriptors: the pending connection stays queued and the listener stays
 * readable; watching it now would spin. Rest, then try again (BIRD and OpenBGPD
 * pause their listeners the same way). */
#define ACCEPT_PAUSE 1.0      /* seconds */
#define ACCEPT_LOG_EVERY 10.0 /* seconds between log lines while it lasts */

static void
watch_one(struct listeners *l, bool on)
{
	for (int i = 0; i < 2; i++) {
		if (l->fd[i] < 0)
			continue;
		if (on)
			ev_io_start(l->ag->loop, &l->io[i]);
		else
			ev_io_stop(l->ag->loop, &l->io[i]);
	}
}

static void
listen_watch(struct agent *ag, bool on)
{
	watch_one(&ag->listen, on);
	for (struct device *d = ag->devices; d; d = d->next)
		watch_one(&d->listen, on);
}

static void
pause_accepting(struct agent *ag, int e)
{
	ev_tstamp now = ev_now(ag->loop);

	ag->accept_refused++;
	if (ag->accept_logged == 0 || now - ag->accept_logged >= ACCEPT_LOG_EVERY) {
		struct rlimit rl = {0};

		getrlimit(RLIMIT_NOFILE, &rl);
		log_warnx("accept: %s: BGP connections wait, accepting paused %.0fs at a time "
			  "(%llu pauses since the last report; open files limit %llu)",
			  strerror(e), ACCEPT_PAUSE, (unsigned long long)ag->accept_refused,
			  (unsigned long long)rl.rlim_cur);
		ag->accept_logged = now;
		ag->accept_refused = 0;
	}
	listen_watch(ag, false);
	ev_timer_set(&ag->accept_pause, ACCEPT_PAUSE, 0.);
	ev_timer_start(ag->loop, &ag->accept_pause);
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	listen_watch(w->data, true);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listeners *l = w->data;
	struct agent *ag = l->ag;
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
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_accepting(ag, errno);
		else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	sock_addr_from(&ss, &peer, &port);
	addr_format(&peer, a);
	s = ag->stopping ? NULL : session_find(ag, l->dev, &peer);
	if (s == NULL) {
		log_info("connection from %s (port %u)%s%s refused: not a configured peer", a, port,
			 l->dev ? " to device " : "", l->dev ? l->dev->uuid : "");
		close(fd);
		return;
	}
	log_debug("peer %s: incoming connection", a);
	session_accept(s, fd);
}

int
listeners_open(struct listeners *l, struct err *err)
{
	static const int families[2] = {AF_INET, AF_INET6};

	for (int i = 0; i < 2; i++) {
		l->fd[i] = sock_listen(families[i], l->ag->cfg.listen_port, err);
		if (l->fd[i] < 0) {
			/* A machine without IPv6 still runs IPv4 sessions. */
			if (families[i] == AF_INET6 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
				log_warnx("%s; no IPv6 sessions", err->msg);
				continue;
			}
			listeners_close(l);
			return -1;
		}
		ev_io_init(&l->io[i], accept_cb, l->fd[i], EV_READ);
		l->io[i].data = l;
		ev_io_start(l->ag->loop, &l->io[i]);
	}
	return 0;
}

void
listeners_close(struct listeners *l)
{
	for (int i = 0; i < 2; i++) {
		if (l->fd[i] < 0)
			continue;
		ev_io_stop(l->ag->loop, &l->io[i]);
		close(l->fd[i]);
		l->fd[i] = -1;
	}
}

int
listen_start(struct agent *ag, struct err *err)
{
	ev_timer_init(&ag->accept_pause, accept_resume_cb, ACCEPT_PAUSE, 0.);
	ag->accept_pause.data = ag;
	ag->listen.ag = ag;
	return listeners_open(&ag->listen, err);
}

void
listen_md5_update(struct agent *ag, struct device *dev, const struct addr *peer, const char *key)
{
	struct listeners *l = dev ? &dev->listen : &ag->listen;
	int fd = l->fd[addr_is_v4(peer) ? 0 : 1];
	struct err err;

	/* RFC 2385 on the listener too: the peer's SYN must be signed with its key. */
	if (fd >= 0 && sock_md5(fd, peer, key, &err) != 0)
		log_warnx("listener: %s", err.msg);
}

void
listen_stop(struct agent *ag)
{
	ev_timer_stop(ag->loop, &ag->accept_pause);
	listeners_close(&ag->listen);
}
