#include "agent/fib.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

#define RCVBUF (4 << 20)        /* refusals: thousands of reports fit between two reads */
#define SNDBUF (1 << 20)
#define BATCH_BYTES (64 << 10)  /* one sendmsg: about 1,200 route requests */
#define SEND_RETRIES 100        /* 10 ms apart: a batch the kernel has no memory for */
#define KEEP_CAP (1u << 20)     /* bytes: a drained queue larger than this gives its memory back */
#define HASH_MIN 1024           /* slots of the coalescing index, at least */
/*
 * Changes waiting for the writer (queued, or handed over and not yet taken) at
 * which fib_full says so: the loop then stops reading routes from peers until
 * the writer takes them, and a peer faster than the kernel waits in TCP flow
 * control instead of in this queue (a full table took 12 bytes a route here,
 * and the coalescing index 8 more). About 8 ms of the kernel's work: the writer
 * never waits for the loop, which imports a route several times faster.
 */
#define HOLD_AT 8192
/*
 * While the loop holds connections, they look again this often: one held for
 * FIB_HOLD_MAX then reads once (session.c). A million changes at once (a big
 * peer gone) keep the writer busy for seconds, and a hold time can be 3 s.
 */
#define HOLD_TICK (FIB_HOLD_MAX / 4)

enum fib_op_kind { FIB_ADD, FIB_DEL };

/*
 * A queued change, packed: a million of them wait while the kernel catches up.
 * Only the family's address bytes are stored, and the metric only when it is
 * not FIB_METRIC (a stale route of an earlier run): 12 bytes an IPv4 change, 36
 * an IPv6 one (a fixed 40 made the queue of a full IPv4 table 40 MB, then 16).
 * Every change of a route has the same size, so a later one replaces it in place.
 */
struct fib_op {
	uint8_t kind;
	uint8_t family;
	uint8_t len;
	uint8_t own_metric;     /* 1: a metric follows the addresses (else FIB_METRIC) */
	uint8_t addr[];         /* the destination, then the gateway: addr_len() each */
};
#define FIB_OP_MAX (sizeof(struct fib_op) + 32 + sizeof(uint32_t))

/* Changes one after another in b[0..bytes), n of them. */
struct fib_queue {
	uint8_t *b;
	size_t bytes, cap, n;
};

struct fib {
	bool enabled;
	struct ev_loop *loop;
	struct mnl_socket *nl;  /* synchronous: dumps and interface addresses */
	struct mnl_socket *rt;  /* the writer's: batched route changes, no acknowledgements */
	unsigned portid, rt_portid;
	uint32_t seq;
	/* The loop thread's. */
	ev_prepare prepare;     /* hands the queue to the writer before the loop waits */
	ev_async wake;          /* the writer took its input, or has refusals to log */
	ev_timer log_timer;     /* logs refusals held back by the rate limit */
	struct fib_queue q;     /* changes not yet handed over */
	uint32_t base;          /* the position of q.b[0] since the index was last cleared */
	/*
	 * Coalescing index: the position (byte offset) + 1 of the queued change of a
	 * route (prefix and metric), 0 if empty. A slot whose position has been handed
	 * over is free to reuse but does not end a probe; the table is rebuilt when
	 * three quarters of it are used, at twice what is queued: 8 MB while a million
	 * changes wait (it was 32 MB with 64-bit positions at four times). Positions
	 * are 32-bit: the index is cleared before base would wrap.
	 */
	uint32_t *slot;
	size_t nslot, used;
	ev_tstamp last_log;
	ev_timer hold_timer;    /* HOLD_TICK, from fib_full saying so until there is room */
	void (*on_room)(void *arg, struct fib *f);
	void *room_arg;
	/* Shared with the writer, under mu. */
	pthread_t thread;
	bool have_thread, stopping, want_wake;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the writer waits for input, the loop thread for the writer */
	struct fib_queue in;    /* handed over, not yet taken */
	size_t busy;            /* taken by the writer, not yet sent */
	struct fib_stats stats;
	uint64_t unlogged;      /* refused since the last warning */
	char last_error[256];   /* the last refusal */
	/* The writer's own. */
	struct fib_queue work;
	uint32_t wseq;
};

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents);
static void wake_cb(struct ev_loop *loop, ev_async *w, int revents);
static void log_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void hold_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void *writer(void *arg);

