// SPDX-License-Identifier: MIT
/*
 * The device-side packed ring walker (vhost/vring.c with
 * VIRTIO_F_RING_PACKED) against a packed driver written here, as
 * vring_test.c does for the split ring: guest memory is one memfd mapped
 * twice, the driver writes through one mapping, the device reads through
 * the other. The driver keeps its own avail and used positions and wrap
 * counters and checks every used descriptor the device writes: chains,
 * indirect tables, buffer ids, wrap-around over many laps, both event
 * suppression areas, IN_ORDER, and the packed in-flight region across a
 * "restart" (a fresh vhu_vring on the same ring and region).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/check.h"
#include "vhost/protocol.h"
#include "vhost/vring.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ring_packed.h"

#define MEM_GPA	   0x40000000ull
#define MEM_SIZE   0x100000ull
#define RING_OFF   0x0
#define DRIVER_OFF 0x10000 /* driver event suppression area */
#define DEVICE_OFF 0x10010 /* device event suppression area */
#define TABLE_OFF  0x11000 /* indirect tables */
#define INFL_OFF   0x20000
#define DATA_OFF   0x40000

#define F(bit) VIRTIO_BIT(VIRTIO_F_##bit)

struct rig {
	uint8_t *drv, *dev;
	struct virtq_packed_desc *ring; /* driver view */
	struct virtq_packed_event *driver_area, *device_area;
	unsigned int num;
	uint64_t features;
	/* the driver's state */
	uint16_t avail_slot, used_slot;
	bool avail_wrap, used_wrap;
	uint16_t slots_of[64]; /* per id: slots its chain took */
	struct vhu_vring vr;
	struct iovec iov[16];
	struct vhu_vring_elem elem;
	bool region;
};

static void *translate(void *opaque, uint64_t gpa, uint64_t len)
{
	struct rig *r = opaque;

	if (gpa < MEM_GPA || len > MEM_SIZE || gpa - MEM_GPA > MEM_SIZE - len)
		return NULL;
	return r->dev + (gpa - MEM_GPA);
}

static uint64_t gpa(uint64_t off)
{
	return MEM_GPA + off;
}

/* (Re)starts the device at the 32-bit position @base. */
static int dev_start(struct rig *r, uint32_t base)
{
	struct vhu_vring_config cfg = {
		.num = r->num,
		.base = base,
		.features = r->features | F(RING_PACKED),
		.translate = translate,
		.opaque = r,
		.packed_desc = (void *)(r->dev + RING_OFF),
		.driver_event = (void *)(r->dev + DRIVER_OFF),
		.device_event = (void *)(r->dev + DEVICE_OFF),
		.inflight_packed =
			r->region ? (void *)(r->dev + INFL_OFF) : NULL,
	};

	vhu_vring_cleanup(&r->vr);
	return vhu_vring_init(&r->vr, &cfg);
}

static void rig_open(struct rig *r, unsigned int num, uint64_t features,
		     bool region)
{
	memset(r, 0, sizeof(*r));
	check_map_twice(MEM_SIZE, &r->drv, &r->dev);
	r->num = num;
	r->features = features;
	r->region = region;
	r->ring = (void *)(r->drv + RING_OFF);
	r->driver_area = (void *)(r->drv + DRIVER_OFF);
	r->device_area = (void *)(r->drv + DEVICE_OFF);
	r->avail_wrap = r->used_wrap = true;
	r->elem.iov = r->iov;
	r->elem.iov_max = 16;
	CHECK_EQ(dev_start(r, virtq_packed_base(0, true, 0, true)), 0);
}

static void rig_close(struct rig *r)
{
	vhu_vring_cleanup(&r->vr);
	munmap(r->drv, MEM_SIZE);
	munmap(r->dev, MEM_SIZE);
}

static uint16_t avail_flags(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/* Driver: makes the @n descriptors @d one buffer with id @id, head flags
 * last (release), as a driver must. */
static void add(struct rig *r, const struct virtq_packed_desc *d,
		unsigned int n, uint16_t id)
{
	uint16_t head = r->avail_slot, head_flags = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags =
			(uint16_t)(d[i].flags | avail_flags(r->avail_wrap));

		r->ring[r->avail_slot] = d[i];
		r->ring[r->avail_slot].id = id;
		if (i == 0) {
			head_flags = flags;
			r->ring[r->avail_slot].flags = 0;
		} else {
			r->ring[r->avail_slot].flags = flags;
		}
		if (++r->avail_slot == r->num) {
			r->avail_slot = 0;
			r->avail_wrap = !r->avail_wrap;
		}
	}
	/* The head's flags last: the device must not see the buffer
	 * available before the rest of it. */
	__atomic_store_n(&r->ring[head].flags, head_flags, __ATOMIC_RELEASE);
	r->slots_of[id] = (uint16_t)n;
}

