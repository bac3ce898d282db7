// SPDX-License-Identifier: MIT
/*
 * vuvm-check's rng scenarios: what a virtio-rng (entropy) device must
 * accept of a driver's buffer sizes and descriptor layouts, what it may
 * write, what its used lengths must mean, and what its bytes should look
 * like (the checks are in guest/check/catalogue.def).
 *
 * The device may legally write fewer bytes than a buffer holds, so most
 * checks judge the used length against what really changed: before every
 * request the driver fills its buffers with a pattern of its own (an
 * xorshift stream seeded per request), and afterwards no 8-byte stretch
 * of that pattern may survive inside the bytes the used length covers
 * (random bytes repeat it with odds 2^-64). Every buffer sits between
 * 64-byte canaries, and the descriptor table and the request's indirect
 * table are compared with snapshots taken before the kick, as in
 * check_blk.c.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "check/chain.h"
#include "check/check.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_rng.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"

#define QSIZE	   64
#define WRAP_QSIZE 8
#define WRAP_REQS  70000u
#define IND_MAX	   VIRTQ_MAX_SEGS
#define MAX_BUFS   VIRTQ_MAX_SEGS
#define STRETCH	   8 /* surviving pattern bytes that prove "not written" */
#define BIG	   (64 * 1024)
#define ARENA	   (4 * BIG)
#define VQ	   VIRTIO_RNG_QUEUE_REQUEST

enum layout { DIRECT, INDIRECT, MIXED };

/* One request: writable buffers only (a driver must not give others). */
struct req {
	struct virtq_buf bufs[MAX_BUFS];
	uint8_t *ptr[MAX_BUFS];
	unsigned int n;
	uint32_t total;	    /* writable bytes */
	uint32_t seed;	    /* of the driver's fill pattern */
	uint32_t used_len;  /* as the device reported it */
	bool written;	    /* the bytes used_len covers were written */
	unsigned int where; /* otherwise: the buffer the pattern survived in */
};

/* The checks every request feeds (rng-mixed-chain points all at one). */
struct feeds {
	struct check_acc *desc, *bounds, *bound, *written, *fill;
};

struct crng {
	struct vio_dev vio;
	struct virtq vq;
	uint64_t stall_ns;
	struct chain_arena arena;
	uint8_t *snap;
	uint32_t seed;
	char broken[VIO_ERROR_LEN];
	struct feeds f;
	struct check_acc own[5];
	uint64_t reported, survived; /* pattern bytes inside used lengths */
};

/* --- Buffers ----------------------------------------------------------------
 */

/* A request of @n buffers, @total bytes in all, cut at odd places. */
static int build(struct crng *c, struct req *r, unsigned int n, uint32_t total)
{
	uint32_t left = total, x = (total * 2654435761u + n) | 1;

	memset(r, 0, sizeof(*r));
	if (!n || n > MAX_BUFS || total < n)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t room = left - (n - 1 - i), len = left;
		uint8_t *p;

		if (i + 1 < n) {
			uint32_t cap =
				2 * total / n < room ? 2 * total / n : room;

			len = 1 + vw_rand(&x) % cap;
		}
		p = chain_place(&c->arena, len);
		if (!p)
			return -1;
		r->bufs[i] = (struct virtq_buf){ dma_addr(p), len };
		r->ptr[i] = p;
		left -= len;
	}
	r->n = n;
	r->total = total;
	return 0;
}

/* The driver's pattern, byte by byte across the buffers. */
static uint8_t pattern_next(uint32_t *s)
{
	return (uint8_t)(vw_rand(s) >> 11);
}

static void prefill(struct crng *c, struct req *r)
{
	uint32_t s;

	c->seed = c->seed * 1103515245u + 12345u;
	r->seed = c->seed | 1;
	s = r->seed;
	for (unsigned int i = 0; i < r->n; i++)
		for (uint32_t k = 0; k < r->bufs[i].len; k++)
			r->ptr[i][k] = pattern_next(&s);
}

/* Whether the reported bytes were written: no STRETCH pattern bytes in a
 * row survive among them. Counts survivors for the overall rate. */
static bool reported_written(struct crng *c, const struct req *r,
			     unsigned int *where)
{
	uint32_t s = r->seed, left = r->used_len, run = 0;

	for (unsigned int i = 0; i < r->n && left; i++)
		for (uint32_t k = 0; k < r->bufs[i].len && left; k++, left--) {
			bool same = r->ptr[i][k] == pattern_next(&s);

			c->survived += same;
			run = same ? run + 1 : 0;
			if (run == STRETCH) {
				*where = i;
				return false;
			}
		}
	c->reported += r->used_len;
	return true;
}

