// SPDX-License-Identifier: MIT
/*
 * bench_run() (guest/workloads/bench.c), the loop of blk-bench and
 * net-bench, on the host: a fake clock (rdtsc, one tick a call) and a fake
 * device behind the pass callback, which completes each request a few
 * rounds after it started. What is checked: count= starts exactly the
 * count, split over the queues, and waits for every completion; idle is
 * called only in rounds where nothing moved with requests in flight (also
 * when some rounds start nothing);
 * seconds= starts nothing after the deadline and still drains; a failing
 * pass ends the run at once; a device that stops completing ends it as
 * stalled, VW_TIMEOUT_NS after the last completion and not much later.
 */
#include "arch/x86_64/io.h"
#include "lib/time.h"
#include "tests/check.h"
#include "virtio/alloc.h"
#include "workloads/bench.h"
#include "workloads/virtio_common.h"

#define MAX_INFLIGHT 64

/* --- The fake clock and what bench.c takes from the rest of the guest --- */

static uint64_t clock_now, tick = 1000;

uint64_t rdtsc(void)
{
	return clock_now += tick;
}

uint64_t tsc_to_ns(uint64_t cycles)
{
	return cycles; /* a 1 GHz TSC */
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return ns;
}

uint32_t time_tsc_khz(void)
{
	return 1000000;
}

/* Guest RAM: a bump allocator over a static arena, emptied per case. */
static uint8_t arena[1 << 20] __attribute__((aligned(4096)));
static size_t arena_used;

void *dma_alloc(size_t size, size_t align)
{
	size_t at = (arena_used + align - 1) & ~(align - 1);

	if (at + size > sizeof(arena))
		return NULL;
	arena_used = at + size;
	return arena + at;
}

bool virtq_kick_prepare(struct virtq *vq)
{
	(void)vq;
	return false;
}

void vio_notify(struct vio_dev *dev, unsigned int index)
{
	(void)dev;
	(void)index;
}

/* --- The fake device ------------------------------------------------------ */

struct fake {
	struct bench b;
	unsigned int qd;	   /* most in flight per queue */
	unsigned int latency;	   /* rounds from start to completion */
	unsigned int accept_every; /* starts only in such rounds (0: all) */
	int fail_at;		   /* round whose pass fails, or -1 */
	bool stop_completing;	   /* after the first completion */
	unsigned int round, passes, idles, bad_idles;
	bool moved;		/* this round, so far */
	uint64_t last_done_at;	/* clock of the last completion */
	uint64_t last_start_at; /* clock of the last start */
	/* per queue: start round of each request in flight, FIFO */
	unsigned int due[2][MAX_INFLIGHT], head[2], n[2];
};

static int pass(void *ctx, unsigned int q, uint64_t now)
{
	struct fake *f = ctx;
	struct bench_q *st = &f->b.q[q];
	uint64_t quota = bench_quota(&f->b, q, now);
	int done = 0;

	if (q == 0) {
		f->round++;
		f->moved = false;
	}
	f->passes++;
	if ((int)f->round == f->fail_at)
		return -1;
	while (f->n[q] && f->due[q][f->head[q]] <= f->round &&
	       !(f->stop_completing && f->last_done_at)) {
		f->head[q] = (f->head[q] + 1) % MAX_INFLIGHT;
		f->n[q]--;
		st->done++;
		done++;
		f->last_done_at = now;
	}
	if (f->accept_every && f->round % f->accept_every)
		quota = 0;
	while (quota-- && f->n[q] < f->qd) {
		f->due[q][(f->head[q] + f->n[q]) % MAX_INFLIGHT] =
			f->round + f->latency;
		f->n[q]++;
		st->started++;
		f->last_start_at = now;
	}
	f->moved |= done > 0;
	return done;
}

static void idle(void *ctx)
{
	struct fake *f = ctx;

	f->idles++;
	if (f->moved || !bench_in_flight(&f->b))
		f->bad_idles++;
}

/* The one fake device, set up afresh by each case. */
static struct fake dev;

static void fake_init(struct fake *f, unsigned int nq)
{
	memset(f, 0, sizeof(*f));
	arena_used = 0;
	f->qd = 4;
	f->latency = 3;
	f->fail_at = -1;
	f->b.unit = "IOPS";
	f->b.rate_key = "iops";
	REQUIRE(bench_setup(&f->b, nq));
}

static void test_count(void)
{
	fake_init(&dev, 2);
	dev.b.count = 101;
	CHECK_EQ(bench_run(&dev.b, pass, idle, &dev), 0);
	CHECK_EQ(dev.b.q[0].started, 51);
	CHECK_EQ(dev.b.q[1].started, 50);
	CHECK_EQ(dev.b.q[0].done + dev.b.q[1].done, 101);
	CHECK_EQ(bench_in_flight(&dev.b), 0);
	CHECK_EQ(dev.passes, 2 * dev.round);
	CHECK(dev.idles > 0);
	CHECK_EQ(dev.bad_idles, 0);
}

/* Rounds with nothing in flight and nothing done: no idle there. */
static void test_gaps(void)
{
	fake_init(&dev, 1);
	dev.b.count = 40;
	dev.latency = 1;
	dev.accept_every = 3;
	CHECK_EQ(bench_run(&dev.b, pass, idle, &dev), 0);
	CHECK_EQ(dev.b.q[0].done, 40);
	CHECK_EQ(dev.bad_idles, 0);
	CHECK(dev.round >= 30);
}

static void test_seconds(void)
{
	fake_init(&dev, 1);
	dev.b.duration_ns = 200000; /* 200 rounds of one tick */
	CHECK_EQ(bench_run(&dev.b, pass, idle, &dev), 0);
	CHECK(dev.b.q[0].started > 40);
	CHECK_EQ(dev.b.q[0].done, dev.b.q[0].started);
	CHECK(dev.last_start_at < dev.b.deadline);
	CHECK(clock_now >= dev.b.deadline);
	CHECK_EQ(dev.bad_idles, 0);
}

static void test_driver_error(void)
{
	fake_init(&dev, 2);
	dev.b.count = 1000;
	dev.fail_at = 7;
	CHECK_EQ(bench_run(&dev.b, pass, idle, &dev), BENCH_EDRIVER);
	CHECK_EQ(dev.round, 7);
	CHECK_EQ(dev.passes, 2 * 6 + 1); /* nothing after the failing pass */
}

static void test_stalled(void)
{
	fake_init(&dev, 1);
	dev.b.count = 100;
	dev.stop_completing = true;
	tick = 1000000; /* 1 ms a round: 5 s is 5000 rounds */
	CHECK_EQ(bench_run(&dev.b, pass, idle, &dev), BENCH_ESTALLED);
	tick = 1000;
	CHECK_EQ(dev.b.q[0].done, 1);
	CHECK(bench_in_flight(&dev.b) > 0);
	CHECK(clock_now - dev.last_done_at > VW_TIMEOUT_NS);
	CHECK(clock_now - dev.last_done_at <= VW_TIMEOUT_NS + 2000000);
	CHECK_EQ(dev.bad_idles, 0);
}

static void test_errors(void)
{
	fake_init(&dev, 2);
	dev.b.q[0].errors = 3;
	dev.b.q[1].errors = 4;
	CHECK_EQ(bench_errors(&dev.b), 7);
}

static const struct check_case cases[] = {
	{ "count", test_count },     { "gaps", test_gaps },
	{ "seconds", test_seconds }, { "driver_error", test_driver_error },
	{ "stalled", test_stalled }, { "errors", test_errors },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
