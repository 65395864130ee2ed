/*
 * fsm: the BGP finite state machine of RFC 4271 §8, for one connection,
 * pure. The caller feeds events (administrative, timer, TCP, message) and
 * carries out the actions returned: send this message, start or stop this
 * timer, connect or close, session up or down. No sockets and no clock
 * here; the session layer owns both.
 *
 * Beyond the mandatory part of §8 this implements the optional
 * DampPeerOscillations behaviour (§8.1.1) with an IdleHoldTimer that
 * doubles on each consecutive failure, passive peers, AutomaticStop with the
 * caller's Cease and idle hold (RFC 4486 maximum prefixes), the FSM error
 * subcodes of RFC 6608, and the SendHoldTimer_Expires event of RFC 9687 (the
 * timer itself runs in the session layer, which sees the socket). The last
 * error stays a NOTIFICATION's until the session is Established or another
 * NOTIFICATION comes. Connection collisions (§6.8) are decided by
 * fsm_collision_keep_new(); the loser gets FSM_EV_OPEN_COLLISION_DUMP.
 */
#ifndef TABBY_BGP_FSM_H
#define TABBY_BGP_FSM_H

#include <stdbool.h>
#include <stdint.h>

#include "bgp/msg.h"

enum fsm_state {
	FSM_IDLE,
	FSM_CONNECT,
	FSM_ACTIVE,
	FSM_OPENSENT,
	FSM_OPENCONFIRM,
	FSM_ESTABLISHED,
};

/* RFC 4271 §8.1 event numbers, where the RFC has one. */
enum fsm_event {
	FSM_EV_MANUAL_START = 1,
	FSM_EV_MANUAL_STOP = 2,
	FSM_EV_AUTOMATIC_START = 3,
	FSM_EV_AUTOMATIC_STOP = 8,
	FSM_EV_CONNECT_RETRY_EXPIRES = 9,
	FSM_EV_HOLD_EXPIRES = 10,
	FSM_EV_KEEPALIVE_EXPIRES = 11,
	FSM_EV_IDLE_HOLD_EXPIRES = 13,
	FSM_EV_TCP_CR_ACKED = 16,          /* our connect() completed */
	FSM_EV_TCP_CONFIRMED = 17,         /* we accepted the peer's connection */
	FSM_EV_TCP_FAILS = 18,
	FSM_EV_OPEN = 19,                  /* a valid OPEN (decoded and checked) */
	FSM_EV_HEADER_ERR = 21,
	FSM_EV_OPEN_ERR = 22,
	FSM_EV_OPEN_COLLISION_DUMP = 23,
	FSM_EV_NOTIF_VERSION_ERR = 24,
	FSM_EV_NOTIF = 25,
	FSM_EV_KEEPALIVE_MSG = 26,
	FSM_EV_UPDATE_MSG = 27,
	FSM_EV_UPDATE_ERR = 28,
	FSM_EV_SEND_HOLD_EXPIRES = 29,     /* RFC 9687: the peer read nothing for the send hold time */
	FSM_EV_ROUTE_REFRESH_MSG = 100,    /* RFC 2918: handled like an UPDATE for timers */
};

/* Every event above, for tests and fuzzing that walk them all. */
#define FSM_NEVENTS 22
extern const enum fsm_event fsm_events[FSM_NEVENTS];

enum fsm_timer {
	FSM_TIMER_CONNECT_RETRY,
	FSM_TIMER_HOLD,
	FSM_TIMER_KEEPALIVE,
	FSM_TIMER_IDLE_HOLD,
	FSM_TIMER_COUNT
};

enum fsm_act_type {
	FSM_ACT_CONNECT,           /* initiate the TCP connection */
	FSM_ACT_CLOSE,             /* drop the TCP connection */
	FSM_ACT_SEND_OPEN,
	FSM_ACT_SEND_KEEPALIVE,
	FSM_ACT_SEND_NOTIFICATION, /* then close: the caller flushes it first */
	FSM_ACT_TIMER_START,
	FSM_ACT_TIMER_STOP,
	FSM_ACT_SESSION_UP,
	FSM_ACT_SESSION_DOWN,      /* release the routes learned on the session */
};

struct fsm_action {
	enum fsm_act_type type;
	enum fsm_timer timer;
	uint32_t seconds;
	const struct bgp_notif *notif;  /* SEND_NOTIFICATION: points into the fsm */
};

#define FSM_MAX_ACTIONS 12

struct fsm_actions {
	struct fsm_action v[FSM_MAX_ACTIONS];
	int n;
	/* The NOTIFICATION a SEND_NOTIFICATION action points at: here, not in struct
	 * fsm, so that a connection does not carry (and zero) 4 KB it rarely uses.
	 * Set only with that action: callers initialise n alone. */
	struct bgp_notif notif;
};

struct fsm_config {
	uint16_t hold_time;        /* ours, default 90; 0 means no keepalives */
	uint16_t connect_retry;    /* seconds between connection attempts */
	uint16_t open_hold;        /* hold timer before the OPEN arrives (§8: "large", 4 min) */
	uint16_t idle_hold_min, idle_hold_max;  /* back-off after failures */
	bool passive;              /* wait for the peer to connect */
};

/* Input that comes with an event. */
struct fsm_input {
	enum fsm_event ev;
	uint16_t peer_hold_time;        /* FSM_EV_OPEN */
	const struct bgp_notif *notif;  /* errors: what to send; FSM_EV_NOTIF*: what came */
	const char *socket_error;       /* FSM_EV_TCP_FAILS: why, in words */
	/* FSM_EV_AUTOMATIC_STOP (we stop for a reason of our own, e.g. RFC 4486 maximum
	 * prefixes): notif is the Cease to send, why adds detail to the last error, and
	 * idle_hold (if not 0) how long to stay Idle before trying again. */
	const char *why;
	uint32_t idle_hold;
};

struct fsm {
	enum fsm_state state;
	struct fsm_config cfg;
	uint16_t hold, keepalive;       /* negotiated */
	uint32_t connect_retry_counter;
	uint32_t idle_hold;             /* the next back-off, in seconds */
	bool auto_restart;              /* false after a manual stop */
	char last_error[384];           /* "Received: Bad peer AS", "Socket: ..." */
	bool last_is_notif;             /* last_error is a NOTIFICATION: sockets do not replace it */
};

void fsm_config_default(struct fsm_config *c);
void fsm_init(struct fsm *f, const struct fsm_config *cfg);
/* Runs one event; the actions to carry out, in order, are appended to acts. */
void fsm_run(struct fsm *f, const struct fsm_input *in, struct fsm_actions *acts);
/* A manual stop that sends a Cease with an RFC 9003 message (subcode Cease/2 etc.). */
void fsm_stop(struct fsm *f, uint8_t cease_subcode, const char *why, struct fsm_actions *acts);

const char *fsm_state_name(enum fsm_state s);
const char *fsm_event_name(enum fsm_event e);

/* §6.8: given both BGP identifiers (host order) and which side opened the existing
 * connection, true when the new connection wins and the existing one must go. */
bool fsm_collision_keep_new(uint32_t local_id, uint32_t remote_id, bool existing_is_ours);

#endif
