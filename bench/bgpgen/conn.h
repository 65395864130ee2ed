/*
 * A minimal nonblocking BGP speaker side for the benchmark: connect, OPEN and
 * KEEPALIVE, then whole messages handed to a callback; an output stream of
 * whole messages into which KEEPALIVEs are slipped between messages when due.
 * Driven by one epoll loop (edge-triggered) per process.
 */
#ifndef BGPGEN_CONN_H
#define BGPGEN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/msg.h"
#include "lib/addr.h"

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_OPENSENT, CONN_UP };

struct conn;
/* One whole received message (header included) of a connection that is up. */
typedef void (*conn_msg_fn)(struct conn *c, int type, const uint8_t *msg, size_t len);

struct conn {
	int fd;
	enum conn_state state;
	struct addr local, remote;     /* the daemon's port is 179 */
	int index;                   /* the generator's session number */
	uint32_t as, id;
	long long retry_at;          /* when IDLE: when to connect again (ns) */
	long long up_at;
	conn_msg_fn on_msg;
	char why[200];               /* last failure */
	/* input: whole messages are handed out; grows to the largest one */
	uint8_t *in;
	size_t in_len, in_cap;
	/* output: the handshake, then the stream given by conn_send */
	uint8_t hs[256];
	const uint8_t *out;
	size_t out_len, out_off, out_msg_end;
	uint8_t ka[BGP_HEADER_LEN];   /* a KEEPALIVE, encoded once */
	size_t ka_off;
	bool ka_due;
};

long long now_ns(void);
void conn_init(struct conn *c, const struct addr *local, const struct addr *remote, uint32_t as,
	       uint32_t id);
/* Starts a nonblocking connect and registers with the epoll set. */
int conn_connect(struct conn *c, int epfd);
/*
 * Handles epoll events. Returns 0, or -1 when the session failed (c->why says
 * why; the socket is closed and the state is back to IDLE).
 */
int conn_event(struct conn *c, uint32_t events);
/* Writes what can be written now. Returns -1 on failure as conn_event. */
int conn_flush(struct conn *c);
/* Queues a stream of whole messages (kept by the caller until written). */
int conn_send(struct conn *c, const uint8_t *stream, size_t len);
/* The handshake or the stream queued by conn_send is all written. */
bool conn_drained(const struct conn *c);
/* Queues a KEEPALIVE at the next message boundary. */
int conn_keepalive(struct conn *c);
void conn_close(struct conn *c, const char *why);

#endif
