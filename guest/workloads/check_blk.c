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
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check/chain.h"
#include "check/check.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"

#define QSIZE	  128
#define IND_MAX	  VIRTQ_MAX_SEGS
#define REGION	  256 /* sectors under test at the start of the disk */
#define ARENA	  (256 * 1024)
#define SECTOR	  VIRTIO_BLK_SECTOR_SIZE
#define MAX_BUFS  VIRTQ_MAX_SEGS
#define UNKNOWN_T 0x4c7a1u /* a request type no spec defines */

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
	uint64_t stall_ns;
	struct chain_arena arena; /* the buffers of the request being built */
	uint8_t *saved, *snap, *lin;
	uint8_t gen[REGION]; /* what each sector holds; 0: zeroes */
	uint8_t next_gen;
	char broken[VIO_ERROR_LEN];
	/* Fed by every request. */
	struct check_acc readable, desc, bounds, len;
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
	vio_kick(&c->b.vio, 0, vq);
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

/* --- The scenario ------------------------------------------------------------
 */

static int open_dev(struct cblk *c, const struct vio_dev *found)
{
	uint64_t wanted = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
			  VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			  VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
			  VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	int err;

	c->b.vio = *found;
	err = vio_begin(&c->b.vio, wanted);
	if (!err)
		err = vio_config_read(&c->b.vio, 0, &c->b.capacity, 8);
	if (!err && vio_has(&c->b.vio, VIRTIO_BLK_F_SEG_MAX))
		err = vio_config_read(
			&c->b.vio, offsetof(struct virtio_blk_config, seg_max),
			&c->b.seg_max, 4);
	if (!err)
		err = vio_queue_setup(&c->b.vio, 0, &c->b.vq[0], QSIZE,
				      IND_MAX);
	if (err)
		return err;
	c->vq = &c->b.vq[0];
	c->b.nq = 1;
	virtq_disable_cb(c->vq);
	return vio_driver_ok(&c->b.vio);
}

static int alloc_bufs(struct cblk *c)
{
	c->arena = (struct chain_arena){ dma_alloc(ARENA, 64), ARENA, 0 };
	c->saved = dma_alloc(ARENA, 64);
	c->snap = dma_alloc((QSIZE + IND_MAX) * sizeof(struct virtq_desc), 64);
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

/* Finds and starts the device; NULL after a failed report. */
static struct cblk *start(const char *args)
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
	err = open_dev(&c, &found);
	if (err || c.b.capacity < 2 * REGION) {
		report(false, "blk: cannot start the device: %s",
		       err ? c.b.vio.error : "smaller than 256 KiB");
		return NULL;
	}
	return &c;
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
	}
	return finish(c);
}
