/*
 * Path attributes under RFC 7606: one test per row of the attribute table
 * (crafted bytes, the outcome, the log line), then the rules across rows:
 * flags, duplicates, missing mandatory attributes, length overruns, unknown
 * attributes, AS4 reconstruction, End-of-RIB, encoding round trips, and the
 * published incidents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bgp/attr.h"

/* Valid attributes: ORIGIN IGP, AS_PATH [64555] (4-octet), NEXT_HOP 192.0.2.10. */
#define ORIGIN 0x40, 0x01, 0x01, 0x00
#define AS_PATH 0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfc, 0x2b
#define NEXT_HOP 0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x0a
#define BASE ORIGIN, AS_PATH, NEXT_HOP
/* The same for a 2-octet AS session. */
#define BASE2 ORIGIN, 0x40, 0x02, 0x04, 0x02, 0x01, 0xfc, 0x2b, NEXT_HOP
/* NLRI: 203.0.113.0/24 and 198.18.0.0/16. */
static const uint8_t nlri2[] = {0x18, 0xcb, 0x00, 0x71, 0x10, 0xc6, 0x12};

static struct bgp_update_ctx ebgp4 = {.as4 = true, .ebgp = true, .peer_as = 64555,
				      .family = AF_INET};
static struct bgp_update_ctx ibgp4 = {.as4 = true, .ebgp = false, .peer_as = 64512,
				      .family = AF_INET};
static struct bgp_update_ctx ebgp6 = {.as4 = true, .ebgp = true, .peer_as = 64555,
				      .family = AF_INET6};
static struct bgp_update_ctx old4 = {.as4 = false, .ebgp = true, .peer_as = 64555,
				     .family = AF_INET};

static struct bgp_update_decoded u;

static void
init_ctx(void)
{
	addr_parse("192.0.2.1", &ebgp4.local);
	addr_parse("192.0.2.1", &ibgp4.local);
	addr_parse("192.0.2.1", &old4.local);
	addr_parse("2001:db8::1", &ebgp6.local);
}

/* Decodes an UPDATE with the given attributes and NLRI (no withdrawn routes). */
static void
decode(const struct bgp_update_ctx *ctx, const uint8_t *attrs, size_t alen, const uint8_t *nlri,
       size_t nlen)
{
	static uint8_t body[BGP_EXT_MAX_LEN];
	size_t n = 0;

	init_ctx();
	bgp_update_free(&u);
	body[n++] = 0;
	body[n++] = 0;
	body[n++] = (uint8_t)(alen >> 8);
	body[n++] = (uint8_t)alen;
	if (alen)
		memcpy(body + n, attrs, alen);
	n += alen;
	if (nlen)
		memcpy(body + n, nlri, nlen);
	n += nlen;
	bgp_update_decode(body, n, ctx, &u);
}

#define DECODE(ctx, ...)                                                                           \
	do {                                                                                       \
		const uint8_t a_[] = {__VA_ARGS__};                                                \
		decode(ctx, a_, sizeof(a_), nlri2, sizeof(nlri2));                                 \
	} while (0)

static void
assert_log(const char *want)
{
	for (int i = 0; i < u.nlog; i++)
		if (strcmp(u.log[i], want) == 0)
			return;
	for (int i = 0; i < u.nlog; i++)
		fprintf(stderr, "log[%d]: %s\n", i, u.log[i]);
	fail_msg("no log line \"%s\"", want);
}

static void
assert_withdrawn_all(void)
{
	assert_false(u.reset);
	assert_int_equal(u.announce.n, 0);
	assert_int_equal(u.withdraw.n, 2);
}

static void
assert_announced(void)
{
	assert_false(u.reset);
	assert_int_equal(u.announce.n, 2);
	assert_int_equal(u.withdraw.n, 0);
}

static void
test_valid_update(void **state)
{
	char buf[64];

	(void)state;
	DECODE(&ebgp4, BASE, 0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x64);
	assert_announced();
	assert_int_equal(u.nlog, 0);
	assert_int_equal(u.attrs.origin, BGP_ORIGIN_IGP);
	assert_int_equal(u.attrs.med, 100);
	assert_true(u.attrs.has & BGP_HAS(BGP_ATTR_MED));
	addr_format(&u.attrs.next_hop, buf);
	assert_string_equal(buf, "192.0.2.10");
	bgp_as_path_format(bgp_attrs_as_path(&u.attrs), u.attrs.as_path_len, buf, sizeof(buf));
	assert_string_equal(buf, "64555");
}

