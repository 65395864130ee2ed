#include "model/bgpconf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/asn.h"
#include "lib/log.h"
#include "model/resource.h"
#include "model/selector.h"

/* How often a read-modify-write is retried when another writer got in between. */
#define UPDATE_TRIES 100

static json_t *
parse_object(const struct store_kv *kv)
{
	json_t *o = json_loads(kv->value, 0, NULL);

	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL)
		log_warnx("ignoring malformed datastore value at %s", kv->key);
	return o;
}

static int
put_json(struct store *s, const char *key, json_t *o, struct err *err)
{
	char *text = json_dumps(o, JSON_COMPACT);
	int rc;

	if (text == NULL)
		fatal("out of memory encoding JSON");
	rc = store_put(s, key, text, 0, NULL, err);
	free(text);
	return rc;
}

/*
 * Read-modify-write of one JSON object, applied only if nobody changed the
 * key meanwhile (a transaction on its mod revision); fields we do not know
 * are kept.
 */
static int
update_json(struct store *s, const char *key, void (*apply)(json_t *o, const void *arg),
	    const void *arg, struct err *err)
{
	for (int tries = 0; tries < UPDATE_TRIES; tries++) {
		struct store_kv kv;
		struct store_cmp cmp = {.key = key};
		struct store_op op = {.type = STORE_OP_PUT, .key = key};
		struct store_txn t = {.cmps = &cmp, .ncmps = 1, .ops = &op, .nops = 1};
		json_t *o = NULL;
		char *text;
		int rc = store_get(s, key, &kv, err);

		if (rc == STORE_ERR)
			return STORE_ERR;
		if (rc == STORE_OK) {
			cmp.mod_rev = kv.mod_rev;
			o = parse_object(&kv);
			store_kv_clear(&kv);
		}
		if (o == NULL)
			o = json_object();
		apply(o, arg);
		text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (text == NULL)
			fatal("out of memory encoding JSON");
		op.value = text;
		rc = store_txn(s, &t, NULL, err);
		free(text);
		if (rc != STORE_FAILED)
			return rc;
	}
	err_set(err, "%s: too many concurrent updates, giving up", key);
	return STORE_ERR;
}

/* An unsigned integer field that must be a valid AS number; false if absent or bad. */
static bool
json_asn(json_t *o, const char *field, uint32_t *out)
{
	json_t *v = json_object_get(o, field);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    asn_check((uint64_t)json_integer_value(v), NULL) != 0)
		return false;
	*out = (uint32_t)json_integer_value(v);
	return true;
}

static bool
json_addr(json_t *o, const char *field, int family, struct addr *out)
{
	const char *s = json_string_value(json_object_get(o, field));

	return s != NULL && addr_parse(s, out) == 0 && out->family == family;
}

/* A prefix limit field: 1..2^32-1, else (absent or bad) none. */
static void
json_limit(json_t *o, const char *field, uint32_t *out)
{
	json_t *v = json_object_get(o, field);

	*out = 0;
	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= UINT32_MAX)
		*out = (uint32_t)json_integer_value(v);
}

int
bgpconf_max_prefixes_parse(const char *text, uint32_t *out, struct err *err)
{
	unsigned long long v = 0;

	if (strcmp(text, "none") == 0) {
		*out = 0;
		return 0;
	}
	/* Plain decimal digits only: no sign, space or hex. */
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9' || v > UINT32_MAX) {
			v = 0;
			break;
		}
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (v == 0 || v > UINT32_MAX) {
		err_set(err, "%s", BGPCONF_MAX_PREFIXES_ACCEPTED);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * A restart time at key: a v3 duration ("120s"; tabbyctl --restart-time writes one too).
 * RFC 4724 §3: it has 12 bits, so a longer one is clamped. 0: none (or unreadable).
 */
static void
restart_time(json_t *o, const char *key, uint32_t *secs)
{
	const char *d = json_string_value(json_object_get(o, key));

	if (d == NULL || res_duration_parse(d, secs) != 0)
		*secs = 0;
	if (*secs > BGPCONF_RESTART_TIME_MAX)
		*secs = BGPCONF_RESTART_TIME_MAX;
}

int
bgpconf_global_get(struct store *s, struct bgp_global *out, struct err *err)
{
	struct store_kv kv;
	json_t *o, *mesh;
	int rc;

	*out = (struct bgp_global){.as_num = ASN_DEFAULT_NODE, .node_mesh = true};
	rc = store_get(s, KEY_GLOBAL_CONFIG, &kv, err);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	o = parse_object(&kv);
	store_kv_clear(&kv);
	if (o == NULL)
		return STORE_OK;
	json_asn(o, "as_num", &out->as_num);
	mesh = json_object_get(o, "node_mesh");
	if (json_is_boolean(mesh))
		out->node_mesh = json_is_true(mesh);
	json_limit(o, "mesh_max_prefixes", &out->mesh_max_prefixes);
	restart_time(o, "mesh_max_restart_time", &out->mesh_max_restart_time);
	json_decref(o);
	return STORE_OK;
}

/* listen_port of the object at key into *port, if it has one. */
static int
listen_port_at(struct store *s, const char *key, uint16_t *port, struct err *err)
{
	struct store_kv kv;
	json_t *o, *v;
	int rc = store_get(s, key, &kv, err);

	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	o = parse_object(&kv);
	store_kv_clear(&kv);
	v = json_object_get(o, "listen_port");
	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 65536)
		*port = (uint16_t)json_integer_value(v);
	json_decref(o);
	return STORE_OK;
}