/* --- Running requests -------------------------------------------------------
 */

static void set_layout(struct virtq *vq, enum layout l, unsigned int after)
{
	vq->indirect_threshold = l == DIRECT ? 0 : 1;
	vq->indirect_after = l == MIXED ? after : 0;
}

static uint16_t used_idx(const struct crng *c)
{
	return __atomic_load_n(&c->vq.used->idx, __ATOMIC_ACQUIRE);
}

/* Waits until @n used entries are pending; 0, or -1 with c->broken. */
static int await(struct crng *c, unsigned int n)
{
	uint64_t last = time_ns(), now;
	uint16_t seen = used_idx(c);

	vio_watch(&c->vio, last, true);
	while ((uint16_t)(used_idx(c) - c->vq.last_used) < n) {
		now = time_ns();
		if (used_idx(c) != seen) {
			seen = used_idx(c);
			last = now;
		}
		if (now - last > c->stall_ns) {
			snprintf(
				c->broken, sizeof(c->broken),
				"%u of %u requests did not complete within "
				"%llu s",
				n - (uint16_t)(seen - c->vq.last_used), n,
				(unsigned long long)(c->stall_ns / 1000000000));
			return -1;
		}
		if (vio_watch(&c->vio, now, now == last)) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 c->vio.error);
			return -1;
		}
	}
	return 0;
}

/* Takes the next used entry; its length is judged before the driver
 * sees it (the driver breaks the queue on a length past the chain). */
static struct req *take(struct crng *c)
{
	struct virtq_used_elem *e =
		&c->vq.used->ring[c->vq.last_used % c->vq.num];
	struct virtq_head *h = e->id < c->vq.num ? &c->vq.heads[e->id] : NULL;
	uint32_t len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	void *tok;

	if (h && h->token)
		check_expect(c->f.bound, len <= h->in_len,
			     "a used length within the writable bytes",
			     "%u for a chain of %u writable bytes", len,
			     h->in_len);
	if (virtq_get_used(&c->vq, &tok, &len) != 1) {
		snprintf(c->broken, sizeof(c->broken), "%s",
			 virtq_error(&c->vq));
		return NULL;
	}
	((struct req *)tok)->used_len = len;
	return tok;
}

static int add(struct crng *c, struct req *r, enum layout l, unsigned int after)
{
	int ret;

	prefill(c, r);
	set_layout(&c->vq, l, after);
	ret = virtq_add(&c->vq, r->bufs, 0, r->n, r);
	set_layout(&c->vq, DIRECT, 0);
	if (ret)
		snprintf(c->broken, sizeof(c->broken),
			 "the driver could not add a request (%d)", ret);
	return ret;
}

/* What the device wrote for @r, apart from the tables. */
static void judge_writes(struct crng *c, struct req *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		check_expect(c->f.bounds,
			     chain_intact(r->ptr[i], r->bufs[i].len),
			     "the 64 bytes around every buffer untouched",
			     "buffer %u of %u (%u bytes) had a canary "
			     "overwritten",
			     i + 1, r->n, r->bufs[i].len);
	r->written = reported_written(c, r, &r->where);
	check_expect(c->f.written, r->written,
		     "the bytes the used length covers written",
		     "%u bytes of the driver's pattern in a row in buffer "
		     "%u of %u (used length %u of %u)",
		     STRETCH, r->where + 1, r->n, r->used_len, r->total);
	check_expect(c->f.fill, r->used_len == r->total,
		     "the whole buffer filled",
		     "used length %u of %u writable bytes in %u descriptors",
		     r->used_len, r->total, r->n);
}

/* Adds, kicks and waits for @r alone; 0 or -1 with c->broken said. */
static int run(struct crng *c, struct req *r, enum layout l, unsigned int after)
{
	size_t tsize = c->vq.num * sizeof(struct virtq_desc);
	struct virtq_desc *table;
	uint32_t nt;
	uint16_t head;

	if (c->broken[0] || add(c, r, l, after))
		return -1;
	head = c->vq.avail->ring[(uint16_t)(c->vq.avail_idx - 1) % c->vq.num];
	memcpy(c->snap, c->vq.desc, tsize);
	table = chain_indirect(&c->vq, head, &nt);
	memcpy(c->snap + tsize, table ? table : c->vq.desc,
	       nt * sizeof(*table));
	vio_kick(&c->vio, VQ, &c->vq);
	if (await(c, 1))
		return -1;
	check_expect(c->f.desc,
		     !memcmp(c->snap, c->vq.desc, tsize) &&
			     (!table || !memcmp(c->snap + tsize, table,
						nt * sizeof(*table))),
		     "the descriptor and indirect tables as the driver wrote "
		     "them",
		     "they changed while the device held request %u", head);
	if (take(c) != r)
		return -1;
	judge_writes(c, r);
	return 0;
}

