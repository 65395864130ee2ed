/*
 * store_stress: a datastore client for the crash and concurrency tests.
 *   store_stress write URL PREFIX COUNT   put PREFIX<i> for i < COUNT, printing each key
 *                                         only after its put returned (acknowledged)
 *   store_stress check URL FILE           every key listed in FILE must be present
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static int
do_write(struct store *s, const char *prefix, long count)
{
	char key[256], val[64];
	struct err err;

	for (long i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "%s%08ld", prefix, i);
		snprintf(val, sizeof(val), "{\"i\":%ld}", i);
		if (store_put(s, key, val, 0, NULL, &err) != STORE_OK) {
			fprintf(stderr, "put %s: %s\n", key, err.msg);
			return 1;
		}
		printf("%s\n", key);
		fflush(stdout);
	}
	return 0;
}

static int
do_check(struct store *s, const char *file)
{
	char line[256];
	long n = 0, missing = 0;
	FILE *f = fopen(file, "r");
	struct err err;

	if (f == NULL) {
		perror(file);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct store_kv kv;
		size_t len = strlen(line);

		/* The last line may be cut by the kill: only whole lines were acknowledged. */
		if (len == 0 || line[len - 1] != '\n')
			continue;
		line[len - 1] = '\0';
		n++;
		if (store_get(s, line, &kv, &err) != STORE_OK) {
			fprintf(stderr, "acknowledged key %s is missing\n", line);
			missing++;
			continue;
		}
		store_kv_clear(&kv);
	}
	fclose(f);
	printf("%ld acknowledged, %ld missing\n", n, missing);
	return missing != 0;
}

int
main(int argc, char **argv)
{
	struct store *s;
	struct err err;
	int rc;

	if (argc < 4 || (strcmp(argv[1], "write") == 0 && argc != 5)) {
		fprintf(stderr, "usage: store_stress write URL PREFIX COUNT | check URL FILE\n");
		return 2;
	}
	if (store_open(&s, argv[2], &err) != STORE_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (strcmp(argv[1], "write") == 0)
		rc = do_write(s, argv[3], atol(argv[4]));
	else
		rc = do_check(s, argv[3]);
	store_close(s);
	return rc;
}
