/*
 * agent: tabbyd, the node agent. One libev loop carries the datastore
 * watch, the BGP listeners, every session's sockets and timers, the status
 * lease and the control socket. Desired state comes in from the store
 * (reconcile.c), sessions speak BGP (session.c, around the pure FSM and
 * codec), observed state goes back out (status.c).
 */
#ifndef TABBY_AGENT_H
#define TABBY_AGENT_H

#include <ev.h>
#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/dirty.h"
#include "agent/fib.h"
#include "bgp/fsm.h"
#include "bgp/gr.h"
#include "bgp/msg.h"
#include "bgp/policy.h"
#include "bgp/rib.h"
#include "lib/addr.h"
#include "lib/backoff.h"
#include "model/bgpconf.h"
#include "store/mirror.h"
#include "store/store.h"

enum peer_type { PEER_NODE, PEER_GLOBAL, PEER_MESH, PEER_CONNECTION };

/* What reconcile wants a session to be. */
struct peer_spec {
	struct addr local, remote;
	uint32_t local_as, remote_as;
	uint16_t remote_port;        /* 179, or another tabbyd node's listen port */
	char password[BGP_PASSWORD_MAX + 1];
	enum peer_type type;
	struct policy *policy;       /* import/export rules, communities (bgp/policy.h); NULL: none.
				      * A spec owns a reference. */
	bool keep_next_hop;          /* BGPPeer keepOriginalNextHop */
	bool no_source_address;      /* BGPPeer sourceAddress: None: the kernel picks the source */
	uint8_t allowas_in;          /* our AS may appear this often in a path (numAllowedLocalASNumbers) */
	uint8_t ttl_security;        /* GTSM (RFC 5082) for a peer this many hops away; 0: off */
	bool reflector;              /* this node reflects (Node routeReflectorClusterID) ... */
	uint32_t cluster_id;         /* ... with this CLUSTER_ID */
	bool rr_client;              /* the peer is our client (RFC 4456) */
	uint32_t max_prefixes;       /* RFC 4486 limit on prefixes received; 0: none */
	uint16_t restart_time;       /* RFC 4724 restart time we announce, seconds */
	uint32_t seq;                /* precedence order while reconciling */
	char peering[40];            /* PEER_CONNECTION: the API peering's uuid */
	char device[40];             /* ... and its virtual device's ("" for the node's own) */
	int64_t generation;          /* ... and the generation this spec applies */
};

/* An API peering this node carries out (or failed to): its address on the interface. */
struct api_peering {
	char uuid[40];
	char device[40];             /* its virtual device (a routing instance, device.c) */
	char ifname[IF_NAMESIZE];
	int ifindex;                 /* inside the device's namespace */
	bool moved;                  /* we moved the interface there, so we move it back */
	struct addr local;
	unsigned plen;
	bool addr_added;             /* we put the address there, so we take it away */
	int64_t generation;
	char error[256];             /* why it cannot be applied, or "" */
};

#define BGP_PORT 179

struct agent;
struct device;

/* The BGP listeners (IPv4, IPv6) of a routing instance: the node's, or a device's. */
struct listeners {
	struct agent *ag;
	struct device *dev;          /* NULL: the node's */
	int fd[2];
	ev_io io[2];
};

/*
 * A virtual device: a routing instance of its own (DESIGN.md), in a network
 * namespace of its own, with its own Loc-RIB, listeners and kernel table.
 */
struct device {
	char uuid[40];
	char ns[24];                 /* "tby-" and the uuid's first 12 hex digits */
	int nsfd;
	struct loc_rib *loc;
	struct fib *fib;             /* its kernel table, opened inside the namespace */
	struct listeners listen;
	size_t reported[2];          /* routes per family (IPv4, IPv6) as last reported */
	bool have_reported;
	struct device *next;
};

struct session;

