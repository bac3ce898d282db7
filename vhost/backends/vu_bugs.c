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
 *   vu-ignore-disable       SET_VRING_ENABLE 0 is acked and ignored: the
 *                           ring keeps being served
 *   vu-serve-after-stop     GET_VRING_BASE is answered and the ring keeps
 *                           being served (a worker not told to stop)
 *   vu-base-plus-one        GET_VRING_BASE answers one past the next
 *                           avail index
 *   vu-ignore-vring-base    a ring always (re)starts at avail index 0
 *   vu-kick-before-call     SET_VRING_KICK on a ring whose call fd the
 *                           last GET_VRING_BASE dropped is refused
 *                           (qemu-storage-daemon 7.2 drops the connection)
 *   vu-nack-disable         SET_VRING_ENABLE 0 is done but acked non-zero
 *   vu-refuse-subset        SET_FEATURES without INDIRECT_DESC (offered)
 *                           is refused (backends that take an optional
 *                           feature for granted)
 *   vu-reset-late-dma       the first writable buffer of the last chain
 *                           taken before a reset is zeroed when the rings
 *                           start again (an I/O that finishes after the
 *                           reset it should have been cancelled by)
 *   vu-max-regions-7        SET_MEM_TABLE drops the last of eight regions
 *
 * The library implements the ones inside its message handlers
 * (VHU_BACKEND_BUG_* bits of vhost/backend.h, set here on connection).
 *
 * Each hook does nothing unless its defect is injected; vu-region-straddle
 * is applied by vub_pop() (ring.c), which clears the ring's contig hook.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vhost/backends/vub.h"
#include "virtio/virtio_config.h"
#include "vhost/log.h"

void vub_vu_bug_connected(struct vub *b)
{
	static const struct {
		enum vub_bug bug;
		unsigned int bit;
	} lib[] = {
		{ VUB_BUG_VU_IGNORE_MMAP_OFFSET,
		  VHU_BACKEND_BUG_IGNORE_MMAP_OFFSET },
		{ VUB_BUG_VU_BASE_PLUS_ONE, VHU_BACKEND_BUG_BASE_PLUS_ONE },
		{ VUB_BUG_VU_SERVE_AFTER_STOP,
		  VHU_BACKEND_BUG_SERVE_AFTER_STOP },
		{ VUB_BUG_VU_KICK_BEFORE_CALL,
		  VHU_BACKEND_BUG_KICK_NEEDS_CALL },
		{ VUB_BUG_VU_NACK_DISABLE, VHU_BACKEND_BUG_NACK_DISABLE },
		{ VUB_BUG_VU_MAX_REGIONS_7, VHU_BACKEND_BUG_MAX_REGIONS_7 },
	};

	for (size_t i = 0; i < sizeof(lib) / sizeof(lib[0]); i++)
		if (b->opt.bug == lib[i].bug)
			b->dev.bugs |= lib[i].bit;
}

void vub_vu_bug_queue_stop(struct vub *b, unsigned int index)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);

	if (!vq)
		return;
	b->vu_stop_base[index] =
		vq->started ? vhu_vring_get_base(&vq->vring) : vq->base;
	b->vu_reset_seen = false;
	if (b->opt.bug == VUB_BUG_VU_IGNORE_DISABLE && vq->started &&
	    !vq->enabled) {
		/* Disabled, not stopped: carry on as if enabled. */
		vq->enabled = true;
		vq->running = true;
	}
}

void vub_vu_bug_reset(struct vub *b)
{
	b->vu_reset_seen = true;
}

int vub_vu_bug_set_features(struct vub *b, uint64_t features)
{
	uint64_t indirect = 1ull << VIRTIO_F_INDIRECT_DESC;

	if (b->opt.bug != VUB_BUG_VU_REFUSE_SUBSET ||
	    !(b->features & indirect) || (features & indirect))
		return 0;
	pr_warn("SET_FEATURES without INDIRECT_DESC refused (--bug)");
	return -ENOTSUP;
}

/* The first writable descriptor of ring chain @head, not through an
 * indirect table (what the vu-reset scenario makes). */
static void remember_writable(struct vub *b, struct vhu_vring *vr,
			      uint16_t head)
{
	unsigned int i = head;

	for (unsigned int n = 0; n < vr->num && i < vr->num; n++) {
		struct virtq_desc d = vr->desc[i];

		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			b->vu_late_addr = d.addr;
			b->vu_late_len = d.len < 65536 ? d.len : 65536;
			return;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return;
		i = d.next;
	}
}

void vub_vu_bug_popped(struct vub *b, unsigned int index,
		       const struct vhu_vring_elem *e)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);

	if (b->opt.bug == VUB_BUG_VU_RESET_LATE_DMA && vq && !vq->vring.packed)
		remember_writable(b, &vq->vring, e->head);
}

/* vu-reset-late-dma: the remembered buffer, written once the rings run
 * again after a reset. */
static void late_dma(struct vub *b, struct vhu_vring *vr)
{
	void *p;

	if (!b->vu_late_len)
		return;
	p = vr->translate(vr->opaque, b->vu_late_addr, b->vu_late_len);
	if (p) {
		pr_warn("a read from before the reset finishes now: %u bytes "
			"at 0x%llx zeroed (--bug)",
			b->vu_late_len, (unsigned long long)b->vu_late_addr);
		memset(p, 0, b->vu_late_len);
	}
	b->vu_late_len = 0;
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
	if (b->opt.bug == VUB_BUG_VU_IGNORE_VRING_BASE)
		vq->vring.last_avail_idx = 0;
	if (b->opt.bug == VUB_BUG_VU_RESET_LATE_DMA && b->vu_reset_seen)
		late_dma(b, &vq->vring);
	if (vq->vring.event_idx)
		b->vu_event_idx_seen = true;
	else if (b->opt.bug == VUB_BUG_VU_STALE_EVENT_IDX &&
		 b->vu_event_idx_seen)
		vq->vring.event_idx = true;
}
