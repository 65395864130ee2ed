/*
 * log: tiny leveled logging to stderr, one line a message, as text or as a JSON
 * object. log_warn appends strerror(errno); fatal logs and aborts. Levels below
 * the configured one are dropped; the level may change while other threads log.
 * When stderr is systemd's journal stream, lines carry no timestamp (the journal
 * adds its own) and start with the sd-daemon priority ("<6>").
 */
#ifndef TABBY_LOG_H
#define TABBY_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* The output format; looks at JOURNAL_STREAM. Call once, before any other thread logs. */
void log_init(enum log_format fmt);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* "debug", "info", "warn" or "error". */
const char *log_level_name(enum log_level lvl);
/* Parses "debug", "info", "warn" or "error"; -1 when unknown. */
int log_parse_level(const char *s, enum log_level *out);
/* Parses "text" or "json"; -1 when unknown. */
int log_parse_format(const char *s, enum log_format *out);
void log_set_prefix(const char *prefix);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A failure the program stops for (it then exits, without aborting). */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Out-of-memory is a broken invariant here: report and abort. */
void *xmalloc(unsigned long n);
void *xcalloc(unsigned long n, unsigned long size);
void *xrealloc(void *p, unsigned long n);
char *xstrdup(const char *s);

#endif
