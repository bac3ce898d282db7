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
 * vw_wait_start: remembers @mode and @dev; in irq mode routes the device's
 *   interrupt (virtio/irq.h) and returns -1 after a failed report() when
 *   that is impossible.
 * vw_idle: called by a workload's loop when a pass made no progress. Poll
 *   mode: returns at once (the loop spins in ring 3). Irq mode: re-enables
 *   used-buffer interrupts on the @n queues at @vqs; unless something is
 *   already pending, sleeps in ring 0 until an interrupt (at most
 *   VW_SLEEP_US), acknowledges InterruptStatus, and disables them again.
 *   Returns 0, or VIO_ENEEDSRESET (reason in dev->error) when the wake-up
 *   was a configuration-change interrupt and Status says the device needs
 *   a reset. Loops also call vio_watch() on every pass, which reads Status
 *   only after a millisecond without progress (in either mode).
 * vw_wait_end: unroutes, and reports in irq mode how many sleeps and
 *   interrupts there were.
 * vw_stall: reads stall=SEC (1..3600, default 5: VW_TIMEOUT_NS) from
 *   @args, how long a workload waits without progress before it gives
 *   up (raise it for backends that are restarted or suspended for longer
 *   meanwhile); 0 after printing an ERROR line for a bad value.
 * vw_ring: reads ring=split|packed (default split) and in_order=0|1
 *   (default 0) from @args into @features, the ring features to ask for
 *   (VIRTIO_F_RING_PACKED, VIRTIO_F_IN_ORDER); 0, or -1 after printing an
 *   ERROR line for anything else.
 * vw_ring_check: after the driver's open on @dev, with @asked from
 *   vw_ring: when the device did not offer one of them, a report_skip()
 *   naming it and -1 (the workload then resets the device and ends);
 *   otherwise an INFO line naming the ring in use and 0.
 * vw_irq_within: whether @dev's interrupt arrives within @ms (the timer's
 *   wake-ups do not count), acknowledging it; for the checks that an
 *   interrupt is or is not sent.
 * vw_irq_drain: takes any interrupt of @dev still pending from earlier
 *   completions.
 * vw_rand: xorshift32; state must not be 0.
 */
#ifndef VUVM_GUEST_WORKLOADS_VIRTIO_COMMON_H
#define VUVM_GUEST_WORKLOADS_VIRTIO_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/mmio.h"

#define VW_POLL 0
#define VW_IRQ	1
/* How long any single request may take before the device is declared
 * stuck. */
#define VW_TIMEOUT_NS 5000000000ull

#define VW_SLEEP_US 100000

struct vw_wait {
	int mode;
	struct vio_dev *dev;
	uint64_t sleeps, irqs, timeouts, config_irqs;
};

int vw_mode(const char *args);
uint64_t vw_stall(const char *args);
int vw_wait_start(struct vw_wait *w, int mode, struct vio_dev *dev);
int vw_idle(struct vw_wait *w, struct virtq *vqs, unsigned int n);
int vw_find_all(uint32_t device_id, const char *type, struct vio_dev *devs,
		int max);
void vw_wait_end(struct vw_wait *w);
int vw_find(uint32_t device_id, const char *type, struct vio_dev *dev);
int vw_ring(const char *args, uint64_t *features);
int vw_ring_check(const struct vio_dev *dev, uint64_t asked);

static inline uint32_t vw_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

bool vw_irq_within(struct vio_dev *dev, uint64_t ms);
void vw_irq_drain(struct vio_dev *dev);

#endif
