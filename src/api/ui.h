/*
 * ui: the operator's live topology page. GET /ui/ (and /ui/FILE) serves the page's
 * HTML, CSS and JavaScript, embedded in the binary at build time (cmake/embed.cmake
 * turns src/api/ui/ into ui_files.c); GET /ui/api/topology answers the JSON the page
 * polls: every node with its sessions and prefix counts, and the API peerings with
 * their provisioning status. Operator clients only (api-client create --operator):
 * a tenant's token gets 403. The page holds no data itself, so it is also served
 * without a token (it then asks for the operator's client id and secret).
 */
#ifndef TABBY_API_UI_H
#define TABBY_API_UI_H

#include <stddef.h>

#include "api/api.h"

struct ui_file {
	const char *name; /* "index.html", "app.js", ... */
	const unsigned char *data;
	size_t len;
};
extern const struct ui_file ui_files[];
extern const size_t ui_nfiles;

/* Answers GET q->path under /ui; who is NULL when the request carried no token. */
void ui_handle(struct api_req *q, struct api_resp *r, const struct ne_auth *who);
/* The topology document (what /ui/api/topology answers); NULL on a store error. */
json_t *ui_topology(struct store *s, struct err *err);

#endif
