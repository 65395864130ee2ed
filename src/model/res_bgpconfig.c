/*
 * BGPConfiguration: "default" is the global BGP configuration (the key the
 * v0.x `bgp node-mesh` and `bgp default-node-as` write), "node.NAME" a
 * node's own, kept with the node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "model/bgpconf.h"
#include "model/res_kind.h"

static const struct res_field fields[] = {
	{"logSeverityScreen", "log_severity", RF_ENUM, 0, 0, "Debug, Info, Warning, Error, Fatal"},
	{"nodeToNodeMeshEnabled", "node_mesh", RF_BOOL, 0, 0, NULL},
	{"asNumber", "as_num", RF_ASN, 0, 0, NULL},
	{"listenPort", "listen_port", RF_UINT, 1, 65535, NULL},
	{"nodeMeshPassword", "mesh_password_secret", RF_SECRETREF, 0, 0, NULL},
	{"nodeMeshMaxRestartTime", "mesh_max_restart_time", RF_DURATION, 0, 0, NULL},
	{"communities", "communities", RF_CUSTOM, 0, 0, NULL},
	{"prefixAdvertisements", "prefix_advertisements", RF_CUSTOM, 0, 0, NULL},
	{"serviceClusterIPs", "service_cluster_ips", RF_CUSTOM, 0, 0, NULL},
	{"serviceExternalIPs", "service_external_ips", RF_CUSTOM, 0, 0, NULL},
	{"serviceLoadBalancerIPs", "service_loadbalancer_ips", RF_CUSTOM, 0, 0, NULL},
	{"bindMode", "bind_mode", RF_ENUM, 0, 0, "None, NodeIP"},
	{"ignoredInterfaces", "ignored_interfaces", RF_CUSTOM, 0, 0, NULL},
	{NULL, NULL, 0, 0, 0, NULL},
};

/* What a node's own configuration (node.NAME) may override, as Calico documents it. */
static const char *const node_fields[] = {
	"logSeverityScreen", "listenPort", "prefixAdvertisements", NULL,
};

#define COMMUNITY_ACCEPTED "accepted: AA:NN (standard, each 0-65535) or AA:NN:MM (large, each " \
			   "0-4294967295)"

static bool
community_valid(const char *s)
{
	unsigned long long v[4];
	int n = 0;
	char *end;

	while (n < 4) {
		if (*s < '0' || *s > '9')
			return false;
		v[n++] = strtoull(s, &end, 10);
		if (*end == '\0')
			break;
		if (*end != ':')
			return false;
		s = end + 1;
	}
	if (n == 2)
		return v[0] <= 65535 && v[1] <= 65535;
	return n == 3 && v[0] <= 0xffffffffULL && v[1] <= 0xffffffffULL && v[2] <= 0xffffffffULL;
}

static int
check_communities(json_t *list, struct err *err)
{
	json_t *c, *v;
	size_t i;
	char p[96];

	if (!json_is_array(list)) {
		res_field_error(err, "spec.communities", list, "not a list; accepted: a list of "
							       "name and value");
		return -1;
	}
	json_array_foreach(list, i, c) {
		const char *k;

		snprintf(p, sizeof(p), "spec.communities[%zu].name", i);
		if (res_name_check(p, json_object_get(c, "name"), err) != 0)
			return -1;
		snprintf(p, sizeof(p), "spec.communities[%zu].value", i);
		v = json_object_get(c, "value");
		if (!json_is_string(v) || !community_valid(json_string_value(v))) {
			res_field_error(err, p, v, "not a BGP community; " COMMUNITY_ACCEPTED);
			return -1;
		}
		json_object_foreach(c, k, v) {
			if (strcmp(k, "name") != 0 && strcmp(k, "value") != 0) {
				err_set(err, "error with field spec.communities[%zu].%s (unknown "
					     "field; accepted: name, value)", i, k);
				return -1;
			}
		}
	}
	return 0;
}