/* One TCP connection of a session, with its own FSM (RFC 4271 §8: two during a collision). */
struct conn {
	struct session *s;
	int fd;
	bool outgoing, connecting, dead;
	bool want_write;             /* the routes wait for writability to produce more */
	bool held;                   /* not read while the kernel is behind (fib_full) */
	ev_tstamp held_since;        /* since when, in this pause (0: not in one) */
	struct fsm fsm;
	ev_io rio, wio;
	ev_timer timers[FSM_TIMER_COUNT];
	ev_timer send_hold;          /* RFC 9687: runs while output waits and makes no progress */
	uint8_t *rbuf, *wbuf;
	size_t rlen, rcap;           /* bytes in rbuf, its size (RBUF_MIN..RBUF_SIZE) */
	size_t woff, wlen, wcap;     /* bytes wbuf[woff..wlen) wait for the socket */
	uint16_t max_len;            /* 4096, or 65535 with extended messages (RFC 8654) */
	bool have_open;
	struct bgp_open peer_open;
	struct bgp_open our_open;    /* as sent: its graceful restart capability */
	/* How the session ended, for graceful restart (gr.h): a NOTIFICATION's code
	 * and subcode, sent or received, or none (the TCP connection ended). */
	enum bgp_gr_down down_how;
	uint8_t down_code, down_subcode;
	bool quiet;                  /* closing for a restart: no NOTIFICATION (RFC 4724) */
	bool notified;               /* a NOTIFICATION was sent on fd (linger.c closes it) */
};

/* A prefix judged for a peer and waiting for room: its attribute set, or NULL to withdraw. */
struct route_out {
	struct prefix p;
	struct rib_attr *x;
};

/* NOTIFICATIONs counted by error code: 1-7 (RFC 4271, RFC 7313) at their index, others at 0. */
#define NOTIF_CODE_SLOTS 8
#define NOTIF_SLOT(code) ((code) < NOTIF_CODE_SLOTS ? (code) : 0)

struct session_counters {
	uint64_t msgs_in, msgs_out, updates_in, updates_out, notifs_in, notifs_out;
	uint64_t prefixes_received, prefixes_sent, established_transitions;
	uint64_t prefixes_accepted;  /* the peer's paths in the Loc-RIB (past import and limit) */
	uint64_t fsm_transitions;    /* changes of the session's reported state */
	uint64_t notifs_in_code[NOTIF_CODE_SLOTS], notifs_out_code[NOTIF_CODE_SLOTS];
};

struct session {
	struct agent *ag;
	struct device *dev;          /* its routing instance; NULL: the node's */
	struct peer_spec spec;
	struct conn *conn[2];        /* [0] the session's connection; [1] a colliding one */
	enum fsm_state state;        /* as last reported */
	char info[400];              /* as last reported */
	time_t since;
	struct session_counters n;
	struct adj_in *adj_in;       /* routes from the peer while the session is up */
	struct adj_in *adj_out;      /* what the peer is sent, from staging (same table type) */
	struct dirty dirty;          /* prefixes to re-evaluate for the peer */
	struct route_out *staged;    /* judged, grouped by attribute set, not yet sent ... */
	size_t nstaged, staged_off;  /* ... from staged_off on */
	bool need_eor, eor_received;
	/* Graceful restart, helper side (RFC 4724 §4.2): the peer's routes kept after
	 * its session went down, until it sends them again and End-of-RIB, or the timer
	 * (its restart time while down, then GR_STALE_TIME) ends. */
	struct adj_in *stale;
	ev_timer gr_timer;
	time_t gr_since;             /* when the peer's session went down */
	bool llgr;                   /* the stale routes are long-lived stale now (RFC 9494) */
	bool have_gr;                /* ours_gr and peer_gr are from the last OPENs */
	struct bgp_open ours_gr, peer_gr;  /* the capabilities of the last session */
	bool refresh_wanted;         /* a ROUTE-REFRESH to answer when there is room */
	bool resending;              /* answering one: send even what adj_out already has */
	uint64_t reported_received, reported_sent;
	uint32_t max_prefixes_hold;  /* the last back-off after the limit was passed, seconds */
	time_t max_prefixes_last;    /* when the limit was last passed */
	struct session *next;
	struct session *hnext;       /* the next in its slot of the agent's session index */
};

