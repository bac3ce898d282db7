// SPDX-License-Identifier: MIT
#define pr_fmt(fmt) "virtio-mmio: " fmt

#include "vmm/virtio_mmio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_ring.h"

#define MMIO_VENDOR_ID 0x4d565556 /* "VUVM" */

uint64_t mmio_transport_features(void)
{
	return (VIRTIO_BIT(VIRTIO_TRANSPORT_F_START) - 1) |
	       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
	       VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_VERSION_1) |
	       VIRTIO_BIT(VIRTIO_F_IN_ORDER) | VIRTIO_BIT(VIRTIO_F_RING_PACKED);
}

/* --- Set-up and tear-down ------------------------------------------------ */

static void queue_fds_close(struct mmio_dev *d, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		struct mmio_queue *q = &d->queues[i];
		uint64_t notify = d->base + VIRTIO_MMIO_QUEUE_NOTIFY;

		d->sig->ioeventfd(d->sig->ctx, notify, 4, i, q->kick_fd, false);
		d->sig->irqfd(d->sig->ctx, d->gsi, q->call_fd, false);
		close(q->kick_fd);
		close(q->call_fd);
	}
}

static int queue_fds_open(struct mmio_dev *d, unsigned int i)
{
	struct mmio_queue *q = &d->queues[i];
	uint64_t notify = d->base + VIRTIO_MMIO_QUEUE_NOTIFY;
	int err;

	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick_fd < 0 || q->call_fd < 0) {
		err = -errno;
		goto err_close;
	}
	err = d->sig->ioeventfd(d->sig->ctx, notify, 4, i, q->kick_fd, true);
	if (err)
		goto err_close;
	err = d->sig->irqfd(d->sig->ctx, d->gsi, q->call_fd, true);
	if (err)
		goto err_unregister;
	return 0;

err_unregister:
	d->sig->ioeventfd(d->sig->ctx, notify, 4, i, q->kick_fd, false);
err_close:
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	return err;
}

int mmio_dev_init(struct mmio_dev *d, struct vdev *vdev, uint64_t base,
		  uint32_t gsi, const struct mmio_signals *sig)
{
	unsigned int i;
	int err;

	if (!vdev->nr_queues || vdev->nr_queues > VDEV_MAX_QUEUES ||
	    !virtq_size_valid(vdev->queue_size_max) ||
	    vdev->config_size > VIRTIO_MMIO_CONFIG_MAX)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->vdev = vdev;
	d->base = base;
	d->gsi = gsi;
	d->sig = sig;
	d->offered =
		vdev->ops->features(vdev->opaque) & mmio_transport_features();
	d->config_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->config_fd < 0)
		return -errno;
	err = sig->irqfd(sig->ctx, gsi, d->config_fd, true);
	if (err)
		goto err_config;
	for (i = 0; i < vdev->nr_queues; i++) {
		err = queue_fds_open(d, i);
		if (err)
			goto err_queues;
	}
	pthread_mutex_init(&d->lock, NULL);
	return 0;

err_queues:
	queue_fds_close(d, i);
	sig->irqfd(sig->ctx, gsi, d->config_fd, false);
err_config:
	close(d->config_fd);
	return err;
}

static void device_reset(struct mmio_dev *d);

void mmio_dev_exit(struct mmio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	device_reset(d);
	pthread_mutex_unlock(&d->lock);
	queue_fds_close(d, d->vdev->nr_queues);
	d->sig->irqfd(d->sig->ctx, d->gsi, d->config_fd, false);
	close(d->config_fd);
	pthread_mutex_destroy(&d->lock);
}

/* --- Interrupts and failure ---------------------------------------------- */

static void raise_config_irq(struct mmio_dev *d)
{
	uint64_t one = 1;

	d->config_irq_pending = true;
	if (write(d->config_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: cannot raise a config interrupt: %s",
			d->vdev->name, strerror(errno));
}

static void fail_locked(struct mmio_dev *d, const char *fmt, va_list ap)
{
	if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return; /* the first reason is the one worth keeping */
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	pr_err("%s: device needs reset: %s", d->vdev->name, d->reason);
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	raise_config_irq(d);
}

static void __attribute__((format(printf, 2, 3)))
guest_error(struct mmio_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_locked(d, fmt, ap);
	va_end(ap);
}

void mmio_dev_fail(struct mmio_dev *d, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&d->lock);
	va_start(ap, fmt);
	fail_locked(d, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&d->lock);
}