static void
test_row_origin(void **state)
{
	(void)state;
	DECODE(&ebgp4, 0x40, 0x01, 0x02, 0x00, 0x00, AS_PATH, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("ORIGIN: length 2, expected 1: treat-as-withdraw (RFC 7606 §7.1)");
	DECODE(&ebgp4, 0x40, 0x01, 0x01, 0x03, AS_PATH, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("ORIGIN: value 3 is not IGP, EGP or INCOMPLETE: treat-as-withdraw "
		   "(RFC 7606 §7.1)");
}

static void
test_row_as_path(void **state)
{
	(void)state;
	/* A segment of 5 ASNs in 4 bytes. */
	DECODE(&ebgp4, ORIGIN, 0x40, 0x02, 0x06, 0x02, 0x05, 0x00, 0x00, 0xfc, 0x2b, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("AS_PATH: segment of 5 ASNs overruns the attribute: treat-as-withdraw "
		   "(RFC 7606 §7.2)");
	DECODE(&ebgp4, ORIGIN, 0x40, 0x02, 0x06, 0x07, 0x01, 0x00, 0x00, 0xfc, 0x2b, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("AS_PATH: segment type 7 is not AS_SET, AS_SEQUENCE or a confederation segment: "
		   "treat-as-withdraw (RFC 7606 §7.2)");
	DECODE(&ebgp4, ORIGIN, 0x40, 0x02, 0x02, 0x02, 0x00, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("AS_PATH: empty segment: treat-as-withdraw (RFC 7606 §7.2)");
	/* A confederation segment from an external peer. */
	DECODE(&ebgp4, ORIGIN, 0x40, 0x02, 0x06, 0x03, 0x01, 0x00, 0x00, 0xfc, 0x2b, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("AS_PATH: confederation segment from outside the confederation: "
		   "treat-as-withdraw (RFC 7606 §7.2)");
	/* An external peer's path must start with its AS. */
	DECODE(&ebgp4, ORIGIN, 0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfc, 0x2c, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("AS_PATH: does not start with the peer's AS 64555: treat-as-withdraw "
		   "(RFC 7606 §7.2)");
	/* An internal peer's may be empty. */
	DECODE(&ibgp4, ORIGIN, 0x40, 0x02, 0x00, NEXT_HOP);
	assert_announced();
}

static void
test_row_next_hop(void **state)
{
	(void)state;
	DECODE(&ebgp4, ORIGIN, AS_PATH, 0x40, 0x03, 0x05, 0xc0, 0x00, 0x02, 0x0a, 0x00);
	assert_withdrawn_all();
	assert_log("NEXT_HOP: length 5, expected 4: treat-as-withdraw (RFC 7606 §7.3)");
	DECODE(&ebgp4, ORIGIN, AS_PATH, 0x40, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00);
	assert_withdrawn_all();
	assert_log("NEXT_HOP: 0.0.0.0 is not a unicast address (addresses in 0.0.0.0/8 are not "
		   "usable (RFC 1122)): treat-as-withdraw (RFC 7606 §7.3)");
	DECODE(&ebgp4, ORIGIN, AS_PATH, 0x40, 0x03, 0x04, 0xe0, 0x00, 0x00, 0x05);
	assert_withdrawn_all();
	/* Our own address as next hop. */
	DECODE(&ebgp4, ORIGIN, AS_PATH, 0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01);
	assert_withdrawn_all();
	assert_log("NEXT_HOP: it is our own address: treat-as-withdraw (RFC 7606 §7.3)");
}

static void
test_row_med(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0x80, 0x04, 0x03, 0x00, 0x00, 0x64);
	assert_withdrawn_all();
	assert_log("MULTI_EXIT_DISC: length 3, expected 4: treat-as-withdraw (RFC 7606 §7.4)");
}

static void
test_row_local_pref(void **state)
{
	(void)state;
	DECODE(&ibgp4, BASE, 0x40, 0x05, 0x02, 0x00, 0x64);
	assert_withdrawn_all();
	assert_log("LOCAL_PREF: length 2, expected 4: treat-as-withdraw (RFC 7606 §7.5)");
	DECODE(&ibgp4, BASE, 0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0xc8);
	assert_announced();
	assert_int_equal(u.attrs.local_pref, 200);
	/* From an external peer it is discarded, the routes stay. */
	DECODE(&ebgp4, BASE, 0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0xc8);
	assert_announced();
	assert_false(u.attrs.has & BGP_HAS(BGP_ATTR_LOCAL_PREF));
	assert_log("LOCAL_PREF: sent by an external peer: ignored (RFC 7606 §7.5)");
}

static void
test_row_atomic_aggregate(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0x40, 0x06, 0x01, 0x00);
	assert_announced();
	assert_false(u.attrs.has & BGP_HAS(BGP_ATTR_ATOMIC_AGGREGATE));
	assert_log("ATOMIC_AGGREGATE: length 1, expected 0: attribute discarded (RFC 7606 §7.6)");
	DECODE(&ebgp4, BASE, 0x40, 0x06, 0x00);
	assert_true(u.attrs.has & BGP_HAS(BGP_ATTR_ATOMIC_AGGREGATE));
}

static void
test_row_aggregator(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0xc0, 0x07, 0x07, 0x00, 0x00, 0xfc, 0x2b, 0xc0, 0x00, 0x02);
	assert_announced();
	assert_false(u.attrs.has & BGP_HAS(BGP_ATTR_AGGREGATOR));
	assert_log("AGGREGATOR: length 7, expected 8: attribute discarded (RFC 7606 §7.7)");
	DECODE(&ebgp4, BASE, 0xc0, 0x07, 0x08, 0x00, 0x00, 0xfc, 0x2b, 0xc0, 0x00, 0x02, 0x0a);
	assert_true(u.attrs.has & BGP_HAS(BGP_ATTR_AGGREGATOR));
	assert_int_equal(u.attrs.aggregator_as, 64555);
}

static void
test_row_communities(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0xc0, 0x08, 0x05, 0xff, 0xff, 0xff, 0x01, 0x00);
	assert_withdrawn_all();
	assert_log("COMMUNITIES: length 5 is not a non-zero multiple of 4: treat-as-withdraw "
		   "(RFC 7606 §7.8)");
	DECODE(&ebgp4, BASE, 0xc0, 0x08, 0x00);
	assert_withdrawn_all();
	/* NO_EXPORT and NO_ADVERTISE are recognised. */
	DECODE(&ebgp4, BASE, 0xc0, 0x08, 0x08, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0x02);
	assert_announced();
	assert_true(bgp_attrs_has_community(&u.attrs, BGP_COMM_NO_EXPORT));
	assert_true(bgp_attrs_has_community(&u.attrs, BGP_COMM_NO_ADVERTISE));
	assert_false(bgp_attrs_has_community(&u.attrs, BGP_COMM_NO_EXPORT_SUBCONFED));
}

static void
test_row_originator_id_cluster_list(void **state)
{
	(void)state;
	DECODE(&ibgp4, BASE, 0x80, 0x09, 0x03, 0xc0, 0x00, 0x02);
	assert_withdrawn_all();
	assert_log("ORIGINATOR_ID: length 3, expected 4: treat-as-withdraw (RFC 7606 §7.9)");
	DECODE(&ibgp4, BASE, 0x80, 0x0a, 0x06, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00);
	assert_withdrawn_all();
	assert_log("CLUSTER_LIST: length 6 is not a non-zero multiple of 4: treat-as-withdraw "
		   "(RFC 7606 §7.10)");
	DECODE(&ibgp4, BASE, 0x80, 0x09, 0x04, 0xc0, 0x00, 0x02, 0x05, 0x80, 0x0a, 0x04, 0xc0,
	       0x00, 0x02, 0x06);
	assert_announced();
	assert_int_equal(u.attrs.originator_id, 0xc0000205);
	assert_int_equal(u.attrs.cluster_list_n, 1);
}

/* An IPv6 UPDATE: ORIGIN, AS_PATH and the given MP attribute bytes, no NLRI field. */
#define DECODE6(...) DECODE_NLRI(&ebgp6, ORIGIN, AS_PATH, __VA_ARGS__)
#define DECODE_NLRI(ctx, ...)                                                                     \
	do {                                                                                       \
		const uint8_t a_[] = {__VA_ARGS__};                                                \
		decode(ctx, a_, sizeof(a_), NULL, 0);                                              \
	} while (0)
/* MP_REACH IPv6 unicast, next hop 2001:db8::a, NLRI 2001:db8:1::/48. */
#define NH6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a
#define LL6 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a
#define PFX6 0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01

static void
test_row_mp_reach(void **state)
{
	char buf[ADDR_STRLEN];

	(void)state;
	DECODE6(0x90, 0x0e, 0x00, 0x1c, 0x00, 0x02, 0x01, 0x10, NH6, 0x00, PFX6);
	assert_false(u.reset);
	assert_int_equal(u.announce.n, 1);
	addr_format(&u.attrs.next_hop, buf);
	assert_string_equal(buf, "2001:db8::a");
	assert_int_equal(u.attrs.next_hop_ll.family, 0);
	/* Global and link-local next hops. */
	DECODE6(0x90, 0x0e, 0x00, 0x2c, 0x00, 0x02, 0x01, 0x20, NH6, LL6, 0x00, PFX6);
	assert_int_equal(u.announce.n, 1);
	addr_format(&u.attrs.next_hop_ll, buf);
	assert_string_equal(buf, "fe80::a");
	/* A next hop of 8 bytes hides the NLRI: session reset, the attribute as data. */
	DECODE6(0x80, 0x0e, 0x0d, 0x00, 0x02, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x10,
		0x20, 0x01);
	assert_true(u.reset);
	assert_int_equal(u.notif.code, BGP_ERR_UPDATE);
	assert_int_equal(u.notif.subcode, BGP_UPD_OPTIONAL_ATTR);
	assert_int_equal(u.notif.data_len, 16);
	assert_int_equal(u.notif.data[1], BGP_ATTR_MP_REACH);
	assert_log("MP_REACH_NLRI: next hop length 8, expected 16 or 32: session reset "
		   "(RFC 7606 §7.11)");
	/* Broken NLRI inside: session reset. */
	DECODE6(0x80, 0x0e, 0x17, 0x00, 0x02, 0x01, 0x10, NH6, 0x00, 0x81, 0x20);
	assert_true(u.reset);
	assert_log("MP_REACH_NLRI: NLRI syntax error: session reset (RFC 7606 §7.11)");
	/* Two of them: Malformed Attribute List (RFC 7606 §3 g). */
	DECODE6(0x80, 0x0e, 0x1c, 0x00, 0x02, 0x01, 0x10, NH6, 0x00, PFX6, 0x80, 0x0e, 0x1c, 0x00,
		0x02, 0x01, 0x10, NH6, 0x00, PFX6);
	assert_true(u.reset);
	assert_int_equal(u.notif.subcode, BGP_UPD_MALFORMED_ATTR_LIST);
	assert_log("MP_REACH_NLRI: appears twice: session reset (RFC 7606 §3 g)");
	/* A link-local address as the global next hop: treat-as-withdraw. */
	DECODE6(0x80, 0x0e, 0x1c, 0x00, 0x02, 0x01, 0x10, LL6, 0x00, PFX6);
	assert_false(u.reset);
	assert_int_equal(u.announce.n, 0);
	assert_int_equal(u.withdraw.n, 1);
	assert_log("MP_REACH_NLRI: next hop fe80::a is not a usable global unicast address: "
		   "treat-as-withdraw (RFC 7606 §7.11)");
	/* A family that was not negotiated is ignored. */
	DECODE6(0x80, 0x0e, 0x0c, 0x00, 0x01, 0x01, 0x04, 0xc0, 0x00, 0x02, 0x0a, 0x00, 0x18, 0xcb,
		0x00, 0x71);
	assert_false(u.reset);
	assert_int_equal(u.announce.n, 0);
	assert_log("MP_REACH_NLRI: AFI 1 / SAFI 1 was not negotiated: ignored (RFC 7606 §7.11)");
}

static void
test_row_mp_unreach_and_end_of_rib(void **state)
{
	(void)state;
	DECODE_NLRI(&ebgp6, 0x80, 0x0f, 0x0a, 0x00, 0x02, 0x01, PFX6);
	assert_false(u.reset);
	assert_int_equal(u.withdraw.n, 1);
	assert_false(u.end_of_rib);
	DECODE_NLRI(&ebgp6, 0x80, 0x0f, 0x05, 0x00, 0x02, 0x01, 0x40, 0x20);
	assert_true(u.reset);
	assert_log("MP_UNREACH_NLRI: NLRI syntax error: session reset (RFC 7606 §7.11)");
	DECODE_NLRI(&ebgp6, 0x80, 0x0f, 0x02, 0x00, 0x02);
	assert_true(u.reset);
	assert_log("MP_UNREACH_NLRI: length 2, at least 3 needed: session reset (RFC 7606 §7.11)");
	/* RFC 4724 §2: the IPv6 End-of-RIB. */
	DECODE_NLRI(&ebgp6, 0x80, 0x0f, 0x03, 0x00, 0x02, 0x01);
	assert_true(u.end_of_rib);
	assert_int_equal(u.end_of_rib_family, AF_INET6);
	/* And the IPv4 one: an empty UPDATE. */
	decode(&ebgp4, NULL, 0, NULL, 0);
	assert_true(u.end_of_rib);
	assert_int_equal(u.end_of_rib_family, AF_INET);
}

static void
test_row_extended_communities(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0xc0, 0x10, 0x07, 0x00, 0x02, 0xfc, 0x2b, 0x00, 0x00, 0x00);
	assert_withdrawn_all();
	assert_log("EXTENDED_COMMUNITIES: length 7 is not a non-zero multiple of 8: "
		   "treat-as-withdraw (RFC 7606 §7.14)");
	DECODE(&ebgp4, BASE, 0xc0, 0x10, 0x08, 0x00, 0x02, 0xfc, 0x2b, 0x00, 0x00, 0x00, 0x01);
	assert_announced();
	assert_int_equal(u.attrs.ext_communities_n, 1);
}

static void
test_row_as4_path_and_as4_aggregator(void **state)
{
	char buf[64];

	(void)state;
	/* A 2-octet peer: AS_PATH [64555 23456 23456], AS4_PATH [4200000001 4200000002]. */
	DECODE(&old4, ORIGIN, 0x40, 0x02, 0x08, 0x02, 0x03, 0xfc, 0x2b, 0x5b, 0xa0, 0x5b, 0xa0,
	       NEXT_HOP, 0xc0, 0x11, 0x0a, 0x02, 0x02, 0xfa, 0x56, 0xea, 0x01, 0xfa, 0x56, 0xea,
	       0x02);
	assert_announced();
	bgp_as_path_format(bgp_attrs_as_path(&u.attrs), u.attrs.as_path_len, buf, sizeof(buf));
	assert_string_equal(buf, "64555 4200000001 4200000002");
	/* A malformed AS4_PATH is discarded and the AS_PATH stands. */
	DECODE(&old4, ORIGIN, 0x40, 0x02, 0x06, 0x02, 0x02, 0xfc, 0x2b, 0x5b, 0xa0, NEXT_HOP, 0xc0,
	       0x11, 0x06, 0x02, 0x02, 0xfa, 0x56, 0xea, 0x01);
	assert_announced();
	bgp_as_path_format(bgp_attrs_as_path(&u.attrs), u.attrs.as_path_len, buf, sizeof(buf));
	assert_string_equal(buf, "64555 23456");
	assert_log("AS4_PATH: segment of 2 ASNs overruns the attribute: attribute discarded "
		   "(RFC 6793 §6)");
	/* AGGREGATOR AS_TRANS + AS4_AGGREGATOR give the real aggregator. */
	DECODE(&old4, BASE2, 0xc0, 0x07, 0x06, 0x5b, 0xa0, 0xc0, 0x00, 0x02, 0x0a, 0xc0, 0x12,
	       0x08, 0xfa, 0x56, 0xea, 0x01, 0xc0, 0x00, 0x02, 0x0a);
	assert_announced();
	assert_int_equal(u.attrs.aggregator_as, 4200000001u);
	DECODE(&old4, BASE2, 0xc0, 0x12, 0x07, 0xfa, 0x56, 0xea, 0x01, 0xc0, 0x00, 0x02);
	assert_announced();
	assert_log("AS4_AGGREGATOR: length 7, expected 8: attribute discarded (RFC 6793 §6)");
	/* Between 4-octet speakers AS4_PATH means nothing. */
	DECODE(&ebgp4, BASE, 0xc0, 0x11, 0x06, 0x02, 0x01, 0xfa, 0x56, 0xea, 0x01);
	assert_announced();
	assert_log("AS4_PATH: sent by a 4-octet AS speaker: ignored (RFC 6793 §6)");
}

static void
test_row_large_communities(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0xc0, 0x20, 0x0b, 0, 0, 0xfc, 0x2b, 0, 0, 0, 1, 0, 0, 0);
	assert_withdrawn_all();
	assert_log("LARGE_COMMUNITIES: length 11 is not a non-zero multiple of 12: "
		   "treat-as-withdraw (RFC 8092 §6)");
	DECODE(&ebgp4, BASE, 0xc0, 0x20, 0x0c, 0, 0, 0xfc, 0x2b, 0, 0, 0, 1, 0, 0, 0, 2);
	assert_announced();
	assert_int_equal(u.attrs.large_communities_n, 1);
}

static void
test_row_otc(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0xc0, 0x23, 0x03, 0x00, 0xfc, 0x2b);
	assert_withdrawn_all();
	assert_log("OTC: length 3, expected 4: treat-as-withdraw (RFC 9234 §5)");
	DECODE(&ebgp4, BASE, 0xc0, 0x23, 0x04, 0x00, 0x00, 0xfc, 0x2b);
	assert_announced();
	assert_int_equal(u.attrs.otc, 64555);
}

