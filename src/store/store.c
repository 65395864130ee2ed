/* The datastore front end: URL selection and dispatch to a backend. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

static const struct store_ops *const backends[] = {
    &store_sqlite_ops,
    &store_etcd_ops,
    &store_etcds_ops,
};

void
store_etcd_files(const char *ca, const char *cert, const char *key)
{
	/* The backend reads its settings from the environment; a flag overrides it. */
	if (ca != NULL)
		setenv("TABBY_ETCD_CA", ca, 1);
	if (cert != NULL)
		setenv("TABBY_ETCD_CERT", cert, 1);
	if (key != NULL)
		setenv("TABBY_ETCD_KEY", key, 1);
}

const char *
store_url_default(const char *flag, char *buf, size_t len)
{
	const char *env = getenv("TABBY_DATASTORE");
	const char *home = getenv("HOME");

	if (flag != NULL && *flag != '\0')
		return flag;
	if (env != NULL && *env != '\0')
		return env;
	if (geteuid() == 0 || home == NULL || *home == '\0')
		snprintf(buf, len, "sqlite:/var/lib/tabby/tabby.db");
	else
		snprintf(buf, len, "sqlite:%s/.local/state/tabby/tabby.db", home);
	return buf;
}

/* The URL as errors show it: user information, if any, is replaced (never shown). */
static const char *
url_shown(const char *url, char *buf, size_t len)
{
	const char *start = strstr(url, "//"), *at = start ? strchr(start, '@') : NULL;

	if (at == NULL)
		return url;
	snprintf(buf, len, "%.*s***%s", (int)(start + 2 - url), url, at);
	return buf;
}

static int
open_url(struct store **out, const char *url, bool must_exist, struct err *err)
{
	char shown[512];

	const char *colon = strchr(url, ':');
	size_t n = colon ? (size_t)(colon - url) : 0;

	*out = NULL;
	for (size_t i = 0; colon && i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strlen(backends[i]->scheme) == n && strncmp(url, backends[i]->scheme, n) == 0) {
			if (backends[i]->open(out, colon + 1, must_exist, err) != STORE_OK) {
				err_prefix(err, "datastore %s",
					   url_shown(url, shown, sizeof(shown)));
				return STORE_ERR;
			}
			return STORE_OK;
		}
	}
	err_set(err,
		"datastore '%s': unsupported URL; accepted: sqlite:PATH, "
		"etcd://HOST:PORT[,HOST:PORT...], etcds://HOST:PORT[,...]",
		url_shown(url, shown, sizeof(shown)));
	return STORE_ERR;
}

int
store_open(struct store **out, const char *url, struct err *err)
{
	return open_url(out, url, false, err);
}

