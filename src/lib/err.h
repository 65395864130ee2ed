/*
 * err: a human-readable error message handed back to the caller.
 * Functions that can fail for reasons a user must hear about take a
 * struct err * (which may be NULL) and fill it before returning -1.
 */
#ifndef TABBY_ERR_H
#define TABBY_ERR_H

#define ERR_MSG_MAX 512

struct err {
	char msg[ERR_MSG_MAX];
};

void err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "what: " to the message already in e. */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
