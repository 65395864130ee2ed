/*
 * The wire codec: every error RFC 4271 §6 names outside path attributes, each
 * with a crafted message, asserting the exact NOTIFICATION bytes sent back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "bgp/msg.h"
#include "lib/text.h"

#define M16 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* The NOTIFICATION message n encodes to must be exactly want. */
static void
assert_notif_bytes(const struct bgp_notif *n, const uint8_t *want, size_t want_len)
{
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));

	bgp_notif_encode(&w, n);
	assert_false(w.overflow);
	assert_int_equal(w.len, want_len);
	assert_memory_equal(buf, want, want_len);
}

static void
header_error(const uint8_t *hdr, size_t max, const uint8_t *want, size_t want_len)
{
	struct bgp_notif n;
	uint16_t len;
	uint8_t type;

	assert_int_equal(bgp_header_decode(hdr, max, &len, &type, &n), -1);
	assert_notif_bytes(&n, want, want_len);
}

static void
test_header_ok(void **state)
{
	const uint8_t ka[] = {M16, 0x00, 0x13, 0x04};
	const uint8_t big_update[] = {M16, 0x13, 0x88, 0x02};
	struct bgp_notif n;
	uint16_t len;
	uint8_t type;

	(void)state;
	assert_int_equal(bgp_header_decode(ka, BGP_MAX_LEN, &len, &type, &n), 0);
	assert_int_equal(len, 19);
	assert_int_equal(type, BGP_KEEPALIVE);
	/* RFC 8654: a 5000-byte UPDATE once extended messages are negotiated. */
	assert_int_equal(bgp_header_decode(big_update, BGP_EXT_MAX_LEN, &len, &type, &n), 0);
	assert_int_equal(len, 5000);
}

static void
test_header_not_synchronized(void **state)
{
	const uint8_t hdr[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			       0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x13, 0x04};
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x01, 0x01};

	(void)state;
	header_error(hdr, BGP_MAX_LEN, want, sizeof(want));
}

static void
test_header_bad_length(void **state)
{
	const uint8_t short_len[] = {M16, 0x00, 0x12, 0x04};
	const uint8_t want_short[] = {M16, 0x00, 0x17, 0x03, 0x01, 0x02, 0x00, 0x12};
	const uint8_t too_long[] = {M16, 0x10, 0x01, 0x02};
	const uint8_t want_long[] = {M16, 0x00, 0x17, 0x03, 0x01, 0x02, 0x10, 0x01};
	const uint8_t ka_20[] = {M16, 0x00, 0x14, 0x04};
	const uint8_t want_ka[] = {M16, 0x00, 0x17, 0x03, 0x01, 0x02, 0x00, 0x14};
	const uint8_t open_28[] = {M16, 0x00, 0x1c, 0x01};
	const uint8_t want_open[] = {M16, 0x00, 0x17, 0x03, 0x01, 0x02, 0x00, 0x1c};
	const uint8_t upd_22[] = {M16, 0x00, 0x16, 0x02};
	const uint8_t want_upd[] = {M16, 0x00, 0x17, 0x03, 0x01, 0x02, 0x00, 0x16};
	const uint8_t notif_20[] = {M16, 0x00, 0x14, 0x03};
	const uint8_t want_notif[] = {M16, 0x00, 0x17, 0x03, 0x01, 0x02, 0x00, 0x14};
	/* RFC 8654 §4: an OPEN over 4096 stays an error even with extended messages. */
	const uint8_t open_big[] = {M16, 0x13, 0x88, 0x01};
	const uint8_t want_open_big[] = {M16, 0x00, 0x17, 0x03, 0x01, 0x02, 0x13, 0x88};

	(void)state;
	header_error(short_len, BGP_MAX_LEN, want_short, sizeof(want_short));
	header_error(too_long, BGP_MAX_LEN, want_long, sizeof(want_long));
	header_error(ka_20, BGP_MAX_LEN, want_ka, sizeof(want_ka));
	header_error(open_28, BGP_MAX_LEN, want_open, sizeof(want_open));
	header_error(upd_22, BGP_MAX_LEN, want_upd, sizeof(want_upd));
	header_error(notif_20, BGP_MAX_LEN, want_notif, sizeof(want_notif));
	header_error(open_big, BGP_EXT_MAX_LEN, want_open_big, sizeof(want_open_big));
}

