/*
 * API peerings carried out on this node: a tenant's POST /ne/v1/bgp becomes a
 * session from localIpAddress (put on the connection's interface if absent)
 * with localAsn, towards remoteIpAddress/remoteAsn, with TCP MD5 when a key is
 * set. What cannot be applied is reported as an error in the peering's status
 * (the API then shows FAILED); a deleted peering's session is closed with a
 * Cease, its address removed and its key deleted (the API's DEPROVISIONING ends).
 */
#include <jansson.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent.h"
#include "lib/asn.h"
#include "lib/log.h"
#include "model/ne.h"

static struct api_peering *
find(struct agent *ag, const char *uuid)
{
	for (size_t i = 0; i < ag->napi; i++)
		if (strcmp(ag->api[i].uuid, uuid) == 0)
			return &ag->api[i];
	return NULL;
}

static void
drop_address(struct agent *ag, struct api_peering *p)
{
	struct err err;
	char a[ADDR_STRLEN];

	if (!p->addr_added)
		return;
	addr_format(&p->local, a);
	if (fib_addr_del(ag->fib, p->ifindex, &p->local, p->plen, &err) != 0)
		log_warnx("peering %s: cannot remove %s/%u: %s", p->uuid, a, p->plen, err.msg);
	else
		log_info("peering %s: removed %s/%u from its interface", p->uuid, a, p->plen);
	p->addr_added = false;
}

/* The stored values were validated by the API; they are checked again, never trusted. */
static uint32_t
json_asn(json_t *o, const char *field)
{
	json_int_t v = json_integer_value(json_object_get(o, field));

	return v > 0 && asn_check((uint64_t)v, NULL) == 0 ? (uint32_t)v : 0;
}

/* Works out one peering; its spec on success, else an error in words. */
static bool
apply_one(struct agent *ag, json_t *o, struct api_peering *p, const struct peer_spec *have,
	  size_t nhave, struct peer_spec *spec)
{
	const char *ifname = json_string_value(json_object_get(o, "interface"));
	const char *key = json_string_value(json_object_get(o, "authenticationKey"));
	char a[ADDR_STRLEN];
	struct err err;

	memset(spec, 0, sizeof(*spec));
	if (addr_parse_cidr(json_string_value(json_object_get(o, "localIpAddress")), &p->local,
			&p->plen) != 0 ||
	    addr_parse(json_string_value(json_object_get(o, "remoteIpAddress")) ?: "",
		       &spec->remote) != 0 ||
	    (spec->local_as = json_asn(o, "localAsn")) == 0 ||
	    (spec->remote_as = json_asn(o, "remoteAsn")) == 0) {
		snprintf(p->error, sizeof(p->error), "the stored peering is malformed");
		return false;
	}
	p->ifindex = ifname ? (int)if_nametoindex(ifname) : 0;
	if (p->ifindex == 0) {
		/* Tenants read this (provisioningError): it names no node. */
		snprintf(p->error, sizeof(p->error),
			 "interface %s does not exist on the connection's node",
			 ifname ? ifname : "(none)");
		return false;
	}
	for (size_t i = 0; i < nhave; i++) {
		addr_format(&spec->remote, a);
		if (addr_cmp(&have[i].remote, &spec->remote) == 0) {
			snprintf(p->error, sizeof(p->error),
				 have[i].type == PEER_CONNECTION
					 ? "remoteIpAddress %s is already used by another peering"
					 : "remoteIpAddress %s is already a configured BGP peer of the "
					   "connection's node",
				 a);
			return false;
		}
		if (have[i].type == PEER_CONNECTION && addr_cmp(&have[i].local, &p->local) == 0) {
			addr_format(&p->local, a);
			snprintf(p->error, sizeof(p->error),
				 "localIpAddress %s is already used by another peering", a);
			return false;
		}
	}
	if (!p->addr_added) {
		bool added;

		if (fib_addr_add(ag->fib, p->ifindex, &p->local, p->plen, &added, &err) != 0) {
			addr_format(&p->local, a);
			snprintf(p->error, sizeof(p->error), "cannot put %s/%u on %s: %s", a, p->plen,
				 ifname, err.msg);
			return false;
		}
		p->addr_added = added;
		if (added)
			log_info("peering %s: put %s on %s", p->uuid,
				 json_string_value(json_object_get(o, "localIpAddress")), ifname);
	}
	spec->local = p->local;
	spec->remote_port = BGP_PORT;
	spec->type = PEER_CONNECTION;
	spec->restart_time = BGP_GR_RESTART_TIME_DEFAULT;
	snprintf(spec->password, sizeof(spec->password), "%s", key ? key : "");
	snprintf(spec->peering, sizeof(spec->peering), "%s", p->uuid);
	spec->generation = p->generation;
	return true;
}

