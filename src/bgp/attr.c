/* Path attributes and the RFC 7606 judgement of an UPDATE. */
#include "bgp/attr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"

/* What a malformed attribute costs (RFC 7606 §2). */
enum fail { WITHDRAW, DISCARD, RESET };

static const char *const fail_names[] = {
	[WITHDRAW] = "treat-as-withdraw",
	[DISCARD] = "attribute discarded",
	[RESET] = "session reset",
};

/* A growable byte buffer for the variable parts while decoding. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->cap - b->len < n) {
		b->cap = (b->len + n) * 2 + 16;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	buf_put(b, x, 4);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct dec {
	const struct bgp_update_ctx *ctx;
	struct bgp_update_decoded *out;
	struct bgp_attrs a;
	struct buf as_path, as4_path, comm, ext, large, cluster, unknown;
	bool withdraw_all;
	bool seen[256];
	bool mp_reach, mp_unreach;
	bool as4_path_ok, as4_agg;
	uint32_t as4_agg_as;
	struct addr as4_agg_addr;
	int mp_reach_family;
	size_t nlri_announce;       /* prefixes announced in the NLRI field */
};

static void
logf_(struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
logf_(struct dec *d, const char *fmt, ...)
{
	struct bgp_update_decoded *o = d->out;
	va_list ap;

	if (o->nlog >= BGP_UPDATE_LOG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(o->log[o->nlog++], sizeof(o->log[0]), fmt, ap);
	va_end(ap);
}

/* A session reset: the NOTIFICATION carries the whole erroneous attribute (§6.3). */
static void
reset(struct dec *d, uint8_t subcode, const struct bgp_attr_raw *r)
{
	uint8_t data[BGP_NOTIF_DATA_MAX];
	struct wr w = wr_init(data, sizeof(data));

	if (d->out->reset)
		return;
	d->out->reset = true;
	if (r != NULL) {
		wr_u8(&w, r->flags);
		wr_u8(&w, r->type);
		if (r->flags & BGP_ATTR_EXTLEN)
			wr_u16(&w, r->len);
		else
			wr_u8(&w, (uint8_t)r->len);
		wr_bytes(&w, r->val, r->len);
	}
	bgp_notif_set(&d->out->notif, BGP_ERR_UPDATE, subcode, data, w.overflow ? 0 : w.len);
}

/* Decoder outcome: kept, ignored (not malformed, just not used), or malformed. */
enum { KEEP = 0, IGNORE = 1, MALFORMED = -1 };

typedef int (*decode_fn)(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n);

static int
dec_origin(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	if (r->val[0] > BGP_ORIGIN_INCOMPLETE) {
		snprintf(why, n, "value %u is not IGP, EGP or INCOMPLETE", r->val[0]);
		return MALFORMED;
	}
	d->a.origin = r->val[0];
	return KEEP;
}

/* Parses AS_PATH or AS4_PATH segments into 4-octet form. */
static int
parse_path(const struct bgp_attr_raw *r, unsigned asn_size, bool allow_confed, struct buf *out,
	   char *why, size_t n)
{
	struct rd rd = rd_init(r->val, r->len);

	while (rd_left(&rd) > 0) {
		uint8_t type, count;
		const uint8_t *asns;

		if (rd_u8(&rd, &type) != 0 || rd_u8(&rd, &count) != 0) {
			snprintf(why, n, "segment header cut short");
			return MALFORMED;
		}
		if (type < BGP_AS_SET || type > BGP_AS_CONFED_SET) {
			snprintf(why, n, "segment type %u is not AS_SET, AS_SEQUENCE or a "
					 "confederation segment", type);
			return MALFORMED;
		}
		if (count == 0) {
			snprintf(why, n, "empty segment");
			return MALFORMED;
		}
		if (rd_bytes(&rd, (size_t)count * asn_size, &asns) != 0) {
			snprintf(why, n, "segment of %u ASNs overruns the attribute", count);
			return MALFORMED;
		}
		if (!allow_confed && type >= BGP_AS_CONFED_SEQUENCE) {
			snprintf(why, n, "confederation segment from outside the confederation");
			return MALFORMED;
		}
		buf_put(out, &type, 1);
		buf_put(out, &count, 1);
		for (unsigned i = 0; i < count; i++)
			buf_u32(out, asn_size == 4 ? get_u32(asns + 4 * i)
						   : (uint32_t)(asns[2 * i] << 8 | asns[2 * i + 1]));
	}
	return KEEP;
}

static int
dec_as_path(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	/* RFC 5065 §5.3: confederation segments only from inside (we run no confederation). */
	return parse_path(r, d->ctx->as4 ? 4 : 2, !d->ctx->ebgp, &d->as_path, why, n);
}

/* A loopback next hop is only believable from a peer on loopback (one machine, tests, demos). */
static bool
loopback_peer(const struct dec *d, const struct addr *nh)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	const struct addr *l = &d->ctx->local;
	bool nh_lo = addr_is_v4(nh) ? nh->b[0] == 127 : memcmp(nh->b, v6_loopback, 16) == 0;
	bool l_lo = addr_is_v4(l) ? l->b[0] == 127 : memcmp(l->b, v6_loopback, 16) == 0;

	return nh_lo && l_lo && l->family == nh->family;
}

static int
dec_next_hop(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	struct addr a = {.family = AF_INET};
	const char *bad;

	memcpy(a.b, r->val, 4);
	if ((bad = addr_not_unicast(&a)) != NULL && !loopback_peer(d, &a)) {
		snprintf(why, n, "%u.%u.%u.%u is not a unicast address (%s)", a.b[0], a.b[1], a.b[2],
			 a.b[3], bad);
		return MALFORMED;
	}
	if (addr_cmp(&a, &d->ctx->local) == 0) {
		snprintf(why, n, "it is our own address");
		return MALFORMED;
	}
	d->a.next_hop = a;
	return KEEP;
}

static int
dec_med(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	(void)why;
	(void)n;
	d->a.med = get_u32(r->val);
	return KEEP;
}

static int
dec_local_pref(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	/* RFC 7606 §7.5: from an external peer it is discarded. */
	if (d->ctx->ebgp) {
		snprintf(why, n, "sent by an external peer");
		return IGNORE;
	}
	d->a.local_pref = get_u32(r->val);
	return KEEP;
}

static int
dec_atomic(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	(void)d;
	(void)r;
	(void)why;
	(void)n;
	return KEEP;
}

static int
dec_aggregator(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	unsigned asn = d->ctx->as4 ? 4 : 2;

	/* RFC 6793 §3: 8 octets between 4-octet speakers, else 6. */
	if (r->len != asn + 4) {
		snprintf(why, n, "length %u, expected %u", r->len, asn + 4);
		return MALFORMED;
	}
	d->a.aggregator_as = asn == 4 ? get_u32(r->val) : (uint32_t)(r->val[0] << 8 | r->val[1]);
	d->a.aggregator_addr.family = AF_INET;
	memcpy(d->a.aggregator_addr.b, r->val + asn, 4);
	return KEEP;
}

static int
dec_communities(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	(void)why;
	(void)n;
	buf_put(&d->comm, r->val, r->len);
	return KEEP;
}

static int
dec_originator(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	/* RFC 4456 is internal to an AS: an external peer's is not believed. */
	if (d->ctx->ebgp) {
		snprintf(why, n, "sent by an external peer");
		return IGNORE;
	}
	d->a.originator_id = get_u32(r->val);
	return KEEP;
}

static int
dec_cluster(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	if (d->ctx->ebgp) {
		snprintf(why, n, "sent by an external peer");
		return IGNORE;
	}
	buf_put(&d->cluster, r->val, r->len);
	return KEEP;
}

/* Reads NLRI of one family into a list; -1 on a syntax error. */
static int
read_nlri(struct rd *rd, int family, struct bgp_prefixes *into)
{
	struct prefix p;
	int rc;

	while ((rc = bgp_nlri_next(rd, family, &p)) > 0)
		bgp_prefixes_push(into, &p);
	return rc;
}

static int
afi_family(uint16_t afi, uint8_t safi)
{
	if (safi != BGP_SAFI_UNICAST)
		return 0;
	return afi == BGP_AFI_IPV4 ? AF_INET : afi == BGP_AFI_IPV6 ? AF_INET6 : 0;
}

static int
dec_mp_reach(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	struct rd rd = rd_init(r->val, r->len);
	const uint8_t *nh;
	uint16_t afi;
	uint8_t safi, nhlen, reserved;
	int family;
	const char *bad;

	if (rd_u16(&rd, &afi) != 0 || rd_u8(&rd, &safi) != 0 || rd_u8(&rd, &nhlen) != 0 ||
	    rd_bytes(&rd, nhlen, &nh) != 0 || rd_u8(&rd, &reserved) != 0) {
		snprintf(why, n, "next hop cut short, the NLRI cannot be found");
		return MALFORMED;
	}
	family = afi_family(afi, safi);
	/* RFC 4760 §7: an address family we did not negotiate is ignored. */
	if (family == 0 || family != d->ctx->family) {
		snprintf(why, n, "AFI %u / SAFI %u was not negotiated", afi, safi);
		return IGNORE;
	}
	/* RFC 7606 §7.11: a next hop of unexpected length hides the NLRI. */
	if (family == AF_INET ? nhlen != 4 : nhlen != 16 && nhlen != 32) {
		snprintf(why, n, "next hop length %u, expected %s", nhlen,
			 family == AF_INET ? "4" : "16 or 32");
		return MALFORMED;
	}
	d->mp_reach_family = family;
	if (read_nlri(&rd, family, &d->out->announce) != 0) {
		snprintf(why, n, "NLRI syntax error");
		return MALFORMED;
	}
	d->a.next_hop.family = family;
	memcpy(d->a.next_hop.b, nh, family == AF_INET ? 4 : 16);
	if (nhlen == 32) {
		d->a.next_hop_ll.family = AF_INET6;
		memcpy(d->a.next_hop_ll.b, nh + 16, 16);
	}
	/* A semantically wrong next hop: the NLRI are known, so only they go (RFC 7606 §7.11). */
	if (((bad = addr_not_unicast(&d->a.next_hop)) != NULL && !loopback_peer(d, &d->a.next_hop)) ||
	    (family == AF_INET6 && d->a.next_hop.b[0] == 0xfe && (d->a.next_hop.b[1] & 0xc0) == 0x80) ||
	    addr_cmp(&d->a.next_hop, &d->ctx->local) == 0) {
		char a[ADDR_STRLEN];

		addr_format(&d->a.next_hop, a);
		logf_(d, "MP_REACH_NLRI: next hop %s is not a usable global unicast address: "
			 "treat-as-withdraw (RFC 7606 §7.11)", a);
		d->withdraw_all = true;
	}
	return KEEP;
}

static int
dec_mp_unreach(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	struct rd rd = rd_init(r->val, r->len);
	uint16_t afi;
	uint8_t safi;
	int family;

	if (rd_u16(&rd, &afi) != 0 || rd_u8(&rd, &safi) != 0) {
		snprintf(why, n, "shorter than AFI and SAFI");
		return MALFORMED;
	}
	family = afi_family(afi, safi);
	if (family == 0 || family != d->ctx->family) {
		snprintf(why, n, "AFI %u / SAFI %u was not negotiated", afi, safi);
		return IGNORE;
	}
	if (read_nlri(&rd, family, &d->out->withdraw) != 0) {
		snprintf(why, n, "NLRI syntax error");
		return MALFORMED;
	}
	return KEEP;
}

static int
dec_ext_communities(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	(void)why;
	(void)n;
	buf_put(&d->ext, r->val, r->len);
	return KEEP;
}

static int
dec_as4_path(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	/* RFC 6793 §4.1: between 4-octet speakers it has no business and is ignored. */
	if (d->ctx->as4) {
		snprintf(why, n, "sent by a 4-octet AS speaker");
		return IGNORE;
	}
	/* RFC 6793 §6: no confederation segments in AS4_PATH. */
	if (parse_path(r, 4, false, &d->as4_path, why, n) != KEEP) {
		d->as4_path.len = 0;
		return MALFORMED;
	}
	d->as4_path_ok = true;
	return KEEP;
}

static int
dec_as4_aggregator(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	if (d->ctx->as4) {
		snprintf(why, n, "sent by a 4-octet AS speaker");
		return IGNORE;
	}
	d->as4_agg = true;
	d->as4_agg_as = get_u32(r->val);
	d->as4_agg_addr.family = AF_INET;
	memcpy(d->as4_agg_addr.b, r->val + 4, 4);
	return KEEP;
}

static int
dec_large(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	(void)why;
	(void)n;
	buf_put(&d->large, r->val, r->len);
	return KEEP;
}

static int
dec_otc(struct dec *d, const struct bgp_attr_raw *r, char *why, size_t n)
{
	(void)why;
	(void)n;
	d->a.otc = get_u32(r->val);
	return KEEP;
}

enum len_rule { LEN_EXACT, LEN_MULTIPLE, LEN_MIN, LEN_ANY };

#define WK (BGP_ATTR_TRANSITIVE)                          /* well-known: transitive, not optional */
#define OT (BGP_ATTR_OPTIONAL | BGP_ATTR_TRANSITIVE)      /* optional transitive */
#define ON (BGP_ATTR_OPTIONAL)                            /* optional non-transitive */

/*
 * The table. flags: the Optional and Transitive bits the type must carry (a
 * mismatch is treat-as-withdraw, RFC 7606 §3 c). len: the length rule. fail:
 * what a malformation costs. ref: where that is written.
 */
static const struct attr_row {
	uint8_t type;
	const char *name;
	uint8_t flags;
	enum len_rule rule;
	uint16_t len;
	enum fail fail;
	const char *ref;
	decode_fn decode;
} rows[] = {
	{BGP_ATTR_ORIGIN, "ORIGIN", WK, LEN_EXACT, 1, WITHDRAW, "RFC 7606 §7.1", dec_origin},
	{BGP_ATTR_AS_PATH, "AS_PATH", WK, LEN_ANY, 0, WITHDRAW, "RFC 7606 §7.2", dec_as_path},
	{BGP_ATTR_NEXT_HOP, "NEXT_HOP", WK, LEN_EXACT, 4, WITHDRAW, "RFC 7606 §7.3", dec_next_hop},
	{BGP_ATTR_MED, "MULTI_EXIT_DISC", ON, LEN_EXACT, 4, WITHDRAW, "RFC 7606 §7.4", dec_med},
	{BGP_ATTR_LOCAL_PREF, "LOCAL_PREF", WK, LEN_EXACT, 4, WITHDRAW, "RFC 7606 §7.5",
	 dec_local_pref},
	{BGP_ATTR_ATOMIC_AGGREGATE, "ATOMIC_AGGREGATE", WK, LEN_EXACT, 0, DISCARD, "RFC 7606 §7.6",
	 dec_atomic},
	{BGP_ATTR_AGGREGATOR, "AGGREGATOR", OT, LEN_ANY, 0, DISCARD, "RFC 7606 §7.7",
	 dec_aggregator},
	{BGP_ATTR_COMMUNITIES, "COMMUNITIES", OT, LEN_MULTIPLE, 4, WITHDRAW, "RFC 7606 §7.8",
	 dec_communities},
	{BGP_ATTR_ORIGINATOR_ID, "ORIGINATOR_ID", ON, LEN_EXACT, 4, WITHDRAW, "RFC 7606 §7.9",
	 dec_originator},
	{BGP_ATTR_CLUSTER_LIST, "CLUSTER_LIST", ON, LEN_MULTIPLE, 4, WITHDRAW, "RFC 7606 §7.10",
	 dec_cluster},
	{BGP_ATTR_MP_REACH, "MP_REACH_NLRI", ON, LEN_MIN, 5, RESET, "RFC 7606 §7.11",
	 dec_mp_reach},
	{BGP_ATTR_MP_UNREACH, "MP_UNREACH_NLRI", ON, LEN_MIN, 3, RESET, "RFC 7606 §7.11",
	 dec_mp_unreach},
	{BGP_ATTR_EXT_COMMUNITIES, "EXTENDED_COMMUNITIES", OT, LEN_MULTIPLE, 8, WITHDRAW,
	 "RFC 7606 §7.14", dec_ext_communities},
	{BGP_ATTR_AS4_PATH, "AS4_PATH", OT, LEN_ANY, 0, DISCARD, "RFC 6793 §6", dec_as4_path},
	{BGP_ATTR_AS4_AGGREGATOR, "AS4_AGGREGATOR", OT, LEN_EXACT, 8, DISCARD, "RFC 6793 §6",
	 dec_as4_aggregator},
	{BGP_ATTR_LARGE_COMMUNITIES, "LARGE_COMMUNITIES", OT, LEN_MULTIPLE, 12, WITHDRAW,
	 "RFC 8092 §6", dec_large},
	{BGP_ATTR_OTC, "OTC", OT, LEN_EXACT, 4, WITHDRAW, "RFC 9234 §5", dec_otc},
};

static const struct attr_row *
row_of(uint8_t type)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].type == type)
			return &rows[i];
	return NULL;
}

