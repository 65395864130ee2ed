/*
 * msg: the BGP-4 wire codec (RFC 4271 §4), pure: bytes in, structures or a
 * NOTIFICATION to send out; structures in, bytes out. No sockets, no clock.
 *
 * Covered: the message header (§4.1); OPEN (§4.2) with optional parameters,
 * the extended optional parameters length (RFC 9072) and capabilities
 * (RFC 5492): multiprotocol (RFC 4760), route refresh (RFC 2918), enhanced
 * route refresh (RFC 7313, recognised), 4-octet AS (RFC 6793), extended
 * messages (RFC 8654), graceful restart (RFC 4724) and long-lived graceful
 * restart (RFC 9494; what they mean: gr.h), unknown
 * ones kept and ignored; UPDATE framing (§4.3) with each path attribute
 * framed but not decoded; NOTIFICATION (§4.5) with the shutdown
 * communication of RFC 9003; KEEPALIVE (§4.4); ROUTE-REFRESH (RFC 2918).
 *
 * Every decoder that can fail fills a struct bgp_notif with the exact
 * NOTIFICATION RFC 4271 §6 (and RFC 6608, 7313) says to send.
 */
#ifndef TABBY_BGP_MSG_H
#define TABBY_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/rw.h"
#include "lib/addr.h"

#define BGP_VERSION 4
#define BGP_HEADER_LEN 19
#define BGP_MAX_LEN 4096
#define BGP_EXT_MAX_LEN 65535  /* RFC 8654, once both sides announce it */
#define BGP_AS_TRANS 23456

enum bgp_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
};

/* NOTIFICATION error codes and subcodes (RFC 4271 §4.5, RFC 4486, 6608, 7313, 9234, 9687). */
enum bgp_err_code {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
	BGP_ERR_ROUTE_REFRESH = 7,
	BGP_ERR_SEND_HOLD = 8,     /* RFC 9687 */
};

enum {
	BGP_HDR_NOT_SYNC = 1,
	BGP_HDR_BAD_LEN = 2,
	BGP_HDR_BAD_TYPE = 3,
};

enum {
	BGP_OPEN_UNSPECIFIC = 0,
	BGP_OPEN_BAD_VERSION = 1,
	BGP_OPEN_BAD_PEER_AS = 2,
	BGP_OPEN_BAD_BGP_ID = 3,
	BGP_OPEN_UNSUP_PARAM = 4,
	BGP_OPEN_BAD_HOLD = 6,
	BGP_OPEN_UNSUP_CAPA = 7,
	BGP_OPEN_ROLE_MISMATCH = 11,
};

enum {
	BGP_UPD_MALFORMED_ATTR_LIST = 1,
	BGP_UPD_UNRECOGNIZED_WELLKNOWN = 2,
	BGP_UPD_MISSING_WELLKNOWN = 3,
	BGP_UPD_ATTR_FLAGS = 4,
	BGP_UPD_ATTR_LEN = 5,
	BGP_UPD_INVALID_ORIGIN = 6,
	BGP_UPD_INVALID_NEXT_HOP = 8,
	BGP_UPD_OPTIONAL_ATTR = 9,
	BGP_UPD_INVALID_NETWORK = 10,
	BGP_UPD_MALFORMED_AS_PATH = 11,
};

enum {
	BGP_FSM_UNSPECIFIED = 0,
	BGP_FSM_IN_OPENSENT = 1,
	BGP_FSM_IN_OPENCONFIRM = 2,
	BGP_FSM_IN_ESTABLISHED = 3,
};

enum {
	BGP_CEASE_MAX_PREFIXES = 1,
	BGP_CEASE_ADMIN_SHUTDOWN = 2,
	BGP_CEASE_PEER_DECONFIGURED = 3,
	BGP_CEASE_ADMIN_RESET = 4,
	BGP_CEASE_CONN_REJECTED = 5,
	BGP_CEASE_CONFIG_CHANGE = 6,
	BGP_CEASE_COLLISION = 7,
	BGP_CEASE_OUT_OF_RESOURCES = 8,
	BGP_CEASE_HARD_RESET = 9,
	BGP_CEASE_BFD_DOWN = 10,
};

enum { BGP_RR_BAD_LEN = 1 };

#define BGP_NOTIF_DATA_MAX 4096
#define BGP_SHUTDOWN_MAX 255  /* RFC 9003 §2 */

/* A NOTIFICATION, to send or as received. */
struct bgp_notif {
	uint8_t code, subcode;
	uint16_t data_len;
	uint8_t data[BGP_NOTIF_DATA_MAX];
};

/* Address family identifiers (RFC 4760). */
#define BGP_AFI_IPV4 1
#define BGP_AFI_IPV6 2
#define BGP_SAFI_UNICAST 1

/* Capability codes (IANA registry). */
enum {
	BGP_CAP_MP = 1,
	BGP_CAP_ROUTE_REFRESH = 2,
	BGP_CAP_EXT_MESSAGE = 6,
	BGP_CAP_GRACEFUL_RESTART = 64,
	BGP_CAP_AS4 = 65,
	BGP_CAP_ENHANCED_RR = 70,
	BGP_CAP_LLGR = 71,          /* RFC 9494 */
};

#define BGP_GR_MAX_AF 8
#define BGP_UNKNOWN_CAPS_MAX 16

struct bgp_gr_af {
	uint16_t afi;
	uint8_t safi, flags;
	uint32_t stale_time;     /* LLGR only: the long-lived stale time, 24 bits */
};

