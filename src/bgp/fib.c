#include "bgp/fib.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include <linux/if_addr.h>

struct fib {
	bool enabled;
	struct mnl_socket *nl;
	unsigned portid;
	uint32_t seq;
};

struct fib *
fib_open(bool enabled, struct err *err)
{
	struct fib *f = xcalloc(1, sizeof(*f));

	f->enabled = enabled;
	f->seq = (uint32_t)time(NULL);
	/* The socket is opened either way: interface addresses do not depend on --no-fib. */
	f->nl = mnl_socket_open(NETLINK_ROUTE);
	if (f->nl == NULL || mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err_set(err, "netlink: %s", strerror(errno));
		if (f->nl)
			mnl_socket_close(f->nl);
		free(f);
		return NULL;
	}
	f->portid = mnl_socket_get_portid(f->nl);
	return f;
}

void
fib_close(struct fib *f)
{
	if (f == NULL)
		return;
	if (f->nl)
		mnl_socket_close(f->nl);
	free(f);
}

static struct nlmsghdr *
route_msg(struct fib *f, char *buf, uint16_t type, uint16_t flags, const struct prefix *p)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++f->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)p->addr.family;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_TABBY;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, addr_is_v4(&p->addr) ? 4 : 16, p->addr.b);
	return nlh;
}

/* Sends one request and waits for its acknowledgement. */
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

int
fib_replace(struct fib *f, const struct prefix *p, const struct addr *gw, struct err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (!f->enabled)
		return 0;
	nlh = route_msg(f, buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, p);
	mnl_attr_put(nlh, RTA_GATEWAY, addr_is_v4(gw) ? 4 : 16, gw->b);
	return transact(f, nlh, err);
}

int
fib_delete(struct fib *f, const struct prefix *p, struct err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (!f->enabled)
		return 0;
	if (transact(f, route_msg(f, buf, RTM_DELROUTE, 0, p), err) != 0) {
		/* Already gone is what we wanted. */
		return errno == ESRCH ? 0 : -1;
	}
	return 0;
}

struct stale {
	struct prefix *v;
	size_t n;
};

static int
collect_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) <= RTA_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int
collect_route(const struct nlmsghdr *nlh, void *data)
{
	struct stale *st = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	struct prefix *p;

	if (rtm->rtm_protocol != RTPROT_TABBY || rtm->rtm_table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), collect_attr, tb);
	st->v = xrealloc(st->v, (st->n + 1) * sizeof(*st->v));
	p = &st->v[st->n++];
	memset(p, 0, sizeof(*p));
	p->addr.family = rtm->rtm_family;
	p->len = rtm->rtm_dst_len;
	if (tb[RTA_DST])
		memcpy(p->addr.b, mnl_attr_get_payload(tb[RTA_DST]),
		       mnl_attr_get_payload_len(tb[RTA_DST]) <= 16 ? mnl_attr_get_payload_len(tb[RTA_DST]) : 16);
	return MNL_CB_OK;
}

static int
dump(struct fib *f, int family, struct stale *st, struct err *err)
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
		rc = mnl_cb_run(buf, (size_t)n, seq, f->portid, collect_route, st);
	if (rc < 0) {
		err_set(err, "netlink dump: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
fib_flush_stale(struct fib *f, struct err *err)
{
	struct stale st = {0};
	int removed = 0;

	if (!f->enabled)
		return 0;
	if (dump(f, AF_INET, &st, err) != 0 || dump(f, AF_INET6, &st, err) != 0) {
		free(st.v);
		return -1;
	}
	for (size_t i = 0; i < st.n; i++)
		if (fib_delete(f, &st.v[i], err) == 0)
			removed++;
	free(st.v);
	return removed;
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