/*
 * Held by a writer while the kernel applies a batch with IPv4 changes. The kernel
 * applies every namespace's IPv4 route changes under one lock (RTNL; IPv6's no
 * longer take it on recent kernels), and a writer waiting for it spins on a core
 * while the holder runs: with a hundred devices' writers that spinning took a tenth
 * of the time, beside the loop thread that feeds them. A writer waiting here sleeps
 * (100x1000-dev: 0.25 s to 0.22 s, CPU 0.46 s to 0.37).
 */
static pthread_mutex_t kernel_mu = PTHREAD_MUTEX_INITIALIZER;

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

static void
set_buf(int fd, int force, int plain, int size)
{
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

struct fib *
fib_open(struct ev_loop *loop, bool enabled, struct err *err)
{
	struct fib *f = xcalloc(1, sizeof(*f));
	sigset_t all, old;
	int one = 1, fd;

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
	fd = mnl_socket_get_fd(f->rt);
	/*
	 * The kernel applies a sendmsg's requests before the call returns and answers
	 * only those it refuses (no NLM_F_ACK): with the request echoed, which says
	 * what was refused, and the kernel's own reason (extended ack).
	 */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, RCVBUF);
	set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, SNDBUF);
	ev_prepare_init(&f->prepare, prepare_cb);
	f->prepare.data = f;
	ev_async_init(&f->wake, wake_cb);
	f->wake.data = f;
	ev_init(&f->log_timer, log_timer_cb);
	f->log_timer.data = f;
	ev_init(&f->hold_timer, hold_timer_cb);
	f->hold_timer.data = f;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	/* Signals are the loop thread's: the writer starts (and stays) with them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&f->thread, NULL, writer, f) != 0)
		fatal("fib: cannot start the kernel route writer");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	f->have_thread = true;
	pthread_setname_np(f->thread, "tabbyd-fib");
	/* Watched always, but it alone does not keep the loop running. */
	if (loop) {
		ev_async_start(loop, &f->wake);
		ev_unref(loop);
	}
	return f;
}

size_t
fib_pending(const struct fib *f)
{
	struct fib *w = (struct fib *)f;  /* the mutex only */
	size_t n;

	if (!f->have_thread)
		return 0;
	pthread_mutex_lock(&w->mu);
	n = f->q.n + f->in.n + f->busy;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
fib_get_stats(const struct fib *f, struct fib_stats *out)
{
	struct fib *w = (struct fib *)f;

	if (!f->have_thread) {
		*out = f->stats;
		return;
	}
	pthread_mutex_lock(&w->mu);
	*out = f->stats;
	pthread_mutex_unlock(&w->mu);
}

static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static size_t
op_size(const struct fib_op *op)
{
	return sizeof(*op) + 2 * addr_len(op->family) + (op->own_metric ? sizeof(uint32_t) : 0);
}

static uint32_t
op_metric(const struct fib_op *op)
{
	uint32_t m = FIB_METRIC;

	if (op->own_metric)
		memcpy(&m, op->addr + 2 * addr_len(op->family), sizeof(m));
	return m;
}

static void
put_route(char *buf, const struct fib_op *op, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = op->kind == FIB_ADD ? RTM_NEWROUTE : RTM_DELROUTE;
	/*
	 * NLM_F_REPLACE replaces a route of the same destination and metric only: with
	 * our own metric, that is ours, and the host's routes stay beside it. No
	 * NLM_F_ACK: success is silent, a refusal is reported (read_reports).
	 */
	nlh->nlmsg_flags = NLM_F_REQUEST | (op->kind == FIB_ADD ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = op->family;
	rtm->rtm_dst_len = op->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* A delete matches only a route with our protocol and metric. */
	rtm->rtm_protocol = FIB_PROTO;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, addr_len(op->family), op->addr);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, op_metric(op));
	if (op->kind == FIB_ADD)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(op->family),
			     op->addr + addr_len(op->family));
}

