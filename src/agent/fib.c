#include "agent/fib.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define RCVBUF (4 << 20)        /* room for FIB_WINDOW acks many times over */
#define DRAIN_TIMEOUT_MS 5000   /* fib_close waits at most this long for the kernel */
#define BATCH_BYTES (32 << 10)  /* one sendmsg: a window of route requests fits */

enum fib_op_kind { FIB_ADD, FIB_DEL };

struct fib_op {
	uint32_t seq;
	uint8_t kind;
	uint32_t metric;        /* FIB_METRIC, or what a stale route of an earlier run has */
	struct prefix p;
	struct addr gw;
};

struct fib {
	bool enabled;
	struct ev_loop *loop;
	struct mnl_socket *nl;  /* synchronous: dumps and interface addresses */
	struct mnl_socket *rt;  /* non-blocking: batched route changes */
	unsigned portid, rt_portid;
	uint32_t seq;
	ev_io io;
	ev_prepare prepare;
	ev_timer log_timer;     /* logs refusals held back by the rate limit */
	/* ops[0, acked): answered; [acked, sent): in flight; [sent, len): queued. */
	struct fib_op *ops;
	size_t acked, sent, len, cap;
	struct fib_stats stats;
	/* Refused changes since the last warning, and the last one's text. */
	uint64_t unlogged;
	ev_tstamp last_log;
	char last_error[160];
};

static void io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents);
static void log_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

static struct mnl_socket *
nl_open(unsigned *portid, bool nonblock, struct err *err)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, nonblock ? SOCK_NONBLOCK : 0);

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err_set(err, "netlink: %s", strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return NULL;
	}
	*portid = mnl_socket_get_portid(nl);
	return nl;
}

struct fib *
fib_open(struct ev_loop *loop, bool enabled, struct err *err)
{
	struct fib *f = xcalloc(1, sizeof(*f));
	int one = 1, size = RCVBUF;

	f->enabled = enabled;
	f->loop = loop;
	f->seq = (uint32_t)time(NULL);
	/* Opened either way: interface addresses do not depend on --no-fib. */
	if ((f->nl = nl_open(&f->portid, false, err)) == NULL) {
		free(f);
		return NULL;
	}
	if (!enabled)
		return f;
	if ((f->rt = nl_open(&f->rt_portid, true, err)) == NULL) {
		mnl_socket_close(f->nl);
		free(f);
		return NULL;
	}
	/* Acks carry only the request's header, and there is room for all in flight. */
	setsockopt(mnl_socket_get_fd(f->rt), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(f->rt), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(mnl_socket_get_fd(f->rt), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ev_io_init(&f->io, io_cb, mnl_socket_get_fd(f->rt), EV_READ);
	f->io.data = f;
	ev_prepare_init(&f->prepare, prepare_cb);
	f->prepare.data = f;
	ev_init(&f->log_timer, log_timer_cb);
	f->log_timer.data = f;
	return f;
}

size_t
fib_pending(const struct fib *f)
{
	return f->len - f->acked;
}

void
fib_get_stats(const struct fib *f, struct fib_stats *out)
{
	*out = f->stats;
}

static void
put_route(char *buf, const struct fib_op *op)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = op->kind == FIB_ADD ? RTM_NEWROUTE : RTM_DELROUTE;
	/*
	 * NLM_F_REPLACE replaces a route of the same destination and metric only: with
	 * our own metric, that is ours, and the host's routes stay beside it.
	 */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			   (op->kind == FIB_ADD ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = op->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)op->p.addr.family;
	rtm->rtm_dst_len = op->p.len;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* A delete matches only a route with our protocol and metric. */
	rtm->rtm_protocol = FIB_PROTO;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, addr_is_v4(&op->p.addr) ? 4 : 16, op->p.addr.b);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, op->metric);
	if (op->kind == FIB_ADD)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_is_v4(&op->gw) ? 4 : 16, op->gw.b);
}

