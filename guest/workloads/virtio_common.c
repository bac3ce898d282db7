// SPDX-License-Identifier: MIT
/*
 * Helpers of the virtio workloads (see virtio_common.h).
 */
#include "workloads/virtio_common.h"

#include <stdio.h>
#include <string.h>

#include "lib/kv.h"
#include "lib/report.h"

int vw_mode(const char *args)
{
	char mode[8];
	int n = kv_get(args, "mode", mode, sizeof(mode));

	if (n < 0 || !strcmp(mode, "poll"))
		return VW_POLL;
	if (!strcmp(mode, "irq"))
		return VW_IRQ;
	printf("ERROR: mode must be poll or irq\n");
	return -1;
}

int vw_find(uint32_t device_id, const char *type, struct vio_dev *dev)
{
	if (vio_find(device_id, dev, 1) > 0) {
		report_info("virtio-mmio@%llx, irq %u, vendor %#x",
			    (unsigned long long)dev->base, dev->irq,
			    dev->vendor_id);
		return 0;
	}
	report_skip("no virtio-%s device in the device tree (attach one with "
		    "vuvm --device %s,socket=PATH)",
		    type, type);
	return -1;
}
