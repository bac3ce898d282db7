// SPDX-License-Identifier: MIT
/*
 * virtio-mmio version 2, driver side (see mmio.h). Initialisation follows
 * the specification's order: reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK (read back), queues, DRIVER_OK. Every step that the device
 * can refuse is checked and explained.
 */
#include "virtio/mmio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/devtree.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_mmio.h"

#define MAX_NODES	 32
#define RESET_TIMEOUT_NS 100000000ull /* 100 ms */
#define CONFIG_TRIES	 100

static uint32_t rd(const struct vio_dev *d, unsigned int reg)
{
	return *(volatile uint32_t *)(uintptr_t)(d->base + reg);
}

static void wr(const struct vio_dev *d, unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(d->base + reg) = val;
}

__attribute__((format(printf, 3, 4))) static int
vio_fail(struct vio_dev *d, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(d->error, sizeof(d->error),
		     "virtio-mmio@%llx: ", (unsigned long long)d->base);
	va_start(ap, fmt);
	vsnprintf(d->error + n, sizeof(d->error) - n, fmt, ap);
	va_end(ap);
	return err;
}

/* Magic, version and IDs of the window at @d->base. */
static int probe(struct vio_dev *d)
{
	uint32_t magic = rd(d, VIRTIO_MMIO_MAGIC_VALUE);
	uint32_t version = rd(d, VIRTIO_MMIO_VERSION);

	if (magic != VIRTIO_MMIO_MAGIC)
		return vio_fail(d, VIO_ENODEV, "magic %#x is not \"virt\"",
				magic);
	if (version != VIRTIO_MMIO_VERSION_MODERN)
		return vio_fail(d, VIO_ENODEV,
				"version %u, this driver speaks only 2",
				version);
	d->device_id = rd(d, VIRTIO_MMIO_DEVICE_ID);
	d->vendor_id = rd(d, VIRTIO_MMIO_VENDOR_ID);
	return 0;
}

int vio_find(uint32_t device_id, struct vio_dev *devs, int max)
{
	struct dt_virtio_mmio nodes[MAX_NODES];
	int n = dt_virtio_mmio(nodes, MAX_NODES), found = 0;
	struct vio_dev d;

	for (int i = 0; i < n && i < MAX_NODES; i++) {
		memset(&d, 0, sizeof(d));
		d.base = nodes[i].base;
		d.irq = nodes[i].irq;
		if (nodes[i].size < VIRTIO_MMIO_CONFIG) {
			printf("virtio-mmio@%llx: window of %llu bytes is too "
			       "small, skipped\n",
			       (unsigned long long)d.base,
			       (unsigned long long)nodes[i].size);
			continue;
		}
		if (probe(&d)) {
			printf("%s, skipped\n", d.error);
			continue;
		}
		if (d.device_id != device_id)
			continue;
		if (found < max)
			devs[found] = d;
		found++;
	}
	return found < max ? found : max;
}

bool vio_reset(struct vio_dev *d)
{
	uint64_t end = time_ns() + RESET_TIMEOUT_NS;
	bool done;

	wr(d, VIRTIO_MMIO_STATUS, 0);
	/* The device may finish its reset later (spec 4.2.2.1). */
	while (!(done = !rd(d, VIRTIO_MMIO_STATUS)) && time_ns() < end)
		;
	return done;
}

static void status_add(struct vio_dev *d, uint32_t bits)
{
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | bits);
}

int vio_check(struct vio_dev *d)
{
	uint32_t s = rd(d, VIRTIO_MMIO_STATUS);

	if (s & VIRTIO_CONFIG_S_NEEDS_RESET)
		return vio_fail(d, VIO_ENEEDSRESET,
				"device needs reset (status %#x); vuvm's log "
				"says why",
				s);
	return 0;
}

int vio_watch(struct vio_dev *d, uint64_t now_ns, bool progress)
{
	return vio_watch_due(&d->watch, now_ns, progress) ? vio_check(d) : 0;
}

