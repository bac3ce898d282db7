// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport without KVM: a recording device behind it and a
 * recording signal table in place of KVM's ioeventfd/irqfd. Drives the
 * register file the way a driver does (and the ways a hostile one does),
 * and checks what the device and the guest see.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_mmio.h"
#include "vmm/virtio_mmio.h"

#define BASE 0xd0000000ull
#define GSI  5

/* --- A recording KVM and a recording device --------------------------------
 */

struct rec {
	int ioeventfds; /* currently assigned */
	int irqfds;
	uint64_t last_notify_addr;
	int fail_irqfd_after; /* -1: never */
	int activations;
	int resets;
	int activate_err;
	uint64_t acked;
	unsigned int nr_active;
	struct vdev_queue active[4];
	uint8_t config[16];
};

static int rec_ioeventfd(void *ctx, uint64_t addr, uint32_t len,
			 uint32_t datamatch, int fd, bool assign)
{
	struct rec *r = ctx;

	r->ioeventfds += assign ? 1 : -1;
	r->last_notify_addr = addr;
	CHECK(len == 4 && fd >= 0 && datamatch < 4);
	return 0;
}

static int rec_irqfd(void *ctx, uint32_t gsi, int fd, bool assign)
{
	struct rec *r = ctx;

	CHECK(gsi == GSI && fd >= 0);
	if (assign && r->fail_irqfd_after == 0)
		return -EBUSY;
	if (assign && r->fail_irqfd_after > 0)
		r->fail_irqfd_after--;
	r->irqfds += assign ? 1 : -1;
	return 0;
}

static uint64_t dev_features(void *opaque)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5) |
	       VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(30) /* vhost */;
}

static int dev_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	struct rec *r = opaque;

	memcpy(buf, r->config + off, len);
	return 0;
}

static int dev_config_write(void *opaque, uint32_t off, const void *buf,
			    uint32_t len)
{
	struct rec *r = opaque;

	memcpy(r->config + off, buf, len);
	return 0;
}

static int dev_activate(void *opaque, uint64_t features,
			const struct vdev_queue *q, unsigned int nr)
{
	struct rec *r = opaque;

	r->activations++;
	r->acked = features;
	r->nr_active = nr;
	memcpy(r->active, q, nr * sizeof(*q));
	return r->activate_err;
}

static void dev_reset(void *opaque)
{
	((struct rec *)opaque)->resets++;
}

static const struct vdev_ops rec_ops = {
	.features = dev_features,
	.config_read = dev_config_read,
	.config_write = dev_config_write,
	.activate = dev_activate,
	.reset = dev_reset,
};

static struct rec rec;
static struct vdev vdev = {
	.name = "test0",
	.device_id = 4,
	.nr_queues = 2,
	.queue_size_max = 256,
	.config_size = 16,
	.ops = &rec_ops,
	.opaque = &rec,
};
static const struct mmio_signals sig = {
	.ctx = &rec,
	.ioeventfd = rec_ioeventfd,
	.irqfd = rec_irqfd,
};

static uint32_t rd(struct mmio_dev *d, uint64_t off)
{
	uint32_t v;

	mmio_dev_read(d, off, &v, 4);
	return v;
}

static void wr(struct mmio_dev *d, uint64_t off, uint32_t v)
{
	mmio_dev_write(d, off, &v, 4);
}

/* Reads and clears the config-interrupt eventfd: how many were raised. */
static uint64_t config_irqs(struct mmio_dev *d)
{
	uint64_t n = 0;

	if (read(d->config_fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* --- The tests ---------------------------------------------------------------
 */

static void setup(struct mmio_dev *d)
{
	memset(&rec, 0, sizeof(rec));
	rec.fail_irqfd_after = -1;
	for (int i = 0; i < 16; i++)
		rec.config[i] = (uint8_t)(0xa0 + i);
	CHECK(mmio_dev_init(d, &vdev, BASE, GSI, &sig) == 0);
	CHECK(rec.ioeventfds == 2 && rec.irqfds == 3);
	CHECK(rec.last_notify_addr == BASE + VIRTIO_MMIO_QUEUE_NOTIFY);
}

static void set_queue(struct mmio_dev *d, uint32_t i, uint32_t num,
		      uint64_t desc)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, i);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)desc + 0x1000);
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(desc >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)desc + 0x2000);
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(desc >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void negotiate(struct mmio_dev *d, uint64_t features)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
}