static void
test_flags_mismatch(void **state)
{
	(void)state;
	/* ORIGIN marked optional. */
	DECODE(&ebgp4, 0xc0, 0x01, 0x01, 0x00, AS_PATH, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("ORIGIN: flags 0xc0, expected 0x40: treat-as-withdraw (RFC 7606 §3 c)");
	/* COMMUNITIES marked non-transitive. */
	DECODE(&ebgp4, BASE, 0x80, 0x08, 0x04, 0xff, 0xff, 0xff, 0x01);
	assert_withdrawn_all();
}

static void
test_duplicates_first_kept(void **state)
{
	(void)state;
	DECODE(&ebgp4, BASE, 0x40, 0x01, 0x01, 0x02);
	assert_announced();
	assert_int_equal(u.attrs.origin, BGP_ORIGIN_IGP);
	assert_log("ORIGIN: appears twice: later one discarded (RFC 7606 §3 g)");
}

static void
test_missing_mandatory(void **state)
{
	(void)state;
	DECODE(&ebgp4, ORIGIN, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("AS_PATH: missing: treat-as-withdraw (RFC 7606 §3 d)");
	DECODE(&ebgp4, ORIGIN, AS_PATH);
	assert_withdrawn_all();
	assert_log("NEXT_HOP: missing: treat-as-withdraw (RFC 7606 §3 d)");
	DECODE(&ebgp4, AS_PATH, NEXT_HOP);
	assert_withdrawn_all();
	assert_log("ORIGIN: missing: treat-as-withdraw (RFC 7606 §3 d)");
	/* Withdrawals alone need no attributes. */
	{
		const uint8_t body[] = {0x00, 0x04, 0x18, 0xcb, 0x00, 0x71, 0x00, 0x00};

		bgp_update_free(&u);
		bgp_update_decode(body, sizeof(body), &ebgp4, &u);
		assert_false(u.reset);
		assert_int_equal(u.withdraw.n, 1);
		assert_int_equal(u.nlog, 0);
	}
}

static void
test_attribute_length_overrun(void **state)
{
	(void)state;
	/* COMMUNITIES claims 8 bytes, 4 remain: RFC 7606 §4. */
	DECODE(&ebgp4, BASE, 0xc0, 0x08, 0x08, 0xff, 0xff, 0xff, 0x01);
	assert_withdrawn_all();
	assert_log("attributes: a length overruns the list: treat-as-withdraw (RFC 7606 §4)");
	/* On an IPv6 session the MP_REACH_NLRI may be what was lost: reset. */
	DECODE_NLRI(&ebgp6, ORIGIN, AS_PATH, 0xc0, 0x08, 0x08, 0xff);
	assert_true(u.reset);
	assert_int_equal(u.notif.subcode, BGP_UPD_MALFORMED_ATTR_LIST);
}

static void
test_unknown_attributes(void **state)
{
	uint8_t buf[4096];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};

	(void)state;
	/* Optional transitive type 99: kept byte for byte, Partial set on the way out. */
	DECODE(&ebgp4, BASE, 0xc0, 0x63, 0x03, 0xaa, 0xbb, 0xcc, 0x80, 0x64, 0x01, 0x01);
	assert_announced();
	assert_int_equal(u.attrs.unknown_len, 6);
	assert_memory_equal(bgp_attrs_unknown(&u.attrs), "\xe0\x63\x03\xaa\xbb\xcc", 6);
	bgp_attrs_encode(&w, &u.attrs, &ectx);
	assert_memory_equal(buf + w.len - 6, "\xe0\x63\x03\xaa\xbb\xcc", 6);
	/* An unknown well-known attribute: session reset (RFC 4271 §6.3). */
	DECODE(&ebgp4, BASE, 0x40, 0x63, 0x01, 0x00);
	assert_true(u.reset);
	assert_int_equal(u.notif.subcode, BGP_UPD_UNRECOGNIZED_WELLKNOWN);
	assert_memory_equal(u.notif.data, "\x40\x63\x01\x00", 4);
	assert_log("attribute 99: unrecognized well-known attribute: session reset (RFC 4271 §6.3)");
}

static void
test_nlri_errors_reset(void **state)
{
	const uint8_t bad_withdrawn[] = {0x00, 0x02, 0x21, 0xc0, 0x00, 0x00};
	const uint8_t attrs[] = {BASE};
	const uint8_t bad_nlri[] = {0x19, 0xcb, 0x00};

	(void)state;
	bgp_update_free(&u);
	bgp_update_decode(bad_withdrawn, sizeof(bad_withdrawn), &ebgp4, &u);
	assert_true(u.reset);
	assert_int_equal(u.notif.subcode, BGP_UPD_INVALID_NETWORK);
	decode(&ebgp4, attrs, sizeof(attrs), bad_nlri, sizeof(bad_nlri));
	assert_true(u.reset);
	assert_log("NLRI: syntax error: session reset (RFC 7606 §5.3)");
}

/* The 2023 incidents: a peer sends attributes others choked on; the session stays up. */
static void
test_published_incidents(void **state)
{
	(void)state;
	/* 23 tunnel encapsulation, malformed TLV: unknown optional transitive, passed on. */
	DECODE(&ebgp4, BASE, 0xc0, 0x17, 0x04, 0x00, 0x07, 0xff, 0xff);
	assert_announced();
	assert_int_equal(u.attrs.unknown_len, 7);
	/* 29 BGP-LS (optional non-transitive), garbage: dropped. */
	DECODE(&ebgp4, BASE, 0x80, 0x1d, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05);
	assert_announced();
	assert_int_equal(u.attrs.unknown_len, 0);
	/* 40 Prefix-SID, all zero (CVE-2023-38802 style): kept opaque, session up. */
	DECODE(&ebgp4, BASE, 0xc0, 0x28, 0x07, 0, 0, 0, 0, 0, 0, 0);
	assert_announced();
	assert_false(u.reset);
	/* 35 OTC of the wrong length: treat-as-withdraw, not a reset. */
	DECODE(&ebgp4, BASE, 0xc0, 0x23, 0x02, 0xfc, 0x2b);
	assert_withdrawn_all();
}

static void
roundtrip(const struct bgp_encode_ctx *ectx, const struct bgp_update_ctx *dctx, int family)
{
	uint8_t msg[4096];
	struct wr w = wr_init(msg, sizeof(msg));
	const uint8_t path[] = {0x02, 0x03, 0x00, 0x00, 0xfc, 0x2b, 0xfa, 0x56, 0xea, 0x01,
				0x00, 0x00, 0xfd, 0xe8};
	const uint32_t comm[] = {BGP_COMM_NO_EXPORT, 0xfc2b0001};
	struct bgp_attrs a;
	struct prefix p[3];
	size_t nw, na;
	char buf[128];

	bgp_attrs_build(&a, path, sizeof(path), comm, 2);
	if (family == AF_INET) {
		addr_parse("192.0.2.10", &a.next_hop);
		a.has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
		prefix_parse("203.0.113.0/24", &p[0], NULL);
		prefix_parse("198.18.0.0/15", &p[1], NULL);
		prefix_parse("10.0.0.0/8", &p[2], NULL);
	} else {
		addr_parse("2001:db8::a", &a.next_hop);
		prefix_parse("2001:db8:1::/48", &p[0], NULL);
		prefix_parse("2001:db8:2::/48", &p[1], NULL);
		prefix_parse("2001:db8::/32", &p[2], NULL);
	}
	a.med = 7;
	a.has |= BGP_HAS(BGP_ATTR_MED);
	bgp_update_encode(&w, BGP_MAX_LEN, NULL, 0, p, 3, &a, ectx, &nw, &na);
	assert_false(w.overflow);
	assert_int_equal(na, 3);
	bgp_update_free(&u);
	bgp_update_decode(msg + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, dctx, &u);
	for (int i = 0; i < u.nlog; i++)
		fprintf(stderr, "log: %s\n", u.log[i]);
	assert_false(u.reset);
	assert_int_equal(u.announce.n, 3);
	assert_int_equal(u.nlog, 0);
	bgp_as_path_format(bgp_attrs_as_path(&u.attrs), u.attrs.as_path_len, buf, sizeof(buf));
	assert_string_equal(buf, "64555 4200000001 65000");
	assert_true(bgp_attrs_has_community(&u.attrs, BGP_COMM_NO_EXPORT));
	assert_int_equal(u.attrs.med, 7);
	assert_int_equal(addr_cmp(&u.attrs.next_hop, &a.next_hop), 0);
	bgp_attrs_free(&a);
}

static void
test_encode_roundtrips(void **state)
{
	struct bgp_encode_ctx four = {.as4 = true, .ebgp = true}, two = {.as4 = false, .ebgp = true};

	(void)state;
	init_ctx();
	roundtrip(&four, &ebgp4, AF_INET);
	roundtrip(&four, &ebgp6, AF_INET6);
	/* To a 2-octet peer: AS_TRANS in AS_PATH, the real path in AS4_PATH, and back. */
	roundtrip(&two, &old4, AF_INET);
}

static void
test_packing_and_end_of_rib(void **state)
{
	uint8_t msg[BGP_MAX_LEN];
	struct wr w = wr_init(msg, sizeof(msg));
	struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};
	static struct prefix many[2000];
	const uint8_t path[] = {0x02, 0x01, 0x00, 0x00, 0xfc, 0x2b};
	struct bgp_attrs a;
	size_t nw, na, done = 0, msgs = 0;

	(void)state;
	init_ctx();
	for (int i = 0; i < 2000; i++) {
		many[i].addr.family = AF_INET;
		many[i].addr.b[0] = 10;
		many[i].addr.b[1] = (uint8_t)(i >> 8);
		many[i].addr.b[2] = (uint8_t)i;
		many[i].len = 24;
	}
	bgp_attrs_build(&a, path, sizeof(path), NULL, 0);
	addr_parse("192.0.2.10", &a.next_hop);
	a.has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
	/* Many prefixes per attribute set, every message within 4096 bytes. */
	while (done < 2000) {
		w = wr_init(msg, sizeof(msg));
		bgp_update_encode(&w, BGP_MAX_LEN, NULL, 0, many + done, 2000 - done, &a, &ectx, &nw,
				  &na);
		assert_false(w.overflow);
		assert_true(w.len <= BGP_MAX_LEN);
		assert_true(na > 900);
		bgp_update_free(&u);
		bgp_update_decode(msg + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, &ebgp4, &u);
		assert_int_equal(u.announce.n, na);
		done += na;
		msgs++;
	}
	assert_int_equal(msgs, 2);
	bgp_attrs_free(&a);
	w = wr_init(msg, sizeof(msg));
	bgp_end_of_rib_encode(&w, AF_INET6);
	bgp_update_free(&u);
	bgp_update_decode(msg + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, &ebgp6, &u);
	assert_true(u.end_of_rib);
}

