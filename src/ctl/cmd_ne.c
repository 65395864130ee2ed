/* tabbyctl api-client / device / connection: the operator's side of the peering API. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/table.h"
#include "model/bgpconf.h"
#include "model/ne.h"

const char ctl_ne_client_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl api-client create <NAME> [--operator]\n"
	"  tabbyctl api-client show\n"
	"  tabbyctl api-client remove <CLIENT_ID>\n"
	"  tabbyctl api-client rotate-secret <CLIENT_ID>\n"
	"\n"
	"\n"
	"Description:\n"
	"  Manage the tenants of the peering API. create and rotate-secret print the\n"
	"  client secret once; only its argon2id hash is stored. remove and\n"
	"  rotate-secret revoke the client's tokens at once. --operator makes an\n"
	"  operator client: it may open the topology page (/ui/) and read every\n"
	"  node's and tenant's state there; tenants get 403.\n"
	"\n";

const char ctl_ne_user_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl api-user create --client=<CLIENT_ID> <NAME>\n"
	"  tabbyctl api-user passwd --client=<CLIENT_ID> <NAME>\n"
	"  tabbyctl api-user remove --client=<CLIENT_ID> <NAME>\n"
	"  tabbyctl api-user show [--client=<CLIENT_ID>]\n"
	"\n"
	"\n"
	"Description:\n"
	"  Manage the users of a tenant (the password grant of POST /oauth2/v1/token).\n"
	"  create and passwd read the password (8-128 characters) from the first line of\n"
	"  standard input; when standard input is a terminal or empty they generate one\n"
	"  and print it once. Only its argon2id hash is stored. remove and passwd revoke\n"
	"  the user's tokens at once.\n"
	"\n";

const char ctl_ne_device_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl device create --node=<NODE> --owner=<CLIENT_ID> [--name=<NAME>]\n"
	"  tabbyctl device show\n"
	"  tabbyctl device remove <UUID>\n"
	"\n"
	"\n"
	"Description:\n"
	"  A virtual device is a tabby node assigned to a tenant (an API client).\n"
	"\n";

const char ctl_ne_connection_help[] =
	"\n"
	"Usage:\n"
	"  tabbyctl connection create --device=<UUID> --interface=<IF> [--name=<NAME>]\n"
	"                            [--max-prefixes=<N>|none]\n"
	"  tabbyctl connection update <UUID> --max-prefixes=<N>|none\n"
	"  tabbyctl connection show\n"
	"  tabbyctl connection remove <UUID>\n"
	"\n"
	"\n"
	"Description:\n"
	"  A connection is a device's attachment to a network: a Linux interface on the\n"
	"  device's node. Tenants create BGP peerings on their connections.\n"
	"  --max-prefixes: the prefixes the peering may receive before it is closed\n"
	"  with Cease/1 (RFC 4486) and retried after a back-off; default 100.\n"
	"\n";

/* Operators' changes to tenants and users go to syslog (LOG_AUTHPRIV), never a secret. */
static void
audit_syslog(const char *line)
{
	openlog("tabbyctl", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "%s", line);
	closelog();
}

static void
audit(const char *tenant, const char *user, const char *action, int rc)
{
	ne_audit_sink(audit_syslog);
	ne_audit(tenant, user, action, NULL, rc == STORE_OK ? "ok" : "failed");
}

static struct store *
store_or_fail(struct ctl *c)
{
	if (ne_init() != 0) {
		ctl_fail("libsodium cannot start.");
		return NULL;
	}
	return ctl_store(c);
}

