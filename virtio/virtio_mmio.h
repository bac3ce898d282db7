/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 (virtio 1.2, "Virtio Over MMIO"):
 * register offsets within a device's window, the magic value and the
 * interrupt status bits. Registers are 32 bits wide and little-endian;
 * the device-specific config space starts at VIRTIO_MMIO_CONFIG.
 *
 * Names follow the spec's register names (QueueDescLow becomes
 * VIRTIO_MMIO_QUEUE_DESC_LOW); Linux's names for the driver/device areas
 * (QUEUE_AVAIL_*, QUEUE_USED_*) are aliases.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_MMIO_H
#define VUVM_VIRTIO_MMIO_H

#define VIRTIO_MMIO_MAGIC	   0x74726976 /* "virt" read as a little-endian u32 */
#define VIRTIO_MMIO_VERSION_LEGACY 1
#define VIRTIO_MMIO_VERSION_MODERN 2

#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE	0x028 /* legacy only */
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_ALIGN		0x03c /* legacy only */
#define VIRTIO_MMIO_QUEUE_PFN		0x040 /* legacy only */
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_QUEUE_AVAIL_LOW  VIRTIO_MMIO_QUEUE_DRIVER_LOW
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH VIRTIO_MMIO_QUEUE_DRIVER_HIGH
#define VIRTIO_MMIO_QUEUE_USED_LOW   VIRTIO_MMIO_QUEUE_DEVICE_LOW
#define VIRTIO_MMIO_QUEUE_USED_HIGH  VIRTIO_MMIO_QUEUE_DEVICE_HIGH

/* InterruptStatus / InterruptAck bits. */
#define VIRTIO_MMIO_INT_VRING  0x1 /* "used buffer notification" */
#define VIRTIO_MMIO_INT_CONFIG 0x2 /* "configuration change" */

/* Config space a device may expose through the window (spec: no limit;
 * vhost-user caps it at 256 bytes). */
#define VIRTIO_MMIO_CONFIG_MAX 0x100
/* The window a device occupies: registers plus config space. */
#define VIRTIO_MMIO_WINDOW_SIZE 0x200

#endif
