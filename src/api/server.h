/* server: tabby-api's HTTP(S) server, libmicrohttpd around the core (api.h). */
#ifndef TABBY_API_SERVER_H
#define TABBY_API_SERVER_H

#include <microhttpd.h>
#include <sys/socket.h>

#include "lib/err.h"

struct api_server_conf {
	const struct sockaddr *sa;   /* where to listen */
	unsigned threads;            /* request threads */
	const char *cert_pem, *key_pem;  /* both NULL: plain HTTP */
	unsigned check_threads, check_queue;  /* the secret-check pool */
	unsigned max_connections, per_ip_limit;
	unsigned header_timeout;     /* s from connecting (or the last answer) to the headers */
	unsigned request_timeout;    /* s from the headers to the whole body */
	unsigned idle_timeout;       /* s without a byte either way */
};

struct api_server *api_server_start(const struct api_server_conf *c, struct err *err);
void api_server_stop(struct api_server *srv);

#endif
