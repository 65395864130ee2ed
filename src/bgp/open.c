/* OPEN messages and capabilities (RFC 4271 §4.2, §6.2; RFC 5492, 6793, 9072). */
#include "bgp/msg.h"

#include <string.h>

#define OPT_PARAM_CAPABILITIES 2
#define OPT_PARAM_EXTENDED 255  /* RFC 9072 §2 */

uint32_t
bgp_open_peer_as(const struct bgp_open *o)
{
	return o->has_as4 ? o->as4 : o->my_as;
}

static int
open_err(struct bgp_notif *err, uint8_t subcode)
{
	bgp_notif_set(err, BGP_ERR_OPEN, subcode, NULL, 0);
	return -1;
}

static int
parse_capability(struct bgp_open *o, uint8_t code, struct rd *v)
{
	uint16_t afi, restart;
	uint8_t res, safi;

	switch (code) {
	case BGP_CAP_MP:
		/* RFC 4760 §8: AFI, reserved, SAFI. */
		if (rd_left(v) != 4)
			return -1;
		rd_u16(v, &afi);
		rd_u8(v, &res);
		rd_u8(v, &safi);
		o->has_mp = true;
		if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST)
			o->mp_ipv4_unicast = true;
		else if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_UNICAST)
			o->mp_ipv6_unicast = true;
		return 0;
	case BGP_CAP_AS4:
		/* RFC 6793 §3. */
		if (rd_left(v) != 4)
			return -1;
		o->has_as4 = true;
		rd_u32(v, &o->as4);
		return 0;
	case BGP_CAP_ROUTE_REFRESH:
		o->route_refresh = true;
		return 0;
	case BGP_CAP_ENHANCED_RR:
		o->enhanced_route_refresh = true;
		return 0;
	case BGP_CAP_EXT_MESSAGE:
		o->ext_message = true;
		return 0;
	case BGP_CAP_GRACEFUL_RESTART:
		/* RFC 4724 §3: flags+time, then (AFI, SAFI, flags) tuples. Kept for later use;
		 * a malformed one is ignored rather than fatal. */
		if (rd_left(v) < 2 || (rd_left(v) - 2) % 4 != 0)
			return 0;
		rd_u16(v, &restart);
		o->has_gr = true;
		o->gr_restarted = restart & 0x8000;
		o->gr_notification = restart & 0x4000;  /* RFC 8538 */
		o->gr_restart_time = restart & 0x0fff;
		while (rd_left(v) >= 4 && o->gr_naf < BGP_GR_MAX_AF) {
			struct bgp_gr_af *af = &o->gr_af[o->gr_naf++];

			rd_u16(v, &af->afi);
			rd_u8(v, &af->safi);
			rd_u8(v, &af->flags);
		}
		return 0;
	case BGP_CAP_LLGR:
		/* RFC 9494 §3: (AFI, SAFI, flags, 24-bit long-lived stale time) tuples; a
		 * malformed one is ignored, as for graceful restart. */
		if (rd_left(v) % 7 != 0)
			return 0;
		o->has_llgr = true;
		while (rd_left(v) >= 7 && o->llgr_naf < BGP_GR_MAX_AF) {
			struct bgp_gr_af *af = &o->llgr_af[o->llgr_naf++];
			uint8_t hi = 0;
			uint16_t lo = 0;

			rd_u16(v, &af->afi);
			rd_u8(v, &af->safi);
			rd_u8(v, &af->flags);
			rd_u8(v, &hi);
			rd_u16(v, &lo);
			af->stale_time = (uint32_t)hi << 16 | lo;
		}
		return 0;
	default:
		/* RFC 5492 §3: unknown capabilities are ignored. */
		if (o->nunknown < BGP_UNKNOWN_CAPS_MAX)
			o->unknown[o->nunknown++] = code;
		return 0;
	}
}

static int
parse_capabilities(struct bgp_open *o, struct rd *p)
{
	while (rd_left(p) > 0) {
		uint8_t code, len;
		struct rd v;

		if (rd_u8(p, &code) != 0 || rd_u8(p, &len) != 0 || rd_sub(p, len, &v) != 0)
			return -1;
		if (parse_capability(o, code, &v) != 0)
			return -1;
	}
	return 0;
}