struct agent_config {
	char node[NODE_NAME_MAX + 1];
	bool has_ip, has_ip6, has_as, has_router_id;
	bool ip_auto, ip6_auto;      /* --ip=autodetect, --ip6=autodetect */
	char ip_method[256], ip6_method[256];  /* --ip(6)-autodetection-method */
	struct addr ip, ip6;
	uint32_t as_num;
	uint32_t router_id;          /* host order */
	uint16_t listen_port;
	bool has_listen_port;        /* --listen-port given (else BGPConfiguration listenPort) */
	uint16_t hold_time;
	uint32_t send_hold_time;     /* RFC 9687; 0: max(8 min, 2 x the negotiated hold time) */
	bool no_fib;
	bool graceful_restart;       /* RFC 4724 on (default); --no-graceful-restart */
	char datastore[1024];
	char control[1024];
	bool has_metrics;
	struct addr metrics_addr;    /* --metrics: where /metrics is served */
	uint16_t metrics_port;
};

struct agent {
	struct ev_loop *loop;
	struct agent_config cfg;
	struct store *store;         /* used before the loop runs (registering the node) */
	struct store *view;          /* the mirror reconcile reads: memory, never the network */
	struct store_feed *feed;     /* keeps view current from a thread (store/mirror.h) */
	struct swr *writer;          /* status writes, off the loop (store_writer.h) */
	time_t started;
	struct session *sessions;
	struct session **sindex;     /* the sessions by device and remote address (session.c) */
	uint8_t *rbuf;               /* the read buffer the connections share (session.c) */
	struct conn *corked;         /* the connection whose messages gather in cbuf (session.c) */
	uint8_t *cbuf;
	size_t clen;
	size_t sindex_cap, nsessions;
	struct session **exporters;  /* the sessions best-path changes are listed for (routes.c) */
	size_t nexporters, exporters_cap;
	bool exporters_ok;           /* false: to be built again before the next use */
	struct rib *rib;
	struct loc_rib *loc;
	struct fib *fib;
	struct fib_stats fib_gone;   /* what removed devices' kernel tables counted (metrics) */
	struct node_prefixes local;  /* what this node originates */
	struct rib_attr *local_attr;
	struct api_peering *api;     /* the API peerings of this node's devices */
	size_t napi;
	struct api_peering *api_next;  /* being reconciled */
	json_t *api_read;            /* the peerings as read by this reconcile pass */
	size_t napi_next;
	ev_timer flush_timer, stats_timer;
	ev_idle flush_idle;
	struct listeners listen;
	struct device *devices;      /* the routing instances of this node's virtual devices */
	int host_ns;                 /* the agent's own network namespace */
	ev_timer accept_pause;       /* out of descriptors: the listeners rest a moment */
	uint64_t accept_refused;     /* connections left waiting while they rested */
	ev_tstamp accept_logged;
	ev_timer reconcile_timer;
	ev_io feed_io;               /* the feed has changes for view */
	ev_tstamp reconciled;        /* when the last pass ran */
	struct reconcile_cache *rc;  /* what reconcile parsed and can reuse (reconcile.c) */
	ev_signal sigterm, sigint, sigusr1;
	int control_fd;
	ev_io control_io;
	struct metrics *metrics;     /* the --metrics listener (metrics.c), or NULL */
	bool stopping;
	bool keep_fib;               /* stopping to restart: the kernel routes stay */
	/* Restarting (RFC 4724 §4.1): routes an earlier run left in the kernel, kept
	 * while the peers send their tables (selection deferral), then the stale ones go. */
	bool restarting;
	struct fib_route *kept;
	size_t nkept;
	ev_timer defer_timer;
	ev_tstamp defer_started;
	struct backoff reconcile_retry;  /* a read failed: when to try again */
	struct lingering *lingers;   /* ended connections waiting for the peer to close */
	size_t nlingers;
};

/* linger.c: a connection ended with a NOTIFICATION is closed once the peer closes it */
void linger_start(struct agent *ag, int fd, const struct device *dev, const struct addr *remote);
/* true: s is started (session_go) when the peer's old connection is closed */
bool linger_defer(struct agent *ag, struct session *s);
void linger_forget(struct agent *ag, const struct session *s);
void linger_close_all(struct agent *ag);

