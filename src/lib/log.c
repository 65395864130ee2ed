#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/text.h"

/* Set from the event loop (the control socket's log-level), read by every thread. */
static atomic_int cur_level = LOG_LVL_INFO;
static enum log_format cur_format = LOG_FMT_TEXT;
static bool to_journal;
static const char *log_prefix = "tabby";
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level lvl)
{
	atomic_store(&cur_level, (int)lvl);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)atomic_load(&cur_level);
}

const char *
log_level_name(enum log_level lvl)
{
	return level_names[lvl];
}

void
log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FMT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FMT_JSON;
	else
		return -1;
	return 0;
}

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to stderr
 * (systemd.exec(5)); only when stderr is still that stream does the journal read it.
 */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_format fmt)
{
	cur_format = fmt;
	to_journal = stderr_is_journal();
}

/* Writes s as the inside of a JSON string: text_escape left no control characters. */
static void
json_chars(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', stderr);
		fputc(*s, stderr);
	}
}

static void
vlog(enum log_level lvl, const char *tag, int errnum, const char *fmt, va_list ap)
{
	/* sd-daemon(3) priorities: debug 7, info 6, warning 4, error (fatal) 3. */
	static const int prio[] = {7, 6, 4, 3};
	char ts[40], line[2048], shown[TEXT_ESCAPED_SIZE(2048)];
	struct timespec now;
	struct tm tm;

	if ((int)lvl < atomic_load(&cur_level))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, 20, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + 19, sizeof(ts) - 19, ".%03ld", now.tv_nsec / 1000000);
	strftime(ts + 23, sizeof(ts) - 23, "%z", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One message, one line: whatever a peer put in it is escaped (RFC 9003 §5). */
	text_escape(line, strlen(line), shown, sizeof(shown));
	/* One line at a time, whichever thread logs (tabbyd's datastore writer does). */
	flockfile(stderr);
	/* The journal stamps each line itself and reads the priority from "<N>". */
	if (to_journal)
		fprintf(stderr, "<%d>", prio[lvl]);
	if (cur_format == LOG_FMT_JSON) {
		fputc('{', stderr);
		if (!to_journal)
			fprintf(stderr, "\"time\":\"%s\",", ts);
		fprintf(stderr, "\"level\":\"%s\",\"program\":\"%s\",\"msg\":\"", tag, log_prefix);
		json_chars(shown);
		fputc('"', stderr);
		if (errnum != 0) {
			fputs(",\"error\":\"", stderr);
			json_chars(strerror(errnum));
			fputc('"', stderr);
		}
		fputc('}', stderr);
	} else {
		if (!to_journal)
			fprintf(stderr, "%.23s ", ts);
		fprintf(stderr, "%s %s: %s", log_prefix, tag, shown);
		if (errnum != 0)
			fprintf(stderr, ": %s", strerror(errnum));
	}
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
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, "error", 0);
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
