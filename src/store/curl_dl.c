/* libcurl, loaded on first use (see curl_dl.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store/curl_dl.h"

/* The soname: what Debian's libcurl4 (and the other flavours' compat links) provide. */
#define CURL_SONAME "libcurl.so.4"

struct curl_api curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

/* Symbol name and where its address goes, in struct curl_api's order. */
static const struct {
	const char *name;
	size_t off;
} symbols[] = {
#define SYM(f) { "curl_" #f, offsetof(struct curl_api, f) }
	SYM(global_init),   SYM(easy_init),	     SYM(easy_setopt),
	SYM(easy_perform),  SYM(easy_getinfo),	     SYM(easy_reset),
	SYM(easy_cleanup),  SYM(easy_strerror),	     SYM(slist_append),
	SYM(slist_free_all), SYM(multi_init),	     SYM(multi_add_handle),
	SYM(multi_remove_handle), SYM(multi_perform), SYM(multi_poll),
	SYM(multi_wakeup),  SYM(multi_cleanup),
#undef SYM
};

static void
load(void)
{
	struct curl_api api;
	void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		snprintf(load_error, sizeof(load_error), "cannot load %s (%s)", CURL_SONAME,
			 dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *p = dlsym(lib, symbols[i].name);

		if (p == NULL) {
			snprintf(load_error, sizeof(load_error),
				 "%s has no %s (libcurl 7.68 or later is needed)", CURL_SONAME,
				 symbols[i].name);
			dlclose(lib);
			return;
		}
		/* POSIX guarantees a function's address survives the void * dlsym returns. */
		memcpy((char *)&api + symbols[i].off, &p, sizeof(p));
	}
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "curl_global_init failed");
		return;
	}
	curl = api;
}

int
curl_load(struct err *err)
{
	pthread_once(&load_once, load);
	if (curl.easy_init != NULL)
		return 0;
	err_set(err, "the etcd datastore needs libcurl: %s; install the libcurl4 package",
		load_error);
	return -1;
}
