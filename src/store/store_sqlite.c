/*
 * The embedded backend: one SQLite file in WAL mode shared by every process
 * on the machine. Table kv holds the live keys, log the change history that
 * serves watches (compacted over time), lease the leases. Writers serialise
 * on BEGIN IMMEDIATE; commits are durable (synchronous=FULL) before a call
 * returns. Any client sweeps expired leases, in one transaction that logs a
 * delete event for every key it removes.
 *
 * Secrets (keys under STORE_SECRET_PREFIX): a put or delete of one deletes the
 * key's older log rows in the same transaction, and secure_delete makes SQLite
 * zero the freed cells and pages, so a replaced MD5 key survives neither in the
 * log nor in the file's free space. The WAL keeps old page images until a
 * checkpoint; journal_size_limit=0 truncates it when it restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/store.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
#define WATCH_INTERVAL_MS 100
#define WATCH_BATCH 4096
/* Auto-compaction keeps this many revisions of history for watchers. */
#define HISTORY_KEEP 10000
#define HISTORY_CHECK_EVERY 512

enum stmt_id {
	ST_BEGIN_READ,
	ST_BEGIN_WRITE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_META_GET,
	ST_META_SET,
	ST_GET,
	ST_RANGE,
	ST_KEY_META,
	ST_KV_PUT,
	ST_KV_DEL,
	ST_LOG_ADD,
	ST_LOG_READ,
	ST_LOG_COMPACT,
	ST_LOG_SCRUB,
	ST_LEASE_ADD,
	ST_LEASE_GET,
	ST_LEASE_RENEW,
	ST_LEASE_DEL,
	ST_LEASE_EXPIRED,
	ST_LEASE_KEYS,
	ST_DATA_VERSION,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN_READ] = "BEGIN",
	[ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT v FROM meta WHERE k = ?1",
	[ST_META_SET] = "UPDATE meta SET v = ?2 WHERE k = ?1",
	[ST_GET] = "SELECT key, value, create_rev, mod_rev, version, lease FROM kv WHERE key = ?1",
	[ST_RANGE] = "SELECT key, value, create_rev, mod_rev, version, lease FROM kv "
		     "WHERE key >= ?1 AND key < ?2 ORDER BY key",
	[ST_KEY_META] = "SELECT create_rev, mod_rev, version FROM kv WHERE key = ?1",
	[ST_KV_PUT] = "INSERT OR REPLACE INTO kv (key, value, create_rev, mod_rev, version, lease) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_KV_DEL] = "DELETE FROM kv WHERE key = ?1",
	[ST_LOG_ADD] = "INSERT INTO log (rev, sub, type, key, value, create_rev, mod_rev, version, "
		       "lease) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_LOG_READ] = "SELECT rev, sub, type, key, value, create_rev, mod_rev, version, lease "
			"FROM log WHERE (rev > ?1 OR (rev = ?1 AND sub > ?2)) "
			"AND key >= ?3 AND key < ?4 ORDER BY rev, sub LIMIT ?5",
	[ST_LOG_COMPACT] = "DELETE FROM log WHERE rev < ?1",
	[ST_LOG_SCRUB] = "DELETE FROM log WHERE key = ?1 AND rev < ?2",
	[ST_LEASE_ADD] = "INSERT INTO lease (id, ttl, expires_ms) VALUES (?1, ?2, ?3)",
	[ST_LEASE_GET] = "SELECT ttl FROM lease WHERE id = ?1 AND expires_ms > ?2",
	[ST_LEASE_RENEW] = "UPDATE lease SET expires_ms = ?2 + ttl * 1000 "
			   "WHERE id = ?1 AND expires_ms > ?2",
	[ST_LEASE_DEL] = "DELETE FROM lease WHERE id = ?1",
	[ST_LEASE_EXPIRED] = "SELECT id FROM lease WHERE expires_ms <= ?1 ORDER BY expires_ms",
	[ST_LEASE_KEYS] = "SELECT key FROM kv WHERE lease = ?1 ORDER BY key",
	[ST_DATA_VERSION] = "PRAGMA data_version",
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO meta VALUES ('rev', 0), ('compact_rev', 0);"
	"CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
	" create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL,"
	" lease INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS kv_lease ON kv (lease) WHERE lease <> 0;"
	"CREATE TABLE IF NOT EXISTS log (rev INTEGER NOT NULL, sub INTEGER NOT NULL,"
	" type INTEGER NOT NULL, key TEXT NOT NULL, value TEXT, create_rev INTEGER,"
	" mod_rev INTEGER, version INTEGER, lease INTEGER, PRIMARY KEY (rev, sub)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL,"
	" expires_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS lease_expires ON lease (expires_ms);"
	"PRAGMA user_version = 1;";

struct sq_store {
	struct store base;
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];
	uint64_t local_writes;  /* our own commits, which data_version does not count */
	int timeout_ms;         /* how long a call waits for another writer's lock */
};

