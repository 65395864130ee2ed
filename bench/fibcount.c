/*
 * fibcount: when did the benchmark's routes reach the kernel? (bench/bgp_bench.sh's
 * kernel-routes scenario runs it in the namespace of the daemon under test.)
 *
 *   fibcount [-6] COUNT [FIRST [NETNS...]]
 *       follows the namespace's routes of one family (RTM_NEWROUTE/RTM_DELROUTE),
 *       after a first dump, and counts those whose destination is one of the
 *       benchmark's prefixes FIRST..FIRST+COUNT-1 (bench/bgpgen/prefixes.h), in any
 *       table but local; prints "ready", "progress COUNT" each second, and "done NS
 *       COUNT" (CLOCK_REALTIME of the message that completed them) once all are
 *       there. If the kernel drops notifications (ENOBUFS) it dumps the table again.
 *       With NETNS paths (the devices' namespaces of the many-instances scenario,
 *       IPv4) it follows all of them instead, each with an equal share of the COUNT
 *       prefixes, without subscribing (see poll_namespaces), and says "done" with the
 *       time the last share was seen complete, once a dump of every namespace found
 *       all COUNT prefixes.
 *   fibcount batch [-6] COUNT VIA
 *       prints an `ip -batch` file adding the same COUNT prefixes via VIA: the
 *       kernel's own insertion rate as iproute2 gives it, one request at a time.
 *   fibcount load [-6] COUNT VIA
 *       adds the same COUNT prefixes via VIA itself, as fast as netlink takes
 *       them: 64 KB of requests per sendmsg, no acknowledgement but for the
 *       last (a refusal is reported and fails it), as a daemon that batches
 *       would; prints the seconds from the first send to the last answer. The
 *       kernel's insertion limit, the second reference row.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "prefixes.h"

#define RCVBUF (256 * 1024 * 1024)

static struct {
	int family;
	uint32_t first, total, have;
	uint8_t *bits;
} fc;

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "fibcount: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) >= 0)
		tb[type] = a;
	return MNL_CB_OK;
}

/* One route message: marks or clears its prefix if it is one of ours. */
static int
route(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	size_t alen = fc.family == AF_INET ? 4 : 16;
	uint32_t table = rm->rtm_table, i;
	struct prefix p;
	bool on;

	(void)data;
	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return MNL_CB_OK;
	if (rm->rtm_family != fc.family || rm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rm), route_attr, tb);
	if (tb[RTA_TABLE] != NULL)
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if (table == RT_TABLE_LOCAL || tb[RTA_DST] == NULL ||
	    mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
		return MNL_CB_OK;
	memset(&p, 0, sizeof(p));
	p.addr.family = fc.family;
	p.len = rm->rtm_dst_len;
	memcpy(p.addr.b, mnl_attr_get_payload(tb[RTA_DST]), alen);
	if (!bench_prefix_index(&p, &i) || i < fc.first || i - fc.first >= fc.total)
		return MNL_CB_OK;
	i -= fc.first;
	on = nlh->nlmsg_type == RTM_NEWROUTE;
	if (on == !!(fc.bits[i / 8] & (1u << (i % 8))))
		return MNL_CB_OK;
	fc.bits[i / 8] ^= (uint8_t)(1u << (i % 8));
	if (on)
		fc.have++;
	else
		fc.have--;
	return MNL_CB_OK;
}

/*
 * One namespace followed: its notifications (or, among many, its table's size), and
 * a socket of its own for dumps.
 */
struct watch {
	struct mnl_socket *ev, *dump;
	int stat;                       /* its /proc/net/fib_triestat; -1: subscribed */
	long base;                      /* the main table's prefixes, less ours, when opened */
	bool full;                      /* its share was seen */
};

/* A whole dump of the family's routes in a watch's namespace. */
static void
dump(const struct watch *w)
{
	static char buf[1 << 20];
	struct nlmsghdr *nlh;
	struct rtmsg *rm;
	unsigned seq = (unsigned)time(NULL), port = mnl_socket_get_portid(w->dump);
	ssize_t n;
	int rc;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	rm->rtm_family = (unsigned char)fc.family;
	if (mnl_socket_sendto(w->dump, nlh, nlh->nlmsg_len) < 0)
		die("route dump");
	do {
		n = mnl_socket_recvfrom(w->dump, buf, sizeof(buf));
		if (n < 0)
			die("route dump");
		rc = mnl_cb_run(buf, (size_t)n, seq, port, route, NULL);
	} while (rc > 0);
	if (rc < 0)
		die("route dump");
}

/*
 * The prefixes of the main table of a watch's namespace (/proc/net/fib_triestat:
 * the kernel counts them under RCU, without the routing lock that route changes
 * take). Without policy rules the local table's are counted too: only the change
 * since the first reading is used.
 */
