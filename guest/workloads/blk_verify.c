// SPDX-License-Identifier: MIT
/*
 * blk-verify: proves that a virtio-blk device stores what it is given.
 *
 * The whole disk is written with a pattern that depends on the sector and
 * a generation number, in requests of varied sizes, split into varied
 * numbers of segments at arbitrary byte boundaries, direct or indirect,
 * several in flight on every queue; random ranges are then overwritten
 * with a new generation; FLUSH; DISCARD and WRITE_ZEROES (where offered)
 * turn ranges to zeroes; finally everything is read back, with the same
 * variety, and compared with what each sector should hold. GET_ID and a
 * read past the end are checked on the side.
 *
 * Parameters: mode=poll|irq (default poll), queues=N (default 1, with
 * VIRTIO_BLK_F_MQ), depth=N requests in flight per queue (default 8),
 * qsize=N ring entries (default 128), maxsec=N sectors per request
 * (default 128), verify=0 (do not compare what reads return: for
 * backends that drop writes, such as qemu-storage-daemon's null-co; status
 * and length are still checked), verbose, passes=N (instead of the story
 * above: N passes of "write the whole disk, read it all back", each with
 * its own generation, so a sector left from an earlier pass is caught;
 * long enough to kill and restart a backend in the middle; progress as an
 * INFO line at most every 100 ms), stall=SEC (default 5: how long
 * requests may go without a completion before the run fails).
 *
 * Every virtio-blk device in the device tree is verified, one after the
 * other; a device that fails (DEVICE_NEEDS_RESET included: "device needs
 * reset" in the FAIL line) does not stop the others. The last line before
 * SUMMARY is a VUVM-JSON line with the devices, those that failed, and the
 * bytes written and verified (read back and compared equal).
 *
 * DISCARD is a hint (virtio 1.2, 5.2.6.2: the device MAY deallocate): a
 * discarded sector may read back as zeroes or as what it held before.
 * qemu-storage-daemon, with its default discard=ignore, keeps the data.
 * Only WRITE_ZEROES must read back as zeroes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/blk.h"
#include "virtio/virtio_ids.h"
#include "workloads/blk_pattern.h"
#include "workloads/virtio_common.h"
#include "workloads/workloads.h"

#define GEN_ZERO    BLK_PATTERN_GEN_ZERO
#define MAX_DEPTH   64
#define ZERO_RANGES 4
/* In gen[]: the sector may also read as zeroes (it was discarded). */
#define GEN_OR_ZERO 0x80
#define MAX_DEVS    8
/* passes=N: generations 3..(3+PASS_GENS-1), never GEN_OR_ZERO. */
#define PASS_GENS   120
#define MAX_PASSES  1000000
#define PROGRESS_NS 100000000ull /* 100 ms between progress lines */

enum phase { PH_WRITE_ALL, PH_OVERWRITE, PH_READ_ALL };

/* One request slot: its request (device-visible) and its data buffer. */
struct slot {
	struct blk_req req;
	uint8_t *buf;
	uint32_t nsec;
	bool busy;
};

struct verify {
	struct blk_dev blk;
	uint64_t sectors; /* verified region: [0, sectors) */
	uint8_t *gen;	  /* per sector, what it should hold */
	uint8_t cur_gen;
	unsigned int depth, maxsec, max_segs;
	struct slot *slots; /* depth per queue */
	uint32_t rng;
	bool skipped; /* the device lacks the ring features asked for */
	bool verbose;
	bool verify;	   /* compare read data (verify=0: no) */
	bool dead;	   /* the device needs a reset: stop using it */
	uint64_t passes;   /* 0: the default story */
	uint64_t stall_ns; /* stall=: how long without a completion */
	uint64_t written, verified; /* bytes, over every phase */
	uint64_t last_info;	    /* when the last progress line went out */
	struct vw_wait wait;
	/* The phase being run. */
	enum phase phase;
	uint64_t cursor, left;
	uint64_t reqs, bytes, errors, mismatched;
	char first_error[120];
};

