/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (entropy device) driver: one request queue of device-writable
 * buffers that the device fills with random bytes, polled in ring 3.
 *
 * rng_open: negotiates (VERSION_1, INDIRECT_DESC, EVENT_IDX), sets up the
 *   request queue with up to @qsize entries, DRIVER_OK. 0 or a negative
 *   code with r->vio.error saying why.
 * rng_submit / rng_kick / rng_poll: add a writable buffer under @token,
 *   notify, take one completion (1 with *@token and *@len, 0 when none,
 *   negative when the device misbehaved).
 * rng_read: fills @buf (device-reachable) with up to @len bytes in one
 *   request, waiting at most @timeout_ns; returns the number of bytes the
 *   device wrote, or a negative code (RNG_ETIMEDOUT when it never came).
 */
#ifndef VUVM_GUEST_VIRTIO_RNG_H
#define VUVM_GUEST_VIRTIO_RNG_H

#include <stdint.h>

#include "virtio/mmio.h"

#define RNG_ETIMEDOUT (-110)

struct rng_dev {
	struct vio_dev vio;
	struct virtq vq;
};

int rng_open(struct rng_dev *r, const struct vio_dev *found,
	     unsigned int qsize);
int rng_submit(struct rng_dev *r, void *buf, uint32_t len, void *token);
void rng_kick(struct rng_dev *r);
int rng_poll(struct rng_dev *r, void **token, uint32_t *len);
long rng_read(struct rng_dev *r, void *buf, uint32_t len, uint64_t timeout_ns);

#endif
