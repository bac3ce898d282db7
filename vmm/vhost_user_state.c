// SPDX-License-Identifier: MIT
/*
 * Suspend, resume, and device state save/restore of a vhost-user device:
 * the operations behind the control socket.
 *
 * Suspended means every ring is stopped (SET_VRING_ENABLE 0, then
 * GET_VRING_BASE): from the reply on, a backend must not touch the rings
 * or raise interrupts (vhost-user.md rule 4). vuvm checks that it keeps to
 * this: the used index of every ring is read at suspend and again at
 * resume, and a change is reported. Resuming restarts each ring at the
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
#include <string.h>
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

		n += (size_t)snprintf(msg + n, len - n,
				      "; queue %u: base %u used %u",
				      d->queues[i].index, d->base[i], used);
		if (n < len && d->base[i] != used)
			n += (size_t)snprintf(msg + n, len - n,
					      " (%u taken, not completed)",
					      (uint16_t)(d->base[i] - used));
	}
}

/* Requests taken but not completed, summed over the rings. */
static unsigned int unfinished(struct vudev *d)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < d->nr_active; i++)
		n += (uint16_t)(d->base[i] - vudev_used_idx(d, i));
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
		usleep(200);
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
	if (d->connected && d->active)
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
	if (d->active && d->connected) {
		err = vudev_rings_start(d);
		if (!err)
			vudev_rings_wake(d);
	}
	if (err)
		say(msg, len, "%s: restart failed: %s", d->name,
		    vhu_frontend_error(&d->fe));
	else if (d->active && !d->connected)
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
	if (!d->connected) {
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

/* Waits for @events on @fd within the reply timeout; 0 or -ETIMEDOUT. */
static int wait_fd(struct vudev *d, int fd, short events)
{
	struct pollfd p = { fd, events, 0 };
	int r;

	do
		r = poll(&p, 1, d->cfg->reply_timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/*
 * Copies @in to @out until EOF on @in; returns the bytes or -errno. On a
 * save @in is the pipe (waited for), on a load @out is (nonblocking,
 * waited for); the other side is the user's file.
 */
static long long copy_fd(struct vudev *d, int in, int out, bool save)
{
	char buf[16384];
	long long total = 0;
	ssize_t n, w;
	int err;

	for (;;) {
		if (save && (err = wait_fd(d, in, POLLIN)))
			return err;
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : total;
		if ((total += n) > STATE_MAX_BYTES)
			return -EFBIG;
		for (ssize_t off = 0; off < n;) {
			if (!save && (err = wait_fd(d, out, POLLOUT)))
				return err;
			w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR && errno != EAGAIN)
				return -errno;
			off += w > 0 ? w : 0;
		}
	}
}

/*
 * One transfer: SET_DEVICE_STATE_FD with the backend's end of a pipe, the
 * copy between @file and our end (or the fd the backend chose instead),
 * then CHECK_DEVICE_STATE.
 */
static int transfer(struct vudev *d, uint32_t direction, int file,
		    long long *bytes, char *msg, size_t len)
{
	bool save = direction == VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE;
	int p[2], ours, theirs, backend_fd = -1, err;
	long long n;

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
	if (!save)
		fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
	n = save ? copy_fd(d, ours, file, true) : copy_fd(d, file, ours, false);
	close(ours); /* EOF for a loading backend */
	err = n < 0 ? (int)n : vhu_check_device_state(&d->fe);
	if (n < 0)
		say(msg, len, "%s: moving the device state: %s", d->name,
		    strerror((int)-n));
	else if (err)
		say(msg, len, "%s: %s", d->name, vhu_frontend_error(&d->fe));
	*bytes = n;
	return err;
}

static int move_state(struct vudev *d, uint32_t direction, int fd, char *msg,
		      size_t len)
{
	bool save = direction == VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE;
	long long bytes = 0;
	int err;

	pthread_mutex_lock(&d->lock);
	err = state_ready(d, msg, len);
	if (!err)
		err = transfer(d, direction, fd, &bytes, msg, len);
	pthread_mutex_unlock(&d->lock);
	if (!err)
		say(msg, len, "%s: %s %lld bytes of device state", d->name,
		    save ? "saved" : "loaded", bytes);
	if (err)
		pr_err("%s", msg);
	else
		pr_info("%s", msg);
	return err;
}

int vudev_save_state(struct vudev *d, int fd, char *msg, size_t len)
{
	return move_state(d, VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE, fd, msg,
			  len);
}

int vudev_load_state(struct vudev *d, int fd, char *msg, size_t len)
{
	return move_state(d, VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD, fd, msg,
			  len);
}

void vudev_describe(struct vudev *d, char *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = (size_t)snprintf(buf, len, "%s %s %s reconnects=%u", d->name,
			     d->failed	    ? "failed"
			     : d->connected ? "connected"
					    : "reconnecting",
			     d->suspended    ? "suspended"
			     : d->nr_started ? "running"
			     : d->active     ? "waiting"
					     : "idle",
			     d->reconnects);
	for (unsigned int i = 0; i < d->nr_active && n + 1 < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " q%u=avail:%u,used:%u",
				      d->queues[i].index, vudev_avail_idx(d, i),
				      vudev_used_idx(d, i));
	pthread_mutex_unlock(&d->lock);
}