int
bgpconf_listen_port(struct store *s, const char *node, uint16_t *port, struct err *err)
{
	struct key k;
	uint16_t mine = 0;

	*port = 0;
	key_host_bgpconfig(&k, node);
	if (listen_port_at(s, KEY_GLOBAL_CONFIG, port, err) != STORE_OK ||
	    listen_port_at(s, k.s, &mine, err) != STORE_OK)
		return STORE_ERR;
	/* BGPConfiguration node.NAME overrides default. */
	if (mine != 0)
		*port = mine;
	return STORE_OK;
}

static void
apply_mesh(json_t *o, const void *arg)
{
	json_object_set_new(o, "node_mesh", json_boolean(*(const bool *)arg));
}

static void
apply_default_as(json_t *o, const void *arg)
{
	json_object_set_new(o, "as_num", json_integer(*(const uint32_t *)arg));
}

static void
apply_mesh_max_prefixes(json_t *o, const void *arg)
{
	uint32_t n = *(const uint32_t *)arg;

	if (n == 0)
		json_object_del(o, "mesh_max_prefixes");
	else
		json_object_set_new(o, "mesh_max_prefixes", json_integer(n));
}

int
bgpconf_set_mesh_max_prefixes(struct store *s, uint32_t n, struct err *err)
{
	return update_json(s, KEY_GLOBAL_CONFIG, apply_mesh_max_prefixes, &n, err);
}

int
bgpconf_set_node_mesh(struct store *s, bool on, struct err *err)
{
	return update_json(s, KEY_GLOBAL_CONFIG, apply_mesh, &on, err);
}

int
bgpconf_set_default_as(struct store *s, uint32_t as_num, struct err *err)
{
	if (asn_check(as_num, err) != 0)
		return STORE_ERR;
	return update_json(s, KEY_GLOBAL_CONFIG, apply_default_as, &as_num, err);
}

static int
check_node(const char *node, struct err *err)
{
	if (node != NULL && node_name_check(node, err) != 0)
		return STORE_ERR;
	return STORE_OK;
}

int
bgpconf_peer_check(const struct bgp_peer *p, struct err *err)
{
	char a[ADDR_STRLEN];
	const char *why = addr_not_unicast(&p->ip);
	size_t n = strlen(p->password);

	if (why != NULL) {
		addr_format(&p->ip, a);
		err_set(err, "%s cannot be a BGP peer: %s", a, why);
		return STORE_ERR;
	}
	if (asn_check(p->as_num, err) != 0)
		return STORE_ERR;
	if (n != 0 && n < 6) {
		err_set(err, "the password must be 6-%d characters", BGP_PASSWORD_MAX);
		return STORE_ERR;
	}
	for (size_t i = 0; i < n; i++) {
		if (p->password[i] < 0x20 || p->password[i] > 0x7e) {
			err_set(err, "the password must be printable ASCII");
			return STORE_ERR;
		}
	}
	if (p->max_restart_time > BGPCONF_RESTART_TIME_MAX) {
		err_set(err, "the restart time must be 1-%d seconds (RFC 4724: 12 bits)",
			BGPCONF_RESTART_TIME_MAX);
		return STORE_ERR;
	}
	return STORE_OK;
}

