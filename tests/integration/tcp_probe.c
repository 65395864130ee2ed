/*
 * tcp_probe: proves a TCP connection crosses the routed network.
 *   tcp_probe listen ADDR PORT        accepts one connection, sends "hello from ADDR"
 *   tcp_probe connect SRC DST PORT    connects from SRC to DST, prints what it reads
 * Both give up after 5 seconds.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int
sockaddr_of(const char *a, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return AF_INET6;
	}
	fprintf(stderr, "not an address: %s\n", a);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct timeval tv = {.tv_sec = 5};
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[128];
	int fd, c, one = 1;
	ssize_t n;

	if (argc == 4 && strcmp(argv[1], "listen") == 0) {
		fd = socket(sockaddr_of(argv[2], atoi(argv[3]), &ss, &len), SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1) != 0) {
			perror("listen");
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
		if ((c = accept(fd, NULL, NULL)) < 0) {
			perror("accept");
			return 1;
		}
		snprintf(buf, sizeof(buf), "hello from %s\n", argv[2]);
		if (write(c, buf, strlen(buf)) < 0)
			return 1;
		close(c);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "connect") == 0) {
		struct sockaddr_storage src;
		socklen_t slen;

		fd = socket(sockaddr_of(argv[3], atoi(argv[4]), &ss, &len), SOCK_STREAM, 0);
		sockaddr_of(argv[2], 0, &src, &slen);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (bind(fd, (struct sockaddr *)&src, slen) != 0 ||
		    connect(fd, (struct sockaddr *)&ss, len) != 0) {
			perror("connect");
			return 1;
		}
		if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0) {
			perror("read");
			return 1;
		}
		buf[n] = '\0';
		fputs(buf, stdout);
		return 0;
	}
	fprintf(stderr, "usage: tcp_probe listen ADDR PORT | connect SRC DST PORT\n");
	return 2;
}
