/*
 * The field rules the v3 resource kinds share (res_kind.h): Calico-style field
 * errors, names, selectors, durations, label keys and values, and the
 * table-driven spec fields with their stored names.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/asn.h"
#include "lib/log.h"
#include "model/res_kind.h"
#include "model/selector.h"

void
res_field_error(struct err *err, const char *path, json_t *value, const char *fmt, ...)
{
	char why[ERR_MSG_MAX], *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (json_is_string(value))
		text = xstrdup(json_string_value(value));
	else if (value != NULL)
		text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	err_set(err, "error with field %s = '%s' (%s)", path, text ? text : "", why);
	free(text);
}

int
res_name_check(const char *path, json_t *v, struct err *err)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;

	if (s == NULL || n == 0 || n > RES_NAME_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz"
								 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
								 "0123456789._-") != n) {
		res_field_error(err, path, v, "%s; accepted: letters, digits, '.', '_' and '-', "
					      "1-%d characters",
				v == NULL ? "missing" : s == NULL ? "not a string" : "invalid name",
				RES_NAME_MAX);
		return -1;
	}
	return 0;
}

int
res_selector_check(const char *path, json_t *v, struct err *err)
{
	struct err e;
	struct sel *sel;

	if (!json_is_string(v)) {
		res_field_error(err, path, v, "not a string; accepted: a selector such as "
					      "\"route-reflector == 'true'\"");
		return -1;
	}
	if ((sel = sel_parse(json_string_value(v), NULL, &e)) == NULL) {
		res_field_error(err, path, v, "%s", e.msg);
		return -1;
	}
	sel_free(sel);
	return 0;
}

int
res_duration_parse(const char *text, uint32_t *secs)
{
	uint64_t total = 0;
	const char *p = text;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		uint64_t v = 0, unit;
		const char *start = p;

		while (*p >= '0' && *p <= '9' && v < UINT32_MAX)
			v = v * 10 + (uint64_t)(*p++ - '0');
		if (p == start)
			return -1;
		if (*p == 'h')
			unit = 3600;
		else if (*p == 'm' && p[1] != 's')
			unit = 60;
		else if (*p == 's')
			unit = 1;
		else
			return -1;
		p++;
		total += v * unit;
		if (total > UINT32_MAX)
			return -1;
	}
	*secs = (uint32_t)total;
	return 0;
}

bool
res_in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void
accepted_fields(const struct res_field *tab, const char *const *custom, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; custom != NULL && custom[i] != NULL; i++)
		at += (size_t)snprintf(buf + at, at < len ? len - at : 0, "%s%s", at ? ", " : "",
				       custom[i]);
	for (size_t i = 0; tab != NULL && tab[i].v3 != NULL; i++)
		at += (size_t)snprintf(buf + at, at < len ? len - at : 0, "%s%s", at ? ", " : "",
				       tab[i].v3);
}

static int
field_decode(const struct res_field *f, const char *path, json_t *v, json_t *out,
	     struct err *err)
{
	json_int_t n = json_integer_value(v);
	uint32_t secs;
	json_t *ref, *item;
	size_t i;

	switch (f->type) {
	case RF_BOOL:
		if (!json_is_boolean(v)) {
			res_field_error(err, path, v, "not a boolean; accepted: true, false");
			return -1;
		}
		break;
	case RF_UINT:
		if (!json_is_integer(v) || n < f->min || n > f->max) {
			res_field_error(err, path, v, "accepted: a whole number %" JSON_INTEGER_FORMAT
					"-%" JSON_INTEGER_FORMAT, (json_int_t)f->min,
					(json_int_t)f->max);
			return -1;
		}
		break;
	case RF_ASN: {
		/* Calico takes a number or a string, the string also in asdot (RFC 5396). */
		uint32_t as = (uint32_t)n;

		if (json_is_string(v) ? asn_parse(json_string_value(v), &as, NULL) != 0
				      : !json_is_integer(v) || n < 0 || asn_check((uint64_t)n, NULL) != 0) {
			res_field_error(err, path, v, "not a valid AS number; " ASN_ACCEPTED);
			return -1;
		}
		json_object_set_new(out, f->stored, json_integer(as));
		return 0;
	}
	case RF_DURATION:
		if (!json_is_string(v) || res_duration_parse(json_string_value(v), &secs) != 0) {
			res_field_error(err, path, v, "not a duration; accepted: a number with a unit "
						      "h, m or s, such as 120s, 2m or 1h30m");
			return -1;
		}
		break;
	case RF_ENUM: {
		char word[64];
		const char *a = f->accepted, *s = json_string_value(v);
		bool ok = false;

		while (s != NULL && *a != '\0') {
			size_t k = strcspn(a, ",");

			snprintf(word, sizeof(word), "%.*s", (int)k, a);
			ok = ok || strcmp(word, s) == 0;
			a += k;
			a += strspn(a, ", ");
		}
		if (!ok) {
			res_field_error(err, path, v, "accepted: %s", f->accepted);
			return -1;
		}
		break;
	}
	case RF_NAME:
		if (res_name_check(path, v, err) != 0)
			return -1;
		break;
	case RF_NAMES:
		if (!json_is_array(v)) {
			res_field_error(err, path, v, "not a list; accepted: a list of names");
			return -1;
		}
		json_array_foreach(v, i, item) {
			char p[128];

			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			if (res_name_check(p, item, err) != 0)
				return -1;
		}
		break;
	case RF_SECRETREF: {
		char p[128];

		ref = json_object_get(v, "secretKeyRef");
		if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_object(ref)) {
			res_field_error(err, path, v, "accepted: secretKeyRef with name and key");
			return -1;
		}
		snprintf(p, sizeof(p), "%s.secretKeyRef.name", path);
		if (res_name_check(p, json_object_get(ref, "name"), err) != 0)
			return -1;
		snprintf(p, sizeof(p), "%s.secretKeyRef.key", path);
		if (res_name_check(p, json_object_get(ref, "key"), err) != 0)
			return -1;
		if (json_object_size(ref) != 2) {
			res_field_error(err, path, v, "secretKeyRef takes only name and key");
			return -1;
		}
		json_object_set_new(out, f->stored,
				    json_pack("{s:O, s:O}", "name", json_object_get(ref, "name"),
					      "key", json_object_get(ref, "key")));
		return 0;
	}
	case RF_CUSTOM:
		break;
	}
	json_object_set(out, f->stored, v);
	return 0;
}

