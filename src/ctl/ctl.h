/*
 * ctl: what tabbyctl's commands share: parsed arguments, the command
 * table entry, lazy datastore access and the error conventions
 * (usage errors exit 2, other failures 1, one line on stderr).
 */
#ifndef TABBY_CTL_H
#define TABBY_CTL_H

#include <jansson.h>
#include <stdbool.h>

#include "ctl/output.h"
#include "lib/addr.h"
#include "model/keys.h"
#include "store/store.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

#define CTL_MAX_POS 16
#define CTL_MAX_VARS 8

/* Options; each command lists the ones it takes beyond --datastore and --help. */
enum ctl_opt {
	OPT_DATASTORE,
	OPT_HELP,
	OPT_VERSION,
	OPT_NODE,
	OPT_OUTPUT,
	OPT_IPV4,
	OPT_IPV6,
	OPT_IP,
	OPT_IP6,
	OPT_AS,
	OPT_PASSWORD,
	OPT_IMPORT,
	OPT_EXPORT,
	OPT_MAX_PREFIXES,
	OPT_RESTART_TIME,
	OPT_OWNER,
	OPT_NAME,
	OPT_DEVICE,
	OPT_INTERFACE,
	OPT_FILENAME,
	OPT_OVERWRITE,
	OPT_REMOVE,
	OPT_CLIENT,
	OPT_FROM,
	OPT_TO,
	OPT_FORCE,
	OPT_ETCD_CA,
	OPT_ETCD_CERT,
	OPT_ETCD_KEY,
	OPT_COUNT
};
#define OPTF(o) (1u << (o))

struct ctl_args {
	const char *pos[CTL_MAX_POS];
	int npos;
	unsigned seen;                 /* OPTF() bits */
	const char *val[OPT_COUNT];
};

struct ctl;

struct ctl_cmd {
	const char *words;     /* "bgp peer add" */
	const char *pattern;   /* "<PEER_IP> as <AS_NUM>" */
	unsigned opts;         /* OPTF() bits accepted */
	int (*run)(struct ctl *c);
};

struct ctl {
	struct ctl_args args;
	const struct ctl_cmd *cmd;
	const char *vars[CTL_MAX_VARS];  /* values matched by the pattern, in order */
	struct store *store;
	enum out_fmt fmt;
	char node[NODE_NAME_MAX + 1];
};

int ctl_args_parse(int argc, char **argv, struct ctl_args *a);
/* An option's long name ("max-prefixes") and whether it takes a value. */
const char *ctl_opt_name(enum ctl_opt o, bool *has_value);
/* Matches positional words against a pattern; prints the usage error itself. */
int ctl_match(struct ctl *c, int first);

int ctl_usage_error(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the datastore on first use; NULL after printing why not. */
struct store *ctl_store(struct ctl *c);
/* The node: --node, else $TABBY_NODE, else the host name; NULL after printing why not. */
const char *ctl_node(struct ctl *c);
int ctl_parse_ip(struct ctl *c, const char *s, int family, struct addr *out);
int ctl_parse_as(struct ctl *c, const char *s, uint32_t *out);
/* The live agent record of ctl_node()'s node: STORE_OK, STORE_NOTFOUND, or STORE_ERR
 * (already printed). */
int ctl_agent(struct ctl *c, json_t **rec);
/* Asks ctl_node()'s agent one command on its control socket (so on the node's own
 * machine): the parsed answer, or NULL after printing why not. */
json_t *ctl_ask_agent(struct ctl *c, const char *cmd);
/* --ipv4 / --ipv6 as an address family, 0 for both. */
int ctl_family(struct ctl *c, int *family);

/* Peer commands, global (node_specific false) or for ctl_node()'s node. */
int ctl_peer_add(struct ctl *c, bool node_specific);
int ctl_peer_remove(struct ctl *c, bool node_specific);
int ctl_peer_show(struct ctl *c, bool node_specific);
/* Prints a JSON or YAML document in c->fmt and frees it. */
int ctl_print_doc(struct ctl *c, json_t *doc);

extern const struct ctl_cmd ctl_bgp_cmds[];
extern const struct ctl_cmd ctl_node_cmds[];
extern const struct ctl_cmd ctl_status_cmds[];
extern const struct ctl_cmd ctl_route_cmds[];
extern const char ctl_route_help[];
extern const struct ctl_cmd ctl_ne_client_cmds[], ctl_ne_device_cmds[], ctl_ne_connection_cmds[];
extern const char ctl_ne_client_help[], ctl_ne_device_help[], ctl_ne_connection_help[];
extern const struct ctl_cmd ctl_ne_user_cmds[];
extern const char ctl_ne_user_help[];
extern const char ctl_bgp_help[];
extern const char ctl_status_help[];
extern const char ctl_node_help[];
extern const struct ctl_cmd ctl_datastore_cmds[];
extern const char ctl_datastore_help[];
extern const struct ctl_cmd ctl_resource_cmds[];
extern const char ctl_resource_help[];
/* tabbyctl status, also reached as its v3 name, tabbyctl node status. */
int ctl_status(struct ctl *c);

#endif
