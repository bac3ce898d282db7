// SPDX-License-Identifier: MIT
/*
 * DEVICE_NEEDS_RESET as the guest's drivers notice it, on the host: the
 * guest's virtio-blk driver, virtio-mmio transport and split ring
 * (guest/virtio/blk.c, mmio.c, virtq.c) run against a fake register
 * window in ordinary memory and a fake clock. The clock is also the
 * device: every time_ns() call advances it by TICK_NS and lets the fake
 * device complete the request or set NEEDS_RESET at a chosen moment.
 *
 * What is checked: a request waiting on a device that set NEEDS_RESET
 * fails with VIO_ENEEDSRESET and "device needs reset" naming the window,
 * about 1 ms after it was submitted (not at once: Status is a VM exit), and
 * not much later; a device that stays silent has Status read about once
 * per millisecond; a request that completes within 1 ms never reads
 * Status (the fast path); and the watch schedule itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guest/lib/devtree.h"
#include "guest/lib/time.h"
#include "guest/virtio/alloc.h"
#include "guest/virtio/blk.h"
#include "guest/virtio/watch.h"
#include "tests/check.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_mmio.h"

#define TICK_NS	 2000ull /* fake time per time_ns() call */
#define MS	 1000000ull
#define NEVER	 UINT64_MAX
#define QSIZE	 16
#define ARENA_SZ (1u << 20)

/* --- Stubs for what the drivers take from the rest of the guest ---------- */

static uint64_t now_ns;
static uint64_t complete_at = NEVER, reset_at = NEVER;
static uint32_t regs[0x200 / 4] __attribute__((aligned(4096)));
static uint8_t arena[ARENA_SZ] __attribute__((aligned(4096)));
static size_t arena_used;
static struct blk_dev blk;

static void device_step(void);

uint64_t time_ns(void)
{
	now_ns += TICK_NS;
	device_step();
	return now_ns;
}

int dt_virtio_mmio(struct dt_virtio_mmio *devs, int max)
{
	(void)devs;
	(void)max;
	return 0;
}

void *dma_alloc(size_t size, size_t align)
{
	size_t at = (arena_used + align - 1) & ~(align - 1);

	if (at + size > ARENA_SZ)
		return NULL;
	arena_used = at + size;
	return arena + at;
}

/* --- The fake device ------------------------------------------------------ */

static void set_status(uint32_t s)
{
	__atomic_store_n(&regs[VIRTIO_MMIO_STATUS / 4], s, __ATOMIC_RELAXED);
}

/* Completes the one request in the avail ring, or sets NEEDS_RESET, when
 * its moment has come. */
static void device_step(void)
{
	struct virtq *vq = &blk.vq[0];

	if (now_ns >= reset_at) {
		set_status(regs[VIRTIO_MMIO_STATUS / 4] |
			   VIRTIO_CONFIG_S_NEEDS_RESET);
		reset_at = NEVER;
	}
	if (now_ns >= complete_at && vq->avail->idx != vq->used->idx) {
		uint16_t u = vq->used->idx;
		uint16_t head = vq->avail->ring[u % vq->num];

		vq->used->ring[u % vq->num].id = head;
		vq->used->ring[u % vq->num].len = 1; /* the status byte */
		__atomic_store_n(&vq->used->idx, (uint16_t)(u + 1),
				 __ATOMIC_RELEASE);
		complete_at = NEVER;
	}
}

/* A blk device as blk_open leaves it, without the register dance. */
static void open_fake(void)
{
	static void *mem;

	memset(&blk, 0, sizeof(blk));
	memset(regs, 0, sizeof(regs));
	blk.vio.base = (uint64_t)(uintptr_t)regs;
	blk.vio.features = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	blk.nq = 1;
	blk.capacity = 8;
	if (!mem)
		mem = dma_alloc(virtq_mem_size(QSIZE, 0), 4096);
	REQUIRE(mem);
	CHECK_EQ(virtq_init(&blk.vq[0], QSIZE, mem, (uint64_t)(uintptr_t)mem,
			    blk.vio.features, 0),
		 0);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	now_ns = 1000 * MS;
	complete_at = reset_at = NEVER;
}

/* Runs one FLUSH through blk_run; returns its result, *@took the time. */
static int run_one(uint64_t timeout_ns, uint64_t *took)
{
	static struct blk_req r;
	uint64_t t0 = now_ns;
	int ret;

	memset(&r, 0, sizeof(r));
	r.type = VIRTIO_BLK_T_FLUSH;
	ret = blk_run(&blk, 0, &r, timeout_ns);
	*took = now_ns - t0;
	return ret;
}