static void fill(uint8_t *buf, uint64_t sector, uint32_t nsec, uint8_t gen)
{
	uint64_t *w = (uint64_t *)buf;

	for (uint32_t s = 0; s < nsec; s++)
		for (unsigned int i = 0; i < 64; i++)
			*w++ = gen == GEN_ZERO
				       ? 0
				       : blk_pattern(sector + s, gen, i);
}

/* Compares sector @sector of a read buffer with what it should hold. */
static bool sector_ok(const struct verify *v, const uint8_t *buf,
		      uint64_t sector)
{
	const uint64_t *w = (const uint64_t *)buf;
	uint8_t gen = v->gen[sector] & ~GEN_OR_ZERO;
	bool pattern = true, zero = true;

	for (unsigned int i = 0; i < 64; i++) {
		if (w[i] != (gen == GEN_ZERO ? 0 : blk_pattern(sector, gen, i)))
			pattern = false;
		if (w[i])
			zero = false;
	}
	return pattern || (zero && (v->gen[sector] & GEN_OR_ZERO));
}

__attribute__((format(printf, 2, 3))) static void
note_error(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->errors++ && !v->mismatched) {
		va_start(ap, fmt);
		vsnprintf(v->first_error, sizeof(v->first_error), fmt, ap);
		va_end(ap);
	}
}

/* --- Request shapes ------------------------------------------------------ */

/* Sizes: mostly small, sometimes the maximum, sometimes anything. */
static uint32_t pick_nsec(struct verify *v)
{
	uint32_t r = vw_rand(&v->rng);

	switch (r % 4) {
	case 0:
		return 1 + (r >> 8) % (v->maxsec < 8 ? v->maxsec : 8);
	case 1:
		return v->maxsec;
	default:
		return 1 + (r >> 8) % v->maxsec;
	}
}

/* Splits @len bytes at @buf into 1..max_segs segments at arbitrary byte
 * boundaries. */
static void split(struct verify *v, struct blk_req *r, uint8_t *buf,
		  uint32_t len)
{
	unsigned int k = 1 + vw_rand(&v->rng) % v->max_segs;

	if (k > len)
		k = len;
	r->nseg = k;
	for (unsigned int i = 0; i < k; i++) {
		uint32_t room = len - (k - 1 - i), n = len;

		if (i + 1 < k) {
			n = 1 + vw_rand(&v->rng) % (2 * len / (k - i));
			if (n > room)
				n = room;
		}
		r->seg[i] = (struct virtq_buf){ dma_addr(buf), n };
		buf += n;
		len -= n;
	}
}

/* The next range of the phase; false when the phase has issued all. */
static bool next_range(struct verify *v, uint64_t *sector, uint32_t *nsec)
{
	uint32_t n = pick_nsec(v);

	if (v->phase == PH_OVERWRITE) {
		if (!v->left)
			return false;
		v->left--;
		*sector = vw_rand(&v->rng) % v->sectors;
	} else {
		if (v->cursor >= v->sectors)
			return false;
		*sector = v->cursor;
	}
	if (n > v->sectors - *sector)
		n = (uint32_t)(v->sectors - *sector);
	*nsec = n;
	v->cursor = *sector + n;
	return true;
}

/* Prepares @s for the next range and submits it on queue @q. */
static int issue(struct verify *v, unsigned int q, struct slot *s)
{
	bool write = v->phase != PH_READ_ALL;
	uint64_t sector;
	uint32_t nsec;

	if (!next_range(v, &sector, &nsec))
		return 0;
	s->nsec = nsec;
	s->req.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	s->req.sector = sector;
	if (write) {
		memset(v->gen + sector, v->cur_gen, nsec);
		fill(s->buf, sector, nsec, v->cur_gen);
	}
	split(v, &s->req, s->buf, nsec * VIRTIO_BLK_SECTOR_SIZE);
	v->blk.vq[q].indirect_threshold = vw_rand(&v->rng) % 4;
	s->busy = true;
	return blk_submit(&v->blk, q, &s->req) ? -1 : 1;
}

