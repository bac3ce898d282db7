// SPDX-License-Identifier: MIT
/*
 * Device side of a split virtqueue. The story of one request: pop() reads
 * the avail index (acquire), takes the head, and walks the chain one
 * checked descriptor at a time, possibly through one indirect table; the
 * device works on the segments; fill() writes the used element and flush()
 * publishes the used index (release); should_notify() decides about the
 * interrupt.
 */
#include "vhost/vring.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/protocol.h"
#include "virtio/virtio_config.h"

/* Records the ring's first failure; later calls keep failing with it. */
__attribute__((format(printf, 3, 4))) static int
ring_fail(struct vhu_vring *vr, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vr->error, sizeof(vr->error), fmt, ap);
	va_end(ap);
	vr->err = err;
	return err;
}

static bool aligned(const void *p, uintptr_t align)
{
	return !((uintptr_t)p & (align - 1));
}

/* Acquire: the ring entries and descriptors the driver wrote before
 * publishing this index are visible once we have seen it. */
static uint16_t avail_idx(const struct vhu_vring *vr)
{
	return __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
}

static int check_config(struct vhu_vring *vr,
			const struct vhu_vring_config *cfg)
{
	if (!virtq_size_valid(cfg->num))
		return ring_fail(
			vr, -EINVAL,
			"queue size %u is not a power of 2 in 1..32768",
			cfg->num);
	if (!cfg->translate)
		return ring_fail(vr, -EINVAL, "no translation callback");
	if (!cfg->desc || !aligned(cfg->desc, VIRTQ_DESC_ALIGN))
		return ring_fail(vr, -EINVAL,
				 "descriptor table %p is not 16-byte aligned",
				 (void *)cfg->desc);
	if (!cfg->avail || !aligned(cfg->avail, VIRTQ_AVAIL_ALIGN))
		return ring_fail(vr, -EINVAL,
				 "avail ring %p is not 2-byte aligned",
				 (void *)cfg->avail);
	if (!cfg->used || !aligned(cfg->used, VIRTQ_USED_ALIGN))
		return ring_fail(vr, -EINVAL,
				 "used ring %p is not 4-byte aligned",
				 (void *)cfg->used);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* In-flight region                                                          */

static struct vhu_inflight_desc_split *inflight_desc(const struct vhu_vring *vr,
						     unsigned int i)
{
	return (struct vhu_inflight_desc_split *)(vr->inflight + 1) + i;
}

/* A region nobody used yet (version 0): start it afresh for this ring. */
static void inflight_fresh(struct vhu_vring *vr)
{
	struct vhu_inflight_split_header *h = vr->inflight;

	memset(inflight_desc(vr, 0), 0,
	       sizeof(struct vhu_inflight_desc_split) * vr->num);
	h->features = 0;
	h->desc_num = (uint16_t)vr->num;
	h->last_batch_head = 0;
	h->used_idx = vr->used_idx;
	__atomic_store_n(&h->version, 1, __ATOMIC_RELEASE);
}

/* One in-flight head and its counter, for sorting. */
struct inflight_entry {
	uint64_t counter;
	uint16_t head;
};

static int by_counter(const void *a, const void *b)
{
	const struct inflight_entry *x = a, *y = b;

	if (x->counter != y->counter)
		return x->counter < y->counter ? -1 : 1;
	return x->head < y->head ? -1 : x->head > y->head;
}

/* Counts the entries in flight; fails on a byte that is not 0 or 1. */
static int inflight_count(struct vhu_vring *vr, unsigned int *inuse)
{
	*inuse = 0;
	for (unsigned int i = 0; i < vr->num; i++) {
		uint8_t v = __atomic_load_n(&inflight_desc(vr, i)->inflight,
					    __ATOMIC_RELAXED);

		if (v > 1)
			return ring_fail(vr, -EINVAL,
					 "in-flight entry %u holds %u, not 0 "
					 "or 1",
					 i, v);
		*inuse += v;
	}
	return 0;
}

/* Builds the resubmit list: the heads in flight, by counter (at most
 * @inuse; one the frontend cleared since it was counted is skipped). The
 * region is read once into the list, so later changes to it by the
 * frontend cannot make us hand out a head twice or out of range. */
static int inflight_collect(struct vhu_vring *vr, unsigned int inuse)
{
	struct inflight_entry *e = calloc(inuse, sizeof(*e));
	unsigned int n = 0;

	vr->resubmit = calloc(inuse, sizeof(*vr->resubmit));
	if (!e || !vr->resubmit) {
		free(e);
		vhu_vring_cleanup(vr);
		return ring_fail(vr, -ENOMEM,
				 "no memory for %u in-flight requests", inuse);
	}
	for (unsigned int i = 0; i < vr->num && n < inuse; i++) {
		const struct vhu_inflight_desc_split *d = inflight_desc(vr, i);

		if (__atomic_load_n(&d->inflight, __ATOMIC_RELAXED) != 1)
			continue;
		e[n].head = (uint16_t)i;
		e[n++].counter = __atomic_load_n(&d->counter, __ATOMIC_RELAXED);
	}
	qsort(e, n, sizeof(*e), by_counter);
	for (unsigned int i = 0; i < n; i++)
		vr->resubmit[i] = e[i].head;
	vr->resubmit_num = n;
	if (!n) { /* the frontend cleared them meanwhile */
		free(vr->resubmit);
		vr->resubmit = NULL;
	}
	vr->inflight_counter = n ? e[n - 1].counter : 0;
	free(e);
	return 0;
}

/*
 * Takes over a region a previous process may have left state in. Checked
 * before anything is written to it: version, size, last_batch_head, and
 * that no more entries are in flight than the driver has outstanding.
 */
static int inflight_recover(struct vhu_vring *vr)
{
	struct vhu_inflight_split_header *h = vr->inflight;
	uint16_t version = __atomic_load_n(&h->version, __ATOMIC_ACQUIRE);
	uint16_t desc_num = __atomic_load_n(&h->desc_num, __ATOMIC_RELAXED);
	uint16_t head = __atomic_load_n(&h->last_batch_head, __ATOMIC_RELAXED);
	uint16_t outstanding = (uint16_t)(avail_idx(vr) - vr->used_idx);
	unsigned int inuse;
	int err;

	if (!version) {
		inflight_fresh(vr);
		return 0;
	}
	if (version != 1)
		return ring_fail(vr, -EINVAL,
				 "in-flight region has version %u, not 1",
				 version);
	/* A driver may use a smaller ring than the region was made for. */
	if (desc_num < vr->num)
		return ring_fail(vr, -EINVAL,
				 "in-flight region is for %u descriptors, the "
				 "ring has %u",
				 desc_num, vr->num);
	if (head >= vr->num)
		return ring_fail(vr, -EINVAL,
				 "in-flight last_batch_head %u out of range %u",
				 head, vr->num);
	err = inflight_count(vr, &inuse);
	if (err)
		return err;
	/* The used index reached the ring but the region missed the clear:
	 * that one push completed. */
	if (__atomic_load_n(&h->used_idx, __ATOMIC_RELAXED) != vr->used_idx &&
	    __atomic_load_n(&inflight_desc(vr, head)->inflight,
			    __ATOMIC_RELAXED)) {
		__atomic_store_n(&inflight_desc(vr, head)->inflight, 0,
				 __ATOMIC_RELEASE);
		inuse--;
	}
	__atomic_store_n(&h->used_idx, vr->used_idx, __ATOMIC_RELEASE);
	if (inuse > outstanding)
		return ring_fail(vr, -EINVAL,
				 "in-flight region has %u requests in flight, "
				 "the driver has %u outstanding",
				 inuse, outstanding);
	err = inuse ? inflight_collect(vr, inuse) : 0;
	vr->last_avail_idx = (uint16_t)(vr->used_idx + vr->resubmit_num);
	return err;
}

/* Pop: the chain at @head is the device's until pushed. The counter is
 * written before the flag, so a set flag always has its counter. */
static void inflight_get(struct vhu_vring *vr, uint16_t head)
{
	struct vhu_inflight_desc_split *d = inflight_desc(vr, head);

	__atomic_store_n(&d->counter, ++vr->inflight_counter, __ATOMIC_RELAXED);
	__atomic_store_n(&d->inflight, 1, __ATOMIC_RELEASE);
}

/*
 * Push of @head whose used element is written: name it in the header,
 * publish the used index, then clear it and record the index. A crash
 * before the publish leaves it in flight (redone); between the publish and
 * the clear, recovery sees used_idx behind and clears last_batch_head.
 */
static void inflight_put(struct vhu_vring *vr, uint16_t head)
{
	struct vhu_inflight_split_header *h = vr->inflight;

	__atomic_store_n(&h->last_batch_head, head, __ATOMIC_RELAXED);
	__atomic_store_n(&vr->used->idx, vr->used_idx, __ATOMIC_RELEASE);
	__atomic_store_n(&inflight_desc(vr, head)->inflight, 0,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&h->used_idx, vr->used_idx, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */

int vhu_vring_init(struct vhu_vring *vr, const struct vhu_vring_config *cfg)
{
	int err;

	memset(vr, 0, sizeof(*vr));
	err = check_config(vr, cfg);
	if (err)
		return err;
	vr->num = cfg->num;
	vr->desc = cfg->desc;
	vr->avail = cfg->avail;
	vr->used = cfg->used;
	vr->translate = cfg->translate;
	vr->contig = cfg->contig;
	vr->opaque = cfg->opaque;
	vr->event_idx = virtio_has_feature(cfg->features, VIRTIO_F_EVENT_IDX);
	vr->indirect =
		virtio_has_feature(cfg->features, VIRTIO_F_INDIRECT_DESC);
	vr->last_avail_idx = cfg->base;
	vr->used_idx = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
	vr->inflight = cfg->inflight;
	if (vr->inflight) {
		err = inflight_recover(vr);
		if (err)
			return err;
	}
	if (vr->event_idx)
		__atomic_store_n(virtq_avail_event(vr->used, vr->num),
				 vr->last_avail_idx, __ATOMIC_RELAXED);
	return 0;
}

void vhu_vring_cleanup(struct vhu_vring *vr)
{
	free(vr->resubmit);
	vr->resubmit = NULL;
	vr->resubmit_num = vr->resubmit_next = 0;
}

const char *vhu_vring_error(const struct vhu_vring *vr)
{
	return vr->error;
}

int vhu_vring_pending(struct vhu_vring *vr)
{
	uint16_t idx, n;

	if (vr->err)
		return vr->err;
	idx = avail_idx(vr);
	n = (uint16_t)(idx - vr->last_avail_idx);
	if (n > vr->num)
		return ring_fail(
			vr, -EPROTO,
			"avail idx %u is %u entries ahead of %u, queue size %u",
			idx, n, vr->last_avail_idx, vr->num);
	return n;
}

/*
 * Reads descriptor @i of @table exactly once. The asm makes the compiler
 * use the copy from then on instead of reading guest memory again, where
 * the driver may have changed it after we checked it.
 */
static void read_desc(const struct virtq_desc *table, unsigned int i,
		      struct virtq_desc *d)
{
	memcpy(d, &table[i], sizeof(*d));
	__asm__ volatile("" : "+m"(*d));
}

/* Where the walk is: the table being followed and the chain so far. */
struct chain_walk {
	const struct virtq_desc *table;
	unsigned int table_num; /* entries in table */
	unsigned int seen;	/* descriptors visited in table */
	bool in_indirect;
	uint64_t out_len;
	uint64_t in_len;
};

/* Switches the walk to the indirect table that @d points at. */
static int enter_indirect(struct vhu_vring *vr, struct chain_walk *w,
			  const struct virtq_desc *d)
{
	const void *table;

	if (!vr->indirect)
		return ring_fail(
			vr, -EINVAL,
			"indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (w->in_indirect)
		return ring_fail(vr, -EINVAL, "nested indirect descriptor");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return ring_fail(vr, -EINVAL, "indirect descriptor with NEXT");
	if (!d->len || d->len % sizeof(struct virtq_desc) ||
	    d->len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
		return ring_fail(vr, -EINVAL,
				 "indirect table length %u is not a nonzero "
				 "multiple of 16 up to 512 KiB",
				 d->len);
	table = vr->translate(vr->opaque, d->addr, d->len);
	if (!table)
		return ring_fail(
			vr, -EFAULT,
			"indirect table at 0x%llx+%u is outside guest memory",
			(unsigned long long)d->addr, d->len);
	w->table = table;
	w->table_num = d->len / sizeof(struct virtq_desc);
	w->seen = 0;
	w->in_indirect = true;
	return 0;
}

/* Appends the buffer of direct descriptor @d to @elem. */
static int add_segment(struct vhu_vring *vr, struct chain_walk *w,
		       struct vhu_vring_elem *elem, const struct virtq_desc *d)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t *total = writable ? &w->in_len : &w->out_len;
	void *p;

	if (!writable && elem->in_num)
		return ring_fail(
			vr, -EINVAL,
			"readable descriptor after a writable one in chain %u",
			elem->head);
	if (!d->len)
		return 0;
	*total += d->len;
	if (*total > UINT32_MAX)
		return ring_fail(vr, -EOVERFLOW,
				 "chain %u is longer than 4 GiB", elem->head);
	for (uint64_t addr = d->addr, left = d->len; left;) {
		uint64_t n = left;

		p = vr->translate(vr->opaque, addr, n);
		if (!p && vr->contig) {
			/* Spans regions: the part in this one. */
			n = vr->contig(vr->opaque, addr);
			n = n < left ? n : left;
			p = n ? vr->translate(vr->opaque, addr, n) : NULL;
		}
		if (!p)
			return ring_fail(vr, -EFAULT,
					 "buffer at 0x%llx+%u in chain %u is "
					 "outside guest memory",
					 (unsigned long long)d->addr, d->len,
					 elem->head);
		if (elem->out_num + elem->in_num >= elem->iov_max)
			return ring_fail(vr, -ENOBUFS,
					 "chain %u has more than %u segments",
					 elem->head, elem->iov_max);
		elem->iov[elem->out_num + elem->in_num].iov_base = p;
		elem->iov[elem->out_num + elem->in_num].iov_len = n;
		if (writable)
			elem->in_num++;
		else
			elem->out_num++;
		addr += n;
		left -= n;
	}
	return 0;
}

/* Whether @d sends the walk into an indirect table; with
 * vr->indirect_head_only, not past a chain's head (a known defect). */
static bool follows_indirect(const struct vhu_vring *vr,
			     const struct chain_walk *w,
			     const struct virtq_desc *d)
{
	if (!(d->flags & VIRTQ_DESC_F_INDIRECT))
		return false;
	return !vr->indirect_head_only || w->in_indirect || w->seen == 1;
}

/* Follows the chain from its head; fills @elem. */
static int walk_chain(struct vhu_vring *vr, struct vhu_vring_elem *elem)
{
	struct chain_walk w = { .table = vr->desc, .table_num = vr->num };
	unsigned int i = elem->head;
	struct virtq_desc d;
	int err;

	for (;;) {
		if (++w.seen > w.table_num)
			return ring_fail(vr, -ELOOP,
					 "chain %u loops or is longer than its "
					 "table of %u",
					 elem->head, w.table_num);
		read_desc(w.table, i, &d);
		if (follows_indirect(vr, &w, &d)) {
			err = enter_indirect(vr, &w, &d);
			i = 0;
			if (err)
				return err;
			continue;
		}
		err = add_segment(vr, &w, elem, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		i = d.next;
		if (i >= w.table_num)
			return ring_fail(vr, -EINVAL,
					 "next %u out of range %u in chain %u",
					 i, w.table_num, elem->head);
	}
	elem->out_len = (uint32_t)w.out_len;
	elem->in_len = (uint32_t)w.in_len;
	return 0;
}

/* Pops the next head a previous process left in flight. */
static int pop_resubmit(struct vhu_vring *vr, struct vhu_vring_elem *elem)
{
	int err;

	elem->head = vr->resubmit[vr->resubmit_next];
	elem->out_num = elem->in_num = 0;
	elem->out_len = elem->in_len = 0;
	err = walk_chain(vr, elem);
	if (err)
		return err;
	if (++vr->resubmit_next == vr->resubmit_num) {
		free(vr->resubmit);
		vr->resubmit = NULL;
	}
	return 1;
}

int vhu_vring_pop(struct vhu_vring *vr, struct vhu_vring_elem *elem)
{
	int n;
	uint16_t head;
	int err;

	if (vr->err)
		return vr->err;
	if (vr->resubmit)
		return pop_resubmit(vr, elem);
	n = vhu_vring_pending(vr);
	if (n <= 0)
		return n;
	head = __atomic_load_n(&vr->avail->ring[vr->last_avail_idx % vr->num],
			       __ATOMIC_RELAXED);
	elem->head = head;
	elem->out_num = elem->in_num = 0;
	elem->out_len = elem->in_len = 0;
	if (head >= vr->num)
		return ring_fail(
			vr, -EINVAL,
			"avail ring entry %u names head %u, queue size %u",
			vr->last_avail_idx, head, vr->num);
	err = walk_chain(vr, elem);
	if (err)
		return err;
	if (vr->inflight)
		inflight_get(vr, head);
	vr->last_avail_idx++;
	if (vr->event_idx)
		__atomic_store_n(virtq_avail_event(vr->used, vr->num),
				 vr->last_avail_idx, __ATOMIC_RELAXED);
	return 1;
}

int vhu_vring_fill(struct vhu_vring *vr, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e;

	if (vr->err)
		return vr->err;
	if (head >= vr->num)
		return ring_fail(vr, -EINVAL, "used id %u out of range %u",
				 head, vr->num);
	if (vr->used_idx == vr->last_avail_idx)
		return ring_fail(
			vr, -EINVAL,
			"more used elements than popped chains (used idx %u)",
			vr->used_idx);
	e = &vr->used->ring[vr->used_idx % vr->num];
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	vr->used_idx++;
	if (vr->inflight)
		inflight_put(vr, head);
	return 0;
}

void vhu_vring_flush(struct vhu_vring *vr)
{
	if (vr->err)
		return;
	__atomic_store_n(&vr->used->idx, vr->used_idx, __ATOMIC_RELEASE);
}

int vhu_vring_push(struct vhu_vring *vr, uint16_t head, uint32_t len)
{
	int err = vhu_vring_fill(vr, head, len);

	if (!err)
		vhu_vring_flush(vr);
	return err;
}

bool vhu_vring_should_notify(struct vhu_vring *vr)
{
	uint16_t old, event;
	bool valid;

	if (vr->err)
		return false;
	/* Our used idx store must be visible before we read the driver's
	 * suppression state, or both sides can decide not to act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vr->event_idx)
		return !(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	old = vr->signalled_used;
	valid = vr->signalled_used_valid;
	vr->signalled_used = vr->used_idx;
	vr->signalled_used_valid = true;
	if (!valid)
		return true;
	event = __atomic_load_n(virtq_used_event(vr->avail, vr->num),
				__ATOMIC_RELAXED);
	return vring_need_event(event, vr->used_idx, old);
}

void vhu_vring_disable_notify(struct vhu_vring *vr)
{
	uint16_t flags;

	if (vr->err || vr->event_idx)
		return;
	flags = __atomic_load_n(&vr->used->flags, __ATOMIC_RELAXED);
	__atomic_store_n(&vr->used->flags, flags | VIRTQ_USED_F_NO_NOTIFY,
			 __ATOMIC_RELAXED);
}

bool vhu_vring_enable_notify(struct vhu_vring *vr)
{
	uint16_t flags;

	if (vr->err)
		return false;
	if (vr->event_idx) {
		__atomic_store_n(virtq_avail_event(vr->used, vr->num),
				 vr->last_avail_idx, __ATOMIC_RELAXED);
	} else {
		flags = __atomic_load_n(&vr->used->flags, __ATOMIC_RELAXED);
		__atomic_store_n(&vr->used->flags,
				 flags & ~VIRTQ_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
	}
	/* The flag or event store must be visible before we look again, or
	 * a chain added in between would be left without a kick. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vr->resubmit || avail_idx(vr) != vr->last_avail_idx;
}
