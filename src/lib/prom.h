/*
 * prom: the Prometheus text exposition format (version 0.0.4), written into a
 * growing buffer, and a fixed-bucket histogram. Pure: no sockets, no clock.
 * tabbyd and tabby-api both render their /metrics with it, so names, label
 * escaping and histogram lines are written one way.
 *
 * A family is announced once (# HELP, # TYPE), then its samples follow; label
 * values are escaped (\\, \", \n) as the format requires. Names follow the
 * Prometheus conventions: a tabby_ prefix, base units (seconds, bytes),
 * counters end in _total.
 */
#ifndef TABBY_PROM_H
#define TABBY_PROM_H

#include <stddef.h>
#include <stdint.h>

struct prom {
	char *buf;
	size_t len, cap;
};

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

/* A label set: up to PROM_LABELS_MAX name/value pairs (values may be any text). */
#define PROM_LABELS_MAX 4
struct prom_labels {
	const char *name[PROM_LABELS_MAX];
	const char *value[PROM_LABELS_MAX];
	int n;
};

void prom_init(struct prom *p);
void prom_free(struct prom *p);
/* # HELP and # TYPE of a family. */
void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);
/* One sample: name{labels} value (labels may be NULL). */
void prom_sample(struct prom *p, const char *name, const struct prom_labels *l, double value);
void prom_sample_u64(struct prom *p, const char *name, const struct prom_labels *l, uint64_t v);
/* A family of one unlabelled sample: # HELP, # TYPE and the value. */
void prom_single(struct prom *p, const char *name, enum prom_type type, const char *help,
		 uint64_t v);

/*
 * A histogram over fixed upper bounds (ascending, +Inf implied). counts[i] is the
 * number of observations <= bounds[i] and > bounds[i-1] (not cumulative: made
 * cumulative when written).
 */
#define PROM_BUCKETS_MAX 16
struct prom_hist {
	uint64_t counts[PROM_BUCKETS_MAX + 1];
	uint64_t count;
	double sum;
};

/* Seconds buckets for request and write latencies: 1 ms to 10 s. */
extern const double prom_latency_bounds[];
extern const size_t prom_latency_nbounds;

void prom_hist_observe(struct prom_hist *h, const double *bounds, size_t nbounds, double v);
/* name_bucket{labels,le=...}, name_sum, name_count (the family announced by the caller). */
void prom_hist_write(struct prom *p, const char *name, const struct prom_labels *l,
		     const struct prom_hist *h, const double *bounds, size_t nbounds);

#endif