static bool
length_ok(const struct attr_row *row, uint16_t len, char *why, size_t n)
{
	switch (row->rule) {
	case LEN_EXACT:
		if (len == row->len)
			return true;
		snprintf(why, n, "length %u, expected %u", len, row->len);
		return false;
	case LEN_MULTIPLE:
		if (len > 0 && len % row->len == 0)
			return true;
		snprintf(why, n, "length %u is not a non-zero multiple of %u", len, row->len);
		return false;
	case LEN_MIN:
		if (len >= row->len)
			return true;
		snprintf(why, n, "length %u, at least %u needed", len, row->len);
		return false;
	case LEN_ANY:
		return true;
	}
	return false;
}

static void
malformed(struct dec *d, const struct attr_row *row, const struct bgp_attr_raw *r, const char *why,
	  enum fail fail, const char *ref)
{
	logf_(d, "%s: %s: %s (%s)", row->name, why, fail_names[fail], ref);
	switch (fail) {
	case WITHDRAW:
		d->withdraw_all = true;
		break;
	case DISCARD:
		d->a.has &= ~BGP_HAS(row->type);
		break;
	case RESET:
		reset(d, BGP_UPD_OPTIONAL_ATTR, r);
		break;
	}
}

static void
unknown_attr(struct dec *d, const struct bgp_attr_raw *r)
{
	uint8_t hdr[4];
	size_t hl = 0;

	if (!(r->flags & BGP_ATTR_OPTIONAL)) {
		/* RFC 4271 §6.3: a well-known attribute we do not know. */
		logf_(d, "attribute %u: unrecognized well-known attribute: session reset "
			 "(RFC 4271 §6.3)", r->type);
		reset(d, BGP_UPD_UNRECOGNIZED_WELLKNOWN, r);
		return;
	}
	if (!(r->flags & BGP_ATTR_TRANSITIVE))
		return;  /* §5: unknown optional non-transitive ones are quietly dropped */
	/* §5: unknown optional transitive ones travel on unchanged, marked Partial. */
	hdr[hl++] = (uint8_t)(r->flags | BGP_ATTR_PARTIAL);
	hdr[hl++] = r->type;
	if (r->flags & BGP_ATTR_EXTLEN) {
		hdr[hl++] = (uint8_t)(r->len >> 8);
		hdr[hl++] = (uint8_t)r->len;
	} else {
		hdr[hl++] = (uint8_t)r->len;
	}
	buf_put(&d->unknown, hdr, hl);
	buf_put(&d->unknown, r->val, r->len);
}

