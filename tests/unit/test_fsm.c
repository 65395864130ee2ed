/*
 * The RFC 4271 §8 state machine: the whole transition table, state by state
 * and event by event, then the timers, the back-off, collisions, and the
 * exact NOTIFICATION bytes for hold timer expiry, FSM errors (RFC 6608) and
 * Cease (RFC 4486, RFC 9003).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "bgp/fsm.h"

#define M16 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

#define NEV FSM_NEVENTS

static struct bgp_notif hdr_err, open_err, upd_err, rcvd;

static void
init_notifs(void)
{
	bgp_notif_set(&hdr_err, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, "\x00\x12", 2);
	bgp_notif_set(&open_err, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0);
	bgp_notif_set(&upd_err, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
	bgp_notif_set(&rcvd, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0);
}

static void
run(struct fsm *f, enum fsm_event ev, struct fsm_actions *a)
{
	struct fsm_input in = {.ev = ev, .peer_hold_time = 90, .socket_error = "Connection refused"};

	if (ev == FSM_EV_HEADER_ERR)
		in.notif = &hdr_err;
	else if (ev == FSM_EV_OPEN_ERR)
		in.notif = &open_err;
	else if (ev == FSM_EV_UPDATE_ERR)
		in.notif = &upd_err;
	else if (ev == FSM_EV_NOTIF || ev == FSM_EV_NOTIF_VERSION_ERR)
		in.notif = &rcvd;
	a->n = 0;
	fsm_run(f, &in, a);
}

/* Brings a fresh FSM to a state along the normal path. */
static void
reach(struct fsm *f, enum fsm_state target)
{
	static const enum fsm_event path[] = {FSM_EV_MANUAL_START, FSM_EV_TCP_CR_ACKED,
					      FSM_EV_OPEN, FSM_EV_KEEPALIVE_MSG};
	struct fsm_config cfg;
	struct fsm_actions a;

	fsm_config_default(&cfg);
	fsm_init(f, &cfg);
	if (target == FSM_ACTIVE) {
		run(f, FSM_EV_MANUAL_START, &a);
		run(f, FSM_EV_TCP_FAILS, &a);
	}
	for (unsigned i = 0; target != FSM_ACTIVE && f->state != target && i < 4; i++)
		run(f, path[i], &a);
	assert_int_equal(f->state, target);
}

static const struct fsm_action *
find(const struct fsm_actions *a, enum fsm_act_type t)
{
	for (int i = 0; i < a->n; i++)
		if (a->v[i].type == t)
			return &a->v[i];
	return NULL;
}

static const struct fsm_action *
find_timer(const struct fsm_actions *a, enum fsm_act_type t, enum fsm_timer timer)
{
	for (int i = 0; i < a->n; i++)
		if (a->v[i].type == t && a->v[i].timer == timer)
			return &a->v[i];
	return NULL;
}

/* Expected outcome of one event in one state: next state and NOTIFICATION sent (-1: none). */
struct cell {
	enum fsm_state next;
	int code, subcode;
};
#define I(c, s) {FSM_IDLE, c, s}
#define NONE -1, -1
#define S(st) {st, NONE}
#define IN {FSM_IDLE, NONE}