/* Driver: one writable 16-byte buffer with id @id. */
static void add_one(struct rig *r, uint16_t id)
{
	struct virtq_packed_desc d = { gpa(DATA_OFF + id * 0x100u), 16, 0,
				       VIRTQ_DESC_F_WRITE };

	add(r, &d, 1, id);
}

/* Driver: the next used descriptor; false when there is none. Checks
 * its id is one the driver has in flight. */
static bool get_used(struct rig *r, uint16_t *id, uint32_t *len)
{
	struct virtq_packed_desc *d = &r->ring[r->used_slot];
	uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	uint16_t want =
		r->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;

	if ((flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) != want)
		return false;
	*id = d->id;
	*len = d->len;
	REQUIRE(*id < 64 && r->slots_of[*id]);
	r->used_slot = (uint16_t)(r->used_slot + r->slots_of[*id]);
	if (r->used_slot >= r->num) {
		r->used_slot = (uint16_t)(r->used_slot - r->num);
		r->used_wrap = !r->used_wrap;
	}
	r->slots_of[*id] = 0;
	return true;
}

static bool dev_ptr(struct rig *r, const void *p, uint64_t off)
{
	return (const uint8_t *)p == r->dev + off;
}

/* A chain of two readable and one writable descriptor, id 5. */
static void test_chain(void)
{
	struct virtq_packed_desc d[3] = {
		{ gpa(DATA_OFF), 10, 0, VIRTQ_DESC_F_NEXT },
		{ gpa(DATA_OFF + 0x100), 20, 0, VIRTQ_DESC_F_NEXT },
		{ gpa(DATA_OFF + 0x200), 30, 0, VIRTQ_DESC_F_WRITE },
	};
	struct rig r;
	uint16_t id;
	uint32_t len;

	rig_open(&r, 8, 0, false);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(vhu_vring_pending(&r.vr), 0);
	add(&r, d, 3, 5);
	CHECK_EQ(vhu_vring_pending(&r.vr), 1);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 5);
	CHECK_EQ(r.elem.out_num, 2);
	CHECK_EQ(r.elem.in_num, 1);
	CHECK_EQ(r.elem.out_len, 30);
	CHECK_EQ(r.elem.in_len, 30);
	CHECK(dev_ptr(&r, r.iov[0].iov_base, DATA_OFF));
	CHECK(dev_ptr(&r, r.iov[2].iov_base, DATA_OFF + 0x200));
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(3, 1, 0, 1));
	CHECK(!get_used(&r, &id, &len));
	CHECK_EQ(vhu_vring_push(&r.vr, 5, 7), 0);
	CHECK(get_used(&r, &id, &len));
	CHECK_EQ(id, 5);
	CHECK_EQ(len, 7);
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(3, 1, 3, 1));
	/* bytes written: WRITE set, so the length is not reserved */
	CHECK(r.ring[0].flags & VIRTQ_DESC_F_WRITE);
	/* the used descriptor went to slot 0; slots 1-2 are left alone */
	CHECK_EQ(r.ring[1].flags & VIRTQ_DESC_F_USED, 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 5, 7), -EINVAL); /* not in flight */
	CHECK(strstr(vhu_vring_error(&r.vr), "used id 5 is not in flight"));
	rig_close(&r);
}

