// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* POLLRDHUP */
#define pr_fmt(fmt) "devices: " fmt
#include "vmm/devices.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vhost/log.h"
#include "virtio/virtio_mmio.h"
#include "vmm/machine.h"

static int signal_ioeventfd(void *ctx, uint64_t addr, uint32_t len,
			    uint32_t datamatch, int fd, bool assign)
{
	return kvm_ioeventfd(ctx, addr, len, datamatch, fd, assign);
}

static int signal_irqfd(void *ctx, uint32_t gsi, int fd, bool assign)
{
	return kvm_irqfd(ctx, gsi, fd, assign);
}

static int device_open(struct machine *m, unsigned int i)
{
	struct devices *ds = &m->devices;
	struct device *d = &ds->dev[i];
	uint64_t base = DEVICES_MMIO_BASE + i * DEVICES_MMIO_STRIDE;
	int err;

	err = vudev_open(&d->vu, &m->cfg->devices[i], &m->mem, i,
			 m->cfg->devices[i].connect_timeout_ms,
			 m->cfg->trace_vhost);
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
		m->cfg->devices[i].socket, (unsigned long long)base,
		DEVICES_GSI_BASE + i, d->vu.vdev.nr_queues);
	return 0;
}

int devices_open(struct machine *m)
{
	struct devices *ds = &m->devices;

	ds->stop_fd = -1;
	ds->signals = (struct mmio_signals){ &m->kvm, signal_ioeventfd,
					     signal_irqfd };
	for (unsigned int i = 0; i < m->cfg->nr_devices; i++) {
		int err;

		ds->nr = i + 1;
		err = device_open(m, i);
		if (err)
			return err;
	}
	return 0;
}

bool devices_mmio(struct machine *m, uint64_t addr, uint8_t *data,
		  unsigned int len, bool is_write)
{
	uint64_t i = (addr - DEVICES_MMIO_BASE) / DEVICES_MMIO_STRIDE;
	uint64_t off = (addr - DEVICES_MMIO_BASE) % DEVICES_MMIO_STRIDE;
	struct mmio_dev *d;

	if (addr < DEVICES_MMIO_BASE || i >= m->devices.nr ||
	    off + len > VIRTIO_MMIO_WINDOW_SIZE || !m->devices.dev[i].mmio_open)
		return false;
	d = &m->devices.dev[i].mmio;
	if (is_write)
		mmio_dev_write(d, off, data, len);
	else
		mmio_dev_read(d, off, data, len);
	return true;
}

/* --- The watcher thread --------------------------------------------------- */

/* Slots 2i (the vhost-user socket) and 2i+1 (the backend channel), then
 * the stop eventfd. Only hang-ups are asked for on the socket, since its
 * replies belong to whichever thread sent the request. */
static unsigned int watch_fds(struct devices *ds, struct pollfd *p)
{
	for (unsigned int i = 0; i < ds->nr; i++) {
		p[2 * i] = (struct pollfd){ .fd = ds->dev[i].vu.fe.sock,
					    .events = POLLRDHUP };
		p[2 * i + 1] = (struct pollfd){ .fd = ds->dev[i].vu.chan_fd,
						.events = POLLIN };
	}
	p[2 * ds->nr] = (struct pollfd){ .fd = ds->stop_fd, .events = POLLIN };
	return 2 * ds->nr + 1;
}

/* Returns false when the machine must stop. */
static bool watch_device(struct machine *m, struct device *d,
			 const struct pollfd *sock, struct pollfd *chan)
{
	int r;

	if (sock->revents) {
		pthread_mutex_lock(&d->vu.lock);
		if (d->vu.fe.broken)
			pr_err("%s: the vhost-user backend stopped answering "
			       "properly (%s); connection closed",
			       d->vu.name, vhu_frontend_error(&d->vu.fe));
		else
			pr_err("%s: the vhost-user backend closed the "
			       "connection",
			       d->vu.name);
		pthread_mutex_unlock(&d->vu.lock);
		return false;
	}
	if (!chan->revents)
		return true;
	r = vudev_handle_channel(&d->vu);
	if (r == 1)
		mmio_dev_config_changed(&d->mmio);
	if (r < 0) {
		pr_warn("%s: backend channel closed: %s", d->vu.name,
			strerror(-r));
		chan->fd = -1; /* the device itself may still work */
	}
	return true;
}

static void *watch(void *opaque)
{
	struct machine *m = opaque;
	struct devices *ds = &m->devices;
	struct pollfd p[2 * VUVM_MAX_DEVICES + 1];
	unsigned int n = watch_fds(ds, p);

	for (;;) {
		if (poll(p, n, -1) < 0 && errno != EINTR)
			break;
		if (p[n - 1].revents)
			return NULL;
		for (unsigned int i = 0; i < ds->nr; i++) {
			if (!watch_device(m, &ds->dev[i], &p[2 * i],
					  &p[2 * i + 1])) {
				machine_stop(m, VUVM_EXIT_BACKEND);
				return NULL;
			}
		}
	}
	pr_err("poll: %s", strerror(errno));
	machine_stop(m, VUVM_EXIT_BACKEND);
	return NULL;
}

int devices_watch(struct machine *m)
{
	struct devices *ds = &m->devices;
	int err;

	if (!ds->nr)
		return 0;
	ds->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (ds->stop_fd < 0)
		return -errno;
	err = -pthread_create(&ds->watcher, NULL, watch, m);
	ds->watching = !err;
	return err;
}

void devices_close(struct machine *m)
{
	struct devices *ds = &m->devices;
	uint64_t one = 1;

	if (ds->watching) {
		if (write(ds->stop_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("cannot stop the watcher: %s", strerror(errno));
		pthread_join(ds->watcher, NULL);
	}
	if (ds->stop_fd >= 0)
		close(ds->stop_fd);
	for (unsigned int i = 0; i < ds->nr; i++) {
		struct device *d = &ds->dev[i];

		if (d->mmio_open)
			mmio_dev_exit(&d->mmio);
		if (d->vu_open)
			vudev_close(&d->vu);
	}
	ds->nr = 0;
}
