// SPDX-License-Identifier: MIT
/*
 * Suspend, resume, and device state save/restore of a vhost-user device:
 * the operations behind the control socket. vudev_suspend() and
 * vudev_resume() are the only ones that move d->suspended (the state
 * table is in vhost_user_dev.h).
 *
 * Suspended means every ring is stopped (SET_VRING_ENABLE 0, then
 * GET_VRING_BASE): from the reply on, a backend must not touch the rings
 * or raise interrupts (vhost-user.md rule 4). vuvm checks that it keeps to
 * this: the used index of every ring is read at suspend and again at
 * resume, and a change is reported (a split ring: a packed ring has no used
 * index in memory). Resuming restarts each ring at the
 * base GET_VRING_BASE returned. Requests the backend had taken but not
 * completed when it stopped (avail base ahead of the used index) are
 * reported too: a backend that drops them loses I/O.
 *
 * Device state moves through a pipe (SET_DEVICE_STATE_FD, phase
 * "stopped"), then CHECK_DEVICE_STATE says whether the backend managed.
 * Waits are bounded by the device's reply timeout.
 */
#define _GNU_SOURCE /* pipe2 */
#define pr_fmt(fmt) "vhost-user: " fmt

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vhost/clock.h"
#include "vhost/log.h"
#include "vmm/vhost_user_internal.h"

/* Largest device state vuvm moves: far above any real device's. */
#define STATE_MAX_BYTES (64u << 20)

__attribute__((format(printf, 3, 4))) static void say(char *msg, size_t len,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/* Appends to @msg what is left unfinished on each ring at suspend. */
static void describe_rings(struct vudev *d, char *msg, size_t len)
{
	size_t n = strlen(msg);

	for (unsigned int i = 0; i < d->nr_active && n + 1 < len; i++) {
		uint16_t used = vudev_used_idx(d, i);
		unsigned int pending =
			vudev_base_pending(d, i, d->base[i], used);

		if (vudev_packed(d))
			n += (size_t)snprintf(msg + n, len - n,
					      "; queue %u: packed base 0x%x",
					      d->queues[i].index, d->base[i]);
		else
			n += (size_t)snprintf(
				msg + n, len - n, "; queue %u: base %u used %u",
				d->queues[i].index, d->base[i], used);
		if (n < len && pending)
			n += (size_t)snprintf(msg + n, len - n,
					      " (%u taken, not completed)",
					      pending);
	}
}

/*
 * A base GET_VRING_BASE returned must lie between the used index and a
 * ring's size beyond it (packed: both halves within the ring, avail at
 * most a ring ahead of used). One that does not is the backend's error:
 * say so and restart that ring from the used index, as after a crash
 * (packed: from the avail half, or the start if that is beyond the ring).
 */
static void check_bases(struct vudev *d)
{
	for (unsigned int i = 0; i < d->nr_active; i++) {
		uint16_t used = vudev_used_idx(d, i);
		uint32_t fix = used;

		if (vudev_base_pending(d, i, d->base[i], used) <=
		    d->queues[i].size)
			continue;
		if (vudev_packed(d)) {
			uint16_t avail = d->base[i] & 0xffff;

			fix = (avail & 0x7fff) < d->queues[i].size
				      ? (uint32_t)avail << 16 | avail
				      : vudev_initial_base(d);
		}
		pr_err("%s: queue %u: GET_VRING_BASE said 0x%x, behind the "
		       "used index %u or more than a ring ahead of it; the "
		       "ring restarts at 0x%x",
		       d->name, d->queues[i].index, d->base[i], used, fix);
		d->base[i] = fix;
	}
}

/* Requests taken but not completed, summed over the rings. */
static unsigned int unfinished(struct vudev *d)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < d->nr_active; i++)
		n += vudev_base_pending(d, i, d->base[i], vudev_used_idx(d, i));
	return n;
}

/*
 * A backend should complete what it took before it answers
 * GET_VRING_BASE; some (qemu-storage-daemon 7.2) answer first and complete
 * the rest afterwards. Wait for those, within the reply timeout, so that
 * a suspended device really stands still and a backend replaced while
 * suspended loses nothing; say so, since it is the backend's bug.
 */
static void drain_late(struct vudev *d)
{
	unsigned int before = unfinished(d), left = before;
	long long start = now_ms(), waited = 0;

	while (left && waited < d->cfg->reply_timeout_ms) {
		usleep(1000);
		waited = now_ms() - start;
		left = unfinished(d);
	}
	if (before)
		pr_warn("%s: the backend answered GET_VRING_BASE with %u "
			"requests still in flight; %u completed in the next "
			"%lld ms%s",
			d->name, before, before - left, waited,
			left ? ", the rest never" : "");
}

