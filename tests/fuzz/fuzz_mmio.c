// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the virtio-mmio transport's register handlers
 * (vmm/virtio_mmio.c) driven by a sequence of guest accesses, with a
 * device behind it and a KVM in front of it that both check the
 * transport's promises and abort() when one is broken.
 *
 * Input layout (see docs/vhost-user.md and make_seeds.py):
 *   byte 0       number of queues - 1 (bits 0-2: 1..8)
 *   byte 1       QueueNumMax = 1 << (byte % 16)
 *   byte 2       config space size (255 means 256)
 *   byte 3       bit 0: activate() fails; bits 1-4: the n-th eventfd
 *                assignment fails (0: none), to walk mmio_dev_init's
 *                unwinding; bit 5: config_read() fails
 *   bytes 4-11   the device's feature bits (LE)
 *   the rest     records of 7 bytes {u8 op, u16 offset, u32 value} (LE):
 *                op bits 0-1: 0 read, 1 and 2 write, 3 an event from the
 *                host side (bit 2 clear: config changed, set: device
 *                failed); bits 2-4 pick the access length from
 *                {4, 4, 1, 2, 8, 0, 3, 4}; the offset is taken mod 0x400
 *
 * The device checks: config accesses are in range and of a legal size;
 * activate() comes only while the device is stopped and without
 * NEEDS_RESET, with exactly the features the driver acked (VERSION_1
 * among them, nothing that was not offered) and exactly the queues the
 * driver made ready, each with the size and addresses it wrote (a power
 * of two <= QueueNumMax, aligned) and fds the transport registered;
 * reset() only after a successful activate(), and always when the driver
 * writes 0 to Status or the transport exits. The driver side is a
 * shadow of what the guest wrote, valid until NEEDS_RESET is set (the
 * transport then starts nothing before a reset). The "KVM" checks every
 * assignment is unique and every deassignment matches one; after
 * mmio_dev_exit() (or a failed mmio_dev_init()) nothing is assigned and
 * the process has as many fds open as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_ring.h"
#include "vmm/virtio_mmio.h"

#define BASE	   0xd0000000ull
#define GSI	   16
#define MAX_Q	   8
#define MAX_SIGS   (2 * MAX_Q + 1)
#define RECORD_LEN 7

/* A broken promise: say which and abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(expr)                                                \
	do {                                                            \
		if (!(expr)) {                                          \
			fprintf(stderr, "%s:%d: transport broke: %s\n", \
				__FILE__, __LINE__, #expr);             \
			abort();                                        \
		}                                                       \
	} while (0)

/* What the guest wrote, as the transport should have taken it. */
struct shadow_queue {
	uint32_t num;
	bool ready;
	uint64_t desc, driver, device;
};

struct fuzz {
	struct vdev vdev;
	struct mmio_dev dev;
	uint64_t features;
	bool activate_fails, config_read_fails;
	unsigned int fail_assign_at, assigns; /* 1-based; 0: never */
	/* the KVM side */
	struct {
		uint64_t addr;
		uint32_t datamatch;
		int fd;
	} ioeventfd[MAX_SIGS];
	int irqfd[MAX_SIGS];
	unsigned int nr_ioeventfd, nr_irqfd;
	/* the device side */
	bool running;
	uint8_t config[VIRTIO_MMIO_CONFIG_MAX];
	/* the driver side */
	bool tainted; /* NEEDS_RESET since the last reset */
	uint32_t queue_sel, driver_features_sel;
	uint64_t acked;
	struct shadow_queue q[MAX_Q];
};

static struct fuzz f;

/* --- the KVM side ------------------------------------------------------- */

static bool fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

static bool inject_failure(void)
{
	return ++f.assigns == f.fail_assign_at;
}

static int find_ioeventfd(uint64_t addr, uint32_t datamatch)
{
	for (unsigned int i = 0; i < f.nr_ioeventfd; i++)
		if (f.ioeventfd[i].addr == addr &&
		    f.ioeventfd[i].datamatch == datamatch)
			return (int)i;
	return -1;
}

static int sig_ioeventfd(void *ctx, uint64_t addr, uint32_t len,
			 uint32_t datamatch, int fd, bool assign)
{
	int i = find_ioeventfd(addr, datamatch);

	(void)ctx;
	FUZZ_CHECK(addr == BASE + VIRTIO_MMIO_QUEUE_NOTIFY && len == 4);
	FUZZ_CHECK(datamatch < f.vdev.nr_queues && fd_open(fd));
	if (!assign) {
		FUZZ_CHECK(i >= 0 && f.ioeventfd[i].fd == fd);
		f.ioeventfd[i] = f.ioeventfd[--f.nr_ioeventfd];
		return 0;
	}
	FUZZ_CHECK(i < 0 && f.nr_ioeventfd < MAX_SIGS);
	if (inject_failure())
		return -EBUSY;
	f.ioeventfd[f.nr_ioeventfd].addr = addr;
	f.ioeventfd[f.nr_ioeventfd].datamatch = datamatch;
	f.ioeventfd[f.nr_ioeventfd++].fd = fd;
	return 0;
}

