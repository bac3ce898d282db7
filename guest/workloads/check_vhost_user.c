// SPDX-License-Identifier: MIT
/*
 * vuvm-check's vhost-user scenarios, on a blk device: what a backend must
 * do with the memory table vuvm hands it, and across the stop, reset and
 * restart of its rings (the checks are in guest/check/catalogue.def).
 *
 * vu-mem-regions runs under vuvm --mem-regions 4: guest RAM is four
 * memfds, each mapped from offset 2 MiB of its fd (a non-zero
 * mmap_offset), and the device tree lists the four ranges. Requests put
 * their header, data and status byte across the boundary between two
 * ranges (a backend must split such a buffer: its two halves are not
 * adjacent in the backend's address space), and one request's buffers
 * into each range. Buffers are placed by address in free RAM past the
 * allocator's mark, which nothing else uses afterwards.
 *
 * vu-mem-max runs under vuvm --mem-regions 8, the most SET_MEM_TABLE
 * carries: one request's buffers in each range.
 *
 * vu-reset starts the device with EVENT_IDX, makes requests, kicks eight
 * reads and resets it at once (vuvm then sends SET_VRING_ENABLE 0,
 * GET_VRING_BASE and RESET_DEVICE), refills every buffer of those
 * requests, and starts it again without EVENT_IDX on rings the driver
 * cleared: the backend must serve them from index 0, must not keep using
 * the feature the new negotiation dropped (it writes no avail_event,
 * which the driver fills with a canary), and must never write into the
 * buffers from before the reset.
 *
 * vu-stop runs under vuvm --check-port: the guest asks vuvm for protocol
 * steps through I/O port 0xf6 (vhost_user_dev.h, vudev_step) and watches
 * its ring between them: SET_VRING_ENABLE 0 then 1 on one ring; a stop
 * (SET_VRING_ENABLE 0, GET_VRING_BASE) right after a kick, the raw base
 * compared with the used index vuvm read right after the reply, and the
 * ring watched for 300 ms with new requests kicked; a start from that
 * base; a second stop and a start that sends SET_VRING_KICK before
 * SET_VRING_CALL. Every step's NEED_REPLY requests must be acked with 0.
 *
 * vu-mem-hotplug runs under vuvm --check-port too: vuvm adds 1 MiB
 * ranges of fresh memory at guest-physical addresses the step returns
 * (in the hole below 4 GiB, which the boot identity map covers), each a
 * KVM memory slot for the guest and an ADD_MEM_REG for the backend, and
 * removes or replaces them on request (REM_MEM_REG, then ADD_MEM_REG of a
 * copy in another memfd). Requests with their header, data and status in
 * a range just added, then in the same range once replaced (a backend
 * that kept the old mapping reads stale bytes and writes where the guest
 * no longer looks), then ranges up to what GET_MAX_MEM_SLOTS reported.
 *
 * The memory checks read every write back and compare it; the lifecycle
 * ones judge completions and statuses only (so that a null device, which
 * drops writes, is judged on its protocol). Requests are polled.
 */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "arch/x86_64/io.h"
#include "lib/devtree.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"

#define QSIZE	     64
#define SECTOR	     512
#define DATA	     4096
#define MAX_RANGES   16
#define CANARY_EVENT 0xa5c3
#define VQ	     0

struct vu {
	struct vio_dev vio;
	struct virtq vq;
	uint64_t stall_ns;
	char broken[VIO_ERROR_LEN];
	uint8_t *expect; /* DATA bytes: what a read must return */
	bool verify;	 /* compare what reads return (memory checks) */
	uint32_t seed;
};

/* Where one request's parts go, and how the header is cut. */
struct place {
	uint8_t *hdr;	  /* 16 bytes */
	unsigned int cut; /* header in two descriptors at this byte (0: one) */
	uint8_t *data;	  /* DATA bytes */
	uint8_t *status;  /* 1 byte, or NULL: the last byte after the data */
};

/* --- Requests ---------------------------------------------------------- */

static uint16_t used_idx(const struct vu *c)
{
	return __atomic_load_n(&c->vq.used->idx, __ATOMIC_ACQUIRE);
}

