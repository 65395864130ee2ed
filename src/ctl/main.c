/* tabbyctl: the command line, with calicoctl's grammar and output. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "lib/log.h"

static const char top_usage[] =
	"\n"
	"Usage:\n"
	"  tabbyctl [--datastore=<URL>] <command> [<args>...]\n"
	"\n";

static const char top_options[] =
	"\n"
	"Options:\n"
	" -h --help                  Show this screen.\n"
	" --version                  Show the version.\n"
	" --datastore=<URL>          The datastore (default: $TABBY_DATASTORE, else\n"
	"                            sqlite:/var/lib/tabby/tabby.db as root, else\n"
	"                            sqlite:~/.local/state/tabby/tabby.db).\n"
	" --etcd-ca=<FILE>           For etcds:// datastores: the CA that signed etcd's\n"
	"                            certificate (default: $TABBY_ETCD_CA, else the system's).\n"
	" --etcd-cert=<FILE>         The client certificate etcd asks for ($TABBY_ETCD_CERT).\n"
	" --etcd-key=<FILE>          Its key ($TABBY_ETCD_KEY). etcd users: $TABBY_ETCD_USER\n"
	"                            and $TABBY_ETCD_PASSWORD_FILE (never on the command line).\n"
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

/* The one table of commands: --help, the man page test and shell completion read it. */
static const struct {
	const char *group;
	const struct ctl_cmd *cmds;
	const char *help;
	const char *summary;
} groups[] = {
	{"bgp", ctl_bgp_cmds, ctl_bgp_help,
	 "Configure global BGP settings: peers, node-to-node mesh, default AS."},
	{"node", ctl_node_cmds, ctl_node_help,
	 "Configure a node: registration, node-specific BGP peers, prefixes, log level."},
	{"status", ctl_status_cmds, ctl_status_help, "Show the node agent's BGP sessions."},
	{"route", ctl_route_cmds, ctl_route_help, "Show the routes a node's agent holds."},
	{"api-client", ctl_ne_client_cmds, ctl_ne_client_help,
	 "Manage the peering API's tenants (OAuth2 client credentials)."},
	{"api-user", ctl_ne_user_cmds, ctl_ne_user_help,
	 "Manage a tenant's users (the OAuth2 password grant)."},
	{"device", ctl_ne_device_cmds, ctl_ne_device_help,
	 "Manage tenants' virtual devices (a device is a tabby node)."},
	{"connection", ctl_ne_connection_cmds, ctl_ne_connection_help,
	 "Manage devices' connections (an interface on the node)."},
	{"datastore", ctl_datastore_cmds, ctl_datastore_help,
	 "Copy the configuration: migrate, backup, restore."},
	{"create", ctl_resource_cmds, ctl_resource_help,
	 "Create resources (projectcalico.org/v3) from a file or stdin."},
	{"apply", ctl_resource_cmds, ctl_resource_help,
	 "Create or replace resources from a file or stdin."},
	{"replace", ctl_resource_cmds, ctl_resource_help, "Replace resources from a file or stdin."},
	{"delete", ctl_resource_cmds, ctl_resource_help,
	 "Delete a resource by kind and name, or the ones in a file."},
	{"get", ctl_resource_cmds, ctl_resource_help,
	 "Show resources of a kind: BGPPeer, BGPConfiguration, Node, BGPFilter."},
	{"label", ctl_resource_cmds, ctl_resource_help, "Set or remove a label of a node."},
	{"version", ctl_resource_cmds, ctl_resource_help,
	 "Show the version of tabbyctl and of the running agents."},
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

/* A command belongs to the group its first word names (the v3 verbs share one table). */
static bool
in_group(const struct ctl_cmd *cmd, const char *group)
{
	size_t n = strlen(group);

	return strncmp(cmd->words, group, n) == 0 && (cmd->words[n] == '\0' || cmd->words[n] == ' ');
}

/* The top-level help: the groups, then every command of every group, from the table. */
static void
top_help(FILE *f)
{
	size_t g;

	fputs(top_usage, f);
	for (g = 0; g < NGROUPS; g++)
		fprintf(f, "    %-12s%s\n", groups[g].group, groups[g].summary);
	fputs("\nCommands:\n", f);
	for (g = 0; g < NGROUPS; g++)
		for (const struct ctl_cmd *cmd = groups[g].cmds; cmd->words; cmd++)
			if (in_group(cmd, groups[g].group))
				fprintf(f, "  tabbyctl %s%s%s\n", cmd->words, cmd->pattern[0] ? " " : "",
				cmd->pattern);
	fputs(top_options, f);
}

/* What completion printed already: a word is offered once. */
struct offers {
	const char *cur;
	char seen[64][64];
	int n;
};

static void
offer(struct offers *o, const char *word, size_t len)
{
	if (len >= sizeof(o->seen[0]) || strncmp(word, o->cur, strlen(o->cur)) != 0 ||
	    len < strlen(o->cur))
		return;
	for (int i = 0; i < o->n; i++)
		if (strlen(o->seen[i]) == len && strncmp(o->seen[i], word, len) == 0)
			return;
	if (o->n < (int)(sizeof(o->seen) / sizeof(o->seen[0])))
		snprintf(o->seen[o->n++], sizeof(o->seen[0]), "%.*s", (int)len, word);
	printf("%.*s\n", (int)len, word);
}

/* The words a pattern token stands for: "bgp", "[on|off]"; none for "<X>" and "[<X>]". */
static void
offer_token(struct offers *o, const char *tok)
{
	const char *t = tok + (tok[0] == '['), *end;

	if (t[0] == '<')
		return;
	for (; *t && *t != ']'; t = *end ? end + 1 : end) {
		end = t + strcspn(t, "|]");
		offer(o, t, (size_t)(end - t));
		if (*end == ']')
			break;
	}
}

/* Whether typed word w fits pattern token tok, the way ctl_match() reads patterns. */
static bool
token_fits(const char *tok, const char *w)
{
	size_t n = strlen(w);
	const char *t;

	if (tok[0] == '<' || (tok[0] == '[' && tok[1] == '<'))
		return true;
	if (tok[0] != '[')
		return strcmp(tok, w) == 0;
	for (t = tok + 1; *t && *t != ']'; t += strcspn(t, "|]") + (t[strcspn(t, "|]")] == '|'))
		if (strncmp(t, w, n) == 0 && (t[n] == '|' || t[n] == ']'))
			return true;
	return false;
}

/* One command: what may follow the typed words, if they fit it so far. */
static void
complete_cmd(struct offers *o, const struct ctl_cmd *cmd, const char *const *typed, int n)
{
	char buf[512], *save = NULL, *tok;
	int p = 0, nwords = 0;
	bool want_opts = o->cur[0] == '-';

	snprintf(buf, sizeof(buf), "%s %s", cmd->words, cmd->pattern);
	for (const char *w = cmd->words; w; w = strchr(w + 1, ' '))
		nwords++;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (tok[0] == '-' || tok[0] == '|' || (tok[0] == '[' && tok[1] == '-'))
			continue;
		if (p == n) {
			if (want_opts)
				break;
			offer_token(o, tok);
			if (tok[0] != '[')
				return;
			continue;
		}
		if (!token_fits(tok, typed[p]))
			return;
		p++;
	}
	if (p < n || !want_opts || n < nwords)
		return;
	for (int i = 0; i < OPT_COUNT; i++) {
		char opt[64];
		bool has_value;
		const char *name = ctl_opt_name((enum ctl_opt)i, &has_value);

		if (!(cmd->opts & OPTF(i)) && i != OPT_DATASTORE && i != OPT_HELP)
			continue;
		snprintf(opt, sizeof(opt), "--%s%s", name, has_value ? "=" : "");
		offer(o, opt, strlen(opt));
	}
}

