/*
 * libFuzzer target: API request decoding -- a JSON body turned into a peering
 * (POST and PUT rules) against a real datastore holding one tenant's connection.
 * Whatever the body, the answer is a stored object or one 4xx problem naming a field.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/ne.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *s;
static struct ne_auth who;
static json_t *existing;

static void
setup(void)
{
	char dir[] = "/tmp/tabby-fuzz-api-XXXXXX", url[128], secret[128], dev[NE_UUID_LEN + 1],
	     conn[NE_UUID_LEN + 1];
	struct err err;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	if (ne_init() != 0 || store_open(&s, url, &err) != STORE_OK ||
	    ne_client_create(s, "fuzz", who.client_id, secret, &err) != STORE_OK ||
	    ne_device_create(s, "n1", who.client_id, NULL, dev, &err) != STORE_OK ||
	    ne_connection_create(s, dev, "eth1", NULL, conn, &err) != STORE_OK)
		abort();
	existing = json_pack("{s:s, s:s, s:i}", "uuid", "00000000-0000-4000-8000-000000000001",
			     "connectionUuid", conn, "generation", 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ne_problem p;
	json_t *body, *out;

	if (s == NULL)
		setup();
	if (size < 1)
		return 0;
	body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (body == NULL)
		return 0;
	memset(&p, 0, sizeof(p));
	if (ne_peering_from_request(s, &who, body, data[0] & 1, existing, &out, &p) == 0) {
		assert(out != NULL);
		assert(json_is_integer(json_object_get(out, "localAsn")));
		assert(json_is_string(json_object_get(out, "remoteIpAddress")));
		json_decref(ne_peering_view(s, out));
		json_decref(out);
	} else {
		assert(out == NULL);
		assert(p.status >= 400 && p.status < 600 && p.code[0] && p.message[0]);
	}
	json_decref(body);
	return 0;
}
