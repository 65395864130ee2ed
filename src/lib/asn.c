#include "lib/asn.h"

#include <stdbool.h>
#include <string.h>

/* Reads a run of decimal digits with no sign and no leading zeros; -1 on failure. */
static int
read_decimal(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

int
asn_check(uint64_t v, struct err *err)
{
	const char *why = NULL;

	if (v == 0)
		why = "AS 0 is reserved and must not be used (RFC 7607)";
	else if (v == ASN_TRANS)
		why = "AS 23456 is AS_TRANS, reserved for 4-octet AS transition (RFC 6793)";
	else if (v == 65535 || v == 4294967295u)
		why = "it is a reserved AS number (RFC 7300)";
	else if (v > 4294967295u)
		why = "it is larger than 4294967294";
	if (why == NULL)
		return 0;
	err_set(err, "%s; " ASN_ACCEPTED, why);
	return -1;
}

int
asn_parse(const char *s, uint32_t *out, struct err *err)
{
	const char *p = s;
	uint64_t hi, lo, v;

	if (s == NULL || read_decimal(&p, 99999999999ull, &hi) != 0)
		goto bad;
	if (*p == '.') {
		p++;
		/* asdot: both halves are 16-bit (RFC 5396 §1). */
		if (hi > 65535 || read_decimal(&p, 65535, &lo) != 0 || *p != '\0')
			goto bad;
		v = (hi << 16) | lo;
	} else if (*p == '\0') {
		v = hi;
	} else {
		goto bad;
	}
	if (asn_check(v, err) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
bad:
	err_set(err, "not an AS number; " ASN_ACCEPTED);
	return -1;
}