/* In the loop thread: says what the writer found refused, at most once per interval. */
static void
log_failures(struct fib *f, bool force)
{
	ev_tstamp now = f->loop ? ev_now(f->loop) : (ev_tstamp)time(NULL);
	uint64_t unlogged, failed;
	char last[sizeof(f->last_error)];

	pthread_mutex_lock(&f->mu);
	unlogged = f->unlogged;
	failed = f->stats.failed;
	memcpy(last, f->last_error, sizeof(last));
	if (unlogged == 0 || force || now - f->last_log >= FIB_LOG_INTERVAL)
		f->unlogged = 0;
	pthread_mutex_unlock(&f->mu);
	if (unlogged == 0)
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
		  (unsigned long long)unlogged, unlogged == 1 ? "" : "s",
		  (unsigned long long)failed, last);
	f->last_log = now;
}

static void
log_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	log_failures(w->data, true);
}

static int
collect_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) <= RTA_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* "add P via GW" or "delete P", from the request the kernel echoed back. */
static void
describe_request(const struct nlmsghdr *req, size_t room, char *buf, size_t len)
{
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	const struct rtmsg *rtm;
	struct prefix p = {0};
	struct addr gw = {0};
	char ps[PREFIX_STRLEN] = "?", gs[ADDR_STRLEN] = "?";

	if (room < mnl_nlmsg_size(sizeof(*rtm)) || req->nlmsg_len > room ||
	    req->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm))) {
		snprintf(buf, len, "route change");
		return;
	}
	rtm = mnl_nlmsg_get_payload(req);
	if (mnl_attr_parse(req, sizeof(*rtm), collect_attr, tb) >= 0) {
		p.addr.family = gw.family = rtm->rtm_family;
		p.len = rtm->rtm_dst_len;
		if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) <= sizeof(p.addr.b)) {
			memcpy(p.addr.b, mnl_attr_get_payload(tb[RTA_DST]),
			       mnl_attr_get_payload_len(tb[RTA_DST]));
			prefix_format(&p, ps);
		}
		if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) <= sizeof(gw.b)) {
			memcpy(gw.b, mnl_attr_get_payload(tb[RTA_GATEWAY]),
			       mnl_attr_get_payload_len(tb[RTA_GATEWAY]));
			addr_format(&gw, gs);
		}
	}
	if (req->nlmsg_type == RTM_NEWROUTE)
		snprintf(buf, len, "add %s via %s", ps, gs);
	else
		snprintf(buf, len, "delete %s", ps);
}

/* The kernel's own words for a refusal, when it gave them (extended ack). */
static const char *
ext_ack_msg(const struct nlmsghdr *nlh, size_t skip)
{
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	mnl_attr_for_each(a, nlh, skip) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(a);
	}
	return NULL;
}

static void
refused(struct fib *f, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	/* From the echoed request's header to the end of the report. */
	size_t echoed = mnl_nlmsg_get_payload_len(nlh) - sizeof(e->error);
	int error = -e->error;
	const char *why;
	char what[160];

	/* Deleting what is already gone is what we wanted. */
	if (error == 0 || (e->msg.nlmsg_type == RTM_DELROUTE && error == ESRCH))
		return;
	describe_request(&e->msg, echoed, what, sizeof(what));
	why = e->msg.nlmsg_len <= echoed
		      ? ext_ack_msg(nlh, sizeof(e->error) + MNL_ALIGN(e->msg.nlmsg_len))
		      : NULL;
	pthread_mutex_lock(&f->mu);
	f->stats.failed++;
	f->unlogged++;
	if (why != NULL)
		snprintf(f->last_error, sizeof(f->last_error), "%s: %s (%s)", what, strerror(error), why);
	else
		snprintf(f->last_error, sizeof(f->last_error), "%s: %s", what, strerror(error));
	pthread_mutex_unlock(&f->mu);
	log_debug("kernel route %s: %s", what, strerror(error));
}

/*
 * In the writer: reads the refusals waiting on the socket; unconfirmed is how many
 * changes were sent since the last read, whose outcome is unknown if reports were
 * dropped.
 */
