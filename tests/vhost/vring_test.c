// SPDX-License-Identifier: MIT
/*
 * The device-side ring walker (vhost/vring.c) against a hand-written driver,
 * in the style of Linux tools/virtio: "guest memory" is one memfd mapped
 * twice at different addresses, the driver writes through one mapping and
 * the device reads through the other via its translation callback, so a
 * pointer that skipped translation would be caught. The in-flight cases
 * keep the region in that memory too and "restart" the device by starting
 * a fresh vhu_vring on the same ring and region, as a new backend process
 * given the same fds would.
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

#define MEM_GPA	  0x40000000ull /* guest-physical base, not 0 on purpose */
#define MEM_SIZE  0x100000ull
#define DESC_OFF  0x0
#define AVAIL_OFF 0x10000
#define USED_OFF  0x20000
#define DATA_OFF  0x40000
#define INFL_OFF  0x30000 /* the in-flight region, in the same memfd */
#define QSIZE	  8

/* Both views of the guest memory and the driver's ring state. */
struct rig {
	uint8_t *drv;		 /* the driver's (guest's) mapping */
	uint8_t *dev;		 /* the device's (backend's) mapping */
	struct virtq_desc *desc; /* driver view */
	struct virtq_avail *avail;
	struct virtq_used *used;
	unsigned int num;
	struct vhu_vring vr;
	struct iovec iov[16];
	struct vhu_vring_elem elem;
};

static void *translate(void *opaque, uint64_t gpa, uint64_t len)
{
	struct rig *r = opaque;

	if (gpa < MEM_GPA || len > MEM_SIZE || gpa - MEM_GPA > MEM_SIZE - len)
		return NULL;
	return r->dev + (gpa - MEM_GPA);
}

static void rig_map(struct rig *r)
{
	check_map_twice(MEM_SIZE, &r->drv, &r->dev);
}

/* Maps memory and starts the device on a ring of @num at avail/used index
 * @base with @features. */
static void rig_open(struct rig *r, unsigned int num, uint16_t base,
		     uint64_t features)
{
	struct vhu_vring_config cfg = {
		.num = num,
		.base = base,
		.features = features,
		.translate = translate,
	};

	memset(r, 0, sizeof(*r));
	rig_map(r);
	r->num = num;
	r->desc = (void *)(r->drv + DESC_OFF);
	r->avail = (void *)(r->drv + AVAIL_OFF);
	r->used = (void *)(r->drv + USED_OFF);
	r->avail->idx = base;
	r->used->idx = base;
	cfg.desc = (void *)(r->dev + DESC_OFF);
	cfg.avail = (void *)(r->dev + AVAIL_OFF);
	cfg.used = (void *)(r->dev + USED_OFF);
	cfg.opaque = r;
	CHECK_EQ(vhu_vring_init(&r->vr, &cfg), 0);
	r->elem.iov = r->iov;
	r->elem.iov_max = 16;
}

static void rig_close(struct rig *r)
{
	vhu_vring_cleanup(&r->vr);
	munmap(r->drv, MEM_SIZE);
	munmap(r->dev, MEM_SIZE);
}

static uint64_t gpa(uint64_t off)
{
	return MEM_GPA + off;
}

/* Driver: writes descriptor @i. */
static void set_desc(struct virtq_desc *table, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	table[i] = (struct virtq_desc){ addr, len, flags, next };
}

