/*
 * Graceful restart (RFC 4724) with Notification support (RFC 8538): the
 * capability bytes tabby sends and reads back, and which ways a session can end
 * keep the peer's routes (stale) and which drop them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "bgp/gr.h"

/* Whether the OPEN in buf[0..len) holds the capability bytes cap[0..n). */
static bool
has_bytes(const uint8_t *buf, size_t len, const uint8_t *cap, size_t n)
{
	for (size_t i = BGP_HEADER_LEN; i + n <= len; i++)
		if (memcmp(buf + i, cap, n) == 0)
			return true;
	return false;
}

static void
ours_and_peer(struct bgp_open *ours, struct bgp_open *peer, bool peer_n)
{
	bgp_open_ours(ours, 64512, 90, 0xc0000201, true, false);
	bgp_gr_ours(ours, BGP_AFI_IPV4, 120, false);
	bgp_open_ours(peer, 65010, 90, 0xc000020a, true, false);
	bgp_gr_ours(peer, BGP_AFI_IPV4, 60, false);
	peer->gr_notification = peer_n;
}

/* The capability on the wire: code 64, R and N bits, 12-bit time, one AFI/SAFI with F. */
static void
capability_bytes(void **state)
{
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_open o, back;
	struct bgp_notif err;
	static const uint8_t cap[] = {64, 6, 0xc0 | 0x00, 0x78, 0, 1, 1, 0x80};
	bool fwd;

	(void)state;
	bgp_open_ours(&o, 64512, 90, 0xc0000201, true, false);
	bgp_gr_ours(&o, BGP_AFI_IPV4, 120, true);
	bgp_open_encode(&w, &o);
	assert_false(w.overflow);
	/* 0x8000 R | 0x4000 N | 120 = 0xc078 */
	assert_true(has_bytes(buf, w.len, cap, sizeof(cap)));
	assert_int_equal(bgp_open_decode(buf + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, &back, &err),
			 0);
	assert_true(back.has_gr);
	assert_true(back.gr_restarted);
	assert_true(back.gr_notification);
	assert_int_equal(back.gr_restart_time, 120);
	assert_true(bgp_gr_peer_af(&back, BGP_AFI_IPV4, &fwd));
	assert_true(fwd);
	assert_false(bgp_gr_peer_af(&back, BGP_AFI_IPV6, &fwd));
	/* Longer than 12 bits is cut to the maximum. */
	bgp_gr_ours(&o, BGP_AFI_IPV6, 5000, false);
	assert_int_equal(o.gr_restart_time, BGP_GR_RESTART_TIME_MAX);
	assert_false(o.gr_restarted);
}

/* RFC 9494 §3: code 71, then AFI, SAFI, flags and a 24-bit stale time per family. */
static void
llgr_capability(void **state)
{
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_open o, back;
	struct bgp_notif err;
	static const uint8_t cap[] = {71, 7, 0, 2, 1, 0x80, 0x01, 0x02, 0x03};

	(void)state;
	bgp_open_ours(&o, 64512, 90, 0xc0000201, false, true);
	bgp_llgr_ours(&o, BGP_AFI_IPV6, 0x010203);
	bgp_open_encode(&w, &o);
	assert_true(has_bytes(buf, w.len, cap, sizeof(cap)));
	assert_int_equal(bgp_open_decode(buf + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, &back, &err),
			 0);
	assert_true(back.has_llgr);
	assert_int_equal(bgp_llgr_stale_time(&back, BGP_AFI_IPV6), 0x010203);
	assert_int_equal(bgp_llgr_stale_time(&back, BGP_AFI_IPV4), 0);
	back.has_llgr = false;
	assert_int_equal(bgp_llgr_stale_time(&back, BGP_AFI_IPV6), 0);
}

static void
tcp_close_keeps_routes(void **state)
{
	struct bgp_open ours, peer;

	(void)state;
	ours_and_peer(&ours, &peer, false);
	assert_true(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_TCP, NULL));
	/* Not for a family the peer does not cover, nor without its capability. */
	assert_false(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV6, BGP_GR_DOWN_TCP, NULL));
	peer.has_gr = false;
	assert_false(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_TCP, NULL));
	/* Nor when we did not announce it. */
	ours_and_peer(&ours, &peer, true);
	ours.has_gr = false;
	assert_false(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_TCP, NULL));
}

