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

static int check_packed_config(struct vhu_vring *vr,
			       const struct vhu_vring_config *cfg)
{
	if (!cfg->num || cfg->num > VIRTQ_MAX_SIZE)
		return ring_fail(vr, -EINVAL,
				 "packed queue size %u is not in 1..32768",
				 cfg->num);
	if (!cfg->translate)
		return ring_fail(vr, -EINVAL, "no translation callback");
	if (!cfg->packed_desc ||
	    !aligned(cfg->packed_desc, VIRTQ_PACKED_DESC_ALIGN))
		return ring_fail(vr, -EINVAL,
				 "descriptor ring %p is not 16-byte aligned",
				 (void *)cfg->packed_desc);
	if (!cfg->driver_event ||
	    !aligned(cfg->driver_event, VIRTQ_PACKED_EVENT_ALIGN) ||
	    !cfg->device_event ||
	    !aligned(cfg->device_event, VIRTQ_PACKED_EVENT_ALIGN))
		return ring_fail(vr, -EINVAL,
				 "event suppression areas %p/%p are not "
				 "4-byte aligned",
				 (void *)cfg->driver_event,
				 (void *)cfg->device_event);
	/* The position: unless a region in use will say where the ring
	 * is (cfg->base is then ignored, as for a split ring). */
	if ((!cfg->inflight_packed ||
	     !__atomic_load_n(&cfg->inflight_packed->version,
			      __ATOMIC_ACQUIRE)) &&
	    ((cfg->base & 0x7fff) >= cfg->num ||
	     (cfg->base >> 16 & 0x7fff) >= cfg->num))
		return ring_fail(vr, -EINVAL,
				 "packed position 0x%x is beyond a ring of %u",
				 cfg->base, cfg->num);
	return 0;
}