/* Driver: makes @head available and publishes the index (release). */
static void publish(struct rig *r, uint16_t head)
{
	uint16_t idx = r->avail->idx;

	r->avail->ring[idx % r->num] = head;
	__atomic_store_n(&r->avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

/* Whether host pointer @p lies in the device's mapping at offset @off. */
static bool dev_ptr(struct rig *r, const void *p, uint64_t off)
{
	return (const uint8_t *)p == r->dev + off;
}

/* A chain: 2 readable buffers and 1 writable one; data checked both ways. */
static void test_direct_chain(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	memcpy(r.drv + DATA_OFF, "hello ", 6);
	memcpy(r.drv + DATA_OFF + 0x100, "world", 5);
	set_desc(r.desc, 3, gpa(DATA_OFF), 6, VIRTQ_DESC_F_NEXT, 5);
	set_desc(r.desc, 5, gpa(DATA_OFF + 0x100), 5, VIRTQ_DESC_F_NEXT, 1);
	set_desc(r.desc, 1, gpa(DATA_OFF + 0x200), 64, VIRTQ_DESC_F_WRITE, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	publish(&r, 3);
	CHECK_EQ(vhu_vring_pending(&r.vr), 1);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 3);
	CHECK_EQ(r.elem.out_num, 2);
	CHECK_EQ(r.elem.in_num, 1);
	CHECK_EQ(r.elem.out_len, 11);
	CHECK_EQ(r.elem.in_len, 64);
	CHECK(dev_ptr(&r, r.iov[0].iov_base, DATA_OFF));
	CHECK(!memcmp(r.iov[0].iov_base, "hello ", 6));
	CHECK(!memcmp(r.iov[1].iov_base, "world", 5));
	CHECK(dev_ptr(&r, r.iov[2].iov_base, DATA_OFF + 0x200));
	memcpy(r.iov[2].iov_base, "reply", 5);
	CHECK_EQ(vhu_vring_push(&r.vr, r.elem.head, 5), 0);
	CHECK_EQ(r.used->idx, 1);
	CHECK_EQ(r.used->ring[0].id, 3);
	CHECK_EQ(r.used->ring[0].len, 5);
	CHECK(!memcmp(r.drv + DATA_OFF + 0x200, "reply", 5));
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(vhu_vring_get_base(&r.vr), 1);
	rig_close(&r);
}

/* Zero-length descriptors are legal and produce no segment. */
static void test_zero_length(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	set_desc(r.desc, 0, gpa(DATA_OFF), 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(r.desc, 1, gpa(DATA_OFF), 4, VIRTQ_DESC_F_NEXT, 2);
	set_desc(r.desc, 2, ~0ull, 0, VIRTQ_DESC_F_WRITE, 0);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.out_num, 1);
	CHECK_EQ(r.elem.in_num, 0);
	CHECK_EQ(r.elem.out_len, 4);
	rig_close(&r);
}

/* Indirect table in guest memory, after a direct descriptor. */
static void test_indirect(void)
{
	struct virtq_desc *tab;
	struct rig r;

	rig_open(&r, QSIZE, 0, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	tab = (void *)(r.drv + DATA_OFF + 0x1000);
	strcpy((char *)r.drv + DATA_OFF, "abcd");
	set_desc(tab, 0, gpa(DATA_OFF), 4, VIRTQ_DESC_F_NEXT, 2);
	set_desc(tab, 2, gpa(DATA_OFF + 0x10), 8,
		 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(tab, 1, gpa(DATA_OFF + 0x20), 8, VIRTQ_DESC_F_WRITE, 0);
	set_desc(r.desc, 6, gpa(DATA_OFF + 0x30), 2, VIRTQ_DESC_F_NEXT, 7);
	set_desc(r.desc, 7, gpa(DATA_OFF + 0x1000), 3 * 16,
		 VIRTQ_DESC_F_INDIRECT, 0);
	publish(&r, 6);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.head, 6);
	CHECK_EQ(r.elem.out_num, 2);
	CHECK_EQ(r.elem.in_num, 2);
	CHECK(dev_ptr(&r, r.iov[1].iov_base, DATA_OFF));
	CHECK(!memcmp(r.iov[1].iov_base, "abcd", 4));
	CHECK(dev_ptr(&r, r.iov[3].iov_base, DATA_OFF + 0x20));
	CHECK_EQ(r.elem.in_len, 16);
	CHECK_EQ(vhu_vring_push(&r.vr, 6, 16), 0);
	rig_close(&r);
}

/* Publishes one chain whose head is the indirect descriptor @d and
 * expects pop to fail with @err and a sentence containing @why. */
static void bad_indirect(struct virtq_desc d, uint64_t features, int err,
			 const char *why)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, features);
	r.desc[0] = d;
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), err);
	CHECK_HAS(vhu_vring_error(&r.vr), why);
	/* Sticky: the ring stays failed, whatever comes next. */
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), err);
	CHECK_EQ(vhu_vring_push(&r.vr, 0, 0), err);
	rig_close(&r);
}

