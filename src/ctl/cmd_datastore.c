/*
 * tabbyctl datastore: copy tabby's keys between datastores (migrate) and to
 * and from a file (backup, restore).
 *
 * What is copied: every key under /tabby/ with its value byte for byte, read
 * in one range (one revision: a consistent snapshot). Keys attached to a
 * lease are left out: they are the agents' live status records, which vanish
 * when their agent stops and which every running agent publishes again under a
 * lease of its own in the target.
 *
 * A target that already holds keys under /tabby/ is refused unless --force,
 * which replaces them. Writes go in transactions of CHUNK operations, below
 * etcd's default --max-txn-ops (128).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"

#define DS_PREFIX "/tabby/"
#define CHUNK 100
#define BACKUP_FORMAT 1

const char ctl_datastore_help[] =
    "\n"
    "Usage:\n"
    "  tabbyctl datastore migrate --from=<URL> --to=<URL> [--force]\n"
    "  tabbyctl datastore backup <FILE>\n"
    "  tabbyctl datastore restore <FILE> [--force]\n"
    "\n"
    "\n"
    "Description:\n"
    "  Copy every tabby key (under /tabby/) and its value: from one datastore to\n"
    "  another (e.g. from the embedded sqlite: store to etcd://), to a backup file\n"
    "  (JSON, mode 0600: it holds the peers' MD5 keys) or from one into the\n"
    "  datastore given by --datastore. Keys held by a lease (the agents' live status)\n"
    "  are not copied; running agents publish them again.\n"
    "\n"
    "Options:\n"
    " --from=<URL>            The datastore to copy from (only read).\n"
    " --to=<URL>              The datastore to copy into.\n"
    " --force                 Replace what the target already holds under /tabby/\n"
    "                         (without it, a target that is not empty is refused).\n"
    "\n";

struct snapshot {
	json_t *keys; /* [{"key": ..., "value": ...}] */
	size_t leased;
	int64_t rev;
};

