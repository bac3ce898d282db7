/* SPDX-License-Identifier: MIT */
/*
 * When a driver that waits for used entries should look at the device's
 * Status register for DEVICE_NEEDS_RESET (vuvm sets it when a backend does
 * not come back). Reading Status is a VM exit (about 26 us from ring 3), so
 * the fast path must not read it: only once nothing has completed for
 * VIO_WATCH_NS, then again every VIO_WATCH_NS while that lasts.
 *
 * Portable C (header only): tests/guest/watch_test checks the schedule on
 * the host with a fake clock.
 *
 * vio_watch_due: called on every pass of a wait loop with the time
 *   @now_ns and whether the pass saw progress (a completion, or nothing
 *   outstanding). Returns true when Status is to be read now. A watch
 *   zeroed by memset (or vio_watch_reset) arms itself on the first call.
 */
#ifndef VUVM_GUEST_VIRTIO_WATCH_H
#define VUVM_GUEST_VIRTIO_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#define VIO_WATCH_NS 1000000ull /* 1 ms */

struct vio_watch {
	uint64_t next_ns; /* 0: not armed */
	uint64_t reads;	  /* how often it said "read Status" */
};

static inline void vio_watch_reset(struct vio_watch *w)
{
	w->next_ns = 0;
}

static inline bool vio_watch_due(struct vio_watch *w, uint64_t now_ns,
				 bool progress)
{
	if (progress || !w->next_ns) {
		w->next_ns = now_ns + VIO_WATCH_NS;
		return false;
	}
	if (now_ns < w->next_ns)
		return false;
	w->next_ns = now_ns + VIO_WATCH_NS;
	w->reads++;
	return true;
}

#endif
