#include "lib/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	va_list ap;
	int n;

	if (e == NULL)
		return;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n + 2 < sizeof(e->msg)) {
		size_t used = (size_t)n + 2, keep = strnlen(old, sizeof(e->msg) - 1 - used);

		memcpy(e->msg + n, ": ", 2);
		memcpy(e->msg + used, old, keep);
		e->msg[used + keep] = '\0';
	}
}
