/*
 * The generic half of the v3 resources: the kinds, metadata, and the verbs
 * with their compare-mod-revision transactions. The shared field rules are
 * in res_fields.c, each kind's own in src/model/res_<kind>.c behind struct
 * res_kind.
 */
#include "model/resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "model/res_kind.h"

static const struct res_kind *const kinds[] = {
	&res_bgppeer, &res_bgpconfig, &res_node, &res_bgpfilter, &res_secret,
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct res_kind *
res_kind_find(const char *name)
{
	for (size_t i = 0; i < NKINDS; i++) {
		if (strcasecmp(name, kinds[i]->kind) == 0)
			return kinds[i];
		for (size_t j = 0; kinds[i]->names[j] != NULL; j++)
			if (strcasecmp(name, kinds[i]->names[j]) == 0)
				return kinds[i];
	}
	return NULL;
}

const char *
res_kind_name(const struct res_kind *k)
{
	return k->kind;
}

bool
res_kind_printable(const struct res_kind *k)
{
	return k->printable;
}

const struct res_kind *
res_kind_of(json_t *doc, struct err *err)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const struct res_kind *k;

	if (!json_is_object(doc)) {
		err_set(err, "a resource must be a mapping with apiVersion, kind, metadata and spec");
		return NULL;
	}
	if (kind == NULL) {
		err_set(err, "error with field kind (missing; accepted: BGPPeer, BGPConfiguration, "
			     "Node, BGPFilter, Secret)");
		return NULL;
	}
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(kind, kinds[i]->kind) == 0)
			return kinds[i];
	k = res_kind_find(kind);
	err_set(err, "resource type '%s' is not supported%s%s%s", kind, k ? "; did you mean '" : "",
		k ? k->kind : "", k ? "'?" : "");
	return NULL;
}

/* A new last item of l, to fill. */
static struct res_found *
list_slot(struct res_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	return &l->v[l->n++];
}

void
res_list_add(struct res_list *l, const char *name, const struct store_kv *kv)
{
	json_t *o = json_loads(kv->value, 0, NULL);
	struct res_found *f;

	if (!json_is_object(o)) {
		log_warnx("ignoring malformed datastore value at %s", kv->key);
		json_decref(o);
		return;
	}
	f = list_slot(l);
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->key, sizeof(f->key), "%s", kv->key);
	f->stored = o;
	f->mod_rev = kv->mod_rev;
}

void
res_list_free(struct res_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		json_decref(l->v[i].stored);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
found_cmp(const void *a, const void *b)
{
	return strcmp(((const struct res_found *)a)->name, ((const struct res_found *)b)->name);
}

static int
scan_sorted(struct store *s, const struct res_kind *k, struct res_list *l, struct err *err)
{
	memset(l, 0, sizeof(*l));
	if (k->scan(s, l, err) != 0) {
		res_list_free(l);
		return RES_ERR;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), found_cmp);
	return RES_OK;
}

/* The object with that name (by_key false) or stored at that key. */
static struct res_found *
find(struct res_list *l, const char *what, bool by_key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(by_key ? l->v[i].key : l->v[i].name, what) == 0)
			return &l->v[i];
	return NULL;
}

/*
 * A transaction that compares one object's revision: RES_CONFLICT if it changed
 * meanwhile. *rev (if rev is not NULL): the store's revision after it.
 */
static int
txn_result(struct store *s, const struct store_txn *t, const struct res_kind *k,
	   const char *name, int64_t *rev, struct err *err)
{
	struct store_txn_res res = {0};
	int rc = store_txn(s, t, &res, err);

	if (rev != NULL)
		*rev = res.rev;
	if (rc == STORE_FAILED) {
		err_set(err, "update conflict: %s(%s) (changed by another writer meanwhile)",
			k->kind, name);
		return RES_CONFLICT;
	}
	return rc == STORE_OK ? RES_OK : RES_ERR;
}