static int find_irqfd(int fd)
{
	for (unsigned int i = 0; i < f.nr_irqfd; i++)
		if (f.irqfd[i] == fd)
			return (int)i;
	return -1;
}

static int sig_irqfd(void *ctx, uint32_t gsi, int fd, bool assign)
{
	int i = find_irqfd(fd);

	(void)ctx;
	FUZZ_CHECK(gsi == GSI && fd_open(fd));
	if (!assign) {
		FUZZ_CHECK(i >= 0);
		f.irqfd[i] = f.irqfd[--f.nr_irqfd];
		return 0;
	}
	FUZZ_CHECK(i < 0 && f.nr_irqfd < MAX_SIGS);
	if (inject_failure())
		return -EBUSY;
	f.irqfd[f.nr_irqfd++] = fd;
	return 0;
}

static const struct mmio_signals sigs = {
	.ioeventfd = sig_ioeventfd,
	.irqfd = sig_irqfd,
};

/* --- the device side ---------------------------------------------------- */

static uint64_t dev_features(void *opaque)
{
	(void)opaque;
	return f.features;
}

static void check_config_access(uint32_t off, uint32_t len)
{
	FUZZ_CHECK(len == 1 || len == 2 || len == 4 || len == 8);
	FUZZ_CHECK((uint64_t)off + len <= f.vdev.config_size);
}

static int dev_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	(void)opaque;
	check_config_access(off, len);
	if (f.config_read_fails)
		return -EIO;
	memcpy(buf, f.config + off, len);
	return 0;
}

static int dev_config_write(void *opaque, uint32_t off, const void *buf,
			    uint32_t len)
{
	(void)opaque;
	check_config_access(off, len);
	memcpy(f.config + off, buf, len);
	return 0;
}

/* @q is one queue the transport hands over: the driver's, as written. */
static void check_queue(const struct vdev_queue *q)
{
	const struct shadow_queue *s;
	int kick = find_ioeventfd(BASE + VIRTIO_MMIO_QUEUE_NOTIFY, q->index);

	FUZZ_CHECK(q->index < f.vdev.nr_queues);
	s = &f.q[q->index];
	FUZZ_CHECK(s->ready);
	FUZZ_CHECK(q->size == s->num && virtq_size_valid(q->size) &&
		   q->size <= f.vdev.queue_size_max);
	FUZZ_CHECK(q->desc_gpa == s->desc && q->driver_gpa == s->driver &&
		   q->device_gpa == s->device);
	FUZZ_CHECK(!(q->desc_gpa % VIRTQ_DESC_ALIGN) &&
		   !(q->driver_gpa % VIRTQ_AVAIL_ALIGN) &&
		   !(q->device_gpa % VIRTQ_USED_ALIGN));
	FUZZ_CHECK(kick >= 0 && f.ioeventfd[kick].fd == q->kick_fd);
	FUZZ_CHECK(find_irqfd(q->call_fd) >= 0);
}

static int dev_activate(void *opaque, uint64_t features,
			const struct vdev_queue *q, unsigned int nr)
{
	unsigned int ready = 0;

	(void)opaque;
	FUZZ_CHECK(!f.running && !f.tainted);
	FUZZ_CHECK(!(f.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET));
	FUZZ_CHECK(features == f.acked);
	FUZZ_CHECK(!(features & ~(f.features & mmio_transport_features())));
	FUZZ_CHECK(virtio_has_feature(features, VIRTIO_F_VERSION_1));
	for (unsigned int i = 0; i < f.vdev.nr_queues; i++)
		ready += f.q[i].ready;
	FUZZ_CHECK(nr == ready);
	for (unsigned int i = 0; i < nr; i++) {
		FUZZ_CHECK(!i || q[i].index > q[i - 1].index);
		check_queue(&q[i]);
	}
	if (f.activate_fails)
		return -EIO;
	f.running = true;
	return 0;
}

static void dev_reset(void *opaque)
{
	(void)opaque;
	FUZZ_CHECK(f.running);
	f.running = false;
}

static const struct vdev_ops dev_ops = {
	.features = dev_features,
	.config_read = dev_config_read,
	.config_write = dev_config_write,
	.activate = dev_activate,
	.reset = dev_reset,
};

/* --- the driver side ---------------------------------------------------- */

static void shadow_reset(void)
{
	f.tainted = false;
	f.queue_sel = f.driver_features_sel = 0;
	f.acked = 0;
	memset(f.q, 0, sizeof(f.q));
}

static void set_half(uint64_t *reg, uint32_t val, bool high)
{
	if (high)
		*reg = (*reg & 0xffffffffull) | (uint64_t)val << 32;
	else
		*reg = (*reg & ~0xffffffffull) | val;
}

/* A 32-bit register write as a well-behaved transport must take it. */
static void shadow_write(uint64_t off, uint32_t val)
{
	struct shadow_queue *q =
		f.queue_sel < f.vdev.nr_queues ? &f.q[f.queue_sel] : NULL;

	switch (off) {
	case VIRTIO_MMIO_STATUS:
		if (!val)
			shadow_reset();
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		f.queue_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		f.driver_features_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (f.driver_features_sel < 2)
			set_half(&f.acked, val, f.driver_features_sel);
		return;
	}
	if (!q)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		q->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		q->ready = val & 1;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&q->desc, val, off & 4);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_half(&q->driver, val, off & 4);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		set_half(&q->device, val, off & 4);
		break;
	}
}