struct sq_watch {
	struct store_watch base;
	struct sq_store *s;
	char *lo, *hi;          /* key range of the watched prefix */
	int64_t rev, sub;       /* position of the last event delivered */
	int64_t data_version;
	uint64_t local_writes;
	bool primed, more;
};

/* The exclusive upper bound of the keys that start with prefix. Keys are printable ASCII. */
static char *
prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = xmalloc(n + 2);

	memcpy(end, prefix, n + 1);
	if (n == 0) {
		end[0] = 0x7f;
		end[1] = '\0';
	} else {
		end[n - 1]++;
	}
	return end;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
sq_fail(struct sq_store *s, struct err *err, const char *what)
{
	int code = sqlite3_errcode(s->db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		err_set(err, "%s: the datastore stayed locked by another process for %d ms", what,
			s->timeout_ms);
	else if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
		err_set(err, "%s: %s is not a usable tabby datastore (SQLite: %s)", what, s->path,
			sqlite3_errmsg(s->db));
	else
		err_set(err, "%s: %s (SQLite: %s)", what, s->path, sqlite3_errmsg(s->db));
	return STORE_ERR;
}

/* Resets a statement and binds nothing: callers bind, then step. */
static sqlite3_stmt *
stmt(struct sq_store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Runs a statement that returns no rows. */
static int
exec_st(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
exec_id(struct sq_store *s, enum stmt_id id)
{
	return exec_st(stmt(s, id));
}

static void
rollback(struct sq_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		exec_id(s, ST_ROLLBACK);
}

static int
meta_get(struct sq_store *s, const char *k, int64_t *v)
{
	sqlite3_stmt *st = stmt(s, ST_META_GET);
	int rc;

	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int
meta_set(struct sq_store *s, const char *k, int64_t v)
{
	sqlite3_stmt *st = stmt(s, ST_META_SET);

	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return exec_st(st);
}

static char *
col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? xstrdup((const char *)t) : NULL;
}

static void
row_to_kv(sqlite3_stmt *st, int first, struct store_kv *kv)
{
	kv->key = col_dup(st, first);
	kv->value = col_dup(st, first + 1);
	kv->create_rev = sqlite3_column_int64(st, first + 2);
	kv->mod_rev = sqlite3_column_int64(st, first + 3);
	kv->version = sqlite3_column_int64(st, first + 4);
	kv->lease = sqlite3_column_int64(st, first + 5);
}

/* Appends one change to the history. value NULL: a delete. */
static int
log_event(struct sq_store *s, int64_t rev, int64_t sub, const char *key, const char *value,
	  int64_t create_rev, int64_t version, int64_t lease)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_ADD);

	sqlite3_bind_int64(st, 1, rev);
	sqlite3_bind_int64(st, 2, sub);
	sqlite3_bind_int(st, 3, value ? STORE_EVENT_PUT : STORE_EVENT_DELETE);
	sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
	if (value) {
		sqlite3_bind_text(st, 5, value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, create_rev);
		sqlite3_bind_int64(st, 8, version);
		sqlite3_bind_int64(st, 9, lease);
	}
	sqlite3_bind_int64(st, 7, rev);
	if (exec_st(st) != 0)
		return -1;
	if (strncmp(key, STORE_SECRET_PREFIX, strlen(STORE_SECRET_PREFIX)) != 0)
		return 0;
	/* A secret keeps no history: only this newest event stays. */
	st = stmt(s, ST_LOG_SCRUB);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rev);
	return exec_st(st);
}

