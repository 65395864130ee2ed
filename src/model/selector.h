/*
 * selector: Calico's label selector language, parsed once into a tree and
 * then matched against a set of labels (a JSON object of string values).
 *
 *   k == 'v'   k != 'v'   has(k)   !has(k)   k in {'a', 'b'}   k not in {...}
 *   k contains 's'   k starts with 's'   k ends with 's'   all()
 *   !e   e && e   e || e   (e)
 *
 * Precedence, tightest first: !, &&, ||. A missing label matches != and
 * "not in"; every other test of a missing label is false. An empty
 * selector (only blanks) is all().
 */
#ifndef TABBY_SELECTOR_H
#define TABBY_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

struct sel;

/*
 * NULL on a syntax error: err then names the 1-based character position,
 * what was found there and what was expected there; *pos (if not NULL)
 * gets the same position.
 */
struct sel *sel_parse(const char *text, size_t *pos, struct err *err);
void sel_free(struct sel *s);
/* labels: a JSON object whose string members are the labels; NULL is none. */
bool sel_match(const struct sel *s, json_t *labels);
/* The canonical text of a tree (fully parenthesised), for tests and logs. */
void sel_format(const struct sel *s, char *buf, size_t len);

#endif