static void
test_header_bad_type(void **state)
{
	const uint8_t hdr[] = {M16, 0x00, 0x13, 0x06};
	const uint8_t want[] = {M16, 0x00, 0x16, 0x03, 0x01, 0x03, 0x06};
	const uint8_t hdr0[] = {M16, 0x00, 0x13, 0x00};
	const uint8_t want0[] = {M16, 0x00, 0x16, 0x03, 0x01, 0x03, 0x00};

	(void)state;
	header_error(hdr, BGP_MAX_LEN, want, sizeof(want));
	header_error(hdr0, BGP_MAX_LEN, want0, sizeof(want0));
}

/* Decodes the OPEN body of a whole message. */
static int
open_decode_msg(const uint8_t *msg, size_t len, struct bgp_open *o, struct bgp_notif *n)
{
	return bgp_open_decode(msg + BGP_HEADER_LEN, len - BGP_HEADER_LEN, o, n);
}

static void
open_error(const uint8_t *body, size_t len, const uint8_t *want, size_t want_len)
{
	struct bgp_open o;
	struct bgp_notif n;

	assert_int_equal(bgp_open_decode(body, len, &o, &n), -1);
	assert_notif_bytes(&n, want, want_len);
}

/* An OPEN that decodes but that bgp_open_check refuses with exactly want. */
static void
open_check_error(const uint8_t *body, size_t len, uint32_t peer_as, uint32_t local_as,
		 uint32_t local_id, const uint8_t *want, size_t want_len)
{
	struct bgp_open o;
	struct bgp_notif n;

	assert_int_equal(bgp_open_decode(body, len, &o, &n), 0);
	assert_int_equal(bgp_open_check(&o, peer_as, local_as, local_id, &n), -1);
	assert_notif_bytes(&n, want, want_len);
}

static void
test_open_roundtrip_as4(void **state)
{
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_open ours, got;
	struct bgp_notif n;
	/* Version 4, AS_TRANS, hold 90, id 192.0.2.1, one capabilities parameter:
	 * MP IPv4 unicast, route refresh, extended message, 4-octet AS 4200000000. */
	const uint8_t want[] = {M16, 0x00, 0x2f, 0x01, 0x04, 0x5b, 0xa0, 0x00, 0x5a, 0xc0, 0x00,
				0x02, 0x01, 0x12, 0x02, 0x10, 0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
				0x02, 0x00, 0x06, 0x00, 0x41, 0x04, 0xfa, 0x56, 0xea, 0x00};

	(void)state;
	bgp_open_ours(&ours, 4200000000u, 90, 0xc0000201, true, false);
	bgp_open_encode(&w, &ours);
	assert_false(w.overflow);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(open_decode_msg(buf, w.len, &got, &n), 0);
	assert_int_equal(got.my_as, BGP_AS_TRANS);
	assert_int_equal(bgp_open_peer_as(&got), 4200000000u);
	assert_int_equal(got.hold_time, 90);
	assert_int_equal(got.bgp_id, 0xc0000201);
	assert_true(got.mp_ipv4_unicast);
	assert_false(got.mp_ipv6_unicast);
	assert_true(got.route_refresh);
	assert_true(got.ext_message);
	assert_int_equal(bgp_open_check(&got, 4200000000u, 64512, 0xc0000202, &n), 0);
}

