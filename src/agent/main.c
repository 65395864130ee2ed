/* tabbyd: the node agent. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/autodetect.h"
#include "lib/asn.h"
#include "lib/backoff.h"
#include "lib/log.h"
#include "lib/notify.h"

/* Written by every node's writer, read by no reconcile: the mirror leaves it out. */
#define KEY_STATUS KEY_ROOT "status/"

static const char usage[] =
	"Usage: tabbyd [OPTION]...\n"
	"\n"
	"Runs the tabby node agent: registers the node, brings up its BGP sessions\n"
	"(node-specific peers, global peers, the node-to-node mesh) and reports them in the\n"
	"datastore.\n"
	"\n"
	"Graceful restart (RFC 4724, with RFC 8538) is on unless --no-graceful-restart:\n"
	"  SIGTERM, SIGINT  stop to restart: the kernel routes stay, and the peers keep\n"
	"                   this node's routes for its restart time (default 120 s, per\n"
	"                   peer: tabbyctl ... peer add --restart-time); the next start\n"
	"                   keeps forwarding, relearns, then removes what went stale\n"
	"  SIGUSR1          stop for good (decommission): every kernel route of tabbyd's\n"
	"                   is removed and every peer gets a Cease (a Hard Reset to those\n"
	"                   with RFC 8538), so it drops this node's routes at once\n"
	"With --no-graceful-restart every stop is for good.\n"
	"\n"
	"Without --ip, and no IPv4 address registered for the node, the address is\n"
	"autodetected, as calico-node does (IPv6 only with --ip6=autodetect). METHOD:\n"
	"first-found (the default), interface=REGEX[,REGEX...], skip-interface=REGEX[,...],\n"
	"can-reach=DEST, cidr=CIDR[,CIDR...]. The router id is the IPv4 address.\n"
	"\n"
	"Options:\n"
	"  --node NAME          the node's name (default: $TABBY_NODE, else the host name)\n"
	"  --ip A.B.C.D|autodetect\n"
	"                       the node's IPv4 address, for the node-to-node mesh\n"
	"                       (default: the one registered with tabbyctl node --ip,\n"
	"                       else autodetect)\n"
	"  --ip6 X::Y|autodetect\n"
	"                       the node's IPv6 address (default: the one registered)\n"
	"  --ip-autodetection-method METHOD\n"
	"                       how to autodetect the IPv4 address: first-found,\n"
	"                       interface=REGEX[,REGEX...], skip-interface=REGEX[,...],\n"
	"                       can-reach=DEST, cidr=CIDR[,CIDR...] (default: first-found)\n"
	"  --ip6-autodetection-method METHOD\n"
	"                       the same for IPv6 (default: first-found)\n"
	"  --as N               the node's AS number (default: the one registered, else\n"
	"                       tabbyctl bgp default-node-as)\n"
	"  --router-id A.B.C.D  the BGP identifier (default: the node's IPv4 address)\n"
	"  --listen-port PORT   the BGP port to listen on (default: BGPConfiguration\n"
	"                       listenPort, else 179)\n"
	"  --hold-time SECONDS  the hold time offered in OPEN, 0 or 3-65535 (default: 90)\n"
	"  --send-hold-time SECONDS\n"
	"                       close a peer that reads nothing for this long with\n"
	"                       NOTIFICATION 8 (RFC 9687; default: the greater of 480 and\n"
	"                       twice the negotiated hold time)\n"
	"  --datastore URL      the datastore (default: $TABBY_DATASTORE, else\n"
	"                       sqlite:/var/lib/tabby/tabby.db as root, else\n"
	"                       sqlite:~/.local/state/tabby/tabby.db)\n"
	STORE_ETCD_FLAGS_HELP
	"  --control PATH       the control socket (default: /run/tabby/NODE.sock)\n"
	"  --no-fib             program no kernel routes (default: program them)\n"
	"  --no-graceful-restart\n"
	"                       every stop is for good: no RFC 4724 capability, kernel\n"
	"                       routes removed on exit (default: graceful restart on)\n"
	"  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics,\n"
	"                       e.g. 127.0.0.1:9179 or [::1]:9179 (default: not served)\n"
	"  --log-level LEVEL    debug, info, warn or error (default: info); changes at run\n"
	"                       time with tabbyctl node log-level\n"
	"  --log-format FORMAT  text or json, one line a message (default: text)\n"
	"  --version            print the version and exit\n"
	"  -h, --help           print this help and exit\n";

