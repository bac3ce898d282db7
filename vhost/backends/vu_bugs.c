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
 *   vu-add-unmapped         ADD_MEM_REG is acked but the region is never
 *                           mapped (its buffers cannot be reached)
 *   vu-rem-keeps-old        REM_MEM_REG is acked but the region stays
 *                           mapped and is found first: memory added later
 *                           at the same addresses is never used
 *   vu-slots-overstated     GET_MAX_MEM_SLOTS answers 32, ADD_MEM_REG
 *                           refuses a ninth region
 *
 * and of the packed ring and IN_ORDER (blk; most are vhu_vring.bugs bits,
 * VHU_VRING_BUG_* of vhost/vring.h, set on every pop):
 *
 *   packed-id-from-head     the used id is the chain's first descriptor's,
 *                           not its last's (where the driver puts it)
 *   packed-wrap-from-avail  a used descriptor's AVAIL/USED bits follow the
 *                           avail wrap counter, not the used one
 *   packed-no-write-flag    used descriptors never have WRITE, whatever
 *                           was written
 *   packed-len-no-status    a read on a packed ring reports its data
 *                           without the status byte (blk.c)
 *   packed-write-indirect   indirect table entries are marked used after
 *                           they are read
 *   packed-used-every-slot  every slot of a chain gets a used descriptor
 *   packed-chain-wrap-cut   a chain ends at the ring's last slot
 *   packed-indirect-next    NEXT is obeyed inside indirect tables (split
 *                           logic: a table of entries without NEXT is cut
 *                           after its first)
 *   packed-qsize-pow2       a packed ring whose size is not a power of 2 is
 *                           refused (the queue dies when it starts)
 *   packed-index-u16        the avail position is a free-running 16-bit
 *                           count modulo the ring size (wrong once it wraps
 *                           on a ring whose size does not divide 65536)
 *   packed-event-off-by-one with EVENT_IDX, off_wrap at the first used
 *                           descriptor written since the last decision
 *                           brings no interrupt (> where >= was meant)
 *   packed-ignore-disable   the driver's DISABLE is ignored: an interrupt
 *                           after every batch
 *   in-order-reverse        with IN_ORDER acked, batches of up to 8 are
 *                           completed last to first (blk.c), the ring's own
 *                           IN_ORDER guard off
 *   in-order-batch-last     with IN_ORDER on a split ring, batches of up to
 *                           8 are returned by one used element written at
 *                           the batch's last position, not its first
 *                           (blk.c)
 *   packed-kicks-stay-off   kicks are turned off in the device's event
 *                           suppression area while a queue is served, and
 *                           "on" again with flags |= ENABLE, which (ENABLE
 *                           being 0) leaves DISABLE set: the device then
 *                           waits for kicks that a driver honouring its
 *                           area never sends
 *
 * and of a backend started again after a crash (blk; each shows only in
 * a process whose first start of a ring finds it moved on, a used or an
 * available index other than 0 or requests to redo, that is one taking
 * over from a dead process, as vuvm-check's vu-reconnect scenario makes;
 * a crash before the first completion leaves only the in-flight region
 * saying so):
 *
 *   vu-inflight-drop        the requests the in-flight region says the
 *                           dead process had taken are skipped, not
 *                           redone: the ring goes on after them, and
 *                           they never complete
 *   vu-restart-skip-pending the ring starts at the avail index found in
 *                           memory, not at the base (after redoing the
 *                           in-flight requests): requests made while the
 *                           backend was down are never served
 *   vu-restart-deaf         once it has served what was waiting, the ring
 *                           ignores kicks (a kick fd watch not set up
 *                           again): requests made after the reconnect are
 *                           never served
 *
 * The library implements the ones inside its message handlers
 * (VHU_BACKEND_BUG_* bits of vhost/backend.h, set here on connection).
 *
 * Each hook does nothing unless its defect is injected; vu-region-straddle
 * is applied by vub_pop() (ring.c), which clears the ring's contig hook.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

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
		{ VUB_BUG_VU_ADD_UNMAPPED, VHU_BACKEND_BUG_ADD_UNMAPPED },
		{ VUB_BUG_VU_REM_KEEPS_OLD, VHU_BACKEND_BUG_REM_KEEPS_OLD },
		{ VUB_BUG_VU_SLOTS_OVERSTATED, VHU_BACKEND_BUG_SLOTS_8 },
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
	if (b->opt.bug == VUB_BUG_VU_RESTART_DEAF &&
	    index < VHU_BACKEND_MAX_QUEUES && b->vu_restarted[index] &&
	    !b->vu_deaf[index]) {
		pr_warn("queue %u: kicks ignored from now on (--bug)", index);
		b->vu_deaf[index] = true;
	}
}

