/*
 * attr: UPDATE path attributes: decode, judge, keep, encode. Pure.
 *
 * Every attribute type has one row in a table (attr.c): its flags, its
 * length rule, its decoder, and what a malformation of it means under
 * RFC 7606 -- treat-as-withdraw, attribute discard, or session reset --
 * with the RFC section beside it. bgp_update_decode() applies the table
 * to a whole UPDATE and returns: the prefixes to withdraw (including
 * treat-as-withdraw ones), the prefixes to install with one complete
 * attribute set, and at most one reason to reset the session. The caller
 * never sees a half-decoded attribute set.
 *
 * AS paths are kept in 4-octet form whatever the peer speaks; the AS4_PATH
 * and AS4_AGGREGATOR of a 2-octet peer are merged back (RFC 6793 §4.2.3).
 */
#ifndef TABBY_BGP_ATTR_H
#define TABBY_BGP_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/msg.h"
#include "lib/addr.h"

enum bgp_attr_type {
	BGP_ATTR_ORIGIN = 1,
	BGP_ATTR_AS_PATH = 2,
	BGP_ATTR_NEXT_HOP = 3,
	BGP_ATTR_MED = 4,
	BGP_ATTR_LOCAL_PREF = 5,
	BGP_ATTR_ATOMIC_AGGREGATE = 6,
	BGP_ATTR_AGGREGATOR = 7,
	BGP_ATTR_COMMUNITIES = 8,
	BGP_ATTR_ORIGINATOR_ID = 9,
	BGP_ATTR_CLUSTER_LIST = 10,
	BGP_ATTR_MP_REACH = 14,
	BGP_ATTR_MP_UNREACH = 15,
	BGP_ATTR_EXT_COMMUNITIES = 16,
	BGP_ATTR_AS4_PATH = 17,
	BGP_ATTR_AS4_AGGREGATOR = 18,
	BGP_ATTR_LARGE_COMMUNITIES = 32,
	BGP_ATTR_OTC = 35,
};

enum { BGP_ORIGIN_IGP = 0, BGP_ORIGIN_EGP = 1, BGP_ORIGIN_INCOMPLETE = 2 };
enum { BGP_AS_SET = 1, BGP_AS_SEQUENCE = 2, BGP_AS_CONFED_SEQUENCE = 3, BGP_AS_CONFED_SET = 4 };

/* Well-known communities (RFC 1997). */
#define BGP_COMM_NO_EXPORT 0xFFFFFF01u
#define BGP_COMM_NO_ADVERTISE 0xFFFFFF02u
#define BGP_COMM_NO_EXPORT_SUBCONFED 0xFFFFFF03u
/* RFC 9494 §4.1 (long-lived graceful restart). */
#define BGP_COMM_LLGR_STALE 0xFFFF0006u
#define BGP_COMM_NO_LLGR 0xFFFF0007u

/* Bits of bgp_attrs.has, by what was present after judging. */
#define BGP_HAS(t) (UINT64_C(1) << (t))

/*
 * One attribute set. Variable parts point into one owned block (blob), so a
 * set is freed, copied, hashed and compared as a whole. An interned set's
 * (struct rib_attr) blob is part of its record: read it, copy it, never free
 * or grow it.
 */
struct bgp_attrs {
	uint64_t has;                  /* BGP_HAS(type) for types < 64 */
	uint32_t med, local_pref;
	uint32_t aggregator_as;
	uint32_t originator_id;
	uint32_t otc;
	/* Lengths and offsets into blob, 32-bit (a table holds tens of thousands of
	 * sets). The path's segments: type, count, count x 4-octet ASN; a 2-octet
	 * peer's 64 KB path doubles, so wider than an attribute length (loop
	 * detection must see the whole path). */
	uint32_t as_path_len;
	uint16_t communities_n, ext_communities_n, large_communities_n, cluster_list_n;
	uint16_t unknown_len;          /* unknown optional transitive ones, as on the wire */
	uint8_t origin;
	uint32_t blob_len;
	uint32_t off_as_path, off_communities, off_ext, off_large, off_cluster, off_unknown;
	struct addr next_hop;          /* NEXT_HOP, or MP_REACH's global next hop */
	struct addr next_hop_ll;       /* MP_REACH IPv6 link-local next hop, family 0 if none */
	struct addr aggregator_addr;
	uint8_t *blob;
};

