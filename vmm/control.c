// SPDX-License-Identifier: MIT
/*
 * The control socket: creating and removing it, the thread that accepts one
 * client at a time and reads its lines under a deadline, and the command
 * table. Commands run on this thread; every device operation they call is
 * bounded by the device's reply timeout.
 */
#define _GNU_SOURCE /* accept4 */
#define pr_fmt(fmt) "control: " fmt
#include "vmm/control.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost/clock.h"
#include "vhost/log.h"
#include "vmm/devices.h"
#include "vmm/seccomp.h"
#include "vmm/stop.h"

#define CONTROL_MAX_ARGS    3
#define CONTROL_REPLY_MAX   4096 /* 8 devices' status lines fit */
#define CONTROL_QUIT_STATUS 0	 /* what QEMU's monitor "quit" exits with */

/* --- The socket file --------------------------------------------------- */

static void control_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path));
}

/*
 * Something at @path: a socket nobody listens on (a run that was killed)
 * is removed; a live socket or any other file is left alone and refused.
 */
static int control_clear_path(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, err;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("--control %s: the file exists and is not a socket; "
		       "refusing to replace it",
		       path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	control_addr(&sa, path);
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	if (err != ECONNREFUSED) {
		pr_err("--control %s: %s", path,
		       err ? strerror(err)
			   : "another program listens on this socket");
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	pr_info("%s: removed a stale socket", path);
	return 0;
}

static int control_bind(struct control *c)
{
	struct sockaddr_un sa;

	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	control_addr(&sa, c->path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	c->bound = true;
	/* Before listen(): until then nobody can connect. The commands
	 * write files as this user, so only this user may send them. */
	if (chmod(c->path, 0600) < 0 || listen(c->listen_fd, 4) < 0)
		return -errno;
	return 0;
}

int control_open(struct control *c, const char *path, struct devices *devices,
		 struct vm_stop *stop)
{
	const char *why;
	int err;

	*c = (struct control){ .path = path,
			       .listen_fd = -1,
			       .stop_fd = -1,
			       .line_timeout_ms = CONTROL_LINE_TIMEOUT_MS,
			       .idle_timeout_ms = CONTROL_IDLE_TIMEOUT_MS,
			       .devices = devices,
			       .stop = stop };
	if (!path)
		return 0;
	if (control_check_path(path, &why)) {
		pr_err("--control %s: %s", path, why);
		return -EINVAL;
	}
	err = control_clear_path(path);
	if (err)
		return err;
	err = control_bind(c);
	if (err)
		pr_err("--control %s: cannot listen: %s", path, strerror(-err));
	return err;
}

/* --- Replies ------------------------------------------------------------ */

struct reply {
	char *buf;
	size_t len, used;
	bool error;
};

/* Appends one line; newlines and control bytes inside become spaces so
 * that a line from a backend cannot break the framing. */
static void __attribute__((format(printf, 2, 3)))
reply_line(struct reply *r, const char *fmt, ...)
{
	size_t start = r->used;
	va_list ap;
	int n;

	if (r->used + 1 >= r->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + start, r->len - start - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > r->len - start - 2)
		n = (int)(r->len - start - 2);
	for (int i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)r->buf[start + i];

		if (ch < ' ' || ch == 0x7f)
			r->buf[start + i] = ' ';
	}
	r->buf[start + n] = '\n';
	r->buf[start + n + 1] = '\0';
	r->used = start + n + 1;
}

/* --- Commands ------------------------------------------------------------- */

struct command {
	const char *name;
	int min_args, max_args;
	const char *usage;
	const char *help;
	void (*run)(struct control *c, char **argv, int argc, struct reply *r);
};

/* Device @arg by name (blk0) or index (0); NULL after an error reply. */
static struct vudev *find_device(struct control *c, const char *arg,
				 struct reply *r)
{
	struct devices *ds = c->devices;
	char *end;
	unsigned long i;

	for (i = 0; i < ds->nr; i++) {
		if (ds->dev[i].vu_open && !strcmp(ds->dev[i].vu.name, arg))
			return &ds->dev[i].vu;
	}
	i = strtoul(arg, &end, 10);
	if (arg[0] >= '0' && arg[0] <= '9' && !*end && i < ds->nr &&
	    ds->dev[i].vu_open)
		return &ds->dev[i].vu;
	r->error = true;
	if (!ds->nr)
		reply_line(r, "error: no device '%s': this machine has none",
			   arg);
	else
		reply_line(r,
			   "error: no device '%s' (names are as in the log, "
			   "e.g. %s, or indices 0..%u)",
			   arg, ds->dev[0].vu.name, ds->nr - 1);
	return NULL;
}

static void cmd_status(struct control *c, char **argv, int argc,
		       struct reply *r)
{
	struct devices *ds = c->devices;
	char line[512];
	unsigned int n = 0;

	for (unsigned int i = 0; i < ds->nr; i++) {
		if (!ds->dev[i].vu_open)
			continue;
		vudev_describe(&ds->dev[i].vu, line, sizeof(line));
		reply_line(r, "%s", line);
		n++;
	}
	reply_line(r, "ok: %u device%s", n, n == 1 ? "" : "s");
}

typedef int (*device_op)(struct vudev *d, char *msg, size_t len);

/* suspend/resume: one device, or all of them with one message each. */
static void cmd_each(struct control *c, const char *arg, device_op op,
		     struct reply *r)
{
	struct devices *ds = c->devices;
	char all[CONTROL_REPLY_MAX / 2] = "", msg[256];
	size_t used = 0;

	if (strcmp(arg, "all")) {
		struct vudev *d = find_device(c, arg, r);

		if (!d)
			return;
		msg[0] = '\0';
		r->error = op(d, msg, sizeof(msg)) < 0;
		reply_line(r, "%s: %s", r->error ? "error" : "ok", msg);
		return;
	}
	for (unsigned int i = 0; i < ds->nr; i++) {
		if (!ds->dev[i].vu_open)
			continue;
		msg[0] = '\0';
		if (op(&ds->dev[i].vu, msg, sizeof(msg)) < 0)
			r->error = true;
		used += (size_t)snprintf(all + used, sizeof(all) - used, "%s%s",
					 used ? "; " : "", msg);
		if (used >= sizeof(all))
			used = sizeof(all) - 1;
	}
	reply_line(r, "%s: %s", r->error ? "error" : "ok",
		   used ? all : "no devices");
}

static void cmd_suspend(struct control *c, char **argv, int argc,
			struct reply *r)
{
	cmd_each(c, argv[1], vudev_suspend, r);
}

static void cmd_resume(struct control *c, char **argv, int argc,
		       struct reply *r)
{
	cmd_each(c, argv[1], vudev_resume, r);
}

/*
 * save/restore: the file is opened here, by vuvm, so it must not depend
 * on the client's working directory. Only regular files (a FIFO or a
 * device could block the control thread), opened without blocking. A
 * save goes to FILE.tmp and is renamed over FILE only once the backend
 * said it succeeded, so a failed save never destroys a good copy.
 */
static int open_state(const char *path, bool save, char *tmp, size_t len)
{
	struct stat st;
	int fd;

	snprintf(tmp, len, "%s.tmp", path);
	fd = save ? open(tmp,
			 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW |
				 O_NONBLOCK,
			 0600)
		  : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static void cmd_state(struct control *c, char **argv, int argc, struct reply *r)
{
	bool save = !strcmp(argv[0], "save");
	char msg[256] = "", tmp[PATH_MAX + 8];
	struct vudev *d;
	int fd, err;

	if (argv[2][0] != '/') {
		r->error = true;
		reply_line(r, "error: %s: FILE must be an absolute path",
			   argv[2]);
		return;
	}
	d = find_device(c, argv[1], r);
	if (!d)
		return;
	fd = open_state(argv[2], save, tmp, sizeof(tmp));
	if (fd < 0) {
		r->error = true;
		reply_line(r, "error: %s: %s", save ? tmp : argv[2],
			   fd == -EINVAL ? "not a regular file"
					 : strerror(-fd));
		return;
	}
	err = save ? vudev_save_state(d, fd, msg, sizeof(msg))
		   : vudev_load_state(d, fd, msg, sizeof(msg));
	if (close(fd) && !err && save) {
		err = -errno;
		snprintf(msg, sizeof(msg), "%.200s: %s", tmp, strerror(errno));
	}
	if (save && !err && rename(tmp, argv[2])) {
		err = -errno;
		snprintf(msg, sizeof(msg), "rename to %.200s: %s", argv[2],
			 strerror(errno));
	}
	if (save && err)
		unlink(tmp);
	r->error = err < 0;
	reply_line(r, "%s: %s", r->error ? "error" : "ok", msg);
}

static void cmd_quit(struct control *c, char **argv, int argc, struct reply *r)
{
	pr_warn("quit: stopping the machine at the client's request "
		"(exit status %d)",
		CONTROL_QUIT_STATUS);
	vm_stop_request(c->stop, CONTROL_QUIT_STATUS);
	reply_line(r, "ok: stopping the machine (exit status %d)",
		   CONTROL_QUIT_STATUS);
}

static void cmd_help(struct control *c, char **argv, int argc, struct reply *r);

static const struct command commands[] = {
	{ "help", 0, 0, "help", "list the commands", cmd_help },
	{ "status", 0, 0, "status", "one line per device", cmd_status },
	{ "suspend", 1, 1, "suspend DEV|all",
	  "stop the device's rings; the backend stops touching the guest",
	  cmd_suspend },
	{ "resume", 1, 1, "resume DEV|all",
	  "start the rings again where they stopped", cmd_resume },
	{ "save", 2, 2, "save DEV FILE",
	  "write the backend's device state to FILE (absolute path)",
	  cmd_state },
	{ "restore", 2, 2, "restore DEV FILE",
	  "load the backend's device state from FILE (absolute path)",
	  cmd_state },
	{ "quit", 0, 0, "quit", "stop the machine; vuvm exits 0", cmd_quit },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void cmd_help(struct control *c, char **argv, int argc, struct reply *r)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		reply_line(r, "%-18s %s", commands[i].usage, commands[i].help);
	reply_line(r, "ok: %zu commands; DEV is a device name (blk0) or index",
		   NR_COMMANDS);
}

bool control_exec(struct control *ctl, char *line, char *out, size_t len)
{
	struct reply r = { out, len, 0, false };
	char *argv[CONTROL_MAX_ARGS + 1], *save;
	int argc = 0;

	out[0] = '\0';
	for (char *t = strtok_r(line, " \t\r", &save); t;
	     t = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CONTROL_MAX_ARGS + 1) {
			argc++;
			break;
		}
		argv[argc++] = t;
	}
	if (!argc) {
		reply_line(&r, "error: empty line (try help)");
		return false;
	}
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		const struct command *c = &commands[i];

		if (strcmp(argv[0], c->name))
			continue;
		if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
			reply_line(&r, "error: %s: wrong arguments; usage: %s",
				   c->name, c->usage);
			return false;
		}
		c->run(ctl, argv, argc, &r);
		return !r.error;
	}
	reply_line(&r, "error: unknown command '%.64s' (try help)", argv[0]);
	return false;
}