/* vu-restart-deaf: deaf from the pass after the first pop on. The pass
 * that pops first serves all that waits; later kicks find it deaf. */
bool vub_vu_bug_deaf(struct vub *b, unsigned int index)
{
	return index < VHU_BACKEND_MAX_QUEUES && b->vu_deaf[index];
}

/* The restart defects, on the first start of a ring in a process that
 * took over from a dead one. */
static void restart_bugs(struct vub *b, unsigned int index,
			 struct vhu_vring *vr)
{
	uint16_t avail;

	if (index >= VHU_BACKEND_MAX_QUEUES || b->vu_started[index])
		return;
	b->vu_started[index] = true;
	if (vr->packed ||
	    (!vr->used_idx && !vr->last_avail_idx && !vr->resubmit_num))
		return;
	b->vu_restarted[index] = true;
	if (b->opt.bug == VUB_BUG_VU_INFLIGHT_DROP && vr->resubmit_num) {
		pr_warn("queue %u: %u in-flight requests dropped, not redone "
			"(--bug)",
			index, vr->resubmit_num - vr->resubmit_next);
		free(vr->resubmit);
		vr->resubmit = NULL;
		vr->resubmit_num = vr->resubmit_next = 0;
	}
	avail = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	if (b->opt.bug == VUB_BUG_VU_RESTART_SKIP_PENDING &&
	    avail != vr->last_avail_idx) {
		pr_warn("queue %u: starting at avail index %u, not %u: %u "
			"waiting requests skipped (--bug)",
			index, avail, vr->last_avail_idx,
			(uint16_t)(avail - vr->last_avail_idx));
		vr->last_avail_idx = avail;
	}
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
	if (b->opt.bug == VUB_BUG_VU_INFLIGHT_DROP ||
	    b->opt.bug == VUB_BUG_VU_RESTART_SKIP_PENDING ||
	    b->opt.bug == VUB_BUG_VU_RESTART_DEAF)
		restart_bugs(b, index, &vq->vring);
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
	if (b->opt.bug == VUB_BUG_PACKED_QSIZE_POW2 && vq->vring.packed &&
	    (vq->vring.num & (vq->vring.num - 1))) {
		snprintf(vq->vring.error, sizeof(vq->vring.error),
			 "packed ring of %u: not a power of 2 (--bug)",
			 vq->vring.num);
		vq->vring.err = -EINVAL;
		vub_queue_failed(b, index, -EINVAL);
	}
	if (vq->vring.event_idx)
		b->vu_event_idx_seen = true;
	else if (b->opt.bug == VUB_BUG_VU_STALE_EVENT_IDX &&
		 b->vu_event_idx_seen)
		vq->vring.event_idx = true;
}

unsigned int vub_ring_bugs(const struct vub *b)
{
	switch (b->opt.bug) {
	case VUB_BUG_PACKED_ID_FROM_HEAD:
		return VHU_VRING_BUG_ID_FROM_HEAD;
	case VUB_BUG_PACKED_WRAP_FROM_AVAIL:
		return VHU_VRING_BUG_WRAP_FROM_AVAIL;
	case VUB_BUG_PACKED_NO_WRITE_FLAG:
		return VHU_VRING_BUG_NO_WRITE_FLAG;
	case VUB_BUG_PACKED_WRITE_INDIRECT:
		return VHU_VRING_BUG_WRITE_INDIRECT;
	case VUB_BUG_PACKED_USED_EVERY_SLOT:
		return VHU_VRING_BUG_USED_EVERY_SLOT;
	case VUB_BUG_PACKED_CHAIN_WRAP_CUT:
		return VHU_VRING_BUG_CHAIN_WRAP_CUT;
	case VUB_BUG_PACKED_INDIRECT_NEXT:
		return VHU_VRING_BUG_INDIRECT_NEXT;
	case VUB_BUG_PACKED_INDEX_U16:
		return VHU_VRING_BUG_INDEX_U16;
	case VUB_BUG_IN_ORDER_REVERSE:
	case VUB_BUG_IN_ORDER_BATCH_LAST:
		return VHU_VRING_BUG_ORDER_UNCHECKED;
	default:
		return 0;
	}
}