void mmio_dev_config_changed(struct mmio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->config_generation++;
	raise_config_irq(d);
	pthread_mutex_unlock(&d->lock);
}

uint32_t mmio_dev_status(struct mmio_dev *d)
{
	uint32_t status;

	pthread_mutex_lock(&d->lock);
	status = d->status;
	pthread_mutex_unlock(&d->lock);
	return status;
}

/* --- Status state machine ------------------------------------------------ */

static void device_reset(struct mmio_dev *d)
{
	if (d->active)
		d->vdev->ops->reset(d->vdev->opaque);
	d->active = false;
	d->acked = 0;
	d->device_features_sel = 0;
	d->driver_features_sel = 0;
	d->queue_sel = 0;
	d->status = 0;
	d->config_irq_pending = false;
	d->reason[0] = '\0';
	for (unsigned int i = 0; i < d->vdev->nr_queues; i++) {
		struct mmio_queue *q = &d->queues[i];

		q->num = 0;
		q->ready = false;
		q->desc = q->driver = q->device = 0;
	}
}

/* FEATURES_OK is kept only if the driver acked a subset of the offer that
 * includes VERSION_1; otherwise the driver reads it back clear (spec). */
static bool features_ok(struct mmio_dev *d)
{
	if (d->acked & ~d->offered) {
		pr_warn("%s: driver acked features %#llx that were not offered",
			d->vdev->name,
			(unsigned long long)(d->acked & ~d->offered));
		return false;
	}
	if (!(d->acked & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		pr_warn("%s: driver did not ack VERSION_1", d->vdev->name);
		return false;
	}
	return true;
}

static int queue_check(struct mmio_dev *d, unsigned int i)
{
	const struct mmio_queue *q = &d->queues[i];
	/* Packed: any size, driver and device areas 4-byte aligned. */
	bool packed = d->acked & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	uint64_t driver_align = packed ? 3 : 1;

	if (packed ? !q->num || q->num > d->vdev->queue_size_max
		   : !virtq_size_valid(q->num) ||
			     q->num > d->vdev->queue_size_max) {
		guest_error(d, "queue %u: size %u is not %s <= %u", i, q->num,
			    packed ? "a size" : "a power of two",
			    d->vdev->queue_size_max);
		return -EINVAL;
	}
	if ((q->desc & 15) || (q->driver & driver_align) || (q->device & 3)) {
		guest_error(d,
			    "queue %u: misaligned %s ring (desc %#llx driver "
			    "%#llx device %#llx)",
			    i, packed ? "packed" : "split",
			    (unsigned long long)q->desc,
			    (unsigned long long)q->driver,
			    (unsigned long long)q->device);
		return -EINVAL;
	}
	return 0;
}

static void driver_ok(struct mmio_dev *d)
{
	struct vdev_queue queues[VDEV_MAX_QUEUES];
	unsigned int nr = 0;
	int err;

	for (unsigned int i = 0; i < d->vdev->nr_queues; i++) {
		const struct mmio_queue *q = &d->queues[i];

		if (!q->ready)
			continue;
		if (queue_check(d, i))
			return;
		queues[nr++] = (struct vdev_queue){
			.index = i,
			.size = q->num,
			.desc_gpa = q->desc,
			.driver_gpa = q->driver,
			.device_gpa = q->device,
			.kick_fd = q->kick_fd,
			.call_fd = q->call_fd,
		};
	}
	err = d->vdev->ops->activate(d->vdev->opaque, d->acked, queues, nr);
	if (err) {
		guest_error(d, "could not start: %s", strerror(-err));
		return;
	}
	d->active = true;
}

static void status_write(struct mmio_dev *d, uint32_t val)
{
	uint32_t old = d->status, added = val & ~old;

	if (val == 0) {
		device_reset(d);
		return;
	}
	if (val & ~0xffu || (old & ~val & ~VIRTIO_CONFIG_S_NEEDS_RESET)) {
		guest_error(d, "status %#x -> %#x: bits may only be added", old,
			    val);
		return;
	}
	/* Only the device sets NEEDS_RESET: taken from the driver, it would
	 * stand without a reason and hide the device's own later one. */
	if (added & VIRTIO_CONFIG_S_NEEDS_RESET) {
		guest_error(d,
			    "status %#x -> %#x: DEVICE_NEEDS_RESET is set "
			    "by the device, not the driver",
			    old, val);
		return;
	}
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_ok(d))
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	d->status = val | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if (!(added & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	if (!(val & VIRTIO_CONFIG_S_FEATURES_OK))
		guest_error(d, "DRIVER_OK without FEATURES_OK");
	else if (!(old & VIRTIO_CONFIG_S_NEEDS_RESET))
		driver_ok(d);
}

/* --- Registers ----------------------------------------------------------- */

static struct mmio_queue *selected_queue(struct mmio_dev *d, const char *reg)
{
	if (d->queue_sel < d->vdev->nr_queues)
		return &d->queues[d->queue_sel];
	if (reg)
		guest_error(d, "%s: QueueSel %u, the device has %u queues", reg,
			    d->queue_sel, d->vdev->nr_queues);
	return NULL;
}

static uint32_t features_word(uint64_t features, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(features >> (32 * sel)) : 0;
}

static uint32_t queue_reg_read(struct mmio_dev *d, uint64_t offset)
{
	struct mmio_queue *q = selected_queue(d, NULL);

	if (!q)
		return 0; /* QueueNumMax 0 is how a driver learns the count */
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return d->vdev->queue_size_max;
	case VIRTIO_MMIO_QUEUE_READY:
		return q->ready;
	case VIRTIO_MMIO_QUEUE_NUM:
		return q->num;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return (uint32_t)q->desc;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return (uint32_t)(q->desc >> 32);
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		return (uint32_t)q->driver;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return (uint32_t)(q->driver >> 32);
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		return (uint32_t)q->device;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return (uint32_t)(q->device >> 32);
	}
	return 0;
}

static uint32_t reg_read(struct mmio_dev *d, uint64_t offset)
{
	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_MODERN;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->vdev->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return MMIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return features_word(d->offered, d->device_features_sel);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return VIRTIO_MMIO_INT_VRING |
		       (d->config_irq_pending ? VIRTIO_MMIO_INT_CONFIG : 0);
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	}
	return queue_reg_read(d, offset);
}

