/*
 * addr: IPv4/IPv6 addresses and prefixes, parsed strictly and printed in
 * canonical form (RFC 5952 for IPv6), plus the "ADDR-LEN" form used in
 * datastore keys.
 */
#ifndef TABBY_ADDR_H
#define TABBY_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

#define ADDR_STRLEN 46    /* INET6_ADDRSTRLEN */
#define PREFIX_STRLEN 50  /* address, separator, length */

struct addr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t b[16];    /* network order; IPv4 uses the first 4 bytes */
};

struct prefix {
	struct addr addr;
	uint8_t len;
};

int addr_parse(const char *s, struct addr *out);
void addr_format(const struct addr *a, char buf[ADDR_STRLEN]);
/* Orders IPv4 before IPv6, then numerically. */
int addr_cmp(const struct addr *a, const struct addr *b);
bool addr_is_v4(const struct addr *a);
/* Why the address cannot be a BGP peer or local address, or NULL if it can. */
const char *addr_not_unicast(const struct addr *a);
unsigned addr_bits(const struct addr *a);
/* A 32-bit value (host order), such as a BGP identifier, as an IPv4 address. */
void addr_from_u32(uint32_t v, struct addr *out);
/* An IPv4 address as a number (BGP identifiers). */
uint32_t addr_to_u32(const struct addr *a);

/* An interface address with its subnet length, "192.0.2.1/29" (host bits allowed). */
int addr_parse_cidr(const char *s, struct addr *a, unsigned *len);
/* "A.B.C.D/N" or "X::/N"; host bits must be zero. */
int prefix_parse(const char *s, struct prefix *out, struct err *err);
void prefix_format(const struct prefix *p, char buf[PREFIX_STRLEN]);
/* Key form: "203.0.113.0-24". */
void prefix_key(const struct prefix *p, char buf[PREFIX_STRLEN]);
int prefix_cmp(const struct prefix *a, const struct prefix *b);

#endif
