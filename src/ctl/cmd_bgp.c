/* tabbyctl bgp ...: global peers, the node-to-node mesh, the default node AS; and the peer
 * commands that node-specific peers share. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl/ctl.h"
#include "ctl/table.h"
#include "model/bgpconf.h"

const char ctl_bgp_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl bgp peer add <PEER_IP> as <AS_NUM>\n"
	"  tabbyctl bgp peer remove <PEER_IP>\n"
	"  tabbyctl bgp peer show [--ipv4 | --ipv6]\n"
	"  tabbyctl bgp node-mesh [on|off]\n"
	"  tabbyctl bgp default-node-as [<AS_NUM>]\n"
	"\n"
	"\n"
	"Description:\n"
	"  Configure default global BGP settings for all nodes. Note: per-node settings\n"
	"  will override these globals for that node.\n"
	"\n"
	"Options:\n"
	" --ipv4    Show IPv4 information only.\n"
	" --ipv6    Show IPv6 information only.\n"
	"\n";

/* The scope a peer command works on: the global list, or one node's. */
static const char *
peer_scope(struct ctl *c, bool node_specific, bool *ok)
{
	*ok = true;
	if (!node_specific)
		return NULL;
	if (ctl_node(c) == NULL)
		*ok = false;
	return c->node;
}

/* --password=KEY, or --password=- to read it from standard input (kept out of ps). */
static int
ctl_password(struct ctl *c, struct bgp_peer *p)
{
	const char *v = c->args.val[OPT_PASSWORD];
	char line[BGP_PASSWORD_MAX + 2];
	struct err err;

	if (strcmp(v, "-") == 0) {
		if (fgets(line, sizeof(line), stdin) == NULL)
			return ctl_usage_error(c, "Invalid password: nothing on standard input.");
		line[strcspn(line, "\r\n")] = '\0';
		v = line;
	}
	if (strlen(v) > BGP_PASSWORD_MAX || *v == '\0')
		return ctl_usage_error(c, "Invalid password: the password must be 6-%d "
					  "characters of printable ASCII.", BGP_PASSWORD_MAX);
	snprintf(p->password, sizeof(p->password), "%s", v);
	if (bgpconf_peer_check(p, &err) != 0)
		return ctl_usage_error(c, "Invalid password: %s.", err.msg);
	return 0;
}

/* --import= / --export=: all (the default) or none. */
static int
policy_switch(struct ctl *c, enum ctl_opt o, bool *none)
{
	const char *v = c->args.val[o];

	if (v == NULL)
		return 0;
	if (strcmp(v, "all") != 0 && strcmp(v, "none") != 0)
		return ctl_usage_error(c, "Invalid --%s '%s'; accepted: all, none.",
				       o == OPT_IMPORT ? "import" : "export", v);
	*none = strcmp(v, "none") == 0;
	return 0;
}

/* --max-prefixes=N|none: the RFC 4486 limit (0: none). */
static int
max_prefixes_option(struct ctl *c, uint32_t *out)
{
	const char *v = c->args.val[OPT_MAX_PREFIXES];
	struct err err;

	if (v == NULL)
		return 0;
	if (bgpconf_max_prefixes_parse(v, out, &err) != 0)
		return ctl_usage_error(c, "Invalid --max-prefixes '%s'; %s.", v, err.msg);
	return 0;
}

/* --restart-time=SECONDS: the RFC 4724 restart time announced to the peer (0: default). */
static int
restart_time_option(struct ctl *c, uint32_t *out)
{
	const char *v = c->args.val[OPT_RESTART_TIME];
	char *end;
	long n;

	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || n < 1 || n > BGPCONF_RESTART_TIME_MAX)
		return ctl_usage_error(c, "Invalid --restart-time '%s'; accepted: 1-%d seconds.", v,
				       BGPCONF_RESTART_TIME_MAX);
	*out = (uint32_t)n;
	return 0;
}