/* An attribute set with ncomm communities (up to 16,639) for family, with a next hop. */
static void
big_attrs(struct bgp_attrs *a, int family, size_t ncomm)
{
	static uint32_t comm[(BGP_EXT_MAX_LEN + 1024) / 4];
	const uint8_t path[] = {0x02, 0x01, 0x00, 0x00, 0xfc, 0x2b};

	assert_true(ncomm <= sizeof(comm) / sizeof(comm[0]));
	for (size_t i = 0; i < ncomm; i++)
		comm[i] = 0xfc2b0000u + (uint32_t)i;
	bgp_attrs_build(a, path, sizeof(path), comm, ncomm);
	if (family == AF_INET) {
		addr_parse("192.0.2.10", &a->next_hop);
		a->has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
	} else {
		addr_parse("2001:db8::a", &a->next_hop);
	}
}

/*
 * Issue 13: attributes beyond 4073 bytes made the room computation wrap, and a
 * 4,460-byte UPDATE went to a peer without extended messages. Every size around
 * the limit, both families: a message never exceeds the peer's maximum, an
 * attribute set that cannot fit is refused (-1, nothing written), and one that
 * fits carries at least one prefix and decodes back.
 */
static void
test_encode_respects_max_len(void **state)
{
	static uint8_t msg[BGP_EXT_MAX_LEN];
	struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};
	static const int families[2] = {AF_INET, AF_INET6};
	static const size_t maxes[2] = {BGP_MAX_LEN, BGP_EXT_MAX_LEN};
	struct prefix p[64];

	(void)state;
	init_ctx();
	for (int f = 0; f < 2; f++) {
		for (int i = 0; i < 64; i++) {
			char buf[64];

			if (families[f] == AF_INET)
				snprintf(buf, sizeof(buf), "198.18.%d.0/24", i);
			else
				snprintf(buf, sizeof(buf), "2001:db8:%x::/48", i);
			assert_int_equal(prefix_parse(buf, &p[i], NULL), 0);
		}
		for (int m = 0; m < 2; m++) {
			/* Communities from well below to well above the limit, one at a time near it. */
			for (size_t ncomm = 0; ncomm * 4 < maxes[m] + 600;
			     ncomm += (ncomm * 4 + 200 < maxes[m] || ncomm * 4 > maxes[m] + 40) ? 97 : 1) {
				struct wr w = wr_init(msg, sizeof(msg));
				struct bgp_attrs a;
				size_t nw = 99, na = 99;
				int rc;

				big_attrs(&a, families[f], ncomm);
				rc = bgp_update_encode(&w, maxes[m], NULL, 0, p, 64, &a, &ectx, &nw, &na);
				assert_false(w.overflow);
				assert_true(w.len <= maxes[m]);
				assert_int_equal(nw, 0);
				assert_int_equal(rc == 0, bgp_update_fits(&a, &ectx, families[f], maxes[m]));
				if (rc != 0) {
					assert_int_equal(na, 0);
					assert_int_equal(w.len, 0);
				} else {
					assert_true(na >= 1);
					if (maxes[m] == BGP_MAX_LEN) {
						bgp_update_free(&u);
						bgp_update_decode(msg + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN,
								  families[f] == AF_INET ? &ebgp4 : &ebgp6,
								  &u);
						assert_false(u.reset);
						assert_int_equal(u.announce.n, na);
						assert_int_equal(u.attrs.communities_n, ncomm);
					}
				}
				bgp_attrs_free(&a);
			}
		}
	}
}