/* Rows: the states; columns: all_events in order. */
static const struct cell table[6][NEV] = {
	[FSM_IDLE] = {S(FSM_CONNECT), S(FSM_IDLE), S(FSM_CONNECT), S(FSM_IDLE), S(FSM_IDLE),
		      S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE),
		      S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE),
		      S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE),
		      S(FSM_IDLE), S(FSM_IDLE)},
	[FSM_CONNECT] = {S(FSM_CONNECT), S(FSM_IDLE), S(FSM_CONNECT), S(FSM_IDLE),
			 S(FSM_CONNECT), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE),
			 S(FSM_OPENSENT), S(FSM_OPENSENT), S(FSM_ACTIVE), S(FSM_IDLE),
			 S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE),
			 S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE)},
	[FSM_ACTIVE] = {S(FSM_ACTIVE), S(FSM_IDLE), S(FSM_ACTIVE), S(FSM_IDLE), S(FSM_CONNECT),
			S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_OPENSENT),
			S(FSM_OPENSENT), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE),
			S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE),
			S(FSM_IDLE), S(FSM_IDLE), S(FSM_IDLE)},
	[FSM_OPENSENT] = {S(FSM_OPENSENT), I(6, 2), S(FSM_OPENSENT), I(6, 0), I(5, 0), I(4, 0),
			  I(5, 0), I(5, 0), I(5, 0), I(5, 0), S(FSM_ACTIVE),
			  S(FSM_OPENCONFIRM), I(1, 2), I(2, 2), I(6, 7), IN, IN,
			  I(5, 1), I(5, 1), I(5, 1), I(5, 1), I(8, 0)},
	[FSM_OPENCONFIRM] = {S(FSM_OPENCONFIRM), I(6, 2), S(FSM_OPENCONFIRM), I(6, 0), I(5, 0),
			     I(4, 0), S(FSM_OPENCONFIRM), I(5, 0), I(5, 0), I(5, 0), IN,
			     I(5, 2), I(1, 2), I(5, 2), I(6, 7), IN, IN,
			     S(FSM_ESTABLISHED), I(5, 2), I(5, 2), I(5, 2), I(8, 0)},
	[FSM_ESTABLISHED] = {S(FSM_ESTABLISHED), I(6, 2), S(FSM_ESTABLISHED), I(6, 0), I(5, 0),
			     I(4, 0), S(FSM_ESTABLISHED), I(5, 0), I(5, 0), I(5, 0), IN,
			     I(5, 3), I(1, 2), I(5, 3), I(6, 7), IN, IN,
			     S(FSM_ESTABLISHED), S(FSM_ESTABLISHED), I(3, 1),
			     S(FSM_ESTABLISHED), I(8, 0)},
};

static void
test_transition_table(void **state)
{
	(void)state;
	init_notifs();
	for (int st = FSM_IDLE; st <= FSM_ESTABLISHED; st++) {
		for (unsigned e = 0; e < NEV; e++) {
			const struct cell *want = &table[st][e];
			const struct fsm_action *n;
			struct fsm_actions a;
			struct fsm f;

			reach(&f, (enum fsm_state)st);
			run(&f, fsm_events[e], &a);
			n = find(&a, FSM_ACT_SEND_NOTIFICATION);
			if (f.state != want->next || (want->code < 0) != (n == NULL) ||
			    (n && (n->notif->code != want->code ||
				   n->notif->subcode != want->subcode)))
				fail_msg("%s + %s: got %s, notification %d/%d; want %s, %d/%d",
					 fsm_state_name(st), fsm_event_name(fsm_events[e]),
					 fsm_state_name(f.state), n ? n->notif->code : -1,
					 n ? n->notif->subcode : -1, fsm_state_name(want->next),
					 want->code, want->subcode);
			/* Leaving an up session always releases its routes, and only then. */
			assert_int_equal(find(&a, FSM_ACT_SESSION_DOWN) != NULL,
					 st == FSM_ESTABLISHED && f.state == FSM_IDLE);
			/* Back in Idle from a connection: it is closed. */
			if (st >= FSM_OPENSENT && f.state == FSM_IDLE)
				assert_non_null(find(&a, FSM_ACT_CLOSE));
			assert_true(a.n < FSM_MAX_ACTIONS);
		}
	}
}

static void
test_start_connects_at_once(void **state)
{
	struct fsm_config cfg;
	struct fsm_actions a;
	struct fsm f;
	const struct fsm_action *t;

	(void)state;
	fsm_config_default(&cfg);
	fsm_init(&f, &cfg);
	run(&f, FSM_EV_MANUAL_START, &a);
	assert_non_null(find(&a, FSM_ACT_CONNECT));
	t = find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_CONNECT_RETRY);
	assert_non_null(t);
	assert_int_equal(t->seconds, 5);
	/* Passive: wait in Active, never connect. */
	cfg.passive = true;
	fsm_init(&f, &cfg);
	run(&f, FSM_EV_MANUAL_START, &a);
	assert_int_equal(f.state, FSM_ACTIVE);
	assert_null(find(&a, FSM_ACT_CONNECT));
}

