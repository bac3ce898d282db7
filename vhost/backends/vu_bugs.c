// SPDX-License-Identifier: MIT
/*
 * vuvm-backend --bug: the defects of the vhost-user protocol and memory
 * families, each modelled on a real backend bug and caught by one check
 * of vuvm-check (docs/devices.md lists which):
 *
 *   vu-region-straddle      a buffer that spans two memory regions breaks
 *                           the ring (backends that translate a buffer as
 *                           one range)
 *   vu-ignore-mmap-offset   every region is mapped from offset 0 of its
 *                           fd, whatever mmap_offset says
 *   vu-keep-index-on-reset  after RESET_DEVICE, a ring restarts where it
 *                           stopped before the reset instead of at the
 *                           SET_VRING_BASE it was given
 *   vu-stale-event-idx      once EVENT_IDX was negotiated, the rings keep
 *                           using it after a renegotiation without it
 *
 * Each hook does nothing unless its defect is injected; vu-region-straddle
 * is applied by vub_pop() (ring.c), which clears the ring's contig hook.
 */
#include <stdbool.h>

#include "vhost/backends/vub.h"
#include "vhost/log.h"

void vub_vu_bug_connected(struct vub *b)
{
	b->dev.bug_ignore_mmap_offset =
		b->opt.bug == VUB_BUG_VU_IGNORE_MMAP_OFFSET;
}

void vub_vu_bug_queue_stop(struct vub *b, unsigned int index)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);

	if (!vq)
		return;
	b->vu_stop_base[index] =
		vq->started ? vhu_vring_get_base(&vq->vring) : vq->base;
	b->vu_reset_seen = false;
}

void vub_vu_bug_reset(struct vub *b)
{
	b->vu_reset_seen = true;
}

void vub_vu_bug_queue_start(struct vub *b, unsigned int index)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);

	if (!vq)
		return;
	if (b->opt.bug == VUB_BUG_VU_KEEP_INDEX_ON_RESET && b->vu_reset_seen &&
	    vq->vring.last_avail_idx != b->vu_stop_base[index]) {
		pr_warn("queue %u: restarting at %u, where it stopped before "
			"the reset (--bug)",
			index, b->vu_stop_base[index]);
		vq->vring.last_avail_idx = b->vu_stop_base[index];
	}
	if (vq->vring.event_idx)
		b->vu_event_idx_seen = true;
	else if (b->opt.bug == VUB_BUG_VU_STALE_EVENT_IDX &&
		 b->vu_event_idx_seen)
		vq->vring.event_idx = true;
}