/* session.c */
struct session *session_new(struct agent *ag, const struct peer_spec *spec);
void session_start(struct session *s);
/* Starts its connection (session_start does, unless an old one to the peer lingers). */
void session_go(struct session *s);
/* Closes with a Cease of the given subcode (RFC 4486) and frees the session. */
void session_free(struct session *s, uint8_t cease_subcode, const char *why);
/*
 * Closes for a restart of tabbyd and frees the session: the peer is to keep our
 * routes (RFC 4724). A peer with the N bit gets an Administrative Reset Cease,
 * which RFC 8538 counts as a restart; a peer with graceful restart but no N bit,
 * no NOTIFICATION at all; a peer without graceful restart, the usual Cease.
 */
void session_free_restart(struct session *s);
void session_accept(struct session *s, int fd);
/* Frees what the sessions share: their index and the read buffer. */
void session_shared_free(struct agent *ag);
/* The session with remote in a routing instance (dev NULL: the node's); one probe. */
struct session *session_find(struct agent *ag, const struct device *dev,
			     const struct addr *remote);
const char *peer_type_name(enum peer_type t);
/* A new limit for a running session (reconcile): checked at once. */
void session_set_max_prefixes(struct session *s, uint32_t limit);
/* Queues a whole message on the session's established connection. */
void session_send(struct session *s, const uint8_t *buf, size_t len);
/*
 * Between cork and uncork, messages to the established connection gather in a
 * buffer of the agent's and go out in sends of about 16 KB (then what is left at
 * uncork): a table's UPDATEs of ten prefixes each were one send each, and each
 * send was delivered on loopback and woke the reader (0.1 s of a million
 * prefixes). One session is corked at a time.
 */
void session_cork(struct session *s);
void session_uncork(struct session *s);
/*
 * Output is produced as the socket drains (pull): routes ask whether the
 * established connection has room for more UPDATEs, and ask to be called
 * (routes_pull) again once the socket is writable.
 */
bool session_out_room(const struct session *s);
void session_want_write(struct session *s);
/*
 * The kernel took a share of the waiting route changes of table fib (or a pause
 * lasted long enough: fib_set_on_room): the connections held for it read again.
 */
void session_reads_resume(void *agent, struct fib *fib);
/* The peer's maximum message size (RFC 8654). */
size_t session_max_len(const struct session *s);

/* routes.c */
int routes_start(struct agent *ag, struct err *err);
void routes_stop(struct agent *ag);
/*
 * What routes_learn needs of a batch of a peer's routes, found once: the source of
 * its paths (a per-prefix copy stalled on store forwarding), and whether an
 * attribute set is a loop (the same for every prefix of an UPDATE).
 */
struct routes_from {
	struct rib_source src;
	const struct rib_attr *x;   /* the set judged, or NULL */
	bool x_loop;
};
void routes_from(const struct session *s, struct routes_from *f);
/* Judges x for the prefixes that follow (x held by the caller while they do). */
void routes_from_attr(const struct session *s, struct routes_from *f, const struct rib_attr *x);
/* A peer's route for p (x NULL: withdrawn), after the Adj-RIB-In: the import policy runs
 * here. d: p's destination in the session's Loc-RIB as adj_in_set_dest left it, or NULL
 * (looked up here). */
void routes_learn(struct session *s, const struct routes_from *f, const struct rib_dest *d,
		  const struct prefix *p, struct rib_attr *x);
/* The kernel table of a routing instance: a device's, or (NULL) the node's. */
struct fib *routes_fib(struct agent *ag, const struct device *dev);
/* The session's policy changed in place: its routes are judged again both ways. */
void routes_policy_changed(struct session *s);
void routes_session_up(struct session *s);
/* The session went down; keep_stale: the peer restarts, its routes stay (stale). */
void routes_session_down(struct session *s, bool keep_stale);
/* A session was freed (or changed how it exports): the exporters are listed again. */
void routes_exporters_changed(struct agent *ag);
/* The peer's End-of-RIB (RFC 4724 §2). */
void routes_eor(struct session *s);
/* A prefix the peer sent again (or withdrew): no longer stale. True if it was. */
bool routes_unstale(struct session *s, const struct prefix *p);
/*
 * The peer's restart time is up: its stale routes become long-lived stale (RFC
 * 9494 §4.2) if it asked for that, except those with NO_LLGR, which go. Returns the
 * long-lived stale time, or 0 if the peer did not ask (nothing changed).
 */
