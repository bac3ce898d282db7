// SPDX-License-Identifier: MIT
/*
 * Driver side of a packed virtqueue (see virtq.h). The story of one
 * request: add() takes a buffer id off the id free list and writes the
 * chain into consecutive slots from avail_idx, each slot's AVAIL/USED bits
 * saying "available in this lap" (flipping when the position wraps), the
 * head's flags last with release, so the device may take it at once;
 * kick_prepare() reads the device's event suppression area; the device
 * overwrites the slot at our used position with a used descriptor (its
 * flags both equal to the used wrap counter); get_used() reads the flags
 * (acquire), checks the descriptor, returns the id to the free list and
 * moves the used position by the buffer's slot count.
 *
 * Ids, not slots, name buffers: per-id bookkeeping (struct virtq_head)
 * and indirect tables are indexed by id, so a device that uses buffers
 * out of order, or scribbles on the ring, cannot corrupt them.
 */
#include <string.h>

#include "virtio/virtq.h"
#include "virtio/virtq_internal.h"

#define DEVICE_EVENT_ALIGN 64 /* own cache line: the device writes it */

void pvq_init(struct virtq *vq, uint64_t gpa)
{
	uint64_t drv = virtq_packed_desc_size(vq->num);
	uint64_t dev = virtq_align(drv + sizeof(struct virtq_packed_event),
				   DEVICE_EVENT_ALIGN);
	uint8_t *p = (uint8_t *)vq->desc;

	vq->pdesc = (struct virtq_packed_desc *)p;
	vq->driver_event = (struct virtq_packed_event *)(p + drv);
	vq->device_event = (struct virtq_packed_event *)(p + dev);
	vq->desc_gpa = gpa;
	vq->avail_gpa = gpa + drv;
	vq->used_gpa = gpa + dev;
	vq->avail = NULL;
	vq->used = NULL;
	vq->indirect_after = 0;
	vq->avail_wrap = vq->used_wrap = true;
}

/* Whether @flags mark a slot used in the lap of wrap counter @wrap. */
static inline bool desc_is_used(uint16_t flags, bool wrap)
{
	bool avail = flags & VIRTQ_DESC_F_AVAIL,
	     used = flags & VIRTQ_DESC_F_USED;

	return avail == used && used == wrap;
}

/* AVAIL/USED bits that make a slot available in the lap of @wrap. */
static inline uint16_t avail_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/* The indirect table of buffer @id and the one slot that names it. */
static uint16_t write_indirect(struct virtq *vq, uint16_t id,
			       const struct virtq_buf *bufs, unsigned int out,
			       unsigned int n)
{
	uint64_t off = (uint64_t)id * vq->indirect_max;
	struct virtq_packed_desc *t =
		(struct virtq_packed_desc *)(vq->indirect + off);
	struct virtq_packed_desc *d = &vq->pdesc[vq->avail_idx];

	for (unsigned int k = 0; k < n; k++)
		t[k] = (struct virtq_packed_desc){
			bufs[k].addr, bufs[k].len, 0,
			(uint16_t)(k >= out ? VIRTQ_DESC_F_WRITE : 0)
		};
	d->addr = vq->indirect_gpa + off * sizeof(struct virtq_packed_desc);
	d->len = (uint32_t)(n * sizeof(struct virtq_packed_desc));
	d->id = id;
	if (++vq->avail_idx == vq->num) {
		vq->avail_idx = 0;
		vq->avail_wrap = !vq->avail_wrap;
	}
	return VIRTQ_DESC_F_INDIRECT;
}

/* Slots for the chain from avail_idx on, all but the head's flags;
 * returns the head's flags without the AVAIL/USED bits. */