static void
test_open_two_octet_peer_without_capabilities(void **state)
{
	/* An old speaker: AS 64555, hold 180, no optional parameters. */
	const uint8_t body[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01, 0x00};
	struct bgp_open o;
	struct bgp_notif n;

	(void)state;
	assert_int_equal(bgp_open_decode(body, sizeof(body), &o, &n), 0);
	assert_false(o.has_as4);
	assert_false(o.has_mp);
	assert_int_equal(bgp_open_peer_as(&o), 64555);
	assert_int_equal(bgp_open_check(&o, 64555, 64512, 1, &n), 0);
}

static void
test_open_unsupported_version(void **state)
{
	const uint8_t body[] = {0x03, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01, 0x00};
	/* §6.2: the data is the version we support, 2 octets. */
	const uint8_t want[] = {M16, 0x00, 0x17, 0x03, 0x02, 0x01, 0x00, 0x04};

	(void)state;
	open_error(body, sizeof(body), want, sizeof(want));
}

static void
test_open_bad_peer_as(void **state)
{
	const uint8_t body[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01, 0x00};
	const uint8_t zero_as[] = {0x04, 0x00, 0x00, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01, 0x00};
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x02, 0x02};

	(void)state;
	open_check_error(body, sizeof(body), 64556, 64512, 1, want, sizeof(want));
	/* RFC 7607: AS 0 is never acceptable. */
	open_check_error(zero_as, sizeof(zero_as), 0, 64512, 1, want, sizeof(want));
}

static void
test_open_bad_bgp_id(void **state)
{
	const uint8_t zero_id[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x00};
	const uint8_t same_id[] = {0x04, 0xfc, 0x00, 0x00, 0xb4, 0xc0, 0x00, 0x02, 0x01, 0x00};
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x02, 0x03};
	struct bgp_open o;
	struct bgp_notif n;

	(void)state;
	open_error(zero_id, sizeof(zero_id), want, sizeof(want));
	/* RFC 6286 §2.2: iBGP with our own identifier. */
	open_check_error(same_id, sizeof(same_id), 64512, 64512, 0xc0000201, want, sizeof(want));
	/* eBGP with the same identifier is allowed. */
	assert_int_equal(bgp_open_decode(same_id, sizeof(same_id), &o, &n), 0);
	assert_int_equal(bgp_open_check(&o, 64512, 65000, 0xc0000201, &n), 0);
}

static void
test_open_unsupported_optional_parameter(void **state)
{
	/* Parameter type 1 (authentication, deprecated). */
	const uint8_t body[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64,
				0x01, 0x04, 0x01, 0x02, 0xaa, 0xbb};
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x02, 0x04};

	(void)state;
	open_error(body, sizeof(body), want, sizeof(want));
}

static void
test_open_unacceptable_hold_time(void **state)
{
	uint8_t body[] = {0x04, 0xfc, 0x2b, 0x00, 0x01, 0xc6, 0x33, 0x64, 0x01, 0x00};
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x02, 0x06};
	struct bgp_open o;
	struct bgp_notif n;

	(void)state;
	open_error(body, sizeof(body), want, sizeof(want));
	body[4] = 2;
	open_error(body, sizeof(body), want, sizeof(want));
	body[4] = 0; /* no keepalives: allowed */
	assert_int_equal(bgp_open_decode(body, sizeof(body), &o, &n), 0);
	body[4] = 3;
	assert_int_equal(bgp_open_decode(body, sizeof(body), &o, &n), 0);
}

static void
test_open_malformed_parameters(void **state)
{
	/* MP capability with 3 bytes instead of 4: a recognised but malformed parameter. */
	const uint8_t bad_mp[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01,
				  0x07, 0x02, 0x05, 0x01, 0x03, 0x00, 0x01, 0x00};
	/* A capability whose length runs past its parameter. */
	const uint8_t cap_overrun[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01,
				       0x04, 0x02, 0x02, 0x41, 0x04};
	/* Optional parameters length beyond the message. */
	const uint8_t opt_overrun[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01, 0x08};
	/* Bytes after the parameters. */
	const uint8_t trailing[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01, 0x00, 0x00};
	/* AS4 capability of 2 bytes. */
	const uint8_t bad_as4[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01,
				   0x06, 0x02, 0x04, 0x41, 0x02, 0x00, 0x01};
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x02, 0x00};

	(void)state;
	open_error(bad_mp, sizeof(bad_mp), want, sizeof(want));
	open_error(cap_overrun, sizeof(cap_overrun), want, sizeof(want));
	open_error(opt_overrun, sizeof(opt_overrun), want, sizeof(want));
	open_error(trailing, sizeof(trailing), want, sizeof(want));
	open_error(bad_as4, sizeof(bad_as4), want, sizeof(want));
}

