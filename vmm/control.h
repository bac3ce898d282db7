/* SPDX-License-Identifier: MIT */
/*
 * The control socket (--control PATH): a unix stream socket on which one
 * thread serves newline-terminated commands, one client at a time, and
 * answers each with zero or more lines of detail and one final line that
 * begins "ok: " or "error: " (docs/cli.md lists the commands). The
 * commands reach the devices through vudev_suspend() and friends and end
 * the run through a stop request (stop.h); the thread holds no lock while it
 * waits for a client, so a slow or silent client never delays a vCPU or the
 * device watcher.
 */
#ifndef VUVM_VMM_CONTROL_H
#define VUVM_VMM_CONTROL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

/* Declared only: cli.c includes this header for control_check_path(). */
struct devices;
struct vm_stop;

#define CONTROL_MAX_LINE	1024  /* bytes, with the newline */
#define CONTROL_LINE_TIMEOUT_MS 5000  /* a started line must end by then */
#define CONTROL_IDLE_TIMEOUT_MS 30000 /* a silent client is let go */

struct control {
	const char *path; /* NULL: no control socket */
	int listen_fd;
	int stop_fd; /* eventfd that ends the thread */
	pthread_t thread;
	bool running;
	bool bound; /* the socket file is ours to remove */
	int line_timeout_ms;
	int idle_timeout_ms;
	struct devices *devices; /* what the commands act on */
	struct vm_stop *stop;	 /* "quit" requests a stop */
};

/*
 * Checks that @path fits a unix socket address; returns 0, or -EINVAL with
 * @why naming the problem (for the command line). Inline, so that cli.c
 * does not pull the control thread (and the devices) into its tests.
 */
static inline int control_check_path(const char *path, const char **why)
{
	if (!path[0]) {
		*why = "empty path";
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		*why = "longer than 107 bytes, the limit of a unix socket path";
		return -EINVAL;
	}
	return 0;
}

/*
 * Creates the socket at @path (mode 0600) and listens; a stale socket
 * left by an earlier run is replaced, anything else at @path is refused.
 * @path NULL sets up nothing. The commands will act on @devices (which may
 * be opened later, before control_start()) and "quit" requests a stop on
 * @stop; both outlive @c. Returns 0 or -errno, logged.
 */
int control_open(struct control *c, const char *path, struct devices *devices,
		 struct vm_stop *stop);

/* Starts the thread that serves the commands; 0 or -errno. */
int control_start(struct control *c);

/*
 * Runs one command line (no newline, cut up in place) and writes the
 * reply, each line ending in '\n', into @out (@len bytes). Returns false
 * when the reply is an error. Works without a socket (@path NULL).
 */
bool control_exec(struct control *c, char *line, char *out, size_t len);

/* Stops the thread, closes the socket and removes its file. */
void control_close(struct control *c);

#endif