int
ctl_peer_add(struct ctl *c, bool node_specific)
{
	struct bgp_peer p = {0};
	struct store *s;
	struct err err;
	const char *node;
	bool ok;

	if (ctl_parse_ip(c, c->vars[0], 0, &p.ip) != 0 || ctl_parse_as(c, c->vars[1], &p.as_num) != 0)
		return CTL_EXIT_USAGE;
	if (c->args.val[OPT_PASSWORD] != NULL && ctl_password(c, &p) != 0)
		return CTL_EXIT_USAGE;
	if (policy_switch(c, OPT_IMPORT, &p.import_none) != 0 ||
	    policy_switch(c, OPT_EXPORT, &p.export_none) != 0 ||
	    max_prefixes_option(c, &p.max_prefixes) != 0 ||
	    restart_time_option(c, &p.max_restart_time) != 0)
		return CTL_EXIT_USAGE;
	node = peer_scope(c, node_specific, &ok);
	if (!ok)
		return CTL_EXIT_USAGE;
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (bgpconf_peer_put(s, node, &p, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	return CTL_EXIT_OK;
}

int
ctl_peer_remove(struct ctl *c, bool node_specific)
{
	char a[ADDR_STRLEN];
	struct addr ip;
	struct store *s;
	struct err err;
	const char *node;
	bool ok;
	int rc;

	if (ctl_parse_ip(c, c->vars[0], 0, &ip) != 0)
		return CTL_EXIT_USAGE;
	node = peer_scope(c, node_specific, &ok);
	if (!ok)
		return CTL_EXIT_USAGE;
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	rc = bgpconf_peer_remove(s, node, &ip, &err);
	if (rc == STORE_ERR)
		return ctl_fail("%s", err.msg);
	addr_format(&ip, a);
	if (rc == STORE_NOTFOUND)
		return ctl_fail(node ? "%s is not a configured peer for this node."
				     : "%s is not a globally configured peer.", a);
	printf("BGP peer removed from %s configuration\n", node ? "node" : "global");
	return CTL_EXIT_OK;
}

static void
peer_table(const struct bgp_peers *peers, int family, bool node_specific)
{
	const char *what = node_specific ? "Node specific" : "Global";
	char heading[64], a[ADDR_STRLEN], as[16];
	const char *cols[2] = {heading, "AS Num"};
	struct table *t;
	size_t rows = 0;
	int v = family == AF_INET ? 4 : 6;

	snprintf(heading, sizeof(heading), "%s IPv%d BGP Peer", what, v);
	t = table_new(2, cols, false);
	for (size_t i = 0; i < peers->n; i++) {
		const char *row[2] = {a, as};

		if (peers->v[i].ip.family != family)
			continue;
		addr_format(&peers->v[i].ip, a);
		snprintf(as, sizeof(as), "%u", peers->v[i].as_num);
		table_row(t, row);
		rows++;
	}
	if (rows > 0)
		table_print(t, stdout);
	else
		printf("No %s IPv%d BGP Peers defined.\n\n", node_specific ? "node specific" : "global",
		       v);
	table_free(t);
}

static json_t *
peers_doc(const struct bgp_peers *peers, const char *node)
{
	json_t *arr = json_array();
	char a[ADDR_STRLEN];

	for (size_t i = 0; i < peers->n; i++) {
		json_t *o;

		addr_format(&peers->v[i].ip, a);
		o = json_pack("{s:s, s:I, s:s, s:b, s:s, s:s}", "ip", a, "as_num",
			      (json_int_t)peers->v[i].as_num, "type", node ? "node specific" : "global",
			      "md5", peers->v[i].password[0] != '\0', "import",
			      peers->v[i].import_none ? "none" : "all", "export",
			      peers->v[i].export_none ? "none" : "all");
		if (peers->v[i].max_prefixes != 0)
			json_object_set_new(o, "max_prefixes",
					    json_integer(peers->v[i].max_prefixes));
		if (peers->v[i].max_restart_time != 0)
			json_object_set_new(o, "max_restart_time",
					    json_integer(peers->v[i].max_restart_time));
		if (node != NULL)
			json_object_set_new(o, "node", json_string(node));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Prints a JSON/YAML document and frees it. */
int
ctl_print_doc(struct ctl *c, json_t *doc)
{
	int rc = out_doc(stdout, c->fmt, doc);

	json_decref(doc);
	return rc == 0 ? CTL_EXIT_OK : ctl_fail("Cannot write the output.");
}

int
ctl_peer_show(struct ctl *c, bool node_specific)
{
	struct bgp_peers peers;
	struct store *s;
	struct err err;
	const char *node;
	int family;
	bool ok;

	if (ctl_family(c, &family) != 0)
		return CTL_EXIT_USAGE;
	node = peer_scope(c, node_specific, &ok);
	if (!ok)
		return CTL_EXIT_USAGE;
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (bgpconf_peer_list(s, node, family, &peers, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (c->fmt != OUT_TABLE) {
		int rc = ctl_print_doc(c, peers_doc(&peers, node));

		bgp_peers_free(&peers);
		return rc;
	}
	if (family != AF_INET6)
		peer_table(&peers, AF_INET, node_specific);
	if (family != AF_INET)
		peer_table(&peers, AF_INET6, node_specific);
	bgp_peers_free(&peers);
	return CTL_EXIT_OK;
}

static int
peer_add(struct ctl *c)
{
	return ctl_peer_add(c, false);
}

static int
peer_remove(struct ctl *c)
{
	return ctl_peer_remove(c, false);
}

static int
peer_show(struct ctl *c)
{
	return ctl_peer_show(c, false);
}

static int
node_mesh(struct ctl *c)
{
	struct bgp_global g;
	struct store *s;
	struct err err;
	uint32_t limit = 0;
	json_t *doc;

	if (max_prefixes_option(c, &limit) != 0)
		return CTL_EXIT_USAGE;
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (c->args.val[OPT_MAX_PREFIXES] != NULL &&
	    bgpconf_set_mesh_max_prefixes(s, limit, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (c->vars[0] != NULL) {
		if (bgpconf_set_node_mesh(s, c->vars[0][1] == 'n', &err) != STORE_OK)
			return ctl_fail("%s", err.msg);
		return CTL_EXIT_OK;
	}
	if (c->args.val[OPT_MAX_PREFIXES] != NULL)
		return CTL_EXIT_OK;
	if (bgpconf_global_get(s, &g, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (c->fmt != OUT_TABLE) {
		doc = json_pack("{s:b}", "node_mesh", g.node_mesh);
		if (g.mesh_max_prefixes != 0)
			json_object_set_new(doc, "max_prefixes", json_integer(g.mesh_max_prefixes));
		return ctl_print_doc(c, doc);
	}
	printf("%s\n", g.node_mesh ? "on" : "off");
	return CTL_EXIT_OK;
}

static int
default_node_as(struct ctl *c)
{
	struct bgp_global g;
	struct store *s;
	struct err err;
	uint32_t as;

	if (c->vars[0] != NULL) {
		if (ctl_parse_as(c, c->vars[0], &as) != 0)
			return CTL_EXIT_USAGE;
		if ((s = ctl_store(c)) == NULL)
			return CTL_EXIT_FAIL;
		if (bgpconf_set_default_as(s, as, &err) != STORE_OK)
			return ctl_fail("%s", err.msg);
		return CTL_EXIT_OK;
	}
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (bgpconf_global_get(s, &g, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (c->fmt != OUT_TABLE)
		return ctl_print_doc(c, json_pack("{s:I}", "as_num", (json_int_t)g.as_num));
	printf("%u\n", g.as_num);
	return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_bgp_cmds[] = {
	{"bgp peer add",
	 "<PEER_IP> as <AS_NUM> [--password=<KEY>] [--import=all|none] [--export=all|none] "
	 "[--max-prefixes=<N>|none] [--restart-time=<SECONDS>]",
	 OPTF(OPT_PASSWORD) | OPTF(OPT_IMPORT) | OPTF(OPT_EXPORT) | OPTF(OPT_MAX_PREFIXES) |
		 OPTF(OPT_RESTART_TIME),
	 peer_add},
	{"bgp peer remove", "<PEER_IP>", 0, peer_remove},
	{"bgp peer show", "[--ipv4 | --ipv6]", OPTF(OPT_IPV4) | OPTF(OPT_IPV6) | OPTF(OPT_OUTPUT),
	 peer_show},
	{"bgp node-mesh", "[on|off] [--max-prefixes=<N>|none]", OPTF(OPT_OUTPUT) | OPTF(OPT_MAX_PREFIXES),
	 node_mesh},
	{"bgp default-node-as", "[<AS_NUM>]", OPTF(OPT_OUTPUT), default_node_as},
	{NULL, NULL, 0, NULL},
};
