/*
 * Secret (Kubernetes v1): the keys a BGPPeer's password.secretKeyRef names.
 * Values are stored as given, like MD5 keys (DESIGN.md, "Secrets"), for the
 * agent to use, and never printed: get shows only the name.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "model/bgpconf.h"
#include "model/res_kind.h"

static const struct res_field fields[] = {
	{NULL, NULL, 0, 0, 0, NULL},
};

static const char *const owned[] = {"namespace", "type", "data", NULL};

static int
check_value(const char *path, json_t *v, const char *text, size_t n, struct err *err)
{
	if (n > BGP_PASSWORD_MAX || strlen(text) != n) {
		/* The value itself is never echoed back. */
		(void)v;
		err_set(err, "error with field %s (the value must be text of at most %d "
			     "characters, a TCP MD5 key)", path, BGP_PASSWORD_MAX);
		return -1;
	}
	return 0;
}

static int
add_values(json_t *doc, const char *member, bool base64, json_t *data, struct err *err)
{
	json_t *m = json_object_get(doc, member), *v;
	const char *k;
	char p[128];

	if (m == NULL)
		return 0;
	if (!json_is_object(m)) {
		err_set(err, "error with field %s (not a mapping; accepted: key: value)", member);
		return -1;
	}
	json_object_foreach(m, k, v) {
		json_t *kj = json_string(k);
		int bad;

		snprintf(p, sizeof(p), "%s.%s", member, k);
		bad = res_name_check(p, kj, err);
		json_decref(kj);
		if (bad)
			return -1;
		if (!json_is_string(v)) {
			err_set(err, "error with field %s (not a string)", p);
			return -1;
		}
		if (base64) {
			unsigned char buf[BGP_PASSWORD_MAX + 2];
			size_t n = 0;
			char text[BGP_PASSWORD_MAX + 2];

			if (sodium_base642bin(buf, sizeof(buf), json_string_value(v),
					      json_string_length(v), NULL, &n, NULL,
					      sodium_base64_VARIANT_ORIGINAL) != 0) {
				err_set(err, "error with field %s (not base64, or longer than %d "
					     "characters decoded; stringData takes plain text)",
					p, BGP_PASSWORD_MAX);
				return -1;
			}
			memcpy(text, buf, n);
			text[n] = '\0';
			if (check_value(p, v, text, n, err) != 0)
				return -1;
			json_object_set_new(data, k, json_string(text));
		} else {
			if (check_value(p, v, json_string_value(v), json_string_length(v), err) != 0)
				return -1;
			json_object_set(data, k, v);
		}
	}
	return 0;
}

static int
decode(json_t *doc, const char *name, struct key *key, json_t *out, struct err *err)
{
	json_t *data = json_object(), *md = json_object_get(doc, "metadata");
	json_t *type = json_object_get(doc, "type");

	if (json_object_get(doc, "spec") != NULL) {
		err_set(err, "error with field spec (unknown field; a Secret has stringData or "
			     "data)");
		json_decref(data);
		return -1;
	}
	if (type != NULL && (!json_is_string(type) || strcmp(json_string_value(type), "Opaque"))) {
		res_field_error(err, "type", type, "accepted: Opaque");
		json_decref(data);
		return -1;
	}
	/* Kubernetes: stringData wins over data for the same key. */
	if (add_values(doc, "data", true, data, err) != 0 ||
	    add_values(doc, "stringData", false, data, err) != 0) {
		json_decref(data);
		return -1;
	}
	json_object_set_new(out, "data", data);
	if (json_is_string(json_object_get(md, "namespace")))
		json_object_set(out, "namespace", json_object_get(md, "namespace"));
	key_named(key, KEY_SECRETS, name);
	return 0;
}

static int
scan(struct store *s, struct res_list *out, struct err *err)
{
	return res_scan_dir(s, KEY_SECRETS, out, err);
}

static json_t *
encode(const struct res_found *f)
{
	(void)f;
	return NULL;
}

const struct res_kind res_secret = {
	.kind = "Secret",
	.api_version = "v1",
	.names = {"secret", "secrets"},
	.printable = false,
	.fields = fields,
	.decode = decode,
	.scan = scan,
	.encode = encode,
	.owned = owned,
};
