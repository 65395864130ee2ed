#include "model/selector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

enum sel_op {
	SEL_ALL,
	SEL_HAS,
	SEL_EQ,
	SEL_NE,
	SEL_IN,
	SEL_NOT_IN,
	SEL_CONTAINS,
	SEL_STARTS,
	SEL_ENDS,
	SEL_NOT,
	SEL_AND,
	SEL_OR,
};

struct sel {
	enum sel_op op;
	char *key;
	char **vals;   /* one for ==, != and the string tests; the set for in / not in */
	size_t nvals;
	struct sel *a, *b;
};

/* A recursive-descent parser over the text; the first error stops it. */
struct parser {
	const char *text;
	size_t i;
	bool failed;
	struct err *err;
	size_t *pos;
};

static void
fail(struct parser *p, const char *expected)
{
	char found[24];

	if (p->failed)
		return;
	p->failed = true;
	if (p->text[p->i] == '\0')
		snprintf(found, sizeof(found), "end of selector");
	else
		snprintf(found, sizeof(found), "'%c'", p->text[p->i]);
	if (p->pos != NULL)
		*p->pos = p->i + 1;
	err_set(p->err, "invalid selector: %s at character %zu; expected %s", found, p->i + 1,
		expected);
}

static void
blanks(struct parser *p)
{
	while (p->text[p->i] == ' ' || p->text[p->i] == '\t' || p->text[p->i] == '\n')
		p->i++;
}

/* Consumes word (an operator or keyword) if it comes next. */
static bool
accept(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	char c;

	blanks(p);
	if (strncmp(p->text + p->i, word, n) != 0)
		return false;
	/* A keyword must not run on into a label name ("instance" is not "in"). */
	c = p->text[p->i + n];
	if (((word[n - 1] >= 'a' && word[n - 1] <= 'z')) &&
	    ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	     c == '_' || c == '-' || c == '.' || c == '/'))
		return false;
	p->i += n;
	return true;
}

static bool
key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == '/';
}

static char *
label_key(struct parser *p)
{
	size_t start;

	blanks(p);
	start = p->i;
	while (key_char(p->text[p->i]))
		p->i++;
	if (p->i == start) {
		fail(p, "a label name (letters, digits, '_', '-', '.', '/')");
		return NULL;
	}
	return strndup(p->text + start, p->i - start);
}

static char *
quoted(struct parser *p)
{
	char q;
	size_t start;

	blanks(p);
	q = p->text[p->i];
	if (q != '\'' && q != '"') {
		fail(p, "a quoted value ('...' or \"...\")");
		return NULL;
	}
	start = ++p->i;
	while (p->text[p->i] != '\0' && p->text[p->i] != q)
		p->i++;
	if (p->text[p->i] == '\0') {
		fail(p, q == '\'' ? "a closing '" : "a closing \"");
		return NULL;
	}
	p->i++;
	return strndup(p->text + start, p->i - 1 - start);
}

static struct sel *
node(enum sel_op op, char *key)
{
	struct sel *s = xcalloc(1, sizeof(*s));

	s->op = op;
	s->key = key;
	return s;
}

static void
add_val(struct sel *s, char *v)
{
	s->vals = xrealloc(s->vals, (s->nvals + 1) * sizeof(*s->vals));
	s->vals[s->nvals++] = v;
}

static struct sel *parse_or(struct parser *p);

/* { 'a', 'b' }: possibly empty. */
static void
value_set(struct parser *p, struct sel *s)
{
	if (!accept(p, "{")) {
		fail(p, "'{'");
		return;
	}
	if (accept(p, "}"))
		return;
	do {
		char *v = quoted(p);

		if (v == NULL)
			return;
		add_val(s, v);
	} while (accept(p, ","));
	if (!accept(p, "}"))
		fail(p, "',' or '}'");
}

/* has(k) / all() / a comparison; ! and ( ) are handled by the caller. */
static struct sel *
parse_test(struct parser *p)
{
	struct sel *s;
	char *key;
	static const struct {
		const char *word;
		enum sel_op op;
	} ops[] = {
		{"==", SEL_EQ}, {"!=", SEL_NE}, {"contains", SEL_CONTAINS},
		{"starts with", SEL_STARTS}, {"ends with", SEL_ENDS},
	};

	if (accept(p, "has")) {
		if (!accept(p, "(")) {
			fail(p, "'(' after has");
			return NULL;
		}
		if ((key = label_key(p)) == NULL)
			return NULL;
		s = node(SEL_HAS, key);
		if (!accept(p, ")"))
			fail(p, "')'");
		return s;
	}
	if (accept(p, "all")) {
		if (!accept(p, "(") || !accept(p, ")"))
			fail(p, "'()' after all");
		return node(SEL_ALL, NULL);
	}
	if ((key = label_key(p)) == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		char *v;

		if (!accept(p, ops[i].word))
			continue;
		s = node(ops[i].op, key);
		if ((v = quoted(p)) != NULL)
			add_val(s, v);
		return s;
	}
	if (accept(p, "in")) {
		s = node(SEL_IN, key);
		value_set(p, s);
		return s;
	}
	if (accept(p, "not")) {
		s = node(SEL_NOT_IN, key);
		if (!accept(p, "in"))
			fail(p, "'in' after 'not'");
		else
			value_set(p, s);
		return s;
	}
	free(key);
	fail(p, "==, !=, in, not in, contains, starts with or ends with");
	return NULL;
}

