/*
 * Node: a node's registration (the key `tabbyctl node --ip` and tabbyd
 * write) with its labels, which selectors match, and its BGP settings.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "model/res_kind.h"

/* Spec members other than bgp: Calico's, kept as given (tabby does not use them). */
static const struct res_field fields[] = {
	{"bgp", "bgp", RF_CUSTOM, 0, 0, NULL},
	{"addresses", "addresses", RF_CUSTOM, 0, 0, NULL},
	{"orchRefs", "orch_refs", RF_CUSTOM, 0, 0, NULL},
	{"ipv4VXLANTunnelAddr", "ipv4_vxlan_tunnel_addr", RF_CUSTOM, 0, 0, NULL},
	{"vxlanTunnelMACAddr", "vxlan_tunnel_mac_addr", RF_CUSTOM, 0, 0, NULL},
	{"wireguard", "wireguard", RF_CUSTOM, 0, 0, NULL},
	{NULL, NULL, 0, 0, 0, NULL},
};

static const struct res_field bgp_fields[] = {
	{"ipv4Address", "ip", RF_CUSTOM, 0, 0, NULL},
	{"ipv6Address", "ip6", RF_CUSTOM, 0, 0, NULL},
	{"asNumber", "as_num", RF_ASN, 0, 0, NULL},
	{"routeReflectorClusterID", "rr_cluster_id", RF_CUSTOM, 0, 0, NULL},
	{"ipv4IPIPTunnelAddr", "ipv4_ipip_tunnel_addr", RF_CUSTOM, 0, 0, NULL},
	{NULL, NULL, 0, 0, 0, NULL},
};

static const char *const owned[] = {"ip", "ip6", "ip_plen", "ip6_plen", "as_num",
				    "rr_cluster_id", "ipv4_ipip_tunnel_addr", "labels",
				    "spec_extra", NULL};

/* "192.0.2.1/24" or "192.0.2.1" of one family, into address and (maybe) length. */
static int
node_addr(json_t *out, const char *path, json_t *v, int family, const char *field,
	  struct err *err)
{
	const char *s = json_string_value(v);
	struct addr a;
	unsigned len = 0;
	char buf[ADDR_STRLEN], plen[16];

	if (s == NULL || (strchr(s, '/') ? addr_parse_cidr(s, &a, &len) : addr_parse(s, &a)) != 0 ||
	    a.family != family || addr_not_unicast(&a) != NULL) {
		res_field_error(err, path, v, "accepted: the node's %s address, with or without "
					      "its subnet length (%s)",
				family == AF_INET ? "IPv4" : "IPv6",
				family == AF_INET ? "192.0.2.1/24" : "2001:db8::1/64");
		return -1;
	}
	addr_format(&a, buf);
	json_object_set_new(out, field, json_string(buf));
	snprintf(plen, sizeof(plen), "%s_plen", field);
	if (strchr(s, '/'))
		json_object_set_new(out, plen, json_integer(len));
	return 0;
}

static int
decode(json_t *doc, const char *name, struct key *key, json_t *out, struct err *err)
{
	json_t *spec = json_object_get(doc, "spec"), *bgp, *v, *extra = json_object();
	struct err e;

	if (node_name_check(name, &e) != 0) {
		res_field_error(err, "metadata.name",
				json_object_get(json_object_get(doc, "metadata"), "name"), "%s", e.msg);
		json_decref(extra);
		return -1;
	}
	if (res_fields_decode(fields, spec, "spec", extra, NULL, err) != 0) {
		json_decref(extra);
		return -1;
	}
	bgp = json_object_get(spec, "bgp");
	json_object_del(extra, "bgp");
	if (json_object_size(extra) > 0)
		json_object_set(out, "spec_extra", extra);
	json_decref(extra);
	if (res_fields_decode(bgp_fields, bgp, "spec.bgp", out, NULL, err) != 0)
		return -1;
	if ((v = json_object_get(bgp, "ipv4Address")) != NULL &&
	    node_addr(out, "spec.bgp.ipv4Address", v, AF_INET, "ip", err) != 0)
		return -1;
	if ((v = json_object_get(bgp, "ipv6Address")) != NULL &&
	    node_addr(out, "spec.bgp.ipv6Address", v, AF_INET6, "ip6", err) != 0)
		return -1;
	v = json_object_get(bgp, "routeReflectorClusterID");
	if (v != NULL) {
		struct addr a;

		if (!json_is_string(v) || addr_parse(json_string_value(v), &a) != 0 ||
		    a.family != AF_INET) {
			res_field_error(err, "spec.bgp.routeReflectorClusterID", v,
					"accepted: a cluster id in IPv4 address form, such as "
					"224.0.0.1");
			return -1;
		}
	}
	key_host_config(key, name);
	return 0;
}

static int
scan(struct store *s, struct res_list *out, struct err *err)
{
	return res_scan_hosts(s, key_host_config, "", out, err);
}

static void
addr_out(json_t *bgp, const char *v3, json_t *stored, const char *field)
{
	const char *a = json_string_value(json_object_get(stored, field));
	char plen[16], buf[ADDR_STRLEN + 8];
	json_t *len;

	if (a == NULL)
		return;
	snprintf(plen, sizeof(plen), "%s_plen", field);
	len = json_object_get(stored, plen);
	if (json_is_integer(len))
		snprintf(buf, sizeof(buf), "%s/%d", a, (int)json_integer_value(len));
	else
		snprintf(buf, sizeof(buf), "%s", a);
	json_object_set_new(bgp, v3, json_string(buf));
}

static json_t *
encode(const struct res_found *f)
{
	json_t *spec = json_object(), *bgp = json_object(), *v;
	json_t *extra = json_object_get(f->stored, "spec_extra");

	addr_out(bgp, "ipv4Address", f->stored, "ip");
	addr_out(bgp, "ipv6Address", f->stored, "ip6");
	if (json_is_integer(v = json_object_get(f->stored, "as_num")))
		json_object_set(bgp, "asNumber", v);
	if (json_is_string(v = json_object_get(f->stored, "rr_cluster_id")))
		json_object_set(bgp, "routeReflectorClusterID", v);
	if ((v = json_object_get(f->stored, "ipv4_ipip_tunnel_addr")) != NULL)
		json_object_set(bgp, "ipv4IPIPTunnelAddr", v);
	if (json_object_size(bgp) > 0)
		json_object_set(spec, "bgp", bgp);
	json_decref(bgp);
	if (json_is_object(extra))
		res_fields_encode(fields, extra, spec);
	return spec;
}

const struct res_kind res_node = {
	.kind = "Node",
	.api_version = "projectcalico.org/v3",
	.names = {"node", "nodes", "no", "nos"},
	.printable = true,
	.node_labels = true,
	.fields = bgp_fields,
	.decode = decode,
	.scan = scan,
	.encode = encode,
	.owned = owned,
	/* Calico: deleting a node deletes its BGPConfiguration (node.NAME) too. */
	.deleted_with = key_host_bgpconfig,
};
