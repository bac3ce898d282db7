// SPDX-License-Identifier: MIT
/*
 * vuvm-check's blk scenarios: what a virtio-blk device must accept of
 * a driver's descriptor layouts, what it may write, and how it answers
 * requests it cannot serve (the checks are in guest/check/catalogue.def).
 *
 * Every request is built here at the ring level, with 64 bytes of canary
 * before and after every buffer, a copy of every device-readable buffer,
 * and a snapshot of the descriptor table and of the request's indirect
 * table, so that each request also feeds the checks on what the device
 * writes. Data is a pattern of (sector, offset, generation); the first
 * REGION sectors of the disk are used, and the last ones for the range
 * checks.
 *
 * blk-features starts the device again and again, each offered optional
 * feature left out in turn and then all of them, and writes and reads
 * through every subset.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check/chain.h"
#include "check/check.h"
#include "lib/report.h"
#include "lib/time.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/devtree.h"
#include "virtio/irq.h"
#include "virtio/alloc.h"
#include "virtio/blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"

#define QSIZE	   128
#define IND_MAX	   VIRTQ_MAX_SEGS
#define REGION	   256 /* sectors under test at the start of the disk */
#define ARENA	   (256 * 1024)
#define SECTOR	   VIRTIO_BLK_SECTOR_SIZE
#define MAX_BUFS   VIRTQ_MAX_SEGS
#define UNKNOWN_T  0x4c7a1u /* a request type no spec defines */
#define SNAP_DESCS 1024	    /* the largest queue a snapshot holds */

enum layout { DIRECT, INDIRECT, MIXED };

/* How one request is laid out in descriptors. */
struct shape {
	unsigned int hdr_cut;  /* 0: the header alone; k: split at byte k */
	unsigned int nseg;     /* data descriptors */
	bool status_with_data; /* a read's status ends its last data one */
	enum layout layout;
	unsigned int mixed_after; /* MIXED: ring descriptors first */
	uint32_t seed;		  /* for the segment sizes */
};

/* One request being built and run. */
struct req {
	struct virtq_buf bufs[MAX_BUFS];
	uint8_t *ptr[MAX_BUFS];
	unsigned int out, in;
	struct virtio_blk_outhdr *hdr;
	uint8_t *status;
	uint32_t used_len;
};

struct cblk {
	struct blk_dev b;
	struct virtq *vq;
	unsigned int qi; /* the index of vq */
	uint64_t stall_ns;
	struct chain_arena arena; /* the buffers of the request being built */
	uint8_t *saved, *snap, *lin;
	uint8_t gen[REGION]; /* what each sector holds; 0: zeroes */
	uint8_t next_gen;
	char broken[VIO_ERROR_LEN];
	/* Fed by every request. */
	struct check_acc readable, desc, bounds, len;
	/* Fed by the requests of the device scenario. */
	struct check_acc nolen;
};

/* --- Buffers ----------------------------------------------------------------
 */

static uint8_t pat(uint64_t sector, uint32_t off, uint8_t gen)
{
	if (!gen)
		return 0;
	return (uint8_t)(sector * 131 + off * 7 + gen * 29 + (off >> 8));
}

static int add_buf(struct req *r, uint8_t *p, uint32_t len)
{
	unsigned int n = r->out + r->in;

	if (!p || n == MAX_BUFS)
		return -1;
	r->bufs[n] = (struct virtq_buf){ dma_addr(p), len };
	r->ptr[n] = p;
	return 0;
}

/* Sizes of @nseg pieces of @total bytes, cut at odd places. */
static void cut(uint32_t total, unsigned int nseg, uint32_t seed,
		uint32_t *size)
{
	uint32_t left = total, x = seed | 1;

	for (unsigned int i = 0; i < nseg; i++) {
		unsigned int rest = nseg - i - 1;
		uint32_t max = left - rest, s;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		s = rest ? 1 + x % (max < 2 * total / nseg ? max
							   : 2 * total / nseg)
			 : left;
		if (s > max)
			s = max;
		size[i] = s;
		left -= s;
	}
}

/* --- Building a request ----------------------------------------------------
 */

static int build_header(struct cblk *c, struct req *r, uint32_t type,
			uint64_t sector, unsigned int hdr_cut)
{
	struct virtio_blk_outhdr h = { type, 0, sector };
	uint8_t *p = chain_place(&c->arena, sizeof(h));

	if (!p)
		return -1;
	memcpy(p, &h, sizeof(h));
	r->hdr = (struct virtio_blk_outhdr *)p;
	if (!hdr_cut) {
		if (add_buf(r, p, sizeof(h)))
			return -1;
		r->out++;
		return 0;
	}
	/* Two pieces, each between its own canaries. */
	for (unsigned int k = 0; k < 2; k++) {
		uint32_t len = k ? 16 - hdr_cut : hdr_cut;
		uint8_t *q = chain_place(&c->arena, len);

		if (!q || add_buf(r, q, len))
			return -1;
		memcpy(q, (uint8_t *)&h + (k ? hdr_cut : 0), len);
		r->out++;
	}
	return 0;
}

/* Header, @nsec sectors of data (filled from @gen for a write), status. */
static int build_rw(struct cblk *c, struct req *r, bool write, uint64_t sector,
		    uint32_t nsec, uint8_t gen, const struct shape *sh)
{
	uint32_t size[MAX_BUFS], total = nsec * SECTOR, off = 0;
	unsigned int nseg = nsec ? sh->nseg : 0;

	memset(r, 0, sizeof(*r));
	if (nseg + 2 + !!sh->hdr_cut > MAX_BUFS ||
	    build_header(c, r, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			 sector, sh->hdr_cut))
		return -1;
	cut(total, nseg, sh->seed, size);
	for (unsigned int i = 0; i < nseg; i++) {
		bool last = i + 1 == nseg && !write && sh->status_with_data;
		uint8_t *p = chain_place(&c->arena, size[i] + last);

		if (!p || add_buf(r, p, size[i] + last))
			return -1;
		for (uint32_t k = 0; k < size[i]; k++)
			p[k] = write ? pat(sector + (off + k) / SECTOR,
					   (off + k) % SECTOR, gen)
				     : 0x5a;
		off += size[i];
		if (write)
			r->out++;
		else
			r->in++;
		if (last) {
			r->status = p + size[i];
			return 0;
		}
	}
	r->status = chain_place(&c->arena, 1);
	if (add_buf(r, r->status, 1))
		return -1;
	r->in++;
	return 0;
}

/* A header and one writable buffer of @len bytes, then the status. */
static int build_in(struct cblk *c, struct req *r, uint32_t type,
		    uint64_t sector, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	if (build_header(c, r, type, sector, 0))
		return -1;
	if (len) {
		uint8_t *p = chain_place(&c->arena, len);

		if (add_buf(r, p, len))
			return -1;
		memset(p, CHAIN_GUARD_BYTE, len);
		r->in++;
	}
	r->status = chain_place(&c->arena, 1);
	if (add_buf(r, r->status, 1))
		return -1;
	r->in++;
	return 0;
}

/* --- Running a request -----------------------------------------------------
 */

static void set_layout(struct virtq *vq, const struct shape *sh)
{
	vq->indirect_threshold = sh && sh->layout != DIRECT ? 2 : 0;
	vq->indirect_after = sh && sh->layout == MIXED ? sh->mixed_after : 0;
}

static int wait_used(struct cblk *c)
{
	uint64_t start = time_ns(), now;
	int err;

	vio_watch(&c->b.vio, start, true);
	while (!virtq_has_used(c->vq)) {
		now = time_ns();
		if (now - start > c->stall_ns) {
			snprintf(
				c->broken, sizeof(c->broken),
				"a request did not complete within %llu s",
				(unsigned long long)(c->stall_ns / 1000000000));
			return -1;
		}
		err = vio_watch(&c->b.vio, now, false);
		if (err) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 c->b.vio.error);
			return -1;
		}
	}
	return 0;
}

/* What the device must not have touched, after it completed @r. */
static void after_device(struct cblk *c, struct req *r, uint16_t head,
			 const uint8_t *ind_snap, const struct virtq_desc *ind,
			 uint32_t nind)
{
	size_t off = 0;

	check_expect(&c->desc,
		     !memcmp(c->snap, c->vq->desc,
			     c->vq->num * sizeof(struct virtq_desc)),
		     "the descriptor table as the driver wrote it",
		     "it changed while the device held request %u", head);
	if (ind)
		check_expect(
			&c->desc, !memcmp(ind_snap, ind, nind * sizeof(*ind)),
			"the indirect table as the driver wrote it",
			"it changed while the device held request %u", head);
	for (unsigned int i = 0; i < r->out + r->in; i++) {
		check_expect(&c->bounds,
			     chain_intact(r->ptr[i], r->bufs[i].len),
			     "the 64 bytes around every buffer untouched",
			     "buffer %u of %u (%u bytes) had a canary "
			     "overwritten",
			     i + 1, r->out + r->in, r->bufs[i].len);
		if (i >= r->out)
			continue;
		check_expect(&c->readable,
			     !memcmp(c->saved + off, r->ptr[i], r->bufs[i].len),
			     "device-readable buffers unchanged",
			     "readable buffer %u (%u bytes) was written", i + 1,
			     r->bufs[i].len);
		off += r->bufs[i].len;
	}
}

/* Adds, kicks and waits for @r alone; 0, or -1 with c->broken said. */
static int run(struct cblk *c, struct req *r, const struct shape *sh)
{
	struct virtq *vq = c->vq;
	struct virtq_desc *ind;
	uint32_t nind = 0, len;
	size_t off = 0;
	uint16_t head;
	void *tok;
	int ret;

	if (c->broken[0])
		return -1;
	for (unsigned int i = 0; i < r->out; i++) {
		memcpy(c->saved + off, r->ptr[i], r->bufs[i].len);
		off += r->bufs[i].len;
	}
	*r->status = 0xff; /* no device writes this value */
	set_layout(vq, sh);
	ret = virtq_add(vq, r->bufs, r->out, r->in, r);
	set_layout(vq, NULL);
	if (ret) {
		snprintf(c->broken, sizeof(c->broken),
			 "the driver could not add a request (%d)", ret);
		return -1;
	}
	head = vq->avail->ring[(uint16_t)(vq->avail_idx - 1) % vq->num];
	memcpy(c->snap, vq->desc, vq->num * sizeof(struct virtq_desc));
	ind = chain_indirect(vq, head, &nind);
	if (ind)
		memcpy(c->snap + vq->num * sizeof(*ind), ind,
		       nind * sizeof(*ind));
	vio_kick(&c->b.vio, c->qi, vq);
	if (wait_used(c))
		return -1;
	after_device(c, r, head, c->snap + vq->num * sizeof(*ind), ind, nind);
	ret = virtq_get_used(vq, &tok, &len);
	if (ret != 1 || tok != r) {
		snprintf(c->broken, sizeof(c->broken), "%s",
			 ret < 0 ? virtq_error(vq)
				 : "an impossible used entry");
		return -1;
	}
	r->used_len = len;
	chain_reset(&c->arena);
	return 0;
}