static struct sel *
parse_unary(struct parser *p)
{
	struct sel *s;

	if (accept(p, "!")) {
		s = node(SEL_NOT, NULL);
		s->a = parse_unary(p);
		return s;
	}
	if (accept(p, "(")) {
		s = parse_or(p);
		if (!p->failed && !accept(p, ")"))
			fail(p, "')', && or ||");
		return s;
	}
	return parse_test(p);
}

static struct sel *
parse_and(struct parser *p)
{
	struct sel *s = parse_unary(p);

	while (!p->failed && accept(p, "&&")) {
		struct sel *n = node(SEL_AND, NULL);

		n->a = s;
		n->b = parse_unary(p);
		s = n;
	}
	return s;
}

static struct sel *
parse_or(struct parser *p)
{
	struct sel *s = parse_and(p);

	while (!p->failed && accept(p, "||")) {
		struct sel *n = node(SEL_OR, NULL);

		n->a = s;
		n->b = parse_and(p);
		s = n;
	}
	return s;
}

struct sel *
sel_parse(const char *text, size_t *pos, struct err *err)
{
	struct parser p = {.text = text, .err = err, .pos = pos};
	struct sel *s;

	blanks(&p);
	if (text[p.i] == '\0')
		return node(SEL_ALL, NULL);
	s = parse_or(&p);
	blanks(&p);
	if (!p.failed && text[p.i] != '\0')
		fail(&p, "&&, || or the end of the selector");
	if (p.failed) {
		sel_free(s);
		return NULL;
	}
	return s;
}

void
sel_free(struct sel *s)
{
	if (s == NULL)
		return;
	sel_free(s->a);
	sel_free(s->b);
	for (size_t i = 0; i < s->nvals; i++)
		free(s->vals[i]);
	free(s->vals);
	free(s->key);
	free(s);
}

static bool
in_set(const struct sel *s, const char *v)
{
	for (size_t i = 0; i < s->nvals; i++)
		if (strcmp(s->vals[i], v) == 0)
			return true;
	return false;
}

bool
sel_match(const struct sel *s, json_t *labels)
{
	const char *v = NULL;
	size_t n, m;

	if (s->key != NULL)
		v = json_string_value(json_object_get(labels, s->key));
	switch (s->op) {
	case SEL_ALL:
		return true;
	case SEL_HAS:
		return v != NULL;
	case SEL_EQ:
		return v != NULL && strcmp(v, s->vals[0]) == 0;
	case SEL_NE:
		return v == NULL || strcmp(v, s->vals[0]) != 0;
	case SEL_IN:
		return v != NULL && in_set(s, v);
	case SEL_NOT_IN:
		return v == NULL || !in_set(s, v);
	case SEL_CONTAINS:
		return v != NULL && strstr(v, s->vals[0]) != NULL;
	case SEL_STARTS:
		return v != NULL && strncmp(v, s->vals[0], strlen(s->vals[0])) == 0;
	case SEL_ENDS:
		if (v == NULL)
			return false;
		n = strlen(v);
		m = strlen(s->vals[0]);
		return n >= m && strcmp(v + n - m, s->vals[0]) == 0;
	case SEL_NOT:
		return !sel_match(s->a, labels);
	case SEL_AND:
		return sel_match(s->a, labels) && sel_match(s->b, labels);
	case SEL_OR:
		return sel_match(s->a, labels) || sel_match(s->b, labels);
	}
	return false;
}

static void
put(char *buf, size_t len, size_t *at, const char *fmt, const char *a, const char *b)
{
	int n;

	if (*at >= len)
		return;
	n = snprintf(buf + *at, len - *at, fmt, a, b);
	if (n > 0)
		*at += (size_t)n;
}

/* A value in the quotes it can be written in: '...' unless it holds a ' itself. */
static void
put_value(char *buf, size_t len, size_t *at, const char *sep, const char *v)
{
	put(buf, len, at, strchr(v, '\'') ? "%s\"%s\"" : "%s'%s'", sep, v);
}

static void
format(const struct sel *s, char *buf, size_t len, size_t *at)
{
	static const char *const word[] = {
		[SEL_EQ] = "==", [SEL_NE] = "!=", [SEL_CONTAINS] = "contains",
		[SEL_STARTS] = "starts with", [SEL_ENDS] = "ends with",
	};

	switch (s->op) {
	case SEL_ALL:
		put(buf, len, at, "all()%s%s", "", "");
		break;
	case SEL_HAS:
		put(buf, len, at, "has(%s)%s", s->key, "");
		break;
	case SEL_IN:
	case SEL_NOT_IN:
		put(buf, len, at, "%s %s {", s->key, s->op == SEL_IN ? "in" : "not in");
		for (size_t i = 0; i < s->nvals; i++)
			put_value(buf, len, at, i ? ", " : "", s->vals[i]);
		put(buf, len, at, "}%s%s", "", "");
		break;
	case SEL_NOT:
		put(buf, len, at, "!%s%s", "", "");
		format(s->a, buf, len, at);
		break;
	case SEL_AND:
	case SEL_OR:
		put(buf, len, at, "(%s%s", "", "");
		format(s->a, buf, len, at);
		put(buf, len, at, " %s %s", s->op == SEL_AND ? "&&" : "||", "");
		format(s->b, buf, len, at);
		put(buf, len, at, ")%s%s", "", "");
		break;
	default:
		put(buf, len, at, "%s %s ", s->key, word[s->op]);
		put_value(buf, len, at, "", s->vals[0]);
		break;
	}
}

void
sel_format(const struct sel *s, char *buf, size_t len)
{
	size_t at = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	format(s, buf, len, &at);
}
