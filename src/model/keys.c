#include "model/keys.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"

int
node_name_check(const char *name, struct err *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > NODE_NAME_MAX) {
		err_set(err, "node name must be 1-%d characters", NODE_NAME_MAX);
		return -1;
	}
	if (name[0] == '-' || name[0] == '.') {
		err_set(err, "node name '%s' must start with a letter or digit", name);
		return -1;
	}
	for (const char *p = name; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
			err_set(err, "node name '%s' has '%c'; accepted: letters, digits, '-', "
				     "'_' and '.'", name, *p);
			return -1;
		}
	}
	return 0;
}

static void
key_fmt(struct key *k, const char *a, const char *b, const char *c)
{
	int n = snprintf(k->s, sizeof(k->s), "%s%s%s", a, b ? b : "", c ? c : "");

	/* Node names are checked to 253 characters, so a key always fits. */
	if (n < 0 || (size_t)n >= sizeof(k->s))
		fatal("datastore key too long: %s%s...", a, b ? b : "");
}

void
key_peer_dir(struct key *k, const char *node, int family)
{
	const char *leaf = family == AF_INET ? "/bgp/peer_v4/" : "/bgp/peer_v6/";

	if (node == NULL)
		key_fmt(k, KEY_ROOT "bgp/global", leaf + 4, NULL);
	else
		key_fmt(k, KEY_HOSTS, node, leaf);
}

void
key_peer(struct key *k, const char *node, const struct addr *ip)
{
	char a[ADDR_STRLEN];
	struct key dir;

	key_peer_dir(&dir, node, ip->family);
	addr_format(ip, a);
	key_fmt(k, dir.s, a, NULL);
}

void
key_host_dir(struct key *k, const char *node)
{
	key_fmt(k, KEY_HOSTS, node, "/");
}

void
key_host_config(struct key *k, const char *node)
{
	key_fmt(k, KEY_HOSTS, node, "/config");
}

void
key_prefix_dir(struct key *k, const char *node)
{
	key_fmt(k, KEY_HOSTS, node, "/prefix/");
}

void
key_prefix(struct key *k, const char *node, const struct prefix *p)
{
	char buf[PREFIX_STRLEN];
	struct key dir;

	key_prefix_dir(&dir, node);
	prefix_key(p, buf);
	key_fmt(k, dir.s, buf, NULL);
}

void
key_agent(struct key *k, const char *node)
{
	key_fmt(k, KEY_ROOT "status/", node, "/agent");
}

void
key_named(struct key *k, const char *dir, const char *name)
{
	key_fmt(k, dir, name, NULL);
}

void
key_host_bgpconfig(struct key *k, const char *node)
{
	key_fmt(k, KEY_HOSTS, node, "/bgpconfig");
}

int
key_host_node(const char *key, char *buf, size_t len)
{
	const char *p, *slash;
	size_t n;

	if (strncmp(key, KEY_HOSTS, strlen(KEY_HOSTS)) != 0)
		return -1;
	p = key + strlen(KEY_HOSTS);
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

int
key_peer_parse(const char *key, char *node, size_t len, struct addr *ip)
{
	static const char global[] = KEY_ROOT "bgp/global/";
	const char *rest;
	int family;

	if (strncmp(key, global, strlen(global)) == 0) {
		node[0] = '\0';
		rest = key + strlen(global);
	} else if (key_host_node(key, node, len) == 0) {
		rest = key + strlen(KEY_HOSTS) + strlen(node);
		if (strncmp(rest, "/bgp/", 5) != 0)
			return -1;
		rest += 5;
	} else {
		return -1;
	}
	if (strncmp(rest, "peer_v4/", 8) == 0)
		family = AF_INET;
	else if (strncmp(rest, "peer_v6/", 8) == 0)
		family = AF_INET6;
	else
		return -1;
	if (addr_parse(rest + 8, ip) != 0 || ip->family != family)
		return -1;
	return 0;
}
