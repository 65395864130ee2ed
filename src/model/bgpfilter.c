/* Stored filters and advertisements, compiled into a peer's policy. */
#include "model/bgpfilter.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "model/keys.h"

static json_t *
load(const struct store_kv *kv)
{
	json_t *o = json_loads(kv->value, 0, NULL);

	if (!json_is_object(o)) {
		json_decref(o);
		log_warnx("ignoring malformed datastore value at %s", kv->key);
		return NULL;
	}
	return o;
}

/* The object at key, or NULL when absent or malformed. */
static int
get_object(struct store *s, const char *key, json_t **out, struct err *err)
{
	struct store_kv kv;
	int rc = store_get(s, key, &kv, err);

	*out = NULL;
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	*out = load(&kv);
	store_kv_clear(&kv);
	return STORE_OK;
}

int
bgpfilter_read(struct store *s, const char *node, struct bgpfilter_set *out, struct err *err)
{
	struct store_kvs kvs;
	json_t *global, *mine = NULL;
	struct key k;
	size_t dir = strlen(KEY_BGPFILTERS);

	memset(out, 0, sizeof(*out));
	if (store_range(s, KEY_BGPFILTERS, &kvs, err) != STORE_OK)
		return STORE_ERR;
	out->filters = json_object();
	for (size_t i = 0; i < kvs.n; i++) {
		json_t *o = load(&kvs.v[i]);

		if (o != NULL)
			json_object_set_new(out->filters, kvs.v[i].key + dir, o);
	}
	store_kvs_free(&kvs);
	if (get_object(s, KEY_GLOBAL_CONFIG, &global, err) != STORE_OK)
		goto fail;
	key_host_bgpconfig(&k, node);
	if (get_object(s, k.s, &mine, err) != STORE_OK) {
		json_decref(global);
		goto fail;
	}
	/* Community names are defined in the default configuration; node.NAME may override
	 * the advertisements (Calico's rule). */
	out->communities = json_incref(json_object_get(global, "communities"));
	out->adverts = json_incref(json_object_get(mine, "prefix_advertisements"));
	if (out->adverts == NULL)
		out->adverts = json_incref(json_object_get(global, "prefix_advertisements"));
	json_decref(global);
	json_decref(mine);
	return STORE_OK;
fail:
	bgpfilter_set_free(out);
	return STORE_ERR;
}

void
bgpfilter_set_free(struct bgpfilter_set *fs)
{
	json_decref(fs->filters);
	json_decref(fs->communities);
	json_decref(fs->adverts);
	memset(fs, 0, sizeof(*fs));
}

int
bgpfilter_community_parse(const char *s, uint32_t *std, uint32_t large[3])
{
	unsigned long long v[3];
	int n = 0;
	char *end;

	while (n < 3) {
		if (*s < '0' || *s > '9')
			return 0;
		v[n++] = strtoull(s, &end, 10);
		if (*end == '\0')
			break;
		if (*end != ':')
			return 0;
		s = end + 1;
	}
	if (*end != '\0')
		return 0;
	if (n == 2 && v[0] <= 0xffff && v[1] <= 0xffff) {
		*std = (uint32_t)(v[0] << 16 | v[1]);
		return 1;
	}
	if (n == 3 && v[0] <= 0xffffffffULL && v[1] <= 0xffffffffULL && v[2] <= 0xffffffffULL) {
		for (int i = 0; i < 3; i++)
			large[i] = (uint32_t)v[i];
		return 3;
	}
	return 0;
}

static const char *
community_value(json_t *communities, const char *word)
{
	json_t *c;
	size_t i;

	json_array_foreach(communities, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));

		if (name != NULL && strcmp(name, word) == 0)
			return json_string_value(json_object_get(c, "value"));
	}
	return word;
}

static void
compile_adverts(struct policy *pol, const struct bgpfilter_set *fs)
{
	json_t *a, *c;
	size_t i, j;

	json_array_foreach(fs->adverts, i, a) {
		struct policy_advert ad;
		struct err e;
		json_t *list = json_object_get(a, "communities");

		memset(&ad, 0, sizeof(ad));
		if (prefix_parse(json_string_value(json_object_get(a, "cidr")) ?: "", &ad.cidr, &e) !=
		    0)
			continue;
		ad.std = xcalloc(json_array_size(list) + 1, sizeof(*ad.std));
		ad.large = xcalloc(json_array_size(list) + 1, sizeof(*ad.large));
		json_array_foreach(list, j, c) {
			const char *v = community_value(fs->communities, json_string_value(c) ?: "");
			uint32_t std, large[3];

			switch (bgpfilter_community_parse(v ?: "", &std, large)) {
			case 1:
				ad.std[ad.nstd++] = std;
				break;
			case 3:
				memcpy(ad.large[ad.nlarge++], large, sizeof(large));
				break;
			default:
				log_warnx("prefixAdvertisements %s: community %s is neither a name "
					  "from communities nor a value; left out",
					  json_string_value(json_object_get(a, "cidr")),
					  json_string_value(c) ?: "?");
			}
		}
		policy_add_advert(pol, &ad);
	}
}

