// SPDX-License-Identifier: MIT
/*
 * Compiles every virtio/ header together in a freestanding translation unit.
 * The build compiles this file twice: once with -ffreestanding -std=c11
 * -pedantic, once with -nostdinc and only the compiler's own include
 * directory, so a libc or OS include in virtio/ fails the build. Each header
 * is also compiled alone (generated units) to prove it is self-contained.
 */
#include "virtio/virtio_blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_console.h"
#include "virtio/virtio_fs.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_pci.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_vsock.h"

#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
#error "virtio headers must be checked in a freestanding unit"
#endif

/* Layout facts that the headers' own asserts do not spell out. */
_Static_assert(VIRTIO_MMIO_QUEUE_DESC_HIGH == VIRTIO_MMIO_QUEUE_DESC_LOW + 4,
	       "mmio desc high");
_Static_assert(VIRTIO_PCI_COMMON_CFG_SIZE ==
		       sizeof(struct virtio_pci_common_cfg),
	       "common cfg size");
_Static_assert(VIRTIO_BIT(VIRTIO_F_VERSION_1) == 0x100000000ull, "bit 32");
_Static_assert(offsetof(struct virtq_used, ring) == 4, "used ring offset");
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "avail ring offset");

/* Something to link against, so the unit is not empty. */
int virtio_headers_check(void);
int virtio_headers_check(void)
{
	return (int)virtq_used_size(VIRTQ_MAX_SIZE) + vring_need_event(0, 1, 0);
}