/*
 * bgp_update_fits answers an ordinary set from its size alone: never "fits" for
 * one that does not. Its worst case: a path of 4-octet ASNs toward a 2-octet
 * peer, sent twice (AS_PATH with AS_TRANS, then AS4_PATH); every length around
 * both limits, against the encoder's own answer.
 */
static void
test_fits_two_octet_peer(void **state)
{
	static uint8_t msg[BGP_EXT_MAX_LEN], path[20000];
	struct bgp_encode_ctx two = {.as4 = false, .ebgp = true};
	static const size_t maxes[2] = {BGP_MAX_LEN, BGP_EXT_MAX_LEN};
	struct prefix p;

	(void)state;
	assert_int_equal(prefix_parse("198.18.0.0/24", &p, NULL), 0);
	for (int m = 0; m < 2; m++) {
		for (size_t nasn = 0; nasn * 4 + 2 * (nasn / 255 + 1) < sizeof(path);
		     nasn += nasn * 6 + 300 < maxes[m] || nasn * 6 > maxes[m] + 300 ? 37 : 1) {
			struct wr w = wr_init(msg, sizeof(msg));
			struct bgp_attrs a;
			size_t len = 0, nw, na;
			int rc;

			for (size_t left = nasn; left > 0;) {
				size_t seg = left > 255 ? 255 : left;

				path[len++] = 2;  /* AS_SEQUENCE */
				path[len++] = (uint8_t)seg;
				for (size_t i = 0; i < seg; i++) {
					uint32_t asn = 4200000000u + (uint32_t)i;

					path[len++] = (uint8_t)(asn >> 24);
					path[len++] = (uint8_t)(asn >> 16);
					path[len++] = (uint8_t)(asn >> 8);
					path[len++] = (uint8_t)asn;
				}
				left -= seg;
			}
			bgp_attrs_build(&a, path, len, NULL, 0);
			addr_parse("192.0.2.10", &a.next_hop);
			a.has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
			rc = bgp_update_encode(&w, maxes[m], NULL, 0, &p, 1, &a, &two, &nw, &na);
			assert_true(w.len <= maxes[m]);
			assert_int_equal(rc == 0, bgp_update_fits(&a, &two, AF_INET, maxes[m]));
			bgp_attrs_free(&a);
		}
	}
}

