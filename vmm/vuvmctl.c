// SPDX-License-Identifier: MIT
/*
 * vuvmctl: sends one command to a running vuvm's control socket (--control
 * PATH), prints the reply and exits 0 for "ok", 1 for "error", 2 when it
 * could not ask (usage, connection, no reply in time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost/clock.h"
#include "vmm/control.h"

#ifndef VUVM_VERSION
#define VUVM_VERSION "unknown"
#endif

#define CTL_DEFAULT_TIMEOUT 30.0
#define CTL_EXIT_OK	    0
#define CTL_EXIT_ERROR	    1
#define CTL_EXIT_USAGE	    2

static void usage(FILE *f)
{
	fprintf(f, "usage: vuvmctl [--timeout SEC] SOCKET COMMAND [ARG...]\n"
		   "Sends COMMAND to the vuvm listening on SOCKET (vuvm "
		   "--control SOCKET)\nand prints its reply.\n\n"
		   "  --timeout SEC  wait at most SEC seconds for the reply "
		   "(default 30)\n"
		   "  --help         print this help and exit\n"
		   "  --version      print the version and exit\n\n"
		   "Commands: help, status, suspend DEV|all, resume DEV|all,\n"
		   "save DEV FILE, restore DEV FILE, quit (see docs/cli.md). "
		   "DEV is a device\nname as vuvm logs it (blk0) or its index; "
		   "a relative FILE is made absolute\nhere, since vuvm opens "
		   "it.\n\n"
		   "Exit status: 0 ok, 1 vuvm answered with an error, 2 usage "
		   "error, no\nconnection or no reply in time.\n");
}

/* Says why vuvmctl could not ask; returns the exit status for that. */
static int __attribute__((format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vuvmctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_USAGE;
}

/* Joins the words into one command line; FILE of save/restore made
 * absolute. Returns 0 or the exit status after saying why. */
static int build_line(char **words, int n, char *line, size_t len)
{
	char cwd[PATH_MAX];
	size_t used = 0;

	for (int i = 0; i < n; i++) {
		const char *w = words[i];
		bool file = i == 2 && (!strcmp(words[0], "save") ||
				       !strcmp(words[0], "restore"));
		int k;

		if (!w[0] || strpbrk(w, " \t\r\n"))
			return die("argument '%s': empty or with white space, "
				   "which the control protocol splits on",
				   w);
		if (file && w[0] != '/' && !getcwd(cwd, sizeof(cwd)))
			return die("%s: cannot make it absolute: %s", w,
				   strerror(errno));
		k = snprintf(line + used, len - used, "%s%s%s%s", i ? " " : "",
			     file && w[0] != '/' ? cwd : "",
			     file && w[0] != '/' ? "/" : "", w);
		if (k < 0 || (size_t)k >= len - used)
			return die("the command is longer than %d bytes",
				   CONTROL_MAX_LINE - 2);
		used += (size_t)k;
	}
	line[used++] = '\n';
	line[used] = '\0';
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		die("%s: longer than 107 bytes, the limit of a unix socket "
		    "path",
		    path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		die("cannot connect to %s: %s (is vuvm running with "
		    "--control?)",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Prints complete lines from @buf; returns the exit status once the final
 * line ("ok: " or "error: ") is out, else -1 with the rest kept. */
static int print_lines(char *buf, size_t *used)
{
	char *nl;

	while ((nl = memchr(buf, '\n', *used))) {
		size_t n = (size_t)(nl - buf) + 1;
		int status = -1;

		if (!strncmp(buf, "ok: ", 4) || !strcmp(buf, "ok:\n"))
			status = CTL_EXIT_OK;
		else if (!strncmp(buf, "error: ", 7))
			status = CTL_EXIT_ERROR;
		fwrite(buf, 1, n, stdout);
		memmove(buf, buf + n, *used - n);
		*used -= n;
		if (status >= 0)
			return status;
	}
	return -1;
}

static int read_reply(int fd, const char *path, double timeout)
{
	char buf[2 * CONTROL_MAX_LINE * 4];
	long long deadline = now_ms() + (long long)(timeout * 1000);
	size_t used = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		int status;

		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return die("%s: no reply within %g s", path, timeout);
		n = recv(fd, buf + used, sizeof(buf) - used, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return die("%s: %s before a complete reply", path,
				   n ? strerror(errno)
				     : "vuvm closed the connection");
		used += (size_t)n;
		status = print_lines(buf, &used);
		if (status >= 0)
			return status;
		if (used == sizeof(buf))
			return die("%s: a reply line longer than %zu bytes",
				   path, sizeof(buf));
	}
}

static int send_line(int fd, const char *path, const char *line)
{
	size_t len = strlen(line);

	while (len) {
		ssize_t n = send(fd, line, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return die("%s: cannot send: %s", path,
				   strerror(errno));
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Options before SOCKET; returns the index of SOCKET, or -1 (exit 0) or
 * -2 (exit 2) when done. */
static int parse_options(int argc, char **argv, double *timeout)
{
	int i = 1;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *v = NULL;
		char *end;

		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return -1;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("vuvmctl %s\n", VUVM_VERSION);
			return -1;
		}
		if (!strncmp(argv[i], "--timeout=", 10))
			v = argv[i] + 10;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			v = argv[++i];
		if (!v) {
			die("unknown option or missing value '%s' (try --help)",
			    argv[i]);
			return -2;
		}
		*timeout = strtod(v, &end);
		if (end == v || *end || !isfinite(*timeout) || *timeout <= 0 ||
		    *timeout > 1e6) {
			die("--timeout '%s': expected seconds above 0", v);
			return -2;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	double timeout = CTL_DEFAULT_TIMEOUT;
	char line[CONTROL_MAX_LINE];
	int i = parse_options(argc, argv, &timeout), fd, status;

	if (i < 0)
		return i == -1 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (argc - i < 2) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	status = build_line(argv + i + 1, argc - i - 1, line, sizeof(line));
	if (status)
		return status;
	fd = connect_to(argv[i]);
	if (fd < 0)
		return CTL_EXIT_USAGE;
	status = send_line(fd, argv[i], line);
	if (!status)
		status = read_reply(fd, argv[i], timeout);
	close(fd);
	return status;
}
