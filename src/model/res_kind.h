/*
 * res_kind: the hook table behind resource.h, one entry per kind, and the
 * field helpers the kinds share. Internal to src/model/res_*.c.
 */
#ifndef TABBY_RES_KIND_H
#define TABBY_RES_KIND_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/keys.h"
#include "model/resource.h"

#define RES_NAME_MAX 253

/* One stored object of a kind. */
struct res_found {
	char name[RES_NAME_MAX + 1];
	char key[KEY_MAX];
	json_t *stored;   /* the stored JSON object (owned) */
	int64_t mod_rev;
};

struct res_list {
	struct res_found *v;
	size_t n, cap;    /* v grows by doubling */
};

/* How a spec field is checked, and how it is stored. */
enum res_ftype {
	RF_BOOL,
	RF_UINT,       /* min..max */
	RF_ASN,
	RF_DURATION,   /* a Go duration string, stored as written */
	RF_ENUM,       /* one of the words in accepted, separated by ", " */
	RF_NAME,       /* a resource name */
	RF_NAMES,      /* a list of resource names */
	RF_SECRETREF,  /* {secretKeyRef: {name, key}} */
	RF_CUSTOM,     /* checked by the kind's own code; stored as given */
};

struct res_field {
	const char *v3;       /* the spec member, e.g. "keepOriginalNextHop" */
	const char *stored;   /* the stored member, e.g. "keep_original_next_hop" */
	enum res_ftype type;
	int64_t min, max;
	const char *accepted; /* RF_ENUM: the words */
};

struct res_kind {
	const char *kind;            /* "BGPPeer" */
	const char *api_version;     /* "projectcalico.org/v3" */
	const char *names[8];        /* what get/delete accept, lower case; NULL ends */
	bool printable;              /* false: get prints metadata only */
	bool node_labels;            /* metadata.labels are part of the object */
	const struct res_field *fields;  /* NULL-terminated by v3 */
	/*
	 * From a document (metadata already checked): the key the object
	 * belongs at, and the stored members this view owns, in *fields.
	 */
	int (*decode)(json_t *doc, const char *name, struct key *key, json_t *fields,
		      struct err *err);
	/* Every stored object of the kind. */
	int (*scan)(struct store *s, struct res_list *out, struct err *err);
	/*
	 * The spec of a stored object (metadata is added by the caller); NULL: no
	 * spec. A kind without one gets the field table's members.
	 */
	json_t *(*encode)(const struct res_found *f);
	/* Stored members this view owns beyond the field table's, NULL-terminated. */
	const char *const *owned;
	/* A key that goes with the object when it is deleted (NULL: none). */
	void (*deleted_with)(struct key *k, const char *name);
};

extern const struct res_kind res_bgppeer, res_bgpconfig, res_node, res_bgpfilter, res_secret;

/* Calico's field error: "error with field spec.peerIP = '1.2.3' (why; accepted: ...)". */
void res_field_error(struct err *err, const char *path, json_t *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Checks every member of obj against the table, storing each into out. */
int res_fields_decode(const struct res_field *tab, json_t *obj, const char *path, json_t *out,
		      const char *const *custom, struct err *err);
/* The table's stored members back into v3 members of spec. */
void res_fields_encode(const struct res_field *tab, json_t *stored, json_t *spec);
/* A Calico resource name: letters, digits, '.', '_', '-', 1-253 characters. */
int res_name_check(const char *path, json_t *v, struct err *err);
/* Appends one object (stored parsed from kv; kept only if an object). */
void res_list_add(struct res_list *l, const char *name, const struct store_kv *kv);
void res_list_free(struct res_list *l);
/* Every key under dir is an object, named by the rest of its key. */
int res_scan_dir(struct store *s, const char *dir, struct res_list *out, struct err *err);
/* Every node's key_of(node) that exists is an object, named prefix + node. */
int res_scan_hosts(struct store *s, void (*key_of)(struct key *k, const char *node),
		   const char *prefix, struct res_list *out, struct err *err);
/* Whether s is one of a NULL-terminated list. */
bool res_in_list(const char *const *list, const char *s);
/* Kubernetes' label rules, which selectors rely on: [prefix/]name, and a value (or NULL). */
int res_label_check(const char *key, const char *value, struct err *err);
/* Parses a selector field; its errors say where in the field the problem is. */
int res_selector_check(const char *path, json_t *v, struct err *err);

#endif
