/* SPDX-License-Identifier: MIT */
/*
 * The packed virtqueue (virtio 1.2, "Packed Virtqueues", 2.8): one ring of
 * descriptors that the driver makes available and the device marks used in
 * place, plus two event suppression areas (the driver's, read by the
 * device; the device's, read by the driver).
 *
 * A descriptor is available when its AVAIL bit equals the driver's wrap
 * counter and its USED bit does not; it is used when both equal the
 * device's wrap counter. Each side flips its wrap counter whenever its
 * position wraps to slot 0; both start at 1.
 *
 * With VIRTIO_F_RING_PACKED, a transport's three queue addresses are the
 * descriptor ring, the driver event suppression area and the device event
 * suppression area (in the split ring's desc, driver/avail, device/used
 * places). vhost-user's SET/GET_VRING_BASE carry the position in bits 0-14
 * and the wrap counter in bit 15.
 *
 * Little-endian, freestanding (the guest includes it too).
 */
#ifndef VUVM_VIRTIO_RING_PACKED_H
#define VUVM_VIRTIO_RING_PACKED_H

#include <stdbool.h>
#include <stdint.h>

/* Largest packed queue size (any value 1..32768, not only powers of 2). */
#define PVIRTQ_MAX_SIZE 32768u

/* Descriptor flags: NEXT, WRITE, INDIRECT as in the split ring, and: */
#define PVIRTQ_DESC_F_AVAIL (1u << 7)
#define PVIRTQ_DESC_F_USED  (1u << 15)

struct pvirtq_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;  /* used descriptor: bytes the device wrote */
	uint16_t id;   /* buffer id, chosen by the driver */
	uint16_t flags;
};
_Static_assert(sizeof(struct pvirtq_desc) == 16, "pvirtq_desc is 16 bytes");

/* Event suppression flags (the low 2 bits of flags). */
#define PVIRTQ_EVENT_F_ENABLE  0 /* notify on every event */
#define PVIRTQ_EVENT_F_DISABLE 1 /* never notify */
#define PVIRTQ_EVENT_F_DESC    2 /* notify at off_wrap (EVENT_IDX only) */

/* off_wrap: descriptor ring offset in bits 0-14, wrap counter in bit 15. */
#define PVIRTQ_WRAP_SHIFT 15

struct pvirtq_event_suppress {
	uint16_t off_wrap;
	uint16_t flags;
};
_Static_assert(sizeof(struct pvirtq_event_suppress) == 4,
	       "pvirtq_event_suppress is 4 bytes");

/* Alignments: descriptor ring 16, each event suppression area 4. */
#define PVIRTQ_DESC_ALIGN  16
#define PVIRTQ_EVENT_ALIGN 4

static inline uint64_t pvirtq_desc_size(unsigned int num)
{
	return 16ull * num;
}

static inline bool pvirtq_size_valid(unsigned int num)
{
	return num && num <= PVIRTQ_MAX_SIZE;
}

/* Whether @flags mark a descriptor used in the lap of wrap counter @wrap. */
static inline bool pvirtq_desc_is_used(uint16_t flags, bool wrap)
{
	bool avail = flags & PVIRTQ_DESC_F_AVAIL,
	     used = flags & PVIRTQ_DESC_F_USED;

	return avail == used && used == wrap;
}

static inline uint16_t pvirtq_off_wrap(uint16_t off, bool wrap)
{
	return (uint16_t)(off | (uint16_t)wrap << PVIRTQ_WRAP_SHIFT);
}

#endif
