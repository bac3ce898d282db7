/* SPDX-License-Identifier: MIT */
/*
 * The device side of a split virtqueue, as a vhost-user backend runs it:
 * pop the next available descriptor chain as a list of host segments (the
 * readable "out" part first, then the writable "in" part), push used
 * elements and publish the used index, and decide when to notify in either
 * direction, with or without VIRTIO_F_EVENT_IDX.
 *
 * The ring lives in guest memory that the driver writes concurrently, so
 * every index, flag, length and address read from it is untrusted: each
 * descriptor is read once into a local copy and checked (head and next
 * bounds, loops, indirect tables, readable-before-writable order, length
 * overflow, address range through the caller's translation callback). A bad
 * ring makes the call fail with a negative errno and a sentence saying what
 * was wrong (vhu_vring_error()); the ring then stays failed until it is
 * initialised again, so the device can report DEVICE_NEEDS_RESET. Nothing
 * here asserts, exits or touches memory outside what translation allows.
 *
 * Error codes: -EINVAL bad descriptor contents (flags, next, indirect
 * table), -EFAULT an address outside guest memory, -ELOOP a chain longer
 * than its table, -EOVERFLOW a chain whose total length does not fit 32
 * bits, -ENOBUFS more segments than the caller's iovec array holds, -EPROTO
 * the driver's avail index ran more than a queue size ahead.
 *
 * In-flight tracking (INFLIGHT_SHMFD, split layout of vhost-user.md rule 8):
 * when the caller hands vhu_vring_init() a region, pop marks each chain's
 * head in flight with an increasing counter and push clears it after the
 * used index is published, so a later backend process given the same
 * region resubmits what this one popped and never completed. The region is
 * shared with the frontend, so it is as untrusted as the ring itself.
 *
 * Packed rings (VIRTIO_F_RING_PACKED in cfg->features): the same calls
 * walk one descriptor ring instead (virtio/virtio_ring_packed.h). pop takes
 * the chain at the avail position when its first descriptor's AVAIL/USED
 * bits say available for the avail wrap counter, every later descriptor
 * of the chain must be available too, and the buffer id (from the chain's
 * last descriptor, or the indirect descriptor) must be below the queue
 * size and not already in flight; elem->head is that id. An indirect
 * descriptor must be a chain of its own (no NEXT, not after one); its
 * table is read in order (NEXT there is ignored, INDIRECT refused). fill
 * writes the used descriptor (id, len, then the flags with release) at the
 * used position and moves it on by the slots the buffer took; there is
 * nothing left for flush to publish. The driver's event suppression area
 * decides should_notify (ENABLE, DISABLE, or with EVENT_IDX the off_wrap
 * position crossed), and disable/enable_notify write the device's (DISABLE
 * / ENABLE). The position (vhu_vring_get_base()) is the vhost-user 32-bit
 * form: avail slot and wrap counter, used slot and wrap counter. In-flight
 * tracking uses the packed layout (vhost/protocol.h).
 *
 * IN_ORDER (VIRTIO_F_IN_ORDER acked), either layout: fill refuses (-EINVAL)
 * a buffer that is not the oldest one popped, so a device that would use
 * buffers out of order fails loudly instead of confusing the driver.
 *
 * One struct vhu_vring is used by one thread at a time.
 */
#ifndef VUVM_VHOST_VRING_H
#define VUVM_VHOST_VRING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtio_ring.h"
#include "virtio/virtio_ring_packed.h"

#define VHU_VRING_ERROR_LEN 160

/* vhost/protocol.h: one queue's in-flight region (header, then entries). */
struct vhu_inflight_split_header;
struct vhu_inflight_packed_header;

/*
 * Translates guest-physical [@gpa, @gpa + @len) to a host pointer. Returns
 * NULL unless the whole range is mapped contiguously (in practice: lies
 * inside one memory region). @len is never 0.
 */
typedef void *(*vhu_vring_translate_fn)(void *opaque, uint64_t gpa,
					uint64_t len);

/*
 * How many bytes from guest-physical @gpa on are mapped contiguously (to
 * the end of the memory region holding it); 0 when @gpa is not mapped.
 * With it, a buffer that spans several regions becomes one segment per
 * region; without it (NULL), such a buffer breaks the ring.
 */
typedef uint64_t (*vhu_vring_contig_fn)(void *opaque, uint64_t gpa);

/* What vhu_vring_init() needs: host pointers to the three parts (already
 * translated and range-checked by the caller for @num entries). A packed
 * ring sets packed_desc, driver_event and device_event instead of desc,
 * avail and used. */
