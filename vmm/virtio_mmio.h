/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2: one 512-byte register window and
 * one GSI per device, generic over the device behind it (vdev.h).
 *
 * The transport creates, for every queue, a kick eventfd registered as a
 * KVM ioeventfd on QueueNotify (datamatch = queue index) and a call eventfd
 * registered as a KVM irqfd on the device's GSI, plus one more irqfd
 * eventfd of its own for configuration-change interrupts. The data path
 * therefore never enters vuvm.
 *
 * InterruptStatus policy: a backend signals the irqfd directly, so vuvm
 * never learns that a used-buffer interrupt happened. InterruptStatus
 * therefore always reads VIRTIO_MMIO_INT_VRING, plus VIRTIO_MMIO_INT_CONFIG
 * while a configuration change is unacknowledged (Firecracker's choice; a
 * driver that scans its used rings on every interrupt, as Linux and the
 * tiny guest do, tolerates the spurious bit).
 *
 * Everything the guest writes is untrusted: a write the spec forbids sets
 * DEVICE_NEEDS_RESET with a logged reason and raises a config interrupt;
 * it never crashes vuvm. Register accesses may come from any vCPU thread
 * and state changes from the event loop, so each device has a lock.
 */
#ifndef VUVM_VMM_VIRTIO_MMIO_H
#define VUVM_VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/vdev.h"

/* How the transport registers its eventfds with KVM (kvm.c in vuvm, a
 * recorder in the unit tests). Each returns 0 or -errno. */
struct mmio_signals {
	void *ctx;
	int (*ioeventfd)(void *ctx, uint64_t addr, uint32_t len,
			 uint32_t datamatch, int fd, bool assign);
	int (*irqfd)(void *ctx, uint32_t gsi, int fd, bool assign);
};

struct mmio_queue {
	uint16_t num;
	bool ready;
	uint64_t desc;
	uint64_t driver;
	uint64_t device;
	int kick_fd;
	int call_fd;
};

struct mmio_dev {
	struct vdev *vdev;
	uint64_t base;
	uint32_t gsi;
	const struct mmio_signals *sig;
	pthread_mutex_t lock;

	uint64_t offered; /* device features ∩ what the transport supports */
	uint64_t acked;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t config_generation;
	bool config_irq_pending;
	bool active; /* vdev activate() succeeded and no reset since */
	int config_fd;
	struct mmio_queue queues[VDEV_MAX_QUEUES];
	char reason[160]; /* why DEVICE_NEEDS_RESET was set */
};

/* Feature bits the transport can carry: device-specific bits 0-23 and the
 * ring features vuvm's transports and vhost-user support. */
uint64_t mmio_transport_features(void);

/*
 * Sets up @d for @vdev at guest-physical @base with interrupt @gsi: makes
 * the eventfds and registers them through @sig. Returns 0 or -errno with
 * nothing left registered or open.
 */
int mmio_dev_init(struct mmio_dev *d, struct vdev *vdev, uint64_t base,
		  uint32_t gsi, const struct mmio_signals *sig);

/* Resets the device if active, unregisters and closes every eventfd. */
void mmio_dev_exit(struct mmio_dev *d);

/*
 * Emulates a guest access of @len bytes (1, 2, 4 or 8) at @offset in the
 * window. A read fills @data (little-endian); a write consumes it.
 */
void mmio_dev_read(struct mmio_dev *d, uint64_t offset, void *data,
		   unsigned int len);
void mmio_dev_write(struct mmio_dev *d, uint64_t offset, const void *data,
		    unsigned int len);

/* The device's config space changed: bump ConfigGeneration and raise a
 * configuration-change interrupt. Safe from any thread. */
void mmio_dev_config_changed(struct mmio_dev *d);

/*
 * The device can no longer work (the guest broke the rules, or its backend
 * failed): set DEVICE_NEEDS_RESET, keep @why for the log and raise a
 * configuration-change interrupt. Safe from any thread.
 */
void mmio_dev_fail(struct mmio_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Returns the current device status register (for tests and reports). */
uint32_t mmio_dev_status(struct mmio_dev *d);

#endif
