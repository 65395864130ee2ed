/*
 * etcd_nodes: how many tabby nodes one etcd cluster carries (a benchmark, not a test).
 *
 *   etcd_nodes URL RATE SECONDS
 *
 * Simulates nodes as the agent's status writer uses the store: each node is a thread
 * with its own store handle (its own connection), a lease (TTL 10 s, kept alive every
 * 3 s) and RATE status puts per second on its leased keys (10 sessions, round robin).
 * Runs 25 nodes for SECONDS, then doubles them, until the p99 latency of the puts passes
 * 100 ms (or 1,600 nodes); prints nodes, writes per second achieved, p50 and p99.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define MAX_NODES 1600
#define MAX_SAMPLES 2000000

static const char *url;
static int rate, seconds;
static atomic_bool stop;
static double *samples;
static atomic_size_t nsamples;
static atomic_size_t nerrors;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
node(void *arg)
{
	int id = (int)(long)arg, k = 0;
	double next = now(), last_ka = now();
	struct store *s;
	struct err err;
	int64_t lease;
	char key[128], val[256];

	if (store_open(&s, url, &err) != STORE_OK ||
	    store_lease_grant(s, 10, &lease, &err) != STORE_OK) {
		fprintf(stderr, "node %d: %s\n", id, err.msg);
		atomic_fetch_add(&nerrors, 1);
		return NULL;
	}
	while (!atomic_load(&stop)) {
		double t0, dt;

		snprintf(key, sizeof(key), "/tabby/v1/status/sim%d/session/192.0.2.1-198.18.0.%d",
			 id, k % 10);
		snprintf(val, sizeof(val),
			 "{\"local\":\"192.0.2.1\",\"remote\":\"198.18.0.%d\",\"state\":\"up\","
			 "\"since\":%d,\"prefixes_received\":%d}",
			 k % 10, k, k * 7);
		t0 = now();
		if (store_put(s, key, val, lease, NULL, &err) != STORE_OK) {
			atomic_fetch_add(&nerrors, 1);
		} else {
			size_t i = atomic_fetch_add(&nsamples, 1);

			dt = now() - t0;
			if (i < MAX_SAMPLES)
				samples[i] = dt * 1000;
		}
		k++;
		if (now() - last_ka > 3) {
			store_lease_keepalive(s, lease, &err);
			last_ka = now();
		}
		next += 1.0 / rate;
		if (next > now())
			usleep((useconds_t)((next - now()) * 1e6));
	}
	store_lease_revoke(s, lease, &err);
	store_close(s);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(n * p / 100);

	return n == 0 ? 0 : v[i >= n ? n - 1 : i];
}

int
main(int argc, char **argv)
{
	static pthread_t th[MAX_NODES];

	if (argc != 4) {
		fprintf(stderr, "usage: %s URL RATE SECONDS\n", argv[0]);
		return 2;
	}
	url = argv[1];
	rate = atoi(argv[2]);
	seconds = atoi(argv[3]);
	samples = calloc(MAX_SAMPLES, sizeof(*samples));
	printf("%6s %10s %10s %10s %8s\n", "nodes", "writes/s", "p50 ms", "p99 ms", "errors");
	for (int nodes = 25; nodes <= MAX_NODES; nodes *= 2) {
		double t0 = now(), p99;
		size_t n;

		atomic_store(&stop, false);
		atomic_store(&nsamples, 0);
		atomic_store(&nerrors, 0);
		for (int i = 0; i < nodes; i++)
			pthread_create(&th[i], NULL, node, (void *)(long)i);
		sleep((unsigned)seconds);
		atomic_store(&stop, true);
		for (int i = 0; i < nodes; i++)
			pthread_join(th[i], NULL);
		n = atomic_load(&nsamples);
		if (n > MAX_SAMPLES)
			n = MAX_SAMPLES;
		qsort(samples, n, sizeof(*samples), cmp_double);
		p99 = pct(samples, n, 99);
		printf("%6d %10.0f %10.1f %10.1f %8zu\n", nodes, n / (now() - t0),
		       pct(samples, n, 50), p99, atomic_load(&nerrors));
		fflush(stdout);
		if (p99 > 100)
			break;
	}
	free(samples);
	return 0;
}