/* Deletes one key if present, logging the event; *deleted tells whether it was. */
static int
del_key(struct sq_store *s, const char *key, int64_t rev, int64_t *sub, size_t *deleted)
{
	sqlite3_stmt *st = stmt(s, ST_KV_DEL);

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (exec_st(st) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return 0;
	(*deleted)++;
	return log_event(s, rev, (*sub)++, key, NULL, 0, 0, 0);
}

/* Collects the keys a statement returns in column 0 (so we can modify while we walk). */
static int
collect_keys(sqlite3_stmt *st, char ***keys, size_t *n)
{
	size_t cap = 0;
	int rc;

	*keys = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*keys = xrealloc(*keys, cap * sizeof(**keys));
		}
		(*keys)[(*n)++] = col_dup(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* Deletes a list of keys in revision rev. */
static int
del_keys(struct sq_store *s, char **keys, size_t n, int64_t rev, int64_t *sub, size_t *deleted)
{
	for (size_t i = 0; i < n; i++)
		if (del_key(s, keys[i], rev, sub, deleted) != 0)
			return -1;
	return 0;
}

/*
 * Removes a lease and its keys as one revision. Inside a write transaction.
 * *rev is the current revision and moves on if a key was deleted.
 */
static int
lease_drop(struct sq_store *s, int64_t id, int64_t *rev, size_t *deleted)
{
	sqlite3_stmt *st = stmt(s, ST_LEASE_KEYS);
	char **keys;
	size_t n, before = *deleted;
	int64_t sub = 0;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	if (collect_keys(st, &keys, &n) != 0)
		return -1;
	rc = del_keys(s, keys, n, *rev + 1, &sub, deleted);
	free_keys(keys, n);
	if (rc != 0)
		return -1;
	st = stmt(s, ST_LEASE_DEL);
	sqlite3_bind_int64(st, 1, id);
	if (exec_st(st) != 0)
		return -1;
	if (*deleted > before)
		(*rev)++;
	return 0;
}

/* Inside a write transaction: drops every expired lease. */
static int
sweep_in_txn(struct sq_store *s, int64_t *rev, size_t *deleted)
{
	sqlite3_stmt *st = stmt(s, ST_LEASE_EXPIRED);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	sqlite3_bind_int64(st, 1, now_ms());
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	for (size_t i = 0; rc == SQLITE_DONE && i < n; i++)
		if (lease_drop(s, ids[i], rev, deleted) != 0)
			rc = SQLITE_ERROR;
	free(ids);
	return rc == SQLITE_DONE ? 0 : -1;
}

static bool
lease_expired_exists(struct sq_store *s)
{
	sqlite3_stmt *st = stmt(s, ST_LEASE_EXPIRED);
	bool found;

	sqlite3_bind_int64(st, 1, now_ms());
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* Keeps the history bounded; watchers behind it get STORE_COMPACTED. */
static int
compact_in_txn(struct sq_store *s, int64_t below)
{
	sqlite3_stmt *st;
	int64_t cur;

	if (meta_get(s, "compact_rev", &cur) != 0)
		return -1;
	if (below <= cur)
		return 0;
	st = stmt(s, ST_LOG_COMPACT);
	sqlite3_bind_int64(st, 1, below);
	if (exec_st(st) != 0)
		return -1;
	return meta_set(s, "compact_rev", below);
}

/*
 * Runs body inside BEGIN IMMEDIATE with expired leases swept first and the
 * revision kept in step. body returns STORE_OK, STORE_FAILED (commit the
 * sweep only), or STORE_ERR (roll back).
 */
typedef int (*write_body)(struct sq_store *s, void *arg, int64_t *rev, size_t *changed,
			  struct err *err);

static int
write_txn(struct sq_store *s, write_body body, void *arg, struct store_txn_res *res,
	  struct err *err)
{
	int64_t rev, start;
	size_t changed = 0, swept = 0;
	int rc;

	if (exec_id(s, ST_BEGIN_WRITE) != 0)
		return sq_fail(s, err, "begin write");
	if (meta_get(s, "rev", &start) != 0) {
		sq_fail(s, err, "write");
		rollback(s);
		return STORE_ERR;
	}
	rev = start;
	if (sweep_in_txn(s, &rev, &swept) != 0) {
		sq_fail(s, err, "sweep expired leases");
		rollback(s);
		return STORE_ERR;
	}
	rc = body ? body(s, arg, &rev, &changed, err) : STORE_OK;
	if (rc == STORE_ERR) {
		rollback(s);
		return STORE_ERR;
	}
	if (rev != start) {
		if (meta_set(s, "rev", rev) != 0 ||
		    (rev / HISTORY_CHECK_EVERY != start / HISTORY_CHECK_EVERY &&
		     compact_in_txn(s, rev - HISTORY_KEEP) != 0)) {
			sq_fail(s, err, "write");
			rollback(s);
			return STORE_ERR;
		}
	}
	if (exec_id(s, ST_COMMIT) != 0) {
		sq_fail(s, err, "commit");
		rollback(s);
		return STORE_ERR;
	}
	if (rev != start)
		s->local_writes++;
	if (res) {
		res->rev = rev;
		res->changed = changed;
	}
	return rc;
}

static int
sweep_if_needed(struct sq_store *s, struct err *err)
{
	if (!lease_expired_exists(s))
		return STORE_OK;
	/* A read must not show keys of an expired lease: it fails rather than skip this. */
	if (write_txn(s, NULL, NULL, NULL, err) != STORE_OK) {
		err_prefix(err, "removing the keys of an expired lease before reading");
		return STORE_ERR;
	}
	return STORE_OK;
}

static int
sq_range(struct store *base, const char *key, bool prefix, struct store_kvs *out, struct err *err)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st;
	char *end = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sweep_if_needed(s, err) != STORE_OK)
		return STORE_ERR;
	if (exec_id(s, ST_BEGIN_READ) != 0)
		return sq_fail(s, err, "read");
	if (meta_get(s, "rev", &out->rev) != 0) {
		rc = sq_fail(s, err, "read");
		goto out;
	}
	if (prefix) {
		end = prefix_end(key);
		st = stmt(s, ST_RANGE);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
	} else {
		st = stmt(s, ST_GET);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row_to_kv(st, 0, store_kvs_push(out));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = sq_fail(s, err, "read");
		store_kvs_free(out);
		goto out;
	}
	rc = STORE_OK;
out:
	free(end);
	exec_id(s, ST_COMMIT);
	return rc;
}

static int
txn_put(struct sq_store *s, const struct store_op *op, int64_t rev, int64_t *sub, struct err *err)
{
	sqlite3_stmt *st;
	int64_t create_rev = rev, version = 1;

	if (op->value == NULL) {
		err_set(err, "put %s: no value", op->key);
		return -1;
	}
	if (op->lease != 0) {
		st = stmt(s, ST_LEASE_GET);
		sqlite3_bind_int64(st, 1, op->lease);
		sqlite3_bind_int64(st, 2, now_ms());
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			err_set(err, "put %s: lease %lld not found (expired or revoked)", op->key,
				(long long)op->lease);
			return -1;
		}
		sqlite3_reset(st);
	}
	st = stmt(s, ST_KEY_META);
	sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		create_rev = sqlite3_column_int64(st, 0);
		version = sqlite3_column_int64(st, 2) + 1;
	}
	sqlite3_reset(st);
	st = stmt(s, ST_KV_PUT);
	sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, create_rev);
	sqlite3_bind_int64(st, 4, rev);
	sqlite3_bind_int64(st, 5, version);
	sqlite3_bind_int64(st, 6, op->lease);
	if (exec_st(st) != 0 ||
	    log_event(s, rev, (*sub)++, op->key, op->value, create_rev, version, op->lease) != 0) {
		sq_fail(s, err, "put");
		return -1;
	}
	return 0;
}