/* One request of @n buffers, @total bytes, laid out as @l; its case of
 * @a: completed with at least one byte, and the reported bytes written. */
static void one(struct crng *c, struct check_acc *a, unsigned int n,
		uint32_t total, enum layout l, unsigned int after)
{
	struct req r;

	/* One request at a time: the arena is free again. */
	chain_reset(&c->arena);
	if (build(c, &r, n, total)) {
		check_expect(a, false, "the request built",
			     "no room for %u bytes in %u buffers", total, n);
		return;
	}
	if (run(c, &r, l, after))
		check_expect(a, false, "the request to complete", "%s",
			     c->broken);
	else if (check_expect(a, r.used_len >= 1, "at least one byte",
			      "used length 0 for %u bytes in %u descriptors%s",
			      total, n, l == DIRECT ? "" : " (indirect)"))
		check_expect(a, r.written,
			     "the reported bytes written, across descriptors",
			     "the driver's pattern survived in buffer %u of %u "
			     "(used length %u of %u)",
			     r.where + 1, n, r.used_len, total);
}

/* --- rng-layout and rng-mixed-chain ------------------------------------------
 */

static void check_sizes(struct crng *c)
{
	static const uint32_t sizes[] = { 1,	2,    3,    7,	   16,
					  63,	64,   65,   511,   512,
					  4095, 4096, 4097, 65535, BIG };
	struct check_acc a = { 0 };

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		one(c, &a, 1, sizes[i], DIRECT, 0);
	check_done(CK_RNG_SIZES, &a);
}

static void check_chains(struct crng *c)
{
	struct check_acc a = { 0 };
	unsigned int max = QSIZE < MAX_BUFS ? QSIZE : MAX_BUFS;

	for (unsigned int n = 2; n <= max; n++)
		one(c, &a, n, 37 * n + 11, DIRECT, 0);
	one(c, &a, 7, BIG - 3, DIRECT, 0);
	check_done(CK_RNG_CHAIN, &a);
}

static void check_indirect(struct crng *c)
{
	struct check_acc a = { 0 };

	if (!vio_has(&c->vio, VIRTIO_F_INDIRECT_DESC)) {
		check_skip(CK_RNG_INDIRECT, "INDIRECT_DESC not offered");
		return;
	}
	for (unsigned int n = 1; n <= IND_MAX; n++)
		one(c, &a, n, 29 * n + 5, INDIRECT, 0);
	check_done(CK_RNG_INDIRECT, &a);
}

/* The checks fed by every request of rng-layout. */
static void check_writes(struct crng *c)
{
	check_expect(c->f.written, c->survived * 128 <= c->reported + 2048,
		     "about 1 in 256 reported bytes equal to the pattern",
		     "%llu of %llu", (unsigned long long)c->survived,
		     (unsigned long long)c->reported);
	check_done(CK_RNG_NO_WRITE_DESC, c->f.desc);
	check_done(CK_RNG_WRITE_BOUNDS, c->f.bounds);
	check_done(CK_RNG_LEN_BOUND, c->f.bound);
	check_done(CK_RNG_LEN_WRITTEN, c->f.written);
	check_done(CK_RNG_FILL, c->f.fill);
}

static void check_mixed(struct crng *c)
{
	struct check_acc *a = &c->own[0];

	/* A device may fill less than the chain: not this check's matter. */
	c->f = (struct feeds){ a, a, a, a, &c->own[1] };
	if (!vio_has(&c->vio, VIRTIO_F_INDIRECT_DESC)) {
		check_skip(CK_RNG_MIXED, "INDIRECT_DESC not offered");
		return;
	}
	for (unsigned int d = 1; d <= 3; d++)
		for (unsigned int n = d + 1; n <= d + 4; n++)
			one(c, a, n, 41 * n + d, MIXED, d);
	check_done(CK_RNG_MIXED, a);
}

