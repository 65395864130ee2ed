/*
 * libFuzzer target: the whole UPDATE decoder with RFC 7606 judgement. The first
 * byte picks the session (4-octet or 2-octet ASNs, eBGP or iBGP, IPv4 or IPv6);
 * the rest is the UPDATE body. Whatever it decodes to is encoded again and must
 * decode to the same prefixes without complaint; encoded for a 4,096-byte
 * peer and an extended-message one, every message fits its maximum.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "bgp/attr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[BGP_EXT_MAX_LEN];
	struct bgp_update_ctx ctx = {0};
	struct bgp_update_decoded u, again;
	struct bgp_encode_ctx ectx;
	struct wr w;
	size_t nw, na;
	int rc;

	if (size < 1)
		return 0;
	ctx.as4 = data[0] & 1;
	ctx.ebgp = data[0] & 2;
	ctx.family = (data[0] & 4) ? AF_INET6 : AF_INET;
	ctx.peer_as = ctx.as4 ? 4200000001u : 64555;
	addr_parse(ctx.family == AF_INET ? "192.0.2.1" : "2001:db8::1", &ctx.local);
	bgp_update_decode(data + 1, size - 1, &ctx, &u);
	assert(u.nlog <= BGP_UPDATE_LOG_MAX);
	if (u.reset) {
		assert(u.notif.code == BGP_ERR_UPDATE);
		assert(u.announce.n == 0 || u.attrs.blob == NULL);
	}
	for (size_t i = 0; i < u.withdraw.n; i++)
		assert(u.withdraw.v[i].len <= (u.withdraw.v[i].addr.family == AF_INET ? 32 : 128));
	if (!u.reset && u.announce.n > 0) {
		assert(u.attrs.has & BGP_HAS(BGP_ATTR_ORIGIN));
		assert(u.attrs.has & BGP_HAS(BGP_ATTR_AS_PATH));
		assert(u.attrs.origin <= BGP_ORIGIN_INCOMPLETE);
		bgp_as_path_length(bgp_attrs_as_path(&u.attrs), u.attrs.as_path_len);
		/* Round trip: what we would send decodes to the same prefixes. */
		ectx.as4 = ctx.as4;
		ectx.ebgp = ctx.ebgp;
		w = wr_init(msg, sizeof(msg));
		rc = bgp_update_encode(&w, BGP_EXT_MAX_LEN, NULL, 0, u.announce.v, u.announce.n,
				       &u.attrs, &ectx, &nw, &na);
		if (rc == 0 && !w.overflow && na > 0) {
			bgp_update_decode(msg + BGP_HEADER_LEN, w.len - BGP_HEADER_LEN, &ctx, &again);
			assert(!again.reset);
			assert(again.announce.n == na);
			for (size_t i = 0; i < na; i++)
				assert(prefix_cmp(&again.announce.v[i], &u.announce.v[i]) == 0);
			bgp_update_free(&again);
		}
		/* Every message for a 4,096-byte peer (and an extended one) fits its maximum,
		 * and an attribute set too large for it is refused, never sent oversized. */
		for (int m = 0; m < 2; m++) {
			size_t max = m == 0 ? BGP_MAX_LEN : BGP_EXT_MAX_LEN, done = 0;
			bool fits = bgp_update_fits(&u.attrs, &ectx, ctx.family, max);

			while (done < u.announce.n) {
				w = wr_init(msg, sizeof(msg));
				rc = bgp_update_encode(&w, max, NULL, 0, u.announce.v + done,
						       u.announce.n - done, &u.attrs, &ectx, &nw, &na);
				assert(!w.overflow);
				assert(w.len <= max);
				assert((rc == 0) == fits);
				if (rc != 0) {
					assert(na == 0 && w.len == 0);
					break;
				}
				assert(na > 0);
				done += na;
			}
		}
	}
	bgp_update_free(&u);
	return 0;
}