int
peerings_want(struct agent *ag, struct peer_spec **v, size_t *n, size_t *cap, struct err *err)
{
	struct api_peering *next = NULL;
	size_t nnext = 0;
	json_t *all, *o;
	size_t i;

	/* A failed read says nothing about which peerings exist: the caller keeps them all. */
	if (ne_list(ag->store, "bgp", NULL, &all, err) != STORE_OK) {
		err_prefix(err, "API peerings");
		return -1;
	}
	/* Kept for peerings_settle, which finishes deletions from the same read. */
	json_decref(ag->api_read);
	ag->api_read = json_incref(all);
	next = xcalloc(json_array_size(all) + 1, sizeof(*next));
	json_array_foreach(all, i, o) {
		const char *node = json_string_value(json_object_get(o, "node"));
		const char *uuid = json_string_value(json_object_get(o, "uuid"));
		struct api_peering *p = &next[nnext], *old;
		struct peer_spec spec;

		if (node == NULL || uuid == NULL || strcmp(node, ag->cfg.node) != 0 ||
		    json_is_true(json_object_get(o, "deleting")))
			continue;
		old = find(ag, uuid);
		if (old != NULL)
			*p = *old;
		snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
		p->generation = json_integer_value(json_object_get(o, "generation"));
		p->error[0] = '\0';
		nnext++;
		/* Clashes are judged against configured peers and the peerings before it. */
		if (!apply_one(ag, o, p, *v, *n, &spec)) {
			log_warnx("peering %s: %s", uuid, p->error);
			status_peering(ag, uuid, p->generation, p->error, NULL);
			continue;
		}
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
		spec.seq = (uint32_t)*n;
		(*v)[(*n)++] = spec;
	}
	json_decref(all);
	free(ag->api_next);
	ag->api_next = next;
	ag->napi_next = nnext;
	return 0;
}

void
peerings_settle(struct agent *ag)
{
	char key[KEY_MAX];
	json_t *all, *o;
	size_t i;

	/* Peerings that went away give their addresses back -- only now, after their
	 * sessions sent the Cease from those addresses. */
	for (i = 0; ag->api_next != NULL && i < ag->napi; i++) {
		bool kept = false;

		for (size_t k = 0; k < ag->napi_next; k++)
			kept = kept || strcmp(ag->api_next[k].uuid, ag->api[i].uuid) == 0;
		if (!kept)
			drop_address(ag, &ag->api[i]);
	}
	if (ag->api_next != NULL) {
		free(ag->api);
		ag->api = ag->api_next;
		ag->napi = ag->napi_next;
		ag->api_next = NULL;
	}
	if ((all = ag->api_read) == NULL)
		return;
	ag->api_read = NULL;
	/* Deleted ones: their sessions were closed (Cease) by the reconcile; finish here. */
	json_array_foreach(all, i, o) {
		const char *node = json_string_value(json_object_get(o, "node"));
		const char *uuid = json_string_value(json_object_get(o, "uuid"));

		if (node == NULL || uuid == NULL || strcmp(node, ag->cfg.node) != 0 ||
		    !json_is_true(json_object_get(o, "deleting")))
			continue;
		status_peering_remove(ag, uuid);
		/* Queued like status, so the loop never waits on the store: the record and
		 * its MD5 key. The claim on the connection stays; a new peering takes a
		 * claim whose peering is gone (ne_peering_create). */
		ne_key(key, sizeof(key), "bgp", uuid);
		status_delete(ag, key);
		ne_secret_key(key, sizeof(key), uuid);
		status_delete(ag, key);
		log_info("peering %s: deprovisioned", uuid);
	}
	json_decref(all);
}

void
peerings_stop(struct agent *ag)
{
	json_decref(ag->api_read);
	ag->api_read = NULL;
	/* A stopped agent carries nothing out: its addresses go too. */
	for (size_t i = 0; i < ag->napi; i++)
		drop_address(ag, &ag->api[i]);
	free(ag->api);
	ag->api = NULL;
	ag->napi = 0;
}
