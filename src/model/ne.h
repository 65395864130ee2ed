/*
 * ne: the tenant-facing resources of the peering API -- API clients (OAuth2
 * client credentials), access tokens, virtual devices, connections and BGP
 * peerings -- with their validation and datastore form. tabbyctl (operator)
 * and tabby-api (tenants) both go through here.
 *
 * Secrets: client secrets are kept only as argon2id hashes (libsodium);
 * tokens as a keyed BLAKE2b hash under a key shared through the store, so
 * several API servers accept each other's tokens.
 */
#ifndef TABBY_NE_H
#define TABBY_NE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "store/store.h"

#define NE_UUID_LEN 36
#define NE_TOKEN_TTL 3600
#define NE_NAME_MAX 64
/* A peering whose node has no running agent this long after its last change is FAILED. */
#define NE_AGENT_DEADLINE 30

#define KEY_NE KEY_ROOT_NE
#define KEY_ROOT_NE "/tabby/v1/ne/"

int ne_init(void);  /* libsodium; 0 or -1 */
void ne_uuid(char out[NE_UUID_LEN + 1]);
bool ne_uuid_valid(const char *s);
/* UUIDs compare case-insensitively (RFC 9562 §4): the lower-case form, false if not a UUID. */
bool ne_uuid_canon(const char *s, char out[NE_UUID_LEN + 1]);

/*
 * Who a token or a credential check stands for. Revisions are the store mod
 * revisions of the records the check read: a token is issued in a transaction
 * that compares them, so a remove or a rotation that lands between the check
 * and the issue makes the issue fail. Generations are bumped by rotate-secret
 * and passwd; a token records them and dies when they move.
 */
struct ne_auth {
	char client_id[NE_UUID_LEN + 1];
	char client_name[NE_NAME_MAX + 1];
	int64_t client_rev, client_gen;
	char user[NE_NAME_MAX + 1];   /* "" for a client-credentials token */
	int64_t user_rev, user_gen;
	char family[65];              /* the refresh-token family, "" for none */
	bool operator_role;           /* an operator client (api-client create --operator) */
};

/* The name a write is recorded under (createdBy / lastUpdatedBy): the user, else the client. */
const char *ne_auth_actor(const struct ne_auth *a);

/* API clients. The secret is returned once, at creation or rotation. */
int ne_client_create(struct store *s, const char *name, char *client_id, char *secret,
		     struct err *err);
/* The same with a role: an operator client may read every tenant's state (/ui/). */
int ne_client_create_role(struct store *s, const char *name, bool operator_role,
			  char *client_id, char *secret, struct err *err);
/* New secret, generation bumped: the client's tokens die at once. */
int ne_client_rotate(struct store *s, const char *client_id, char *secret, struct err *err);
/* Removes the client and its users and revokes its tokens at once; STORE_NOTFOUND if unknown. */
int ne_client_remove(struct store *s, const char *client_id, struct err *err);
int ne_client_list(struct store *s, json_t **out, struct err *err);
/* 1 when the credentials are right (a filled, user ""), 0 when not, -1 on a store error. */
int ne_client_check(struct store *s, const char *client_id, const char *secret,
		    struct ne_auth *a, struct err *err);

/* Users of a client (the provider's "user credentials"); passwords kept as argon2id hashes. */
#define NE_PASSWORD_MIN 8
#define NE_PASSWORD_MAX 128
/* password NULL: one is generated into gen (NE_PASSWORD_MAX + 1 bytes) to print once. */
int ne_user_create(struct store *s, const char *client_id, const char *name,
		   const char *password, char *gen, struct err *err);
/* New password, generation bumped: the user's tokens die at once. STORE_NOTFOUND if unknown. */
int ne_user_passwd(struct store *s, const char *client_id, const char *name,
		   const char *password, char *gen, struct err *err);
int ne_user_remove(struct store *s, const char *client_id, const char *name, struct err *err);
/* Every user (without hashes); client_id NULL: of all clients. */
int ne_user_list(struct store *s, const char *client_id, json_t **out, struct err *err);
/* After ne_client_check filled a: 1 when user/password are right (a->user set), 0, -1. */
int ne_user_check(struct store *s, struct ne_auth *a, const char *user, const char *password,
		  struct err *err);

/* Tokens: random 256 bits, hex; access tokens valid NE_TOKEN_TTL s, refresh NE_REFRESH_TTL. */
#define NE_REFRESH_TTL 86400
#define NE_TOKEN_HEX 64
struct ne_tokens {
	char access[NE_TOKEN_HEX + 1];
	char refresh[NE_TOKEN_HEX + 1];   /* "" when none was issued */
};
/*
 * Issues an access token for a (and a refresh token when a->user is set, in a
 * new family). STORE_OK; STORE_FAILED when the client or user changed since the
 * check (removed, rotated, new password); STORE_ERR.
 */
int ne_token_issue(struct store *s, const struct ne_auth *a, struct ne_tokens *out,
		   struct err *err);

