#include "model/ne.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <uuid/uuid.h>

#include "lib/addr.h"
#include "lib/asn.h"
#include "lib/log.h"
#include "model/keys.h"

#define TOKEN_BYTES 32
#define TOKEN_KEY KEY_ROOT_NE "token_key"

int
ne_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void
ne_uuid(char out[NE_UUID_LEN + 1])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

bool
ne_uuid_valid(const char *s)
{
	uuid_t u;

	return s != NULL && strlen(s) == NE_UUID_LEN && uuid_parse(s, u) == 0;
}

static void
now_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
ne_key(char *buf, size_t len, const char *kind, const char *id)
{
	snprintf(buf, len, KEY_ROOT_NE "%s/%s", kind, id);
}

static int
put_obj(struct store *s, const char *key, json_t *o, int64_t lease, struct err *err)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (text == NULL)
		fatal("out of memory encoding JSON");
	rc = store_put(s, key, text, lease, NULL, err);
	free(text);
	return rc;
}

int
ne_get(struct store *s, const char *kind, const char *uuid, json_t **out, struct err *err)
{
	char key[KEY_MAX];
	struct store_kv kv;
	int rc;

	*out = NULL;
	ne_key(key, sizeof(key), kind, uuid);
	if ((rc = store_get(s, key, &kv, err)) != STORE_OK)
		return rc;
	*out = json_loads(kv.value, 0, NULL);
	store_kv_clear(&kv);
	return *out ? STORE_OK : STORE_NOTFOUND;
}

int
ne_list(struct store *s, const char *kind, const char *owner, json_t **out, struct err *err)
{
	char dir[KEY_MAX];
	struct store_kvs kvs;
	int rc;

	*out = json_array();
	snprintf(dir, sizeof(dir), KEY_ROOT_NE "%s/", kind);
	if ((rc = store_range(s, dir, &kvs, err)) != STORE_OK) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	for (size_t i = 0; i < kvs.n; i++) {
		json_t *o = json_loads(kvs.v[i].value, 0, NULL);
		const char *own = json_string_value(json_object_get(o, "owner"));

		if (o != NULL && (owner == NULL || (own && strcmp(own, owner) == 0)))
			json_array_append_new(*out, o);
		else
			json_decref(o);
	}
	store_kvs_free(&kvs);
	return STORE_OK;
}

int
ne_remove(struct store *s, const char *kind, const char *uuid, struct err *err)
{
	char key[KEY_MAX];

	ne_key(key, sizeof(key), kind, uuid);
	return store_delete(s, key, err);
}

static void
random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];

	randombytes_buf(b, nbytes);
	sodium_bin2hex(out, nbytes * 2 + 1, b, nbytes);
}

