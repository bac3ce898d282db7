// SPDX-License-Identifier: MIT
/*
 * Driver side of a split virtqueue (see virtq.h), and the entry points that
 * branch to the packed ring (virtq_packed.c). The story of one request:
 * add() takes descriptors from the free list, writes them (or one indirect
 * descriptor and its table) and puts the head in the avail ring;
 * kick_prepare() publishes the avail index (release) and decides about the
 * notification; the device works; get_used() reads the used index
 * (acquire), checks the element against what is in flight, and returns the
 * head's descriptors to the free list.
 *
 * The free list lives in the driver's own bookkeeping (struct virtq_head),
 * not in the descriptors' next fields, so a device that scribbles on the
 * descriptor table cannot corrupt it; every descriptor is rewritten whole
 * when it is used again.
 */
#include "virtio/virtq.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "virtio/virtio_config.h"
#include "virtio/virtq_internal.h"

#define USED_ALIGN 64 /* own cache line: the device writes it */

/* Offsets of each part in the caller's block. The packed ring's parts fit
 * in the split ring's (its ring is the size of the descriptor table, its
 * event areas 4 bytes each), so one layout serves both. */
struct virtq_layout {
	uint64_t avail, used, indirect, heads, order, size;
};

static void layout(unsigned int num, unsigned int indirect_max,
		   struct virtq_layout *l)
{
	l->avail = virtq_desc_size(num);
	l->used = virtq_align(l->avail + virtq_avail_size(num), USED_ALIGN);
	l->indirect =
		virtq_align(l->used + virtq_used_size(num), VIRTQ_DESC_ALIGN);
	l->heads = virtq_align(l->indirect + (uint64_t)num * indirect_max *
						     sizeof(struct virtq_desc),
			       8);
	l->order = l->heads + (uint64_t)num * sizeof(struct virtq_head);
	l->size = l->order + (uint64_t)num * sizeof(uint16_t);
}

uint64_t virtq_mem_size(unsigned int num, unsigned int indirect_max)
{
	struct virtq_layout l;

	layout(num, indirect_max, &l);
	return l.size;
}

int vq_fail(struct virtq *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
	va_end(ap);
	vq->err = VIRTQ_EBROKEN;
	return VIRTQ_EPROTO;
}

int virtq_init(struct virtq *vq, unsigned int num, void *mem, uint64_t gpa,
	       uint64_t features, unsigned int indirect_max)
{
	struct virtq_layout l;
	uint8_t *p = mem;

	memset(vq, 0, sizeof(*vq));
	vq->packed = virtio_has_feature(features, VIRTIO_F_RING_PACKED);
	if (!(vq->packed ? num && num <= VIRTQ_MAX_SIZE
			 : virtq_size_valid(num)) ||
	    !mem || ((uintptr_t)mem | gpa) & 15 ||
	    indirect_max > VIRTQ_MAX_SEGS) {
		snprintf(vq->error, sizeof(vq->error),
			 "bad queue: size %u, block %p at 0x%llx, indirect %u",
			 num, mem, (unsigned long long)gpa, indirect_max);
		vq->err = VIRTQ_EINVAL;
		return VIRTQ_EINVAL;
	}
	layout(num, indirect_max, &l);
	memset(mem, 0, l.size);
	vq->num = num;
	vq->desc = mem;
	vq->avail = (struct virtq_avail *)(p + l.avail);
	vq->used = (struct virtq_used *)(p + l.used);
	vq->desc_gpa = gpa;
	vq->avail_gpa = gpa + l.avail;
	vq->used_gpa = gpa + l.used;
	if (indirect_max &&
	    virtio_has_feature(features, VIRTIO_F_INDIRECT_DESC)) {
		vq->indirect = (struct virtq_desc *)(p + l.indirect);
		vq->indirect_gpa = gpa + l.indirect;
		vq->indirect_max = indirect_max;
		vq->indirect_threshold = 2;
	}
	vq->heads = (struct virtq_head *)(p + l.heads);
	vq->order = (uint16_t *)(p + l.order);
	vq->event_idx = virtio_has_feature(features, VIRTIO_F_EVENT_IDX);
	vq->in_order = virtio_has_feature(features, VIRTIO_F_IN_ORDER);
	for (unsigned int i = 0; i < num; i++)
		vq->heads[i].next_free = (uint16_t)(i + 1);
	vq->num_free = num;
	if (vq->packed)
		pvq_init(vq, gpa);
	return 0;
}

/* Takes @n descriptors off the free list, linked in order through
 * next_free; returns the first. The caller checked num_free. */
static uint16_t take_descs(struct virtq *vq, unsigned int n)
{
	uint16_t head = vq->free_head, last = head;

	for (unsigned int i = 1; i < n; i++)
		last = vq->heads[last].next_free;
	vq->free_head = vq->heads[last].next_free;
	vq->num_free -= n;
	return head;
}

/* Fills @table[0..n) with the chain, linked by index from @first on; in
 * the ring, the links follow next_free from @first (@ring true). */