struct vhu_vring_config {
	unsigned int num;	   /* queue size: a power of 2, 1..32768 */
	struct virtq_desc *desc;   /* 16-byte aligned */
	struct virtq_avail *avail; /* 2-byte aligned */
	struct virtq_used *used;   /* 4-byte aligned */
	/* Packed: 16-, 4- and 4-byte aligned; num need not be a power of 2. */
	struct virtq_packed_desc *packed_desc;
	struct virtq_packed_event *driver_event; /* the driver area */
	struct virtq_packed_event *device_event; /* the device area */
	/* First avail index to pop (SET_VRING_BASE); packed: the 32-bit
	 * position (avail slot, wrap, used slot, wrap; used half 0 means at
	 * the avail position, as from a frontend that keeps 16 bits). */
	uint32_t base;
	/* acked: EVENT_IDX, INDIRECT_DESC, RING_PACKED, IN_ORDER matter */
	uint64_t features;
	vhu_vring_translate_fn translate;
	vhu_vring_contig_fn contig; /* optional */
	void *opaque;
	/* In-flight region of this queue, or NULL (no tracking). The caller
	 * guarantees it maps a header plus @num entries (split layout, or
	 * with a packed ring inflight_packed and the packed layout). */
	struct vhu_inflight_split_header *inflight;
	struct vhu_inflight_packed_header *inflight_packed;
};

struct vhu_vring {
	unsigned int num;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	vhu_vring_translate_fn translate;
	/* Optional; vuvm-backend --bug vu-region-straddle clears it after
	 * vhu_vring_init() (a backend that wants every buffer inside one
	 * region). */
	vhu_vring_contig_fn contig;
	void *opaque;
	bool event_idx;
	bool indirect;
	uint16_t last_avail_idx; /* next avail entry to pop */
	uint16_t used_idx; /* our copy of used->idx, including unpublished */
	uint16_t signalled_used; /* used idx at the last notify decision */
	bool signalled_used_valid;
	int err; /* first error; the ring is dead until re-initialised */
	char error[VHU_VRING_ERROR_LEN];
	struct vhu_inflight_split_header *inflight; /* or NULL */
	uint64_t inflight_counter; /* the last counter given to a pop */
	/* Heads a previous process left in flight, in counter order: pop
	 * hands them out before new avail entries (malloc'd, or NULL). */
	uint16_t *resubmit;
	unsigned int resubmit_num;  /* found at init */
	unsigned int resubmit_next; /* handed out so far */
	/* Test aid for vuvm-backend --bug indirect-after-chain, false
	 * otherwise: INDIRECT is honoured only on a chain's head; later in a
	 * chain that descriptor is taken as a plain buffer, as backends that
	 * look for INDIRECT at the head only do. Set by the caller after
	 * vhu_vring_init(), which clears it. */
	bool indirect_head_only;
	/* Test aid for vuvm-backend --bug desc-next-by-index, false
	 * otherwise: a chain in the ring's table is walked through
	 * consecutive descriptors, the next field ignored, as devices that
	 * assume a driver lays chains out in order do. Set like
	 * indirect_head_only. */
	bool next_by_index;
	/* Test aids for vuvm-backend --bug, 0 otherwise: VHU_VRING_BUG_*
	 * bits (below), set by the caller after vhu_vring_init(), which
	 * clears them; bug_avail_count is VHU_VRING_BUG_INDEX_U16's. */
	unsigned int bugs;
	uint16_t bug_avail_count;
	/* Packed ring (all NULL/0 for a split one). last_avail_idx and
	 * used_idx are then slots (0..num-1) with their wrap counters. */
	bool packed;
	struct virtq_packed_desc *packed_desc;
	struct virtq_packed_event *driver_event;
	struct virtq_packed_event *device_event;
	bool avail_wrap;
	bool used_wrap;
	bool signalled_wrap; /* with signalled_used */
	/* Per buffer id: descriptor slots its chain took, 0 when not in
	 * flight (malloc'd, num entries). */
	uint16_t *id_slots;
	struct vhu_inflight_packed_header *inflight_packed; /* or NULL */
	uint16_t *inflight_entry; /* per id: its head entry in the region */
	uint16_t *inflight_free;  /* free entries of the region (a stack) */
	unsigned int inflight_free_n;
	/* IN_ORDER: the ids (split: heads) popped and not yet used, oldest
	 * first, in a ring of num (malloc'd; NULL without IN_ORDER). */
	bool in_order;
	uint16_t *order;
	unsigned int order_first, order_len;
};

/*
 * vhu_vring.bugs: known kinds of packed-ring and IN_ORDER defects, each
 * injected by one vuvm-backend --bug for vuvm-check to catch.
 */
#define VHU_VRING_BUG_ID_FROM_HEAD    (1u << 0) /* id of a chain's 1st desc */
#define VHU_VRING_BUG_WRAP_FROM_AVAIL (1u << 1) /* used bits: avail counter */
#define VHU_VRING_BUG_NO_WRITE_FLAG   (1u << 2) /* used flags never WRITE */
#define VHU_VRING_BUG_USED_EVERY_SLOT (1u << 3) /* used desc in every slot */
#define VHU_VRING_BUG_WRITE_INDIRECT  (1u << 4) /* table entries marked used */
#define VHU_VRING_BUG_CHAIN_WRAP_CUT  (1u << 5) /* chain ends at last slot */
#define VHU_VRING_BUG_INDIRECT_NEXT   (1u << 6) /* NEXT obeyed in a table */
#define VHU_VRING_BUG_ORDER_UNCHECKED (1u << 7) /* IN_ORDER not enforced */
#define VHU_VRING_BUG_INDEX_U16	      (1u << 8) /* position = u16 count % num */