static int
hash_secret(const char *secret, char hash[crypto_pwhash_STRBYTES], struct err *err)
{
	/* argon2id, libsodium's interactive limits: a token request is rare, a guess costly. */
	if (crypto_pwhash_str(hash, secret, strlen(secret), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		err_set(err, "out of memory hashing the secret");
		return -1;
	}
	return 0;
}

int
ne_client_create(struct store *s, const char *name, char *client_id, char *secret,
		 struct err *err)
{
	char key[KEY_MAX], hash[crypto_pwhash_STRBYTES], created[32];
	json_t *o;
	int rc;

	if (name == NULL || *name == '\0' || strlen(name) > NE_NAME_MAX) {
		err_set(err, "the client name must be 1-%d characters", NE_NAME_MAX);
		return STORE_ERR;
	}
	ne_uuid(client_id);
	random_hex(secret, 32);
	if (hash_secret(secret, hash, err) != 0)
		return STORE_ERR;
	now_iso(created, sizeof(created));
	o = json_pack("{s:s, s:s, s:s, s:s}", "client_id", client_id, "name", name, "secret_hash",
		      hash, "created", created);
	ne_key(key, sizeof(key), "client", client_id);
	rc = put_obj(s, key, o, 0, err);
	json_decref(o);
	return rc;
}

/* Deletes every token of a client (revocation). */
static int
revoke_tokens(struct store *s, const char *client_id, struct err *err)
{
	struct store_kvs kvs;
	int rc;

	if ((rc = store_range(s, KEY_ROOT_NE "token/", &kvs, err)) != STORE_OK)
		return rc;
	for (size_t i = 0; i < kvs.n && rc == STORE_OK; i++) {
		json_t *o = json_loads(kvs.v[i].value, 0, NULL);
		const char *id = json_string_value(json_object_get(o, "client_id"));

		if (id != NULL && strcmp(id, client_id) == 0 &&
		    store_delete(s, kvs.v[i].key, err) == STORE_ERR)
			rc = STORE_ERR;
		json_decref(o);
	}
	store_kvs_free(&kvs);
	return rc;
}

int
ne_client_rotate(struct store *s, const char *client_id, char *secret, struct err *err)
{
	char key[KEY_MAX], hash[crypto_pwhash_STRBYTES];
	json_t *o;
	int rc;

	if ((rc = ne_get(s, "client", client_id, &o, err)) != STORE_OK)
		return rc;
	random_hex(secret, 32);
	if (hash_secret(secret, hash, err) != 0) {
		json_decref(o);
		return STORE_ERR;
	}
	json_object_set_new(o, "secret_hash", json_string(hash));
	ne_key(key, sizeof(key), "client", client_id);
	rc = put_obj(s, key, o, 0, err);
	json_decref(o);
	/* Tokens issued under the old secret go too. */
	return rc == STORE_OK ? revoke_tokens(s, client_id, err) : rc;
}

int
ne_client_remove(struct store *s, const char *client_id, struct err *err)
{
	int rc = ne_remove(s, "client", client_id, err);

	if (rc != STORE_OK)
		return rc;
	return revoke_tokens(s, client_id, err);
}

int
ne_client_list(struct store *s, json_t **out, struct err *err)
{
	json_t *o;
	size_t i;
	int rc = ne_list(s, "client", NULL, out, err);

	if (rc != STORE_OK)
		return rc;
	json_array_foreach(*out, i, o)
		json_object_del(o, "secret_hash");
	return STORE_OK;
}

int
ne_client_check(struct store *s, const char *client_id, const char *secret, char *name,
		size_t namelen, struct err *err)
{
	const char *hash;
	json_t *o;
	int rc, ok;

	if (!ne_uuid_valid(client_id) || secret == NULL)
		return 0;
	rc = ne_get(s, "client", client_id, &o, err);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != STORE_OK)
		return -1;
	hash = json_string_value(json_object_get(o, "secret_hash"));
	ok = hash != NULL && crypto_pwhash_str_verify(hash, secret, strlen(secret)) == 0;
	if (ok && name != NULL)
		snprintf(name, namelen, "%s", json_string_value(json_object_get(o, "name")));
	json_decref(o);
	return ok;
}

/* The key tokens are hashed under, made once and shared through the store. */
static int
token_key(struct store *s, unsigned char key[crypto_generichash_KEYBYTES], struct err *err)
{
	struct store_kv kv;
	char hex[crypto_generichash_KEYBYTES * 2 + 1];
	struct store_cmp cmp = {.key = TOKEN_KEY, .mod_rev = 0};
	struct store_op op = {.type = STORE_OP_PUT, .key = TOKEN_KEY};
	struct store_txn t = {.cmps = &cmp, .ncmps = 1, .ops = &op, .nops = 1};
	char value[128];
	int rc;

	for (int tries = 0; tries < 3; tries++) {
		rc = store_get(s, TOKEN_KEY, &kv, err);
		if (rc == STORE_OK) {
			json_t *o = json_loads(kv.value, 0, NULL);
			const char *k = json_string_value(json_object_get(o, "key"));

			rc = k != NULL && sodium_hex2bin(key, crypto_generichash_KEYBYTES, k, strlen(k),
							 NULL, NULL, NULL) == 0
				     ? STORE_OK
				     : STORE_ERR;
			if (rc != STORE_OK)
				err_set(err, "%s holds no usable key", TOKEN_KEY);
			json_decref(o);
			store_kv_clear(&kv);
			return rc;
		}
		if (rc != STORE_NOTFOUND)
			return rc;
		random_hex(hex, crypto_generichash_KEYBYTES);
		snprintf(value, sizeof(value), "{\"key\":\"%s\"}", hex);
		op.value = value;
		/* Only the first server to get here writes it; the others read it back. */
		if ((rc = store_txn(s, &t, NULL, err)) == STORE_ERR)
			return rc;
	}
	err_set(err, "cannot settle the token key");
	return STORE_ERR;
}