static void
one_attr(struct dec *d, const struct bgp_attr_raw *r)
{
	const struct attr_row *row = row_of(r->type);
	char why[160] = "";
	int rc;

	if (d->seen[r->type]) {
		/* RFC 7606 §3 g: duplicates are discarded, but two MP attributes hide NLRI. */
		if (r->type == BGP_ATTR_MP_REACH || r->type == BGP_ATTR_MP_UNREACH) {
			logf_(d, "%s: appears twice: session reset (RFC 7606 §3 g)", row->name);
			reset(d, BGP_UPD_MALFORMED_ATTR_LIST, NULL);
		} else {
			logf_(d, "%s: appears twice: later one discarded (RFC 7606 §3 g)",
			      row ? row->name : "attribute");
		}
		return;
	}
	d->seen[r->type] = true;
	if (row == NULL) {
		unknown_attr(d, r);
		return;
	}
	/* RFC 7606 §3 c: Optional/Transitive bits that contradict the type. */
	if ((r->flags & (BGP_ATTR_OPTIONAL | BGP_ATTR_TRANSITIVE)) != row->flags) {
		snprintf(why, sizeof(why), "flags 0x%02x, expected 0x%02x", r->flags & 0xc0,
			 row->flags);
		/* MP attributes still carry NLRI to withdraw: read them regardless. */
		if (r->type == BGP_ATTR_MP_REACH || r->type == BGP_ATTR_MP_UNREACH) {
			char ignored[160];

			row->decode(d, r, ignored, sizeof(ignored));
		}
		malformed(d, row, r, why, WITHDRAW, "RFC 7606 §3 c");
		return;
	}
	if (!length_ok(row, r->len, why, sizeof(why))) {
		malformed(d, row, r, why, row->fail, row->ref);
		return;
	}
	rc = row->decode(d, r, why, sizeof(why));
	if (rc == MALFORMED) {
		malformed(d, row, r, why, row->fail, row->ref);
	} else if (rc == IGNORE) {
		logf_(d, "%s: %s: ignored (%s)", row->name, why, row->ref);
	} else if (r->type < 64) {
		d->a.has |= BGP_HAS(r->type);
	}
}

