#include "agent/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

socklen_t
sock_addr_to(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr_is_v4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->b, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->b, 16);
	return sizeof(*sin6);
}

void
sock_addr_from(const struct sockaddr_storage *ss, struct addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		a->family = AF_INET;
		memcpy(a->b, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return;
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	/* A v4-mapped peer on a dual-stack socket is an IPv4 peer. */
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		a->family = AF_INET;
		memcpy(a->b, sin6->sin6_addr.s6_addr + 12, 4);
	} else {
		a->family = AF_INET6;
		memcpy(a->b, &sin6->sin6_addr, 16);
	}
	*port = ntohs(sin6->sin6_port);
}

int
sock_md5(int fd, const struct addr *peer, const char *key, struct err *err)
{
	struct tcp_md5sig sig;
	size_t n = strlen(key);

	if (n > TCP_MD5SIG_MAXKEYLEN) {
		err_set(err, "TCP MD5 key longer than %d bytes", TCP_MD5SIG_MAXKEYLEN);
		return -1;
	}
	memset(&sig, 0, sizeof(sig));
	sock_addr_to(peer, 0, (struct sockaddr_storage *)&sig.tcpm_addr);
	sig.tcpm_keylen = (uint16_t)n;
	memcpy(sig.tcpm_key, key, n);
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
		/* Removing a key that was never set is not an error. */
		if (n == 0 && errno == ENOENT)
			return 0;
		err_set(err, "TCP_MD5SIG: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
sock_gtsm(int fd, int family, unsigned hops, struct err *err)
{
	int out = 255, min = 256 - (int)hops;

	/* RFC 5082 §3: send with TTL 255 and take only what arrives with 255 - (hops - 1) or
	 * more, so a sender further away than hops cannot reach the session. */
	if (hops == 0)
		return 0;
	if (hops > 255)
		min = 1;
	if (family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TTL, &out, sizeof(out)) != 0 ||
					setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min, sizeof(min)) != 0
			      : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &out, sizeof(out)) != 0 ||
					setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min, sizeof(min)) != 0) {
		err_set(err, "TTL security (GTSM): %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
sock_connect(const struct addr *local, const struct addr *remote, uint16_t port, const char *md5,
	     unsigned gtsm_hops, int *done, struct err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, tos = IPTOS_PREC_INTERNETCONTROL;

	*done = 0;
	fd = socket(remote->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "%s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* BGP is network control traffic (RFC 4271 §5.1 suggests precedence 6). */
	if (addr_is_v4(remote))
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	if (md5 != NULL && *md5 != '\0' && sock_md5(fd, remote, md5, err) != 0)
		goto fail;
	if (sock_gtsm(fd, remote->family, gtsm_hops, err) != 0)
		goto fail;
	if (local != NULL) {
		len = sock_addr_to(local, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
			err_set(err, "bind: %s", strerror(errno));
			goto fail;
		}
	}
	len = sock_addr_to(remote, port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		*done = 1;
		return fd;
	}
	if (errno == EINPROGRESS)
		return fd;
	err_set(err, "%s", strerror(errno));
fail:
	close(fd);
	return -1;
}

int
sock_connect_result(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		return errno;
	return e;
}

int
sock_listen(int family, uint16_t port, struct err *err)
{
	struct sockaddr_storage ss;
	struct addr any = {.family = family};
	socklen_t len;
	int fd, one = 1, ttl = 255;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* The SYN-ACK to a peer with TTL security must arrive with 255 (RFC 5082); accepted
	 * connections then get their own setting (sock_gtsm, sock_ttl_default). */
	setsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		   family == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	len = sock_addr_to(&any, port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
		err_set(err, "listen on port %u (IPv%c): %s", port, family == AF_INET ? '4' : '6',
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
sock_ttl_default(int fd, int family)
{
	int dflt = -1;

	setsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		   family == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS, &dflt, sizeof(dflt));
}