static void
test_connect_failure_and_retry(void **state)
{
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	reach(&f, FSM_CONNECT);
	run(&f, FSM_EV_TCP_FAILS, &a);
	assert_int_equal(f.state, FSM_ACTIVE);
	assert_string_equal(f.last_error, "Socket: Connection refused");
	assert_non_null(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_CONNECT_RETRY));
	run(&f, FSM_EV_CONNECT_RETRY_EXPIRES, &a);
	assert_int_equal(f.state, FSM_CONNECT);
	assert_non_null(find(&a, FSM_ACT_CONNECT));
	run(&f, FSM_EV_TCP_CR_ACKED, &a);
	assert_int_equal(f.state, FSM_OPENSENT);
	assert_non_null(find(&a, FSM_ACT_SEND_OPEN));
	assert_non_null(find_timer(&a, FSM_ACT_TIMER_STOP, FSM_TIMER_CONNECT_RETRY));
	/* §8.2.2: a large hold timer until the OPEN arrives. */
	assert_int_equal(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_HOLD)->seconds, 240);
}

static void
test_hold_time_negotiation(void **state)
{
	struct fsm f;
	struct fsm_actions a;
	struct fsm_input in = {.ev = FSM_EV_OPEN, .peer_hold_time = 30};

	(void)state;
	reach(&f, FSM_OPENSENT);
	a.n = 0;
	fsm_run(&f, &in, &a);
	assert_int_equal(f.hold, 30);
	assert_int_equal(f.keepalive, 10);
	assert_non_null(find(&a, FSM_ACT_SEND_KEEPALIVE));
	assert_int_equal(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_HOLD)->seconds, 30);
	assert_int_equal(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_KEEPALIVE)->seconds, 10);
	/* Hold time 0: no hold timer and no keepalives. */
	reach(&f, FSM_OPENSENT);
	in.peer_hold_time = 0;
	a.n = 0;
	fsm_run(&f, &in, &a);
	assert_int_equal(f.hold, 0);
	assert_null(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_HOLD));
	assert_null(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_KEEPALIVE));
	/* Ours is the smaller. */
	reach(&f, FSM_OPENSENT);
	in.peer_hold_time = 240;
	a.n = 0;
	fsm_run(&f, &in, &a);
	assert_int_equal(f.hold, 90);
	assert_int_equal(f.keepalive, 30);
}

static void
test_established_timers(void **state)
{
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	reach(&f, FSM_OPENCONFIRM);
	run(&f, FSM_EV_KEEPALIVE_MSG, &a);
	assert_int_equal(f.state, FSM_ESTABLISHED);
	assert_non_null(find(&a, FSM_ACT_SESSION_UP));
	assert_int_equal(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_HOLD)->seconds, 90);
	run(&f, FSM_EV_KEEPALIVE_EXPIRES, &a);
	assert_non_null(find(&a, FSM_ACT_SEND_KEEPALIVE));
	assert_int_equal(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_KEEPALIVE)->seconds, 30);
	run(&f, FSM_EV_UPDATE_MSG, &a);
	assert_non_null(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_HOLD));
	run(&f, FSM_EV_ROUTE_REFRESH_MSG, &a);
	assert_non_null(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_HOLD));
}

static void
assert_sent(const struct fsm_actions *a, const uint8_t *want, size_t want_len)
{
	const struct fsm_action *n = find(a, FSM_ACT_SEND_NOTIFICATION);
	uint8_t buf[BGP_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));

	assert_non_null(n);
	bgp_notif_encode(&w, n->notif);
	assert_int_equal(w.len, want_len);
	assert_memory_equal(buf, want, want_len);
	/* The NOTIFICATION goes out before the connection is dropped. */
	assert_true(n < find(a, FSM_ACT_CLOSE));
}