static void
read_reports(struct fib *f, size_t unconfirmed)
{
	/* Room for a refusal with the request echoed and the kernel's message. */
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	while ((n = mnl_socket_recvfrom(f->rt, buf, sizeof(buf))) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)n;

		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				refused(f, nlh);
	}
	if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		return;
	if (errno == ENOBUFS) {
		/* Reports were dropped: the last changes sent have an unknown outcome. */
		pthread_mutex_lock(&f->mu);
		f->stats.acks_lost += unconfirmed;
		pthread_mutex_unlock(&f->mu);
		log_warnx("kernel route refusals lost (receive buffer overflow): "
			  "up to %zu changes unconfirmed", unconfirmed);
		return;
	}
	log_warn("netlink receive");
}

/* In the writer: sends what it took, many changes per sendmsg, from buf (BATCH_BYTES * 2). */
static void
send_work(struct fib *f, char *buf)
{
	size_t off = 0;
	int retries = 0;

	while (off < f->work.bytes) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, BATCH_BYTES);
		size_t n = 0, end = off;
		bool v4 = false;
		ssize_t rc;

		while (end < f->work.bytes) {
			const struct fib_op *op = (const struct fib_op *)(f->work.b + end);

			put_route(mnl_nlmsg_batch_current(b), op, ++f->wseq);
			if (!mnl_nlmsg_batch_next(b))
				break;  /* full: this one starts the next batch */
			v4 |= op->family == AF_INET;
			end += op_size(op);
			n++;
		}
		if (v4)
			pthread_mutex_lock(&kernel_mu);
		rc = mnl_socket_sendto(f->rt, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b));
		if (v4)
			pthread_mutex_unlock(&kernel_mu);
		mnl_nlmsg_batch_stop(b);
		if (rc < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == ENOMEM) &&
		    retries++ < SEND_RETRIES) {
			/* The kernel is short of memory for the batch: a moment, then again. */
			struct timespec ts = {0, 10 * 1000 * 1000};

			nanosleep(&ts, NULL);
			continue;
		}
		retries = 0;
		if (rc < 0)
			log_warn("netlink send of %zu route changes", n);
		pthread_mutex_lock(&f->mu);
		if (rc < 0) {
			f->stats.failed += n;
		} else {
			f->stats.requests += n;
			f->stats.batches++;
		}
		f->busy -= n;
		pthread_mutex_unlock(&f->mu);
		read_reports(f, n);
		off = end;
	}
}

/*
 * The writer thread: takes what the loop thread handed over and sends it. The
 * kernel applies each sendmsg before it returns (under its routing lock), which
 * can take seconds for a million routes: here, the BGP sessions go on meanwhile.
 */
static void *
writer(void *arg)
{
	struct fib *f = arg;
	/* Twice the batch: the message that does not fit is written before it is refused. */
	char *buf = xmalloc(BATCH_BYTES * 2);

	pthread_mutex_lock(&f->mu);
	for (;;) {
		struct fib_queue t;
		bool wake;

		while (f->in.n == 0 && !f->stopping)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->in.n == 0)
			break;
		t = f->work;
		f->work = f->in;
		f->in = t;
		f->busy = f->work.n;
		wake = f->want_wake;
		f->want_wake = false;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		if (wake && f->loop)
			ev_async_send(f->loop, &f->wake);
		send_work(f, buf);
		f->work.bytes = f->work.n = 0;
		if (f->work.cap > KEEP_CAP) {
			free(f->work.b);
			f->work.b = NULL;
			f->work.cap = 0;
		}
		pthread_mutex_lock(&f->mu);
		f->busy = 0;
		wake = f->unlogged > 0;
		pthread_cond_broadcast(&f->cv);
		if (wake && f->loop)
			ev_async_send(f->loop, &f->wake);
	}
	pthread_mutex_unlock(&f->mu);
	free(buf);
	return NULL;
}

/*
 * In the loop thread: the queue goes to the writer if it has taken the last; if
 * not, it stays here (and changes to its routes still fold into it) until then.
 */