/* Number of ASNs a path counts for RFC 6793 §4.2.3 (a set counts one, confed none). */
static unsigned
path_count(const uint8_t *p, size_t len)
{
	return bgp_as_path_length(p, len);
}

/*
 * RFC 6793 §4.2.3: a 2-octet peer's AS_PATH holds AS_TRANS where a 4-octet ASN
 * was; AS4_PATH has the real tail. Keep the leading extra ASes of AS_PATH, then
 * the AS4_PATH.
 */
static void
merge_as4(struct dec *d)
{
	unsigned n2, n4, keep;
	struct buf merged = {0};
	size_t off = 0;

	if (d->as4_agg) {
		if (d->a.aggregator_as != BGP_AS_TRANS) {
			/* §4.2.3: a real 2-octet aggregator means AS4_* came from elsewhere. */
			logf_(d, "AS4_AGGREGATOR and AS4_PATH ignored: AGGREGATOR is not AS_TRANS "
				 "(RFC 6793 §4.2.3)");
			return;
		}
		d->a.aggregator_as = d->as4_agg_as;
		d->a.aggregator_addr = d->as4_agg_addr;
	}
	if (!d->as4_path_ok)
		return;
	n2 = path_count(d->as_path.p, d->as_path.len);
	n4 = path_count(d->as4_path.p, d->as4_path.len);
	if (n4 > n2) {
		logf_(d, "AS4_PATH ignored: longer than AS_PATH (RFC 6793 §4.2.3)");
		return;
	}
	keep = n2 - n4;
	/* Copy whole segments of AS_PATH while they fit in keep, then a cut one. */
	while (keep > 0 && off + 2 <= d->as_path.len) {
		uint8_t type = d->as_path.p[off], cnt = d->as_path.p[off + 1];
		unsigned counts = type == BGP_AS_SET ? 1 : type == BGP_AS_SEQUENCE ? cnt : 0;
		uint8_t take = cnt;

		if (type == BGP_AS_SEQUENCE && counts > keep)
			take = (uint8_t)keep;
		buf_put(&merged, &type, 1);
		buf_put(&merged, &take, 1);
		buf_put(&merged, d->as_path.p + off + 2, (size_t)take * 4);
		keep -= counts < keep ? counts : keep;
		off += 2 + (size_t)cnt * 4;
	}
	buf_put(&merged, d->as4_path.p, d->as4_path.len);
	free(d->as_path.p);
	d->as_path = merged;
}

static void
build_blob(struct dec *d)
{
	struct bgp_attrs *a = &d->a;
	struct buf *parts[] = {&d->as_path, &d->comm, &d->ext, &d->large, &d->cluster, &d->unknown};
	uint32_t *offs[] = {&a->off_as_path, &a->off_communities, &a->off_ext, &a->off_large,
			  &a->off_cluster, &a->off_unknown};
	size_t total = 0;

	for (size_t i = 0; i < 6; i++) {
		*offs[i] = (uint32_t)total;
		total += parts[i]->len;
	}
	a->blob = xmalloc(total);
	a->blob_len = (uint32_t)total;
	for (size_t i = 0; i < 6; i++)
		if (parts[i]->len)
			memcpy(a->blob + *offs[i], parts[i]->p, parts[i]->len);
	a->as_path_len = (uint32_t)d->as_path.len;
	a->communities_n = (uint16_t)(d->comm.len / 4);
	a->ext_communities_n = (uint16_t)(d->ext.len / 8);
	a->large_communities_n = (uint16_t)(d->large.len / 12);
	a->cluster_list_n = (uint16_t)(d->cluster.len / 4);
	a->unknown_len = (uint16_t)d->unknown.len;
}

static void
dec_free(struct dec *d)
{
	struct buf *parts[] = {&d->as_path, &d->as4_path, &d->comm,   &d->ext,
			       &d->large,   &d->cluster,  &d->unknown};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		free(parts[i]->p);
}

void
bgp_update_decode(const uint8_t *body, size_t len, const struct bgp_update_ctx *ctx,
		  struct bgp_update_decoded *out)
{
	struct dec d = {.ctx = ctx, .out = out};
	struct bgp_update u;
	struct bgp_attr_raw r;
	struct rd rd;
	int rc;