int
res_scan_dir(struct store *s, const char *dir, struct res_list *out, struct err *err)
{
	struct store_kvs kvs;

	if (store_range(s, dir, &kvs, err) != STORE_OK)
		return -1;
	for (size_t i = 0; i < kvs.n; i++)
		res_list_add(out, kvs.v[i].key + strlen(dir), &kvs.v[i]);
	store_kvs_free(&kvs);
	return 0;
}

int
res_scan_hosts(struct store *s, void (*key_of)(struct key *k, const char *node),
	       const char *prefix, struct res_list *out, struct err *err)
{
	struct store_kvs kvs;
	char node[NODE_NAME_MAX + 1], name[RES_NAME_MAX + 1];

	if (store_range(s, KEY_HOSTS, &kvs, err) != STORE_OK)
		return -1;
	for (size_t i = 0; i < kvs.n; i++) {
		struct key k;

		if (key_host_node(kvs.v[i].key, node, sizeof(node)) != 0)
			continue;
		key_of(&k, node);
		if (strcmp(k.s, kvs.v[i].key) != 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, node);
		res_list_add(out, name, &kvs.v[i]);
	}
	store_kvs_free(&kvs);
	return 0;
}

static const char *const meta_fields[] = {
	"name", "resourceVersion", "labels", "namespace", "uid", "creationTimestamp",
	"annotations", "generation", NULL,
};

/* metadata: a name, and nothing that is not metadata; *rv: resourceVersion or 0. */
static int
check_metadata(const struct res_kind *k, json_t *doc, int64_t *rv, struct err *err)
{
	json_t *md = json_object_get(doc, "metadata"), *v;
	const char *field, *api = json_string_value(json_object_get(doc, "apiVersion"));
	char *end;

	if (api == NULL || strcmp(api, k->api_version) != 0) {
		res_field_error(err, "apiVersion", json_object_get(doc, "apiVersion"),
				"accepted for kind %s: %s", k->kind, k->api_version);
		return -1;
	}
	json_object_foreach(doc, field, v) {
		/* status is what a cluster reports, not configuration: ignored, as on apply. */
		if (strcmp(field, "apiVersion") != 0 && strcmp(field, "kind") != 0 &&
		    strcmp(field, "metadata") != 0 && strcmp(field, "spec") != 0 &&
		    strcmp(field, "status") != 0 &&
		    !(k == &res_secret && (strcmp(field, "data") == 0 ||
					   strcmp(field, "stringData") == 0 ||
					   strcmp(field, "type") == 0))) {
			err_set(err, "error with field %s (unknown field; accepted: apiVersion, "
				     "kind, metadata, spec)", field);
			return -1;
		}
	}
	if (!json_is_object(md)) {
		res_field_error(err, "metadata", md, "missing; accepted: a mapping with name");
		return -1;
	}
	json_object_foreach(md, field, v) {
		if (!res_in_list(meta_fields, field)) {
			err_set(err, "error with field metadata.%s (unknown field; accepted: name, "
				     "labels, resourceVersion)", field);
			return -1;
		}
	}
	if (res_name_check("metadata.name", json_object_get(md, "name"), err) != 0)
		return -1;
	*rv = 0;
	v = json_object_get(md, "resourceVersion");
	if (v != NULL && json_is_string(v) && json_string_value(v)[0] != '\0') {
		long long n = strtoll(json_string_value(v), &end, 10);

		if (*end != '\0' || n <= 0) {
			res_field_error(err, "metadata.resourceVersion", v,
					"accepted: the revision get printed");
			return -1;
		}
		*rv = n;
	} else if (v != NULL && !json_is_string(v)) {
		res_field_error(err, "metadata.resourceVersion", v,
				"not a string; accepted: the revision get printed, quoted");
		return -1;
	}
	v = json_object_get(md, "labels");
	if (v != NULL) {
		const char *lk;
		json_t *lv;

		if (!k->node_labels || !json_is_object(v)) {
			res_field_error(err, "metadata.labels", v, k->node_labels
							     ? "accepted: a mapping of names to strings"
							     : "labels are only kept on Nodes");
			return -1;
		}
		json_object_foreach(v, lk, lv) {
			char p[128];

			snprintf(p, sizeof(p), "metadata.labels.%s", lk);
			if (!json_is_string(lv)) {
				res_field_error(err, p, lv, "not a string; quote it");
				return -1;
			}
			if (res_label_check(lk, json_string_value(lv), err) != 0)
				return -1;
		}
	}
	return 0;
}

