#include "ctl/output.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

int
out_fmt_parse(const char *s, enum out_fmt *f)
{
	if (strcmp(s, "table") == 0 || strcmp(s, "ps") == 0)
		*f = OUT_TABLE;
	else if (strcmp(s, "wide") == 0)
		*f = OUT_WIDE;
	else if (strcmp(s, "json") == 0)
		*f = OUT_JSON;
	else if (strcmp(s, "yaml") == 0)
		*f = OUT_YAML;
	else
		return -1;
	return 0;
}

static int
yaml_write(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

/* A string a YAML reader would take for a number, boolean or null must be quoted. */
static bool
yaml_ambiguous(const char *s)
{
	static const char *const words[] = {"", "~", "null", "Null", "NULL", "true", "True",
					    "TRUE", "false", "False", "FALSE", "yes", "Yes",
					    "YES", "no", "No", "NO", "on", "On", "ON", "off",
					    "Off", "OFF", "y", "Y", "n", "N"};
	char *end;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	strtod(s, &end);
	if (*end == '\0')
		return true;
	/* YAML 1.1 also reads 1:20 (base 60) and 0x1f as numbers. */
	return strspn(s, "0123456789:") == strlen(s) || strncmp(s, "0x", 2) == 0 ||
	       strncmp(s, "0o", 2) == 0;
}

static int
emit_scalar(yaml_emitter_t *em, const char *text, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1,
				     1, style);
	return yaml_emitter_emit(em, &ev);
}

static int
emit_value(yaml_emitter_t *em, json_t *v)
{
	yaml_event_t ev;
	char buf[64];
	const char *key;
	json_t *item;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return 0;
		json_object_foreach(v, key, item) {
			if (!emit_scalar(em, key, YAML_PLAIN_SCALAR_STYLE) || !emit_value(em, item))
				return 0;
		}
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev);
	case JSON_ARRAY:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return 0;
		json_array_foreach(v, i, item) {
			if (!emit_value(em, item))
				return 0;
		}
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev);
	case JSON_STRING:
		return emit_scalar(em, json_string_value(v),
				   yaml_ambiguous(json_string_value(v))
					   ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
					   : YAML_ANY_SCALAR_STYLE);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(em, buf, YAML_PLAIN_SCALAR_STYLE);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return emit_scalar(em, buf, YAML_PLAIN_SCALAR_STYLE);
	case JSON_TRUE:
		return emit_scalar(em, "true", YAML_PLAIN_SCALAR_STYLE);
	case JSON_FALSE:
		return emit_scalar(em, "false", YAML_PLAIN_SCALAR_STYLE);
	case JSON_NULL:
		return emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
	}
	return 0;
}

static int
out_yaml(FILE *f, json_t *doc)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&em))
		return -1;
	yaml_emitter_set_output(&em, yaml_write, f);
	yaml_emitter_set_unicode(&em, 1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	ok = yaml_emitter_emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	ok = ok && yaml_emitter_emit(&em, &ev);
	ok = ok && emit_value(&em, doc);
	yaml_document_end_event_initialize(&ev, 1);
	ok = ok && yaml_emitter_emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	ok = ok && yaml_emitter_emit(&em, &ev);
	yaml_emitter_delete(&em);
	return ok ? 0 : -1;
}

int
out_doc(FILE *f, enum out_fmt fmt, json_t *doc)
{
	if (fmt == OUT_YAML)
		return out_yaml(f, doc);
	if (json_dumpf(doc, f, JSON_INDENT(2)) != 0)
		return -1;
	fputc('\n', f);
	return 0;
}