static void test_indirect_bad(void)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	uint64_t tab = gpa(DATA_OFF + 0x1000);
	uint16_t ind = VIRTQ_DESC_F_INDIRECT;

	bad_indirect((struct virtq_desc){ tab, 32, ind, 0 }, 0, -EINVAL,
		     "without VIRTIO_F_INDIRECT_DESC");
	bad_indirect((struct virtq_desc){ tab, 0, ind, 0 }, f, -EINVAL,
		     "multiple of 16");
	bad_indirect((struct virtq_desc){ tab, 24, ind, 0 }, f, -EINVAL,
		     "multiple of 16");
	bad_indirect((struct virtq_desc){ tab, 16 * 40000, ind, 0 }, f, -EINVAL,
		     "multiple of 16");
	bad_indirect((struct virtq_desc){ tab, 32, ind | VIRTQ_DESC_F_NEXT, 1 },
		     f, -EINVAL, "with NEXT");
	bad_indirect((struct virtq_desc){ MEM_GPA + MEM_SIZE - 16, 32, ind, 0 },
		     f, -EFAULT, "outside guest memory");
	bad_indirect((struct virtq_desc){ ~0ull - 15, 32, ind, 0 }, f, -EFAULT,
		     "outside guest memory");
}

/* Problems inside an indirect table: nesting, next out of its bounds, a
 * loop within it. */
static void test_indirect_table_bad(void)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	struct virtq_desc *tab;
	struct rig r;

	for (int c = 0; c < 3; c++) {
		rig_open(&r, QSIZE, 0, f);
		tab = (void *)(r.drv + DATA_OFF + 0x1000);
		set_desc(r.desc, 0, gpa(DATA_OFF + 0x1000), 2 * 16,
			 VIRTQ_DESC_F_INDIRECT, 0);
		set_desc(tab, 0, gpa(DATA_OFF), 4, VIRTQ_DESC_F_NEXT, 1);
		if (c == 0)
			set_desc(tab, 1, gpa(DATA_OFF + 0x1000), 32,
				 VIRTQ_DESC_F_INDIRECT, 0);
		else if (c == 1)
			set_desc(tab, 1, gpa(DATA_OFF), 4, VIRTQ_DESC_F_NEXT,
				 2);
		else
			set_desc(tab, 1, gpa(DATA_OFF), 4, VIRTQ_DESC_F_NEXT,
				 0);
		publish(&r, 0);
		CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), c == 0	 ? -EINVAL
							: c == 1 ? -EINVAL
								 : -ELOOP);
		CHECK_HAS(vhu_vring_error(&r.vr),
			  c == 0   ? "nested"
			  : c == 1 ? "next 2 out of range 2"
				   : "loops");
		rig_close(&r);
	}
}

/* Descriptor loops in the main table: self loop and a 3-cycle. */
static void test_loops(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	set_desc(r.desc, 4, gpa(DATA_OFF), 1, VIRTQ_DESC_F_NEXT, 4);
	publish(&r, 4);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -ELOOP);
	rig_close(&r);

	rig_open(&r, QSIZE, 0, 0);
	set_desc(r.desc, 0, gpa(DATA_OFF), 1, VIRTQ_DESC_F_NEXT, 1);
	set_desc(r.desc, 1, gpa(DATA_OFF), 1, VIRTQ_DESC_F_NEXT, 2);
	set_desc(r.desc, 2, gpa(DATA_OFF), 1, VIRTQ_DESC_F_NEXT, 0);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -ELOOP);
	CHECK_HAS(vhu_vring_error(&r.vr), "chain 0 loops");
	rig_close(&r);

	/* The longest legal chain uses every descriptor once. */
	rig_open(&r, QSIZE, 0, 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(r.desc, i, gpa(DATA_OFF), 1,
			 i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.out_num, QSIZE);
	rig_close(&r);
}

/* Publishes a one-descriptor chain @d at head 0 and expects @err. */
static void bad_desc(struct virtq_desc d, uint16_t head, int err,
		     const char *why)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	r.desc[0] = d;
	publish(&r, head);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), err);
	CHECK_HAS(vhu_vring_error(&r.vr), why);
	CHECK_EQ(vhu_vring_get_base(&r.vr), 0);
	rig_close(&r);
}

