/* Helpers every tabbyctl command uses: errors, the datastore, the node name, addresses, AS numbers. */
#include "ctl/ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/asn.h"

int
ctl_usage_error(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	(void)c;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_USAGE;
}

int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_FAIL;
}

/* Commands that only read must not create a datastore (a mistyped path is an error). */
static bool
reads_only(const struct ctl *c)
{
	const char *w = c->cmd->words;
	size_t n = strlen(w);

	if (strcmp(w, "status") == 0 || strcmp(w, "datastore backup") == 0 ||
	    (n >= 5 && strcmp(w + n - 5, " show") == 0))
		return true;
	/* "bgp node-mesh" and "bgp default-node-as" without a value show the setting. */
	return (strcmp(w, "bgp node-mesh") == 0 || strcmp(w, "bgp default-node-as") == 0) &&
	       c->vars[0] == NULL && c->args.val[OPT_MAX_PREFIXES] == NULL;
}

struct store *
ctl_store(struct ctl *c)
{
	char buf[4096];
	struct err err;
	const char *url;

	if (c->store != NULL)
		return c->store;
	url = store_url_default(c->args.val[OPT_DATASTORE], buf, sizeof(buf));
	if ((reads_only(c) ? store_open_existing : store_open)(&c->store, url, &err) != STORE_OK) {
		ctl_fail("%s", err.msg);
		return NULL;
	}
	return c->store;
}

const char *
ctl_node(struct ctl *c)
{
	const char *name = c->args.val[OPT_NODE];
	struct err err;

	if (name == NULL || *name == '\0')
		name = getenv("TABBY_NODE");
	if (name == NULL || *name == '\0') {
		if (gethostname(c->node, sizeof(c->node)) != 0) {
			ctl_fail("Cannot tell which node: no --node, no $TABBY_NODE and no host name.");
			return NULL;
		}
		c->node[sizeof(c->node) - 1] = '\0';
		name = c->node;
	}
	if (node_name_check(name, &err) != 0) {
		ctl_usage_error(c, "Invalid node specified: %s.", err.msg);
		return NULL;
	}
	if (name != c->node)
		snprintf(c->node, sizeof(c->node), "%s", name);
	return c->node;
}

int
ctl_parse_ip(struct ctl *c, const char *s, int family, struct addr *out)
{
	const char *why;

	if (addr_parse(s, out) != 0) {
		if (family == AF_INET)
			return ctl_usage_error(c, "Invalid IPv4 address specified: '%s' (expected "
						  "dotted decimal, e.g. 192.0.2.1).", s);
		if (family == AF_INET6)
			return ctl_usage_error(c, "Invalid IPv6 address specified: '%s' (expected "
						  "e.g. 2001:db8::1).", s);
		return ctl_usage_error(c, "Invalid IP address specified: '%s' is not an IPv4 or "
					  "IPv6 address (e.g. 192.0.2.10 or 2001:db8::1).", s);
	}
	if (family != 0 && out->family != family)
		return ctl_usage_error(c, "Invalid %s address specified: '%s' is an %s address.",
				       family == AF_INET ? "IPv4" : "IPv6", s,
				       family == AF_INET ? "IPv6" : "IPv4");
	if ((why = addr_not_unicast(out)) != NULL)
		return ctl_usage_error(c, "Invalid IP address specified: '%s': %s.", s, why);
	return 0;
}

int
ctl_parse_as(struct ctl *c, const char *s, uint32_t *out)
{
	struct err err;

	if (asn_parse(s, out, &err) != 0)
		return ctl_usage_error(c, "Invalid AS Number specified: '%s': %s.", s, err.msg);
	return 0;
}

int
ctl_family(struct ctl *c, int *family)
{
	bool v4 = c->args.seen & OPTF(OPT_IPV4), v6 = c->args.seen & OPTF(OPT_IPV6);

	if (v4 && v6)
		return ctl_usage_error(c, "--ipv4 and --ipv6 cannot be used together; give one "
					  "of them, or neither for both.");
	*family = v4 ? AF_INET : v6 ? AF_INET6 : 0;
	return 0;
}

int
ctl_agent(struct ctl *c, json_t **rec)
{
	struct store_kv kv;
	struct store *s;
	struct err err;
	struct key k;
	int rc;

	*rec = NULL;
	if ((s = ctl_store(c)) == NULL)
		return STORE_ERR;
	key_agent(&k, c->node);
	rc = store_get(s, k.s, &kv, &err);
	if (rc == STORE_ERR) {
		ctl_fail("%s", err.msg);
		return rc;
	}
	if (rc == STORE_OK) {
		*rec = json_loads(kv.value, 0, NULL);
		store_kv_clear(&kv);
		if (*rec == NULL)
			*rec = json_object();
	}
	return rc;
}