static long
triestat_main(int fd)
{
	static char buf[16384];
	ssize_t n, got = 0;
	const char *m, *p;

	while ((n = pread(fd, buf + got, sizeof(buf) - 1 - (size_t)got, got)) > 0)
		got += n;
	if (n < 0)
		die("/proc/net/fib_triestat");
	buf[got] = 0;
	if ((m = strstr(buf, "\nMain:")) == NULL || (p = strstr(m, "Prefixes:")) == NULL) {
		fputs("fibcount: /proc/net/fib_triestat: no count of the main table's prefixes\n",
		      stderr);
		exit(1);
	}
	return strtol(p + strlen("Prefixes:"), NULL, 10);
}

/*
 * Opens a watch in the namespace at path (NULL: this one), subscribed (or its table's
 * size read), then dumped. A netlink socket or /proc/net file stays in the namespace
 * it was opened in: this process goes back.
 */
static void
watch_open(struct watch *w, const char *path, bool subscribe)
{
	int rcvbuf = RCVBUF, self = -1, fd;
	uint32_t have;

	if (path != NULL) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			die(path);
		close(fd);
	}
	w->dump = mnl_socket_open(NETLINK_ROUTE);
	if (w->dump == NULL || mnl_socket_bind(w->dump, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink");
	w->stat = -1;
	if (subscribe) {
		unsigned groups = fc.family == AF_INET ? RTMGRP_IPV4_ROUTE : RTMGRP_IPV6_ROUTE;

		w->ev = mnl_socket_open(NETLINK_ROUTE);
		if (w->ev == NULL)
			die("netlink");
		fd = mnl_socket_get_fd(w->ev);
		/* Room for a burst of a million notifications; past that, a dump catches up. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (mnl_socket_bind(w->ev, groups, MNL_SOCKET_AUTOPID) < 0)
			die("netlink bind");
	} else {
		/* Opened here, the file shows this namespace's table whoever reads it. */
		w->stat = open("/proc/thread-self/net/fib_triestat", O_RDONLY | O_CLOEXEC);
		if (w->stat < 0)
			die("/proc/net/fib_triestat");
		w->base = triestat_main(w->stat);
	}
	if (self >= 0 && (setns(self, CLONE_NEWNET) < 0 || close(self) < 0))
		die("back to the first namespace");
	have = fc.have;
	dump(w);   /* subscribed or counted first: nothing falls between */
	w->base -= (long)(fc.have - have);   /* ours already there count toward its share */
}

/*
 * Many namespaces: watched by polling their tables' sizes, not by subscribing. The
 * kernel offers every route notification to every subscribed netlink socket of the
 * machine, under its routing lock: with a socket for each of a hundred devices, that
 * cost the devices' route writers 9 ns a route a socket, 0.09 s of the scenario's
 * 100,000 routes (measured with 200 idle subscribers beside it: +0.18 s). One socket
 * for all namespaces (NETLINK_LISTEN_ALL_NSID) was slower still: the kernel looks a
 * namespace's id up by a linear search, twice a message. Polling takes no lock the
 * writers take, only CPU (8% of the run's samples, against 28% for a hundred
 * sockets); the time it reports is at most one poll late (1 ms plus a sweep of the
 * namespaces not yet full). A namespace is full when its main table grew by its
 * share; once all are, a dump of each must find every prefix, or it goes on polling.
 */
static int
poll_namespaces(struct watch *w, size_t nw)
{
	uint32_t share = fc.total / (uint32_t)nw;
	long long last_progress = 0, done = 0;
	size_t left = nw;

	printf("ready %u\n", fc.have);
	fflush(stdout);
	for (;;) {
		struct timespec pause = {0, 1000 * 1000};
		long long now;
		long grown = 0;

		for (size_t i = 0; i < nw; i++) {
			long c;

			if (w[i].full) {
				grown += share;
				continue;
			}
			c = triestat_main(w[i].stat) - w[i].base;
			grown += c;
			if (c >= (long)share) {
				w[i].full = true;
				left--;
			}
		}
		now = now_ns();
		if (left == 0 && done == 0)
			done = now;
		if (done != 0) {
			for (size_t i = 0; i < nw; i++)
				dump(&w[i]);
			if (fc.have == fc.total) {
				printf("done %lld %u\n", done, fc.have);
				return fflush(stdout) == 0 ? 0 : 1;
			}
			done = 0;   /* not yet: the poll before the next complete dump says when */
		}
		if (now - last_progress >= 1000000000LL) {
			last_progress = now;
			printf("progress %ld\n", grown);
			fflush(stdout);
		}
		nanosleep(&pause, NULL);
	}
}

static int
batch(int argc, char **argv)
{
	struct prefix p;
	char text[PREFIX_STRLEN];
	uint32_t total;

	if (argc != 2)
		return 2;
	total = (uint32_t)strtoul(argv[0], NULL, 10);
	for (uint32_t i = 0; i < total; i++) {
		bench_prefix(fc.family, i, &p);
		prefix_format(&p, text);
		printf("route add %s via %s\n", text, argv[1]);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The COUNT prefixes via VIA into this namespace's main table, batched. */
static int
load(int argc, char **argv)
{
	static char buf[64 << 10], reply[1 << 16];
	struct mnl_socket *nl;
	struct prefix via, p;
	size_t alen = fc.family == AF_INET ? 4 : 16;
	uint32_t total, i = 0, seq = 0;
	long long t0;
	ssize_t n;

	if (argc != 2)
		return 2;
	total = (uint32_t)strtoul(argv[0], NULL, 10);
	memset(&via, 0, sizeof(via));
	if (addr_parse(argv[1], &via.addr) != 0 || via.addr.family != fc.family) {
		fprintf(stderr, "fibcount: load: VIA %s is not an address of the family\n", argv[1]);
		return 2;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink");
	t0 = now_ns();
	while (i < total) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf) / 2);

		for (; i < total; i++) {
			struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
			struct rtmsg *rtm;

			bench_prefix(fc.family, i, &p);
			nlh->nlmsg_type = RTM_NEWROUTE;
			nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL |
					   (i + 1 == total ? NLM_F_ACK : 0);
			nlh->nlmsg_seq = ++seq;
			rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
			rtm->rtm_family = (unsigned char)fc.family;
			rtm->rtm_dst_len = p.len;
			rtm->rtm_table = RT_TABLE_MAIN;
			rtm->rtm_protocol = RTPROT_STATIC;
			rtm->rtm_scope = RT_SCOPE_UNIVERSE;
			rtm->rtm_type = RTN_UNICAST;
			mnl_attr_put(nlh, RTA_DST, alen, p.addr.b);
			mnl_attr_put(nlh, RTA_GATEWAY, alen, via.addr.b);
			if (!mnl_nlmsg_batch_next(b))
				break;  /* full: this one starts the next batch */
		}
		if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
			die("netlink send");
		mnl_nlmsg_batch_stop(b);
	}
	/* Every request was applied before its sendmsg returned: any refusal is queued. */
	while ((n = mnl_socket_recvfrom(nl, reply, sizeof(reply))) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)reply;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (e->error != 0) {
				errno = -e->error;
				die("a route was refused");
			}
			if (nlh->nlmsg_seq == seq)
				break;
		}
	}
	if (n <= 0)
		die("netlink receive");
	printf("%.3f\n", (double)(now_ns() - t0) / 1e9);
	mnl_socket_close(nl);
	return 0;
}

