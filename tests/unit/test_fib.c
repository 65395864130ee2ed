/*
 * fib against the real kernel: each test runs in a network namespace of its own
 * (unshare, so root is needed; skipped otherwise) with 192.0.2.1/24 and
 * 2001:db8::1/64 on a veth, and reads the routing table back with ip(8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/fib.h"

struct ctx {
	struct ev_loop *loop;
	struct fib *f;
};

static void
sh(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* The output of a shell command, whitespace-trimmed at the end. */
static char *
out(const char *cmd)
{
	static char buf[1 << 16];
	FILE *p = popen(cmd, "r");
	size_t n;

	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	pclose(p);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

static int
setup(void **state)
{
	struct ctx *c;
	struct err err;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		return 0;  /* *state stays NULL: the test skips */
	sh("ip link add t0 type veth peer name t1 && ip link set t1 up && ip link set t0 up && "
	   "ip addr add 192.0.2.1/24 dev t0 && ip addr add 2001:db8::1/64 dev t0 nodad");
	c = calloc(1, sizeof(*c));
	c->loop = ev_loop_new(0);
	c->f = fib_open(c->loop, true, &err);
	assert_non_null(c->f);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	if (c == NULL)
		return 0;
	fib_close(c->f);
	ev_loop_destroy(c->loop);
	free(c);
	return 0;
}

#define NEED_ROOT(c)                                                     \
	do {                                                             \
		if ((c) == NULL)                                         \
			skip();                                          \
	} while (0)

/* Runs the loop until the kernel has answered every queued change. */
static void
settle(struct ctx *c)
{
	for (int i = 0; fib_pending(c->f) > 0; i++) {
		assert_true(i < 60000);  /* a minute */
		ev_run(c->loop, EVRUN_NOWAIT);
		if (fib_pending(c->f) > 0)
			usleep(1000);
	}
}

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, &p, NULL), 0);
	return p;
}

