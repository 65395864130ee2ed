/*
 * libFuzzer target: the selector parser. Any text either parses, and then its
 * canonical form parses to the same tree and matches the same labels, or is
 * refused with an error position inside the text (or just past its end).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), canon[4096], again[4096];
	struct sel *s, *t;
	struct err err;
	size_t pos = 0;
	json_t *labels;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	s = sel_parse(text, &pos, &err);
	if (s == NULL) {
		if (pos < 1 || pos > strlen(text) + 1)
			abort();
		free(text);
		return 0;
	}
	sel_format(s, canon, sizeof(canon));
	if (strlen(canon) < sizeof(canon) - 1) {
		if ((t = sel_parse(canon, NULL, &err)) == NULL)
			abort();
		sel_format(t, again, sizeof(again));
		if (strcmp(canon, again) != 0)
			abort();
		labels = json_pack("{s:s, s:s}", "a", "x", "route-reflector", "true");
		if (sel_match(s, labels) != sel_match(t, labels))
			abort();
		json_decref(labels);
		sel_free(t);
	}
	sel_free(s);
	free(text);
	return 0;
}