uint32_t routes_llgr_begin(struct session *s);
/* Drops the peer's stale routes that are left (End-of-RIB, or its time is up). */
void routes_stale_drop(struct session *s, const char *why);
size_t routes_stale_count(const struct session *s);
/* Whether our restart defers route selection for the session's instance: only the
 * node's instance restarts (a device's namespace is new, or flushed, at start). */
bool routes_restarting(const struct session *s);
/* Ends the selection deferral of a restart once every peer's table is in (RFC 4724 §4.1). */
void routes_defer_check(struct agent *ag);
/* A ROUTE-REFRESH for afi/safi (RFC 2918): ignored unless the session carries it. */
void routes_refresh(struct session *s, uint16_t afi, uint8_t safi);
/* Encodes more of what the peer is owed, while its connection has room. */
void routes_pull(struct session *s);
void routes_originate(struct agent *ag, const struct node_prefixes *want);

/* reconcile.c */
void reconcile(struct agent *ag);
void reconcile_soon(struct agent *ag);
void reconcile_stop(struct agent *ag);

/* peerings.c */
/* Adds this node's API peerings to the wanted sessions (they come last; a clash is an error). */
/* -1 when the peerings cannot be read: then nothing may be judged gone. */
int peerings_want(struct agent *ag, struct peer_spec **v, size_t *n, size_t *cap,
		  struct err *err);
/* After the sessions were reconciled: addresses of gone peerings, and deletions finished. */
void peerings_settle(struct agent *ag);
void peerings_stop(struct agent *ag);

/* status.c */
void status_peering(struct agent *ag, const char *uuid, int64_t generation, const char *error,
		    const char *state);
void status_peering_remove(struct agent *ag, const char *uuid);
/* A device's routing table size (routes per family), and its removal. */
void status_device(struct agent *ag, const char *uuid, size_t v4, size_t v6);
void status_device_remove(struct agent *ag, const char *uuid);
int status_agent_start(struct agent *ag, struct err *err);
void status_session(struct session *s);
void status_session_remove(struct session *s);
void status_stop(struct agent *ag);
/* Queues the delete of a key outside the status (a finished deprovisioning). */
void status_delete(struct agent *ag, const char *key);
/* The session's record, as written to the store and served on the control socket. */
char *status_session_json(const struct session *s);

/* listen.c */
int listen_start(struct agent *ag, struct err *err);
int listeners_open(struct listeners *l, struct err *err);
void listeners_close(struct listeners *l);
void listen_md5_update(struct agent *ag, struct device *dev, const struct addr *peer,
		       const char *key);
void listen_stop(struct agent *ag);

/* metrics.c: /metrics over HTTP on the loop (--metrics ADDR:PORT). */
int metrics_start(struct agent *ag, struct err *err);
void metrics_stop(struct agent *ag);
/* The exposition text (a NUL-terminated string the caller frees). */
char *metrics_render(struct agent *ag, size_t *len);

/* device.c */
/* The device's routing instance, created (namespace, kernel table, listeners) if new. */
struct device *device_get(struct agent *ag, const char *uuid, struct err *err);
struct device *device_find(struct agent *ag, const char *uuid);
/* Runs the calling thread in the device's namespace until device_leave: sockets made
 * meanwhile stay there. */
int device_enter(struct agent *ag, const struct device *dev, struct err *err);
void device_leave(struct agent *ag);
/* Removes the devices no session and no peering uses any more (namespace and all). */
void devices_settle(struct agent *ag);
void devices_stop(struct agent *ag);
/* Reports each device's routing table size when it changed (the stats timer). */
void devices_report(struct agent *ag);
int devices_start(struct agent *ag, struct err *err);

/* control.c */
int control_start(struct agent *ag, struct err *err);
void control_stop(struct agent *ag);

#endif
