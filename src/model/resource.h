/*
 * resource: the projectcalico.org/v3 view of the stored BGP configuration
 * (BGPPeer, BGPConfiguration, Node, BGPFilter) and the v1 Secret that a
 * BGPPeer's password.secretKeyRef names. A resource is read from and written
 * to the same keys the v0.x commands use (DESIGN.md, "Keys"), so both
 * grammars see one set of objects; metadata.resourceVersion is the key's mod
 * revision, and every write compares it (optimistic concurrency).
 *
 * Validation follows Calico's documented fields; a message names the field,
 * what was wrong and what is accepted. Fields only the v0.x grammar sets
 * (a literal --password, --import/--export, --max-prefixes, a node's listen
 * port) are not part of the v3 view and survive a v3 replace.
 */
#ifndef TABBY_RESOURCE_H
#define TABBY_RESOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "store/store.h"

struct res_kind;

enum res_verb { RES_CREATE, RES_APPLY, RES_REPLACE, RES_DELETE };

enum res_rc {
	RES_OK = 0,
	RES_ERR = -1,       /* invalid resource or datastore failure; err says which */
	RES_EXISTS = 1,     /* create: already there */
	RES_NOTFOUND = 2,   /* replace, delete, get: not there */
	RES_CONFLICT = 3,   /* resourceVersion is not the stored one */
};

/* By kind ("BGPPeer") or calicoctl's resource names ("bgppeers", "bgppeer", ...), any case. */
const struct res_kind *res_kind_find(const char *name);
/* The kind of a document, from its "kind" member; NULL with err set if absent or unknown. */
const struct res_kind *res_kind_of(json_t *doc, struct err *err);
const char *res_kind_name(const struct res_kind *k);
/* Whether get may print the kind's objects (Secrets: names only). */
bool res_kind_printable(const struct res_kind *k);

/*
 * Creates, applies (create or replace), replaces or deletes one document.
 * err is filled on every rc other than RES_OK, in Calico's words
 * ("resource already exists: BGPPeer(name)").
 */
int res_write(struct store *s, enum res_verb verb, json_t *doc, struct err *err);
/*
 * Many writes (a manifest's documents) with one scan of each kind they touch, not
 * one a document: the batch keeps the objects it saw, with its own writes applied.
 * res_batch_write answers as res_write; a write whose answer came from what the
 * batch saw earlier (exists, does not exist, a conflict) is tried once more on a
 * fresh scan. The compare-mod-revision transactions catch another writer's change
 * to the keys a write touches; one they cannot: a BGPPeer of the same name made by
 * another writer at another peerIP after the batch's scan (as before, between a
 * write's scan and its transaction, only the window is the batch's length now).
 */
struct res_batch;
struct res_batch *res_batch_open(struct store *s);
int res_batch_write(struct res_batch *b, enum res_verb verb, json_t *doc, struct err *err);
/* How many scans of a kind the batch made (one a kind, plus one a retried write). */
size_t res_batch_scans(const struct res_batch *b);
void res_batch_close(struct res_batch *b);
/* Deletes by kind and name. */
int res_delete(struct store *s, const struct res_kind *k, const char *name, struct err *err);
/* The objects of a kind (name NULL: all, sorted by name) as v3 documents, in *out. */
int res_get(struct store *s, const struct res_kind *k, const char *name, json_t **out,
	    struct err *err);
/*
 * Sets (value not NULL) or removes a label of a Node. Setting an existing
 * key to another value needs overwrite, as calicoctl's --overwrite.
 */
int res_label(struct store *s, const struct res_kind *k, const char *name, const char *key,
	      const char *value, bool overwrite, struct err *err);

/* A Go duration as Calico writes them ("120s", "2m", "1h30m"), in whole seconds. */
int res_duration_parse(const char *text, uint32_t *secs);

#endif
