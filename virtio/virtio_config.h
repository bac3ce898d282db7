/* SPDX-License-Identifier: MIT */
/*
 * Device status bits and the feature bits common to every device type
 * (virtio 1.2, "Device Status Field" and "Reserved Feature Bits").
 *
 * Feature bits are numbers, not masks: test them with VIRTIO_BIT(n) against
 * the 64-bit feature word. Bits 0-23 belong to the device type, 24-40 to
 * the ring and transport, 50 and above are device-type bits again.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_CONFIG_H
#define VUVM_VIRTIO_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* The 64-bit mask of feature bit @n. */
#define VIRTIO_BIT(n) (1ull << (n))

/* Device status (one byte, written by the driver, 0 resets the device). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 1
#define VIRTIO_CONFIG_S_DRIVER	    2
#define VIRTIO_CONFIG_S_DRIVER_OK   4
#define VIRTIO_CONFIG_S_FEATURES_OK 8
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED	    0x80

/* Transport and ring feature bits, spec names. */
#define VIRTIO_F_NOTIFY_ON_EMPTY   24 /* legacy only */
#define VIRTIO_F_ANY_LAYOUT	   27 /* legacy only; implied by VERSION_1 */
#define VIRTIO_F_INDIRECT_DESC	   28
#define VIRTIO_F_EVENT_IDX	   29
#define VIRTIO_F_VERSION_1	   32
#define VIRTIO_F_ACCESS_PLATFORM   33
#define VIRTIO_F_RING_PACKED	   34
#define VIRTIO_F_IN_ORDER	   35
#define VIRTIO_F_ORDER_PLATFORM	   36
#define VIRTIO_F_SR_IOV		   37
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_NOTIF_CONFIG_DATA 39
#define VIRTIO_F_RING_RESET	   40

/* Linux's names for the two ring bits, for readers coming from there. */
#define VIRTIO_RING_F_INDIRECT_DESC VIRTIO_F_INDIRECT_DESC
#define VIRTIO_RING_F_EVENT_IDX	    VIRTIO_F_EVENT_IDX

/* The range of bits that are not device-specific. */
#define VIRTIO_TRANSPORT_F_START 24
#define VIRTIO_TRANSPORT_F_END	 41

/* Whether bit @bit is set in @features. */
static inline bool virtio_has_feature(uint64_t features, unsigned int bit)
{
	return bit < 64 && (features & VIRTIO_BIT(bit));
}

#endif