/* Waits for one used entry; 0, or -1 with c->broken. */
static int await(struct vu *c)
{
	uint64_t start = time_ns(), now;

	vio_watch(&c->vio, start, true);
	while (used_idx(c) == c->vq.last_used) {
		now = time_ns();
		if (now - start > c->stall_ns) {
			snprintf(
				c->broken, sizeof(c->broken),
				"a request did not complete within %llu s",
				(unsigned long long)(c->stall_ns / 1000000000));
			return -1;
		}
		if (vio_watch(&c->vio, now, false)) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 c->vio.error);
			return -1;
		}
	}
	return 0;
}

/* Makes one blk request of @type on @sector, laid out as @p, available
 * (no kick); 0, or -1 with c->broken. */
static int submit(struct vu *c, uint32_t type, uint64_t sector,
		  const struct place *p)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	struct virtq_buf b[4];
	unsigned int n = 0, out;
	uint8_t *status = p->status ? p->status : p->data + DATA;

	if (c->broken[0])
		return -1;
	memcpy(p->hdr, &h, sizeof(h));
	if (p->cut) {
		b[n++] = (struct virtq_buf){ dma_addr(p->hdr), p->cut };
		b[n++] = (struct virtq_buf){ dma_addr(p->hdr + p->cut),
					     16 - p->cut };
	} else {
		b[n++] = (struct virtq_buf){ dma_addr(p->hdr), 16 };
	}
	if (type == VIRTIO_BLK_T_OUT)
		b[n++] = (struct virtq_buf){ dma_addr(p->data), DATA };
	out = n;
	*status = 0xee;
	if (type == VIRTIO_BLK_T_OUT || p->status)
		b[n++] = (struct virtq_buf){ dma_addr(status), 1 };
	if (type == VIRTIO_BLK_T_IN)
		b[n++] = (struct virtq_buf){ dma_addr(p->data),
					     DATA + !p->status };
	if (type == VIRTIO_BLK_T_IN && p->status) {
		/* data, then status: swap the last two */
		struct virtq_buf t = b[n - 1];

		b[n - 1] = b[n - 2];
		b[n - 2] = t;
	}
	if (virtq_add(&c->vq, b, out, n - out, status)) {
		snprintf(c->broken, sizeof(c->broken), "cannot add: %s",
			 virtq_error(&c->vq));
		return -1;
	}
	return 0;
}

/* Waits for the next completion; its status byte, or -1 with c->broken.
 */
static int complete(struct vu *c)
{
	uint32_t len;
	void *tok;

	if (await(c))
		return -1;
	if (virtq_get_used(&c->vq, &tok, &len) != 1) {
		snprintf(c->broken, sizeof(c->broken), "%s",
			 virtq_error(&c->vq));
		return -1;
	}
	return *(uint8_t *)tok;
}

/* One request, kicked and waited for: its status, or -1. */
static int request(struct vu *c, uint32_t type, uint64_t sector,
		   const struct place *p)
{
	if (submit(c, type, sector, p))
		return -1;
	vio_kick(&c->vio, VQ, &c->vq);
	return complete(c);
}

/* Writes a fresh pattern through @w and reads it back through @r; judges
 * the case in @a, described by @what. */
static void write_read(struct vu *c, struct check_acc *a, uint64_t sector,
		       const struct place *w, const struct place *r,
		       const char *what)
{
	int s;

	for (unsigned int i = 0; i < DATA; i++)
		c->expect[i] = w->data[i] = (uint8_t)vw_rand(&c->seed);
	s = request(c, VIRTIO_BLK_T_OUT, sector, w);
	if (!check_expect(a, s == VIRTIO_BLK_S_OK, "the write to complete OK",
			  "%s: %s", what, s < 0 ? c->broken : "status not OK"))
		return;
	memset(r->data, 0x5a, DATA);
	s = request(c, VIRTIO_BLK_T_IN, sector, r);
	if (!check_expect(a, s == VIRTIO_BLK_S_OK, "the read to complete OK",
			  "%s: %s (status %d)", what,
			  s < 0 ? c->broken : "status not OK", s))
		return;
	for (unsigned int i = 0; i < DATA && c->verify; i++)
		if (r->data[i] != c->expect[i]) {
			check_expect(a, false, "the data read back intact",
				     "%s: byte %u of %u differs", what, i,
				     DATA);
			return;
		}
	check_expect(a, true, "the data read back intact", "%s", what);
}

/* --- Starting the device -------------------------------------------------
 */