	/* All but the log lines, which nlog counts: clearing 3 KB per UPDATE was most of
	 * the decoding time of a table sent 10 prefixes to a message. */
	memset(out, 0, offsetof(struct bgp_update_decoded, log));
	if (bgp_update_frame(body, len, &u, &out->notif) != 0) {
		logf_(&d, "UPDATE: lengths overrun the message: session reset (RFC 4271 §6.3)");
		out->reset = true;
		return;
	}
	/* RFC 4724 §2: the IPv4 End-of-RIB is an empty UPDATE. */
	if (u.withdrawn_len == 0 && u.attrs_len == 0 && u.nlri_len == 0) {
		out->end_of_rib = true;
		out->end_of_rib_family = AF_INET;
		return;
	}
	rd = rd_init(u.withdrawn, u.withdrawn_len);
	if (read_nlri(&rd, AF_INET, &out->withdraw) != 0) {
		/* RFC 7606 §5.3: we cannot tell which routes were meant. */
		logf_(&d, "withdrawn routes: syntax error: session reset (RFC 7606 §5.3)");
		reset(&d, BGP_UPD_INVALID_NETWORK, NULL);
	}
	rd = rd_init(u.nlri, u.nlri_len);
	if (read_nlri(&rd, AF_INET, &out->announce) != 0) {
		logf_(&d, "NLRI: syntax error: session reset (RFC 7606 §5.3)");
		reset(&d, BGP_UPD_INVALID_NETWORK, NULL);
	}
	d.nlri_announce = out->announce.n;
	if (d.nlri_announce > 0 && ctx->family != AF_INET) {
		logf_(&d, "NLRI: IPv4 prefixes on a session that did not negotiate them: ignored "
			  "(RFC 4760 §7)");
		out->announce.n = d.nlri_announce = 0;
	}
	rd = rd_init(u.attrs, u.attrs_len);
	while (!out->reset && (rc = bgp_attr_next(&rd, &r)) == BGP_ATTR_FRAME_OK)
		one_attr(&d, &r);
	if (!out->reset && rc == BGP_ATTR_FRAME_OVERRUN) {
		/* RFC 7606 §4: the attribute list cannot be parsed to its end. */
		if (ctx->family != AF_INET && !d.seen[BGP_ATTR_MP_REACH]) {
			logf_(&d, "attributes: a length overruns the list, the MP_REACH_NLRI cannot "
				  "be found: session reset (RFC 7606 §4)");
			reset(&d, BGP_UPD_MALFORMED_ATTR_LIST, NULL);
		} else {
			logf_(&d, "attributes: a length overruns the list: treat-as-withdraw "
				  "(RFC 7606 §4)");
			d.withdraw_all = true;
		}
	}
	if (out->reset)
		goto done;
	/* RFC 4724 §2: the IPv6 End-of-RIB is an UPDATE with only an empty MP_UNREACH_NLRI. */
	if (out->announce.n == 0 && out->withdraw.n == 0 && d.seen[BGP_ATTR_MP_UNREACH] &&
	    u.attrs_len == 6 && u.withdrawn_len == 0 && u.nlri_len == 0) {
		out->end_of_rib = true;
		out->end_of_rib_family = ctx->family;
		goto done;
	}
	if (out->announce.n > 0 && !d.withdraw_all) {
		/* RFC 7606 §3 d: a missing mandatory attribute is treat-as-withdraw. */
		static const uint8_t mandatory[] = {BGP_ATTR_ORIGIN, BGP_ATTR_AS_PATH,
						    BGP_ATTR_NEXT_HOP};

		for (size_t i = 0; i < sizeof(mandatory); i++) {
			const struct attr_row *row = row_of(mandatory[i]);

			/* RFC 4760: NEXT_HOP only matters for NLRI in the NLRI field. */
			if (mandatory[i] == BGP_ATTR_NEXT_HOP && d.nlri_announce == 0)
				continue;
			if (!(d.a.has & BGP_HAS(mandatory[i])) && !d.seen[mandatory[i]]) {
				logf_(&d, "%s: missing: treat-as-withdraw (RFC 7606 §3 d)", row->name);
				d.withdraw_all = true;
			}
		}
	}
	if (!ctx->as4)
		merge_as4(&d);
	/* RFC 4271 §6.3 (with RFC 7606 §7.2): an external peer's path starts with its AS. */
	if (out->announce.n > 0 && !d.withdraw_all && ctx->ebgp && (d.a.has & BGP_HAS(BGP_ATTR_AS_PATH))) {
		const uint8_t *p = d.as_path.p;

		if (d.as_path.len < 6 || p[0] != BGP_AS_SEQUENCE || get_u32(p + 2) != ctx->peer_as) {
			logf_(&d, "AS_PATH: does not start with the peer's AS %u: treat-as-withdraw "
				  "(RFC 7606 §7.2)", ctx->peer_as);
			d.withdraw_all = true;
		}
	}
	if (d.withdraw_all) {
		/* RFC 7606 §2: every prefix of the UPDATE is withdrawn instead. */
		for (size_t i = 0; i < out->announce.n; i++)
			bgp_prefixes_push(&out->withdraw, &out->announce.v[i]);
		out->announce.n = 0;
	}
	if (out->announce.n > 0) {
		if (d.nlri_announce == 0)
			d.a.has &= ~BGP_HAS(BGP_ATTR_NEXT_HOP);
		build_blob(&d);
		out->attrs = d.a;
	}
done:
	dec_free(&d);
}

void
bgp_prefixes_push(struct bgp_prefixes *ps, const struct prefix *p)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->v = xrealloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	ps->v[ps->n++] = *p;
}

void
bgp_prefixes_free(struct bgp_prefixes *ps)
{
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

void
bgp_update_free(struct bgp_update_decoded *u)
{
	bgp_prefixes_free(&u->withdraw);
	bgp_prefixes_free(&u->announce);
	bgp_attrs_free(&u->attrs);
}

void
bgp_attrs_free(struct bgp_attrs *a)
{
	free(a->blob);
	memset(a, 0, sizeof(*a));
}

void
bgp_attrs_copy(struct bgp_attrs *dst, const struct bgp_attrs *src)
{
	*dst = *src;
	dst->blob = xmalloc(src->blob_len);
	if (src->blob_len)
		memcpy(dst->blob, src->blob, src->blob_len);
}

void
bgp_attrs_prepend(struct bgp_attrs *a, uint32_t asn)
{
	const uint8_t *path = bgp_attrs_as_path(a);
	bool join = a->as_path_len >= 2 && path[0] == BGP_AS_SEQUENCE && path[1] < 255;
	size_t grow = join ? 4 : 6, off = 0;
	uint8_t *blob = xmalloc(a->blob_len + grow);
	uint8_t asb[4] = {(uint8_t)(asn >> 24), (uint8_t)(asn >> 16), (uint8_t)(asn >> 8),
			  (uint8_t)asn};

	/* The path is first in the blob; everything after it moves by grow. */
	blob[off++] = BGP_AS_SEQUENCE;
	blob[off++] = join ? (uint8_t)(path[1] + 1) : 1;
	memcpy(blob + off, asb, 4);
	off += 4;
	if (join && a->blob_len > 2)
		memcpy(blob + off, a->blob + 2, a->blob_len - 2);
	else if (a->blob_len)
		memcpy(blob + off, a->blob, a->blob_len);
	free(a->blob);
	a->blob = blob;
	a->blob_len += (uint32_t)grow;
	a->as_path_len = (uint32_t)(a->as_path_len + grow);
	a->off_communities += grow;
	a->off_ext += grow;
	a->off_large += grow;
	a->off_cluster += grow;
	a->off_unknown += grow;
	a->has |= BGP_HAS(BGP_ATTR_AS_PATH);
}

/*
 * Opens n bytes in the blob at offset at, inside section sect (0 AS_PATH, 1 COMMUNITIES,
 * 2 extended, 3 large, 4 CLUSTER_LIST, 5 unknown: their order in the blob); the sections
 * after it move. Returns where the bytes go.
 */
static uint8_t *
blob_open(struct bgp_attrs *a, int sect, size_t at, size_t n)
{
	uint32_t *offs[] = {&a->off_as_path, &a->off_communities, &a->off_ext, &a->off_large,
			  &a->off_cluster, &a->off_unknown};
	uint8_t *blob = xmalloc(a->blob_len + n);

	if (at)
		memcpy(blob, a->blob, at);
	if (a->blob_len > at)
		memcpy(blob + at + n, a->blob + at, a->blob_len - at);
	free(a->blob);
	a->blob = blob;
	a->blob_len += (uint32_t)n;
	for (int i = sect + 1; i < 6; i++)
		*offs[i] += (uint32_t)n;
	return blob + at;
}

static bool
has_bytes(const uint8_t *v, size_t count, size_t size, const uint8_t *x)
{
	for (size_t i = 0; i < count; i++)
		if (memcmp(v + i * size, x, size) == 0)
			return true;
	return false;
}

void
bgp_attrs_add_community(struct bgp_attrs *a, uint32_t c)
{
	uint8_t b[4] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};

	/* RFC 1997: a set; a value already there is not repeated. */
	if (has_bytes(bgp_attrs_communities(a), a->communities_n, 4, b) ||
	    a->communities_n >= BGP_ATTRS_LIST_MAX)
		return;
	memcpy(blob_open(a, 1, a->off_communities + 4 * (size_t)a->communities_n, 4), b, 4);
	a->communities_n++;
	a->has |= BGP_HAS(BGP_ATTR_COMMUNITIES);
}

