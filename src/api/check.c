/*
 * Credential checks (argon2id, ~80 ms each: the client's secret and, for the password
 * grant, the user's password) on a small pool of their own threads, so that a request
 * thread never waits behind one: the server suspends the token request, a pool thread
 * checks, and resumes it. The queue is bounded; when it is
 * full the request is answered 503 at once rather than queued without end.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/log.h"

static struct api_check **queue;
static size_t qcap, qhead, qlen, running;
static bool closing;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;

void
api_check_run(struct api_check *c)
{
	struct store *s = api_store();

	if (s == NULL) {
		c->rc = -1;
		err_set(&c->err, "cannot open the datastore");
		return;
	}
	c->rc = ne_client_check(s, c->id, c->secret, &c->auth, &c->err);
	if (c->rc == 1 && c->grant == API_GRANT_PASSWORD)
		c->user_rc = ne_user_check(s, &c->auth, c->user, c->password, &c->err);
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

static void *
worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct api_check *c;

		pthread_mutex_lock(&qlock);
		while (qlen == 0)
			pthread_cond_wait(&qcond, &qlock);
		c = queue[qhead];
		qhead = (qhead + 1) % qcap;
		qlen--;
		running++;
		pthread_mutex_unlock(&qlock);
		api_check_run(c);
		c->done(c->cls);
		pthread_mutex_lock(&qlock);
		if (--running == 0 && qlen == 0)
			pthread_cond_broadcast(&idle);
		pthread_mutex_unlock(&qlock);
	}
	return NULL;
}

int
api_checks_start(unsigned threads, unsigned queue_max, struct err *err)
{
	queue = xcalloc(queue_max, sizeof(*queue));
	qcap = queue_max;
	for (unsigned i = 0; i < threads; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, NULL) != 0) {
			err_set(err, "cannot start the secret-check threads");
			return -1;
		}
		pthread_detach(t);
	}
	return 0;
}

int
api_check_submit(struct api_check *c)
{
	int rc = -1;

	pthread_mutex_lock(&qlock);
	if (qlen < qcap && !closing) {
		queue[(qhead + qlen) % qcap] = c;
		qlen++;
		rc = 0;
		pthread_cond_signal(&qcond);
	}
	pthread_mutex_unlock(&qlock);
	return rc;
}

void
api_checks_drain(void)
{
	pthread_mutex_lock(&qlock);
	closing = true;
	while (qlen > 0 || running > 0)
		pthread_cond_wait(&idle, &qlock);
	pthread_mutex_unlock(&qlock);
}

void
api_check_free(struct api_check *c)
{
	if (c == NULL)
		return;
	wipe_free(c->secret);
	wipe_free(c->password);
	wipe_free(c->refresh);
	free(c->user);
	free(c);
}