static void test_out_of_range(void)
{
	bad_desc((struct virtq_desc){ gpa(DATA_OFF), 1, 0, 0 }, QSIZE, -EINVAL,
		 "names head 8");
	bad_desc((struct virtq_desc){ gpa(DATA_OFF), 1, 0, 0 }, 0xffff, -EINVAL,
		 "names head 65535");
	bad_desc((struct virtq_desc){ gpa(DATA_OFF), 1, VIRTQ_DESC_F_NEXT,
				      QSIZE },
		 0, -EINVAL, "next 8 out of range");
	bad_desc((struct virtq_desc){ MEM_GPA - 1, 2, 0, 0 }, 0, -EFAULT,
		 "outside guest memory");
	bad_desc((struct virtq_desc){ MEM_GPA + MEM_SIZE - 1, 2, 0, 0 }, 0,
		 -EFAULT, "outside guest memory");
	bad_desc((struct virtq_desc){ 0, 1, 0, 0 }, 0, -EFAULT,
		 "outside guest memory");
	/* Huge lengths and addresses that wrap around 2^64. */
	bad_desc((struct virtq_desc){ gpa(DATA_OFF), 0xffffffffu, 0, 0 }, 0,
		 -EFAULT, "outside guest memory");
	bad_desc((struct virtq_desc){ ~0ull - 2, 16, VIRTQ_DESC_F_WRITE, 0 }, 0,
		 -EFAULT, "outside guest memory");
}

/* Readable after writable violates the spec's ordering. */
static void test_order(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	set_desc(r.desc, 0, gpa(DATA_OFF), 4,
		 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(r.desc, 1, gpa(DATA_OFF), 4, 0, 0);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -EINVAL);
	CHECK_HAS(vhu_vring_error(&r.vr), "readable descriptor after");
	rig_close(&r);
}

/* More segments than the caller's iovec array holds. */
static void test_too_many_segments(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	r.elem.iov_max = 3;
	for (unsigned int i = 0; i < 4; i++)
		set_desc(r.desc, i, gpa(DATA_OFF), 1,
			 i < 3 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -ENOBUFS);
	CHECK_HAS(vhu_vring_error(&r.vr), "more than 3 segments");
	rig_close(&r);
}

static uint8_t anywhere[64];

/* Accepts every address: lets the length-overflow check be reached. */
static void *translate_all(void *opaque, uint64_t gpa_, uint64_t len)
{
	return anywhere;
}

/* Three 2 GiB writable buffers: the chain's total does not fit 32 bits. */
static void test_length_overflow(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	r.vr.translate = translate_all;
	for (unsigned int i = 0; i < 3; i++)
		set_desc(r.desc, i, gpa(DATA_OFF), 0x80000000u,
			 VIRTQ_DESC_F_WRITE | (i < 2 ? VIRTQ_DESC_F_NEXT : 0),
			 i + 1);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -EOVERFLOW);
	CHECK_HAS(vhu_vring_error(&r.vr), "longer than 4 GiB");
	rig_close(&r);
}

/* The avail index may be at most a queue size ahead. */
static void test_avail_jump(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 100, 0);
	r.avail->idx = 100 + QSIZE;
	CHECK_EQ(vhu_vring_pending(&r.vr), QSIZE);
	r.avail->idx = 100 + QSIZE + 1;
	CHECK_EQ(vhu_vring_pending(&r.vr), -EPROTO);
	CHECK_HAS(vhu_vring_error(&r.vr), "9 entries ahead");
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -EPROTO);
	rig_close(&r);

	/* Going backwards is a jump of almost 65536. */
	rig_open(&r, QSIZE, 100, 0);
	r.avail->idx = 99;
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -EPROTO);
	rig_close(&r);
}

/* Runs @rounds requests through the ring, one descriptor each. */
static void run_rounds(struct rig *r, unsigned int rounds)
{
	for (unsigned int i = 0; i < rounds; i++) {
		uint16_t head = (uint16_t)(i % r->num);
		uint16_t used = r->used->idx;

		set_desc(r->desc, head, gpa(DATA_OFF + head), 1,
			 VIRTQ_DESC_F_WRITE, 0);
		publish(r, head);
		CHECK_EQ(vhu_vring_pop(&r->vr, &r->elem), 1);
		CHECK_EQ(r->elem.head, head);
		CHECK_EQ(vhu_vring_push(&r->vr, head, i), 0);
		CHECK_EQ(r->used->idx, (uint16_t)(used + 1));
		CHECK_EQ(r->used->ring[used % r->num].id, head);
		CHECK_EQ(r->used->ring[used % r->num].len, i);
	}
}

/* Indices wrap from 65535 to 0 on both rings. */
static void test_wrap(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 65530, 0);
	run_rounds(&r, 20);
	CHECK_EQ(r.avail->idx, 14);
	CHECK_EQ(r.used->idx, 14);
	CHECK_EQ(vhu_vring_get_base(&r.vr), 14);
	rig_close(&r);

	rig_open(&r, QSIZE, 65530, VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	run_rounds(&r, 20);
	CHECK_EQ(*virtq_avail_event(r.used, QSIZE), 14);
	rig_close(&r);
}