static const uint32_t running =
	VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

static void test_identity_and_features(void)
{
	struct mmio_dev d;

	setup(&d);
	CHECK(rd(&d, VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976);
	CHECK(rd(&d, VIRTIO_MMIO_VERSION) == 2);
	CHECK(rd(&d, VIRTIO_MMIO_DEVICE_ID) == 4);
	wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	/* bit 30 (vhost-user's PROTOCOL_FEATURES) never reaches the guest */
	CHECK(rd(&d, VIRTIO_MMIO_DEVICE_FEATURES) ==
	      ((1u << 5) | (1u << VIRTIO_F_EVENT_IDX)));
	wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK(rd(&d, VIRTIO_MMIO_DEVICE_FEATURES) == 1);
	wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	CHECK(rd(&d, VIRTIO_MMIO_DEVICE_FEATURES) == 0);
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 1);
	CHECK(rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX) == 256);
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 2);
	CHECK(rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) == 0);
	mmio_dev_exit(&d);
	CHECK(rec.ioeventfds == 0 && rec.irqfds == 0);
}

static void test_features_ok_refused(void)
{
	struct mmio_dev d;

	setup(&d);
	/* bit 30 was not offered: FEATURES_OK must read back clear */
	negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(30));
	CHECK(!(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK));
	/* neither without VERSION_1 */
	negotiate(&d, VIRTIO_BIT(5));
	CHECK(!(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK));
	negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5));
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK is a guest error */
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	wr(&d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(rec.activations == 0);
	CHECK(strstr(d.reason, "FEATURES_OK") != NULL);
	mmio_dev_exit(&d);
}

static void test_start_and_reset(void)
{
	uint64_t f =
		VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	struct mmio_dev d;

	setup(&d);
	negotiate(&d, f);
	set_queue(&d, 1, 128, 0x123450000ull);
	wr(&d, VIRTIO_MMIO_STATUS, running);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) == running);
	CHECK(rec.activations == 1 && rec.acked == f);
	CHECK(rec.nr_active == 1 && rec.active[0].index == 1);
	CHECK(rec.active[0].size == 128);
	CHECK(rec.active[0].desc_gpa == 0x123450000ull);
	CHECK(rec.active[0].driver_gpa == 0x123451000ull);
	CHECK(rec.active[0].device_gpa == 0x123452000ull);
	CHECK(rec.active[0].kick_fd == d.queues[1].kick_fd);
	CHECK(rec.active[0].call_fd == d.queues[1].call_fd);
	/* irqfd delivery bypasses vuvm: InterruptStatus always says VRING */
	CHECK(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) == VIRTIO_MMIO_INT_VRING);
	/* a ready queue's layout cannot change */
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(&d, VIRTIO_MMIO_QUEUE_NUM, 64);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(config_irqs(&d) == 1);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	CHECK(rec.resets == 1);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) == 0);
	CHECK(rd(&d, VIRTIO_MMIO_QUEUE_READY) == 0);
	CHECK(rd(&d, VIRTIO_MMIO_QUEUE_NUM) == 0);
	mmio_dev_exit(&d);
	CHECK(rec.resets == 1); /* not active any more: no second reset */
}

