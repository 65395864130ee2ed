/*
 * fib: kernel routes over rtnetlink (libmnl). Routes carry tabby's own route
 * protocol number (RTPROT_TABBY), so stale ones from an earlier run are
 * found and removed at start-up and nobody else's are touched. A disabled
 * fib (--no-fib) accepts every route call and does nothing.
 */
#ifndef TABBY_BGP_FIB_H
#define TABBY_BGP_FIB_H

#include <stdbool.h>

#include "lib/addr.h"
#include "lib/err.h"

#define RTPROT_TABBY 201

struct fib;

struct fib *fib_open(bool enabled, struct err *err);
void fib_close(struct fib *f);
/* Removes every route of ours (from an earlier run); returns how many. */
int fib_flush_stale(struct fib *f, struct err *err);
/* Installs or replaces p via gw. Fails (with err) when the kernel refuses, e.g. an
 * unreachable next hop. */
int fib_replace(struct fib *f, const struct prefix *p, const struct addr *gw, struct err *err);
int fib_delete(struct fib *f, const struct prefix *p, struct err *err);
/*
 * Interface addresses (API peerings), whatever --no-fib says: adds a/plen to the
 * interface (*added false if it was already there), or removes it.
 */
int fib_addr_add(struct fib *f, int ifindex, const struct addr *a, unsigned plen, bool *added,
		 struct err *err);
int fib_addr_del(struct fib *f, int ifindex, const struct addr *a, unsigned plen,
		 struct err *err);

#endif
