/* ctl_query SOCKET COMMAND...: sends one command line to a tabbyd control socket, prints the reply. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char line[512] = "", buf[65536];
	ssize_t n;
	int fd;

	if (argc < 3 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: ctl_query SOCKET COMMAND...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", i > 2 ? " " : "",
			 argv[i]);
	strcat(line, "\n");
	strcpy(sun.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		perror(argv[1]);
		return 1;
	}
	if (write(fd, line, strlen(line)) < 0)
		return 1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}