/*
 * tabbyctl __complete [WORD...] CUR: for shell completion (bash and zsh call it), the
 * words that may come next and start with CUR, one a line, read from the command table.
 * Options typed so far are skipped (their values are given as --option=value).
 */
static int
complete(int argc, char **argv)
{
	struct offers o = {.cur = argc > 2 ? argv[argc - 1] : ""};
	const char *typed[CTL_MAX_POS];
	int n = 0;

	for (int i = 2; i < argc - 1 && n < CTL_MAX_POS; i++)
		if (argv[i][0] != '-')
			typed[n++] = argv[i];
	if (n == 0 && o.cur[0] == '-') {
		offer(&o, "--help", 6);
		offer(&o, "--version", 9);
		offer(&o, "--datastore=", 12);
	}
	for (size_t g = 0; g < NGROUPS; g++)
		for (const struct ctl_cmd *cmd = groups[g].cmds; cmd->words; cmd++)
			complete_cmd(&o, cmd, typed, n);
	return CTL_EXIT_OK;
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
	store_etcd_files(c->args.val[OPT_ETCD_CA], c->args.val[OPT_ETCD_CERT],
			 c->args.val[OPT_ETCD_KEY]);
	if (c->args.npos == 0) {
		top_help((c->args.seen & OPTF(OPT_HELP)) ? stdout : stderr);
		return (c->args.seen & OPTF(OPT_HELP)) ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	for (g = 0; g < NGROUPS; g++)
		if (strcmp(c->args.pos[0], groups[g].group) == 0)
			break;
	if (g == NGROUPS) {
		fprintf(stderr, "Unknown command '%s'; expected one of: ", c->args.pos[0]);
		for (g = 0; g < NGROUPS; g++)
			fprintf(stderr, "%s%s", g ? ", " : "", groups[g].group);
		fputs(". Run 'tabbyctl --help' for usage.\n", stderr);
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
		return ctl_usage_error(c, "Invalid output format '%s'; accepted: table, json, yaml%s.",
				       c->args.val[OPT_OUTPUT], best->run == ctl_resource_cmds[4].run
								? ", ps, wide" : "");
	if (c->fmt == OUT_WIDE && best->run != ctl_resource_cmds[4].run)
		return ctl_usage_error(c, "Invalid output format 'wide'; accepted: table, json, yaml.");
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
	if (argc > 1 && strcmp(argv[1], "__complete") == 0)
		return complete(argc, argv);
	if (ctl_args_parse(argc, argv, &c.args) != 0)
		return CTL_EXIT_USAGE;
	rc = run(&c);
	store_close(c.store);
	if (fflush(stdout) != 0)
		rc = CTL_EXIT_FAIL;
	return rc;
}