static void test_activate_failure(void)
{
	struct mmio_dev d;

	setup(&d);
	rec.activate_err = -ECONNRESET;
	negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	set_queue(&d, 0, 256, 0x100000);
	wr(&d, VIRTIO_MMIO_STATUS, running);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	wr(&d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	CHECK(!(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG));
	mmio_dev_exit(&d);
	CHECK(rec.resets == 0); /* activation failed: nothing to reset */
}

static void test_bad_queue_layouts(void)
{
	struct mmio_dev d;

	setup(&d);
	negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	set_queue(&d, 0, 100, 0x100000); /* not a power of two */
	wr(&d, VIRTIO_MMIO_STATUS, running);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(rec.activations == 0 && strstr(d.reason, "power of two"));

	negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	set_queue(&d, 0, 256, 0x100008); /* descriptors not 16-aligned */
	wr(&d, VIRTIO_MMIO_STATUS, running);
	CHECK(rec.activations == 0 && strstr(d.reason, "misaligned"));

	negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(&d, VIRTIO_MMIO_QUEUE_NUM, 512); /* > QueueNumMax */
	CHECK(strstr(d.reason, "QueueNumMax") != NULL);
	mmio_dev_exit(&d);
}

static void test_hostile_registers(void)
{
	struct mmio_dev d;
	uint16_t half = 1;
	uint8_t cfg[8];

	setup(&d);
	wr(&d, VIRTIO_MMIO_MAGIC_VALUE, 0);
	CHECK(strstr(d.reason, "read-only") != NULL);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	mmio_dev_write(&d, VIRTIO_MMIO_STATUS, &half, 2);
	CHECK(strstr(d.reason, "32-bit") != NULL);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	wr(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 9);
	CHECK(strstr(d.reason, "does not exist") != NULL);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	mmio_dev_read(&d, VIRTIO_MMIO_CONFIG + 12, cfg, 8);
	CHECK(strstr(d.reason, "config read") != NULL);
	/* only the first reason is kept, and the guest learns of it once */
	wr(&d, VIRTIO_MMIO_MAGIC_VALUE, 0);
	CHECK(strstr(d.reason, "config read") != NULL);
	CHECK(config_irqs(&d) >= 1);
	/* status bits may not be taken away */
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	wr(&d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_DRIVER);
	CHECK(strstr(d.reason, "only be added") != NULL);
	/* the driver may not set NEEDS_RESET itself (found by fuzz_mmio):
	 * the transport sets it with a reason and a config interrupt */
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	config_irqs(&d);
	wr(&d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(strstr(d.reason, "set by the device") != NULL);
	CHECK(rd(&d, VIRTIO_MMIO_STATUS) == VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(config_irqs(&d) == 1);
	/* random values everywhere never crash and never start the device */
	for (uint32_t off = 0; off < 0x200; off += 4)
		wr(&d, off, 0x9e3779b9u * off);
	CHECK(rec.activations == 0);
	mmio_dev_exit(&d);
}

static void test_config_space(void)
{
	struct mmio_dev d;
	uint8_t b;
	uint64_t q;
	uint32_t gen;

	setup(&d);
	mmio_dev_read(&d, VIRTIO_MMIO_CONFIG + 3, &b, 1);
	CHECK(b == 0xa3);
	mmio_dev_read(&d, VIRTIO_MMIO_CONFIG + 8, &q, 8);
	CHECK(q == 0xafaeadacabaaa9a8ull);
	b = 0x55;
	mmio_dev_write(&d, VIRTIO_MMIO_CONFIG + 15, &b, 1);
	CHECK(rec.config[15] == 0x55);
	gen = rd(&d, VIRTIO_MMIO_CONFIG_GENERATION);
	mmio_dev_config_changed(&d);
	CHECK(rd(&d, VIRTIO_MMIO_CONFIG_GENERATION) == gen + 1);
	CHECK(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	CHECK(config_irqs(&d) == 1);
	CHECK(!(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET));
	mmio_dev_exit(&d);
}

static void test_init_failure_cleans_up(void)
{
	struct mmio_dev d;

	memset(&rec, 0, sizeof(rec));
	rec.fail_irqfd_after = 2; /* config irqfd and queue 0's succeed */
	CHECK(mmio_dev_init(&d, &vdev, BASE, GSI, &sig) == -EBUSY);
	CHECK(rec.ioeventfds == 0 && rec.irqfds == 0);
}

int main(void)
{
	test_identity_and_features();
	test_features_ok_refused();
	test_start_and_reset();
	test_activate_failure();
	test_bad_queue_layouts();
	test_hostile_registers();
	test_config_space();
	test_init_failure_cleans_up();
	return check_exit();
}