/* The object as it will be stored: what the v3 view does not own is kept from old. */
static json_t *
merge(const struct res_kind *k, const struct res_found *old, json_t *fields)
{
	json_t *o = old ? json_deep_copy(old->stored) : json_object();
	const char *name;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(o, tmp, name, v) {
		bool owned = res_in_list(k->owned, name);

		for (size_t i = 0; !owned && k->fields[i].v3 != NULL; i++)
			owned = strcmp(k->fields[i].stored, name) == 0;
		if (owned)
			json_object_del(o, name);
	}
	json_object_update(o, fields);
	return o;
}

/*
 * A batch's view of a kind: its objects, scanned once, then kept up to date with
 * the batch's own writes, and indexed by name and by key (a manifest of N
 * resources scanned the kind N times: an apply of 2,000 peers took 6 s).
 */
struct res_view {
	struct res_list l;
	json_t *by_name, *by_key;   /* the position in l of the first object of a name, a key */
	bool scanned;
	/* Two objects of one name (a BGPPeer that `bgp peer add` named after its address,
	 * made beside one created under that name): the index holds one of them. */
	bool dup_names;
};

struct res_batch {
	struct store *s;
	struct res_view views[NKINDS];
	size_t scans;
};

static void
view_clear(struct res_view *v)
{
	res_list_free(&v->l);
	json_decref(v->by_name);
	json_decref(v->by_key);
	v->by_name = v->by_key = NULL;
	v->scanned = v->dup_names = false;
}

/* Points the index entries of l.v[i] at i, unless first only and taken. */
static void
view_index(struct res_view *v, size_t i, bool first_only)
{
	const struct res_found *f = &v->l.v[i];

	if (!first_only || json_object_get(v->by_name, f->name) == NULL)
		json_object_set_new(v->by_name, f->name, json_integer((json_int_t)i));
	if (!first_only || json_object_get(v->by_key, f->key) == NULL)
		json_object_set_new(v->by_key, f->key, json_integer((json_int_t)i));
}

/* Drops an index entry if it points at position i. */
static void
view_unindex(json_t *index, const char *what, size_t i)
{
	json_t *at = json_object_get(index, what);

	if (at != NULL && json_integer_value(at) == (json_int_t)i)
		json_object_del(index, what);
}

/* The object with that name (by_key false) or stored at that key, as find does. */
static struct res_found *
view_find(struct res_view *v, const char *what, bool by_key)
{
	json_t *at = json_object_get(by_key ? v->by_key : v->by_name, what);

	return at != NULL ? &v->l.v[json_integer_value(at)] : NULL;
}

static struct res_view *
view_of(struct res_batch *b, const struct res_kind *k)
{
	size_t i = 0;

	while (i < NKINDS - 1 && kinds[i] != k)
		i++;
	return &b->views[i];
}

/*
 * The batch's view of a kind, scanned now if not yet or if fresh (then *scanned
 * is set).
 */
static struct res_view *
seen(struct res_batch *b, const struct res_kind *k, bool fresh, bool *scanned,
     struct err *err)
{
	struct res_view *v = view_of(b, k);

	*scanned = !v->scanned || fresh;
	if (!*scanned)
		return v;
	view_clear(v);
	b->scans++;
	if (scan_sorted(b->s, k, &v->l, err) != RES_OK)
		return NULL;
	v->by_name = json_object();
	v->by_key = json_object();
	for (size_t i = 0; i < v->l.n; i++) {
		if (json_object_get(v->by_name, v->l.v[i].name) != NULL)
			v->dup_names = true;
		view_index(v, i, true);
	}
	v->scanned = true;
	return v;
}

