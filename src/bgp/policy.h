/*
 * policy: what a peer takes in and is sent, as data. One compiled policy per
 * peer holds its BGPFilter rules (import and export, per address family, in
 * order: the first rule that matches decides, none matching accepts), the
 * --import/--export=none switches (a single Reject rule), and the communities
 * this node adds to the prefixes it advertises (BGPConfiguration
 * prefixAdvertisements). Pure: the import path and the export path each
 * call it once per route.
 */
#ifndef TABBY_BGP_POLICY_H
#define TABBY_BGP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/attr.h"
#include "lib/addr.h"

enum policy_dir { POLICY_IMPORT, POLICY_EXPORT };
enum policy_action { POLICY_ACCEPT, POLICY_REJECT };
enum policy_op { POLICY_OP_NONE, POLICY_EQUAL, POLICY_NOT_EQUAL, POLICY_IN, POLICY_NOT_IN };

#define POLICY_IFNAME_MAX 16

/* One BGPFilter rule; a condition not set matches everything. */
struct policy_rule {
	enum policy_action action;
	enum policy_op op;              /* with cidr */
	struct prefix cidr;
	bool has_min, has_max;          /* prefixLength */
	uint8_t min, max;
	bool remote_peers;              /* source: RemotePeers (learned from a BGP peer) */
	char iface[POLICY_IFNAME_MAX];  /* interface pattern ('*' any run), or "" */
};

/* Communities added to advertised prefixes inside cidr. */
struct policy_advert {
	struct prefix cidr;
	uint32_t *std;
	size_t nstd;
	uint32_t (*large)[3];
	size_t nlarge;
};

struct policy {
	uint32_t refs;
	struct policy_rule *rules[2][2];  /* [dir][0 IPv4, 1 IPv6] */
	size_t nrules[2][2];
	struct policy_advert *adverts;
	size_t nadverts;
};

/* What a rule can be matched against, beyond the prefix. */
struct policy_route {
	bool from_peer;                 /* learned over BGP, not originated here */
	const char *iface;              /* the route's interface, or NULL */
};

struct policy *policy_new(void);
struct policy *policy_ref(struct policy *p);
void policy_unref(struct policy *p);
/* Appends a rule for dir and the family of r->cidr (family: when r has no cidr). */
void policy_add_rule(struct policy *p, enum policy_dir dir, int family,
		     const struct policy_rule *r);
/* --import=none / --export=none: one rule that rejects everything of both families. */
void policy_reject_all(struct policy *p, enum policy_dir dir);
/* The advert takes over the arrays (malloc'd). */
void policy_add_advert(struct policy *p, struct policy_advert *a);
/* Same rules and adverts (a NULL policy is an empty one). */
bool policy_equal(const struct policy *a, const struct policy *b);

bool policy_rule_match(const struct policy_rule *r, const struct prefix *pfx,
		       const struct policy_route *rt);
/* The first matching rule decides; none matching accepts (Calico's default). */
enum policy_action policy_eval(const struct policy *p, enum policy_dir dir,
			       const struct prefix *pfx, const struct policy_route *rt);
/*
 * Whether every route of this family is rejected in dir (the first rule is an
 * unconditional Reject, as --export=none makes): such a peer need not be told
 * of changes at all.
 */
bool policy_rejects_all(const struct policy *p, enum policy_dir dir, int family);
/* Adds the communities of every advert covering pfx to out (a route being sent). */
void policy_communities(const struct policy *p, const struct prefix *pfx,
			struct bgp_attrs *out);
/* "interface" patterns: '*' matches any run of characters. */
bool policy_glob(const char *pattern, const char *name);
/* Whether prefix p lies inside (or is) prefix in. */
bool policy_prefix_within(const struct prefix *p, const struct prefix *in);

#endif
