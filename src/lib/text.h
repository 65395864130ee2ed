/*
 * text: text that came from a peer (an RFC 9003 shutdown communication, any
 * other string in a message) made safe for a log line, a terminal and JSON.
 * One helper, used wherever such text is shown.
 */
#ifndef TABBY_TEXT_H
#define TABBY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for escaping n bytes: one byte never becomes more than four ("\xNN"). */
#define TEXT_ESCAPED_SIZE(n) ((n) * 4 + 1)

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none starts there. */
size_t text_utf8_seq(const uint8_t *s, size_t n);

/*
 * Copies len bytes of untrusted text into out (outlen bytes, always
 * NUL-terminated), as valid UTF-8 with no control characters (RFC 9003 §5):
 * \n \r \t for those, \xNN for other C0 controls, DEL and bytes that are not
 * UTF-8, \uNNNN for C1 controls and the characters that reorder or break a
 * line (bidirectional overrides, U+2028/2029). A backslash stays as it is, so
 * escaping twice changes nothing. The output is cut between escapes, never
 * inside one. Returns false if the input was not valid UTF-8.
 */
bool text_escape(const void *in, size_t len, char *out, size_t outlen);

#endif