/* Records a write the batch made: f (NULL: a new object) is now at key, revision rev. */
static void
seen_put(struct res_view *v, struct res_found *f, const char *name, const char *key,
	 json_t *stored, int64_t rev)
{
	if (f == NULL) {
		f = list_slot(&v->l);
		snprintf(f->name, sizeof(f->name), "%s", name);
	} else {
		json_decref(f->stored);
		view_unindex(v->by_key, f->key, (size_t)(f - v->l.v));
	}
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->stored = stored;
	f->mod_rev = rev;
	view_index(v, (size_t)(f - v->l.v), false);
}

/*
 * Records a delete the batch made: the last object takes f's place. With two
 * objects of a name, the other is not in the index: the next write scans again.
 */
static void
seen_drop(struct res_view *v, struct res_found *f)
{
	size_t i = (size_t)(f - v->l.v), last = v->l.n - 1;

	if (v->dup_names)
		v->scanned = false;

	view_unindex(v->by_name, f->name, i);
	view_unindex(v->by_key, f->key, i);
	json_decref(f->stored);
	if (i != last) {
		bool named = json_integer_value(json_object_get(v->by_name, v->l.v[last].name)) ==
			     (json_int_t)last;
		bool keyed = json_integer_value(json_object_get(v->by_key, v->l.v[last].key)) ==
			     (json_int_t)last;

		*f = v->l.v[last];
		if (named)
			json_object_set_new(v->by_name, f->name, json_integer((json_int_t)i));
		if (keyed)
			json_object_set_new(v->by_key, f->key, json_integer((json_int_t)i));
	}
	v->l.n--;
}

/* Internal: another object is at the key (RES_ERR to the caller), an answer from the view. */
#define RES_SAME_KEY (-2)

/* One create, apply or replace of the decoded document (key, fields) against the view. */
static int
write_in(struct res_batch *b, struct res_view *v, const struct res_kind *k, enum res_verb verb,
	 json_t *doc, const char *name, int64_t rv, const char *key, json_t *fields,
	 struct err *err)
{
	struct res_found *old, *other;
	json_t *o;
	int rc;

	old = view_find(v, name, false);
	other = view_find(v, key, true);
	if (verb == RES_CREATE && old != NULL) {
		err_set(err, "resource already exists: %s(%s)", k->kind, name);
		rc = RES_EXISTS;
	} else if (verb == RES_REPLACE && old == NULL) {
		err_set(err, "resource does not exist: %s(%s)", k->kind, name);
		rc = RES_NOTFOUND;
	} else if (rv != 0 && (old == NULL || old->mod_rev != rv)) {
		err_set(err, "update conflict: %s(%s) (resourceVersion %lld is not the stored "
			     "one, %lld; get it again)", k->kind, name, (long long)rv,
			(long long)(old ? old->mod_rev : 0));
		rc = RES_CONFLICT;
	} else if (other != NULL && other != old) {
		err_set(err, "%s(%s) and %s(%s) would be the same peering; accepted: one %s per "
			     "peerIP and node (or global)", k->kind, name, k->kind, other->name,
			k->kind);
		rc = RES_SAME_KEY;
	} else {
		struct store_cmp cmps[2] = {{.key = key, .mod_rev = old ? old->mod_rev : 0}};
		struct store_op ops[2];
		struct store_txn t = {.cmps = cmps, .ncmps = 1, .ops = ops, .nops = 0};
		int64_t rev;
		char *text;

		o = merge(k, old, fields);
		if (json_object_get(json_object_get(doc, "metadata"), "labels") != NULL)
			json_object_set(o, "labels",
					json_object_get(json_object_get(doc, "metadata"), "labels"));
		else if (k->node_labels)
			json_object_del(o, "labels");
		text = json_dumps(o, JSON_COMPACT);
		if (old != NULL && strcmp(old->key, key) != 0) {
			/* It moves (a new peerIP or node): the old key goes in the same transaction. */
			cmps[0].mod_rev = 0;
			cmps[1] = (struct store_cmp){.key = old->key, .mod_rev = old->mod_rev};
			t.ncmps = 2;
			ops[t.nops++] = (struct store_op){.type = STORE_OP_DELETE, .key = old->key};
		}
		ops[t.nops++] = (struct store_op){.type = STORE_OP_PUT, .key = key, .value = text};
		rc = txn_result(b->s, &t, k, name, &rev, err);
		free(text);
		if (rc == RES_OK)
			seen_put(v, old, name, key, o, rev);
		else
			json_decref(o);
	}
	return rc;
}

