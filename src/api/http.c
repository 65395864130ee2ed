/* The core's shared parts: per-thread stores and the JSON error answers. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/log.h"

static char *datastore_url;
static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void
close_store(void *p)
{
	store_close(p);
}

static void
make_key(void)
{
	pthread_key_create(&store_key, close_store);
}

void
api_set_datastore(const char *url)
{
	datastore_url = xstrdup(url);
}

struct store *
api_store(void)
{
	struct store *s;
	struct err err;

	pthread_once(&store_once, make_key);
	s = pthread_getspecific(store_key);
	if (s != NULL)
		return s;
	/* SQLite handles are not shared between threads: each worker has its own. */
	if (store_open(&s, datastore_url, &err) != STORE_OK) {
		log_warnx("%s", err.msg);
		return NULL;
	}
	pthread_setspecific(store_key, s);
	return s;
}

json_t *
api_json_text(const char *s)
{
	json_t *v = json_string(s);
	char *copy;

	if (v != NULL)
		return v;
	copy = xstrdup(s);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
			*c = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

void
api_error(struct api_resp *r, int status, const char *code, const char *property,
	  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->doc);
	r->status = status;
	r->doc = json_pack("[{s:s, s:o, s:o, s:s}]", "errorCode", code, "errorMessage",
			   api_json_text(msg), "property", api_json_text(property ? property : ""),
			   "moreInfo", "see docs/openapi.yaml");
}

void
api_problem(struct api_resp *r, const struct ne_problem *p)
{
	api_error(r, p->status, p->code, p->property, "%s", p->message);
}