static void set_half(uint64_t *reg, uint32_t val, bool high)
{
	if (high)
		*reg = (*reg & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*reg = (*reg & ~0xffffffffull) | val;
}

static void queue_ready_write(struct mmio_dev *d, struct mmio_queue *q,
			      uint32_t val)
{
	if (val > 1)
		guest_error(d, "QueueReady: %#x is not 0 or 1", val);
	else if (!val && q->ready && (d->status & VIRTIO_CONFIG_S_DRIVER_OK))
		guest_error(d,
			    "QueueReady: queue %u disabled while running "
			    "(RING_RESET is not offered)",
			    d->queue_sel);
	else
		q->ready = val;
}

static void queue_reg_write(struct mmio_dev *d, uint64_t offset, uint32_t val,
			    const char *name)
{
	struct mmio_queue *q = selected_queue(d, name);

	if (!q)
		return;
	if (offset == VIRTIO_MMIO_QUEUE_READY) {
		queue_ready_write(d, q, val);
		return;
	}
	if (q->ready) {
		guest_error(d, "%s: queue %u is ready; its layout is fixed",
			    name, d->queue_sel);
		return;
	}
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		if (val > d->vdev->queue_size_max)
			guest_error(d, "QueueNum %u > QueueNumMax %u", val,
				    d->vdev->queue_size_max);
		else
			q->num = (uint16_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&q->desc, val, offset & 4);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_half(&q->driver, val, offset & 4);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		set_half(&q->device, val, offset & 4);
		break;
	}
}

/* A notify that reached vuvm: the ioeventfd did not match, so the value
 * is not a queue index (or the access was not 32 bits). */