/* Without EVENT_IDX: the NO_INTERRUPT and NO_NOTIFY flags. */
static void test_flags_notify(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	run_rounds(&r, 1);
	CHECK(vhu_vring_should_notify(&r.vr));
	r.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	run_rounds(&r, 1);
	CHECK(!vhu_vring_should_notify(&r.vr));
	vhu_vring_disable_notify(&r.vr);
	CHECK_EQ(r.used->flags, VIRTQ_USED_F_NO_NOTIFY);
	CHECK(!vhu_vring_enable_notify(&r.vr));
	CHECK_EQ(r.used->flags, 0);
	vhu_vring_disable_notify(&r.vr);
	publish(&r, 0);
	CHECK(vhu_vring_enable_notify(&r.vr)); /* work arrived meanwhile */
	rig_close(&r);
}

/* With EVENT_IDX: used_event decides interrupts, avail_event follows pops. */
static void test_event_idx(void)
{
	struct rig r;
	volatile uint16_t *used_event;

	rig_open(&r, QSIZE, 0, VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	used_event = virtq_used_event(r.avail, QSIZE);
	CHECK_EQ(*virtq_avail_event(r.used, QSIZE), 0);
	r.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* ignored now */
	run_rounds(&r, 1);
	CHECK_EQ(*virtq_avail_event(r.used, QSIZE), 1);
	CHECK(vhu_vring_should_notify(&r.vr)); /* the first always does */
	*used_event = 3;   /* interrupt once used idx passes 3 */
	run_rounds(&r, 1); /* used idx 2 */
	CHECK(!vhu_vring_should_notify(&r.vr));
	run_rounds(&r, 2); /* used idx 4: crossed 3 */
	CHECK(vhu_vring_should_notify(&r.vr));
	run_rounds(&r, 1); /* used idx 5, event still 3 */
	CHECK(!vhu_vring_should_notify(&r.vr));
	*used_event = 5;
	run_rounds(&r, 1); /* used idx 6 crosses 5 */
	CHECK(vhu_vring_should_notify(&r.vr));
	/* Disable is a no-op; enable writes avail_event and rechecks. */
	vhu_vring_disable_notify(&r.vr);
	CHECK_EQ(r.used->flags, 0);
	CHECK(!vhu_vring_enable_notify(&r.vr));
	CHECK_EQ(*virtq_avail_event(r.used, QSIZE), 6);
	rig_close(&r);
}

/* Completing what was never popped, or an id out of range. */
static void test_bad_push(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 0, 0), -EINVAL);
	CHECK_HAS(vhu_vring_error(&r.vr), "more used elements");
	rig_close(&r);

	rig_open(&r, QSIZE, 0, 0);
	run_rounds(&r, 1);
	set_desc(r.desc, 0, gpa(DATA_OFF), 1, 0, 0);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(vhu_vring_fill(&r.vr, QSIZE, 0), -EINVAL);
	CHECK_HAS(vhu_vring_error(&r.vr), "used id 8 out of range");
	rig_close(&r);
}

/* Bad ring configuration. */
static void test_bad_init(void)
{
	struct virtq_desc desc[4] __attribute__((aligned(16)));
	uint16_t avail[16];
	uint32_t used[16];
	struct vhu_vring_config cfg = { .num = 4,
					.desc = desc,
					.avail = (void *)avail,
					.used = (void *)used,
					.translate = translate_all };
	struct vhu_vring vr;

	memset(used, 0, sizeof(used));
	CHECK_EQ(vhu_vring_init(&vr, &cfg), 0);
	cfg.num = 3;
	CHECK_EQ(vhu_vring_init(&vr, &cfg), -EINVAL);
	CHECK_HAS(vhu_vring_error(&vr), "power of 2");
	cfg.num = 65536;
	CHECK_EQ(vhu_vring_init(&vr, &cfg), -EINVAL);
	cfg.num = 0;
	CHECK_EQ(vhu_vring_init(&vr, &cfg), -EINVAL);
	cfg.num = 4;
	cfg.desc = (void *)((char *)desc + 8);
	CHECK_EQ(vhu_vring_init(&vr, &cfg), -EINVAL);
	cfg.desc = desc;
	cfg.used = (void *)((char *)used + 2);
	CHECK_EQ(vhu_vring_init(&vr, &cfg), -EINVAL);
	cfg.used = (void *)used;
	cfg.translate = NULL;
	CHECK_EQ(vhu_vring_init(&vr, &cfg), -EINVAL);
}