static int
token_hash(struct store *s, const char *token, char out[crypto_generichash_BYTES * 2 + 1],
	   struct err *err)
{
	unsigned char key[crypto_generichash_KEYBYTES], h[crypto_generichash_BYTES];

	if (token_key(s, key, err) != STORE_OK)
		return -1;
	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), key,
			   sizeof(key));
	sodium_bin2hex(out, crypto_generichash_BYTES * 2 + 1, h, sizeof(h));
	return 0;
}

int
ne_token_issue(struct store *s, const char *client_id, char *token, struct err *err)
{
	char hash[crypto_generichash_BYTES * 2 + 1], key[KEY_MAX];
	int64_t lease;
	json_t *o;
	int rc;

	random_hex(token, TOKEN_BYTES);
	if (token_hash(s, token, hash, err) != 0)
		return STORE_ERR;
	/* The lease makes it vanish when it expires, for every API server at once. */
	if (store_lease_grant(s, NE_TOKEN_TTL, &lease, err) != STORE_OK)
		return STORE_ERR;
	o = json_pack("{s:s, s:I}", "client_id", client_id, "expires",
		      (json_int_t)(time(NULL) + NE_TOKEN_TTL));
	ne_key(key, sizeof(key), "token", hash);
	rc = put_obj(s, key, o, lease, err);
	json_decref(o);
	return rc;
}

int
ne_token_check(struct store *s, const char *token, char *client_id, size_t len, struct err *err)
{
	char hash[crypto_generichash_BYTES * 2 + 1];
	const char *id;
	json_t *o;
	int rc;

	if (token == NULL || strlen(token) != TOKEN_BYTES * 2)
		return 0;
	if (token_hash(s, token, hash, err) != 0)
		return -1;
	rc = ne_get(s, "token", hash, &o, err);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != STORE_OK)
		return -1;
	id = json_string_value(json_object_get(o, "client_id"));
	rc = id != NULL && json_integer_value(json_object_get(o, "expires")) > time(NULL);
	if (rc)
		snprintf(client_id, len, "%s", id);
	json_decref(o);
	return rc;
}

int
ne_device_create(struct store *s, const char *node, const char *owner, const char *name,
		 char *uuid, struct err *err)
{
	char key[KEY_MAX];
	json_t *o, *client;
	int rc;

	if (node_name_check(node, err) != 0)
		return STORE_ERR;
	rc = ne_get(s, "client", owner ? owner : "", &client, err);
	if (rc == STORE_NOTFOUND || !ne_uuid_valid(owner)) {
		err_set(err, "no API client '%s' (see tabbyctl api-client show)", owner ? owner : "");
		return STORE_ERR;
	}
	if (rc != STORE_OK)
		return rc;
	json_decref(client);
	ne_uuid(uuid);
	o = json_pack("{s:s, s:s, s:s, s:s}", "uuid", uuid, "name", name ? name : node, "node", node,
		      "owner", owner);
	ne_key(key, sizeof(key), "device", uuid);
	rc = put_obj(s, key, o, 0, err);
	json_decref(o);
	return rc;
}

int
ne_connection_create(struct store *s, const char *device, const char *interface,
		     const char *name, char *uuid, struct err *err)
{
	char key[KEY_MAX];
	json_t *o, *dev;
	int rc;

	if (interface == NULL || *interface == '\0' || strlen(interface) > 15 ||
	    strchr(interface, '/') != NULL) {
		err_set(err, "the interface must be a Linux interface name of 1-15 characters");
		return STORE_ERR;
	}
	rc = ne_uuid_valid(device) ? ne_get(s, "device", device, &dev, err) : STORE_NOTFOUND;
	if (rc == STORE_NOTFOUND) {
		err_set(err, "no device '%s' (see tabbyctl device show)", device ? device : "");
		return STORE_ERR;
	}
	if (rc != STORE_OK)
		return rc;
	ne_uuid(uuid);
	o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "uuid", uuid, "name",
		      name ? name : interface, "virtualDeviceUuid", device, "interface", interface,
		      "owner", json_object_get(dev, "owner"), "node", json_object_get(dev, "node"));
	json_decref(dev);
	ne_key(key, sizeof(key), "connection", uuid);
	rc = put_obj(s, key, o, 0, err);
	json_decref(o);
	return rc;
}

