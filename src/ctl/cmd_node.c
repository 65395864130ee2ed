/* tabbyctl node ...: node registration, node-specific peers, originated prefixes. */
#include <jansson.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ctl/ctl.h"
#include "ctl/table.h"
#include "model/bgpconf.h"

const char ctl_node_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl node [--ip=<IP>] [--ip6=<IP6>] [--as=<AS_NUM>] [--node=<NODE>]\n"
	"  tabbyctl node show\n"
	"  tabbyctl node status [--node=<NODE>]\n"
	"  tabbyctl node remove <NODE>\n"
	"  tabbyctl node bgp peer add <PEER_IP> as <AS_NUM> [--password=<KEY>]\n"
	"                                 [--import=all|none] [--export=all|none]\n"
	"                                 [--max-prefixes=<N>|none] [--restart-time=<SECONDS>]\n"
	"                                 [--node=<NODE>]\n"
	"  tabbyctl node bgp peer remove <PEER_IP> [--node=<NODE>]\n"
	"  tabbyctl node bgp peer show [--ipv4 | --ipv6] [--node=<NODE>]\n"
	"  tabbyctl node prefix add <CIDR> [--node=<NODE>]\n"
	"  tabbyctl node prefix remove <CIDR> [--node=<NODE>]\n"
	"  tabbyctl node prefix show [--ipv4 | --ipv6] [--node=<NODE>]\n"
	"  tabbyctl node log-level [debug|info|warn|error] [--node=<NODE>]\n"
	"\n"
	"\n"
	"Description:\n"
	"  Configure a tabby node: its registration (addresses and AS number), the BGP\n"
	"  peers specific to it, and the prefixes it originates. Node-specific peers\n"
	"  take precedence over global peers for that node. A node without an AS\n"
	"  number uses the default node AS (tabbyctl bgp default-node-as).\n"
	"\n"
	"Options:\n"
	" --node=<NODE>    The node to configure (default: $TABBY_NODE, else the host\n"
	"                  name).\n"
	" --ip=<IP>        The node's IPv4 address, used for the node-to-node mesh.\n"
	" --ip6=<IP6>      The node's IPv6 address, used for the node-to-node mesh.\n"
	" --as=<AS_NUM>    The node's AS number (default: the default node AS).\n"
	" --password=<KEY> TCP MD5 key for the session (RFC 2385), 6-80 characters;\n"
	"                  '-' reads it from standard input. Never printed back.\n"
	" --import=all|none  Accept the peer's routes (default all).\n"
	" --export=all|none  Send the peer our routes (default all).\n"
	" --max-prefixes=<N>|none  Close the session past N prefixes received from the\n"
	"                  peer (Cease, RFC 4486); it retries after a growing back-off.\n"
	"                  Default none.\n"
	" --restart-time=<SECONDS>  The graceful restart time announced to the peer\n"
	"                  (RFC 4724): how long it keeps this node's routes while tabbyd\n"
	"                  restarts. 1-4095, default 120.\n"
	" --ipv4           Show IPv4 information only.\n"
	" --ipv6           Show IPv6 information only.\n"
	"\n"
	"  'node log-level' shows the running agent's log level, or sets it until the\n"
	"  agent restarts; it asks the agent on its control socket, so run it on the\n"
	"  node's machine.\n"
	"\n";

