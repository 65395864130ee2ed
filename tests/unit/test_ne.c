/* The peering API's model on a real SQLite datastore: atomic peering writes, tokens and users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/keys.h"
#include "model/ne.h"
#include "tmp_store.h"

struct fx {
	char dir[TMP_DIR_LEN];
	struct store *s;
	struct ne_auth who;
	char secret[128], dev[NE_UUID_LEN + 1], conn[NE_UUID_LEN + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err err;

	if (ne_init() != 0 || tmp_store_open(&f->s, f->dir) != 0)
		return -1;
	if (ne_client_create(f->s, "acme", f->who.client_id, f->secret, &err) != STORE_OK ||
	    ne_device_create(f->s, "n1", f->who.client_id, NULL, f->dev, &err) != STORE_OK ||
	    ne_connection_create(f->s, f->dev, "eth1", NULL, f->conn, &err) != STORE_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int rc = tmp_store_close(f->s, f->dir);

	free(f);
	return rc;
}

static json_t *
body(const char *conn, int remote_as, const char *key)
{
	json_t *b =
	    json_pack("{s:i, s:s, s:i, s:s}", "localAsn", 10012, "localIpAddress", "192.0.2.1/29",
		      "remoteAsn", remote_as, "remoteIpAddress", "192.0.2.2");

	if (conn)
		json_object_set_new(b, "connectionUuid", json_string(conn));
	if (key)
		json_object_set_new(b, "authenticationKey", json_string(key));
	return b;
}

static bool
exists(struct store *s, const char *key)
{
	struct store_kv kv;
	struct err err;

	if (store_get(s, key, &kv, &err) != STORE_OK)
		return false;
	store_kv_clear(&kv);
	return true;
}

static void
create(struct fx *f, char *uuid, int64_t *rev)
{
	struct ne_problem p;
	json_t *b = body(f->conn, 10013, "testkey1");

	assert_int_equal(ne_peering_create(f->s, &f->who, b, uuid, rev, &p), 0);
	json_decref(b);
}

static void
test_one_peering_per_connection(void **state)
{
	struct fx *f = *state;
	char uuid[NE_UUID_LEN + 1], other[NE_UUID_LEN + 1], claim[KEY_MAX];
	struct ne_problem p;
	struct err err;
	int64_t rev;
	json_t *b;

	create(f, uuid, &rev);
	snprintf(claim, sizeof(claim), KEY_ROOT_NE "connection_peering/%s", f->conn);
	assert_true(exists(f->s, claim));
	b = body(f->conn, 10013, NULL);
	assert_int_equal(ne_peering_create(f->s, &f->who, b, other, &rev, &p), -1);
	assert_int_equal(p.status, 409);
	assert_string_equal(p.property, "connectionUuid");
	/* The operator's removal (ne_remove) frees the connection with the peering. */
	assert_int_equal(ne_remove(f->s, "bgp", uuid, &err), STORE_OK);
	assert_false(exists(f->s, claim));
	assert_int_equal(ne_peering_create(f->s, &f->who, b, other, &rev, &p), 0);
	json_decref(b);
}

/*
 * An agent finishing a deletion queues the deletes of the peering and its key (no
 * compares, see agent/peerings.c) and leaves the claim: a new peering takes it over,
 * while a claim whose peering exists still refuses.
 */
static void
test_claim_left_by_agent(void **state)
{
	struct fx *f = *state;
	char uuid[NE_UUID_LEN + 1], second[NE_UUID_LEN + 1], third[NE_UUID_LEN + 1];
	char key[KEY_MAX], claim[KEY_MAX];
	struct ne_problem p;
	struct store_kv kv;
	struct err err;
	int64_t rev;
	json_t *b = body(f->conn, 10013, NULL);

	create(f, uuid, &rev);
	ne_key(key, sizeof(key), "bgp", uuid);
	assert_int_equal(store_delete(f->s, key, &err), STORE_OK);
	ne_secret_key(key, sizeof(key), uuid);
	assert_int_equal(store_delete(f->s, key, &err), STORE_OK);
	snprintf(claim, sizeof(claim), KEY_ROOT_NE "connection_peering/%s", f->conn);
	assert_true(exists(f->s, claim));
	assert_int_equal(ne_peering_create(f->s, &f->who, b, second, &rev, &p), 0);
	assert_int_equal(store_get(f->s, claim, &kv, &err), STORE_OK);
	assert_non_null(strstr(kv.value, second));
	store_kv_clear(&kv);
	assert_int_equal(ne_peering_create(f->s, &f->who, b, third, &rev, &p), -1);
	assert_int_equal(p.status, 409);
	json_decref(b);
}