static uint16_t write_direct(struct virtq *vq, uint16_t id,
			     const struct virtq_buf *bufs, unsigned int out,
			     unsigned int n)
{
	uint16_t head_flags = 0;

	for (unsigned int k = 0; k < n; k++) {
		struct virtq_packed_desc *d = &vq->pdesc[vq->avail_idx];
		uint16_t flags = (k >= out ? VIRTQ_DESC_F_WRITE : 0) |
				 (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		d->addr = bufs[k].addr;
		d->len = bufs[k].len;
		d->id = id;
		if (k)
			d->flags = flags | avail_bits(vq->avail_wrap);
		else
			head_flags = flags;
		if (++vq->avail_idx == vq->num) {
			vq->avail_idx = 0;
			vq->avail_wrap = !vq->avail_wrap;
		}
	}
	return head_flags;
}

int pvq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned int out,
	    unsigned int in, void *token)
{
	unsigned int n = out + in, ndesc;
	uint16_t id, head = vq->avail_idx, flags;
	bool wrap = vq->avail_wrap, indirect;
	uint64_t in_len = 0;

	if (vq->err)
		return vq->err;
	if (!n || n > VIRTQ_MAX_SEGS || !token)
		return VIRTQ_EINVAL;
	for (unsigned int k = out; k < n; k++)
		in_len += bufs[k].len;
	if (in_len > UINT32_MAX)
		return VIRTQ_EINVAL;
	indirect = vq->indirect && vq->indirect_threshold &&
		   n >= vq->indirect_threshold && n <= vq->indirect_max;
	ndesc = indirect ? 1 : n;
	if (ndesc > vq->num)
		return VIRTQ_EINVAL;
	if (vq->num_free < ndesc)
		return VIRTQ_ENOSPC;
	id = vq->free_head;
	vq->free_head = vq->heads[id].next_free;
	flags = indirect ? write_indirect(vq, id, bufs, out, n)
			 : write_direct(vq, id, bufs, out, n);
	/* Release: the whole chain before the head says "available". */
	__atomic_store_n(&vq->pdesc[head].flags, flags | avail_bits(wrap),
			 __ATOMIC_RELEASE);
	vq->heads[id].token = token;
	vq->heads[id].in_len = (uint32_t)in_len;
	vq->heads[id].ndesc = (uint16_t)ndesc;
	vq->num_free -= ndesc;
	vq->num_added += (uint16_t)ndesc;
	if (vq->in_order)
		order_push(vq, id);
	vq->in_flight++;
	return 0;
}

bool pvq_kick_prepare(struct virtq *vq)
{
	uint16_t added = vq->num_added, new = vq->avail_idx, off_wrap, event;
	uint16_t flags;

	if (vq->err)
		return false;
	vq->num_added = 0;
	/* Our descriptors must be visible before we read the device's
	 * suppression state, or both sides could decide not to act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!added)
		return false;
	flags = __atomic_load_n(&vq->device_event->flags, __ATOMIC_RELAXED) & 3;
	if (flags != VIRTQ_EVENT_F_DESC || !vq->event_idx)
		return flags != VIRTQ_EVENT_F_DISABLE;
	off_wrap =
		__atomic_load_n(&vq->device_event->off_wrap, __ATOMIC_RELAXED);
	event = off_wrap & (uint16_t)~VIRTQ_PACKED_WRAP;
	/* An event in the previous lap lies num slots before ours. */
	if (!(off_wrap & VIRTQ_PACKED_WRAP) != !vq->avail_wrap)
		event = (uint16_t)(event - vq->num);
	return vring_need_event(event, new, (uint16_t)(new - added));
}

/*
 * Looks at the slot at our used position. Returns 1 when it holds a used
 * descriptor, 0 when it does not yet, or fails the queue when its flags
 * are impossible: used while nothing is in flight, or, while it is in
 * flight, neither "available" nor "used" in the current lap.
 */
static int slot_used(struct virtq *vq, uint16_t flags)
{
	bool avail = flags & VIRTQ_DESC_F_AVAIL;
	bool used = flags & VIRTQ_DESC_F_USED;

	if (avail == used && used == vq->used_wrap) {
		if (vq->in_flight)
			return 1;
		return vq_fail(vq,
			       "slot %u: flags %#x mark it used in wrap %u, "
			       "but no buffer is in flight",
			       vq->last_used, flags, vq->used_wrap);
	}
	if (!vq->in_flight || (avail == vq->used_wrap && used != avail))
		return 0; /* not used yet */
	if (avail == used)
		return vq_fail(vq,
			       "slot %u: flags %#x mark it used with wrap "
			       "counter %u, expected %u",
			       vq->last_used, flags, used, vq->used_wrap);
	return vq_fail(vq,
		       "slot %u: flags %#x are neither available nor used "
		       "in wrap %u (AVAIL %u, USED %u)",
		       vq->last_used, flags, vq->used_wrap, avail, used);
}

