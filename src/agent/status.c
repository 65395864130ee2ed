/*
 * Observed state out: the agent record and one record per session, all on one
 * lease, so a dead agent's status vanishes with its lease. Written on state
 * changes only, never per message, and never by the event loop itself: the
 * records are queued for the writer thread (store_writer.h), coalesced per key.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/store_writer.h"
#include "lib/log.h"

#define LEASE_TTL 10
#define LEASE_RENEW 3.0
#define STOP_WAIT 2.0   /* seconds a stopping agent gives its last writes */

static void peering_put(struct agent *ag, const char *uuid, int64_t generation, const char *error,
			const char *state, const char *info);

static void
session_key(const struct session *s, struct key *k)
{
	char l[ADDR_STRLEN], r[ADDR_STRLEN];

	addr_format(&s->spec.local, l);
	addr_format(&s->spec.remote, r);
	/* A device's sessions may repeat another's addresses: its uuid keeps them apart. */
	snprintf(k->s, sizeof(k->s), KEY_ROOT "status/%s/session/%s-%s%s%s", s->ag->cfg.node, l, r,
		 s->dev ? "@" : "", s->dev ? s->dev->uuid : "");
}

static void
iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Graceful restart as negotiated in the last session (RFC 4724, RFC 8538): what
 * each side announced, and whether the peer is restarting (its routes kept, stale).
 */
static json_t *
gr_json(const struct session *s)
{
	uint16_t afi = addr_is_v4(&s->spec.remote) ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
	bool fwd = false, peer_af = s->have_gr && bgp_gr_peer_af(&s->peer_gr, afi, &fwd);
	bool ours = s->have_gr && s->ours_gr.has_gr;
	json_t *o;

	o = json_pack("{s:b, s:b, s:i}", "negotiated", ours && peer_af, "notification",
		      s->have_gr && bgp_gr_notification(&s->ours_gr, &s->peer_gr), "restart_time",
		      (int)s->spec.restart_time);
	if (s->have_gr)
		json_object_set_new(o, "peer",
				    json_pack("{s:b, s:i, s:b, s:b, s:b}", "advertised",
					      s->peer_gr.has_gr, "restart_time",
					      (int)s->peer_gr.gr_restart_time, "restarted",
					      s->peer_gr.gr_restarted, "notification",
					      s->peer_gr.gr_notification, "forwarding", fwd));
	json_object_set_new(o, "restarting_local", json_boolean(routes_restarting(s)));
	json_object_set_new(o, "peer_restarting", json_boolean(s->stale != NULL));
	json_object_set_new(o, "stale_prefixes", json_integer((json_int_t)routes_stale_count(s)));
	/* When the peer's session went down, while its routes are kept. */
	if (s->stale != NULL)
		json_object_set_new(o, "stale_since_unix", json_integer((json_int_t)s->gr_since));
	return o;
}

/* Long-lived graceful restart (RFC 9494): what the peer asks, and whether it is on now. */
static json_t *
llgr_json(const struct session *s)
{
	uint16_t afi = addr_is_v4(&s->spec.remote) ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
	uint32_t t = s->have_gr ? bgp_llgr_stale_time(&s->peer_gr, afi) : 0;

	return json_pack("{s:b, s:b, s:I, s:b}", "advertised", s->have_gr && s->ours_gr.has_llgr,
			 "negotiated", s->have_gr && s->ours_gr.has_llgr && t > 0,
			 "peer_stale_time", (json_int_t)t, "active", s->llgr);
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
	if (s->dev != NULL)
		json_object_set_new(o, "device", json_string(s->dev->uuid));
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
	json_object_set_new(o, "graceful_restart", gr_json(s));
	json_object_set_new(o, "llgr", llgr_json(s));
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
	char *text;

	if (ag->writer == NULL)
		return;
	session_key(s, &k);
	text = status_session_json(s);
	swr_put(ag->writer, k.s, text);
	free(text);
	/* An API peering's status follows its session (the API shows it as "state"). */
	if (s->spec.type == PEER_CONNECTION)
		peering_put(ag, s->spec.peering, s->spec.generation, "", fsm_state_name(s->state),
			    s->info);
}

void
status_peering(struct agent *ag, const char *uuid, int64_t generation, const char *error,
	       const char *state)
{
	peering_put(ag, uuid, generation, error, state, "");
}