static int open_dev(struct vu *c, uint64_t wanted, bool event_canary)
{
	int err = vio_begin(&c->vio, wanted);

	if (!err)
		err = vio_queue_setup(&c->vio, VQ, &c->vq, QSIZE, 0);
	if (err)
		return err;
	virtq_disable_cb(&c->vq);
	if (event_canary)
		*virtq_avail_event(c->vq.used, c->vq.num) = CANARY_EVENT;
	return vio_driver_ok(&c->vio);
}

static struct vu *start(const char *args, uint64_t wanted)
{
	static struct vu c;
	struct vio_dev found;

	c.stall_ns = vw_stall(args);
	if (!c.stall_ns || vw_find(VIRTIO_ID_BLOCK, "blk", &found))
		return NULL;
	c.vio = found;
	c.seed = 0x1234567;
	c.expect = dma_alloc(DATA, 64);
	if (!c.expect || open_dev(&c, wanted, false)) {
		report(false, "blk: cannot start the device: %s", c.vio.error);
		return NULL;
	}
	return &c;
}

static int finish(struct vu *c)
{
	if (c)
		vio_reset(&c->vio);
	return report_summary();
}

/* --- vu-mem-regions -------------------------------------------------------
 */

/* The RAM ranges past @from (the allocator's mark), in order; how many. */
static int free_ranges(uint64_t from, struct dt_range *r)
{
	int n = dt_memory(r, MAX_RANGES), k = 0;

	for (int i = 0; i < n && i < MAX_RANGES; i++)
		if (r[i].base + r[i].size > from + 2 * 65536)
			r[k++] = r[i];
	return k;
}

/* Header, data and status across boundary @b, one at a time and all. */
static void check_straddle(struct vu *c, uint8_t *b)
{
	struct check_acc a = { 0 };
	/* Away from the boundary: 16 KiB before it and 16 KiB after. */
	uint8_t *lo = b - 16384, *hi = b + 8192;
	struct place w, r;

	for (unsigned int cut = 1; cut < 16; cut += 7) {
		w = (struct place){ b - 8, 0, lo, hi };
		r = (struct place){ b - cut, cut, lo + DATA + 64, NULL };
		write_read(c, &a, 8, &w, &r, "header across the boundary");
	}
	w = (struct place){ hi, 0, b - 1001, hi + 64 };
	r = (struct place){ hi + 128, 0, b - 3 * 1024 + 7, hi + 192 };
	write_read(c, &a, 16, &w, &r, "data across the boundary");
	/* One writable descriptor of data + status, its last byte at b. */
	w = (struct place){ lo, 0, lo + 64, lo + 64 + DATA };
	r = (struct place){ hi, 0, b - DATA, NULL };
	write_read(c, &a, 24, &w, &r, "status byte past the boundary");
	check_done(CK_VU_MEM_STRADDLE, &a);
}

static void check_each_region(struct vu *c, const struct dt_range *r, int n,
			      uint64_t from, enum check_id id)
{
	struct check_acc a = { 0 };

	for (int i = 0; i < n; i++) {
		uint64_t at = r[i].base > from ? r[i].base : from;
		uint8_t *p = (uint8_t *)(uintptr_t)((at + 65536) & ~4095ull);
		struct place w = { p, 0, p + 64, p + 64 + DATA + 1 };
		struct place rd = { p + 2 * DATA, 0, p + 3 * DATA, NULL };
		char what[48];

		snprintf(what, sizeof(what), "buffers in RAM range %d", i);
		write_read(c, &a, 64 + 8 * (uint64_t)i, &w, &rd, what);
	}
	check_done(id, &a);
}

int check_vu_mem_regions(const char *args)
{
	struct vu *c = start(args, 0);
	struct dt_range r[MAX_RANGES];
	uint64_t from;
	int n;

	if (!c)
		return finish(c);
	c->verify = true;
	from = dma_mark();
	n = free_ranges(from, r);
	if (n < 2) {
		check_skip(CK_VU_MEM_STRADDLE,
			   "guest RAM is one range (vuvm --mem-regions)");
		check_skip(CK_VU_MEM_OFFSET,
			   "guest RAM is one range (vuvm --mem-regions)");
		return finish(c);
	}
	report_info("%d RAM ranges past %#llx, the first boundary at %#llx", n,
		    (unsigned long long)from, (unsigned long long)r[1].base);
	/* The rings are in the first range: each range's own request
	 * first, then the boundaries. */
	check_each_region(c, r, n, from, CK_VU_MEM_OFFSET);
	check_straddle(c, (uint8_t *)(uintptr_t)r[1].base);
	return finish(c);
}

