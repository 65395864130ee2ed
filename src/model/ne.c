#include "model/ne.h"

#include <ctype.h>
#include <pthread.h>
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

bool
ne_uuid_canon(const char *s, char out[NE_UUID_LEN + 1])
{
	if (!ne_uuid_valid(s))
		return false;
	for (size_t i = 0; i <= NE_UUID_LEN; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return true;
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

static char *
dump(const json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (text == NULL)
		fatal("out of memory encoding JSON");
	return text;
}

/* One JSON record with its mod revision and lease: STORE_OK, STORE_NOTFOUND or STORE_ERR. */
static int
get_rec(struct store *s, const char *key, json_t **out, int64_t *rev, int64_t *lease,
	struct err *err)
{
	struct store_kv kv;
	int rc;

	*out = NULL;
	if ((rc = store_get(s, key, &kv, err)) != STORE_OK)
		return rc;
	*out = json_loads(kv.value, 0, NULL);
	if (rev)
		*rev = kv.mod_rev;
	if (lease)
		*lease = kv.lease;
	store_kv_clear(&kv);
	return *out ? STORE_OK : STORE_NOTFOUND;
}

/* A record's generation; records from before generations existed count as 1. */
static int64_t
generation(const json_t *o)
{
	json_t *g = json_object_get(o, "generation");

	return json_is_integer(g) ? json_integer_value(g) : 1;
}

/* One transaction; a single compare-and-write is the common case. */
static int
txn(struct store *s, const struct store_cmp *c, size_t nc, const struct store_op *o, size_t no,
    int64_t *rev, struct err *err)
{
	struct store_txn t = {.cmps = c, .ncmps = nc, .ops = o, .nops = no};
	struct store_txn_res res = {0};
	int rc = store_txn(s, &t, &res, err);

	if (rc == STORE_OK && rev)
		*rev = res.rev;
	return rc;
}

static int
put_obj(struct store *s, const char *key, json_t *o, int64_t lease, struct err *err)
{
	char *text = dump(o);
	int rc = store_put(s, key, text, lease, NULL, err);

	free(text);
	return rc;
}

void
ne_secret_key(char *buf, size_t len, const char *uuid)
{
	snprintf(buf, len, STORE_SECRET_PREFIX "ne/bgp/%s", uuid);
}

/* The claim that makes a connection carry one peering at most. */
static void
claim_key(char *buf, size_t len, const char *conn)
{
	snprintf(buf, len, KEY_ROOT_NE "connection_peering/%s", conn);
}

int
ne_read(struct store *s, const char *kind, const char *uuid, json_t **out, int64_t *rev,
	struct err *err)
{
	char key[KEY_MAX];

	*out = NULL;
	if (uuid == NULL || strchr(uuid, '/') != NULL)
		return STORE_NOTFOUND;
	ne_key(key, sizeof(key), kind, uuid);
	return get_rec(s, key, out, rev, NULL, err);
}

int
ne_get(struct store *s, const char *kind, const char *uuid, json_t **out, struct err *err)
{
	return ne_read(s, kind, uuid, out, NULL, err);
}

/* Puts each peering's authenticationKey back into its object, for the agent. */
static int
merge_secrets(struct store *s, json_t *list, struct err *err)
{
	size_t plen = strlen(STORE_SECRET_PREFIX "ne/bgp/"), i;
	struct store_kvs kvs;
	json_t *by_uuid = json_object(), *o;
	int rc;

	if ((rc = store_range(s, STORE_SECRET_PREFIX "ne/bgp/", &kvs, err)) != STORE_OK) {
		json_decref(by_uuid);
		return rc;
	}
	for (i = 0; i < kvs.n; i++)
		json_object_set_new(by_uuid, kvs.v[i].key + plen, json_loads(kvs.v[i].value, 0, NULL));
	json_array_foreach(list, i, o) {
		json_t *sec = json_object_get(by_uuid,
					      json_string_value(json_object_get(o, "uuid")) ?: "");
		json_t *k = json_object_get(sec, "authenticationKey");

		if (json_is_string(k))
			json_object_set(o, "authenticationKey", k);
	}
	json_decref(by_uuid);
	store_kvs_free(&kvs);
	return STORE_OK;
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
	if (strcmp(kind, "bgp") == 0 && (rc = merge_secrets(s, *out, err)) != STORE_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * Removes a peering as read at rev: its record, its key and its claim on the
 * connection (when the claim names it), in one transaction. STORE_FAILED when
 * the peering or the claim changed meanwhile.
 */
static int
peering_remove_txn(struct store *s, const json_t *cur, int64_t rev, struct err *err)
{
	const char *uuid = json_string_value(json_object_get(cur, "uuid")) ?: "";
	const char *conn = json_string_value(json_object_get(cur, "connectionUuid")) ?: "";
	char rkey[KEY_MAX], skey[KEY_MAX], ckey[KEY_MAX];
	struct store_cmp c[2] = {{.key = rkey, .mod_rev = rev}, {.key = ckey}};
	struct store_op o[3] = {{.type = STORE_OP_DELETE, .key = rkey},
				{.type = STORE_OP_DELETE, .key = skey},
				{.type = STORE_OP_DELETE, .key = ckey}};
	json_t *claim = NULL;
	int64_t crev = 0;
	bool ours;
	int rc;

	ne_key(rkey, sizeof(rkey), "bgp", uuid);
	ne_secret_key(skey, sizeof(skey), uuid);
	claim_key(ckey, sizeof(ckey), conn);
	rc = get_rec(s, ckey, &claim, &crev, NULL, err);
	if (rc == STORE_ERR)
		return rc;
	ours = claim != NULL &&
	       strcmp(json_string_value(json_object_get(claim, "peering")) ?: "", uuid) == 0;
	json_decref(claim);
	c[1].mod_rev = crev;
	return txn(s, c, ours ? 2 : 1, o, ours ? 3 : 2, NULL, err);
}

int
ne_remove(struct store *s, const char *kind, const char *uuid, struct err *err)
{
	char key[KEY_MAX];
	json_t *cur;
	int64_t rev;
	int rc;

	if (strcmp(kind, "bgp") != 0) {
		ne_key(key, sizeof(key), kind, uuid);
		return store_delete(s, key, err);
	}
	for (int tries = 0; tries < 5; tries++) {
		if ((rc = ne_read(s, "bgp", uuid, &cur, &rev, err)) != STORE_OK)
			return rc;
		rc = peering_remove_txn(s, cur, rev, err);
		json_decref(cur);
		if (rc != STORE_FAILED)
			return rc;
	}
	err_set(err, "peering %s kept changing while it was removed", uuid);
	return STORE_ERR;
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

static void (*audit_sink)(const char *line);

void
ne_audit_sink(void (*sink)(const char *line))
{
	audit_sink = sink;
}

/* A field of an audit line as given by a client: bounded, no spaces or control bytes. */
static const char *
audit_field(const char *v, char *buf, size_t len)
{
	size_t i;

	if (v == NULL || *v == '\0')
		return "-";
	for (i = 0; v[i] && i + 1 < len; i++)
		buf[i] = v[i] > 0x20 && v[i] < 0x7f ? v[i] : '?';
	buf[i] = '\0';
	return buf;
}

void
ne_audit(const char *tenant, const char *user, const char *action, const char *resource,
	 const char *result)
{
	char line[512], t[NE_UUID_LEN + 8], u[NE_NAME_MAX + 8], r[NE_UUID_LEN + 8];

	snprintf(line, sizeof(line), "audit tenant=%s user=%s action=%s resource=%s result=%s",
		 audit_field(tenant, t, sizeof(t)), audit_field(user, u, sizeof(u)), action,
		 audit_field(resource, r, sizeof(r)), result);
	if (audit_sink)
		audit_sink(line);
	else
		log_info("%s", line);
}

const char *
ne_auth_actor(const struct ne_auth *a)
{
	return a->user[0] ? a->user : a->client_id;
}

/* A client record's role: clients made before roles existed are tenants. */
static bool
is_operator(const json_t *client)
{
	const char *r = json_string_value(json_object_get(client, "role"));

	return r != NULL && strcmp(r, "operator") == 0;
}

/* The holder's client, as its record (at revision rev) has it: a check or a token fills a. */
static void
auth_set_client(struct ne_auth *a, const char *client_id, const json_t *client, int64_t rev)
{
	snprintf(a->client_id, sizeof(a->client_id), "%s", client_id);
	snprintf(a->client_name, sizeof(a->client_name), "%s",
		 json_string_value(json_object_get(client, "name")) ?: "");
	a->client_rev = rev;
	a->client_gen = generation(client);
	a->operator_role = is_operator(client);
}

/* The holder's user, likewise. */
static void
auth_set_user(struct ne_auth *a, const char *user, const json_t *rec, int64_t rev)
{
	snprintf(a->user, sizeof(a->user), "%s", user);
	a->user_rev = rev;
	a->user_gen = generation(rec);
}

int
ne_client_create(struct store *s, const char *name, char *client_id, char *secret,
		 struct err *err)
{
	return ne_client_create_role(s, name, false, client_id, secret, err);
}

int
ne_client_create_role(struct store *s, const char *name, bool operator_role, char *client_id,
		      char *secret, struct err *err)
{
	char key[KEY_MAX], hash[crypto_pwhash_STRBYTES], created[32], *text;
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
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "client_id", client_id, "name", name,
		      "secret_hash", hash, "created", created, "generation", (json_int_t)1, "role",
		      operator_role ? "operator" : "tenant");
	ne_key(key, sizeof(key), "client", client_id);
	text = dump(o);
	rc = store_put(s, key, text, 0, NULL, err);
	free(text);
	json_decref(o);
	return rc;
}

/* Deletes every access token of a client. Housekeeping only: a token whose client
 * is gone or rotated fails ne_token_check anyway (generations). */
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

/*
 * Stores a new argon2id hash of secret in field of the record at key and bumps
 * its generation (tokens issued under the old one die), compared against the
 * revision read: STORE_OK, STORE_NOTFOUND, STORE_FAILED (changed meanwhile) or
 * STORE_ERR.
 */
static int
rehash(struct store *s, const char *key, const char *field, const char *secret,
       struct err *err)
{
	char hash[crypto_pwhash_STRBYTES], *text;
	struct store_cmp c = {.key = key};
	struct store_op op = {.type = STORE_OP_PUT, .key = key};
	json_t *o;
	int rc;

	if ((rc = get_rec(s, key, &o, &c.mod_rev, NULL, err)) != STORE_OK)
		return rc;
	if (hash_secret(secret, hash, err) != 0) {
		json_decref(o);
		return STORE_ERR;
	}
	json_object_set_new(o, field, json_string(hash));
	json_object_set_new(o, "generation", json_integer(generation(o) + 1));
	op.value = text = dump(o);
	rc = txn(s, &c, 1, &op, 1, NULL, err);
	free(text);
	json_decref(o);
	return rc;
}

int
ne_client_rotate(struct store *s, const char *client_id, char *secret, struct err *err)
{
	char key[KEY_MAX];
	int rc;

	ne_key(key, sizeof(key), "client", client_id);
	random_hex(secret, 32);
	rc = rehash(s, key, "secret_hash", secret, err);
	if (rc == STORE_FAILED) {
		err_set(err, "client %s changed while its secret was rotated; run it again",
			client_id);
		rc = STORE_ERR;
	}
	/* Tokens issued under the old secret die by generation; tidy their records. */
	return rc == STORE_OK ? revoke_tokens(s, client_id, err) : rc;
}

int
ne_client_remove(struct store *s, const char *client_id, struct err *err)
{
	char key[KEY_MAX], users[KEY_MAX];
	struct store_op ops[2] = {{.type = STORE_OP_DELETE, .key = key},
				  {.type = STORE_OP_DELETE_PREFIX, .key = users}};
	struct store_kv kv;
	int rc;

	ne_key(key, sizeof(key), "client", client_id);
	snprintf(users, sizeof(users), KEY_ROOT_NE "user/%s/", client_id);
	if ((rc = store_get(s, key, &kv, err)) != STORE_OK)
		return rc;
	store_kv_clear(&kv);
	/* The client and its users in one revision. */
	if ((rc = txn(s, NULL, 0, ops, 2, NULL, err)) != STORE_OK)
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

static char dummy[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy_hash(void)
{
	char secret[65];
	struct err err;

	random_hex(secret, 32);
	if (hash_secret(secret, dummy, &err) != 0)
		fatal("%s", err.msg);
}

/*
 * Checks secret against the hash of a random one, made once: refusing an unknown
 * client or user costs what a wrong secret does, so no timing tells which exist.
 */
static void
dummy_check(const char *secret)
{
	pthread_once(&dummy_once, make_dummy_hash);
	if (crypto_pwhash_str_verify(dummy, secret, strlen(secret)) == 0)
		log_warnx("a guess matched the dummy secret");
}

int
ne_client_check(struct store *s, const char *client_id, const char *secret, struct ne_auth *a,
		struct err *err)
{
	char key[KEY_MAX];
	const char *hash;
	json_t *o = NULL;
	int64_t rev = 0;
	int rc, ok;

	memset(a, 0, sizeof(*a));
	if (!ne_uuid_valid(client_id) || secret == NULL)
		return 0;
	ne_key(key, sizeof(key), "client", client_id);
	rc = get_rec(s, key, &o, &rev, NULL, err);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return -1;
	hash = json_string_value(json_object_get(o, "secret_hash"));
	if (hash == NULL) {
		/* An unknown id costs what a known one does: the time tells no one which exist. */
		dummy_check(secret);
		json_decref(o);
		return 0;
	}
	ok = crypto_pwhash_str_verify(hash, secret, strlen(secret)) == 0;
	if (ok)
		auth_set_client(a, client_id, o, rev);
	json_decref(o);
	return ok;
}

/* Users: KEY_ROOT_NE "user/<client_id>/<name>". */
static int
user_key(char *key, size_t len, const char *client_id, const char *name, struct err *err)
{
	size_t n = name ? strlen(name) : 0;

	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '@')) {
			n = 0;
			break;
		}
	}
	if (n == 0 || n > NE_NAME_MAX) {
		err_set(err, "user name '%s': expected 1-%d characters of letters, digits, '.', "
			     "'_', '-' and '@'", name ? name : "", NE_NAME_MAX);
		return -1;
	}
	if (!ne_uuid_valid(client_id)) {
		err_set(err, "no API client '%s' (see tabbyctl api-client show)",
			client_id ? client_id : "");
		return -1;
	}
	snprintf(key, len, KEY_ROOT_NE "user/%s/%s", client_id, name);
	return 0;
}

/* The password to set: the given one, checked, or a new one in gen. */
static const char *
password_of(const char *password, char *gen, struct err *err)
{
	size_t n;

	if (password == NULL) {
		random_hex(gen, 16);
		return gen;
	}
	n = strlen(password);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f) {
			err_set(err, "the password has a control character; accepted: %d-%d "
				     "printable characters", NE_PASSWORD_MIN, NE_PASSWORD_MAX);
			return NULL;
		}
	}
	if (n < NE_PASSWORD_MIN || n > NE_PASSWORD_MAX) {
		err_set(err, "the password has %zu characters; accepted: %d-%d", n, NE_PASSWORD_MIN,
			NE_PASSWORD_MAX);
		return NULL;
	}
	return password;
}

int
ne_user_create(struct store *s, const char *client_id, const char *name, const char *password,
	       char *gen, struct err *err)
{
	char key[KEY_MAX], ckey[KEY_MAX], hash[crypto_pwhash_STRBYTES], created[32], *text;
	struct store_cmp c[2] = {{.key = ckey}, {.key = key, .mod_rev = 0}};
	struct store_op op = {.type = STORE_OP_PUT, .key = key};
	struct store_kv kv;
	json_t *o;
	int rc;

	if (user_key(key, sizeof(key), client_id, name, err) != 0 ||
	    (password = password_of(password, gen, err)) == NULL)
		return STORE_ERR;
	ne_key(ckey, sizeof(ckey), "client", client_id);
	rc = store_get(s, ckey, &kv, err);
	if (rc == STORE_NOTFOUND)
		err_set(err, "no API client '%s' (see tabbyctl api-client show)", client_id);
	if (rc != STORE_OK)
		return STORE_ERR;
	c[0].mod_rev = kv.mod_rev;
	store_kv_clear(&kv);
	if (hash_secret(password, hash, err) != 0)
		return STORE_ERR;
	now_iso(created, sizeof(created));
	o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", name, "client_id", client_id,
		      "password_hash", hash, "created", created, "generation", (json_int_t)1);
	op.value = text = dump(o);
	/* The client must still be there, unchanged, and the name free. */
	rc = txn(s, c, 2, &op, 1, NULL, err);
	free(text);
	json_decref(o);
	if (rc == STORE_FAILED) {
		rc = store_get(s, key, &kv, err);
		if (rc == STORE_OK) {
			store_kv_clear(&kv);
			err_set(err, "user '%s' of client %s already exists", name, client_id);
		} else if (rc == STORE_NOTFOUND) {
			err_set(err, "client %s was removed or changed meanwhile", client_id);
		}
		return STORE_ERR;
	}
	return rc;
}