/* The spec's event-index helper and size formulas. */
static void test_ring_helpers(void)
{
	CHECK(vring_need_event(0, 1, 0));
	CHECK(!vring_need_event(1, 1, 0));
	CHECK(vring_need_event(65535, 0, 65534)); /* across the wrap */
	CHECK(!vring_need_event(2, 0, 65534));
	CHECK(vring_need_event(5, 10, 3));
	CHECK_EQ(virtq_desc_size(256), 4096);
	CHECK_EQ(virtq_avail_size(256), 518);
	CHECK_EQ(virtq_used_size(256), 2054);
	CHECK(virtq_size_valid(32768) && !virtq_size_valid(65536));
	CHECK_EQ(virtq_total_size(256, 4096), 4096 * 2 + 2054);
}

/* ------------------------------------------------------------------------ */
/* In-flight tracking                                                        */

/* The driver's view of the region. */
static struct vhu_inflight_split_header *infl_hdr(struct rig *r)
{
	return (void *)(r->drv + INFL_OFF);
}

static struct vhu_inflight_desc_split *infl_desc(struct rig *r, unsigned int i)
{
	return (struct vhu_inflight_desc_split *)(infl_hdr(r) + 1) + i;
}

/* (Re)starts the device with the region, avail position @base as the
 * frontend would send it. Returns vhu_vring_init()'s result. */
static int infl_start(struct rig *r, uint16_t base)
{
	struct vhu_vring_config cfg = {
		.num = r->num,
		.base = base,
		.translate = translate,
		.opaque = r,
		.desc = (void *)(r->dev + DESC_OFF),
		.avail = (void *)(r->dev + AVAIL_OFF),
		.used = (void *)(r->dev + USED_OFF),
		.inflight = (void *)(r->dev + INFL_OFF),
	};

	vhu_vring_cleanup(&r->vr);
	return vhu_vring_init(&r->vr, &cfg);
}

static void infl_open(struct rig *r)
{
	rig_open(r, QSIZE, 0, 0);
	CHECK_EQ(infl_start(r, 0), 0);
}

/* Driver: one writable buffer per chain, chain @head alone. */
static void infl_publish(struct rig *r, uint16_t head)
{
	set_desc(r->desc, head, gpa(DATA_OFF + head * 0x100u), 16,
		 VIRTQ_DESC_F_WRITE, 0);
	publish(r, head);
}

static void pop_head(struct rig *r, uint16_t head)
{
	CHECK_EQ(vhu_vring_pop(&r->vr, &r->elem), 1);
	CHECK_EQ(r->elem.head, head);
	CHECK_EQ(r->elem.in_num, 1);
	CHECK(dev_ptr(r, r->iov[0].iov_base, DATA_OFF + head * 0x100u));
}

/* A fresh region is initialised; pops and pushes are recorded. */
static void test_inflight_record(void)
{
	struct rig r;

	infl_open(&r);
	CHECK_EQ(infl_hdr(&r)->version, 1);
	CHECK_EQ(infl_hdr(&r)->desc_num, QSIZE);
	infl_publish(&r, 7);
	infl_publish(&r, 2);
	pop_head(&r, 7);
	pop_head(&r, 2);
	CHECK_EQ(infl_desc(&r, 7)->inflight, 1);
	CHECK_EQ(infl_desc(&r, 7)->counter, 1);
	CHECK_EQ(infl_desc(&r, 2)->inflight, 1);
	CHECK_EQ(infl_desc(&r, 2)->counter, 2);
	/* fill publishes at once with a region: one entry per batch. */
	CHECK_EQ(vhu_vring_fill(&r.vr, 2, 16), 0);
	CHECK_EQ(r.used->idx, 1);
	CHECK_EQ(r.used->ring[0].id, 2);
	CHECK_EQ(infl_desc(&r, 2)->inflight, 0);
	CHECK_EQ(infl_hdr(&r)->last_batch_head, 2);
	CHECK_EQ(infl_hdr(&r)->used_idx, 1);
	CHECK_EQ(vhu_vring_push(&r.vr, 7, 0), 0);
	CHECK_EQ(infl_desc(&r, 7)->inflight, 0);
	CHECK_EQ(infl_hdr(&r)->used_idx, 2);
	rig_close(&r);
}