static void
test_open_unknown_and_graceful_restart_capabilities(void **state)
{
	/* FQDN (73) unknown to us, then graceful restart: R bit, 120 s, IPv4 unicast F bit;
	 * then MP IPv6 unicast. */
	const uint8_t body[] = {0x04, 0xfc, 0x2b, 0x00, 0xb4, 0xc6, 0x33, 0x64, 0x01, 0x16,
				0x02, 0x14, 0x49, 0x04, 0x01, 0x61, 0x01, 0x62, 0x40, 0x06,
				0x80, 0x78, 0x00, 0x01, 0x01, 0x80, 0x01, 0x04, 0x00, 0x02,
				0x00, 0x01};
	struct bgp_open o;
	struct bgp_notif n;

	(void)state;
	assert_int_equal(bgp_open_decode(body, sizeof(body), &o, &n), 0);
	assert_int_equal(o.nunknown, 1);
	assert_int_equal(o.unknown[0], 73);
	assert_true(o.has_gr);
	assert_true(o.gr_restarted);
	assert_int_equal(o.gr_restart_time, 120);
	assert_int_equal(o.gr_naf, 1);
	assert_int_equal(o.gr_af[0].afi, BGP_AFI_IPV4);
	assert_int_equal(o.gr_af[0].flags, 0x80);
	assert_true(o.mp_ipv6_unicast);
	assert_false(o.mp_ipv4_unicast);
}

static void
test_open_extended_parameters_rfc9072(void **state)
{
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_open ours, got;
	struct bgp_notif n;

	(void)state;
	bgp_open_ours(&ours, 64512, 90, 0xc0000201, true, true);
	ours.ext_params = true;
	bgp_open_encode(&w, &ours);
	assert_false(w.overflow);
	/* Non-extended length 255, then type 255 and a 2-octet length. */
	assert_int_equal(buf[28], 0xff);
	assert_int_equal(buf[29], 0xff);
	assert_int_equal(open_decode_msg(buf, w.len, &got, &n), 0);
	assert_true(got.ext_params);
	assert_true(got.mp_ipv4_unicast);
	assert_true(got.mp_ipv6_unicast);
	assert_int_equal(bgp_open_peer_as(&got), 64512);

	/* So many graceful-restart families that only RFC 9072 can carry them. */
	bgp_open_ours(&ours, 64512, 90, 0xc0000201, true, true);
	ours.has_gr = true;
	ours.gr_naf = BGP_GR_MAX_AF;
	w = wr_init(buf, sizeof(buf));
	bgp_open_encode(&w, &ours);
	assert_int_equal(open_decode_msg(buf, w.len, &got, &n), 0);
	assert_int_equal(got.gr_naf, BGP_GR_MAX_AF);
}

