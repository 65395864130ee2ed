/*
 * libFuzzer target: the input is a stream of BGP messages as a peer would send
 * them. Every decoder runs on whatever the header lets through; a decoded OPEN
 * is encoded again and must decode to the same thing.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "bgp/msg.h"
#include "lib/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk_update(const uint8_t *body, size_t len)
{
	struct bgp_update u;
	struct bgp_notif n;
	struct bgp_attr_raw a;
	struct prefix p;
	struct rd r;

	if (bgp_update_frame(body, len, &u, &n) != 0) {
		assert(n.code == BGP_ERR_UPDATE);
		return;
	}
	assert(u.withdrawn_len + u.attrs_len + 4 + u.nlri_len == len);
	r = rd_init(u.withdrawn, u.withdrawn_len);
	while (bgp_nlri_next(&r, AF_INET, &p) > 0)
		assert(p.len <= 32);
	r = rd_init(u.attrs, u.attrs_len);
	while (bgp_attr_next(&r, &a) == BGP_ATTR_FRAME_OK)
		assert(a.val + a.len <= u.attrs + u.attrs_len);
	/* The same bytes as IPv6 NLRI (as inside MP_REACH_NLRI). */
	r = rd_init(u.nlri, u.nlri_len);
	while (bgp_nlri_next(&r, AF_INET6, &p) > 0)
		assert(p.len <= 128);
}

static void
roundtrip_open(const struct bgp_open *o)
{
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_open again;
	struct bgp_notif n;

	bgp_open_encode(&w, o);
	if (w.overflow)
		return;
	if (bgp_open_decode(buf + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, &again, &n) != 0)
		assert(0 && "an OPEN we encoded does not decode");
	assert(again.hold_time == o->hold_time && again.bgp_id == o->bgp_id);
	assert(bgp_open_peer_as(&again) == bgp_open_peer_as(o));
	assert(again.mp_ipv4_unicast == o->mp_ipv4_unicast);
	assert(again.mp_ipv6_unicast == o->mp_ipv6_unicast);
	assert(again.gr_naf == o->gr_naf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the size limit, as extended messages would. */
	size_t max = size > 0 && (data[0] & 1) ? BGP_EXT_MAX_LEN : BGP_MAX_LEN;
	struct rd stream;

	if (size == 0)
		return 0;
	stream = rd_init(data + 1, size - 1);
	while (rd_left(&stream) >= BGP_HEADER_LEN) {
		const uint8_t *msg = stream.p + stream.off;
		struct bgp_notif n;
		uint16_t len;
		uint8_t type;
		const uint8_t *whole;

		if (bgp_header_decode(msg, max, &len, &type, &n) != 0) {
			assert(n.code == BGP_ERR_HEADER);
			return 0;
		}
		if (rd_bytes(&stream, len, &whole) != 0)
			return 0;
		switch (type) {
		case BGP_OPEN: {
			struct bgp_open o;

			if (bgp_open_decode(whole + BGP_HEADER_LEN, len - BGP_HEADER_LEN, &o, &n) == 0) {
				bgp_open_check(&o, 64512, 64512, 1, &n);
				roundtrip_open(&o);
			} else {
				assert(n.code == BGP_ERR_OPEN);
			}
			break;
		}
		case BGP_UPDATE:
			walk_update(whole + BGP_HEADER_LEN, len - BGP_HEADER_LEN);
			break;
		case BGP_NOTIFICATION: {
			char text[TEXT_ESCAPED_SIZE(BGP_SHUTDOWN_MAX)], again[sizeof(text)];

			if (bgp_notif_decode(whole + BGP_HEADER_LEN, len - BGP_HEADER_LEN, &n) == 0) {
				bgp_notif_name(n.code, n.subcode);
				/* Shown text: valid UTF-8, no control character, stable if escaped again. */
				if (bgp_notif_shutdown_msg(&n, text, sizeof(text)) == 0) {
					for (const char *p = text; *p; p++)
						assert((unsigned char)*p >= 0x20 && *p != 0x7f);
					assert(text_escape(text, strlen(text), again, sizeof(again)));
					assert(strcmp(text, again) == 0);
				}
			}
			break;
		}
		case BGP_ROUTE_REFRESH: {
			struct bgp_route_refresh rr;

			if (bgp_rr_decode(whole, len, &rr, &n) != 0)
				/* The data is the message, cut to what a NOTIFICATION can carry. */
				assert(n.code == BGP_ERR_ROUTE_REFRESH &&
				       n.data_len == (len < BGP_NOTIF_DATA_MAX ? len : BGP_NOTIF_DATA_MAX));
			break;
		}
		default:
			break;
		}
	}
	return 0;
}