/*
 * What the v0.x grammar says about a peer replaces what it said before; a
 * v3 BGPPeer's name and fields it has no flag for (resource.h) are kept.
 */
static void
apply_peer(json_t *o, const void *arg)
{
	const struct bgp_peer *p = arg;
	char a[ADDR_STRLEN];

	addr_format(&p->ip, a);
	json_object_set_new(o, "ip", json_string(a));
	json_object_set_new(o, "as_num", json_integer(p->as_num));
	json_object_del(o, "password");
	json_object_del(o, "import");
	json_object_del(o, "export");
	json_object_del(o, "max_prefixes");
	json_object_del(o, "port");
	json_object_del(o, "max_restart_time");
	if (p->password[0] != '\0')
		json_object_set_new(o, "password", json_string(p->password));
	/* Policy switches are written only when they differ from the default (all). */
	if (p->import_none)
		json_object_set_new(o, "import", json_string("none"));
	if (p->export_none)
		json_object_set_new(o, "export", json_string("none"));
	if (p->max_prefixes != 0)
		json_object_set_new(o, "max_prefixes", json_integer(p->max_prefixes));
	/* The same field as a v3 BGPPeer's maxRestartTime, so written as its duration. */
	if (p->max_restart_time != 0) {
		char d[16];

		snprintf(d, sizeof(d), "%us", (unsigned)p->max_restart_time);
		json_object_set_new(o, "max_restart_time", json_string(d));
	}
}

int
bgpconf_peer_put(struct store *s, const char *node, const struct bgp_peer *p, struct err *err)
{
	struct key k;

	if (check_node(node, err) != STORE_OK || bgpconf_peer_check(p, err) != STORE_OK)
		return STORE_ERR;
	key_peer(&k, node, &p->ip);
	return update_json(s, k.s, apply_peer, p, err);
}

int
bgpconf_peer_remove(struct store *s, const char *node, const struct addr *ip, struct err *err)
{
	struct key k;

	if (check_node(node, err) != STORE_OK)
		return STORE_ERR;
	key_peer(&k, node, ip);
	return store_delete(s, k.s, err);
}

static int
peer_cmp(const void *a, const void *b)
{
	return addr_cmp(&((const struct bgp_peer *)a)->ip, &((const struct bgp_peer *)b)->ip);
}

/* A BGPPeer's password.secretKeyRef: the key's value in the named Secret. */
static void
secret_password(struct store *s, json_t *ref, struct bgp_peer *p)
{
	const char *name = json_string_value(json_object_get(ref, "name"));
	const char *key = json_string_value(json_object_get(ref, "key"));
	struct store_kv kv;
	struct err err;
	struct key k;
	json_t *o;

	if (name == NULL || key == NULL)
		return;
	key_named(&k, KEY_SECRETS, name);
	if (store_get(s, k.s, &kv, &err) != STORE_OK) {
		log_warnx("peer password: no Secret %s; the session runs without a password", name);
		return;
	}
	o = parse_object(&kv);
	store_kv_clear(&kv);
	if (json_is_string(json_object_get(json_object_get(o, "data"), key)))
		snprintf(p->password, sizeof(p->password), "%s",
			 json_string_value(json_object_get(json_object_get(o, "data"), key)));
	else
		log_warnx("peer password: Secret %s has no key %s; the session runs without a "
			  "password", name, key);
	json_decref(o);
}

static bool
json_flag(json_t *o, const char *field, const char *word)
{
	json_t *v = json_object_get(o, field);

	return json_is_string(v) && strcmp(json_string_value(v), word) == 0;
}

/* BGPPeer filters: the names, in order; what does not fit is logged and left out. */
static void
peer_filters(json_t *o, struct bgp_peer *p)
{
	json_t *names = json_object_get(o, "filters"), *v;
	size_t i, used = 0;

	p->filters[0] = '\0';
	json_array_foreach(names, i, v) {
		const char *n = json_string_value(v);
		int w;

		if (n == NULL)
			continue;
		w = snprintf(p->filters + used, sizeof(p->filters) - used, "%s%s", used ? "," : "", n);
		if (w < 0 || (size_t)w >= sizeof(p->filters) - used) {
			p->filters[used] = '\0';
			log_warnx("BGPPeer filters: more than %zu characters of names; from %s on "
				  "they are not applied", sizeof(p->filters) - 1, n);
			return;
		}
		used += (size_t)w;
	}
}