static void write_chain(struct virtq *vq, struct virtq_desc *table,
			uint16_t first, bool ring, const struct virtq_buf *bufs,
			unsigned int out, unsigned int n)
{
	uint16_t i = first, next;

	for (unsigned int k = 0; k < n; k++) {
		uint16_t flags = k >= out ? VIRTQ_DESC_F_WRITE : 0;

		next = ring ? vq->heads[i].next_free : (uint16_t)(i + 1);
		if (k + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		else
			next = 0;
		table[i] = (struct virtq_desc){ bufs[k].addr, bufs[k].len,
						flags, next };
		i = next;
	}
}

static bool use_indirect(const struct virtq *vq, unsigned int n)
{
	return vq->indirect && vq->indirect_threshold &&
	       n >= vq->indirect_threshold && n <= vq->indirect_max;
}

/* Writes @head's indirect table and the one ring descriptor naming it. */
static void add_indirect(struct virtq *vq, uint16_t head,
			 const struct virtq_buf *bufs, unsigned int out,
			 unsigned int n)
{
	uint64_t off = (uint64_t)head * vq->indirect_max;

	write_chain(vq, vq->indirect + off, 0, false, bufs, out, n);
	vq->desc[head] =
		(struct virtq_desc){ vq->indirect_gpa +
					     off * sizeof(struct virtq_desc),
				     (uint32_t)(n * sizeof(struct virtq_desc)),
				     VIRTQ_DESC_F_INDIRECT, 0 };
}

/* The first @d buffers as ring descriptors linked from @head, then one
 * more naming @head's indirect table, which holds the rest. */
static void add_mixed(struct virtq *vq, uint16_t head,
		      const struct virtq_buf *bufs, unsigned int out,
		      unsigned int n, unsigned int d)
{
	uint64_t off = (uint64_t)head * vq->indirect_max;
	uint16_t i = head;

	for (unsigned int k = 0; k < d; k++) {
		uint16_t next = vq->heads[i].next_free;
		uint16_t flags =
			VIRTQ_DESC_F_NEXT | (k >= out ? VIRTQ_DESC_F_WRITE : 0);

		vq->desc[i] = (struct virtq_desc){ bufs[k].addr, bufs[k].len,
						   flags, next };
		i = next;
	}
	write_chain(vq, vq->indirect + off, 0, false, bufs + d,
		    out > d ? out - d : 0, n - d);
	vq->desc[i] = (struct virtq_desc){
		vq->indirect_gpa + off * sizeof(struct virtq_desc),
		(uint32_t)((n - d) * sizeof(struct virtq_desc)),
		VIRTQ_DESC_F_INDIRECT, 0
	};
}

/* Ring descriptors before the indirect one (indirect_after), or 0. */
static unsigned int mixed_prefix(const struct virtq *vq, unsigned int n)
{
	unsigned int d = vq->indirect_after;

	if (!vq->indirect || !d || n <= d || n - d > vq->indirect_max)
		return 0;
	return d;
}

int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned int out,
	      unsigned int in, void *token)
{
	unsigned int n = out + in, ndesc, mixed;
	uint64_t in_len = 0;
	uint16_t head;
	bool indirect;

	if (vq->packed)
		return pvq_add(vq, bufs, out, in, token);
	if (vq->err)
		return vq->err;
	if (!n || n > VIRTQ_MAX_SEGS || !token)
		return VIRTQ_EINVAL;
	for (unsigned int k = out; k < n; k++)
		in_len += bufs[k].len;
	if (in_len > UINT32_MAX)
		return VIRTQ_EINVAL;
	mixed = mixed_prefix(vq, n);
	indirect = !mixed && use_indirect(vq, n);
	ndesc = mixed ? mixed + 1 : indirect ? 1 : n;
	if (ndesc > vq->num)
		return VIRTQ_EINVAL;
	if (vq->num_free < ndesc)
		return VIRTQ_ENOSPC;
	head = take_descs(vq, ndesc);
	if (mixed)
		add_mixed(vq, head, bufs, out, n, mixed);
	else if (indirect)
		add_indirect(vq, head, bufs, out, n);
	else
		write_chain(vq, vq->desc, head, true, bufs, out, n);
	vq->heads[head].token = token;
	vq->heads[head].in_len = (uint32_t)in_len;
	vq->heads[head].ndesc = (uint16_t)ndesc;
	vq->avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
	if (vq->in_order)
		order_push(vq, head);
	vq->in_flight++;
	return 0;
}