static void
hand_over(struct fib *f, bool wait)
{
	struct fib_queue t;

	if (f->q.n == 0)
		return;
	pthread_mutex_lock(&f->mu);
	while (wait && f->in.n > 0)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->q.n + f->in.n + f->busy > f->stats.pending_max)
		f->stats.pending_max = f->q.n + f->in.n + f->busy;
	if (f->in.n > 0) {
		f->want_wake = true;
		pthread_mutex_unlock(&f->mu);
		return;
	}
	/* Every index slot now names a position handed over: free for reuse. */
	f->base += (uint32_t)f->q.bytes;
	if (f->base > UINT32_MAX / 2) {
		free(f->slot);
		f->slot = NULL;
		f->nslot = f->used = 0;
		f->base = 0;
	}
	t = f->in;
	f->in = f->q;
	f->q = t;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->q.cap > KEEP_CAP) {
		free(f->q.b);
		f->q.b = NULL;
		f->q.cap = 0;
	}
}

static void
update_watchers(struct fib *f)
{
	if (f->loop == NULL)
		return;
	if (f->q.n > 0)
		ev_prepare_start(f->loop, &f->prepare);
	else
		ev_prepare_stop(f->loop, &f->prepare);
}

/* Before the loop waits: what this iteration queued goes to the writer. */
static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	hand_over(w->data, false);
	update_watchers(w->data);
}

/*
 * Whether the changes not taken by the writer are fewer than HOLD_AT; if not,
 * the writer is asked to wake the loop when it takes the next share.
 */
static bool
has_room(struct fib *f)
{
	bool room;

	pthread_mutex_lock(&f->mu);
	room = f->q.n + f->in.n < HOLD_AT;
	if (!room)
		f->want_wake = true;
	pthread_mutex_unlock(&f->mu);
	return room;
}

bool
fib_full(struct fib *f)
{
	/* No lock while the queue is short. */
	if (!f->have_thread || f->loop == NULL || f->q.n + 1 < HOLD_AT / 2)
		return false;
	if (has_room(f))
		return false;
	if (!ev_is_active(&f->hold_timer)) {
		ev_timer_set(&f->hold_timer, HOLD_TICK, HOLD_TICK);
		ev_timer_start(f->loop, &f->hold_timer);
		pthread_mutex_lock(&f->mu);
		f->stats.holds++;
		pthread_mutex_unlock(&f->mu);
	}
	return true;
}

void
fib_set_on_room(struct fib *f, void (*on_room)(void *arg, struct fib *f), void *arg)
{
	f->on_room = on_room;
	f->room_arg = arg;
}

/* The held connections look again (a pause ends when there is room, or per connection). */
static void
hold_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fib *f = w->data;

	(void)revents;
	if (has_room(f))
		ev_timer_stop(loop, w);
	if (f->on_room != NULL)
		f->on_room(f->room_arg, f);
}

/* The writer took its input (the next share can go), or has refusals to log. */
static void
wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct fib *f = w->data;

	(void)revents;
	log_failures(f, false);
	if (ev_is_active(&f->hold_timer) && has_room(f)) {
		ev_timer_stop(loop, &f->hold_timer);
		if (f->on_room != NULL)
			f->on_room(f->room_arg, f);
	}
}

static uint64_t
op_hash(const struct fib_op *op)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)op->family << 40 | (uint64_t)op->len << 32 |
					      op_metric(op));
	uint64_t w[2] = {0, 0};

	memcpy(w, op->addr, addr_len(op->family));
	h = (h ^ w[0]) * 0xff51afd7ed558ccdull;
	h = (h ^ w[1]) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static bool