/* A read's data (its writable buffers, less the status), in c->lin. */
static const uint8_t *gather(struct cblk *c, const struct req *r,
			     uint32_t total)
{
	uint32_t off = 0;

	for (unsigned int i = r->out; i < r->out + r->in && off < total; i++) {
		uint32_t n = r->bufs[i].len;

		if (n > total - off)
			n = total - off;
		memcpy(c->lin + off, r->ptr[i], n);
		off += n;
	}
	return c->lin;
}

/* Sector-by-sector comparison with what the disk should hold. */
static bool data_ok(struct cblk *c, const uint8_t *p, uint64_t sector,
		    uint32_t nsec, char *why, size_t len)
{
	for (uint32_t i = 0; i < nsec * SECTOR; i++) {
		uint64_t s = sector + i / SECTOR;
		uint8_t want = s < REGION ? pat(s, i % SECTOR, c->gen[s]) : 0;

		if (p[i] != want) {
			snprintf(why, len,
				 "sector %llu byte %u: 0x%02x, not 0x%02x",
				 (unsigned long long)s, i % SECTOR, p[i], want);
			return false;
		}
	}
	return true;
}

/* One read or write of @nsec sectors at @sector shaped @sh; a read's data
 * is compared. Returns the status (or -1 when the queue broke); @why
 * says what went wrong when the data did not match. */
static int rw(struct cblk *c, bool write, uint64_t sector, uint32_t nsec,
	      const struct shape *sh, char *why, size_t len)
{
	struct req r;
	uint8_t gen = 0;

	snprintf(why, len, "the driver could not build the request");
	if (write) {
		c->next_gen = c->next_gen == 255 ? 1 : c->next_gen + 1;
		gen = c->next_gen;
	}
	if (build_rw(c, &r, write, sector, nsec, gen, sh))
		return -2;
	if (run(c, &r, sh))
		return -1;
	if (*r.status == VIRTIO_BLK_S_OK) {
		uint32_t want = write ? 1 : nsec * SECTOR + 1;

		check_expect(&c->len, r.used_len == want,
			     "used length = data + status byte",
			     "%u for a %s of %u bytes", r.used_len,
			     write ? "write" : "read", nsec * SECTOR);
	}
	if (write && *r.status == VIRTIO_BLK_S_OK)
		for (uint32_t i = 0; i < nsec; i++)
			c->gen[sector + i] = gen;
	if (!write && *r.status == VIRTIO_BLK_S_OK &&
	    !data_ok(c, gather(c, &r, nsec * SECTOR), sector, nsec, why, len))
		return -2;
	return *r.status;
}

/* --- The checks -------------------------------------------------------------
 */

/* Records a request's outcome in @a: status OK and, for reads, the data. */
static void expect_ok(struct cblk *c, struct check_acc *a, int st,
		      const char *what, const char *why)
{
	if (st == -1)
		check_expect(a, false, "the request to complete", "%s",
			     c->broken);
	else if (st == -2)
		check_expect(a, false, "the request served as built", "%s: %s",
			     what, why);
	else
		check_expect(a, st == VIRTIO_BLK_S_OK, "status OK",
			     "status %d for %s", st, what);
}

static void check_header_split(struct cblk *c)
{
	struct check_acc a = { 0 };
	struct shape plain = { .nseg = 1 }, split = { .nseg = 1 };
	char why[96], what[64];

	for (unsigned int k = 1; k < 16; k++) {
		split.hdr_cut = k;
		snprintf(what, sizeof(what), "a write, header cut at byte %u",
			 k);
		expect_ok(c, &a, rw(c, true, k, 1, &split, why, sizeof(why)),
			  what, why);
		snprintf(what, sizeof(what), "a read of it, header alone");
		expect_ok(c, &a, rw(c, false, k, 1, &plain, why, sizeof(why)),
			  what, why);
		snprintf(what, sizeof(what), "a read, header cut at byte %u",
			 k);
		expect_ok(c, &a, rw(c, false, k, 1, &split, why, sizeof(why)),
			  what, why);
	}
	check_done(CK_BLK_HDR_SPLIT, &a);
}

static void check_status_in_data(struct cblk *c)
{
	struct check_acc a = { 0 };
	char why[96], what[64];

	for (unsigned int n = 1; n <= 3; n++) {
		struct shape sh = { .nseg = n,
				    .status_with_data = true,
				    .seed = n };

		snprintf(what, sizeof(what),
			 "a read of %u sectors in %u pieces, status in the "
			 "last",
			 n, n);
		expect_ok(c, &a, rw(c, false, 16, n, &sh, why, sizeof(why)),
			  what, why);
	}
	check_done(CK_BLK_STATUS_IN_DATA, &a);
}

static unsigned int seg_limit(struct cblk *c, unsigned int cap)
{
	if (c->b.seg_max && c->b.seg_max < cap)
		cap = c->b.seg_max;
	return cap;
}

static void check_data_segs(struct cblk *c)
{
	struct check_acc a = { 0 };
	unsigned int max = seg_limit(
		c, QSIZE - 2 < MAX_BUFS - 3 ? QSIZE - 2 : MAX_BUFS - 3);
	char why[96], what[64];

	for (unsigned int n = 1; n <= max; n++) {
		struct shape w = { .nseg = n, .seed = n * 7 };
		struct shape r = { .nseg = max + 1 - n, .seed = n * 11 };

		snprintf(what, sizeof(what), "a write in %u pieces", n);
		expect_ok(c, &a, rw(c, true, 32, 8, &w, why, sizeof(why)), what,
			  why);
		snprintf(what, sizeof(what), "a read of it in %u pieces",
			 r.nseg);
		expect_ok(c, &a, rw(c, false, 32, 8, &r, why, sizeof(why)),
			  what, why);
	}
	check_done(CK_BLK_DATA_SEGS, &a);
}

static void check_indirect(struct cblk *c)
{
	struct check_acc a = { 0 };
	unsigned int max =
		seg_limit(c, (QSIZE < IND_MAX ? QSIZE : IND_MAX) - 2);
	char why[96], what[80];

	if (!vio_has(&c->b.vio, VIRTIO_F_INDIRECT_DESC)) {
		check_skip(CK_BLK_INDIRECT_LEN, "INDIRECT_DESC not offered");
		return;
	}
	for (unsigned int n = 1; n <= max; n++) {
		struct shape sh = { .nseg = n, .layout = INDIRECT, .seed = n };

		snprintf(what, sizeof(what), "an indirect table of %u", n + 2);
		expect_ok(c, &a, rw(c, true, 48, 8, &sh, why, sizeof(why)),
			  what, why);
		expect_ok(c, &a, rw(c, false, 48, 8, &sh, why, sizeof(why)),
			  what, why);
	}
	check_done(CK_BLK_INDIRECT_LEN, &a);
}

static void check_mixed_chain(struct cblk *c)
{
	struct check_acc a = { 0 };
	char why[96], what[80];

	if (!vio_has(&c->b.vio, VIRTIO_F_INDIRECT_DESC)) {
		check_skip(CK_BLK_CHAIN_THEN_INDIRECT,
			   "INDIRECT_DESC not offered");
		return;
	}
	for (unsigned int d = 1; d <= 3; d++) {
		struct shape sh = {
			.nseg = 4, .layout = MIXED, .mixed_after = d, .seed = d
		};

		snprintf(what, sizeof(what),
			 "%u direct descriptors, then an indirect one", d);
		expect_ok(c, &a, rw(c, true, 64, 4, &sh, why, sizeof(why)),
			  what, why);
		expect_ok(c, &a, rw(c, false, 64, 4, &sh, why, sizeof(why)),
			  what, why);
	}
	check_done(CK_BLK_CHAIN_THEN_INDIRECT, &a);
}

/* Runs a header + @len writable bytes request; the status or -1. */
static int run_in(struct cblk *c, struct req *r, uint32_t type, uint64_t sector,
		  uint32_t len)
{
	if (build_in(c, r, type, sector, len) || run(c, r, NULL))
		return -1;
	return *r->status;
}

static bool untouched(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != CHAIN_GUARD_BYTE)
			return false;
	return true;
}

static void check_unsupp(struct cblk *c)
{
	/* Not bit 31: QEMU still reads it as the legacy BARRIER flag. */
	static const uint32_t types[] = { UNKNOWN_T, 0xff, 0x7fffffffu };
	struct check_acc a = { 0 };
	struct req r;

	for (unsigned int i = 0; i < 3; i++) {
		int st = run_in(c, &r, types[i], 0, SECTOR);

		if (st < 0)
			check_expect(&a, false, "the request to complete", "%s",
				     c->broken);
		else
			check_expect(&a, st == VIRTIO_BLK_S_UNSUPP,
				     "status UNSUPP (2)",
				     "status %d for type 0x%x", st, types[i]);
	}
	check_done(CK_BLK_UNSUPP, &a);
}

/* A read of @len bytes at @sector that must fail: IOERR, buffer intact. */
static void expect_ioerr_read(struct cblk *c, struct check_acc *a,
			      uint64_t sector, const char *what)
{
	struct req r;
	int st = run_in(c, &r, VIRTIO_BLK_T_IN, sector, SECTOR);

	if (st < 0)
		check_expect(a, false, "the request to complete", "%s",
			     c->broken);
	else
		check_expect(
			a,
			st == VIRTIO_BLK_S_IOERR && untouched(r.ptr[1], SECTOR),
			"IOERR and the buffer untouched", "status %d%s for %s",
			st, untouched(r.ptr[1], SECTOR) ? "" : ", data written",
			what);
}

static void check_range(struct cblk *c)
{
	uint64_t cap = c->b.capacity;
	struct shape one = { .nseg = 1 };
	struct check_acc a = { 0 };
	uint8_t before[SECTOR];
	struct req r;
	int st;

	expect_ioerr_read(c, &a, cap, "a read at the capacity");
	expect_ioerr_read(c, &a, 1ull << 55,
			  "a read at sector 2^55 (its "
			  "byte offset wraps to 0)");
	/* A write across the end must not write its first sector either. */
	st = run_in(c, &r, VIRTIO_BLK_T_IN, cap - 1, SECTOR);
	if (st == VIRTIO_BLK_S_OK) {
		memcpy(before, r.ptr[1], SECTOR);
		if (!build_rw(c, &r, true, cap - 1, 2, 9, &one) &&
		    !run(c, &r, &one))
			check_expect(&a, *r.status == VIRTIO_BLK_S_IOERR,
				     "IOERR",
				     "status %d for a write across "
				     "the end",
				     *r.status);
		st = run_in(c, &r, VIRTIO_BLK_T_IN, cap - 1, SECTOR);
		if (st == VIRTIO_BLK_S_OK)
			check_expect(&a, !memcmp(before, r.ptr[1], SECTOR),
				     "the last sector as it was",
				     "the write across the end changed it");
	}
	if (c->broken[0])
		check_expect(&a, false, "the requests to complete", "%s",
			     c->broken);
	check_done(CK_BLK_OUT_OF_RANGE, &a);
}

