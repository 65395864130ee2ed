/* Helpers every tabbyctl command uses: errors, the datastore, the node name, addresses, AS numbers. */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/asn.h"
#include "lib/log.h"

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

	if (strcmp(w, "status") == 0 || strcmp(w, "get") == 0 || strcmp(w, "version") == 0 ||
	    strcmp(w, "datastore backup") == 0 ||
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

/* Asks the agent at path one command; the parsed reply, or NULL after printing why not. */
static json_t *
ask_socket(const char *path, const char *cmd)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	char *buf = NULL, line[256];
	size_t len = 0, cap = 0;
	ssize_t n;
	json_error_t jerr;
	json_t *doc;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		ctl_fail("The agent's control socket path is too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		ctl_fail("Cannot reach the agent at %s: %s (tabbyctl reaches an agent only on its "
			 "machine).", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	snprintf(line, sizeof(line), "%s\n", cmd);
	/* One send, without SIGPIPE: the agent answers and closes after one line. */
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		close(fd);
		ctl_fail("Cannot talk to the agent at %s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0);
	close(fd);
	buf[len] = '\0';
	doc = json_loads(buf, 0, &jerr);
	free(buf);
	if (doc == NULL || json_object_get(doc, "error") != NULL) {
		ctl_fail("The agent answered %s", doc ? json_string_value(json_object_get(doc, "error"))
						      : "nothing readable");
		json_decref(doc);
		return NULL;
	}
	return doc;
}

json_t *
ctl_ask_agent(struct ctl *c, const char *cmd)
{
	const char *path;
	json_t *rec, *doc;
	int rc;

	if ((rc = ctl_agent(c, &rec)) == STORE_ERR)
		return NULL;
	if (rc == STORE_NOTFOUND) {
		ctl_fail("tabby process is not running on node %s.", c->node);
		return NULL;
	}
	path = json_string_value(json_object_get(rec, "control"));
	doc = path ? ask_socket(path, cmd) : NULL;
	if (path == NULL)
		ctl_fail("The agent of node %s publishes no control socket.", c->node);
	json_decref(rec);
	return doc;
}
