/* tabby-api: the peering REST API server. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "lib/addr.h"
#include "lib/log.h"

static const char usage[] =
	"Usage: tabby-api [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--insecure-http]\n"
	"                 [--datastore URL] [--threads N] [--log-level LEVEL] [--version]\n"
	"                 [--etcd-ca FILE] [--etcd-cert FILE] [--etcd-key FILE]\n"
	"\n"
	"Serves the BGP peering API (POST /oauth2/v1/token, /ne/v1/...). Plain HTTP is served\n"
	"only on loopback addresses unless --insecure-http is given; elsewhere use TLS.\n"
	"Default listen address: 127.0.0.1:8080.\n";

/* Token-endpoint rate limit: a bucket of RATE_BURST per client, one back every RATE_EVERY s. */
#define RATE_BURST 10
#define RATE_EVERY 6.0
#define RATE_SLOTS 1024

static struct bucket {
	char client[NE_UUID_LEN + 1];
	double tokens, at;
} buckets[RATE_SLOTS];
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

bool
api_rate_allow(const char *client_id, int *retry_after)
{
	struct timespec ts;
	struct bucket *b;
	unsigned h = 5381;
	double now;
	bool ok;

	for (const char *p = client_id; *p; p++)
		h = h * 33 + (unsigned char)*p;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	pthread_mutex_lock(&rate_lock);
	b = &buckets[h % RATE_SLOTS];
	if (strncmp(b->client, client_id, NE_UUID_LEN) != 0) {
		/* A new client (or a hash neighbour, who then shares its budget). */
		snprintf(b->client, sizeof(b->client), "%s", client_id);
		b->tokens = RATE_BURST;
		b->at = now;
	}
	b->tokens += (now - b->at) / RATE_EVERY;
	if (b->tokens > RATE_BURST)
		b->tokens = RATE_BURST;
	b->at = now;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	*retry_after = ok ? 0 : (int)((1.0 - b->tokens) * RATE_EVERY) + 1;
	pthread_mutex_unlock(&rate_lock);
	return ok;
}

struct pending {
	char *body;
	size_t len;
	bool too_big;
};

