/* SPDX-License-Identifier: MIT */
/*
 * The split virtqueue (virtio 1.2, "Split Virtqueues"): descriptor table,
 * available ring and used ring, their sizes and alignments, and the
 * event-index helpers that both the driver (guest) and the device (backend)
 * use to decide whether to notify.
 *
 * All fields are little-endian, the native order of the x86-64 guest and
 * host; the driver and the device must treat every field written by the
 * other side as untrusted.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_RING_H
#define VUVM_VIRTIO_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest queue size a split ring can have (a power of 2 up to 32768). */
#define VIRTQ_MAX_SIZE 32768u

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT     1 /* continues through the next field */
#define VIRTQ_DESC_F_WRITE    2 /* device-writable (otherwise readable) */
#define VIRTQ_DESC_F_INDIRECT 4 /* buffer is a table of descriptors */

struct virtq_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");

/* The driver asks the device not to interrupt (ignored with EVENT_IDX). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Followed by uint16_t used_event when VIRTIO_F_EVENT_IDX is negotiated. */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};
_Static_assert(sizeof(struct virtq_avail) == 4, "virtq_avail header");

/* The device asks the driver not to notify (ignored with EVENT_IDX). */
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_used_elem {
	uint32_t id;  /* head of the used descriptor chain (32 bits for padding)
		       */
	uint32_t len; /* bytes written into the device-writable part */
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem");

/* Followed by uint16_t avail_event when VIRTIO_F_EVENT_IDX is negotiated. */
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};
_Static_assert(sizeof(struct virtq_used) == 4, "virtq_used header");

/* Alignment each part needs in guest memory (virtio 1.x, not legacy). */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4
/* Legacy (virtio 0.9.5) contiguous layout: used ring on a page boundary. */
#define VIRTQ_LEGACY_ALIGN 4096

/* Byte sizes of each part for a queue of @num entries, event fields
 * included: desc 16*n, avail 6+2*n, used 6+8*n. */
static inline uint64_t virtq_desc_size(unsigned int num)
{
	return 16ull * num;
}

static inline uint64_t virtq_avail_size(unsigned int num)
{
	return 6ull + 2ull * num;
}

static inline uint64_t virtq_used_size(unsigned int num)
{
	return 6ull + 8ull * num;
}

/* Whether @num is a valid split queue size: a power of 2, 1..32768. */
static inline bool virtq_size_valid(unsigned int num)
{
	return num && num <= VIRTQ_MAX_SIZE && !(num & (num - 1));
}

/* Rounds @x up to @align, a power of 2. */
static inline uint64_t virtq_align(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

/*
 * A contiguous layout (desc, avail, used after padding to @align) as legacy
 * transports and simple drivers use it: offset of the used ring, and the
 * total size.
 */
static inline uint64_t virtq_used_offset(unsigned int num, uint64_t align)
{
	return virtq_align(virtq_desc_size(num) + virtq_avail_size(num), align);
}

static inline uint64_t virtq_total_size(unsigned int num, uint64_t align)
{
	return virtq_used_offset(num, align) + virtq_used_size(num);
}

/*
 * The event-index fields sit just past each ring: used_event after the
 * avail ring (written by the driver, read by the device), avail_event after
 * the used ring (written by the device, read by the driver).
 */
static inline volatile uint16_t *
virtq_used_event(volatile struct virtq_avail *a, unsigned int num)
{
	return &a->ring[num];
}

static inline volatile uint16_t *
virtq_avail_event(volatile struct virtq_used *u, unsigned int num)
{
	return (volatile uint16_t *)&u->ring[num];
}

/*
 * Whether moving an index from @old_idx to @new_idx crossed @event_idx, i.e.
 * whether the other side asked to be notified within that step. All
 * arithmetic is modulo 2^16, so it works across wrap-around.
 */
static inline bool vring_need_event(uint16_t event_idx, uint16_t new_idx,
				    uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) <
	       (uint16_t)(new_idx - old_idx);
}

#endif
