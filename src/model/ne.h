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

/* API clients. The secret is returned once, at creation or rotation. */
int ne_client_create(struct store *s, const char *name, char *client_id, char *secret,
		     struct err *err);
int ne_client_rotate(struct store *s, const char *client_id, char *secret, struct err *err);
/* Removes the client and revokes its tokens at once; STORE_NOTFOUND if unknown. */
int ne_client_remove(struct store *s, const char *client_id, struct err *err);
int ne_client_list(struct store *s, json_t **out, struct err *err);
/* 1 when the credentials are right, 0 when not, -1 on a store error. */
int ne_client_check(struct store *s, const char *client_id, const char *secret, char *name,
		    size_t namelen, struct err *err);

/* Tokens: random 256 bits, hex; valid for NE_TOKEN_TTL seconds. */
int ne_token_issue(struct store *s, const char *client_id, char *token, struct err *err);
/* 1 valid (client_id filled), 0 unknown or expired, -1 store error. */
int ne_token_check(struct store *s, const char *token, char *client_id, size_t len,
		   struct err *err);

/* Devices and connections, created by the operator for a tenant (owner = client id). */
int ne_device_create(struct store *s, const char *node, const char *owner, const char *name,
		     char *uuid, struct err *err);
int ne_connection_create(struct store *s, const char *device, const char *interface,
			 const char *name, char *uuid, struct err *err);
/* kind: "device", "connection" or "bgp". The stored object, or NULL (and STORE_NOTFOUND). */
int ne_get(struct store *s, const char *kind, const char *uuid, json_t **out, struct err *err);
/* Every object of a kind, sorted by uuid; owner NULL: all tenants. */
int ne_list(struct store *s, const char *kind, const char *owner, json_t **out, struct err *err);
/* The key of one resource: KEY_ROOT_NE KIND/ID. */
void ne_key(char *buf, size_t len, const char *kind, const char *id);
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
int ne_peering_from_request(struct store *s, const char *tenant, json_t *body, bool create,
			    const json_t *existing, json_t **out, struct ne_problem *p);
/* The peering as the API shows it: stored fields plus provisioningStatus and state. */
json_t *ne_peering_view(struct store *s, json_t *stored);

#endif
