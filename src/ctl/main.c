/* tabbyctl: the command line, with calicoctl's grammar and output. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "lib/log.h"

static const char top_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl [--datastore=<URL>] <command> [<args>...]\n"
	"\n"
	"    bgp       Configure global BGP settings: peers, node-to-node mesh, default AS.\n"
	"    node      Configure a node: registration, node-specific BGP peers, prefixes.\n"
	"    status    Show the node agent's BGP sessions.\n"
	"    route     Show the routes a node's agent holds.\n"
	"    api-client  Manage the peering API's tenants (OAuth2 client credentials).\n"
	"    device    Manage tenants' virtual devices (a device is a tabby node).\n"
	"    connection  Manage devices' connections (an interface on the node).\n"
	"\n"
	"Options:\n"
	" -h --help                  Show this screen.\n"
	" --version                  Show the version.\n"
	" --datastore=<URL>          The datastore (default: $TABBY_DATASTORE, else\n"
	"                            sqlite:/var/lib/tabby/tabby.db as root, else\n"
	"                            sqlite:~/.local/state/tabby/tabby.db).\n"
	" -o --output=<FORMAT>       For every show: table (default), json or yaml.\n"
	" --password=<KEY>           On 'bgp peer add' and 'node bgp peer add': the TCP\n"
	"                            MD5 key (RFC 2385) for the session; '-' reads it\n"
	"                            from standard input. Never printed back.\n"
	" --import=all|none          On the same: accept the peer's routes (default all).\n"
	" --export=all|none          On the same: send the peer our routes (default all).\n"
	" --max-prefixes=<N>|none    On the same: past N prefixes received the session\n"
	"                            closes (Cease, RFC 4486) and retries after a growing\n"
	"                            back-off (default none). On 'bgp node-mesh': the same\n"
	"                            for every node-to-node mesh session.\n"
	" --restart-time=<SECONDS>   On 'bgp peer add' and 'node bgp peer add': the graceful\n"
	"                            restart time announced to the peer (RFC 4724),\n"
	"                            1-4095 (default 120).\n"
	"\n"
	"Description:\n"
	"  The tabbyctl command line tool manages the BGP peerings of tabby nodes,\n"
	"  with the grammar of calicoctl.\n"
	"\n"
	"  See 'tabbyctl <command> --help' to read about a specific subcommand.\n"
	"\n";

static const struct {
	const char *group;
	const struct ctl_cmd *cmds;
	const char *help;
} groups[] = {
	{"bgp", ctl_bgp_cmds, ctl_bgp_help},
	{"node", ctl_node_cmds, ctl_node_help},
	{"status", ctl_status_cmds, ctl_status_help},
	{"route", ctl_route_cmds, ctl_route_help},
	{"api-client", ctl_ne_client_cmds, ctl_ne_client_help},
	{"device", ctl_ne_device_cmds, ctl_ne_device_help},
	{"connection", ctl_ne_connection_cmds, ctl_ne_connection_help},
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

/* How many leading words of a command's words equal the positional words. */
static int
common_words(const char *words, const struct ctl_args *a, bool *all)
{
	char buf[128], *save = NULL, *w;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save), n++)
		if (n >= a->npos || strcmp(a->pos[n], w) != 0)
			break;
	*all = w == NULL;
	return n;
}

/* The n-th word of a command's words, or NULL. */
static const char *
nth_word(const char *words, int n, char *buf, size_t len)
{
	char *save = NULL, *w;

	snprintf(buf, len, "%s", words);
	for (w = strtok_r(buf, " ", &save); w && n > 0; w = strtok_r(NULL, " ", &save))
		n--;
	return w;
}