/* Pop 3, push the middle one, restart: the other two come back first, in
 * counter order (not head order), then new avail entries. */
static void test_inflight_restart(void)
{
	struct rig r;

	infl_open(&r);
	infl_publish(&r, 7);
	infl_publish(&r, 5);
	infl_publish(&r, 2);
	pop_head(&r, 7);
	pop_head(&r, 5);
	pop_head(&r, 2);
	CHECK_EQ(vhu_vring_push(&r.vr, 5, 16), 0);
	/* The frontend lost track and sends base 0: ignored for used + 2. */
	CHECK_EQ(infl_start(&r, 0), 0);
	CHECK_EQ(r.vr.resubmit_num, 2);
	CHECK_EQ(vhu_vring_get_base(&r.vr), 3);
	CHECK(vhu_vring_enable_notify(&r.vr)); /* work waits: resubmits */
	infl_publish(&r, 0);
	pop_head(&r, 7);
	pop_head(&r, 2);
	pop_head(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(vhu_vring_get_base(&r.vr), 4);
	/* The new pop is counted after the resubmitted ones. */
	CHECK(infl_desc(&r, 0)->counter > infl_desc(&r, 2)->counter);
	CHECK_EQ(vhu_vring_push(&r.vr, 2, 16), 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 0, 16), 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 7, 16), 0);
	CHECK_EQ(r.used->idx, 4);
	CHECK_EQ(r.used->ring[1].id, 2);
	CHECK_EQ(r.used->ring[3].id, 7);
	/* Everything completed: a further restart resubmits nothing and
	 * keeps the frontend's base. */
	CHECK_EQ(infl_start(&r, 4), 0);
	CHECK_EQ(r.vr.resubmit_num, 0);
	CHECK_EQ(vhu_vring_get_base(&r.vr), 4);
	rig_close(&r);
}

/* Death after the used index was published but before the entry was
 * cleared: recovery finishes that push instead of redoing it. */
static void test_inflight_crash_after_publish(void)
{
	struct rig r;

	infl_open(&r);
	infl_publish(&r, 3);
	infl_publish(&r, 4);
	pop_head(&r, 3);
	pop_head(&r, 4);
	CHECK_EQ(vhu_vring_push(&r.vr, 4, 16), 0);
	/* Undo the two stores that come after the publish. */
	infl_desc(&r, 4)->inflight = 1;
	infl_hdr(&r)->used_idx = 0;
	CHECK_EQ(infl_start(&r, 1), 0);
	CHECK_EQ(infl_desc(&r, 4)->inflight, 0);
	CHECK_EQ(infl_hdr(&r)->used_idx, 1);
	CHECK_EQ(r.vr.resubmit_num, 1);
	CHECK_EQ(vhu_vring_get_base(&r.vr), 2);
	pop_head(&r, 3);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 0);
	CHECK_EQ(vhu_vring_push(&r.vr, 3, 16), 0);
	CHECK_EQ(r.used->idx, 2);
	rig_close(&r);
}

/* A region a hostile frontend wrote: the ring fails with a sentence and
 * stays failed. */
static void bad_region(void (*spoil)(struct rig *), const char *why)
{
	struct rig r;

	infl_open(&r);
	infl_publish(&r, 1);
	infl_publish(&r, 2);
	infl_publish(&r, 3);
	pop_head(&r, 1);
	spoil(&r);
	CHECK_EQ(infl_start(&r, 0), -EINVAL);
	CHECK_HAS(vhu_vring_error(&r.vr), why);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -EINVAL);
	CHECK_EQ(vhu_vring_push(&r.vr, 1, 0), -EINVAL);
	rig_close(&r);
}

static void spoil_desc_num(struct rig *r)
{
	infl_hdr(r)->desc_num = QSIZE / 2;
}

static void spoil_version(struct rig *r)
{
	infl_hdr(r)->version = 2;
}

static void spoil_batch_head(struct rig *r)
{
	infl_hdr(r)->last_batch_head = QSIZE;
}

static void spoil_all_inflight(struct rig *r)
{
	for (unsigned int i = 0; i < QSIZE; i++)
		infl_desc(r, i)->inflight = 1;
}

static void spoil_flag(struct rig *r)
{
	infl_desc(r, 6)->inflight = 0x80;
}

