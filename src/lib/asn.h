/*
 * asn: AS numbers in plain ("64512") or asdot ("1.10", RFC 5396) notation,
 * with the reserved values a BGP speaker must not use refused.
 */
#ifndef TABBY_ASN_H
#define TABBY_ASN_H

#include <stdint.h>

#include "lib/err.h"

#define ASN_TRANS 23456u
#define ASN_DEFAULT_NODE 64512u

/* What any message about a bad AS number tells the user is accepted. */
#define ASN_ACCEPTED                                                                               \
	"accepted: 1-4294967294 in plain (64512) or asdot (1.10) notation, except 23456 and 65535"

int asn_parse(const char *s, uint32_t *out, struct err *err);
/* Checks a number that arrived already parsed (JSON, the datastore). */
int asn_check(uint64_t v, struct err *err);

#endif
