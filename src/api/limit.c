/* The token endpoint's rate limits. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"

/* Token-endpoint rate limit: a bucket of RATE_BURST per client, one back every RATE_EVERY s. */
#define RATE_BURST 10
#define RATE_EVERY 6.0
#define RATE_SLOTS 1024

static struct bucket {
	char client[NE_UUID_LEN + 1];
	double tokens, at;
} buckets[RATE_SLOTS];
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

bool
api_rate_allow(const char *client_id, int *retry_after)
{
	struct timespec ts;
	struct bucket *b;
	unsigned h = 5381;
	double now;
	bool ok;

	for (const char *p = client_id; *p; p++)
		h = h * 33 + (unsigned char)*p;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	pthread_mutex_lock(&rate_lock);
	b = &buckets[h % RATE_SLOTS];
	if (strncmp(b->client, client_id, NE_UUID_LEN) != 0) {
		/* A new client (or a hash neighbour, who then shares its budget). */
		snprintf(b->client, sizeof(b->client), "%s", client_id);
		b->tokens = RATE_BURST;
		b->at = now;
	}
	b->tokens += (now - b->at) / RATE_EVERY;
	if (b->tokens > RATE_BURST)
		b->tokens = RATE_BURST;
	b->at = now;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	*retry_after = ok ? 0 : (int)((1.0 - b->tokens) * RATE_EVERY) + 1;
	pthread_mutex_unlock(&rate_lock);
	return ok;
}
