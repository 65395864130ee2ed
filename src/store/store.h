/*
 * store: the datastore client, with etcd v3 semantics.
 *
 * Keys are strings under /tabby/v1/, values are JSON text. Every write
 * bumps one global revision; each key carries its create and mod
 * revisions and a version. Transactions apply their operations only if
 * every compare holds (optimistic concurrency on mod revisions). Keys
 * attached to a lease vanish when the lease expires. Watches deliver the
 * changes after a revision, in order, and report "compacted" when the
 * history they need is gone (the watcher then re-reads and reconciles).
 *
 * Keys under STORE_SECRET_PREFIX hold secrets (BGP MD5 keys) and keep no
 * history: writing or deleting one drops its earlier revisions from the
 * change history in the same transaction, and the bytes of a replaced or
 * deleted value are overwritten, not left in free space. A watcher still gets
 * an event for each such key: the newest put, or the delete (a watcher that
 * was behind skips the replaced revisions, as if they had been compacted).
 * An etcd backend keeps this contract differently: etcd holds every revision
 * until a compaction, which is global, so after a transaction that touched a
 * secret it compacts to that revision (watchers behind get STORE_COMPACTED and
 * re-read, as they already must) and defragments to drop the freed pages;
 * etcd's raft WAL and snapshots still hold the value until they rotate, so
 * there secrets should also be sealed with a key kept outside the store.
 *
 * Backends plug in through struct store_ops; callers only see this API.
 * URLs: "sqlite:PATH" (embedded, the default); "etcd://HOST:PORT[,...]" and
 * "etcds://..." (TLS) for an etcd v3 cluster (store_etcd.c says how it is
 * configured).
 */
#ifndef TABBY_STORE_H
#define TABBY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define STORE_SECRET_PREFIX "/tabby/v1/secret/"

enum store_rc {
	STORE_OK = 0,
	STORE_ERR = -1,       /* err says why */
	STORE_NOTFOUND = 1,   /* get: no such key */
	STORE_COMPACTED = 2,  /* watch: the revision asked for is compacted */
	STORE_FAILED = 3,     /* txn: a compare did not hold, nothing applied */
};

struct store_kv {
	char *key;
	char *value;          /* NUL-terminated JSON text; NULL in delete events */
	int64_t create_rev;
	int64_t mod_rev;
	int64_t version;
	int64_t lease;        /* 0: none */
};

struct store_kvs {
	struct store_kv *v;
	size_t n, cap;
	int64_t rev;          /* store revision the read saw */
};

enum store_op_type { STORE_OP_PUT, STORE_OP_DELETE, STORE_OP_DELETE_PREFIX };

struct store_op {
	enum store_op_type type;
	const char *key;
	const char *value;    /* PUT only */
	int64_t lease;        /* PUT only; 0: none */
};

/* Holds when key's mod revision equals mod_rev; mod_rev 0 means "key absent". */
struct store_cmp {
	const char *key;
	int64_t mod_rev;
};

struct store_txn {
	const struct store_cmp *cmps;
	size_t ncmps;
	const struct store_op *ops;
	size_t nops;
};

struct store_txn_res {
	int64_t rev;          /* store revision after the transaction */
	size_t changed;       /* keys put or deleted */
};

enum store_event_type { STORE_EVENT_PUT, STORE_EVENT_DELETE };

struct store_event {
	enum store_event_type type;
	struct store_kv kv;   /* on delete: key and mod_rev (the deleting revision) */
};

struct store_events {
	struct store_event *v;
	size_t n, cap;
};

struct store;
struct store_watch;

struct store_ops {
	const char *scheme;
	/* must_exist: fail rather than create a datastore (for commands that only read). */
	int (*open)(struct store **out, const char *location, bool must_exist, struct err *err);
	void (*close)(struct store *s);
	void (*set_timeout)(struct store *s, int ms);
	/* prefix false: exactly key; true: every key starting with key, sorted. */
	int (*range)(struct store *s, const char *key, bool prefix, struct store_kvs *out,
		     struct err *err);
	int (*txn)(struct store *s, const struct store_txn *t, struct store_txn_res *res,
		   struct err *err);
	int (*lease_grant)(struct store *s, int64_t ttl_s, int64_t *id, struct err *err);
	int (*lease_keepalive)(struct store *s, int64_t id, struct err *err);
	int (*lease_revoke)(struct store *s, int64_t id, struct err *err);
	int (*compact)(struct store *s, int64_t rev, struct err *err);
	int (*watch_open)(struct store *s, const char *prefix, int64_t start_rev,
			  struct store_watch **out, struct err *err);
	int (*watch_fd)(struct store_watch *w);
	int (*watch_interval_ms)(struct store_watch *w);
	int (*watch_next)(struct store_watch *w, struct store_events *out, struct err *err);
	void (*watch_close)(struct store_watch *w);
};

