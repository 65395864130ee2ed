/*
 * BGPPeer: a peer with an address (peerIP, stored at the v0.x keys: the
 * global list, or the node's when spec.node is set) or peers chosen by
 * selectors (nodeSelector picks which nodes peer, peerSelector means "the
 * nodes that match"), stored under KEY_BGPPEERS by name. A v0.x peer has
 * no name; its v3 name is derived from where it is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/asn.h"
#include "model/bgpconf.h"
#include "model/res_kind.h"

static const struct res_field fields[] = {
	{"asNumber", "as_num", RF_ASN, 0, 0, NULL},
	{"keepOriginalNextHop", "keep_original_next_hop", RF_BOOL, 0, 0, NULL},
	{"password", "password_secret", RF_SECRETREF, 0, 0, NULL},
	{"sourceAddress", "source_address", RF_ENUM, 0, 0, "UseNodeIP, None"},
	{"maxRestartTime", "max_restart_time", RF_DURATION, 0, 0, NULL},
	{"numAllowedLocalASNumbers", "num_allowed_local_as", RF_UINT, 0, 255, NULL},
	{"ttlSecurity", "ttl_security", RF_UINT, 0, 255, NULL},
	{"filters", "filters", RF_NAMES, 0, 0, NULL},
	{"nodeSelector", "node_selector", RF_CUSTOM, 0, 0, NULL},
	{"peerSelector", "peer_selector", RF_CUSTOM, 0, 0, NULL},
	{NULL, NULL, 0, 0, 0, NULL},
};

static const char *const custom[] = {"node", "peerIP", NULL};
static const char *const owned[] = {"ip", "port", "node", "name", NULL};

/* "192.0.2.1", "192.0.2.1:1790", "2001:db8::1" or "[2001:db8::1]:1790". */
static int
peer_ip_parse(const char *text, struct addr *ip, unsigned *port)
{
	char buf[ADDR_STRLEN + 16];
	const char *colon = strrchr(text, ':');
	char *end;
	long p;

	*port = 0;
	if (addr_parse(text, ip) == 0)
		return 0;
	if (colon == NULL || (size_t)(colon - text) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%.*s", (int)(colon - text), text);
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (unsigned)p;
	if (buf[0] == '[') {
		size_t n = strlen(buf);

		if (n < 3 || buf[n - 1] != ']')
			return -1;
		buf[n - 1] = '\0';
		return addr_parse(buf + 1, ip) == 0 && ip->family == AF_INET6 ? 0 : -1;
	}
	return addr_parse(buf, ip) == 0 && ip->family == AF_INET ? 0 : -1;
}

static int
decode(json_t *doc, const char *name, struct key *key, json_t *out, struct err *err)
{
	json_t *spec = json_object_get(doc, "spec");
	json_t *node = json_object_get(spec, "node"), *ip = json_object_get(spec, "peerIP");
	json_t *nsel = json_object_get(spec, "nodeSelector");
	json_t *psel = json_object_get(spec, "peerSelector");
	struct addr a;
	unsigned port;
	char abuf[ADDR_STRLEN];
	const char *why;

	if (!json_is_object(spec)) {
		res_field_error(err, "spec", spec, "missing; accepted: a mapping with peerIP and "
						   "asNumber, or peerSelector");
		return -1;
	}
	if (res_fields_decode(fields, spec, "spec", out, custom, err) != 0)
		return -1;
	if (node != NULL) {
		struct err e;

		if (!json_is_string(node) || node_name_check(json_string_value(node), &e) != 0) {
			res_field_error(err, "spec.node", node, "%s",
					json_is_string(node) ? e.msg : "not a string");
			return -1;
		}
		json_object_set(out, "node", node);
	}
	if (nsel != NULL && res_selector_check("spec.nodeSelector", nsel, err) != 0)
		return -1;
	if (psel != NULL && res_selector_check("spec.peerSelector", psel, err) != 0)
		return -1;
	if (node != NULL && nsel != NULL) {
		res_field_error(err, "spec.nodeSelector", nsel, "node and nodeSelector cannot both "
								"be set; accepted: one of them");
		return -1;
	}
	if (ip != NULL && psel != NULL) {
		res_field_error(err, "spec.peerSelector", psel, "peerIP and peerSelector cannot "
								"both be set; accepted: one of them");
		return -1;
	}
	if (ip == NULL && psel == NULL) {
		err_set(err, "error with field spec.peerIP (missing; accepted: peerIP with "
			     "asNumber, or peerSelector)");
		return -1;
	}
	if (psel != NULL && json_object_get(spec, "asNumber") != NULL) {
		res_field_error(err, "spec.asNumber", json_object_get(spec, "asNumber"),
				"asNumber cannot be set with peerSelector: the selected nodes' own "
				"AS numbers are used");
		return -1;
	}
	if (ip != NULL) {
		if (!json_is_string(ip) || peer_ip_parse(json_string_value(ip), &a, &port) != 0) {
			res_field_error(err, "spec.peerIP", ip, "not an IP address; accepted: an IPv4 "
								"or IPv6 address, optionally with a port: "
								"192.0.2.1:1790 or [2001:db8::1]:1790");
			return -1;
		}
		if ((why = addr_not_unicast(&a)) != NULL) {
			res_field_error(err, "spec.peerIP", ip, "cannot be a BGP peer: %s", why);
			return -1;
		}
		if (json_object_get(spec, "asNumber") == NULL) {
			err_set(err, "error with field spec.asNumber (missing; the peer's AS number is "
			     "needed with peerIP; " ASN_ACCEPTED ")");
			return -1;
		}
		addr_format(&a, abuf);
		json_object_set_new(out, "ip", json_string(abuf));
		if (port != 0)
			json_object_set_new(out, "port", json_integer(port));
	}
	if (nsel != NULL || psel != NULL) {
		json_object_set_new(out, "name", json_string(name));
		key_named(key, KEY_BGPPEERS, name);
		return 0;
	}
	/* An addressed peer lives at the v0.x key, so both grammars see it. */
	json_object_set_new(out, "name", json_string(name));
	json_object_del(out, "node");
	key_peer(key, node ? json_string_value(node) : NULL, &a);
	return 0;
}

/* The v3 name of a v0.x peer: "global.192-0-2-10", "node.NODE.2001-db8--1". */
static void
derived_name(char *buf, size_t len, const char *node, const char *ip)
{
	if (node == NULL)
		snprintf(buf, len, "global.%s", ip);
	else
		snprintf(buf, len, "node.%s.%s", node, ip);
	for (char *p = buf + (node ? 6 + strlen(node) : 7); *p; p++)
		if (*p == '.' || *p == ':')
			*p = '-';
}

static void
add_dir(struct res_list *l, const struct store_kvs *kvs, const char *node)
{
	for (size_t i = 0; i < kvs->n; i++) {
		json_t *o = json_loads(kvs->v[i].value, 0, NULL);
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *ip = json_string_value(json_object_get(o, "ip"));
		char buf[RES_NAME_MAX + 1];

		if (name == NULL && ip != NULL) {
			derived_name(buf, sizeof(buf), node, ip);
			name = buf;
		}
		if (name != NULL)
			res_list_add(l, name, &kvs->v[i]);
		json_decref(o);
	}
}

static int
scan_prefix(struct store *s, const char *prefix, const char *node, struct res_list *l,
	    struct err *err)
{
	struct store_kvs kvs;

	if (store_range(s, prefix, &kvs, err) != STORE_OK)
		return -1;
	add_dir(l, &kvs, node);
	store_kvs_free(&kvs);
	return 0;
}

static int
scan(struct store *s, struct res_list *out, struct err *err)
{
	struct host_configs hosts;
	struct key k;

	if (scan_prefix(s, KEY_BGPPEERS, NULL, out, err) != 0)
		return -1;
	for (int f = 0; f < 2; f++) {
		key_peer_dir(&k, NULL, f ? AF_INET6 : AF_INET);
		if (scan_prefix(s, k.s, NULL, out, err) != 0)
			return -1;
	}
	if (bgpconf_host_list(s, &hosts, err) != STORE_OK)
		return -1;
	for (size_t i = 0; i < hosts.n; i++) {
		for (int f = 0; f < 2; f++) {
			key_peer_dir(&k, hosts.v[i].name, f ? AF_INET6 : AF_INET);
			if (scan_prefix(s, k.s, hosts.v[i].name, out, err) != 0) {
				host_configs_free(&hosts);
				return -1;
			}
		}
	}
	host_configs_free(&hosts);
	return 0;
}

static json_t *
encode(const struct res_found *f)
{
	json_t *spec = json_object(), *sorted = json_object();
	const char *ip = json_string_value(json_object_get(f->stored, "ip"));
	json_int_t port = json_integer_value(json_object_get(f->stored, "port"));
	char node[NODE_NAME_MAX + 1], buf[ADDR_STRLEN + 16];
	static const char *const order[] = {
		"node", "peerIP", "asNumber", "nodeSelector", "peerSelector", "keepOriginalNextHop",
		"password", "sourceAddress", "maxRestartTime", "numAllowedLocalASNumbers",
		"ttlSecurity", "filters", NULL,
	};

	if (key_host_node(f->key, node, sizeof(node)) == 0)
		json_object_set_new(spec, "node", json_string(node));
	else if (json_is_string(json_object_get(f->stored, "node")))
		json_object_set(spec, "node", json_object_get(f->stored, "node"));
	if (ip != NULL) {
		if (port != 0)
			snprintf(buf, sizeof(buf), strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip,
				 (int)port);
		else
			snprintf(buf, sizeof(buf), "%s", ip);
		json_object_set_new(spec, "peerIP", json_string(buf));
	}
	res_fields_encode(fields, f->stored, spec);
	/* Calico's order of the spec members, whatever the table's. */
	for (size_t i = 0; order[i] != NULL; i++)
		if (json_object_get(spec, order[i]) != NULL)
			json_object_set(sorted, order[i], json_object_get(spec, order[i]));
	json_decref(spec);
	return sorted;
}

const struct res_kind res_bgppeer = {
	.kind = "BGPPeer",
	.api_version = "projectcalico.org/v3",
	.names = {"bgppeer", "bgppeers", "bgpp", "bgpps", "bp", "bps"},
	.printable = true,
	.fields = fields,
	.decode = decode,
	.scan = scan,
	.encode = encode,
	.owned = owned,
};
