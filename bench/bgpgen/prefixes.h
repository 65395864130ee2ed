/*
 * The benchmark's prefixes, numbered: the generator makes prefix i, the sink
 * turns what arrives back into i, so it can tell exactly which of the N x M
 * expected prefixes it has (and anything else the daemon sent).
 *
 * Word W = i + 65536 is the prefix's network: IPv4 W.0/24 (1.0.0.0 up), IPv6
 * 2a00:WWWW:WWWW::/48. Every 50th index is shortened instead (/16-/23, or
 * /40-/47), lengths cycling every 400 indices; as 400 > 256 no two collide.
 */
#ifndef BGPGEN_PREFIXES_H
#define BGPGEN_PREFIXES_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"

void bench_prefix(int family, uint32_t i, struct prefix *p);
/* The index of p, or false if p is not one of ours. */
bool bench_prefix_index(const struct prefix *p, uint32_t *i);

#endif