static struct addr
ad(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void
host_route_kept(struct ctx *c, const char *prefix, const char *host_gw, const char *our_gw,
		const char *family)
{
	char cmd[256];
	struct prefix p = pfx(prefix);
	struct addr gw = ad(our_gw);

	snprintf(cmd, sizeof(cmd), "ip %s route add %s via %s proto static", family, prefix, host_gw);
	sh(cmd);
	assert_int_equal(fib_replace(c->f, &p, &gw, NULL), 0);
	settle(c);
	/* Both: the host's (metric 0), and ours with our protocol and metric. */
	snprintf(cmd, sizeof(cmd), "ip %s route show %s proto static", family, prefix);
	assert_non_null(strstr(out(cmd), host_gw));
	snprintf(cmd, sizeof(cmd), "ip %s route show %s proto %d metric %d", family, prefix,
		 FIB_PROTO, FIB_METRIC);
	assert_non_null(strstr(out(cmd), our_gw));
	/* A new next hop replaces ours only. */
	gw = ad(host_gw);
	assert_int_equal(fib_replace(c->f, &p, &gw, NULL), 0);
	settle(c);
	snprintf(cmd, sizeof(cmd), "ip %s route show %s | grep -c %s", family, prefix, host_gw);
	assert_string_equal(out(cmd), "2");
	/* Withdrawn: ours is gone, the host's stays. */
	assert_int_equal(fib_delete(c->f, &p, NULL), 0);
	settle(c);
	snprintf(cmd, sizeof(cmd), "ip %s route show %s proto %d", family, prefix, FIB_PROTO);
	assert_string_equal(out(cmd), "");
	snprintf(cmd, sizeof(cmd), "ip %s route show %s proto static", family, prefix);
	assert_non_null(strstr(out(cmd), host_gw));
	/* Deleting again (nothing of ours left) leaves the host's route alone too. */
	assert_int_equal(fib_delete(c->f, &p, NULL), 0);
	settle(c);
	assert_non_null(strstr(out(cmd), host_gw));
}

static void
test_host_route_v4(void **state)
{
	NEED_ROOT(*state);
	host_route_kept(*state, "198.51.100.0/24", "192.0.2.2", "192.0.2.3", "-4");
}

static void
test_host_route_v6(void **state)
{
	NEED_ROOT(*state);
	host_route_kept(*state, "2001:db8:1::/48", "2001:db8::2", "2001:db8::3", "-6");
}

/* A host default route with our metric's neighbours: learning 0.0.0.0/0 keeps it. */
static void
test_default_route_kept(void **state)
{
	struct ctx *c = *state;
	struct prefix p;
	struct addr gw;

	NEED_ROOT(c);
	p = pfx("0.0.0.0/0");
	gw = ad("192.0.2.3");
	sh("ip route add default via 192.0.2.254 proto dhcp metric 100");
	assert_int_equal(fib_replace(c->f, &p, &gw, NULL), 0);
	settle(c);
	assert_string_equal(out("ip route show default | wc -l"), "2");
	assert_int_equal(fib_delete(c->f, &p, NULL), 0);
	settle(c);
	assert_string_equal(out("ip route show default"),
			    "default via 192.0.2.254 dev t0 proto dhcp metric 100");
}

/* 10,000 routes in and out: many per sendmsg, every one installed and removed. */
static void
test_batched(void **state)
{
	struct ctx *c = *state;
	struct addr gw;
	struct fib_stats st;
	enum { N = 10000 };

	NEED_ROOT(c);
	gw = ad("192.0.2.2");
	for (int i = 0; i < N; i++) {
		char s[32];
		struct prefix p;

		snprintf(s, sizeof(s), "198.18.%d.%d/32", i / 256, i % 256);
		p = pfx(s);
		assert_int_equal(fib_replace(c->f, &p, &gw, NULL), 0);
	}
	settle(c);
	assert_string_equal(out("ip route show proto 201 metric 40 | wc -l"), "10000");
	fib_get_stats(c->f, &st);
	assert_int_equal(st.requests, N);
	assert_int_equal(st.failed, 0);
	/* Hundreds of requests per sendmsg, not one each. */
	assert_true(st.batches <= N / 500);
	print_message("%d routes in %llu sendmsg calls\n", N, (unsigned long long)st.batches);
	for (int i = 0; i < N; i++) {
		char s[32];
		struct prefix p;

		snprintf(s, sizeof(s), "198.18.%d.%d/32", i / 256, i % 256);
		p = pfx(s);
		assert_int_equal(fib_delete(c->f, &p, NULL), 0);
	}
	settle(c);
	assert_string_equal(out("ip route show proto 201 | wc -l"), "0");
}

/* The kernel's refusals are counted (and logged), and the rest go in. */
static void
test_refused_counted(void **state)
{
	struct ctx *c = *state;
	struct prefix p1, p2;
	struct addr bad, good;
	struct fib_stats st;

	NEED_ROOT(c);
	p1 = pfx("198.51.100.0/25");
	p2 = pfx("198.51.100.128/25");
	bad = ad("203.0.113.9");  /* no route to this next hop */
	good = ad("192.0.2.2");
	/* Three refusals: one warning now, the other two held back (rate limit) and counted;
	 * each sent on its own, or the queue would keep only the last change of p1. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fib_replace(c->f, &p1, &bad, NULL), 0);
		settle(c);
	}
	assert_int_equal(fib_replace(c->f, &p2, &good, NULL), 0);
	settle(c);
	fib_get_stats(c->f, &st);
	assert_int_equal(st.failed, 3);
	assert_string_equal(out("ip route show proto 201"),
			    "198.51.100.128/25 via 192.0.2.2 dev t0 metric 40");
}

/* Changes of a route not yet sent fold into one: the kernel gets the last. */
static void
test_coalesced(void **state)
{
	struct ctx *c = *state;
	struct prefix p1, p2, p3;
	struct addr a, b;
	struct fib_stats st;

	NEED_ROOT(c);
	p1 = pfx("198.51.100.0/24");
	p2 = pfx("203.0.113.0/24");
	p3 = pfx("2001:db8:5::/48");
	a = ad("192.0.2.2");
	b = ad("192.0.2.3");
	/* p1: replaced three times, the last next hop stays; p2: added then removed. */
	assert_int_equal(fib_replace(c->f, &p1, &a, NULL), 0);
	assert_int_equal(fib_replace(c->f, &p2, &a, NULL), 0);
	assert_int_equal(fib_replace(c->f, &p1, &b, NULL), 0);
	assert_int_equal(fib_delete(c->f, &p2, NULL), 0);
	assert_int_equal(fib_replace(c->f, &p1, &a, NULL), 0);
	a = ad("2001:db8::2");
	assert_int_equal(fib_replace(c->f, &p3, &a, NULL), 0);
	assert_int_equal(fib_pending(c->f), 3);
	settle(c);
	fib_get_stats(c->f, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.failed, 0);
	assert_string_equal(out("ip route show proto 201"),
			    "198.51.100.0/24 via 192.0.2.2 dev t0 metric 40");
	/* Once sent, a change is a new request. */
	assert_int_equal(fib_delete(c->f, &p1, NULL), 0);
	assert_int_equal(fib_delete(c->f, &p3, NULL), 0);
	settle(c);
	fib_get_stats(c->f, &st);
	assert_int_equal(st.requests, 5);
	assert_string_equal(out("ip route show proto 201; ip -6 route show proto 201"), "");
}

/*
 * IPv4 and IPv6 changes interleaved (16- and 40-byte records in one queue), each
 * replaced or removed while still queued: one request per route, the last wins.
 */
static void
test_coalesced_mixed(void **state)
{
	struct ctx *c = *state;
	struct addr a4 = ad("192.0.2.2"), b4 = ad("192.0.2.3");
	struct addr a6 = ad("2001:db8::2"), b6 = ad("2001:db8::3");
	struct fib_stats st;
	char buf[64];

	NEED_ROOT(c);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 1000; i++) {
			struct prefix p4, p6;

			if (round == 1 && i % 2 != 0)
				continue;
			snprintf(buf, sizeof(buf), "198.18.%d.%d/30", i / 64, (i % 64) * 4);
			p4 = pfx(buf);
			snprintf(buf, sizeof(buf), "2001:db8:1:%x::/64", i);
			p6 = pfx(buf);
			assert_int_equal(fib_replace(c->f, &p6, round ? &b6 : &a6, NULL), 0);
			if (round == 1 && i % 3 == 0)
				assert_int_equal(fib_delete(c->f, &p4, NULL), 0);
			else
				assert_int_equal(fib_replace(c->f, &p4, round ? &b4 : &a4, NULL), 0);
		}
	}
	assert_int_equal(fib_pending(c->f), 2000);
	settle(c);
	fib_get_stats(c->f, &st);
	assert_int_equal(st.requests, 2000);
	assert_int_equal(st.failed, 0);  /* removing a route never added is no failure */
	/* 1000 - 167 removed; of the rest, the even ones through .3 (i % 6 is 2 or 4). */
	assert_string_equal(out("ip route show proto 201 | wc -l"), "833");
	assert_string_equal(out("ip route show proto 201 | grep -c 'via 192.0.2.3 '"), "333");
	assert_string_equal(out("ip -6 route show proto 201 | wc -l"), "1000");
	assert_string_equal(out("ip -6 route show proto 201 | grep -c 'via 2001:db8::3 '"), "500");
	/* The last (odd, never replaced) route, through .2. */
	assert_string_equal(out("ip route show proto 201 198.18.15.156/30"),
			    "198.18.15.156/30 via 192.0.2.2 dev t0 metric 40");
}

