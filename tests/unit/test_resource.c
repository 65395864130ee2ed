/*
 * The v3 resources' batch of writes (a manifest's documents) over a real (SQLite)
 * datastore: what the batch saw is kept up to date with its own writes, and a write
 * that another writer made stale answers as if it had scanned first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/bgpconf.h"
#include "model/resource.h"
#include "tmp_store.h"

/* A global BGPPeer document. */
static json_t *
peer(const char *name, const char *ip, unsigned as)
{
	json_t *d = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:i}}", "apiVersion",
			      "projectcalico.org/v3", "kind", "BGPPeer", "metadata", "name", name,
			      "spec", "peerIP", ip, "asNumber", (int)as);

	assert_non_null(d);
	return d;
}

/* A global BGPPeer written in the batch b, or, with b NULL, by another writer to s. */
static int
write_peer(struct res_batch *b, struct store *s, enum res_verb verb, const char *name,
	   const char *ip, unsigned as, struct err *err)
{
	json_t *d = peer(name, ip, as);
	int rc = b != NULL ? res_batch_write(b, verb, d, err) : res_write(s, verb, d, err);

	json_decref(d);
	return rc;
}

static int
write_one(struct res_batch *b, enum res_verb verb, const char *name, const char *ip,
	  unsigned as, struct err *err)
{
	return write_peer(b, NULL, verb, name, ip, as, err);
}

/* The stored peers as "name=ip/as" lines, sorted by name. */
static void
assert_peers(struct store *s, const char *want)
{
	const struct res_kind *k = res_kind_find("bgppeers");
	char got[1024] = "";
	struct err err;
	json_t *docs, *d;
	size_t i;

	assert_int_equal(res_get(s, k, NULL, &docs, &err), RES_OK);
	json_array_foreach(docs, i, d) {
		json_t *spec = json_object_get(d, "spec");
		size_t len = strlen(got);

		snprintf(got + len, sizeof(got) - len, "%s=%s/%lld\n",
			 json_string_value(json_object_get(json_object_get(d, "metadata"), "name")),
			 json_string_value(json_object_get(spec, "peerIP")),
			 (long long)json_integer_value(json_object_get(spec, "asNumber")));
	}
	json_decref(docs);
	assert_string_equal(got, want);
}

/* Later documents see the earlier ones: updated, moved to a new peerIP, refused as a duplicate. */
static void
test_batch_sees_its_own_writes(void **state)
{
	struct tmp_fx *f = *state;
	struct res_batch *b = res_batch_open(f->s);
	struct err err;

	assert_int_equal(write_one(b, RES_CREATE, "a", "192.0.2.1", 64512, &err), RES_OK);
	assert_int_equal(write_one(b, RES_APPLY, "a", "192.0.2.1", 64513, &err), RES_OK);
	assert_int_equal(write_one(b, RES_APPLY, "a", "192.0.2.2", 64513, &err), RES_OK);
	/* The old peerIP is free again after the move. */
	assert_int_equal(write_one(b, RES_CREATE, "b", "192.0.2.1", 64514, &err), RES_OK);
	/* One scan for all four: each write found the ones before it in the batch's view. */
	assert_int_equal(res_batch_scans(b), 1);
	/* A refusal from the view is checked on a fresh scan: one more each. */
	assert_int_equal(write_one(b, RES_CREATE, "a", "192.0.2.3", 64513, &err), RES_EXISTS);
	assert_int_equal(res_batch_scans(b), 2);
	assert_int_equal(write_one(b, RES_CREATE, "c", "192.0.2.2", 64514, &err), RES_ERR);
	assert_non_null(strstr(err.msg, "would be the same peering"));
	assert_int_equal(res_batch_scans(b), 3);
	assert_int_equal(write_one(b, RES_REPLACE, "c", "192.0.2.9", 64515, &err), RES_NOTFOUND);
	assert_int_equal(res_batch_scans(b), 4);
	/* An invalid document is answered without a scan. */
	assert_int_equal(write_one(b, RES_APPLY, "d", "192.0.2.300", 64515, &err), RES_ERR);
	assert_int_equal(res_batch_scans(b), 4);
	res_batch_close(b);
	assert_peers(f->s, "a=192.0.2.2/64513\nb=192.0.2.1/64514\n");

	b = res_batch_open(f->s);
	assert_int_equal(write_one(b, RES_DELETE, "a", "192.0.2.2", 64513, &err), RES_OK);
	assert_int_equal(write_one(b, RES_CREATE, "a", "192.0.2.2", 64516, &err), RES_OK);
	assert_int_equal(write_one(b, RES_DELETE, "b", "192.0.2.1", 64514, &err), RES_OK);
	assert_int_equal(write_one(b, RES_APPLY, "b", "192.0.2.1", 64514, &err), RES_OK);
	assert_int_equal(res_batch_scans(b), 1);
	assert_int_equal(write_one(b, RES_DELETE, "c", "192.0.2.9", 64513, &err), RES_NOTFOUND);
	assert_int_equal(res_batch_scans(b), 2);
	res_batch_close(b);
	assert_peers(f->s, "a=192.0.2.2/64516\nb=192.0.2.1/64514\n");
}

