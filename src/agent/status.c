/*
 * Observed state out: the agent record and one record per session, all on one
 * lease, so a dead agent's status vanishes with its lease. Written on state
 * changes only, never per message.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/log.h"

#define LEASE_TTL 10
#define LEASE_RENEW 3.0

static void
session_key(const struct session *s, struct key *k)
{
	char l[ADDR_STRLEN], r[ADDR_STRLEN];

	addr_format(&s->spec.local, l);
	addr_format(&s->spec.remote, r);
	snprintf(k->s, sizeof(k->s), KEY_ROOT "status/%s/session/%s-%s", s->ag->cfg.node, l, r);
}

static void
iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
status_session_json(const struct session *s)
{
	const struct conn *c = s->conn[0];
	char l[ADDR_STRLEN], r[ADDR_STRLEN], since[32], id[ADDR_STRLEN] = "";
	json_t *o;
	char *text;

	addr_format(&s->spec.local, l);
	addr_format(&s->spec.remote, r);
	iso_time(s->since, since, sizeof(since));
	if (c != NULL && c->have_open) {
		struct addr a;

		addr_from_u32(c->peer_open.bgp_id, &a);
		addr_format(&a, id);
	}
	o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:b}", "local", l, "remote", r,
		      "local_as", (json_int_t)s->spec.local_as, "remote_as",
		      (json_int_t)s->spec.remote_as, "type", peer_type_name(s->spec.type), "state",
		      fsm_state_name(s->state), "since", since, "since_unix", (json_int_t)s->since,
		      "info", s->info, "md5", s->spec.password[0] != '\0');
	json_object_set_new(o, "last_error",
			    json_string(c && c->fsm.last_error[0] ? c->fsm.last_error : ""));
	json_object_set_new(o, "peer_router_id", json_string(id));
	json_object_set_new(o, "hold_time", json_integer(c ? c->fsm.hold : 0));
	json_object_set_new(o, "keepalive", json_integer(c ? c->fsm.keepalive : 0));
	json_object_set_new(o, "prefixes_received", json_integer((json_int_t)s->n.prefixes_received));
	json_object_set_new(o, "prefixes_sent", json_integer((json_int_t)s->n.prefixes_sent));
	json_object_set_new(o, "messages_received", json_integer((json_int_t)s->n.msgs_in));
	json_object_set_new(o, "messages_sent", json_integer((json_int_t)s->n.msgs_out));
	json_object_set_new(o, "updates_received", json_integer((json_int_t)s->n.updates_in));
	json_object_set_new(o, "notifications_received", json_integer((json_int_t)s->n.notifs_in));
	json_object_set_new(o, "notifications_sent", json_integer((json_int_t)s->n.notifs_out));
	json_object_set_new(o, "established_transitions",
			    json_integer((json_int_t)s->n.established_transitions));
	json_object_set_new(o, "connect_retries",
			    json_integer(c ? (json_int_t)c->fsm.connect_retry_counter : 0));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		fatal("out of memory encoding JSON");
	return text;
}

void
status_session(struct session *s)
{
	struct agent *ag = s->ag;
	struct key k;
	struct err err;
	char *text;

	if (ag->lease == 0)
		return;
	session_key(s, &k);
	text = status_session_json(s);
	if (store_put(ag->store, k.s, text, ag->lease, NULL, &err) != STORE_OK)
		log_warnx("cannot write session status: %s", err.msg);
	free(text);
	/* An API peering's status follows its session (the API shows it as "state"). */
	if (s->spec.type == PEER_CONNECTION)
		status_peering(ag, s->spec.peering, s->spec.generation, "", fsm_state_name(s->state));
}

void
status_peering(struct agent *ag, const char *uuid, int64_t generation, const char *error,
	       const char *state)
{
	char key[KEY_MAX];
	struct err err;
	json_t *o;
	char *text;

	if (ag->lease == 0)
		return;
	snprintf(key, sizeof(key), KEY_ROOT "status/%s/peering/%s", ag->cfg.node, uuid);
	o = json_pack("{s:I, s:s, s:s}", "applied_generation", (json_int_t)generation, "error",
		      error ? error : "", "state", state ? state : "Idle");
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (store_put(ag->store, key, text, ag->lease, NULL, &err) != STORE_OK)
		log_warnx("cannot write peering status: %s", err.msg);
	free(text);
}

