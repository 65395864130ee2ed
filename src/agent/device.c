/*
 * Virtual devices as routing instances. Each device of this node that has a
 * peering gets a network namespace of its own, /run/netns/tby-<12 hex of its
 * uuid> (so `ip netns` sees it), with its own Loc-RIB (routes.c), listeners
 * (listen.c), kernel table (a fib opened inside it) and the interfaces of its
 * connections. Its sockets are made inside the namespace by this (the loop's)
 * thread between device_enter and device_leave: setns changes only the calling
 * thread, and a socket stays in the namespace it was made in, so everything
 * still runs on the one loop. A namespace is the isolation the kernel gives
 * without a VRF driver: a tenant's addresses, routes and sessions cannot meet
 * the node's or another tenant's, and tenants may use the same addresses.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/log.h"

#define NETNS_DIR "/run/netns"

static void
ns_path(const struct device *d, char *buf, size_t len)
{
	snprintf(buf, len, NETNS_DIR "/%s", d->ns);
}

/* "tby-" and the first 12 hex digits of the uuid. */
static void
ns_name(const char *uuid, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "tby-");

	for (const char *c = uuid; *c && k + 1 < len && k < 16; c++)
		if (*c != '-')
			buf[k++] = *c;
	buf[k] = '\0';
}

int
device_enter(struct agent *ag, const struct device *dev, struct err *err)
{
	(void)ag;
	if (setns(dev->nsfd, CLONE_NEWNET) != 0) {
		err_set(err, "entering network namespace %s: %s", dev->ns, strerror(errno));
		return -1;
	}
	return 0;
}

void
device_leave(struct agent *ag)
{
	/* Failing to come back would put the node's own sockets in a tenant's namespace. */
	if (setns(ag->host_ns, CLONE_NEWNET) != 0)
		fatal("cannot return to the agent's network namespace: %s", strerror(errno));
}

/* A namespace bound at path: an existing one (an earlier run's) is taken over. */
static int
ns_open(struct agent *ag, const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (setns(fd, CLONE_NEWNET) == 0) {
			device_leave(ag);
			return fd;
		}
		/* A plain file, not a namespace: left by a run that died halfway. */
		close(fd);
		unlink(path);
	}
	if (mkdir(NETNS_DIR, 0755) != 0 && errno != EEXIST) {
		err_set(err, "%s: %s", NETNS_DIR, strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0) {
		err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (unshare(CLONE_NEWNET) != 0) {
		err_set(err, "new network namespace: %s", strerror(errno));
		unlink(path);
		return -1;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) != 0) {
		err_set(err, "binding the namespace at %s: %s", path, strerror(errno));
		device_leave(ag);
		unlink(path);
		return -1;
	}
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	device_leave(ag);
	if (fd < 0) {
		err_set(err, "namespace %s: %s", path, strerror(errno));
		umount2(path, MNT_DETACH);
		unlink(path);
	}
	return fd;
}

static void
ns_remove(const struct device *d)
{
	char path[64];

	ns_path(d, path, sizeof(path));
	if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
		log_warnx("device %s: unmounting %s: %s", d->uuid, path, strerror(errno));
	if (unlink(path) != 0 && errno != ENOENT)
		log_warnx("device %s: removing %s: %s", d->uuid, path, strerror(errno));
}

