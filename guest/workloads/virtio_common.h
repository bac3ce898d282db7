/* SPDX-License-Identifier: MIT */
/*
 * What the virtio workloads (blk-verify, net-echo, rng) share: the mode
 * parameter, finding their device, a small PRNG, and a deadline.
 *
 * vw_mode: reads mode=poll|irq (default poll) from @args; returns
 *   VW_POLL, VW_IRQ, or -1 after printing an ERROR line for anything else.
 * vw_find: the first virtio-mmio device of @device_id; 0 with *@dev
 *   filled, or -1 after a report_skip() naming the missing device and
 *   how to attach one (the workload then returns report_summary(), 77).
 * vw_rand: xorshift32; state must not be 0.
 */
#ifndef VUVM_GUEST_WORKLOADS_VIRTIO_COMMON_H
#define VUVM_GUEST_WORKLOADS_VIRTIO_COMMON_H

#include <stdint.h>

#include "virtio/mmio.h"

#define VW_POLL 0
#define VW_IRQ	1
/* How long any single request may take before the device is declared
 * stuck. */
#define VW_TIMEOUT_NS 5000000000ull

int vw_mode(const char *args);
int vw_find(uint32_t device_id, const char *type, struct vio_dev *dev);

static inline uint32_t vw_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#endif
