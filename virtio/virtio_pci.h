/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci transport, modern interface only (virtio 1.2, "Virtio Over
 * PCI Bus"): PCI IDs, the vendor-specific capabilities that locate each
 * configuration structure in a BAR, the common configuration layout, and
 * the ISR bits. Legacy (I/O BAR 0) devices are not supported.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_PCI_H
#define VUVM_VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_PCI_VENDOR_ID 0x1af4
/* Modern device ID = VIRTIO_PCI_DEVICE_ID_BASE + virtio device ID. */
#define VIRTIO_PCI_DEVICE_ID_BASE   0x1040
#define VIRTIO_PCI_REVISION_MODERN  1
#define VIRTIO_PCI_SUBSYS_VENDOR_ID 0x1af4

/* PCI capability ID of every virtio structure capability. */
#define VIRTIO_PCI_CAP_VNDR 0x09

/* cfg_type of struct virtio_pci_cap. */
#define VIRTIO_PCI_CAP_COMMON_CFG	 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	 2
#define VIRTIO_PCI_CAP_ISR_CFG		 3
#define VIRTIO_PCI_CAP_DEVICE_CFG	 4
#define VIRTIO_PCI_CAP_PCI_CFG		 5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG 8
#define VIRTIO_PCI_CAP_VENDOR_CFG	 9

/* Where a structure lives: @bar at @offset, @length bytes. */
struct virtio_pci_cap {
	uint8_t cap_vndr; /* VIRTIO_PCI_CAP_VNDR */
	uint8_t cap_next;
	uint8_t cap_len;  /* length of this capability, including extras */
	uint8_t cfg_type; /* VIRTIO_PCI_CAP_* */
	uint8_t bar;	  /* 0x0..0x5 */
	uint8_t id;	  /* tells several caps of one type apart */
	uint8_t padding[2];
	uint32_t offset;
	uint32_t length;
};
_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap");

/* Shared-memory capabilities need 64-bit offsets and lengths. */
struct virtio_pci_cap64 {
	struct virtio_pci_cap cap;
	uint32_t offset_hi;
	uint32_t length_hi;
};
_Static_assert(sizeof(struct virtio_pci_cap64) == 24, "virtio_pci_cap64");

/* Queue n is notified at cap.offset + queue_notify_off * multiplier. */
struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	uint32_t notify_off_multiplier;
};
_Static_assert(sizeof(struct virtio_pci_notify_cap) == 20, "notify cap");

/* Window into any BAR through PCI config space. */
struct virtio_pci_cfg_cap {
	struct virtio_pci_cap cap;
	uint8_t pci_cfg_data[4];
};
_Static_assert(sizeof(struct virtio_pci_cfg_cap) == 20, "pci cfg cap");

/*
 * The common configuration structure. Packed because the spec's layout ends
 * at 60 bytes, which is not a multiple of the u64 fields' alignment.
 */
struct virtio_pci_common_cfg {
	/* About the whole device. */
	uint32_t device_feature_select;
	uint32_t device_feature; /* read-only */
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;
	uint16_t num_queues; /* read-only */
	uint8_t device_status;
	uint8_t config_generation; /* read-only */
	/* About the queue selected by queue_select. */
	uint16_t queue_select;
	uint16_t queue_size;
	uint16_t queue_msix_vector;
	uint16_t queue_enable;
	uint16_t queue_notify_off; /* read-only */
	uint64_t queue_desc;
	uint64_t queue_driver;
	uint64_t queue_device;
	uint16_t queue_notif_config_data; /* read-only */
	uint16_t queue_reset;		  /* VIRTIO_F_RING_RESET */
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_pci_common_cfg) == 60, "common cfg");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc) == 32,
	       "queue_desc offset");

/* Byte offsets in the common configuration, for a transport's register
 * decoder (a 64-bit field may be accessed as two 32-bit halves). */
#define VIRTIO_PCI_COMMON_DFSELECT	0
#define VIRTIO_PCI_COMMON_DF		4
#define VIRTIO_PCI_COMMON_GFSELECT	8
#define VIRTIO_PCI_COMMON_GF		12
#define VIRTIO_PCI_COMMON_MSIX		16
#define VIRTIO_PCI_COMMON_NUMQ		18
#define VIRTIO_PCI_COMMON_STATUS	20
#define VIRTIO_PCI_COMMON_CFGGENERATION 21
#define VIRTIO_PCI_COMMON_Q_SELECT	22
#define VIRTIO_PCI_COMMON_Q_SIZE	24
#define VIRTIO_PCI_COMMON_Q_MSIX	26
#define VIRTIO_PCI_COMMON_Q_ENABLE	28
#define VIRTIO_PCI_COMMON_Q_NOFF	30
#define VIRTIO_PCI_COMMON_Q_DESCLO	32
#define VIRTIO_PCI_COMMON_Q_DESCHI	36
#define VIRTIO_PCI_COMMON_Q_AVAILLO	40
#define VIRTIO_PCI_COMMON_Q_AVAILHI	44
#define VIRTIO_PCI_COMMON_Q_USEDLO	48
#define VIRTIO_PCI_COMMON_Q_USEDHI	52
#define VIRTIO_PCI_COMMON_Q_NDATA	56
#define VIRTIO_PCI_COMMON_Q_RESET	58
#define VIRTIO_PCI_COMMON_CFG_SIZE	60

_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_reset) ==
		       VIRTIO_PCI_COMMON_Q_RESET,
	       "common cfg offsets");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) ==
		       VIRTIO_PCI_COMMON_Q_SELECT,
	       "common cfg offsets");

/* ISR status byte: read-to-clear. */
#define VIRTIO_PCI_ISR_QUEUE  0x1
#define VIRTIO_PCI_ISR_CONFIG 0x2

/* "No MSI-X vector" for config_msix_vector and queue_msix_vector. */
#define VIRTIO_MSI_NO_VECTOR 0xffff

#endif