static void
test_hold_timer_expired_bytes(void **state)
{
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x04, 0x00};
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	reach(&f, FSM_ESTABLISHED);
	run(&f, FSM_EV_HOLD_EXPIRES, &a);
	assert_sent(&a, want, sizeof(want));
	assert_string_equal(f.last_error, "Error: Hold timer expired");
	reach(&f, FSM_OPENSENT);
	run(&f, FSM_EV_HOLD_EXPIRES, &a);
	assert_sent(&a, want, sizeof(want));
}

/* RFC 9687: the peer read nothing for the send hold time: code 8, the session goes. */
static void
test_send_hold_timer_expired_bytes(void **state)
{
	const uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x08, 0x00};
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	reach(&f, FSM_ESTABLISHED);
	run(&f, FSM_EV_SEND_HOLD_EXPIRES, &a);
	assert_sent(&a, want, sizeof(want));
	assert_non_null(find(&a, FSM_ACT_SESSION_DOWN));
	assert_int_equal(f.state, FSM_IDLE);
	assert_string_equal(f.last_error, "Error: Send hold timer expired");
	/* It counts as a failure: the restart backs off like any other. */
	assert_int_equal(f.connect_retry_counter, 1);
	assert_non_null(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_IDLE_HOLD));
}

static void
test_fsm_error_bytes_rfc6608(void **state)
{
	const uint8_t in_opensent[] = {M16, 0x00, 0x15, 0x03, 0x05, 0x01};
	const uint8_t in_openconfirm[] = {M16, 0x00, 0x15, 0x03, 0x05, 0x02};
	const uint8_t in_established[] = {M16, 0x00, 0x15, 0x03, 0x05, 0x03};
	const uint8_t unspecified[] = {M16, 0x00, 0x15, 0x03, 0x05, 0x00};
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	reach(&f, FSM_OPENSENT);
	run(&f, FSM_EV_UPDATE_MSG, &a);
	assert_sent(&a, in_opensent, sizeof(in_opensent));
	reach(&f, FSM_OPENCONFIRM);
	run(&f, FSM_EV_UPDATE_MSG, &a);
	assert_sent(&a, in_openconfirm, sizeof(in_openconfirm));
	reach(&f, FSM_ESTABLISHED);
	run(&f, FSM_EV_OPEN, &a);
	assert_sent(&a, in_established, sizeof(in_established));
	reach(&f, FSM_OPENSENT);
	run(&f, FSM_EV_CONNECT_RETRY_EXPIRES, &a);
	assert_sent(&a, unspecified, sizeof(unspecified));
}

static void
test_cease_bytes_rfc4486_rfc9003(void **state)
{
	const uint8_t shutdown[] = {M16, 0x00, 0x1e, 0x03, 0x06, 0x02, 0x08,
				    'u', 'p', 'g', 'r', 'a', 'd', 'e', '!'};
	const uint8_t plain_shutdown[] = {M16, 0x00, 0x15, 0x03, 0x06, 0x02};
	const uint8_t collision[] = {M16, 0x00, 0x15, 0x03, 0x06, 0x07};
	const uint8_t subcodes[] = {BGP_CEASE_MAX_PREFIXES,   BGP_CEASE_PEER_DECONFIGURED,
				    BGP_CEASE_CONN_REJECTED,  BGP_CEASE_CONFIG_CHANGE,
				    BGP_CEASE_OUT_OF_RESOURCES, BGP_CEASE_HARD_RESET};
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	reach(&f, FSM_ESTABLISHED);
	a.n = 0;
	fsm_stop(&f, BGP_CEASE_ADMIN_SHUTDOWN, "upgrade!", &a);
	assert_sent(&a, shutdown, sizeof(shutdown));
	assert_non_null(find(&a, FSM_ACT_SESSION_DOWN));
	/* A stop is not followed by an automatic restart. */
	assert_null(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_IDLE_HOLD));
	assert_int_equal(f.state, FSM_IDLE);
	run(&f, FSM_EV_IDLE_HOLD_EXPIRES, &a);
	assert_int_equal(f.state, FSM_IDLE);

	reach(&f, FSM_OPENCONFIRM);
	run(&f, FSM_EV_MANUAL_STOP, &a);
	assert_sent(&a, plain_shutdown, sizeof(plain_shutdown));
	reach(&f, FSM_OPENSENT);
	run(&f, FSM_EV_OPEN_COLLISION_DUMP, &a);
	assert_sent(&a, collision, sizeof(collision));

	for (size_t i = 0; i < sizeof(subcodes); i++) {
		uint8_t want[] = {M16, 0x00, 0x15, 0x03, 0x06, subcodes[i]};

		reach(&f, FSM_ESTABLISHED);
		a.n = 0;
		/* Only Cease/2 and Cease/4 carry a message (RFC 9003). */
		fsm_stop(&f, subcodes[i], "ignored", &a);
		assert_sent(&a, want, sizeof(want));
	}
	/* Stopping before OPEN was sent sends nothing. */
	reach(&f, FSM_CONNECT);
	a.n = 0;
	fsm_stop(&f, BGP_CEASE_PEER_DECONFIGURED, NULL, &a);
	assert_null(find(&a, FSM_ACT_SEND_NOTIFICATION));
	assert_non_null(find(&a, FSM_ACT_CLOSE));
}