static enum MHD_Result
respond(struct MHD_Connection *conn, struct api_resp *r)
{
	char *text = r->doc ? json_dumps(r->doc, JSON_COMPACT) : xstrdup("");
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char retry[16];

	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->www_authenticate)
		MHD_add_response_header(resp, "WWW-Authenticate", r->www_authenticate);
	if (r->allow[0])
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", r->retry_after);
		MHD_add_response_header(resp, "Retry-After", retry);
	}
	rc = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	json_decref(r->doc);
	return rc;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct pending *p = *con_cls;
	struct api_req q = {.conn = conn, .method = method, .url = url};
	struct api_resp r = {.status = 500};

	(void)cls;
	(void)version;
	if (p == NULL) {
		*con_cls = xcalloc(1, sizeof(*p));
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* Bodies past the limit are drained, not kept, and answered 413. */
		if (p->len + *upload_size > API_BODY_MAX) {
			p->too_big = true;
		} else {
			p->body = xrealloc(p->body, p->len + *upload_size + 1);
			memcpy(p->body + p->len, upload, *upload_size);
			p->len += *upload_size;
			p->body[p->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	q.body = p->body;
	q.body_len = p->len;
	q.body_too_big = p->too_big;
	api_handle(&q, &r);
	if (r.doc == NULL)
		api_error(&r, 500, "INTERNAL", NULL, "no answer was made");
	return respond(conn, &r);
}

static void
done_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct pending *p = *con_cls;

	(void)cls;
	(void)conn;
	(void)t;
	if (p != NULL) {
		free(p->body);
		free(p);
		*con_cls = NULL;
	}
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096)
			buf = xrealloc(buf, cap = cap * 2 + 8192);
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"insecure-http", no_argument, NULL, 'I'},
		{"datastore", required_argument, NULL, 'd'},
		{"etcd-ca", required_argument, NULL, 'A'},
		{"etcd-cert", required_argument, NULL, 'C'},
		{"etcd-key", required_argument, NULL, 'K'},
		{"threads", required_argument, NULL, 't'},
		{"log-level", required_argument, NULL, 'L'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_at = "127.0.0.1:8080", *cert = NULL, *key = NULL, *ds = NULL;
	char host[ADDR_STRLEN + 2], urlbuf[1024], *colon, *end, *cert_pem = NULL, *key_pem = NULL;
	struct sockaddr_storage ss;
	struct addr a;
	struct MHD_Daemon *d;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	long port, threads = sysconf(_SC_NPROCESSORS_ONLN);
	enum log_level lvl;
	bool insecure = false;
	sigset_t set;
	int o, sig;

	log_set_prefix("tabby-api");
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'l': listen_at = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'I': insecure = true; break;
		case 'd': ds = optarg; break;
		case 'A': store_etcd_files(optarg, NULL, NULL); break;
		case 'C': store_etcd_files(NULL, optarg, NULL); break;
		case 'K': store_etcd_files(NULL, NULL, optarg); break;
		case 't':
			threads = strtol(optarg, &end, 10);
			if (*end || threads < 1 || threads > 256) {
				fprintf(stderr, "tabby-api: --threads must be 1-256\n");
				return 2;
			}
			break;
		case 'L':
			if (log_parse_level(optarg, &lvl) != 0) {
				fprintf(stderr, "tabby-api: invalid --log-level '%s'; accepted: debug, "
						"info, warn, error\n", optarg);
				return 2;
			}
			log_set_level(lvl);
			break;
		case 'V': printf("tabby-api %s\n", TABBY_VERSION); return 0;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	/* HOST:PORT, with [v6]:PORT for IPv6. */
	snprintf(host, sizeof(host), "%s", listen_at[0] == '[' ? listen_at + 1 : listen_at);
	colon = strrchr(host, ':');
	if (colon == NULL || (listen_at[0] == '[' && colon[-1] != ']')) {
		fprintf(stderr, "tabby-api: --listen '%s': expected HOST:PORT, e.g. 127.0.0.1:8080 "
				"or [::1]:8080\n", listen_at);
		return 2;
	}
	*colon = '\0';
	if (listen_at[0] == '[')
		colon[-1] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (addr_parse(host, &a) != 0 || *end || port < 1 || port > 65535) {
		fprintf(stderr, "tabby-api: --listen '%s': expected an IP address and a port 1-65535\n",
			listen_at);
		return 2;
	}
	if ((cert == NULL) != (key == NULL)) {
		fprintf(stderr, "tabby-api: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cert == NULL && !insecure &&
	    !(addr_is_v4(&a) ? a.b[0] == 127 : (a.b[15] == 1 && memcmp(a.b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0))) {
		fprintf(stderr, "tabby-api: plain HTTP only on loopback; give --tls-cert and "
				"--tls-key, or --insecure-http to serve %s in the clear\n", host);
		return 2;
	}
	if (cert != NULL) {
		cert_pem = read_file(cert);
		key_pem = read_file(key);
		if (cert_pem == NULL || key_pem == NULL) {
			fprintf(stderr, "tabby-api: cannot read %s: %s\n", cert_pem ? key : cert,
				strerror(errno));
			return 1;
		}
		flags |= MHD_USE_TLS;
	}
	if (ne_init() != 0) {
		fprintf(stderr, "tabby-api: libsodium cannot start\n");
		return 1;
	}
	api_set_datastore(store_url_default(ds, urlbuf, sizeof(urlbuf)));
	if (api_store() == NULL)
		return 1;
	memset(&ss, 0, sizeof(ss));
	if (addr_is_v4(&a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a.b, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a.b, 16);
		flags |= MHD_USE_IPv6;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, access_cb, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
			     MHD_OPTION_NOTIFY_COMPLETED, done_cb, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
			     cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert_pem,
			     MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "tabby-api: cannot serve on %s: %s\n", listen_at, strerror(errno));
		return 1;
	}
	log_info("serving %s on %s (%ld threads)", cert ? "HTTPS" : "HTTP", listen_at, threads);
	sigwait(&set, &sig);
	log_info("signal %d: stopping", sig);
	MHD_stop_daemon(d);
	free(cert_pem);
	free(key_pem);
	return 0;
}
