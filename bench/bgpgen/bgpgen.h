#ifndef BGPGEN_H
#define BGPGEN_H

#include "conn.h"

#define KEEPALIVE_EVERY_NS (30 * 1000000000LL)
/* The community a churned route is announced again with (64999:1), $BGPGEN_CHURN. */
#define BGPGEN_CHURN_COMMUNITY 0xfde70001u
#define RETRY_AFTER_NS (50 * 1000000LL)   /* the daemon may not listen yet */

/* argv after "gen" / "sink" and the optional -6. */
int bgpgen_gen(int family, int argc, char **argv);
int bgpgen_sink(int family, int argc, char **argv);

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* A line on stdout, flushed at once: the runner reads it while we run. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
