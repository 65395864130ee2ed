/*
 * The control socket: a Unix stream socket whose path is published in the
 * agent record. A client writes one command line and reads one JSON
 * document back. Commands: "sessions" (the live session records).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/log.h"

static json_t *
cmd_sessions(struct agent *ag)
{
	json_t *arr = json_array();

	for (struct session *s = ag->sessions; s; s = s->next) {
		char *text = status_session_json(s);

		json_array_append_new(arr, json_loads(text, 0, NULL));
		free(text);
	}
	return arr;
}

static void
reply(int fd, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0, off = 0;

	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	send(fd, "\n", 1, MSG_NOSIGNAL);
	free(text);
	json_decref(doc);
}

static void
control_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct agent *ag = w->data;
	struct timeval tv = {.tv_sec = 1};
	char line[256];
	ssize_t n;
	int fd;

	(void)loop;
	(void)revents;
	fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* A client gets one second to ask and to read; it cannot stall the agent longer. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = recv(fd, line, sizeof(line) - 1, 0);
	if (n > 0) {
		line[n] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "sessions") == 0)
			reply(fd, cmd_sessions(ag));
		else
			reply(fd, json_pack("{s:s}", "error", "unknown command; accepted: sessions"));
	}
	close(fd);
}

int
control_start(struct agent *ag, struct err *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char *dir, *slash;

	if (strlen(ag->cfg.control) >= sizeof(sun.sun_path)) {
		err_set(err, "control socket path too long: %s", ag->cfg.control);
		return -1;
	}
	dir = xstrdup(ag->cfg.control);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			log_warn("mkdir %s", dir);
	}
	free(dir);
	strcpy(sun.sun_path, ag->cfg.control);
	unlink(ag->cfg.control);
	ag->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ag->control_fd < 0 || bind(ag->control_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(ag->control_fd, 16) != 0) {
		err_set(err, "control socket %s: %s", ag->cfg.control, strerror(errno));
		if (ag->control_fd >= 0)
			close(ag->control_fd);
		ag->control_fd = -1;
		return -1;
	}
	chmod(ag->cfg.control, 0600);
	ev_io_init(&ag->control_io, control_cb, ag->control_fd, EV_READ);
	ag->control_io.data = ag;
	ev_io_start(ag->loop, &ag->control_io);
	return 0;
}

void
control_stop(struct agent *ag)
{
	if (ag->control_fd < 0)
		return;
	ev_io_stop(ag->loop, &ag->control_io);
	close(ag->control_fd);
	unlink(ag->cfg.control);
	ag->control_fd = -1;
}
