// SPDX-License-Identifier: MIT
/*
 * The devices: opening each one (backend, then transport), routing guest
 * MMIO to its window, and the watcher thread with the reconnectors it
 * starts and joins.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#define pr_fmt(fmt) "devices: " fmt
#include "vmm/devices.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vhost/clock.h"
#include "vhost/log.h"
#include "virtio/virtio_mmio.h"
#include "vmm/seccomp.h"

static int device_open(struct devices *ds, const struct vuvm_config *cfg,
		       const struct mem_table *mem, unsigned int i)
{
	struct device *d = &ds->dev[i];
	uint64_t base = DEVICES_MMIO_BASE + i * DEVICES_MMIO_STRIDE;
	int err;

	err = vudev_open(&d->vu, &cfg->devices[i], mem, i,
			 cfg->devices[i].connect_timeout_ms, cfg->trace_vhost);
	if (err)
		return err;
	d->vu_open = true;
	err = mmio_dev_init(&d->mmio, &d->vu.vdev, base, DEVICES_GSI_BASE + i,
			    &ds->signals);
	if (err) {
		pr_err("%s: cannot set up its transport: %s", d->vu.name,
		       strerror(-err));
		return err;
	}
	d->mmio_open = true;
	ds->dt[i] = (struct dt_virtio_mmio){ base, VIRTIO_MMIO_WINDOW_SIZE,
					     DEVICES_GSI_BASE + i };
	pr_info("%s: %s at %#llx, GSI %u, %u queues", d->vu.name,
		cfg->devices[i].socket, (unsigned long long)base,
		DEVICES_GSI_BASE + i, d->vu.vdev.nr_queues);
	return 0;
}

int devices_open(struct devices *ds, const struct vuvm_config *cfg,
		 const struct mem_table *mem,
		 const struct mmio_signals *signals, struct vm_stop *stop)
{
	ds->stop_fd = -1;
	ds->wake_fd = -1;
	ds->signals = *signals;
	ds->stop = stop;
	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		int err;

		ds->nr = i + 1;
		err = device_open(ds, cfg, mem, i);
		if (err)
			return err;
	}
	return 0;
}

_Static_assert(MEM_HOT_END <= DEVICES_MMIO_BASE,
	       "memory added at run time stays below the device windows");

void devices_set_memslots(struct devices *ds, const struct vudev_memslots *ms)
{
	for (unsigned int i = 0; i < ds->nr; i++)
		if (ds->dev[i].vu_open) {
			pthread_mutex_lock(&ds->dev[i].vu.lock);
			ds->dev[i].vu.memslots = ms;
			pthread_mutex_unlock(&ds->dev[i].vu.lock);
		}
}

bool devices_mmio(struct devices *ds, uint64_t addr, uint8_t *data,
		  unsigned int len, bool is_write)
{
	uint64_t i = (addr - DEVICES_MMIO_BASE) / DEVICES_MMIO_STRIDE;
	uint64_t off = (addr - DEVICES_MMIO_BASE) % DEVICES_MMIO_STRIDE;
	struct mmio_dev *d;

	if (addr < DEVICES_MMIO_BASE || i >= ds->nr ||
	    off + len > VIRTIO_MMIO_WINDOW_SIZE || !ds->dev[i].mmio_open)
		return false;
	d = &ds->dev[i].mmio;
	if (is_write)
		mmio_dev_write(d, off, data, len);
	else
		mmio_dev_read(d, off, data, len);
	return true;
}

/* --- The watcher thread and reconnecting ---------------------------------- */

/* Waits @ms or until vuvm stops; false when it stops. */
static bool pause_unless_stopped(struct devices *ds, long long ms)
{
	struct pollfd p = { ds->stop_fd, POLLIN, 0 };

	return poll(&p, 1, (int)ms) == 0;
}

