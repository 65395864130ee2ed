/*
 * libcurl, loaded on first use. Only the etcd backend needs it, and linking it
 * maps its TLS, Kerberos, LDAP and SSH libraries into every program at start:
 * about 5 MB resident in a tabbyd that runs on the embedded datastore. Loaded
 * with dlopen, the programs on SQLite never pay for it.
 *
 * The calls keep curl's names without the curl_ prefix: curl.easy_setopt(...).
 */
#ifndef TABBY_STORE_CURL_DL_H
#define TABBY_STORE_CURL_DL_H

#include <curl/curl.h>

#include "lib/err.h"

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_reset)(CURL *h);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned n, int timeout_ms,
				int *numfds);
	CURLMcode (*multi_wakeup)(CURLM *m);
	CURLMcode (*multi_cleanup)(CURLM *m);
};

/* Filled by curl_load; read only after it returned 0. */
extern struct curl_api curl;

/*
 * Loads libcurl and runs curl_global_init, once per process (thread-safe).
 * -1 with err set (which library, why, what to install) when it cannot.
 */
int curl_load(struct err *err);

#endif
