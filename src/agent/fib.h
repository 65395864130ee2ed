/*
 * fib: the node's kernel routes over rtnetlink (libmnl), operating-system code of
 * the agent. Every route tabby installs carries tabby's own route protocol
 * number (FIB_PROTO) and its own metric (FIB_METRIC) in the main table, so a
 * host route to the same destination (a DHCP default, a connected subnet, a
 * static route) lives beside it: the kernel keeps routes of different metrics
 * side by side, and a replace or delete only ever matches tabby's protocol and
 * metric. Routes left by an earlier run are found at start: flushed, or (graceful
 * restart, routes.c) kept until the peers have sent their tables again.
 *
 * Route changes are queued in the event loop, where a change to a route still
 * queued replaces the earlier one, and handed once per loop iteration to a writer
 * thread of the fib's own, which sends them in large batches (about 1,200 requests
 * per sendmsg) without acknowledgements: the kernel applies a batch before sendmsg
 * returns and answers only what it refuses, so the BGP sessions go on while the
 * kernel works. A refused change is logged at warning level, at most once per
 * FIB_LOG_INTERVAL, with the count and the kernel's reason.
 * fib_close sends what is still queued and waits for it (at shutdown).
 *
 * A disabled fib (--no-fib) accepts every route call and does nothing;
 * interface addresses (API peerings) work either way and are synchronous.
 */
#ifndef TABBY_AGENT_FIB_H
#define TABBY_AGENT_FIB_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/err.h"

/* Unassigned in iproute2's rt_protos and FRR's rt_protos.d (186-197). */
#define FIB_PROTO 201
/* Below DHCP's and NetworkManager's 100+, above a static route's 0, not BIRD's 32. */
#define FIB_METRIC 40
#define FIB_LOG_INTERVAL 10.0   /* seconds between warnings about refused changes */

struct fib;

struct fib_stats {
	uint64_t requests;      /* route changes sent to the kernel */
	uint64_t batches;       /* sendmsg calls that carried them */
	uint64_t failed;        /* refused by the kernel */
	uint64_t acks_lost;     /* unknown outcome: refusal reports overflowed the buffer */
	uint64_t pending_max;   /* the most changes waiting at once */
	uint64_t holds;         /* times fib_full stopped the reading of routes */
};

struct fib *fib_open(struct ev_loop *loop, bool enabled, struct err *err);
/* Sends what is queued, waits for the answers (up to a few seconds), closes. */
void fib_close(struct fib *f);
/* A kernel route of ours, as a dump finds it. */
struct fib_route {
	struct prefix p;
	struct addr gw;
	uint32_t metric;
};
/* Every route of ours in the kernel now (an earlier run's, at start); the caller frees *v. */
int fib_routes_ours(struct fib *f, struct fib_route **v, size_t *n, struct err *err);
/* Queues the removal of r, matched by its own metric. */
int fib_remove(struct fib *f, const struct fib_route *r);
/* Removes every route of ours an earlier run left (synchronously); returns how many. */
int fib_flush_stale(struct fib *f, struct err *err);
/*
 * Queues: p via gw (installing ours, or replacing ours), or p removed (ours only).
 * They fail only when the fib cannot queue; the kernel's answer comes later (logged).
 */
int fib_replace(struct fib *f, const struct prefix *p, const struct addr *gw, struct err *err);
int fib_delete(struct fib *f, const struct prefix *p, struct err *err);
/*
 * Flow control: true while so many changes wait for the kernel that the caller
 * should read no more routes from peers; then on_room(arg, f) is called (in the
 * loop thread) once the kernel has taken a share, and every quarter of
 * FIB_HOLD_MAX meanwhile: a connection held that long reads once all the same
 * (its KEEPALIVEs, with a hold time down to 3 s), then may wait again.
 */
#define FIB_HOLD_MAX 1.0
bool fib_full(struct fib *f);
void fib_set_on_room(struct fib *f, void (*on_room)(void *arg, struct fib *f), void *arg);
/* Route changes queued and not yet applied by the kernel. */
size_t fib_pending(const struct fib *f);
void fib_get_stats(const struct fib *f, struct fib_stats *out);
/* Adds b's counters to a (and keeps the larger pending_max). */
void fib_stats_add(struct fib_stats *a, const struct fib_stats *b);
/* fib_close, with the final counters into out. */
void fib_close_stats(struct fib *f, struct fib_stats *out);
/*
 * Interface addresses (API peerings), whatever --no-fib says: adds a/plen to the
 * interface (*added false if it was already there), or removes it.
 */
int fib_addr_add(struct fib *f, int ifindex, const struct addr *a, unsigned plen, bool *added,
		 struct err *err);
int fib_addr_del(struct fib *f, int ifindex, const struct addr *a, unsigned plen,
		 struct err *err);
/*
 * A virtual device's interface (device.c): moved into the network namespace nsfd
 * (it arrives down and keeps its index unless taken there), and set up.
 */
int fib_link_move(struct fib *f, int ifindex, int nsfd, struct err *err);
int fib_link_up(struct fib *f, int ifindex, struct err *err);

#endif