static void
test_update_framing(void **state)
{
	/* Withdrawn: 198.51.100.0/24; attributes: ORIGIN IGP; NLRI 203.0.113.0/24. */
	const uint8_t body[] = {0x00, 0x04, 0x18, 0xc6, 0x33, 0x64, 0x00, 0x04, 0x40, 0x01,
				0x01, 0x00, 0x18, 0xcb, 0x00, 0x71};
	struct bgp_update u;
	struct bgp_notif n;
	struct bgp_attr_raw a;
	struct prefix p;
	struct rd r;
	char buf[PREFIX_STRLEN];

	(void)state;
	assert_int_equal(bgp_update_frame(body, sizeof(body), &u, &n), 0);
	assert_int_equal(u.withdrawn_len, 4);
	assert_int_equal(u.attrs_len, 4);
	assert_int_equal(u.nlri_len, 4);
	r = rd_init(u.withdrawn, u.withdrawn_len);
	assert_int_equal(bgp_nlri_next(&r, AF_INET, &p), 1);
	prefix_format(&p, buf);
	assert_string_equal(buf, "198.51.100.0/24");
	assert_int_equal(bgp_nlri_next(&r, AF_INET, &p), 0);
	r = rd_init(u.attrs, u.attrs_len);
	assert_int_equal(bgp_attr_next(&r, &a), BGP_ATTR_FRAME_OK);
	assert_int_equal(a.type, 1);
	assert_int_equal(a.flags, 0x40);
	assert_int_equal(a.len, 1);
	assert_int_equal(a.val[0], 0);
	assert_int_equal(bgp_attr_next(&r, &a), BGP_ATTR_FRAME_END);
	r = rd_init(u.nlri, u.nlri_len);
	assert_int_equal(bgp_nlri_next(&r, AF_INET, &p), 1);
	prefix_format(&p, buf);
	assert_string_equal(buf, "203.0.113.0/24");
}

static void
test_update_malformed_attribute_list(void **state)
{
	/* §6.3: withdrawn length, then total attribute length, past the message. */
	const uint8_t wd_overrun[] = {0x00, 0x09, 0x18, 0xc6, 0x33, 0x64};
	const uint8_t attr_overrun[] = {0x00, 0x00, 0x00, 0x09, 0x40, 0x01, 0x01, 0x00};
	const uint8_t no_attr_len[] = {0x00, 0x01, 0x00, 0x00};
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x03, 0x01};
	struct bgp_update u;
	struct bgp_notif n;

	(void)state;
	assert_int_equal(bgp_update_frame(wd_overrun, sizeof(wd_overrun), &u, &n), -1);
	assert_notif_bytes(&n, want, sizeof(want));
	assert_int_equal(bgp_update_frame(attr_overrun, sizeof(attr_overrun), &u, &n), -1);
	assert_notif_bytes(&n, want, sizeof(want));
	assert_int_equal(bgp_update_frame(no_attr_len, sizeof(no_attr_len), &u, &n), -1);
	assert_notif_bytes(&n, want, sizeof(want));
}

static void
test_attribute_framing(void **state)
{
	/* Extended length (0x10) AS_PATH of 0 bytes, then a truncated header. */
	const uint8_t ext[] = {0x50, 0x02, 0x00, 0x00, 0x40, 0x01};
	/* A length that overruns the list: RFC 7606 §4. */
	const uint8_t overrun[] = {0x40, 0x01, 0x05, 0x00};
	/* An extended length cut in half. */
	const uint8_t half_len[] = {0x50, 0x02, 0x00};
	struct bgp_attr_raw a;
	struct rd r;

	(void)state;
	r = rd_init(ext, sizeof(ext));
	assert_int_equal(bgp_attr_next(&r, &a), BGP_ATTR_FRAME_OK);
	assert_int_equal(a.type, 2);
	assert_int_equal(a.len, 0);
	assert_int_equal(bgp_attr_next(&r, &a), BGP_ATTR_FRAME_OVERRUN);
	r = rd_init(overrun, sizeof(overrun));
	assert_int_equal(bgp_attr_next(&r, &a), BGP_ATTR_FRAME_OVERRUN);
	r = rd_init(half_len, sizeof(half_len));
	assert_int_equal(bgp_attr_next(&r, &a), BGP_ATTR_FRAME_OVERRUN);
}