/* Every backend's handle starts with this, so the front end can dispatch. */
struct store {
	const struct store_ops *ops;
};

struct store_watch {
	const struct store_ops *ops;
};

/* The daemons' --help lines for --etcd-ca, --etcd-cert and --etcd-key. */
#define STORE_ETCD_FLAGS_HELP                                                                      \
	"  --etcd-ca FILE       for an etcds:// datastore: the CA of etcd's certificate\n"          \
	"                       (default: $TABBY_ETCD_CA, else the system's)\n"                    \
	"  --etcd-cert FILE     the client certificate etcd asks for (default:\n"                  \
	"                       $TABBY_ETCD_CERT, else none)\n"                                    \
	"  --etcd-key FILE      its key (default: $TABBY_ETCD_KEY, else none); etcd users:\n"      \
	"                       $TABBY_ETCD_USER and $TABBY_ETCD_PASSWORD_FILE\n"

/*
 * The etcd backend's TLS files from --etcd-ca/--etcd-cert/--etcd-key (any may be
 * NULL: then TABBY_ETCD_CA/CERT/KEY, if set, hold). Call before store_open.
 */
void store_etcd_files(const char *ca, const char *cert, const char *key);

/* The URL from --datastore, else $TABBY_DATASTORE, else the default path. */
const char *store_url_default(const char *flag, char *buf, size_t len);
int store_open(struct store **out, const char *url, struct err *err);
/* As store_open, but never creates a datastore: a missing one is an error. */
int store_open_existing(struct store **out, const char *url, struct err *err);
void store_close(struct store *s);
/*
 * The longest one call on this handle may wait for the backend (another process's
 * lock, the network) before it fails; backends start with a generous default (10 s).
 * An event loop's handle sets a short one and treats a failure as "retry later".
 */
void store_set_timeout(struct store *s, int ms);

int store_get(struct store *s, const char *key, struct store_kv *out, struct err *err);
int store_range(struct store *s, const char *prefix, struct store_kvs *out, struct err *err);
int store_put(struct store *s, const char *key, const char *value, int64_t lease,
	      int64_t *rev, struct err *err);
/* Returns STORE_NOTFOUND when there was nothing to delete. */
int store_delete(struct store *s, const char *key, struct err *err);
int store_delete_prefix(struct store *s, const char *prefix, struct err *err);
/* Returns STORE_FAILED, applying nothing, when a compare does not hold. */
int store_txn(struct store *s, const struct store_txn *t, struct store_txn_res *res,
	      struct err *err);
int store_lease_grant(struct store *s, int64_t ttl_s, int64_t *id, struct err *err);
int store_lease_keepalive(struct store *s, int64_t id, struct err *err);
int store_lease_revoke(struct store *s, int64_t id, struct err *err);
/* Drops the history before rev; watchers that need it get STORE_COMPACTED. */
int store_compact(struct store *s, int64_t rev, struct err *err);

/* start_rev 0: changes after now. Otherwise changes with revision >= start_rev. */
int store_watch_open(struct store *s, const char *prefix, int64_t start_rev,
		     struct store_watch **out, struct err *err);
/* A descriptor to poll for readability, or -1: then poll every interval_ms. */
int store_watch_fd(struct store_watch *w);
int store_watch_interval_ms(struct store_watch *w);
/* Appends the pending events (possibly none) without blocking. */
int store_watch_next(struct store_watch *w, struct store_events *out, struct err *err);
void store_watch_close(struct store_watch *w);

/* Keys are non-empty printable ASCII without spaces; -1 with err otherwise. */
int store_key_check(const char *key, struct err *err);

void store_kv_clear(struct store_kv *kv);
void store_kvs_free(struct store_kvs *kvs);
struct store_kv *store_kvs_push(struct store_kvs *kvs);
void store_events_free(struct store_events *evs);
struct store_event *store_events_push(struct store_events *evs);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_etcd_ops;
extern const struct store_ops store_etcds_ops;

#endif