/* Reads and clears the config-interrupt eventfd: whether it was raised. */
static bool config_irq_raised(void)
{
	uint64_t n = 0;

	return read(f.dev.config_fd, &n, sizeof(n)) == sizeof(n) && n;
}

static void check_read(uint64_t off, const uint8_t *buf, unsigned int len)
{
	uint32_t v;

	if (len != 4 || off >= VIRTIO_MMIO_CONFIG || (off & 3))
		return;
	memcpy(&v, buf, 4);
	if (off == VIRTIO_MMIO_MAGIC_VALUE)
		FUZZ_CHECK(v == VIRTIO_MMIO_MAGIC);
	else if (off == VIRTIO_MMIO_VERSION)
		FUZZ_CHECK(v == VIRTIO_MMIO_VERSION_MODERN);
	else if (off == VIRTIO_MMIO_QUEUE_NUM_MAX)
		FUZZ_CHECK(v == (f.queue_sel < f.vdev.nr_queues
					 ? f.vdev.queue_size_max
					 : 0));
	else if (off == VIRTIO_MMIO_STATUS)
		FUZZ_CHECK(v == f.dev.status && !(v & ~0xffu));
	else if (off == VIRTIO_MMIO_INTERRUPT_STATUS)
		FUZZ_CHECK(v & VIRTIO_MMIO_INT_VRING);
}

static void drain_kicks(void)
{
	uint64_t n;

	for (unsigned int i = 0; i < f.vdev.nr_queues; i++)
		if (read(f.dev.queues[i].kick_fd, &n, sizeof(n)) < 0)
			FUZZ_CHECK(errno == EAGAIN);
}

static void one_record(const uint8_t *r)
{
	static const unsigned int lens[8] = { 4, 4, 1, 2, 8, 0, 3, 4 };
	unsigned int op = r[0] & 3, len = lens[(r[0] >> 2) & 7];
	uint64_t off = (uint64_t)(r[1] | r[2] << 8) & 0x3ff;
	uint32_t val = (uint32_t)r[3] | (uint32_t)r[4] << 8 |
		       (uint32_t)r[5] << 16 | (uint32_t)r[6] << 24;
	uint64_t val64 = (uint64_t)val << 32 | val;
	bool was_tainted = f.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET;
	uint8_t buf[8];

	if (op == 0) {
		mmio_dev_read(&f.dev, off, buf, len);
		check_read(off, buf, len);
	} else if (op < 3) {
		memcpy(buf, &val64, sizeof(buf));
		mmio_dev_write(&f.dev, off, buf, len);
		if (len == 4 && off < VIRTIO_MMIO_CONFIG && !(off & 3))
			shadow_write(off, val);
		if (off == VIRTIO_MMIO_STATUS && len == 4 && !val)
			FUZZ_CHECK(!f.running && !f.dev.status);
		drain_kicks();
	} else if (r[0] & 4) {
		mmio_dev_fail(&f.dev, "fuzz: the device failed (%u)", val);
	} else {
		mmio_dev_config_changed(&f.dev);
		FUZZ_CHECK(config_irq_raised());
	}
	if (f.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET) {
		f.tainted = true;
		FUZZ_CHECK(was_tainted || config_irq_raised());
		FUZZ_CHECK(f.dev.reason[0]);
	}
}

static void setup(const uint8_t *data)
{
	memset(&f, 0, sizeof(f));
	f.vdev.name = "fuzz0";
	f.vdev.device_id = 2;
	f.vdev.nr_queues = (data[0] & 7) + 1;
	f.vdev.queue_size_max = (uint16_t)(1u << (data[1] % 16));
	f.vdev.config_size = data[2] == 255 ? 256 : data[2];
	f.vdev.ops = &dev_ops;
	f.activate_fails = data[3] & 1;
	f.fail_assign_at = (data[3] >> 1) & 15;
	f.config_read_fails = data[3] & 32;
	memcpy(&f.features, data + 4, sizeof(f.features));
	for (unsigned int i = 0; i < sizeof(f.config); i++)
		f.config[i] = (uint8_t)i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int before = check_count_fds();

	if (size < 12 || size > 12 + 4096 * RECORD_LEN)
		return 0;
	setup(data);
	if (mmio_dev_init(&f.dev, &f.vdev, BASE, GSI, &sigs) == 0) {
		for (size_t p = 12; p + RECORD_LEN <= size; p += RECORD_LEN)
			one_record(data + p);
		mmio_dev_exit(&f.dev);
	} else {
		/* Only an injected failure may stop it. */
		FUZZ_CHECK(f.fail_assign_at && f.assigns >= f.fail_assign_at);
	}
	FUZZ_CHECK(!f.running);
	FUZZ_CHECK(!f.nr_ioeventfd && !f.nr_irqfd);
	FUZZ_CHECK(check_count_fds() == before);
	return 0;
}
