/*
 * Connections ended with a NOTIFICATION, closed once the peer has closed its side.
 *
 * Closing at once has two costs. If the peer's data is still unread here, the kernel
 * answers close() with a reset, and the peer may drop our NOTIFICATION unread. And a
 * session started again right away (a changed peer) connects before the peer has read
 * the NOTIFICATION of the old connection: BIRD then takes the new connection for the
 * old session's peer restarting and resets the old one, so it never learns why it
 * ended. So the old connection sends its FIN after the NOTIFICATION, reads and drops
 * whatever the peer still sends, and is closed when the peer closes (or after
 * LINGER_MAX); a session_start to the same peer waits for that. (The FSM's own
 * reconnects wait their IdleHold time instead.) While tabbyd stops, and past
 * LINGER_COUNT_MAX lingering connections, a connection is closed at once as before.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/log.h"

/* How long a peer that never closes keeps the descriptor and the next session waiting. */
#define LINGER_MAX 2.0
/* At most this many at once (10,000 peers reset together would hold as many descriptors). */
#define LINGER_COUNT_MAX 256

struct lingering {
	struct agent *ag;
	int fd;
	const struct device *dev;  /* compared, never followed: the device may be gone (a new
	                            * one at the same address: a wait of LINGER_MAX at worst) */
	struct addr remote;
	struct session *waiting;   /* starts when this connection is closed */
	ev_io io;
	ev_timer timer;
	struct lingering *next;
};

static bool
same_peer(const struct lingering *l, const struct device *dev, const struct addr *remote)
{
	return l->dev == dev && addr_cmp(&l->remote, remote) == 0;
}

static void
linger_end(struct lingering *l)
{
	struct agent *ag = l->ag;
	struct session *s = l->waiting;

	for (struct lingering **pp = &ag->lingers; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	ag->nlingers--;
	ev_io_stop(ag->loop, &l->io);
	ev_timer_stop(ag->loop, &l->timer);
	close(l->fd);
	/* Another connection to the peer still lingering (a collision's): the session waits for it. */
	for (struct lingering *o = ag->lingers; s != NULL && o != NULL; o = o->next) {
		if (o->waiting == NULL && same_peer(o, l->dev, &l->remote)) {
			o->waiting = s;
			s = NULL;
		}
	}
	free(l);
	if (s != NULL)
		session_go(s);
}

static void
linger_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct lingering *l = w->data;
	uint8_t buf[4096];
	ssize_t n;

	(void)loop;
	(void)revents;
	/* Whatever the peer still sends is not for us any more: read and dropped, one read
	 * per wake-up (a peer that floods it cannot hold the loop here). */
	n = read(l->fd, buf, sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		linger_end(l);
}

static void
linger_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	linger_end(w->data);
}

void
linger_start(struct agent *ag, int fd, const struct device *dev, const struct addr *remote)
{
	struct lingering *l;

	/* Stopping, nothing is left to start after it: closed now. */
	if (ag->stopping || ag->nlingers >= LINGER_COUNT_MAX || shutdown(fd, SHUT_WR) != 0) {
		close(fd);
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->ag = ag;
	l->fd = fd;
	l->dev = dev;
	l->remote = *remote;
	ev_io_init(&l->io, linger_read_cb, fd, EV_READ);
	ev_timer_init(&l->timer, linger_timer_cb, LINGER_MAX, 0.);
	l->io.data = l->timer.data = l;
	ev_io_start(ag->loop, &l->io);
	ev_timer_start(ag->loop, &l->timer);
	l->next = ag->lingers;
	ag->lingers = l;
	ag->nlingers++;
}

bool
linger_defer(struct agent *ag, struct session *s)
{
	for (struct lingering *l = ag->lingers; l; l = l->next) {
		if (l->waiting == NULL && same_peer(l, s->dev, &s->spec.remote)) {
			l->waiting = s;
			return true;
		}
	}
	return false;
}

void
linger_forget(struct agent *ag, const struct session *s)
{
	for (struct lingering *l = ag->lingers; l; l = l->next)
		if (l->waiting == s)
			l->waiting = NULL;
}

void
linger_close_all(struct agent *ag)
{
	while (ag->lingers != NULL) {
		ag->lingers->waiting = NULL;
		linger_end(ag->lingers);
	}
}