static bool
community_named(json_t *communities, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(communities, i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")) ?: "", name) == 0)
			return true;
	return false;
}

static int
check_cidr(const char *path, json_t *v, struct err *err)
{
	struct prefix pfx;
	struct err e;

	if (!json_is_string(v) || prefix_parse(json_string_value(v), &pfx, &e) != 0) {
		res_field_error(err, path, v, "not a CIDR; accepted: an IPv4 or IPv6 prefix such "
					      "as 192.0.2.0/24, host bits zero");
		return -1;
	}
	return 0;
}

/* elsewhere: community names may be defined in another resource (node.NAME uses default's). */
static int
check_adverts(json_t *list, json_t *communities, bool elsewhere, struct err *err)
{
	json_t *a, *c, *v;
	size_t i, j;
	char p[96];
	const char *k;

	if (!json_is_array(list)) {
		res_field_error(err, "spec.prefixAdvertisements", list,
				"not a list; accepted: a list of cidr and communities");
		return -1;
	}
	json_array_foreach(list, i, a) {
		snprintf(p, sizeof(p), "spec.prefixAdvertisements[%zu].cidr", i);
		if (check_cidr(p, json_object_get(a, "cidr"), err) != 0)
			return -1;
		json_object_foreach(a, k, v) {
			if (strcmp(k, "cidr") != 0 && strcmp(k, "communities") != 0) {
				err_set(err, "error with field spec.prefixAdvertisements[%zu].%s "
					     "(unknown field; accepted: cidr, communities)", i, k);
				return -1;
			}
		}
		v = json_object_get(a, "communities");
		if (v != NULL && !json_is_array(v)) {
			snprintf(p, sizeof(p), "spec.prefixAdvertisements[%zu].communities", i);
			res_field_error(err, p, v, "not a list; accepted: community names or values");
			return -1;
		}
		json_array_foreach(v, j, c) {
			const char *s = json_string_value(c);

			snprintf(p, sizeof(p), "spec.prefixAdvertisements[%zu].communities[%zu]", i, j);
			json_t *sj = json_string(s ? s : "");
			bool name_ok = elsewhere ? s != NULL && res_name_check(p, sj, NULL) == 0
						 : community_named(communities, s ? s : "");

			json_decref(sj);
			if (s == NULL || (!community_valid(s) && !name_ok)) {
				res_field_error(err, p, c, "neither a name from spec.communities nor a "
							   "community; " COMMUNITY_ACCEPTED);
				return -1;
			}
		}
	}
	return 0;
}

/* serviceClusterIPs and its siblings: a list of {cidr}. */
static int
check_cidr_list(const char *field, json_t *list, struct err *err)
{
	json_t *a;
	size_t i;
	char p[96];

	if (!json_is_array(list)) {
		snprintf(p, sizeof(p), "spec.%s", field);
		res_field_error(err, p, list, "not a list; accepted: a list of cidr");
		return -1;
	}
	json_array_foreach(list, i, a) {
		snprintf(p, sizeof(p), "spec.%s[%zu].cidr", field, i);
		if (!json_is_object(a) || json_object_size(a) != 1 ||
		    check_cidr(p, json_object_get(a, "cidr"), err) != 0) {
			if (json_is_object(a) && json_object_size(a) == 1)
				return -1;
			res_field_error(err, p, a, "accepted: a mapping with only cidr");
			return -1;
		}
	}
	return 0;
}

static int
decode(json_t *doc, const char *name, struct key *key, json_t *out, struct err *err)
{
	json_t *spec = json_object_get(doc, "spec"), *v;
	bool dflt = strcmp(name, "default") == 0;
	struct err e;
	size_t i;

	if (!dflt && (strncmp(name, "node.", 5) != 0 || node_name_check(name + 5, &e) != 0)) {
		res_field_error(err, "metadata.name", json_object_get(json_object_get(doc, "metadata"),
								      "name"),
				"accepted: default, or node.<node name> for one node's settings");
		return -1;
	}
	if (spec == NULL)
		spec = json_object_get(doc, "spec");
	if (res_fields_decode(fields, spec, "spec", out, NULL, err) != 0)
		return -1;
	if (!dflt) {
		const char *f;

		json_object_foreach(spec, f, v) {
			char p[96];

			for (i = 0; node_fields[i] != NULL && strcmp(node_fields[i], f) != 0; i++)
				;
			if (node_fields[i] != NULL)
				continue;
			snprintf(p, sizeof(p), "spec.%s", f);
			res_field_error(err, p, v, "can only be set in the BGPConfiguration named "
						   "default; a node's own (node.NAME) overrides "
						   "logSeverityScreen, listenPort and prefixAdvertisements");
			return -1;
		}
	}
	if ((v = json_object_get(spec, "communities")) != NULL && check_communities(v, err) != 0)
		return -1;
	if ((v = json_object_get(spec, "prefixAdvertisements")) != NULL &&
	    check_adverts(v, json_object_get(spec, "communities"), !dflt, err) != 0)
		return -1;
	for (i = 0; fields[i].v3 != NULL; i++) {
		if (strncmp(fields[i].v3, "service", 7) != 0 ||
		    (v = json_object_get(spec, fields[i].v3)) == NULL)
			continue;
		if (check_cidr_list(fields[i].v3, v, err) != 0)
			return -1;
	}
	if ((v = json_object_get(spec, "ignoredInterfaces")) != NULL) {
		json_t *item;

		json_array_foreach(v, i, item) {
			if (!json_is_string(item)) {
				res_field_error(err, "spec.ignoredInterfaces", v,
						"accepted: a list of interface names");
				return -1;
			}
		}
		if (!json_is_array(v)) {
			res_field_error(err, "spec.ignoredInterfaces", v,
					"accepted: a list of interface names");
			return -1;
		}
	}
	if (dflt)
		snprintf(key->s, sizeof(key->s), "%s", KEY_GLOBAL_CONFIG);
	else
		key_host_bgpconfig(key, name + 5);
	return 0;
}

static int
scan(struct store *s, struct res_list *out, struct err *err)
{
	struct store_kv kv;
	int rc = store_get(s, KEY_GLOBAL_CONFIG, &kv, err);

	if (rc == STORE_ERR)
		return -1;
	if (rc == STORE_OK) {
		res_list_add(out, "default", &kv);
		store_kv_clear(&kv);
	}
	return res_scan_hosts(s, key_host_bgpconfig, "node.", out, err);
}

const struct res_kind res_bgpconfig = {
	.kind = "BGPConfiguration",
	.api_version = "projectcalico.org/v3",
	.names = {"bgpconfiguration", "bgpconfigurations", "bgpconfig", "bgpconfigs", "bgpc",
		  "bgpcs"},
	.printable = true,
	.fields = fields,
	.decode = decode,
	.scan = scan,
	.encode = NULL,
	.owned = NULL,
};
