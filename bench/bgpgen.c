/*
 * bgpgen: the benchmark's route generator and sink, in one binary.
 *
 *   bgpgen gen  LOCAL_BASE N PEER PEER_AS FIRST_AS M GOFILE [ATTRSETS_PER]
 *       opens N eBGP sessions from LOCAL_BASE, LOCAL_BASE+1, ... (AS FIRST_AS+i) to PEER
 *       (AS PEER_AS), builds M unique IPv4 prefixes per session (mostly /24, some /16-/23;
 *       one attribute set per ATTRSETS_PER prefixes, default 10, AS paths of 2-6
 *       4-octet ASNs, some MED and communities) packed into full UPDATEs -- all before the
 *       clock starts -- prints "ready", waits for GOFILE, sends, and stays up.
 *   bgpgen sink LOCAL PEER PEER_AS AS EXPECT
 *       one session that receives; prints the wall-clock time (ns) when EXPECT distinct
 *       prefixes have arrived ("done NS COUNT"), then stays up.
 *
 * Plain blocking sockets: one process, sessions written round-robin.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bgp/attr.h"
#include "bgp/rib.h"

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bgpgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Reads one whole message into buf; returns its type. */
static int
read_msg(int fd, uint8_t *buf, size_t cap, uint16_t *len)
{
	size_t got = 0, want = BGP_HEADER_LEN;

	while (got < want) {
		ssize_t r = read(fd, buf + got, want - got);

		if (r <= 0)
			die("read (session closed?)");
		got += (size_t)r;
		if (got == BGP_HEADER_LEN) {
			want = (size_t)(buf[16] << 8 | buf[17]);
			if (want < BGP_HEADER_LEN || want > cap)
				die("bad message length");
		}
	}
	*len = (uint16_t)want;
	return buf[18];
}

/* Connects from local to peer:179 and exchanges OPEN and KEEPALIVE. */
static int
session(const char *local, const char *peer, uint32_t as, uint32_t id)
{
	struct sockaddr_in l = {.sin_family = AF_INET}, p = {.sin_family = AF_INET,
							     .sin_port = htons(179)};
	uint8_t buf[BGP_EXT_MAX_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	struct bgp_open o;
	uint16_t len;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, type;

	inet_pton(AF_INET, local, &l.sin_addr);
	inet_pton(AF_INET, peer, &p.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&l, sizeof(l)) != 0)
		die("bind");
	for (int tries = 0; connect(fd, (struct sockaddr *)&p, sizeof(p)) != 0; tries++) {
		if (tries > 300)
			die("connect");
		close(fd);
		usleep(100000);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&l, sizeof(l)) != 0)
			die("bind");
	}
	bgp_open_ours(&o, as, 240, id, true, false);
	bgp_open_encode(&w, &o);
	bgp_keepalive_encode(&w);
	write_all(fd, buf, w.len);
	/* Until the peer's KEEPALIVE: its OPEN, maybe NOTIFICATIONs. */
	do {
		type = read_msg(fd, buf, sizeof(buf), &len);
		if (type == BGP_NOTIFICATION) {
			fprintf(stderr, "bgpgen: %s refused the session: %u/%u\n", peer, buf[19],
				buf[20]);
			exit(1);
		}
	} while (type != BGP_KEEPALIVE);
	return fd;
}

/*
 * The i-th prefix: the /24 number i + 65536 (1.0.0.0 up); every 50th is shortened to
 * /16-/23 instead (lengths cycle every 400 indices, so no two collide).
 */
static void
prefix_of(uint32_t i, struct prefix *p)
{
	uint32_t net = (i + 65536u) << 8;

	memset(p, 0, sizeof(*p));
	p->addr.family = AF_INET;
	p->len = i % 50 == 49 ? (uint8_t)(16 + (i / 50) % 8) : 24;
	net &= ~0u << (32 - p->len);
	p->addr.b[0] = (uint8_t)(net >> 24);
	p->addr.b[1] = (uint8_t)(net >> 16);
	p->addr.b[2] = (uint8_t)(net >> 8);
}

static int gen(int argc, char **argv) __attribute__((noreturn));
static int sink(char **argv) __attribute__((noreturn));