static uint64_t read_features(struct vio_dev *d)
{
	uint64_t f;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

static void write_features(struct vio_dev *d, uint64_t f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

int vio_begin(struct vio_dev *d, uint64_t wanted)
{
	int err = probe(d);

	if (err)
		return err;
	d->error[0] = '\0';
	vio_watch_reset(&d->watch);
	vio_reset(d);
	if (rd(d, VIRTIO_MMIO_STATUS))
		return vio_fail(d, VIRTQ_EPROTO,
				"status still %#x 100 ms after a reset",
				rd(d, VIRTIO_MMIO_STATUS));
	status_add(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	status_add(d, VIRTIO_CONFIG_S_DRIVER);
	d->offered = read_features(d);
	if (!virtio_has_feature(d->offered, VIRTIO_F_VERSION_1))
		return vio_fail(d, VIRTQ_EPROTO,
				"features %#llx lack VERSION_1: a legacy "
				"device",
				(unsigned long long)d->offered);
	d->features =
		(wanted | d->ring_wanted | VIRTIO_BIT(VIRTIO_F_VERSION_1)) &
		d->offered;
	write_features(d, d->features);
	status_add(d, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
		return vio_fail(d, VIRTQ_EPROTO,
				"FEATURES_OK refused for features %#llx "
				"(offered %#llx)",
				(unsigned long long)d->features,
				(unsigned long long)d->offered);
	return vio_check(d);
}

/* The largest power of 2 not above @n (n > 0). */
static unsigned int pow2_floor(unsigned int n)
{
	while (n & (n - 1))
		n &= n - 1;
	return n;
}

/* Ring memory for queue @index, reused when big enough. */
static void *ring_mem(struct vio_dev *d, unsigned int index, uint64_t size)
{
	if (d->ring_size[index] < size) {
		d->ring_mem[index] = dma_alloc(size, 4096);
		d->ring_size[index] = d->ring_mem[index] ? size : 0;
	}
	return d->ring_mem[index];
}

static void write_addr(struct vio_dev *d, unsigned int low, uint64_t addr)
{
	wr(d, low, (uint32_t)addr);
	wr(d, low + 4, (uint32_t)(addr >> 32));
}

int vio_queue_setup(struct vio_dev *d, unsigned int index, struct virtq *vq,
		    unsigned int size, unsigned int indirect_max)
{
	unsigned int max;
	void *mem;
	int err;

	if (index >= VIO_MAX_QUEUES)
		return vio_fail(d, VIRTQ_EINVAL, "queue %u: driver limit %u",
				index, VIO_MAX_QUEUES);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, index);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY))
		return vio_fail(d, VIRTQ_EPROTO,
				"queue %u is ready before set-up", index);
	max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max)
		return vio_fail(d, VIO_ENODEV, "queue %u does not exist",
				index);
	size = size < max ? size : max;
	/* Split rings are powers of 2; packed ones any size (2.8.10.1). */
	if (!vio_has(d, VIRTIO_F_RING_PACKED))
		size = pow2_floor(size);
	if (size > VIRTQ_MAX_SIZE)
		size = VIRTQ_MAX_SIZE;
	mem = ring_mem(d, index, virtq_mem_size(size, indirect_max));
	if (!mem)
		return vio_fail(d, VIRTQ_ENOSPC,
				"queue %u: no memory for %u entries", index,
				size);
	err = virtq_init(vq, size, mem, dma_addr(mem), d->features,
			 indirect_max);
	if (err)
		return vio_fail(d, err, "queue %u: %s", index, virtq_error(vq));
	wr(d, VIRTIO_MMIO_QUEUE_NUM, size);
	write_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, vq->desc_gpa);
	write_addr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, vq->avail_gpa);
	write_addr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, vq->used_gpa);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY) != 1)
		return vio_fail(d, VIRTQ_EPROTO, "queue %u: QueueReady stays 0",
				index);
	return vio_check(d);
}

int vio_driver_ok(struct vio_dev *d)
{
	status_add(d, VIRTIO_CONFIG_S_DRIVER_OK);
	return vio_check(d);
}

void vio_notify(struct vio_dev *d, unsigned int index)
{
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

void vio_kick(struct vio_dev *d, unsigned int index, struct virtq *vq)
{
	if (virtq_kick_prepare(vq))
		vio_notify(d, index);
}

/* One config access of @len (1, 2 or 4) bytes at @offset. */
static void config_access(struct vio_dev *d, unsigned int offset, void *buf,
			  unsigned int len)
{
	uintptr_t a = (uintptr_t)(d->base + VIRTIO_MMIO_CONFIG + offset);
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	if (len == 4) {
		v32 = *(volatile uint32_t *)a;
		memcpy(buf, &v32, 4);
	} else if (len == 2) {
		v16 = *(volatile uint16_t *)a;
		memcpy(buf, &v16, 2);
	} else {
		v8 = *(volatile uint8_t *)a;
		memcpy(buf, &v8, 1);
	}
}

static void config_copy(struct vio_dev *d, unsigned int offset, uint8_t *buf,
			unsigned int len)
{
	while (len) {
		unsigned int n = 4;

		while (n > len || offset % n)
			n /= 2;
		config_access(d, offset, buf, n);
		offset += n;
		buf += n;
		len -= n;
	}
}

int vio_config_read(struct vio_dev *d, unsigned int offset, void *buf,
		    unsigned int len)
{
	uint32_t gen;

	if (offset > VIRTIO_MMIO_CONFIG_MAX ||
	    len > VIRTIO_MMIO_CONFIG_MAX - offset)
		return vio_fail(
			d, VIRTQ_EINVAL,
			"config read of %u bytes at %u: past the window", len,
			offset);
	for (int tries = 0; tries < CONFIG_TRIES; tries++) {
		gen = rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
		config_copy(d, offset, buf, len);
		if (rd(d, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
			return 0;
	}
	return vio_fail(d, VIRTQ_EPROTO,
			"config generation still changing after %d reads",
			CONFIG_TRIES);
}

uint32_t vio_irq_ack(struct vio_dev *d)
{
	uint32_t s = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (s)
		wr(d, VIRTIO_MMIO_INTERRUPT_ACK, s);
	return s;
}