static void test_indirect(void)
{
	struct virtq_packed_desc *table;
	struct virtq_packed_desc ind = { gpa(TABLE_OFF), 48, 0,
					 VIRTQ_DESC_F_INDIRECT };
	struct rig r;
	uint16_t id;
	uint32_t len;

	rig_open(&r, 8, F(INDIRECT_DESC), false);
	table = (void *)(r.drv + TABLE_OFF);
	table[0] = (struct virtq_packed_desc){ gpa(DATA_OFF), 4, 0,
					       VIRTQ_DESC_F_NEXT };
	table[1] = (struct virtq_packed_desc){ gpa(DATA_OFF + 0x10), 8, 0, 0 };
	table[2] = (struct virtq_packed_desc){ gpa(DATA_OFF + 0x20), 512, 0,
					       VIRTQ_DESC_F_WRITE };
	add(&r, &ind, 1, 3);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 3);
	CHECK_EQ(r.elem.out_num, 2);
	CHECK_EQ(r.elem.in_num, 1);
	CHECK_EQ(r.elem.in_len, 512);
	CHECK(dev_ptr(&r, r.iov[2].iov_base, DATA_OFF + 0x20));
	CHECK_EQ(vhu_vring_push(&r.vr, 3, 512), 0);
	CHECK(get_used(&r, &id, &len) && id == 3 && len == 512);
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(1, 1, 1, 1));
	rig_close(&r);
}

/* One bad buffer, its error and the sentence. */
static void bad(uint64_t features, void (*make)(struct rig *), int err,
		const char *why)
{
	struct rig r;

	rig_open(&r, 8, features, false);
	make(&r);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), err);
	CHECK_HAS(vhu_vring_error(&r.vr), why);
	/* The ring stays failed. */
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), err);
	CHECK(!vhu_vring_should_notify(&r.vr));
	rig_close(&r);
}

static void make_indirect_without_feature(struct rig *r)
{
	struct virtq_packed_desc d = { gpa(TABLE_OFF), 16, 0,
				       VIRTQ_DESC_F_INDIRECT };

	add(r, &d, 1, 0);
}

static void make_indirect_in_chain(struct rig *r)
{
	struct virtq_packed_desc d[2] = {
		{ gpa(DATA_OFF), 16, 0, VIRTQ_DESC_F_NEXT },
		{ gpa(TABLE_OFF), 16, 0, VIRTQ_DESC_F_INDIRECT },
	};

	add(r, d, 2, 0);
}

static void make_indirect_with_next(struct rig *r)
{
	struct virtq_packed_desc d[2] = {
		{ gpa(TABLE_OFF), 16, 0,
		  VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT },
		{ gpa(DATA_OFF), 16, 0, 0 },
	};

	add(r, d, 2, 0);
}

static void make_indirect_nested(struct rig *r)
{
	struct virtq_packed_desc *t = (void *)(r->drv + TABLE_OFF);
	struct virtq_packed_desc d = { gpa(TABLE_OFF), 32, 0,
				       VIRTQ_DESC_F_INDIRECT };

	t[0] = (struct virtq_packed_desc){ gpa(DATA_OFF), 16, 0, 0 };
	t[1] = (struct virtq_packed_desc){ gpa(TABLE_OFF), 16, 0,
					   VIRTQ_DESC_F_INDIRECT };
	add(r, &d, 1, 0);
}

static void make_indirect_bad_len(struct rig *r)
{
	struct virtq_packed_desc d = { gpa(TABLE_OFF), 24, 0,
				       VIRTQ_DESC_F_INDIRECT };

	add(r, &d, 1, 0);
}

static void make_indirect_outside(struct rig *r)
{
	struct virtq_packed_desc d = { gpa(MEM_SIZE - 16), 32, 0,
				       VIRTQ_DESC_F_INDIRECT };

	add(r, &d, 1, 0);
}

static void make_id_out_of_range(struct rig *r)
{
	struct virtq_packed_desc d = { gpa(DATA_OFF), 16, 0, 0 };

	add(r, &d, 1, 8);
}

static void make_id_twice(struct rig *r)
{
	add_one(r, 2);
	CHECK_EQ(vhu_vring_pop(&r->vr, &r->elem), 1);
	add_one(r, 2);
}

/* A chain whose NEXT runs into a slot the driver never made available. */
static void make_chain_into_nothing(struct rig *r)
{
	struct virtq_packed_desc d = { gpa(DATA_OFF), 16, 0,
				       VIRTQ_DESC_F_NEXT };

	add(r, &d, 1, 1);
}

/* Every slot of the ring chained, the last one with NEXT too: longer
 * than the ring. */
static void make_chain_whole_ring(struct rig *r)
{
	struct virtq_packed_desc d[8];

	for (unsigned int i = 0; i < 8; i++)
		d[i] = (struct virtq_packed_desc){ gpa(DATA_OFF), 1, 0,
						   VIRTQ_DESC_F_NEXT };
	add(r, d, 8, 1);
}

