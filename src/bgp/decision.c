/* The RFC 4271 §9.1 decision process and the advertisement rules. */
#include "bgp/decision.h"

#include <string.h>

static uint32_t
local_pref(const struct bgp_attrs *a, const struct rib_source *s)
{
	/* LOCAL_PREF only means something inside the AS; others get the default. */
	if (!s->ebgp && !s->local && (a->has & BGP_HAS(BGP_ATTR_LOCAL_PREF)))
		return a->local_pref;
	return RIB_DEFAULT_LOCAL_PREF;
}

static uint32_t
first_as(const struct bgp_attrs *a)
{
	const uint8_t *p = bgp_attrs_as_path(a);

	if (a->as_path_len < 6 || p[0] != BGP_AS_SEQUENCE)
		return 0;
	return (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];
}

static uint32_t
router_id(const struct bgp_attrs *a, const struct rib_source *s)
{
	/* RFC 4456 §9: a reflected route is judged by its ORIGINATOR_ID. */
	return (a->has & BGP_HAS(BGP_ATTR_ORIGINATOR_ID)) ? a->originator_id : s->router_id;
}

/* Each step: negative when a wins; its name for rib_path_cmp_reason. */
static int
step(int i, const struct bgp_attrs *a, const struct rib_source *sa, const struct bgp_attrs *b,
     const struct rib_source *sb)
{
	uint32_t x, y;

	switch (i) {
	case 0: /* our own routes first */
		return (int)sb->local - (int)sa->local;
	case 1: /* RFC 9494 §4.3: a long-lived stale route is the least preferred */
		return (int)bgp_attrs_has_community(a, BGP_COMM_LLGR_STALE) -
		       (int)bgp_attrs_has_community(b, BGP_COMM_LLGR_STALE);
	case 2: /* §9.1.2.2 a: highest LOCAL_PREF (§9.1.1) */
		x = local_pref(a, sa);
		y = local_pref(b, sb);
		return x > y ? -1 : x < y;
	case 3: /* shortest AS_PATH */
		x = bgp_as_path_length(bgp_attrs_as_path(a), a->as_path_len);
		y = bgp_as_path_length(bgp_attrs_as_path(b), b->as_path_len);
		return x < y ? -1 : x > y;
	case 4: /* lowest ORIGIN */
		return (int)a->origin - (int)b->origin;
	case 5: /* lowest MED, only between routes from the same neighbouring AS */
		if (first_as(a) != first_as(b))
			return 0;
		x = (a->has & BGP_HAS(BGP_ATTR_MED)) ? a->med : 0;
		y = (b->has & BGP_HAS(BGP_ATTR_MED)) ? b->med : 0;
		return x < y ? -1 : x > y;
	case 6: /* eBGP over iBGP */
		return (int)sb->ebgp - (int)sa->ebgp;
	case 7: /* lowest BGP identifier (ORIGINATOR_ID where present) */
		x = router_id(a, sa);
		y = router_id(b, sb);
		return x < y ? -1 : x > y;
	case 8: /* RFC 4456 §9: shortest CLUSTER_LIST */
		return (int)a->cluster_list_n - (int)b->cluster_list_n;
	case 9: /* lowest peer address */
		return addr_cmp(&sa->addr, &sb->addr);
	}
	return 0;
}

static const char *const step_names[] = {"local",     "llgr_stale",   "local_pref",
					 "as_path",   "origin",       "med",
					 "ebgp",      "router_id",    "cluster_list",
					 "peer_address"};
#define NSTEPS (int)(sizeof(step_names) / sizeof(step_names[0]))

int
rib_path_cmp(const struct bgp_attrs *a, const struct rib_source *sa, const struct bgp_attrs *b,
	     const struct rib_source *sb)
{
	for (int i = 0; i < NSTEPS; i++) {
		int c = step(i, a, sa, b, sb);

		if (c != 0)
			return c;
	}
	return 0;
}

const char *
rib_path_cmp_reason(const struct bgp_attrs *a, const struct rib_source *sa,
		    const struct bgp_attrs *b, const struct rib_source *sb)
{
	for (int i = 0; i < NSTEPS; i++)
		if (step(i, a, sa, b, sb) != 0)
			return step_names[i];
	return "equal";
}

bool
rib_export(const struct bgp_attrs *best, const struct rib_source *src, const struct rib_target *t,
	   struct bgp_attrs *out)
{
	/* Never back to where it came from. */
	if (!src->local && addr_cmp(&src->addr, &t->remote) == 0)
		return false;
	bool reflect = false;

	/* RFC 4271 §9.2: routes from internal peers are not sent to internal peers; RFC 4456
	 * §6: unless we reflect, to our clients, or from a client to everyone. */
	if (!src->local && !src->ebgp && !t->ebgp) {
		if (!t->reflector || (!src->rr_client && !t->rr_client))
			return false;
		reflect = true;
	}
	/* RFC 1997: NO_ADVERTISE to nobody, NO_EXPORT to no external peer. */
	if (bgp_attrs_has_community(best, BGP_COMM_NO_ADVERTISE))
		return false;
	if (t->ebgp && (bgp_attrs_has_community(best, BGP_COMM_NO_EXPORT) ||
			bgp_attrs_has_community(best, BGP_COMM_NO_EXPORT_SUBCONFED)))
		return false;
	/* RFC 9494 §4.5: a long-lived stale route only to peers that know what it is. */
	if (!t->llgr && bgp_attrs_has_community(best, BGP_COMM_LLGR_STALE))
		return false;
	bgp_attrs_copy(out, best);
	if (reflect) {
		/* RFC 4456 §8: the originator is the peer that brought the route into the AS. */
		if (!(out->has & BGP_HAS(BGP_ATTR_ORIGINATOR_ID))) {
			out->originator_id = src->router_id;
			out->has |= BGP_HAS(BGP_ATTR_ORIGINATOR_ID);
		}
		bgp_attrs_prepend_cluster(out, t->cluster_id);
	}
	if (t->ebgp) {
		/* §5.1.2: our AS goes first; §5.1.3: we are the next hop. */
		bgp_attrs_prepend(out, t->local_as);
		/* §5.1.4: a MED learned from another AS stays with us. */
		if (!src->local)
			out->has &= ~BGP_HAS(BGP_ATTR_MED);
		out->has &= ~(BGP_HAS(BGP_ATTR_LOCAL_PREF) | BGP_HAS(BGP_ATTR_ORIGINATOR_ID));
		out->cluster_list_n = 0;
	}
	/* keepOriginalNextHop: a learned route keeps its next hop toward an eBGP peer too. */
	if ((t->ebgp && !(t->keep_next_hop && !src->local)) || src->local) {
		out->next_hop = t->local;
		memset(&out->next_hop_ll, 0, sizeof(out->next_hop_ll));
		out->has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
	}
	return true;
}