int
store_open_existing(struct store **out, const char *url, struct err *err)
{
	return open_url(out, url, true, err);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

void
store_set_timeout(struct store *s, int ms)
{
	s->ops->set_timeout(s, ms);
}

int
store_get(struct store *s, const char *key, struct store_kv *out, struct err *err)
{
	struct store_kvs kvs = {0};
	int rc = s->ops->range(s, key, false, &kvs, err);

	memset(out, 0, sizeof(*out));
	if (rc != STORE_OK)
		return rc;
	if (kvs.n == 0) {
		store_kvs_free(&kvs);
		return STORE_NOTFOUND;
	}
	*out = kvs.v[0];
	kvs.n = 0;
	store_kvs_free(&kvs);
	return STORE_OK;
}

int
store_range(struct store *s, const char *prefix, struct store_kvs *out, struct err *err)
{
	return s->ops->range(s, prefix, true, out, err);
}

int
store_txn(struct store *s, const struct store_txn *t, struct store_txn_res *res, struct err *err)
{
	struct store_txn_res dummy;

	return s->ops->txn(s, t, res ? res : &dummy, err);
}

static int
single_op(struct store *s, const struct store_op *op, struct store_txn_res *res, struct err *err)
{
	struct store_txn t = {.ops = op, .nops = 1};

	return s->ops->txn(s, &t, res, err);
}

int
store_put(struct store *s, const char *key, const char *value, int64_t lease, int64_t *rev,
	  struct err *err)
{
	struct store_op op = {.type = STORE_OP_PUT, .key = key, .value = value, .lease = lease};
	struct store_txn_res res;
	int rc = single_op(s, &op, &res, err);

	if (rc == STORE_OK && rev != NULL)
		*rev = res.rev;
	return rc;
}

static int
delete_op(struct store *s, enum store_op_type type, const char *key, struct err *err)
{
	struct store_op op = {.type = type, .key = key};
	struct store_txn_res res;
	int rc = single_op(s, &op, &res, err);

	if (rc != STORE_OK)
		return rc;
	return res.changed == 0 ? STORE_NOTFOUND : STORE_OK;
}

int
store_delete(struct store *s, const char *key, struct err *err)
{
	return delete_op(s, STORE_OP_DELETE, key, err);
}

int
store_delete_prefix(struct store *s, const char *prefix, struct err *err)
{
	return delete_op(s, STORE_OP_DELETE_PREFIX, prefix, err);
}

int
store_lease_grant(struct store *s, int64_t ttl_s, int64_t *id, struct err *err)
{
	if (ttl_s < 1) {
		err_set(err, "lease TTL must be at least 1 second");
		return STORE_ERR;
	}
	return s->ops->lease_grant(s, ttl_s, id, err);
}

int
store_lease_keepalive(struct store *s, int64_t id, struct err *err)
{
	return s->ops->lease_keepalive(s, id, err);
}

int
store_lease_revoke(struct store *s, int64_t id, struct err *err)
{
	return s->ops->lease_revoke(s, id, err);
}

int
store_compact(struct store *s, int64_t rev, struct err *err)
{
	return s->ops->compact(s, rev, err);
}

int
store_watch_open(struct store *s, const char *prefix, int64_t start_rev, struct store_watch **out,
		 struct err *err)
{
	return s->ops->watch_open(s, prefix, start_rev, out, err);
}

int
store_watch_fd(struct store_watch *w)
{
	return w->ops->watch_fd(w);
}

int
store_watch_interval_ms(struct store_watch *w)
{
	return w->ops->watch_interval_ms(w);
}

int
store_watch_next(struct store_watch *w, struct store_events *out, struct err *err)
{
	return w->ops->watch_next(w, out, err);
}

void
store_watch_close(struct store_watch *w)
{
	if (w != NULL)
		w->ops->watch_close(w);
}

int
store_key_check(const char *key, struct err *err)
{
	if (key == NULL || *key == '\0') {
		err_set(err, "empty key");
		return -1;
	}
	for (const char *p = key; *p; p++) {
		if (*p < 0x21 || *p > 0x7e) {
			err_set(err, "key '%s' has a character outside printable ASCII", key);
			return -1;
		}
	}
	return 0;
}

void
store_kv_clear(struct store_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void
store_kvs_free(struct store_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++)
		store_kv_clear(&kvs->v[i]);
	free(kvs->v);
	memset(kvs, 0, sizeof(*kvs));
}

struct store_kv *
store_kvs_push(struct store_kvs *kvs)
{
	if (kvs->n == kvs->cap) {
		kvs->cap = kvs->cap ? kvs->cap * 2 : 16;
		kvs->v = xrealloc(kvs->v, kvs->cap * sizeof(*kvs->v));
	}
	memset(&kvs->v[kvs->n], 0, sizeof(kvs->v[0]));
	return &kvs->v[kvs->n++];
}

void
store_events_free(struct store_events *evs)
{
	for (size_t i = 0; i < evs->n; i++)
		store_kv_clear(&evs->v[i].kv);
	free(evs->v);
	memset(evs, 0, sizeof(*evs));
}

struct store_event *
store_events_push(struct store_events *evs)
{
	if (evs->n == evs->cap) {
		evs->cap = evs->cap ? evs->cap * 2 : 16;
		evs->v = xrealloc(evs->v, evs->cap * sizeof(*evs->v));
	}
	memset(&evs->v[evs->n], 0, sizeof(evs->v[0]));
	return &evs->v[evs->n++];
}