/* One delete against the view. */
static int
delete_in(struct res_batch *b, struct res_view *v, const struct res_kind *k, const char *name,
	  struct err *err)
{
	struct res_found *f = view_find(v, name, false);
	struct store_cmp cmp;
	struct store_op ops[2];
	struct store_txn t = {.cmps = &cmp, .ncmps = 1, .ops = ops, .nops = 1};
	struct key with;
	int rc;

	if (f == NULL) {
		err_set(err, "resource does not exist: %s(%s)", k->kind, name);
		return RES_NOTFOUND;
	}
	cmp = (struct store_cmp){.key = f->key, .mod_rev = f->mod_rev};
	ops[0] = (struct store_op){.type = STORE_OP_DELETE, .key = f->key};
	if (k->deleted_with != NULL) {
		k->deleted_with(&with, name);
		ops[t.nops++] = (struct store_op){.type = STORE_OP_DELETE, .key = with.s};
	}
	rc = txn_result(b->s, &t, k, name, NULL, err);
	if (rc == RES_OK)
		seen_drop(v, f);
	return rc;
}

struct res_batch *
res_batch_open(struct store *s)
{
	struct res_batch *b = xcalloc(1, sizeof(*b));

	b->s = s;
	return b;
}

size_t
res_batch_scans(const struct res_batch *b)
{
	return b->scans;
}

void
res_batch_close(struct res_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < NKINDS; i++)
		view_clear(&b->views[i]);
	free(b);
}

/*
 * Against the batch's view. A write whose answer came from a view scanned before it
 * (another writer may have changed the kind meanwhile: a failed compare, "already
 * exists", "does not exist", another object at the key) is tried once more on a
 * fresh scan, and answers as a write that scanned first would. An invalid document
 * or a datastore error is answered at once.
 */
static int
batch_do(struct res_batch *b, const struct res_kind *k, enum res_verb verb, json_t *doc,
	 const char *name, int64_t rv, struct err *err)
{
	json_t *fields = NULL;
	struct key key;
	int rc;

	if (verb != RES_DELETE) {
		fields = json_object();
		if (k->decode(doc, name, &key, fields, err) != 0) {
			json_decref(fields);
			return RES_ERR;
		}
	}
	for (int attempt = 0;; attempt++) {
		bool scanned;
		struct res_view *v = seen(b, k, attempt > 0, &scanned, err);

		if (v == NULL) {
			rc = RES_ERR;
			break;
		}
		rc = verb == RES_DELETE ? delete_in(b, v, k, name, err)
					: write_in(b, v, k, verb, doc, name, rv, key.s, fields, err);
		if (scanned || (rc != RES_EXISTS && rc != RES_NOTFOUND && rc != RES_CONFLICT &&
				rc != RES_SAME_KEY))
			break;
	}
	json_decref(fields);
	return rc == RES_SAME_KEY ? RES_ERR : rc;
}

int
res_batch_write(struct res_batch *b, enum res_verb verb, json_t *doc, struct err *err)
{
	const struct res_kind *k = res_kind_of(doc, err);
	json_t *md = json_object_get(doc, "metadata");
	int64_t rv;

	if (k == NULL || check_metadata(k, doc, &rv, err) != 0)
		return RES_ERR;
	return batch_do(b, k, verb, doc, json_string_value(json_object_get(md, "name")), rv, err);
}

int
res_write(struct store *s, enum res_verb verb, json_t *doc, struct err *err)
{
	struct res_batch *b = res_batch_open(s);
	int rc = res_batch_write(b, verb, doc, err);

	res_batch_close(b);
	return rc;
}