/* Writes "1" to a sysctl of the namespace the thread is in (the path resolves there). */
static int
sysctl_set(const char *path, struct err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1\n", 2) != 2) {
		err_set(err, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct device *
device_find(struct agent *ag, const char *uuid)
{
	for (struct device *d = ag->devices; d; d = d->next)
		if (strcmp(d->uuid, uuid) == 0)
			return d;
	return NULL;
}

static void
device_free(struct agent *ag, struct device *d)
{
	struct device **pp;

	for (pp = &ag->devices; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	listeners_close(&d->listen);
	/* The kernel table goes with the namespace; what the Loc-RIB holds is released. */
	loc_rib_free(d->loc, ag->rib);
	if (d->fib != NULL) {
		struct fib_stats st;

		/* Closing sends what is queued: counted after. */
		fib_close_stats(d->fib, &st);
		fib_stats_add(&ag->fib_gone, &st);
	}
	close(d->nsfd);
	ns_remove(d);
	status_device_remove(ag, d->uuid);
	log_info("device %s: routing instance and namespace %s removed", d->uuid, d->ns);
	free(d);
}

struct device *
device_get(struct agent *ag, const char *uuid, struct err *err)
{
	struct device *d = device_find(ag, uuid);
	char path[64];
	int rc, flushed = 0;

	if (d != NULL)
		return d;
	d = xcalloc(1, sizeof(*d));
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	ns_name(uuid, d->ns, sizeof(d->ns));
	ns_path(d, path, sizeof(path));
	d->listen = (struct listeners){.ag = ag, .dev = d, .fd = {-1, -1}};
	if ((d->nsfd = ns_open(ag, path, err)) < 0) {
		free(d);
		return NULL;
	}
	d->loc = loc_rib_new();
	d->next = ag->devices;
	ag->devices = d;
	/* Its own table: the namespace is the device's, so routes go in even with --no-fib. */
	if (device_enter(ag, d, err) != 0) {
		device_free(ag, d);
		return NULL;
	}
	d->fib = fib_open(ag->loop, true, err);
	if (d->fib != NULL)
		fib_set_on_room(d->fib, session_reads_resume, ag);
	rc = d->fib != NULL ? listeners_open(&d->listen, err) : -1;
	/* A namespace taken over from a run that died keeps that run's routes: unlike the
	 * node's instance, a device's does not restart gracefully, they go now. */
	if (rc == 0 && (flushed = fib_flush_stale(d->fib, err)) < 0)
		rc = -1;
	else if (flushed > 0)
		log_info("device %s: removed %d kernel routes of an earlier run", uuid, flushed);
	if (rc == 0) {
		/* Loopback up: the device's own addresses answer inside it. */
		int lo = (int)if_nametoindex("lo");

		if (lo > 0)
			fib_link_up(d->fib, lo, err);
		/* A router forwards between its connections (a new namespace does not). */
		rc = sysctl_set("/proc/sys/net/ipv4/ip_forward", err) != 0 ||
			     sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", err) != 0
			     ? -1
			     : 0;
	}
	device_leave(ag);
	if (rc != 0) {
		err_prefix(err, "device routing instance");
		device_free(ag, d);
		return NULL;
	}
	log_info("device %s: routing instance in network namespace %s", uuid, d->ns);
	return d;
}

void
devices_settle(struct agent *ag)
{
	struct device *d, *next;

	for (d = ag->devices; d; d = next) {
		bool used = false;

		next = d->next;
		for (struct session *s = ag->sessions; s && !used; s = s->next)
			used = s->dev == d;
		for (size_t i = 0; i < ag->napi && !used; i++)
			used = strcmp(ag->api[i].device, d->uuid) == 0;
		if (!used)
			device_free(ag, d);
	}
}

void
devices_report(struct agent *ag)
{
	for (struct device *d = ag->devices; d; d = d->next) {
		size_t n, count[2] = {0, 0};
		struct prefix *v = loc_rib_prefixes(d->loc, &n);

		/* A device's table is small (its peerings' limits): counted as it is. */
		for (size_t i = 0; i < n; i++)
			count[addr_is_v4(&v[i].addr) ? 0 : 1]++;
		free(v);
		if (!d->have_reported || count[0] != d->reported[0] || count[1] != d->reported[1]) {
			status_device(ag, d->uuid, count[0], count[1]);
			d->reported[0] = count[0];
			d->reported[1] = count[1];
			d->have_reported = true;
		}
	}
}

int
devices_start(struct agent *ag, struct err *err)
{
	ag->host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ag->host_ns < 0) {
		err_set(err, "the agent's network namespace: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
devices_stop(struct agent *ag)
{
	while (ag->devices)
		device_free(ag, ag->devices);
	if (ag->host_ns >= 0)
		close(ag->host_ns);
	ag->host_ns = -1;
}
