#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "agent/sock.h"
#include "bgp/rw.h"

#define READ_ROOM 16384          /* free space made before every read */
#define WRITE_CHUNK (1u << 20)   /* at most this per write() */

long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
conn_init(struct conn *c, const struct addr *local, const struct addr *remote, uint32_t as,
	  uint32_t id)
{
	struct wr w;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->local = *local;
	c->remote = *remote;
	c->as = as;
	c->id = id;
	w = wr_init(c->ka, sizeof(c->ka));
	bgp_keepalive_encode(&w);
}

void
conn_close(struct conn *c, const char *why)
{
	if (c->fd >= 0)
		close(c->fd);   /* also leaves the epoll set */
	c->fd = -1;
	c->state = CONN_IDLE;
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->in_len = 0;
	c->out = NULL;
	c->out_len = c->out_off = c->out_msg_end = 0;
	c->ka_due = false;
	c->ka_off = 0;
}

static int
fail(struct conn *c, const char *what)
{
	char why[200];

	snprintf(why, sizeof(why), "%s: %s", what, strerror(errno));
	conn_close(c, why);
	return -1;
}

int
conn_connect(struct conn *c, int epfd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
	struct err err;
	char why[200];
	int done;

	c->fd = sock_connect(&c->local, &c->remote, 179, NULL, 0, &done, &err);
	if (c->fd < 0) {
		snprintf(why, sizeof(why), "connect: %s", err.msg);
		conn_close(c, why);
		return -1;
	}
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		return fail(c, "epoll_ctl");
	c->state = CONN_CONNECTING;
	return 0;
}

static size_t
msg_len_at(const uint8_t *p)
{
	return (size_t)(p[16] << 8 | p[17]);
}

static bool
at_boundary(const struct conn *c)
{
	return c->out == NULL || c->out_off == c->out_msg_end;
}

bool
conn_drained(const struct conn *c)
{
	return c->out == NULL || c->out_off == c->out_len;
}

int
conn_flush(struct conn *c)
{
	if (c->state == CONN_IDLE || c->state == CONN_CONNECTING)
		return 0;
	for (;;) {
		size_t end;
		ssize_t w;

		if (c->ka_due && at_boundary(c)) {
			w = write(c->fd, c->ka + c->ka_off, sizeof(c->ka) - c->ka_off);
			if (w < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : fail(c, "write");
			c->ka_off += (size_t)w;
			if (c->ka_off < sizeof(c->ka))
				continue;
			c->ka_due = false;
			c->ka_off = 0;
		}
		if (c->out == NULL || c->out_off == c->out_len)
			return 0;
		end = c->ka_due ? c->out_msg_end : c->out_len;
		if (end - c->out_off > WRITE_CHUNK)
			end = c->out_off + WRITE_CHUNK;
		w = write(c->fd, c->out + c->out_off, end - c->out_off);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : fail(c, "write");
		c->out_off += (size_t)w;
		while (c->out_msg_end <= c->out_off && c->out_msg_end < c->out_len)
			c->out_msg_end += msg_len_at(c->out + c->out_msg_end);
	}
}

int
conn_send(struct conn *c, const uint8_t *stream, size_t len)
{
	if (c->state != CONN_UP || !conn_drained(c))
		return -1;
	c->out = stream;
	c->out_len = len;
	c->out_off = c->out_msg_end = 0;
	return conn_flush(c);
}

int
conn_keepalive(struct conn *c)
{
	if (c->state != CONN_UP)
		return 0;
	c->ka_due = true;
	return conn_flush(c);
}

static int
start_handshake(struct conn *c)
{
	struct bgp_open o;
	struct wr w = wr_init(c->hs, sizeof(c->hs));
	int err = sock_connect_result(c->fd);

	if (err != 0) {
		errno = err;
		return fail(c, "connect");
	}
	/* One family, the transport's: IPv4 NLRI over IPv4, MP_REACH IPv6 over IPv6. */
	bgp_open_ours(&o, c->as, 240, c->id, addr_is_v4(&c->local), !addr_is_v4(&c->local));
	bgp_open_encode(&w, &o);
	bgp_keepalive_encode(&w);
	c->state = CONN_OPENSENT;
	c->out = c->hs;
	c->out_len = w.len;
	c->out_off = c->out_msg_end = 0;
	return conn_flush(c);
}

/* One whole message. */
static int
handle(struct conn *c, int type, const uint8_t *m, size_t len)
{
	struct bgp_notif n;
	char why[200];

	if (type == BGP_NOTIFICATION) {
		if (bgp_notif_decode(m + BGP_HEADER_LEN, len - BGP_HEADER_LEN, &n) == 0)
			snprintf(why, sizeof(why), "NOTIFICATION %u/%u received (%s)", n.code, n.subcode,
				 bgp_notif_name(n.code, n.subcode));
		else
			snprintf(why, sizeof(why), "a NOTIFICATION too short to read");
		conn_close(c, why);
		return -1;
	}
	if (c->state == CONN_OPENSENT) {
		if (type == BGP_KEEPALIVE) {
			c->state = CONN_UP;
			c->up_at = now_ns();
		}
		return 0;
	}
	if (c->on_msg)
		c->on_msg(c, type, m, len);
	return 0;
}

static int
read_some(struct conn *c)
{
	for (;;) {
		size_t off = 0;
		ssize_t r;

		if (c->in_cap - c->in_len < READ_ROOM) {
			size_t cap = c->in_cap ? c->in_cap * 2 : READ_ROOM * 2;

			while (cap - c->in_len < READ_ROOM)
				cap *= 2;
			c->in = realloc(c->in, cap);
			if (c->in == NULL) {
				errno = ENOMEM;
				return fail(c, "read buffer");
			}
			c->in_cap = cap;
		}
		r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (r == 0) {
			conn_close(c, "connection closed by the daemon");
			return -1;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : fail(c, "read");
		c->in_len += (size_t)r;
		while (c->in_len - off >= BGP_HEADER_LEN) {
			struct bgp_notif err;
			uint16_t len;
			uint8_t type;
			char why[200];

			/* The codec's header checks (marker, length, type); extended messages allowed. */
			if (bgp_header_decode(c->in + off, BGP_EXT_MAX_LEN, &len, &type, &err) != 0) {
				snprintf(why, sizeof(why), "bad message header from the daemon: %s",
					 bgp_notif_name(err.code, err.subcode));
				conn_close(c, why);
				return -1;
			}
			if (c->in_len - off < len)
				break;
			if (handle(c, type, c->in + off, len) != 0)
				return -1;
			off += len;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

int
conn_event(struct conn *c, uint32_t events)
{
	if (c->state == CONN_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return 0;
		if (start_handshake(c) != 0)
			return -1;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		if (read_some(c) != 0)
			return -1;
	}
	if (events & EPOLLOUT)
		return conn_flush(c);
	return 0;
}
