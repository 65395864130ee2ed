/* tabbyctl's argument parsing: options anywhere, then positional words matched to a pattern. */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

static const struct {
	const char *name;
	char short_name;
	bool has_value;
} opt_spec[OPT_COUNT] = {
	[OPT_DATASTORE] = {"datastore", 0, true},
	[OPT_HELP] = {"help", 'h', false},
	[OPT_VERSION] = {"version", 0, false},
	[OPT_NODE] = {"node", 0, true},
	[OPT_OUTPUT] = {"output", 'o', true},
	[OPT_IPV4] = {"ipv4", 0, false},
	[OPT_IPV6] = {"ipv6", 0, false},
	[OPT_IP] = {"ip", 0, true},
	[OPT_IP6] = {"ip6", 0, true},
	[OPT_AS] = {"as", 0, true},
	[OPT_PASSWORD] = {"password", 0, true},
	[OPT_IMPORT] = {"import", 0, true},
	[OPT_EXPORT] = {"export", 0, true},
	[OPT_MAX_PREFIXES] = {"max-prefixes", 0, true},
	[OPT_RESTART_TIME] = {"restart-time", 0, true},
	[OPT_OWNER] = {"owner", 0, true},
	[OPT_NAME] = {"name", 0, true},
	[OPT_DEVICE] = {"device", 0, true},
	[OPT_INTERFACE] = {"interface", 0, true},
	[OPT_FILENAME] = {"filename", 'f', true},
	[OPT_OVERWRITE] = {"overwrite", 0, false},
	[OPT_REMOVE] = {"remove", 0, false},
	[OPT_CLIENT] = {"client", 0, true},
	[OPT_FROM] = {"from", 0, true},
	[OPT_TO] = {"to", 0, true},
	[OPT_FORCE] = {"force", 0, false},
	[OPT_ETCD_CA] = {"etcd-ca", 0, true},
	[OPT_ETCD_CERT] = {"etcd-cert", 0, true},
	[OPT_ETCD_KEY] = {"etcd-key", 0, true},
};

const char *
ctl_opt_name(enum ctl_opt o, bool *has_value)
{
	*has_value = opt_spec[o].has_value;
	return opt_spec[o].name;
}

static int
find_long(const char *name, size_t n)
{
	for (int i = 0; i < OPT_COUNT; i++)
		if (strlen(opt_spec[i].name) == n && strncmp(name, opt_spec[i].name, n) == 0)
			return i;
	return -1;
}

static int
find_short(char ch)
{
	for (int i = 0; i < OPT_COUNT; i++)
		if (opt_spec[i].short_name != 0 && opt_spec[i].short_name == ch)
			return i;
	return -1;
}

static int
arg_error(const char *fmt, const char *what)
{
	fprintf(stderr, fmt, what);
	fputs(" Run 'tabbyctl --help' for usage.\n", stderr);
	return -1;
}

int
ctl_args_parse(int argc, char **argv, struct ctl_args *a)
{
	bool only_pos = false;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i], *val = NULL;
		int o;

		if (only_pos || s[0] != '-' || s[1] == '\0') {
			if (a->npos == CTL_MAX_POS)
				return arg_error("Too many arguments ('%s' and after).", s);
			a->pos[a->npos++] = s;
			continue;
		}
		if (strcmp(s, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (s[1] == '-') {
			const char *eq = strchr(s + 2, '=');

			o = find_long(s + 2, eq ? (size_t)(eq - s - 2) : strlen(s + 2));
			if (o < 0)
				return arg_error("Unknown option '%s'.", s);
			if (eq != NULL) {
				if (!opt_spec[o].has_value)
					return arg_error("Option '%s' takes no value.", s);
				val = eq + 1;
			}
		} else {
			o = find_short(s[1]);
			if (o < 0)
				return arg_error("Unknown option '%s'.", s);
			if (s[2] != '\0') {
				if (!opt_spec[o].has_value)
					return arg_error("Unknown option '%s'.", s);
				val = s + 2;
			}
		}
		if (opt_spec[o].has_value && val == NULL) {
			if (i + 1 >= argc)
				return arg_error("Option '%s' needs a value.", s);
			val = argv[++i];
		}
		a->seen |= OPTF(o);
		a->val[o] = val;
	}
	return 0;
}

/* One pattern token at a time: "<X>" required, "[<X>]" optional, "[a|b]" optional choice, else a literal. */
int
ctl_match(struct ctl *c, int first)
{
	char pat[256], *save = NULL, *tok;
	const char *words = c->cmd->words;
	int p = first, nv = 0;
	unsigned extra = c->args.seen & ~(c->cmd->opts | OPTF(OPT_DATASTORE) | OPTF(OPT_HELP) |
					  OPTF(OPT_ETCD_CA) | OPTF(OPT_ETCD_CERT) | OPTF(OPT_ETCD_KEY));

	for (int o = 0; o < OPT_COUNT; o++) {
		if (extra & OPTF(o))
			return ctl_usage_error(c, "Option --%s does not apply here. Usage: tabbyctl %s %s",
					       opt_spec[o].name, words, c->cmd->pattern);
	}
	snprintf(pat, sizeof(pat), "%s", c->cmd->pattern);
	for (tok = strtok_r(pat, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		const char *arg = p < c->args.npos ? c->args.pos[p] : NULL;

		if (tok[0] == '-' || tok[0] == '|' || (tok[0] == '[' && tok[1] == '-')) {
			continue;  /* options in the usage text, parsed already */
		} else if (tok[0] == '<') {
			if (arg == NULL)
				return ctl_usage_error(c, "Missing %s. Usage: tabbyctl %s %s", tok,
						       words, c->cmd->pattern);
			c->vars[nv++] = arg;
			p++;
		} else if (tok[0] == '[' && tok[1] == '<') {
			c->vars[nv++] = arg;
			p += arg != NULL;
		} else if (tok[0] == '[') {
			char choices[64], *end, *csave = NULL;
			bool ok = false;

			snprintf(choices, sizeof(choices), "%s", tok + 1);
			if ((end = strchr(choices, ']')) != NULL)
				*end = '\0';
			if (arg != NULL) {
				for (char *ch = strtok_r(choices, "|", &csave); ch;
				     ch = strtok_r(NULL, "|", &csave))
					ok = ok || strcmp(ch, arg) == 0;
				if (!ok)
					return ctl_usage_error(
						c, "Invalid argument '%s'; expected %s. Usage: tabbyctl %s %s",
						arg, tok, words, c->cmd->pattern);
			}
			c->vars[nv++] = arg;
			p += arg != NULL;
		} else if (arg == NULL || strcmp(arg, tok) != 0) {
			return ctl_usage_error(c, "Expected '%s'%s%s%s. Usage: tabbyctl %s %s", tok,
					       arg ? " but got '" : "", arg ? arg : "",
					       arg ? "'" : "", words, c->cmd->pattern);
		} else {
			p++;
		}
	}
	if (p < c->args.npos)
		return ctl_usage_error(c, "Unexpected argument '%s'. Usage: tabbyctl %s %s",
				       c->args.pos[p], words, c->cmd->pattern);
	return 0;
}