static void
describe(const struct fib_op *op, int error, char *buf, size_t len)
{
	char p[PREFIX_STRLEN], gw[ADDR_STRLEN];

	prefix_format(&op->p, p);
	if (op->kind == FIB_ADD) {
		addr_format(&op->gw, gw);
		snprintf(buf, len, "add %s via %s: %s", p, gw, strerror(error));
	} else {
		snprintf(buf, len, "delete %s: %s", p, strerror(error));
	}
}

static void
log_failures(struct fib *f, bool force)
{
	ev_tstamp now = f->loop ? ev_now(f->loop) : (ev_tstamp)time(NULL);

	if (f->unlogged == 0)
		return;
	if (!force && now - f->last_log < FIB_LOG_INTERVAL) {
		/* Held back: said when the interval ends, even if nothing else fails. */
		if (f->loop && !ev_is_active(&f->log_timer)) {
			ev_timer_set(&f->log_timer, FIB_LOG_INTERVAL - (now - f->last_log), 0.);
			ev_timer_start(f->loop, &f->log_timer);
		}
		return;
	}
	log_warnx("kernel refused %llu route change%s (%llu in all); the last: %s",
		  (unsigned long long)f->unlogged, f->unlogged == 1 ? "" : "s",
		  (unsigned long long)f->stats.failed, f->last_error);
	f->unlogged = 0;
	f->last_log = now;
}

static void
log_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	log_failures(w->data, true);
}

static void
answered(struct fib *f, uint32_t seq, int error)
{
	size_t i = f->acked;

	/* Answers come in the order of the requests; skip any the kernel never answered. */
	while (i < f->sent && f->ops[i].seq != seq)
		i++;
	if (i == f->sent)
		return;
	f->acked = i + 1;
	/* Deleting what is already gone is what we wanted. */
	if (error == 0 || (f->ops[i].kind == FIB_DEL && error == ESRCH))
		return;
	f->stats.failed++;
	f->unlogged++;
	describe(&f->ops[i], error, f->last_error, sizeof(f->last_error));
	log_debug("kernel route %s", f->last_error);
	log_failures(f, false);
}

/* Reads every answer waiting on the socket; false on a socket error. */
static bool
read_acks(struct fib *f)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	while ((n = mnl_socket_recvfrom(f->rt, buf, sizeof(buf))) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)n;

		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			answered(f, e->msg.nlmsg_seq, -e->error);
		}
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return true;
	if (errno == ENOBUFS) {
		/* Answers were dropped: what is in flight has an unknown outcome. */
		f->stats.acks_lost += f->sent - f->acked;
		log_warnx("kernel route answers lost (receive buffer overflow): %zu changes unconfirmed",
			  f->sent - f->acked);
		f->acked = f->sent;
		return true;
	}
	log_warn("netlink receive");
	return false;
}

/* Sends queued changes, many per sendmsg, while fewer than FIB_WINDOW are in flight. */
static void
send_some(struct fib *f)
{
	/* Twice the batch: the message that does not fit is written before it is refused. */
	static char buf[BATCH_BYTES * 2];

	while (f->sent < f->len && f->sent - f->acked < FIB_WINDOW) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, BATCH_BYTES);
		size_t first = f->sent, n = first;
		ssize_t rc;

		while (n < f->len && n - f->acked < FIB_WINDOW) {
			put_route(mnl_nlmsg_batch_current(b), &f->ops[n]);
			if (!mnl_nlmsg_batch_next(b))
				break;  /* full: this one starts the next batch */
			n++;
		}
		rc = mnl_socket_sendto(f->rt, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b));
		mnl_nlmsg_batch_stop(b);
		if (rc < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				return;  /* again once answers have been read */
			log_warn("netlink send of %zu route changes", n - first);
			f->stats.failed += n - first;
			f->sent = f->acked = n;
			return;
		}
		f->stats.requests += n - first;
		f->stats.batches++;
		f->sent = n;
	}
}

/* Forgets answered changes once they are most of the array. */
static void
compact(struct fib *f)
{
	if (f->acked == f->len) {
		f->acked = f->sent = f->len = 0;
	} else if (f->acked > 4096 && f->acked > f->len / 2) {
		memmove(f->ops, f->ops + f->acked, (f->len - f->acked) * sizeof(*f->ops));
		f->sent -= f->acked;
		f->len -= f->acked;
		f->acked = 0;
	}
}

