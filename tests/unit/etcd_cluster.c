/* Real etcd members for the store tests (see etcd_cluster.h). */
#include "etcd_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * A loopback port nobody listens on, below the kernel's ephemeral range: a port
 * bind(0) gave was free only until an outgoing connection (another test's, run
 * beside this one) took it before etcd could; and never one this process gave out.
 */
#define GIVEN_KEPT 64  /* the last ports given out, not given again */

static int
free_port(void)
{
	static int given[GIVEN_KEPT];
	static unsigned ngiven;
	static bool seeded;
	int lo = 32768;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f != NULL) {
		if (fscanf(f, "%d", &lo) != 1 || lo <= 10000 + 1000)
			lo = 32768;
		fclose(f);
	}
	if (!seeded) {
		srand((unsigned)getpid() ^ (unsigned)time(NULL));
		seeded = true;
	}
	for (int tries = 0; tries < 1000; tries++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int port = 10000 + rand() % (lo - 10000), fd, ok;
		unsigned i, n = ngiven < GIVEN_KEPT ? ngiven : GIVEN_KEPT;

		for (i = 0; i < n && given[i] != port; i++)
			;
		if (i < n)
			continue;
		sa.sin_port = htons((uint16_t)port);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return -1;
		ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (!ok)
			continue;
		given[ngiven++ % GIVEN_KEPT] = port;
		return port;
	}
	return -1;
}

static pid_t
start_member(struct etcd_cluster *c, int i, const char *initial)
{
	char name[16], data[128], curl[64], purl[64], log[128];
	pid_t pid;

	snprintf(name, sizeof(name), "m%d", i);
	snprintf(data, sizeof(data), "%s/%s", c->dir, name);
	snprintf(curl, sizeof(curl), "http://127.0.0.1:%d", c->client_port[i]);
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", c->peer_port[i]);
	snprintf(log, sizeof(log), "%s/%s.log", c->dir, name);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "a", stdout);

		/* A test that dies (a crash, a timeout) takes its etcd with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)f;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		/*
		 * Short heartbeats make etcd's minimum lease TTL 1 s (as the tests
		 * ask) and elections quick; 10,000 operations per transaction is
		 * what tabby's large writes need (docs/etcd.md).
		 */
		execlp("etcd", "etcd", "--name", name, "--data-dir", data, "--listen-client-urls",
		       curl, "--advertise-client-urls", curl, "--listen-peer-urls", purl,
		       "--initial-advertise-peer-urls", purl, "--initial-cluster", initial,
		       "--initial-cluster-state", "new", "--heartbeat-interval", "50",
		       "--election-timeout", "500", "--max-txn-ops", "10000", "--log-level", "warn",
		       (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool
healthy(struct etcd_cluster *c, int i)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "curl -sf --noproxy '*' -m 1 -X POST http://127.0.0.1:%d/v3/kv/range "
		 "-d '{\"key\":\"L2hlYWx0aA==\"}' > /dev/null",
		 c->client_port[i]);
	return system(cmd) == 0;
}

int
etcd_cluster_start(struct etcd_cluster *c, int n)
{
	char *initial = c->initial;
	size_t off = 0;

	memset(c, 0, sizeof(*c));
	c->n = n;
	snprintf(c->dir, sizeof(c->dir), "/tmp/tabby-etcd-XXXXXX");
	if (mkdtemp(c->dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		c->client_port[i] = free_port();
		c->peer_port[i] = free_port();
		off +=
		    (size_t)snprintf(initial + off, sizeof(c->initial) - off,
				     "%sm%d=http://127.0.0.1:%d", i ? "," : "", i, c->peer_port[i]);
	}
	off = (size_t)snprintf(c->url, sizeof(c->url), "etcd://");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(c->url + off, sizeof(c->url) - off, "%s127.0.0.1:%d",
					i ? "," : "", c->client_port[i]);
	for (int i = 0; i < n; i++)
		c->pid[i] = start_member(c, i, initial);
	for (int tries = 0; tries < 200; tries++) {
		if (healthy(c, 0))
			return 0;
		usleep(100 * 1000);
	}
	fprintf(stderr, "etcd did not come up (is etcd-server installed?); %s/m0.log ends:\n",
		c->dir);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "tail -n 20 %s/m0.log >&2", c->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
	}
	return -1;
}

int
etcd_cluster_leader(struct etcd_cluster *c)
{
	for (int i = 0; i < c->n; i++) {
		char cmd[256], out[512] = "";
		FILE *p;

		if (c->pid[i] <= 0)
			continue;
		/* status: the member's own id and the leader's; equal on the leader. */
		snprintf(
		    cmd, sizeof(cmd),
		    "curl -s --noproxy '*' -m 1 -X POST http://127.0.0.1:%d/v3/maintenance/status "
		    "-d '{}'",
		    c->client_port[i]);
		p = popen(cmd, "r");
		if (p == NULL)
			continue;
		if (fgets(out, sizeof(out), p) == NULL)
			out[0] = '\0';
		pclose(p);
		{
			char *m = strstr(out, "\"member_id\":\""),
			     *l = strstr(out, "\"leader\":\"");

			if (m && l && strncmp(m + 13, l + 10, strcspn(l + 10, "\"")) == 0)
				return i;
		}
	}
	return -1;
}

void
etcd_cluster_kill(struct etcd_cluster *c, int member)
{
	if (c->pid[member] > 0) {
		kill(c->pid[member], SIGKILL);
		waitpid(c->pid[member], NULL, 0);
		c->pid[member] = 0;
	}
}

int
etcd_cluster_restart(struct etcd_cluster *c, int member)
{
	c->pid[member] = start_member(c, member, c->initial);
	for (int tries = 0; tries < 100; tries++) {
		if (healthy(c, member))
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

void
etcd_cluster_stop(struct etcd_cluster *c)
{
	char cmd[128];

	for (int i = 0; i < c->n; i++)
		if (c->pid[i] > 0)
			kill(c->pid[i], SIGTERM);
	for (int i = 0; i < c->n; i++)
		if (c->pid[i] > 0)
			waitpid(c->pid[i], NULL, 0);
	if (c->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", c->dir);
	}
	memset(c, 0, sizeof(*c));
}