const uint8_t *bgp_attrs_as_path(const struct bgp_attrs *a);
const uint8_t *bgp_attrs_communities(const struct bgp_attrs *a);   /* n x 4 bytes */
const uint8_t *bgp_attrs_ext_communities(const struct bgp_attrs *a);
const uint8_t *bgp_attrs_large_communities(const struct bgp_attrs *a);
const uint8_t *bgp_attrs_cluster_list(const struct bgp_attrs *a);
const uint8_t *bgp_attrs_unknown(const struct bgp_attrs *a);
bool bgp_attrs_has_community(const struct bgp_attrs *a, uint32_t community);
/* AS path length for best path selection (RFC 4271 §9.1.2.2: a set counts 1, confed 0). */
unsigned bgp_as_path_length(const uint8_t *path, size_t len);
bool bgp_as_path_contains(const uint8_t *path, size_t len, uint32_t asn);
/* "64555 64600 {65001 65002}" */
void bgp_as_path_format(const uint8_t *path, size_t len, char *buf, size_t buflen);
void bgp_attrs_free(struct bgp_attrs *a);
/* Puts asn in front of the AS_PATH (RFC 4271 §5.1.2). */
void bgp_attrs_prepend(struct bgp_attrs *a, uint32_t asn);
void bgp_attrs_copy(struct bgp_attrs *dst, const struct bgp_attrs *src);
/* Adds a standard (RFC 1997) or large (RFC 8092) community unless already there. */
#define BGP_ATTRS_LIST_MAX 4096
void bgp_attrs_add_community(struct bgp_attrs *a, uint32_t c);
void bgp_attrs_add_large_community(struct bgp_attrs *a, const uint32_t c[3]);
/* RFC 4456 §8: puts cluster_id in front of the CLUSTER_LIST. */
void bgp_attrs_prepend_cluster(struct bgp_attrs *a, uint32_t cluster_id);
bool bgp_attrs_cluster_list_has(const struct bgp_attrs *a, uint32_t cluster_id);
/* How many times asn appears in the path (allowas-in counts them). */
unsigned bgp_as_path_count(const uint8_t *path, size_t len, uint32_t asn);

/* What decoding an UPDATE needs to know about the session. */
struct bgp_update_ctx {
	bool as4;                      /* both sides announced 4-octet ASNs */
	bool ebgp;
	uint32_t peer_as;
	int family;                    /* the session's address family (AF_INET/AF_INET6) */
	struct addr local;             /* our address: a NEXT_HOP equal to it is refused */
};

#define BGP_UPDATE_LOG_MAX 16

struct bgp_prefixes {
	struct prefix *v;
	size_t n, cap;
};

struct bgp_update_decoded {
	struct bgp_prefixes withdraw;  /* withdrawn, MP_UNREACH, and treat-as-withdraw */
	struct bgp_prefixes announce;  /* with attrs */
	struct bgp_attrs attrs;
	bool reset;                    /* session reset: send notif */
	struct bgp_notif notif;
	bool end_of_rib;               /* RFC 4724 §2 */
	int end_of_rib_family;
	int nlog;
	char log[BGP_UPDATE_LOG_MAX][200];  /* one line per problem, with the RFC section */
};
/* bgp_update_decode clears everything before log, which must stay last. */
_Static_assert(offsetof(struct bgp_update_decoded, log) + sizeof(((struct bgp_update_decoded *)0)->log) ==
		       sizeof(struct bgp_update_decoded),
	       "log is the last member of struct bgp_update_decoded");

/* Decodes an UPDATE body (after the header). Always fills out; free with bgp_update_free. */
void bgp_update_decode(const uint8_t *body, size_t len, const struct bgp_update_ctx *ctx,
		       struct bgp_update_decoded *out);
void bgp_update_free(struct bgp_update_decoded *u);
void bgp_prefixes_push(struct bgp_prefixes *ps, const struct prefix *p);
void bgp_prefixes_free(struct bgp_prefixes *ps);

/* What encoding needs to know about the receiving session. */
struct bgp_encode_ctx {
	bool as4;                      /* the peer speaks 4-octet ASNs (else AS4_PATH is added) */
	bool ebgp;
};

/*
 * Encodes the attributes (not MP_REACH) in canonical order. Unknown optional
 * transitive attributes go out unchanged but with the Partial bit (RFC 4271 §5).
 */
void bgp_attrs_encode(struct wr *w, const struct bgp_attrs *a, const struct bgp_encode_ctx *ctx);
/*
 * A whole UPDATE message of at most max_len bytes: IPv4 prefixes in the
 * withdrawn/NLRI fields, IPv6 in MP_UNREACH/MP_REACH (with a.next_hop, and
 * next_hop_ll if set). Prefixes that do not fit are left for another message:
 * *nw / *na say how many were used. Returns -1 (announcing nothing) when the
 * attribute set cannot fit max_len with even one prefix; nothing at all is
 * written when no prefix went in.
 */
int bgp_update_encode(struct wr *w, size_t max_len, const struct prefix *withdraw, size_t nwithdraw,
		      const struct prefix *announce, size_t nannounce, const struct bgp_attrs *a,
		      const struct bgp_encode_ctx *ctx, size_t *nw, size_t *na);
/* Whether a, encoded for ctx, fits a message of max_len with any one prefix of family. */
bool bgp_update_fits(const struct bgp_attrs *a, const struct bgp_encode_ctx *ctx, int family,
		     size_t max_len);
/* The End-of-RIB marker for a family (RFC 4724 §2). */
void bgp_end_of_rib_encode(struct wr *w, int family);

/* Builds an attribute set from parts (origination and tests). as_path in segment form. */
void bgp_attrs_build(struct bgp_attrs *a, const uint8_t *as_path, size_t as_path_len,
		     const uint32_t *communities, size_t ncomm);

#endif
