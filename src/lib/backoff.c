#include "lib/backoff.h"

double
backoff_next(struct backoff *b, double now)
{
	double first = b->first > 0 ? b->first : 0.1, max = b->max > 0 ? b->max : 5.0;

	if (b->delay == 0)
		b->failing_since = now;
	b->delay = b->delay == 0 ? first : b->delay * 2;
	if (b->delay > max)
		b->delay = max;
	return b->delay;
}

double
backoff_reset(struct backoff *b, double now)
{
	double was = b->delay == 0 ? 0 : now - b->failing_since;

	b->delay = 0;
	b->failing_since = 0;
	return was;
}

bool
backoff_failing(const struct backoff *b)
{
	return b->delay != 0;
}