/*
 * Every session costs a descriptor (two during a collision): take all the
 * descriptors the hard limit allows, as BIRD and OpenBGPD do at start.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("setrlimit(RLIMIT_NOFILE, %llu)", (unsigned long long)rl.rlim_max);
			return;
		}
		log_info("open files limit raised from %llu to %llu", (unsigned long long)was,
			 (unsigned long long)rl.rlim_max);
	}
	log_debug("open files limit %llu", (unsigned long long)rl.rlim_cur);
}

static int
bad_arg(const char *what, const char *val, const char *accepted)
{
	fprintf(stderr, "tabbyd: invalid %s '%s'; %s\n", what, val, accepted);
	return 2;
}

/* ADDR:PORT, with an IPv6 address in brackets ([::1]:9179). */
static int
parse_host_port(const char *s, struct addr *a, uint16_t *port)
{
	char host[ADDR_STRLEN + 2];
	const char *colon = strrchr(s, ':');
	bool bracketed = s[0] == '[';
	size_t hl;
	char *end;
	long v;

	if (colon == NULL || colon == s)
		return -1;
	hl = (size_t)(colon - s);
	if (bracketed) {
		if (hl < 3 || s[hl - 1] != ']')
			return -1;
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	v = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || v < 1 || v > 65535 || addr_parse(host, a) != 0)
		return -1;
	/* An IPv6 address goes in brackets, so that its colons are not taken for the port's. */
	if (addr_is_v4(a) == bracketed)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct agent_config *cfg)
{
	static const struct option opts[] = {
		{"node", required_argument, NULL, 'n'},
		{"ip", required_argument, NULL, '4'},
		{"ip6", required_argument, NULL, '6'},
		{"ip-autodetection-method", required_argument, NULL, 'm'},
		{"ip6-autodetection-method", required_argument, NULL, 'M'},
		{"as", required_argument, NULL, 'a'},
		{"router-id", required_argument, NULL, 'r'},
		{"listen-port", required_argument, NULL, 'p'},
		{"hold-time", required_argument, NULL, 'H'},
		{"send-hold-time", required_argument, NULL, 'S'},
		{"datastore", required_argument, NULL, 'd'},
		{"etcd-ca", required_argument, NULL, 'A'},
		{"etcd-cert", required_argument, NULL, 'C'},
		{"etcd-key", required_argument, NULL, 'K'},
		{"control", required_argument, NULL, 'c'},
		{"no-fib", no_argument, NULL, 'F'},
		{"no-graceful-restart", no_argument, NULL, 'G'},
		{"metrics", required_argument, NULL, 'X'},
		{"log-level", required_argument, NULL, 'l'},
		{"log-format", required_argument, NULL, 'f'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *node = getenv("TABBY_NODE"), *ds = NULL;
	char host[NODE_NAME_MAX + 1], urlbuf[1024];
	enum log_format fmt = LOG_FMT_TEXT;
	enum log_level lvl;
	struct addr a;
	struct err err;
	char *end;
	long v;
	int o;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->ip_method, sizeof(cfg->ip_method), "first-found");
	snprintf(cfg->ip6_method, sizeof(cfg->ip6_method), "first-found");
	cfg->listen_port = BGP_PORT;
	cfg->hold_time = 90;
	cfg->graceful_restart = true;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			node = optarg;
			break;
		case '4':
			if (strcmp(optarg, "autodetect") == 0) {
				cfg->ip_auto = true;
				break;
			}
			if (addr_parse(optarg, &cfg->ip) != 0 || !addr_is_v4(&cfg->ip))
				return bad_arg("--ip", optarg, "expected an IPv4 address or autodetect");
			cfg->has_ip = true;
			break;
		case '6':
			if (strcmp(optarg, "autodetect") == 0) {
				cfg->ip6_auto = true;
				break;
			}
			if (addr_parse(optarg, &cfg->ip6) != 0 || addr_is_v4(&cfg->ip6))
				return bad_arg("--ip6", optarg, "expected an IPv6 address or autodetect");
			cfg->has_ip6 = true;
			break;
		case 'm':
		case 'M':
			if (autodetect_method_check(optarg, &err) != 0) {
				fprintf(stderr, "tabbyd: %s\n", err.msg);
				return 2;
			}
			snprintf(o == 'm' ? cfg->ip_method : cfg->ip6_method, sizeof(cfg->ip_method),
				 "%s", optarg);
			break;
		case 'a':
			if (asn_parse(optarg, &cfg->as_num, &err) != 0)
				return bad_arg("--as", optarg, err.msg);
			cfg->has_as = true;
			break;
		case 'r':
			if (addr_parse(optarg, &a) != 0 || !addr_is_v4(&a))
				return bad_arg("--router-id", optarg,
					       "expected a dotted-quad identifier, e.g. 192.0.2.1");
			cfg->router_id = addr_to_u32(&a);
			cfg->has_router_id = true;
			break;
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 65535)
				return bad_arg("--listen-port", optarg, "expected 1-65535");
			cfg->listen_port = (uint16_t)v;
			cfg->has_listen_port = true;
			break;
		case 'H':
			v = strtol(optarg, &end, 10);
			/* RFC 4271 §4.2: zero, or at least three seconds. */
			if (*end != '\0' || v < 0 || v > 65535 || v == 1 || v == 2)
				return bad_arg("--hold-time", optarg, "expected 0 or 3-65535 seconds");
			cfg->hold_time = (uint16_t)v;
			break;
		case 'S':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 86400)
				return bad_arg("--send-hold-time", optarg,
					       "expected 1-86400 seconds (default: the greater of 480 "
					       "and twice the negotiated hold time, RFC 9687)");
			cfg->send_hold_time = (uint32_t)v;
			break;
		case 'd':
			ds = optarg;
			break;
		case 'A':
			store_etcd_files(optarg, NULL, NULL);
			break;
		case 'C':
			store_etcd_files(NULL, optarg, NULL);
			break;
		case 'K':
			store_etcd_files(NULL, NULL, optarg);
			break;
		case 'c':
			snprintf(cfg->control, sizeof(cfg->control), "%s", optarg);
			break;
		case 'F':
			cfg->no_fib = true;
			break;
		case 'X':
			if (parse_host_port(optarg, &cfg->metrics_addr, &cfg->metrics_port) != 0)
				return bad_arg("--metrics", optarg,
					       "expected ADDR:PORT, e.g. 127.0.0.1:9179 or [::1]:9179");
			cfg->has_metrics = true;
			break;
		case 'G':
			cfg->graceful_restart = false;
			break;
		case 'l':
			if (log_parse_level(optarg, &lvl) != 0)
				return bad_arg("--log-level", optarg,
					       "accepted: debug, info, warn, error");
			log_set_level(lvl);
			break;
		case 'f':
			if (log_parse_format(optarg, &fmt) != 0)
				return bad_arg("--log-format", optarg, "accepted: text, json");
			break;
		case 'V':
			printf("tabbyd %s\n", TABBY_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	log_init(fmt);
	if (optind < argc) {
		fprintf(stderr, "tabbyd: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	if (node == NULL || *node == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		node = host;
	}
	if (node_name_check(node, &err) != 0)
		return bad_arg("--node", node, err.msg);
	snprintf(cfg->node, sizeof(cfg->node), "%s", node);
	snprintf(cfg->datastore, sizeof(cfg->datastore), "%s",
		 store_url_default(ds, urlbuf, sizeof(urlbuf)));
	if (cfg->control[0] == '\0')
		snprintf(cfg->control, sizeof(cfg->control), "/run/tabby/%s.sock", cfg->node);
	return 0;
}

/* One family's address by method; asked: a failure is the caller's error, else a warning. */
static int
detect(int family, const char *method, struct addr *out, bool asked, struct err *err)
{
	struct autodetect_addr got;
	char a[ADDR_STRLEN];

	if (autodetect(family, method, &got, err) != 0) {
		if (!asked)
			log_warnx("%s", err->msg);
		return -1;
	}
	*out = got.a;
	addr_format(&got.a, a);
	log_info("IPv%c address %s/%u of %s, autodetected (%s)", family == AF_INET ? '4' : '6', a,
		 got.plen, got.ifname, method);
	return 0;
}

/*
 * Registers the node like `calicoctl node --ip --ip6 --as`: flags given replace the
 * stored values, flags not given keep them. The router id comes from here too.
 */
static int
register_node(struct agent *ag, struct err *err)
{
	struct agent_config *cfg = &ag->cfg;
	struct host_configs hosts;
	struct host_config h = {0};

	if (bgpconf_host_list(ag->store, &hosts, err) != STORE_OK)
		return -1;
	for (size_t i = 0; i < hosts.n; i++)
		if (strcmp(hosts.v[i].name, cfg->node) == 0)
			h = hosts.v[i];
	host_configs_free(&hosts);
	snprintf(h.name, sizeof(h.name), "%s", cfg->node);
	if (cfg->has_ip) {
		h.has_ip = true;
		h.ip = cfg->ip;
	}
	if (cfg->has_ip6) {
		h.has_ip6 = true;
		h.ip6 = cfg->ip6;
	}
	/* As calico-node: autodetect when asked, or when neither flag nor store has an IPv4. */
	if ((cfg->ip_auto || (!cfg->has_ip && !h.has_ip)) &&
	    detect(AF_INET, cfg->ip_method, &h.ip, cfg->ip_auto, err) == 0) {
		h.has_ip = true;
		cfg->ip = h.ip;
	} else if (cfg->ip_auto) {
		return -1;
	}
	if (cfg->ip6_auto) {
		if (detect(AF_INET6, cfg->ip6_method, &h.ip6, true, err) != 0)
			return -1;
		h.has_ip6 = true;
		cfg->ip6 = h.ip6;
	}
	if (cfg->has_as) {
		h.has_as = true;
		h.as_num = cfg->as_num;
	}
	/* BGPConfiguration listenPort (node.NAME, else default), read at start, unless
	 * --listen-port says otherwise. */
	if (!cfg->has_listen_port) {
		uint16_t port;

		if (bgpconf_listen_port(ag->store, cfg->node, &port, err) != STORE_OK)
			return -1;
		if (port != 0)
			cfg->listen_port = port;
	}
	h.port = cfg->listen_port == BGP_PORT ? 0 : cfg->listen_port;
	if (!cfg->has_router_id) {
		if (!h.has_ip) {
			err_set(err, "no router id: give --router-id, or --ip for the node's IPv4 "
				     "address");
			return -1;
		}
		cfg->router_id = addr_to_u32(&h.ip);
	}
	return bgpconf_host_put(ag->store, &h, err) == STORE_OK ? 0 : -1;
}

/*
 * The feed (its own thread) has changes: they go into the mirror, which reconcile reads.
 * Nothing here waits on the datastore; a failing datastore only means no news.
 */
static void
feed_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct agent *ag = w->data;
	bool resynced;

	(void)loop;
	(void)revents;
	if (!store_feed_take(ag->feed, ag->view, &resynced))
		return;
	if (resynced)
		log_info("store watch: configuration re-read (revision %lld, %zu keys); reconciling",
			 (long long)store_mirror_rev(ag->view), store_mirror_count(ag->view));
	else
		log_debug("store watch: desired state changed (revision %lld); reconciling",
			  (long long)store_mirror_rev(ag->view));
	reconcile_soon(ag);
}

