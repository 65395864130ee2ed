/* The Prometheus text format writer (prom.h). */
#include "lib/prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

const double prom_latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				      0.1,   0.25,   0.5,   1,	  2.5,	 10};
const size_t prom_latency_nbounds = sizeof(prom_latency_bounds) / sizeof(prom_latency_bounds[0]);

void
prom_init(struct prom *p)
{
	memset(p, 0, sizeof(*p));
}

void
prom_free(struct prom *p)
{
	free(p->buf);
	prom_init(p);
}

static void
put(struct prom *p, const char *s, size_t n)
{
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;

		while (cap < p->len + n + 1)
			cap *= 2;
		p->buf = xrealloc(p->buf, cap);
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void
puts_(struct prom *p, const char *s)
{
	put(p, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct prom *p, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fatal("prom: formatted value too long");
	put(p, buf, (size_t)n);
}

/* The exposition format escapes \, " and newline in label values (\ and newline in HELP). */
static void
put_escaped(struct prom *p, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(p, "\\\\");
		else if (*s == '\n')
			puts_(p, "\\n");
		else if (quote && *s == '"')
			puts_(p, "\\\"");
		else
			put(p, s, 1);
	}
}

void
prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};

	putf(p, "# HELP %s ", name);
	put_escaped(p, help, false);
	putf(p, "\n# TYPE %s %s\n", name, types[type]);
}

static void
put_value(struct prom *p, double v)
{
	if (isnan(v))
		puts_(p, "NaN");
	else if (isinf(v))
		puts_(p, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(int64_t)v && fabs(v) < 9e15)
		putf(p, "%" PRId64, (int64_t)v);
	else
		putf(p, "%.17g", v);
}

static void
put_labels(struct prom *p, const struct prom_labels *l, const char *le)
{
	int n = l ? l->n : 0;

	if (n == 0 && le == NULL)
		return;
	puts_(p, "{");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			puts_(p, ",");
		puts_(p, l->name[i]);
		puts_(p, "=\"");
		put_escaped(p, l->value[i], true);
		puts_(p, "\"");
	}
	if (le != NULL) {
		if (n > 0)
			puts_(p, ",");
		putf(p, "le=\"%s\"", le);
	}
	puts_(p, "}");
}

void
prom_sample(struct prom *p, const char *name, const struct prom_labels *l, double value)
{
	puts_(p, name);
	put_labels(p, l, NULL);
	puts_(p, " ");
	put_value(p, value);
	puts_(p, "\n");
}

void
prom_sample_u64(struct prom *p, const char *name, const struct prom_labels *l, uint64_t v)
{
	puts_(p, name);
	put_labels(p, l, NULL);
	putf(p, " %" PRIu64 "\n", v);
}

void
prom_single(struct prom *p, const char *name, enum prom_type type, const char *help, uint64_t v)
{
	prom_family(p, name, type, help);
	prom_sample_u64(p, name, NULL, v);
}

void
prom_hist_observe(struct prom_hist *h, const double *bounds, size_t nbounds, double v)
{
	size_t i = 0;

	while (i < nbounds && v > bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void
prom_hist_write(struct prom *p, const char *name, const struct prom_labels *l,
		const struct prom_hist *h, const double *bounds, size_t nbounds)
{
	char metric[128], le[32];
	uint64_t cum = 0;

	snprintf(metric, sizeof(metric), "%s_bucket", name);
	for (size_t i = 0; i <= nbounds; i++) {
		cum += h->counts[i];
		if (i < nbounds)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		puts_(p, metric);
		put_labels(p, l, le);
		putf(p, " %" PRIu64 "\n", cum);
	}
	snprintf(metric, sizeof(metric), "%s_sum", name);
	prom_sample(p, metric, l, h->sum);
	snprintf(metric, sizeof(metric), "%s_count", name);
	prom_sample_u64(p, metric, l, h->count);
}