static void make_write_then_read(struct rig *r)
{
	struct virtq_packed_desc d[2] = {
		{ gpa(DATA_OFF), 16, 0,
		  VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT },
		{ gpa(DATA_OFF), 16, 0, 0 },
	};

	add(r, d, 2, 1);
}

static void make_buffer_outside(struct rig *r)
{
	struct virtq_packed_desc d = { gpa(MEM_SIZE - 8), 16, 0, 0 };

	add(r, &d, 1, 1);
}

static void test_bad_buffers(void)
{
	bad(0, make_indirect_without_feature, -EINVAL,
	    "without VIRTIO_F_INDIRECT_DESC");
	bad(F(INDIRECT_DESC), make_indirect_in_chain, -EINVAL,
	    "indirect descriptor in a chain");
	bad(F(INDIRECT_DESC), make_indirect_with_next, -EINVAL,
	    "indirect descriptor in a chain");
	bad(F(INDIRECT_DESC), make_indirect_nested, -EINVAL, "nested indirect");
	bad(F(INDIRECT_DESC), make_indirect_bad_len, -EINVAL,
	    "indirect table length 24");
	bad(F(INDIRECT_DESC), make_indirect_outside, -EFAULT,
	    "outside guest memory");
	bad(0, make_id_out_of_range, -EINVAL, "buffer id 8 out of range 8");
	bad(0, make_id_twice, -EINVAL, "buffer id 2 is already in flight");
	bad(0, make_chain_into_nothing, -EINVAL, "chain continues into slot 1");
	bad(0, make_chain_whole_ring, -ELOOP,
	    "chain at slot 0 is longer than the ring of 8");
	bad(0, make_write_then_read, -EINVAL,
	    "readable descriptor after a writable one");
	bad(0, make_buffer_outside, -EFAULT, "outside guest memory");
}

/* Many laps through a ring of 8 with chains of 1 to 3 descriptors, up to
 * three buffers in flight used out of order, past 65,536 buffers: every
 * used descriptor the driver sees is the right id and length, and the
 * device's position always equals the driver's. */
static void test_wrap(void)
{
	struct virtq_packed_desc d[3];
	unsigned int total = 70000, added = 0, used = 0, bad_ids = 0;
	uint16_t popped[3];
	struct rig r;

	rig_open(&r, 8, 0, false);
	for (unsigned int i = 0; i < 3; i++)
		d[i] = (struct virtq_packed_desc){ gpa(DATA_OFF + i * 64), 64,
						   0, VIRTQ_DESC_F_WRITE };
	while (used < total) {
		unsigned int n = 0;

		/* three buffers of 1, 2 and 3 descriptors: 6 of 8 slots */
		for (unsigned int k = 0; k < 3 && added < total; k++) {
			uint16_t id = (uint16_t)((added % 3) + 1);

			for (unsigned int i = 0; i < k; i++)
				d[i].flags =
					VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT;
			d[k].flags = VIRTQ_DESC_F_WRITE;
			add(&r, d, k + 1, id);
			added++;
		}
		while (n < 3 && vhu_vring_pop(&r.vr, &r.elem) == 1)
			popped[n++] = r.elem.head;
		/* use them last first */
		while (n--) {
			uint16_t id;
			uint32_t len;

			CHECK_EQ(vhu_vring_push(&r.vr, popped[n],
						popped[n] * 64u),
				 0);
			if (!get_used(&r, &id, &len) || id != popped[n] ||
			    len != id * 64u)
				bad_ids++;
			used++;
		}
		CHECK_EQ(vhu_vring_get_base(&r.vr),
			 virtq_packed_base(r.avail_slot, r.avail_wrap,
					   r.used_slot, r.used_wrap));
		if (bad_ids || r.vr.err)
			break;
	}
	CHECK_EQ(bad_ids, 0);
	CHECK_EQ(used, total);
	CHECK_EQ(vhu_vring_error(&r.vr)[0], '\0');
	rig_close(&r);
}

/* The driver area: DISABLE, ENABLE and (with EVENT_IDX) DESC at a slot
 * and wrap counter; the device area: disable/enable_notify, and with
 * EVENT_IDX a kick asked for at the avail position whenever a pop finds
 * the ring empty (ENABLE would have the driver kick on every batch). */