static void
test_received_notification_is_recorded_not_answered(void **state)
{
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	init_notifs();
	reach(&f, FSM_OPENSENT);
	run(&f, FSM_EV_NOTIF, &a);
	assert_null(find(&a, FSM_ACT_SEND_NOTIFICATION));
	assert_string_equal(f.last_error, "Received: Bad peer AS");
	assert_string_equal(fsm_state_name(f.state), "Idle");
}

static void
test_damping_backoff(void **state)
{
	const uint32_t want[] = {1, 2, 4, 8, 16, 32, 60, 60};
	struct fsm f;
	struct fsm_actions a;

	(void)state;
	reach(&f, FSM_CONNECT);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct fsm_action *t;

		run(&f, FSM_EV_TCP_CR_ACKED, &a);
		run(&f, FSM_EV_HOLD_EXPIRES, &a);
		t = find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_IDLE_HOLD);
		assert_non_null(t);
		assert_int_equal(t->seconds, want[i]);
		assert_int_equal(f.connect_retry_counter, i + 1);
		/* Nothing happens in Idle until the idle hold timer fires. */
		run(&f, FSM_EV_CONNECT_RETRY_EXPIRES, &a);
		assert_int_equal(a.n, 0);
		run(&f, FSM_EV_IDLE_HOLD_EXPIRES, &a);
		assert_int_equal(f.state, FSM_CONNECT);
	}
	/* A session that comes up resets the back-off. */
	run(&f, FSM_EV_TCP_CR_ACKED, &a);
	run(&f, FSM_EV_OPEN, &a);
	run(&f, FSM_EV_KEEPALIVE_MSG, &a);
	run(&f, FSM_EV_TCP_FAILS, &a);
	assert_int_equal(find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_IDLE_HOLD)->seconds, 1);
}

static void
test_collision_resolution(void **state)
{
	(void)state;
	/* Our id lower: the connection the remote opened wins. */
	assert_true(fsm_collision_keep_new(1, 2, true));
	assert_false(fsm_collision_keep_new(1, 2, false));
	/* Our id higher: the connection we opened wins. */
	assert_false(fsm_collision_keep_new(2, 1, true));
	assert_true(fsm_collision_keep_new(2, 1, false));
}