/* A used position of a packed ring as one number modulo 2 * num. */
static unsigned int packed_pos(const struct vhu_vring *vr, unsigned int slot,
			       bool wrap)
{
	return slot + (wrap ? 0 : vr->num);
}

bool vub_packed_bug_notify(struct vub *b, struct vhu_backend_vq *vq)
{
	struct vhu_vring *vr = &vq->vring;
	unsigned int span = 2 * vr->num, old, now, event, d_event, d_now;
	bool valid = vr->signalled_used_valid, want;
	uint16_t flags, off_wrap;
	uint64_t one = 1;

	if ((b->opt.bug != VUB_BUG_PACKED_EVENT_OFF_BY_ONE &&
	     b->opt.bug != VUB_BUG_PACKED_IGNORE_DISABLE) ||
	    !vr->packed)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	old = packed_pos(vr, vr->signalled_used, vr->signalled_wrap);
	now = packed_pos(vr, vr->used_idx, vr->used_wrap);
	vr->signalled_used = vr->used_idx;
	vr->signalled_wrap = vr->used_wrap;
	vr->signalled_used_valid = true;
	flags = __atomic_load_n(&vr->driver_event->flags, __ATOMIC_RELAXED) & 3;
	off_wrap =
		__atomic_load_n(&vr->driver_event->off_wrap, __ATOMIC_RELAXED);
	if (flags == VIRTQ_EVENT_F_DISABLE) {
		want = b->opt.bug == VUB_BUG_PACKED_IGNORE_DISABLE;
	} else if (flags != VIRTQ_EVENT_F_DESC || !vr->event_idx || !valid ||
		   (off_wrap & 0x7fff) >= vr->num) {
		want = true;
	} else {
		event = packed_pos(vr, off_wrap & 0x7fff, off_wrap >> 15);
		d_event = (event + span - old) % span;
		d_now = (now + span - old) % span;
		/* off-by-one: the event must lie after the old position,
		 * not at it: the first used descriptor written since the
		 * last decision never triggers it */
		want = d_event < d_now &&
		       (b->opt.bug != VUB_BUG_PACKED_EVENT_OFF_BY_ONE ||
			d_event > 0);
	}
	if (want && vq->call_fd >= 0 &&
	    write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("signalling the call fd: %s", strerror(errno));
	return true;
}

void vub_packed_bug_kicks_off(struct vub *b, unsigned int index)
{
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	uint16_t flags;

	if (b->opt.bug != VUB_BUG_PACKED_KICKS_STAY_OFF || !vr->packed ||
	    vr->err)
		return;
	vhu_vring_disable_notify(vr); /* while serving, as a poller would */
	flags = __atomic_load_n(&vr->device_event->flags, __ATOMIC_RELAXED);
	__atomic_store_n(&vr->device_event->flags,
			 (uint16_t)(flags | VIRTQ_EVENT_F_ENABLE),
			 __ATOMIC_RELAXED);
}

bool vub_bug_indirect_over(struct vub *b, unsigned int index,
			   const struct vhu_vring_elem *e, unsigned int max)
{
	const struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	const struct virtq_desc *d;

	if (vr->packed)
		return false;
	d = &vr->desc[e->head];
	return (__atomic_load_n(&d->flags, __ATOMIC_RELAXED) &
		VIRTQ_DESC_F_INDIRECT) &&
	       __atomic_load_n(&d->len, __ATOMIC_RELAXED) /
			       sizeof(struct virtq_desc) >
		       max;
}