/* For "tabbyctl bgp frob": names the words that could have come at position depth. */
static int
unknown_command(const struct ctl_cmd *cmds, const struct ctl_args *a, int depth)
{
	char expected[256] = "", buf[128], prefix[128] = "tabbyctl";
	const char *w;
	bool all;

	for (int i = 0; i < depth; i++)
		snprintf(prefix + strlen(prefix), sizeof(prefix) - strlen(prefix), " %s", a->pos[i]);
	for (const struct ctl_cmd *c = cmds; c->words; c++) {
		if (common_words(c->words, a, &all) < depth ||
		    (w = nth_word(c->words, depth, buf, sizeof(buf))) == NULL)
			continue;
		if (strstr(expected, w) == NULL)
			snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
				 "%s%s", expected[0] ? ", " : "", w);
	}
	if (depth < a->npos)
		fprintf(stderr, "Unknown command '%s' for '%s'; expected one of: %s. ",
			a->pos[depth], prefix, expected);
	else
		fprintf(stderr, "Missing command for '%s'; expected one of: %s. ", prefix, expected);
	fprintf(stderr, "Run '%s --help' for usage.\n", prefix);
	return CTL_EXIT_USAGE;
}

/* Whether a pattern has positional words (not just options). */
static bool
takes_words(const char *pattern)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", pattern);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (t[0] != '-' && t[0] != '|' && !(t[0] == '[' && t[1] == '-'))
			return true;
	return false;
}

static int
run(struct ctl *c)
{
	const struct ctl_cmd *best = NULL;
	size_t g;
	int best_n = 0, depth = 1;

	if (c->args.seen & OPTF(OPT_VERSION)) {
		printf("tabbyctl %s\n", TABBY_VERSION);
		return CTL_EXIT_OK;
	}
	if (c->args.npos == 0) {
		fputs(top_help, (c->args.seen & OPTF(OPT_HELP)) ? stdout : stderr);
		return (c->args.seen & OPTF(OPT_HELP)) ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	for (g = 0; g < NGROUPS; g++)
		if (strcmp(c->args.pos[0], groups[g].group) == 0)
			break;
	if (g == NGROUPS) {
		fprintf(stderr, "Unknown command '%s'; expected one of: bgp, node, status, route, api-client, device, connection. Run 'tabbyctl "
				"--help' for usage.\n", c->args.pos[0]);
		return CTL_EXIT_USAGE;
	}
	if (c->args.seen & OPTF(OPT_HELP)) {
		fputs(groups[g].help, stdout);
		return CTL_EXIT_OK;
	}
	/* The command with the most words matched; depth: how far any command agrees. */
	for (const struct ctl_cmd *cmd = groups[g].cmds; cmd->words; cmd++) {
		bool all;
		int n = common_words(cmd->words, &c->args, &all);

		if (n > depth)
			depth = n;
		if (all && n > best_n) {
			best = cmd;
			best_n = n;
		}
	}
	/* "node frob": the bare "node" command matched, but a subcommand was meant. */
	if (best != NULL && best_n < c->args.npos && !takes_words(best->pattern))
		return unknown_command(groups[g].cmds, &c->args, best_n);
	if (best == NULL)
		return unknown_command(groups[g].cmds, &c->args, depth);
	c->cmd = best;
	if (c->args.val[OPT_OUTPUT] != NULL && out_fmt_parse(c->args.val[OPT_OUTPUT], &c->fmt) != 0)
		return ctl_usage_error(c, "Invalid output format '%s'; accepted: table, json, yaml.",
				       c->args.val[OPT_OUTPUT]);
	if (ctl_match(c, best_n) != 0)
		return CTL_EXIT_USAGE;
	return best->run(c);
}

int
main(int argc, char **argv)
{
	struct ctl c = {0};
	int rc;

	log_set_prefix("tabbyctl");
	log_set_level(LOG_LVL_WARN);
	if (ctl_args_parse(argc, argv, &c.args) != 0)
		return CTL_EXIT_USAGE;
	rc = run(&c);
	store_close(c.store);
	if (fflush(stdout) != 0)
		rc = CTL_EXIT_FAIL;
	return rc;
}
