/* The operator's topology page and its JSON (ui.h). */
#include "api/ui.h"

#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "model/bgpconf.h"
#include "model/keys.h"

static const char *
media_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".svg", "image/svg+xml"},
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

static void
copy_field(json_t *to, json_t *from, const char *name)
{
	json_t *v = json_object_get(from, name);

	json_object_set(to, name, v ? v : json_null());
}

/* The node whose registered address is addr, or NULL (an external peer). */
static const char *
node_at(const struct host_configs *h, const char *addr)
{
	char buf[ADDR_STRLEN];

	for (size_t i = 0; i < h->n; i++) {
		if (h->v[i].has_ip && (addr_format(&h->v[i].ip, buf), strcmp(buf, addr) == 0))
			return h->v[i].name;
		if (h->v[i].has_ip6 && (addr_format(&h->v[i].ip6, buf), strcmp(buf, addr) == 0))
			return h->v[i].name;
	}
	return NULL;
}

static json_t *
node_doc(const struct host_config *c)
{
	char buf[ADDR_STRLEN];
	json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:I}", "name", c->name, "running", 0,
			      "sessions", (json_int_t)0, "prefixes_received", (json_int_t)0,
			      "prefixes_sent", (json_int_t)0);

	addr_format(&c->ip, buf);
	json_object_set_new(o, "ip", c->has_ip ? json_string(buf) : json_null());
	addr_format(&c->ip6, buf);
	json_object_set_new(o, "ip6", c->has_ip6 ? json_string(buf) : json_null());
	json_object_set_new(o, "as", c->has_as ? json_integer(c->as_num) : json_null());
	return o;
}

/* The node's entry in nodes (made for a node with status but no registration). */
static json_t *
node_entry(json_t *nodes, const char *name)
{
	struct host_config c = {0};
	json_t *n = json_object_get(nodes, name);

	if (n == NULL) {
		snprintf(c.name, sizeof(c.name), "%s", name);
		n = node_doc(&c);
		json_object_set_new(nodes, name, n);
	}
	return n;
}

static void
add_to(json_t *node, const char *field, json_int_t v)
{
	json_object_set_new(node, field,
			    json_integer(json_integer_value(json_object_get(node, field)) + v));
}

/* One status record: the node's agent (running) or one of its sessions. */
static void
add_status(json_t *nodes, json_t *sessions, const struct host_configs *h, const char *key,
	   const char *value)
{
	const char *rest = key + strlen(KEY_ROOT "status/"), *slash = strchr(rest, '/');
	char node[NODE_NAME_MAX + 1];
	json_t *rec, *s, *n;
	const char *peer_node;

	if (slash == NULL || (size_t)(slash - rest) > NODE_NAME_MAX)
		return;
	snprintf(node, sizeof(node), "%.*s", (int)(slash - rest), rest);
	if (strcmp(slash + 1, "agent") == 0) {
		json_object_set_new(node_entry(nodes, node), "running", json_true());
		return;
	}
	if (strncmp(slash + 1, "session/", 8) != 0 || (rec = json_loads(value, 0, NULL)) == NULL)
		return;
	s = json_pack("{s:s}", "node", node);
	copy_field(s, rec, "local");
	copy_field(s, rec, "remote");
	copy_field(s, rec, "remote_as");
	copy_field(s, rec, "type");
	copy_field(s, rec, "state");
	copy_field(s, rec, "info");
	copy_field(s, rec, "since_unix");
	copy_field(s, rec, "prefixes_received");
	copy_field(s, rec, "prefixes_sent");
	peer_node = node_at(h, json_string_value(json_object_get(rec, "remote")) ?: "");
	json_object_set_new(s, "peer_node", peer_node ? json_string(peer_node) : json_null());
	n = node_entry(nodes, node);
	add_to(n, "sessions", 1);
	add_to(n, "prefixes_received",
	       json_integer_value(json_object_get(rec, "prefixes_received")));
	add_to(n, "prefixes_sent", json_integer_value(json_object_get(rec, "prefixes_sent")));
	json_array_append_new(sessions, s);
	json_decref(rec);
}

json_t *
ui_topology(struct store *s, struct err *err)
{
	struct host_configs h;
	struct store_kvs kvs = {0};
	json_t *nodes = json_object(), *sessions = json_array(), *peerings = json_array(), *list,
	       *o, *arr = json_array();
	const char *name;
	size_t i;

	if (bgpconf_host_list(s, &h, err) != STORE_OK)
		goto fail;
	for (i = 0; i < h.n; i++)
		if (h.v[i].registered)
			json_object_set_new(nodes, h.v[i].name, node_doc(&h.v[i]));
	if (store_range(s, KEY_ROOT "status/", &kvs, err) != STORE_OK) {
		host_configs_free(&h);
		goto fail;
	}
	for (i = 0; i < kvs.n; i++)
		add_status(nodes, sessions, &h, kvs.v[i].key, kvs.v[i].value);
	store_kvs_free(&kvs);
	host_configs_free(&h);
	if (ne_list(s, "bgp", NULL, &list, err) != STORE_OK)
		goto fail;
	json_array_foreach(list, i, o) {
		json_t *v = ne_peering_view(s, o);

		copy_field(v, o, "owner");
		copy_field(v, o, "node");
		json_array_append_new(peerings, v);
	}
	json_decref(list);
	json_object_foreach(nodes, name, o)
		json_array_append(arr, o);
	json_decref(nodes);
	return json_pack("{s:I, s:o, s:o, s:o}", "generated", (json_int_t)time(NULL), "nodes", arr,
			 "sessions", sessions, "peerings", peerings);
fail:
	json_decref(nodes);
	json_decref(sessions);
	json_decref(peerings);
	json_decref(arr);
	return NULL;
}

void
ui_handle(struct api_req *q, struct api_resp *r, const struct ne_auth *who)
{
	const char *path = q->path, *file;
	struct err err;
	json_t *doc;

	if (who != NULL && !who->operator_role) {
		api_error(r, 403, "ACCESS_DENIED", NULL,
			  "the topology page is for operator clients (tabbyctl api-client create "
			  "--operator)");
		return;
	}
	if (strcmp(path, "/ui/api/topology") == 0) {
		struct store *s = api_store();

		if (s == NULL || (doc = ui_topology(s, &err)) == NULL) {
			log_warnx("datastore unavailable: %s", s ? err.msg : "cannot open it");
			api_error(r, 503, "STORE_UNAVAILABLE", NULL,
				  "datastore unavailable; try again later");
			return;
		}
		json_decref(r->doc);
		r->doc = doc;
		r->status = 200;
		return;
	}
	file = strcmp(path, "/ui") == 0 || strcmp(path, "/ui/") == 0 ? "index.html" : path + 4;
	for (size_t i = 0; i < ui_nfiles; i++) {
		if (strcmp(ui_files[i].name, file) != 0)
			continue;
		json_decref(r->doc);
		r->doc = NULL;
		r->status = 200;
		r->body = xmalloc(ui_files[i].len ? ui_files[i].len : 1);
		memcpy(r->body, ui_files[i].data, ui_files[i].len);
		r->body_len = ui_files[i].len;
		r->content_type = media_type(file);
		return;
	}
	api_error(r, 404, "NOT_FOUND", NULL, "no resource at %.200s", path);
}
