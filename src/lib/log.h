/*
 * log: tiny leveled logging to stderr. log_warn appends strerror(errno);
 * fatal logs and exits. Levels below the configured one are dropped.
 */
#ifndef TABBY_LOG_H
#define TABBY_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

void log_set_level(enum log_level lvl);
/* Parses "debug", "info", "warn" or "error"; -1 when unknown. */
int log_parse_level(const char *s, enum log_level *out);
void log_set_prefix(const char *prefix);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Out-of-memory is a broken invariant here: report and abort. */
void *xmalloc(unsigned long n);
void *xcalloc(unsigned long n, unsigned long size);
void *xrealloc(void *p, unsigned long n);
char *xstrdup(const char *s);

#endif