void
bgp_attrs_add_large_community(struct bgp_attrs *a, const uint32_t c[3])
{
	uint8_t b[12];

	for (int i = 0; i < 3; i++) {
		b[4 * i] = (uint8_t)(c[i] >> 24);
		b[4 * i + 1] = (uint8_t)(c[i] >> 16);
		b[4 * i + 2] = (uint8_t)(c[i] >> 8);
		b[4 * i + 3] = (uint8_t)c[i];
	}
	/* RFC 8092 §5: duplicates are not sent. */
	if (has_bytes(bgp_attrs_large_communities(a), a->large_communities_n, 12, b) ||
	    a->large_communities_n >= BGP_ATTRS_LIST_MAX)
		return;
	memcpy(blob_open(a, 3, a->off_large + 12 * (size_t)a->large_communities_n, 12), b, 12);
	a->large_communities_n++;
	a->has |= BGP_HAS(BGP_ATTR_LARGE_COMMUNITIES);
}

void
bgp_attrs_prepend_cluster(struct bgp_attrs *a, uint32_t cluster_id)
{
	uint8_t *at = blob_open(a, 4, a->off_cluster, 4);

	/* RFC 4456 §8: the reflector prepends its CLUSTER_ID. */
	at[0] = (uint8_t)(cluster_id >> 24);
	at[1] = (uint8_t)(cluster_id >> 16);
	at[2] = (uint8_t)(cluster_id >> 8);
	at[3] = (uint8_t)cluster_id;
	a->cluster_list_n++;
	a->has |= BGP_HAS(BGP_ATTR_CLUSTER_LIST);
}

bool
bgp_attrs_cluster_list_has(const struct bgp_attrs *a, uint32_t cluster_id)
{
	const uint8_t *c = bgp_attrs_cluster_list(a);

	for (size_t i = 0; i < a->cluster_list_n; i++)
		if (get_u32(c + 4 * i) == cluster_id)
			return true;
	return false;
}

unsigned
bgp_as_path_count(const uint8_t *path, size_t len, uint32_t asn)
{
	unsigned n = 0;

	for (size_t off = 0; off + 2 <= len; off += 2 + (size_t)path[off + 1] * 4)
		for (unsigned i = 0; i < path[off + 1] && off + 2 + 4 * (i + 1) <= len; i++)
			if (get_u32(path + off + 2 + 4 * i) == asn)
				n++;
	return n;
}

const uint8_t *
bgp_attrs_as_path(const struct bgp_attrs *a)
{
	return a->blob + a->off_as_path;
}

const uint8_t *
bgp_attrs_communities(const struct bgp_attrs *a)
{
	return a->blob + a->off_communities;
}

const uint8_t *
bgp_attrs_ext_communities(const struct bgp_attrs *a)
{
	return a->blob + a->off_ext;
}

const uint8_t *
bgp_attrs_large_communities(const struct bgp_attrs *a)
{
	return a->blob + a->off_large;
}

const uint8_t *
bgp_attrs_cluster_list(const struct bgp_attrs *a)
{
	return a->blob + a->off_cluster;
}

const uint8_t *
bgp_attrs_unknown(const struct bgp_attrs *a)
{
	return a->blob + a->off_unknown;
}

bool
bgp_attrs_has_community(const struct bgp_attrs *a, uint32_t community)
{
	const uint8_t *c = bgp_attrs_communities(a);

	for (size_t i = 0; i < a->communities_n; i++)
		if (get_u32(c + 4 * i) == community)
			return true;
	return false;
}

unsigned
bgp_as_path_length(const uint8_t *path, size_t len)
{
	unsigned n = 0;

	for (size_t off = 0; off + 2 <= len; off += 2 + (size_t)path[off + 1] * 4) {
		if (path[off] == BGP_AS_SEQUENCE)
			n += path[off + 1];
		else if (path[off] == BGP_AS_SET)
			n += 1;
	}
	return n;
}

bool
bgp_as_path_contains(const uint8_t *path, size_t len, uint32_t asn)
{
	return bgp_as_path_count(path, len, asn) > 0;
}

void
bgp_as_path_format(const uint8_t *path, size_t len, char *buf, size_t buflen)
{
	static const char *const open[] = {"", "{", "", "(", "["};
	static const char *const close[] = {"", "}", "", ")", "]"};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t off = 0; off + 2 <= len && used < buflen; off += 2 + (size_t)path[off + 1] * 4) {
		uint8_t type = path[off] <= 4 ? path[off] : 2;

		used += (size_t)snprintf(buf + used, buflen - used, "%s%s", used ? " " : "",
					 open[type]);
		for (unsigned i = 0; i < path[off + 1] && used < buflen; i++)
			used += (size_t)snprintf(buf + used, buflen - used, "%s%u", i ? " " : "",
						 get_u32(path + off + 2 + 4 * i));
		if (used < buflen)
			used += (size_t)snprintf(buf + used, buflen - used, "%s", close[type]);
	}
}

void
bgp_attrs_build(struct bgp_attrs *a, const uint8_t *as_path, size_t as_path_len,
		const uint32_t *communities, size_t ncomm)
{
	struct dec d = {0};

	memset(a, 0, sizeof(*a));
	d.a.has = BGP_HAS(BGP_ATTR_ORIGIN) | BGP_HAS(BGP_ATTR_AS_PATH);
	buf_put(&d.as_path, as_path, as_path_len);
	for (size_t i = 0; i < ncomm; i++)
		buf_u32(&d.comm, communities[i]);
	if (ncomm > 0)
		d.a.has |= BGP_HAS(BGP_ATTR_COMMUNITIES);
	build_blob(&d);
	*a = d.a;
	dec_free(&d);
}

/* Writes an attribute header; the length is patched by attr_end. */
static size_t
attr_begin(struct wr *w, uint8_t flags, uint8_t type)
{
	size_t at;

	wr_u8(w, flags | BGP_ATTR_EXTLEN);
	wr_u8(w, type);
	at = w->len;
	wr_u16(w, 0);
	return at;
}

