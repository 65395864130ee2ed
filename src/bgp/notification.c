/* NOTIFICATION messages (RFC 4271 §4.5), shutdown communication (RFC 9003), error names. */
#include "bgp/msg.h"
#include "lib/text.h"

#include <stdio.h>
#include <string.h>

int
bgp_notif_decode(const uint8_t *body, size_t len, struct bgp_notif *n)
{
	struct rd r = rd_init(body, len);

	if (rd_u8(&r, &n->code) != 0 || rd_u8(&r, &n->subcode) != 0)
		return -1;
	bgp_notif_set(n, n->code, n->subcode, body + 2, rd_left(&r));
	return 0;
}

void
bgp_notif_encode(struct wr *w, const struct bgp_notif *n)
{
	size_t start = w->len;

	bgp_header_encode(w, BGP_NOTIFICATION);
	wr_u8(w, n->code);
	wr_u8(w, n->subcode);
	/* The whole message must fit in 4096 bytes; data beyond that is cut. */
	wr_bytes(w, n->data,
		 n->data_len > BGP_MAX_LEN - BGP_HEADER_LEN - 2 ? BGP_MAX_LEN - BGP_HEADER_LEN - 2
								 : n->data_len);
	bgp_msg_finish(w, start);
}

void
bgp_notif_shutdown(struct bgp_notif *n, uint8_t subcode, const char *msg)
{
	const uint8_t *s = (const uint8_t *)(msg ? msg : "");
	size_t len = strlen((const char *)s), keep = 0;

	/* RFC 9003 §2: at most 255 octets of UTF-8; cut only between characters. */
	while (keep < len) {
		size_t step = text_utf8_seq(s + keep, len - keep);

		if (step == 0 || keep + step > BGP_SHUTDOWN_MAX)
			break;
		keep += step;
	}
	n->code = BGP_ERR_CEASE;
	n->subcode = subcode;
	n->data_len = (uint16_t)(keep + 1);
	n->data[0] = (uint8_t)keep;
	memcpy(n->data + 1, s, keep);
	if (keep == 0 && (msg == NULL || *msg == '\0'))
		n->data_len = 0;
}

int
bgp_notif_shutdown_msg(const struct bgp_notif *n, char *buf, size_t len)
{
	size_t l;

	buf[0] = '\0';
	if (n->code != BGP_ERR_CEASE ||
	    (n->subcode != BGP_CEASE_ADMIN_SHUTDOWN && n->subcode != BGP_CEASE_ADMIN_RESET) ||
	    n->data_len < 1)
		return -1;
	l = n->data[0];
	/* RFC 9003 §2: a length beyond the data is not a message. */
	if (l == 0 || l + 1 > n->data_len)
		return -1;
	/* §5: the peer's text reaches logs and terminals only escaped; invalid UTF-8
	 * shows as \xNN, which is how §2's "logged for the operator" looks here. */
	text_escape(n->data + 1, l, buf, len);
	return 0;
}

static const struct {
	uint8_t code, subcode;
	const char *name;
} names[] = {
	{BGP_ERR_HEADER, 0, "Message header error"},
	{BGP_ERR_HEADER, BGP_HDR_NOT_SYNC, "Connection not synchronized"},
	{BGP_ERR_HEADER, BGP_HDR_BAD_LEN, "Bad message length"},
	{BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, "Bad message type"},
	{BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, "OPEN message error"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION, "Unsupported version number"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, "Bad peer AS"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_BGP_ID, "Bad BGP identifier"},
	{BGP_ERR_OPEN, BGP_OPEN_UNSUP_PARAM, "Unsupported optional parameter"},
	{BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, "Unacceptable hold time"},
	{BGP_ERR_OPEN, BGP_OPEN_UNSUP_CAPA, "Unsupported capability"},
	{BGP_ERR_OPEN, BGP_OPEN_ROLE_MISMATCH, "Role mismatch"},
	{BGP_ERR_UPDATE, 0, "UPDATE message error"},
	{BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, "Malformed attribute list"},
	{BGP_ERR_UPDATE, BGP_UPD_UNRECOGNIZED_WELLKNOWN, "Unrecognized well-known attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_MISSING_WELLKNOWN, "Missing mandatory attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_ATTR_FLAGS, "Invalid attribute flags"},
	{BGP_ERR_UPDATE, BGP_UPD_ATTR_LEN, "Invalid attribute length"},
	{BGP_ERR_UPDATE, BGP_UPD_INVALID_ORIGIN, "Invalid ORIGIN attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_INVALID_NEXT_HOP, "Invalid NEXT_HOP attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, "Optional attribute error"},
	{BGP_ERR_UPDATE, BGP_UPD_INVALID_NETWORK, "Invalid network field"},
	{BGP_ERR_UPDATE, BGP_UPD_MALFORMED_AS_PATH, "Malformed AS_PATH"},
	{BGP_ERR_HOLD, 0, "Hold timer expired"},
	{BGP_ERR_FSM, BGP_FSM_UNSPECIFIED, "Finite state machine error"},
	{BGP_ERR_FSM, BGP_FSM_IN_OPENSENT, "Unexpected message in OpenSent state"},
	{BGP_ERR_FSM, BGP_FSM_IN_OPENCONFIRM, "Unexpected message in OpenConfirm state"},
	{BGP_ERR_FSM, BGP_FSM_IN_ESTABLISHED, "Unexpected message in Established state"},
	{BGP_ERR_CEASE, 0, "Cease"},
	{BGP_ERR_CEASE, BGP_CEASE_MAX_PREFIXES, "Maximum number of prefixes reached"},
	{BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, "Administrative shutdown"},
	{BGP_ERR_CEASE, BGP_CEASE_PEER_DECONFIGURED, "Peer de-configured"},
	{BGP_ERR_CEASE, BGP_CEASE_ADMIN_RESET, "Administrative reset"},
	{BGP_ERR_CEASE, BGP_CEASE_CONN_REJECTED, "Connection rejected"},
	{BGP_ERR_CEASE, BGP_CEASE_CONFIG_CHANGE, "Other configuration change"},
	{BGP_ERR_CEASE, BGP_CEASE_COLLISION, "Connection collision resolution"},
	{BGP_ERR_CEASE, BGP_CEASE_OUT_OF_RESOURCES, "Out of resources"},
	{BGP_ERR_CEASE, BGP_CEASE_HARD_RESET, "Hard reset"},
	{BGP_ERR_CEASE, BGP_CEASE_BFD_DOWN, "BFD down"},
	{BGP_ERR_ROUTE_REFRESH, 0, "ROUTE-REFRESH message error"},
	{BGP_ERR_ROUTE_REFRESH, BGP_RR_BAD_LEN, "Invalid ROUTE-REFRESH message length"},
	{BGP_ERR_SEND_HOLD, 0, "Send hold timer expired"},
};

const char *
bgp_notif_name(uint8_t code, uint8_t subcode)
{
	const char *code_only = NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].code != code)
			continue;
		if (names[i].subcode == subcode)
			return names[i].name;
		if (names[i].subcode == 0)
			code_only = names[i].name;
	}
	return code_only ? code_only : "Unknown error";
}