int vudev_suspend(struct vudev *d, char *msg, size_t len)
{
	pthread_mutex_lock(&d->lock);
	if (d->suspended) {
		pthread_mutex_unlock(&d->lock);
		say(msg, len, "%s is already suspended", d->name);
		return -EALREADY;
	}
	vudev_rings_stop(d);
	check_bases(d);
	/* A packed ring's completions are not counted in guest memory, so
	 * only a split ring can be waited for. */
	if (d->link == VUDEV_CONNECTED && d->active && !vudev_packed(d))
		drain_late(d);
	for (unsigned int i = 0; i < d->nr_active; i++)
		d->used_at_suspend[i] = vudev_used_idx(d, i);
	d->suspended = true;
	say(msg, len, "%s suspended%s", d->name,
	    d->active ? "" : " (the driver has not started it)");
	if (d->active)
		describe_rings(d, msg, len);
	pthread_mutex_unlock(&d->lock);
	pr_info("%s", msg);
	return 0;
}

/* Appends every ring whose used index moved since the suspend. */
static unsigned int check_untouched(struct vudev *d, char *msg, size_t len)
{
	size_t n = strlen(msg);
	unsigned int moved = 0;

	for (unsigned int i = 0; i < d->nr_active; i++) {
		uint16_t now = vudev_used_idx(d, i);

		if (now == d->used_at_suspend[i])
			continue;
		moved++;
		if (n + 1 < len)
			n += (size_t)snprintf(
				msg + n, len - n,
				"; queue %u: used index moved %u -> %u while "
				"suspended",
				d->queues[i].index, d->used_at_suspend[i], now);
	}
	return moved;
}

int vudev_resume(struct vudev *d, char *msg, size_t len)
{
	unsigned int moved;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	if (!d->suspended) {
		pthread_mutex_unlock(&d->lock);
		say(msg, len, "%s is not suspended", d->name);
		return -EINVAL;
	}
	say(msg, len, "%s resumed", d->name);
	moved = d->active ? check_untouched(d, msg, len) : 0;
	d->suspended = false;
	if (d->active && d->link == VUDEV_CONNECTED) {
		err = vudev_rings_start(d);
		if (!err)
			vudev_rings_wake(d);
	}
	if (err) {
		/* Nothing half-started: the device stays suspended, and a
		 * later resume (or a reconnect) tries again. */
		say(msg, len, "%s: restart failed: %s; still suspended",
		    d->name, vhu_frontend_error(&d->fe));
		vudev_rings_stop(d);
		d->suspended = true;
	} else if (d->active && d->link != VUDEV_CONNECTED)
		say(msg + strlen(msg), len - strlen(msg),
		    "; the backend is away: its rings start when it is back");
	pthread_mutex_unlock(&d->lock);
	if (moved)
		pr_warn("%s: the backend wrote used entries while suspended: "
			"%s",
			d->name, msg);
	else
		pr_info("%s", msg);
	return err;
}

/* Whether device state can move now; -errno with @msg set if not. */
static int state_ready(struct vudev *d, char *msg, size_t len)
{
	if (d->link != VUDEV_CONNECTED) {
		say(msg, len, "%s has no backend connected", d->name);
		return -ENOTCONN;
	}
	if (!vhu_has_protocol_feature(&d->fe,
				      VHOST_USER_PROTOCOL_F_DEVICE_STATE)) {
		say(msg, len,
		    "%s: the backend does not offer DEVICE_STATE (protocol "
		    "feature 19)",
		    d->name);
		return -ENOTSUP;
	}
	if (d->nr_started) {
		say(msg, len, "%s is running: suspend it first", d->name);
		return -EBUSY;
	}
	return 0;
}

/* Waits for @events on @fd until @deadline (ms); 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { fd, events, 0 };
	int64_t left;
	int r;

	do {
		left = deadline - now_ms();
		r = left > 0 ? poll(&p, 1, (int)left) : 0;
	} while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* A growing buffer for one device state. */
struct state_buf {
	char *data;
	size_t len, cap;
};

