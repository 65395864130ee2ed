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
#include "api/server.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/notify.h"

/* getopt codes of the long options without a letter. */
enum { OPT_ETCD_CA = 0x100, OPT_ETCD_CERT, OPT_ETCD_KEY };

static const char usage[] =
	"Usage: tabby-api [OPTION]...\n"
	"\n"
	"Serves the BGP peering API (POST /oauth2/v1/token, /ne/v1/...). Plain HTTP is served\n"
	"only on loopback addresses unless --insecure-http is given; elsewhere use TLS.\n"
	"\n"
	"Options:\n"
	"  --listen HOST:PORT   where to serve, [v6]:PORT for IPv6 (default: 127.0.0.1:8080)\n"
	"  --tls-cert FILE      serve HTTPS with this PEM certificate (default: plain HTTP)\n"
	"  --tls-key FILE       the certificate's PEM private key (with --tls-cert)\n"
	"  --insecure-http      allow plain HTTP on an address other than loopback\n"
	"                       (default: refused)\n"
	"  --datastore URL      the datastore (default: $TABBY_DATASTORE, else\n"
	"                       sqlite:/var/lib/tabby/tabby.db as root, else\n"
	"                       sqlite:~/.local/state/tabby/tabby.db)\n"
	STORE_ETCD_FLAGS_HELP
	"  --threads N          request threads, 1-256 (default: one per CPU)\n"
	"  --check-threads N    threads for secret checks (argon2id), 1-64 (default: 2)\n"
	"  --per-ip-limit N     connections one address may hold, 1-4096 (default: 64)\n"
	"  --header-timeout S   seconds to send the headers, 1-3600 (default: 10)\n"
	"  --request-timeout S  seconds from the headers to the whole body, 1-3600\n"
	"                       (default: 30)\n"
	"  --log-level LEVEL    debug, info, warn or error (default: info)\n"
	"  --log-format FORMAT  text or json, one line a message (default: text)\n"
	"  --version            print the version and exit\n"
	"  -h, --help           print this help and exit\n";

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

/* The numeric options: their names, ranges and where they go. */
struct numopt {
	int opt;
	const char *name;
	unsigned lo, hi, *out;
};

/* Sets a numeric option; -1 after saying what is accepted. */
static int
number(const struct numopt *n, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < (long)n->lo || v > (long)n->hi) {
		fprintf(stderr, "tabby-api: --%s '%s': expected a whole number from %u to %u\n",
			n->name, arg, n->lo, n->hi);
		return -1;
	}
	*n->out = (unsigned)v;
	return 0;
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
		{"etcd-ca", required_argument, NULL, OPT_ETCD_CA},
		{"etcd-cert", required_argument, NULL, OPT_ETCD_CERT},
		{"etcd-key", required_argument, NULL, OPT_ETCD_KEY},
		{"threads", required_argument, NULL, 't'},
		{"check-threads", required_argument, NULL, 'C'},
		{"per-ip-limit", required_argument, NULL, 'P'},
		{"header-timeout", required_argument, NULL, 'H'},
		{"request-timeout", required_argument, NULL, 'R'},
		{"log-level", required_argument, NULL, 'L'},
		{"log-format", required_argument, NULL, 'F'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_at = "127.0.0.1:8080", *cert = NULL, *key = NULL, *ds = NULL;
	char host[ADDR_STRLEN + 2], urlbuf[1024], *colon, *end, *cert_pem = NULL, *key_pem = NULL;
	struct sockaddr_storage ss;
	struct addr a;
	struct api_server_conf conf = {.sa = NULL};
	struct api_server *srv;
	struct err err;
	long port;
	enum log_level lvl;
	enum log_format fmt = LOG_FMT_TEXT;
	bool insecure = false;
	sigset_t set;
	int o, sig;

	log_set_prefix("tabby-api");
	conf.threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	conf.check_threads = 2;
	conf.check_queue = 64;
	conf.max_connections = 4096;
	conf.per_ip_limit = 64;
	conf.header_timeout = 10;
	conf.request_timeout = 30;
	conf.idle_timeout = 30;
	const struct numopt nums[] = {
		{'t', "threads", 1, 256, &conf.threads},
		{'C', "check-threads", 1, 64, &conf.check_threads},
		{'P', "per-ip-limit", 1, 4096, &conf.per_ip_limit},
		{'H', "header-timeout", 1, 3600, &conf.header_timeout},
		{'R', "request-timeout", 1, 3600, &conf.request_timeout},
	};
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'l': listen_at = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'I': insecure = true; break;
		case 'd': ds = optarg; break;
		case OPT_ETCD_CA: store_etcd_files(optarg, NULL, NULL); break;
		case OPT_ETCD_CERT: store_etcd_files(NULL, optarg, NULL); break;
		case OPT_ETCD_KEY: store_etcd_files(NULL, NULL, optarg); break;
		case 'L':
			if (log_parse_level(optarg, &lvl) != 0) {
				fprintf(stderr, "tabby-api: invalid --log-level '%s'; accepted: debug, "
						"info, warn, error\n", optarg);
				return 2;
			}
			log_set_level(lvl);
			break;
		case 'F':
			if (log_parse_format(optarg, &fmt) != 0) {
				fprintf(stderr, "tabby-api: invalid --log-format '%s'; accepted: text, "
						"json\n", optarg);
				return 2;
			}
			break;
		case 'V': printf("tabby-api %s\n", TABBY_VERSION); return 0;
		case 'h': fputs(usage, stdout); return 0;
		default: {
			size_t i = 0;

			while (i < sizeof(nums) / sizeof(nums[0]) && nums[i].opt != o)
				i++;
			if (i == sizeof(nums) / sizeof(nums[0])) {
				fputs(usage, stderr);
				return 2;
			}
			if (number(&nums[i], optarg) != 0)
				return 2;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tabby-api: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	log_init(fmt);
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
			log_error("cannot read %s: %s", cert_pem ? key : cert, strerror(errno));
			return 1;
		}
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
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	conf.sa = (struct sockaddr *)&ss;
	conf.cert_pem = cert_pem;
	conf.key_pem = key_pem;
	if ((srv = api_server_start(&conf, &err)) == NULL) {
		log_error("cannot serve on %s: %s", listen_at, err.msg);
		return 1;
	}
	log_info("serving %s on %s (%u threads)", cert ? "HTTPS" : "HTTP", listen_at, conf.threads);
	notify_send("READY=1");
	sigwait(&set, &sig);
	log_info("signal %d: stopping", sig);
	notify_send("STOPPING=1");
	api_server_stop(srv);
	free(cert_pem);
	free(key_pem);
	return 0;
}
