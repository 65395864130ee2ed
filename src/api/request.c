/*
 * The parts of a request, parsed strictly: the target (path and query), headers,
 * form bodies and media types. Everything a client sends is checked here before a
 * handler looks at it: percent escapes must be whole, no NUL bytes (they would cut a
 * C string short of what was checked), no parameter twice.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "lib/log.h"

const char *
api_header(const struct api_req *q, const char *name, int *count)
{
	const char *v = NULL;
	int n = 0;

	for (size_t i = 0; i < q->n_headers; i++)
		if (strcasecmp(q->headers[i].key, name) == 0) {
			if (n++ == 0)
				v = q->headers[i].value;
		}
	if (count != NULL)
		*count = n;
	return v;
}

const char *
api_arg(const struct api_req *q, const char *key)
{
	for (size_t i = 0; i < q->n_args; i++)
		if (strcmp(q->args[i].key, key) == 0)
			return q->args[i].value;
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *
api_pct_decode(const char *s, size_t len, bool plus)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%') {
			if (i + 2 >= len)
				goto bad;
			if ((hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0 || (hi | lo) == 0)
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0') {
			goto bad;
		} else {
			*o++ = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

void
api_kv_free(struct api_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)kv[i].key);
		free((char *)kv[i].value);
	}
	free(kv);
}

/* a=b&c=d (query or form body) into decoded pairs; max pairs at most. */
static int
pairs_parse(const char *s, size_t len, size_t max, struct api_kv **out, size_t *n,
	    struct err *err)
{
	struct api_kv *kv = NULL;
	size_t cnt = 0, i = 0;

	while (i < len) {
		size_t end = i, eq;
		char *k, *v = NULL;

		while (end < len && s[end] != '&')
			end++;
		if (end == i) {  /* "a=1&&b=2": an empty pair says nothing */
			i = end + 1;
			continue;
		}
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (cnt == max) {
			err_set(err, "more than %zu parameters", max);
			goto bad;
		}
		k = api_pct_decode(s + i, eq - i, true);
		if (k != NULL && eq < end && (v = api_pct_decode(s + eq + 1, end - eq - 1, true)) == NULL) {
			free(k);
			k = NULL;
		}
		if (k == NULL) {
			err_set(err, "%.*s|a bad percent escape or a NUL byte in '%.*s'",
				(int)(eq - i > 64 ? 64 : eq - i), s + i,
				(int)(end - i > 64 ? 64 : end - i), s + i);
			goto bad;
		}
		for (size_t j = 0; j < cnt; j++)
			if (strcmp(kv[j].key, k) == 0) {
				err_set(err, "%.64s|'%.64s' is given more than once", k, k);
				free(k);
				free(v);
				goto bad;
			}
		kv = xrealloc(kv, (cnt + 1) * sizeof(*kv));
		kv[cnt].key = k;
		kv[cnt].value = v;
		cnt++;
		i = end + 1;
	}
	*out = kv;
	*n = cnt;
	return 0;
bad:
	api_kv_free(kv, cnt);
	*out = NULL;
	*n = 0;
	return -1;
}

int
api_form_parse(const char *body, size_t len, struct api_kv **out, size_t *n, struct err *err)
{
	return pairs_parse(body ? body : "", body ? len : 0, API_ARGS_MAX, out, n, err);
}

int
api_parse_target(struct api_req *q, struct api_resp *r)
{
	const char *t = q->target, *qm;
	size_t len = strlen(t);
	struct err err;

	if (len > API_TARGET_MAX) {
		api_error(r, 414, "URI_TOO_LONG", NULL, "the request target is longer than %d bytes",
			  API_TARGET_MAX);
		return -1;
	}
	qm = memchr(t, '?', len);
	q->path = api_pct_decode(t, qm ? (size_t)(qm - t) : len, false);
	if (q->path == NULL) {
		api_error(r, 400, "INVALID_PATH", NULL,
			  "the path has a bad percent escape or a NUL byte (%%00)");
		return -1;
	}
	if (qm != NULL &&
	    pairs_parse(qm + 1, len - (size_t)(qm + 1 - t), API_ARGS_MAX, &q->args, &q->n_args,
			&err) != 0) {
		char *bar = strchr(err.msg, '|');

		if (bar == NULL)
			api_error(r, 400, "INVALID_QUERY_PARAMETER", NULL, "%s; at most %d are accepted",
				  err.msg, API_ARGS_MAX);
		else {
			*bar = '\0';
			api_error(r, 400, "INVALID_QUERY_PARAMETER", err.msg, "%s", bar + 1);
		}
		return -1;
	}
	return 0;
}

void
api_req_free(struct api_req *q)
{
	free(q->path);
	q->path = NULL;
	api_kv_free(q->args, q->n_args);
	q->args = NULL;
	q->n_args = 0;
}

bool
api_media_type_is(const char *h, const char *type)
{
	size_t n = strlen(type);

	if (h == NULL || strncasecmp(h, type, n) != 0)
		return false;
	h += n;
	while (*h == ' ' || *h == '\t')
		h++;
	return *h == '\0' || *h == ';';
}
