/*
 * The token endpoint's limits on failed client authentication. Only failures count,
 * in two budgets: per source address (a guesser's address) and per client id and
 * address together. The right secret is refused only when its own address has used
 * up a budget: nobody elsewhere can lock a tenant out by knowing its id. Keys are
 * kept whole (a hash only picks the chain), so two ids never share a budget.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/clock.h"
#include "lib/log.h"

#define PEER_BURST 20     /* failures an address may have in a row... */
#define PEER_EVERY 3.0    /* ...and one more every this many seconds */
#define CLIENT_BURST 10   /* failures for one client from one address */
#define CLIENT_EVERY 6.0
#define CHAINS 4096
#define ENTRIES_MAX 65536

struct entry {
	struct entry *next;
	double tokens, at;
	char key[];
};

static struct entry *chains[CHAINS];
static size_t entries;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % CHAINS;
}

/* The budget's tokens now, refilled since it was last touched. */
static double
refill(struct entry *e, double now, double burst, double every)
{
	e->tokens += (now - e->at) / every;
	if (e->tokens > burst)
		e->tokens = burst;
	e->at = now;
	return e->tokens;
}

/* Drops the budgets that are full again: they say nothing any more. */
static void
sweep(double now)
{
	for (size_t i = 0; i < CHAINS; i++)
		for (struct entry **pp = &chains[i]; *pp;) {
			struct entry *e = *pp;
			bool peer = e->key[0] == 'p';

			if (refill(e, now, peer ? PEER_BURST : CLIENT_BURST,
				   peer ? PEER_EVERY : CLIENT_EVERY) >=
			    (peer ? PEER_BURST : CLIENT_BURST)) {
				*pp = e->next;
				free(e);
				entries--;
			} else {
				pp = &e->next;
			}
		}
}

static struct entry *
find(const char *key, bool make, double burst, double now)
{
	unsigned h = hash(key);
	struct entry *e;

	for (e = chains[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!make)
		return NULL;
	if (entries >= ENTRIES_MAX)
		sweep(now);
	if (entries >= ENTRIES_MAX)
		return NULL;
	e = xmalloc(sizeof(*e) + strlen(key) + 1);
	strcpy(e->key, key);
	e->tokens = burst;
	e->at = now;
	e->next = chains[h];
	chains[h] = e;
	entries++;
	return e;
}

static void
keys(const char *peer, const char *client_id, char *pk, size_t pl, char *ck, size_t cl)
{
	snprintf(pk, pl, "p|%s", peer ? peer : "");
	snprintf(ck, cl, "c|%s|%s", client_id, peer ? peer : "");
}

bool
api_limit_allow(const char *peer, const char *client_id, int *retry_after)
{
	char pk[80], ck[160];
	double now = clock_mono(), wait = 0;
	struct entry *e;

	keys(peer, client_id, pk, sizeof(pk), ck, sizeof(ck));
	pthread_mutex_lock(&lock);
	if ((e = find(pk, false, PEER_BURST, now)) != NULL &&
	    refill(e, now, PEER_BURST, PEER_EVERY) < 1.0)
		wait = (1.0 - e->tokens) * PEER_EVERY;
	if ((e = find(ck, false, CLIENT_BURST, now)) != NULL &&
	    refill(e, now, CLIENT_BURST, CLIENT_EVERY) < 1.0 &&
	    (1.0 - e->tokens) * CLIENT_EVERY > wait)
		wait = (1.0 - e->tokens) * CLIENT_EVERY;
	pthread_mutex_unlock(&lock);
	*retry_after = wait > 0 ? (int)wait + 1 : 0;
	return wait <= 0;
}

void
api_limit_fail(const char *peer, const char *client_id)
{
	char pk[80], ck[160];
	double now = clock_mono();
	struct entry *e;

	api_metrics_auth_failure(false);
	keys(peer, client_id, pk, sizeof(pk), ck, sizeof(ck));
	pthread_mutex_lock(&lock);
	if ((e = find(pk, true, PEER_BURST, now)) != NULL) {
		refill(e, now, PEER_BURST, PEER_EVERY);
		e->tokens -= 1.0;
	}
	if ((e = find(ck, true, CLIENT_BURST, now)) != NULL) {
		refill(e, now, CLIENT_BURST, CLIENT_EVERY);
		e->tokens -= 1.0;
	}
	pthread_mutex_unlock(&lock);
}
