/*
 * bgpgen: the BGP benchmark's route generator and sink (bench/bgp_bench.sh runs them).
 *
 *   bgpgen gen  [-6] LOCAL_BASE N PEER FIRST_AS M GOFILE [PREFIXES_PER_SET]
 *       encodes M unique prefixes for each of N sessions into full UPDATEs
 *       (IPv4 NLRI, or IPv6 in MP_REACH with -6), then opens N eBGP sessions from
 *       LOCAL_BASE, LOCAL_BASE+1, ... (AS FIRST_AS+i) to PEER, at most
 *       $BGPGEN_PARALLEL (32) handshakes at once; prints "established NS" and
 *       "ready", waits for GOFILE to exist, prints "sent NS" and sends everything,
 *       "flushed NS" once written; then keeps the sessions up ("returned COUNT"
 *       if the daemon sends UPDATEs back, which it should not).
 *       With $BGPGEN_CHURN = K it also encodes, first, a churn: every prefix whose
 *       index is a multiple of K is withdrawn, then announced again with the
 *       community 64999:1 instead of its own; once everything is written and
 *       GOFILE.churn exists it prints "churn NS" and sends that ("churn-flushed NS").
 *       With $BGPGEN_STEP = K session s goes from LOCAL_BASE + s x K to PEER + s x K
 *       (one link, one peer per session: the benchmark's virtual devices).
 *   bgpgen sink [-6] LOCAL PEER AS N M
 *       one session to PEER that receives; maps every prefix back to its index
 *       and prints "up NS", "progress COUNT" each second, "done NS COUNT" when all
 *       N x M prefixes are in, then, after 2 s without UPDATEs, "final seen=...
 *       unexpected=... duplicate=... withdrawn=... malformed=...".
 *       With $BGPGEN_CHURN = K it then follows the churn: withdrawals take prefixes
 *       away, and "churned NS" says all N x M are there again, every multiple of K
 *       with the community 64999:1 (the final line then waits for it and ends with
 *       " churned=COUNT"; a churned prefix without the community, or any other with
 *       it, is a stale/unexpected one).
 *
 * Times are CLOCK_REALTIME in nanoseconds, so the runner can compare the two.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bgpgen.h"

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bgpgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

int
main(int argc, char **argv)
{
	int family = AF_INET, skip = 2;

	if (argc > 2 && strcmp(argv[2], "-6") == 0) {
		family = AF_INET6;
		skip = 3;
	}
	if (argc >= 2 && strcmp(argv[1], "gen") == 0 && (argc - skip == 6 || argc - skip == 7))
		return bgpgen_gen(family, argc - skip, argv + skip);
	if (argc >= 2 && strcmp(argv[1], "sink") == 0 && argc - skip == 5)
		return bgpgen_sink(family, argc - skip, argv + skip);
	fprintf(stderr, "usage: bgpgen gen  [-6] LOCAL_BASE N PEER FIRST_AS M GOFILE [PREFIXES_PER_SET]\n"
			"       bgpgen sink [-6] LOCAL PEER AS N M\n");
	return 2;
}