int
ne_user_passwd(struct store *s, const char *client_id, const char *name, const char *password,
	       char *gen, struct err *err)
{
	char key[KEY_MAX];
	int rc;

	if (user_key(key, sizeof(key), client_id, name, err) != 0 ||
	    (password = password_of(password, gen, err)) == NULL)
		return STORE_ERR;
	rc = rehash(s, key, "password_hash", password, err);
	if (rc == STORE_FAILED) {
		err_set(err, "user '%s' was removed or changed meanwhile; nothing was set", name);
		rc = STORE_ERR;
	}
	return rc;
}

int
ne_user_remove(struct store *s, const char *client_id, const char *name, struct err *err)
{
	char key[KEY_MAX];

	if (user_key(key, sizeof(key), client_id, name, err) != 0)
		return STORE_ERR;
	return store_delete(s, key, err);
}

int
ne_user_list(struct store *s, const char *client_id, json_t **out, struct err *err)
{
	char dir[KEY_MAX];
	struct store_kvs kvs;
	int rc;

	snprintf(dir, sizeof(dir), KEY_ROOT_NE "user/%s%s", client_id ? client_id : "",
		 client_id ? "/" : "");
	if ((rc = store_range(s, dir, &kvs, err)) != STORE_OK)
		return rc;
	*out = json_array();
	for (size_t i = 0; i < kvs.n; i++) {
		json_t *o = json_loads(kvs.v[i].value, 0, NULL);

		if (o == NULL)
			continue;
		json_object_del(o, "password_hash");
		json_array_append_new(*out, o);
	}
	store_kvs_free(&kvs);
	return STORE_OK;
}

