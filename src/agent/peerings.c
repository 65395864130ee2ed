/*
 * API peerings carried out on this node: a tenant's POST /ne/v1/bgp becomes a
 * session of its virtual device's routing instance (device.c): the connection's
 * interface moves into the device's namespace, localIpAddress is put on it if
 * absent, and the session runs with localAsn towards remoteIpAddress/remoteAsn,
 * always eBGP, with TCP MD5 when a key is set and at most maxPrefixes received
 * (the connection's limit, by default NE_DEFAULT_MAX_PREFIXES). What cannot be applied is reported as an error in the peering's status
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

/* The peering's address off its interface, if we put it there. */
static void
drop_address_only(struct agent *ag, struct api_peering *p)
{
	struct device *d = device_find(ag, p->device);
	struct err err;
	char a[ADDR_STRLEN];

	if (d == NULL || !p->addr_added)
		return;
	addr_format(&p->local, a);
	if (fib_addr_del(d->fib, p->ifindex, &p->local, p->plen, &err) != 0)
		log_warnx("peering %s: cannot remove %s/%u: %s", p->uuid, a, p->plen, err.msg);
	else
		log_info("peering %s: removed %s/%u from its interface", p->uuid, a, p->plen);
	p->addr_added = false;
}

/* A peering gone: its address off, its interface back to the node. */
static void
drop_address(struct agent *ag, struct api_peering *p)
{
	struct device *d = device_find(ag, p->device);
	struct err err;

	if (d == NULL)
		return;
	drop_address_only(ag, p);
	/* The interface goes back to the node (as it came, down). */
	if (p->moved && fib_link_move(d->fib, p->ifindex, ag->host_ns, &err) != 0)
		log_warnx("peering %s: cannot move %s back from %s: %s", p->uuid, p->ifname, d->ns,
			  err.msg);
	else if (p->moved)
		log_info("peering %s: %s moved back from %s", p->uuid, p->ifname, d->ns);
	p->moved = false;
}

/* The stored values were validated by the API; they are checked again, never trusted. */
static uint32_t
json_asn(json_t *o, const char *field)
{
	json_int_t v = json_integer_value(json_object_get(o, field));

	return v > 0 && asn_check((uint64_t)v, NULL) == 0 ? (uint32_t)v : 0;
}

/* The interface named in the device's namespace: moved there from the node's if need be. */
static bool
take_interface(struct agent *ag, struct device *d, const char *ifname, struct api_peering *p,
	       struct err *err)
{
	int host_index = ifname ? (int)if_nametoindex(ifname) : 0;

	if (host_index > 0) {
		if (fib_link_move(ag->fib, host_index, d->nsfd, err) != 0) {
			err_prefix(err, "moving the interface into the device's namespace");
			return false;
		}
		p->moved = true;
		log_info("peering %s: %s moved into %s", p->uuid, ifname, d->ns);
	}
	if (device_enter(ag, d, err) != 0)
		return false;
	p->ifindex = ifname ? (int)if_nametoindex(ifname) : 0;
	device_leave(ag);
	/* Found there already (an earlier run's namespace, taken over): it came from the
	 * node all the same, and goes back there. */
	if (p->ifindex != 0)
		p->moved = true;
	if (p->ifindex == 0) {
		/* Tenants read this (provisioningError): it names no node. */
		err_set(err, "interface %s does not exist on the connection's node",
			ifname ? ifname : "(none)");
		return false;
	}
	/* A moved interface arrives down. */
	if (fib_link_up(d->fib, p->ifindex, err) != 0) {
		err_prefix(err, "%s", ifname);
		return false;
	}
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	return true;
}

