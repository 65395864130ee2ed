/* Log lines: text and JSON formats, the journal's form, the level changed at run time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

static int real_stderr = -1;

/*
 * stderr goes to a fresh file until captured() reads it back (so that cmocka's own
 * failure messages reach the real stderr); JOURNAL_STREAM names the file when journal
 * is true, and another stream otherwise.
 */
static void
capture(enum log_format fmt, bool journal)
{
	char path[] = "/tmp/tabby-test-log-XXXXXX", js[64];
	struct stat st;
	int fd;

	fflush(stderr);
	if (real_stderr < 0)
		real_stderr = dup(2);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	unlink(path);
	assert_int_equal(fstat(2, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)(journal ? st.st_ino : st.st_ino + 1));
	setenv("JOURNAL_STREAM", js, 1);
	log_init(fmt);
}

/* What was logged since capture(). */
static const char *
captured(void)
{
	static char buf[4096];
	ssize_t n;

	fflush(stderr);
	n = pread(2, buf, sizeof(buf) - 1, 0);
	dup2(real_stderr, 2);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void
test_json_line(void **state)
{
	(void)state;
	capture(LOG_FMT_JSON, false);
	log_set_prefix("tabbyd");
	log_set_level(LOG_LVL_INFO);
	/* A peer's text with a quote, a backslash, a newline and an escape sequence. */
	log_info("peer said \"%s\"", "bye \\ now\n\x1b[2J");
	const char *out = captured();
	assert_non_null(strstr(out, "\"level\":\"info\",\"program\":\"tabbyd\",\"msg\":"
				    "\"peer said \\\"bye \\\\ now\\\\n\\\\x1b[2J\\\"\"}\n"));
	assert_true(strncmp(out, "{\"time\":\"", 9) == 0);
	/* One line: the newline the peer sent is escaped, not written. */
	assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
}

static void
test_journal_lines(void **state)
{
	const char *out;

	(void)state;
	capture(LOG_FMT_TEXT, true);
	log_set_prefix("tabbyd");
	log_info("node up");
	log_warnx("peer %s: hold timer expired", "192.0.2.2");
	log_debug("not shown at info");
	log_error("control socket %s: %s", "/run/tabby/n1.sock", "Permission denied");
	assert_string_equal(captured(), "<6>tabbyd info: node up\n"
					"<4>tabbyd warning: peer 192.0.2.2: hold timer expired\n"
					"<3>tabbyd error: control socket /run/tabby/n1.sock: "
					"Permission denied\n");
	capture(LOG_FMT_JSON, true);
	log_info("node up");
	assert_string_equal(captured(), "<6>{\"level\":\"info\",\"program\":\"tabbyd\",\"msg\":\"node up\"}\n");
	/* JOURNAL_STREAM naming another stream: ordinary lines, with the time. */
	capture(LOG_FMT_TEXT, false);
	log_info("node up");
	out = captured();
	assert_true(out[0] == '2' && strstr(out, " tabbyd info: node up\n") != NULL);
}

static void
test_level_changes(void **state)
{
	enum log_level l;
	enum log_format f;

	(void)state;
	capture(LOG_FMT_TEXT, true);
	log_set_prefix("tabbyd");
	log_set_level(LOG_LVL_WARN);
	assert_int_equal(log_get_level(), LOG_LVL_WARN);
	log_info("dropped");
	log_set_level(LOG_LVL_DEBUG);
	log_debug("kept");
	assert_string_equal(captured(), "<7>tabbyd debug: kept\n");
	assert_string_equal(log_level_name(LOG_LVL_WARN), "warn");
	assert_int_equal(log_parse_level("error", &l), 0);
	assert_int_equal(l, LOG_LVL_ERROR);
	assert_int_equal(log_parse_level("loud", &l), -1);
	assert_int_equal(log_parse_format("json", &f), 0);
	assert_int_equal(f, LOG_FMT_JSON);
	assert_int_equal(log_parse_format("xml", &f), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_journal_lines),
		cmocka_unit_test(test_level_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
