/* SPDX-License-Identifier: MIT */
/*
 * The driver side of the virtio-mmio transport, version 2, over the
 * "virtio,mmio" nodes of the device tree. Register windows are mapped
 * user-accessible, so everything here runs in ring 3; a write to
 * QueueNotify becomes a KVM ioeventfd kick and never enters vuvm.
 *
 * Everything the device reports (magic, version, IDs, features, status,
 * queue sizes, config space) is checked and reported as an error with a
 * sentence in dev->error, never asserted. Functions return 0 or a negative
 * code (VIRTQ_E* values from virtq.h; VIO_ENODEV when a device or queue
 * is absent).
 *
 * vio_find: probes every virtio,mmio node and fills @devs (up to @max)
 *   with those of @device_id: magic "virt", version 2, device ID. Windows
 *   that fail the probe are listed with one line each on the console and
 *   skipped; a device ID of 0 (an empty slot) is skipped quietly. Returns
 *   how many matched.
 * vio_begin: reset, ACKNOWLEDGE, DRIVER, reads the offered features,
 *   acks (@wanted ∪ dev->ring_wanted) ∩ offered (VERSION_1 is always
 *   wanted, and an error if not offered), FEATURES_OK and reads it back.
 *   dev->features holds the result. ring_wanted is the workload's choice
 *   of ring features (RING_PACKED, IN_ORDER) that every device driver
 *   then asks for; set it in the found device before the driver's open.
 * vio_queue_setup: sets queue @index up with at most @size entries (the
 *   device's QueueNumMax caps it; a split ring's size is then rounded down
 *   to a power of 2, a packed ring's kept) and indirect tables of @indirect_max
 *   descriptors, memory from dma_alloc (allocated once per queue index
 *   and reused by later calls with the same or smaller sizes).
 * vio_driver_ok: DRIVER_OK, then checks that the device did not ask for a
 *   reset.
 * vio_check: whether the device is still healthy: VIO_ENEEDSRESET with
 *   "device needs reset (status ...)" in dev->error once the device set
 *   DEVICE_NEEDS_RESET (vuvm does when a backend is gone for good).
 * vio_watch: for wait loops: vio_check, but only when virtio/watch.h says
 *   it is due (nothing completed for a millisecond, then every
 *   millisecond), so a loop that makes progress never reads Status.
 * vio_reset: writes 0 to Status and waits (100 ms at most) until it reads
 *   0; returns whether it did.
 * vio_notify: a 32-bit write of @index to QueueNotify.
 * vio_kick: virtq_kick_prepare on @vq, and vio_notify if the device wants.
 * vio_config_read: @len bytes of config space at @offset into @buf, read
 *   with naturally aligned accesses of up to 4 bytes and retried until
 *   ConfigGeneration is stable.
 * vio_irq_ack: reads InterruptStatus and acknowledges what it says;
 *   returns the bits.
 */
#ifndef VUVM_GUEST_VIRTIO_MMIO_H
#define VUVM_GUEST_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"
#include "virtio/watch.h"

#define VIO_ENODEV (-19)
/* EIO: the device set DEVICE_NEEDS_RESET; its requests will not complete. */
#define VIO_ENEEDSRESET (-5)
#define VIO_ERROR_LEN	160
#define VIO_MAX_QUEUES	64

struct vio_dev {
	uint64_t base;
	uint32_t irq; /* GSI from the device tree, ~0 if none */
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t offered;     /* device features */
	uint64_t features;    /* negotiated */
	uint64_t ring_wanted; /* RING_PACKED, IN_ORDER: the workload's */
	/* Ring memory per queue index, kept for reuse across resets. */
	void *ring_mem[VIO_MAX_QUEUES];
	uint64_t ring_size[VIO_MAX_QUEUES];
	struct vio_watch watch; /* when a waiting driver reads Status */
	char error[VIO_ERROR_LEN];
};

int vio_find(uint32_t device_id, struct vio_dev *devs, int max);
int vio_begin(struct vio_dev *dev, uint64_t wanted);
int vio_queue_setup(struct vio_dev *dev, unsigned int index, struct virtq *vq,
		    unsigned int size, unsigned int indirect_max);
int vio_driver_ok(struct vio_dev *dev);
int vio_check(struct vio_dev *dev);
int vio_watch(struct vio_dev *dev, uint64_t now_ns, bool progress);
bool vio_reset(struct vio_dev *dev);
void vio_notify(struct vio_dev *dev, unsigned int index);
void vio_kick(struct vio_dev *dev, unsigned int index, struct virtq *vq);
int vio_config_read(struct vio_dev *dev, unsigned int offset, void *buf,
		    unsigned int len);
uint32_t vio_irq_ack(struct vio_dev *dev);

static inline bool vio_has(const struct vio_dev *dev, unsigned int bit)
{
	return bit < 64 && (dev->features >> bit) & 1;
}

#endif