static int
node_register(struct ctl *c)
{
	struct host_config h = {0};
	const char *node;
	struct store *s;
	struct err err;

	if ((node = ctl_node(c)) == NULL)
		return CTL_EXIT_USAGE;
	snprintf(h.name, sizeof(h.name), "%s", node);
	if (c->args.val[OPT_IP] != NULL) {
		if (ctl_parse_ip(c, c->args.val[OPT_IP], AF_INET, &h.ip) != 0)
			return CTL_EXIT_USAGE;
		h.has_ip = true;
	}
	if (c->args.val[OPT_IP6] != NULL) {
		if (ctl_parse_ip(c, c->args.val[OPT_IP6], AF_INET6, &h.ip6) != 0)
			return CTL_EXIT_USAGE;
		h.has_ip6 = true;
	}
	if (c->args.val[OPT_AS] != NULL) {
		if (ctl_parse_as(c, c->args.val[OPT_AS], &h.as_num) != 0)
			return CTL_EXIT_USAGE;
		h.has_as = true;
	}
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (bgpconf_host_put(s, &h, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	return CTL_EXIT_OK;
}

static json_t *
addr_json(bool has, const struct addr *a)
{
	char buf[ADDR_STRLEN];

	if (!has)
		return json_null();
	addr_format(a, buf);
	return json_string(buf);
}

static int
node_show(struct ctl *c)
{
	static const char *const cols[] = {"NAME", "IPV4", "IPV6", "AS NUM"};
	struct host_configs hosts;
	struct bgp_global g;
	struct store *s;
	struct table *t;
	struct err err;
	json_t *doc;

	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (bgpconf_global_get(s, &g, &err) != STORE_OK ||
	    bgpconf_host_list(s, &hosts, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	doc = json_array();
	t = table_new(4, cols, false);
	for (size_t i = 0; i < hosts.n; i++) {
		const struct host_config *h = &hosts.v[i];
		uint32_t as = h->has_as ? h->as_num : g.as_num;
		char ip[ADDR_STRLEN] = "", ip6[ADDR_STRLEN] = "", asbuf[16];
		const char *row[] = {h->name, ip, ip6, asbuf};

		if (h->has_ip)
			addr_format(&h->ip, ip);
		if (h->has_ip6)
			addr_format(&h->ip6, ip6);
		/* As calicoctl: an inherited AS number is shown in parentheses. */
		snprintf(asbuf, sizeof(asbuf), h->has_as ? "%u" : "(%u)", as);
		table_row(t, row);
		json_array_append_new(doc, json_pack("{s:s, s:o, s:o, s:I, s:b, s:b}", "name",
						     h->name, "ip", addr_json(h->has_ip, &h->ip),
						     "ip6", addr_json(h->has_ip6, &h->ip6), "as_num",
						     (json_int_t)as, "as_inherited", !h->has_as,
						     "registered", h->registered));
	}
	if (c->fmt != OUT_TABLE) {
		table_free(t);
		host_configs_free(&hosts);
		return ctl_print_doc(c, doc);
	}
	json_decref(doc);
	if (hosts.n == 0)
		printf("No nodes defined.\n");
	else
		table_print(t, stdout);
	table_free(t);
	host_configs_free(&hosts);
	return CTL_EXIT_OK;
}

static int
node_remove(struct ctl *c)
{
	struct store *s;
	struct err err;
	int rc;

	if (node_name_check(c->vars[0], &err) != 0)
		return ctl_usage_error(c, "Invalid node specified: %s.", err.msg);
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	rc = bgpconf_host_remove(s, c->vars[0], &err);
	if (rc == STORE_ERR)
		return ctl_fail("%s", err.msg);
	if (rc == STORE_NOTFOUND)
		return ctl_fail("%s is not a configured node.", c->vars[0]);
	printf("Node configuration removed\n");
	return CTL_EXIT_OK;
}

static int
node_peer_add(struct ctl *c)
{
	return ctl_peer_add(c, true);
}

static int
node_peer_remove(struct ctl *c)
{
	return ctl_peer_remove(c, true);
}

static int
node_peer_show(struct ctl *c)
{
	return ctl_peer_show(c, true);
}

/* Parses <CIDR>, resolves the node and opens the store, for every prefix command. */
static int
prefix_prepare(struct ctl *c, struct prefix *p, struct store **s)
{
	struct err err;

	if (p != NULL && prefix_parse(c->vars[0], p, &err) != 0)
		return ctl_usage_error(c, "Invalid prefix specified: %s.", err.msg);
	if (ctl_node(c) == NULL)
		return CTL_EXIT_USAGE;
	if ((*s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	return CTL_EXIT_OK;
}

static int
prefix_add(struct ctl *c)
{
	struct prefix p;
	struct store *s = NULL; /* set by prefix_prepare; GCC -O3 cannot see that */
	struct err err;
	int rc;

	if ((rc = prefix_prepare(c, &p, &s)) != CTL_EXIT_OK)
		return rc;
	if (bgpconf_prefix_add(s, c->node, &p, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	return CTL_EXIT_OK;
}

static int
prefix_remove(struct ctl *c)
{
	char buf[PREFIX_STRLEN];
	struct prefix p;
	struct store *s = NULL;
	struct err err;
	int rc;

	if ((rc = prefix_prepare(c, &p, &s)) != CTL_EXIT_OK)
		return rc;
	rc = bgpconf_prefix_remove(s, c->node, &p, &err);
	if (rc == STORE_ERR)
		return ctl_fail("%s", err.msg);
	prefix_format(&p, buf);
	if (rc == STORE_NOTFOUND)
		return ctl_fail("%s is not a configured prefix for this node.", buf);
	printf("Prefix removed from node configuration\n");
	return CTL_EXIT_OK;
}

static void
prefix_table(const struct node_prefixes *ps, int family)
{
	static const char *const v4[] = {"Node IPv4 Prefix"}, *const v6[] = {"Node IPv6 Prefix"};
	struct table *t = table_new(1, family == AF_INET ? v4 : v6, false);
	char buf[PREFIX_STRLEN];
	size_t rows = 0;

	for (size_t i = 0; i < ps->n; i++) {
		const char *row[] = {buf};

		if (ps->v[i].addr.family != family)
			continue;
		prefix_format(&ps->v[i], buf);
		table_row(t, row);
		rows++;
	}
	if (rows > 0)
		table_print(t, stdout);
	else
		printf("No node IPv%d prefixes defined.\n\n", family == AF_INET ? 4 : 6);
	table_free(t);
}

static int
prefix_show(struct ctl *c)
{
	struct node_prefixes ps;
	struct store *s = NULL;
	struct err err;
	int family, rc;

	if (ctl_family(c, &family) != 0)
		return CTL_EXIT_USAGE;
	if ((rc = prefix_prepare(c, NULL, &s)) != CTL_EXIT_OK)
		return rc;
	if (bgpconf_prefix_list(s, c->node, family, &ps, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (c->fmt != OUT_TABLE) {
		json_t *doc = json_array();
		char buf[PREFIX_STRLEN];

		for (size_t i = 0; i < ps.n; i++) {
			prefix_format(&ps.v[i], buf);
			json_array_append_new(doc, json_pack("{s:s, s:s}", "prefix", buf, "node",
							     c->node));
		}
		node_prefixes_free(&ps);
		return ctl_print_doc(c, doc);
	}
	if (family != AF_INET6)
		prefix_table(&ps, AF_INET);
	if (family != AF_INET)
		prefix_table(&ps, AF_INET6);
	node_prefixes_free(&ps);
	return CTL_EXIT_OK;
}

#define NODE_OPT OPTF(OPT_NODE)
#define SHOW_OPTS (OPTF(OPT_IPV4) | OPTF(OPT_IPV6) | OPTF(OPT_OUTPUT) | NODE_OPT)

/* tabbyctl node log-level [<LEVEL>]: the agent's own level, live, over its control socket. */
static int
node_log_level(struct ctl *c)
{
	char cmd[64] = "log-level";
	json_t *doc;
	const char *was;

	/* The pattern accepted only the four levels. */
	if (c->vars[0] != NULL)
		snprintf(cmd, sizeof(cmd), "log-level %s", c->vars[0]);
	if (ctl_node(c) == NULL)
		return CTL_EXIT_USAGE;
	if ((doc = ctl_ask_agent(c, cmd)) == NULL)
		return CTL_EXIT_FAIL;
	was = json_string_value(json_object_get(doc, "was"));
	if (c->fmt != OUT_TABLE)
		return ctl_print_doc(c, doc);
	if (was != NULL)
		printf("Log level of node %s set to %s (was %s).\n", c->node,
		       json_string_value(json_object_get(doc, "log_level")), was);
	else
		printf("%s\n", json_string_value(json_object_get(doc, "log_level")));
	json_decref(doc);
	return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_node_cmds[] = {
	{"node", "[--ip=<IP>] [--ip6=<IP6>] [--as=<AS_NUM>] [--node=<NODE>]",
	 OPTF(OPT_IP) | OPTF(OPT_IP6) | OPTF(OPT_AS) | NODE_OPT, node_register},
	{"node show", "", OPTF(OPT_OUTPUT), node_show},
	{"node status", "[--node=<NODE>]", NODE_OPT | OPTF(OPT_OUTPUT), ctl_status},
	{"node remove", "<NODE>", 0, node_remove},
	{"node bgp peer add",
	 "<PEER_IP> as <AS_NUM> [--password=<KEY>] [--import=all|none] [--export=all|none] "
	 "[--max-prefixes=<N>|none] [--restart-time=<SECONDS>] [--node=<NODE>]",
	 NODE_OPT | OPTF(OPT_PASSWORD) | OPTF(OPT_IMPORT) | OPTF(OPT_EXPORT) | OPTF(OPT_MAX_PREFIXES) |
		 OPTF(OPT_RESTART_TIME),
	 node_peer_add},
	{"node bgp peer remove", "<PEER_IP> [--node=<NODE>]", NODE_OPT, node_peer_remove},
	{"node bgp peer show", "[--ipv4 | --ipv6] [--node=<NODE>]", SHOW_OPTS, node_peer_show},
	{"node prefix add", "<CIDR> [--node=<NODE>]", NODE_OPT, prefix_add},
	{"node prefix remove", "<CIDR> [--node=<NODE>]", NODE_OPT, prefix_remove},
	{"node prefix show", "[--ipv4 | --ipv6] [--node=<NODE>]", SHOW_OPTS, prefix_show},
	{"node log-level", "[debug|info|warn|error] [--node=<NODE>]", NODE_OPT | OPTF(OPT_OUTPUT), node_log_level},
	{NULL, NULL, 0, NULL},
};