/* --- rng-requests
 * -------------------------------------------------------------
 */

static void check_in_flight(struct crng *c)
{
	static struct req r[QSIZE];
	bool done[QSIZE] = { false };
	struct check_acc a = { 0 };
	bool ind = vio_has(&c->vio, VIRTIO_F_INDIRECT_DESC);
	unsigned int n, got = 0;
	struct req *t;

	/* One ring descriptor each: direct single buffers, indirect tables. */
	for (n = 0; n < c->vq.num; n++)
		if (build(c, &r[n], ind && n % 2 ? 1 + n % 5 : 1, 16 + 3 * n) ||
		    add(c, &r[n], ind && n % 2 ? INDIRECT : DIRECT, 0))
			break;
	check_expect(&a, n == c->vq.num, "a full queue of requests added",
		     "%u of %u: %s", n, c->vq.num, c->broken);
	vio_kick(&c->vio, VQ, &c->vq);
	while (!c->broken[0] && got < n && !await(c, 1)) {
		t = take(c);
		if (!t)
			break;
		check_expect(&a, !done[t - r] && t->used_len >= 1,
			     "each request once, with at least one byte",
			     "request %u: %s", (unsigned int)(t - r),
			     done[t - r] ? "completed twice" : "used length 0");
		done[t - r] = true;
		got++;
	}
	if (c->broken[0])
		check_expect(&a, false, "all requests to complete",
			     "%u of %u did: %s", got, n, c->broken);
	chain_reset(&c->arena);
	check_done(CK_RNG_IN_FLIGHT, &a);
}

/* Kicks with nothing new, each given time to reach the device on its
 * own (back to back they could arrive with the next request). */
static void spurious_kicks(struct crng *c)
{
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t t = time_ns();

		vio_notify(&c->vio, VQ);
		while (time_ns() - t < CHECK_SPURIOUS_GAP_NS)
			cpu_relax();
	}
}

static void check_spurious(struct crng *c)
{
	struct check_acc a = { 0 };

	spurious_kicks(c);
	one(c, &a, 1, 64, DIRECT, 0);
	spurious_kicks(c);
	one(c, &a, 2, 64, DIRECT, 0);
	check_done(CK_RNG_SPURIOUS, &a);
}

/* Reads up to @len bytes into @out in one request; the bytes read. */
static uint32_t fetch(struct crng *c, uint8_t *out, uint32_t len)
{
	struct req r;

	chain_reset(&c->arena);
	if (build(c, &r, 1, len) || run(c, &r, DIRECT, 0))
		return 0;
	memcpy(out, r.ptr[0], r.used_len);
	return r.used_len;
}

