/* The RFC 4271 §8 state machine, one connection, as data in and actions out. */
#include "bgp/fsm.h"

#include <stdio.h>
#include <string.h>

#include "bgp/gr.h"
#include "lib/text.h"

static const char *const state_names[] = {
	[FSM_IDLE] = "Idle",
	[FSM_CONNECT] = "Connect",
	[FSM_ACTIVE] = "Active",
	[FSM_OPENSENT] = "OpenSent",
	[FSM_OPENCONFIRM] = "OpenConfirm",
	[FSM_ESTABLISHED] = "Established",
};

const enum fsm_event fsm_events[FSM_NEVENTS] = {
	FSM_EV_MANUAL_START, FSM_EV_MANUAL_STOP, FSM_EV_AUTOMATIC_START, FSM_EV_AUTOMATIC_STOP,
	FSM_EV_CONNECT_RETRY_EXPIRES, FSM_EV_HOLD_EXPIRES, FSM_EV_KEEPALIVE_EXPIRES,
	FSM_EV_IDLE_HOLD_EXPIRES, FSM_EV_TCP_CR_ACKED, FSM_EV_TCP_CONFIRMED, FSM_EV_TCP_FAILS,
	FSM_EV_OPEN, FSM_EV_HEADER_ERR, FSM_EV_OPEN_ERR, FSM_EV_OPEN_COLLISION_DUMP,
	FSM_EV_NOTIF_VERSION_ERR, FSM_EV_NOTIF, FSM_EV_KEEPALIVE_MSG, FSM_EV_UPDATE_MSG,
	FSM_EV_UPDATE_ERR, FSM_EV_ROUTE_REFRESH_MSG, FSM_EV_SEND_HOLD_EXPIRES,
};

