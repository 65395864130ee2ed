#include "tmp_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
tmp_dir_make(char dir[TMP_DIR_LEN])
{
	snprintf(dir, TMP_DIR_LEN, "/tmp/tabby-test-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
tmp_store_open(struct store **s, char dir[TMP_DIR_LEN])
{
	char url[TMP_DIR_LEN + 16];
	struct err err;

	if (tmp_dir_make(dir) != 0)
		return -1;
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	if (store_open(s, url, &err) != STORE_OK) {
		fprintf(stderr, "%s\n", err.msg);
		tmp_store_close(NULL, dir);
		return -1;
	}
	return 0;
}

int
tmp_store_close(struct store *s, const char *dir)
{
	char cmd[TMP_DIR_LEN + 16];

	if (s != NULL)
		store_close(s);
	/* The name is mkdtemp's: no character the shell would read. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
tmp_fx_setup(void **state)
{
	struct tmp_fx *f = calloc(1, sizeof(*f));

	if (f == NULL || tmp_store_open(&f->s, f->dir) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int
tmp_fx_teardown(void **state)
{
	struct tmp_fx *f = *state;
	int rc = tmp_store_close(f->s, f->dir);

	free(f);
	return rc;
}