struct bgp_open {
	uint8_t version;
	uint16_t my_as;          /* as on the wire: AS_TRANS for 4-octet speakers */
	uint16_t hold_time;
	uint32_t bgp_id;         /* host order */
	/* capabilities */
	bool has_as4;
	uint32_t as4;
	bool mp_ipv4_unicast, mp_ipv6_unicast;
	bool has_mp;             /* any multiprotocol capability (else IPv4 unicast only) */
	bool route_refresh, enhanced_route_refresh, ext_message;
	bool has_gr, gr_restarted, gr_notification;
	uint16_t gr_restart_time;
	uint8_t gr_naf;
	struct bgp_gr_af gr_af[BGP_GR_MAX_AF];
	bool has_llgr;           /* RFC 9494 */
	uint8_t llgr_naf;
	struct bgp_gr_af llgr_af[BGP_GR_MAX_AF];
	uint8_t nunknown;
	uint8_t unknown[BGP_UNKNOWN_CAPS_MAX];  /* codes of capabilities we do not know */
	bool ext_params;         /* sent with the RFC 9072 extended length */
};

/* The AS the peer claims: the 4-octet one when announced (RFC 6793 §4.1). */
uint32_t bgp_open_peer_as(const struct bgp_open *o);

/*
 * Header. buf holds at least BGP_HEADER_LEN bytes. max_len is 4096, or
 * 65535 once extended messages are negotiated (RFC 8654 §4: an OPEN or
 * KEEPALIVE over 4096 is still an error).
 */
int bgp_header_decode(const uint8_t *buf, size_t max_len, uint16_t *len, uint8_t *type,
		      struct bgp_notif *err);
void bgp_header_encode(struct wr *w, uint8_t type);  /* length patched by bgp_msg_finish */
void bgp_msg_finish(struct wr *w, size_t start);

/* OPEN (§4.2, §6.2). Decoding checks what needs no configuration. */
int bgp_open_decode(const uint8_t *body, size_t len, struct bgp_open *o, struct bgp_notif *err);
/* What needs configuration: the peer's AS and BGP identifier (RFC 6286). */
int bgp_open_check(const struct bgp_open *o, uint32_t expected_as, uint32_t local_as,
		   uint32_t local_id, struct bgp_notif *err);
/* Encodes a whole OPEN message; uses RFC 9072 only if the parameters need it. */
void bgp_open_encode(struct wr *w, const struct bgp_open *o);
/* The capabilities tabby announces for a session of the given family. */
void bgp_open_ours(struct bgp_open *o, uint32_t local_as, uint16_t hold, uint32_t bgp_id,
		   bool ipv4, bool ipv6);

/* KEEPALIVE (§4.4). */
void bgp_keepalive_encode(struct wr *w);

/* NOTIFICATION (§4.5). Decoding never fails for lack of data beyond code and subcode. */
int bgp_notif_decode(const uint8_t *body, size_t len, struct bgp_notif *n);
void bgp_notif_encode(struct wr *w, const struct bgp_notif *n);
void bgp_notif_set(struct bgp_notif *n, uint8_t code, uint8_t subcode, const void *data,
		   size_t len);
/* RFC 9003: a Cease with a shutdown communication, cut to 255 bytes on a UTF-8 boundary. */
void bgp_notif_shutdown(struct bgp_notif *n, uint8_t subcode, const char *msg);
/* The shutdown communication of a received Cease/2 or Cease/4, escaped for display
 * (lib/text.h); buf of TEXT_ESCAPED_SIZE(BGP_SHUTDOWN_MAX) holds any. -1 if none. */
int bgp_notif_shutdown_msg(const struct bgp_notif *n, char *buf, size_t len);
/* "Hold timer expired", "Bad peer AS", ...: the error's name, as operators read it. */
const char *bgp_notif_name(uint8_t code, uint8_t subcode);

/* ROUTE-REFRESH (RFC 2918; subtype of RFC 7313). */
struct bgp_route_refresh {
	uint16_t afi;
	uint8_t subtype, safi;
};
int bgp_rr_decode(const uint8_t *msg, size_t len, struct bgp_route_refresh *rr,
		  struct bgp_notif *err);
void bgp_rr_encode(struct wr *w, const struct bgp_route_refresh *rr);

/* UPDATE framing (§4.3, §6.3): the three parts, checked against the message length. */
struct bgp_update {
	const uint8_t *withdrawn;
	uint16_t withdrawn_len;
	const uint8_t *attrs;
	uint16_t attrs_len;
	const uint8_t *nlri;
	size_t nlri_len;
};
int bgp_update_frame(const uint8_t *body, size_t len, struct bgp_update *u,
		     struct bgp_notif *err);

/* One framed path attribute: flags, type and its undecoded value. */
#define BGP_ATTR_OPTIONAL 0x80
#define BGP_ATTR_TRANSITIVE 0x40
#define BGP_ATTR_PARTIAL 0x20
#define BGP_ATTR_EXTLEN 0x10

struct bgp_attr_raw {
	uint8_t flags, type;
	uint16_t len;
	const uint8_t *val;
};

enum bgp_attr_frame_rc {
	BGP_ATTR_FRAME_OK = 0,
	BGP_ATTR_FRAME_END = 1,
	/* RFC 7606 §4: the list cannot be parsed further (an attribute header or length
	 * overruns it); treat-as-withdraw, the NLRI is still found from the lengths. */
	BGP_ATTR_FRAME_OVERRUN = -1,
};
int bgp_attr_next(struct rd *attrs, struct bgp_attr_raw *a);

/* NLRI (§4.3): prefixes, length-prefixed; -1 when malformed (§6.3 Invalid Network Field). */
int bgp_nlri_next(struct rd *r, int family, struct prefix *p);
/* Appends one prefix in NLRI form. */
void bgp_nlri_encode(struct wr *w, const struct prefix *p);

#endif