/* Reads the backend's pipe @fd into @b until EOF or @deadline. */
static int pipe_to_buf(int fd, struct state_buf *b, int64_t deadline)
{
	for (;;) {
		ssize_t n;
		int err;

		if (b->len == b->cap) {
			size_t cap = b->cap ? 2 * b->cap : 16384;
			char *p = cap > STATE_MAX_BYTES ? NULL
							: realloc(b->data, cap);

			if (!p)
				return cap > STATE_MAX_BYTES ? -EFBIG : -ENOMEM;
			b->data = p;
			b->cap = cap;
		}
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			return err;
		n = read(fd, b->data + b->len, b->cap - b->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		b->len += (size_t)n;
	}
}

/* Writes @b into the backend's pipe @fd (nonblocking) by @deadline. */
static int buf_to_pipe(int fd, const struct state_buf *b, int64_t deadline)
{
	for (size_t off = 0; off < b->len;) {
		int err = wait_fd(fd, POLLOUT, deadline);
		ssize_t n;

		if (err)
			return err;
		n = write(fd, b->data + off, b->len - off);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		off += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/*
 * One transfer, within one reply timeout in all: SET_DEVICE_STATE_FD with
 * the backend's end of a pipe, the copy between @b and our end (or the fd
 * the backend chose instead), then CHECK_DEVICE_STATE. Called with the
 * lock held; the user's file is not touched here.
 */
static int transfer(struct vudev *d, uint32_t direction, struct state_buf *b,
		    char *msg, size_t len)
{
	bool save = direction == VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE;
	int64_t deadline = now_ms() + d->cfg->reply_timeout_ms;
	int p[2], ours, theirs, backend_fd = -1, err;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	/* Save: the backend writes, we read; load: the other way round. */
	ours = save ? p[0] : p[1];
	theirs = save ? p[1] : p[0];
	err = vhu_set_device_state_fd(&d->fe, direction,
				      VHOST_USER_TRANSFER_STATE_PHASE_STOPPED,
				      theirs, &backend_fd);
	close(theirs);
	if (err) {
		close(ours);
		say(msg, len, "%s: %s", d->name, vhu_frontend_error(&d->fe));
		return err;
	}
	if (backend_fd >= 0) {
		close(ours);
		ours = backend_fd;
	}
	fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
	err = save ? pipe_to_buf(ours, b, deadline)
		   : buf_to_pipe(ours, b, deadline);
	close(ours); /* EOF for a loading backend */
	if (err) {
		say(msg, len, "%s: moving the device state: %s", d->name,
		    strerror(-err));
		return err;
	}
	err = vhu_check_device_state(&d->fe);
	if (err)
		say(msg, len, "%s: %s", d->name, vhu_frontend_error(&d->fe));
	return err;
}

static int move_state(struct vudev *d, uint32_t direction, struct state_buf *b,
		      char *msg, size_t len)
{
	int err;

	pthread_mutex_lock(&d->lock);
	err = state_ready(d, msg, len);
	if (!err)
		err = transfer(d, direction, b, msg, len);
	pthread_mutex_unlock(&d->lock);
	return err;
}

static int report_state(struct vudev *d, int err, const char *what,
			size_t bytes, char *msg, size_t len)
{
	if (!err)
		say(msg, len, "%s: %s %zu bytes of device state", d->name, what,
		    bytes);
	if (err)
		pr_err("%s", msg);
	else
		pr_info("%s", msg);
	return err;
}

/* The file is written after the device's lock is let go. */
int vudev_save_state(struct vudev *d, int fd, char *msg, size_t len)
{
	struct state_buf b = { 0 };
	int err = move_state(d, VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE, &b,
			     msg, len);

	for (size_t off = 0; !err && off < b.len;) {
		ssize_t n = write(fd, b.data + off, b.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			say(msg, len, "%s: writing the state: %s", d->name,
			    strerror(-err));
		}
		off += n > 0 ? (size_t)n : 0;
	}
	free(b.data);
	return report_state(d, err, "saved", b.len, msg, len);
}

/* The file is read whole before the device's lock is taken. */
int vudev_load_state(struct vudev *d, int fd, char *msg, size_t len)
{
	struct state_buf b = { 0 };
	struct stat st;
	int err = 0;

	if (fstat(fd, &st) || st.st_size < 0 ||
	    (uint64_t)st.st_size > STATE_MAX_BYTES)
		err = -EFBIG;
	else if (!(b.data = malloc((size_t)st.st_size + 1)))
		err = -ENOMEM;
	while (!err && b.len < (size_t)st.st_size) {
		ssize_t n =
			read(fd, b.data + b.len, (size_t)st.st_size - b.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shorter than it said: load what is there */
		b.len += (size_t)n;
	}
	if (err)
		say(msg, len, "%s: reading the state: %s", d->name,
		    strerror(-err));
	else
		err = move_state(d, VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD,
				 &b, msg, len);
	free(b.data);
	return report_state(d, err, "loaded", b.len, msg, len);
}

/* What the rings do: the driver's and the operator's state, and what
 * follows from them and the link. */
static const char *rings_word(const struct vudev *d)
{
	return d->suspended    ? "suspended"
	       : d->nr_started ? "running"
	       : d->active     ? "waiting"
			       : "idle";
}

void vudev_describe(struct vudev *d, char *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = (size_t)snprintf(buf, len, "%s %s %s reconnects=%u", d->name,
			     vudev_link_name(d->link), rings_word(d),
			     d->reconnects);
	for (unsigned int i = 0; i < d->nr_active && n + 1 < len; i++)
		if (vudev_packed(d))
			n += (size_t)snprintf(buf + n, len - n,
					      " q%u=packed,base:0x%x",
					      d->queues[i].index, d->base[i]);
		else
			n += (size_t)snprintf(
				buf + n, len - n, " q%u=avail:%u,used:%u",
				d->queues[i].index, vudev_avail_idx(d, i),
				vudev_used_idx(d, i));
	pthread_mutex_unlock(&d->lock);
}
