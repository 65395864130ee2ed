/* The message header, KEEPALIVE, ROUTE-REFRESH, UPDATE framing and NLRI. */
#include "bgp/msg.h"

#include <string.h>
#include <sys/socket.h>

static const uint8_t marker[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void
bgp_notif_set(struct bgp_notif *n, uint8_t code, uint8_t subcode, const void *data, size_t len)
{
	if (len > sizeof(n->data))
		len = sizeof(n->data);
	n->code = code;
	n->subcode = subcode;
	n->data_len = (uint16_t)len;
	if (len > 0)
		memcpy(n->data, data, len);
}

static int
bad_len(struct bgp_notif *err, const uint8_t *len_field)
{
	/* §6.1: the Data field contains the erroneous Length field. */
	bgp_notif_set(err, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, len_field, 2);
	return -1;
}

int
bgp_header_decode(const uint8_t *buf, size_t max_len, uint16_t *len, uint8_t *type,
		  struct bgp_notif *err)
{
	struct rd r = rd_init(buf, BGP_HEADER_LEN);
	const uint8_t *m;
	uint16_t l;
	uint8_t t;

	rd_bytes(&r, 16, &m);
	rd_u16(&r, &l);
	rd_u8(&r, &t);
	/* §6.1: a marker that is not all ones means we lost the message boundaries. */
	if (memcmp(m, marker, sizeof(marker)) != 0) {
		bgp_notif_set(err, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC, NULL, 0);
		return -1;
	}
	if (l < BGP_HEADER_LEN || l > max_len)
		return bad_len(err, buf + 16);
	switch (t) {
	case BGP_OPEN:
		/* §6.1 minimum lengths per type; RFC 8654 §4 keeps OPEN within 4096. */
		if (l < BGP_HEADER_LEN + 10 || l > BGP_MAX_LEN)
			return bad_len(err, buf + 16);
		break;
	case BGP_UPDATE:
		if (l < BGP_HEADER_LEN + 4)
			return bad_len(err, buf + 16);
		break;
	case BGP_NOTIFICATION:
		if (l < BGP_HEADER_LEN + 2)
			return bad_len(err, buf + 16);
		break;
	case BGP_KEEPALIVE:
		if (l != BGP_HEADER_LEN)
			return bad_len(err, buf + 16);
		break;
	case BGP_ROUTE_REFRESH:
		/* A wrong length is RFC 7313's own error, reported by bgp_rr_decode. */
		break;
	default:
		/* §6.1: the Data field contains the erroneous Type field. */
		bgp_notif_set(err, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &t, 1);
		return -1;
	}
	*len = l;
	*type = t;
	return 0;
}

void
bgp_header_encode(struct wr *w, uint8_t type)
{
	wr_bytes(w, marker, sizeof(marker));
	wr_u16(w, 0);
	wr_u8(w, type);
}

void
bgp_msg_finish(struct wr *w, size_t start)
{
	wr_put16_at(w, start + 16, (uint16_t)(w->len - start));
}

void
bgp_keepalive_encode(struct wr *w)
{
	size_t start = w->len;

	bgp_header_encode(w, BGP_KEEPALIVE);
	bgp_msg_finish(w, start);
}

int
bgp_rr_decode(const uint8_t *msg, size_t len, struct bgp_route_refresh *rr,
	      struct bgp_notif *err)
{
	struct rd r = rd_init(msg, len);
	uint16_t afi;
	uint8_t b;

	/* RFC 7313 §5: Invalid Message Length, with the complete message as data (cut to
	 * BGP_NOTIF_DATA_MAX: an extended-length one would not fit a NOTIFICATION). */
	if (len != BGP_HEADER_LEN + 4) {
		bgp_notif_set(err, BGP_ERR_ROUTE_REFRESH, BGP_RR_BAD_LEN, msg, len);
		return -1;
	}
	r.off = BGP_HEADER_LEN;
	rd_u16(&r, &afi);
	rd_u8(&r, &b);
	rr->afi = afi;
	rr->subtype = b;
	rd_u8(&r, &rr->safi);
	return 0;
}

void
bgp_rr_encode(struct wr *w, const struct bgp_route_refresh *rr)
{
	size_t start = w->len;

	bgp_header_encode(w, BGP_ROUTE_REFRESH);
	wr_u16(w, rr->afi);
	wr_u8(w, rr->subtype);
	wr_u8(w, rr->safi);
	bgp_msg_finish(w, start);
}

int
bgp_update_frame(const uint8_t *body, size_t len, struct bgp_update *u, struct bgp_notif *err)
{
	struct rd r = rd_init(body, len);

	memset(u, 0, sizeof(*u));
	/* §6.3: withdrawn routes length or total attribute length beyond the message. */
	if (rd_u16(&r, &u->withdrawn_len) != 0 ||
	    rd_bytes(&r, u->withdrawn_len, &u->withdrawn) != 0 ||
	    rd_u16(&r, &u->attrs_len) != 0 || rd_bytes(&r, u->attrs_len, &u->attrs) != 0) {
		bgp_notif_set(err, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
		return -1;
	}
	u->nlri_len = rd_left(&r);
	u->nlri = body + r.off;
	return 0;
}

int
bgp_attr_next(struct rd *attrs, struct bgp_attr_raw *a)
{
	uint8_t len8;

	if (rd_left(attrs) == 0)
		return BGP_ATTR_FRAME_END;
	/* RFC 7606 §4: a header or length that overruns the list. */
	if (rd_u8(attrs, &a->flags) != 0 || rd_u8(attrs, &a->type) != 0)
		return BGP_ATTR_FRAME_OVERRUN;
	if (a->flags & BGP_ATTR_EXTLEN) {
		if (rd_u16(attrs, &a->len) != 0)
			return BGP_ATTR_FRAME_OVERRUN;
	} else {
		if (rd_u8(attrs, &len8) != 0)
			return BGP_ATTR_FRAME_OVERRUN;
		a->len = len8;
	}
	if (rd_bytes(attrs, a->len, &a->val) != 0)
		return BGP_ATTR_FRAME_OVERRUN;
	return BGP_ATTR_FRAME_OK;
}

int
bgp_nlri_next(struct rd *r, int family, struct prefix *p)
{
	unsigned bits = family == AF_INET ? 32 : 128;
	const uint8_t *b;
	uint8_t plen;
	size_t n;

	if (rd_left(r) == 0)
		return 0;
	if (rd_u8(r, &plen) != 0 || plen > bits)
		return -1;
	n = (plen + 7u) / 8u;
	if (rd_bytes(r, n, &b) != 0)
		return -1;
	memset(p, 0, sizeof(*p));
	p->addr.family = family;
	p->len = plen;
	memcpy(p->addr.b, b, n);
	/* Bits past the length carry nothing; clear them so equal prefixes compare equal. */
	if (plen % 8)
		p->addr.b[n - 1] &= (uint8_t)(0xff << (8 - plen % 8));
	return 1;
}

void
bgp_nlri_encode(struct wr *w, const struct prefix *p)
{
	wr_u8(w, p->len);
	wr_bytes(w, p->addr.b, (p->len + 7u) / 8u);
}