static bool all_equal(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

static void check_not_constant(struct crng *c, uint8_t *x, uint8_t *y)
{
	struct check_acc a = { 0 };
	uint32_t nx = fetch(c, x, 64), ny = fetch(c, y, 64);

	if (nx < 16 || ny < 16) {
		check_expect(&a, false, "two requests of 64 bytes served",
			     "%u and %u bytes%s%s", nx, ny,
			     c->broken[0] ? ": " : "", c->broken);
	} else {
		check_expect(&a, !all_equal(x, nx), "bytes not all equal",
			     "%u bytes of 0x%02x", nx, x[0]);
		check_expect(&a, memcmp(x, y, 16), "two requests differ",
			     "both began with the same 16 bytes");
	}
	check_done(CK_RNG_NOT_CONSTANT, &a);
}

static void check_spread(struct crng *c, uint8_t *buf)
{
	uint32_t got = 0, bits[8] = { 0 }, distinct = 0, n;
	bool seen[256] = { false };
	struct check_acc a = { 0 };

	for (unsigned int i = 0; i < 64 && got < BIG; i++) {
		n = fetch(c, buf + got, BIG - got < 4096 ? BIG - got : 4096);
		if (!n)
			break;
		got += n;
	}
	for (uint32_t i = 0; i < got; i++) {
		distinct += !seen[buf[i]];
		seen[buf[i]] = true;
		for (unsigned int b = 0; b < 8; b++)
			bits[b] += buf[i] >> b & 1;
	}
	if (!check_expect(&a, got == BIG, "64 KiB in at most 64 requests",
			  "%u bytes%s%s", got, c->broken[0] ? ": " : "",
			  c->broken))
		goto out;
	check_expect(&a, distinct == 256, "all 256 byte values",
		     "%u distinct values in 64 KiB", distinct);
	for (unsigned int b = 0; b < 8; b++)
		check_expect(&a,
			     bits[b] * 25 >= got * 12 &&
				     bits[b] * 25 <= got * 13,
			     "each bit set in 48% to 52% of the bytes",
			     "bit %u set in %u of %u", b, bits[b], got);
out:
	check_done(CK_RNG_SPREAD, &a);
}

/* --- rng-wrap
 * -----------------------------------------------------------------
 */

static void check_wrap(struct crng *c)
{
	static struct req r[WRAP_QSIZE];
	uint16_t start = used_idx(c);
	struct check_acc a = { 0 };
	uint64_t t0 = time_ns();
	unsigned int done = 0, k;
	struct req *t;

	for (unsigned int i = 0; i < c->vq.num; i++)
		build(c, &r[i], 1, 1 + i);
	while (done < WRAP_REQS && !c->broken[0]) {
		for (k = 0; k < c->vq.num && !add(c, &r[k], DIRECT, 0); k++)
			;
		vio_kick(&c->vio, VQ, &c->vq);
		if (await(c, k))
			break;
		for (unsigned int i = 0; i < k && (t = take(c)); i++)
			if (!check_expect(&a, t->used_len >= 1,
					  "at least one byte per request",
					  "used length 0 at request %u",
					  done + i))
				break;
		done += k;
	}
	report_info("%u requests in %llu ms", done,
		    (unsigned long long)((time_ns() - t0) / 1000000));
	check_expect(&a, !c->broken[0] && done >= WRAP_REQS,
		     "70000 requests served", "%u: %s", done, c->broken);
	check_expect(&a, (uint16_t)(used_idx(c) - start) == (uint16_t)done,
		     "the used index advanced by one per request",
		     "by %u after %u requests", (uint16_t)(used_idx(c) - start),
		     done);
	check_done(CK_RNG_WRAP, &a);
}

/* --- The scenarios
 * ------------------------------------------------------------
 */

static int open_dev(struct crng *c, const struct vio_dev *found,
		    unsigned int qsize)
{
	int err;

	c->vio = *found;
	err = vio_begin(&c->vio, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	if (!err)
		err = vio_queue_setup(&c->vio, VQ, &c->vq, qsize, IND_MAX);
	if (err)
		return err;
	virtq_disable_cb(&c->vq);
	return vio_driver_ok(&c->vio);
}

/* Finds and starts the device with a queue of @qsize; NULL after a
 * failed report. */
static struct crng *start(const char *args, unsigned int qsize)
{
	static struct crng c;
	struct vio_dev found;
	int err;

	c.stall_ns = vw_stall(args);
	if (!c.stall_ns || vw_find(VIRTIO_ID_RNG, "rng", &found))
		return NULL;
	c.arena = (struct chain_arena){ dma_alloc(ARENA, 64), ARENA, 0 };
	c.snap = dma_alloc((QSIZE + IND_MAX) * sizeof(struct virtq_desc), 64);
	if (!c.arena.base || !c.snap) {
		report(false, "rng: no memory for the buffers");
		return NULL;
	}
	c.seed = 0x2545f491;
	c.f = (struct feeds){ &c.own[0], &c.own[1], &c.own[2], &c.own[3],
			      &c.own[4] };
	err = open_dev(&c, &found, qsize);
	if (err) {
		report(false, "rng: cannot start the device: %s", c.vio.error);
		return NULL;
	}
	return &c;
}

static int finish(struct crng *c)
{
	if (c)
		vio_reset(&c->vio);
	return report_summary();
}

int check_rng_layout(const char *args)
{
	struct crng *c = start(args, QSIZE);

	if (c) {
		check_sizes(c);
		check_chains(c);
		check_indirect(c);
		check_writes(c);
	}
	return finish(c);
}

int check_rng_mixed(const char *args)
{
	struct crng *c = start(args, QSIZE);

	if (c)
		check_mixed(c);
	return finish(c);
}

int check_rng_requests(const char *args)
{
	struct crng *c = start(args, QSIZE);
	uint8_t *buf = dma_alloc(BIG + 128, 64);

	if (c && buf) {
		check_in_flight(c);
		check_spurious(c);
		check_not_constant(c, buf, buf + 64);
		check_spread(c, buf);
	}
	return finish(c);
}

int check_rng_wrap(const char *args)
{
	struct crng *c = start(args, WRAP_QSIZE);

	if (c)
		check_wrap(c);
	return finish(c);
}
