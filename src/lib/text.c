/* Peer-supplied text made printable (RFC 9003 §5). */
#include "lib/text.h"

#include <stdio.h>
#include <string.h>

size_t
text_utf8_seq(const uint8_t *s, size_t n)
{
	size_t need;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, surrogates or values past U+10FFFF (RFC 3629 §3). */
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

static uint32_t
code_point(const uint8_t *s, size_t n)
{
	static const uint8_t lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	uint32_t cp = s[0] & lead_mask[n];

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* Characters that look like nothing but move or break what follows them. */
static bool
invisible_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||            /* C1 controls */
	       cp == 0x200e || cp == 0x200f ||          /* LRM, RLM */
	       (cp >= 0x202a && cp <= 0x202e) ||        /* embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||        /* isolates */
	       cp == 0x2028 || cp == 0x2029;            /* line and paragraph separators */
}

bool
text_escape(const void *in, size_t len, char *out, size_t outlen)
{
	const uint8_t *s = in;
	size_t o = 0;
	bool valid = true;

	if (outlen == 0)
		return false;
	for (size_t i = 0; i < len;) {
		size_t step = text_utf8_seq(s + i, len - i);
		char esc[16];
		const char *piece = esc;
		size_t plen;

		if (step == 0) {
			valid = false;
			snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
			step = 1;
		} else if (step == 1 && (s[i] < 0x20 || s[i] == 0x7f)) {
			if (s[i] == '\n')
				piece = "\\n";
			else if (s[i] == '\r')
				piece = "\\r";
			else if (s[i] == '\t')
				piece = "\\t";
			else
				snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
		} else if (step > 1 && invisible_control(code_point(s + i, step))) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)code_point(s + i, step));
		} else {
			piece = (const char *)s + i;
		}
		plen = piece == (const char *)s + i ? step : strlen(piece);
		if (o + plen >= outlen)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += step;
	}
	out[o] = '\0';
	return valid;
}