static void check_write_zeroes(struct cblk *c)
{
	struct virtio_blk_discard_write_zeroes seg = { 96, 8, 0 };
	struct shape sh = { .nseg = 2, .seed = 5 };
	struct check_acc a = { 0 };
	char why[96];
	struct req r;

	if (!vio_has(&c->b.vio, VIRTIO_BLK_F_WRITE_ZEROES)) {
		check_skip(CK_BLK_WRITE_ZEROES, "WRITE_ZEROES not offered");
		return;
	}
	expect_ok(c, &a, rw(c, true, 96, 8, &sh, why, sizeof(why)),
		  "a write before WRITE_ZEROES", why);
	memset(&r, 0, sizeof(r));
	if (!build_header(c, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, 0)) {
		uint8_t *p = chain_place(&c->arena, sizeof(seg));

		if (p && !add_buf(&r, p, sizeof(seg))) {
			memcpy(p, &seg, sizeof(seg));
			r.out++;
			r.status = chain_place(&c->arena, 1);
			if (!add_buf(&r, r.status, 1)) {
				r.in++;
				if (!run(c, &r, NULL) &&
				    check_expect(&a,
						 *r.status == VIRTIO_BLK_S_OK,
						 "status OK",
						 "status %d for WRITE_ZEROES",
						 *r.status))
					memset(&c->gen[96], 0, 8);
			}
		}
	}
	expect_ok(c, &a, rw(c, false, 96, 8, &sh, why, sizeof(why)),
		  "a read after WRITE_ZEROES", why);
	check_done(CK_BLK_WRITE_ZEROES, &a);
}

static void check_get_id(struct cblk *c)
{
	struct check_acc a = { 0 };
	struct req r;
	int st = run_in(c, &r, VIRTIO_BLK_T_GET_ID, 0, 32);

	if (st < 0)
		check_expect(&a, false, "the request to complete", "%s",
			     c->broken);
	else
		check_expect(
			&a,
			(st == VIRTIO_BLK_S_OK || st == VIRTIO_BLK_S_UNSUPP) &&
				untouched(r.ptr[1] + VIRTIO_BLK_ID_BYTES,
					  32 - VIRTIO_BLK_ID_BYTES),
			"OK or UNSUPP, bytes 20..31 of a 32-byte buffer "
			"untouched",
			"status %d, byte 20 0x%02x", st,
			r.ptr[1][VIRTIO_BLK_ID_BYTES]);
	check_done(CK_BLK_GET_ID, &a);
}

/* --- Chains scattered through the table -------------------------------------
 */

#define SCATTER_N    8
#define SCATTER_STEP 77u /* odd: visits every entry of a power-of-2 table */

/* Relinks the free list of the idle queue in a scrambled order (a step of
 * SCATTER_STEP through the table), so that the next chains get
 * descriptors far apart, linked forwards and backwards; false when the
 * queue is not idle. */
static bool scramble_free_list(struct virtq *vq)
{
	uint16_t prev = 0, d;

	if (vq->packed || vq->in_order || vq->in_flight ||
	    vq->num_free != vq->num)
		return false;
	for (unsigned int k = 0; k < vq->num; k++) {
		d = (uint16_t)((k * SCATTER_STEP + 5) % vq->num);
		if (k)
			vq->heads[prev].next_free = d;
		else
			vq->free_head = d;
		prev = d;
	}
	vq->heads[prev].next_free = (uint16_t)vq->num;
	return true;
}

/* Reverses the avail entries made since the last kick: heads then reach
 * the device in the opposite of the order they were added. */
static void reverse_avail(struct virtq *vq)
{
	uint16_t from = vq->kicked_avail_idx;
	uint16_t n = (uint16_t)(vq->avail_idx - from);

	for (uint16_t i = 0; i < n / 2; i++) {
		uint16_t *a = &vq->avail->ring[(uint16_t)(from + i) % vq->num];
		uint16_t *b =
			&vq->avail
				 ->ring[(uint16_t)(from + n - 1 - i) % vq->num];
		uint16_t t = *a;

		*a = *b;
		*b = t;
	}
}

/* Makes @n built requests available at once, heads reversed, kicks once
 * and takes every completion; 0 or -1 with c->broken said. */
/* Kicks the @n requests of @r just made available and takes them back,
 * each used length into its request; -1 with c->broken on a stall or a
 * used entry that is not one of them. */
static int kick_and_take(struct cblk *c, struct req *r, unsigned int n)
{
	void *tok;
	uint32_t len;

	virtq_kick_prepare(c->vq);
	vio_notify(&c->b.vio, c->qi);
	for (unsigned int got = 0; got < n; got++) {
		int ret;

		if (wait_used(c))
			return -1;
		ret = virtq_get_used(c->vq, &tok, &len);
		if (ret != 1 || (struct req *)tok < r ||
		    (struct req *)tok >= r + n) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 ret < 0 ? virtq_error(c->vq)
					 : "an impossible used entry");
			return -1;
		}
		((struct req *)tok)->used_len = len;
	}
	return 0;
}

static int run_scattered(struct cblk *c, struct req *r, unsigned int n)
{
	set_layout(c->vq, NULL);
	for (unsigned int i = 0; i < n; i++) {
		*r[i].status = 0xff;
		if (virtq_add(c->vq, r[i].bufs, r[i].out, r[i].in, &r[i])) {
			snprintf(c->broken, sizeof(c->broken),
				 "the driver could not add request %u of %u",
				 i + 1, n);
			return -1;
		}
	}
	reverse_avail(c->vq);
	return kick_and_take(c, r, n);
}

/* One round of SCATTER_N writes (@write) or reads of them, judged in @a. */
static void scattered_round(struct cblk *c, struct check_acc *a, bool write)
{
	static struct req r[SCATTER_N];
	uint8_t gen[SCATTER_N] = { 0 };
	char why[96];

	if (!scramble_free_list(c->vq)) {
		check_expect(a, false, "an idle queue to scramble",
			     "%u requests in flight", c->vq->in_flight);
		return;
	}
	for (unsigned int i = 0; i < SCATTER_N; i++) {
		struct shape sh = { .nseg = 1 + (i + write) % 3,
				    .seed = i * 5 + write };

		if (write) {
			c->next_gen = c->next_gen == 255 ? 1 : c->next_gen + 1;
			gen[i] = c->next_gen;
		}
		if (build_rw(c, &r[i], write, 160 + 3 * i, 1 + i % 2, gen[i],
			     &sh)) {
			check_expect(a, false, "the requests built",
				     "no room for request %u", i);
			return;
		}
	}
	if (run_scattered(c, r, SCATTER_N)) {
		check_expect(a, false, "every request to complete", "%s",
			     c->broken);
		return;
	}
	for (unsigned int i = 0; i < SCATTER_N; i++) {
		uint64_t sector = 160 + 3 * i;
		uint32_t nsec = 1 + i % 2;

		if (!check_expect(a, *r[i].status == VIRTIO_BLK_S_OK,
				  "status OK",
				  "status %d for the %s of request "
				  "%u",
				  *r[i].status, write ? "write" : "read", i))
			continue;
		if (write)
			for (uint32_t k = 0; k < nsec; k++)
				c->gen[sector + k] = gen[i];
		else if (!data_ok(c, gather(c, &r[i], nsec * SECTOR), sector,
				  nsec, why, sizeof(why)))
			check_expect(a, false, "each read its own data",
				     "request %u: %s", i, why);
	}
	chain_reset(&c->arena);
}

static void check_scattered(struct cblk *c)
{
	struct check_acc a = { 0 };

	if (vio_has(&c->b.vio, VIRTIO_F_IN_ORDER)) {
		check_skip(CK_BLK_SCATTERED, "IN_ORDER negotiated");
		return;
	}
	if (c->broken[0])
		check_expect(&a, false, "the queue to work", "%s", c->broken);
	else
		scattered_round(c, &a, true);
	if (!c->broken[0])
		scattered_round(c, &a, false);
	check_done(CK_BLK_SCATTERED, &a);
}

/* --- The scenario ------------------------------------------------------------
 */

#define WANTED                                                                 \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |   \
	 VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))

/* Negotiates @wanted and sets queue 0 up with @qsize entries. */
static int open_dev(struct cblk *c, uint64_t wanted, unsigned int qsize)
{
	int err;

	err = vio_begin(&c->b.vio, wanted);
	if (!err)
		err = vio_config_read(&c->b.vio, 0, &c->b.capacity, 8);
	if (!err && vio_has(&c->b.vio, VIRTIO_BLK_F_SEG_MAX))
		err = vio_config_read(
			&c->b.vio, offsetof(struct virtio_blk_config, seg_max),
			&c->b.seg_max, 4);
	if (!err)
		err = vio_queue_setup(&c->b.vio, 0, &c->b.vq[0], qsize,
				      IND_MAX);
	if (err)
		return err;
	c->vq = &c->b.vq[0];
	c->qi = 0;
	c->b.nq = 1;
	virtq_disable_cb(c->vq);
	/* With MQ, every queue the transport shows, before DRIVER_OK. */
	while (vio_has(&c->b.vio, VIRTIO_BLK_F_MQ) &&
	       c->b.nq < BLK_MAX_QUEUES) {
		err = vio_queue_setup(&c->b.vio, c->b.nq, &c->b.vq[c->b.nq],
				      qsize, IND_MAX);
		if (err == VIO_ENODEV)
			break;
		if (err)
			return err;
		virtq_disable_cb(&c->b.vq[c->b.nq++]);
	}
	return vio_driver_ok(&c->b.vio);
}

static int alloc_bufs(struct cblk *c)
{
	c->arena = (struct chain_arena){ dma_alloc(ARENA, 64), ARENA, 0 };
	c->saved = dma_alloc(ARENA, 64);
	c->snap = dma_alloc((SNAP_DESCS + IND_MAX) * sizeof(struct virtq_desc),
			    64);
	c->lin = dma_alloc(64 * 1024, 64);
	return c->arena.base && c->saved && c->snap && c->lin ? 0 : -1;
}

/* The verdicts fed by every request, once all requests ran. */
static void check_writes(struct cblk *c)
{
	check_done(CK_BLK_NO_WRITE_READABLE, &c->readable);
	check_done(CK_BLK_NO_WRITE_DESC, &c->desc);
	check_done(CK_BLK_WRITE_BOUNDS, &c->bounds);
	check_done(CK_BLK_USED_LEN, &c->len);
}

/* Finds and starts the device with the features of @wanted that are
 * offered; NULL after a failed report. */
