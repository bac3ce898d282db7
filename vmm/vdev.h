/* SPDX-License-Identifier: MIT */
/*
 * A virtio device as its transport sees it.
 *
 * The transport (virtio_mmio.c) owns the guest-visible registers and the
 * signalling: it makes each queue's kick eventfd (a KVM ioeventfd on the
 * notify register) and call eventfd (a KVM irqfd on the device's GSI). A
 * device never sees the transport; it gets feature words, config space
 * accesses, and on DRIVER_OK the queues as guest-physical ring addresses
 * plus those two fds. The vhost-user device (vhost_user_dev.c) is a device
 * like any other.
 */
#ifndef VUVM_VMM_VDEV_H
#define VUVM_VMM_VDEV_H

#include <stdint.h>

#define VDEV_MAX_QUEUES 64

/* One queue the driver made ready, as handed to vdev_ops.activate(). */
struct vdev_queue {
	unsigned int index;
	uint16_t size;
	uint64_t desc_gpa;
	uint64_t driver_gpa; /* the available ring */
	uint64_t device_gpa; /* the used ring */
	int kick_fd;	     /* eventfd the guest's notify write signals */
	int call_fd;	     /* eventfd that raises the device's interrupt */
};

struct vdev_ops {
	/* Returns every feature bit the device offers. */
	uint64_t (*features)(void *opaque);
	/*
	 * Copies @len bytes of device config space at @offset into @buf. The
	 * transport has checked the range against vdev.config_size.
	 * Returns 0 or -errno (the transport then reads zeroes).
	 */
	int (*config_read)(void *opaque, uint32_t offset, void *buf,
			   uint32_t len);
	/* Writes @len bytes at @offset (range checked). Returns 0 or -errno. */
	int (*config_write)(void *opaque, uint32_t offset, const void *buf,
			    uint32_t len);
	/*
	 * The driver set DRIVER_OK: start with @features (a subset of what
	 * was offered) and the @nr queues it made ready. Returns 0, or
	 * -errno with the reason logged; the transport then sets
	 * DEVICE_NEEDS_RESET.
	 */
	int (*activate)(void *opaque, uint64_t features,
			const struct vdev_queue *queues, unsigned int nr);
	/* The driver reset the device after activate() succeeded. */
	void (*reset)(void *opaque);
};

struct vdev {
	const char *name;	 /* for log lines, e.g. "blk0" */
	uint32_t device_id;	 /* virtio device ID */
	unsigned int nr_queues;	 /* 1..VDEV_MAX_QUEUES */
	uint16_t queue_size_max; /* QueueNumMax, a power of two */
	uint32_t config_size;	 /* bytes of config space, <= 256 */
	const struct vdev_ops *ops;
	void *opaque;
};

#endif