static void test_suppression(void)
{
	struct rig r;
	uint16_t id;
	uint32_t len;

	rig_open(&r, 4, 0, false);
	CHECK_EQ(r.device_area->flags, VIRTQ_EVENT_F_ENABLE);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(r.device_area->flags, VIRTQ_EVENT_F_ENABLE);
	vhu_vring_disable_notify(&r.vr);
	CHECK(!vhu_vring_enable_notify(&r.vr));
	CHECK_EQ(r.device_area->flags, VIRTQ_EVENT_F_ENABLE);
	rig_close(&r);

	rig_open(&r, 4, F(EVENT_IDX), false);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(r.device_area->flags, VIRTQ_EVENT_F_DESC);
	CHECK_EQ(r.device_area->off_wrap, VIRTQ_PACKED_WRAP | 0);
	add_one(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 0, 1), 0);
	CHECK(get_used(&r, &id, &len));
	/* Busy: the event stays where the ring ran dry ... */
	CHECK_EQ(r.device_area->off_wrap, VIRTQ_PACKED_WRAP | 0);
	/* ... and moves to the next slot when it runs dry again. */
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(r.device_area->off_wrap, VIRTQ_PACKED_WRAP | 1);
	vhu_vring_disable_notify(&r.vr);
	CHECK_EQ(r.device_area->flags, VIRTQ_EVENT_F_DISABLE);
	CHECK(!vhu_vring_enable_notify(&r.vr)); /* nothing waiting */
	CHECK_EQ(r.device_area->flags, VIRTQ_EVENT_F_DESC);
	CHECK_EQ(r.device_area->off_wrap, VIRTQ_PACKED_WRAP | 1);
	rig_close(&r);

	rig_open(&r, 4, F(EVENT_IDX), false);
	add_one(&r, 0);
	vhu_vring_disable_notify(&r.vr);
	CHECK(vhu_vring_enable_notify(&r.vr)); /* a buffer arrived */

	r.driver_area->flags = VIRTQ_EVENT_F_DISABLE;
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 0, 1), 0);
	CHECK(!vhu_vring_should_notify(&r.vr));
	CHECK(get_used(&r, &id, &len));
	r.driver_area->flags = VIRTQ_EVENT_F_ENABLE;
	add_one(&r, 1);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 1, 1), 0);
	CHECK(vhu_vring_should_notify(&r.vr));
	CHECK(get_used(&r, &id, &len));
	/* Used position 2 (wrap 1). Ask for slot 0 of the next lap (wrap
	 * 0): the pushes to slots 2 and 3 do not notify, the one to slot 0
	 * does. */
	r.driver_area->off_wrap = 0;
	r.driver_area->flags = VIRTQ_EVENT_F_DESC;
	for (uint16_t i = 2; i < 5; i++) {
		add_one(&r, i % 4);
		CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
		CHECK_EQ(vhu_vring_push(&r.vr, i % 4, 1), 0);
		CHECK_MSG(vhu_vring_should_notify(&r.vr) == (i == 4),
			  "push %u: notify %s", i,
			  i == 4 ? "missing" : "unwanted");
		CHECK(get_used(&r, &id, &len) && id == i % 4);
	}
	/* An event already passed (slot 3, wrap 1: behind) stays quiet. */
	r.driver_area->off_wrap = 3 | VIRTQ_PACKED_WRAP;
	add_one(&r, 1);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 1, 1), 0);
	CHECK(!vhu_vring_should_notify(&r.vr));
	rig_close(&r);

	/* Without EVENT_IDX, DESC is not valid: taken as enabled. */
	rig_open(&r, 4, 0, false);
	r.driver_area->flags = VIRTQ_EVENT_F_DESC;
	add_one(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 0, 1), 0);
	CHECK(vhu_vring_should_notify(&r.vr));
	rig_close(&r);
}

