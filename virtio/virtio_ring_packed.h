/* SPDX-License-Identifier: MIT */
/*
 * The packed virtqueue (virtio 1.2, "Packed Virtqueues",
 * VIRTIO_F_RING_PACKED): one descriptor ring that the driver and the device
 * both write, told apart by the AVAIL and USED flag bits and each side's
 * wrap counter, and the two event suppression structures (the driver area,
 * written by the driver, and the device area, written by the device).
 *
 * A descriptor is available when its AVAIL bit equals the driver's wrap
 * counter and its USED bit does not; it is used when both bits equal the
 * device's wrap counter. Each wrap counter starts at 1 and flips every time
 * its side goes past the last slot of the ring.
 *
 * The vhost-user ring position of a packed ring (SET_VRING_BASE and
 * GET_VRING_BASE) packs both sides' positions into 32 bits: bits 0-14 the
 * next slot the device reads, bit 15 its avail wrap counter, bits 16-30 the
 * next slot it writes a used descriptor to, bit 31 its used wrap counter.
 *
 * All fields are little-endian. Freestanding, like virtio_ring.h.
 */
#ifndef VUVM_VIRTIO_RING_PACKED_H
#define VUVM_VIRTIO_RING_PACKED_H

#include <stdbool.h>
#include <stdint.h>

/* Descriptor flags beyond NEXT, WRITE and INDIRECT (virtio_ring.h). */
#define VIRTQ_DESC_F_AVAIL (1u << 7)
#define VIRTQ_DESC_F_USED  (1u << 15)

struct virtq_packed_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;
	uint16_t id; /* the buffer's id, chosen by the driver */
	uint16_t flags;
};
_Static_assert(sizeof(struct virtq_packed_desc) == 16, "packed desc");

/* Event suppression flags (the low 2 bits of flags). */
#define VIRTQ_EVENT_F_ENABLE  0 /* notify always */
#define VIRTQ_EVENT_F_DISABLE 1 /* never notify */
#define VIRTQ_EVENT_F_DESC    2 /* at off_wrap (with EVENT_IDX only) */

/* The driver area and the device area have this layout: off_wrap holds a
 * ring slot in bits 0-14 and a wrap counter in bit 15. */
struct virtq_packed_event {
	uint16_t off_wrap;
	uint16_t flags;
};
_Static_assert(sizeof(struct virtq_packed_event) == 4, "packed event");

/* Byte sizes and alignments of the three parts. */
#define VIRTQ_PACKED_DESC_ALIGN	 16
#define VIRTQ_PACKED_EVENT_ALIGN 4

static inline uint64_t virtq_packed_desc_size(unsigned int num)
{
	return 16ull * num;
}

static inline uint64_t virtq_packed_event_size(void)
{
	return 4;
}

/* The vhost-user 32-bit ring position (see above). */
#define VIRTQ_PACKED_WRAP (1u << 15)

static inline uint32_t virtq_packed_base(uint16_t avail, bool avail_wrap,
					 uint16_t used, bool used_wrap)
{
	return (uint32_t)(avail & 0x7fff) |
	       (avail_wrap ? VIRTQ_PACKED_WRAP : 0) |
	       (uint32_t)(used & 0x7fff) << 16 |
	       (used_wrap ? (uint32_t)VIRTQ_PACKED_WRAP << 16 : 0);
}

#endif