/* 100,000 changes: the loop hands them over and goes on while the kernel works. */
static void
test_loop_not_held(void **state)
{
	struct ctx *c = *state;
	struct addr gw;
	struct fib_stats st;
	enum { N = 100000 };

	NEED_ROOT(c);
	gw = ad("192.0.2.2");
	for (int i = 0; i < N; i++) {
		struct prefix p = {.addr = {.family = AF_INET}, .len = 32};

		p.addr.b[0] = 10;
		p.addr.b[1] = (uint8_t)(i >> 16);
		p.addr.b[2] = (uint8_t)(i >> 8);
		p.addr.b[3] = (uint8_t)i;
		assert_int_equal(fib_replace(c->f, &p, &gw, NULL), 0);
	}
	ev_run(c->loop, EVRUN_NOWAIT);
	/* Back from the iteration long before the kernel could have taken them all. */
	assert_true(fib_pending(c->f) > 0);
	settle(c);
	fib_get_stats(c->f, &st);
	assert_int_equal(st.requests, N);
	assert_int_equal(st.failed, 0);
	assert_string_equal(out("ip route show proto 201 | wc -l"), "100000");
}

/* At start: an earlier run's routes (ours, any metric) go; the host's stay. */
static void
test_flush_stale(void **state)
{
	struct ctx *c = *state;

	NEED_ROOT(c);
	sh("ip route add 198.51.100.0/24 via 192.0.2.2 proto 201 && "
	   "ip route add 198.51.100.0/24 via 192.0.2.3 proto static metric 40 && "
	   "ip route add 203.0.113.0/24 via 192.0.2.2 proto 201 metric 40 && "
	   "ip -6 route add 2001:db8:2::/48 via 2001:db8::2 proto 201 metric 7");
	assert_int_equal(fib_flush_stale(c->f, NULL), 3);
	assert_string_equal(out("ip route show proto 201; ip -6 route show proto 201"), "");
	assert_string_equal(out("ip route show 198.51.100.0/24"),
			    "198.51.100.0/24 via 192.0.2.3 dev t0 proto static metric 40");
}

/* --no-fib: route calls do nothing at all. */
static void
test_disabled(void **state)
{
	struct ctx *c = *state;
	struct fib *f;
	struct prefix p;
	struct addr gw;

	NEED_ROOT(c);
	f = fib_open(c->loop, false, NULL);
	assert_non_null(f);
	p = pfx("198.51.100.0/24");
	gw = ad("192.0.2.2");
	assert_int_equal(fib_replace(f, &p, &gw, NULL), 0);
	assert_int_equal(fib_pending(f), 0);
	fib_close(f);
	assert_string_equal(out("ip route show proto 201"), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_route_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_route_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_route_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesced_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