static void *reconnect(void *opaque)
{
	struct device *d = opaque;
	struct devices *ds = d->ds;
	const struct vudev_config *cfg = d->vu.cfg;
	long long start = now_ms(), deadline = start + cfg->reconnect_ms;
	long long delay = 50, left;
	char why[VHU_ERROR_LEN + 64] = "no attempt made";
	unsigned int attempts = 0;
	uint64_t one = 1;
	int r = -ETIMEDOUT;

	sandbox_enter(SANDBOX_RECONNECTOR, "reconnect-%s", d->vu.name);
	pr_warn("%s: reconnecting to %s for up to %.1f s", d->vu.name,
		cfg->socket, cfg->reconnect_ms / 1000.0);
	/* reconnect=0: no attempt, the device fails at once. */
	/* An attempt never outlasts the window: its replies are bounded
	 * by what is left of it. */
	while (cfg->reconnect_ms && (left = deadline - now_ms()) > 0) {
		attempts++;
		r = vudev_reconnect(&d->vu, (int)left, why, sizeof(why));
		if (r >= 0)
			break;
		pr_debug("%s: attempt %u: %s", d->vu.name, attempts, why);
		left = deadline - now_ms();
		if (left > 0 &&
		    !pause_unless_stopped(ds, delay < left ? delay : left))
			goto out;
		delay = delay * 2 < 1000 ? delay * 2 : 1000;
	}
	if (r >= 0) {
		pr_warn("%s: reconnected after %lld ms (attempt %u)",
			d->vu.name, now_ms() - start, attempts);
		if (r == 1)
			mmio_dev_config_changed(&d->mmio);
	} else {
		vudev_give_up(&d->vu);
		pr_err("%s: the backend did not come back within %.1f s (%u "
		       "attempts; last: %s); device needs reset",
		       d->vu.name, cfg->reconnect_ms / 1000.0, attempts, why);
		mmio_dev_fail(&d->mmio, "the vhost-user backend is gone");
	}
out:
	__atomic_store_n(&d->reconnect_done, true, __ATOMIC_RELEASE);
	if (write(ds->wake_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: cannot wake the watcher", d->vu.name);
	return NULL;
}

/* The backend of @d is gone: stop vuvm, or reconnect. False: stop. */
static bool device_lost(struct devices *ds, struct device *d)
{
	int err;

	pthread_mutex_lock(&d->vu.lock);
	if (d->vu.fe.broken)
		pr_err("%s: the vhost-user backend stopped answering properly "
		       "(%s); connection closed",
		       d->vu.name, vhu_frontend_error(&d->vu.fe));
	else
		pr_err("%s: the vhost-user backend closed the connection",
		       d->vu.name);
	pthread_mutex_unlock(&d->vu.lock);
	if (d->vu.cfg->reconnect_ms < 0)
		return false;
	vudev_lost(&d->vu);
	d->ds = ds;
	d->reconnect_done = false;
	err = pthread_create(&d->reconnector, NULL, reconnect, d);
	if (err) {
		pr_err("%s: cannot start reconnecting: %s", d->vu.name,
		       strerror(err));
		return false;
	}
	d->reconnecting = true;
	return true;
}

/* Joins every reconnector that has finished. */
static void reap_reconnectors(struct devices *ds)
{
	uint64_t n;

	if (read(ds->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn("wake: %s", strerror(errno));
	for (unsigned int i = 0; i < ds->nr; i++) {
		struct device *d = &ds->dev[i];

		if (d->reconnecting &&
		    __atomic_load_n(&d->reconnect_done, __ATOMIC_ACQUIRE)) {
			pthread_join(d->reconnector, NULL);
			d->reconnecting = false;
		}
	}
}

/* Slots 3i (the vhost-user socket), 3i+1 (the backend channel), 3i+2
 * (the ring error eventfd), -1 while the device reconnects or has failed,
 * then the wake and stop eventfds. Only hang-ups are asked for on the
 * socket, since its replies belong to whichever thread sent the request.
 * Rebuilt on every pass: a reconnect changes the fds. */
#define WATCH_SLOTS 3

static unsigned int watch_fds(struct devices *ds, struct pollfd *p)
{
	for (unsigned int i = 0; i < ds->nr; i++) {
		struct device *d = &ds->dev[i];
		bool on = !d->reconnecting && vudev_is_connected(&d->vu);
		struct pollfd *q = &p[WATCH_SLOTS * i];

		q[0] = (struct pollfd){ .fd = on ? d->vu.fe.sock : -1,
					.events = POLLRDHUP };
		q[1] = (struct pollfd){ .fd = on ? d->vu.chan_fd : -1,
					.events = POLLIN };
		q[2] = (struct pollfd){ .fd = d->vu.err_fd, .events = POLLIN };
	}
	p[WATCH_SLOTS * ds->nr] =
		(struct pollfd){ .fd = ds->wake_fd, .events = POLLIN };
	p[WATCH_SLOTS * ds->nr + 1] =
		(struct pollfd){ .fd = ds->stop_fd, .events = POLLIN };
	return WATCH_SLOTS * ds->nr + 2;
}

/* Returns false when the run must stop. */
static bool watch_device(struct devices *ds, struct device *d,
			 const struct pollfd *q)
{
	int r;

	if (q[2].revents && vudev_ring_error(&d->vu))
		mmio_dev_fail(&d->mmio, "the backend stopped serving a ring "
					"(SET_VRING_ERR)");
	if (q[0].revents)
		return device_lost(ds, d);
	if (!q[1].revents)
		return true;
	r = vudev_handle_channel(&d->vu);
	if (r == 1)
		mmio_dev_config_changed(&d->mmio);
	if (r < 0) {
		pr_warn("%s: backend channel closed: %s", d->vu.name,
			strerror(-r));
		/* The device itself may still work: stop watching it. */
		pthread_mutex_lock(&d->vu.lock);
		close(d->vu.chan_fd);
		d->vu.chan_fd = -1;
		pthread_mutex_unlock(&d->vu.lock);
	}
	return true;
}

static void *watch(void *opaque)
{
	struct devices *ds = opaque;
	struct pollfd p[WATCH_SLOTS * VUVM_MAX_DEVICES + 2];

	sandbox_enter(SANDBOX_WATCHER, "watcher");
	for (;;) {
		unsigned int n = watch_fds(ds, p);

		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			break;
		}
		if (p[n - 1].revents)
			return NULL;
		if (p[n - 2].revents)
			reap_reconnectors(ds);
		for (unsigned int i = 0; i < ds->nr; i++)
			if (!watch_device(ds, &ds->dev[i], &p[WATCH_SLOTS * i]))
				goto stop;
	}
stop:
	vm_stop_request(ds->stop, VUVM_EXIT_BACKEND);
	return NULL;
}

int devices_watch(struct devices *ds)
{
	int err;

	if (!ds->nr)
		return 0;
	ds->stop_fd = eventfd(0, EFD_CLOEXEC);
	ds->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ds->stop_fd < 0 || ds->wake_fd < 0)
		return -errno;
	err = -pthread_create(&ds->watcher, NULL, watch, ds);
	ds->watching = !err;
	return err;
}

/*
 * Whether @d's backend is lost and nobody will reconnect it: its replies
 * broke the stream, or it hung up. Asked after the last request, so that
 * the answer does not depend on whether the watcher saw it first.
 */
static bool backend_lost(struct device *d)
{
	struct pollfd p = { d->vu.fe.sock, POLLRDHUP, 0 };
	bool lost;

	if (!d->vu_open || d->vu.cfg->reconnect_ms >= 0)
		return false;
	pthread_mutex_lock(&d->vu.lock);
	lost = d->vu.fe.broken || d->vu.fe.sock < 0 ||
	       (poll(&p, 1, 0) == 1 &&
		(p.revents & (POLLRDHUP | POLLHUP | POLLERR)));
	if (lost)
		pr_err("%s: the vhost-user backend was lost (%s)", d->vu.name,
		       d->vu.fe.broken ? vhu_frontend_error(&d->vu.fe)
				       : "it closed the connection");
	pthread_mutex_unlock(&d->vu.lock);
	return lost;
}

bool devices_close(struct devices *ds)
{
	bool lost = false;
	uint64_t one = 1;

	/* The stop eventfd stays readable: it ends the reconnectors too. */
	if (ds->watching) {
		if (write(ds->stop_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("cannot stop the watcher: %s", strerror(errno));
		pthread_join(ds->watcher, NULL);
	}
	for (unsigned int i = 0; i < ds->nr; i++)
		if (ds->dev[i].reconnecting)
			pthread_join(ds->dev[i].reconnector, NULL);
	if (ds->stop_fd >= 0)
		close(ds->stop_fd);
	if (ds->wake_fd >= 0)
		close(ds->wake_fd);
	for (unsigned int i = 0; i < ds->nr; i++) {
		struct device *d = &ds->dev[i];

		if (d->mmio_open)
			mmio_dev_exit(&d->mmio);
		lost |= backend_lost(d);
		if (d->vu_open)
			vudev_close(&d->vu);
	}
	ds->nr = 0;
	return lost;
}