/*
 * A record of one of the node's objects, status/<node>/<kind>/<uuid>: put (o, which is
 * taken), or deleted (o NULL).
 */
static void
object_put(struct agent *ag, const char *kind, const char *uuid, json_t *o)
{
	char key[KEY_MAX];
	char *text;

	if (ag->writer == NULL) {
		json_decref(o);
		return;
	}
	snprintf(key, sizeof(key), KEY_ROOT "status/%s/%s/%s", ag->cfg.node, kind, uuid);
	if (o == NULL) {
		swr_delete(ag->writer, key);
		return;
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		fatal("out of memory encoding JSON");
	swr_put(ag->writer, key, text);
	free(text);
}

/* An API peering's record: "info" says why a session is not up (e.g. its prefix limit). */
static void
peering_put(struct agent *ag, const char *uuid, int64_t generation, const char *error,
	    const char *state, const char *info)
{
	object_put(ag, "peering", uuid,
		   json_pack("{s:I, s:s, s:s, s:s}", "applied_generation", (json_int_t)generation,
			     "error", error ? error : "", "state", state ? state : "Idle", "info",
			     info ? info : ""));
}

void
status_peering_remove(struct agent *ag, const char *uuid)
{
	object_put(ag, "peering", uuid, NULL);
}

/* A device's routing table size, which GET /ne/v1/devices/{uuid} shows its tenant. */
void
status_device(struct agent *ag, const char *uuid, size_t v4, size_t v6)
{
	object_put(ag, "device", uuid,
		   json_pack("{s:I, s:I}", "ipv4", (json_int_t)v4, "ipv6", (json_int_t)v6));
}

void
status_device_remove(struct agent *ag, const char *uuid)
{
	object_put(ag, "device", uuid, NULL);
}

void
status_session_remove(struct session *s)
{
	struct key k;

	if (s->ag->writer == NULL)
		return;
	session_key(s, &k);
	swr_delete(s->ag->writer, k.s);
}

static void
put_agent(struct agent *ag)
{
	char started[32], rid[ADDR_STRLEN];
	struct addr a;
	struct key k;
	json_t *o;
	char *text;

	addr_from_u32(ag->cfg.router_id, &a);
	addr_format(&a, rid);
	iso_time(ag->started, started, sizeof(started));
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "pid", (int)getpid(), "version",
		      TABBY_VERSION, "router_id", rid, "started", started, "control",
		      ag->cfg.control, "listen_port", ag->cfg.listen_port);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		fatal("out of memory encoding JSON");
	key_agent(&k, ag->cfg.node);
	swr_put(ag->writer, k.s, text);
	free(text);
}

/*
 * The writer thread replaces whatever an earlier run of this node left, takes the
 * lease and publishes ours; from here on no status write waits on the store.
 */
int
status_agent_start(struct agent *ag, struct err *err)
{
	char sessions[KEY_MAX], peerings[KEY_MAX], devices[KEY_MAX];
	const char *clear[] = {sessions, peerings, devices};
	struct swr_config cfg = {
		.url = ag->cfg.datastore,
		.lease_ttl = LEASE_TTL,
		.renew = LEASE_RENEW,
		.clear = clear,
		.nclear = 3,
	};

	snprintf(sessions, sizeof(sessions), KEY_ROOT "status/%s/session/", ag->cfg.node);
	snprintf(peerings, sizeof(peerings), KEY_ROOT "status/%s/peering/", ag->cfg.node);
	snprintf(devices, sizeof(devices), KEY_ROOT "status/%s/device/", ag->cfg.node);
	if (swr_start(&ag->writer, &cfg, err) != 0)
		return STORE_ERR;
	put_agent(ag);
	for (struct session *s = ag->sessions; s; s = s->next)
		status_session(s);
	return STORE_OK;
}

/* Queues a delete of a key outside /status/ (a finished deprovisioning). */
void
status_delete(struct agent *ag, const char *key)
{
	if (ag->writer != NULL)
		swr_delete(ag->writer, key);
}

void
status_stop(struct agent *ag)
{
	/* Revoking the lease removes the agent record and every session record at once. */
	swr_stop(ag->writer, STOP_WAIT);
	ag->writer = NULL;
}