/* The options of a stored peer beyond address and AS, v0.x and v3 alike. */
static void
peer_options(struct store *s, json_t *o, struct bgp_peer *p)
{
	const char *pw = json_string_value(json_object_get(o, "password"));
	json_t *v;

	if (pw != NULL)
		snprintf(p->password, sizeof(p->password), "%s", pw);
	else if (json_is_object(json_object_get(o, "password_secret")))
		secret_password(s, json_object_get(o, "password_secret"), p);
	p->import_none = json_flag(o, "import", "none");
	p->export_none = json_flag(o, "export", "none");
	json_limit(o, "max_prefixes", &p->max_prefixes);
	v = json_object_get(o, "port");
	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 65536)
		p->port = (uint16_t)json_integer_value(v);
	p->keep_original_next_hop = json_is_true(json_object_get(o, "keep_original_next_hop"));
	p->source_address_none = json_flag(o, "source_address", "None");
	restart_time(o, "max_restart_time", &p->max_restart_time);
	json_limit(o, "num_allowed_local_as", &p->num_allowed_local_as);
	json_limit(o, "ttl_security", &p->ttl_security);
	peer_filters(o, p);
}

/* One stored peer of a family; false (logged) if its value is not one. */
static bool
peer_from_kv(struct store *s, const struct store_kv *kv, int family, struct bgp_peer *p)
{
	json_t *o = parse_object(kv);

	if (o == NULL)
		return false;
	memset(p, 0, sizeof(*p));
	if (!json_addr(o, "ip", family, &p->ip) || !json_asn(o, "as_num", &p->as_num)) {
		log_warnx("ignoring malformed peer at %s", kv->key);
		json_decref(o);
		return false;
	}
	peer_options(s, o, p);
	json_decref(o);
	return true;
}

static int
peer_list_family(struct store *s, const char *node, int family, struct bgp_peers *out,
		 struct err *err)
{
	struct store_kvs kvs;
	struct key dir;
	int rc;

	key_peer_dir(&dir, node, family);
	if ((rc = store_range(s, dir.s, &kvs, err)) != STORE_OK)
		return rc;
	out->v = xrealloc(out->v, (out->n + kvs.n) * sizeof(*out->v));
	for (size_t i = 0; i < kvs.n; i++)
		if (peer_from_kv(s, &kvs.v[i], family, &out->v[out->n]))
			out->n++;
	store_kvs_free(&kvs);
	return STORE_OK;
}

int
bgpconf_peer_get(struct store *s, const char *node, const struct addr *ip, struct bgp_peers *out,
		 struct err *err)
{
	struct store_kv kv;
	struct key k;
	int rc;

	if (check_node(node, err) != STORE_OK)
		return STORE_ERR;
	key_peer(&k, node, ip);
	if ((rc = store_get(s, k.s, &kv, err)) == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	if (peer_from_kv(s, &kv, ip->family, &out->v[out->n]))
		out->n++;
	store_kv_clear(&kv);
	return STORE_OK;
}

int
bgpconf_peer_list(struct store *s, const char *node, int family, struct bgp_peers *out,
		  struct err *err)
{
	memset(out, 0, sizeof(*out));
	if (check_node(node, err) != STORE_OK)
		return STORE_ERR;
	if ((family == 0 || family == AF_INET) &&
	    peer_list_family(s, node, AF_INET, out, err) != STORE_OK)
		goto fail;
	if ((family == 0 || family == AF_INET6) &&
	    peer_list_family(s, node, AF_INET6, out, err) != STORE_OK)
		goto fail;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), peer_cmp);
	return STORE_OK;
fail:
	bgp_peers_free(out);
	return STORE_ERR;
}