/* --- The thread ----------------------------------------------------------- */

/* The reply fits the socket buffer many times over: a client that lets
 * it fill up by not reading is dropped rather than waited for. */
static bool send_reply(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

struct client {
	int fd;
	char buf[CONTROL_MAX_LINE];
	size_t used;
	bool overlong;	    /* dropping the rest of a too long line */
	long long deadline; /* for the current line, or for the next one */
};

/* Runs every complete line in the buffer; false ends the connection. */
static bool serve_lines(struct control *c, struct client *cl)
{
	char out[CONTROL_REPLY_MAX];
	char *nl;

	while ((nl = memchr(cl->buf, '\n', cl->used))) {
		size_t n = (size_t)(nl - cl->buf) + 1;

		*nl = '\0';
		if (cl->overlong) {
			snprintf(out, sizeof(out),
				 "error: line longer than %d bytes\n",
				 CONTROL_MAX_LINE - 1);
			cl->overlong = false;
		} else {
			pr_info("command: %.200s", cl->buf);
			control_exec(c, cl->buf, out, sizeof(out));
		}
		if (!send_reply(cl->fd, out) || vm_stop_requested(c->stop))
			return false;
		memmove(cl->buf, cl->buf + n, cl->used - n);
		cl->used -= n;
		cl->deadline = now_ms() + (cl->used ? c->line_timeout_ms
						    : c->idle_timeout_ms);
	}
	if (cl->used == sizeof(cl->buf)) {
		cl->overlong = true;
		cl->used = 0;
	}
	return true;
}

/* Reads what the client sent; false at its end, an error or a stop. */
static bool serve_read(struct control *c, struct client *cl)
{
	struct pollfd p[2] = { { .fd = cl->fd, .events = POLLIN },
			       { .fd = c->stop_fd, .events = POLLIN } };
	long long left = cl->deadline - now_ms();
	bool idle = !cl->used && !cl->overlong;
	ssize_t n;

	if (left < 0)
		left = 0;
	if (poll(p, 2, (int)left) < 0)
		return errno == EINTR;
	if (p[1].revents)
		return false;
	if (!p[0].revents) {
		send_reply(cl->fd, idle ? "error: no command for too long; "
					  "closing\n"
					: "error: the line did not end in "
					  "time; closing\n");
		return false;
	}
	n = recv(cl->fd, cl->buf + cl->used, sizeof(cl->buf) - cl->used,
		 MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (idle)
		cl->deadline = now_ms() + c->line_timeout_ms;
	cl->used += (size_t)n;
	return true;
}

static void serve(struct control *c, int fd)
{
	static struct client cl; /* only this thread uses it */

	cl = (struct client){ .fd = fd,
			      .deadline = now_ms() + c->idle_timeout_ms };
	while (serve_read(c, &cl) && serve_lines(c, &cl))
		;
}

static void *control_thread(void *opaque)
{
	struct control *c = opaque;
	struct pollfd p[2] = { { .fd = c->listen_fd, .events = POLLIN },
			       { .fd = c->stop_fd, .events = POLLIN } };

	sandbox_enter(SANDBOX_CONTROL, "control");
	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s; no more commands", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of fds, say: try again later, not in a spin. */
			if (errno != EINTR && errno != ECONNABORTED)
				poll(&p[1], 1, 100);
			continue;
		}
		serve(c, fd);
		close(fd);
	}
}

int control_start(struct control *c)
{
	int err;

	if (!c->path)
		return 0;
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0)
		return -errno;
	err = -pthread_create(&c->thread, NULL, control_thread, c);
	c->running = !err;
	return err;
}

void control_close(struct control *c)
{
	uint64_t one = 1;

	if (c->running) {
		if (write(c->stop_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("cannot stop the thread: %s", strerror(errno));
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->bound && unlink(c->path) < 0)
		pr_warn("%s: cannot remove: %s", c->path, strerror(errno));
	c->stop_fd = c->listen_fd = -1;
	c->bound = false;
}