static const struct {
	const char *field;
	enum policy_dir dir;
	int family;
} lists[] = {
	{"import_v4", POLICY_IMPORT, AF_INET},
	{"import_v6", POLICY_IMPORT, AF_INET6},
	{"export_v4", POLICY_EXPORT, AF_INET},
	{"export_v6", POLICY_EXPORT, AF_INET6},
};

static const char *const ops[] = {
	[POLICY_EQUAL] = "Equal", [POLICY_NOT_EQUAL] = "NotEqual",
	[POLICY_IN] = "In", [POLICY_NOT_IN] = "NotIn",
};

/* One stored rule (validated when applied); 0, or -1 if it cannot be read. */
static int
compile_rule(json_t *o, struct policy_rule *r)
{
	const char *action = json_string_value(json_object_get(o, "action"));
	const char *op = json_string_value(json_object_get(o, "matchOperator"));
	const char *src = json_string_value(json_object_get(o, "source"));
	const char *ifc = json_string_value(json_object_get(o, "interface"));
	json_t *len = json_object_get(o, "prefixLength"), *v;
	struct err e;

	memset(r, 0, sizeof(*r));
	if (action == NULL || (strcmp(action, "Accept") != 0 && strcmp(action, "Reject") != 0))
		return -1;
	r->action = strcmp(action, "Accept") == 0 ? POLICY_ACCEPT : POLICY_REJECT;
	if (op != NULL) {
		for (size_t i = POLICY_EQUAL; i <= POLICY_NOT_IN; i++)
			if (strcmp(op, ops[i]) == 0)
				r->op = (enum policy_op)i;
		if (r->op == POLICY_OP_NONE ||
		    prefix_parse(json_string_value(json_object_get(o, "cidr")) ?: "", &r->cidr, &e) !=
			    0)
			return -1;
	}
	if (json_is_integer(v = json_object_get(len, "min"))) {
		r->has_min = true;
		r->min = (uint8_t)json_integer_value(v);
	}
	if (json_is_integer(v = json_object_get(len, "max"))) {
		r->has_max = true;
		r->max = (uint8_t)json_integer_value(v);
	}
	r->remote_peers = src != NULL && strcmp(src, "RemotePeers") == 0;
	if (ifc != NULL)
		snprintf(r->iface, sizeof(r->iface), "%s", ifc);
	return 0;
}

static void
compile_filter(struct policy *pol, const char *name, json_t *spec)
{
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		json_t *rule;
		size_t i;

		json_array_foreach(json_object_get(spec, lists[l].field), i, rule) {
			struct policy_rule r;

			if (compile_rule(rule, &r) != 0) {
				log_warnx("BGPFilter %s: rule %zu of %s cannot be read; skipped", name,
					  i, lists[l].field);
				continue;
			}
			policy_add_rule(pol, lists[l].dir, lists[l].family, &r);
		}
	}
}

struct policy *
bgpfilter_policy(const struct bgpfilter_set *fs, const struct bgp_peer *p)
{
	struct policy *pol = policy_new();
	static const struct policy empty;

	/* --import/--export=none come first: nothing else can accept past them. */
	if (p != NULL && p->import_none)
		policy_reject_all(pol, POLICY_IMPORT);
	if (p != NULL && p->export_none)
		policy_reject_all(pol, POLICY_EXPORT);
	/* The peer's filters in the order it names them: one list of rules, first match wins. */
	for (const char *n = p ? p->filters : ""; *n != '\0';) {
		size_t len = strcspn(n, ",");
		char name[256];
		json_t *spec;

		snprintf(name, sizeof(name), "%.*s", (int)(len < 255 ? len : 255), n);
		spec = json_object_get(fs->filters, name);
		if (spec == NULL)
			log_warnx("BGPPeer filter %s: no such BGPFilter; nothing of it applies", name);
		else
			compile_filter(pol, name, spec);
		n += len;
		if (*n == ',')
			n++;
	}
	compile_adverts(pol, fs);
	if (policy_equal(pol, &empty)) {
		policy_unref(pol);
		return NULL;
	}
	return pol;
}