static void
test_nlri_invalid_network(void **state)
{
	const uint8_t too_long[] = {0x21, 0xc0, 0x00, 0x02, 0x01, 0x00};
	const uint8_t cut[] = {0x18, 0xc0, 0x00};
	const uint8_t v6[] = {0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x81};
	const uint8_t host_bits[] = {0x17, 0xcb, 0x00, 0x71};
	struct prefix p;
	struct rd r;
	char buf[PREFIX_STRLEN];

	(void)state;
	r = rd_init(too_long, sizeof(too_long));
	assert_int_equal(bgp_nlri_next(&r, AF_INET, &p), -1);
	r = rd_init(cut, sizeof(cut));
	assert_int_equal(bgp_nlri_next(&r, AF_INET, &p), -1);
	r = rd_init(v6, sizeof(v6));
	assert_int_equal(bgp_nlri_next(&r, AF_INET6, &p), 1);
	prefix_format(&p, buf);
	assert_string_equal(buf, "2001:db8:1::/48");
	assert_int_equal(bgp_nlri_next(&r, AF_INET6, &p), -1); /* /129 */
	/* Bits past the length are cleared. */
	r = rd_init(host_bits, sizeof(host_bits));
	assert_int_equal(bgp_nlri_next(&r, AF_INET, &p), 1);
	prefix_format(&p, buf);
	assert_string_equal(buf, "203.0.112.0/23");
}

