#include "ctl/manifest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* A plain (unquoted) scalar is typed as YAML 1.2's core schema does it. */
static json_t *
plain_scalar(const char *s)
{
	char *end;
	long long n;

	if (strcmp(s, "") == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		return json_false();
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+') && s[1] >= '0' &&
					     s[1] <= '9')) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (*end == '\0' && errno == 0)
			return json_integer(n);
	}
	return json_string(s);
}

struct reader {
	yaml_parser_t p;
	struct err *err;
	const char *path;
};

static void
parse_error(struct reader *r)
{
	err_set(r->err, "error processing %s: line %zu, column %zu: %s",
		r->path, r->p.problem_mark.line + 1, r->p.problem_mark.column + 1,
		r->p.problem ? r->p.problem : "invalid YAML");
}

static json_t *node_value(struct reader *r, yaml_event_t *ev);

static json_t *
next_value(struct reader *r, bool *end, yaml_event_type_t end_type)
{
	yaml_event_t ev;
	json_t *v;

	*end = false;
	if (!yaml_parser_parse(&r->p, &ev)) {
		parse_error(r);
		return NULL;
	}
	if (ev.type == end_type) {
		*end = true;
		yaml_event_delete(&ev);
		return NULL;
	}
	v = node_value(r, &ev);
	yaml_event_delete(&ev);
	return v;
}

static json_t *
node_value(struct reader *r, yaml_event_t *ev)
{
	json_t *v, *k, *item;
	bool end;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return plain_scalar((const char *)ev->data.scalar.value);
		return json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
	case YAML_SEQUENCE_START_EVENT:
		v = json_array();
		while ((item = next_value(r, &end, YAML_SEQUENCE_END_EVENT)) != NULL)
			json_array_append_new(v, item);
		if (!end) {
			json_decref(v);
			return NULL;
		}
		return v;
	case YAML_MAPPING_START_EVENT:
		v = json_object();
		while ((k = next_value(r, &end, YAML_MAPPING_END_EVENT)) != NULL) {
			char kb[64];
			const char *ks = json_string_value(k);

			/* Keys are names; a key YAML typed (true, 1) is used as written. */
			if (ks == NULL) {
				char *t = json_dumps(k, JSON_ENCODE_ANY);

				snprintf(kb, sizeof(kb), "%s", t ? t : "");
				free(t);
				ks = kb;
			}
			if ((item = next_value(r, &end, YAML_NO_EVENT)) == NULL) {
				if (end)
					err_set(r->err, "error processing %s: a key without a value",
						r->path);
				json_decref(k);
				json_decref(v);
				return NULL;
			}
			json_object_set_new(v, ks, item);
			json_decref(k);
		}
		if (!end) {
			json_decref(v);
			return NULL;
		}
		return v;
	case YAML_ALIAS_EVENT:
		err_set(r->err, "error processing %s: line %zu: YAML aliases are not accepted",
			r->path, ev->start_mark.line + 1);
		return NULL;
	default:
		err_set(r->err, "error processing %s: line %zu: unexpected YAML structure", r->path,
			ev->start_mark.line + 1);
		return NULL;
	}
}

/* Appends a document, or the items of a List. */
static int
add_doc(json_t *docs, json_t *doc, struct reader *r)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *items = json_object_get(doc, "items"), *item;
	size_t i, n = kind ? strlen(kind) : 0;

	if (json_is_null(doc)) {
		json_decref(doc);
		return 0;  /* an empty document, such as after a trailing --- */
	}
	if (json_is_array(doc)) {
		json_array_foreach(doc, i, item)
			if (add_doc(docs, json_incref(item), r) != 0) {
				json_decref(doc);
				return -1;
			}
		json_decref(doc);
		return 0;
	}
	if (n > 4 && strcmp(kind + n - 4, "List") == 0 && json_is_array(items)) {
		json_array_foreach(items, i, item)
			json_array_append(docs, item);
		json_decref(doc);
		return 0;
	}
	json_array_append_new(docs, doc);
	return 0;
}

json_t *
manifest_read(const char *path, struct err *err)
{
	struct reader r = {.err = err, .path = strcmp(path, "-") == 0 ? "standard input" : path};
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	json_t *docs = json_array();
	bool done = false;

	if (f == NULL) {
		err_set(err, "error processing %s: %s", path, strerror(errno));
		json_decref(docs);
		return NULL;
	}
	yaml_parser_initialize(&r.p);
	yaml_parser_set_input_file(&r.p, f);
	while (!done) {
		yaml_event_t ev;
		json_t *doc;
		bool end;

		if (!yaml_parser_parse(&r.p, &ev)) {
			parse_error(&r);
			goto fail;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			doc = next_value(&r, &end, YAML_DOCUMENT_END_EVENT);
			if (doc == NULL && !end) {
				yaml_event_delete(&ev);
				goto fail;
			}
			if (doc != NULL) {
				yaml_event_t dend;

				if (!yaml_parser_parse(&r.p, &dend)) {
					parse_error(&r);
					json_decref(doc);
					yaml_event_delete(&ev);
					goto fail;
				}
				yaml_event_delete(&dend);
				if (add_doc(docs, doc, &r) != 0) {
					yaml_event_delete(&ev);
					goto fail;
				}
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&r.p);
	if (f != stdin)
		fclose(f);
	return docs;
fail:
	yaml_parser_delete(&r.p);
	if (f != stdin)
		fclose(f);
	json_decref(docs);
	return NULL;
}
