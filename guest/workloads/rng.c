// SPDX-License-Identifier: MIT
/*
 * rng: reads a virtio-rng device and checks that what comes back looks
 * random: every request gets bytes, they are not constant, two reads
 * differ, and a few kilobytes use most byte values.
 *
 * Parameters: mode=poll|irq (default poll), bytes=N to read in total
 * (default 4096, up to 1M), depth=N requests in flight (default 8),
 * ring=split|packed and in_order=0|1 (virtio_common.h).
 */
#include <stdio.h>
#include <string.h>

#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/rng.h"
#include "virtio/virtio_ids.h"
#include "workloads/virtio_common.h"
#include "workloads/workloads.h"

#define CHUNK	  64
#define MAX_BYTES (1u << 20)
#define MAX_DEPTH 64

static bool constant(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

/* Two single reads, which must differ from each other. */
static void check_single(struct rng_dev *r, uint8_t *a, uint8_t *b)
{
	long na = rng_read(r, a, CHUNK, VW_TIMEOUT_NS);
	long nb = na > 0 ? rng_read(r, b, CHUNK, VW_TIMEOUT_NS) : na;

	if (!report(na > 0 && nb > 0, "single reads: %ld and %ld bytes", na,
		    nb)) {
		report_info("%s", r->vio.error);
		return;
	}
	report(!constant(a, (uint32_t)na), "the bytes are not constant");
	report(na != nb || memcmp(a, b, (size_t)na),
	       "two reads give different bytes");
}

/* Reads @total bytes in CHUNK requests, @depth in flight; returns how
 * many arrived, or -1 (reported). */
static long read_many(struct rng_dev *r, uint8_t *buf, uint32_t total,
		      unsigned int depth, struct vw_wait *w)
{
	uint32_t issued = 0, got = 0, len, shorts = 0;
	uint64_t seen = time_ns();
	unsigned int busy = 0;
	bool moved;
	void *tok;
	int ret;

	while (issued < total || busy) {
		while (busy < depth && issued < total) {
			if (rng_submit(r, buf + issued, CHUNK, buf + issued))
				return report(false, "submit failed"), -1;
			issued += CHUNK;
			busy++;
		}
		rng_kick(r);
		moved = false;
		while ((ret = rng_poll(r, &tok, &len)) > 0) {
			busy--;
			got += len;
			shorts += len < CHUNK;
			moved = true;
		}
		if (ret < 0)
			return report(false, "%s", r->vio.error), -1;
		if (moved)
			seen = time_ns();
		else if (busy)
			ret = vw_idle(w, &r->vq, 1);
		if (!ret)
			ret = vio_watch(&r->vio, time_ns(), moved || !busy);
		if (ret)
			return report(false, "%s", r->vio.error), -1;
		if (time_ns() - seen > VW_TIMEOUT_NS)
			return report(false, "%u requests stuck", busy), -1;
	}
	if (shorts)
		report_info("%u requests came back short", shorts);
	return got;
}

static void check_bulk(struct rng_dev *r, uint8_t *buf, uint32_t total,
		       unsigned int depth, struct vw_wait *w)
{
	bool seen[256] = { false };
	unsigned int distinct = 0;
	uint64_t t0 = time_ns(), us;
	long got = read_many(r, buf, total, depth, w);

	if (got < 0)
		return;
	us = (time_ns() - t0) / 1000 + 1;
	report(got > 0, "%ld of %u bytes in %llu us, %u in flight", got, total,
	       (unsigned long long)us, depth);
	for (uint32_t i = 0; i < total; i++) {
		distinct += !seen[buf[i]];
		seen[buf[i]] = true;
	}
	/* 4 KiB of random bytes miss a given value with odds e^-16. */
	if (total >= 4096 && got == total)
		report(distinct > 240, "%u distinct byte values in %u bytes",
		       distinct, total);
}

int rng_main(const char *args)
{
	static struct rng_dev r;
	struct vw_wait w;
	uint64_t total, depth, ring;
	struct vio_dev found;
	uint8_t *buf;
	int mode = vw_mode(args), err;

	if (mode < 0 || vw_ring(args, &ring) ||
	    kv_get_u64(args, "bytes", 4096, &total) == -2 ||
	    kv_get_u64(args, "depth", 8, &depth) == -2 || !total ||
	    total > MAX_BYTES || total % CHUNK || !depth || depth > MAX_DEPTH) {
		printf("ERROR: rng: bytes=N (multiple of 64, up to 1M), "
		       "depth=1..64\n");
		return WORKLOAD_BAD_REQUEST;
	}
	report_prefix_push("rng");
	if (!vw_find(VIRTIO_ID_RNG, "rng", &found)) {
		found.ring_wanted = ring;
		err = rng_open(&r, &found, 64);
		buf = dma_alloc(total + 2 * CHUNK, 4096);
		if ((err || !vw_ring_check(&r.vio, ring)) &&
		    report(!err && buf, "set up: %s",
			   err	 ? r.vio.error
			   : buf ? "ok"
				 : "no memory") &&
		    !vw_wait_start(&w, mode, &r.vio)) {
			check_single(&r, buf + total, buf + total + CHUNK);
			check_bulk(&r, buf, (uint32_t)total,
				   (unsigned int)depth, &w);
			vw_wait_end(&w);
		}
		vio_reset(&r.vio);
	}
	report_prefix_pop();
	return report_summary();
}
