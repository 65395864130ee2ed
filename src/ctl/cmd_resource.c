/*
 * tabbyctl's resource commands, as calicoctl's: create, apply, replace and
 * delete from files, get, label, and version. The resources themselves
 * (validation, storage) are src/model/resource.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/manifest.h"
#include "model/bgpconf.h"
#include "model/resource.h"

const char ctl_resource_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl create --filename=<FILENAME>\n"
	"  tabbyctl apply --filename=<FILENAME>\n"
	"  tabbyctl replace --filename=<FILENAME>\n"
	"  tabbyctl delete ( <KIND> <NAME> | --filename=<FILENAME> )\n"
	"  tabbyctl get <KIND> [<NAME>] [--output=<OUTPUT>]\n"
	"  tabbyctl label <KIND> <NAME> ( <KEY>=<VALUE> [--overwrite] | <KEY> --remove | <KEY>- )\n"
	"  tabbyctl version\n"
	"\n"
	"Examples:\n"
	"  # Apply the resources in peers.yaml.\n"
	"  tabbyctl apply -f ./peers.yaml\n"
	"\n"
	"  # Apply resources from standard input, YAML or JSON.\n"
	"  cat peers.json | tabbyctl apply -f -\n"
	"\n"
	"  # List BGP peers with their details.\n"
	"  tabbyctl get bgppeers -o wide\n"
	"\n"
	"Options:\n"
	"  -h --help                 Show this screen.\n"
	"  -f --filename=<FILENAME>  File of projectcalico.org/v3 resources (and v1\n"
	"                            Secrets), YAML or JSON, several separated by '---';\n"
	"                            \"-\" reads standard input.\n"
	"  -o --output=<OUTPUT>      For get: ps (default), wide, yaml or json.\n"
	"     --overwrite            For label: replace the value of an existing key.\n"
	"     --remove               For label: remove the key.\n"
	"\n"
	"Description:\n"
	"  Kinds: bgppeers, bgpconfigurations, nodes, bgpfilters (and secrets, whose\n"
	"  values are never printed). create fails if a resource exists, replace if it\n"
	"  does not; apply does either. A resourceVersion in the file must be the\n"
	"  stored one (what get printed), else the write is refused.\n"
	"\n";

static const char *const verb_done[] = {
	[RES_CREATE] = "created", [RES_APPLY] = "applied", [RES_REPLACE] = "replaced",
	[RES_DELETE] = "deleted",
};
static const char *const verb_word[] = {
	[RES_CREATE] = "create", [RES_APPLY] = "apply", [RES_REPLACE] = "replace",
	[RES_DELETE] = "delete",
};

/* calicoctl's summary: the kind when all resources share one. */
static void
summary(json_t *docs, size_t n, enum res_verb verb)
{
	const char *kind = NULL;
	bool same = true;
	json_t *d;
	size_t i;

	json_array_foreach(docs, i, d) {
		const char *k = json_string_value(json_object_get(d, "kind"));

		if (i >= n)
			break;
		if (kind != NULL && (k == NULL || strcmp(k, kind) != 0))
			same = false;
		kind = k;
	}
	if (same && kind != NULL)
		printf("Successfully %s %zu '%s' resource(s)\n", verb_done[verb], n, kind);
	else
		printf("Successfully %s %zu resource(s)\n", verb_done[verb], n);
}