/* IN_ORDER: using a younger buffer first is refused, packed and split. */
static void test_in_order(void)
{
	struct rig r;

	rig_open(&r, 8, F(IN_ORDER), false);
	add_one(&r, 4);
	add_one(&r, 6);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 6, 1), -EINVAL);
	CHECK(strstr(vhu_vring_error(&r.vr),
		     "used id 6 out of order: IN_ORDER wants 4 first"));
	rig_close(&r);

	rig_open(&r, 8, F(IN_ORDER), false);
	add_one(&r, 4);
	add_one(&r, 6);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 4, 1), 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 6, 1), 0);
	rig_close(&r);

	/* split */
	{
		uint8_t *drv, *dev;
		struct virtq_desc *desc;
		struct virtq_avail *avail;
		struct vhu_vring vr;
		struct iovec iov[4];
		struct vhu_vring_elem e = { .iov = iov, .iov_max = 4 };
		struct vhu_vring_config cfg = {
			.num = 8,
			.features = F(IN_ORDER),
			.translate = translate,
			.opaque = &r,
		};

		check_map_twice(MEM_SIZE, &drv, &dev);
		r.dev = dev;
		desc = (void *)drv;
		avail = (void *)(drv + 0x1000);
		cfg.desc = (void *)dev;
		cfg.avail = (void *)(dev + 0x1000);
		cfg.used = (void *)(dev + 0x2000);
		for (uint16_t i = 0; i < 2; i++) {
			desc[i] = (struct virtq_desc){ gpa(DATA_OFF), 8,
						       VIRTQ_DESC_F_WRITE, 0 };
			avail->ring[i] = i;
		}
		avail->idx = 2;
		CHECK_EQ(vhu_vring_init(&vr, &cfg), 0);
		CHECK_EQ(vhu_vring_pop(&vr, &e), 1);
		CHECK_EQ(vhu_vring_pop(&vr, &e), 1);
		CHECK_EQ(vhu_vring_push(&vr, 1, 1), -EINVAL);
		CHECK(strstr(vhu_vring_error(&vr), "IN_ORDER wants 0 first"));
		vhu_vring_cleanup(&vr);
		munmap(drv, MEM_SIZE);
		munmap(dev, MEM_SIZE);
	}
}

/* The 32-bit position: a frontend's base is where the device starts;
 * one with the avail half only puts used there too. */
static void test_base(void)
{
	struct rig r;
	uint16_t id;
	uint32_t len;

	rig_open(&r, 8, 0, false);
	/* as after a stop at slot 6 of the second lap */
	r.avail_slot = r.used_slot = 6;
	r.avail_wrap = r.used_wrap = false;
	CHECK_EQ(dev_start(&r, 6), 0); /* avail half only, wrap 0 */
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(6, 0, 6, 0));
	add_one(&r, 1);
	add_one(&r, 2);
	add_one(&r, 3); /* slot 0 of the third lap */
	for (unsigned int i = 0; i < 3; i++)
		CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 3);
	for (uint16_t i = 1; i <= 3; i++) {
		CHECK_EQ(vhu_vring_push(&r.vr, i, 1), 0);
		CHECK(get_used(&r, &id, &len) && id == i);
	}
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(1, 1, 1, 1));
	/* beyond the ring, misaligned, no callback */
	CHECK_EQ(dev_start(&r, 8), -EINVAL);
	CHECK(strstr(vhu_vring_error(&r.vr), "beyond a ring of 8"));
	CHECK_EQ(dev_start(&r, 0x00098000), -EINVAL);
	rig_close(&r);
}

/* --- the in-flight region --------------------------------------------- */

static struct vhu_inflight_packed_header *hdr(struct rig *r)
{
	return (void *)(r->drv + INFL_OFF);
}

/* Pop three buffers (2, 1 and 1 descriptors), use the second and third:
 * the third's used descriptor lands on the first's head slot. A restart
 * then resubmits the first from the region's copy, whole, and the ring
 * goes on where it was. */