void
status_peering_remove(struct agent *ag, const char *uuid)
{
	char key[KEY_MAX];
	struct err err;

	snprintf(key, sizeof(key), KEY_ROOT "status/%s/peering/%s", ag->cfg.node, uuid);
	if (store_delete(ag->store, key, &err) == STORE_ERR)
		log_warnx("cannot remove peering status: %s", err.msg);
}

void
status_session_remove(struct session *s)
{
	struct key k;
	struct err err;

	session_key(s, &k);
	if (store_delete(s->ag->store, k.s, &err) == STORE_ERR)
		log_warnx("cannot remove session status: %s", err.msg);
}

static int
write_agent(struct agent *ag, struct err *err)
{
	char started[32], rid[ADDR_STRLEN];
	struct addr a;
	struct key k;
	json_t *o;
	char *text;
	int rc;

	addr_from_u32(ag->cfg.router_id, &a);
	addr_format(&a, rid);
	iso_time(ag->started, started, sizeof(started));
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "pid", (int)getpid(), "version",
		      TABBY_VERSION, "router_id", rid, "started", started, "control",
		      ag->cfg.control, "listen_port", ag->cfg.listen_port);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	key_agent(&k, ag->cfg.node);
	rc = store_put(ag->store, k.s, text, ag->lease, NULL, err);
	free(text);
	return rc;
}

/* Replaces whatever an earlier run of this node left, then publishes ours. */
static int
publish(struct agent *ag, struct err *err)
{
	char dir[KEY_MAX];

	snprintf(dir, sizeof(dir), KEY_ROOT "status/%s/session/", ag->cfg.node);
	if (store_delete_prefix(ag->store, dir, err) == STORE_ERR)
		return STORE_ERR;
	snprintf(dir, sizeof(dir), KEY_ROOT "status/%s/peering/", ag->cfg.node);
	if (store_delete_prefix(ag->store, dir, err) == STORE_ERR)
		return STORE_ERR;
	if (store_lease_grant(ag->store, LEASE_TTL, &ag->lease, err) != STORE_OK)
		return STORE_ERR;
	if (write_agent(ag, err) != STORE_OK)
		return STORE_ERR;
	for (struct session *s = ag->sessions; s; s = s->next)
		status_session(s);
	return STORE_OK;
}

static void
lease_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct agent *ag = w->data;
	struct err err;
	int rc;

	(void)loop;
	(void)revents;
	rc = store_lease_keepalive(ag->store, ag->lease, &err);
	if (rc == STORE_NOTFOUND) {
		/* We were away longer than the TTL (stopped, or the store was): start over. */
		log_warnx("status lease expired; publishing status again");
		if (publish(ag, &err) != STORE_OK)
			log_warnx("cannot publish status: %s", err.msg);
	} else if (rc != STORE_OK) {
		log_warnx("cannot renew the status lease: %s", err.msg);
	}
}

int
status_agent_start(struct agent *ag, struct err *err)
{
	if (publish(ag, err) != STORE_OK)
		return STORE_ERR;
	ev_timer_init(&ag->lease_timer, lease_cb, LEASE_RENEW, LEASE_RENEW);
	ag->lease_timer.data = ag;
	ev_timer_start(ag->loop, &ag->lease_timer);
	return STORE_OK;
}

void
status_stop(struct agent *ag)
{
	struct err err;

	ev_timer_stop(ag->loop, &ag->lease_timer);
	/* Revoking the lease removes the agent record and every session record at once. */
	if (ag->lease != 0 && store_lease_revoke(ag->store, ag->lease, &err) != STORE_OK)
		log_warnx("cannot revoke the status lease: %s", err.msg);
	ag->lease = 0;
}
