// SPDX-License-Identifier: MIT
/*
 * The control socket (vmm/control.c) without KVM and without devices: the
 * command table through control_exec() (help, status, unknown commands,
 * wrong argument counts, empty lines, quit's stop request, replies that
 * must stay one line each), then the socket itself: a client's commands,
 * an overlong line, a line that never ends, quit closing the connection,
 * and the socket file's life.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/vmm/check.h"
#include "vmm/control.h"
#include "vmm/devices.h"
#include "vmm/stop.h"

static struct devices ds; /* none */
static struct vm_stop stop;
static struct control ctl;
static char out[4096];

/* Runs @text; returns control_exec()'s verdict, the reply in out. */
static bool exec(const char *text)
{
	char line[CONTROL_MAX_LINE];

	snprintf(line, sizeof(line), "%s", text);
	memset(out, 'X', sizeof(out));
	return control_exec(&ctl, line, out, sizeof(out));
}

static unsigned int lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_commands(void)
{
	CHECK(exec("help"));
	CHECK(lines(out) == 8);
	CHECK(strstr(out, "\nok: 7 commands; DEV is a device name") != NULL);
	CHECK(strncmp(out, "help ", 5) == 0);
	CHECK(strstr(out, "\nquit ") != NULL);
	CHECK(strstr(out, "\nsave DEV FILE ") != NULL);

	CHECK(exec("status"));
	CHECK(strcmp(out, "ok: 0 devices\n") == 0);
	CHECK(exec(" \tstatus\r"));
	CHECK(strcmp(out, "ok: 0 devices\n") == 0);

	CHECK(!exec("frobnicate now"));
	CHECK(strcmp(out, "error: unknown command 'frobnicate' (try help)\n") ==
	      0);
	CHECK(!exec("Status"));
	/* control bytes in a reply become spaces: one line stays one line */
	CHECK(!exec("a\001b\nc"));
	CHECK(strcmp(out, "error: unknown command 'a b c' (try help)\n") == 0);

	CHECK(!exec(""));
	CHECK(strcmp(out, "error: empty line (try help)\n") == 0);
	CHECK(!exec("  \t \r"));
	CHECK(strcmp(out, "error: empty line (try help)\n") == 0);

	CHECK(!exec("status all"));
	CHECK(strcmp(out, "error: status: wrong arguments; usage: status\n") ==
	      0);
	CHECK(!exec("suspend"));
	CHECK(strcmp(out, "error: suspend: wrong arguments; usage: suspend "
			  "DEV|all\n") == 0);
	CHECK(!exec("save 0"));
	CHECK(strstr(out, "usage: save DEV FILE") != NULL);
	CHECK(!exec("restore 0 /a /b /c /d"));
	CHECK(strstr(out, "usage: restore DEV FILE") != NULL);
	CHECK(!vm_stop_requested(&stop));
}

static void test_device_commands(void)
{
	CHECK(!exec("suspend blk0"));
	CHECK(strcmp(out, "error: no device 'blk0': this machine has none\n") ==
	      0);
	CHECK(!exec("resume 0"));
	CHECK(strstr(out, "error: no device '0'") == out);
	CHECK(exec("suspend all"));
	CHECK(strcmp(out, "ok: no devices\n") == 0);
	CHECK(exec("resume all"));
	CHECK(strcmp(out, "ok: no devices\n") == 0);
	CHECK(!exec("save 0 relative/file"));
	CHECK(strcmp(out, "error: relative/file: FILE must be an absolute "
			  "path\n") == 0);
	CHECK(!exec("restore blk0 /nonexistent"));
	CHECK(strstr(out, "error: no device 'blk0'") == out);
}

/* A reply cut to the buffer still ends in a newline. */
static void test_short_buffer(void)
{
	char line[] = "help", small[16];

	small[0] = 'X';
	control_exec(&ctl, line, small, 1);
	CHECK(small[0] == '\0');
	memset(small, 'X', sizeof(small));
	CHECK(control_exec(&ctl, line, small, sizeof(small)));
	CHECK(strlen(small) == sizeof(small) - 1);
	CHECK(small[sizeof(small) - 2] == '\n');
}

static void test_quit(void)
{
	CHECK(exec("quit"));
	CHECK(strcmp(out, "ok: stopping the machine (exit status 0)\n") == 0);
	CHECK(vm_stop_requested(&stop) && vm_stop_status(&stop) == 0);
}

/* --- The socket ----------------------------------------------------------- */

static char path[64];

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until @n lines came or the server closed; "" on a timeout. */
static const char *receive(int fd, unsigned int n)
{
	static char buf[8192];
	size_t used = 0;

	buf[0] = '\0';
	while (lines(buf) < n && used < sizeof(buf) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t got;

		if (poll(&p, 1, 5000) != 1)
			return "";
		got = recv(fd, buf + used, sizeof(buf) - 1 - used, 0);
		if (got <= 0)
			break;
		used += (size_t)got;
		buf[used] = '\0';
	}
	return buf;
}

static bool send_text(int fd, const char *s)
{
	return send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s);
}

/* Whether the server closed @fd (within 5 s). */
static bool closed(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	return poll(&p, 1, 5000) == 1 && recv(fd, &c, 1, 0) == 0;
}

static void test_socket(void)
{
	static char longline[CONTROL_MAX_LINE + 100];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/tmp/vuvm-control-%d.sock", getpid());
	unlink(path);
	vm_stop_init(&stop);
	CHECK(control_open(&ctl, path, &ds, &stop) == 0);
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK((st.st_mode & 0777) == 0600);
	ctl.line_timeout_ms = 200;
	CHECK(control_start(&ctl) == 0);

	fd = client();
	CHECK(fd >= 0);
	CHECK(send_text(fd, "status\nbogus\n"));
	CHECK(strcmp(receive(fd, 2), "ok: 0 devices\nerror: unknown command "
				     "'bogus' (try help)\n") == 0);
	memset(longline, 'a', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	CHECK(send_text(fd, longline));
	CHECK(strcmp(receive(fd, 1), "error: line longer than 1023 bytes\n") ==
	      0);
	CHECK(send_text(fd, "status\n"));
	CHECK(strcmp(receive(fd, 1), "ok: 0 devices\n") == 0);
	/* half a line, then silence */
	CHECK(send_text(fd, "stat"));
	CHECK(strcmp(receive(fd, 1), "error: the line did not end in time; "
				     "closing\n") == 0);
	CHECK(closed(fd));
	close(fd);

	/* quit: the reply, then the server lets go */
	fd = client();
	CHECK(fd >= 0);
	CHECK(send_text(fd, "quit\n"));
	CHECK(strcmp(receive(fd, 1),
		     "ok: stopping the machine (exit status 0)\n") == 0);
	CHECK(closed(fd));
	close(fd);
	CHECK(vm_stop_wait(&stop, 5) == 0 && vm_stop_status(&stop) == 0);

	control_close(&ctl);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	vm_stop_destroy(&stop);
}

/* Something at the path that is not a socket is never replaced. */
static void test_refuses_file(void)
{
	FILE *f = fopen(path, "w");
	struct stat st;

	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK(control_open(&ctl, path, &ds, &stop) == -EEXIST);
	control_close(&ctl);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));
	unlink(path);
}

int main(void)
{
	vm_stop_init(&stop);
	CHECK(control_open(&ctl, NULL, &ds, &stop) == 0);
	test_commands();
	test_device_commands();
	test_short_buffer();
	test_quit();
	control_close(&ctl);
	vm_stop_destroy(&stop);
	test_socket();
	test_refuses_file();
	return check_exit();
}
