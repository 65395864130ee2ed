/*
 * tmp_store: a datastore for a unit test in a new temporary directory
 * (/tmp/tabby-test-XXXXXX), removed with everything in it when the test is done.
 */
#ifndef TABBY_TEST_TMP_STORE_H
#define TABBY_TEST_TMP_STORE_H

#include "store/store.h"

#define TMP_DIR_LEN 64

/* Makes a new directory and puts its path in dir; -1 with a message on stderr. */
int tmp_dir_make(char dir[TMP_DIR_LEN]);
/* Makes dir as tmp_dir_make and opens a SQLite store in it; -1 with a message on stderr. */
int tmp_store_open(struct store **s, char dir[TMP_DIR_LEN]);
/* Closes s (if any) and removes dir with everything in it; -1 if that fails. */
int tmp_store_close(struct store *s, const char *dir);

/* A cmocka fixture of just that: *state is a struct tmp_fx. */
struct tmp_fx {
	char dir[TMP_DIR_LEN];
	struct store *s;
};
int tmp_fx_setup(void **state);
int tmp_fx_teardown(void **state);

#endif
