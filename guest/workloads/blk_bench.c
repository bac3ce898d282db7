// SPDX-License-Identifier: MIT
/*
 * blk-bench: drives a virtio-blk device as hard as it will go and reports
 * what it saw: IOPS, MB/s, latency percentiles and the guest's own cost.
 *
 * Every queue keeps qd requests in flight: each pass takes the queue's
 * completions, refills the free slots and kicks once for the whole batch;
 * with EVENT_IDX the device asks for a kick (and sends an interrupt) only
 * when it needs one. Buffers are allocated and touched once before the
 * run, because the first touch of a page costs an exit. Latency is TSC
 * time from just before a request is added to the ring to the pass that
 * finds it used.
 *
 * Parameters: rw=read|write|randread|randwrite|mixed (default randread;
 * mixed: random offsets, half reads), bs=BYTES (multiple of 512, default
 * 4096), qd=N per queue (default 1), queues=N (default 1), seconds=S or
 * count=N (docs/benchmarks.md), mode=poll|irq, qsize=N (default 256).
 * What the device answers is reported, never asserted; requests that
 * fail count as errors and make the workload FAIL.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "lib/json.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/blk.h"
#include "virtio/virtio_ids.h"
#include "workloads/bench.h"
#include "workloads/virtio_common.h"
#include "workloads/workloads.h"

#define MAX_QD 1024
#define MAX_BS (4u << 20)

enum rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_MIXED };
static const char *const rw_names[] = { "read", "write", "randread",
					"randwrite", "mixed" };

struct slot {
	struct blk_req req;
	uint64_t t_submit; /* TSC */
	bool busy;
};

struct bb {
	struct blk_dev blk;
	struct bench b;
	enum rw rw;
	uint32_t bs, qd;
	int mode;
	uint64_t ring;	     /* ring=, in_order=: features to ask for */
	uint64_t span;	     /* requests of bs that fit the disk */
	uint64_t *cursor;    /* per queue, sequential patterns */
	struct slot **slots; /* per queue, qd each */
	uint32_t rng;
	struct vw_wait wait;
};

/* Type and sector of the next request of queue @q. */
static void next_io(struct bb *s, unsigned int q, struct blk_req *r)
{
	bool rnd = s->rw >= RW_RANDREAD;
	uint64_t n;

	if (rnd) {
		n = (((uint64_t)vw_rand(&s->rng) << 32) | vw_rand(&s->rng)) %
		    s->span;
	} else {
		/* Each queue streams through its own part of the disk. */
		n = (s->span * q / s->blk.nq + s->cursor[q]++) % s->span;
	}
	r->sector = n * (s->bs / VIRTIO_BLK_SECTOR_SIZE);
	if (s->rw == RW_MIXED)
		r->type = vw_rand(&s->rng) & 1 ? VIRTIO_BLK_T_OUT
					       : VIRTIO_BLK_T_IN;
	else
		r->type = s->rw == RW_WRITE || s->rw == RW_RANDWRITE
				  ? VIRTIO_BLK_T_OUT
				  : VIRTIO_BLK_T_IN;
}

/* Refills queue @q's free slots, then one kick. -1 on a driver error. */
static int fill(struct bb *s, unsigned int q, uint64_t now)
{
	struct bench_q *st = &s->b.q[q];
	uint64_t quota = bench_quota(&s->b, q, now), t;
	unsigned int added = 0;

	for (uint32_t i = 0; i < s->qd && added < quota; i++) {
		struct slot *sl = &s->slots[q][i];

		if (sl->busy)
			continue;
		next_io(s, q, &sl->req);
		t = rdtsc();
		sl->t_submit = t;
		if (blk_submit(&s->blk, q, &sl->req))
			return -1;
		st->submit_cyc += rdtsc() - t;
		sl->busy = true;
		added++;
	}
	if (!added)
		return 0;
	st->started += added;
	bench_kick(st, &s->blk.vio, q, &s->blk.vq[q]);
	return 0;
}

