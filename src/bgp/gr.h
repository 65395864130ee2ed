/*
 * gr: graceful restart (RFC 4724) with its Notification support (RFC 8538),
 * the pure part: the capability tabby announces, what the peer's capability
 * says about a family, whether a session that went down counts as the peer
 * restarting (so its routes are kept, stale), and the Hard Reset that ends
 * a session for good. No sockets, no clock; session.c and routes.c act on it.
 */
#ifndef TABBY_BGP_GR_H
#define TABBY_BGP_GR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/msg.h"

#define BGP_GR_RESTART_TIME_DEFAULT 120 /* seconds, as Calico's BIRD uses */
#define BGP_GR_RESTART_TIME_MAX 4095	/* RFC 4724 §3: twelve bits */
#define BGP_GR_AF_FORWARDING 0x80	/* RFC 4724 §3: the Forwarding State bit */

/*
 * Our capability for one family (IPv4 or IPv6 unicast): the restart time, the
 * Restart State bit while we restart, the Notification bit (RFC 8538 §2), and
 * the Forwarding State bit: tabby's kernel routes outlive the process.
 */
void bgp_gr_ours(struct bgp_open *o, uint16_t afi, uint16_t restart_time, bool restarting);

/*
 * Long-lived graceful restart (RFC 9494): our capability for afi, with the
 * long-lived stale time we ask of peers (0: we ask nothing, we help those that do).
 */
void bgp_llgr_ours(struct bgp_open *o, uint16_t afi, uint32_t stale_time);
/* The long-lived stale time the peer asks for afi/unicast; 0 if none. */
uint32_t bgp_llgr_stale_time(const struct bgp_open *peer, uint16_t afi);

/* True if the peer's capability covers afi/unicast; *forwarding: its F bit for it. */
bool bgp_gr_peer_af(const struct bgp_open *peer, uint16_t afi, bool *forwarding);

/* Both sides announced the Notification bit (RFC 8538 §2). */
bool bgp_gr_notification(const struct bgp_open *ours, const struct bgp_open *peer);

enum bgp_gr_down {
	BGP_GR_DOWN_TCP, /* the connection ended without a NOTIFICATION */
	BGP_GR_DOWN_NOTIF_SENT,
	BGP_GR_DOWN_NOTIF_RECEIVED,
};

/*
 * A session of family afi went down: true if the peer's routes are kept as stale
 * (we are its helper). RFC 4724 §4.2: only when both announced the capability
 * for the family and the TCP session simply ended; RFC 8538 §4: with the N bit
 * on both sides, also after a NOTIFICATION, except a Hard Reset (Cease/9) and a
 * Cease of our own (we end the session on purpose: deconfigured, too many prefixes).
 */
bool bgp_gr_keeps_routes(const struct bgp_open *ours, const struct bgp_open *peer, uint16_t afi,
			 enum bgp_gr_down how, const struct bgp_notif *n);

/*
 * RFC 8538 §5: the Ceases that must go out as a Hard Reset once the N bit is
 * negotiated (maximum prefixes, administrative shutdown, peer de-configured,
 * hard reset itself). An Administrative Reset (Cease/4) may count as a restart:
 * tabbyd sends it when it stops to restart.
 */
bool bgp_gr_needs_hard_reset(const struct bgp_notif *n);
/* RFC 8538 §3: n becomes a Cease/9 Hard Reset carrying n's code, subcode and data. */
void bgp_gr_hard_reset(struct bgp_notif *n);
/* The NOTIFICATION a Hard Reset carries (RFC 8538 §3.1); -1 if n is none or carries none. */
int bgp_gr_hard_reset_inner(const struct bgp_notif *n, struct bgp_notif *inner);
/* n's name (bgp_notif_name); a Hard Reset's with the carried one's: "Hard reset (Peer
 * de-configured)". buf (BGP_GR_NAME_MAX bytes) holds the latter. */
#define BGP_GR_NAME_MAX 160
const char *bgp_gr_notif_name(const struct bgp_notif *n, char *buf, size_t len);

#endif