static void
test_key_kept_apart(void **state)
{
	struct fx *f = *state;
	char uuid[NE_UUID_LEN + 1], skey[KEY_MAX];
	struct ne_problem p;
	struct err err;
	int64_t rev, rev2;
	json_t *cur, *list, *b;

	create(f, uuid, &rev);
	assert_int_equal(ne_read(f->s, "bgp", uuid, &cur, &rev2, &err), STORE_OK);
	assert_int_equal(rev2, rev);
	assert_null(json_object_get(cur, "authenticationKey"));
	snprintf(skey, sizeof(skey), STORE_SECRET_PREFIX "ne/bgp/%s", uuid);
	assert_true(exists(f->s, skey));
	/* The agent's read puts it back. */
	assert_int_equal(ne_list(f->s, "bgp", NULL, &list, &err), STORE_OK);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(list, 0), "authenticationKey")),
	    "testkey1");
	json_decref(list);
	/* A PUT without a key removes it. */
	b = body(NULL, 10014, NULL);
	assert_int_equal(ne_peering_replace(f->s, &f->who, cur, rev, b, &rev2, &p), 0);
	assert_true(rev2 > rev);
	assert_false(exists(f->s, skey));
	json_decref(b);
	json_decref(cur);
}

static void
test_stale_writes_refused(void **state)
{
	struct fx *f = *state;
	char uuid[NE_UUID_LEN + 1];
	struct ne_problem p;
	struct err err;
	int64_t rev, now;
	json_t *cur, *b = body(NULL, 10014, NULL);

	create(f, uuid, &rev);
	assert_int_equal(ne_read(f->s, "bgp", uuid, &cur, &rev, &err), STORE_OK);
	assert_int_equal(ne_peering_replace(f->s, &f->who, cur, rev, b, &now, &p), 0);
	/* Another PUT or a DELETE built on the revision before: 409, nothing written. */
	assert_int_equal(ne_peering_replace(f->s, &f->who, cur, rev, b, &now, &p), -1);
	assert_int_equal(p.status, 409);
	assert_int_equal(ne_peering_delete(f->s, &f->who, cur, rev, &p), -1);
	assert_int_equal(p.status, 409);
	json_decref(cur);
	/* No agent on n1: DELETE deletes at once, key and claim too. */
	assert_int_equal(ne_read(f->s, "bgp", uuid, &cur, &rev, &err), STORE_OK);
	assert_int_equal(ne_peering_delete(f->s, &f->who, cur, rev, &p), 0);
	{
		json_t *gone;
		int64_t r;

		assert_int_equal(ne_read(f->s, "bgp", uuid, &gone, &r, &err), STORE_NOTFOUND);
	}
	/* A PUT that read it before cannot bring it back. */
	assert_int_equal(ne_peering_replace(f->s, &f->who, cur, rev, b, &now, &p), -1);
	assert_int_equal(p.status, 409);
	json_decref(cur);
	json_decref(b);
}