/* vu-mem-max: RAM as eight ranges (vuvm --mem-regions 8), a write and a
 * read back with buffers in each range the allocator left free. */
int check_vu_mem_max(const char *args)
{
	struct vu *c = start(args, 0);
	struct dt_range r[MAX_RANGES];
	uint64_t from;
	int total, n;

	if (!c)
		return finish(c);
	c->verify = true;
	total = dt_memory(r, MAX_RANGES);
	if (total < 8) {
		check_skip(CK_VU_MEM_MAX, "guest RAM is fewer than eight "
					  "ranges (vuvm --mem-regions 8)");
		return finish(c);
	}
	from = dma_mark();
	n = free_ranges(from, r);
	report_info("%d RAM ranges, %d of them past %#llx", total, n,
		    (unsigned long long)from);
	check_each_region(c, r, n, from, CK_VU_MEM_MAX);
	return finish(c);
}

/* --- vu-reset ---------------------------------------------------------------
 */

/* @n write+read pairs at scratch buffers; judged in @a. */
static void traffic(struct vu *c, struct check_acc *a, unsigned int n,
		    uint8_t *buf, const char *what)
{
	struct place w = { buf, 0, buf + 64, buf + 64 + DATA + 1 };
	struct place r = { buf + 2 * DATA, 0, buf + 3 * DATA, NULL };

	for (unsigned int i = 0; i < n; i++)
		write_read(c, a, 8 * (uint64_t)i, &w, &r, what);
}

#define LATE_READS    8
#define LATE_SLOT     (DATA + 128) /* a read's data and status, and a gap */
#define LATE_BYTES    (LATE_READS * LATE_SLOT + 4 * DATA)
#define LATE_FILL     0xc3
#define LATE_WATCH_NS 100000000ull

/* LATE_READS reads into @old kicked, not waited for: the reset comes
 * while they may still be in flight. */
static void reads_in_flight(struct vu *c, uint8_t *old)
{
	for (unsigned int i = 0; i < LATE_READS; i++) {
		struct place p = { old + LATE_READS * LATE_SLOT + i * 32, 0,
				   old + i * LATE_SLOT, NULL };

		if (submit(c, VIRTIO_BLK_T_IN, 8 * (uint64_t)i, &p))
			return;
	}
	vio_kick(&c->vio, VQ, &c->vq);
}

/* Where the @n bytes at @p first differ from the driver's fill (@n when
 * nowhere), and the byte found there in *@v. */
static size_t first_changed(const uint8_t *p, size_t n, uint8_t *v)
{
	size_t at = 0;

	while (at < n && p[at] == LATE_FILL)
		at++;
	*v = at < n ? p[at] : LATE_FILL;
	return at;
}

/* After the restart: the buffers of every request made before the reset
 * (@buf: the first traffic, @old: the reads in flight) as the driver
 * refilled them once the reset read as complete. */
static void check_no_late_write(struct check_acc *a, const uint8_t *buf,
				const uint8_t *old)
{
	uint64_t t0 = time_ns();
	size_t at;
	uint8_t v;

	while (time_ns() - t0 < LATE_WATCH_NS)
		;
	at = first_changed(buf, 4 * DATA + 64, &v);
	check_expect(a, at == 4 * DATA + 64,
		     "the earlier requests' buffers untouched",
		     "byte %zu of the first requests' buffers is 0x%02x", at,
		     v);
	at = first_changed(old, LATE_BYTES, &v);
	check_expect(a, at == LATE_BYTES,
		     "the buffers of the reads in flight untouched",
		     "byte %zu of theirs is 0x%02x after the restart", at, v);
}

/* Once the reset read as complete: every buffer of the requests made
 * before it refilled, then the device started again (without EVENT_IDX,
 * a canary in avail_event). */
static int refill_and_open(struct vu *c, uint8_t *buf, uint8_t *old)
{
	memset(buf, LATE_FILL, 4 * DATA + 64);
	memset(old, LATE_FILL, LATE_BYTES);
	return open_dev(c, 0, true);
}