static void
attr_end(struct wr *w, size_t at)
{
	/* An attribute longer than its 16-bit length field (a long kept AS_PATH) cannot go out. */
	if (w->len - at - 2 > UINT16_MAX)
		w->overflow = true;
	wr_put16_at(w, at, (uint16_t)(w->len - at - 2));
}

static void
attr_u32(struct wr *w, uint8_t flags, uint8_t type, uint32_t v)
{
	wr_u8(w, flags);
	wr_u8(w, type);
	wr_u8(w, 4);
	wr_u32(w, v);
}

static void
encode_path(struct wr *w, const uint8_t *path, size_t len, bool four, bool skip_confed)
{
	for (size_t off = 0; off + 2 <= len; off += 2 + (size_t)path[off + 1] * 4) {
		if (skip_confed && path[off] >= BGP_AS_CONFED_SEQUENCE)
			continue;
		wr_u8(w, path[off]);
		wr_u8(w, path[off + 1]);
		for (unsigned i = 0; i < path[off + 1]; i++) {
			uint32_t asn = get_u32(path + off + 2 + 4 * i);

			if (four)
				wr_u32(w, asn);
			else
				wr_u16(w, asn > 0xffff ? BGP_AS_TRANS : (uint16_t)asn);
		}
	}
}

static bool
needs_as4(const uint8_t *path, size_t len)
{
	for (size_t off = 0; off + 2 <= len; off += 2 + (size_t)path[off + 1] * 4)
		for (unsigned i = 0; i < path[off + 1]; i++)
			if (get_u32(path + off + 2 + 4 * i) > 0xffff)
				return true;
	return false;
}

void
bgp_attrs_encode(struct wr *w, const struct bgp_attrs *a, const struct bgp_encode_ctx *ctx)
{
	const uint8_t *path = bgp_attrs_as_path(a);
	size_t at;

	wr_u8(w, WK);
	wr_u8(w, BGP_ATTR_ORIGIN);
	wr_u8(w, 1);
	wr_u8(w, a->origin);
	at = attr_begin(w, WK, BGP_ATTR_AS_PATH);
	encode_path(w, path, a->as_path_len, ctx->as4, false);
	attr_end(w, at);
	/* IPv4 NLRI travel in the NLRI field and need NEXT_HOP, even when the route came
	 * in an MP_REACH_NLRI (found by fuzzing the decode-encode round trip). */
	if (addr_is_v4(&a->next_hop)) {
		wr_u8(w, WK);
		wr_u8(w, BGP_ATTR_NEXT_HOP);
		wr_u8(w, 4);
		wr_bytes(w, a->next_hop.b, 4);
	}
	if (a->has & BGP_HAS(BGP_ATTR_MED))
		attr_u32(w, ON, BGP_ATTR_MED, a->med);
	/* LOCAL_PREF stays inside the AS (RFC 4271 §5.1.5). */
	if (!ctx->ebgp)
		attr_u32(w, WK, BGP_ATTR_LOCAL_PREF,
			 (a->has & BGP_HAS(BGP_ATTR_LOCAL_PREF)) ? a->local_pref : 100);
	if (a->has & BGP_HAS(BGP_ATTR_ATOMIC_AGGREGATE)) {
		wr_u8(w, WK);
		wr_u8(w, BGP_ATTR_ATOMIC_AGGREGATE);
		wr_u8(w, 0);
	}
	if (a->has & BGP_HAS(BGP_ATTR_AGGREGATOR)) {
		wr_u8(w, OT);
		wr_u8(w, BGP_ATTR_AGGREGATOR);
		wr_u8(w, ctx->as4 ? 8 : 6);
		if (ctx->as4)
			wr_u32(w, a->aggregator_as);
		else
			wr_u16(w, a->aggregator_as > 0xffff ? BGP_AS_TRANS : (uint16_t)a->aggregator_as);
		wr_bytes(w, a->aggregator_addr.b, 4);
	}
	if (a->communities_n) {
		at = attr_begin(w, OT, BGP_ATTR_COMMUNITIES);
		wr_bytes(w, bgp_attrs_communities(a), (size_t)a->communities_n * 4);
		attr_end(w, at);
	}
	/* Reflection attributes are internal (RFC 4456 §8). */
	if (!ctx->ebgp && (a->has & BGP_HAS(BGP_ATTR_ORIGINATOR_ID)))
		attr_u32(w, ON, BGP_ATTR_ORIGINATOR_ID, a->originator_id);
	if (!ctx->ebgp && a->cluster_list_n) {
		at = attr_begin(w, ON, BGP_ATTR_CLUSTER_LIST);
		wr_bytes(w, bgp_attrs_cluster_list(a), (size_t)a->cluster_list_n * 4);
		attr_end(w, at);
	}
	if (a->ext_communities_n) {
		at = attr_begin(w, OT, BGP_ATTR_EXT_COMMUNITIES);
		wr_bytes(w, bgp_attrs_ext_communities(a), (size_t)a->ext_communities_n * 8);
		attr_end(w, at);
	}
	/* RFC 6793 §4.2.2: a 2-octet peer gets the real path in AS4_PATH. */
	if (!ctx->as4 && needs_as4(path, a->as_path_len)) {
		at = attr_begin(w, OT, BGP_ATTR_AS4_PATH);
		encode_path(w, path, a->as_path_len, true, true);
		attr_end(w, at);
	}
	if (!ctx->as4 && (a->has & BGP_HAS(BGP_ATTR_AGGREGATOR)) && a->aggregator_as > 0xffff) {
		wr_u8(w, OT);
		wr_u8(w, BGP_ATTR_AS4_AGGREGATOR);
		wr_u8(w, 8);
		wr_u32(w, a->aggregator_as);
		wr_bytes(w, a->aggregator_addr.b, 4);
	}
	if (a->large_communities_n) {
		at = attr_begin(w, OT, BGP_ATTR_LARGE_COMMUNITIES);
		wr_bytes(w, bgp_attrs_large_communities(a), (size_t)a->large_communities_n * 12);
		attr_end(w, at);
	}
	if (a->has & BGP_HAS(BGP_ATTR_OTC))
		attr_u32(w, OT, BGP_ATTR_OTC, a->otc);
	/* Unknown optional transitive attributes, already marked Partial when received. */
	wr_bytes(w, bgp_attrs_unknown(a), a->unknown_len);
}

static uint16_t
family_afi(int family)
{
	return family == AF_INET ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
}

/* Bytes of one prefix in an NLRI field (RFC 4271 §4.3). */
static size_t
nlri_size(const struct prefix *p)
{
	return 1 + (p->len + 7u) / 8u;
}

/* How many prefixes from v[0..n) fit in room bytes of NLRI encoding. */
static size_t
fit(const struct prefix *v, size_t n, size_t room)
{
	size_t i, used = 0;

	for (i = 0; i < n; i++) {
		size_t sz = nlri_size(&v[i]);

		if (used + sz > room)
			break;
		used += sz;
	}
	return i;
}