int
bgp_open_decode(const uint8_t *body, size_t len, struct bgp_open *o, struct bgp_notif *err)
{
	static const uint8_t supported_version[2] = {0, BGP_VERSION};
	struct rd r = rd_init(body, len), params;
	uint8_t opt_len, first;
	uint16_t ext_len;
	bool ext;

	memset(o, 0, sizeof(*o));
	if (rd_u8(&r, &o->version) != 0 || rd_u16(&r, &o->my_as) != 0 ||
	    rd_u16(&r, &o->hold_time) != 0 || rd_u32(&r, &o->bgp_id) != 0 ||
	    rd_u8(&r, &opt_len) != 0)
		return open_err(err, BGP_OPEN_UNSPECIFIC);
	/* §6.2: the data is the largest version we support below the one bid. */
	if (o->version != BGP_VERSION) {
		bgp_notif_set(err, BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION, supported_version, 2);
		return -1;
	}
	/* §6.2: hold times of one or two seconds are refused. */
	if (o->hold_time == 1 || o->hold_time == 2)
		return open_err(err, BGP_OPEN_BAD_HOLD);
	/* RFC 6286 §2.2: the identifier is a non-zero 32-bit value. */
	if (o->bgp_id == 0)
		return open_err(err, BGP_OPEN_BAD_BGP_ID);
	/* RFC 9072 §2: 255 followed by parameter type 255 announces 2-octet lengths. */
	ext = opt_len == OPT_PARAM_EXTENDED && rd_left(&r) > 0 && r.p[r.off] == OPT_PARAM_EXTENDED;
	if (ext) {
		rd_u8(&r, &first);
		if (rd_u16(&r, &ext_len) != 0 || rd_sub(&r, ext_len, &params) != 0)
			return open_err(err, BGP_OPEN_UNSPECIFIC);
		o->ext_params = true;
	} else if (rd_sub(&r, opt_len, &params) != 0) {
		return open_err(err, BGP_OPEN_UNSPECIFIC);
	}
	/* The parameters must fill the message exactly. */
	if (rd_left(&r) != 0)
		return open_err(err, BGP_OPEN_UNSPECIFIC);
	while (rd_left(&params) > 0) {
		uint8_t type, len8;
		uint16_t plen;
		struct rd p;

		if (rd_u8(&params, &type) != 0)
			return open_err(err, BGP_OPEN_UNSPECIFIC);
		if (ext ? rd_u16(&params, &plen) != 0 : rd_u8(&params, &len8) != 0)
			return open_err(err, BGP_OPEN_UNSPECIFIC);
		if (!ext)
			plen = len8;
		if (rd_sub(&params, plen, &p) != 0)
			return open_err(err, BGP_OPEN_UNSPECIFIC);
		/* §6.2: an optional parameter we do not recognise. */
		if (type != OPT_PARAM_CAPABILITIES)
			return open_err(err, BGP_OPEN_UNSUP_PARAM);
		/* §6.2: a recognised parameter that is malformed gives subcode 0. */
		if (parse_capabilities(o, &p) != 0)
			return open_err(err, BGP_OPEN_UNSPECIFIC);
	}
	return 0;
}

int
bgp_open_check(const struct bgp_open *o, uint32_t expected_as, uint32_t local_as,
	       uint32_t local_id, struct bgp_notif *err)
{
	uint32_t peer_as = bgp_open_peer_as(o);

	/* §6.2 and RFC 7607: the AS must be the configured one, and never 0. */
	if (peer_as == 0 || o->my_as == 0 || peer_as != expected_as)
		return open_err(err, BGP_OPEN_BAD_PEER_AS);
	/* RFC 6286 §2.2: within one AS the identifiers must differ. */
	if (o->bgp_id == local_id && peer_as == local_as)
		return open_err(err, BGP_OPEN_BAD_BGP_ID);
	return 0;
}

static void
cap_mp(struct wr *w, uint16_t afi)
{
	wr_u8(w, BGP_CAP_MP);
	wr_u8(w, 4);
	wr_u16(w, afi);
	wr_u8(w, 0);
	wr_u8(w, BGP_SAFI_UNICAST);
}

