/*
 * sock: the agent's TCP sockets: non-blocking connects from a chosen local
 * address, listeners, and TCP MD5 signatures (RFC 2385, Linux TCP_MD5SIG)
 * on both.
 */
#ifndef TABBY_AGENT_SOCK_H
#define TABBY_AGENT_SOCK_H

#include <stdint.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/err.h"

socklen_t sock_addr_to(const struct addr *a, uint16_t port, struct sockaddr_storage *ss);
void sock_addr_from(const struct sockaddr_storage *ss, struct addr *a, uint16_t *port);
/* Sets (key non-empty) or removes (key "") the MD5 key for a peer address on fd. */
int sock_md5(int fd, const struct addr *peer, const char *key, struct err *err);
/* TTL security (GTSM, RFC 5082) for a peer at most hops away; 0 leaves the socket alone. */
int sock_gtsm(int fd, int family, unsigned hops, struct err *err);
/* The system's default TTL / hop limit again (an accepted socket without GTSM). */
void sock_ttl_default(int fd, int family);
/*
 * Starts a non-blocking connect from local (port 0; NULL: the kernel chooses) to
 * remote:port, with GTSM when gtsm_hops > 0. Returns the fd; *done tells whether it
 * completed at once. -1 with err on failure.
 */
int sock_connect(const struct addr *local, const struct addr *remote, uint16_t port,
		 const char *md5, unsigned gtsm_hops, int *done, struct err *err);
/* The pending connect's outcome: 0, or the errno it failed with. */
int sock_connect_result(int fd);
int sock_listen(int family, uint16_t port, struct err *err);

#endif
