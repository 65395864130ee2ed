/*
 * libFuzzer target: v3 resource validation and storage. A JSON document is
 * applied to a real datastore; when that succeeds, what get prints for it must
 * apply back unchanged (the round trip), and every refusal carries a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *s;

static void
setup(void)
{
	char dir[] = "/tmp/tabby-fuzz-res-XXXXXX", url[128];
	struct err err;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	if (store_open(&s, url, &err) != STORE_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL), *items, *got;
	const struct res_kind *k;
	struct err err = {{0}};
	const char *name;
	int rc;

	if (s == NULL)
		setup();
	if (doc == NULL)
		return 0;
	rc = res_write(s, RES_APPLY, doc, &err);
	if (rc != RES_OK) {
		if (err.msg[0] == '\0')
			abort();
		json_decref(doc);
		return 0;
	}
	k = res_kind_of(doc, &err);
	name = json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
	if (k == NULL || name == NULL || res_get(s, k, name, &items, &err) != RES_OK)
		abort();
	got = json_array_get(items, 0);
	if (res_kind_printable(k) && res_write(s, RES_REPLACE, got, &err) != RES_OK)
		abort();
	json_decref(items);
	res_delete(s, k, name, &err);
	json_decref(doc);
	return 0;
}
