/* The selector language: parse trees, matching, precedence and error positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "model/selector.h"

static bool
matches(const char *text, const char *labels_json)
{
	struct err err;
	struct sel *s = sel_parse(text, NULL, &err);
	json_t *labels = json_loads(labels_json, 0, NULL);
	bool m;

	if (s == NULL)
		fail_msg("%s", err.msg);
	assert_non_null(labels);
	m = sel_match(s, labels);
	sel_free(s);
	json_decref(labels);
	return m;
}

static void
tree_is(const char *text, const char *want)
{
	struct err err;
	struct sel *s = sel_parse(text, NULL, &err);
	char buf[256];

	if (s == NULL)
		fail_msg("%s: %s", text, err.msg);
	sel_format(s, buf, sizeof(buf));
	assert_string_equal(buf, want);
	sel_free(s);
}

static void
test_operators(void **state)
{
	const char *l = "{\"route-reflector\": \"true\", \"rack\": \"r1\", \"zone\": \"eu-west-1a\"}";

	(void)state;
	assert_true(matches("route-reflector == 'true'", l));
	assert_true(matches("route-reflector == \"true\"", l));
	assert_false(matches("route-reflector == 'false'", l));
	assert_true(matches("rack != 'r2'", l));
	assert_true(matches("missing != 'x'", l));   /* absent: != holds */
	assert_false(matches("missing == 'x'", l));
	assert_true(matches("has(rack)", l));
	assert_false(matches("has(missing)", l));
	assert_true(matches("!has(missing)", l));
	assert_true(matches("rack in {'r1', 'r2'}", l));
	assert_false(matches("rack in {'r2'}", l));
	assert_false(matches("rack in {}", l));
	assert_true(matches("rack not in {'r2', 'r3'}", l));
	assert_true(matches("missing not in {'r2'}", l));
	assert_false(matches("missing in {'r2'}", l));
	assert_true(matches("zone contains 'west'", l));
	assert_true(matches("zone starts with 'eu-'", l));
	assert_true(matches("zone ends with '1a'", l));
	assert_false(matches("zone ends with 'eu'", l));
	assert_false(matches("missing contains ''", l));
	assert_true(matches("all()", l));
	assert_true(matches("all()", "{}"));
	assert_true(matches("", "{}"));
	assert_true(matches("   ", "{}"));
	assert_true(matches("example.com/role == 'rr'", "{\"example.com/role\": \"rr\"}"));
	assert_true(matches("rack == 'r1' && (zone == 'x' || has(route-reflector))", l));
	assert_false(matches("!(rack == 'r1')", l));
}

static void
test_precedence(void **state)
{
	(void)state;
	/* && binds tighter than ||, ! tighter than &&; both associate to the left. */
	tree_is("a == 'x' || b == 'y' && c == 'z'", "(a == 'x' || (b == 'y' && c == 'z'))");
	tree_is("a == 'x' && b == 'y' || c == 'z'", "((a == 'x' && b == 'y') || c == 'z')");
	tree_is("!has(a) && b == 'y'", "(!has(a) && b == 'y')");
	tree_is("!(has(a) && b == 'y')", "!(has(a) && b == 'y')");
	tree_is("a == '1' && b == '2' && c == '3'", "((a == '1' && b == '2') && c == '3')");
	tree_is("(a == 'x' || b == 'y') && c == 'z'", "((a == 'x' || b == 'y') && c == 'z')");
	tree_is("k not in {'a','b'}", "k not in {'a', 'b'}");
	tree_is("k starts with 'a'", "k starts with 'a'");
	/* A value holding one kind of quote is written in the other (found by fuzz_selector). */
	tree_is("k == \"it's\"", "k == \"it's\"");
	tree_is("k in {\"a'b\", 'c'}", "k in {\"a'b\", 'c'}");
	/* Truth tables that only the right precedence gives. */
	assert_true(matches("a == 'x' || b == 'y' && c == 'z'", "{\"a\": \"x\"}"));
	assert_false(matches("(a == 'x' || b == 'y') && c == 'z'", "{\"a\": \"x\"}"));
	assert_true(matches("!has(a) || has(b)", "{\"b\": \"1\", \"a\": \"1\"}"));
}

static void
error_at(const char *text, size_t want_pos, const char *want_msg)
{
	struct err err;
	size_t pos = 0;
	struct sel *s = sel_parse(text, &pos, &err);

	if (s != NULL) {
		sel_free(s);
		fail_msg("'%s' parsed, but should not", text);
	}
	if (pos != want_pos)
		fail_msg("'%s': error at %zu, want %zu (%s)", text, pos, want_pos, err.msg);
	if (strstr(err.msg, want_msg) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, want_msg);
}

static void
test_errors(void **state)
{
	(void)state;
	error_at("a = 'x'", 3, "'=' at character 3; expected ==, !=, in, not in");
	error_at("a == x", 6, "'x' at character 6; expected a quoted value");
	error_at("a == 'x", 8, "end of selector at character 8; expected a closing '");
	error_at("has(a", 6, "expected ')'");
	error_at("has a", 5, "expected '(' after has");
	error_at("(a == 'x'", 10, "expected ')', && or ||");
	error_at("a == 'x' b == 'y'", 10, "expected &&, || or the end of the selector");
	error_at("a == 'x' &&", 12, "expected a label name");
	error_at("a in {'x' 'y'}", 11, "expected ',' or '}'");
	error_at("a in 'x'", 6, "expected '{'");
	error_at("a not 'x'", 7, "expected 'in' after 'not'");
	error_at("== 'x'", 1, "expected a label name");
	error_at("all(", 5, "expected '()' after all");
	error_at("a == 'x' & b == 'y'", 10, "'&' at character 10");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