void
bgp_peers_free(struct bgp_peers *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* A stored selector of a BGPPeer; false (and logged) if it does not parse. */
static bool
selector_field(json_t *o, const char *field, const char *key, struct sel **out)
{
	const char *text = json_string_value(json_object_get(o, field));
	struct err err;

	*out = NULL;
	if (text == NULL)
		return true;
	if ((*out = sel_parse(text, NULL, &err)) == NULL) {
		log_warnx("ignoring the peer at %s: %s", key, err.msg);
		return false;
	}
	return true;
}

int
bgpconf_selpeer_list(struct store *s, struct bgp_selpeers *out, struct err *err)
{
	struct store_kvs kvs;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_range(s, KEY_BGPPEERS, &kvs, err)) != STORE_OK)
		return rc;
	out->v = xcalloc(kvs.n ? kvs.n : 1, sizeof(*out->v));
	for (size_t i = 0; i < kvs.n; i++) {
		struct bgp_selpeer *p = &out->v[out->n];
		json_t *o = parse_object(&kvs.v[i]);
		const char *node;

		if (o == NULL)
			continue;
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", kvs.v[i].key + strlen(KEY_BGPPEERS));
		node = json_string_value(json_object_get(o, "node"));
		if (node != NULL)
			snprintf(p->node, sizeof(p->node), "%s", node);
		if (!selector_field(o, "node_selector", kvs.v[i].key, &p->node_sel) ||
		    !selector_field(o, "peer_selector", kvs.v[i].key, &p->peer_sel)) {
			sel_free(p->node_sel);
			json_decref(o);
			continue;
		}
		p->has_ip = json_object_get(o, "ip") != NULL;
		if (p->has_ip && (addr_parse(json_string_value(json_object_get(o, "ip")) ?: "",
					     &p->peer.ip) != 0 ||
				  !json_asn(o, "as_num", &p->peer.as_num))) {
			log_warnx("ignoring malformed peer at %s", kvs.v[i].key);
			sel_free(p->node_sel);
			sel_free(p->peer_sel);
			json_decref(o);
			continue;
		}
		peer_options(s, o, &p->peer);
		json_decref(o);
		out->n++;
	}
	store_kvs_free(&kvs);
	return STORE_OK;
}

void
bgp_selpeers_free(struct bgp_selpeers *p)
{
	for (size_t i = 0; i < p->n; i++) {
		sel_free(p->v[i].node_sel);
		sel_free(p->v[i].peer_sel);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* The registration's own members into o; an address that changes loses its subnet length. */
static void
apply_host(json_t *o, const void *arg)
{
	const struct host_config *h = arg;
	char a[ADDR_STRLEN];
	const char *old;

	old = json_string_value(json_object_get(o, "ip"));
	if (!h->has_ip || old == NULL || (addr_format(&h->ip, a), strcmp(old, a) != 0))
		json_object_del(o, "ip_plen");
	old = json_string_value(json_object_get(o, "ip6"));
	if (!h->has_ip6 || old == NULL || (addr_format(&h->ip6, a), strcmp(old, a) != 0))
		json_object_del(o, "ip6_plen");
	if (h->has_ip) {
		addr_format(&h->ip, a);
		json_object_set_new(o, "ip", json_string(a));
	} else {
		json_object_set_new(o, "ip", json_null());
	}
	if (h->has_ip6) {
		addr_format(&h->ip6, a);
		json_object_set_new(o, "ip6", json_string(a));
	} else {
		json_object_set_new(o, "ip6", json_null());
	}
	json_object_set_new(o, "as_num", h->has_as ? json_integer(h->as_num) : json_null());
	if (h->port != 0)
		json_object_set_new(o, "port", json_integer(h->port));
	else
		json_object_del(o, "port");
}

int
bgpconf_host_put(struct store *s, const struct host_config *h, struct err *err)
{
	struct key k;

	if (node_name_check(h->name, err) != 0)
		return STORE_ERR;
	if (h->has_as && asn_check(h->as_num, err) != 0)
		return STORE_ERR;
	key_host_config(&k, h->name);
	return update_json(s, k.s, apply_host, h, err);
}

static void
host_from_json(struct host_config *h, json_t *o)
{
	json_t *port;
	const char *rr;
	struct addr a;

	h->registered = true;
	h->has_ip = json_addr(o, "ip", AF_INET, &h->ip);
	h->has_ip6 = json_addr(o, "ip6", AF_INET6, &h->ip6);
	h->has_as = json_asn(o, "as_num", &h->as_num);
	port = json_object_get(o, "port");
	if (json_is_integer(port) && json_integer_value(port) > 0 && json_integer_value(port) < 65536)
		h->port = (uint16_t)json_integer_value(port);
	rr = json_string_value(json_object_get(o, "rr_cluster_id"));
	if (rr != NULL && addr_parse(rr, &a) == 0 && addr_is_v4(&a)) {
		h->has_rr_cluster_id = true;
		h->rr_cluster_id = addr_to_u32(&a);
	}
}

static int
host_cmp(const void *a, const void *b)
{
	return strcmp(((const struct host_config *)a)->name, ((const struct host_config *)b)->name);
}

int
bgpconf_host_list(struct store *s, struct host_configs *out, struct err *err)
{
	struct store_kvs kvs;
	char name[NODE_NAME_MAX + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_range(s, KEY_HOSTS, &kvs, err)) != STORE_OK)
		return rc;
	out->labels = json_object();
	/* Keys come sorted, so each node's keys (all starting "name/") form one run. */
	for (size_t i = 0; i < kvs.n; i++) {
		struct host_config *h;
		struct key cfg;

		if (key_host_node(kvs.v[i].key, name, sizeof(name)) != 0)
			continue;
		if (out->n == 0 || strcmp(out->v[out->n - 1].name, name) != 0) {
			out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
			h = &out->v[out->n++];
			memset(h, 0, sizeof(*h));
			snprintf(h->name, sizeof(h->name), "%s", name);
		}
		h = &out->v[out->n - 1];
		key_host_config(&cfg, name);
		if (strcmp(kvs.v[i].key, cfg.s) == 0) {
			json_t *o = parse_object(&kvs.v[i]);

			if (o != NULL) {
				host_from_json(h, o);
				if (json_is_object(json_object_get(o, "labels")))
					json_object_set(out->labels, name, json_object_get(o, "labels"));
				json_decref(o);
			}
		}
	}
	store_kvs_free(&kvs);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), host_cmp);
	return STORE_OK;
}