int
ne_user_check(struct store *s, struct ne_auth *a, const char *user, const char *password,
	      struct err *err)
{
	char key[KEY_MAX];
	const char *hash = NULL;
	json_t *o = NULL;
	int64_t rev = 0;
	int rc, ok;
	struct err ignored;

	if (password == NULL)
		return 0;
	rc = user_key(key, sizeof(key), a->client_id, user, &ignored) == 0
		     ? get_rec(s, key, &o, &rev, NULL, err)
		     : STORE_NOTFOUND;
	if (rc == STORE_ERR)
		return -1;
	if (rc == STORE_OK)
		hash = json_string_value(json_object_get(o, "password_hash"));
	if (hash == NULL) {
		/* Same cost as a wrong password: no timing tells which names exist. */
		dummy_check(password);
		ok = 0;
	} else {
		ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	}
	if (ok)
		auth_set_user(a, user, o, rev);
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
		if ((rc = txn(s, &cmp, 1, &op, 1, NULL, err)) == STORE_ERR)
			return rc;
	}
	err_set(err, "cannot settle the token key");
	return STORE_ERR;
}

/* The key of a token's record: KEY_ROOT_NE "<kind>/<keyed hash of the token>". */
static int
token_rec_key(struct store *s, const char *kind, const char *token, char *out, size_t len,
	      struct err *err)
{
	unsigned char key[crypto_generichash_KEYBYTES], h[crypto_generichash_BYTES];
	char hex[crypto_generichash_BYTES * 2 + 1];