static void queue_notify(struct mmio_dev *d, uint32_t val)
{
	uint64_t one = 1;

	if (val >= d->vdev->nr_queues) {
		guest_error(d, "QueueNotify: queue %u does not exist", val);
		return;
	}
	if (write(d->queues[val].kick_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: kick queue %u: %s", d->vdev->name, val,
			strerror(errno));
}

static void driver_features_write(struct mmio_dev *d, uint32_t val)
{
	uint32_t sel = d->driver_features_sel;

	if (d->status & VIRTIO_CONFIG_S_FEATURES_OK)
		guest_error(d, "DriverFeatures written after FEATURES_OK");
	else if (sel >= 2 && val)
		guest_error(d, "DriverFeatures: bank %u has no features", sel);
	else if (sel < 2)
		set_half(&d->acked, val, sel == 1);
}

static const char *const reg_names[] = {
	[VIRTIO_MMIO_QUEUE_NUM / 4] = "QueueNum",
	[VIRTIO_MMIO_QUEUE_READY / 4] = "QueueReady",
	[VIRTIO_MMIO_QUEUE_DESC_LOW / 4] = "QueueDescLow",
	[VIRTIO_MMIO_QUEUE_DESC_HIGH / 4] = "QueueDescHigh",
	[VIRTIO_MMIO_QUEUE_DRIVER_LOW / 4] = "QueueDriverLow",
	[VIRTIO_MMIO_QUEUE_DRIVER_HIGH / 4] = "QueueDriverHigh",
	[VIRTIO_MMIO_QUEUE_DEVICE_LOW / 4] = "QueueDeviceLow",
	[VIRTIO_MMIO_QUEUE_DEVICE_HIGH / 4] = "QueueDeviceHigh",
};

static void reg_write(struct mmio_dev *d, uint64_t offset, uint32_t val)
{
	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		driver_features_write(d, val);
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		queue_notify(d, val);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		if (val & VIRTIO_MMIO_INT_CONFIG)
			d->config_irq_pending = false;
		return;
	case VIRTIO_MMIO_STATUS:
		status_write(d, val);
		return;
	case VIRTIO_MMIO_SHM_SEL:
		return; /* every region reads as absent */
	}
	if (offset / 4 < sizeof(reg_names) / sizeof(reg_names[0]) &&
	    reg_names[offset / 4])
		queue_reg_write(d, offset, val, reg_names[offset / 4]);
	else
		guest_error(d,
			    "write %#x to read-only or reserved register "
			    "%#llx",
			    val, (unsigned long long)offset);
}

/* --- Config space and the access entry points ----------------------------- */

static bool config_range_ok(struct mmio_dev *d, uint64_t offset,
			    unsigned int len, const char *dir)
{
	uint64_t start = offset - VIRTIO_MMIO_CONFIG;

	if (start + len <= d->vdev->config_size)
		return true;
	guest_error(d,
		    "config %s of %u bytes at %#llx: the device has %u "
		    "bytes of config space",
		    dir, len, (unsigned long long)start, d->vdev->config_size);
	return false;
}

static bool access_ok(struct mmio_dev *d, uint64_t offset, unsigned int len,
		      const char *dir)
{
	if (offset >= VIRTIO_MMIO_CONFIG)
		return len && len <= 8 && !(len & (len - 1)) &&
		       config_range_ok(d, offset, len, dir);
	if (len == 4 && !(offset & 3))
		return true;
	guest_error(d,
		    "register %s of %u bytes at %#llx: registers are "
		    "32-bit and aligned",
		    dir, len, (unsigned long long)offset);
	return false;
}

void mmio_dev_read(struct mmio_dev *d, uint64_t offset, void *data,
		   unsigned int len)
{
	uint32_t val;

	memset(data, 0, len);
	pthread_mutex_lock(&d->lock);
	if (!access_ok(d, offset, len, "read"))
		goto out;
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint32_t start = (uint32_t)(offset - VIRTIO_MMIO_CONFIG);

		if (d->vdev->ops->config_read(d->vdev->opaque, start, data,
					      len))
			memset(data, 0, len);
		goto out;
	}
	val = reg_read(d, offset);
	memcpy(data, &val, sizeof(val));
out:
	pthread_mutex_unlock(&d->lock);
}

void mmio_dev_write(struct mmio_dev *d, uint64_t offset, const void *data,
		    unsigned int len)
{
	uint32_t val;

	pthread_mutex_lock(&d->lock);
	if (!access_ok(d, offset, len, "write"))
		goto out;
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint32_t start = (uint32_t)(offset - VIRTIO_MMIO_CONFIG);
		int err = d->vdev->ops->config_write(d->vdev->opaque, start,
						     data, len);

		/* The device says why, once; the guest sets the pace. */
		if (err)
			pr_debug("%s: config write at %#x: %s", d->vdev->name,
				 start, strerror(-err));
		goto out;
	}
	memcpy(&val, data, sizeof(val));
	reg_write(d, offset, val);
out:
	pthread_mutex_unlock(&d->lock);
}