static void
encode_capabilities(struct wr *w, const struct bgp_open *o)
{
	if (o->mp_ipv4_unicast)
		cap_mp(w, BGP_AFI_IPV4);
	if (o->mp_ipv6_unicast)
		cap_mp(w, BGP_AFI_IPV6);
	if (o->route_refresh) {
		wr_u8(w, BGP_CAP_ROUTE_REFRESH);
		wr_u8(w, 0);
	}
	if (o->ext_message) {
		wr_u8(w, BGP_CAP_EXT_MESSAGE);
		wr_u8(w, 0);
	}
	if (o->has_gr) {
		wr_u8(w, BGP_CAP_GRACEFUL_RESTART);
		wr_u8(w, (uint8_t)(2 + 4 * o->gr_naf));
		wr_u16(w, (uint16_t)((o->gr_restarted ? 0x8000 : 0) |
				     (o->gr_notification ? 0x4000 : 0) |
				     (o->gr_restart_time & 0x0fff)));
		for (uint8_t i = 0; i < o->gr_naf; i++) {
			wr_u16(w, o->gr_af[i].afi);
			wr_u8(w, o->gr_af[i].safi);
			wr_u8(w, o->gr_af[i].flags);
		}
	}
	if (o->has_llgr) {
		wr_u8(w, BGP_CAP_LLGR);
		wr_u8(w, (uint8_t)(7 * o->llgr_naf));
		for (uint8_t i = 0; i < o->llgr_naf; i++) {
			wr_u16(w, o->llgr_af[i].afi);
			wr_u8(w, o->llgr_af[i].safi);
			wr_u8(w, o->llgr_af[i].flags);
			wr_u8(w, (uint8_t)(o->llgr_af[i].stale_time >> 16));
			wr_u16(w, (uint16_t)o->llgr_af[i].stale_time);
		}
	}
	if (o->has_as4) {
		wr_u8(w, BGP_CAP_AS4);
		wr_u8(w, 4);
		wr_u32(w, o->as4);
	}
}

void
bgp_open_encode(struct wr *w, const struct bgp_open *o)
{
	uint8_t capbuf[1024];
	struct wr caps = wr_init(capbuf, sizeof(capbuf));
	size_t start = w->len;

	encode_capabilities(&caps, o);
	bgp_header_encode(w, BGP_OPEN);
	wr_u8(w, BGP_VERSION);
	wr_u16(w, o->my_as);
	wr_u16(w, o->hold_time);
	wr_u32(w, o->bgp_id);
	if (caps.overflow) {
		w->overflow = true;
	} else if (caps.len == 0) {
		wr_u8(w, 0);
	} else if (caps.len + 2 <= 255 && !o->ext_params) {
		wr_u8(w, (uint8_t)(caps.len + 2));
		wr_u8(w, OPT_PARAM_CAPABILITIES);
		wr_u8(w, (uint8_t)caps.len);
		wr_bytes(w, capbuf, caps.len);
	} else {
		/* RFC 9072 §2: non-ext length 255, type 255, then 2-octet lengths. */
		wr_u8(w, OPT_PARAM_EXTENDED);
		wr_u8(w, OPT_PARAM_EXTENDED);
		wr_u16(w, (uint16_t)(caps.len + 3));
		wr_u8(w, OPT_PARAM_CAPABILITIES);
		wr_u16(w, (uint16_t)caps.len);
		wr_bytes(w, capbuf, caps.len);
	}
	bgp_msg_finish(w, start);
}

void
bgp_open_ours(struct bgp_open *o, uint32_t local_as, uint16_t hold, uint32_t bgp_id, bool ipv4,
	      bool ipv6)
{
	memset(o, 0, sizeof(*o));
	o->version = BGP_VERSION;
	/* RFC 6793 §4.1: AS_TRANS in My Autonomous System when ours needs 4 octets. */
	o->my_as = local_as > 0xffff ? BGP_AS_TRANS : (uint16_t)local_as;
	o->hold_time = hold;
	o->bgp_id = bgp_id;
	o->has_as4 = true;
	o->as4 = local_as;
	o->has_mp = ipv4 || ipv6;
	o->mp_ipv4_unicast = ipv4;
	o->mp_ipv6_unicast = ipv6;
	o->route_refresh = true;
	o->ext_message = true;
}