	if (token_key(s, key, err) != STORE_OK)
		return -1;
	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), key,
			   sizeof(key));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	ne_key(out, len, kind, hex);
	return 0;
}

static bool
token_shape(const char *token)
{
	size_t n = token ? strlen(token) : 0;

	if (n != NE_TOKEN_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return false;
	return true;
}

/* What every token record of a holder carries, so that a check can tell it is still theirs. */
static json_t *
holder(const struct ne_auth *a, json_int_t expires)
{
	return json_pack("{s:s, s:I, s:s, s:I, s:s, s:I}", "client_id", a->client_id, "client_gen",
			 (json_int_t)a->client_gen, "user", a->user, "user_gen",
			 (json_int_t)a->user_gen, "family", a->family, "expires", expires);
}

/*
 * Writes a new access token (and, with a family lease, a new refresh token of
 * that family) for a, in one transaction with the caller's compares and ops
 * plus the client's (and user's) revision as the check saw it.
 */
static int
issue_txn(struct store *s, const struct ne_auth *a, int64_t fam_lease,
	  const struct store_cmp *xc, size_t nxc, const struct store_op *xo, size_t nxo,
	  struct ne_tokens *out, struct err *err)
{
	char ckey[KEY_MAX], ukey[KEY_MAX], akey[KEY_MAX], rkey[KEY_MAX], *atext, *rtext = NULL;
	struct store_cmp c[8];
	struct store_op o[8];
	size_t nc = 0, no = 0;
	int64_t lease;
	json_t *rec;
	int rc;

	memset(out, 0, sizeof(*out));
	random_hex(out->access, NE_TOKEN_HEX / 2);
	if (token_rec_key(s, "token", out->access, akey, sizeof(akey), err) != 0)
		return STORE_ERR;
	/* The lease makes it vanish when it expires, for every API server at once. */
	if (store_lease_grant(s, NE_TOKEN_TTL, &lease, err) != STORE_OK)
		return STORE_ERR;
	ne_key(ckey, sizeof(ckey), "client", a->client_id);
	c[nc++] = (struct store_cmp){.key = ckey, .mod_rev = a->client_rev};
	if (a->user[0]) {
		snprintf(ukey, sizeof(ukey), KEY_ROOT_NE "user/%s/%s", a->client_id, a->user);
		c[nc++] = (struct store_cmp){.key = ukey, .mod_rev = a->user_rev};
	}
	for (size_t i = 0; i < nxc && nc < 8; i++)
		c[nc++] = xc[i];
	rec = holder(a, (json_int_t)(time(NULL) + NE_TOKEN_TTL));
	atext = dump(rec);
	json_decref(rec);
	o[no++] = (struct store_op){.type = STORE_OP_PUT, .key = akey, .value = atext,
				    .lease = lease};
	if (fam_lease != 0) {
		random_hex(out->refresh, NE_TOKEN_HEX / 2);
		if (token_rec_key(s, "refresh", out->refresh, rkey, sizeof(rkey), err) != 0) {
			free(atext);
			return STORE_ERR;
		}
		rec = holder(a, (json_int_t)(time(NULL) + NE_REFRESH_TTL));
		json_object_set_new(rec, "used", json_false());
		rtext = dump(rec);
		json_decref(rec);
		o[no++] = (struct store_op){.type = STORE_OP_PUT, .key = rkey, .value = rtext,
					    .lease = fam_lease};
	}
	for (size_t i = 0; i < nxo && no < 8; i++)
		o[no++] = xo[i];
	rc = txn(s, c, nc, o, no, NULL, err);
	free(atext);
	free(rtext);
	if (rc != STORE_OK) {
		struct err ignored;

		store_lease_revoke(s, lease, &ignored);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int
ne_token_issue(struct store *s, const struct ne_auth *a, struct ne_tokens *out, struct err *err)
{
	struct ne_auth fa = *a;
	char fkey[KEY_MAX], *ftext;
	struct store_cmp fc = {.key = fkey, .mod_rev = 0};
	struct store_op fo = {.type = STORE_OP_PUT, .key = fkey};
	int64_t fam_lease;
	json_t *rec;
	int rc;

	if (a->user[0] == '\0') {
		fa.family[0] = '\0';
		return issue_txn(s, &fa, 0, NULL, 0, NULL, 0, out, err);
	}
	/* A login starts a family of refresh tokens; it lives NE_REFRESH_TTL at most. */
	random_hex(fa.family, 16);
	ne_key(fkey, sizeof(fkey), "token_family", fa.family);
	if (store_lease_grant(s, NE_REFRESH_TTL, &fam_lease, err) != STORE_OK)
		return STORE_ERR;
	rec = json_pack("{s:s, s:s}", "client_id", fa.client_id, "user", fa.user);
	fo.value = ftext = dump(rec);
	fo.lease = fam_lease;
	json_decref(rec);
	rc = issue_txn(s, &fa, fam_lease, &fc, 1, &fo, 1, out, err);
	free(ftext);
	if (rc != STORE_OK) {
		struct err ignored;

		store_lease_revoke(s, fam_lease, &ignored);
	}
	return rc;
}

/* Revokes a refresh family: every access and refresh token of it fails its check from now. */
static int
revoke_family(struct store *s, const char *family, struct err *err)
{
	char fkey[KEY_MAX];

	ne_key(fkey, sizeof(fkey), "token_family", family);
	return store_delete(s, fkey, err) == STORE_ERR ? STORE_ERR : STORE_OK;
}

/*
 * Whether a token record still stands for a live holder: the client (and user)
 * exist with the generations it records, and its family is not revoked. Fills a.
 */
static int
holder_live(struct store *s, const json_t *rec, struct ne_auth *a, int64_t *fam_rev,
	    struct err *err)
{
	const char *id = json_string_value(json_object_get(rec, "client_id"));
	const char *user = json_string_value(json_object_get(rec, "user"));
	const char *family = json_string_value(json_object_get(rec, "family"));
	char key[KEY_MAX];
	json_t *o;
	int64_t rev;
	int rc;

	memset(a, 0, sizeof(*a));
	if (id == NULL || !ne_uuid_valid(id) ||
	    json_integer_value(json_object_get(rec, "expires")) <= time(NULL))
		return 0;
	ne_key(key, sizeof(key), "client", id);
	if ((rc = get_rec(s, key, &o, &rev, NULL, err)) != STORE_OK)
		return rc == STORE_NOTFOUND ? 0 : -1;
	auth_set_client(a, id, o, rev);
	json_decref(o);
	if (json_integer_value(json_object_get(rec, "client_gen")) != a->client_gen)
		return 0;
	if (user == NULL || *user == '\0')
		return 1;
	if (user_key(key, sizeof(key), id, user, err) != 0)
		return 0;
	if ((rc = get_rec(s, key, &o, &rev, NULL, err)) != STORE_OK)
		return rc == STORE_NOTFOUND ? 0 : -1;
	auth_set_user(a, user, o, rev);
	json_decref(o);
	if (json_integer_value(json_object_get(rec, "user_gen")) != a->user_gen || family == NULL)
		return 0;
	snprintf(a->family, sizeof(a->family), "%s", family);
	ne_key(key, sizeof(key), "token_family", family);
	if ((rc = get_rec(s, key, &o, &rev, NULL, err)) != STORE_OK)
		return rc == STORE_NOTFOUND ? 0 : -1;
	json_decref(o);
	if (fam_rev)
		*fam_rev = rev;
	return 1;
}

int
ne_token_check(struct store *s, const char *token, struct ne_auth *a, struct err *err)
{
	char key[KEY_MAX];
	json_t *rec;
	int rc;

	memset(a, 0, sizeof(*a));
	if (!token_shape(token))
		return 0;
	if (token_rec_key(s, "token", token, key, sizeof(key), err) != 0)
		return -1;
	rc = get_rec(s, key, &rec, NULL, NULL, err);
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? 0 : -1;
	rc = holder_live(s, rec, a, NULL, err);
	json_decref(rec);
	if (rc != 1)
		memset(a, 0, sizeof(*a));
	return rc;
}

int
ne_token_refresh(struct store *s, struct ne_auth *a, const char *refresh, struct ne_tokens *out,
		 struct err *err)
{
	char rkey[KEY_MAX], fkey[KEY_MAX];
	const char *client_id = a->client_id;
	struct ne_auth h;
	int64_t rrev, lease, frev = 0;
	json_t *rec;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!token_shape(refresh))
		return NE_REFRESH_INVALID;
	if (token_rec_key(s, "refresh", refresh, rkey, sizeof(rkey), err) != 0)
		return STORE_ERR;
	for (int tries = 0; tries < 3; tries++) {
		char *spent;

		rc = get_rec(s, rkey, &rec, &rrev, &lease, err);
		if (rc != STORE_OK)
			return rc == STORE_NOTFOUND ? NE_REFRESH_INVALID : STORE_ERR;
		/* Another client's token is not ours to spend (nor to revoke). */
		if (strcmp(json_string_value(json_object_get(rec, "client_id")) ?: "", client_id) !=
		    0) {
			json_decref(rec);
			return NE_REFRESH_INVALID;
		}
		if (json_is_true(json_object_get(rec, "used"))) {
			/* RFC 6819 §5.2.2.3, OAuth 2.1 §4.3.1: a spent token replayed means it
			 * leaked; the family goes, the legitimate holder logs in again. */
			rc = revoke_family(s, json_string_value(json_object_get(rec, "family")) ?: "",
					   err);
			json_decref(rec);
			return rc == STORE_OK ? NE_REFRESH_REUSED : STORE_ERR;
		}
		rc = holder_live(s, rec, &h, &frev, err);
		if (rc != 1 || h.client_gen != a->client_gen) {
			json_decref(rec);
			return rc < 0 ? STORE_ERR : NE_REFRESH_INVALID;
		}
		h.client_rev = a->client_rev;
		json_object_set_new(rec, "used", json_true());
		spent = dump(rec);
		json_decref(rec);
		ne_key(fkey, sizeof(fkey), "token_family", h.family);
		{
			struct store_cmp c[2] = {{.key = rkey, .mod_rev = rrev},
						 {.key = fkey, .mod_rev = frev}};
			/* The spent token stays (marked) until the family expires: a replay is
			 * recognised. */
			struct store_op o = {.type = STORE_OP_PUT, .key = rkey, .value = spent,
					     .lease = lease};

			rc = issue_txn(s, &h, lease, c, 2, &o, 1, out, err);
		}
		free(spent);
		if (rc == STORE_OK) {
			*a = h;
			return NE_REFRESH_OK;
		}
		if (rc != STORE_FAILED)
			return STORE_ERR;
		/* Raced: another use of the same token, or a change of the holder. Look again. */
	}
	return NE_REFRESH_INVALID;
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

int
ne_connection_set_limit(struct store *s, const char *uuid, uint32_t max_prefixes,
			struct err *err)
{
	char key[KEY_MAX];
	json_t *o;
	int64_t rev;
	int rc;

	/* Compared against the revision read: a concurrent change is not overwritten. */
	for (int tries = 0; tries < 5; tries++) {
		rc = ne_read(s, "connection", ne_uuid_valid(uuid) ? uuid : NULL, &o, &rev, err);
		if (rc == STORE_NOTFOUND) {
			err_set(err, "no connection '%s' (see tabbyctl connection show)",
				uuid ? uuid : "");
			return STORE_NOTFOUND;
		}
		if (rc != STORE_OK)
			return rc;
		json_object_set_new(o, "maxPrefixes", json_integer(max_prefixes));
		ne_key(key, sizeof(key), "connection", uuid);
		{
			char *text = dump(o);
			struct store_cmp c = {.key = key, .mod_rev = rev};
			struct store_op op = {.type = STORE_OP_PUT, .key = key, .value = text};
			struct store_txn t = {.cmps = &c, .ncmps = 1, .ops = &op, .nops = 1};
			struct store_txn_res res = {0};

			rc = store_txn(s, &t, &res, err);
			free(text);
			json_decref(o);
			if (rc != STORE_OK)
				return rc;
			if (res.changed > 0)
				return STORE_OK;
		}
	}
	err_set(err, "connection '%s' keeps changing; try again", uuid);
	return STORE_ERR;
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

static int
store_problem(struct ne_problem *p, const struct err *err)
{
	/* The detail (paths, SQLite's words) is for the operator's log, not for tenants. */
	log_warnx("datastore unavailable: %s", err->msg);
	return problem(p, 503, "STORE_UNAVAILABLE", NULL, "datastore unavailable; try again later");
}

static bool
same_subnet(const struct addr *a, const struct addr *b, unsigned len)
{
	for (unsigned bit = 0; bit < len; bit++)
		if ((a->b[bit / 8] ^ b->b[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/*
 * Why an address cannot be one end of a peering on a subnet of length plen, or NULL:
 * not unicast, link-local, or the subnet's network or broadcast address (a /31 or /127
 * has neither, RFC 3021 and RFC 6164).
 */
static const char *
peering_addr_problem(const struct addr *a, unsigned plen)
{
	const char *why = addr_not_unicast(a);
	unsigned bits = addr_bits(a);
	bool zeros = true, ones = true;

	if (why != NULL)
		return why;
	if (addr_is_v4(a) ? a->b[0] == 169 && a->b[1] == 254
			  : a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80)
		return "it is a link-local address";
	if (plen >= bits - 1)
		return NULL;
	for (unsigned bit = plen; bit < bits; bit++) {
		bool set = (a->b[bit / 8] & (0x80 >> (bit % 8))) != 0;

		zeros = zeros && !set;
		ones = ones && set;
	}
	if (zeros)
		return addr_is_v4(a) ? "it is the subnet's network address"
				     : "it is the subnet's Subnet-Router anycast address (RFC 4291)";
	if (ones && addr_is_v4(a))
		return "it is the subnet's broadcast address";
	return NULL;
}

/*
 * Another peering of the same device, on another connection, whose subnet overlaps
 * la/plen: its localIpAddress in other ("" if none). A second peering on the same
 * connection is refused as such (connection_peering) whatever its addresses.
 */
static int
device_overlap(struct store *s, const char *device, const char *conn, const struct addr *la,
	       unsigned plen, char *other, size_t len, struct err *err)
{
	json_t *all, *o;
	size_t i;

	if (ne_list(s, "bgp", NULL, &all, err) != STORE_OK)
		return -1;
	other[0] = '\0';
	json_array_foreach(all, i, o) {
		const char *dev = json_string_value(json_object_get(o, "virtualDeviceUuid"));
		const char *c = json_string_value(json_object_get(o, "connectionUuid"));
		struct addr b;
		unsigned blen;

		if (dev == NULL || device == NULL || strcmp(dev, device) != 0 ||
		    (c != NULL && conn != NULL && strcmp(c, conn) == 0) ||
		    json_is_true(json_object_get(o, "deleting")) ||
		    addr_parse_cidr(json_string_value(json_object_get(o, "localIpAddress")), &b,
				    &blen) != 0 ||
		    b.family != la->family)
			continue;
		if (same_subnet(la, &b, blen < plen ? blen : plen)) {
			snprintf(other, len, "%s", json_string_value(json_object_get(o, "localIpAddress")));
			break;
		}
	}
	json_decref(all);
	return 0;
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
	if (json_integer_value(v) < 0)
		return problem(p, 400, "INVALID_VALUE", field, "%s %" JSON_INTEGER_FORMAT
			       " is negative; " ASN_ACCEPTED " (asdot is not accepted here)", field,
			       json_integer_value(v));
	if (asn_check((uint64_t)json_integer_value(v), &err) != 0)
		return problem(p, 400, "INVALID_VALUE", field, "%s %" JSON_INTEGER_FORMAT ": %s",
			       field, json_integer_value(v), err.msg);
	return 0;
}

/* ne_peering_from_request, also giving the connection's revision as read (create only). */
static int
build_peering(struct store *s, const struct ne_auth *who, json_t *body, bool create,
	      const json_t *existing, json_t **out, int64_t *conn_rev, struct ne_problem *p)
{
	static const char *const post_fields[] = {"authenticationKey", "connectionUuid", "localAsn",
						  "localIpAddress", "remoteAsn", "remoteIpAddress"};
	const char *key, *local, *remote, *conn_uuid, *auth, *why;
	char other[ADDR_STRLEN + 8];
	char now[32], uuid[NE_UUID_LEN + 1], conn_canon[NE_UUID_LEN + 1];
	char local_canon[ADDR_STRLEN + 8], remote_canon[ADDR_STRLEN];
	struct addr la, ra;
	unsigned plen;
	const char *tenant = who->client_id;
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
		if (!ne_uuid_canon(conn_uuid, conn_canon))
			return problem(p, 400, "INVALID_VALUE", "connectionUuid",
				       "connectionUuid '%.64s' is not a UUID", conn_uuid);
		conn_uuid = conn_canon;
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
	if (addr_parse_cidr(local, &la, &plen) != 0)
		return problem(p, 400, "INVALID_VALUE", "localIpAddress",
			       "localIpAddress '%s' is not a unicast address with a subnet length, "
			       "e.g. 192.0.2.1/29 or 2001:db8::1/64", local);
	/* A point-to-point subnet: no route for half the Internet on the node, no host route. */
	if (addr_is_v4(&la) ? plen < 8 || plen > 31 : plen < 64 || plen > 127)
		return problem(p, 400, "INVALID_VALUE", "localIpAddress",
			       "localIpAddress '%s': subnet length /%u is outside %s", local, plen,
			       addr_is_v4(&la) ? "/8-/31 (IPv4)" : "/64-/127 (IPv6)");
	if ((why = peering_addr_problem(&la, plen)) != NULL)
		return problem(p, 400, "INVALID_VALUE", "localIpAddress",
			       "localIpAddress '%s' is not usable: %s; a unicast host address of "
			       "the subnet is accepted", local, why);
	if (check_asn(body, "localAsn", p) != 0)
		return -1;
	remote = json_string_value(json_object_get(body, "remoteIpAddress"));
	if (remote == NULL)
		return problem(p, 400, json_object_get(body, "remoteIpAddress") ? "INVALID_VALUE"
									 : "MISSING_FIELD",
			       "remoteIpAddress", "remoteIpAddress is required: a string address in "
						  "the local subnet, e.g. 192.0.2.2");
	if (addr_parse(remote, &ra) != 0)
		return problem(p, 400, "INVALID_VALUE", "remoteIpAddress",
			       "remoteIpAddress '%s' is not a unicast address", remote);
	if (ra.family != la.family)
		return problem(p, 400, "INVALID_VALUE", "remoteIpAddress",
			       "remoteIpAddress '%s' is not of the family of localIpAddress", remote);
	if (!same_subnet(&la, &ra, plen) || addr_cmp(&la, &ra) == 0)
		return problem(p, 400, "INVALID_VALUE", "remoteIpAddress",
			       "remoteIpAddress '%s' must be inside %s and not the local address",
			       remote, local);
	if ((why = peering_addr_problem(&ra, plen)) != NULL)
		return problem(p, 400, "INVALID_VALUE", "remoteIpAddress",
			       "remoteIpAddress '%s' is not usable: %s; a unicast host address of "
			       "the subnet is accepted", remote, why);
	if (check_asn(body, "remoteAsn", p) != 0)
		return -1;
	/* A device's peerings are eBGP: iBGP would let a tenant set LOCAL_PREF. */
	if (json_integer_value(json_object_get(body, "localAsn")) ==
	    json_integer_value(json_object_get(body, "remoteAsn")))
		return problem(p, 400, "INVALID_VALUE", "remoteAsn",
			       "remoteAsn %" JSON_INTEGER_FORMAT " equals localAsn: a virtual "
			       "device's peerings are eBGP, a remoteAsn other than localAsn is "
			       "accepted",
			       json_integer_value(json_object_get(body, "remoteAsn")));
	/* Stored in one form (RFC 5952 for IPv6), so that equal addresses compare equal. */
	addr_format(&la, remote_canon);
	snprintf(local_canon, sizeof(local_canon), "%s/%u", remote_canon, plen);
	addr_format(&ra, remote_canon);
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
		rc = ne_read(s, "connection", conn_uuid, &conn, conn_rev, &err);
		if (rc == STORE_NOTFOUND)
			return problem(p, 404, "NOT_FOUND", "connectionUuid",
				       "no connection '%s'", conn_uuid);
		if (rc != STORE_OK)
			return store_problem(p, &err);
		if (strcmp(json_string_value(json_object_get(conn, "owner")), tenant) != 0) {
			json_decref(conn);
			return problem(p, 403, "ACCESS_DENIED", "connectionUuid", "Access Denied");
		}
	}
	/* A device's connections are its interfaces: their subnets must not overlap. */
	if (device_overlap(s,
			   json_string_value(json_object_get(create ? conn : existing,
							     "virtualDeviceUuid")),
			   conn_uuid, &la, plen, other, sizeof(other), &err) != 0) {
		json_decref(conn);
		return store_problem(p, &err);
	}
	if (other[0] != '\0') {
		json_decref(conn);
		return problem(p, 409, "CONFLICT", "localIpAddress",
			       "localIpAddress '%s' overlaps %s, another peering of the same "
			       "virtual device; a subnet of its own is accepted", local, other);
	}
	now_iso(now, sizeof(now));
	if (create) {
		ne_uuid(uuid);
		o = json_pack("{s:s, s:s, s:O, s:O, s:s, s:I, s:s, s:s, s:s}", "uuid", uuid,
			      "connectionUuid", conn_uuid, "virtualDeviceUuid",
			      json_object_get(conn, "virtualDeviceUuid"), "node",
			      json_object_get(conn, "node"), "owner", tenant, "generation",
			      (json_int_t)1, "createdBy", ne_auth_actor(who), "createdDate", now, "interface",
			      json_string_value(json_object_get(conn, "interface")));
		json_decref(conn);
	} else {
		o = json_deep_copy(existing);
		json_object_set_new(o, "generation",
				    json_integer(json_integer_value(json_object_get(o, "generation")) +
						 1));
	}
	json_object_set_new(o, "localIpAddress", json_string(local_canon));
	json_object_set(o, "localAsn", json_object_get(body, "localAsn"));
	json_object_set_new(o, "remoteIpAddress", json_string(remote_canon));
	json_object_set(o, "remoteAsn", json_object_get(body, "remoteAsn"));
	/* PUT replaces everything: an absent key means no MD5. */
	if (auth != NULL)
		json_object_set_new(o, "authenticationKey", json_string(auth));
	else
		json_object_del(o, "authenticationKey");
	json_object_set_new(o, "lastUpdatedBy", json_string(ne_auth_actor(who)));
	json_object_set_new(o, "lastUpdatedDate", json_string(now));
	*out = o;
	return 0;
}

int
ne_peering_from_request(struct store *s, const struct ne_auth *who, json_t *body, bool create,
			const json_t *existing, json_t **out, struct ne_problem *p)
{
	int64_t conn_rev = 0;

	return build_peering(s, who, body, create, existing, out, &conn_rev, p);
}

/* 1 when a key exists, 0 when not, -1 on a store error. */
static int
key_exists(struct store *s, const char *key, struct err *err)
{
	struct store_kv kv;
	int rc = store_get(s, key, &kv, err);

	if (rc == STORE_OK)
		store_kv_clear(&kv);
	return rc == STORE_OK ? 1 : rc == STORE_NOTFOUND ? 0 : -1;
}

/*
 * Whether a connection's claim is free to take: absent, or left by a peering that is
 * gone (an agent finishing a deletion removes the record and its key, not the claim:
 * its writes are queued without compares, see agent/peerings.c). Adds to c what keeps
 * it so: the claim as read and, for a left claim, its peering's absence. 1 free, 0 held
 * by a peering that exists, -1 on a store error.
 */
static int
claim_free(struct store *s, const char *ckey, char *oldkey, struct store_cmp *c, size_t *nc,
	   struct err *err)
{
	json_t *claim;
	int64_t crev = 0;
	int rc = get_rec(s, ckey, &claim, &crev, NULL, err);

	if (rc == STORE_ERR)
		return -1;
	c[(*nc)++] = (struct store_cmp){.key = ckey, .mod_rev = rc == STORE_OK ? crev : 0};
	if (rc != STORE_OK)
		return 1;
	ne_key(oldkey, KEY_MAX, "bgp", json_string_value(json_object_get(claim, "peering")) ?: "");
	json_decref(claim);
	if ((rc = key_exists(s, oldkey, err)) != 0)
		return rc < 0 ? -1 : 0;
	c[(*nc)++] = (struct store_cmp){.key = oldkey, .mod_rev = 0};
	return 1;
}

/*
 * The two writes of a peering o (which loses its authenticationKey): the
 * record, and the key apart -- put, or deleted when there is none. texts[0..1]
 * are the caller's to free.
 */
static void
peering_ops(json_t *o, char *rkey, char *skey, char **texts, struct store_op *ops)
{
	const char *uuid = json_string_value(json_object_get(o, "uuid")) ?: "";
	json_t *k = json_incref(json_object_get(o, "authenticationKey"));

	ne_key(rkey, KEY_MAX, "bgp", uuid);
	ne_secret_key(skey, KEY_MAX, uuid);
	json_object_del(o, "authenticationKey");
	texts[0] = dump(o);
	ops[0] = (struct store_op){.type = STORE_OP_PUT, .key = rkey, .value = texts[0]};
	if (k != NULL) {
		json_t *sec = json_pack("{s:O}", "authenticationKey", k);

		texts[1] = dump(sec);
		json_decref(sec);
		ops[1] = (struct store_op){.type = STORE_OP_PUT, .key = skey, .value = texts[1]};
	} else {
		texts[1] = NULL;
		ops[1] = (struct store_op){.type = STORE_OP_DELETE, .key = skey};
	}
	json_decref(k);
}

int
ne_peering_create(struct store *s, const struct ne_auth *who, json_t *body, char *uuid,
		  int64_t *rev, struct ne_problem *p)
{
	char rkey[KEY_MAX], skey[KEY_MAX], ckey[KEY_MAX], connkey[KEY_MAX], oldkey[KEY_MAX];
	char *texts[3];
	struct store_cmp c[3];
	struct store_op ops[3];
	int64_t conn_rev = 0;
	size_t nc = 0;
	const char *conn;
	json_t *o, *claim;
	struct err err;
	int rc, free_;

	if (build_peering(s, who, body, true, NULL, &o, &conn_rev, p) != 0)
		return -1;
	conn = json_string_value(json_object_get(o, "connectionUuid"));
	snprintf(uuid, NE_UUID_LEN + 1, "%s", json_string_value(json_object_get(o, "uuid")));
	claim_key(ckey, sizeof(ckey), conn);
	ne_key(connkey, sizeof(connkey), "connection", conn);
	/* The claim must be free and the connection as we read it (still there, still the
	 * tenant's): then the peering, its key and the claim land together. */
	if ((free_ = claim_free(s, ckey, oldkey, c, &nc, &err)) <= 0) {
		if (free_ < 0)
			store_problem(p, &err);
		else
			problem(p, 409, "CONFLICT", "connectionUuid",
				"connection '%s' already has a BGP peering (one being deleted "
				"holds it until it is gone)", conn);
		json_decref(o);
		return -1;
	}
	c[nc++] = (struct store_cmp){.key = connkey, .mod_rev = conn_rev};
	peering_ops(o, rkey, skey, texts, ops);
	claim = json_pack("{s:s}", "peering", uuid);
	texts[2] = dump(claim);
	json_decref(claim);
	ops[2] = (struct store_op){.type = STORE_OP_PUT, .key = ckey, .value = texts[2]};
	rc = txn(s, c, nc, ops, 3, rev, &err);
	for (int i = 0; i < 3; i++)
		free(texts[i]);
	if (rc == STORE_FAILED) {
		nc = 0;
		free_ = claim_free(s, ckey, oldkey, c, &nc, &err);
		if (free_ < 0)
			rc = store_problem(p, &err);
		else if (free_ == 0)
			rc = problem(p, 409, "CONFLICT", "connectionUuid",
				     "connection '%s' already has a BGP peering (one being deleted "
				     "holds it until it is gone)", conn);
		else
			rc = problem(p, 409, "CONFLICT", "connectionUuid",
				     "connection '%s' changed while the peering was created; try "
				     "again", conn);
	} else if (rc != STORE_OK) {
		rc = store_problem(p, &err);
	}
	json_decref(o);
	return rc == STORE_OK ? 0 : -1;
}

static int
raced(struct ne_problem *p)
{
	return problem(p, 409, "CONFLICT", NULL,
		       "the peering changed while this request ran (updated or deleted by another "
		       "request); read it again and retry");
}

int
ne_peering_replace(struct store *s, const struct ne_auth *who, const json_t *cur, int64_t cur_rev,
		   json_t *body, int64_t *rev, struct ne_problem *p)
{
	char rkey[KEY_MAX], skey[KEY_MAX], *texts[2];
	struct store_cmp c = {.key = rkey, .mod_rev = cur_rev};
	struct store_op ops[2];
	struct err err;
	json_t *o;
	int rc;

	if (json_is_true(json_object_get(cur, "deleting")))
		return problem(p, 409, "CONFLICT", "uuid", "the peering is being deleted");
	if (build_peering(s, who, body, false, cur, &o, NULL, p) != 0)
		return -1;
	/* Written only over the revision it was built from: a DELETE or another PUT that
	 * landed meanwhile is never undone. */
	peering_ops(o, rkey, skey, texts, ops);
	rc = txn(s, &c, 1, ops, 2, rev, &err);
	free(texts[0]);
	free(texts[1]);
	json_decref(o);
	if (rc == STORE_FAILED)
		return raced(p);
	return rc == STORE_OK ? 0 : store_problem(p, &err);
}

int
ne_peering_delete(struct store *s, const struct ne_auth *who, const json_t *cur, int64_t cur_rev,
		  struct ne_problem *p)
{
	const char *node = json_string_value(json_object_get(cur, "node")) ?: "";
	const char *uuid = json_string_value(json_object_get(cur, "uuid")) ?: "";
	char key[KEY_MAX], now[32], *text;
	struct key agent;
	struct err err;
	int held, alive, rc;

	/* Nothing holds it when no agent took it up (no status yet) or its node has no agent:
	 * it goes at once. Otherwise the agent closes the session (Cease) and removes it. */
	snprintf(key, sizeof(key), KEY_ROOT "status/%s/peering/%s", node, uuid);
	key_agent(&agent, node);
	if ((held = key_exists(s, key, &err)) < 0 || (alive = key_exists(s, agent.s, &err)) < 0)
		return store_problem(p, &err);
	if (!held || !alive) {
		rc = peering_remove_txn(s, cur, cur_rev, &err);
	} else if (json_is_true(json_object_get(cur, "deleting"))) {
		return 0;
	} else {
		json_t *o = json_deep_copy(cur);
		char rkey[KEY_MAX];
		struct store_cmp c = {.key = rkey, .mod_rev = cur_rev};
		struct store_op op = {.type = STORE_OP_PUT, .key = rkey};

		ne_key(rkey, sizeof(rkey), "bgp", uuid);
		now_iso(now, sizeof(now));
		json_object_set_new(o, "deleting", json_true());
		json_object_set_new(o, "lastUpdatedBy", json_string(ne_auth_actor(who)));
		json_object_set_new(o, "lastUpdatedDate", json_string(now));
		op.value = text = dump(o);
		rc = txn(s, &c, 1, &op, 1, NULL, &err);
		free(text);
		json_decref(o);
	}
	if (rc == STORE_FAILED)
		return raced(p);
	return rc == STORE_OK ? 0 : store_problem(p, &err);
}

/* No agent record for the node, and the last change is older than the deadline. */
static bool
agent_missing(struct store *s, const char *node, json_t *stored)
{
	const char *when = json_string_value(json_object_get(stored, "lastUpdatedDate"));
	struct key key;
	struct err err;
	struct tm tm = {0};

	if (node == NULL || when == NULL || strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL ||
	    time(NULL) - timegm(&tm) < NE_AGENT_DEADLINE)
		return false;
	key_agent(&key, node);
	return key_exists(s, key.s, &err) == 0;
}

void
ne_device_status(struct store *s, json_t *dev)
{
	const char *node = json_string_value(json_object_get(dev, "node"));
	const char *uuid = json_string_value(json_object_get(dev, "uuid"));
	json_t *st = NULL, *size = NULL;
	struct store_kv kv;
	struct err err;
	char key[KEY_MAX];

	snprintf(key, sizeof(key), KEY_ROOT "status/%s/device/%s", node ? node : "", uuid ? uuid : "");
	if (store_get(s, key, &kv, &err) == STORE_OK) {
		st = json_loads(kv.value, 0, NULL);
		store_kv_clear(&kv);
	}
	if (json_is_integer(json_object_get(st, "ipv4")) &&
	    json_is_integer(json_object_get(st, "ipv6")))
		size = json_pack("{s:O, s:O}", "ipv4", json_object_get(st, "ipv4"), "ipv6",
				 json_object_get(st, "ipv6"));
	json_object_set_new(dev, "routingTableSize", size ? size : json_null());
	json_decref(st);
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
				    json_string("the agent of the connection's node is not running"));
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
		if (json_string_length(json_object_get(st, "info")) > 0 &&
		    strcmp(json_string_value(json_object_get(st, "state")) ?: "", "Established") != 0)
			json_object_set(v, "stateReason", json_object_get(st, "info"));
	}
	json_decref(st);
	return v;
}