static int
problem(struct ne_problem *p, int status, const char *code, const char *property,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
problem(struct ne_problem *p, int status, const char *code, const char *property,
	const char *fmt, ...)
{
	va_list ap;

	p->status = status;
	snprintf(p->code, sizeof(p->code), "%s", code);
	snprintf(p->property, sizeof(p->property), "%s", property ? property : "");
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
same_subnet(const struct addr *a, const struct addr *b, unsigned len)
{
	for (unsigned bit = 0; bit < len; bit++)
		if ((a->b[bit / 8] ^ b->b[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static int
check_asn(json_t *body, const char *field, struct ne_problem *p)
{
	json_t *v = json_object_get(body, field);
	struct err err;

	if (!json_is_integer(v))
		return problem(p, 400, "INVALID_VALUE", field,
			       "%s must be an integer AS number; " ASN_ACCEPTED " (asdot is not "
			       "accepted here)", field);
	if (json_integer_value(v) < 0 || asn_check((uint64_t)json_integer_value(v), &err) != 0)
		return problem(p, 400, "INVALID_VALUE", field, "%s %" JSON_INTEGER_FORMAT ": %s",
			       field, json_integer_value(v), err.msg);
	return 0;
}

/* The connection's peering that is not being deleted, other than self_uuid. */
static bool
connection_taken(struct store *s, const char *conn, const char *self_uuid)
{
	json_t *all, *o;
	struct err err;
	size_t i;
	bool taken = false;

	if (ne_list(s, "bgp", NULL, &all, &err) != STORE_OK)
		return false;
	json_array_foreach(all, i, o) {
		const char *c = json_string_value(json_object_get(o, "connectionUuid"));
		const char *u = json_string_value(json_object_get(o, "uuid"));

		if (c && strcmp(c, conn) == 0 && !json_is_true(json_object_get(o, "deleting")) &&
		    (self_uuid == NULL || (u && strcmp(u, self_uuid) != 0)))
			taken = true;
	}
	json_decref(all);
	return taken;
}

int
ne_peering_from_request(struct store *s, const char *tenant, json_t *body, bool create,
			const json_t *existing, json_t **out, struct ne_problem *p)
{
	static const char *const post_fields[] = {"authenticationKey", "connectionUuid", "localAsn",
						  "localIpAddress", "remoteAsn", "remoteIpAddress"};
	const char *key, *local, *remote, *conn_uuid, *auth;
	char now[32], uuid[NE_UUID_LEN + 1];
	struct addr la, ra;
	unsigned plen;
	json_t *v, *conn = NULL, *o;
	struct err err;
	int rc;

	*out = NULL;
	if (!json_is_object(body))
		return problem(p, 400, "INVALID_BODY", NULL, "the body must be a JSON object");
	json_object_foreach(body, key, v) {
		size_t i;

		for (i = 0; i < sizeof(post_fields) / sizeof(post_fields[0]); i++)
			if (strcmp(key, post_fields[i]) == 0)
				break;
		if (i == sizeof(post_fields) / sizeof(post_fields[0]) ||
		    (!create && strcmp(key, "connectionUuid") == 0))
			return problem(p, 400, "UNKNOWN_FIELD", key,
				       "'%s' is not accepted; accepted: %s", key,
				       create ? "authenticationKey, connectionUuid, localAsn, "
						"localIpAddress, remoteAsn, remoteIpAddress"
					      : "authenticationKey, localAsn, localIpAddress, "
						"remoteAsn, remoteIpAddress");
	}
	if (create) {
		conn_uuid = json_string_value(json_object_get(body, "connectionUuid"));
		if (conn_uuid == NULL)
			return problem(p, 400, "MISSING_FIELD", "connectionUuid",
				       "connectionUuid is required: the UUID of one of your "
				       "connections");
		if (!ne_uuid_valid(conn_uuid))
			return problem(p, 400, "INVALID_VALUE", "connectionUuid",
				       "connectionUuid '%s' is not a UUID", conn_uuid);
	} else {
		conn_uuid = json_string_value(json_object_get(existing, "connectionUuid"));
	}
	local = json_string_value(json_object_get(body, "localIpAddress"));
	if (local == NULL)
		return problem(p, 400, json_object_get(body, "localIpAddress") ? "INVALID_VALUE"
									: "MISSING_FIELD",
			       "localIpAddress",
			       "localIpAddress is required: a string address with its subnet "
			       "length, e.g. 192.0.2.1/29 or 2001:db8::1/64");
	if (addr_parse_cidr(local, &la, &plen) != 0 || addr_not_unicast(&la) != NULL)
		return problem(p, 400, "INVALID_VALUE", "localIpAddress",
			       "localIpAddress '%s' is not a unicast address with a subnet length, "
			       "e.g. 192.0.2.1/29 or 2001:db8::1/64", local);
	if (check_asn(body, "localAsn", p) != 0)
		return -1;
	remote = json_string_value(json_object_get(body, "remoteIpAddress"));
	if (remote == NULL)
		return problem(p, 400, json_object_get(body, "remoteIpAddress") ? "INVALID_VALUE"
									 : "MISSING_FIELD",
			       "remoteIpAddress", "remoteIpAddress is required: a string address in "
						  "the local subnet, e.g. 192.0.2.2");
	if (addr_parse(remote, &ra) != 0 || addr_not_unicast(&ra) != NULL)
		return problem(p, 400, "INVALID_VALUE", "remoteIpAddress",
			       "remoteIpAddress '%s' is not a unicast address", remote);
	if (ra.family != la.family)
		return problem(p, 400, "INVALID_VALUE", "remoteIpAddress",
			       "remoteIpAddress '%s' is not of the family of localIpAddress", remote);
	if (!same_subnet(&la, &ra, plen) || addr_cmp(&la, &ra) == 0)
		return problem(p, 400, "INVALID_VALUE", "remoteIpAddress",
			       "remoteIpAddress '%s' must be inside %s and not the local address",
			       remote, local);
	if (check_asn(body, "remoteAsn", p) != 0)
		return -1;
	v = json_object_get(body, "authenticationKey");
	auth = json_string_value(v);
	if (v != NULL && !json_is_null(v)) {
		size_t n = auth ? strlen(auth) : 0;
		bool printable = auth != NULL;

		for (size_t i = 0; i < n; i++)
			printable = printable && auth[i] >= 0x21 && auth[i] <= 0x7e;
		if (auth == NULL || n < 6 || n > 80 || !printable)
			return problem(p, 400, "INVALID_VALUE", "authenticationKey",
				       "authenticationKey must be a string of 6-80 printable "
				       "characters without spaces");
	}
	if (create) {
		rc = ne_get(s, "connection", conn_uuid, &conn, &err);
		if (rc == STORE_NOTFOUND)
			return problem(p, 404, "NOT_FOUND", "connectionUuid",
				       "no connection '%s'", conn_uuid);
		if (rc != STORE_OK)
			return problem(p, 503, "STORE_UNAVAILABLE", NULL, "%s", err.msg);
		if (strcmp(json_string_value(json_object_get(conn, "owner")), tenant) != 0) {
			json_decref(conn);
			return problem(p, 403, "ACCESS_DENIED", "connectionUuid", "Access Denied");
		}
		if (connection_taken(s, conn_uuid, NULL)) {
			json_decref(conn);
			return problem(p, 409, "CONFLICT", "connectionUuid",
				       "connection '%s' already has a BGP peering", conn_uuid);
		}
	}
	now_iso(now, sizeof(now));
	if (create) {
		ne_uuid(uuid);
		o = json_pack("{s:s, s:s, s:O, s:O, s:s, s:I, s:s, s:s, s:s}", "uuid", uuid,
			      "connectionUuid", conn_uuid, "virtualDeviceUuid",
			      json_object_get(conn, "virtualDeviceUuid"), "node",
			      json_object_get(conn, "node"), "owner", tenant, "generation",
			      (json_int_t)1, "createdBy", tenant, "createdDate", now, "interface",
			      json_string_value(json_object_get(conn, "interface")));
		json_decref(conn);
	} else {
		o = json_deep_copy(existing);
		json_object_set_new(o, "generation",
				    json_integer(json_integer_value(json_object_get(o, "generation")) +
						 1));
	}
	json_object_set_new(o, "localIpAddress", json_string(local));
	json_object_set(o, "localAsn", json_object_get(body, "localAsn"));
	json_object_set_new(o, "remoteIpAddress", json_string(remote));
	json_object_set(o, "remoteAsn", json_object_get(body, "remoteAsn"));
	/* PUT replaces everything: an absent key means no MD5. */
	if (auth != NULL)
		json_object_set_new(o, "authenticationKey", json_string(auth));
	else
		json_object_del(o, "authenticationKey");
	json_object_set_new(o, "lastUpdatedBy", json_string(tenant));
	json_object_set_new(o, "lastUpdatedDate", json_string(now));
	*out = o;
	return 0;
}

/* No agent record for the node, and the last change is older than the deadline. */
static bool
agent_missing(struct store *s, const char *node, json_t *stored)
{
	const char *when = json_string_value(json_object_get(stored, "lastUpdatedDate"));
	struct key key;
	struct store_kv kv;
	struct err err;
	struct tm tm = {0};
	int rc;

	if (node == NULL || when == NULL || strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL ||
	    time(NULL) - timegm(&tm) < NE_AGENT_DEADLINE)
		return false;
	key_agent(&key, node);
	rc = store_get(s, key.s, &kv, &err);
	if (rc == STORE_OK)
		store_kv_clear(&kv);
	return rc == STORE_NOTFOUND;
}

json_t *
ne_peering_view(struct store *s, json_t *stored)
{
	static const char *const shown[] = {
		"uuid",           "connectionUuid", "virtualDeviceUuid", "localIpAddress",
		"localAsn",       "remoteIpAddress", "remoteAsn",        "createdBy",
		"createdDate",    "lastUpdatedBy",  "lastUpdatedDate"};
	const char *node = json_string_value(json_object_get(stored, "node"));
	const char *uuid = json_string_value(json_object_get(stored, "uuid"));
	json_t *v = json_object(), *st = NULL;
	struct store_kv kv;
	struct err err;
	char key[KEY_MAX];

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		json_t *x = json_object_get(stored, shown[i]);

		if (x != NULL)
			json_object_set(v, shown[i], x);
	}
	snprintf(key, sizeof(key), KEY_ROOT "status/%s/peering/%s", node ? node : "", uuid ? uuid : "");
	if (store_get(s, key, &kv, &err) == STORE_OK) {
		st = json_loads(kv.value, 0, NULL);
		store_kv_clear(&kv);
	}
	/* DESIGN.md: the provisioning status is derived from desired and observed state. */
	if (json_is_true(json_object_get(stored, "deleting"))) {
		json_object_set_new(v, "provisioningStatus", json_string("DEPROVISIONING"));
		json_object_set_new(v, "state", json_null());
	} else if (st == NULL && agent_missing(s, node, stored)) {
		json_object_set_new(v, "provisioningStatus", json_string("FAILED"));
		json_object_set_new(v, "provisioningError",
				    json_sprintf("the agent of node %s is not running", node ? node : "?"));
		json_object_set_new(v, "state", json_null());
	} else if (st == NULL) {
		json_object_set_new(v, "provisioningStatus", json_string("PROVISIONING"));
		json_object_set_new(v, "state", json_null());
	} else if (json_integer_value(json_object_get(st, "applied_generation")) <
		   json_integer_value(json_object_get(stored, "generation"))) {
		json_object_set_new(v, "provisioningStatus", json_string("PENDING_UPDATE"));
		json_object_set_new(v, "state", json_null());
	} else if (json_string_value(json_object_get(st, "error")) &&
		   *json_string_value(json_object_get(st, "error"))) {
		json_object_set_new(v, "provisioningStatus", json_string("FAILED"));
		json_object_set(v, "provisioningError", json_object_get(st, "error"));
		json_object_set_new(v, "state", json_null());
	} else {
		json_object_set_new(v, "provisioningStatus", json_string("PROVISIONED"));
		json_object_set_new(v, "state", json_string(json_string_value(json_object_get(st, "state"))
								 ?: "Idle"));
		/* Why the session is not up, when the agent knows (e.g. the prefix limit). */
		if (json_string_length(json_object_get(st, "info")) > 0)
			json_object_set(v, "stateReason", json_object_get(st, "info"));
	}
	json_decref(st);
	return v;
}