/* Takes queue @q's completions; returns how many, or -1. */
static int reap(struct bb *s, unsigned int q)
{
	struct bench_q *st = &s->b.q[q];
	struct blk_req *r;
	uint64_t t = rdtsc(), t1;
	int n = 0, ret;

	while ((ret = blk_poll(&s->blk, q, &r)) > 0) {
		struct slot *sl = (struct slot *)r;

		t1 = rdtsc();
		st->complete_cyc += t1 - t;
		sl->busy = false;
		st->done++;
		if (r->status != VIRTIO_BLK_S_OK)
			st->errors++;
		else
			st->bytes += s->bs;
		hist_record(st->lat, tsc_to_ns(t1 - sl->t_submit));
		n++;
		t = rdtsc();
	}
	return ret < 0 ? -1 : n;
}

/* One round's work on queue @q (bench_run): completions, then refill. */
static int pass(void *ctx, unsigned int q, uint64_t now)
{
	struct bb *s = ctx;
	int n = reap(s, q);

	return n < 0 || fill(s, q, now) < 0 ? -1 : n;
}

static void idle(void *ctx)
{
	struct bb *s = ctx;

	vw_idle(&s->wait, s->blk.vq, s->blk.nq);
}

static bool run(struct bb *s)
{
	int r = bench_run(&s->b, pass, idle, s);

	if (r == BENCH_EDRIVER)
		return report(false, "driver: %s", s->blk.vio.error);
	if (r == BENCH_ESTALLED)
		return report(false,
			      "%llu requests not completed "
			      "after 5 s",
			      (unsigned long long)bench_in_flight(&s->b));
	return true;
}

static int params(struct bb *s, const char *args, uint64_t *queues,
		  uint64_t *qsize)
{
	char rw[16] = "randread";
	uint64_t bs, qd;
	unsigned int i;

	kv_get(args, "rw", rw, sizeof(rw));
	for (i = 0; i < 5 && strcmp(rw, rw_names[i]); i++)
		;
	s->rw = (enum rw)i;
	s->mode = vw_mode(args);
	if (s->mode < 0 || vw_ring(args, &s->ring) || i == 5 ||
	    bench_params(&s->b, args) ||
	    kv_get_u64(args, "bs", 4096, &bs) == -2 ||
	    kv_get_u64(args, "qd", 1, &qd) == -2 ||
	    kv_get_u64(args, "queues", 1, queues) == -2 ||
	    kv_get_u64(args, "qsize", 256, qsize) == -2 || !bs ||
	    bs % VIRTIO_BLK_SECTOR_SIZE || bs > MAX_BS || !qd || qd > MAX_QD ||
	    !*queues || *queues > BLK_MAX_QUEUES || *qsize < 4 ||
	    *qsize > 32768) {
		printf("ERROR: blk-bench: rw=read|write|randread|randwrite|"
		       "mixed, bs=512*N up to 4M, qd 1..1024, queues 1..16, "
		       "qsize 4..32768, seconds=S (0.2) or count=N\n");
		return -1;
	}
	s->bs = (uint32_t)bs;
	s->qd = (uint32_t)qd;
	return 0;
}