/* Withdrawals alone always fit, whatever the attribute set that went before. */
static void
test_encode_withdraw_only(void **state)
{
	static uint8_t msg[BGP_EXT_MAX_LEN];
	struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};
	static struct prefix many[3000];
	struct bgp_attrs a;
	size_t nw, na, done = 0;

	(void)state;
	init_ctx();
	for (int i = 0; i < 3000; i++) {
		many[i].addr.family = AF_INET6;
		many[i].addr.b[0] = 0x20;
		many[i].addr.b[1] = 0x01;
		many[i].addr.b[2] = 0x0d;
		many[i].addr.b[3] = 0xb8;
		many[i].addr.b[4] = (uint8_t)(i >> 8);
		many[i].addr.b[5] = (uint8_t)i;
		many[i].len = 64;
	}
	/* Attributes too large to announce with, withdrawals still go (and nothing else). */
	big_attrs(&a, AF_INET6, 1100);
	while (done < 3000) {
		struct wr w = wr_init(msg, sizeof(msg));
		int rc = bgp_update_encode(&w, BGP_MAX_LEN, many + done, 3000 - done, many, 1, &a,
					   &ectx, &nw, &na);

		assert_int_equal(rc, -1);
		assert_int_equal(na, 0);
		assert_true(nw > 0);
		assert_true(w.len <= BGP_MAX_LEN);
		bgp_update_free(&u);
		bgp_update_decode(msg + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, &ebgp6, &u);
		assert_false(u.reset);
		assert_int_equal(u.withdraw.n, nw);
		assert_int_equal(u.announce.n, 0);
		done += nw;
	}
	bgp_attrs_free(&a);
}