static int check_config(struct vhu_vring *vr,
			const struct vhu_vring_config *cfg)
{
	if (virtio_has_feature(cfg->features, VIRTIO_F_RING_PACKED))
		return check_packed_config(vr, cfg);
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
	uint16_t id; /* packed: the buffer id, as checked */
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

static int packed_init(struct vhu_vring *vr,
		       const struct vhu_vring_config *cfg);
static int order_init(struct vhu_vring *vr, const struct vhu_vring_config *cfg);
static void order_push(struct vhu_vring *vr, uint16_t id);

int vhu_vring_init(struct vhu_vring *vr, const struct vhu_vring_config *cfg)
{
	int err;

	memset(vr, 0, sizeof(*vr));
	err = check_config(vr, cfg);
	if (!err)
		err = order_init(vr, cfg);
	if (err)
		return err;
	if (virtio_has_feature(cfg->features, VIRTIO_F_RING_PACKED))
		return packed_init(vr, cfg);
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
	vr->last_avail_idx = (uint16_t)cfg->base;
	vr->used_idx = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
	vr->inflight = cfg->inflight;
	if (vr->inflight) {
		err = inflight_recover(vr);
		if (err)
			return err;
		/* IN_ORDER: the resubmitted heads are the oldest popped. */
		for (unsigned int i = 0; i < vr->resubmit_num; i++)
			order_push(vr, vr->resubmit[i]);
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
	free(vr->id_slots);
	vr->id_slots = NULL;
	free(vr->inflight_entry);
	vr->inflight_entry = NULL;
	free(vr->inflight_free);
	vr->inflight_free = NULL;
	vr->inflight_free_n = 0;
	free(vr->order);
	vr->order = NULL;
	vr->order_first = vr->order_len = 0;
}

const char *vhu_vring_error(const struct vhu_vring *vr)
{
	return vr->error;
}

static bool packed_avail_at(const struct vhu_vring *vr, unsigned int slot,
			    bool wrap);

int vhu_vring_pending(struct vhu_vring *vr)
{
	uint16_t idx, n;

	if (vr->err)
		return vr->err;
	if (vr->packed)
		return vr->resubmit ||
		       packed_avail_at(vr, vr->last_avail_idx, vr->avail_wrap);
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

/* Checks the length of the indirect table at @addr (split and packed
 * table entries are both 16 bytes) and maps it into *@table. */
static int map_indirect(struct vhu_vring *vr, uint64_t addr, uint32_t len,
			const void **table)
{
	if (!len || len % sizeof(struct virtq_desc) ||
	    len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
		return ring_fail(vr, -EINVAL,
				 "indirect table length %u is not a nonzero "
				 "multiple of 16 up to 512 KiB",
				 len);
	*table = vr->translate(vr->opaque, addr, len);
	if (!*table)
		return ring_fail(
			vr, -EFAULT,
			"indirect table at 0x%llx+%u is outside guest memory",
			(unsigned long long)addr, len);
	return 0;
}

/* Switches the walk to the indirect table that @d points at. */
static int enter_indirect(struct vhu_vring *vr, struct chain_walk *w,
			  const struct virtq_desc *d)
{
	const void *table;
	int err;

	if (!vr->indirect)
		return ring_fail(
			vr, -EINVAL,
			"indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (w->in_indirect)
		return ring_fail(vr, -EINVAL, "nested indirect descriptor");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return ring_fail(vr, -EINVAL, "indirect descriptor with NEXT");
	err = map_indirect(vr, d->addr, d->len, &table);
	if (err)
		return err;
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
		i = vr->next_by_index && !w.in_indirect ? (i + 1) % w.table_num
							: d.next;
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

static int packed_pop(struct vhu_vring *vr, struct vhu_vring_elem *elem);
static void packed_want_kick_at(struct vhu_vring *vr);

int vhu_vring_pop(struct vhu_vring *vr, struct vhu_vring_elem *elem)
{
	int n;
	uint16_t head;
	int err;

	if (vr->err)
		return vr->err;
	if (vr->packed)
		return packed_pop(vr, elem);
	if (vr->resubmit)
		return pop_resubmit(vr, elem);
	n = vhu_vring_pending(vr);
	if (!n && vr->event_idx) {
		/* avail_event (written at each pop) must be visible before
		 * we look once more: a chain added in between whose driver
		 * read the old one sent no kick. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		n = vhu_vring_pending(vr);
	}
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
	order_push(vr, head);
	vr->last_avail_idx++;
	if (vr->event_idx)
		__atomic_store_n(virtq_avail_event(vr->used, vr->num),
				 vr->last_avail_idx, __ATOMIC_RELAXED);
	return 1;
}

static int order_check(struct vhu_vring *vr, uint16_t id);
static int packed_fill(struct vhu_vring *vr, uint16_t id, uint32_t len);

int vhu_vring_fill(struct vhu_vring *vr, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e;
	int err;

	if (vr->err)
		return vr->err;
	if (vr->packed)
		return packed_fill(vr, head, len);
	if (head >= vr->num)
		return ring_fail(vr, -EINVAL, "used id %u out of range %u",
				 head, vr->num);
	if (vr->used_idx == vr->last_avail_idx)
		return ring_fail(
			vr, -EINVAL,
			"more used elements than popped chains (used idx %u)",
			vr->used_idx);
	err = order_check(vr, head);
	if (err)
		return err;
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
	if (vr->err || vr->packed)
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

static bool packed_should_notify(struct vhu_vring *vr);

bool vhu_vring_should_notify(struct vhu_vring *vr)
{
	uint16_t old, event;
	bool valid;

	if (vr->err)
		return false;
	if (vr->packed)
		return packed_should_notify(vr);
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

	if (vr->err)
		return;
	if (vr->packed) {
		__atomic_store_n(&vr->device_event->flags,
				 VIRTQ_EVENT_F_DISABLE, __ATOMIC_RELAXED);
		return;
	}
	if (vr->event_idx)
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
	if (vr->packed) {
		/* With EVENT_IDX, a kick for the next descriptor only (as
		 * avail_event does for split): ENABLE would have the driver
		 * kick on every batch until we wake and disable again. */
		if (vr->event_idx)
			packed_want_kick_at(vr);
		else
			__atomic_store_n(&vr->device_event->flags,
					 VIRTQ_EVENT_F_ENABLE,
					 __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return vhu_vring_pending(vr) > 0;
	}
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

/* ------------------------------------------------------------------------ */
/* IN_ORDER                                                                  */

static int order_init(struct vhu_vring *vr, const struct vhu_vring_config *cfg)
{
	vr->in_order = virtio_has_feature(cfg->features, VIRTIO_F_IN_ORDER);
	if (!vr->in_order)
		return 0;
	vr->order = calloc(cfg->num, sizeof(*vr->order));
	if (!vr->order)
		return ring_fail(vr, -ENOMEM, "no memory for the order of %u",
				 cfg->num);
	return 0;
}

static void order_push(struct vhu_vring *vr, uint16_t id)
{
	if (!vr->order || vr->order_len >= vr->num ||
	    (vr->bugs & VHU_VRING_BUG_ORDER_UNCHECKED))
		return;
	vr->order[(vr->order_first + vr->order_len++) % vr->num] = id;
}

/* A buffer used under IN_ORDER must be the oldest one popped. */
static int order_check(struct vhu_vring *vr, uint16_t id)
{
	uint16_t want;

	if (!vr->order || (vr->bugs & VHU_VRING_BUG_ORDER_UNCHECKED))
		return 0;
	if (!vr->order_len)
		return ring_fail(vr, -EINVAL,
				 "used id %u with nothing popped (IN_ORDER)",
				 id);
	want = vr->order[vr->order_first];
	if (want != id)
		return ring_fail(vr, -EINVAL,
				 "used id %u out of order: IN_ORDER wants %u "
				 "first",
				 id, want);
	vr->order_first = (vr->order_first + 1) % vr->num;
	vr->order_len--;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Packed rings                                                              */

/* The AVAIL and USED bits a descriptor has when made available, or used,
 * in the lap whose wrap counter is @wrap. */
static uint16_t avail_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

static uint16_t used_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
}

static bool packed_avail_at(const struct vhu_vring *vr, unsigned int slot,
			    bool wrap)
{
	uint16_t flags =
		__atomic_load_n(&vr->packed_desc[slot].flags, __ATOMIC_ACQUIRE);

	return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) ==
	       avail_bits(wrap);
}

/* Advances a slot and its wrap counter by @n (at most num). */
static void packed_advance(const struct vhu_vring *vr, uint16_t *slot,
			   bool *wrap, unsigned int n)
{
	unsigned int s = *slot + n;

	if (s >= vr->num) {
		s -= vr->num;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

/* A packed descriptor as the split walker's helpers take it. */
static struct virtq_desc as_split(const struct virtq_packed_desc *p)
{
	return (struct virtq_desc){ .addr = p->addr,
				    .len = p->len,
				    .flags = p->flags };
}

/* Walks the indirect table of packed descriptor @d into @elem. */
static int packed_indirect(struct vhu_vring *vr, struct chain_walk *w,
			   struct vhu_vring_elem *elem,
			   const struct virtq_packed_desc *d)
{
	const struct virtq_packed_desc *table;
	const void *mapped;
	struct virtq_packed_desc t;
	struct virtq_desc sd;
	unsigned int n;
	int err;

	if (!vr->indirect)
		return ring_fail(
			vr, -EINVAL,
			"indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if ((d->flags & VIRTQ_DESC_F_NEXT) || w->seen > 1)
		return ring_fail(vr, -EINVAL,
				 "indirect descriptor in a chain (packed "
				 "buffer %u)",
				 d->id);
	_Static_assert(sizeof(t) == sizeof(struct virtq_desc),
		       "split and packed descriptors are both 16 bytes");
	err = map_indirect(vr, d->addr, d->len, &mapped);
	if (err)
		return err;
	table = mapped;
	n = d->len / sizeof(t);
	w->in_indirect = true;
	for (unsigned int i = 0; i < n; i++) {
		memcpy(&t, &table[i], sizeof(t));
		__asm__ volatile("" : "+m"(t));
		if (t.flags & VIRTQ_DESC_F_INDIRECT)
			return ring_fail(vr, -EINVAL,
					 "nested indirect descriptor");
		sd = as_split(&t);
		sd.flags &= VIRTQ_DESC_F_WRITE; /* NEXT is ignored here */
		err = add_segment(vr, w, elem, &sd);
		if (err)
			return err;
		if (vr->bugs & VHU_VRING_BUG_WRITE_INDIRECT)
			__atomic_store_n((uint16_t *)&table[i].flags,
					 (uint16_t)(t.flags |
						    VIRTQ_DESC_F_AVAIL |
						    VIRTQ_DESC_F_USED),
					 __ATOMIC_RELAXED);
		if ((vr->bugs & VHU_VRING_BUG_INDIRECT_NEXT) &&
		    !(t.flags & VIRTQ_DESC_F_NEXT))
			break;
	}
	return 0;
}

/* Where the descriptors of a chain come from: the ring (checked to be
 * available one by one), or entries of the in-flight region. */
struct packed_src {
	bool region;
	uint16_t slot; /* ring: the next slot, and its wrap counter */
	bool wrap;
	uint16_t entry; /* region: the next entry */
};

static struct vhu_inflight_desc_packed *
inflight_pentry(const struct vhu_vring *vr, unsigned int i)
{
	return (struct vhu_inflight_desc_packed *)(vr->inflight_packed + 1) + i;
}

/* Reads the next descriptor of the chain exactly once. */
static int packed_next(struct vhu_vring *vr, struct packed_src *src,
		       struct virtq_packed_desc *d)
{
	if (src->region) {
		const struct vhu_inflight_desc_packed *e;

		if (src->entry >= vr->num)
			return ring_fail(vr, -EINVAL,
					 "in-flight chain leaves the region "
					 "at entry %u",
					 src->entry);
		e = inflight_pentry(vr, src->entry);
		*d = (struct virtq_packed_desc){
			.addr = __atomic_load_n(&e->addr, __ATOMIC_RELAXED),
			.len = __atomic_load_n(&e->len, __ATOMIC_RELAXED),
			.id = __atomic_load_n(&e->id, __ATOMIC_RELAXED),
			.flags = __atomic_load_n(&e->flags, __ATOMIC_RELAXED),
		};
		src->entry = __atomic_load_n(&e->next, __ATOMIC_RELAXED);
		return 0;
	}
	if (!packed_avail_at(vr, src->slot, src->wrap))
		return ring_fail(vr, -EINVAL,
				 "chain continues into slot %u, which the "
				 "driver has not made available",
				 src->slot);
	memcpy(d, &vr->packed_desc[src->slot], sizeof(*d));
	__asm__ volatile("" : "+m"(*d));
	packed_advance(vr, &src->slot, &src->wrap, 1);
	return 0;
}

/* The in-flight copy of ring descriptor @d, the @n-th of its chain. */
static int inflight_record(struct vhu_vring *vr,
			   const struct virtq_packed_desc *d, unsigned int n,
			   uint16_t *head, uint16_t *prev)
{
	struct vhu_inflight_desc_packed *e;
	uint16_t i;

	if (!vr->inflight_free_n)
		return ring_fail(vr, -EINVAL,
				 "more descriptors in flight than the ring "
				 "has (%u)",
				 vr->num);
	i = vr->inflight_free[--vr->inflight_free_n];
	e = inflight_pentry(vr, i);
	e->inflight = 0;
	e->addr = d->addr;
	e->len = d->len;
	e->id = d->id;
	e->flags = d->flags;
	e->num = 0;
	if (n == 1)
		*head = i;
	else
		inflight_pentry(vr, *prev)->next = i;
	*prev = i;
	return 0;
}

/* Walks the chain @src points at into @elem; *@slots gets its length in
 * descriptors and elem->head its buffer id. */
static int packed_walk(struct vhu_vring *vr, struct packed_src *src,
		       struct vhu_vring_elem *elem, unsigned int *slots,
		       uint16_t *entry)
{
	struct chain_walk w = { .table_num = vr->num };
	struct virtq_packed_desc d;
	struct virtq_desc sd;
	uint16_t prev = 0, first_id = 0;
	bool record = vr->inflight_packed && !src->region;
	int err;

	elem->out_num = elem->in_num = 0;
	elem->out_len = elem->in_len = 0;
	elem->head = src->slot;
	do {
		if (++w.seen > vr->num)
			return ring_fail(vr, -ELOOP,
					 "chain at slot %u is longer than the "
					 "ring of %u",
					 elem->head, vr->num);
		err = packed_next(vr, src, &d);
		if (!err && record)
			err = inflight_record(vr, &d, w.seen, entry, &prev);
		if (err)
			return err;
		if (w.seen == 1)
			first_id = d.id;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			err = packed_indirect(vr, &w, elem, &d);
		} else {
			sd = as_split(&d);
			err = add_segment(vr, &w, elem, &sd);
		}
		if (err)
			return err;
		if ((vr->bugs & VHU_VRING_BUG_CHAIN_WRAP_CUT) && !src->region &&
		    !src->slot)
			break; /* "a chain never runs past the ring's end" */
	} while (d.flags & VIRTQ_DESC_F_NEXT);
	elem->head = d.id; /* the id is in the chain's last descriptor */
	if (vr->bugs & VHU_VRING_BUG_ID_FROM_HEAD)
		elem->head = first_id;
	elem->out_len = (uint32_t)w.out_len;
	elem->in_len = (uint32_t)w.in_len;
	*slots = w.seen;
	return 0;
}

/* The buffer @id of @slots descriptors is now the device's. */
static int packed_take(struct vhu_vring *vr, uint16_t id, unsigned int slots)
{
	if (id >= vr->num)
		return ring_fail(vr, -EINVAL, "buffer id %u out of range %u",
				 id, vr->num);
	if (vr->id_slots[id])
		return ring_fail(vr, -EINVAL,
				 "buffer id %u is already in flight", id);
	vr->id_slots[id] = (uint16_t)slots;
	order_push(vr, id);
	return 0;
}

/* Pops the next chain a previous process left in flight. */
static int packed_pop_resubmit(struct vhu_vring *vr,
			       struct vhu_vring_elem *elem)
{
	uint16_t entry = vr->resubmit[vr->resubmit_next];
	struct packed_src src = { .region = true, .entry = entry };
	unsigned int slots;
	int err = packed_walk(vr, &src, elem, &slots, NULL);

	if (err)
		return err;
	if (elem->head != inflight_pentry(vr, entry)->id ||
	    slots != vr->id_slots[elem->head])
		return ring_fail(vr, -EINVAL,
				 "in-flight entry %u changed under us", entry);
	if (++vr->resubmit_next == vr->resubmit_num) {
		free(vr->resubmit);
		vr->resubmit = NULL;
	}
	return 1;
}

/* EVENT_IDX: a kick wanted when the descriptor at our avail position
 * is made available (the device area's descriptor event). */
static void packed_want_kick_at(struct vhu_vring *vr)
{
	__atomic_store_n(&vr->device_event->off_wrap,
			 (uint16_t)(vr->last_avail_idx |
				    (vr->avail_wrap ? VIRTQ_PACKED_WRAP : 0)),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&vr->device_event->flags, VIRTQ_EVENT_F_DESC,
			 __ATOMIC_RELEASE);
}

static int packed_pop(struct vhu_vring *vr, struct vhu_vring_elem *elem)
{
	struct packed_src src = { .slot = vr->last_avail_idx,
				  .wrap = vr->avail_wrap };
	uint16_t entry = 0;
	unsigned int slots;
	int err;

	if (vr->resubmit)
		return packed_pop_resubmit(vr, elem);
	if (!packed_avail_at(vr, src.slot, src.wrap)) {
		if (!vr->event_idx)
			return 0;
		/* Nothing more: with EVENT_IDX, ask for a kick when the next
		 * descriptor is made available, not for every one (the
		 * device area stays at the position where we last ran dry,
		 * which the driver has passed while we were busy), then look
		 * once more, for one added before the driver saw it. */
		packed_want_kick_at(vr);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!packed_avail_at(vr, src.slot, src.wrap))
			return 0;
	}
	err = packed_walk(vr, &src, elem, &slots, &entry);
	if (!err)
		err = packed_take(vr, elem->head, slots);
	if (err)
		return err;
	if (vr->inflight_packed) {
		struct vhu_inflight_desc_packed *e = inflight_pentry(vr, entry);

		vr->inflight_entry[elem->head] = entry;
		e->num = (uint16_t)slots;
		e->id = elem->head; /* the head entry names the buffer */
		__atomic_store_n(&e->counter, ++vr->inflight_counter,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&e->inflight, 1, __ATOMIC_RELEASE);
	}
	vr->last_avail_idx = src.slot;
	vr->avail_wrap = src.wrap;
	if (vr->bugs & VHU_VRING_BUG_INDEX_U16) {
		/* "a free-running 16-bit index, modulo the ring" */
		vr->bug_avail_count = (uint16_t)(vr->bug_avail_count + slots);
		vr->last_avail_idx = (uint16_t)(vr->bug_avail_count % vr->num);
		vr->avail_wrap = !(vr->bug_avail_count / vr->num % 2);
	}
	return 1;
}

/* Gives the @n entries of the chain at head entry @i back to the free
 * list. */
static void inflight_release(struct vhu_vring *vr, uint16_t i, unsigned int n)
{
	/* The links are in shared memory: bounded, whatever they say. */
	for (unsigned int k = 0;
	     k < n && i < vr->num && vr->inflight_free_n < vr->num; k++) {
		vr->inflight_free[vr->inflight_free_n++] = i;
		i = __atomic_load_n(&inflight_pentry(vr, i)->next,
				    __ATOMIC_RELAXED);
	}
}

/* The used-descriptor defects of vhu_vring.bugs, after the descriptor
 * for @id was written at @slot in lap @wrap. */
static void packed_fill_bugs(struct vhu_vring *vr, uint16_t slot, bool wrap,
			     uint16_t id, uint32_t len)
{
	struct virtq_packed_desc *d = &vr->packed_desc[slot];
	uint16_t flags = used_bits(wrap) | (len ? VIRTQ_DESC_F_WRITE : 0);

	if (vr->bugs & VHU_VRING_BUG_WRAP_FROM_AVAIL)
		flags = used_bits(vr->avail_wrap) |
			(len ? VIRTQ_DESC_F_WRITE : 0);
	if (vr->bugs & VHU_VRING_BUG_NO_WRITE_FLAG)
		flags &= (uint16_t)~VIRTQ_DESC_F_WRITE;
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	if (!(vr->bugs & VHU_VRING_BUG_USED_EVERY_SLOT))
		return;
	/* "every descriptor of the chain becomes used" */
	for (unsigned int k = 1; k < vr->id_slots[id]; k++) {
		packed_advance(vr, &slot, &wrap, 1);
		d = &vr->packed_desc[slot];
		__atomic_store_n(&d->id, id, __ATOMIC_RELAXED);
		__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	}
}

static int packed_fill(struct vhu_vring *vr, uint16_t id, uint32_t len)
{
	struct virtq_packed_desc *d = &vr->packed_desc[vr->used_idx];
	struct vhu_inflight_packed_header *h = vr->inflight_packed;
	uint16_t slot = vr->used_idx, entry = 0, slots;
	bool wrap = vr->used_wrap;
	int err;

	if (id >= vr->num || !vr->id_slots[id])
		return ring_fail(vr, -EINVAL, "used id %u is not in flight",
				 id);
	err = order_check(vr, id);
	if (err)
		return err;
	if (h) {
		entry = vr->inflight_entry[id];
		__atomic_store_n(&h->old_free_head, entry, __ATOMIC_RELAXED);
		__atomic_store_n(&h->old_used_idx, slot, __ATOMIC_RELAXED);
		__atomic_store_n(&h->old_used_wrap_counter, wrap,
				 __ATOMIC_RELEASE);
	}
	__atomic_store_n(&d->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	/* Without WRITE a used descriptor's length is reserved and drivers
	 * ignore it (virtio 1.2, 2.8.5): set it when bytes were written. */
	__atomic_store_n(&d->flags,
			 used_bits(wrap) | (len ? VIRTQ_DESC_F_WRITE : 0),
			 __ATOMIC_RELEASE);
	if (vr->bugs)
		packed_fill_bugs(vr, slot, wrap, id, len);
	slots = vr->id_slots[id];
	packed_advance(vr, &slot, &wrap, slots);
	vr->used_idx = slot;
	vr->used_wrap = wrap;
	vr->id_slots[id] = 0;
	if (h) {
		__atomic_store_n(&inflight_pentry(vr, entry)->inflight, 0,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&h->used_idx, slot, __ATOMIC_RELAXED);
		__atomic_store_n(&h->used_wrap_counter, wrap, __ATOMIC_RELEASE);
		inflight_release(vr, entry, slots);
	}
	return 0;
}

/* A used position as one number modulo 2 * num: the first lap (wrap
 * counter 1) is 0..num-1, the next num..2*num-1. */
static unsigned int packed_pos(const struct vhu_vring *vr, unsigned int slot,
			       bool wrap)
{
	return slot + (wrap ? 0 : vr->num);
}

static bool packed_should_notify(struct vhu_vring *vr)
{
	unsigned int span = 2 * vr->num, old, now, event;
	uint16_t flags, off_wrap;
	bool valid = vr->signalled_used_valid;

	/* Our used descriptor stores before the driver's suppression
	 * state, as for the split ring. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	old = packed_pos(vr, vr->signalled_used, vr->signalled_wrap);
	now = packed_pos(vr, vr->used_idx, vr->used_wrap);
	vr->signalled_used = vr->used_idx;
	vr->signalled_wrap = vr->used_wrap;
	vr->signalled_used_valid = true;
	flags = __atomic_load_n(&vr->driver_event->flags, __ATOMIC_RELAXED) & 3;
	if (flags == VIRTQ_EVENT_F_DISABLE)
		return false;
	if (flags != VIRTQ_EVENT_F_DESC || !vr->event_idx || !valid)
		return true;
	off_wrap =
		__atomic_load_n(&vr->driver_event->off_wrap, __ATOMIC_RELAXED);
	if ((off_wrap & 0x7fff) >= vr->num)
		return true; /* a bad event: better one interrupt too many */
	event = packed_pos(vr, off_wrap & 0x7fff, off_wrap >> 15);
	/* Notify when the used position went past the event slot. */
	return (event + span - old) % span < (now + span - old) % span;
}

/*
 * Takes over a packed in-flight region (see vhost/protocol.h). Checked
 * before anything is written: version, size, the used position, every
 * chain in flight (its entries in range, not shared, its id unique and
 * in range); a push caught between the ring and the region is finished.
 */
static int inflight_packed_fresh(struct vhu_vring *vr)
{
	struct vhu_inflight_packed_header *h = vr->inflight_packed;

	memset(inflight_pentry(vr, 0), 0,
	       sizeof(struct vhu_inflight_desc_packed) * vr->num);
	h->features = 0;
	h->desc_num = (uint16_t)vr->num;
	h->free_head = h->old_free_head = 0;
	h->used_idx = h->old_used_idx = vr->used_idx;
	h->used_wrap_counter = h->old_used_wrap_counter = vr->used_wrap;
	__atomic_store_n(&h->version, 1, __ATOMIC_RELEASE);
	return 0;
}

/* The push named by old_* reached the ring but not the region: finish. */
static void inflight_packed_finish(struct vhu_vring *vr)
{
	struct vhu_inflight_packed_header *h = vr->inflight_packed;
	uint16_t entry = __atomic_load_n(&h->old_free_head, __ATOMIC_RELAXED);
	const struct virtq_packed_desc *d = &vr->packed_desc[vr->used_idx];
	struct vhu_inflight_desc_packed *e;
	uint16_t flags, num, id;

	if (h->old_used_idx != vr->used_idx ||
	    !h->old_used_wrap_counter != !vr->used_wrap || entry >= vr->num)
		return;
	e = inflight_pentry(vr, entry);
	num = __atomic_load_n(&e->num, __ATOMIC_RELAXED);
	id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	/* The entry may be cleared already (a crash after the clear, before
	 * the header); its fields stay until the header has moved. A driver
	 * that consumed the used descriptor and offered the slot again in
	 * the next lap hides the push: that narrow window is not covered. */
	if (!num || num > vr->num ||
	    (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) !=
		    used_bits(vr->used_wrap) ||
	    __atomic_load_n(&d->id, __ATOMIC_RELAXED) != id)
		return;
	__atomic_store_n(&e->inflight, 0, __ATOMIC_RELEASE);
	packed_advance(vr, &vr->used_idx, &vr->used_wrap, num);
}

/* Checks one chain in flight at head entry @i and marks its entries. */
static int inflight_packed_chain(struct vhu_vring *vr, uint16_t i,
				 uint8_t *busy, unsigned int *slots,
				 uint16_t *buf_id)
{
	const struct vhu_inflight_desc_packed *head = inflight_pentry(vr, i);
	unsigned int n = __atomic_load_n(&head->num, __ATOMIC_RELAXED);
	uint16_t last = i, id = __atomic_load_n(&head->id, __ATOMIC_RELAXED);

	if (!n || n > vr->num)
		return ring_fail(vr, -EINVAL,
				 "in-flight entry %u has %u descriptors", i, n);
	for (unsigned int k = 0; k < n; k++) {
		if (i >= vr->num || busy[i])
			return ring_fail(vr, -EINVAL,
					 "in-flight chain at entry %u reuses "
					 "or leaves the region",
					 last);
		busy[i] = 1;
		last = i;
		i = __atomic_load_n(&inflight_pentry(vr, i)->next,
				    __ATOMIC_RELAXED);
	}
	if (id >= vr->num || vr->id_slots[id])
		return ring_fail(vr, -EINVAL,
				 "in-flight buffer id %u is out of range or "
				 "twice in flight",
				 id);
	vr->id_slots[id] = (uint16_t)n;
	*slots += n;
	*buf_id = id;
	return 0;
}

static int inflight_packed_recover(struct vhu_vring *vr)
{
	struct vhu_inflight_packed_header *h = vr->inflight_packed;
	uint16_t version = __atomic_load_n(&h->version, __ATOMIC_ACQUIRE);
	struct inflight_entry *e = NULL;
	unsigned int n = 0, slots = 0;
	uint8_t *busy;
	int err = 0;

	vr->inflight_free = calloc(vr->num, sizeof(*vr->inflight_free));
	vr->inflight_entry = calloc(vr->num, sizeof(*vr->inflight_entry));
	busy = calloc(vr->num, 1);
	if (!vr->inflight_free || !vr->inflight_entry || !busy) {
		free(busy);
		return ring_fail(vr, -ENOMEM,
				 "no memory for the in-flight "
				 "state");
	}
	if (!version) {
		err = inflight_packed_fresh(vr);
		goto free_list;
	}
	if (version != 1 || h->desc_num < vr->num || h->used_idx >= vr->num ||
	    h->used_wrap_counter > 1) {
		free(busy);
		return ring_fail(vr, -EINVAL,
				 "in-flight region: version %u, %u "
				 "descriptors, used position %u/%u do not fit "
				 "a packed ring of %u",
				 version, h->desc_num, h->used_idx,
				 h->used_wrap_counter, vr->num);
	}
	vr->used_idx = h->used_idx;
	vr->used_wrap = h->used_wrap_counter;
	inflight_packed_finish(vr);
	e = calloc(vr->num, sizeof(*e));
	vr->resubmit = calloc(vr->num, sizeof(*vr->resubmit));
	if (!e || !vr->resubmit)
		err = ring_fail(vr, -ENOMEM,
				"no memory for the in-flight "
				"requests");
	for (unsigned int i = 0; !err && i < vr->num; i++) {
		const struct vhu_inflight_desc_packed *d =
			inflight_pentry(vr, i);
		uint8_t flag = __atomic_load_n(&d->inflight, __ATOMIC_RELAXED);

		if (flag > 1)
			err = ring_fail(vr, -EINVAL,
					"in-flight entry %u holds %u", i, flag);
		if (err || flag != 1)
			continue;
		err = inflight_packed_chain(vr, (uint16_t)i, busy, &slots,
					    &e[n].id);
		e[n].head = (uint16_t)i;
		e[n++].counter = __atomic_load_n(&d->counter, __ATOMIC_RELAXED);
	}
	if (!err && slots > vr->num)
		err = ring_fail(vr, -EINVAL,
				"%u descriptors in flight, the ring has %u",
				slots, vr->num);
	if (!err) {
		qsort(e, n, sizeof(*e), by_counter);
		for (unsigned int i = 0; i < n; i++) {
			uint16_t id = e[i].id;

			vr->resubmit[i] = e[i].head;
			vr->inflight_entry[id] = e[i].head;
			order_push(vr, id);
		}
		vr->resubmit_num = n;
		vr->inflight_counter = n ? e[n - 1].counter : 0;
		vr->last_avail_idx = vr->used_idx;
		vr->avail_wrap = vr->used_wrap;
		packed_advance(vr, &vr->last_avail_idx, &vr->avail_wrap,
			       slots % vr->num);
		if (slots == vr->num)
			vr->avail_wrap = !vr->avail_wrap;
		__atomic_store_n(&h->used_idx, vr->used_idx, __ATOMIC_RELAXED);
		__atomic_store_n(&h->used_wrap_counter, vr->used_wrap,
				 __ATOMIC_RELEASE);
	}
	if (!n) {
		free(vr->resubmit);
		vr->resubmit = NULL;
	}
	free(e);
free_list:
	for (unsigned int i = vr->num; !err && i-- > 0;)
		if (!busy[i])
			vr->inflight_free[vr->inflight_free_n++] = (uint16_t)i;
	free(busy);
	return err;
}

static int packed_init(struct vhu_vring *vr, const struct vhu_vring_config *cfg)
{
	uint32_t base = cfg->base;

	vr->packed = true;
	vr->num = cfg->num;
	vr->packed_desc = cfg->packed_desc;
	vr->driver_event = cfg->driver_event;
	vr->device_event = cfg->device_event;
	vr->translate = cfg->translate;
	vr->opaque = cfg->opaque;
	vr->event_idx = virtio_has_feature(cfg->features, VIRTIO_F_EVENT_IDX);
	vr->indirect =
		virtio_has_feature(cfg->features, VIRTIO_F_INDIRECT_DESC);
	/* A frontend that keeps the avail half only: used is there too. */
	if (!(base >> 16))
		base |= base << 16;
	vr->last_avail_idx = base & 0x7fff;
	vr->avail_wrap = base & VIRTQ_PACKED_WRAP;
	vr->used_idx = base >> 16 & 0x7fff;
	vr->used_wrap = base >> 31;
	vr->id_slots = calloc(vr->num, sizeof(*vr->id_slots));
	if (!vr->id_slots)
		return ring_fail(vr, -ENOMEM, "no memory for %u buffer ids",
				 vr->num);
	vr->inflight_packed = cfg->inflight_packed;
	if (vr->inflight_packed) {
		int err = inflight_packed_recover(vr);

		if (err)
			return err;
	}
	__atomic_store_n(&vr->device_event->flags, VIRTQ_EVENT_F_ENABLE,
			 __ATOMIC_RELAXED);
	return 0;
}