static void
test_notification_and_shutdown_communication(void **state)
{
	const uint8_t want[] = {M16, 0x00, 0x21, 0x03, 0x06, 0x02, 0x0b, 'm', 'a', 'i', 'n',
				't', 'e', 'n', 'a', 'n', 'c', 'e'};
	uint8_t buf[BGP_MAX_LEN];
	char msg[TEXT_ESCAPED_SIZE(BGP_SHUTDOWN_MAX)], longmsg[300];
	struct bgp_notif n, got;

	(void)state;
	bgp_notif_shutdown(&n, BGP_CEASE_ADMIN_SHUTDOWN, "maintenance");
	assert_notif_bytes(&n, want, sizeof(want));
	assert_int_equal(bgp_notif_decode(want + BGP_HEADER_LEN, sizeof(want) - BGP_HEADER_LEN,
					  &got), 0);
	assert_int_equal(got.code, 6);
	assert_int_equal(got.subcode, 2);
	assert_int_equal(bgp_notif_shutdown_msg(&got, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "maintenance");
	assert_string_equal(bgp_notif_name(got.code, got.subcode), "Administrative shutdown");

	/* Cut to 255 bytes, never inside a character: 254 'a' then a 2-byte 'é'. */
	memset(longmsg, 'a', 254);
	strcpy(longmsg + 254, "\xc3\xa9tc");
	bgp_notif_shutdown(&n, BGP_CEASE_ADMIN_RESET, longmsg);
	assert_int_equal(n.data[0], 254);
	assert_int_equal(n.data_len, 255);

	/* A length past the data is not a message. */
	memcpy(buf, "\x09" "abc", 4);
	bgp_notif_set(&got, 6, 2, buf, 4);
	assert_int_equal(bgp_notif_shutdown_msg(&got, msg, sizeof(msg)), -1);
	/* RFC 9003 §2, §5: invalid UTF-8 and control characters are shown escaped. */
	memcpy(buf, "\x02" "\xc3\x28", 3);
	bgp_notif_set(&got, 6, 2, buf, 3);
	assert_int_equal(bgp_notif_shutdown_msg(&got, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "\\xc3(");
	memcpy(buf, "\x0c" "\x1b[2Jdown\nnow", 13);
	bgp_notif_set(&got, 6, 4, buf, 13);
	assert_int_equal(bgp_notif_shutdown_msg(&got, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "\\x1b[2Jdown\\nnow");
	/* Only Cease/2 and Cease/4 carry one. */
	memcpy(buf, "\x02" "ok", 3);
	bgp_notif_set(&got, 6, 3, buf, 3);
	assert_int_equal(bgp_notif_shutdown_msg(&got, msg, sizeof(msg)), -1);
	/* A NOTIFICATION of two bytes decodes; of one does not. */
	assert_int_equal(bgp_notif_decode((const uint8_t *)"\x04\x00", 2, &got), 0);
	assert_string_equal(bgp_notif_name(got.code, got.subcode), "Hold timer expired");
	assert_int_equal(bgp_notif_decode((const uint8_t *)"\x04", 1, &got), -1);
}

static void
test_notification_names(void **state)
{
	(void)state;
	assert_string_equal(bgp_notif_name(2, 2), "Bad peer AS");
	assert_string_equal(bgp_notif_name(6, 3), "Peer de-configured");
	assert_string_equal(bgp_notif_name(6, 6), "Other configuration change");
	assert_string_equal(bgp_notif_name(5, 3), "Unexpected message in Established state");
	assert_string_equal(bgp_notif_name(3, 99), "UPDATE message error");
	assert_string_equal(bgp_notif_name(99, 1), "Unknown error");
}

static void
test_keepalive_and_route_refresh(void **state)
{
	const uint8_t ka[] = {M16, 0x00, 0x13, 0x04};
	const uint8_t rr[] = {M16, 0x00, 0x17, 0x05, 0x00, 0x02, 0x00, 0x01};
	const uint8_t rr_bad[] = {M16, 0x00, 0x18, 0x05, 0x00, 0x02, 0x00, 0x01, 0x00};
	/* RFC 7313 §5: code 7, subcode 1, the complete message as data. */
	const uint8_t want[] = {M16, 0x00, 0x2d, 0x03, 0x07, 0x01, M16, 0x00, 0x18,
				0x05, 0x00, 0x02, 0x00, 0x01, 0x00};
	uint8_t buf[64];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_route_refresh r = {.afi = BGP_AFI_IPV6, .safi = BGP_SAFI_UNICAST}, got;
	struct bgp_notif n;

	(void)state;
	bgp_keepalive_encode(&w);
	assert_int_equal(w.len, sizeof(ka));
	assert_memory_equal(buf, ka, sizeof(ka));
	w = wr_init(buf, sizeof(buf));
	bgp_rr_encode(&w, &r);
	assert_memory_equal(buf, rr, sizeof(rr));
	assert_int_equal(bgp_rr_decode(rr, sizeof(rr), &got, &n), 0);
	assert_int_equal(got.afi, BGP_AFI_IPV6);
	assert_int_equal(got.safi, BGP_SAFI_UNICAST);
	assert_int_equal(bgp_rr_decode(rr_bad, sizeof(rr_bad), &got, &n), -1);
	assert_notif_bytes(&n, want, sizeof(want));
}

static void
test_writer_overflow(void **state)
{
	uint8_t buf[10];
	struct wr w = wr_init(buf, sizeof(buf));

	(void)state;
	bgp_keepalive_encode(&w);
	assert_true(w.overflow);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_ok),
		cmocka_unit_test(test_header_not_synchronized),
		cmocka_unit_test(test_header_bad_length),
		cmocka_unit_test(test_header_bad_type),
		cmocka_unit_test(test_open_roundtrip_as4),
		cmocka_unit_test(test_open_two_octet_peer_without_capabilities),
		cmocka_unit_test(test_open_unsupported_version),
		cmocka_unit_test(test_open_bad_peer_as),
		cmocka_unit_test(test_open_bad_bgp_id),
		cmocka_unit_test(test_open_unsupported_optional_parameter),
		cmocka_unit_test(test_open_unacceptable_hold_time),
		cmocka_unit_test(test_open_malformed_parameters),
		cmocka_unit_test(test_open_unknown_and_graceful_restart_capabilities),
		cmocka_unit_test(test_open_extended_parameters_rfc9072),
		cmocka_unit_test(test_update_framing),
		cmocka_unit_test(test_update_malformed_attribute_list),
		cmocka_unit_test(test_attribute_framing),
		cmocka_unit_test(test_nlri_invalid_network),
		cmocka_unit_test(test_notification_and_shutdown_communication),
		cmocka_unit_test(test_notification_names),
		cmocka_unit_test(test_keepalive_and_route_refresh),
		cmocka_unit_test(test_writer_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