static int check_desc(struct virtq *vq, uint16_t id, uint32_t len)
{
	if (id >= vq->num)
		return vq_fail(vq, "slot %u: used id %u out of range %u",
			       vq->last_used, id, vq->num);
	if (!vq->heads[id].token)
		return vq_fail(vq, "slot %u: used id %u is not in flight",
			       vq->last_used, id);
	if (len > vq->heads[id].in_len)
		return vq_fail(vq,
			       "slot %u: used id %u reports %u bytes written, "
			       "its chain has %u writable",
			       vq->last_used, id, len, vq->heads[id].in_len);
	if (vq->in_order && !vq->batch_left) {
		int k = order_find(vq, id, vq->in_flight);

		if (k < 0)
			return vq_fail(vq,
				       "slot %u: used id %u is not in flight "
				       "in order (IN_ORDER; next is %u)",
				       vq->last_used, id,
				       vq->order[vq->order_first]);
		vq->batch_left = (unsigned int)k + 1;
		vq->batch_len = len;
	}
	return 0;
}

/* Gives buffer @id back: its slots, its id, the used position. */
static void put_id(struct virtq *vq, uint16_t id)
{
	struct virtq_head *h = &vq->heads[id];
	unsigned int pos = vq->last_used + h->ndesc;

	if (pos >= vq->num) {
		pos -= vq->num;
		vq->used_wrap = !vq->used_wrap;
	}
	vq->last_used = (uint16_t)pos;
	vq->num_free += h->ndesc;
	h->token = NULL;
	h->next_free = vq->free_head;
	vq->free_head = id;
	vq->in_flight--;
}

int pvq_get_used(struct virtq *vq, void **token, uint32_t *len)
{
	struct virtq_packed_desc *d;
	uint16_t flags, id;
	uint32_t n;
	int ret;

	if (vq->err)
		return vq->err;
	if (!vq->batch_left) {
		d = &vq->pdesc[vq->last_used];
		flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		ret = slot_used(vq, flags);
		if (ret <= 0)
			return ret;
		id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
		/* The length is reserved, and ignored, in a used descriptor
		 * without WRITE (DPDK puts the readable length there). */
		n = flags & VIRTQ_DESC_F_WRITE
			    ? __atomic_load_n(&d->len, __ATOMIC_RELAXED)
			    : 0;
		ret = check_desc(vq, id, n);
		if (ret)
			return ret;
		if (!vq->in_order) {
			*token = vq->heads[id].token;
			*len = n;
			put_id(vq, id);
			return 1;
		}
	}
	id = order_pop(vq);
	*token = vq->heads[id].token;
	*len = vq->batch_left == 1 ? vq->batch_len : vq->heads[id].in_len;
	vq->batch_left--;
	put_id(vq, id);
	return 1;
}

bool pvq_has_used(const struct virtq *vq)
{
	uint16_t flags;

	if (vq->err)
		return false;
	if (vq->batch_left)
		return true;
	flags = __atomic_load_n(&vq->pdesc[vq->last_used].flags,
				__ATOMIC_ACQUIRE);
	return vq->in_flight && desc_is_used(flags, vq->used_wrap);
}

void pvq_disable_cb(struct virtq *vq)
{
	__atomic_store_n(&vq->driver_event->flags, VIRTQ_EVENT_F_DISABLE,
			 __ATOMIC_RELAXED);
}

bool pvq_enable_cb(struct virtq *vq)
{
	if (vq->err)
		return false;
	if (vq->event_idx) {
		__atomic_store_n(
			&vq->driver_event->off_wrap,
			(uint16_t)(vq->last_used |
				   (vq->used_wrap ? VIRTQ_PACKED_WRAP : 0)),
			__ATOMIC_RELAXED);
		/* off_wrap before the flags that make the device read it. */
		__atomic_store_n(&vq->driver_event->flags, VIRTQ_EVENT_F_DESC,
				 __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&vq->driver_event->flags, VIRTQ_EVENT_F_ENABLE,
				 __ATOMIC_RELAXED);
	}
	/* The store must be visible before we look at the used slot, or a
	 * buffer used in between would come without an interrupt. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return pvq_has_used(vq);
}