/*
 * One popped chain. The caller points @iov at an array of @iov_max entries
 * before vhu_vring_pop(); pop fills iov[0, out_num) with the readable
 * segments and iov[out_num, out_num + in_num) with the writable ones.
 * Zero-length descriptors produce no segment.
 */
struct vhu_vring_elem {
	struct iovec *iov;
	unsigned int iov_max;
	uint16_t head; /* the id to give vhu_vring_push() */
	unsigned int out_num;
	unsigned int in_num;
	uint32_t out_len; /* total readable bytes */
	uint32_t in_len;  /* total writable bytes */
};

/*
 * Starts using the ring described by @cfg. The device's used index is taken
 * from used->idx, the avail position from cfg->base. With EVENT_IDX,
 * avail_event is set to base so the driver's next kick arrives. Returns 0,
 * or -EINVAL (with a sentence) for a bad size, misaligned pointer or
 * missing callback.
 *
 * With cfg->inflight: an all-zero region is initialised (version 1,
 * desc_num = num). A region holding a previous process's state is
 * recovered as libvhost-user does: a push that completed in the ring but
 * not in the region is finished, the avail position becomes used->idx
 * plus the entries in flight (cfg->base is then ignored; compare
 * vhu_vring_get_base() with it to log that), and those entries are popped
 * again first, in counter order (vr->resubmit_num of them). A region with
 * the wrong version or made for fewer descriptors than @num (more is
 * fine: a driver may choose a smaller ring), a head out of range, an
 * in-flight flag other than 0 or 1, or more entries in flight than the
 * driver has outstanding fails with -EINVAL; no memory for the resubmit
 * list, -ENOMEM.
 *
 * Call vhu_vring_cleanup() before initialising @vr again.
 */
int vhu_vring_init(struct vhu_vring *vr, const struct vhu_vring_config *cfg);

/* Frees what vhu_vring_init() allocated (the resubmit list); @vr may be
 * cleaned up twice, or without ever having been initialised if zeroed. */
void vhu_vring_cleanup(struct vhu_vring *vr);

/* The sentence describing the ring's failure ("" when none). */
const char *vhu_vring_error(const struct vhu_vring *vr);

/* The avail index the device will pop next: what GET_VRING_BASE reports
 * (packed: the 32-bit position with the used side). */
static inline uint32_t vhu_vring_get_base(const struct vhu_vring *vr)
{
	if (vr->packed)
		return virtq_packed_base(vr->last_avail_idx, vr->avail_wrap,
					 vr->used_idx, vr->used_wrap);
	return vr->last_avail_idx;
}

/*
 * How many chains the driver has made available and the device has not
 * popped: 0..num, or -EPROTO when the avail index is more than num ahead.
 * Packed: 1 when a chain is waiting at the avail position, else 0.
 */
int vhu_vring_pending(struct vhu_vring *vr);

/*
 * Pops the next available chain into @elem: a resubmitted in-flight head
 * first (its chain walked from the descriptor table again), else the next
 * avail entry. Returns 1 with @elem filled, 0 when the ring is empty, or a
 * negative errno (see above) when the ring is broken. With EVENT_IDX,
 * avail_event follows the popped position.
 */
int vhu_vring_pop(struct vhu_vring *vr, struct vhu_vring_elem *elem);

/*
 * Adds a used element (@head from a popped chain, @len bytes written into
 * its writable part) without publishing it; vhu_vring_flush() publishes all
 * filled elements at once. Returns 0, or -EINVAL when @head is out of range
 * or more elements would be used than were popped.
 *
 * With an in-flight region, fill publishes the element itself (each one
 * is its own batch): the region has room for one last_batch_head, the only
 * entry that can be caught between the used index store and its clear.
 */
int vhu_vring_fill(struct vhu_vring *vr, uint16_t head, uint32_t len);

/* Publishes filled elements: used->idx is stored with release semantics,
 * after the element writes. */
void vhu_vring_flush(struct vhu_vring *vr);

/* vhu_vring_fill() then vhu_vring_flush(). */
int vhu_vring_push(struct vhu_vring *vr, uint16_t head, uint32_t len);

/*
 * Whether the driver wants a used-buffer notification now, for what was
 * published since the last call: with EVENT_IDX through vring_need_event()
 * on used_event, else unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT.
 * Call after vhu_vring_flush(); signal the call fd when it returns true.
 */
bool vhu_vring_should_notify(struct vhu_vring *vr);

/*
 * Kick suppression while the device is busy polling the ring: disable sets
 * VIRTQ_USED_F_NO_NOTIFY (a no-op with EVENT_IDX, where avail_event only
 * moves on pop). Enable clears it or, with EVENT_IDX, sets avail_event to
 * the current position; it returns true if chains arrived meanwhile, which
 * the caller must then process (otherwise their kick may have been lost).
 */
void vhu_vring_disable_notify(struct vhu_vring *vr);
bool vhu_vring_enable_notify(struct vhu_vring *vr);

#endif
