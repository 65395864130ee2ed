/* Node address autodetection, as calico-node does it. */
#include "agent/autodetect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/sock.h"
#include "bgp/policy.h"
#include "lib/log.h"

#define METHOD_ACCEPTED                                                                        \
	"accepted: first-found, interface=REGEX[,REGEX...], skip-interface=REGEX[,REGEX...], "  \
	"can-reach=DEST (an address), cidr=CIDR[,CIDR...]"

/* Interfaces calico-node leaves out of first-found and cidr= (container and tunnel ones). */
static const char *const default_skip[] = {
	"^docker", "^cbr", "^dummy", "^virbr", "^lxcbr", "^veth", "^lo$", "^cali", "^tunl",
	"^flannel", "^kube-ipvs", "^cni", "^vxlan.calico", "^vxlan-v6.calico", "^wireguard.cali",
	"^wg-v6.cali", "^nodelocaldns", NULL,
};

static const char *
arg_of(const char *method, const char *name)
{
	size_t n = strlen(name);

	return strncmp(method, name, n) == 0 && method[n] == '=' ? method + n + 1 : NULL;
}

/* A comma-separated list of regular expressions (POSIX extended), compiled. */
static int
regexes(const char *list, regex_t **out, size_t *n, const char *what, struct err *err)
{
	char *copy = strdup(list), *save = NULL;

	*out = NULL;
	*n = 0;
	if (copy == NULL)
		fatal("out of memory");
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		if (regcomp(&(*out)[*n], t, REG_EXTENDED | REG_NOSUB) != 0) {
			err_set(err, "invalid IP autodetection method '%s': '%s' is not a regular "
				     "expression; %s", what, t, METHOD_ACCEPTED);
			for (size_t i = 0; i < *n; i++)
				regfree(&(*out)[i]);
			free(*out);
			free(copy);
			*out = NULL;
			*n = 0;
			return -1;
		}
		(*n)++;
	}
	free(copy);
	if (*n == 0) {
		err_set(err, "invalid IP autodetection method '%s': no regular expression; %s", what,
			METHOD_ACCEPTED);
		return -1;
	}
	return 0;
}

static void
regexes_free(regex_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		regfree(&v[i]);
	free(v);
}

static bool
any_match(const regex_t *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (regexec(&v[i], name, 0, NULL, 0) == 0)
			return true;
	return false;
}

/* A comma-separated list of prefixes; NULL out to only check. */
static int
cidrs(const char *list, struct prefix **out, size_t *n, const char *what, struct err *err)
{
	char *copy = strdup(list), *save = NULL;
	struct prefix *v = NULL;
	size_t k = 0;
	struct err e;

	if (copy == NULL)
		fatal("out of memory");
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		if (prefix_parse(t, &v[k], &e) != 0) {
			err_set(err, "invalid IP autodetection method '%s': '%s' is not a CIDR (%s); "
				     "%s", what, t, e.msg, METHOD_ACCEPTED);
			free(v);
			free(copy);
			return -1;
		}
		k++;
	}
	free(copy);
	if (k == 0) {
		err_set(err, "invalid IP autodetection method '%s': no CIDR; %s", what,
			METHOD_ACCEPTED);
		return -1;
	}
	if (out != NULL) {
		*out = v;
		*n = k;
	} else {
		free(v);
	}
	return 0;
}

int
autodetect_method_check(const char *method, struct err *err)
{
	const char *arg;
	regex_t *r;
	size_t n;
	struct addr a;

	if (strcmp(method, "first-found") == 0)
		return 0;
	if ((arg = arg_of(method, "interface")) != NULL ||
	    (arg = arg_of(method, "skip-interface")) != NULL) {
		if (regexes(arg, &r, &n, method, err) != 0)
			return -1;
		regexes_free(r, n);
		return 0;
	}
	if ((arg = arg_of(method, "can-reach")) != NULL) {
		if (addr_parse(arg, &a) != 0) {
			err_set(err, "invalid IP autodetection method '%s': '%s' is not an IP "
				     "address; %s", method, arg, METHOD_ACCEPTED);
			return -1;
		}
		return 0;
	}
	if ((arg = arg_of(method, "cidr")) != NULL)
		return cidrs(arg, NULL, NULL, method, err);
	err_set(err, "invalid IP autodetection method '%s'; %s", method, METHOD_ACCEPTED);
	return -1;
}