/* Header, withdrawn routes length, total path attribute length (RFC 4271 §4.3). */
#define UPDATE_FIXED (BGP_HEADER_LEN + 2 + 2)
/* MP_REACH_NLRI around its prefixes: attribute header (extended length), AFI, SAFI,
 * next hop length, the next hop, reserved (RFC 4760 §3). */
static size_t
mp_reach_overhead(const struct bgp_attrs *a)
{
	return 4 + 2 + 1 + 1 + (a->next_hop_ll.family ? 32 : 16) + 1;
}

/* A message's bytes besides its attributes, with the family's longest prefix. */
static size_t
update_need(const struct bgp_attrs *a, int family)
{
	return UPDATE_FIXED + (family == AF_INET6 ? mp_reach_overhead(a) + 17 : 5);
}

/* The attributes of a (as encoded for ctx) into aw; false if they cannot go in one
 * message of max_len bytes with even the longest prefix of the family. */
static bool
attrs_fit(struct wr *aw, const struct bgp_attrs *a, const struct bgp_encode_ctx *ctx, int family,
	  size_t max_len)
{
	size_t need = update_need(a, family);

	bgp_attrs_encode(aw, a, ctx);
	return !aw->overflow && max_len >= need && aw->len <= max_len - need;
}

/*
 * More than the encoded attributes of a set can take beside its blob: every
 * attribute's header and fixed-size value. The blob's own parts are encoded at
 * most twice over (toward a 2-octet peer, AS_PATH in 2-octet form plus AS4_PATH).
 */
#define ATTRS_FIXED_MAX 256

bool
bgp_update_fits(const struct bgp_attrs *a, const struct bgp_encode_ctx *ctx, int family,
		size_t max_len)
{
	uint8_t attrbuf[BGP_EXT_MAX_LEN];
	struct wr aw;

	/* Asked for every prefix sent: an ordinary set fits without being encoded. */
	if (2 * (size_t)a->blob_len + ATTRS_FIXED_MAX + update_need(a, family) <= max_len)
		return true;
	aw = wr_init(attrbuf, sizeof(attrbuf));
	return attrs_fit(&aw, a, ctx, family, max_len);
}

int
bgp_update_encode(struct wr *w, size_t max_len, const struct prefix *withdraw, size_t nwithdraw,
		  const struct prefix *announce, size_t nannounce, const struct bgp_attrs *a,
		  const struct bgp_encode_ctx *ctx, size_t *nw, size_t *na)
{
	uint8_t attrbuf[BGP_EXT_MAX_LEN];
	struct wr aw = wr_init(attrbuf, sizeof(attrbuf));
	size_t start = w->len, room, at, i;
	int family = nannounce ? announce[0].addr.family : nwithdraw ? withdraw[0].addr.family : AF_INET;
	bool v6 = family == AF_INET6;
	int rc = 0;

	*nw = *na = 0;
	/* RFC 8654 §4: a message is never larger than the peer's maximum. Attributes that
	 * cannot travel with even one prefix are not sent at all: the caller treats the
	 * prefixes as withdrawn toward this peer (RFC 7606 §2 spirit), never a bad message. */
	if (nannounce > 0 && !attrs_fit(&aw, a, ctx, family, max_len)) {
		nannounce = 0;
		rc = -1;
	}
	if ((nannounce == 0 && nwithdraw == 0) || max_len < UPDATE_FIXED + (v6 ? 4 + 3 : 0))
		return rc;
	room = max_len - UPDATE_FIXED;
	bgp_header_encode(w, BGP_UPDATE);
	if (!v6) {
		/* Classic fields: withdrawn routes, then the attributes, then NLRI. */
		*nw = fit(withdraw, nwithdraw, room);
		at = w->len;
		wr_u16(w, 0);
		for (i = 0; i < *nw; i++)
			bgp_nlri_encode(w, &withdraw[i]);
		wr_put16_at(w, at, (uint16_t)(w->len - at - 2));
		room -= w->len - at - 2;
		if (nannounce > 0 && room > aw.len)
			*na = fit(announce, nannounce, room - aw.len);
		if (*na > 0) {
			wr_u16(w, (uint16_t)aw.len);
			wr_bytes(w, attrbuf, aw.len);
			for (i = 0; i < *na; i++)
				bgp_nlri_encode(w, &announce[i]);
		} else {
			wr_u16(w, 0);
		}
	} else {
		/* IPv6: everything travels in MP_UNREACH_NLRI / MP_REACH_NLRI (RFC 4760). */
		size_t aat;

		wr_u16(w, 0);
		aat = w->len;
		wr_u16(w, 0);
		if (nwithdraw > 0) {
			room -= 4 + 3;
			*nw = fit(withdraw, nwithdraw, room);
			at = attr_begin(w, ON, BGP_ATTR_MP_UNREACH);
			wr_u16(w, family_afi(family));
			wr_u8(w, BGP_SAFI_UNICAST);
			for (i = 0; i < *nw; i++)
				bgp_nlri_encode(w, &withdraw[i]);
			attr_end(w, at);
			room -= w->len - at - 2 - 3;
		}
		if (nannounce > 0 && room > aw.len + mp_reach_overhead(a))
			*na = fit(announce, nannounce, room - aw.len - mp_reach_overhead(a));
		if (*na > 0) {
			size_t nhlen = a->next_hop_ll.family ? 32 : 16;

			at = attr_begin(w, ON, BGP_ATTR_MP_REACH);
			wr_u16(w, family_afi(family));
			wr_u8(w, BGP_SAFI_UNICAST);
			wr_u8(w, (uint8_t)nhlen);
			wr_bytes(w, a->next_hop.b, 16);
			if (nhlen == 32)
				wr_bytes(w, a->next_hop_ll.b, 16);
			wr_u8(w, 0);
			for (i = 0; i < *na; i++)
				bgp_nlri_encode(w, &announce[i]);
			attr_end(w, at);
			wr_bytes(w, attrbuf, aw.len);
		}
		wr_put16_at(w, aat, (uint16_t)(w->len - aat - 2));
	}
	if (*nw == 0 && *na == 0) {
		w->len = start;
		return rc;
	}
	bgp_msg_finish(w, start);
	return rc;
}

void
bgp_end_of_rib_encode(struct wr *w, int family)
{
	size_t start = w->len;

	bgp_header_encode(w, BGP_UPDATE);
	wr_u16(w, 0);
	if (family == AF_INET) {
		wr_u16(w, 0);
	} else {
		wr_u16(w, 6);
		wr_u8(w, ON);
		wr_u8(w, BGP_ATTR_MP_UNREACH);
		wr_u8(w, 3);
		wr_u16(w, BGP_AFI_IPV6);
		wr_u8(w, BGP_SAFI_UNICAST);
	}
	bgp_msg_finish(w, start);
}