/* The reason a peer refused us stays in view through the socket failures that follow. */
static void
test_protocol_error_outlives_socket_errors(void **state)
{
	struct fsm f;
	struct fsm_actions a;
	struct bgp_notif hard;

	(void)state;
	init_notifs();
	reach(&f, FSM_OPENSENT);
	run(&f, FSM_EV_NOTIF, &a);
	assert_string_equal(f.last_error, "Received: Bad peer AS");
	/* The retry: the peer closes or refuses the connection. */
	run(&f, FSM_EV_IDLE_HOLD_EXPIRES, &a);
	assert_int_equal(f.state, FSM_CONNECT);
	run(&f, FSM_EV_TCP_FAILS, &a);
	assert_string_equal(f.last_error, "Received: Bad peer AS");
	run(&f, FSM_EV_CONNECT_RETRY_EXPIRES, &a);
	run(&f, FSM_EV_TCP_CR_ACKED, &a);
	assert_int_equal(f.state, FSM_OPENSENT);
	run(&f, FSM_EV_TCP_FAILS, &a);
	assert_string_equal(f.last_error, "Received: Bad peer AS");
	/* Another NOTIFICATION replaces it. */
	run(&f, FSM_EV_CONNECT_RETRY_EXPIRES, &a);
	run(&f, FSM_EV_TCP_CR_ACKED, &a);
	bgp_notif_shutdown(&hard, BGP_CEASE_ADMIN_SHUTDOWN, "bye\x1b[2J");
	{
		struct fsm_input in = {.ev = FSM_EV_NOTIF, .notif = &hard};

		fsm_run(&f, &in, &a);
	}
	assert_string_equal(f.last_error, "Received: Administrative shutdown: \"bye\\x1b[2J\"");
	/* Established clears it; a socket error after that is shown again. */
	run(&f, FSM_EV_IDLE_HOLD_EXPIRES, &a);
	run(&f, FSM_EV_TCP_CR_ACKED, &a);
	run(&f, FSM_EV_OPEN, &a);
	run(&f, FSM_EV_KEEPALIVE_MSG, &a);
	assert_int_equal(f.state, FSM_ESTABLISHED);
	assert_string_equal(f.last_error, "");
	run(&f, FSM_EV_TCP_FAILS, &a);
	assert_string_equal(f.last_error, "Socket: Connection refused");
}

/* An automatic stop (RFC 4486 maximum prefixes): the given Cease, its reason, its idle hold. */
static void
test_automatic_stop_max_prefixes(void **state)
{
	const uint8_t want[] = {M16, 0x00, 0x1c, 0x03, 0x06, 0x01, 0x00, 0x01, 0x01,
				0x00, 0x00, 0x00, 0x0a};
	const uint8_t data[] = {0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x0a};
	struct bgp_notif n;
	struct fsm f;
	struct fsm_actions a = {.n = 0};
	struct fsm_input in = {.ev = FSM_EV_AUTOMATIC_STOP, .notif = &n,
			       .why = "limit 10, received 11", .idle_hold = 30};
	const struct fsm_action *t;

	(void)state;
	bgp_notif_set(&n, BGP_ERR_CEASE, BGP_CEASE_MAX_PREFIXES, data, sizeof(data));
	reach(&f, FSM_ESTABLISHED);
	fsm_run(&f, &in, &a);
	assert_int_equal(f.state, FSM_IDLE);
	assert_sent(&a, want, sizeof(want));
	assert_non_null(find(&a, FSM_ACT_SESSION_DOWN));
	t = find_timer(&a, FSM_ACT_TIMER_START, FSM_TIMER_IDLE_HOLD);
	assert_non_null(t);
	assert_int_equal(t->seconds, 30);
	assert_string_equal(f.last_error,
			    "Error: Maximum number of prefixes reached (limit 10, received 11)");
	/* It stays through the retries' socket failures. */
	run(&f, FSM_EV_IDLE_HOLD_EXPIRES, &a);
	run(&f, FSM_EV_TCP_FAILS, &a);
	assert_string_equal(f.last_error,
			    "Error: Maximum number of prefixes reached (limit 10, received 11)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_start_connects_at_once),
		cmocka_unit_test(test_connect_failure_and_retry),
		cmocka_unit_test(test_hold_time_negotiation),
		cmocka_unit_test(test_established_timers),
		cmocka_unit_test(test_hold_timer_expired_bytes),
		cmocka_unit_test(test_send_hold_timer_expired_bytes),
		cmocka_unit_test(test_fsm_error_bytes_rfc6608),
		cmocka_unit_test(test_cease_bytes_rfc4486_rfc9003),
		cmocka_unit_test(test_received_notification_is_recorded_not_answered),
		cmocka_unit_test(test_damping_backoff),
		cmocka_unit_test(test_automatic_stop_max_prefixes),
		cmocka_unit_test(test_protocol_error_outlives_socket_errors),
		cmocka_unit_test(test_collision_resolution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