static int
txn_delete_prefix(struct sq_store *s, const char *prefix, int64_t rev, int64_t *sub,
		  size_t *deleted)
{
	sqlite3_stmt *st = stmt(s, ST_RANGE);
	char *end = prefix_end(prefix);
	char **keys;
	size_t n;
	int rc;

	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
	rc = collect_keys(st, &keys, &n);
	free(end);
	if (rc != 0)
		return -1;
	rc = del_keys(s, keys, n, rev, sub, deleted);
	free_keys(keys, n);
	return rc;
}

static int
txn_body(struct sq_store *s, void *arg, int64_t *rev, size_t *changed, struct err *err)
{
	const struct store_txn *t = arg;
	int64_t next = *rev + 1, sub = 0;

	for (size_t i = 0; i < t->ncmps; i++) {
		sqlite3_stmt *st = stmt(s, ST_KEY_META);
		int64_t mod = 0;

		sqlite3_bind_text(st, 1, t->cmps[i].key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			mod = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		if (mod != t->cmps[i].mod_rev)
			return STORE_FAILED;
	}
	for (size_t i = 0; i < t->nops; i++) {
		const struct store_op *op = &t->ops[i];
		int rc;

		switch (op->type) {
		case STORE_OP_PUT:
			if ((rc = txn_put(s, op, next, &sub, err)) == 0)
				(*changed)++;
			break;
		case STORE_OP_DELETE:
			rc = del_key(s, op->key, next, &sub, changed);
			break;
		case STORE_OP_DELETE_PREFIX:
			rc = txn_delete_prefix(s, op->key, next, &sub, changed);
			break;
		default:
			err_set(err, "unknown transaction operation %d", (int)op->type);
			return STORE_ERR;
		}
		if (rc != 0) {
			if (err && err->msg[0] == '\0')
				sq_fail(s, err, "transaction");
			return STORE_ERR;
		}
	}
	if (sub > 0)
		*rev = next;
	return STORE_OK;
}

static int
sq_txn(struct store *base, const struct store_txn *t, struct store_txn_res *res, struct err *err)
{
	struct sq_store *s = (struct sq_store *)base;

	for (size_t i = 0; i < t->ncmps; i++)
		if (store_key_check(t->cmps[i].key, err) != 0)
			return STORE_ERR;
	for (size_t i = 0; i < t->nops; i++) {
		/* An empty prefix would delete everything; refuse it. */
		if (store_key_check(t->ops[i].key, err) != 0)
			return STORE_ERR;
	}
	if (err)
		err->msg[0] = '\0';
	return write_txn(s, txn_body, (void *)t, res, err);
}

struct lease_arg {
	int64_t id, ttl;
	enum { LEASE_GRANT, LEASE_RENEW, LEASE_REVOKE } what;
};

static int
lease_body(struct sq_store *s, void *arg, int64_t *rev, size_t *changed, struct err *err)
{
	struct lease_arg *a = arg;
	sqlite3_stmt *st;

	switch (a->what) {
	case LEASE_GRANT:
		st = stmt(s, ST_LEASE_ADD);
		sqlite3_bind_int64(st, 1, a->id);
		sqlite3_bind_int64(st, 2, a->ttl);
		sqlite3_bind_int64(st, 3, now_ms() + a->ttl * 1000);
		if (exec_st(st) != 0)
			return sq_fail(s, err, "lease grant");
		return STORE_OK;
	case LEASE_RENEW:
		st = stmt(s, ST_LEASE_RENEW);
		sqlite3_bind_int64(st, 1, a->id);
		sqlite3_bind_int64(st, 2, now_ms());
		if (exec_st(st) != 0)
			return sq_fail(s, err, "lease keepalive");
		if (sqlite3_changes(s->db) == 0) {
			err_set(err, "lease %lld not found (expired or revoked)", (long long)a->id);
			return STORE_FAILED;
		}
		return STORE_OK;
	case LEASE_REVOKE:
		if (lease_drop(s, a->id, rev, changed) != 0)
			return sq_fail(s, err, "lease revoke");
		return STORE_OK;
	}
	return STORE_ERR;
}

static int
sq_lease_grant(struct store *base, int64_t ttl_s, int64_t *id, struct err *err)
{
	struct lease_arg a = {.ttl = ttl_s, .what = LEASE_GRANT};

	/* Random ids, as etcd's, so a revoked id is never handed out again. */
	do {
		if (getrandom(&a.id, sizeof(a.id), 0) != sizeof(a.id)) {
			err_set(err, "lease grant: getrandom: %s", strerror(errno));
			return STORE_ERR;
		}
		a.id &= INT64_MAX;
	} while (a.id == 0);
	if (write_txn((struct sq_store *)base, lease_body, &a, NULL, err) != STORE_OK)
		return STORE_ERR;
	*id = a.id;
	return STORE_OK;
}

static int
sq_lease_keepalive(struct store *base, int64_t id, struct err *err)
{
	struct lease_arg a = {.id = id, .what = LEASE_RENEW};
	int rc = write_txn((struct sq_store *)base, lease_body, &a, NULL, err);

	return rc == STORE_FAILED ? STORE_NOTFOUND : rc;
}

static int
sq_lease_revoke(struct store *base, int64_t id, struct err *err)
{
	struct lease_arg a = {.id = id, .what = LEASE_REVOKE};

	return write_txn((struct sq_store *)base, lease_body, &a, NULL, err);
}

static int
compact_body(struct sq_store *s, void *arg, int64_t *rev, size_t *changed, struct err *err)
{
	int64_t below = *(int64_t *)arg;

	(void)changed;
	if (below > *rev + 1) {
		err_set(err, "cannot compact at revision %lld: the store is at %lld",
			(long long)below, (long long)*rev);
		return STORE_ERR;
	}
	if (compact_in_txn(s, below) != 0)
		return sq_fail(s, err, "compact");
	return STORE_OK;
}

static int
sq_compact(struct store *base, int64_t rev, struct err *err)
{
	return write_txn((struct sq_store *)base, compact_body, &rev, NULL, err);
}

static int
sq_watch_open(struct store *base, const char *prefix, int64_t start_rev, struct store_watch **out,
	      struct err *err)
{
	struct sq_store *s = (struct sq_store *)base;
	struct sq_watch *w;
	int64_t cur, compact;

	if (exec_id(s, ST_BEGIN_READ) != 0)
		return sq_fail(s, err, "watch");
	if (meta_get(s, "rev", &cur) != 0 || meta_get(s, "compact_rev", &compact) != 0) {
		sq_fail(s, err, "watch");
		exec_id(s, ST_COMMIT);
		return STORE_ERR;
	}
	exec_id(s, ST_COMMIT);
	if (start_rev != 0 && start_rev < compact) {
		err_set(err, "watch from revision %lld: compacted (history starts at %lld)",
			(long long)start_rev, (long long)compact);
		return STORE_COMPACTED;
	}
	w = xcalloc(1, sizeof(*w));
	w->base.ops = &store_sqlite_ops;
	w->s = s;
	w->lo = xstrdup(prefix);
	w->hi = prefix_end(prefix);
	/* Position: the last revision delivered in full. */
	w->rev = start_rev == 0 ? cur : start_rev - 1;
	w->sub = INT64_MAX;
	*out = &w->base;
	return STORE_OK;
}

static int
sq_watch_fd(struct store_watch *w)
{
	(void)w;
	return -1;
}

static int
sq_watch_interval_ms(struct store_watch *w)
{
	(void)w;
	return WATCH_INTERVAL_MS;
}

static int64_t
data_version(struct sq_store *s)
{
	sqlite3_stmt *st = stmt(s, ST_DATA_VERSION);
	int64_t v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

static int
sq_watch_next(struct store_watch *base, struct store_events *out, struct err *err)
{
	struct sq_watch *w = (struct sq_watch *)base;
	struct sq_store *s = w->s;
	sqlite3_stmt *st;
	int64_t dv, compact, cur, next_needed, n = 0;
	int rc;

	if (sweep_if_needed(s, err) != STORE_OK)
		return STORE_ERR;
	/* Nothing committed by anyone since the last look: no query needed. */
	dv = data_version(s);
	if (w->primed && !w->more && dv == w->data_version && s->local_writes == w->local_writes)
		return STORE_OK;
	if (exec_id(s, ST_BEGIN_READ) != 0)
		return sq_fail(s, err, "watch");
	if (meta_get(s, "compact_rev", &compact) != 0 || meta_get(s, "rev", &cur) != 0) {
		rc = sq_fail(s, err, "watch");
		goto out;
	}
	/* A revision cut by a full batch may still have events to deliver. */
	next_needed = w->sub == INT64_MAX ? w->rev + 1 : w->rev;
	if (next_needed < compact) {
		err_set(err, "watch at revision %lld: compacted (history starts at %lld)",
			(long long)next_needed, (long long)compact);
		rc = STORE_COMPACTED;
		goto out;
	}
	st = stmt(s, ST_LOG_READ);
	sqlite3_bind_int64(st, 1, w->rev);
	sqlite3_bind_int64(st, 2, w->sub);
	sqlite3_bind_text(st, 3, w->lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->hi, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, WATCH_BATCH);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event *ev = store_events_push(out);

		w->rev = sqlite3_column_int64(st, 0);
		w->sub = sqlite3_column_int64(st, 1);
		ev->type = sqlite3_column_int(st, 2) == STORE_EVENT_PUT ? STORE_EVENT_PUT
									: STORE_EVENT_DELETE;
		row_to_kv(st, 3, &ev->kv);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = sq_fail(s, err, "watch");
		goto out;
	}
	w->more = n == WATCH_BATCH;
	if (!w->more) {
		/* Caught up: later compaction of what we skipped over is no loss to us. */
		w->rev = cur;
		w->sub = INT64_MAX;
	}
	w->primed = true;
	w->data_version = dv;
	w->local_writes = s->local_writes;
	rc = STORE_OK;
out:
	exec_id(s, ST_COMMIT);
	return rc;
}

static void
sq_watch_close(struct store_watch *base)
{
	struct sq_watch *w = (struct sq_watch *)base;

	free(w->lo);
	free(w->hi);
	free(w);
}

static void
sq_close(struct store *base)
{
	struct sq_store *s = (struct sq_store *)base;

	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* mkdir -p for the directory that will hold path; new directories are 0700. */
static int
make_parent_dirs(const char *path, struct err *err)
{
	char *dir = xstrdup(path);
	int rc = 0;

	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			err_set(err, "cannot create directory %s: %s", dir, strerror(errno));
			rc = -1;
			break;
		}
		*p = '/';
	}
	free(dir);
	return rc;
}