/*
 * The configuration as of one read (this may wait: the loop is not running yet), then
 * followed from the revision after it by the feed's thread.
 */
static int
view_start(struct agent *ag, struct err *err)
{
	struct store_kvs kvs;

	if (store_range(ag->store, KEY_ROOT, &kvs, err) != STORE_OK)
		return -1;
	ag->view = store_mirror_new(KEY_STATUS);
	store_mirror_load(ag->view, &kvs);
	return store_feed_open(&ag->feed, ag->cfg.datastore, KEY_ROOT, KEY_STATUS,
			       store_mirror_rev(ag->view) + 1, err) == STORE_OK ? 0 : -1;
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct agent *ag = w->data;
	bool for_good = w->signum == SIGUSR1 || !ag->cfg.graceful_restart;

	(void)revents;
	log_info("signal %d: closing every session, %s", w->signum,
		 for_good ? "for good: every route is withdrawn"
			  : "to restart: routes are kept (graceful restart)");
	notify_send("STOPPING=1");
	ag->stopping = true;
	ag->keep_fib = !for_good;
	/* RFC 9003: say why in the Cease. */
	while (ag->sessions) {
		if (for_good)
			session_free(ag->sessions, BGP_CEASE_ADMIN_SHUTDOWN, "tabbyd shutting down");
		else
			session_free_restart(ag->sessions);
	}
	status_stop(ag);
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	struct agent ag = {.listen = {.fd = {-1, -1}}, .control_fd = -1, .host_ns = -1};
	struct err err;
	int rc;

	log_set_prefix("tabbyd");
	signal(SIGPIPE, SIG_IGN);
	/*
	 * One malloc arena for every thread: the datastore and kernel-route threads
	 * allocate little, and an arena of their own each kept about 1 MB resident
	 * (a fifth of an idle agent). The loop thread does nearly all the allocating.
	 */
	mallopt(M_ARENA_MAX, 1);
	/* Random numbers (timer jitter, the session index's seed) come from libsodium. */
	if (sodium_init() < 0) {
		log_error("libsodium could not be initialised");
		return 1;
	}
	if ((rc = parse_args(argc, argv, &ag.cfg)) != 0)
		return rc;
	raise_nofile();
	ag.loop = ev_default_loop(0);
	ag.rib = rib_new();
	ag.started = time(NULL);
	if (store_open(&ag.store, ag.cfg.datastore, &err) != STORE_OK) {
		log_error("%s", err.msg);
		rib_free(ag.rib);
		return 1;
	}
	if (register_node(&ag, &err) != 0 || routes_start(&ag, &err) != 0 ||
	    devices_start(&ag, &err) != 0 || listen_start(&ag, &err) != 0 ||
	    control_start(&ag, &err) != 0 || metrics_start(&ag, &err) != 0 ||
	    status_agent_start(&ag, &err) != STORE_OK || view_start(&ag, &err) != 0) {
		log_error("%s", err.msg);
		status_stop(&ag);
		store_close(ag.view);
		store_close(ag.store);
		rib_free(ag.rib);
		return 1;
	}
	/* The loop reads the mirror only: the handle is not needed until the end. */
	store_close(ag.store);
	ag.store = NULL;
	log_info("node %s up: BGP port %u, control %s, datastore %s%s", ag.cfg.node,
		 ag.cfg.listen_port, ag.cfg.control, ag.cfg.datastore,
		 ag.cfg.no_fib ? ", no kernel routes" : "");
	ev_io_init(&ag.feed_io, feed_cb, store_feed_fd(ag.feed), EV_READ);
	ag.feed_io.data = &ag;
	ev_io_start(ag.loop, &ag.feed_io);
	ev_signal_init(&ag.sigterm, stop_cb, SIGTERM);
	ev_signal_init(&ag.sigint, stop_cb, SIGINT);
	ev_signal_init(&ag.sigusr1, stop_cb, SIGUSR1);
	ag.sigterm.data = ag.sigint.data = ag.sigusr1.data = &ag;
	ev_signal_start(ag.loop, &ag.sigterm);
	ev_signal_start(ag.loop, &ag.sigint);
	ev_signal_start(ag.loop, &ag.sigusr1);
	reconcile(&ag);
	/* Listening for BGP and on the control socket, registered in the datastore: serving. */
	notify_send("READY=1");
	ev_run(ag.loop, 0);

	linger_close_all(&ag);
	ev_io_stop(ag.loop, &ag.feed_io);
	ev_timer_stop(ag.loop, &ag.reconcile_timer);
	reconcile_stop(&ag);
	peerings_stop(&ag);
	devices_stop(&ag);
	routes_stop(&ag);
	listen_stop(&ag);
	control_stop(&ag);
	metrics_stop(&ag);
	store_feed_close(ag.feed);
	store_close(ag.view);
	session_shared_free(&ag);
	rib_free(ag.rib);
	log_info("stopped");
	return 0;
}