static int
from_file(struct ctl *c, enum res_verb verb)
{
	const char *path = c->args.val[OPT_FILENAME];
	struct res_batch *b;
	struct store *s;
	struct err err;
	json_t *docs, *d;
	size_t i;

	if (path == NULL)
		return ctl_usage_error(c, "Missing --filename. Usage: tabbyctl %s --filename=<FILENAME>",
				       verb_word[verb]);
	if ((docs = manifest_read(path, &err)) == NULL)
		return ctl_fail("Failed to execute command: %s", err.msg);
	if (json_array_size(docs) == 0) {
		json_decref(docs);
		return ctl_fail("No resources specified in file");
	}
	/* Every document is checked for its kind before anything is written. */
	json_array_foreach(docs, i, d) {
		if (res_kind_of(d, &err) == NULL) {
			json_decref(docs);
			return ctl_fail("Failed to execute command: %s", err.msg);
		}
	}
	if ((s = ctl_store(c)) == NULL) {
		json_decref(docs);
		return CTL_EXIT_FAIL;
	}
	b = res_batch_open(s);
	json_array_foreach(docs, i, d) {
		const char *kind = json_string_value(json_object_get(d, "kind"));

		if (res_batch_write(b, verb, d, &err) == RES_OK)
			continue;
		res_batch_close(b);
		if (i == 0 && json_array_size(docs) == 1)
			ctl_fail("Failed to %s '%s' resource: %s", verb_word[verb], kind, err.msg);
		else if (i == 0)
			ctl_fail("Failed to %s any '%s' resources: %s", verb_word[verb], kind,
				 err.msg);
		else
			ctl_fail("Partial success: %s the first %zu out of %zu resources:\n"
				 "Hit error: %s", verb_done[verb], i, json_array_size(docs), err.msg);
		json_decref(docs);
		return CTL_EXIT_FAIL;
	}
	res_batch_close(b);
	summary(docs, json_array_size(docs), verb);
	json_decref(docs);
	return CTL_EXIT_OK;
}

static int
create(struct ctl *c)
{
	return from_file(c, RES_CREATE);
}

static int
apply(struct ctl *c)
{
	return from_file(c, RES_APPLY);
}

static int
replace(struct ctl *c)
{
	return from_file(c, RES_REPLACE);
}

static const struct res_kind *
kind_arg(const char *name)
{
	const struct res_kind *k = res_kind_find(name);

	if (k == NULL)
		ctl_fail("Failed to execute command: resource type '%s' is not supported; accepted: "
			 "bgppeers, bgpconfigurations, nodes, bgpfilters, secrets", name);
	return k;
}