same_route(const struct fib_op *a, const struct fib_op *b)
{
	return a->family == b->family && a->len == b->len && op_metric(a) == op_metric(b) &&
	       memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

static bool
queued_at(const struct fib *f, uint32_t pos)
{
	return pos >= f->base && pos - f->base < f->q.bytes;
}

/* The index made anew for what is queued: sized for it, without what was handed over. */
static void
rehash(struct fib *f)
{
	size_t n = HASH_MIN;

	while (n < 2 * f->q.n)
		n *= 2;
	free(f->slot);
	f->slot = xcalloc(n, sizeof(*f->slot));
	f->nslot = n;
	f->used = f->q.n;
	for (size_t off = 0; off < f->q.bytes;) {
		const struct fib_op *op = (const struct fib_op *)(f->q.b + off);
		size_t k = op_hash(op) & (n - 1);

		while (f->slot[k] != 0)
			k = (k + 1) & (n - 1);
		f->slot[k] = f->base + (uint32_t)off + 1;
		off += op_size(op);
	}
}

static int
queue(struct fib *f, enum fib_op_kind kind, const struct prefix *p, const struct addr *gw,
      uint32_t metric)
{
	union {
		struct fib_op op;
		uint8_t raw[FIB_OP_MAX];
	} want = {.raw = {0}};
	size_t k, reuse = SIZE_MAX, alen = addr_len(p->addr.family), size;
	uint32_t at;

	want.op.kind = (uint8_t)kind;
	want.op.family = (uint8_t)p->addr.family;
	want.op.len = p->len;
	memcpy(want.op.addr, p->addr.b, alen);
	if (gw)
		memcpy(want.op.addr + alen, gw->b, alen);
	if (metric != FIB_METRIC) {
		want.op.own_metric = 1;
		memcpy(want.op.addr + 2 * alen, &metric, sizeof(metric));
	}
	size = op_size(&want.op);
	if (f->nslot == 0)
		rehash(f);
	/* A change of a route still queued replaces it there (same family, same size):
	 * the kernel sees the last. */
	for (k = op_hash(&want.op) & (f->nslot - 1); f->slot[k] != 0; k = (k + 1) & (f->nslot - 1)) {
		uint32_t pos = f->slot[k] - 1;

		if (!queued_at(f, pos)) {
			if (reuse == SIZE_MAX)
				reuse = k;
		} else if (same_route((const struct fib_op *)(f->q.b + (pos - f->base)), &want.op)) {
			memcpy(f->q.b + (pos - f->base), want.raw, size);
			return 0;
		}
	}
	if (f->q.cap - f->q.bytes < size) {
		f->q.cap = f->q.cap ? f->q.cap * 2 : 16384;
		f->q.b = xrealloc(f->q.b, f->q.cap);
	}
	at = (uint32_t)f->q.bytes;
	memcpy(f->q.b + at, want.raw, size);
	f->q.bytes += size;
	f->q.n++;
	if (reuse == SIZE_MAX) {
		reuse = k;
		f->used++;
	}
	f->slot[reuse] = f->base + at + 1;  /* the new change's position + 1 */
	if (f->used > f->nslot / 4 * 3)
		rehash(f);
	if (f->q.n == 1)
		update_watchers(f);
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

/* Outside the loop (start, shutdown): everything queued goes to the kernel now. */
static void
drain(struct fib *f)
{
	if (!f->have_thread)
		return;
	hand_over(f, true);
	pthread_mutex_lock(&f->mu);
	while (f->in.n > 0 || f->busy > 0)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	update_watchers(f);
}

void
fib_stats_add(struct fib_stats *a, const struct fib_stats *b)
{
	a->requests += b->requests;
	a->batches += b->batches;
	a->failed += b->failed;
	a->acks_lost += b->acks_lost;
	a->holds += b->holds;
	if (b->pending_max > a->pending_max)
		a->pending_max = b->pending_max;
}

void
fib_close(struct fib *f)
{
	fib_close_stats(f, NULL);
}

void
fib_close_stats(struct fib *f, struct fib_stats *out)
{
	if (out != NULL)
		*out = (struct fib_stats){0};
	if (f == NULL)
		return;
	if (f->have_thread) {
		drain(f);
		pthread_mutex_lock(&f->mu);
		f->stopping = true;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->thread, NULL);
		if (f->loop) {
			ev_ref(f->loop);
			ev_async_stop(f->loop, &f->wake);
			ev_timer_stop(f->loop, &f->log_timer);
			ev_timer_stop(f->loop, &f->hold_timer);
		}
		log_failures(f, true);
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv);
	}
	if (out != NULL)
		*out = f->stats;  /* the writer has ended */
	if (f->rt)
		mnl_socket_close(f->rt);
	if (f->nl)
		mnl_socket_close(f->nl);
	free(f->q.b);
	free(f->in.b);
	free(f->work.b);
	free(f->slot);
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