static struct cblk *start_with(const char *args, uint64_t wanted)
{
	static struct cblk c;
	struct vio_dev found;
	int err;

	c.stall_ns = vw_stall(args);
	if (!c.stall_ns || vw_find(VIRTIO_ID_BLOCK, "blk", &found))
		return NULL;
	if (alloc_bufs(&c)) {
		report(false, "blk: no memory for the buffers");
		return NULL;
	}
	c.b.vio = found;
	err = open_dev(&c, wanted, QSIZE);
	if (err || c.b.capacity < 2 * REGION) {
		report(false, "blk: cannot start the device: %s",
		       err ? c.b.vio.error : "smaller than 256 KiB");
		return NULL;
	}
	return &c;
}

static struct cblk *start(const char *args)
{
	return start_with(args, WANTED);
}

static int finish(struct cblk *c)
{
	if (c)
		vio_reset(&c->b.vio);
	return report_summary();
}

int check_blk_layout(const char *args)
{
	struct cblk *c = start(args);

	if (c) {
		check_header_split(c);
		check_status_in_data(c);
		check_data_segs(c);
		check_indirect(c);
		check_writes(c);
	}
	return finish(c);
}

int check_blk_mixed(const char *args)
{
	struct cblk *c = start(args);

	if (c)
		check_mixed_chain(c);
	return finish(c);
}

int check_blk_requests(const char *args)
{
	struct cblk *c = start(args);

	if (c) {
		check_unsupp(c);
		check_range(c);
		check_write_zeroes(c);
		check_get_id(c);
		check_scattered(c);
	}
	return finish(c);
}

/* --- Notifications ----------------------------------------------------------
 */

/* Whether the device's interrupt arrives within @ms (the timer's wake-ups
 * do not count); acknowledges it. */
static int run_in(struct cblk *c, struct req *r, uint32_t type, uint64_t sector,
		  uint32_t len);

/* One read of a sector, its status alone judged (the notification checks
 * hold on a device that returns no data, such as a null one); records a
 * failure in @a. */
static bool one_read(struct cblk *c, struct check_acc *a, uint64_t sector)
{
	struct req r;
	int st = run_in(c, &r, VIRTIO_BLK_T_IN, sector, SECTOR);

	expect_ok(c, a, st, "a read of one sector", "");
	return st == VIRTIO_BLK_S_OK;
}

/* Makes @n one-sector reads available at once and notifies once, then
 * waits for all of them; 0 or -1 with c->broken said. */
static int batch(struct cblk *c, unsigned int n)
{
	static struct req r[16];
	struct shape one = { .nseg = 1 };

	if (c->broken[0])
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		if (build_rw(c, &r[i], false, 8 + i, 1, 0, &one) ||
		    virtq_add(c->vq, r[i].bufs, r[i].out, r[i].in, &r[i])) {
			snprintf(c->broken, sizeof(c->broken),
				 "the driver could not add request %u of %u",
				 i + 1, n);
			return -1;
		}
		*r[i].status = 0xff;
	}
	if (kick_and_take(c, r, n))
		return -1;
	chain_reset(&c->arena);
	return 0;
}

static void expect_batch(struct cblk *c, struct check_acc *a, unsigned int n)
{
	if (batch(c, n))
		check_expect(a, false, "the requests to complete", "%s",
			     c->broken);
}

