// SPDX-License-Identifier: MIT
/*
 * Helpers of the virtio workloads (see virtio_common.h).
 */
#include "workloads/virtio_common.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/irq.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_mmio.h"

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

uint64_t vw_stall(const char *args)
{
	uint64_t sec;

	if (kv_get_u64(args, "stall", VW_TIMEOUT_NS / 1000000000ull, &sec) ==
		    -2 ||
	    !sec || sec > 3600) {
		printf("ERROR: stall must be 1..3600 seconds\n");
		return 0;
	}
	return sec * 1000000000ull;
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

/* Every device of @device_id (up to @max), or 0 after the same skip. */
int vw_find_all(uint32_t device_id, const char *type, struct vio_dev *devs,
		int max)
{
	int n = vio_find(device_id, devs, max);

	if (n > 0)
		return n;
	report_skip("no virtio-%s device in the device tree (attach one with "
		    "vuvm --device %s,socket=PATH)",
		    type, type);
	return 0;
}

int vw_wait_start(struct vw_wait *w, int mode, struct vio_dev *dev)
{
	w->mode = mode;
	w->dev = dev;
	w->sleeps = w->irqs = w->timeouts = w->config_irqs = 0;
	if (mode != VW_IRQ)
		return 0;
	if (!report(dev->irq != ~0u && !virtio_irq_route(dev->irq),
		    "irq mode: GSI %d routed to vector %#x", (int)dev->irq,
		    virtio_irq_vector(dev->irq)))
		return -1;
	return 0;
}

int vw_idle(struct vw_wait *w, struct virtq *vqs, unsigned int n)
{
	bool pending = false;
	uint32_t isr = 0;

	if (w->mode != VW_IRQ)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		pending |= virtq_enable_cb(&vqs[i]);
	if (!pending) {
		w->irqs += virtio_irq_sleep(VW_SLEEP_US);
		w->sleeps++;
		w->timeouts += this_cpu()->last_vector == VEC_TIMER;
		isr = vio_irq_ack(w->dev);
	}
	for (unsigned int i = 0; i < n; i++)
		virtq_disable_cb(&vqs[i]);
	/* vuvm raises a configuration change when it sets NEEDS_RESET. */
	if (!(isr & VIRTIO_MMIO_INT_CONFIG))
		return 0;
	w->config_irqs++;
	return vio_check(w->dev);
}

void vw_wait_end(struct vw_wait *w)
{
	if (w->mode != VW_IRQ)
		return;
	virtio_irq_unroute(w->dev->irq);
	report_info("irq mode: %llu sleeps, %llu interrupts, %llu sleeps "
		    "ended by the %u ms timer",
		    (unsigned long long)w->sleeps, (unsigned long long)w->irqs,
		    (unsigned long long)w->timeouts, VW_SLEEP_US / 1000);
}

int vw_ring(const char *args, uint64_t *features)
{
	char ring[8] = "split";
	bool in_order;
	int n = kv_get(args, "ring", ring, sizeof(ring));

	*features = 0;
	if (n >= 0 && strcmp(ring, "split") && strcmp(ring, "packed")) {
		printf("ERROR: ring must be split or packed\n");
		return -1;
	}
	if (kv_get_bool(args, "in_order", false, &in_order) == -2) {
		printf("ERROR: in_order must be 0 or 1\n");
		return -1;
	}
	if (!strcmp(ring, "packed"))
		*features |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	if (in_order)
		*features |= VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	return 0;
}

int vw_ring_check(const struct vio_dev *dev, uint64_t asked)
{
	static const struct {
		unsigned int bit;
		const char *name, *knob;
	} f[] = { { VIRTIO_F_RING_PACKED, "VIRTIO_F_RING_PACKED",
		    "ring=packed" },
		  { VIRTIO_F_IN_ORDER, "VIRTIO_F_IN_ORDER", "in_order=1" } };

	for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!(asked & VIRTIO_BIT(f[i].bit)) || vio_has(dev, f[i].bit))
			continue;
		report_skip("%s asked for, but the device does not offer %s "
			    "(offered %#llx)",
			    f[i].knob, f[i].name,
			    (unsigned long long)dev->offered);
		return -1;
	}
	report_info("%s ring%s",
		    vio_has(dev, VIRTIO_F_RING_PACKED) ? "packed" : "split",
		    vio_has(dev, VIRTIO_F_IN_ORDER) ? ", IN_ORDER" : "");
	return 0;
}

bool vw_irq_within(struct vio_dev *dev, uint64_t ms)
{
	uint64_t end = time_ns() + ms * 1000000;

	while (time_ns() < end) {
		if (virtio_irq_sleep(ms * 1000) > 0 &&
		    this_cpu()->last_vector != VEC_TIMER) {
			vio_irq_ack(dev);
			return true;
		}
	}
	return false;
}

void vw_irq_drain(struct vio_dev *dev)
{
	for (int i = 0; i < 8 && vw_irq_within(dev, 2); i++)
		;
	vio_irq_ack(dev);
}