static void test_inflight_bad_region(void)
{
	bad_region(spoil_desc_num, "region is for 4 descriptors, the ring "
				   "has 8");
	bad_region(spoil_version, "version 2, not 1");
	bad_region(spoil_batch_head, "last_batch_head 8 out of range 8");
	bad_region(spoil_all_inflight, "8 requests in flight, the driver has "
				       "3 outstanding");
	bad_region(spoil_flag, "entry 6 holds 128");
}

/* Two "regions" of the rig's memory meeting at SPLIT_OFF: a range that
 * crosses it does not translate, as with two separate mappings. */
#define SPLIT_OFF 0x50000

static void *translate_split(void *opaque, uint64_t gpa_, uint64_t len)
{
	uint64_t off = gpa_ - MEM_GPA;

	if (gpa_ >= MEM_GPA && off < SPLIT_OFF && len > SPLIT_OFF - off)
		return NULL;
	return translate(opaque, gpa_, len);
}

static uint64_t contig_split(void *opaque, uint64_t gpa_)
{
	uint64_t off = gpa_ - MEM_GPA;

	if (gpa_ < MEM_GPA || off >= MEM_SIZE)
		return 0;
	return off < SPLIT_OFF ? SPLIT_OFF - off : MEM_SIZE - off;
}

/* A buffer across two regions becomes one segment per region with the
 * contig hook, breaks the ring without it, and counts against iov_max. */
static void test_region_split(void)
{
	struct rig r;

	rig_open(&r, QSIZE, 0, 0);
	r.vr.translate = translate_split;
	r.vr.contig = contig_split;
	memcpy(r.drv + SPLIT_OFF - 3, "abcdef", 6);
	set_desc(r.desc, 0, gpa(SPLIT_OFF - 3), 6, VIRTQ_DESC_F_NEXT, 1);
	set_desc(r.desc, 1, gpa(SPLIT_OFF - 0x100), 0x200, VIRTQ_DESC_F_WRITE,
		 0);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), 1);
	CHECK_EQ(r.elem.out_num, 2);
	CHECK_EQ(r.elem.in_num, 2);
	CHECK_EQ(r.elem.out_len, 6);
	CHECK_EQ(r.elem.in_len, 0x200);
	CHECK(dev_ptr(&r, r.iov[0].iov_base, SPLIT_OFF - 3));
	CHECK_EQ(r.iov[0].iov_len, 3);
	CHECK(dev_ptr(&r, r.iov[1].iov_base, SPLIT_OFF));
	CHECK_EQ(r.iov[1].iov_len, 3);
	CHECK(!memcmp(r.iov[1].iov_base, "def", 3));
	CHECK_EQ(r.iov[2].iov_len, 0x100);
	CHECK_EQ(r.iov[3].iov_len, 0x100);
	CHECK_EQ(vhu_vring_push(&r.vr, 0, 1), 0);
	/* Two segments where the caller has room for one more. */
	r.elem.iov_max = 3;
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -ENOBUFS);
	rig_close(&r);
	/* Without the hook (vuvm-backend --bug vu-region-straddle). */
	rig_open(&r, QSIZE, 0, 0);
	r.vr.translate = translate_split;
	set_desc(r.desc, 0, gpa(SPLIT_OFF - 3), 6, 0, 0);
	publish(&r, 0);
	CHECK_EQ(vhu_vring_pop(&r.vr, &r.elem), -EFAULT);
	CHECK_HAS(vhu_vring_error(&r.vr), "outside guest memory");
	rig_close(&r);
}

static const struct check_case cases[] = {
	{ "direct_chain", test_direct_chain },
	{ "zero_length", test_zero_length },
	{ "indirect", test_indirect },
	{ "indirect_bad", test_indirect_bad },
	{ "indirect_table_bad", test_indirect_table_bad },
	{ "loops", test_loops },
	{ "out_of_range", test_out_of_range },
	{ "order", test_order },
	{ "too_many_segments", test_too_many_segments },
	{ "length_overflow", test_length_overflow },
	{ "avail_jump", test_avail_jump },
	{ "wrap", test_wrap },
	{ "flags_notify", test_flags_notify },
	{ "event_idx", test_event_idx },
	{ "bad_push", test_bad_push },
	{ "bad_init", test_bad_init },
	{ "ring_helpers", test_ring_helpers },
	{ "inflight_record", test_inflight_record },
	{ "inflight_restart", test_inflight_restart },
	{ "inflight_crash_after_publish", test_inflight_crash_after_publish },
	{ "inflight_bad_region", test_inflight_bad_region },
	{ "region_split", test_region_split },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