int
res_delete(struct store *s, const struct res_kind *k, const char *name, struct err *err)
{
	struct res_batch *b = res_batch_open(s);
	int rc = batch_do(b, k, RES_DELETE, NULL, name, 0, err);

	res_batch_close(b);
	return rc;
}

static json_t *
to_doc(const struct res_kind *k, const struct res_found *f)
{
	char rv[32];
	json_t *md, *doc, *spec, *labels = json_object_get(f->stored, "labels");

	snprintf(rv, sizeof(rv), "%lld", (long long)f->mod_rev);
	md = json_pack("{s:s}", "name", f->name);
	if (k == &res_secret && json_is_string(json_object_get(f->stored, "namespace")))
		json_object_set(md, "namespace", json_object_get(f->stored, "namespace"));
	json_object_set_new(md, "resourceVersion", json_string(rv));
	if (k->node_labels && json_is_object(labels) && json_object_size(labels) > 0)
		json_object_set(md, "labels", labels);
	doc = json_pack("{s:s, s:s, s:o}", "apiVersion", k->api_version, "kind", k->kind,
			"metadata", md);
	if (k->encode != NULL) {
		spec = k->encode(f);
	} else {
		spec = json_object();
		res_fields_encode(k->fields, f->stored, spec);
	}
	if (spec != NULL)
		json_object_set_new(doc, "spec", spec);
	return doc;
}

int
res_get(struct store *s, const struct res_kind *k, const char *name, json_t **out,
	struct err *err)
{
	struct res_list l;

	*out = NULL;
	if (scan_sorted(s, k, &l, err) != RES_OK)
		return RES_ERR;
	*out = json_array();
	for (size_t i = 0; i < l.n; i++)
		if (name == NULL || strcmp(l.v[i].name, name) == 0)
			json_array_append_new(*out, to_doc(k, &l.v[i]));
	res_list_free(&l);
	if (name != NULL && json_array_size(*out) == 0) {
		json_decref(*out);
		*out = NULL;
		err_set(err, "resource does not exist: %s(%s)", k->kind, name);
		return RES_NOTFOUND;
	}
	return RES_OK;
}

int
res_label(struct store *s, const struct res_kind *k, const char *name, const char *key,
	  const char *value, bool overwrite, struct err *err)
{
	struct res_list l;
	struct res_found *f;
	int rc = RES_ERR;
	json_t *labels;

	if (!k->node_labels) {
		err_set(err, "labels are only kept on Nodes; accepted kind: nodes");
		return RES_ERR;
	}
	if (res_label_check(key, value, err) != 0)
		return RES_ERR;
	if (scan_sorted(s, k, &l, err) != RES_OK)
		return RES_ERR;
	if ((f = find(&l, name, false)) == NULL) {
		err_set(err, "resource does not exist: %s(%s)", k->kind, name);
		rc = RES_NOTFOUND;
		goto out;
	}
	labels = json_object_get(f->stored, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(f->stored, "labels", labels);
	}
	if (value == NULL && json_object_get(labels, key) == NULL) {
		err_set(err, "can not remove label of %s %s, because the label key %s does not "
			     "exist", k->names[0], name, key);
		goto out;
	}
	if (value != NULL && json_object_get(labels, key) != NULL && !overwrite &&
	    strcmp(json_string_value(json_object_get(labels, key)) ?: "", value) != 0) {
		err_set(err, "failed to update label of %s %s. key %s is already present. please "
			     "use '--overwrite' to set a new value.", k->names[0], name, key);
		goto out;
	}
	if (value == NULL)
		json_object_del(labels, key);
	else
		json_object_set_new(labels, key, json_string(value));
	{
		struct store_cmp cmp = {.key = f->key, .mod_rev = f->mod_rev};
		struct store_op op = {.type = STORE_OP_PUT, .key = f->key};
		struct store_txn t = {.cmps = &cmp, .ncmps = 1, .ops = &op, .nops = 1};
		char *text = json_dumps(f->stored, JSON_COMPACT);

		op.value = text;
		rc = txn_result(s, &t, k, name, NULL, err);
		free(text);
	}
out:
	res_list_free(&l);
	return rc;
}