/* Checks a completed request. */
static void complete(struct verify *v, struct slot *s)
{
	struct blk_req *r = &s->req;
	uint32_t data = s->nsec * VIRTIO_BLK_SECTOR_SIZE;

	s->busy = false;
	v->reqs++;
	v->bytes += data;
	if (r->status != VIRTIO_BLK_S_OK) {
		note_error(v, "%s of %u sectors at %llu: status %u",
			   r->type == VIRTIO_BLK_T_IN ? "read" : "write",
			   s->nsec, (unsigned long long)r->sector, r->status);
		return;
	}
	if (r->type != VIRTIO_BLK_T_IN) {
		v->written += data;
		return;
	}
	if (r->used_len != data + 1)
		note_error(v, "read of %u bytes at %llu: used len %u", data,
			   (unsigned long long)r->sector, r->used_len);
	for (uint32_t i = 0; v->verify && i < s->nsec; i++) {
		if (sector_ok(v, s->buf + i * VIRTIO_BLK_SECTOR_SIZE,
			      r->sector + i)) {
			v->verified += VIRTIO_BLK_SECTOR_SIZE;
			continue;
		}
		if (!v->mismatched++ && !v->errors)
			snprintf(v->first_error, sizeof(v->first_error),
				 "sector %llu (generation %u) reads back "
				 "different",
				 (unsigned long long)(r->sector + i),
				 v->gen[r->sector + i]);
	}
}

/* --- The phase engine: keeps every queue busy until the phase is done --- */

/* Fills queue @q's free slots and kicks once; returns slots in flight or
 * -1 on a driver error. */
static int fill_queue(struct verify *v, unsigned int q, bool *more)
{
	struct slot *slots = v->slots + q * v->depth;
	int busy = 0, ret;

	for (unsigned int i = 0; i < v->depth; i++) {
		if (!slots[i].busy && *more) {
			ret = issue(v, q, &slots[i]);
			if (ret < 0)
				return -1;
			*more = ret > 0;
		}
		busy += slots[i].busy;
	}
	blk_kick(&v->blk, q);
	return busy;
}

/* Takes queue @q's completions; returns how many, or -1. */
static int reap_queue(struct verify *v, unsigned int q)
{
	struct blk_req *r;
	int n = 0, ret;

	while ((ret = blk_poll(&v->blk, q, &r)) > 0) {
		complete(v, (struct slot *)((uint8_t *)r -
					    offsetof(struct slot, req)));
		n++;
	}
	return ret < 0 ? -1 : n;
}

/* passes=N: one line at most every PROGRESS_NS, so a test sees it run. */
static void progress(struct verify *v, const char *what, uint64_t now)
{
	if (!v->passes || now - v->last_info < PROGRESS_NS)
		return;
	v->last_info = now;
	report_info("%s: %llu of %llu KiB", what,
		    (unsigned long long)(v->bytes >> 10),
		    (unsigned long long)(v->sectors / 2));
}

/* A failed phase; a device that needs a reset is not used again. */
static bool phase_failed(struct verify *v, const char *what, int err)
{
	if (err == VIO_ENEEDSRESET)
		v->dead = true;
	return report(false, "%s: %s", what, v->blk.vio.error);
}

