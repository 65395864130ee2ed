/*
 * BGPFilter: import and export rules per address family, stored as the
 * validated v3 spec by name; the policy step evaluates them.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "model/res_kind.h"

static const struct res_field fields[] = {
	{"exportV4", "export_v4", RF_CUSTOM, 0, 0, NULL},
	{"importV4", "import_v4", RF_CUSTOM, 0, 0, NULL},
	{"exportV6", "export_v6", RF_CUSTOM, 0, 0, NULL},
	{"importV6", "import_v6", RF_CUSTOM, 0, 0, NULL},
	{NULL, NULL, 0, 0, 0, NULL},
};

static const struct res_field rule_fields[] = {
	{"action", "action", RF_ENUM, 0, 0, "Accept, Reject"},
	{"matchOperator", "matchOperator", RF_ENUM, 0, 0, "Equal, NotEqual, In, NotIn"},
	{"cidr", "cidr", RF_CUSTOM, 0, 0, NULL},
	{"prefixLength", "prefixLength", RF_CUSTOM, 0, 0, NULL},
	{"source", "source", RF_ENUM, 0, 0, "RemotePeers"},
	{"interface", "interface", RF_CUSTOM, 0, 0, NULL},
	{NULL, NULL, 0, 0, 0, NULL},
};

static int
check_rule(json_t *rule, const char *path, int family, struct err *err)
{
	json_t *scratch = json_object(), *v;
	unsigned bits = family == AF_INET ? 32 : 128;
	struct prefix pfx;
	struct err e;
	char p[128];
	int rc = -1;

	if (res_fields_decode(rule_fields, rule, path, scratch, NULL, err) != 0)
		goto out;
	snprintf(p, sizeof(p), "%s.action", path);
	if (json_object_get(rule, "action") == NULL) {
		err_set(err, "error with field %s (missing; accepted: Accept, Reject)", p);
		goto out;
	}
	v = json_object_get(rule, "cidr");
	snprintf(p, sizeof(p), "%s.cidr", path);
	if (v != NULL && (!json_is_string(v) || prefix_parse(json_string_value(v), &pfx, &e) != 0 ||
			  pfx.addr.family != family)) {
		res_field_error(err, p, v, "accepted: an IPv%c prefix such as %s, host bits zero",
				family == AF_INET ? '4' : '6',
				family == AF_INET ? "192.0.2.0/24" : "2001:db8::/32");
		goto out;
	}
	if ((v != NULL) != (json_object_get(rule, "matchOperator") != NULL)) {
		snprintf(p, sizeof(p), "%s.%s", path, v ? "matchOperator" : "cidr");
		err_set(err, "error with field %s (missing; cidr and matchOperator go together)", p);
		goto out;
	}
	v = json_object_get(rule, "prefixLength");
	if (v != NULL) {
		const char *k;
		json_t *n;

		snprintf(p, sizeof(p), "%s.prefixLength", path);
		if (!json_is_object(v)) {
			res_field_error(err, p, v, "accepted: a mapping with min and/or max");
			goto out;
		}
		json_object_foreach(v, k, n) {
			if ((strcmp(k, "min") != 0 && strcmp(k, "max") != 0) || !json_is_integer(n) ||
			    json_integer_value(n) < 0 || json_integer_value(n) > bits) {
				snprintf(p, sizeof(p), "%s.prefixLength.%s", path, k);
				res_field_error(err, p, n, "accepted: min and max, each 0-%u", bits);
				goto out;
			}
		}
	}
	v = json_object_get(rule, "interface");
	snprintf(p, sizeof(p), "%s.interface", path);
	if (v != NULL && (!json_is_string(v) || json_string_length(v) == 0 ||
			  json_string_length(v) > 15)) {
		res_field_error(err, p, v, "accepted: an interface name or pattern with *, 1-15 "
					   "characters");
		goto out;
	}
	rc = 0;
out:
	json_decref(scratch);
	return rc;
}

static int
decode(json_t *doc, const char *name, struct key *key, json_t *out, struct err *err)
{
	json_t *spec = json_object_get(doc, "spec");

	if (res_fields_decode(fields, spec, "spec", out, NULL, err) != 0)
		return -1;
	for (size_t i = 0; fields[i].v3 != NULL; i++) {
		json_t *rules = json_object_get(spec, fields[i].v3), *r;
		int family = fields[i].v3[strlen(fields[i].v3) - 1] == '4' ? AF_INET : AF_INET6;
		char p[96];
		size_t j;

		if (rules == NULL)
			continue;
		if (!json_is_array(rules)) {
			snprintf(p, sizeof(p), "spec.%s", fields[i].v3);
			res_field_error(err, p, rules, "not a list; accepted: a list of rules");
			return -1;
		}
		json_array_foreach(rules, j, r) {
			snprintf(p, sizeof(p), "spec.%s[%zu]", fields[i].v3, j);
			if (check_rule(r, p, family, err) != 0)
				return -1;
		}
	}
	key_named(key, KEY_BGPFILTERS, name);
	return 0;
}

static int
scan(struct store *s, struct res_list *out, struct err *err)
{
	return res_scan_dir(s, KEY_BGPFILTERS, out, err);
}

const struct res_kind res_bgpfilter = {
	.kind = "BGPFilter",
	.api_version = "projectcalico.org/v3",
	.names = {"bgpfilter", "bgpfilters", "bgpf", "bgpfs"},
	.printable = true,
	.fields = fields,
	.decode = decode,
	.scan = scan,
	.encode = NULL,
	.owned = NULL,
};
