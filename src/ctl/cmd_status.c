/* tabbyctl status: calicoctl's node status, read from the datastore (works from any machine). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ctl/ctl.h"
#include "ctl/table.h"
#include "lib/text.h"

const char ctl_status_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl status [--node=<NODE>]\n"
	"\n"
	"\n"
	"Description:\n"
	"  Check the status of the tabby node agent and its BGP sessions, as the agent\n"
	"  reports them in the datastore: the node's own, then each virtual device's\n"
	"  peerings under the device.\n"
	"\n"
	"Options:\n"
	" --node=<NODE>           The node (default: $TABBY_NODE, else the host name).\n"
	" -o --output=<FORMAT>    table (default), json or yaml; json and yaml add the\n"
	"                         session counters.\n"
	"\n";

struct row {
	struct addr remote;
	json_t *rec;
};

static int
row_cmp(const void *a, const void *b)
{
	return addr_cmp(&((const struct row *)a)->remote, &((const struct row *)b)->remote);
}

/* BIRD's style, which calicoctl shows: the time today, else the date. */
static void
since_text(json_int_t since, char *buf, size_t len)
{
	time_t t = (time_t)since, now = time(NULL);
	struct tm tm, tnow;

	localtime_r(&t, &tm);
	localtime_r(&now, &tnow);
	if (tm.tm_year == tnow.tm_year && tm.tm_yday == tnow.tm_yday)
		strftime(buf, len, "%H:%M:%S", &tm);
	else
		strftime(buf, len, "%Y-%m-%d", &tm);
}

/* The virtual device a session belongs to, or "" for the node's own. */
static const char *
device_of(const struct row *r)
{
	const char *d = json_string_value(json_object_get(r->rec, "device"));

	return d ? d : "";
}

/* The sessions of one routing instance and family: the node's (device ""), or a device's. */
static void
family_table(const struct row *rows, size_t n, int family, const char *device)
{
	static const char *const cols[] = {"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"};
	struct table *t = table_new(5, cols, true);
	size_t shown = 0;

	table_min_width(t, 1, strlen("node-to-node mesh"));
	for (size_t i = 0; i < n; i++) {
		if (rows[i].remote.family == family && strcmp(device_of(&rows[i]), device) == 0)
			shown++;
	}
	/* A device lists the families it has; the node says when it has none. */
	if (*device != '\0' && shown == 0) {
		table_free(t);
		return;
	}
	if (*device != '\0')
		printf("IPv%d BGP status of virtual device %s\n", family == AF_INET ? 4 : 6, device);
	else
		printf("IPv%d BGP status\n", family == AF_INET ? 4 : 6);
	shown = 0;
	for (size_t i = 0; i < n; i++) {
		const char *state = json_string_value(json_object_get(rows[i].rec, "state"));
		char addr[ADDR_STRLEN], since[32], shown_info[TEXT_ESCAPED_SIZE(512)];
		const char *cells[5] = {addr, NULL, NULL, since, NULL}, *info;

		if (rows[i].remote.family != family || strcmp(device_of(&rows[i]), device) != 0)
			continue;
		addr_format(&rows[i].remote, addr);
		cells[1] = json_string_value(json_object_get(rows[i].rec, "type"));
		cells[2] = state && strcmp(state, "Established") == 0 ? "up" : "start";
		since_text(json_integer_value(json_object_get(rows[i].rec, "since_unix")), since,
			   sizeof(since));
		info = json_string_value(json_object_get(rows[i].rec, "info"));
		/* The agent escaped the peer's text already; whoever else wrote the store, a
		 * terminal never gets control characters from it (escaping twice is a no-op). */
		if (info != NULL)
			text_escape(info, strlen(info), shown_info, sizeof(shown_info));
		cells[4] = info ? shown_info : NULL;
		table_row(t, cells);
		shown++;
	}
	if (shown > 0) {
		table_print(t, stdout);
		printf("\n");
	} else {
		printf("No IPv%d peers found.\n\n", family == AF_INET ? 4 : 6);
	}
	table_free(t);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
devices_tables(const struct row *rows, size_t n)
{
	const char **devs = calloc(n ? n : 1, sizeof(*devs));
	size_t k = 0;

	if (devs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (*device_of(&rows[i]) != '\0')
			devs[k++] = device_of(&rows[i]);
	qsort(devs, k, sizeof(*devs), str_cmp);
	for (size_t i = 0; i < k; i++) {
		if (i > 0 && strcmp(devs[i], devs[i - 1]) == 0)
			continue;
		family_table(rows, n, AF_INET, devs[i]);
		family_table(rows, n, AF_INET6, devs[i]);
	}
	free(devs);
}

int
ctl_status(struct ctl *c)
{
	struct store_kvs kvs;
	json_t *agent;
	struct store *s;
	struct err err;
	struct row *rows;
	char dir[KEY_MAX];
	size_t n = 0;
	int rc;
	json_t *doc, *arr;

	if (ctl_node(c) == NULL)
		return CTL_EXIT_USAGE;
	rc = ctl_agent(c, &agent);
	if (rc == STORE_ERR)
		return CTL_EXIT_FAIL;
	s = ctl_store(c);
	if (rc == STORE_NOTFOUND) {
		if (c->fmt != OUT_TABLE) {
			ctl_print_doc(c, json_pack("{s:s, s:b}", "node", c->node, "running", 0));
			return CTL_EXIT_FAIL;
		}
		printf("tabby process is not running.\n");
		return CTL_EXIT_FAIL;
	}
	snprintf(dir, sizeof(dir), KEY_ROOT "status/%s/session/", c->node);
	if (store_range(s, dir, &kvs, &err) != STORE_OK) {
		json_decref(agent);
		return ctl_fail("%s", err.msg);
	}
	rows = calloc(kvs.n ? kvs.n : 1, sizeof(*rows));
	for (size_t i = 0; i < kvs.n; i++) {
		json_t *o = json_loads(kvs.v[i].value, 0, NULL);
		const char *remote = json_string_value(json_object_get(o, "remote"));

		if (remote == NULL || addr_parse(remote, &rows[n].remote) != 0) {
			json_decref(o);
			continue;
		}
		rows[n++].rec = o;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	if (c->fmt != OUT_TABLE) {
		arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(arr, rows[i].rec);
		doc = json_pack("{s:s, s:b, s:O, s:o}", "node", c->node, "running", 1, "agent", agent,
				"sessions", arr);
		rc = ctl_print_doc(c, doc);
	} else {
		printf("tabby process is running.\n\n");
		family_table(rows, n, AF_INET, "");
		family_table(rows, n, AF_INET6, "");
		/* Then each virtual device's peerings, under the device (sorted by uuid). */
		devices_tables(rows, n);
		rc = CTL_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		json_decref(rows[i].rec);
	free(rows);
	store_kvs_free(&kvs);
	json_decref(agent);
	return rc;
}

const struct ctl_cmd ctl_status_cmds[] = {
	{"status", "[--node=<NODE>]", OPTF(OPT_NODE) | OPTF(OPT_OUTPUT), ctl_status},
	{NULL, NULL, 0, NULL},
};