static bool run_phase(struct verify *v, enum phase ph, const char *what)
{
	uint64_t t0 = time_ns(), seen = t0, us, now;
	bool more = true, moved;
	int busy, err;

	v->phase = ph;
	v->cursor = 0;
	v->reqs = v->bytes = v->errors = v->mismatched = 0;
	v->first_error[0] = '\0';
	do {
		busy = 0;
		moved = false;
		for (unsigned int q = 0; q < v->blk.nq; q++) {
			int b = fill_queue(v, q, &more), n = reap_queue(v, q);

			if (b < 0 || n < 0)
				return phase_failed(v, what, 0);
			busy += b - n;
			moved |= n > 0;
		}
		err = !moved && busy ? vw_idle(&v->wait, v->blk.vq, v->blk.nq)
				     : 0;
		now = time_ns();
		if (moved)
			seen = now;
		/* Status only after 1 ms without a completion. */
		if (!err)
			err = vio_watch(&v->blk.vio, now, moved || !busy);
		if (err)
			return phase_failed(v, what, err);
		progress(v, what, now);
		if (now - seen > v->stall_ns)
			return report(false,
				      "%s: %d requests not completed "
				      "after %llu s",
				      what, busy,
				      (unsigned long long)(v->stall_ns /
							   1000000000ull));
	} while (more || busy);
	us = (time_ns() - t0) / 1000 + 1;
	report_info("%s: %llu requests, %llu KiB in %llu us (%llu MiB/s)", what,
		    (unsigned long long)v->reqs,
		    (unsigned long long)(v->bytes >> 10),
		    (unsigned long long)us,
		    (unsigned long long)(v->bytes / us * 1000000 >> 20));
	if (v->first_error[0])
		report_info("%s: first problem: %s", what, v->first_error);
	return report(!v->errors && !v->mismatched,
		      "%s: %llu errors, %llu sectors mismatched", what,
		      (unsigned long long)v->errors,
		      (unsigned long long)v->mismatched);
}

/* --- Single requests on the side ----------------------------------------- */

/* Runs one request on queue 0 with data @buf of @len bytes (0: none). */
static int one(struct verify *v, uint32_t type, uint64_t sector, void *buf,
	       uint32_t len)
{
	struct blk_req *r = &v->slots[0].req;
	int err;

	r->type = type;
	r->sector = sector;
	r->nseg = len ? 1 : 0;
	r->seg[0] = (struct virtq_buf){ dma_addr(buf), len };
	err = blk_run(&v->blk, 0, r, v->stall_ns);
	if (err == VIO_ENEEDSRESET)
		v->dead = true;
	if (err) {
		report(false, "request type %u: %s", type,
		       err == BLK_ETIMEDOUT ? "no completion in time (stall=)"
					    : v->blk.vio.error);
		return -1;
	}
	return r->status;
}

static void check_get_id(struct verify *v)
{
	char *id = (char *)v->slots[0].buf;
	int st;

	memset(id, 0, VIRTIO_BLK_ID_BYTES + 1);
	st = one(v, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES);
	if (st < 0)
		return;
	if (st == VIRTIO_BLK_S_UNSUPP) {
		report_skip("GET_ID: unsupported by the device");
		return;
	}
	report(st == VIRTIO_BLK_S_OK, "GET_ID: status %d, id \"%.20s\"", st,
	       id);
}

static void check_past_end(struct verify *v)
{
	int st = one(v, VIRTIO_BLK_T_IN, v->blk.capacity, v->slots[0].buf,
		     VIRTIO_BLK_SECTOR_SIZE);

	if (st >= 0)
		report(st == VIRTIO_BLK_S_IOERR,
		       "a read past the end fails with IOERR (status %d)", st);
}