/* Creates the file 0600 before SQLite sees it; SQLite gives -wal and -shm the same mode. */
static int
create_file(const char *path, struct err *err)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			err_set(err, "%s is a directory, not a datastore file", path);
			return -1;
		}
		return 0;
	}
	if (make_parent_dirs(path, err) != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Schema set-up, run by whichever process gets there first. */
static int
init_schema(struct sq_store *s, struct err *err)
{
	sqlite3_stmt *st;
	int version = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s, err, "open");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0)
		return sq_fail(s, err, "open");
	if (version > SCHEMA_VERSION) {
		err_set(err, "%s has schema version %d, newer than this tabby (%d)", s->path,
			version, SCHEMA_VERSION);
		return STORE_ERR;
	}
	if (version == SCHEMA_VERSION)
		return STORE_OK;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s, err, "initialise");
	if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sq_fail(s, err, "initialise");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return STORE_ERR;
	}
	return STORE_OK;
}

static int
set_wal(struct sq_store *s, struct err *err)
{
	/* Switching to WAL needs a moment alone with the file; wait out racing openers. */
	for (int tries = 0; tries < 200; tries++) {
		int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);

		if (rc == SQLITE_OK)
			return STORE_OK;
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			return sq_fail(s, err, "open");
		usleep(50000);
	}
	return sq_fail(s, err, "open");
}