static void test_inflight_restart(void)
{
	struct virtq_packed_desc two[2] = {
		{ gpa(DATA_OFF), 10, 0, VIRTQ_DESC_F_NEXT },
		{ gpa(DATA_OFF + 0x100), 20, 0, VIRTQ_DESC_F_WRITE },
	};
	struct rig r;
	uint16_t id;
	uint32_t len;

	rig_open(&r, 8, 0, true);
	CHECK_EQ(hdr(&r)->version, 1);
	CHECK_EQ(hdr(&r)->desc_num, 8);
	CHECK_EQ(hdr(&r)->used_wrap_counter, 1);
	add(&r, two, 2, 7);
	add_one(&r, 1);
	add_one(&r, 2);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 1, 16), 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 2, 16), 0);
	CHECK(get_used(&r, &id, &len) && id == 1);
	CHECK(get_used(&r, &id, &len) && id == 2);
	/* slot 0, buffer 7's head, now holds a used descriptor */
	CHECK_EQ(r.ring[0].id, 1);
	CHECK_EQ(hdr(&r)->used_idx, 2);

	/* The frontend lost track and sends the start. */
	CHECK_EQ(dev_start(&r, virtq_packed_base(0, 1, 0, 1)), 0);
	CHECK_EQ(r.vr.resubmit_num, 1);
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(4, 1, 2, 1));
	CHECK(vhu_vring_enable_notify(&r.vr));
	add_one(&r, 3);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 7);
	CHECK_EQ(r.elem.out_num, 1);
	CHECK_EQ(r.elem.in_num, 1);
	CHECK_EQ(r.elem.out_len, 10);
	CHECK(dev_ptr(&r, r.iov[1].iov_base, DATA_OFF + 0x100));
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 3);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 7, 20), 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 3, 16), 0);
	CHECK(get_used(&r, &id, &len) && id == 7 && len == 20);
	CHECK(get_used(&r, &id, &len) && id == 3);
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(5, 1, 5, 1));
	/* All done: a restart resubmits nothing. */
	CHECK_EQ(dev_start(&r, 0), 0);
	CHECK_EQ(r.vr.resubmit_num, 0);
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(5, 1, 5, 1));
	rig_close(&r);
}

/* A push that reached the ring but not the region (a crash between the
 * two): the restart finishes it instead of resubmitting it. */
static void test_inflight_crash_after_ring(void)
{
	struct rig r;
	uint16_t id;
	uint32_t len;

	rig_open(&r, 8, 0, true);
	add_one(&r, 4);
	add_one(&r, 5);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	/* what the device does for a push of 4, up to the used descriptor */
	hdr(&r)->old_free_head = r.vr.inflight_entry[4];
	hdr(&r)->old_used_idx = 0;
	hdr(&r)->old_used_wrap_counter = 1;
	r.ring[0].id = 4;
	r.ring[0].len = 16;
	__atomic_store_n(&r.ring[0].flags,
			 VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED,
			 __ATOMIC_RELEASE);
	CHECK_EQ(dev_start(&r, 0), 0);
	CHECK_EQ(r.vr.resubmit_num, 1);
	CHECK_EQ(vhu_vring_get_base(&r.vr), virtq_packed_base(2, 1, 1, 1));
	CHECK(get_used(&r, &id, &len) && id == 4);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 5);
	CHECK_EQ(vhu_vring_push(&r.vr, 5, 16), 0);
	CHECK(get_used(&r, &id, &len) && id == 5);
	rig_close(&r);
}

static void test_inflight_bad_region(void)
{
	struct vhu_inflight_desc_packed *entries;
	struct rig r;
	uint16_t entry;

	rig_open(&r, 8, 0, true);
	entries = (void *)(hdr(&r) + 1);
	add_one(&r, 4);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	entry = r.vr.inflight_entry[4];
	CHECK_EQ(entries[entry].inflight, 1);
	CHECK_EQ(entries[entry].id, 4);
	hdr(&r)->version = 2;
	CHECK_EQ(dev_start(&r, 0), -EINVAL);
	CHECK(strstr(vhu_vring_error(&r.vr), "version 2"));
	hdr(&r)->version = 1;
	hdr(&r)->used_idx = 9;
	CHECK_EQ(dev_start(&r, 0), -EINVAL);
	hdr(&r)->used_idx = 0;
	/* the entry's chain leaves the region */
	entries[entry].num = 9;
	CHECK_EQ(dev_start(&r, 0), -EINVAL);
	CHECK(strstr(vhu_vring_error(&r.vr), "has 9 descriptors"));
	rig_close(&r);
}

static const struct check_case cases[] = {
	{ "chain", test_chain },
	{ "indirect", test_indirect },
	{ "bad_buffers", test_bad_buffers },
	{ "wrap", test_wrap },
	{ "suppression", test_suppression },
	{ "in_order", test_in_order },
	{ "base", test_base },
	{ "inflight_restart", test_inflight_restart },
	{ "inflight_crash_after_ring", test_inflight_crash_after_ring },
	{ "inflight_bad_region", test_inflight_bad_region },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