const char *
fsm_state_name(enum fsm_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

const char *
fsm_event_name(enum fsm_event e)
{
	switch (e) {
	case FSM_EV_MANUAL_START: return "ManualStart";
	case FSM_EV_MANUAL_STOP: return "ManualStop";
	case FSM_EV_AUTOMATIC_START: return "AutomaticStart";
	case FSM_EV_AUTOMATIC_STOP: return "AutomaticStop";
	case FSM_EV_CONNECT_RETRY_EXPIRES: return "ConnectRetryTimer_Expires";
	case FSM_EV_HOLD_EXPIRES: return "HoldTimer_Expires";
	case FSM_EV_KEEPALIVE_EXPIRES: return "KeepaliveTimer_Expires";
	case FSM_EV_IDLE_HOLD_EXPIRES: return "IdleHoldTimer_Expires";
	case FSM_EV_TCP_CR_ACKED: return "Tcp_CR_Acked";
	case FSM_EV_TCP_CONFIRMED: return "TcpConnectionConfirmed";
	case FSM_EV_TCP_FAILS: return "TcpConnectionFails";
	case FSM_EV_OPEN: return "BGPOpen";
	case FSM_EV_HEADER_ERR: return "BGPHeaderErr";
	case FSM_EV_OPEN_ERR: return "BGPOpenMsgErr";
	case FSM_EV_OPEN_COLLISION_DUMP: return "OpenCollisionDump";
	case FSM_EV_NOTIF_VERSION_ERR: return "NotifMsgVerErr";
	case FSM_EV_NOTIF: return "NotifMsg";
	case FSM_EV_KEEPALIVE_MSG: return "KeepAliveMsg";
	case FSM_EV_UPDATE_MSG: return "UpdateMsg";
	case FSM_EV_UPDATE_ERR: return "UpdateMsgErr";
	case FSM_EV_ROUTE_REFRESH_MSG: return "RouteRefreshMsg";
	case FSM_EV_SEND_HOLD_EXPIRES: return "SendHoldTimer_Expires";
	}
	return "?";
}

bool
fsm_collision_keep_new(uint32_t local_id, uint32_t remote_id, bool existing_is_ours)
{
	/* §6.8: the connection opened by the speaker with the higher identifier survives. */
	return existing_is_ours ? remote_id > local_id : local_id > remote_id;
}

void
fsm_config_default(struct fsm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hold_time = 90;
	c->connect_retry = 5;
	c->open_hold = 240;
	c->idle_hold_min = 1;
	c->idle_hold_max = 60;
}

void
fsm_init(struct fsm *f, const struct fsm_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	f->state = FSM_IDLE;
	f->idle_hold = cfg->idle_hold_min ? cfg->idle_hold_min : 1;
}

static struct fsm_action *
push(struct fsm_actions *a, enum fsm_act_type type)
{
	struct fsm_action *x;

	/* The longest path through fsm_run emits fewer than FSM_MAX_ACTIONS. */
	if (a->n >= FSM_MAX_ACTIONS)
		a->n = FSM_MAX_ACTIONS - 1;
	x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->type = type;
	return x;
}

static void
timer_start(struct fsm_actions *a, enum fsm_timer t, uint32_t seconds)
{
	struct fsm_action *x = push(a, FSM_ACT_TIMER_START);

	x->timer = t;
	x->seconds = seconds;
}

static void
timer_stop(struct fsm_actions *a, enum fsm_timer t)
{
	push(a, FSM_ACT_TIMER_STOP)->timer = t;
}

static void
note(struct fsm *f, const char *prefix, const char *what)
{
	snprintf(f->last_error, sizeof(f->last_error), "%s%s", prefix, what);
}

static void
note_notif(struct fsm *f, const char *prefix, const struct bgp_notif *given)
{
	static struct bgp_notif inner;
	char msg[TEXT_ESCAPED_SIZE(BGP_SHUTDOWN_MAX)], both[BGP_GR_NAME_MAX];
	const struct bgp_notif *n = given;
	const char *name = bgp_gr_notif_name(given, both, sizeof(both));

	/* RFC 8538 §3.1: the shutdown communication is the carried NOTIFICATION's. */
	if (bgp_gr_hard_reset_inner(given, &inner) == 0)
		n = &inner;
	/* The escaped message is cut to what fits, so the note never ends inside a character. */
	size_t room = sizeof(f->last_error) - strlen(prefix) - strlen(name) - sizeof(": \"\"");

	if (room > sizeof(msg))
		room = sizeof(msg);
	if (bgp_notif_shutdown_msg(n, msg, room) == 0)
		snprintf(f->last_error, sizeof(f->last_error), "%s%s: \"%s\"", prefix, name, msg);
	else
		note(f, prefix, name);
	f->last_is_notif = true;
}

/* Queues a NOTIFICATION (kept in a->notif for the caller to encode). */
static void
send_notif(struct fsm *f, struct fsm_actions *a, const struct bgp_notif *n)
{
	if (n != &a->notif)
		a->notif = *n;
	push(a, FSM_ACT_SEND_NOTIFICATION)->notif = &a->notif;
	note_notif(f, "Error: ", &a->notif);
}

static void
send_code(struct fsm *f, struct fsm_actions *a, uint8_t code, uint8_t subcode)
{
	bgp_notif_set(&a->notif, code, subcode, NULL, 0);
	send_notif(f, a, &a->notif);
}

/*
 * Every way back to Idle: timers stopped, connection dropped, routes released
 * if the session was up. A failure counts (ConnectRetryCounter) and, with
 * automatic restart, backs off: the IdleHoldTimer doubles up to its maximum
 * (§8.1.1 DampPeerOscillations), so a broken peer cannot make us spin.
 */
static void
go_idle(struct fsm *f, struct fsm_actions *a, bool failure)
{
	bool was_up = f->state == FSM_ESTABLISHED;

	timer_stop(a, FSM_TIMER_CONNECT_RETRY);
	timer_stop(a, FSM_TIMER_HOLD);
	timer_stop(a, FSM_TIMER_KEEPALIVE);
	push(a, FSM_ACT_CLOSE);
	if (was_up)
		push(a, FSM_ACT_SESSION_DOWN);
	f->state = FSM_IDLE;
	if (failure)
		f->connect_retry_counter++;
	if (!f->auto_restart)
		return;
	timer_start(a, FSM_TIMER_IDLE_HOLD, f->idle_hold);
	if (failure) {
		f->idle_hold *= 2;
		if (f->idle_hold > f->cfg.idle_hold_max)
			f->idle_hold = f->cfg.idle_hold_max;
	}
}

static void
start(struct fsm *f, struct fsm_actions *a)
{
	timer_stop(a, FSM_TIMER_IDLE_HOLD);
	timer_start(a, FSM_TIMER_CONNECT_RETRY, f->cfg.connect_retry);
	if (f->cfg.passive) {
		f->state = FSM_ACTIVE;
		return;
	}
	/* A new peer is tried at once, not after a ConnectRetry interval. */
	push(a, FSM_ACT_CONNECT);
	f->state = FSM_CONNECT;
}

static void
connected(struct fsm *f, struct fsm_actions *a)
{
	timer_stop(a, FSM_TIMER_CONNECT_RETRY);
	push(a, FSM_ACT_SEND_OPEN);
	/* §8.2.2: a large hold value until the OPEN arrives. */
	timer_start(a, FSM_TIMER_HOLD, f->cfg.open_hold);
	f->state = FSM_OPENSENT;
}

/*
 * A protocol error outlives the connection failures that follow it (the peer
 * that refused our OPEN then resets our retries): it stays until the session
 * is Established or another NOTIFICATION comes.
 */
static void
socket_failed(struct fsm *f, const struct fsm_input *in)
{
	if (f->last_is_notif)
		return;
	note(f, "Socket: ", in->socket_error ? in->socket_error : "Connection closed");
}

static void
restart_hold(struct fsm *f, struct fsm_actions *a)
{
	if (f->hold > 0)
		timer_start(a, FSM_TIMER_HOLD, f->hold);
}

static bool
is_message_event(enum fsm_event e)
{
	return e == FSM_EV_OPEN || e == FSM_EV_OPEN_ERR || e == FSM_EV_KEEPALIVE_MSG ||
	       e == FSM_EV_UPDATE_MSG || e == FSM_EV_UPDATE_ERR || e == FSM_EV_ROUTE_REFRESH_MSG;
}

/* An event the state does not expect: RFC 6608 names the state for messages. */
static void
fsm_error(struct fsm *f, struct fsm_actions *a, const struct fsm_input *in, uint8_t subcode)
{
	send_code(f, a, BGP_ERR_FSM, is_message_event(in->ev) ? subcode : BGP_FSM_UNSPECIFIED);
	go_idle(f, a, true);
}

void
fsm_stop(struct fsm *f, uint8_t cease_subcode, const char *why, struct fsm_actions *acts)
{
	struct bgp_notif n;

	f->auto_restart = false;
	f->connect_retry_counter = 0;
	if (f->state == FSM_IDLE) {
		timer_stop(acts, FSM_TIMER_IDLE_HOLD);
		return;
	}
	if (f->state >= FSM_OPENSENT) {
		bgp_notif_shutdown(&n, cease_subcode, why);
		if (cease_subcode != BGP_CEASE_ADMIN_SHUTDOWN &&
		    cease_subcode != BGP_CEASE_ADMIN_RESET)
			n.data_len = 0;  /* RFC 9003 defines data for these two only */
		send_notif(f, acts, &n);
	}
	go_idle(f, acts, false);
}

static void
run_idle(struct fsm *f, const struct fsm_input *in, struct fsm_actions *a)
{
	switch (in->ev) {
	case FSM_EV_MANUAL_START:
	case FSM_EV_AUTOMATIC_START:
		f->auto_restart = true;
		f->connect_retry_counter = 0;
		start(f, a);
		break;
	case FSM_EV_IDLE_HOLD_EXPIRES:
		if (f->auto_restart)
			start(f, a);
		break;
	case FSM_EV_TCP_CONFIRMED:
		/* §8.2.2: Idle refuses connections. */
		push(a, FSM_ACT_CLOSE);
		break;
	default:
		/* §8.2.2: any other event leaves Idle as it is. */
		break;
	}
}

static void
run_connect_active(struct fsm *f, const struct fsm_input *in, struct fsm_actions *a)
{
	switch (in->ev) {
	case FSM_EV_MANUAL_START:
	case FSM_EV_AUTOMATIC_START:
		break;  /* already started */
	case FSM_EV_CONNECT_RETRY_EXPIRES:
		if (f->state == FSM_CONNECT)
			push(a, FSM_ACT_CLOSE);
		timer_start(a, FSM_TIMER_CONNECT_RETRY, f->cfg.connect_retry);
		push(a, FSM_ACT_CONNECT);
		f->state = FSM_CONNECT;
		break;
	case FSM_EV_TCP_CR_ACKED:
	case FSM_EV_TCP_CONFIRMED:
		connected(f, a);
		break;
	case FSM_EV_TCP_FAILS:
		socket_failed(f, in);
		if (f->state == FSM_CONNECT) {
			/* §8.2.2 Connect: keep listening, retry when the timer fires. */
			timer_start(a, FSM_TIMER_CONNECT_RETRY, f->cfg.connect_retry);
			push(a, FSM_ACT_CLOSE);
			f->state = FSM_ACTIVE;
		} else {
			go_idle(f, a, true);
		}
		break;
	case FSM_EV_NOTIF_VERSION_ERR:
		go_idle(f, a, false);
		break;
	default:
		go_idle(f, a, true);
		break;
	}
}

static void
negotiate(struct fsm *f, uint16_t peer_hold)
{
	/* §4.2: the smaller of the two; 0 means no hold timer and no keepalives. */
	f->hold = peer_hold < f->cfg.hold_time ? peer_hold : f->cfg.hold_time;
	f->keepalive = f->hold / 3;
	if (f->hold > 0 && f->keepalive == 0)
		f->keepalive = 1;
}

/* What OpenSent, OpenConfirm and Established share. */
static bool
run_common(struct fsm *f, const struct fsm_input *in, struct fsm_actions *a)
{
	switch (in->ev) {
	case FSM_EV_MANUAL_START:
	case FSM_EV_AUTOMATIC_START:
		return true;
	case FSM_EV_AUTOMATIC_STOP:
		if (in->notif != NULL)
			send_notif(f, a, in->notif);
		else
			send_code(f, a, BGP_ERR_CEASE, 0);
		if (in->why != NULL) {
			size_t l = strlen(f->last_error);

			snprintf(f->last_error + l, sizeof(f->last_error) - l, " (%s)", in->why);
		}
		if (in->idle_hold > 0)
			f->idle_hold = in->idle_hold;
		go_idle(f, a, true);
		return true;
	case FSM_EV_HOLD_EXPIRES:
		send_code(f, a, BGP_ERR_HOLD, 0);
		go_idle(f, a, true);
		return true;
	case FSM_EV_SEND_HOLD_EXPIRES:
		/* RFC 9687: try the NOTIFICATION (it may never get through), close, count it. */
		send_code(f, a, BGP_ERR_SEND_HOLD, 0);
		go_idle(f, a, true);
		return true;
	case FSM_EV_HEADER_ERR:
	case FSM_EV_OPEN_ERR:
	case FSM_EV_UPDATE_ERR:
		/* An OPEN or UPDATE this state does not expect is an FSM error, bad or not. */
		if ((in->ev == FSM_EV_OPEN_ERR && f->state != FSM_OPENSENT) ||
		    (in->ev == FSM_EV_UPDATE_ERR && f->state != FSM_ESTABLISHED))
			return false;
		send_notif(f, a, in->notif);
		go_idle(f, a, true);
		return true;
	case FSM_EV_OPEN_COLLISION_DUMP:
		send_code(f, a, BGP_ERR_CEASE, BGP_CEASE_COLLISION);
		/* This connection lost to the other one, which carries the session on. */
		if (f->state != FSM_ESTABLISHED)
			f->auto_restart = false;
		go_idle(f, a, false);
		return true;
	case FSM_EV_NOTIF_VERSION_ERR:
	case FSM_EV_NOTIF:
		/* No NOTIFICATION in reply to one: the peer is already closing. */
		if (in->notif)
			note_notif(f, "Received: ", in->notif);
		go_idle(f, a, in->ev == FSM_EV_NOTIF);
		return true;
	case FSM_EV_TCP_FAILS:
		/* OpenSent goes back to Active instead (its own handler). */
		if (f->state == FSM_OPENSENT)
			return false;
		socket_failed(f, in);
		go_idle(f, a, true);
		return true;
	case FSM_EV_KEEPALIVE_EXPIRES:
		if (f->state == FSM_OPENSENT)
			return false;
		push(a, FSM_ACT_SEND_KEEPALIVE);
		if (f->keepalive > 0)
			timer_start(a, FSM_TIMER_KEEPALIVE, f->keepalive);
		return true;
	default:
		return false;
	}
}

static void
run_opensent(struct fsm *f, const struct fsm_input *in, struct fsm_actions *a)
{
	if (run_common(f, in, a))
		return;
	switch (in->ev) {
	case FSM_EV_TCP_FAILS:
		/* §8.2.2 OpenSent: back to Active, listening, retrying later. */
		socket_failed(f, in);
		push(a, FSM_ACT_CLOSE);
		timer_stop(a, FSM_TIMER_HOLD);
		timer_start(a, FSM_TIMER_CONNECT_RETRY, f->cfg.connect_retry);
		f->state = FSM_ACTIVE;
		break;
	case FSM_EV_OPEN:
		timer_stop(a, FSM_TIMER_CONNECT_RETRY);
		negotiate(f, in->peer_hold_time);
		push(a, FSM_ACT_SEND_KEEPALIVE);
		if (f->hold > 0) {
			timer_start(a, FSM_TIMER_KEEPALIVE, f->keepalive);
			timer_start(a, FSM_TIMER_HOLD, f->hold);
		} else {
			timer_stop(a, FSM_TIMER_HOLD);
		}
		f->state = FSM_OPENCONFIRM;
		break;
	default:
		fsm_error(f, a, in, BGP_FSM_IN_OPENSENT);
		break;
	}
}

static void
run_openconfirm(struct fsm *f, const struct fsm_input *in, struct fsm_actions *a)
{
	if (run_common(f, in, a))
		return;
	switch (in->ev) {
	case FSM_EV_KEEPALIVE_MSG:
		restart_hold(f, a);
		f->state = FSM_ESTABLISHED;
		f->idle_hold = f->cfg.idle_hold_min ? f->cfg.idle_hold_min : 1;
		f->last_error[0] = '\0';
		f->last_is_notif = false;
		push(a, FSM_ACT_SESSION_UP);
		break;
	default:
		fsm_error(f, a, in, BGP_FSM_IN_OPENCONFIRM);
		break;
	}
}

static void
run_established(struct fsm *f, const struct fsm_input *in, struct fsm_actions *a)
{
	if (run_common(f, in, a))
		return;
	switch (in->ev) {
	case FSM_EV_KEEPALIVE_MSG:
	case FSM_EV_UPDATE_MSG:
	case FSM_EV_ROUTE_REFRESH_MSG:
		restart_hold(f, a);
		break;
	default:
		fsm_error(f, a, in, BGP_FSM_IN_ESTABLISHED);
		break;
	}
}

void
fsm_run(struct fsm *f, const struct fsm_input *in, struct fsm_actions *acts)
{
	struct fsm_input fixed = *in;
	struct bgp_notif generic;

	/* An error event without its NOTIFICATION still sends a well-formed one. */
	if (fixed.notif == NULL &&
	    (in->ev == FSM_EV_HEADER_ERR || in->ev == FSM_EV_OPEN_ERR || in->ev == FSM_EV_UPDATE_ERR)) {
		bgp_notif_set(&generic,
			      in->ev == FSM_EV_HEADER_ERR ? BGP_ERR_HEADER
			      : in->ev == FSM_EV_OPEN_ERR ? BGP_ERR_OPEN
							  : BGP_ERR_UPDATE,
			      0, NULL, 0);
		fixed.notif = &generic;
	}
	in = &fixed;
	if (in->ev == FSM_EV_MANUAL_STOP) {
		fsm_stop(f, BGP_CEASE_ADMIN_SHUTDOWN, NULL, acts);
		return;
	}
	switch (f->state) {
	case FSM_IDLE:
		run_idle(f, in, acts);
		break;
	case FSM_CONNECT:
	case FSM_ACTIVE:
		run_connect_active(f, in, acts);
		break;
	case FSM_OPENSENT:
		run_opensent(f, in, acts);
		break;
	case FSM_OPENCONFIRM:
		run_openconfirm(f, in, acts);
		break;
	case FSM_ESTABLISHED:
		run_established(f, in, acts);
		break;
	}
}