/* An address a node can use: unicast, not loopback, not link-local. */
static bool
usable(const struct autodetect_addr *x, int family)
{
	const uint8_t *b = x->a.b;

	if (x->a.family != family || addr_not_unicast(&x->a) != NULL)
		return false;
	if (family == AF_INET)
		return b[0] != 127 && !(b[0] == 169 && b[1] == 254);
	return !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

int
autodetect_choose(const struct autodetect_addrs *list, int family, const char *method,
		  const struct addr *reach_src, struct autodetect_addr *out, struct err *err)
{
	regex_t *inc = NULL, *exc = NULL;
	size_t ninc = 0, nexc = 0, ncidr = 0;
	struct prefix *cidr = NULL;
	const char *arg;
	int rc = -1;

	if (autodetect_method_check(method, err) != 0)
		return -1;
	if ((arg = arg_of(method, "interface")) != NULL)
		regexes(arg, &inc, &ninc, method, err);
	else if ((arg = arg_of(method, "skip-interface")) != NULL)
		regexes(arg, &exc, &nexc, method, err);
	else if ((arg = arg_of(method, "cidr")) != NULL)
		cidrs(arg, &cidr, &ncidr, method, err);
	/* interface=: the first regex that matches an interface wins, in the order given. */
	for (size_t r = 0; r < (ninc ? ninc : 1); r++) {
		for (size_t i = 0; i < list->n; i++) {
			const struct autodetect_addr *x = &list->v[i];
			bool ok = usable(x, family);

			if (ninc)
				ok = ok && regexec(&inc[r], x->ifname, 0, NULL, 0) == 0;
			else if (nexc)
				ok = ok && !any_match(exc, nexc, x->ifname);
			else if (reach_src == NULL || arg_of(method, "can-reach") == NULL)
				for (size_t k = 0; ok && default_skip[k] != NULL; k++) {
					regex_t re;

					if (regcomp(&re, default_skip[k], REG_EXTENDED | REG_NOSUB) != 0)
						fatal("autodetect: default pattern %s", default_skip[k]);
					ok = regexec(&re, x->ifname, 0, NULL, 0) != 0;
					regfree(&re);
				}
			if (ok && ncidr) {
				bool in = false;

				for (size_t c = 0; c < ncidr; c++) {
					struct prefix p = {.addr = x->a, .len = (uint8_t)addr_bits(&x->a)};

					in = in || policy_prefix_within(&p, &cidr[c]);
				}
				ok = in;
			}
			if (ok && arg_of(method, "can-reach") != NULL)
				ok = reach_src != NULL && addr_cmp(&x->a, reach_src) == 0;
			if (ok) {
				*out = *x;
				rc = 0;
				goto done;
			}
		}
	}
	err_set(err, "IP autodetection method '%s' found no IPv%c address", method,
		family == AF_INET ? '4' : '6');
done:
	regexes_free(inc, ninc);
	regexes_free(exc, nexc);
	free(cidr);
	return rc;
}

struct dump {
	struct autodetect_addrs *out;
	int *index;                  /* the interface index of each address, to sort by */
};

static int
addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int
addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct nlattr *at;
	struct autodetect_addr *x;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	/* IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS else. */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	if (at == NULL || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    mnl_attr_get_payload_len(at) != len ||
	    (ifa->ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
		return MNL_CB_OK;
	d->out->v = xrealloc(d->out->v, (d->out->n + 1) * sizeof(*d->out->v));
	d->index = xrealloc(d->index, (d->out->n + 1) * sizeof(*d->index));
	x = &d->out->v[d->out->n];
	memset(x, 0, sizeof(*x));
	x->a.family = ifa->ifa_family;
	memcpy(x->a.b, mnl_attr_get_payload(at), len);
	x->plen = ifa->ifa_prefixlen;
	if (if_indextoname(ifa->ifa_index, x->ifname) == NULL)
		snprintf(x->ifname, sizeof(x->ifname), "if%u", ifa->ifa_index);
	d->index[d->out->n++] = (int)ifa->ifa_index;
	return MNL_CB_OK;
}

int
autodetect_read(struct autodetect_addrs *out, struct err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	struct dump d = {.out = out};
	unsigned seq = (unsigned)time(NULL), portid;
	ssize_t n;
	int rc = MNL_CB_OK;

	memset(out, 0, sizeof(*out));
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err_set(err, "netlink: %s", strerror(errno));
		if (nl != NULL)
			mnl_socket_close(nl);
		return -1;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err_set(err, "netlink: %s", strerror(errno));
		mnl_socket_close(nl);
		return -1;
	}
	while (rc > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, addr_cb, &d);
	mnl_socket_close(nl);
	if (rc == MNL_CB_ERROR) {
		err_set(err, "netlink address dump: %s", strerror(errno));
		free(d.index);
		autodetect_addrs_free(out);
		return -1;
	}
	/* In interface order (stable: each interface's addresses as the kernel lists them). */
	for (size_t i = 1; i < out->n; i++)
		for (size_t j = i; j > 0 && d.index[j - 1] > d.index[j]; j--) {
			struct autodetect_addr t = out->v[j];
			int k = d.index[j];

			out->v[j] = out->v[j - 1];
			out->v[j - 1] = t;
			d.index[j] = d.index[j - 1];
			d.index[j - 1] = k;
		}
	free(d.index);
	return 0;
}

void
autodetect_addrs_free(struct autodetect_addrs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
autodetect_reach(const struct addr *dest, struct addr *src, struct err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sock_addr_to(dest, 53, &ss), slen = sizeof(ss);
	uint16_t port;
	int fd = socket(dest->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* A UDP connect only looks up the route: no packet leaves. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &slen) != 0) {
		char a[ADDR_STRLEN];

		addr_format(dest, a);
		err_set(err, "can-reach=%s: no route (%s)", a, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	sock_addr_from(&ss, src, &port);
	return 0;
}

int
autodetect(int family, const char *method, struct autodetect_addr *out, struct err *err)
{
	struct autodetect_addrs list;
	struct addr dest, src, *reach = NULL;
	const char *arg = arg_of(method, "can-reach");
	int rc;

	if (autodetect_method_check(method, err) != 0)
		return -1;
	if (arg != NULL) {
		addr_parse(arg, &dest);
		if (dest.family != family) {
			err_set(err, "can-reach=%s: not an IPv%c address", arg,
				family == AF_INET ? '4' : '6');
			return -1;
		}
		if (autodetect_reach(&dest, &src, err) != 0)
			return -1;
		reach = &src;
	}
	if (autodetect_read(&list, err) != 0)
		return -1;
	rc = autodetect_choose(&list, family, method, reach, out, err);
	autodetect_addrs_free(&list);
	return rc;
}