static int
gen(int argc, char **argv)
{
	const char *base = argv[2], *peer = argv[4], *gofile = argv[8];
	int n = atoi(argv[3]);
	uint32_t peer_as = (uint32_t)strtoul(argv[5], NULL, 10);
	uint32_t first_as = (uint32_t)strtoul(argv[6], NULL, 10);
	uint32_t m = (uint32_t)strtoul(argv[7], NULL, 10);
	uint32_t per = argc > 9 ? (uint32_t)strtoul(argv[9], NULL, 10) : 10;
	struct in_addr b;
	int *fds = calloc((size_t)n, sizeof(*fds));
	uint8_t **msgs = calloc((size_t)n, sizeof(*msgs));
	size_t *lens = calloc((size_t)n, sizeof(*lens)), total = 0;
	struct prefix *pfx = calloc(per, sizeof(*pfx));
	struct bgp_encode_ctx ectx = {.as4 = true, .ebgp = true};
	long long t0;

	(void)peer_as;
	inet_pton(AF_INET, base, &b);
	for (int s = 0; s < n; s++) {
		char local[INET_ADDRSTRLEN];
		struct in_addr a = {.s_addr = htonl(ntohl(b.s_addr) + (uint32_t)s)};
		uint32_t as = first_as + (uint32_t)s;
		size_t cap = (size_t)m * 8 + 4096, len = 0;

		inet_ntop(AF_INET, &a, local, sizeof(local));
		fds[s] = session(local, peer, as, ntohl(a.s_addr));
		if (s == n - 1) {
			printf("established %lld\n", now_ns());
			fflush(stdout);
		}
		msgs[s] = malloc(cap);
		/* Everything encoded before the clock starts. */
		for (uint32_t i = 0; i < m; i += per) {
			uint32_t k = m - i < per ? m - i : per, set = (i / per) % 997, hops = 2 + set % 5;
			uint8_t path[2 + 4 * 8];
			uint32_t comm = 0xfde80000u | set;
			struct bgp_attrs attrs;
			size_t done = 0, nw, na;

			path[0] = BGP_AS_SEQUENCE;
			path[1] = (uint8_t)hops;
			for (uint32_t h = 0; h < hops; h++) {
				uint32_t asn = h == 0 ? as : 4200000000u + set * 7 + h;

				path[2 + 4 * h] = (uint8_t)(asn >> 24);
				path[3 + 4 * h] = (uint8_t)(asn >> 16);
				path[4 + 4 * h] = (uint8_t)(asn >> 8);
				path[5 + 4 * h] = (uint8_t)asn;
			}
			bgp_attrs_build(&attrs, path, 2 + 4 * hops, &comm, set % 3 == 0);
			attrs.next_hop.family = AF_INET;
			memcpy(attrs.next_hop.b, &a, 4);
			attrs.has |= BGP_HAS(BGP_ATTR_NEXT_HOP);
			if (set % 2) {
				attrs.med = set;
				attrs.has |= BGP_HAS(BGP_ATTR_MED);
			}
			for (uint32_t j = 0; j < k; j++)
				prefix_of((uint32_t)s * m + i + j, &pfx[j]);
			while (done < k) {
				struct wr w;

				if (cap - len < BGP_MAX_LEN) {
					cap *= 2;
					msgs[s] = realloc(msgs[s], cap);
				}
				w = wr_init(msgs[s] + len, cap - len);
				bgp_update_encode(&w, BGP_MAX_LEN, NULL, 0, pfx + done, k - done, &attrs,
						  &ectx, &nw, &na);
				len += w.len;
				done += na;
			}
			bgp_attrs_free(&attrs);
		}
		lens[s] = len;
		total += len;
	}
	printf("ready %d sessions, %zu bytes of UPDATEs\n", n, total);
	fflush(stdout);
	while (access(gofile, F_OK) != 0)
		usleep(1000);
	t0 = now_ns();
	/* Round-robin 64 KiB at a time, so every session makes progress. */
	for (size_t off = 0; off < total;) {
		size_t sent = 0;

		for (int s = 0; s < n; s++) {
			if (lens[s] == 0)
				continue;
			size_t chunk = lens[s] < 65536 ? lens[s] : 65536;

			write_all(fds[s], msgs[s], chunk);
			memmove(msgs[s], msgs[s] + chunk, lens[s] - chunk);
			lens[s] -= chunk;
			sent += chunk;
		}
		off += sent;
	}
	printf("sent %lld\n", t0);
	fflush(stdout);
	for (;;) {
		uint8_t ka[BGP_HEADER_LEN];
		struct wr w = wr_init(ka, sizeof(ka));

		sleep(30);
		bgp_keepalive_encode(&w);
		for (int s = 0; s < n; s++)
			write_all(fds[s], ka, w.len);
	}
}

static int
sink(char **argv)
{
	uint32_t peer_as = (uint32_t)strtoul(argv[4], NULL, 10);
	uint32_t as = (uint32_t)strtoul(argv[5], NULL, 10);
	size_t expect = strtoul(argv[6], NULL, 10);
	static uint8_t buf[BGP_EXT_MAX_LEN];
	struct bgp_update_ctx ctx = {.as4 = true, .ebgp = true, .peer_as = peer_as,
				     .family = AF_INET};
	struct rib *r = rib_new();
	struct adj_in *seen = adj_in_new();
	struct bgp_attrs dummy;
	struct rib_attr *x;
	struct in_addr l;
	int fd;
	bool done = false;

	inet_pton(AF_INET, argv[2], &l);
	fd = session(argv[2], argv[3], as, ntohl(l.s_addr));
	bgp_attrs_build(&dummy, NULL, 0, NULL, 0);
	x = rib_attr_intern(r, &dummy);
	addr_parse(argv[2], &ctx.local);
	printf("up\n");
	fflush(stdout);
	for (;;) {
		uint16_t len;
		struct bgp_update_decoded u;
		int type = read_msg(fd, buf, sizeof(buf), &len);

		if (type == BGP_KEEPALIVE) {
			write_all(fd, buf, len);
			continue;
		}
		if (type != BGP_UPDATE)
			continue;
		bgp_update_decode(buf + BGP_HEADER_LEN, len - BGP_HEADER_LEN, &ctx, &u);
		for (size_t i = 0; i < u.announce.n; i++)
			adj_in_set(seen, r, &u.announce.v[i], x);
		for (size_t i = 0; i < u.withdraw.n; i++)
			adj_in_set(seen, r, &u.withdraw.v[i], NULL);
		bgp_update_free(&u);
		if (!done && adj_in_count(seen) >= expect) {
			printf("done %lld %zu\n", now_ns(), adj_in_count(seen));
			fflush(stdout);
			done = true;
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc >= 9 && strcmp(argv[1], "gen") == 0)
		return gen(argc, argv);
	if (argc == 7 && strcmp(argv[1], "sink") == 0)
		return sink(argv);
	fprintf(stderr, "usage: bgpgen gen LOCAL_BASE N PEER PEER_AS FIRST_AS M GOFILE [PER_SET]\n"
			"       bgpgen sink LOCAL PEER PEER_AS AS EXPECT\n");
	return 2;
}