enum ne_refresh_rc {
	NE_REFRESH_OK = 0,        /* out holds the new pair; a describes them */
	NE_REFRESH_INVALID = 1,   /* unknown, expired, another client's, or its user changed */
	NE_REFRESH_REUSED = 2,    /* already used: its whole family is revoked now */
};
/*
 * RFC 6749 §6 with rotation: a (filled by ne_client_check) trades refresh for a
 * new access token and a new refresh token; the old one is spent. Returns an
 * enum ne_refresh_rc, or STORE_ERR.
 */
int ne_token_refresh(struct store *s, struct ne_auth *a, const char *refresh,
		     struct ne_tokens *out, struct err *err);
/*
 * 1 valid (a filled), 0 unknown, expired or revoked (client or user gone,
 * secret rotated, password changed, family revoked), -1 store error.
 */
int ne_token_check(struct store *s, const char *token, struct ne_auth *a, struct err *err);

/*
 * The audit trail: every write by a tenant or an operator, one line with the
 * tenant, the user, the action, the resource and the result; never a secret.
 * The sink defaults to log_info; tabbyctl sends it to syslog.
 */
void ne_audit(const char *tenant, const char *user, const char *action, const char *resource,
	      const char *result);
void ne_audit_sink(void (*sink)(const char *line));

/* Devices and connections, created by the operator for a tenant (owner = client id). */
int ne_device_create(struct store *s, const char *node, const char *owner, const char *name,
		     char *uuid, struct err *err);
int ne_connection_create(struct store *s, const char *device, const char *interface,
			 const char *name, char *uuid, struct err *err);
/* A connection's limit on the prefixes its peering may receive (RFC 4486; 0: none). Without
 * one the agent applies NE_DEFAULT_MAX_PREFIXES. */
int ne_connection_set_limit(struct store *s, const char *uuid, uint32_t max_prefixes,
			    struct err *err);
/*
 * Adds to a stored device what its node's agent reports: routingTableSize, the routes
 * in the device's own table ({"ipv4": N, "ipv6": M}), or null when no agent reports one
 * (the device has no peering carried out yet, or its agent is not running).
 */
void ne_device_status(struct store *s, json_t *dev);
/* What public clouds allow on a private interconnect by default. */
#define NE_DEFAULT_MAX_PREFIXES 100
/* kind: "device", "connection" or "bgp". The stored object, or NULL (and STORE_NOTFOUND). */
int ne_get(struct store *s, const char *kind, const char *uuid, json_t **out, struct err *err);
/* ne_get that also gives the record's mod revision (its ETag). */
int ne_read(struct store *s, const char *kind, const char *uuid, json_t **out, int64_t *rev,
	    struct err *err);
/*
 * Every object of a kind, sorted by uuid; owner NULL: all tenants. Peerings
 * come with their authenticationKey (kept apart, see ne_peering_*).
 */
int ne_list(struct store *s, const char *kind, const char *owner, json_t **out, struct err *err);
/* The key of one resource: KEY_ROOT_NE KIND/ID. */
void ne_key(char *buf, size_t len, const char *kind, const char *id);
/* Where a peering's MD5 key lives: apart, under the store's no-history prefix. */
void ne_secret_key(char *buf, size_t len, const char *uuid);
/* A peering goes with its key and its claim on the connection, in one transaction. */
int ne_remove(struct store *s, const char *kind, const char *uuid, struct err *err);

/* One problem with a request, as the API reports it. */
struct ne_problem {
	int status;                 /* 400, 403, 404, 409, ... */
	char code[32];              /* errorCode */
	char message[256];          /* errorMessage */
	char property[64];          /* the field, or "" */
};

/*
 * Validates a peering body (POST: all fields; PUT: the replaceable ones) for
 * the tenant, and builds the stored object. On a problem returns -1 with p set
 * (the first one found); nothing is written.
 */
int ne_peering_from_request(struct store *s, const struct ne_auth *who, json_t *body,
			    bool create, const json_t *existing, json_t **out,
			    struct ne_problem *p);

/*
 * Peering writes. Each is one transaction that compares the revisions it read,
 * so no write is lost or doubled: a connection carries at most one peering (the
 * claim key KEY_ROOT_NE "connection_peering/<connection>" must be absent to
 * create one, and goes only with the peering itself), and a PUT or DELETE that
 * raced another write fails with 409 (nothing written). The MD5 key is stored
 * apart, under STORE_SECRET_PREFIX "ne/bgp/<uuid>", which keeps no history.
 * On success *rev is the new revision (the ETag); on failure -1 with p set.
 */
int ne_peering_create(struct store *s, const struct ne_auth *who, json_t *body, char *uuid,
		      int64_t *rev, struct ne_problem *p);
/* cur/cur_rev: the peering as read (ne_read). */
int ne_peering_replace(struct store *s, const struct ne_auth *who, const json_t *cur,
		       int64_t cur_rev, json_t *body, int64_t *rev, struct ne_problem *p);
/*
 * Deletes at once what no agent holds (never taken up, or the node has no agent);
 * otherwise marks it deleting and the agent removes it after the Cease.
 */
int ne_peering_delete(struct store *s, const struct ne_auth *who, const json_t *cur,
		      int64_t cur_rev, struct ne_problem *p);
/* The peering as the API shows it: stored fields plus provisioningStatus and state. */
json_t *ne_peering_view(struct store *s, json_t *stored);

#endif
