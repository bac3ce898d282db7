/* SPDX-License-Identifier: MIT */
/*
 * The driver side of a virtqueue, split or packed: what the guest's virtio
 * drivers use to hand buffers to a device and take them back. One struct
 * and one set of calls for both ring types; virtq_init picks the type from
 * the negotiated features (VIRTIO_F_RING_PACKED), and each call branches
 * once on it (virtq.c is the split ring, virtq_packed.c the packed one).
 *
 * Portable C: the same source is built freestanding into the guest and
 * hosted into tests/guest/virtq_test, where it runs against vhost/'s
 * device-side ring walker. It includes only <stdbool.h>, <stddef.h>,
 * <stdint.h>, <string.h>, <stdio.h> (snprintf) and the virtio/ headers.
 *
 * Memory: the caller gives one zero-able block (virtq_mem_size() bytes,
 * 16-byte aligned) as a pointer the driver writes through plus the
 * guest-physical address the device will see for it. The block holds the
 * rings (split: descriptor table, avail ring, used ring; packed: descriptor
 * ring, driver and device event suppression areas), one indirect table
 * per head (split) or buffer id (packed) when indirect chains are wanted,
 * and the driver's own bookkeeping. The three addresses a transport gives
 * the device are desc_gpa, avail_gpa (driver area) and used_gpa (device
 * area) for both types. Buffers are passed as guest-physical address +
 * length; the driver never touches them.
 *
 * Everything the device writes (used ring, avail_event, used flags; packed:
 * used descriptors, their flags and wrap bits, the device event area) is
 * untrusted: a used index running ahead, an id out of range or not in
 * flight (or, with IN_ORDER, not the next in order), a length larger than
 * the chain's writable part, or packed flags that are neither "available"
 * nor "used" in the current lap marks the queue broken with a sentence
 * (virtq_error()); from then on every call fails with VIRTQ_EBROKEN until
 * virtq_init() is called again, so the driver can reset the device.
 * Nothing here asserts.
 *
 * Packed ring: buffer ids come from their own free list, independent of
 * ring slots; a chain takes consecutive slots (wrapping, with the wrap
 * counter's AVAIL/USED bits per slot) and its head's flags are written
 * last, with release, so the device may see it at once. Used descriptors
 * are taken at the driver's used position, which then skips the buffer's
 * slot count. A used descriptor without VIRTQ_DESC_F_WRITE reports 0
 * bytes: its length field is reserved then, and drivers ignore it.
 *
 * IN_ORDER (both types): the driver remembers the order buffers were made
 * available in, and a used entry must name the oldest buffer in flight or
 * a later one; naming a later one means the device used a batch and wrote
 * only its last entry (split: at the batch's first used ring position,
 * with used idx moved by the batch size; packed: at the batch's first
 * slot), so the buffers before it are returned too, each with its whole
 * writable length, as the spec says they are assumed fully used.
 *
 * One struct virtq is used by one CPU at a time.
 *
 * Contracts:
 *   virtq_mem_size: bytes of the block for a queue of @num entries of
 *     either ring type, with room for indirect tables of @indirect_max
 *     descriptors (0: none).
 *   virtq_init: lays the rings out in the block, zeroes it, and builds the
 *     free list. @features are the negotiated ones (EVENT_IDX,
 *     INDIRECT_DESC, RING_PACKED and IN_ORDER matter). Returns 0 or
 *     VIRTQ_EINVAL (bad size or alignment).
 *   virtq_add: makes a chain of @out readable then @in writable buffers
 *     available under @token (not NULL), direct or through the head's
 *     indirect table (see indirect_threshold). Split: the entry is in the
 *     ring but the device sees it only after virtq_kick_prepare(); packed:
 *     the device may see it at once. Returns 0,
 *     VIRTQ_ENOSPC when the ring has too few free descriptors (retry after
 *     virtq_get_used), VIRTQ_EINVAL for an empty or oversized chain.
 *   virtq_kick_prepare: publishes the avail index (release) and says
 *     whether the device wants a notification for what was added since the
 *     last call (EVENT_IDX: vring_need_event on avail_event, packed: on the
 *     device area's off_wrap when its flags say DESC; otherwise unless the
 *     device set VIRTQ_USED_F_NO_NOTIFY, packed: flags DISABLE).
 *   virtq_get_used: takes the next used element (acquire). Returns 1 with
 *     @token and @len (bytes the device wrote) filled, 0 when there is
 *     none, or a negative code when the device misbehaved.
 *   virtq_has_used: whether virtq_get_used would return nonzero.
 *   virtq_disable_cb / virtq_enable_cb: ask the device to hold back or to
 *     send used-buffer interrupts (EVENT_IDX: used_event far away / at the
 *     next entry; otherwise the avail NO_INTERRUPT flag; packed: the
 *     driver area's flags DISABLE, or DESC with off_wrap at the next used
 *     slot under EVENT_IDX, ENABLE without). enable returns
 *     true when used entries are already pending; the caller must process
 *     them instead of waiting for an interrupt that may never come.
 */
