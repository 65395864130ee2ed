/* Peer text made printable: controls, bidirectional overrides, invalid UTF-8, cutting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/text.h"

static const char *
esc(const char *in, size_t len)
{
	static char out[TEXT_ESCAPED_SIZE(300)];

	text_escape(in, len, out, sizeof(out));
	return out;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static void
test_plain_text_unchanged(void **state)
{
	(void)state;
	assert_string_equal(ESC("maintenance until 10:00, see ticket #42"),
			    "maintenance until 10:00, see ticket #42");
	/* UTF-8 letters and a backslash stay as they are. */
	assert_string_equal(ESC("Wartung \xc3\xbc\x62\x65r Nacht \xe2\x9c\x93 C:\\path"),
			    "Wartung \xc3\xbc\x62\x65r Nacht \xe2\x9c\x93 C:\\path");
	assert_true(text_escape("ok", 2, (char[8]){0}, 8));
}

static void
test_controls_escaped(void **state)
{
	(void)state;
	/* A terminal escape that would clear the screen, newlines that forge log lines. */
	assert_string_equal(ESC("\x1b[2J\x1b[31mred\r\nfake: peer up\tx\x7f\x00y"),
			    "\\x1b[2J\\x1b[31mred\\r\\nfake: peer up\\tx\\x7f\\x00y");
	/* C1 controls (U+009B is a one-character CSI) and a right-to-left override. */
	assert_string_equal(ESC("a\xc2\x9b" "31m b\xe2\x80\xae" "cba c\xe2\x80\xa8" "d"),
			    "a\\u009b31m b\\u202ecba c\\u2028d");
}

static void
test_invalid_utf8(void **state)
{
	char out[64];

	(void)state;
	/* A lone continuation byte, a cut sequence, an overlong '/', a surrogate. */
	assert_false(text_escape("a\x80" "b\xc3", 4, out, sizeof(out)));
	assert_string_equal(out, "a\\x80b\\xc3");
	assert_string_equal(ESC("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_int_equal(text_utf8_seq((const uint8_t *)"\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(text_utf8_seq((const uint8_t *)"\xf0\x9f\x98\x80", 4), 4);
}

static void
test_idempotent_and_cut(void **state)
{
	char once[64], twice[64], small[8];
	const char in[] = "x\x1b[0m\n\xff";

	(void)state;
	text_escape(in, sizeof(in) - 1, once, sizeof(once));
	text_escape(once, strlen(once), twice, sizeof(twice));
	assert_string_equal(once, twice);
	/* Cut between escapes, never inside one: "ab" then "\x1b" does not fit in 8. */
	text_escape("ab\x1b\x1b", 4, small, sizeof(small));
	assert_string_equal(small, "ab\\x1b");
	text_escape("\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93", 9, small, sizeof(small));
	assert_string_equal(small, "\xe2\x9c\x93\xe2\x9c\x93");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_idempotent_and_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
