// SPDX-License-Identifier: MIT
/*
 * ctl_raw: a control-socket client that vuvmctl refuses to be, for the
 * tests: sends its stdin as it is (several lines, an overlong one, a line
 * without its newline) and prints whatever comes back until vuvm closes.
 *
 *   ctl_raw [-k] SOCKET < DATA
 *
 * Without -k the sending side is shut down after DATA (vuvm sees the end
 * of the client); with -k it stays open, as a slow client's would. Exits
 * 0 when vuvm closed the connection, 3 when it had not after 40 s, 2 on
 * a usage or connection error.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_RAW_WAIT_MS 40000

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "ctl_raw: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

static bool send_stdin(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) {
			perror("ctl_raw: send");
			return false;
		}
	}
	return n == 0;
}

int main(int argc, char **argv)
{
	bool keep = argc == 3 && !strcmp(argv[1], "-k");
	char buf[4096];
	int fd;

	if (argc != 2 + keep) {
		fprintf(stderr, "usage: ctl_raw [-k] SOCKET < DATA\n");
		return 2;
	}
	fd = connect_to(argv[argc - 1]);
	if (fd < 0 || !send_stdin(fd))
		return 2;
	if (!keep)
		shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, CTL_RAW_WAIT_MS) == 0)
			return 3;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return n < 0 ? 2 : 0;
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
}