static int
snapshot_take(struct store *s, struct snapshot *snap)
{
	struct store_kvs kvs;
	struct err err;

	memset(snap, 0, sizeof(*snap));
	if (store_range(s, DS_PREFIX, &kvs, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	snap->keys = json_array();
	snap->rev = kvs.rev;
	for (size_t i = 0; i < kvs.n; i++) {
		if (kvs.v[i].lease != 0) {
			snap->leased++;
			continue;
		}
		json_array_append_new(snap->keys, json_pack("{s:s, s:s}", "key", kvs.v[i].key,
							    "value", kvs.v[i].value));
	}
	store_kvs_free(&kvs);
	return CTL_EXIT_OK;
}

/* Writes the snapshot into s, after checking (or, with force, clearing) what is there. */
static int
snapshot_write(struct store *s, const char *url, const struct snapshot *snap, bool force)
{
	struct store_op ops[CHUNK];
	struct store_kvs there;
	struct err err;
	size_t n = json_array_size(snap->keys);

	if (store_range(s, DS_PREFIX, &there, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	if (there.n > 0 && !force) {
		size_t k = there.n;

		store_kvs_free(&there);
		return ctl_fail(
		    "Datastore %s already holds %zu keys under %s; refusing to mix them "
		    "with the copy (--force replaces them).",
		    url, k, DS_PREFIX);
	}
	store_kvs_free(&there);
	if (force && store_delete_prefix(s, DS_PREFIX, &err) == STORE_ERR)
		return ctl_fail("%s", err.msg);
	for (size_t i = 0; i < n; i += CHUNK) {
		struct store_txn t = {.ops = ops};

		for (size_t j = i; j < n && j < i + CHUNK; j++) {
			json_t *e = json_array_get(snap->keys, j);

			ops[t.nops++] = (struct store_op){
			    .type = STORE_OP_PUT,
			    .key = json_string_value(json_object_get(e, "key")),
			    .value = json_string_value(json_object_get(e, "value")),
			};
		}
		if (store_txn(s, &t, NULL, &err) != STORE_OK)
			return ctl_fail("%s (after %zu of %zu keys; run again with --force)",
					err.msg, i, n);
	}
	return CTL_EXIT_OK;
}

static void
report(const char *verb, const struct snapshot *snap, const char *where)
{
	printf("%s %zu keys %s.", verb, json_array_size(snap->keys), where);
	if (snap->leased > 0)
		printf(" Left out %zu live status keys held by leases (running agents publish "
		       "them again).",
		       snap->leased);
	printf("\n");
}

static int
open_url(const char *url, bool existing, struct store **s)
{
	struct err err;

	if ((existing ? store_open_existing : store_open)(s, url, &err) != STORE_OK)
		return ctl_fail("%s", err.msg);
	return CTL_EXIT_OK;
}

static int
migrate(struct ctl *c)
{
	const char *from = c->args.val[OPT_FROM], *to = c->args.val[OPT_TO];
	struct store *src = NULL, *dst = NULL;
	struct snapshot snap = {0};
	int rc;

	if (from == NULL || to == NULL)
		return ctl_usage_error(c,
				       "Missing --from or --to. Usage: tabbyctl datastore migrate "
				       "--from=<URL> --to=<URL> [--force]");
	if (strcmp(from, to) == 0)
		return ctl_usage_error(c, "--from and --to are the same datastore (%s).", from);
	if ((rc = open_url(from, true, &src)) != CTL_EXIT_OK ||
	    (rc = snapshot_take(src, &snap)) != CTL_EXIT_OK ||
	    (rc = open_url(to, false, &dst)) != CTL_EXIT_OK ||
	    (rc = snapshot_write(dst, to, &snap, c->args.seen & OPTF(OPT_FORCE))) != CTL_EXIT_OK)
		goto out;
	{
		char where[600];

		snprintf(where, sizeof(where), "from %s to %s", from, to);
		report("Copied", &snap, where);
	}
out:
	json_decref(snap.keys);
	store_close(src);
	store_close(dst);
	return rc;
}

static int
backup(struct ctl *c)
{
	const char *file = c->vars[0];
	struct snapshot snap;
	struct store *s;
	char tmp[4096];
	json_t *doc;
	int fd, rc;

	if ((s = ctl_store(c)) == NULL)
		return CTL_EXIT_FAIL;
	if ((rc = snapshot_take(s, &snap)) != CTL_EXIT_OK)
		return rc;
	doc = json_pack("{s:i, s:I, s:o}", "tabby_backup", BACKUP_FORMAT, "revision",
			(json_int_t)snap.rev, "keys", json_incref(snap.keys));
	/* Written beside the target and renamed: a failed backup never leaves half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", file);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = ctl_fail("Cannot write the backup %s: %s.", file, strerror(errno));
	} else if (json_dumpfd(doc, fd, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
		   write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0 ||
		   rename(tmp, file) != 0) {
		rc = ctl_fail("Cannot write the backup %s: %s.", file, strerror(errno));
		unlink(tmp);
	} else {
		{
			char where[4200];

			snprintf(where, sizeof(where), "to %s", file);
			report("Backed up", &snap, where);
		}
	}
	json_decref(doc);
	json_decref(snap.keys);
	return rc;
}

static int
restore(struct ctl *c)
{
	const char *file = c->vars[0], *url;
	struct snapshot snap = {0};
	char buf[4096];
	json_error_t jerr;
	struct store *s;
	json_t *doc, *e;
	size_t i;
	int rc;

	doc = json_load_file(file, 0, &jerr);
	if (doc == NULL)
		return ctl_fail("Cannot read the backup %s: %s (line %d).", file, jerr.text,
				jerr.line);
	if (json_integer_value(json_object_get(doc, "tabby_backup")) != BACKUP_FORMAT ||
	    !json_is_array(json_object_get(doc, "keys"))) {
		json_decref(doc);
		return ctl_fail("%s is not a tabby backup (format %d: an object with "
				"\"tabby_backup\": %d and \"keys\").",
				file, BACKUP_FORMAT, BACKUP_FORMAT);
	}
	snap.keys = json_incref(json_object_get(doc, "keys"));
	json_decref(doc);
	json_array_foreach(snap.keys, i, e)
	{
		const char *k = json_string_value(json_object_get(e, "key"));
		struct err err;

		if (k == NULL || json_string_value(json_object_get(e, "value")) == NULL ||
		    strncmp(k, DS_PREFIX, strlen(DS_PREFIX)) != 0 ||
		    store_key_check(k, &err) != 0) {
			json_decref(snap.keys);
			return ctl_fail("%s: entry %zu is not a key under %s with a string value.",
					file, i + 1, DS_PREFIX);
		}
	}
	if ((s = ctl_store(c)) == NULL) {
		json_decref(snap.keys);
		return CTL_EXIT_FAIL;
	}
	url = store_url_default(c->args.val[OPT_DATASTORE], buf, sizeof(buf));
	rc = snapshot_write(s, url, &snap, c->args.seen & OPTF(OPT_FORCE));
	if (rc == CTL_EXIT_OK) {
		char where[4200];

		snprintf(where, sizeof(where), "from %s", file);
		report("Restored", &snap, where);
	}
	json_decref(snap.keys);
	return rc;
}

const struct ctl_cmd ctl_datastore_cmds[] = {
    {"datastore migrate", "--from=<URL> --to=<URL> [--force]",
     OPTF(OPT_FROM) | OPTF(OPT_TO) | OPTF(OPT_FORCE), migrate},
    {"datastore backup", "<FILE>", 0, backup},
    {"datastore restore", "<FILE> [--force]", OPTF(OPT_FORCE), restore},
    {NULL, NULL, 0, NULL},
};