static void
test_delete_held_by_agent(void **state)
{
	struct fx *f = *state;
	char uuid[NE_UUID_LEN + 1], other[NE_UUID_LEN + 1], key[KEY_MAX];
	struct ne_problem p;
	struct err err;
	struct key agent;
	int64_t rev, now;
	json_t *cur, *b = body(NULL, 10014, NULL), *view;

	create(f, uuid, &rev);
	key_agent(&agent, "n1");
	assert_int_equal(store_put(f->s, agent.s, "{}", 0, NULL, &err), STORE_OK);
	snprintf(key, sizeof(key), KEY_ROOT "status/n1/peering/%s", uuid);
	assert_int_equal(
	    store_put(f->s, key, "{\"applied_generation\":1,\"error\":\"no\"}", 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(ne_read(f->s, "bgp", uuid, &cur, &rev, &err), STORE_OK);
	assert_int_equal(ne_peering_delete(f->s, &f->who, cur, rev, &p), 0);
	json_decref(cur);
	assert_int_equal(ne_read(f->s, "bgp", uuid, &cur, &rev, &err), STORE_OK);
	view = ne_peering_view(f->s, cur);
	assert_string_equal(json_string_value(json_object_get(view, "provisioningStatus")),
			    "DEPROVISIONING");
	json_decref(view);
	/* A FAILED peering being deleted is never turned back by a PUT... */
	assert_int_equal(ne_peering_replace(f->s, &f->who, cur, rev, b, &now, &p), -1);
	assert_int_equal(p.status, 409);
	json_decref(cur);
	/* ...and holds its connection until the agent removed it. */
	json_object_set_new(b, "connectionUuid", json_string(f->conn));
	assert_int_equal(ne_peering_create(f->s, &f->who, b, other, &now, &p), -1);
	assert_int_equal(p.status, 409);
	assert_int_equal(ne_remove(f->s, "bgp", uuid, &err), STORE_OK);
	assert_int_equal(ne_peering_create(f->s, &f->who, b, other, &now, &p), 0);
	json_decref(b);
}

static void
test_client_tokens_revoked(void **state)
{
	struct fx *f = *state;
	struct ne_auth a, seen, stale;
	struct ne_tokens t;
	struct err err;
	char secret[128];

	assert_int_equal(ne_client_check(f->s, f->who.client_id, "wrong", &a, &err), 0);
	assert_int_equal(ne_client_check(f->s, f->who.client_id, f->secret, &a, &err), 1);
	assert_string_equal(a.client_name, "acme");
	assert_int_equal(ne_token_issue(f->s, &a, &t, &err), STORE_OK);
	assert_string_equal(t.refresh, "");
	assert_int_equal(ne_token_check(f->s, t.access, &seen, &err), 1);
	assert_string_equal(seen.client_id, f->who.client_id);
	assert_string_equal(ne_auth_actor(&seen), f->who.client_id);
	stale = a;
	assert_int_equal(ne_client_rotate(f->s, f->who.client_id, secret, &err), STORE_OK);
	assert_int_equal(ne_token_check(f->s, t.access, &seen, &err), 0);
	/* A check done before the rotation cannot issue after it. */
	assert_int_equal(ne_token_issue(f->s, &stale, &t, &err), STORE_FAILED);
	assert_int_equal(ne_client_check(f->s, f->who.client_id, secret, &a, &err), 1);
	assert_int_equal(ne_token_issue(f->s, &a, &t, &err), STORE_OK);
	assert_int_equal(ne_client_remove(f->s, f->who.client_id, &err), STORE_OK);
	assert_int_equal(ne_token_check(f->s, t.access, &seen, &err), 0);
	assert_int_equal(ne_token_check(f->s, "not a token", &seen, &err), 0);
}

static void
test_users_and_refresh(void **state)
{
	struct fx *f = *state;
	struct ne_auth a, b, seen;
	struct ne_tokens t1, t2, t3;
	struct err err;
	char gen[NE_PASSWORD_MAX + 1];

	assert_int_equal(ne_user_create(f->s, f->who.client_id, "bad name", "password1", gen, &err),
			 STORE_ERR);
	assert_int_equal(ne_user_create(f->s, f->who.client_id, "alice", "short", gen, &err),
			 STORE_ERR);
	assert_int_equal(ne_user_create(f->s, f->who.client_id, "alice", "password1", gen, &err),
			 STORE_OK);
	assert_int_equal(ne_user_create(f->s, f->who.client_id, "alice", "password1", gen, &err),
			 STORE_ERR);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(ne_client_check(f->s, f->who.client_id, f->secret, &a, &err), 1);
	b = a;
	assert_int_equal(ne_user_check(f->s, &b, "alice", "password2", &err), 0);
	assert_int_equal(ne_user_check(f->s, &b, "mallory", "password1", &err), 0);
	assert_int_equal(ne_user_check(f->s, &a, "alice", "password1", &err), 1);
	assert_string_equal(ne_auth_actor(&a), "alice");
	assert_int_equal(ne_token_issue(f->s, &a, &t1, &err), STORE_OK);
	assert_int_equal(strlen(t1.refresh), NE_TOKEN_HEX);
	assert_int_equal(ne_token_check(f->s, t1.access, &seen, &err), 1);
	assert_string_equal(seen.user, "alice");
	/* Rotation: a new pair; the first refresh token is spent. */
	b = a;
	assert_int_equal(ne_token_refresh(f->s, &b, t1.refresh, &t2, &err), NE_REFRESH_OK);
	assert_string_not_equal(t2.refresh, t1.refresh);
	assert_int_equal(ne_token_check(f->s, t2.access, &seen, &err), 1);
	/* Replayed: refused, and the whole family with it. */
	b = a;
	assert_int_equal(ne_token_refresh(f->s, &b, t1.refresh, &t3, &err), NE_REFRESH_REUSED);
	assert_int_equal(ne_token_check(f->s, t2.access, &seen, &err), 0);
	b = a;
	assert_int_equal(ne_token_refresh(f->s, &b, t2.refresh, &t3, &err), NE_REFRESH_INVALID);
	/* passwd and remove revoke at once. */
	assert_int_equal(ne_token_issue(f->s, &a, &t1, &err), STORE_OK);
	assert_int_equal(ne_user_passwd(f->s, f->who.client_id, "alice", NULL, gen, &err),
			 STORE_OK);
	assert_int_equal(strlen(gen), 32);
	assert_int_equal(ne_token_check(f->s, t1.access, &seen, &err), 0);
	b = a;
	assert_int_equal(ne_token_refresh(f->s, &b, t1.refresh, &t3, &err), NE_REFRESH_INVALID);
	/* A check before the passwd cannot issue after it. */
	assert_int_equal(ne_token_issue(f->s, &a, &t1, &err), STORE_FAILED);
	b = a;
	assert_int_equal(ne_user_check(f->s, &b, "alice", gen, &err), 1);
	assert_int_equal(ne_token_issue(f->s, &b, &t1, &err), STORE_OK);
	assert_int_equal(ne_user_remove(f->s, f->who.client_id, "alice", &err), STORE_OK);
	assert_int_equal(ne_token_check(f->s, t1.access, &seen, &err), 0);
	assert_int_equal(ne_user_remove(f->s, f->who.client_id, "alice", &err), STORE_NOTFOUND);
}

/* One peering request with these addresses and ASNs: 0, or -1 with the problem. */
static int
try_peering(struct fx *f, const char *conn, const char *local, const char *remote, int las,
	    int ras, struct ne_problem *p)
{
	char uuid[NE_UUID_LEN + 1];
	int64_t rev;
	json_t *b = json_pack("{s:s, s:i, s:s, s:i, s:s}", "connectionUuid", conn, "localAsn", las,
			      "localIpAddress", local, "remoteAsn", ras, "remoteIpAddress", remote);
	int rc = ne_peering_create(f->s, &f->who, b, uuid, &rev, p);

	json_decref(b);
	return rc;
}

/* Issue 15: the addresses of a peering make sense, and the field at fault is named. */
static void
test_peering_address_rules(void **state)
{
	static const struct {
		const char *local, *remote, *field, *says;
	} bad[] = {
	    {"1.2.3.4/1", "1.2.3.5", "localIpAddress", "/8-/31 (IPv4)"},
	    {"192.0.2.1/32", "192.0.2.1", "localIpAddress", "/8-/31 (IPv4)"},
	    {"2001:db8::1/63", "2001:db8::2", "localIpAddress", "/64-/127 (IPv6)"},
	    {"2001:db8::1/128", "2001:db8::2", "localIpAddress", "/64-/127 (IPv6)"},
	    {"192.0.2.0/29", "192.0.2.2", "localIpAddress", "network address"},
	    {"192.0.2.7/29", "192.0.2.2", "localIpAddress", "broadcast address"},
	    {"192.0.2.1/29", "192.0.2.0", "remoteIpAddress", "network address"},
	    {"192.0.2.1/29", "192.0.2.7", "remoteIpAddress", "broadcast address"},
	    {"2001:db8::/64", "2001:db8::2", "localIpAddress", "Subnet-Router anycast"},
	    {"127.0.0.1/8", "127.0.0.2", "localIpAddress", "loopback"},
	    {"224.0.0.1/8", "224.0.0.2", "localIpAddress", "multicast"},
	    {"169.254.0.1/16", "169.254.0.2", "localIpAddress", "link-local"},
	    {"fe80::1/64", "fe80::2", "localIpAddress", "link-local"},
	    {"::1/127", "::", "localIpAddress", "loopback"},
	    {"192.0.2.1/29", "198.51.100.2", "remoteIpAddress", "must be inside"},
	    {"192.0.2.1/29", "2001:db8::2", "remoteIpAddress", "family"},
	};
	struct fx *f = *state;
	struct ne_problem p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(try_peering(f, f->conn, bad[i].local, bad[i].remote, 10012, 10013,
					     &p),
				 -1);
		assert_int_equal(p.status, 400);
		assert_string_equal(p.property, bad[i].field);
		if (strstr(p.message, bad[i].says) == NULL)
			fail_msg("%s -> %s: '%s' lacks '%s'", bad[i].local, bad[i].remote, p.message,
				 bad[i].says);
	}
	/* iBGP is refused: a tenant would set LOCAL_PREF. */
	assert_int_equal(try_peering(f, f->conn, "192.0.2.1/29", "192.0.2.2", 10012, 10012, &p), -1);
	assert_string_equal(p.property, "remoteAsn");
	/* /31 and /127 have no network or broadcast address (RFC 3021, RFC 6164). */
	assert_int_equal(try_peering(f, f->conn, "192.0.2.0/31", "192.0.2.1", 10012, 10013, &p), 0);
}

static void
test_peering_ipv6_point_to_point(void **state)
{
	struct fx *f = *state;
	struct ne_problem p;

	assert_int_equal(try_peering(f, f->conn, "2001:db8::/127", "2001:db8::1", 10012, 10013, &p),
			 0);
}

/* Two peerings of one device (its two connections) may not overlap; another device may. */
static void
test_peering_device_overlap(void **state)
{
	struct fx *f = *state;
	char conn2[NE_UUID_LEN + 1], dev2[NE_UUID_LEN + 1], conn3[NE_UUID_LEN + 1];
	struct ne_problem p;
	struct err err;

	assert_int_equal(ne_connection_create(f->s, f->dev, "eth2", NULL, conn2, &err), STORE_OK);
	assert_int_equal(ne_device_create(f->s, "n1", f->who.client_id, NULL, dev2, &err), STORE_OK);
	assert_int_equal(ne_connection_create(f->s, dev2, "eth3", NULL, conn3, &err), STORE_OK);
	assert_int_equal(try_peering(f, f->conn, "192.0.2.1/29", "192.0.2.2", 10012, 10013, &p), 0);
	assert_int_equal(try_peering(f, conn2, "192.0.2.5/30", "192.0.2.6", 10012, 10033, &p), -1);
	assert_int_equal(p.status, 409);
	assert_string_equal(p.property, "localIpAddress");
	assert_int_equal(try_peering(f, conn2, "192.0.2.9/29", "192.0.2.10", 10012, 10033, &p), 0);
	/* Another device is another router: the same addresses are its own. */
	assert_int_equal(try_peering(f, conn3, "192.0.2.1/29", "192.0.2.2", 10022, 10013, &p), 0);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_one_peering_per_connection), T(test_claim_left_by_agent),
	    T(test_key_kept_apart),		T(test_stale_writes_refused),
	    T(test_delete_held_by_agent),	T(test_client_tokens_revoked),
	    T(test_users_and_refresh),		T(test_peering_address_rules),
	    T(test_peering_ipv6_point_to_point),	T(test_peering_device_overlap),
	};

	ne_audit_sink(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
