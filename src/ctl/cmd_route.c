/* tabbyctl route show: a node's routes, live from its agent's control socket. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/table.h"
#include "lib/log.h"
#include "model/ne.h"

const char ctl_route_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl route show [--ipv4 | --ipv6] [<PREFIX>] [--node=<NODE>] [--device=<UUID>]\n"
	"\n"
	"\n"
	"Description:\n"
	"  Show the routes a node's agent holds: every path it learned or originates,\n"
	"  the best one marked with '*', and 'stale' on a path kept from a peer that is\n"
	"  restarting (graceful restart). It asks the agent on its control socket (the\n"
	"  path is in the agent's record), so run it on that node's machine.\n"
	"  With --device, the routes of a virtual device's own routing instance\n"
	"  (its peerings' routes, which never reach the node's table).\n"
	"\n"
	"Options:\n"
	" --node=<NODE>           The node (default: $TABBY_NODE, else the host name).\n"
	" --device=<UUID>         A virtual device's routes (its node by default).\n"
	" --ipv4                  Show IPv4 routes only.\n"
	" --ipv6                  Show IPv6 routes only.\n"
	" -o --output=<FORMAT>    table (default), json or yaml.\n"
	"\n";

/* The BEST column: '*' for the best path, "stale" for a path kept from a restarting peer. */
static const char *
best_mark(json_t *r)
{
	bool best = json_is_true(json_object_get(r, "best"));

	if (json_is_true(json_object_get(r, "stale")))
		return best ? "* stale" : "stale";
	return best ? "*" : "";
}

struct sorted_path {
	struct prefix p;
	size_t i;
	json_t *r;
};

static int
sorted_path_cmp(const void *a, const void *b)
{
	const struct sorted_path *x = a, *y = b;
	int c = prefix_cmp(&x->p, &y->p);

	return c != 0 ? c : x->i < y->i ? -1 : x->i > y->i;
}

/*
 * The agent answers in its table's order (it never sorts a large table on its event
 * loop); shown sorted by prefix, each prefix's paths in the agent's order.
 */
static json_t *
sort_by_prefix(json_t *paths)
{
	size_t n = json_array_size(paths), i;
	struct sorted_path *v = xcalloc(n ? n : 1, sizeof(*v));
	json_t *r, *out = json_array();

	json_array_foreach(paths, i, r) {
		const char *text = json_string_value(json_object_get(r, "prefix"));

		if (text == NULL || prefix_parse(text, &v[i].p, NULL) != 0)
			memset(&v[i].p, 0, sizeof(v[i].p));
		v[i].i = i;
		v[i].r = r;
	}
	qsort(v, n, sizeof(*v), sorted_path_cmp);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i].r);
	free(v);
	json_decref(paths);
	return out;
}

static void
cell_int(json_t *o, const char *field, char *buf, size_t len)
{
	json_t *v = json_object_get(o, field);

	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		buf[0] = '\0';
}

/* --device=UUID: checked, and its node is the one asked unless --node says otherwise. */
static int
device_node(struct ctl *c)
{
	const char *uuid = c->args.val[OPT_DEVICE];
	const char *node;
	struct store *s;
	struct err err;
	json_t *dev;
	int rc;

	if (uuid == NULL)
		return 0;
	if (!ne_uuid_valid(uuid))
		return ctl_usage_error(c, "Invalid --device '%s': a device UUID is accepted "
					  "(see tabbyctl device show).", uuid), -1;
	if (c->args.val[OPT_NODE] != NULL)
		return 0;
	if ((s = ctl_store(c)) == NULL)
		return -1;
	rc = ne_get(s, "device", uuid, &dev, &err);
	if (rc != STORE_OK) {
		ctl_fail("%s", rc == STORE_NOTFOUND ? "No such device (see tabbyctl device show)."
						    : err.msg);
		return -1;
	}
	node = json_string_value(json_object_get(dev, "node"));
	if (node != NULL) {
		snprintf(c->node, sizeof(c->node), "%s", node);
		c->args.val[OPT_NODE] = c->node;
	}
	json_decref(dev);
	return 0;
}

static int
route_show(struct ctl *c)
{
	static const char *const cols[] = {"PREFIX", "NEXT HOP", "AS PATH", "ORIGIN",
					   "LOCAL PREF", "MED", "FROM", "BEST"};
	char cmd[128] = "routes", lp[16], med[16];
	struct err err;
	json_t *doc, *r, *out;
	struct table *t;
	size_t i;
	int family;

	if (ctl_family(c, &family) != 0 || device_node(c) != 0 || ctl_node(c) == NULL)
		return CTL_EXIT_USAGE;
	if (c->args.val[OPT_DEVICE] != NULL)
		snprintf(cmd, sizeof(cmd), "device-routes %s", c->args.val[OPT_DEVICE]);
	if (c->vars[0] != NULL) {
		struct prefix p;
		char canon[PREFIX_STRLEN];

		if (prefix_parse(c->vars[0], &p, &err) != 0)
			return ctl_usage_error(c, "Invalid prefix specified: %s.", err.msg);
		prefix_format(&p, canon);
		if (c->args.val[OPT_DEVICE] != NULL)
			snprintf(cmd, sizeof(cmd), "device-routes %s %s", c->args.val[OPT_DEVICE],
				 canon);
		else
			snprintf(cmd, sizeof(cmd), "routes %s", canon);
	}
	if ((doc = ctl_ask_agent(c, cmd)) == NULL)
		return CTL_EXIT_FAIL;
	out = json_array();
	json_array_foreach(doc, i, r) {
		bool v6 = strchr(json_string_value(json_object_get(r, "prefix")), ':') != NULL;

		if ((family == AF_INET && v6) || (family == AF_INET6 && !v6))
			continue;
		json_array_append(out, r);
	}
	json_decref(doc);
	out = sort_by_prefix(out);
	if (c->fmt != OUT_TABLE)
		return ctl_print_doc(c, out);
	t = table_new(8, cols, false);
	json_array_foreach(out, i, r) {
		const char *row[8] = {
			json_string_value(json_object_get(r, "prefix")),
			json_string_value(json_object_get(r, "next_hop")),
			json_string_value(json_object_get(r, "as_path")),
			json_string_value(json_object_get(r, "origin")),
			lp,
			med,
			json_string_value(json_object_get(r, "from")),
			best_mark(r),
		};

		cell_int(r, "local_pref", lp, sizeof(lp));
		cell_int(r, "med", med, sizeof(med));
		table_row(t, row);
	}
	if (json_array_size(out) == 0)
		printf("No routes.\n");
	else
		table_print(t, stdout);
	table_free(t);
	json_decref(out);
	return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_route_cmds[] = {
	{"route show", "[--ipv4 | --ipv6] [<PREFIX>] [--node=<NODE>] [--device=<UUID>]",
	 OPTF(OPT_IPV4) | OPTF(OPT_IPV6) | OPTF(OPT_NODE) | OPTF(OPT_DEVICE) | OPTF(OPT_OUTPUT),
	 route_show},
	{NULL, NULL, 0, NULL},
};
