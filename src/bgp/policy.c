/* BGPFilter rules and advertised communities, evaluated as data. */
#include "bgp/policy.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"

struct policy *
policy_new(void)
{
	struct policy *p = xcalloc(1, sizeof(*p));

	p->refs = 1;
	return p;
}

struct policy *
policy_ref(struct policy *p)
{
	if (p != NULL)
		p->refs++;
	return p;
}

void
policy_unref(struct policy *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	for (int d = 0; d < 2; d++)
		for (int f = 0; f < 2; f++)
			free(p->rules[d][f]);
	for (size_t i = 0; i < p->nadverts; i++) {
		free(p->adverts[i].std);
		free(p->adverts[i].large);
	}
	free(p->adverts);
	free(p);
}

static int
fam_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

void
policy_add_rule(struct policy *p, enum policy_dir dir, int family, const struct policy_rule *r)
{
	int f = fam_index(r->op != POLICY_OP_NONE ? r->cidr.addr.family : family);
	size_t n = p->nrules[dir][f];

	p->rules[dir][f] = xrealloc(p->rules[dir][f], (n + 1) * sizeof(*r));
	p->rules[dir][f][n] = *r;
	p->nrules[dir][f] = n + 1;
}

void
policy_reject_all(struct policy *p, enum policy_dir dir)
{
	struct policy_rule r;

	memset(&r, 0, sizeof(r));
	r.action = POLICY_REJECT;
	policy_add_rule(p, dir, AF_INET, &r);
	policy_add_rule(p, dir, AF_INET6, &r);
}

void
policy_add_advert(struct policy *p, struct policy_advert *a)
{
	p->adverts = xrealloc(p->adverts, (p->nadverts + 1) * sizeof(*a));
	p->adverts[p->nadverts++] = *a;
}

static bool
adverts_equal(const struct policy_advert *a, const struct policy_advert *b)
{
	return prefix_cmp(&a->cidr, &b->cidr) == 0 && a->nstd == b->nstd &&
	       a->nlarge == b->nlarge &&
	       (a->nstd == 0 || memcmp(a->std, b->std, a->nstd * sizeof(*a->std)) == 0) &&
	       (a->nlarge == 0 || memcmp(a->large, b->large, a->nlarge * sizeof(*a->large)) == 0);
}

static bool
rules_equal(const struct policy_rule *a, const struct policy_rule *b)
{
	return a->action == b->action && a->op == b->op &&
	       (a->op == POLICY_OP_NONE || prefix_cmp(&a->cidr, &b->cidr) == 0) &&
	       a->has_min == b->has_min && a->has_max == b->has_max &&
	       (!a->has_min || a->min == b->min) && (!a->has_max || a->max == b->max) &&
	       a->remote_peers == b->remote_peers && strcmp(a->iface, b->iface) == 0;
}

bool
policy_equal(const struct policy *a, const struct policy *b)
{
	static const struct policy empty;

	if (a == b)
		return true;
	a = a ? a : &empty;
	b = b ? b : &empty;
	for (int d = 0; d < 2; d++)
		for (int f = 0; f < 2; f++) {
			if (a->nrules[d][f] != b->nrules[d][f])
				return false;
			for (size_t i = 0; i < a->nrules[d][f]; i++)
				if (!rules_equal(&a->rules[d][f][i], &b->rules[d][f][i]))
					return false;
		}
	if (a->nadverts != b->nadverts)
		return false;
	for (size_t i = 0; i < a->nadverts; i++)
		if (!adverts_equal(&a->adverts[i], &b->adverts[i]))
			return false;
	return true;
}

bool
policy_prefix_within(const struct prefix *p, const struct prefix *in)
{
	unsigned full = in->len / 8, rest = in->len % 8;

	if (p->addr.family != in->addr.family || p->len < in->len)
		return false;
	if (memcmp(p->addr.b, in->addr.b, full) != 0)
		return false;
	return rest == 0 ||
	       ((p->addr.b[full] ^ in->addr.b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool
policy_glob(const char *pat, const char *name)
{
	/* Iterative, with one back-track point: linear enough for 15 characters. */
	const char *star = NULL, *resume = NULL;

	while (*name != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = name;
		} else if (*pat == *name) {
			pat++;
			name++;
		} else if (star != NULL) {
			pat = star + 1;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/*
 * Calico's operators: Equal is the very prefix, In a prefix inside cidr (cidr itself
 * included) with its length within prefixLength (min defaults to cidr's length, max
 * to the family's); NotEqual and NotIn their negations.
 */
static bool
cidr_match(const struct policy_rule *r, const struct prefix *pfx)
{
	unsigned bits = pfx->addr.family == AF_INET ? 32 : 128;
	unsigned lo = r->has_min ? r->min : r->cidr.len, hi = r->has_max ? r->max : bits;
	bool in;

	switch (r->op) {
	case POLICY_EQUAL:
		return prefix_cmp(pfx, &r->cidr) == 0;
	case POLICY_NOT_EQUAL:
		return prefix_cmp(pfx, &r->cidr) != 0;
	case POLICY_IN:
	case POLICY_NOT_IN:
		in = policy_prefix_within(pfx, &r->cidr) && pfx->len >= lo && pfx->len <= hi;
		return r->op == POLICY_IN ? in : !in;
	case POLICY_OP_NONE:
		break;
	}
	/* prefixLength alone bounds the length. */
	return (!r->has_min || pfx->len >= r->min) && (!r->has_max || pfx->len <= r->max);
}

bool
policy_rule_match(const struct policy_rule *r, const struct prefix *pfx,
		  const struct policy_route *rt)
{
	if (!cidr_match(r, pfx))
		return false;
	if (r->remote_peers && !rt->from_peer)
		return false;
	/* A route without an interface (every BGP route) matches no interface rule. */
	if (r->iface[0] != '\0' && (rt->iface == NULL || !policy_glob(r->iface, rt->iface)))
		return false;
	return true;
}

enum policy_action
policy_eval(const struct policy *p, enum policy_dir dir, const struct prefix *pfx,
	    const struct policy_route *rt)
{
	int f = fam_index(pfx->addr.family);

	if (p == NULL)
		return POLICY_ACCEPT;
	for (size_t i = 0; i < p->nrules[dir][f]; i++)
		if (policy_rule_match(&p->rules[dir][f][i], pfx, rt))
			return p->rules[dir][f][i].action;
	return POLICY_ACCEPT;
}

bool
policy_rejects_all(const struct policy *p, enum policy_dir dir, int family)
{
	const struct policy_rule *r;
	int f = fam_index(family);

	if (p == NULL || p->nrules[dir][f] == 0)
		return false;
	r = &p->rules[dir][f][0];
	return r->action == POLICY_REJECT && r->op == POLICY_OP_NONE && !r->has_min &&
	       !r->has_max && !r->remote_peers && r->iface[0] == '\0';
}

void
policy_communities(const struct policy *p, const struct prefix *pfx, struct bgp_attrs *out)
{
	for (size_t i = 0; p != NULL && i < p->nadverts; i++) {
		const struct policy_advert *a = &p->adverts[i];

		if (!policy_prefix_within(pfx, &a->cidr))
			continue;
		for (size_t j = 0; j < a->nstd; j++)
			bgp_attrs_add_community(out, a->std[j]);
		for (size_t j = 0; j < a->nlarge; j++)
			bgp_attrs_add_large_community(out, a->large[j]);
	}
}
