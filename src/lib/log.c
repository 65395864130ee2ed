#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/text.h"

static enum log_level cur_level = LOG_LVL_INFO;
static const char *log_prefix = "tabby";

void
log_set_level(enum log_level lvl)
{
	cur_level = lvl;
}

void
log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	static const char *names[] = {"debug", "info", "warn", "error"};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void
vlog(enum log_level lvl, const char *tag, int errnum, const char *fmt, va_list ap)
{
	char ts[32], line[2048], shown[TEXT_ESCAPED_SIZE(2048)];
	struct timespec now;
	struct tm tm;

	if (lvl < cur_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One message, one line: whatever a peer put in it is escaped (RFC 9003 §5). */
	text_escape(line, strlen(line), shown, sizeof(shown));
	/* One line at a time, whichever thread logs (tabbyd's datastore writer does). */
	flockfile(stderr);
	fprintf(stderr, "%s.%03ld %s %s: %s", ts, now.tv_nsec / 1000000, log_prefix, tag, shown);
	if (errnum != 0)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
	funlockfile(stderr);
}

#define LOG_BODY(lvl, tag, errnum)                                                                 \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(lvl, tag, errnum, fmt, ap);                                                   \
		va_end(ap);                                                                        \
	} while (0)

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, "debug", 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, "info", 0);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LVL_WARN, "warning", saved);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, "warning", 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, "fatal", 0);
	abort();
}

void *
xmalloc(unsigned long n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory (%lu bytes)", n);
	return p;
}

void *
xcalloc(unsigned long n, unsigned long size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("out of memory (%lu x %lu bytes)", n, size);
	return p;
}

void *
xrealloc(void *p, unsigned long n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("out of memory (%lu bytes)", n);
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("out of memory");
	return p;
}
