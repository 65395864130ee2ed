/*
 * autodetect: the node's address, found as calico-node finds it
 * (IP_AUTODETECTION_METHOD): first-found, interface=REGEX[,REGEX...],
 * skip-interface=REGEX[,REGEX...], can-reach=DEST, cidr=CIDR[,CIDR...].
 * autodetect_choose() is pure (a list of interface addresses in, one out);
 * autodetect_read() lists the addresses over rtnetlink, and can-reach asks
 * the kernel which source address its route to DEST would use (no packet is
 * sent).
 */
#ifndef TABBY_AGENT_AUTODETECT_H
#define TABBY_AGENT_AUTODETECT_H

#include <stddef.h>

#include "lib/addr.h"
#include "lib/err.h"

#define AUTODETECT_IFNAME_MAX 16

struct autodetect_addr {
	char ifname[AUTODETECT_IFNAME_MAX];
	struct addr a;
	unsigned plen;
};

struct autodetect_addrs {
	struct autodetect_addr *v;
	size_t n;
};

/* Checks a method's text; err says what is accepted. 0 / -1. */
int autodetect_method_check(const char *method, struct err *err);
/*
 * Picks the address of the family by method from the list (in interface order). can-reach
 * needs reach_src: the source address the kernel chose toward DEST (else NULL). 0 / -1.
 */
int autodetect_choose(const struct autodetect_addrs *list, int family, const char *method,
		      const struct addr *reach_src, struct autodetect_addr *out, struct err *err);
/* Every address of every interface, by interface index, from the kernel. */
int autodetect_read(struct autodetect_addrs *out, struct err *err);
void autodetect_addrs_free(struct autodetect_addrs *l);
/* The source address for a route to dest (a UDP connect; nothing is sent). */
int autodetect_reach(const struct addr *dest, struct addr *src, struct err *err);
/* All of it: method on this host's interfaces. */
int autodetect(int family, const char *method, struct autodetect_addr *out, struct err *err);

#endif