int
bgpconf_host_remove(struct store *s, const char *node, struct err *err)
{
	struct store_kv kv;
	struct key k;
	int rc;

	if (node_name_check(node, err) != 0)
		return STORE_ERR;
	key_agent(&k, node);
	rc = store_get(s, k.s, &kv, err);
	if (rc == STORE_ERR)
		return rc;
	if (rc == STORE_OK) {
		store_kv_clear(&kv);
		err_set(err, "node %s is running (its agent is alive); stop tabbyd on it first",
			node);
		return STORE_ERR;
	}
	key_host_dir(&k, node);
	return store_delete_prefix(s, k.s, err);
}

void
host_configs_free(struct host_configs *h)
{
	free(h->v);
	json_decref(h->labels);
	memset(h, 0, sizeof(*h));
}

int
bgpconf_prefix_add(struct store *s, const char *node, const struct prefix *p, struct err *err)
{
	char buf[PREFIX_STRLEN];
	struct key k;
	json_t *o;
	int rc;

	if (node_name_check(node, err) != 0)
		return STORE_ERR;
	prefix_format(p, buf);
	key_prefix(&k, node, p);
	o = json_pack("{s:s}", "prefix", buf);
	rc = put_json(s, k.s, o, err);
	json_decref(o);
	return rc;
}

int
bgpconf_prefix_remove(struct store *s, const char *node, const struct prefix *p,
		      struct err *err)
{
	struct key k;

	if (node_name_check(node, err) != 0)
		return STORE_ERR;
	key_prefix(&k, node, p);
	return store_delete(s, k.s, err);
}

static int
prefix_sort_cmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

int
bgpconf_prefix_list(struct store *s, const char *node, int family, struct node_prefixes *out,
		    struct err *err)
{
	struct store_kvs kvs;
	struct key dir;
	int rc;

	memset(out, 0, sizeof(*out));
	if (node_name_check(node, err) != 0)
		return STORE_ERR;
	key_prefix_dir(&dir, node);
	if ((rc = store_range(s, dir.s, &kvs, err)) != STORE_OK)
		return rc;
	out->v = xcalloc(kvs.n, sizeof(*out->v));
	for (size_t i = 0; i < kvs.n; i++) {
		json_t *o = parse_object(&kvs.v[i]);
		const char *text = json_string_value(json_object_get(o, "prefix"));

		if (text == NULL || prefix_parse(text, &out->v[out->n], NULL) != 0) {
			if (o != NULL)
				log_warnx("ignoring malformed prefix at %s", kvs.v[i].key);
		} else if (family == 0 || out->v[out->n].addr.family == family) {
			out->n++;
		}
		json_decref(o);
	}
	store_kvs_free(&kvs);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), prefix_sort_cmp);
	return STORE_OK;
}

void
node_prefixes_free(struct node_prefixes *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}