bool virtq_kick_prepare(struct virtq *vq)
{
	uint16_t old = vq->kicked_avail_idx, new = vq->avail_idx;

	if (vq->packed)
		return pvq_kick_prepare(vq);
	if (vq->err)
		return false;
	/* Release: the descriptors and ring entries before the index. */
	__atomic_store_n(&vq->avail->idx, new, __ATOMIC_RELEASE);
	vq->kicked_avail_idx = new;
	/* Our index store must be visible before we read the device's
	 * suppression state, or both sides could decide not to act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (old == new)
		return false;
	if (vq->event_idx)
		return vring_need_event(
			__atomic_load_n(virtq_avail_event(vq->used, vq->num),
					__ATOMIC_RELAXED),
			new, old);
	return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) &
		 VIRTQ_USED_F_NO_NOTIFY);
}

/* Returns the @head chain's descriptors to the free list. */
static void free_chain(struct virtq *vq, uint16_t head)
{
	struct virtq_head *h = &vq->heads[head];
	uint16_t last = head;

	for (unsigned int i = 1; i < h->ndesc; i++)
		last = vq->heads[last].next_free;
	vq->heads[last].next_free = vq->free_head;
	vq->free_head = head;
	vq->num_free += h->ndesc;
	h->token = NULL;
	vq->in_flight--;
}

/* The used index with acquire: the elements before it are then visible. */
static uint16_t used_idx(const struct virtq *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
}

bool virtq_has_used(const struct virtq *vq)
{
	if (vq->packed)
		return pvq_has_used(vq);
	return !vq->err && (vq->batch_left || used_idx(vq) != vq->last_used);
}

/* Checks the used element (@id, @len) against what is in flight. */
static int check_used(struct virtq *vq, uint16_t pending, uint32_t id,
		      uint32_t len)
{
	if (pending > vq->in_flight)
		return vq_fail(vq,
			       "used idx %u is %u entries ahead of %u, but "
			       "only %u chains are in flight",
			       (uint16_t)(vq->last_used + pending), pending,
			       vq->last_used, vq->in_flight);
	if (id >= vq->num)
		return vq_fail(vq, "used entry %u: id %u out of range %u",
			       vq->last_used, id, vq->num);
	if (!vq->heads[id].token)
		return vq_fail(vq, "used entry %u: id %u is not in flight",
			       vq->last_used, id);
	if (len > vq->heads[id].in_len)
		return vq_fail(vq,
			       "used entry %u: id %u reports %u bytes written, "
			       "its chain has %u writable",
			       vq->last_used, id, len, vq->heads[id].in_len);
	return 0;
}

/*
 * IN_ORDER: the used entry names @id with @len; it must be the oldest of
 * the @pending entries in flight or a later one (the last of a batch).
 */
static int start_batch(struct virtq *vq, uint16_t pending, uint32_t id,
		       uint32_t len)
{
	unsigned int limit = pending < vq->in_flight ? pending : vq->in_flight;
	int k = order_find(vq, id, limit);

	if (k < 0)
		return vq_fail(vq,
			       "used entry %u: id %u is not among the next %u "
			       "chains in order (IN_ORDER; next is %u)",
			       vq->last_used, id, limit,
			       vq->order[vq->order_first]);
	vq->batch_left = (unsigned int)k + 1;
	vq->batch_len = len;
	return 0;
}

/* IN_ORDER: the next buffer of the current batch (see virtq.h). */
static int get_in_order(struct virtq *vq, void **token, uint32_t *len)
{
	uint16_t head = order_pop(vq);

	*token = vq->heads[head].token;
	*len = vq->batch_left == 1 ? vq->batch_len : vq->heads[head].in_len;
	vq->batch_left--;
	free_chain(vq, head);
	vq->last_used++;
	return 1;
}

int virtq_get_used(struct virtq *vq, void **token, uint32_t *len)
{
	struct virtq_used_elem *e;
	uint16_t pending;
	uint32_t id, n;
	int err;

	if (vq->packed)
		return pvq_get_used(vq, token, len);
	if (vq->err)
		return vq->err;
	if (vq->batch_left)
		return get_in_order(vq, token, len);
	pending = (uint16_t)(used_idx(vq) - vq->last_used);
	if (!pending)
		return 0;
	e = &vq->used->ring[vq->last_used % vq->num];
	id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	n = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	err = check_used(vq, pending, id, n);
	if (!err && vq->in_order)
		err = start_batch(vq, pending, id, n);
	if (err)
		return err;
	if (vq->in_order)
		return get_in_order(vq, token, len);
	*token = vq->heads[id].token;
	*len = n;
	free_chain(vq, (uint16_t)id);
	vq->last_used++;
	return 1;
}

void virtq_disable_cb(struct virtq *vq)
{
	if (vq->packed) {
		pvq_disable_cb(vq);
		return;
	}
	if (vq->event_idx) {
		/* Half the index space away: the device cannot cross it
		 * before we move it back, as at most num entries are used. */
		__atomic_store_n(virtq_used_event(vq->avail, vq->num),
				 (uint16_t)(vq->last_used + 0x8000),
				 __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT,
			 __ATOMIC_RELAXED);
}

bool virtq_enable_cb(struct virtq *vq)
{
	if (vq->packed)
		return pvq_enable_cb(vq);
	if (vq->err)
		return false;
	if (vq->event_idx)
		__atomic_store_n(virtq_used_event(vq->avail, vq->num),
				 vq->last_used, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->avail->flags, 0, __ATOMIC_RELAXED);
	/* The store must be visible before we look at the used index, or
	 * an entry used in between would come without an interrupt. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq->batch_left || used_idx(vq) != vq->last_used;
}