static void
notification_needs_n_bit(void **state)
{
	struct bgp_open ours, peer;
	struct bgp_notif hold, reset, hard, shut;

	(void)state;
	bgp_notif_set(&hold, BGP_ERR_HOLD, 0, NULL, 0);
	bgp_notif_set(&reset, BGP_ERR_CEASE, BGP_CEASE_ADMIN_RESET, NULL, 0);
	bgp_notif_set(&shut, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, NULL, 0);
	hard = shut;
	bgp_gr_hard_reset(&hard);
	/* RFC 4724 alone: any NOTIFICATION ends the graceful restart. */
	ours_and_peer(&ours, &peer, false);
	assert_false(bgp_gr_notification(&ours, &peer));
	assert_false(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_NOTIF_RECEIVED,
					 &reset));
	assert_false(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_NOTIF_SENT, &hold));
	/* RFC 8538: a Cease that is not a Hard Reset is a restart; so is our hold expiry. */
	ours_and_peer(&ours, &peer, true);
	assert_true(bgp_gr_notification(&ours, &peer));
	assert_true(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_NOTIF_RECEIVED,
					&reset));
	assert_true(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_NOTIF_RECEIVED,
					&shut));
	assert_false(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_NOTIF_RECEIVED,
					 &hard));
	assert_true(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_NOTIF_SENT, &hold));
	/* Our own Cease (deconfigured, too many prefixes) ends it for good. */
	assert_false(bgp_gr_keeps_routes(&ours, &peer, BGP_AFI_IPV4, BGP_GR_DOWN_NOTIF_SENT, &shut));
}

static void
hard_reset_wraps(void **state)
{
	struct bgp_notif n;

	(void)state;
	bgp_notif_shutdown(&n, BGP_CEASE_ADMIN_SHUTDOWN, "bye");
	assert_true(bgp_gr_needs_hard_reset(&n));
	bgp_gr_hard_reset(&n);
	assert_int_equal(n.code, BGP_ERR_CEASE);
	assert_int_equal(n.subcode, BGP_CEASE_HARD_RESET);
	/* code, subcode, then the RFC 9003 length and text of the original. */
	assert_int_equal(n.data_len, 2 + 1 + 3);
	assert_memory_equal(n.data, "\x06\x02\x03" "bye", 6);
	assert_true(bgp_gr_needs_hard_reset(&(struct bgp_notif){.code = 6, .subcode = 1}));
	assert_true(bgp_gr_needs_hard_reset(&(struct bgp_notif){.code = 6, .subcode = 3}));
	assert_false(bgp_gr_needs_hard_reset(&(struct bgp_notif){.code = 6, .subcode = 4}));
	assert_false(bgp_gr_needs_hard_reset(&(struct bgp_notif){.code = 4, .subcode = 0}));
}

/* What a Hard Reset carries comes back out, for logs and status. */
static void
hard_reset_inner_and_name(void **state)
{
	struct bgp_notif n, inner;
	char name[BGP_GR_NAME_MAX];

	(void)state;
	bgp_notif_shutdown(&n, BGP_CEASE_ADMIN_SHUTDOWN, "decommissioned");
	assert_int_equal(bgp_gr_hard_reset_inner(&n, &inner), -1);
	assert_string_equal(bgp_gr_notif_name(&n, name, sizeof(name)), "Administrative shutdown");
	bgp_gr_hard_reset(&n);
	assert_int_equal(bgp_gr_hard_reset_inner(&n, &inner), 0);
	assert_int_equal(inner.code, BGP_ERR_CEASE);
	assert_int_equal(inner.subcode, BGP_CEASE_ADMIN_SHUTDOWN);
	assert_int_equal(inner.data_len, 1 + 14);
	assert_memory_equal(inner.data + 1, "decommissioned", 14);
	assert_string_equal(bgp_gr_notif_name(&n, name, sizeof(name)),
			    "Hard reset (Administrative shutdown)");
	/* A Hard Reset too short to carry anything is named alone. */
	bgp_notif_set(&n, BGP_ERR_CEASE, BGP_CEASE_HARD_RESET, "\x06", 1);
	assert_int_equal(bgp_gr_hard_reset_inner(&n, &inner), -1);
	assert_string_equal(bgp_gr_notif_name(&n, name, sizeof(name)), "Hard reset");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(capability_bytes),
		cmocka_unit_test(llgr_capability),
		cmocka_unit_test(tcp_close_keeps_routes),
		cmocka_unit_test(notification_needs_n_bit),
		cmocka_unit_test(hard_reset_wraps),
		cmocka_unit_test(hard_reset_inner_and_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