static int
teardown(void **state)
{
	(void)state;
	bgp_update_free(&u);
	return 0;
}

/*
 * A 2-octet peer with extended messages sends an AS_PATH of 32,385 ASNs (65,024
 * bytes on the wire, 129,794 in 4-octet form): the whole path is kept, so loop
 * detection sees our AS at its very end, and a prepend grows it further.
 */
static void
test_long_as_path(void **state)
{
	enum { SEGS = 127, PER = 255, PATHLEN = SEGS * (2 + 2 * PER) };
	static uint8_t attrs[BGP_EXT_MAX_LEN];
	const uint8_t head[] = {ORIGIN, 0x50, BGP_ATTR_AS_PATH, PATHLEN >> 8, PATHLEN & 0xff};
	const uint8_t tail[] = {NEXT_HOP};
	size_t n = 0;
	const uint8_t *path;
	unsigned count = 0;

	(void)state;
	/* ORIGIN, then AS_PATH with the extended length flag (0x50), then NEXT_HOP. */
	memcpy(attrs, head, sizeof(head));
	n += sizeof(head);
	for (int s = 0; s < SEGS; s++) {
		attrs[n++] = BGP_AS_SEQUENCE;
		attrs[n++] = PER;
		for (int i = 0; i < PER; i++) {
			/* The peer's AS first, ours (64512) last, others between. */
			unsigned asn = s == 0 && i == 0		      ? 64555
				       : s == SEGS - 1 && i == PER - 1 ? 64512
								       : 65000 + (unsigned)(i % 100);

			attrs[n++] = (uint8_t)(asn >> 8);
			attrs[n++] = (uint8_t)asn;
		}
	}
	memcpy(attrs + n, tail, sizeof(tail));
	n += sizeof(tail);
	assert_true(4 + n + sizeof(nlri2) <= BGP_EXT_MAX_LEN - BGP_HEADER_LEN);
	decode(&old4, attrs, n, nlri2, sizeof(nlri2));
	assert_announced();
	assert_int_equal(u.attrs.as_path_len, (size_t)SEGS * (2 + 4 * PER));
	path = bgp_attrs_as_path(&u.attrs);
	assert_int_equal(bgp_as_path_length(path, u.attrs.as_path_len), SEGS * PER);
	assert_true(bgp_as_path_contains(path, u.attrs.as_path_len, 64512));
	assert_true(bgp_as_path_contains(path, u.attrs.as_path_len, 64555));
	/* Prepending keeps every AS, and the blob's other parts move with it. */
	bgp_attrs_prepend(&u.attrs, 64513);
	path = bgp_attrs_as_path(&u.attrs);
	assert_int_equal(u.attrs.as_path_len, (size_t)SEGS * (2 + 4 * PER) + 6);
	assert_true(bgp_as_path_contains(path, u.attrs.as_path_len, 64512));
	for (size_t off = 0; off < u.attrs.as_path_len; off += 2 + (size_t)path[off + 1] * 4)
		count += path[off + 1];
	assert_int_equal(count, SEGS * PER + 1);
	/* Such a path has no 16-bit attribute length: encoding it overflows, never wraps. */
	{
		static uint8_t out[4 * BGP_EXT_MAX_LEN];
		struct wr w = wr_init(out, sizeof(out));
		struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};

		bgp_attrs_encode(&w, &u.attrs, &ectx);
		assert_true(w.overflow);
	}
	bgp_update_free(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_update),
		cmocka_unit_test(test_row_origin),
		cmocka_unit_test(test_row_as_path),
		cmocka_unit_test(test_row_next_hop),
		cmocka_unit_test(test_row_med),
		cmocka_unit_test(test_row_local_pref),
		cmocka_unit_test(test_row_atomic_aggregate),
		cmocka_unit_test(test_row_aggregator),
		cmocka_unit_test(test_row_communities),
		cmocka_unit_test(test_row_originator_id_cluster_list),
		cmocka_unit_test(test_row_mp_reach),
		cmocka_unit_test(test_row_mp_unreach_and_end_of_rib),
		cmocka_unit_test(test_row_extended_communities),
		cmocka_unit_test(test_row_as4_path_and_as4_aggregator),
		cmocka_unit_test(test_row_large_communities),
		cmocka_unit_test(test_row_otc),
		cmocka_unit_test(test_flags_mismatch),
		cmocka_unit_test(test_duplicates_first_kept),
		cmocka_unit_test(test_missing_mandatory),
		cmocka_unit_test(test_attribute_length_overrun),
		cmocka_unit_test(test_unknown_attributes),
		cmocka_unit_test(test_nlri_errors_reset),
		cmocka_unit_test(test_published_incidents),
		cmocka_unit_test(test_encode_roundtrips),
		cmocka_unit_test(test_packing_and_end_of_rib),
		cmocka_unit_test(test_long_as_path),
		cmocka_unit_test(test_encode_respects_max_len),
		cmocka_unit_test(test_fits_two_octet_peer),
		cmocka_unit_test(test_encode_withdraw_only),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