static void set_used_event(struct cblk *c, uint16_t v)
{
	__atomic_store_n(virtq_used_event(c->vq->avail, c->vq->num), v,
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void set_avail_flags(struct cblk *c, uint16_t v)
{
	__atomic_store_n(&c->vq->avail->flags, v, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void check_used_flags(struct cblk *c, struct check_acc *a)
{
	uint16_t f = __atomic_load_n(&c->vq->used->flags, __ATOMIC_RELAXED);

	check_expect(a, f == 0, "used flags 0", "used flags 0x%x", f);
}

/* Routes the device's interrupt; false after skipping @ids. */
static bool irq_start(struct cblk *c, const enum check_id *ids, unsigned int n)
{
	if (c->b.vio.irq != ~0u && !virtio_irq_route(c->b.vio.irq))
		return true;
	for (unsigned int i = 0; i < n; i++)
		check_skip(ids[i], "the device has no usable interrupt");
	return false;
}

int check_blk_notify(const char *args)
{
	static const enum check_id ids[] = {
		CK_BLK_EVIDX_ONE,   CK_BLK_EVIDX_MANY,	     CK_BLK_EVIDX_QUIET,
		CK_BLK_EVIDX_FLAG,  CK_BLK_USED_FLAGS_EVIDX, CK_BLK_SPURIOUS,
		CK_BLK_AVAIL_EVENT,
	};
	struct cblk *c =
		start_with(args, WANTED | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	struct check_acc one = { 0 }, many = { 0 }, quiet = { 0 }, flag = { 0 },
			 flags = { 0 }, spur = { 0 }, avail = { 0 },
			 warm = { 0 };

	if (!c)
		return finish(c);
	if (!vio_has(&c->b.vio, VIRTIO_F_EVENT_IDX)) {
		for (unsigned int i = 0; i < 7; i++)
			check_skip(ids[i], "EVENT_IDX not offered");
		return finish(c);
	}
	if (!irq_start(c, ids, 7))
		return finish(c);
	/* The first completion may interrupt whatever used_event says. */
	one_read(c, &warm, 0);
	for (unsigned int i = 0; i < 16; i++) {
		virtq_disable_cb(c->vq);
		vw_irq_drain(&c->b.vio);
		virtq_enable_cb(c->vq);
		if (one_read(c, &one, i))
			check_expect_irq(&c->b.vio, &one, true,
					 "a completion at used_event");
		check_used_flags(c, &flags);
	}
	for (unsigned int i = 0; i < 4; i++) {
		virtq_disable_cb(c->vq);
		vw_irq_drain(&c->b.vio);
		set_used_event(c, (uint16_t)(c->vq->last_used + 1 + i));
		expect_batch(c, &many, 8);
		if (!c->broken[0])
			check_expect_irq(&c->b.vio, &many, true,
					 "8 completions passing used_event");
		check_used_flags(c, &flags);
	}
	for (unsigned int i = 0; i < 4; i++) {
		virtq_disable_cb(c->vq);
		vw_irq_drain(&c->b.vio);
		expect_batch(c, &quiet, 8);
		if (!c->broken[0])
			check_expect_irq(&c->b.vio, &quiet, false,
					 "8 completions short of used_event");
	}
	for (unsigned int i = 0; i < 4; i++) {
		virtq_disable_cb(c->vq);
		vw_irq_drain(&c->b.vio);
		virtq_enable_cb(c->vq);
		set_avail_flags(c, VIRTQ_AVAIL_F_NO_INTERRUPT);
		if (one_read(c, &flag, i))
			check_expect_irq(
				&c->b.vio, &flag, true,
				"a completion at used_event, NO_INTERRUPT "
				"set");
		set_avail_flags(c, 0);
		check_used_flags(c, &flags);
	}
	virtq_disable_cb(c->vq);
	/* Apart, so that the device sees them alone, not merged into the
	 * kick of the next request. */
	for (unsigned int i = 0; i < 16; i++) {
		uint64_t t = time_ns();

		vio_notify(&c->b.vio, c->qi);
		while (time_ns() - t < CHECK_SPURIOUS_GAP_NS)
			;
	}
	one_read(c, &spur, 1);
	one_read(c, &spur, 2);
	/* Last: a device that leaves avail_event behind hangs the queue. */
	for (unsigned int i = 0; i < 32; i++)
		one_read(c, &avail, i);
	check_used_flags(c, &flags);
	virtio_irq_unroute(c->b.vio.irq);
	check_done(CK_BLK_EVIDX_ONE, &one);
	check_done(CK_BLK_EVIDX_MANY, &many);
	check_done(CK_BLK_EVIDX_QUIET, &quiet);
	check_done(CK_BLK_EVIDX_FLAG, &flag);
	check_done(CK_BLK_USED_FLAGS_EVIDX, &flags);
	check_done(CK_BLK_SPURIOUS, &spur);
	check_done(CK_BLK_AVAIL_EVENT, &avail);
	return finish(c);
}

#define AVAIL_EVENT_CANARY 0xa5c3

static void check_avail_event_canary(struct cblk *c, struct check_acc *a)
{
	uint16_t v = __atomic_load_n(virtq_avail_event(c->vq->used, c->vq->num),
				     __ATOMIC_RELAXED);

	check_expect(a, v == AVAIL_EVENT_CANARY, "avail_event untouched",
		     "0x%04x where the driver left 0x%04x", v,
		     AVAIL_EVENT_CANARY);
}

/* A read whose used element is poisoned before the device gets it: the
 * element seen once the used index moves must be the real one. */
static void used_order_read(struct cblk *c, struct check_acc *a,
			    uint64_t sector)
{
	struct virtq *vq = c->vq;
	volatile struct virtq_used_elem *slot =
		&vq->used->ring[vq->last_used % vq->num];
	struct shape one = { .nseg = 1 };
	uint64_t start;
	uint32_t id, len;
	uint16_t head;
	void *tok;
	struct req r;

	if (c->broken[0] || build_rw(c, &r, false, sector, 1, 0, &one))
		return;
	*r.status = 0xff;
	slot->id = 0xffffffffu;
	slot->len = 0xffffffffu;
	if (virtq_add(vq, r.bufs, r.out, r.in, &r)) {
		snprintf(c->broken, sizeof(c->broken),
			 "the driver could not add a request");
		return;
	}
	head = vq->avail->ring[(uint16_t)(vq->avail_idx - 1) % vq->num];
	vio_kick(&c->b.vio, c->qi, vq);
	start = time_ns();
	while (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) ==
	       vq->last_used)
		if (time_ns() - start > c->stall_ns) {
			snprintf(c->broken, sizeof(c->broken),
				 "a request did not complete");
			return;
		}
	id = slot->id;
	len = slot->len;
	check_expect(a, id == head && len != 0xffffffffu,
		     "the element written when the index moves",
		     "id 0x%x len 0x%x (request %u) as the index moved", id,
		     len, head);
	/* Give a late element time to land before the driver reads it. */
	while (slot->id == 0xffffffffu && time_ns() - start < c->stall_ns)
		;
	if (virtq_get_used(vq, &tok, &len) != 1 || tok != &r)
		snprintf(c->broken, sizeof(c->broken), "%s",
			 virtq_error(vq)[0] ? virtq_error(vq)
					    : "an impossible used entry");
	chain_reset(&c->arena);
}

int check_blk_notify_flags(const char *args)
{
	static const enum check_id ids[] = {
		CK_BLK_FLAGS_IRQ,      CK_BLK_FLAGS_IGNORE_EVENT,
		CK_BLK_FLAGS_QUIET,    CK_BLK_FLAGS_POLL,
		CK_BLK_NO_AVAIL_EVENT, CK_BLK_USED_IDX_ORDER,
	};
	struct cblk *c = start(args);
	struct check_acc irq = { 0 }, ign = { 0 }, quiet = { 0 }, poll = { 0 },
			 canary = { 0 }, order = { 0 };

	if (!c)
		return finish(c);
	__atomic_store_n(virtq_avail_event(c->vq->used, c->vq->num),
			 AVAIL_EVENT_CANARY, __ATOMIC_RELAXED);
	if (!irq_start(c, ids, 4)) {
		check_done(CK_BLK_NO_AVAIL_EVENT, &canary);
		check_done(CK_BLK_USED_IDX_ORDER, &order);
		return finish(c);
	}
	one_read(c, &irq, 0);
	for (unsigned int i = 0; i < 16; i++) {
		virtq_disable_cb(c->vq);
		vw_irq_drain(&c->b.vio);
		virtq_enable_cb(c->vq);
		if (one_read(c, &irq, i))
			check_expect_irq(&c->b.vio, &irq, true,
					 "a completion, NO_INTERRUPT clear");
		check_avail_event_canary(c, &canary);
	}
	for (unsigned int i = 0; i < 8; i++) {
		virtq_disable_cb(c->vq);
		vw_irq_drain(&c->b.vio);
		virtq_enable_cb(c->vq);
		set_used_event(c, (uint16_t)(c->vq->last_used + 1000));
		if (one_read(c, &ign, i))
			check_expect_irq(&c->b.vio, &ign, true,
					 "a completion, used_event far ahead");
		check_avail_event_canary(c, &canary);
	}
	for (unsigned int i = 0; i < 32; i++) {
		used_order_read(c, &order, i);
		check_avail_event_canary(c, &canary);
	}
	if (c->broken[0])
		check_expect(&order, false, "the requests to complete", "%s",
			     c->broken);
	for (unsigned int i = 0; i < 4; i++) {
		virtq_disable_cb(c->vq);
		vw_irq_drain(&c->b.vio);
		expect_batch(c, &quiet, 8);
		if (!c->broken[0])
			check_expect_irq(&c->b.vio, &quiet, false,
					 "8 completions, NO_INTERRUPT set");
	}
	/* Last: a device that holds completions back hangs the queue. */
	virtq_disable_cb(c->vq);
	for (unsigned int i = 0; i < 32; i++)
		one_read(c, &poll, i);
	check_avail_event_canary(c, &canary);
	virtio_irq_unroute(c->b.vio.irq);
	check_done(CK_BLK_FLAGS_IRQ, &irq);
	check_done(CK_BLK_FLAGS_IGNORE_EVENT, &ign);
	check_done(CK_BLK_FLAGS_QUIET, &quiet);
	check_done(CK_BLK_FLAGS_POLL, &poll);
	check_done(CK_BLK_NO_AVAIL_EVENT, &canary);
	check_done(CK_BLK_USED_IDX_ORDER, &order);
	return finish(c);
}

/* --- Queue shapes -----------------------------------------------------------
 */

/* Resets the device and starts it again with queue 0 of @size. */
static int reopen(struct cblk *c, unsigned int size)
{
	int err;

	if (!vio_reset(&c->b.vio)) {
		snprintf(c->broken, sizeof(c->broken),
			 "the device did not reset");
		return -1;
	}
	err = open_dev(c, WANTED, size);
	if (err)
		snprintf(c->broken, sizeof(c->broken),
			 "cannot start the device with a queue of %u: %s", size,
			 c->b.vio.error);
	return err ? -1 : 0;
}

/* Writes and reads through a queue of @size, 2 * size + 4 requests. */
static void through_queue(struct cblk *c, struct check_acc *a,
			  unsigned int size)
{
	struct shape sh = { .nseg = 1, .layout = size < 4 ? INDIRECT : DIRECT };
	char why[96], what[64];

	for (unsigned int i = 0; i < size + 2; i++) {
		uint64_t sector = 100 + i % 16;

		snprintf(what, sizeof(what), "request %u on a queue of %u",
			 2 * i, size);
		expect_ok(c, a, rw(c, true, sector, 1, &sh, why, sizeof(why)),
			  what, why);
		expect_ok(c, a, rw(c, false, sector, 1, &sh, why, sizeof(why)),
			  what, why);
		if (c->broken[0])
			return;
	}
}

int check_blk_queue_sizes(const char *args)
{
	struct cblk *c = start(args);
	struct check_acc sizes = { 0 }, one = { 0 };
	bool indirect;

	if (!c)
		return finish(c);
	indirect = vio_has(&c->b.vio, VIRTIO_F_INDIRECT_DESC);
	for (unsigned int size = indirect ? 2 : 4;
	     size <= SNAP_DESCS && !c->broken[0]; size *= 2) {
		if (reopen(c, size)) {
			check_expect(&sizes, false, "the device to start", "%s",
				     c->broken);
			break;
		}
		if (c->vq->num != size) /* past QueueNumMax */
			break;
		through_queue(c, &sizes, size);
	}
	check_done(CK_BLK_QSIZES, &sizes);
	if (!indirect) {
		check_skip(CK_BLK_QSIZE_1, "INDIRECT_DESC not offered");
		return finish(c);
	}
	if (c->broken[0])
		check_expect(&one, false, "the queue to work", "%s", c->broken);
	else if (reopen(c, 1))
		check_expect(&one, false, "the device to start", "%s",
			     c->broken);
	else
		through_queue(c, &one, 1);
	check_done(CK_BLK_QSIZE_1, &one);
	return finish(c);
}

#define WRAP_QSIZE    8
#define WRAP_REQUESTS 70000u

int check_blk_wrap(const char *args)
{
	struct cblk *c = start(args);
	static struct req r[WRAP_QSIZE];
	struct req *free_slot[WRAP_QSIZE];
	unsigned int nfree;
	struct shape sh = { .nseg = 1, .layout = INDIRECT };
	struct check_acc a = { 0 };
	unsigned int done = 0, added = 0, depth;
	void *tok;
	uint32_t len;

	if (!c)
		return finish(c);
	if (reopen(c, WRAP_QSIZE)) {
		check_expect(&a, false, "the device to start", "%s", c->broken);
		check_done(CK_BLK_WRAP, &a);
		return finish(c);
	}
	/* Indirect: one ring descriptor per request, a full ring in
	 * flight; without it, as many 3-descriptor chains as fit. */
	if (!vio_has(&c->b.vio, VIRTIO_F_INDIRECT_DESC))
		sh.layout = DIRECT;
	depth = sh.layout == INDIRECT ? c->vq->num : c->vq->num / 3;
	for (unsigned int i = 0; i < depth; i++)
		if (build_rw(c, &r[i], false, i, 1, 0, &sh)) {
			check_expect(&a, false, "the requests built",
				     "no room for them");
			depth = 0;
		}
	/* Slots come back in the order the device completes them. */
	for (unsigned int i = 0; i < depth; i++)
		free_slot[i] = &r[i];
	nfree = depth;
	while (done < WRAP_REQUESTS && depth) {
		while (added < WRAP_REQUESTS && nfree) {
			struct req *q = free_slot[--nfree];
			int ret;

			*q->status = 0xff;
			set_layout(c->vq, &sh);
			ret = virtq_add(c->vq, q->bufs, q->out, q->in, q);
			set_layout(c->vq, NULL);
			if (ret) {
				snprintf(c->broken, sizeof(c->broken),
					 "the driver could not add request "
					 "%u (%d)",
					 added, ret);
				break;
			}
			added++;
		}
		vio_kick(&c->b.vio, c->qi, c->vq);
		if (c->broken[0] || wait_used(c))
			break;
		while (virtq_get_used(c->vq, &tok, &len) == 1) {
			struct req *q = tok;

			free_slot[nfree++] = q;
			if (*q->status != VIRTIO_BLK_S_OK &&
			    !check_expect(&a, false, "status OK",
					  "status %d for request %u",
					  *q->status, done))
				depth = 0;
			done++;
		}
		if (virtq_error(c->vq)[0]) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 virtq_error(c->vq));
			break;
		}
	}
	if (c->broken[0])
		check_expect(&a, false, "70000 requests served",
			     "after %u (used index %u): %s", done,
			     c->vq->last_used, c->broken);
	else
		check_expect(&a, done == WRAP_REQUESTS, "70000 requests served",
			     "%u", done);
	check_done(CK_BLK_WRAP, &a);
	return finish(c);
}

/* --- Device requirements ----------------------------------------------------
 */

#define CFG(field) offsetof(struct virtio_blk_config, field)

/* A request of @type at @sector with @out readable bytes from @data and
 * @in writable ones (filled with the guard byte), then the status. Feeds
 * c->nolen. Returns the status, or -1 (c->broken says why). */
static int req_run(struct cblk *c, struct req *r, uint32_t type,
		   uint64_t sector, const void *data, uint32_t out, uint32_t in)
{
	uint8_t *p;
	int st;

	memset(r, 0, sizeof(*r));
	if (c->broken[0] || build_header(c, r, type, sector, 0))
		return -1;
	if (out) {
		p = chain_place(&c->arena, out);
		if (add_buf(r, p, out))
			return -1;
		memcpy(p, data, out);
		r->out++;
	}
	if (in) {
		p = chain_place(&c->arena, in);
		if (add_buf(r, p, in))
			return -1;
		memset(p, CHAIN_GUARD_BYTE, in);
		r->in++;
	}
	r->status = chain_place(&c->arena, 1);
	if (add_buf(r, r->status, 1))
		return -1;
	r->in++;
	if (run(c, r, NULL))
		return -1;
	st = *r->status;
	if (st != VIRTIO_BLK_S_OK
		    ? !in || untouched(r->ptr[r->out], in)
		    : type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_GET_ID)
		check_expect(&c->nolen, r->used_len <= 1,
			     "used length 1 (the status byte)",
			     "%u for type %u, status %d, no data written",
			     r->used_len, type, st);
	return st;
}

/* Records @st in @a: @want, or what happened. */
static bool expect_st(struct cblk *c, struct check_acc *a, int st, int want,
		      const char *what)
{
	if (st < 0)
		return check_expect(a, false, "the request to complete", "%s",
				    c->broken);
	return check_expect(a, st == want,
			    want == VIRTIO_BLK_S_OK	 ? "status OK"
			    : want == VIRTIO_BLK_S_IOERR ? "status IOERR"
							 : "status UNSUPP",
			    "status %d for %s", st, what);
}

/* DISCARD or WRITE_ZEROES of @n segments of @nsec sectors, @gap apart,
 * from @sector, with @flags. */
static int dz(struct cblk *c, uint32_t type, uint64_t sector, unsigned int n,
	      uint32_t nsec, unsigned int gap, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes seg[8];
	struct req r;

	for (unsigned int i = 0; i < n; i++)
		seg[i] = (struct virtio_blk_discard_write_zeroes){
			sector + i * gap, nsec, flags
		};
	return req_run(c, &r, type, 0, seg, n * sizeof(seg[0]), 0);
}

static uint32_t cfg32(struct cblk *c, unsigned int off)
{
	uint32_t v = 0;

	vio_config_read(&c->b.vio, off, &v, 4);
	return v;
}

static unsigned int clamp(uint32_t v, unsigned int lo, unsigned int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void check_config(struct cblk *c)
{
	struct check_acc pad = { 0 }, dzc = { 0 }, bs = { 0 }, fl = { 0 };
	uint8_t u0 = 0xff, u1[3] = { 0xff, 0xff, 0xff };

	vio_config_read(&c->b.vio, CFG(unused0), &u0, 1);
	vio_config_read(&c->b.vio, CFG(unused1), u1, 3);
	check_expect(&pad, !u0 && !u1[0] && !u1[1] && !u1[2], "zeroes",
		     "unused0 0x%02x, unused1 %02x %02x %02x", u0, u1[0], u1[1],
		     u1[2]);
	check_done(CK_BLK_CONFIG_PADDING, &pad);
	check_expect(&fl, (c->b.vio.offered >> VIRTIO_BLK_F_FLUSH) & 1,
		     "FLUSH offered", "features 0x%llx",
		     (unsigned long long)c->b.vio.offered);
	check_done(CK_BLK_OFFERS_FLUSH, &fl);
	if (vio_has(&c->b.vio, VIRTIO_BLK_F_DISCARD))
		check_expect(&dzc,
			     cfg32(c, CFG(max_discard_sectors)) &&
				     cfg32(c, CFG(max_discard_seg)) &&
				     cfg32(c, CFG(discard_sector_alignment)),
			     "DISCARD limits not 0",
			     "max_discard_sectors %u, max_discard_seg %u, "
			     "alignment %u",
			     cfg32(c, CFG(max_discard_sectors)),
			     cfg32(c, CFG(max_discard_seg)),
			     cfg32(c, CFG(discard_sector_alignment)));
	if (vio_has(&c->b.vio, VIRTIO_BLK_F_WRITE_ZEROES))
		check_expect(&dzc,
			     cfg32(c, CFG(max_write_zeroes_sectors)) &&
				     cfg32(c, CFG(max_write_zeroes_seg)),
			     "WRITE_ZEROES limits not 0",
			     "max_write_zeroes_sectors %u, "
			     "max_write_zeroes_seg %u",
			     cfg32(c, CFG(max_write_zeroes_sectors)),
			     cfg32(c, CFG(max_write_zeroes_seg)));
	check_skip_reason(&dzc, "neither DISCARD nor WRITE_ZEROES offered");
	check_done(CK_BLK_DZ_CONFIG, &dzc);
	if (vio_has(&c->b.vio, VIRTIO_BLK_F_BLK_SIZE)) {
		uint32_t v = cfg32(c, CFG(blk_size));

		check_expect(&bs, v >= 512 && !(v & (v - 1)),
			     "a power of two, at least 512", "blk_size %u", v);
	}
	check_skip_reason(&bs, "BLK_SIZE not offered");
	check_done(CK_BLK_BLK_SIZE, &bs);
}

static void check_read_only(struct cblk *c)
{
	struct check_acc a = { 0 };
	uint8_t before[SECTOR], data[SECTOR];
	struct req r;
	int st;

	memset(data, 0x3c, sizeof(data));
	st = req_run(c, &r, VIRTIO_BLK_T_IN, 40, NULL, 0, SECTOR);
	if (expect_st(c, &a, st, VIRTIO_BLK_S_OK, "a read")) {
		memcpy(before, r.ptr[1], SECTOR);
		st = req_run(c, &r, VIRTIO_BLK_T_OUT, 40, data, SECTOR, 0);
		expect_st(c, &a, st, VIRTIO_BLK_S_IOERR, "a write");
		st = req_run(c, &r, VIRTIO_BLK_T_IN, 40, NULL, 0, SECTOR);
		if (expect_st(c, &a, st, VIRTIO_BLK_S_OK, "a read after it"))
			check_expect(&a, !memcmp(before, r.ptr[1], SECTOR),
				     "the sector unchanged",
				     "the write changed it");
	}
	check_done(CK_BLK_RO, &a);
}

static void check_last_sector(struct cblk *c)
{
	uint64_t last = c->b.capacity - 1;
	struct check_acc a = { 0 };
	uint8_t data[SECTOR];
	struct req r;
	int st;

	for (unsigned int i = 0; i < SECTOR; i++)
		data[i] = (uint8_t)(i * 13 + 7);
	st = req_run(c, &r, VIRTIO_BLK_T_OUT, last, data, SECTOR, 0);
	expect_st(c, &a, st, VIRTIO_BLK_S_OK, "a write of the last sector");
	st = req_run(c, &r, VIRTIO_BLK_T_IN, last, NULL, 0, SECTOR);
	if (expect_st(c, &a, st, VIRTIO_BLK_S_OK, "a read of the last sector"))
		check_expect(&a, !memcmp(data, r.ptr[1], SECTOR),
			     "the bytes written", "other bytes");
	check_done(CK_BLK_LAST_SECTOR, &a);
}

static void check_sector_units(struct cblk *c)
{
	struct shape sh = { .nseg = 1 };
	struct check_acc a = { 0 };
	char why[96];

	expect_ok(c, &a, rw(c, true, 200, 2, &sh, why, sizeof(why)),
		  "a write of sectors 200-201", why);
	expect_ok(c, &a, rw(c, true, 203, 1, &sh, why, sizeof(why)),
		  "a write of sector 203", why);
	expect_ok(c, &a, rw(c, false, 201, 1, &sh, why, sizeof(why)),
		  "a read of sector 201", why);
	expect_ok(c, &a, rw(c, false, 199, 6, &sh, why, sizeof(why)),
		  "a read of sectors 199-204", why);
	check_done(CK_BLK_SECTOR_UNITS, &a);
}

static void check_flush(struct cblk *c)
{
	struct shape sh = { .nseg = 1 };
	struct check_acc a = { 0 };
	char why[96];
	struct req r;

	if (!vio_has(&c->b.vio, VIRTIO_BLK_F_FLUSH)) {
		check_skip(CK_BLK_FLUSH, "FLUSH not offered");
		return;
	}
	expect_ok(c, &a, rw(c, true, 150, 4, &sh, why, sizeof(why)),
		  "a write before FLUSH", why);
	expect_st(c, &a, req_run(c, &r, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0),
		  VIRTIO_BLK_S_OK, "FLUSH");
	check_done(CK_BLK_FLUSH, &a);
}

static void check_discard_zeroes(struct cblk *c)
{
	bool d = vio_has(&c->b.vio, VIRTIO_BLK_F_DISCARD);
	bool z = vio_has(&c->b.vio, VIRTIO_BLK_F_WRITE_ZEROES);
	struct check_acc unmap = { 0 }, flags = { 0 }, zunmap = { 0 },
			 dlim = { 0 }, zlim = { 0 };
	struct shape sh = { .nseg = 3, .seed = 9 };
	unsigned int n;
	uint32_t nsec;
	char why[96];

	if (d) {
		expect_st(c, &unmap,
			  dz(c, VIRTIO_BLK_T_DISCARD, 120, 1, 8, 0,
			     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			  VIRTIO_BLK_S_UNSUPP, "DISCARD with unmap");
		expect_st(c, &flags,
			  dz(c, VIRTIO_BLK_T_DISCARD, 120, 1, 8, 0, 0x80),
			  VIRTIO_BLK_S_UNSUPP, "DISCARD with flag 0x80");
		n = clamp(cfg32(c, CFG(max_discard_seg)), 1, 8);
		nsec = clamp(cfg32(c, CFG(max_discard_sectors)), 1, 4);
		expect_st(c, &dlim,
			  dz(c, VIRTIO_BLK_T_DISCARD, 160, n, nsec, 5, 0),
			  VIRTIO_BLK_S_OK, "DISCARD within the limits");
	}
	if (z) {
		expect_st(c, &flags,
			  dz(c, VIRTIO_BLK_T_WRITE_ZEROES, 120, 1, 8, 0, 0x80),
			  VIRTIO_BLK_S_UNSUPP, "WRITE_ZEROES with flag 0x80");
		expect_ok(c, &zunmap,
			  rw(c, true, 128, 8, &sh, why, sizeof(why)),
			  "a write before WRITE_ZEROES", why);
		if (expect_st(c, &zunmap,
			      dz(c, VIRTIO_BLK_T_WRITE_ZEROES, 128, 1, 8, 0,
				 VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			      VIRTIO_BLK_S_OK, "WRITE_ZEROES with unmap"))
			memset(&c->gen[128], 0, 8);
		expect_ok(c, &zunmap,
			  rw(c, false, 128, 8, &sh, why, sizeof(why)),
			  "a read after WRITE_ZEROES with unmap", why);
		n = clamp(cfg32(c, CFG(max_write_zeroes_seg)), 1, 8);
		nsec = clamp(cfg32(c, CFG(max_write_zeroes_sectors)), 1, 2);
		expect_ok(c, &zlim, rw(c, true, 208, 24, &sh, why, sizeof(why)),
			  "a write before WRITE_ZEROES", why);
		if (expect_st(c, &zlim,
			      dz(c, VIRTIO_BLK_T_WRITE_ZEROES, 208, n, nsec, 3,
				 0),
			      VIRTIO_BLK_S_OK,
			      "WRITE_ZEROES within the limits"))
			for (unsigned int i = 0; i < n; i++)
				memset(&c->gen[208 + 3 * i], 0, nsec);
		expect_ok(c, &zlim,
			  rw(c, false, 208, 24, &sh, why, sizeof(why)),
			  "a read after WRITE_ZEROES of several segments", why);
	}
	check_skip_reason(&unmap, "DISCARD not offered");
	check_skip_reason(&dlim, "DISCARD not offered");
	check_skip_reason(&flags, "neither DISCARD nor WRITE_ZEROES offered");
	check_skip_reason(&zunmap, "WRITE_ZEROES not offered");
	check_skip_reason(&zlim, "WRITE_ZEROES not offered");
	check_done(CK_BLK_DISCARD_UNMAP, &unmap);
	check_done(CK_BLK_DZ_FLAGS, &flags);
	check_done(CK_BLK_ZEROES_UNMAP, &zunmap);
	check_done(CK_BLK_DISCARD_LIMITS, &dlim);
	check_done(CK_BLK_ZEROES_LIMITS, &zlim);
}

static void check_get_id_20(struct cblk *c)
{
	struct check_acc a = { 0 };
	struct req r;
	int st = req_run(c, &r, VIRTIO_BLK_T_GET_ID, 0, NULL, 0,
			 VIRTIO_BLK_ID_BYTES);

	if (st < 0)
		check_expect(&a, false, "the request to complete", "%s",
			     c->broken);
	else
		check_expect(&a,
			     st == VIRTIO_BLK_S_OK || st == VIRTIO_BLK_S_UNSUPP,
			     "OK or UNSUPP", "status %d", st);
	check_done(CK_BLK_GET_ID_20, &a);
}

/* Failed requests with a data buffer, for c->nolen: a read past the end,
 * a type nobody defines. */
static void check_failed_lens(struct cblk *c)
{
	struct req r;

	req_run(c, &r, VIRTIO_BLK_T_IN, c->b.capacity, NULL, 0, SECTOR);
	req_run(c, &r, UNKNOWN_T, 0, NULL, 0, SECTOR);
	if (c->broken[0])
		check_expect(&c->nolen, false, "the requests to complete", "%s",
			     c->broken);
}

int check_blk_device(const char *args)
{
	static const enum check_id writing[] = {
		CK_BLK_LAST_SECTOR,    CK_BLK_SECTOR_UNITS,
		CK_BLK_FLUSH,	       CK_BLK_DISCARD_UNMAP,
		CK_BLK_DZ_FLAGS,       CK_BLK_ZEROES_UNMAP,
		CK_BLK_DISCARD_LIMITS, CK_BLK_ZEROES_LIMITS,
		CK_BLK_GET_ID_20,      CK_BLK_LEN_NO_DATA,
	};
	struct cblk *c =
		start_with(args, WANTED | VIRTIO_BIT(VIRTIO_BLK_F_RO) |
					 VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
					 VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));

	if (!c)
		return finish(c);
	check_config(c);
	if (vio_has(&c->b.vio, VIRTIO_BLK_F_RO)) {
		check_read_only(c);
		for (unsigned int i = 0; i < 10; i++)
			check_skip(writing[i], "the device is read-only (RO)");
		return finish(c);
	}
	check_skip(CK_BLK_RO, "RO not offered");
	check_last_sector(c);
	check_sector_units(c);
	check_flush(c);
	check_discard_zeroes(c);
	check_get_id_20(c);
	check_failed_lens(c);
	check_done(CK_BLK_LEN_NO_DATA, &c->nolen);
	return finish(c);
}

/* --- Multi-queue ------------------------------------------------------------
 */

static void use_queue(struct cblk *c, unsigned int q)
{
	c->qi = q;
	c->vq = &c->b.vq[q];
}

#define CHECK_PORT_QUEUE_NUM 8 /* vuvm --check-port: GET_QUEUE_NUM's answer */

/* num_queues against what the backend told vuvm with GET_QUEUE_NUM. */
static void check_queue_num(uint16_t num)
{
	struct check_acc a = { 0 };
	uint16_t io;
	int32_t qn;

	if (dt_io_port("vuvm,check-port", &io)) {
		check_skip(CK_BLK_MQ_QUEUE_NUM,
			   "vuvm has no check port (--check-port)");
		return;
	}
	outl(io, CHECK_PORT_QUEUE_NUM);
	qn = (int32_t)inl(io);
	if (qn <= 0) {
		check_skip(CK_BLK_MQ_QUEUE_NUM,
			   "vuvm did not ask GET_QUEUE_NUM (no MQ protocol "
			   "feature)");
		return;
	}
	check_expect(&a, num <= (uint32_t)qn,
		     "num_queues not above GET_QUEUE_NUM",
		     "num_queues %u, GET_QUEUE_NUM %d", num, qn);
	check_done(CK_BLK_MQ_QUEUE_NUM, &a);
}

/* --- All queues at once -----------------------------------------------------
 */

#define MQ_DEPTH  8   /* requests per queue in a round, at most */
#define MQ_SECTOR 128 /* request i of queue q: MQ_SECTOR + q * depth + i */

struct mq_req {
	struct req r;
	unsigned int q;
	uint64_t sector;
	uint8_t gen;
	bool done;
};

static struct mq_req mq_reqs[BLK_MAX_QUEUES * MQ_DEPTH];

/* Takes every used entry of queue @q; false (after a failure in @a) when
 * one is not a request in flight on @q. */
static bool mq_take(struct cblk *c, struct check_acc *a, unsigned int q,
		    unsigned int n, unsigned int *left)
{
	struct virtq *vq = &c->b.vq[q];
	struct mq_req *m;
	uint32_t len;
	void *tok;
	int ret;

	while (virtq_has_used(vq)) {
		ret = virtq_get_used(vq, &tok, &len);
		if (ret == 0)
			break;
		m = tok;
		if (ret < 0 || m < mq_reqs || m >= mq_reqs + n || m->q != q ||
		    m->done) {
			check_expect(a, false,
				     "each used id in flight on its own queue",
				     "queue %u: %s", q,
				     ret < 0 ? virtq_error(vq)
					     : "an impossible used entry");
			snprintf(c->broken, sizeof(c->broken),
				 "queue %u returned what it did not hold", q);
			return false;
		}
		m->done = true;
		m->r.used_len = len;
		(*left)--;
	}
	return true;
}

/* Waits until all @n requests of mq_reqs are used; false (after a
 * failure in @a) when one is not within the stall time. */
static bool mq_wait(struct cblk *c, struct check_acc *a, unsigned int n)
{
	uint64_t start = time_ns(), now;
	unsigned int left = n;

	vio_watch(&c->b.vio, start, true);
	while (left) {
		for (unsigned int q = 0; q < c->b.nq; q++)
			if (!mq_take(c, a, q, n, &left))
				return false;
		if (!left)
			break;
		now = time_ns();
		if (now - start > c->stall_ns) {
			for (unsigned int q = 0; q < c->b.nq; q++) {
				unsigned int miss = 0;

				for (unsigned int i = 0; i < n; i++)
					miss += mq_reqs[i].q == q &&
						!mq_reqs[i].done;
				check_expect(a, !miss,
					     "every queue's requests completed",
					     "queue %u: %u of %u not completed "
					     "within %llu s",
					     q, miss, n / c->b.nq,
					     (unsigned long long)(c->stall_ns /
								  1000000000));
			}
			snprintf(c->broken, sizeof(c->broken),
				 "requests on every queue at once did not "
				 "complete");
			return false;
		}
		if (vio_watch(&c->b.vio, now, false)) {
			check_expect(a, false, "the device to work", "%s",
				     c->b.vio.error);
			snprintf(c->broken, sizeof(c->broken), "%s",
				 c->b.vio.error);
			return false;
		}
	}
	return true;
}

/*
 * One round: @depth requests on every queue (writes, or reads of what
 * queue (q + @shift) % nq wrote), all made available before the first
 * notification, then every queue notified; each must come back once, on
 * its own queue, with status OK and (reads) the data the disk holds.
 */
static void mq_round(struct cblk *c, struct check_acc *a, bool write,
		     unsigned int depth, unsigned int shift)
{
	unsigned int nq = c->b.nq, n = nq * depth;
	char why[96];

	if (c->broken[0])
		return;
	for (unsigned int i = 0; i < n; i++) {
		struct mq_req *m = &mq_reqs[i];
		struct shape sh = { .nseg = 1 + i % 2, .seed = i + 1 };
		unsigned int q = i / depth;

		memset(m, 0, sizeof(*m));
		m->q = q;
		m->sector = MQ_SECTOR + ((q + shift) % nq) * depth + i % depth;
		if (write) {
			c->next_gen = c->next_gen == 255 ? 1 : c->next_gen + 1;
			m->gen = c->next_gen;
		}
		if (build_rw(c, &m->r, write, m->sector, 1, m->gen, &sh) ||
		    virtq_add(&c->b.vq[q], m->r.bufs, m->r.out, m->r.in, m)) {
			snprintf(c->broken, sizeof(c->broken),
				 "the driver could not add request %u of "
				 "queue %u",
				 i % depth, q);
			check_expect(a, false, "the requests added", "%s",
				     c->broken);
			return;
		}
		*m->r.status = 0xff;
	}
	/* Every queue's avail index published before the first kick. */
	for (unsigned int q = 0; q < nq; q++)
		virtq_kick_prepare(&c->b.vq[q]);
	for (unsigned int q = 0; q < nq; q++)
		vio_notify(&c->b.vio, q);
	if (!mq_wait(c, a, n)) {
		chain_reset(&c->arena);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct mq_req *m = &mq_reqs[i];

		if (!check_expect(a, *m->r.status == VIRTIO_BLK_S_OK,
				  "status OK",
				  "status %d for the %s of request %u on "
				  "queue %u",
				  *m->r.status, write ? "write" : "read",
				  i % depth, m->q))
			continue;
		if (write)
			c->gen[m->sector] = m->gen;
		else if (!data_ok(c, gather(c, &m->r, SECTOR), m->sector, 1,
				  why, sizeof(why)))
			check_expect(a, false, "each read its own data",
				     "queue %u request %u: %s", m->q, i % depth,
				     why);
	}
	chain_reset(&c->arena);
	/* Nothing more on any queue (a request completed twice, or on a
	 * queue it was not put on). */
	for (unsigned int q = 0; q < nq; q++) {
		struct virtq *vq = &c->b.vq[q];
		uint16_t extra = (uint16_t)(__atomic_load_n(&vq->used->idx,
							    __ATOMIC_ACQUIRE) -
					    vq->last_used);

		check_expect(a, !extra, "no used entry beyond the requests",
			     "queue %u: %u more used entries than requests", q,
			     extra);
	}
}

static void check_all_busy(struct cblk *c)
{
	struct check_acc a = { 0 };

	if (c->b.nq < 2) {
		check_skip(CK_BLK_MQ_ALL_BUSY, "the transport shows one queue");
		return;
	}
	if (c->broken[0])
		check_expect(&a, false, "the queues to work", "%s", c->broken);
	mq_round(c, &a, true, 1, 0);
	mq_round(c, &a, false, 1, 1);
	mq_round(c, &a, true, MQ_DEPTH, 0);
	mq_round(c, &a, false, MQ_DEPTH, 1);
	mq_round(c, &a, false, MQ_DEPTH, 0);
	check_done(CK_BLK_MQ_ALL_BUSY, &a);
}

/* Interrupts wanted on queue q alone, a read on it: an interrupt must
 * follow, whatever the other queues' NO_INTERRUPT flags say. */
static void check_own_irq(struct cblk *c)
{
	static const enum check_id ids[] = { CK_BLK_MQ_OWN_IRQ };
	struct check_acc a = { 0 };
	char what[64];

	if (c->b.nq < 2) {
		check_skip(CK_BLK_MQ_OWN_IRQ, "the transport shows one queue");
		return;
	}
	if (!irq_start(c, ids, 1))
		return;
	for (unsigned int round = 0; round < 4; round++)
		for (unsigned int q = 0; q < c->b.nq && !c->broken[0]; q++) {
			for (unsigned int k = 0; k < c->b.nq; k++)
				virtq_disable_cb(&c->b.vq[k]);
			vw_irq_drain(&c->b.vio);
			virtq_enable_cb(&c->b.vq[q]);
			use_queue(c, q);
			snprintf(what, sizeof(what),
				 "a completion on queue %u, the only one "
				 "with NO_INTERRUPT clear",
				 q);
			if (one_read(c, &a, round))
				check_expect_irq(&c->b.vio, &a, true, what);
		}
	if (c->broken[0])
		check_expect(&a, false, "the requests to complete", "%s",
			     c->broken);
	for (unsigned int k = 0; k < c->b.nq; k++)
		virtq_disable_cb(&c->b.vq[k]);
	virtio_irq_unroute(c->b.vio.irq);
	use_queue(c, 0);
	check_done(CK_BLK_MQ_OWN_IRQ, &a);
}

/* --- One ring disabled -------------------------------------------------------
 */

#define CHECK_PORT_ENABLE  5 /* vuvm --check-port: SET_VRING_ENABLE 1 */
#define CHECK_PORT_DISABLE 6 /* ... SET_VRING_ENABLE 0, queue arg alone */

static int32_t port_step(uint16_t io, unsigned int op, unsigned int arg)
{
	outl(io, op | arg << 16);
	return (int32_t)inl(io);
}

/* A read of one sector on the current queue, its status alone judged. */
static void status_read(struct cblk *c, struct check_acc *a, uint64_t sector,
			const char *what)
{
	struct req r;
	int st = run_in(c, &r, VIRTIO_BLK_T_IN, sector, SECTOR);

	if (st < 0)
		check_expect(a, false, "the request to complete", "%s: %s",
			     what, c->broken);
	else
		check_expect(a, st == VIRTIO_BLK_S_OK, "status OK",
			     "status %d for %s", st, what);
}

/* Each queue in turn disabled through vuvm's check port: reads on every
 * other queue must complete meanwhile (statuses only, so that a device
 * that drops data is judged on its rings), and on that one once it is
 * enabled again. */
static void check_disable_one(struct cblk *c)
{
	struct check_acc a = { 0 };
	char what[64];
	uint16_t io;

	if (c->b.nq < 2) {
		check_skip(CK_BLK_MQ_DISABLE_ONE,
			   "the transport shows one queue");
		return;
	}
	if (dt_io_port("vuvm,check-port", &io)) {
		check_skip(CK_BLK_MQ_DISABLE_ONE,
			   "vuvm has no check port (--check-port)");
		return;
	}
	if (c->broken[0])
		check_expect(&a, false, "the queues to work", "%s", c->broken);
	for (unsigned int q = 0; q < c->b.nq && !c->broken[0]; q++) {
		if (port_step(io, CHECK_PORT_DISABLE, q) < 0) {
			if (!q) {
				check_skip(
					CK_BLK_MQ_DISABLE_ONE,
					"vuvm could not send SET_VRING_ENABLE "
					"(no protocol features)");
				use_queue(c, 0);
				return;
			}
			check_expect(&a, false, "SET_VRING_ENABLE 0 done",
				     "queue %u: the step failed", q);
			break;
		}
		for (unsigned int k = 0; k < c->b.nq; k++) {
			if (k == q)
				continue;
			use_queue(c, k);
			snprintf(what, sizeof(what),
				 "a read on queue %u, queue %u disabled", k, q);
			for (unsigned int i = 0; i < 2; i++)
				status_read(c, &a, 90 + k, what);
		}
		if (port_step(io, CHECK_PORT_ENABLE, q) < 0) {
			check_expect(&a, false, "SET_VRING_ENABLE 1 done",
				     "queue %u: the step failed", q);
			break;
		}
		use_queue(c, q);
		snprintf(what, sizeof(what),
			 "a read on queue %u, enabled again", q);
		status_read(c, &a, 90 + q, what);
	}
	use_queue(c, 0);
	check_done(CK_BLK_MQ_DISABLE_ONE, &a);
}

int check_blk_mq(const char *args)
{
	struct cblk *c = start_with(args, WANTED | VIRTIO_BIT(VIRTIO_BLK_F_MQ));
	struct check_acc each = { 0 }, shared = { 0 }, cfg = { 0 };
	struct shape sh = { .nseg = 2, .seed = 3 };
	uint16_t num = 0;
	char why[96], what[64];

	if (!c)
		return finish(c);
	if (!vio_has(&c->b.vio, VIRTIO_BLK_F_MQ)) {
		check_skip(CK_BLK_MQ_EACH, "MQ not offered");
		check_skip(CK_BLK_MQ_SHARED, "MQ not offered");
		check_skip(CK_BLK_MQ_CONFIG, "MQ not offered");
		check_skip(CK_BLK_MQ_QUEUE_NUM, "MQ not offered");
		check_skip(CK_BLK_MQ_ALL_BUSY, "MQ not offered");
		check_skip(CK_BLK_MQ_OWN_IRQ, "MQ not offered");
		check_skip(CK_BLK_MQ_DISABLE_ONE, "MQ not offered");
		return finish(c);
	}
	vio_config_read(&c->b.vio, CFG(num_queues), &num, 2);
	check_expect(&cfg, num >= c->b.nq, "num_queues at least the queues",
		     "num_queues %u, %u queues", num, c->b.nq);
	check_done(CK_BLK_MQ_CONFIG, &cfg);
	check_queue_num(num);
	for (unsigned int q = c->b.nq; q-- > 0;) {
		use_queue(c, q);
		snprintf(what, sizeof(what), "a write on queue %u alone", q);
		expect_ok(c, &each,
			  rw(c, true, 50 + q, 2, &sh, why, sizeof(why)), what,
			  why);
		snprintf(what, sizeof(what), "a read on queue %u alone", q);
		expect_ok(c, &each,
			  rw(c, false, 50 + q, 2, &sh, why, sizeof(why)), what,
			  why);
	}
	check_done(CK_BLK_MQ_EACH, &each);
	for (unsigned int q = 0; q < c->b.nq && c->b.nq > 1; q++) {
		unsigned int other = (q + 1) % c->b.nq;

		use_queue(c, q);
		snprintf(what, sizeof(what), "a write on queue %u", q);
		expect_ok(c, &shared,
			  rw(c, true, 70 + q, 2, &sh, why, sizeof(why)), what,
			  why);
		use_queue(c, other);
		snprintf(what, sizeof(what), "a read of it on queue %u", other);
		expect_ok(c, &shared,
			  rw(c, false, 70 + q, 2, &sh, why, sizeof(why)), what,
			  why);
	}
	check_skip_reason(&shared, "the transport shows one queue");
	check_done(CK_BLK_MQ_SHARED, &shared);
	use_queue(c, 0);
	/* The interrupts first: one queue busy at a time, so that a device
	 * which fails with all of them busy does not fail this too. */
	check_own_irq(c);
	check_all_busy(c);
	check_disable_one(c);
	return finish(c);
}

/* --- Feature subsets --------------------------------------------------------
 */

/* The features a driver may leave out (VERSION_1 may not be; the ring
 * layout is vuvm's to choose; RO is the device's to impose). */
static const unsigned int optional_bits[] = {
	VIRTIO_F_INDIRECT_DESC,	 VIRTIO_F_EVENT_IDX,
	VIRTIO_BLK_F_SIZE_MAX,	 VIRTIO_BLK_F_SEG_MAX,
	VIRTIO_BLK_F_GEOMETRY,	 VIRTIO_BLK_F_BLK_SIZE,
	VIRTIO_BLK_F_FLUSH,	 VIRTIO_BLK_F_TOPOLOGY,
	VIRTIO_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_MQ,
	VIRTIO_BLK_F_DISCARD,	 VIRTIO_BLK_F_WRITE_ZEROES,
};
#define NR_OPTIONAL (sizeof(optional_bits) / sizeof(optional_bits[0]))

/* Starts the device afresh with @wanted and runs a write and a read back
 * of 4 sectors at @sector; the start and completion judged in @acc, the
 * statuses and data in @srv. */
static void subset_case(struct cblk *c, struct check_acc *acc,
			struct check_acc *srv, uint64_t wanted, uint64_t sector)
{
	struct shape sh = { .nseg = 1 };
	char why[96];
	int err, w, r;

	c->broken[0] = '\0';
	chain_reset(&c->arena);
	if (!vio_reset(&c->b.vio)) {
		check_expect(acc, false, "the device to reset",
			     "Status did not read 0 (features 0x%llx next)",
			     (unsigned long long)wanted);
		return;
	}
	err = open_dev(c, wanted, QSIZE);
	if (!check_expect(
		    acc, !err, "the device to start", "features 0x%llx: %s",
		    (unsigned long long)c->b.vio.features, c->b.vio.error))
		return;
	w = rw(c, true, sector, 4, &sh, why, sizeof(why));
	r = w == -1 ? -1 : rw(c, false, sector, 4, &sh, why, sizeof(why));
	if (!check_expect(acc, w != -1 && r != -1,
			  "a write and a read to complete",
			  "features 0x%llx: %s",
			  (unsigned long long)c->b.vio.features, c->broken))
		return;
	if (w == VIRTIO_BLK_S_OK && r == -2)
		check_expect(srv, false, "the data read back intact",
			     "features 0x%llx: %s",
			     (unsigned long long)c->b.vio.features, why);
	else
		check_expect(srv, w == VIRTIO_BLK_S_OK && r == VIRTIO_BLK_S_OK,
			     "status OK for the write and the read",
			     "features 0x%llx: write %d, read %d",
			     (unsigned long long)c->b.vio.features, w, r);
}

int check_blk_features(const char *args)
{
	struct check_acc acc = { 0 }, srv = { 0 };
	uint64_t all = 0, offered;
	unsigned int n = 0;
	struct cblk *c;

	for (unsigned int i = 0; i < NR_OPTIONAL; i++)
		all |= VIRTIO_BIT(optional_bits[i]);
	c = start_with(args, all);
	if (!c)
		return finish(c);
	offered = c->b.vio.offered & all;
	if (c->b.vio.offered & VIRTIO_BIT(VIRTIO_BLK_F_RO)) {
		check_skip(CK_BLK_FEATURES_ACCEPTED, "the device is read-only");
		check_skip(CK_BLK_FEATURES_SERVED, "the device is read-only");
		return finish(c);
	}
	for (unsigned int i = 0; i < NR_OPTIONAL; i++) {
		uint64_t bit = VIRTIO_BIT(optional_bits[i]);

		if (offered & bit)
			subset_case(c, &acc, &srv, offered & ~bit, 8 * n++);
	}
	report_info("%u optional features offered, each left out once", n);
	subset_case(c, &acc, &srv, 0, 8 * n);
	check_skip_reason(&srv, "no subset was accepted");
	check_done(CK_BLK_FEATURES_ACCEPTED, &acc);
	check_done(CK_BLK_FEATURES_SERVED, &srv);
	return finish(c);
}