int check_vu_reset(const char *args)
{
	struct vu *c = start(args, VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	struct check_acc before = { 0 }, restart = { 0 }, feat = { 0 },
			 late = { 0 };
	uint8_t *buf = dma_alloc(4 * DATA + 64, 64);
	uint8_t *old = dma_alloc(LATE_BYTES, 64);
	uint8_t *fresh = dma_alloc(4 * DATA + 64, 64);
	uint16_t ev;
	int err;

	if (!c || !buf || !old || !fresh)
		return finish(c);
	traffic(c, &before, 4, buf, "before the reset");
	if (before.failed) {
		report(false,
		       "vu-reset: the device fails before any reset: "
		       "expected %s; got %s",
		       before.expected, before.got);
		return finish(c);
	}
	reads_in_flight(c, old);
	if (!vio_reset(&c->vio)) {
		check_expect(&restart, false, "the reset to complete",
			     "Status did not read 0 within 100 ms");
	} else if ((err = refill_and_open(c, buf, old)) != 0) {
		check_expect(&restart, false, "the device to start again",
			     "%s (%d)", c->vio.error, err);
	} else {
		traffic(c, &restart, 6, fresh, "after the reset");
		check_no_late_write(&late, buf, old);
		check_expect(&restart, !c->broken[0] && used_idx(c) == 12,
			     "the used index at 12 after 12 requests", "%u",
			     used_idx(c));
		ev = *virtq_avail_event(c->vq.used, c->vq.num);
		if (restart.failed)
			check_expect(&feat, false,
				     "the restarted device to serve requests",
				     "%s", restart.got);
		check_expect(&feat, ev == CANARY_EVENT,
			     "avail_event untouched without EVENT_IDX",
			     "0x%04x, the driver wrote 0x%04x", ev,
			     CANARY_EVENT);
	}
	if (restart.failed && !late.cases)
		check_expect(&late, false, "the device to start again", "%s",
			     restart.got);
	check_done(CK_VU_RESET_RESTART, &restart);
	check_done(CK_VU_FEATURES_RENEGOTIATED, &feat);
	check_done(CK_VU_RESET_NO_LATE_WRITE, &late);
	return finish(c);
}

/* --- vu-stop ----------------------------------------------------------------
 */

#define WATCH_NS 300000000ull /* how long a stopped ring is watched */

/* The check port: one step of the protocol on device 0 (the only one
 * vuvm-check attaches); its result (negative errno on failure). */
struct port {
	uint16_t io;
	int32_t results[8]; /* of the steps that must succeed */
	const char *names[8];
	unsigned int n;
};

static int32_t step(struct port *pt, unsigned int op, unsigned int arg)
{
	outl(pt->io, op | arg << 16);
	return (int32_t)inl(pt->io);
}

/* A step that must succeed, kept for the REPLY_ACK check. */
static int32_t must_step(struct port *pt, unsigned int op, unsigned int arg,
			 const char *name)
{
	int32_t r = step(pt, op, arg);

	if (pt->n < 8) {
		pt->results[pt->n] = r;
		pt->names[pt->n++] = name;
	}
	return r;
}

enum {
	STEP_STOP = 1,
	STEP_START,
	STEP_BASE,
	STEP_USED,
	STEP_ENABLE,
	STEP_DISABLE,
	STEP_ORDER,
	STEP_MEM_SLOTS = 16,
	STEP_MEM_ADD,
	STEP_MEM_REMOVE,
	STEP_MEM_REPLACE,
};

/* Whether the used index stays at @at for WATCH_NS. */
static bool stays(struct vu *c, uint16_t at)
{
	uint64_t t0 = time_ns();

	while (time_ns() - t0 < WATCH_NS)
		if (used_idx(c) != at)
			return false;
	return true;
}

/* Submits @n writes and kicks; 0 or -1. */
static int writes(struct vu *c, unsigned int n, uint8_t *buf)
{
	for (unsigned int i = 0; i < n; i++) {
		struct place w = { buf + i * 128, 0, buf + 1024,
				   buf + i * 128 + 64 };

		if (submit(c, VIRTIO_BLK_T_OUT, 8 * (uint64_t)i, &w))
			return -1;
	}
	vio_kick(&c->vio, VQ, &c->vq);
	return 0;
}

/* Takes @n completions: all OK, none more for a while. */
static void collect(struct vu *c, struct check_acc *a, unsigned int n,
		    const char *when)
{
	for (unsigned int i = 0; i < n; i++) {
		int s = complete(c);

		if (!check_expect(a, s == VIRTIO_BLK_S_OK,
				  "every request to complete OK", "%s: %s",
				  when, s < 0 ? c->broken : "a status not OK"))
			return;
	}
	check_expect(a, stays(c, used_idx(c)) && c->vq.in_flight == 0,
		     "each request completed once",
		     "%s: more completions than requests", when);
}

static void check_disable(struct vu *c, struct port *pt, uint8_t *buf)
{
	struct check_acc a = { 0 };
	uint16_t at = used_idx(c);
	bool still;

	if (must_step(pt, STEP_DISABLE, 0, "SET_VRING_ENABLE 0") ||
	    writes(c, 2, buf)) {
		check_expect(&a, false, "the ring disabled",
			     "the step failed%s%s", c->broken[0] ? ": " : "",
			     c->broken);
		check_done(CK_VU_ENABLE, &a);
		return;
	}
	still = stays(c, at);
	check_expect(&a, still, "no request served while disabled",
		     "the used index moved %u -> %u", at, used_idx(c));
	must_step(pt, STEP_ENABLE, 0, "SET_VRING_ENABLE 1");
	vio_notify(&c->vio, VQ);
	collect(c, &a, 2, "after SET_VRING_ENABLE 1");
	check_done(CK_VU_ENABLE, &a);
}

/* Stops with a request just kicked; judges the stop and the base. */
static void check_stop(struct vu *c, struct port *pt, uint8_t *buf)
{
	struct check_acc stop = { 0 }, base = { 0 }, restart = { 0 };
	uint16_t avail, used, b;
	bool still;
	int32_t r;

	/* Eight requests just kicked: a backend that takes them and answers
	 * before completing them is caught completing them afterwards. */
	writes(c, 8, buf);
	avail = c->vq.avail_idx;
	r = must_step(pt, STEP_STOP, 0, "SET_VRING_ENABLE 0, GET_VRING_BASE");
	used = (uint16_t)step(pt, STEP_USED, 0);
	b = (uint16_t)step(pt, STEP_BASE, 0);
	writes(c, 2, buf + 2 * DATA);
	still = r == 0 && stays(c, used);
	if (check_expect(&stop, r == 0, "the stop to succeed", "%d", r))
		check_expect(&stop, still,
			     "the used index still after the GET_VRING_BASE "
			     "reply",
			     "it moved %u -> %u", used, used_idx(c));
	check_expect(&base, r == 0 && b == used,
		     "a base equal to the used index at the reply",
		     "base %u, used index %u (avail index %u)", b, used, avail);
	check_expect(&base, (uint16_t)(avail - b) <= 8,
		     "a base within the requests made available",
		     "base %u, avail index %u before the stop", b, avail);
	check_done(CK_VU_STOP_STILL, &stop);
	check_done(CK_VU_STOP_BASE, &base);
	r = must_step(pt, STEP_START, 0, "start from the base");
	if (check_expect(&restart, r == 0, "the rings restarted",
			 "the start failed (%d)", r))
		collect(c, &restart, c->vq.in_flight, "after the restart");
	check_expect(&restart, used_idx(c) == c->vq.avail_idx,
		     "every request made available completed, once",
		     "used index %u, avail index %u", used_idx(c),
		     c->vq.avail_idx);
	check_done(CK_VU_RESTART, &restart);
}

/* A restart, then (after the REPLY_ACK check, since a backend may drop
 * the connection here) a fresh start after the driver's reset, both with
 * SET_VRING_KICK before SET_VRING_CALL. */
static void check_kick_first(struct vu *c, struct port *pt, uint8_t *buf)
{
	struct check_acc a = { 0 };
	int32_t r = must_step(pt, STEP_STOP, 0, "a second stop");
	int err;

	if (r == 0) {
		writes(c, 1, buf);
		r = must_step(pt, STEP_START, 1, "SET_VRING_KICK before CALL");
	}
	if (!check_expect(&a, r == 0,
			  "a restart with the kick fd first accepted",
			  "it failed (%d)", r))
		goto out;
	collect(c, &a, c->vq.in_flight, "restarted with the kick fd first");
	traffic(c, &a, 1, buf, "restarted with the kick fd first");
	step(pt, STEP_ORDER, 1);
	if (!vio_reset(&c->vio))
		check_expect(&a, false, "the reset to complete",
			     "Status did not read 0 within 100 ms");
	else if ((err = open_dev(c, 0, false)) != 0)
		check_expect(&a, false,
			     "a fresh start with the kick fd first accepted",
			     "%s (%d)", c->vio.error, err);
	else
		traffic(c, &a, 2, buf, "started afresh with the kick fd first");
	step(pt, STEP_ORDER, 0);
out:
	check_done(CK_VU_KICK_FIRST, &a);
}

static void check_acks(struct port *pt)
{
	struct check_acc a = { 0 };

	for (unsigned int i = 0; i < pt->n; i++)
		check_expect(&a, pt->results[i] == 0,
			     "every step's requests acked with 0",
			     "%s: %d (NEED_REPLY answered with a failure, or "
			     "not at all)",
			     pt->names[i], pt->results[i]);
	check_done(CK_VU_ACKS, &a);
}

int check_vu_stop(const char *args)
{
	static const enum check_id ids[] = { CK_VU_ENABLE,     CK_VU_STOP_STILL,
					     CK_VU_STOP_BASE,  CK_VU_RESTART,
					     CK_VU_KICK_FIRST, CK_VU_ACKS };
	struct port pt = { 0 };
	struct check_acc warm = { 0 };
	struct vu *c;
	uint8_t *buf;

	if (dt_io_port("vuvm,check-port", &pt.io)) {
		for (unsigned int i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			check_skip(ids[i], "vuvm has no check port "
					   "(--check-port)");
		return report_summary();
	}
	c = start(args, 0);
	buf = dma_alloc(4 * DATA, 64);
	if (!c || !buf)
		return finish(c);
	traffic(c, &warm, 2, buf, "before any step");
	if (warm.failed) {
		report(false,
		       "vu-stop: the device fails before any step: "
		       "expected %s; got %s",
		       warm.expected, warm.got);
		return finish(c);
	}
	check_disable(c, &pt, buf);
	check_stop(c, &pt, buf);
	check_acks(&pt);
	check_kick_first(c, &pt, buf);
	return finish(c);
}

/* --- vu-mem-hotplug ---------------------------------------------------------
 */

#define STEP_ENOTSUP (-95) /* the MEM steps without CONFIGURE_MEM_SLOTS */
#define HOT_MAX	     32	   /* ranges vuvm adds at most (VUDEV_MAX_HOT) */
#define HOT_STALE    0x3c  /* what a range holds when it is replaced */

/* A write and a read back with every part in the range at @p, then one
 * with only the data there (header and status in RAM at @ram). */
static void in_range(struct vu *c, struct check_acc *a, uint8_t *p,
		     uint8_t *ram, uint64_t sector, const char *what)
{
	struct place w = { p, 0, p + 64, p + 64 + DATA + 1 };
	struct place r = { p + 2 * DATA, 0, p + 3 * DATA, NULL };
	struct place w2 = { ram, 0, p + 4 * DATA, ram + 64 };
	struct place r2 = { ram + 128, 0, p + 5 * DATA, ram + 192 };

	write_read(c, a, sector, &w, &r, what);
	write_read(c, a, sector + 8, &w2, &r2, what);
}

/* The range a MEM_ADD step returned (its address in MiB). */
static uint8_t *hot_range(int32_t mib)
{
	return (uint8_t *)(uintptr_t)((uint64_t)mib << 20);
}

/* Range 0 added while the rings run, used at once; kept for the next
 * check. NULL when the step failed. */
static uint8_t *check_add(struct vu *c, struct port *pt, uint8_t *ram)
{
	struct check_acc a = { 0 };
	int32_t r = step(pt, STEP_MEM_ADD, 0);
	uint8_t *p = NULL;

	if (check_expect(&a, r > 0, "ADD_MEM_REG acked with 0",
			 "the step failed (%d)", r)) {
		p = hot_range(r);
		report_info("1 MiB added at %#llx",
			    (unsigned long long)dma_addr(p));
		in_range(c, &a, p, ram, 8, "buffers in the region just added");
	}
	check_done(CK_VU_MEM_ADD, &a);
	return p;
}

/* Range 0 (at @p) replaced by a copy in other memory, then used; then
 * removed, and the ring still served. */
static void check_replace(struct vu *c, struct port *pt, uint8_t *p,
			  uint8_t *ram)
{
	struct check_acc a = { 0 };
	int32_t r;

	if (!p) {
		check_expect(&a, false, "a region added to replace",
			     "ADD_MEM_REG failed");
		check_done(CK_VU_MEM_REM, &a);
		return;
	}
	/* What the old memory keeps: a header of an unknown type, data
	 * that is not the next write's, a status that is not OK. */
	memset(p, HOT_STALE, 6 * DATA);
	r = step(pt, STEP_MEM_REPLACE, 0);
	if (check_expect(&a, r == 0,
			 "REM_MEM_REG, then ADD_MEM_REG of other memory at the "
			 "same addresses, acked with 0",
			 "the step failed (%d)", r))
		in_range(c, &a, p, ram, 24,
			 "buffers where memory was removed and other added");
	r = step(pt, STEP_MEM_REMOVE, 0);
	check_expect(&a, r == 0, "REM_MEM_REG acked with 0",
		     "the step failed (%d)", r);
	traffic(c, &a, 1, ram, "in RAM after the region was removed");
	check_done(CK_VU_MEM_REM, &a);
}

/* As many ranges as the backend has slots beyond RAM's (at most
 * HOT_MAX), each used, then all removed. */
static void check_slots(struct vu *c, struct port *pt, int32_t slots,
			uint8_t *ram)
{
	struct check_acc a = { 0 };
	struct dt_range rr[MAX_RANGES];
	int32_t at[HOT_MAX];
	int ram_ranges = dt_memory(rr, MAX_RANGES);
	int want = slots - ram_ranges, n;
	char what[64];

	if (want < 1) {
		check_skip(CK_VU_MEM_SLOTS, "GET_MAX_MEM_SLOTS leaves no slot "
					    "beyond guest RAM's");
		return;
	}
	if (want > HOT_MAX)
		want = HOT_MAX;
	report_info("GET_MAX_MEM_SLOTS %d, %d RAM ranges: %d ranges added",
		    (int)slots, ram_ranges, want);
	for (n = 0; n < want; n++) {
		at[n] = step(pt, STEP_MEM_ADD, (unsigned int)n);
		if (!check_expect(&a, at[n] > 0,
				  "every ADD_MEM_REG up to the slots reported "
				  "acked with 0",
				  "region %d of %d (%d with RAM's, "
				  "GET_MAX_MEM_SLOTS %d): the step failed (%d)",
				  n + 1, want, n + 1 + ram_ranges, (int)slots,
				  (int)at[n]))
			break;
	}
	for (int k = 0; k < n && !a.failed; k++) {
		snprintf(what, sizeof(what), "buffers in added region %d of %d",
			 k + 1, n);
		in_range(c, &a, hot_range(at[k]), ram, 32 + 16 * (uint64_t)k,
			 what);
	}
	for (int k = 0; k < n; k++) {
		int32_t r = step(pt, STEP_MEM_REMOVE, (unsigned int)k);

		check_expect(&a, r == 0, "every REM_MEM_REG acked with 0",
			     "region %d: the step failed (%d)", k + 1, (int)r);
	}
	check_done(CK_VU_MEM_SLOTS, &a);
}

int check_vu_mem_hotplug(const char *args)
{
	static const enum check_id ids[] = { CK_VU_MEM_ADD, CK_VU_MEM_REM,
					     CK_VU_MEM_SLOTS };
	struct port pt = { 0 };
	struct check_acc warm = { 0 };
	const char *why = NULL;
	char reason[96];
	struct vu *c;
	uint8_t *ram, *p;
	int32_t slots;

	if (dt_io_port("vuvm,check-port", &pt.io))
		why = "vuvm has no check port (--check-port)";
	c = why ? NULL : start(args, 0);
	ram = dma_alloc(4 * DATA + 64, 64);
	if (!why && (!c || !ram))
		return finish(c);
	if (!why) {
		c->verify = true;
		slots = step(&pt, STEP_MEM_SLOTS, 0);
		if (slots == STEP_ENOTSUP)
			why = "the backend does not offer CONFIGURE_MEM_SLOTS";
		else if (slots <= 0) {
			snprintf(reason, sizeof(reason),
				 "vuvm cannot add memory (step: %d)",
				 (int)slots);
			why = reason;
		}
	}
	if (why) {
		for (unsigned int i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			check_skip(ids[i], why);
		return finish(c);
	}
	traffic(c, &warm, 1, ram, "before any step");
	if (warm.failed) {
		report(false,
		       "vu-mem-hotplug: the device fails before any step: "
		       "expected %s; got %s",
		       warm.expected, warm.got);
		return finish(c);
	}
	p = check_add(c, &pt, ram);
	check_replace(c, &pt, p, ram);
	check_slots(c, &pt, slots, ram);
	return finish(c);
}