/* Another writer between two of the batch's writes: answered as on a fresh scan. */
static void
test_batch_stale_view(void **state)
{
	struct tmp_fx *f = *state;
	struct res_batch *b = res_batch_open(f->s);
	const struct res_kind *k = res_kind_find("bgppeers");
	struct err err;

	assert_int_equal(write_one(b, RES_CREATE, "a", "192.0.2.1", 64512, &err), RES_OK);
	/* Gone behind the batch's back: apply creates it again instead of a conflict. */
	assert_int_equal(res_delete(f->s, k, "a", &err), RES_OK);
	assert_int_equal(write_one(b, RES_APPLY, "a", "192.0.2.1", 64513, &err), RES_OK);
	/* Made behind its back: create says it exists, not that the transaction failed. */
	assert_int_equal(write_peer(NULL, f->s, RES_CREATE, "z", "192.0.2.26", 64526, &err), RES_OK);
	assert_int_equal(write_one(b, RES_CREATE, "z", "192.0.2.26", 64526, &err), RES_EXISTS);
	assert_non_null(strstr(err.msg, "resource already exists: BGPPeer(z)"));
	/* Changed behind its back: apply replaces the new version. */
	assert_int_equal(write_peer(NULL, f->s, RES_APPLY, "a", "192.0.2.1", 64999, &err), RES_OK);
	assert_int_equal(write_one(b, RES_APPLY, "a", "192.0.2.1", 64514, &err), RES_OK);
	/* The first scan, then one for each write another writer had made stale. */
	assert_int_equal(res_batch_scans(b), 4);
	res_batch_close(b);
	assert_peers(f->s, "a=192.0.2.1/64514\nz=192.0.2.26/64526\n");
}

/*
 * Two BGPPeers of one name: one created under it, one `bgp peer add` named after
 * its address. Deleting the one the batch found leaves the other: a create of the
 * name is refused, as a write that scanned first would refuse it.
 */
static void
test_batch_two_of_a_name(void **state)
{
	struct tmp_fx *f = *state;
	struct bgp_peer added = {.as_num = 64520};
	struct res_batch *b;
	struct err err;

	assert_int_equal(write_peer(NULL, f->s, RES_CREATE, "global.192-0-2-1", "192.0.2.9", 64519,
				    &err), RES_OK);
	assert_int_equal(addr_parse("192.0.2.1", &added.ip), 0);
	assert_int_equal(bgpconf_peer_put(f->s, NULL, &added, &err), 0);
	assert_peers(f->s, "global.192-0-2-1=192.0.2.1/64520\nglobal.192-0-2-1=192.0.2.9/64519\n");

	b = res_batch_open(f->s);
	assert_int_equal(write_one(b, RES_DELETE, "global.192-0-2-1", "192.0.2.1", 64520, &err), RES_OK);
	assert_int_equal(write_one(b, RES_CREATE, "global.192-0-2-1", "192.0.2.5", 64521, &err),
			 RES_EXISTS);
	res_batch_close(b);
	assert_peers(f->s, "global.192-0-2-1=192.0.2.9/64519\n");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tmp_fx_setup, tmp_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_batch_sees_its_own_writes),
		T(test_batch_stale_view),
		T(test_batch_two_of_a_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