#ifndef VUVM_GUEST_VIRTQ_H
#define VUVM_GUEST_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_ring.h"
#include "virtio/virtio_ring_packed.h"

/* Negative errno values, spelled out because the guest has no errno.h. */
#define VIRTQ_EINVAL  (-22)
#define VIRTQ_ENOSPC  (-28)
#define VIRTQ_EPROTO  (-71)  /* the device wrote something impossible */
#define VIRTQ_EBROKEN (-131) /* ENOTRECOVERABLE: an earlier EPROTO */

#define VIRTQ_ERROR_LEN 128
/* Driver's limit on one chain's segments, direct or indirect. */
#define VIRTQ_MAX_SEGS 64

/* One buffer of a chain. */
struct virtq_buf {
	uint64_t addr; /* guest-physical */
	uint32_t len;
};

/* What the driver remembers about a chain, indexed by its head (split) or
 * its buffer id (packed). */
struct virtq_head {
	void *token;	 /* NULL while the head is free */
	uint32_t in_len; /* writable bytes: the most the device may report */
	uint16_t ndesc;	 /* ring descriptors it holds (1 if indirect) */
	uint16_t next_free;
};

struct virtq {
	unsigned int num;
	bool packed;   /* VIRTIO_F_RING_PACKED */
	bool in_order; /* VIRTIO_F_IN_ORDER */
	/* Driver's view of the rings; *_gpa is what the device is given. */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Packed: the ring and both event suppression areas. */
	struct virtq_packed_desc *pdesc;
	struct virtq_packed_event *driver_event, *device_event;
	/* One table of indirect_max descriptors per head, or NULL. */
	struct virtq_desc *indirect;
	uint64_t indirect_gpa;
	unsigned int indirect_max;
	struct virtq_head *heads;

	bool event_idx;
	/*
	 * Chains of at least this many buffers go through an indirect table
	 * (0: never). virtq_init sets 2 when INDIRECT_DESC was negotiated and
	 * tables exist; drivers and tests may change it at any time.
	 */
	unsigned int indirect_threshold;
	/*
	 * Test knob (0: off): with indirect tables, a chain of more buffers
	 * than this puts its first indirect_after buffers in ring descriptors
	 * and the rest in the head's indirect table, named by one more ring
	 * descriptor at the end of the chain: a layout virtio allows and
	 * Linux never makes, so devices must be shown to handle it.
	 */
	unsigned int indirect_after;

	/* First free descriptor (split) or buffer id (packed); num_free
	 * counts free descriptors (split) or ring slots (packed). */
	uint16_t free_head;
	unsigned int num_free;
	/* Split: next avail entry (published or not); packed: next slot. */
	uint16_t avail_idx;
	uint16_t kicked_avail_idx; /* split: avail idx at the last kick */
	/* Split: next used entry to take; packed: next slot to look at. */
	uint16_t last_used;
	unsigned int in_flight; /* chains added, not yet taken back */
	/* Packed: wrap counters of avail_idx and last_used; slots made
	 * available since the last kick_prepare. */
	bool avail_wrap, used_wrap;
	uint16_t num_added;
	/*
	 * IN_ORDER: heads (split) or ids (packed) in the order they were
	 * made available, the oldest at order[order_first]; batch_left
	 * buffers of a batch are still to be returned, the last of them
	 * with batch_len.
	 */
	uint16_t *order;
	unsigned int order_first;
	unsigned int batch_left;
	uint32_t batch_len;

	int err;
	char error[VIRTQ_ERROR_LEN];
};

uint64_t virtq_mem_size(unsigned int num, unsigned int indirect_max);
int virtq_init(struct virtq *vq, unsigned int num, void *mem, uint64_t gpa,
	       uint64_t features, unsigned int indirect_max);
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned int out,
	      unsigned int in, void *token);
bool virtq_kick_prepare(struct virtq *vq);
int virtq_get_used(struct virtq *vq, void **token, uint32_t *len);
bool virtq_has_used(const struct virtq *vq);
void virtq_disable_cb(struct virtq *vq);
bool virtq_enable_cb(struct virtq *vq);

/* The sentence describing why the queue broke ("" when it has not). */
static inline const char *virtq_error(const struct virtq *vq)
{
	return vq->error;
}

/* Free ring descriptors, for drivers that size their batches. */
static inline unsigned int virtq_num_free(const struct virtq *vq)
{
	return vq->num_free;
}

#endif