static int
client_create(struct ctl *c)
{
	char id[NE_UUID_LEN + 1], secret[128];
	struct store *s = store_or_fail(c);
	struct err err;
	int rc;

	if (s == NULL)
		return CTL_EXIT_FAIL;
	rc = ne_client_create_role(s, c->vars[0], (c->args.seen & OPTF(OPT_OPERATOR)) != 0, id,
				   secret, &err);
	audit(rc == STORE_OK ? id : NULL, NULL, "api-client.create", rc);
	if (rc != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (c->fmt != OUT_TABLE)
		return ctl_print_doc(c, json_pack("{s:s, s:s, s:s, s:s}", "name", c->vars[0],
						  "client_id", id, "client_secret", secret, "role",
						  (c->args.seen & OPTF(OPT_OPERATOR)) ? "operator"
										      : "tenant"));
	printf("Client ID: %s\nClient secret: %s\n", id, secret);
	return CTL_EXIT_OK;
}

static int
client_rotate(struct ctl *c)
{
	char secret[128];
	struct store *s = store_or_fail(c);
	struct err err;
	int rc;

	if (s == NULL)
		return CTL_EXIT_FAIL;
	rc = ne_client_rotate(s, c->vars[0], secret, &err);
	audit(c->vars[0], NULL, "api-client.rotate-secret", rc);
	if (rc == STORE_NOTFOUND)
		return ctl_fail("%s is not an API client.", c->vars[0]);
	if (rc != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (c->fmt != OUT_TABLE)
		return ctl_print_doc(c, json_pack("{s:s, s:s}", "client_id", c->vars[0],
						  "client_secret", secret));
	printf("Client ID: %s\nClient secret: %s\n", c->vars[0], secret);
	return CTL_EXIT_OK;
}

/* Prints a list as a table of the given fields, or as JSON/YAML. */
static int
show_list(struct ctl *c, json_t *list, const char *const *fields, const char *const *heads,
	  size_t n, const char *empty)
{
	struct table *t;
	json_t *o;
	size_t i;

	if (c->fmt != OUT_TABLE)
		return ctl_print_doc(c, list);
	if (json_array_size(list) == 0) {
		printf("%s\n", empty);
		json_decref(list);
		return CTL_EXIT_OK;
	}
	t = table_new(n, heads, false);
	json_array_foreach(list, i, o) {
		const char *row[8];
		char num[8][24];

		for (size_t k = 0; k < n; k++) {
			json_t *v = json_object_get(o, fields[k]);

			row[k] = json_string_value(v);
			/* Numbers are limits (maxPrefixes): 0 is none. */
			if (json_is_integer(v)) {
				snprintf(num[k], sizeof(num[k]), "%" JSON_INTEGER_FORMAT,
					 json_integer_value(v));
				row[k] = json_integer_value(v) == 0 ? "none" : num[k];
			}
		}
		table_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(list);
	return CTL_EXIT_OK;
}

static int
client_show(struct ctl *c)
{
	static const char *const f[] = {"client_id", "name", "role", "created"};
	static const char *const h[] = {"CLIENT ID", "NAME", "ROLE", "CREATED"};
	struct store *s = store_or_fail(c);
	struct err err;
	json_t *list;

	if (s == NULL)
		return CTL_EXIT_FAIL;
	if (ne_client_list(s, &list, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	return show_list(c, list, f, h, 4, "No API clients defined.");
}

static int
remove_kind(struct ctl *c, const char *kind, const char *what)
{
	struct store *s = store_or_fail(c);
	struct err err;
	int rc;

	if (s == NULL)
		return CTL_EXIT_FAIL;
	rc = strcmp(kind, "client") == 0 ? ne_client_remove(s, c->vars[0], &err)
					 : ne_remove(s, kind, c->vars[0], &err);
	if (strcmp(kind, "client") == 0)
		audit(c->vars[0], NULL, "api-client.remove", rc);
	if (rc == STORE_NOTFOUND)
		return ctl_fail("%s is not %s.", c->vars[0], what);
	if (rc != STORE_OK)
		return ctl_fail("%s", err.msg);
	printf("Removed %s\n", c->vars[0]);
	return CTL_EXIT_OK;
}

static int
client_remove(struct ctl *c)
{
	return remove_kind(c, "client", "an API client");
}

static int
device_create(struct ctl *c)
{
	char uuid[NE_UUID_LEN + 1];
	struct store *s;
	struct err err;

	if (c->args.val[OPT_NODE] == NULL || c->args.val[OPT_OWNER] == NULL)
		return ctl_usage_error(c, "Missing --node or --owner. Usage: tabbyctl device create "
					  "--node=<NODE> --owner=<CLIENT_ID> [--name=<NAME>]");
	if ((s = store_or_fail(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (ne_device_create(s, c->args.val[OPT_NODE], c->args.val[OPT_OWNER],
			     c->args.val[OPT_NAME], uuid, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	printf("%s\n", uuid);
	return CTL_EXIT_OK;
}

static int
device_show(struct ctl *c)
{
	static const char *const f[] = {"uuid", "name", "node", "owner"};
	static const char *const h[] = {"UUID", "NAME", "NODE", "OWNER"};
	struct store *s = store_or_fail(c);
	struct err err;
	json_t *list;

	if (s == NULL)
		return CTL_EXIT_FAIL;
	if (ne_list(s, "device", NULL, &list, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	return show_list(c, list, f, h, 4, "No devices defined.");
}

static int
device_remove(struct ctl *c)
{
	return remove_kind(c, "device", "a device");
}

/* --max-prefixes=N|none on a connection: 0 (none) or the limit; -1 after a usage error. */
static int
connection_limit(struct ctl *c, uint32_t *out)
{
	const char *v = c->args.val[OPT_MAX_PREFIXES];
	struct err err;

	if (v != NULL && bgpconf_max_prefixes_parse(v, out, &err) != 0) {
		ctl_usage_error(c, "Invalid --max-prefixes '%s'; %s.", v, err.msg);
		return -1;
	}
	return 0;
}

static int
connection_create(struct ctl *c)
{
	char uuid[NE_UUID_LEN + 1];
	uint32_t limit = NE_DEFAULT_MAX_PREFIXES;
	struct store *s;
	struct err err;

	if (c->args.val[OPT_DEVICE] == NULL || c->args.val[OPT_INTERFACE] == NULL)
		return ctl_usage_error(c, "Missing --device or --interface. Usage: tabbyctl "
					  "connection create --device=<UUID> --interface=<IF> "
					  "[--name=<NAME>] [--max-prefixes=<N>|none]");
	if (connection_limit(c, &limit) != 0)
		return CTL_EXIT_USAGE;
	if ((s = store_or_fail(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (ne_connection_create(s, c->args.val[OPT_DEVICE], c->args.val[OPT_INTERFACE],
				 c->args.val[OPT_NAME], uuid, &err) != STORE_OK ||
	    (c->args.val[OPT_MAX_PREFIXES] != NULL &&
	     ne_connection_set_limit(s, uuid, limit, &err) != STORE_OK))
		return ctl_fail("%s", err.msg);
	printf("%s\n", uuid);
	return CTL_EXIT_OK;
}

static int
connection_update(struct ctl *c)
{
	uint32_t limit = 0;
	struct store *s;
	struct err err;

	if (c->args.val[OPT_MAX_PREFIXES] == NULL)
		return ctl_usage_error(c, "Nothing to change. Usage: tabbyctl connection update "
					  "<UUID> --max-prefixes=<N>|none");
	if (connection_limit(c, &limit) != 0)
		return CTL_EXIT_USAGE;
	if ((s = store_or_fail(c)) == NULL)
		return CTL_EXIT_FAIL;
	if (ne_connection_set_limit(s, c->vars[0], limit, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	printf("Updated %s\n", c->vars[0]);
	return CTL_EXIT_OK;
}

static int
connection_show(struct ctl *c)
{
	static const char *const f[] = {"uuid",	 "name",  "virtualDeviceUuid",
					"interface", "owner", "maxPrefixes"};
	static const char *const h[] = {"UUID", "NAME", "DEVICE", "INTERFACE", "OWNER", "MAX PREFIXES"};
	struct store *s = store_or_fail(c);
	struct err err;
	json_t *list, *o;
	size_t i;

	if (s == NULL)
		return CTL_EXIT_FAIL;
	if (ne_list(s, "connection", NULL, &list, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	/* The table shows the limit that applies; JSON shows what is stored. */
	json_array_foreach(list, i, o) {
		if (c->fmt == OUT_TABLE && json_object_get(o, "maxPrefixes") == NULL)
			json_object_set_new(o, "maxPrefixes", json_integer(NE_DEFAULT_MAX_PREFIXES));
	}
	return show_list(c, list, f, h, 6, "No connections defined.");
}

static int
connection_remove(struct ctl *c)
{
	return remove_kind(c, "connection", "a connection");
}

const struct ctl_cmd ctl_ne_client_cmds[] = {
	{"api-client create", "<NAME> [--operator]", OPTF(OPT_OUTPUT) | OPTF(OPT_OPERATOR),
	 client_create},
	{"api-client show", "", OPTF(OPT_OUTPUT), client_show},
	{"api-client remove", "<CLIENT_ID>", 0, client_remove},
	{"api-client rotate-secret", "<CLIENT_ID>", OPTF(OPT_OUTPUT), client_rotate},
	{NULL, NULL, 0, NULL},
};

/*
 * The password for create and passwd: the first line of standard input, or NULL
 * (then one is generated) when standard input is a terminal or empty.
 */
static const char *
stdin_password(char *line, size_t len)
{
	if (isatty(STDIN_FILENO) || fgets(line, (int)len, stdin) == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	return *line ? line : NULL;
}

static int
user_set(struct ctl *c, bool create)
{
	char line[NE_PASSWORD_MAX + 3], gen[NE_PASSWORD_MAX + 1];
	const char *client = c->args.val[OPT_CLIENT], *pw;
	struct store *s;
	struct err err;
	int rc;

	if (client == NULL)
		return ctl_usage_error(c, "Missing --client. Usage: tabbyctl %s %s", c->cmd->words,
				       c->cmd->pattern);
	if ((s = store_or_fail(c)) == NULL)
		return CTL_EXIT_FAIL;
	pw = stdin_password(line, sizeof(line));
	rc = create ? ne_user_create(s, client, c->vars[0], pw, gen, &err)
		    : ne_user_passwd(s, client, c->vars[0], pw, gen, &err);
	sodium_memzero(line, sizeof(line));
	audit(client, c->vars[0], create ? "api-user.create" : "api-user.passwd", rc);
	if (rc == STORE_NOTFOUND)
		return ctl_fail("%s is not a user of API client %s.", c->vars[0], client);
	if (rc != STORE_OK)
		return ctl_fail("%s", err.msg);
	printf("%s user %s of API client %s\n", create ? "Created" : "Set the password of",
	       c->vars[0], client);
	if (pw == NULL)
		printf("Password: %s\n", gen);
	sodium_memzero(gen, sizeof(gen));
	return CTL_EXIT_OK;
}

static int
user_create(struct ctl *c)
{
	return user_set(c, true);
}

static int
user_passwd(struct ctl *c)
{
	return user_set(c, false);
}

static int
user_remove(struct ctl *c)
{
	const char *client = c->args.val[OPT_CLIENT];
	struct store *s;
	struct err err;
	int rc;

	if (client == NULL)
		return ctl_usage_error(c, "Missing --client. Usage: tabbyctl api-user remove %s",
				       c->cmd->pattern);
	if ((s = store_or_fail(c)) == NULL)
		return CTL_EXIT_FAIL;
	rc = ne_user_remove(s, client, c->vars[0], &err);
	audit(client, c->vars[0], "api-user.remove", rc);
	if (rc == STORE_NOTFOUND)
		return ctl_fail("%s is not a user of API client %s.", c->vars[0], client);
	if (rc != STORE_OK)
		return ctl_fail("%s", err.msg);
	printf("Removed user %s of API client %s\n", c->vars[0], client);
	return CTL_EXIT_OK;
}

static int
user_show(struct ctl *c)
{
	static const char *const f[] = {"name", "client_id", "created"};
	static const char *const h[] = {"NAME", "CLIENT ID", "CREATED"};
	struct store *s = store_or_fail(c);
	struct err err;
	json_t *list;

	if (s == NULL)
		return CTL_EXIT_FAIL;
	if (ne_user_list(s, c->args.val[OPT_CLIENT], &list, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	return show_list(c, list, f, h, 3, "No API users defined.");
}

const struct ctl_cmd ctl_ne_user_cmds[] = {
	{"api-user create", "--client=<CLIENT_ID> <NAME>", OPTF(OPT_CLIENT), user_create},
	{"api-user passwd", "--client=<CLIENT_ID> <NAME>", OPTF(OPT_CLIENT), user_passwd},
	{"api-user remove", "--client=<CLIENT_ID> <NAME>", OPTF(OPT_CLIENT), user_remove},
	{"api-user show", "[--client=<CLIENT_ID>]", OPTF(OPT_CLIENT) | OPTF(OPT_OUTPUT), user_show},
	{NULL, NULL, 0, NULL},
};

const struct ctl_cmd ctl_ne_device_cmds[] = {
	{"device create", "--node=<NODE> --owner=<CLIENT_ID> [--name=<NAME>]",
	 OPTF(OPT_NODE) | OPTF(OPT_OWNER) | OPTF(OPT_NAME), device_create},
	{"device show", "", OPTF(OPT_OUTPUT), device_show},
	{"device remove", "<UUID>", 0, device_remove},
	{NULL, NULL, 0, NULL},
};

const struct ctl_cmd ctl_ne_connection_cmds[] = {
	{"connection create", "--device=<UUID> --interface=<IF> [--name=<NAME>] [--max-prefixes=<N>|none]",
	 OPTF(OPT_DEVICE) | OPTF(OPT_INTERFACE) | OPTF(OPT_NAME) | OPTF(OPT_MAX_PREFIXES),
	 connection_create},
	{"connection update", "<UUID> --max-prefixes=<N>|none", OPTF(OPT_MAX_PREFIXES),
	 connection_update},
	{"connection show", "", OPTF(OPT_OUTPUT), connection_show},
	{"connection remove", "<UUID>", 0, connection_remove},
	{NULL, NULL, 0, NULL},
};