static void
update_watchers(struct fib *f)
{
	if (f->loop == NULL)
		return;
	if (f->sent > f->acked)
		ev_io_start(f->loop, &f->io);
	else
		ev_io_stop(f->loop, &f->io);
	if (f->sent < f->len)
		ev_prepare_start(f->loop, &f->prepare);
	else
		ev_prepare_stop(f->loop, &f->prepare);
}

/* Sends what the window allows and sets the watchers for what is left. */
static void
pump(struct fib *f)
{
	send_some(f);
	compact(f);
	update_watchers(f);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	read_acks(w->data);
	pump(w->data);
}

/* Before the loop sleeps: what this iteration queued goes out in one batch. */
static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	pump(w->data);
}

static int
queue(struct fib *f, enum fib_op_kind kind, const struct prefix *p, const struct addr *gw,
      uint32_t metric)
{
	struct fib_op *op;

	if (f->len == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 1024;
		f->ops = xrealloc(f->ops, f->cap * sizeof(*f->ops));
	}
	op = &f->ops[f->len++];
	memset(op, 0, sizeof(*op));
	op->seq = ++f->seq;
	op->kind = (uint8_t)kind;
	op->metric = metric;
	op->p = *p;
	if (gw)
		op->gw = *gw;
	if (f->loop)
		ev_prepare_start(f->loop, &f->prepare);
	return 0;
}

int
fib_replace(struct fib *f, const struct prefix *p, const struct addr *gw, struct err *err)
{
	(void)err;
	if (!f->enabled)
		return 0;
	return queue(f, FIB_ADD, p, gw, FIB_METRIC);
}

int
fib_delete(struct fib *f, const struct prefix *p, struct err *err)
{
	(void)err;
	if (!f->enabled)
		return 0;
	return queue(f, FIB_DEL, p, NULL, FIB_METRIC);
}

/* Outside the loop (start, shutdown): sends and waits until all is answered or timeout. */
static void
drain(struct fib *f)
{
	struct pollfd pfd = {.fd = mnl_socket_get_fd(f->rt), .events = POLLIN};

	while (f->acked < f->len) {
		send_some(f);
		if (poll(&pfd, 1, DRAIN_TIMEOUT_MS) <= 0) {
			log_warnx("kernel routes: no answer for %zu changes after %d ms",
				  f->len - f->acked, DRAIN_TIMEOUT_MS);
			break;
		}
		if (!read_acks(f))
			break;
	}
	f->acked = f->sent = f->len = 0;
	update_watchers(f);
}

void
fib_close(struct fib *f)
{
	if (f == NULL)
		return;
	if (f->rt) {
		drain(f);
		if (f->loop)
			ev_timer_stop(f->loop, &f->log_timer);
		log_failures(f, true);
		mnl_socket_close(f->rt);
	}
	if (f->nl)
		mnl_socket_close(f->nl);
	free(f->ops);
	free(f);
}

/* Sends one request on the synchronous socket and waits for its acknowledgement. */
static int
transact(struct fib *f, struct nlmsghdr *nlh, struct err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;

	if (mnl_socket_sendto(f->nl, nlh, nlh->nlmsg_len) < 0) {
		err_set(err, "netlink send: %s", strerror(errno));
		return -1;
	}
	while ((n = mnl_socket_recvfrom(f->nl, buf, sizeof(buf))) > 0) {
		int rc = mnl_cb_run(buf, (size_t)n, seq, f->portid, NULL, NULL);

		if (rc == MNL_CB_STOP)
			return 0;
		if (rc < 0) {
			err_set(err, "%s", strerror(errno));
			return -1;
		}
	}
	err_set(err, "netlink receive: %s", strerror(errno));
	return -1;
}

static int
collect_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) <= RTA_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* What a dump collects: the routes of ours, with the metric each has. */
struct dump_out {
	struct fib_route *v;
	size_t n, cap;
};