/* Slots and buffers, touched now so that the run pays no first touch. */
static bool alloc_all(struct bb *s)
{
	unsigned int nq = s->blk.nq;

	/* A request takes 3 descriptors unless it goes indirect. */
	if (s->qd > s->blk.vq[0].num / 3 && !s->blk.vq[0].indirect_threshold)
		s->qd = s->blk.vq[0].num / 3 ? s->blk.vq[0].num / 3 : 1;
	if (s->qd > s->blk.vq[0].num)
		s->qd = s->blk.vq[0].num;
	s->span = s->blk.capacity / (s->bs / VIRTIO_BLK_SECTOR_SIZE);
	s->slots = dma_alloc(nq * sizeof(*s->slots), 64);
	s->cursor = dma_alloc(nq * sizeof(*s->cursor), 64);
	if (!s->span || !s->slots || !s->cursor || !bench_setup(&s->b, nq))
		return false;
	memset(s->cursor, 0, nq * sizeof(*s->cursor));
	for (unsigned int q = 0; q < nq; q++) {
		s->slots[q] = dma_alloc(s->qd * sizeof(struct slot), 64);
		if (!s->slots[q])
			return false;
		memset(s->slots[q], 0, s->qd * sizeof(struct slot));
		for (uint32_t i = 0; i < s->qd; i++) {
			struct blk_req *r = &s->slots[q][i].req;
			uint8_t *buf = dma_alloc(s->bs, 4096);

			if (!buf)
				return false;
			memset(buf, 0x5a ^ (int)i, s->bs);
			r->nseg = 1;
			r->seg[0] = (struct virtq_buf){ dma_addr(buf), s->bs };
		}
	}
	return true;
}

/* The JSON line; false when it did not fit (an ERROR line instead). */
static bool results(struct bb *s)
{
	static struct json j;

	json_begin(&j);
	json_str(&j, "workload", "blk-bench");
	json_str(&j, "rw", rw_names[s->rw]);
	json_u64(&j, "bs", s->bs);
	json_u64(&j, "qd", s->qd);
	json_u64(&j, "queues", s->blk.nq);
	json_str(&j, "mode", s->mode == VW_IRQ ? "irq" : "poll");
	json_str(&j, "ring", s->blk.vq[0].packed ? "packed" : "split");
	json_u64(&j, "in_order", s->blk.vq[0].in_order);
	if (s->b.count)
		json_u64(&j, "count", s->b.count);
	json_u64(&j, "tsc_khz", time_tsc_khz());
	bench_finish(&s->b, &j);
	json_u64(&j, "interrupts", s->wait.irqs);
	return report(!json_print(&j), "the results fit one JSON line");
}

static void bench(struct bb *s, const struct vio_dev *found, uint64_t queues,
		  uint64_t qsize)
{
	int err = blk_open(&s->blk, found, (unsigned int)queues,
			   (unsigned int)qsize, 0);
	uint64_t errors;

	if (!err && vw_ring_check(&s->blk.vio, s->ring))
		return;
	if (!report(!err, "set up: %s", err ? s->blk.vio.error : "ok"))
		return;
	if (queues > s->blk.nq)
		report_info("queues=%llu asked, the device has %u",
			    (unsigned long long)queues, s->blk.num_queues);
	if (!report(alloc_all(s), "%u queues of %u, qd %u, %u-byte buffers",
		    s->blk.nq, s->blk.vq[0].num, s->qd, s->bs))
		return;
	if (vw_wait_start(&s->wait, s->mode, &s->blk.vio))
		return;
	if (run(s)) {
		results(s);
		errors = bench_errors(&s->b);
		report(!errors, "%s bs=%u qd=%u: %llu I/O errors",
		       rw_names[s->rw], s->bs, s->qd,
		       (unsigned long long)errors);
	}
	vw_wait_end(&s->wait);
}

int blk_bench_main(const char *args)
{
	static struct bb s;
	struct vio_dev found;
	uint64_t queues, qsize;

	memset(&s, 0, sizeof(s));
	s.rng = 0x9e3779b9;
	s.b.unit = "IOPS";
	s.b.rate_key = "iops";
	if (params(&s, args, &queues, &qsize))
		return WORKLOAD_BAD_REQUEST;
	report_prefix_push("blk-bench");
	if (!vw_find(VIRTIO_ID_BLOCK, "blk", &found)) {
		found.ring_wanted = s.ring;
		bench(&s, &found, queues, qsize);
		vio_reset(&s.blk.vio);
	}
	report_prefix_pop();
	return report_summary();
}