/* Works out one peering; its spec on success, else an error in words. */
static bool
apply_one(struct agent *ag, json_t *o, json_t *conn, struct api_peering *p,
	  const struct peer_spec *have, size_t nhave, struct peer_spec *spec)
{
	const char *ifname = json_string_value(json_object_get(o, "interface"));
	const char *key = json_string_value(json_object_get(o, "authenticationKey"));
	const char *dev = json_string_value(json_object_get(o, "virtualDeviceUuid"));
	json_t *maxp = json_object_get(conn, "maxPrefixes");
	char a[ADDR_STRLEN];
	struct device *d;
	struct err err;

	struct addr local;
	unsigned plen;

	memset(spec, 0, sizeof(*spec));
	if (dev == NULL || !ne_uuid_valid(dev) ||
	    addr_parse_cidr(json_string_value(json_object_get(o, "localIpAddress")), &local,
			    &plen) != 0 ||
	    addr_parse(json_string_value(json_object_get(o, "remoteIpAddress")) ?: "",
		       &spec->remote) != 0 ||
	    (spec->local_as = json_asn(o, "localAsn")) == 0 ||
	    (spec->remote_as = json_asn(o, "remoteAsn")) == 0) {
		snprintf(p->error, sizeof(p->error), "the stored peering is malformed");
		return false;
	}
	/* A provider's peering is the tenant's eBGP edge: iBGP would let the tenant set
	 * LOCAL_PREF and keep its next hops inside the device. */
	if (spec->local_as == spec->remote_as) {
		snprintf(p->error, sizeof(p->error),
			 "localAsn and remoteAsn are both %u: a device's peerings are eBGP, "
			 "the ASNs must differ",
			 spec->local_as);
		return false;
	}
	/* A PUT to another localIpAddress: the old one goes first. */
	if (p->addr_added && (addr_cmp(&local, &p->local) != 0 || plen != p->plen))
		drop_address_only(ag, p);
	p->local = local;
	p->plen = plen;
	snprintf(p->device, sizeof(p->device), "%s", dev);
	/* Clashes only within the device: other devices and the node are other routers. */
	for (size_t i = 0; i < nhave; i++) {
		if (strcmp(have[i].device, dev) != 0)
			continue;
		addr_format(&spec->remote, a);
		if (addr_cmp(&have[i].remote, &spec->remote) == 0) {
			snprintf(p->error, sizeof(p->error),
				 "remoteIpAddress %s is already used by another peering of the device",
				 a);
			return false;
		}
		if (addr_cmp(&have[i].local, &p->local) == 0) {
			addr_format(&p->local, a);
			snprintf(p->error, sizeof(p->error),
				 "localIpAddress %s is already used by another peering of the device",
				 a);
			return false;
		}
	}
	if ((d = device_get(ag, dev, &err)) == NULL) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		return false;
	}
	if (p->ifindex == 0 && !take_interface(ag, d, ifname, p, &err)) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		return false;
	}
	if (!p->addr_added) {
		bool added;

		if (fib_addr_add(d->fib, p->ifindex, &p->local, p->plen, &added, &err) != 0) {
			addr_format(&p->local, a);
			snprintf(p->error, sizeof(p->error), "cannot put %s/%u on %s: %s", a, p->plen,
				 ifname, err.msg);
			return false;
		}
		p->addr_added = added;
		if (added)
			log_info("peering %s: put %s on %s in %s", p->uuid,
				 json_string_value(json_object_get(o, "localIpAddress")), ifname, d->ns);
	}
	spec->local = p->local;
	spec->remote_port = BGP_PORT;
	spec->type = PEER_CONNECTION;
	spec->max_prefixes = json_is_integer(maxp) && json_integer_value(maxp) >= 0
				     ? (uint32_t)json_integer_value(maxp)
				     : NE_DEFAULT_MAX_PREFIXES;
	spec->restart_time = BGP_GR_RESTART_TIME_DEFAULT;
	snprintf(spec->password, sizeof(spec->password), "%s", key ? key : "");
	snprintf(spec->peering, sizeof(spec->peering), "%s", p->uuid);
	snprintf(spec->device, sizeof(spec->device), "%s", dev);
	spec->generation = p->generation;
	return true;
}

/* The API object of a list with this uuid, or NULL. */
static json_t *
listed(json_t *list, json_t *uuid)
{
	json_t *o;
	size_t i;

	json_array_foreach(list, i, o) {
		if (json_is_string(uuid) && json_equal(json_object_get(o, "uuid"), uuid))
			return o;
	}
	return NULL;
}

int
peerings_want(struct agent *ag, struct peer_spec **v, size_t *n, size_t *cap, struct err *err)
{
	struct api_peering *next = NULL;
	size_t nnext = 0;
	json_t *all, *o, *devs, *conns;
	size_t i;

	/* A failed read says nothing about which peerings exist: the caller keeps them all. */
	if (ne_list(ag->view, "device", NULL, &devs, err) != STORE_OK)
		goto fail;
	if (ne_list(ag->view, "connection", NULL, &conns, err) != STORE_OK) {
		json_decref(devs);
		goto fail;
	}
	if (ne_list(ag->view, "bgp", NULL, &all, err) != STORE_OK) {
		json_decref(devs);
		json_decref(conns);
		goto fail;
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
		json_t *conn;

		if (node == NULL || uuid == NULL || strcmp(node, ag->cfg.node) != 0 ||
		    json_is_true(json_object_get(o, "deleting")))
			continue;
		/* A removed device or connection takes its peerings with it. */
		if (!listed(devs, json_object_get(o, "virtualDeviceUuid")) ||
		    (conn = listed(conns, json_object_get(o, "connectionUuid"))) == NULL)
			continue;
		old = find(ag, uuid);
		if (old != NULL)
			*p = *old;
		snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
		p->generation = json_integer_value(json_object_get(o, "generation"));
		p->error[0] = '\0';
		nnext++;
		/* Clashes are judged against configured peers and the peerings before it. */
		if (!apply_one(ag, o, conn, p, *v, *n, &spec)) {
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
	json_decref(devs);
	json_decref(conns);
	free(ag->api_next);
	ag->api_next = next;
	ag->napi_next = nnext;
	return 0;
fail:
	err_prefix(err, "API peerings");
	return -1;
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