static int
delete(struct ctl *c)
{
	const struct res_kind *k;
	struct store *s;
	struct err err;

	if (c->args.val[OPT_FILENAME] != NULL) {
		if (c->vars[0] != NULL)
			return ctl_usage_error(c, "Give either <KIND> <NAME> or --filename, not both.");
		return from_file(c, RES_DELETE);
	}
	if (c->vars[0] == NULL || c->vars[1] == NULL)
		return ctl_usage_error(c, "Missing <KIND> <NAME> or --filename. Usage: tabbyctl "
					  "delete ( <KIND> <NAME> | --filename=<FILENAME> )");
	if ((k = kind_arg(c->vars[0])) == NULL || (s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (res_delete(s, k, c->vars[1], &err) != RES_OK)
		return ctl_fail("Failed to delete '%s' resource: %s", res_kind_name(k), err.msg);
	printf("Successfully deleted 1 '%s' resource(s)\n", res_kind_name(k));
	return CTL_EXIT_OK;
}

/* A cell of a get table: the string, number or boolean at a path of members. */
static void
cell(json_t *doc, const char *path, char *buf, size_t len)
{
	char p[128], *save = NULL;
	json_t *v = doc;

	snprintf(p, sizeof(p), "%s", path);
	for (char *w = strtok_r(p, ".", &save); w && v; w = strtok_r(NULL, ".", &save))
		v = json_object_get(v, w);
	buf[0] = '\0';
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
}

#define GET_COLS 4
#define CELL_MAX 512

/* One row of calicoctl's get table for a kind; wide adds columns for some kinds. */
static size_t
row(const char *kind, json_t *doc, bool wide, uint32_t default_as,
    char cells[GET_COLS][CELL_MAX], const char **heads)
{
	cell(doc, "metadata.name", cells[0], CELL_MAX);
	heads[0] = "NAME";
	if (strcmp(kind, "BGPPeer") == 0) {
		heads[1] = "PEERIP", heads[2] = "NODE", heads[3] = "ASN";
		cell(doc, "spec.peerIP", cells[1], CELL_MAX);
		if (cells[1][0] == '\0')
			cell(doc, "spec.peerSelector", cells[1], CELL_MAX);
		cell(doc, "spec.node", cells[2], CELL_MAX);
		if (cells[2][0] == '\0')
			cell(doc, "spec.nodeSelector", cells[2], CELL_MAX);
		if (cells[2][0] == '\0')
			snprintf(cells[2], CELL_MAX, "(global)");
		cell(doc, "spec.asNumber", cells[3], CELL_MAX);
		return 4;
	}
	if (strcmp(kind, "BGPConfiguration") == 0) {
		heads[1] = "LOGSEVERITY", heads[2] = "MESHENABLED", heads[3] = "ASNUMBER";
		cell(doc, "spec.logSeverityScreen", cells[1], CELL_MAX);
		cell(doc, "spec.nodeToNodeMeshEnabled", cells[2], CELL_MAX);
		cell(doc, "spec.asNumber", cells[3], CELL_MAX);
		return 4;
	}
	if (strcmp(kind, "Node") == 0 && wide) {
		heads[1] = "ASN", heads[2] = "IPV4", heads[3] = "IPV6";
		cell(doc, "spec.bgp.asNumber", cells[1], CELL_MAX);
		if (cells[1][0] == '\0')
			snprintf(cells[1], CELL_MAX, "(%u)", default_as);
		cell(doc, "spec.bgp.ipv4Address", cells[2], CELL_MAX);
		cell(doc, "spec.bgp.ipv6Address", cells[3], CELL_MAX);
		return 4;
	}
	return 1;
}

/* calicoctl's tabwriter layout: columns three spaces apart, no rules. */
static void
print_table(const struct res_kind *k, json_t *items, bool wide, uint32_t default_as)
{
	size_t n = json_array_size(items), ncols = 1, width[GET_COLS] = {0};
	char(*cells)[GET_COLS][CELL_MAX] = calloc(n + 1, sizeof(*cells));
	const char *heads[GET_COLS] = {0};
	json_t *d;
	size_t i;

	if (cells == NULL)
		return;
	json_array_foreach(items, i, d)
		ncols = row(res_kind_name(k), d, wide, default_as, cells[i + 1], heads);
	if (n == 0) {
		char tmp[GET_COLS][CELL_MAX];
		json_t *empty = json_object();

		ncols = row(res_kind_name(k), empty, wide, default_as, tmp, heads);
		json_decref(empty);
	}
	for (size_t c = 0; c < ncols; c++)
		snprintf(cells[0][c], CELL_MAX, "%s", heads[c]);
	for (i = 0; i <= n; i++)
		for (size_t c = 0; c < ncols; c++)
			if (strlen(cells[i][c]) > width[c])
				width[c] = strlen(cells[i][c]);
	for (i = 0; i <= n; i++) {
		char line[GET_COLS * (CELL_MAX + 8)];
		size_t at = 0;

		for (size_t c = 0; c < ncols; c++)
			at += (size_t)snprintf(line + at, sizeof(line) - at, "%-*s",
					       c + 1 < ncols ? (int)(width[c] + 3) : 0, cells[i][c]);
		while (at > 0 && line[at - 1] == ' ')
			line[--at] = '\0';
		printf("%s\n", line);
	}
	free(cells);
}

static int
get(struct ctl *c)
{
	const struct res_kind *k;
	struct store *s;
	struct err err;
	json_t *items;
	int rc;

	if ((k = kind_arg(c->vars[0])) == NULL || (s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	rc = res_get(s, k, c->vars[1], &items, &err);
	if (rc != RES_OK)
		return ctl_fail("Failed to get resources: %s", err.msg);
	if (c->fmt == OUT_JSON || c->fmt == OUT_YAML) {
		json_t *doc;

		if (!res_kind_printable(k) && c->args.val[OPT_OUTPUT] != NULL) {
			json_t *d;
			size_t i;

			/* Secrets: the name and namespace only, never a value. */
			json_array_foreach(items, i, d)
				json_object_set_new(d, "data", json_string("(not shown)"));
		}
		if (c->vars[1] != NULL) {
			doc = json_incref(json_array_get(items, 0));
		} else {
			char list[64];

			snprintf(list, sizeof(list), "%sList", res_kind_name(k));
			doc = json_pack("{s:s, s:O, s:s}", "apiVersion",
					json_string_value(json_object_get(json_array_get(items, 0),
									  "apiVersion"))
						?: (strcmp(res_kind_name(k), "Secret") == 0
							    ? "v1"
							    : "projectcalico.org/v3"),
					"items", items, "kind", list);
		}
		json_decref(items);
		return ctl_print_doc(c, doc);
	}
	{
		struct bgp_global g;

		if (bgpconf_global_get(s, &g, &err) != STORE_OK)
			g.as_num = 64512;
		print_table(k, items, c->fmt == OUT_WIDE, g.as_num);
	}
	json_decref(items);
	return CTL_EXIT_OK;
}

static int
label(struct ctl *c)
{
	const struct res_kind *k;
	const char *arg = c->vars[2], *eq = strchr(arg, '=');
	bool remove = (c->args.seen & OPTF(OPT_REMOVE)) != 0;
	char key[256];
	struct store *s;
	struct err err;
	size_t n;

	if ((k = kind_arg(c->vars[0])) == NULL)
		return CTL_EXIT_FAIL;
	n = eq ? (size_t)(eq - arg) : strlen(arg);
	/* kubectl's "key-" removes, as --remove does. */
	if (eq == NULL && n > 1 && arg[n - 1] == '-') {
		remove = true;
		n--;
	}
	if (n == 0 || n >= sizeof(key))
		return ctl_usage_error(c, "Invalid label '%s'; accepted: key=value, key --remove "
					  "or key-.", arg);
	snprintf(key, sizeof(key), "%.*s", (int)n, arg);
	if (remove == (eq != NULL))
		return ctl_usage_error(c, "Invalid label '%s'; accepted: key=value to set, key "
					  "--remove or key- to remove.", arg);
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (res_label(s, k, c->vars[1], key, remove ? NULL : eq + 1,
		      (c->args.seen & OPTF(OPT_OVERWRITE)) != 0, &err) != RES_OK)
		return ctl_fail("%s", err.msg);
	if (remove)
		printf("Successfully removed label %s from %s %s\n", key, c->vars[0], c->vars[1]);
	else
		printf("Successfully set label %s on %s %s\n", key, c->vars[0], c->vars[1]);
	return CTL_EXIT_OK;
}

static int
version(struct ctl *c)
{
	struct store *s;
	struct store_kvs kvs;
	struct err err;
	bool cluster = false;

	printf("Client Version:    v%s\n", TABBY_VERSION);
	printf("Git commit:        %s\n", TABBY_GIT_COMMIT);
	/* The cluster's version: what the running agents report, when one does. */
	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (store_range(s, KEY_ROOT "status/", &kvs, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	for (size_t i = 0; i < kvs.n && !cluster; i++) {
		size_t n = strlen(kvs.v[i].key);
		json_t *o;

		if (n < 6 || strcmp(kvs.v[i].key + n - 6, "/agent") != 0)
			continue;
		o = json_loads(kvs.v[i].value, 0, NULL);
		if (json_is_string(json_object_get(o, "version"))) {
			printf("Cluster Version:   v%s\n",
			       json_string_value(json_object_get(o, "version")));
			cluster = true;
		}
		json_decref(o);
	}
	if (!cluster)
		printf("Cluster Version:   unknown (no tabbyd running)\n");
	printf("Cluster Type:      tabby,bgp\n");
	store_kvs_free(&kvs);
	return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_resource_cmds[] = {
	{"create", "--filename=<FILENAME>", OPTF(OPT_FILENAME), create},
	{"apply", "--filename=<FILENAME>", OPTF(OPT_FILENAME), apply},
	{"replace", "--filename=<FILENAME>", OPTF(OPT_FILENAME), replace},
	{"delete", "[<KIND>] [<NAME>] [--filename=<FILENAME>]", OPTF(OPT_FILENAME), delete},
	{"get", "<KIND> [<NAME>] [--output=<OUTPUT>]", OPTF(OPT_OUTPUT), get},
	{"label", "<KIND> <NAME> <LABEL> [--overwrite] [--remove]",
	 OPTF(OPT_OVERWRITE) | OPTF(OPT_REMOVE), label},
	{"version", "", 0, version},
	{NULL, NULL, 0, NULL},
};