static void check_flush(struct verify *v)
{
	int st;

	if (!vio_has(&v->blk.vio, VIRTIO_BLK_F_FLUSH)) {
		report_skip("FLUSH: not offered");
		return;
	}
	st = one(v, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
	if (st >= 0)
		report(st == VIRTIO_BLK_S_OK, "FLUSH: status %d", st);
}

/*
 * DISCARD or WRITE_ZEROES of up to ZERO_RANGES ranges in one request, one
 * range in each quarter of the disk; the ranges then must read as zeroes.
 */
static void check_zeroing(struct verify *v, uint32_t type, const char *name,
			  uint32_t max_sectors, uint32_t max_seg)
{
	struct virtio_blk_discard_write_zeroes *seg = (void *)v->slots[0].buf;
	uint64_t zone = v->sectors / ZERO_RANGES;
	unsigned int n = max_seg < ZERO_RANGES ? max_seg : ZERO_RANGES;
	int st;

	if (!n || !max_sectors || !zone) {
		report_skip("%s: device limits allow no request", name);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = 1 + vw_rand(&v->rng) % 256;

		if (len > max_sectors)
			len = max_sectors;
		if (len > zone)
			len = (uint32_t)zone;
		seg[i] = (struct virtio_blk_discard_write_zeroes){
			.sector =
				i * zone + vw_rand(&v->rng) % (zone - len + 1),
			.num_sectors = len,
		};
	}
	st = one(v, type, 0, seg, n * sizeof(*seg));
	if (st < 0)
		return;
	if (report(st == VIRTIO_BLK_S_OK, "%s of %u ranges: status %d", name, n,
		   st))
		for (unsigned int i = 0; i < n; i++)
			for (uint32_t k = 0; k < seg[i].num_sectors; k++) {
				uint8_t *g = v->gen + seg[i].sector + k;

				/* Discard: old data or zeroes, both fine. */
				*g = type == VIRTIO_BLK_T_DISCARD
					     ? *g | GEN_OR_ZERO
					     : GEN_ZERO;
			}
}

/* --- Set-up and the story ------------------------------------------------ */

static int params(struct verify *v, const char *args, uint64_t *queues,
		  uint64_t *qsize)
{
	uint64_t depth, maxsec, ring;

	if (vw_mode(args) < 0 || vw_ring(args, &ring) ||
	    kv_get_u64(args, "queues", 1, queues) == -2 ||
	    kv_get_u64(args, "depth", 8, &depth) == -2 ||
	    kv_get_u64(args, "qsize", 128, qsize) == -2 ||
	    kv_get_u64(args, "maxsec", 128, &maxsec) == -2 ||
	    kv_get_u64(args, "passes", 0, &v->passes) == -2 || !*queues ||
	    !depth || depth > MAX_DEPTH || *qsize < 4 || *qsize > 32768 ||
	    !maxsec || maxsec > 2048 || v->passes > MAX_PASSES ||
	    (kv_get(args, "passes", NULL, 0) >= 0 && !v->passes)) {
		printf("ERROR: blk-verify: queues>=1, depth 1..64, qsize "
		       "4..32768, maxsec 1..2048, passes 1..1000000\n");
		return -1;
	}
	v->stall_ns = vw_stall(args);
	if (!v->stall_ns)
		return -1;
	v->depth = (unsigned int)depth;
	v->maxsec = (unsigned int)maxsec;
	kv_get_bool(args, "verbose", false, &v->verbose);
	kv_get_bool(args, "verify", true, &v->verify);
	return 0;
}

/* Depth and segments so that direct chains always fit the ring. */
static void shape(struct verify *v)
{
	unsigned int qsize = v->blk.vq[0].num, segs = BLK_MAX_SEGS;

	if (v->depth > qsize / 3)
		v->depth = qsize / 3 ? qsize / 3 : 1;
	if (segs > qsize / v->depth - 2)
		segs = qsize / v->depth - 2;
	if (v->blk.seg_max && segs > v->blk.seg_max)
		segs = v->blk.seg_max;
	v->max_segs = segs ? segs : 1;
}

static bool alloc_all(struct verify *v)
{
	unsigned int n = v->blk.nq * v->depth;
	uint64_t room = dma_free_bytes();
	uint64_t bufs = (uint64_t)n * v->maxsec * VIRTIO_BLK_SECTOR_SIZE;

	v->sectors = v->blk.capacity;
	if (bufs + n * sizeof(struct slot) + 4096 > room)
		return false;
	room -= bufs + n * sizeof(struct slot) + 4096;
	if (v->sectors > room / 2) {
		v->sectors = room / 2;
		report_info("verifying the first %llu of %llu sectors (guest "
			    "RAM)",
			    (unsigned long long)v->sectors,
			    (unsigned long long)v->blk.capacity);
	}
	v->slots = dma_alloc(n * sizeof(struct slot), 64);
	v->gen = dma_alloc(v->sectors, 64);
	if (!v->slots || !v->gen)
		return false;
	memset(v->slots, 0, n * sizeof(struct slot));
	for (unsigned int i = 0; i < n; i++) {
		v->slots[i].buf = dma_alloc(
			(uint64_t)v->maxsec * VIRTIO_BLK_SECTOR_SIZE, 4096);
		if (!v->slots[i].buf)
			return false;
	}
	return true;
}

static bool open_dev(struct verify *v, const struct vio_dev *found,
		     uint64_t queues, uint64_t qsize)
{
	int err = blk_open(&v->blk, found, (unsigned int)queues,
			   (unsigned int)qsize, 0);

	if (!err && vw_ring_check(&v->blk.vio, found->ring_wanted)) {
		v->skipped = true;
		return false;
	}
	if (!report(!err, "set up: %s", err ? v->blk.vio.error : "ok"))
		return false;
	report_info("features %#llx, %llu sectors, %u of %u queues of %u, "
		    "seg_max %u",
		    (unsigned long long)v->blk.vio.features,
		    (unsigned long long)v->blk.capacity, v->blk.nq,
		    v->blk.num_queues, v->blk.vq[0].num, v->blk.seg_max);
	if (queues > v->blk.nq)
		report_info("queues=%llu asked, the device has %u",
			    (unsigned long long)queues, v->blk.num_queues);
	if (!v->blk.capacity)
		return report(false, "the disk has no sectors");
	return true;
}

static void story(struct verify *v)
{
	uint64_t overwrite = v->sectors / v->maxsec + 16;

	if (!v->verify)
		report_info("verify=0: what reads return is not compared");
	check_get_id(v);
	v->cur_gen = 1;
	if (v->dead || !run_phase(v, PH_WRITE_ALL, "write all"))
		return;
	v->cur_gen = 2;
	v->left = overwrite;
	if (!run_phase(v, PH_OVERWRITE, "overwrite random ranges"))
		return;
	check_flush(v);
	if (v->dead)
		return;
	if (vio_has(&v->blk.vio, VIRTIO_BLK_F_DISCARD))
		check_zeroing(v, VIRTIO_BLK_T_DISCARD, "DISCARD",
			      v->blk.max_discard_sectors,
			      v->blk.max_discard_seg);
	else
		report_skip("DISCARD: not offered");
	if (v->dead)
		return;
	if (vio_has(&v->blk.vio, VIRTIO_BLK_F_WRITE_ZEROES))
		check_zeroing(v, VIRTIO_BLK_T_WRITE_ZEROES, "WRITE_ZEROES",
			      v->blk.max_write_zeroes_sectors,
			      v->blk.max_write_zeroes_seg);
	else
		report_skip("WRITE_ZEROES: not offered");
	if (!v->dead && run_phase(v, PH_READ_ALL, "read all back"))
		check_past_end(v);
}

/* passes=N: write everything, read everything back, N times over. */
static void story_passes(struct verify *v)
{
	char what[64];

	check_get_id(v);
	for (uint64_t p = 0; p < v->passes && !v->dead; p++) {
		/* Consecutive passes always differ in generation. */
		v->cur_gen = (uint8_t)(3 + p % PASS_GENS);
		snprintf(what, sizeof(what), "pass %llu/%llu: write all",
			 (unsigned long long)p + 1,
			 (unsigned long long)v->passes);
		if (!run_phase(v, PH_WRITE_ALL, what))
			return;
		if (vio_has(&v->blk.vio, VIRTIO_BLK_F_FLUSH))
			check_flush(v);
		snprintf(what, sizeof(what), "pass %llu/%llu: read all back",
			 (unsigned long long)p + 1,
			 (unsigned long long)v->passes);
		if (v->dead || !run_phase(v, PH_READ_ALL, what))
			return;
	}
	if (!v->dead)
		check_past_end(v);
}

/* Verifies one device; false when it failed. */
static bool verify_dev(struct verify *v, const struct vio_dev *found,
		       const char *args, uint64_t queues, uint64_t qsize)
{
	unsigned int fails = report_failures();

	if (!open_dev(v, found, queues, qsize))
		return false;
	shape(v);
	if (report(alloc_all(v),
		   "buffers for %u x %u requests of %u sectors (%llu "
		   "KiB of guest RAM free)",
		   v->blk.nq, v->depth, v->maxsec,
		   (unsigned long long)dma_free_bytes() >> 10) &&
	    !vw_wait_start(&v->wait, vw_mode(args), &v->blk.vio)) {
		if (v->passes)
			story_passes(v);
		else
			story(v);
		vw_wait_end(&v->wait);
	}
	if (v->blk.vio.watch.reads)
		report_info("Status read %llu times while waiting",
			    (unsigned long long)v->blk.vio.watch.reads);
	return report_failures() == fails;
}

static void print_json(uint64_t passes, int ndev, int failed, uint64_t written,
		       uint64_t verified)
{
	static struct json j;

	json_begin(&j);
	json_str(&j, "workload", "blk-verify");
	json_u64(&j, "passes", passes);
	json_u64(&j, "devices", (uint64_t)ndev);
	json_u64(&j, "devices_failed", (uint64_t)failed);
	json_u64(&j, "bytes_written", written);
	json_u64(&j, "bytes_verified", verified);
	report(!json_print(&j), "the results fit one JSON line");
}

int blk_verify_main(const char *args)
{
	static struct verify v;
	static struct vio_dev found[MAX_DEVS];
	uint64_t queues, qsize, passes, written = 0, verified = 0, ring;
	int ndev, failed = 0, skipped = 0;
	char name[16];

	memset(&v, 0, sizeof(v));
	if (params(&v, args, &queues, &qsize))
		return WORKLOAD_BAD_REQUEST;
	passes = v.passes;
	report_prefix_push("blk-verify");
	ndev = vw_find_all(VIRTIO_ID_BLOCK, "blk", found, MAX_DEVS);
	vw_ring(args, &ring);
	for (int i = 0; i < ndev; i++) {
		uint64_t mark = dma_mark();
		bool ok;

		memset(&v, 0, sizeof(v));
		params(&v, args, &queues, &qsize);
		v.rng = 0x2545f491;
		if (ndev > 1) {
			snprintf(name, sizeof(name), "dev%d", i);
			report_prefix_push(name);
		}
		report_info("virtio-mmio@%llx, irq %u, vendor %#x",
			    (unsigned long long)found[i].base, found[i].irq,
			    found[i].vendor_id);
		found[i].ring_wanted = ring;
		ok = verify_dev(&v, &found[i], args, queues, qsize);
		skipped += v.skipped;
		failed += !ok && !v.skipped;
		written += v.written;
		verified += v.verified;
		report_info("virtio-mmio@%llx: %llu bytes written, %llu bytes "
			    "verified%s",
			    (unsigned long long)found[i].base,
			    (unsigned long long)v.written,
			    (unsigned long long)v.verified,
			    ok		? ""
			    : v.skipped ? " (skipped)"
					: " (FAILED)");
		/* The device's rings and buffers go back only once it is
		 * reset: until then it could still write them. */
		if (vio_reset(&v.blk.vio))
			dma_release(mark);
		if (ndev > 1)
			report_prefix_pop();
	}
	if (ndev > skipped)
		print_json(passes, ndev, failed, written, verified);
	report_prefix_pop();
	return report_summary();
}