int
res_fields_decode(const struct res_field *tab, json_t *obj, const char *path, json_t *out,
		  const char *const *custom, struct err *err)
{
	const char *name;
	json_t *v;

	if (obj == NULL)
		return 0;
	if (!json_is_object(obj)) {
		res_field_error(err, path, obj, "not a mapping");
		return -1;
	}
	json_object_foreach(obj, name, v) {
		char p[128], acc[512];
		size_t i;

		snprintf(p, sizeof(p), "%s.%s", path, name);
		if (res_in_list(custom, name))
			continue;
		for (i = 0; tab[i].v3 != NULL; i++)
			if (strcmp(tab[i].v3, name) == 0)
				break;
		if (tab[i].v3 == NULL) {
			accepted_fields(tab, custom, acc, sizeof(acc));
			err_set(err, "error with field %s (unknown field; accepted in %s: %s)", p,
				path, acc);
			return -1;
		}
		if (field_decode(&tab[i], p, v, out, err) != 0)
			return -1;
	}
	return 0;
}

void
res_fields_encode(const struct res_field *tab, json_t *stored, json_t *spec)
{
	for (size_t i = 0; tab[i].v3 != NULL; i++) {
		json_t *v = json_object_get(stored, tab[i].stored);

		if (v == NULL)
			continue;
		if (tab[i].type == RF_SECRETREF)
			json_object_set_new(spec, tab[i].v3, json_pack("{s:O}", "secretKeyRef", v));
		else
			json_object_set(spec, tab[i].v3, v);
	}
}

/* A label name part: 1-63 of letters, digits, '-', '_', '.', starting and ending alphanumeric. */
static bool
label_name_ok(const char *s, size_t n, bool empty_ok)
{
	if (n == 0)
		return empty_ok;
	if (n > 63 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") < n)
		return false;
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

/* Kubernetes' label rules, which Calico's selectors rely on: [prefix/]name, and a value. */
int
res_label_check(const char *key, const char *value, struct err *err)
{
	const char *slash = strchr(key, '/');
	const char *name = slash ? slash + 1 : key;
	size_t plen = slash ? (size_t)(slash - key) : 0;

	if ((slash != NULL && (plen == 0 || plen > 253 ||
			       strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-.") < plen)) ||
	    !label_name_ok(name, strlen(name), false)) {
		err_set(err, "error with field metadata.labels = '%s' (invalid label key; accepted: "
			     "an optional DNS prefix and '/', then 1-63 letters, digits, '-', '_' or "
			     "'.', starting and ending with a letter or digit)", key);
		return -1;
	}
	if (value != NULL && !label_name_ok(value, strlen(value), true)) {
		err_set(err, "error with field metadata.labels.%s = '%s' (invalid label value; "
			     "accepted: empty, or 1-63 letters, digits, '-', '_' or '.', starting "
			     "and ending with a letter or digit)", key, value);
		return -1;
	}
	return 0;
}