/* --- Cases ---------------------------------------------------------------- */

/* NEEDS_RESET already set: noticed at the first look, about 1 ms in. */
static void test_reset_noticed(void)
{
	uint64_t took;

	open_fake();
	reset_at = now_ns;
	CHECK_EQ(run_one(5000 * MS, &took), VIO_ENEEDSRESET);
	CHECK(took >= VIO_WATCH_NS);
	CHECK(took < VIO_WATCH_NS + 10 * TICK_NS);
	CHECK_EQ(blk.vio.watch.reads, 1);
	CHECK_HAS(blk.vio.error, "device needs reset");
	CHECK_HAS(blk.vio.error, "virtio-mmio@");
	printf("  FAIL text: %s\n", blk.vio.error);
}

/* NEEDS_RESET set while the request waits: noticed within 1 ms. */
static void test_reset_later(void)
{
	uint64_t took;

	open_fake();
	reset_at = now_ns + 7 * MS + MS / 3;
	CHECK_EQ(run_one(5000 * MS, &took), VIO_ENEEDSRESET);
	CHECK(took >= 7 * MS + MS / 3);
	CHECK(took <= 8 * MS + 10 * TICK_NS);
	CHECK_EQ(blk.vio.watch.reads, 8);
}

/* A silent device: Status is read about once a millisecond, and the
 * caller's timeout still ends the wait. */
static void test_silent_device(void)
{
	uint64_t took;

	open_fake();
	CHECK_EQ(run_one(20 * MS, &took), BLK_ETIMEDOUT);
	CHECK(took >= 20 * MS);
	CHECK(blk.vio.watch.reads >= 19 && blk.vio.watch.reads <= 20);
}

/* The fast path: completions within 1 ms never read Status, however many
 * requests; a slow one reads it once per millisecond it took. */
static void test_fast_path(void)
{
	uint64_t took;

	open_fake();
	for (int i = 0; i < 1000; i++) {
		complete_at = now_ns + (i % 10) * 90000; /* 0..0.81 ms */
		CHECK_EQ(run_one(5000 * MS, &took), 0);
	}
	CHECK_EQ(blk.vio.watch.reads, 0);
	complete_at = now_ns + 3 * MS + MS / 2;
	CHECK_EQ(run_one(5000 * MS, &took), 0);
	CHECK_EQ(blk.vio.watch.reads, 3);
	/* Completed with NEEDS_RESET set after it: the request is fine. */
	complete_at = now_ns + MS / 2;
	reset_at = now_ns + MS / 2 + 10 * TICK_NS;
	CHECK_EQ(run_one(5000 * MS, &took), 0);
	CHECK_EQ(vio_check(&blk.vio), 0);
	for (int i = 0; i < 20; i++)
		time_ns();
	CHECK_EQ(vio_check(&blk.vio), VIO_ENEEDSRESET);
	/* The next request on it fails, about 1 ms in. */
	CHECK_EQ(run_one(5000 * MS, &took), VIO_ENEEDSRESET);
	CHECK(took >= VIO_WATCH_NS && took < VIO_WATCH_NS + 10 * TICK_NS);
}

/* The schedule: armed on first use and by progress, then every 1 ms. */
static void test_watch_schedule(void)
{
	struct vio_watch w;

	memset(&w, 0, sizeof(w));
	CHECK(!vio_watch_due(&w, 5 * MS, false)); /* arms */
	CHECK(!vio_watch_due(&w, 6 * MS - 1, false));
	CHECK(vio_watch_due(&w, 6 * MS, false));
	CHECK(!vio_watch_due(&w, 6 * MS + 1, false));
	CHECK(vio_watch_due(&w, 7 * MS, false));
	CHECK(!vio_watch_due(&w, 7 * MS + 5, true)); /* progress re-arms */
	CHECK(!vio_watch_due(&w, 8 * MS, false));
	CHECK(vio_watch_due(&w, 8 * MS + 5, false));
	CHECK_EQ(w.reads, 3);
	vio_watch_reset(&w);
	CHECK(!vio_watch_due(&w, 100 * MS, false));
	CHECK(vio_watch_due(&w, 101 * MS, false));
}

static const struct check_case cases[] = {
	{ "reset_noticed", test_reset_noticed },
	{ "reset_later", test_reset_later },
	{ "silent_device", test_silent_device },
	{ "fast_path", test_fast_path },
	{ "watch_schedule", test_watch_schedule },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
