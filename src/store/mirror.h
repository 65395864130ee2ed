/*
 * store mirror and feed: a copy in memory of one prefix of the datastore, kept
 * current off the caller's thread, so that an event loop reads its configuration
 * without ever waiting on the datastore.
 *
 * A mirror is a read-only store (struct store_ops, so every model reader runs
 * against it unchanged): range and get answer from memory; writes, leases and
 * watches fail. It is loaded from one full read (a snapshot at revision R) and
 * then follows the watch events after R in order: a put replaces the key's value
 * and revisions, a delete removes the key. An event at or below the snapshot's
 * revision is already in it and is skipped, so nothing is applied twice. Keys
 * under a skipped prefix (given at creation) are left out. Secret values
 * (STORE_SECRET_PREFIX) are wiped when replaced or removed.
 *
 * A feed runs the datastore side on a thread of its own, with its own handle:
 * the watch from R+1, and after STORE_COMPACTED a full re-read and a new watch
 * from that read's revision. What arrives waits in the feed until the owner's
 * thread, woken through store_feed_fd, moves it into its mirror with
 * store_feed_take, which never blocks on the datastore. A re-read replaces the
 * mirror whole (with the events after it). A failed read or watch is retried
 * with back-off; the mirror keeps what it has (a failed read never means "gone").
 */
#ifndef TABBY_STORE_MIRROR_H
#define TABBY_STORE_MIRROR_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* skip: keys starting with it are not kept (NULL: keep all). Free with store_close. */
struct store *store_mirror_new(const char *skip);
/* Replaces the contents with kvs (a snapshot at kvs->rev); takes kvs's entries. */
void store_mirror_load(struct store *m, struct store_kvs *kvs);
/* Applies evs in order, taking their entries; returns how many changed the mirror. */
size_t store_mirror_apply(struct store *m, struct store_events *evs);
/* The newest revision the mirror reflects. */
int64_t store_mirror_rev(const struct store *m);
size_t store_mirror_count(const struct store *m);
/* Bumped by every load and every applied event: equal values, equal contents. */
uint64_t store_mirror_generation(const struct store *m);
/*
 * Counts the changes under prefix from now on (a load counts for every prefix), so that
 * a reader can keep what it parsed from there while the count stays the same. Returns
 * the id for store_mirror_changes.
 */
int store_mirror_track(struct store *m, const char *prefix);
uint64_t store_mirror_changes(const struct store *m, int id);

/*
 * The keys changed since the last take (a reader looks at those alone), at most
 * STORE_JOURNAL_MAX; all is set when it cannot tell which: a load replaced the contents,
 * more keys changed, or nothing was taken yet. out owns the keys: store_journal_free.
 */
#define STORE_JOURNAL_MAX 64
struct store_journal {
	char *keys[STORE_JOURNAL_MAX];
	size_t n;
	bool all;
};
void store_mirror_journal_take(struct store *m, struct store_journal *out);
void store_journal_free(struct store_journal *j);

struct store_feed;

struct store_feed_stats {
	uint64_t errors;  /* failed reads and watch reads */
	uint64_t resyncs; /* full re-reads after a compaction */
	bool failing;	  /* the last attempt failed */
	char last_error[256];
};

/*
 * Follows prefix of the datastore at url from start_rev on (the revision after the
 * snapshot the caller loaded). skip as for store_mirror_new. Opening connects no
 * more than store_open does; the thread does the rest.
 */
int store_feed_open(struct store_feed **out, const char *url, const char *prefix, const char *skip,
		    int64_t start_rev, struct err *err);
/* Readable when something waits for store_feed_take. */
int store_feed_fd(struct store_feed *f);
/*
 * Moves what arrived into m. Returns true when m changed (a re-read counts as a
 * change); *resynced tells whether a re-read replaced it. Never blocks.
 */
bool store_feed_take(struct store_feed *f, struct store *m, bool *resynced);
void store_feed_stats(struct store_feed *f, struct store_feed_stats *out);
void store_feed_close(struct store_feed *f);

#endif
