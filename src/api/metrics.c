/*
 * tabby-api's /metrics: requests by route pattern, method and status, their
 * latency per route, tokens issued per grant, authentication failures and
 * rate-limit refusals. Shared by every server thread under one mutex; the
 * label sets are bounded (a fixed list of route patterns and methods, the
 * statuses the API answers), so the table is a small fixed array.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/prom.h"

/* The route patterns, as labels: a path is counted under the first that matches. */
static const struct {
	const char *prefix; /* the path, or its start when subtree */
	bool subtree;
	const char *label;
} routes[] = {
    {"/oauth2/v1/token", false, "/oauth2/v1/token"},
    {"/ne/v1/devices", false, "/ne/v1/devices"},
    {"/ne/v1/devices/", true, "/ne/v1/devices/{uuid}"},
    {"/ne/v1/connections", false, "/ne/v1/connections"},
    {"/ne/v1/connections/", true, "/ne/v1/connections/{uuid}"},
    {"/ne/v1/bgp", false, "/ne/v1/bgp"},
    {"/ne/v1/bgp/", true, "/ne/v1/bgp/{uuid}"},
    {"/metrics", false, "/metrics"},
    {"/ui/api/topology", false, "/ui/api/topology"},
    {"/ui/", true, "/ui/{file}"},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))
#define ROUTE_OTHER NROUTES /* label "other" */

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "other"};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

#define CELLS_MAX 256 /* (route, method, status) seen; more are folded */

struct cell {
	unsigned route, method;
	int status;
	uint64_t n;
};

static const char *const grants[] = {"client_credentials", "password", "refresh_token"};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cell cells[CELLS_MAX];
static size_t ncells;
static uint64_t folded; /* requests past CELLS_MAX distinct cells */
static struct prom_hist latency[NROUTES + 1];
static uint64_t tokens[3], auth_fail[2], limited;

static unsigned
route_index(const char *target)
{
	size_t len = strcspn(target, "?");

	for (unsigned i = 0; i < NROUTES; i++) {
		size_t pl = strlen(routes[i].prefix);

		if (routes[i].subtree ? len > pl && strncmp(target, routes[i].prefix, pl) == 0
				      : len == pl && strncmp(target, routes[i].prefix, pl) == 0)
			return i;
	}
	return ROUTE_OTHER;
}

void
api_metrics_request(const char *method, const char *target, int status, double seconds)
{
	unsigned r = route_index(target ? target : ""), m = 0;
	size_t i;

	while (m < NMETHODS - 1 && strcmp(method ? method : "", methods[m]) != 0)
		m++;
	pthread_mutex_lock(&mu);
	for (i = 0; i < ncells; i++)
		if (cells[i].route == r && cells[i].method == m && cells[i].status == status)
			break;
	if (i == ncells && ncells < CELLS_MAX)
		cells[ncells++] = (struct cell){r, m, status, 0};
	if (i < ncells)
		cells[i].n++;
	else
		folded++;
	prom_hist_observe(&latency[r], prom_latency_bounds, prom_latency_nbounds, seconds);
	if (status == 429)
		limited++;
	pthread_mutex_unlock(&mu);
}

void
api_metrics_token(enum api_grant g)
{
	pthread_mutex_lock(&mu);
	tokens[g]++;
	pthread_mutex_unlock(&mu);
}

void
api_metrics_auth_failure(bool bearer)
{
	pthread_mutex_lock(&mu);
	auth_fail[bearer]++;
	pthread_mutex_unlock(&mu);
}

static const char *
route_label(unsigned r)
{
	return r < NROUTES ? routes[r].label : "other";
}

char *
api_metrics_render(size_t *len)
{
	struct prom p;
	char status[8];

	prom_init(&p);
	pthread_mutex_lock(&mu);
	prom_family(&p, "tabby_api_requests_total", PROM_COUNTER,
		    "Requests answered, by route pattern, method and HTTP status.");
	for (size_t i = 0; i < ncells; i++) {
		struct prom_labels l = {
		    {"route", "method", "status"},
		    {route_label(cells[i].route), methods[cells[i].method], status},
		    3};

		snprintf(status, sizeof(status), "%d", cells[i].status);
		prom_sample_u64(&p, "tabby_api_requests_total", &l, cells[i].n);
	}
	prom_single(&p, "tabby_api_requests_unlabelled_total", PROM_COUNTER,
		    "Requests past the distinct label sets kept (counted here only).", folded);
	prom_family(&p, "tabby_api_request_duration_seconds", PROM_HISTOGRAM,
		    "Time from the request line to the answer, by route pattern.");
	for (unsigned r = 0; r <= NROUTES; r++) {
		struct prom_labels l = {{"route"}, {route_label(r)}, 1};

		if (latency[r].count > 0)
			prom_hist_write(&p, "tabby_api_request_duration_seconds", &l, &latency[r],
					prom_latency_bounds, prom_latency_nbounds);
	}
	prom_family(&p, "tabby_api_tokens_issued_total", PROM_COUNTER,
		    "Access tokens issued, by grant type.");
	for (size_t g = 0; g < 3; g++) {
		struct prom_labels l = {{"grant"}, {grants[g]}, 1};

		prom_sample_u64(&p, "tabby_api_tokens_issued_total", &l, tokens[g]);
	}
	prom_family(&p, "tabby_api_auth_failures_total", PROM_COUNTER,
		    "Failed authentications: a wrong client secret or user password "
		    "(reason credentials), an unknown or expired bearer token (reason token).");
	{
		struct prom_labels l = {{"reason"}, {"credentials"}, 1};

		prom_sample_u64(&p, "tabby_api_auth_failures_total", &l, auth_fail[0]);
		l.value[0] = "token";
		prom_sample_u64(&p, "tabby_api_auth_failures_total", &l, auth_fail[1]);
	}
	prom_single(&p, "tabby_api_rate_limited_total", PROM_COUNTER,
		    "Requests refused with 429 by the failed-authentication limits.", limited);
	pthread_mutex_unlock(&mu);
	*len = p.len;
	return p.buf;
}
