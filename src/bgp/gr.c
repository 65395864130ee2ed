#include "bgp/gr.h"

#include <stdio.h>
#include <string.h>

void
bgp_gr_ours(struct bgp_open *o, uint16_t afi, uint16_t restart_time, bool restarting)
{
	if (restart_time > BGP_GR_RESTART_TIME_MAX)
		restart_time = BGP_GR_RESTART_TIME_MAX;
	o->has_gr = true;
	o->gr_restarted = restarting;
	o->gr_notification = true;
	o->gr_restart_time = restart_time;
	o->gr_naf = 1;
	o->gr_af[0] =
	    (struct bgp_gr_af){.afi = afi, .safi = BGP_SAFI_UNICAST, .flags = BGP_GR_AF_FORWARDING};
}

void
bgp_llgr_ours(struct bgp_open *o, uint16_t afi, uint32_t stale_time)
{
	o->has_llgr = true;
	o->llgr_naf = 1;
	o->llgr_af[0] = (struct bgp_gr_af){.afi = afi,
					   .safi = BGP_SAFI_UNICAST,
					   .flags = BGP_GR_AF_FORWARDING,
					   .stale_time = stale_time & 0xffffff};
}

uint32_t
bgp_llgr_stale_time(const struct bgp_open *peer, uint16_t afi)
{
	if (!peer->has_llgr)
		return 0;
	for (uint8_t i = 0; i < peer->llgr_naf && i < BGP_GR_MAX_AF; i++)
		if (peer->llgr_af[i].afi == afi && peer->llgr_af[i].safi == BGP_SAFI_UNICAST)
			return peer->llgr_af[i].stale_time;
	return 0;
}

bool
bgp_gr_peer_af(const struct bgp_open *peer, uint16_t afi, bool *forwarding)
{
	*forwarding = false;
	if (!peer->has_gr)
		return false;
	for (uint8_t i = 0; i < peer->gr_naf && i < BGP_GR_MAX_AF; i++) {
		if (peer->gr_af[i].afi == afi && peer->gr_af[i].safi == BGP_SAFI_UNICAST) {
			*forwarding = (peer->gr_af[i].flags & BGP_GR_AF_FORWARDING) != 0;
			return true;
		}
	}
	return false;
}

bool
bgp_gr_notification(const struct bgp_open *ours, const struct bgp_open *peer)
{
	return ours->has_gr && ours->gr_notification && peer->has_gr && peer->gr_notification;
}

bool
bgp_gr_keeps_routes(const struct bgp_open *ours, const struct bgp_open *peer, uint16_t afi,
		    enum bgp_gr_down how, const struct bgp_notif *n)
{
	bool fwd, mine;

	/* RFC 4724 §4.2: the helper keeps routes of families both sides announced. */
	if (!ours->has_gr || !bgp_gr_peer_af(peer, afi, &fwd) || !bgp_gr_peer_af(ours, afi, &mine))
		return false;
	switch (how) {
	case BGP_GR_DOWN_TCP:
		return true;
	case BGP_GR_DOWN_NOTIF_SENT:
		/* RFC 8538 §4: a NOTIFICATION (a hold timer expiry, an UPDATE error) keeps
		 * the routes; a Cease is our own decision to end the session. */
		return bgp_gr_notification(ours, peer) && n != NULL && n->code != BGP_ERR_CEASE;
	case BGP_GR_DOWN_NOTIF_RECEIVED:
		/* RFC 8538 §4: every NOTIFICATION but the Hard Reset. */
		return bgp_gr_notification(ours, peer) && n != NULL &&
		       !(n->code == BGP_ERR_CEASE && n->subcode == BGP_CEASE_HARD_RESET);
	}
	return false;
}

bool
bgp_gr_needs_hard_reset(const struct bgp_notif *n)
{
	if (n->code != BGP_ERR_CEASE)
		return false;
	switch (n->subcode) {
	case BGP_CEASE_MAX_PREFIXES:
	case BGP_CEASE_ADMIN_SHUTDOWN:
	case BGP_CEASE_PEER_DECONFIGURED:
		return true;
	default:
		return false;
	}
}

void
bgp_gr_hard_reset(struct bgp_notif *n)
{
	uint8_t inner[BGP_NOTIF_DATA_MAX];
	size_t len = n->data_len;

	/* RFC 8538 §3.1: the data is the original code, subcode and data. */
	if (len > sizeof(inner) - 2)
		len = sizeof(inner) - 2;
	inner[0] = n->code;
	inner[1] = n->subcode;
	memcpy(inner + 2, n->data, len);
	bgp_notif_set(n, BGP_ERR_CEASE, BGP_CEASE_HARD_RESET, inner, len + 2);
}

const char *
bgp_gr_notif_name(const struct bgp_notif *n, char *buf, size_t len)
{
	const char *name = bgp_notif_name(n->code, n->subcode);

	if (n->code != BGP_ERR_CEASE || n->subcode != BGP_CEASE_HARD_RESET || n->data_len < 2)
		return name;
	snprintf(buf, len, "%s (%s)", name, bgp_notif_name(n->data[0], n->data[1]));
	return buf;
}

int
bgp_gr_hard_reset_inner(const struct bgp_notif *n, struct bgp_notif *inner)
{
	if (n->code != BGP_ERR_CEASE || n->subcode != BGP_CEASE_HARD_RESET || n->data_len < 2)
		return -1;
	bgp_notif_set(inner, n->data[0], n->data[1], n->data + 2, (size_t)n->data_len - 2);
	return 0;
}