static int
sq_open(struct store **out, const char *path, bool must_exist, struct err *err)
{
	struct sq_store *s;

	if (*path == '\0') {
		err_set(err, "no path given (expected sqlite:PATH)");
		return STORE_ERR;
	}
	if (must_exist && access(path, F_OK) != 0) {
		err_set(err, "%s: %s (a command that only reads never creates a datastore; check "
			     "--datastore or TABBY_DATASTORE)",
			path, strerror(errno));
		return STORE_ERR;
	}
	if (create_file(path, err) != 0)
		return STORE_ERR;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &store_sqlite_ops;
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (s->db == NULL)
			fatal("out of memory opening SQLite");
		sq_fail(s, err, "open");
		goto fail;
	}
	s->timeout_ms = BUSY_TIMEOUT_MS;
	sqlite3_busy_timeout(s->db, s->timeout_ms);
	if (set_wal(s, err) != STORE_OK)
		goto fail;
	/* secure_delete: freed cells and pages are zeroed (secrets leave no trace in the file). */
	if (sqlite3_exec(s->db, "PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; "
				"PRAGMA journal_size_limit=0", NULL, NULL, NULL) != SQLITE_OK) {
		sq_fail(s, err, "open");
		goto fail;
	}
	if (init_schema(s, err) != STORE_OK)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			sq_fail(s, err, "open");
			goto fail;
		}
	}
	*out = &s->base;
	return STORE_OK;
fail:
	sq_close(&s->base);
	return STORE_ERR;
}

static void
sq_set_timeout(struct store *base, int ms)
{
	struct sq_store *s = (struct sq_store *)base;

	s->timeout_ms = ms;
	sqlite3_busy_timeout(s->db, ms);
}

const struct store_ops store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.set_timeout = sq_set_timeout,
	.range = sq_range,
	.txn = sq_txn,
	.lease_grant = sq_lease_grant,
	.lease_keepalive = sq_lease_keepalive,
	.lease_revoke = sq_lease_revoke,
	.compact = sq_compact,
	.watch_open = sq_watch_open,
	.watch_fd = sq_watch_fd,
	.watch_interval_ms = sq_watch_interval_ms,
	.watch_next = sq_watch_next,
	.watch_close = sq_watch_close,
};