/* A route of ours from the dump (tabby's protocol in the main table). */
static int
collect_route(const struct nlmsghdr *nlh, void *data)
{
	struct dump_out *out = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	struct fib_route r = {0};

	if (rtm->rtm_protocol != FIB_PROTO || rtm->rtm_table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), collect_attr, tb) < 0)
		return MNL_CB_OK;
	r.p.addr.family = rtm->rtm_family;
	r.p.len = rtm->rtm_dst_len;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) <= sizeof(r.p.addr.b))
		memcpy(r.p.addr.b, mnl_attr_get_payload(tb[RTA_DST]), mnl_attr_get_payload_len(tb[RTA_DST]));
	if (tb[RTA_PRIORITY] && mnl_attr_get_payload_len(tb[RTA_PRIORITY]) == 4)
		r.metric = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) <= sizeof(r.gw.b)) {
		r.gw.family = rtm->rtm_family;
		memcpy(r.gw.b, mnl_attr_get_payload(tb[RTA_GATEWAY]),
		       mnl_attr_get_payload_len(tb[RTA_GATEWAY]));
	}
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 64;
		out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
	}
	out->v[out->n++] = r;
	return MNL_CB_OK;
}

static int
dump(struct fib *f, int family, struct dump_out *out, struct err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	uint32_t seq = ++f->seq;
	ssize_t n;
	int rc = MNL_CB_OK;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	if (mnl_socket_sendto(f->nl, nlh, nlh->nlmsg_len) < 0) {
		err_set(err, "netlink dump: %s", strerror(errno));
		return -1;
	}
	while (rc > MNL_CB_STOP && (n = mnl_socket_recvfrom(f->nl, buf, sizeof(buf))) > 0)
		rc = mnl_cb_run(buf, (size_t)n, seq, f->portid, collect_route, out);
	if (rc < 0) {
		err_set(err, "netlink dump: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
fib_routes_ours(struct fib *f, struct fib_route **v, size_t *n, struct err *err)
{
	struct dump_out out = {0};

	*v = NULL;
	*n = 0;
	if (!f->enabled)
		return 0;
	if (dump(f, AF_INET, &out, err) != 0 || dump(f, AF_INET6, &out, err) != 0) {
		free(out.v);
		return -1;
	}
	*v = out.v;
	*n = out.n;
	return 0;
}

int
fib_remove(struct fib *f, const struct fib_route *r)
{
	if (!f->enabled)
		return 0;
	return queue(f, FIB_DEL, &r->p, NULL, r->metric);
}

int
fib_flush_stale(struct fib *f, struct err *err)
{
	struct fib_route *v;
	size_t n;

	if (fib_routes_ours(f, &v, &n, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		fib_remove(f, &v[i]);
	free(v);
	drain(f);
	return (int)n;
}

static int
addr_msg(struct fib *f, bool add, int ifindex, const struct addr *a, unsigned plen,
	 struct err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	nlh->nlmsg_seq = ++f->seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)a->family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = (unsigned)ifindex;
	/* No duplicate address detection: the session needs the address now. */
	ifa->ifa_flags = addr_is_v4(a) ? 0 : IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, addr_is_v4(a) ? 4 : 16, a->b);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_is_v4(a) ? 4 : 16, a->b);
	return transact(f, nlh, err);
}

int
fib_addr_add(struct fib *f, int ifindex, const struct addr *a, unsigned plen, bool *added,
	     struct err *err)
{
	*added = false;
	if (addr_msg(f, true, ifindex, a, plen, err) == 0) {
		*added = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

int
fib_addr_del(struct fib *f, int ifindex, const struct addr *a, unsigned plen, struct err *err)
{
	if (addr_msg(f, false, ifindex, a, plen, err) == 0)
		return 0;
	return errno == EADDRNOTAVAIL || errno == ENODEV ? 0 : -1;
}

static int
link_msg(struct fib *f, int ifindex, int nsfd, struct err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++f->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (nsfd >= 0) {
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	} else {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	return transact(f, nlh, err);
}

int
fib_link_move(struct fib *f, int ifindex, int nsfd, struct err *err)
{
	return link_msg(f, ifindex, nsfd, err);
}

int
fib_link_up(struct fib *f, int ifindex, struct err *err)
{
	return link_msg(f, ifindex, -1, err);
}