int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	long long last_progress = 0;
	uint32_t shown = UINT32_MAX;
	struct watch *w;
	struct pollfd pfd;
	size_t nw;
	int mode = 0;

	fc.family = AF_INET;
	argv++, argc--;
	if (argc > 0 && strcmp(argv[0], "batch") == 0)
		mode = 1, argv++, argc--;
	else if (argc > 0 && strcmp(argv[0], "load") == 0)
		mode = 2, argv++, argc--;
	if (argc > 0 && strcmp(argv[0], "-6") == 0)
		fc.family = AF_INET6, argv++, argc--;
	if (mode == 1) {
		int rc = batch(argc, argv);

		if (rc == 2)
			fputs("usage: fibcount batch [-6] COUNT VIA\n", stderr);
		return rc;
	}
	if (mode == 2) {
		int rc = load(argc, argv);

		if (rc == 2)
			fputs("usage: fibcount load [-6] COUNT VIA\n", stderr);
		return rc;
	}
	if (argc < 1 || (fc.total = (uint32_t)strtoul(argv[0], NULL, 10)) == 0) {
		fputs("usage: fibcount [-6] COUNT [FIRST [NETNS...]] | fibcount batch|load [-6] COUNT VIA\n",
		      stderr);
		return 2;
	}
	if (argc >= 2)
		fc.first = (uint32_t)strtoul(argv[1], NULL, 10);
	nw = argc > 2 ? (size_t)argc - 2 : 1;
	fc.bits = calloc(fc.total / 8 + 1, 1);
	w = calloc(nw, sizeof(*w));
	if (fc.bits == NULL || w == NULL)
		die("setup");
	if (argc > 2) {
		if (fc.family != AF_INET) {
			fputs("fibcount: NETNS paths: IPv4 only (/proc/net/fib_triestat)\n",
			      stderr);
			return 2;
		}
		for (size_t i = 0; i < nw; i++)
			watch_open(&w[i], argv[2 + i], false);
		return poll_namespaces(w, nw);
	}
	watch_open(&w[0], NULL, true);
	pfd.fd = mnl_socket_get_fd(w[0].ev);
	pfd.events = POLLIN;
	printf("ready %u\n", fc.have);
	fflush(stdout);
	for (;;) {
		long long now;
		ssize_t n;

		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			die("poll");
		n = pfd.revents ? mnl_socket_recvfrom(w[0].ev, buf, sizeof(buf)) : 0;
		if (n < 0 && errno == ENOBUFS)
			dump(&w[0]);
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			die("netlink receive");
		else if (n > 0)
			mnl_cb_run(buf, (size_t)n, 0, 0, route, NULL);
		now = now_ns();
		if (fc.have == fc.total) {
			printf("done %lld %u\n", now, fc.have);
			return fflush(stdout) == 0 ? 0 : 1;
		}
		if (now - last_progress >= 1000000000LL && fc.have != shown) {
			last_progress = now;
			shown = fc.have;
			printf("progress %u\n", fc.have);
			fflush(stdout);
		}
	}
}
