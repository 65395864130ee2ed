/*
 * backoff: when to try again after a failure, 0.1 s doubling to 5 s (the caller may set
 * other bounds), and for how long it has been failing. Pure: the caller passes the time.
 */
#ifndef TABBY_BACKOFF_H
#define TABBY_BACKOFF_H

#include <stdbool.h>

struct backoff {
	double first, max; /* 0: the defaults, 0.1 s and 5 s */
	double delay;	   /* the last wait handed out; 0 while things work */
	double failing_since;
};

/* A failure at now: the wait before the next attempt (one step longer than the last). */
double backoff_next(struct backoff *b, double now);
/* A success at now: how long it had been failing (0 if it was not); starts over. */
double backoff_reset(struct backoff *b, double now);
bool backoff_failing(const struct backoff *b);

#endif
