// SPDX-License-Identifier: MIT
/*
 * vuvm-check's packed-ring and IN_ORDER scenarios (blk): what a device
 * must do on a packed virtqueue (virtio 1.2, 2.8) and, with IN_ORDER, in
 * which order it uses buffers (the checks are in guest/check/catalogue.def).
 *
 * Here the guest drives the descriptor ring itself rather than through
 * virtq.c, so that it can shape everything a driver may: buffer ids chosen
 * out of slot order, stale ids in all but a chain's last descriptor (the
 * spec's own example driver writes the id there alone), chains that run
 * past the ring's last slot, indirect tables whose entries carry junk ids,
 * WRITE on an indirect descriptor (reserved there), rings whose size is
 * not a power of 2. It keeps a shadow of every slot as the driver wrote it
 * (and, once taken, as the device's used descriptor read), so that any
 * other write of the device into the ring shows; every buffer sits between
 * canaries, readable buffers and indirect tables are compared with copies.
 *
 * A device that does not offer RING_PACKED (or IN_ORDER, for the in-order
 * scenarios) has these checks skipped with that reason.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "check/chain.h"
#include "check/check.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/blk.h"
#include "virtio/irq.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"

#define PQ_MAX	 256 /* the largest ring driven here */
#define PQ_SIZE	 61  /* blk-packed: not a power of 2 */
#define IND_MAX	 64
#define MAX_BUFS 64
#define ARENA	 (256 * 1024)
#define SECTOR	 VIRTIO_BLK_SECTOR_SIZE
#define REGION	 256 /* sectors under test */
#define BATCH	 8

#define SETTLE_NS 20000000ull /* for late writes of the device */

/* One request. */
struct preq {
	struct virtq_buf b[MAX_BUFS];
	uint8_t *p[MAX_BUFS];
	unsigned int n, out;
	uint8_t *status;
	bool write;
	uint64_t sector;
	uint32_t nsec;
	uint8_t gen;
	uint32_t want_len; /* data written + the status byte */
	uint16_t id, slots;
	bool indirect;
	uint32_t ntable;
	uint8_t *saved; /* the readable bytes as made available */
};

struct pq {
	struct blk_dev b;
	struct virtq *vq; /* the ring memory vio_queue_setup laid out */
	unsigned int num;
	struct virtq_packed_desc *ring;
	struct virtq_packed_event *drv, *dev;
	struct virtq_packed_desc shadow[PQ_MAX];
	uint16_t avail, used;
	bool avail_wrap, used_wrap;
	struct preq *by_id[PQ_MAX];
	uint16_t order[PQ_MAX]; /* ids in flight, in the order made available */
	unsigned int order_first, order_n, slots_in_flight;
	struct virtq_packed_desc *tables; /* IND_MAX per id */
	struct virtq_packed_desc *tsnap;  /* copies of them */
	struct chain_arena arena;
	uint8_t *saved;
	size_t saved_used;
	uint64_t stall_ns;
	uint8_t gen[REGION];
	uint8_t next_gen;
	char broken[VIO_ERROR_LEN];
	/* Fed by every used descriptor / request. */
	struct check_acc id, wrap, wflag, len, nowrite, slot_writes;
};

/* --- Buffers and requests ------------------------------------------------ */

static uint8_t pat(uint64_t sector, uint32_t off, uint8_t gen)
{
	if (!gen)
		return 0;
	return (uint8_t)(sector * 131 + off * 7 + gen * 29 + (off >> 8));
}

static int add_buf(struct preq *r, uint8_t *p, uint32_t len)
{
	if (!p || r->n == MAX_BUFS)
		return -1;
	r->b[r->n] = (struct virtq_buf){ dma_addr(p), len };
	r->p[r->n++] = p;
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
		size[i] = s < max ? s : max;
		left -= size[i];
	}
}

/* A read or write of @nsec sectors at @sector: the header, the data in
 * @nseg odd pieces, the status byte. */
static int build_rw(struct pq *c, struct preq *r, bool write, uint64_t sector,
		    uint32_t nsec, unsigned int nseg, uint32_t seed)
{
	struct virtio_blk_outhdr h = { write ? VIRTIO_BLK_T_OUT
					     : VIRTIO_BLK_T_IN,
				       0, sector };
	uint32_t size[MAX_BUFS], off = 0;
	uint8_t *p;

	memset(r, 0, sizeof(*r));
	if (nseg + 2 > MAX_BUFS)
		return -1;
	r->write = write;
	r->sector = sector;
	r->nsec = nsec;
	if (write) {
		c->next_gen = c->next_gen == 255 ? 1 : c->next_gen + 1;
		r->gen = c->next_gen;
	}
	p = chain_place(&c->arena, sizeof(h));
	if (add_buf(r, p, sizeof(h)))
		return -1;
	memcpy(p, &h, sizeof(h));
	cut(nsec * SECTOR, nseg, seed, size);
	for (unsigned int i = 0; i < nseg; i++) {
		p = chain_place(&c->arena, size[i]);
		if (add_buf(r, p, size[i]))
			return -1;
		for (uint32_t k = 0; k < size[i]; k++)
			p[k] = write ? pat(sector + (off + k) / SECTOR,
					   (off + k) % SECTOR, r->gen)
				     : 0x5a;
		off += size[i];
	}
	r->out = write ? 1 + nseg : 1;
	r->status = chain_place(&c->arena, 1);
	if (add_buf(r, r->status, 1))
		return -1;
	*r->status = 0xff; /* no device writes this value */
	r->want_len = write ? 1 : nsec * SECTOR + 1;
	return 0;
}

/* --- The ring ------------------------------------------------------------- */

static uint16_t avail_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

static uint16_t used_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
}

static void advance(struct pq *c, uint16_t *slot, bool *wrap, unsigned int n)
{
	unsigned int s = *slot + n;

	while (s >= c->num) {
		s -= c->num;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

/* Makes request @r available under buffer @id: through an indirect table
 * when @indirect (WRITE set on the ring descriptor when @wflag, where it
 * is reserved), else as a chain from the avail slot on, with a stale id
 * in every descriptor but the last. The head's flags are written last. */
static int pq_add(struct pq *c, struct preq *r, uint16_t id, bool indirect,
		  bool wflag)
{
	uint16_t head = c->avail, head_flags = 0;
	bool head_wrap = c->avail_wrap;
	unsigned int slots = indirect ? 1 : r->n;
	size_t off = 0;

	if (id >= c->num || c->by_id[id] || slots > c->num - c->slots_in_flight)
		return -1;
	for (unsigned int i = 0; i < r->out; i++)
		off += r->b[i].len;
	r->saved = c->saved + c->saved_used;
	if (c->saved_used + off > ARENA)
		return -1;
	c->saved_used += off;
	off = 0;
	for (unsigned int i = 0; i < r->out; i++) {
		memcpy(r->saved + off, r->p[i], r->b[i].len);
		off += r->b[i].len;
	}
	r->id = id;
	r->slots = (uint16_t)slots;
	r->indirect = indirect;
	if (indirect) {
		struct virtq_packed_desc *t = c->tables + (size_t)id * IND_MAX;

		if (r->n > IND_MAX)
			return -1;
		for (unsigned int k = 0; k < r->n; k++)
			t[k] = (struct virtq_packed_desc){
				r->b[k].addr, r->b[k].len,
				(uint16_t)(0x5a00 + k), /* reserved: junk */
				(uint16_t)(k >= r->out ? VIRTQ_DESC_F_WRITE : 0)
			};
		memcpy(c->tsnap + (size_t)id * IND_MAX, t, r->n * sizeof(*t));
		r->ntable = r->n;
		c->ring[head] = (struct virtq_packed_desc){
			dma_addr(t), (uint32_t)(r->n * sizeof(*t)), id, 0
		};
		head_flags = VIRTQ_DESC_F_INDIRECT |
			     (wflag ? VIRTQ_DESC_F_WRITE : 0) |
			     avail_bits(head_wrap);
		c->shadow[head] = c->ring[head];
		c->shadow[head].flags = head_flags;
		advance(c, &c->avail, &c->avail_wrap, 1);
	} else {
		for (unsigned int k = 0; k < r->n; k++) {
			uint16_t s = c->avail, f;

			f = (uint16_t)((k >= r->out ? VIRTQ_DESC_F_WRITE : 0) |
				       (k + 1 < r->n ? VIRTQ_DESC_F_NEXT : 0) |
				       avail_bits(c->avail_wrap));
			c->ring[s] = (struct virtq_packed_desc){
				r->b[k].addr, r->b[k].len,
				(uint16_t)(k + 1 < r->n ? (id + 1 + k) % c->num
							: id),
				k ? f : 0
			};
			c->shadow[s] = c->ring[s];
			c->shadow[s].flags = f;
			if (!k)
				head_flags = f;
			advance(c, &c->avail, &c->avail_wrap, 1);
		}
	}
	__atomic_store_n(&c->ring[head].flags, head_flags, __ATOMIC_RELEASE);
	c->by_id[id] = r;
	c->order[(c->order_first + c->order_n++) % c->num] = id;
	c->slots_in_flight += slots;
	return 0;
}

/* Whether the device wrote the flags of the slot at our used position. */
static bool pq_ready(const struct pq *c)
{
	return __atomic_load_n(&c->ring[c->used].flags, __ATOMIC_ACQUIRE) !=
	       c->shadow[c->used].flags;
}

static bool pq_wait(struct pq *c)
{
	uint64_t start = time_ns(), now;

	vio_watch(&c->b.vio, start, true);
	while (!pq_ready(c)) {
		now = time_ns();
		if (now - start > c->stall_ns) {
			snprintf(
				c->broken, sizeof(c->broken),
				"nothing used at slot %u within %llu s",
				c->used,
				(unsigned long long)(c->stall_ns / 1000000000));
			return false;
		}
		if (vio_watch(&c->b.vio, now, false)) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 c->b.vio.error);
			return false;
		}
	}
	return true;
}

/* Removes @id from the in-flight order. */
static void order_remove(struct pq *c, uint16_t id)
{
	unsigned int k = 0;

	while (k < c->order_n && c->order[(c->order_first + k) % c->num] != id)
		k++;
	for (; k + 1 < c->order_n; k++)
		c->order[(c->order_first + k) % c->num] =
			c->order[(c->order_first + k + 1) % c->num];
	c->order_n--;
}

/* Gives buffer @r back: its id, its slots. */
static void release(struct pq *c, struct preq *r)
{
	c->by_id[r->id] = NULL;
	c->slots_in_flight -= r->slots;
}

/*
 * Reads the used descriptor at our used position (pq_ready() said the
 * device wrote it) and judges it: flags in the device's lap, an id in
 * flight, WRITE (every blk request writes its status), the exact length.
 * Returns its request, or NULL with c->broken said; the position is not
 * moved (pq_take does).
 */
static struct preq *read_used(struct pq *c)
{
	struct virtq_packed_desc *d = &c->ring[c->used];
	uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	uint16_t id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	uint32_t len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	uint16_t bits = flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
	struct preq *r;

	if (!check_expect(&c->wrap, bits == used_bits(c->used_wrap),
			  "AVAIL and USED both equal to the device's wrap "
			  "counter",
			  "slot %u: flags 0x%04x, the wrap counter is %u",
			  c->used, flags, c->used_wrap)) {
		snprintf(c->broken, sizeof(c->broken),
			 "slot %u: flags 0x%04x are not a used descriptor of "
			 "lap %u",
			 c->used, flags, c->used_wrap);
		return NULL;
	}
	r = id < c->num ? c->by_id[id] : NULL;
	if (!check_expect(&c->id, r, "the id of a buffer in flight",
			  "slot %u: used id %u, not in flight", c->used, id)) {
		snprintf(c->broken, sizeof(c->broken),
			 "slot %u: used id %u is not in flight", c->used, id);
		return NULL;
	}
	check_expect(&c->wflag, flags & VIRTQ_DESC_F_WRITE,
		     "WRITE set (the device wrote the status byte)",
		     "flags 0x%04x for buffer %u", flags, id);
	if (flags & VIRTQ_DESC_F_WRITE)
		check_expect(&c->len, len == r->want_len,
			     "used length = data + status byte",
			     "%u for a %s of %u bytes", len,
			     r->write ? "write" : "read", r->nsec * SECTOR);
	c->shadow[c->used] = *d;
	c->shadow[c->used].flags = flags;
	return r;
}

/* read_used, then the buffer is back: the position moves past it. */
static struct preq *pq_take(struct pq *c)
{
	struct preq *r = read_used(c);

	if (r) {
		advance(c, &c->used, &c->used_wrap, r->slots);
		order_remove(c, r->id);
		release(c, r);
	}
	return r;
}

/* Nothing in flight: every slot holds what the driver wrote, or the used
 * descriptor the device wrote there and we took. */
static void pq_quiet(struct pq *c, const char *when)
{
	for (unsigned int s = 0; s < c->num; s++)
		if (memcmp(&c->ring[s], &c->shadow[s], sizeof(c->shadow[s]))) {
			check_expect(&c->slot_writes, false,
				     "slots other than used descriptors as "
				     "the driver wrote them",
				     "slot %u: flags 0x%04x id %u len %u, the "
				     "driver's were 0x%04x id %u len %u (%s)",
				     s, c->ring[s].flags, c->ring[s].id,
				     c->ring[s].len, c->shadow[s].flags,
				     c->shadow[s].id, c->shadow[s].len, when);
			c->shadow[s] = c->ring[s]; /* report it once */
			return;
		}
	check_expect(&c->slot_writes, true, "slots as written", "%s", "");
}

static bool data_ok(struct pq *c, const struct preq *r, char *why, size_t len)
{
	uint32_t off = 0;

	for (unsigned int i = r->out; i + 1 < r->n; i++)
		for (uint32_t k = 0; k < r->b[i].len; k++, off++) {
			uint64_t s = r->sector + off / SECTOR;
			uint8_t want = s < REGION
					       ? pat(s, off % SECTOR, c->gen[s])
					       : 0;

			if (r->p[i][k] != want) {
				snprintf(why, len,
					 "sector %llu byte %u: 0x%02x, not "
					 "0x%02x",
					 (unsigned long long)s, off % SECTOR,
					 r->p[i][k], want);
				return false;
			}
		}
	return true;
}

/* What the device must not have touched, and the request's outcome in
 * @a (status OK, a read's data). */
static void judge(struct pq *c, struct preq *r, struct check_acc *a)
{
	size_t off = 0;
	char why[96];

	for (unsigned int i = 0; i < r->n; i++) {
		check_expect(&c->nowrite, chain_intact(r->p[i], r->b[i].len),
			     "the 64 bytes around every buffer untouched",
			     "buffer %u of %u (%u bytes) had a canary "
			     "overwritten",
			     i + 1, r->n, r->b[i].len);
		if (i >= r->out)
			continue;
		check_expect(&c->nowrite,
			     !memcmp(r->saved + off, r->p[i], r->b[i].len),
			     "device-readable buffers unchanged",
			     "readable buffer %u (%u bytes) was written", i + 1,
			     r->b[i].len);
		off += r->b[i].len;
	}
	if (r->indirect)
		check_expect(&c->nowrite,
			     !memcmp(c->tsnap + (size_t)r->id * IND_MAX,
				     c->tables + (size_t)r->id * IND_MAX,
				     r->ntable * sizeof(*c->tables)),
			     "the indirect table as the driver wrote it",
			     "buffer %u's table of %u changed", r->id,
			     r->ntable);
	if (!check_expect(a, *r->status == VIRTIO_BLK_S_OK, "status OK",
			  "status %d for a %s of %u sectors in %u descriptors",
			  *r->status, r->write ? "write" : "read", r->nsec,
			  r->n))
		return;
	if (r->write)
		for (uint32_t i = 0; i < r->nsec; i++)
			c->gen[r->sector + i] = r->gen;
	else if (!data_ok(c, r, why, sizeof(why)))
		check_expect(a, false, "the data written before", "%s", why);
}

static void notify(struct pq *c)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vio_notify(&c->b.vio, 0);
}

/* Makes @r available alone, waits for it and judges it into @a. */
static void run1(struct pq *c, struct preq *r, uint16_t id, bool indirect,
		 bool wflag, struct check_acc *a)
{
	struct preq *got;

	if (c->broken[0]) {
		check_expect(a, false, "the request to complete", "%s",
			     c->broken);
		return;
	}
	pq_quiet(c, "before a request");
	if (pq_add(c, r, id, indirect, wflag)) {
		snprintf(c->broken, sizeof(c->broken),
			 "the driver could not add a request");
	} else {
		notify(c);
		if (pq_wait(c) && (got = pq_take(c)) != NULL) {
			if (check_expect(&c->id, got == r,
					 "the id of the buffer in flight",
					 "id %u for buffer %u", got->id, id))
				judge(c, r, a);
		}
	}
	if (c->broken[0])
		check_expect(a, false, "the request to complete", "%s",
			     c->broken);
	chain_reset(&c->arena);
	c->saved_used = 0;
}

/* --- Setting up ----------------------------------------------------------- */

#define WANTED                                                                 \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX))

/* Negotiates @wanted (with the ring features of @ring) and sets queue 0
 * up with @qsize slots, every interrupt disabled. */
static int pq_open(struct pq *c, uint64_t wanted, unsigned int qsize)
{
	int err = vio_begin(&c->b.vio, wanted);

	if (!err)
		err = vio_config_read(&c->b.vio, 0, &c->b.capacity, 8);
	c->b.seg_max = 0;
	if (!err && vio_has(&c->b.vio, VIRTIO_BLK_F_SEG_MAX))
		err = vio_config_read(
			&c->b.vio, offsetof(struct virtio_blk_config, seg_max),
			&c->b.seg_max, 4);
	if (!err && !vio_has(&c->b.vio, VIRTIO_F_RING_PACKED))
		return 1;
	if (!err)
		err = vio_queue_setup(&c->b.vio, 0, &c->b.vq[0],
				      qsize < PQ_MAX ? qsize : PQ_MAX, 0);
	if (err)
		return err;
	c->vq = &c->b.vq[0];
	c->num = c->vq->num;
	c->ring = c->vq->pdesc;
	c->drv = c->vq->driver_event;
	c->dev = c->vq->device_event;
	memset(c->shadow, 0, sizeof(c->shadow));
	memset(c->by_id, 0, sizeof(c->by_id));
	c->avail = c->used = 0;
	c->avail_wrap = c->used_wrap = true;
	c->order_first = c->order_n = c->slots_in_flight = 0;
	__atomic_store_n(&c->drv->flags, VIRTQ_EVENT_F_DISABLE,
			 __ATOMIC_RELAXED);
	return vio_driver_ok(&c->b.vio);
}

static void skip_all(const enum check_id *ids, unsigned int n, const char *why)
{
	for (unsigned int i = 0; i < n; i++)
		check_skip(ids[i], why);
}

/*
 * Finds the device and starts it with a packed ring of @qsize (and
 * IN_ORDER with in_order=1 in @args); NULL after skipping @ids (RING_PACKED or
 * IN_ORDER not offered) or a failed report.
 */
static struct pq *start(const char *args, uint64_t wanted, unsigned int qsize,
			const enum check_id *ids, unsigned int n)
{
	static struct pq c;
	struct vio_dev found;
	uint64_t ring = 0;
	bool in_order;
	int err;

	c.stall_ns = vw_stall(args);
	if (!c.stall_ns || vw_ring(args, &ring) ||
	    vw_find(VIRTIO_ID_BLOCK, "blk", &found))
		return NULL;
	in_order = ring & VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	c.arena = (struct chain_arena){ dma_alloc(ARENA, 64), ARENA, 0 };
	c.saved = dma_alloc(ARENA, 64);
	c.tables = dma_alloc(PQ_MAX * IND_MAX * sizeof(*c.tables), 64);
	c.tsnap = dma_alloc(PQ_MAX * IND_MAX * sizeof(*c.tables), 64);
	if (!c.arena.base || !c.saved || !c.tables || !c.tsnap) {
		report(false, "blk: no memory for the buffers");
		return NULL;
	}
	c.b.vio = found;
	c.b.vio.ring_wanted = VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
			      (in_order ? VIRTIO_BIT(VIRTIO_F_IN_ORDER) : 0);
	err = pq_open(&c, wanted, qsize);
	if (err == 1 ||
	    (!err && in_order && !vio_has(&c.b.vio, VIRTIO_F_IN_ORDER))) {
		skip_all(ids, n,
			 err == 1 ? "RING_PACKED not offered (the checks "
				    "need a packed ring)"
				  : "IN_ORDER not offered");
		vio_reset(&c.b.vio);
		return NULL;
	}
	if (err || c.b.capacity < 2 * REGION) {
		report(false, "blk: cannot start the device: %s",
		       err ? c.b.vio.error : "smaller than 256 KiB");
		return NULL;
	}
	return &c;
}

static int finish(struct pq *c)
{
	if (c)
		vio_reset(&c->b.vio);
	return report_summary();
}

static unsigned int seg_limit(const struct pq *c, unsigned int cap)
{
	return c->b.seg_max && c->b.seg_max < cap ? c->b.seg_max : cap;
}

/* --- blk-packed ------------------------------------------------------------
 */

/* Chains of 1..max data descriptors, written and read back, one at a
 * time, under ids that are not the slots; the ring laps many times, so
 * chains run past its last slot. Returns how many chains did. */
static unsigned int phase_chains(struct pq *c, struct check_acc *a)
{
	unsigned int max = seg_limit(c, 20), wrapped = 0;
	static struct preq r;

	for (unsigned int round = 0; round < 3; round++)
		for (unsigned int n = 1; n <= max; n++) {
			uint16_t id = (uint16_t)((n * 17 + round * 5) % c->num);
			bool w = !(n & 1) == !(round & 1);
			unsigned int before = c->avail;

			if (build_rw(c, &r, true, 16 + n, 2, n, n + round))
				return wrapped;
			run1(c, &r, id, false, false, a);
			wrapped += c->avail < before && c->avail;
			if (build_rw(c, &r, false, 16 + n, 2,
				     w ? max + 1 - n : n, n * 3 + round))
				return wrapped;
			before = c->avail;
			run1(c, &r, (uint16_t)((id + 7) % c->num), false, false,
			     a);
			wrapped += c->avail < before && c->avail;
		}
	return wrapped;
}

/* Indirect tables of 3..max entries (WRITE on every other indirect
 * descriptor, junk ids in the tables). */
static void phase_indirect(struct pq *c, struct check_acc *a)
{
	unsigned int max = seg_limit(c, IND_MAX - 2);
	static struct preq r;

	for (unsigned int n = 1; n <= max; n++) {
		uint16_t id = (uint16_t)((n * 13 + 3) % c->num);

		if (build_rw(c, &r, true, 48, 8, n, n))
			return;
		run1(c, &r, id, true, n & 1, a);
		if (build_rw(c, &r, false, 48, 8, n, n + 1))
			return;
		run1(c, &r, id, true, !(n & 1), a);
	}
}

/* BATCH requests made available at once, ids out of slot order; all
 * must come back, each under its own id. */
static void phase_batch(struct pq *c, struct check_acc *a)
{
	static const uint8_t ids[BATCH] = { 5, 2, 7, 0, 3, 6, 1, 4 };
	static struct preq r[BATCH];

	for (unsigned int round = 0; round < 4 && !c->broken[0]; round++) {
		unsigned int got = 0;

		pq_quiet(c, "before a batch");
		for (unsigned int i = 0; i < BATCH; i++) {
			uint16_t id = (uint16_t)((ids[i] * 3 + round) % c->num);

			if (build_rw(c, &r[i], round & 1, 100 + i, 1, 1 + i % 3,
				     i) ||
			    pq_add(c, &r[i], id, false, false)) {
				snprintf(c->broken, sizeof(c->broken),
					 "the driver could not add request "
					 "%u of a batch",
					 i + 1);
				break;
			}
		}
		notify(c);
		while (!c->broken[0] && got < BATCH && pq_wait(c)) {
			struct preq *q = pq_take(c);

			if (q)
				judge(c, q, a), got++;
		}
		if (c->broken[0])
			check_expect(a, false, "a batch served", "%s",
				     c->broken);
		chain_reset(&c->arena);
		c->saved_used = 0;
	}
}

int check_blk_packed(const char *args)
{
	static const enum check_id ids[] = {
		CK_PACKED_USED_ID,  CK_PACKED_USED_WRAP, CK_PACKED_WRITE_FLAG,
		CK_PACKED_USED_LEN, CK_PACKED_NO_WRITE,	 CK_PACKED_ONE_USED,
		CK_PACKED_CHAINS,   CK_PACKED_INDIRECT,
	};
	struct pq *c = start(args, WANTED, PQ_SIZE, ids, 8);
	struct check_acc chains = { 0 }, ind = { 0 };
	unsigned int wrapped;

	if (!c)
		return finish(c);
	wrapped = phase_chains(c, &chains);
	check_expect(&chains, c->broken[0] || wrapped,
		     "some chain running past the ring's last slot",
		     "none did (ring of %u)", c->num);
	if (vio_has(&c->b.vio, VIRTIO_F_INDIRECT_DESC))
		phase_indirect(c, &ind);
	else
		check_skip_reason(&ind, "INDIRECT_DESC not offered");
	phase_batch(c, &c->id);
	if (!c->broken[0]) {
		uint64_t t = time_ns();

		while (time_ns() - t < SETTLE_NS)
			;
		pq_quiet(c, "at the end");
	}
	check_done(CK_PACKED_USED_ID, &c->id);
	check_done(CK_PACKED_USED_WRAP, &c->wrap);
	check_done(CK_PACKED_WRITE_FLAG, &c->wflag);
	check_done(CK_PACKED_USED_LEN, &c->len);
	check_done(CK_PACKED_NO_WRITE, &c->nowrite);
	check_done(CK_PACKED_ONE_USED, &c->slot_writes);
	check_done(CK_PACKED_CHAINS, &chains);
	check_done(CK_PACKED_INDIRECT, &ind);
	return finish(c);
}

/* --- blk-packed-sizes ------------------------------------------------------
 */

int check_blk_packed_sizes(const char *args)
{
	static const unsigned int sizes[] = { 1, 2, 3, 5, 7, 10, 33, 100, 255 };
	static const enum check_id ids[] = { CK_PACKED_QSIZES };
	struct pq *c = start(args, WANTED, PQ_SIZE, ids, 1);
	struct check_acc a = { 0 };
	static struct preq r;
	bool indirect;

	if (!c)
		return finish(c);
	indirect = vio_has(&c->b.vio, VIRTIO_F_INDIRECT_DESC);
	for (unsigned int k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned int size = sizes[k];
		bool ind = size < 3;

		if (ind && !indirect)
			continue;
		if (!vio_reset(&c->b.vio) || pq_open(c, WANTED, size)) {
			check_expect(&a, false, "the device to start",
				     "with a packed ring of %u: %s", size,
				     c->b.vio.error);
			break;
		}
		if (c->num != size) /* past QueueNumMax */
			break;
		for (unsigned int i = 0; i < 2 * size + 4 && !c->broken[0];
		     i++) {
			if (build_rw(c, &r, !(i & 1), 100 + i % 16, 1, 1, i))
				break;
			run1(c, &r, (uint16_t)((i * 7) % size), ind, false, &a);
		}
		if (c->broken[0])
			break;
	}
	check_done(CK_PACKED_QSIZES, &a);
	return finish(c);
}

/* --- blk-packed-notify -----------------------------------------------------
 */

static void set_event(struct pq *c, uint16_t flags, uint16_t slot, bool wrap)
{
	__atomic_store_n(&c->drv->off_wrap,
			 (uint16_t)(slot | (wrap ? VIRTQ_PACKED_WRAP : 0)),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&c->drv->flags, flags, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* @n one-sector reads (3 slots each) at once; all taken. */
static bool batch_reads(struct pq *c, struct check_acc *a, unsigned int n)
{
	static struct preq r[BATCH];
	unsigned int got = 0;

	for (unsigned int i = 0; i < n && !c->broken[0]; i++)
		if (build_rw(c, &r[i], false, 8 + i, 1, 1, i) ||
		    pq_add(c, &r[i], (uint16_t)i, false, false))
			snprintf(c->broken, sizeof(c->broken),
				 "the driver could not add request %u", i + 1);
	notify(c);
	while (!c->broken[0] && got < n && pq_wait(c))
		got += pq_take(c) != NULL;
	chain_reset(&c->arena);
	c->saved_used = 0;
	if (c->broken[0])
		check_expect(a, false, "the requests to complete", "%s",
			     c->broken);
	return !c->broken[0];
}

/*
 * The device's own event suppression area (2.8.21.2): the device may ask
 * for no kicks only while it does not need them. Requests are made
 * available in rounds of 1 to 3 and kicked only when that area asks for
 * it (as a driver that honours it would); a device that disables kicks
 * and then waits for one leaves them unserved. The first such round
 * fails the check, gets its kick anyway, and ends the phase.
 */
#define DEVICE_EVENT_WAIT_NS 2000000000ull

/* Whether the device's area asks for a kick for the @added slots just
 * made available up to our avail position (as pvq_kick_prepare()). */
static bool device_wants_kick(const struct pq *c, uint16_t added,
			      uint16_t *flags_out, uint16_t *off_out)
{
	uint16_t flags, off_wrap, event;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&c->dev->flags, __ATOMIC_RELAXED) & 3;
	off_wrap = __atomic_load_n(&c->dev->off_wrap, __ATOMIC_RELAXED);
	*flags_out = flags;
	*off_out = off_wrap;
	if (flags != VIRTQ_EVENT_F_DESC ||
	    !vio_has(&c->b.vio, VIRTIO_F_EVENT_IDX))
		return flags != VIRTQ_EVENT_F_DISABLE;
	event = off_wrap & (uint16_t)~VIRTQ_PACKED_WRAP;
	if (!(off_wrap & VIRTQ_PACKED_WRAP) != !c->avail_wrap)
		event = (uint16_t)(event - c->num);
	return vring_need_event(event, c->avail, (uint16_t)(c->avail - added));
}

static void phase_device_event(struct pq *c, struct check_acc *a)
{
	static struct preq r[3];

	set_event(c, VIRTQ_EVENT_F_DISABLE, 0, 0);
	for (unsigned int round = 0; round < 24 && !c->broken[0]; round++) {
		unsigned int n = 1 + round % 3, got = 0;
		uint16_t added = 0, flags, off_wrap;
		uint64_t start;
		bool kicked;

		for (unsigned int i = 0; i < n && !c->broken[0]; i++) {
			if (build_rw(c, &r[i], round & 1, 40 + i, 1, 1 + i,
				     round * 3 + i) ||
			    pq_add(c, &r[i], (uint16_t)i, false, false))
				snprintf(c->broken, sizeof(c->broken),
					 "the driver could not add request %u",
					 i + 1);
			added = (uint16_t)(added + r[i].slots);
		}
		if (c->broken[0])
			break;
		kicked = device_wants_kick(c, added, &flags, &off_wrap);
		if (kicked)
			notify(c);
		start = time_ns();
		while (!pq_ready(c) &&
		       time_ns() - start < DEVICE_EVENT_WAIT_NS)
			cpu_relax();
		if (!check_expect(a, pq_ready(c),
				  "requests served, kicked only when the "
				  "device's area asks",
				  "round %u: %u request(s) left unserved for "
				  "%llu ms after %s (device area flags %u, "
				  "off_wrap 0x%04x)",
				  round + 1, n,
				  (unsigned long long)(DEVICE_EVENT_WAIT_NS /
						       1000000),
				  kicked ? "a kick" : "no kick: the area asked "
						      "for none",
				  flags, off_wrap)) {
			notify(c); /* go on as a driver that kicks anyway */
			round = 24;
		}
		while (!c->broken[0] && got < n && pq_wait(c))
			got += pq_take(c) != NULL;
		chain_reset(&c->arena);
		c->saved_used = 0;
	}
	if (c->broken[0])
		check_expect(a, false, "the requests to complete", "%s",
			     c->broken);
}

int check_blk_packed_notify(const char *args)
{
	static const enum check_id ids[] = { CK_PACKED_EVENT_DESC,
					     CK_PACKED_EVENT_DISABLE,
					     CK_PACKED_DEVICE_EVENT };
	struct pq *c = start(args, WANTED | VIRTIO_BIT(VIRTIO_F_EVENT_IDX), 30,
			     ids, 3);
	struct check_acc desc = { 0 }, dis = { 0 }, warm = { 0 }, dev = { 0 };

	if (!c)
		return finish(c);
	if (c->b.vio.irq == ~0u || virtio_irq_route(c->b.vio.irq)) {
		skip_all(ids, 3, "the device has no usable interrupt");
		return finish(c);
	}
	batch_reads(c, &warm, 1);
	if (vio_has(&c->b.vio, VIRTIO_F_EVENT_IDX)) {
		/* One read, off_wrap at the slot its used descriptor takes:
		 * 16 times, so that off_wrap goes round the ring of 30. */
		for (unsigned int i = 0; i < 16 && !c->broken[0]; i++) {
			set_event(c, VIRTQ_EVENT_F_DISABLE, 0, 0);
			vw_irq_drain(&c->b.vio);
			set_event(c, VIRTQ_EVENT_F_DESC, c->used, c->used_wrap);
			if (batch_reads(c, &desc, 1))
				check_expect_irq(
					&c->b.vio, &desc, true,
					"a used descriptor at off_wrap");
		}
		/* 8 at once, off_wrap at the 2nd..5th used descriptor. */
		for (unsigned int k = 1; k <= 4 && !c->broken[0]; k++) {
			uint16_t slot = c->used;
			bool wrap = c->used_wrap;

			set_event(c, VIRTQ_EVENT_F_DISABLE, 0, 0);
			vw_irq_drain(&c->b.vio);
			advance(c, &slot, &wrap, 3 * k);
			set_event(c, VIRTQ_EVENT_F_DESC, slot, wrap);
			if (batch_reads(c, &desc, BATCH))
				check_expect_irq(&c->b.vio, &desc, true,
						 "8 used descriptors passing "
						 "off_wrap");
		}
	} else {
		check_skip_reason(&desc, "EVENT_IDX not offered");
	}
	for (unsigned int i = 0; i < 4 && !c->broken[0]; i++) {
		set_event(c, VIRTQ_EVENT_F_DISABLE, 0, 0);
		vw_irq_drain(&c->b.vio);
		if (batch_reads(c, &dis, BATCH))
			check_expect_irq(&c->b.vio, &dis, false,
					 "8 used descriptors, flags DISABLE");
	}
	phase_device_event(c, &dev);
	virtio_irq_unroute(c->b.vio.irq);
	check_done(CK_PACKED_EVENT_DESC, &desc);
	check_done(CK_PACKED_EVENT_DISABLE, &dis);
	check_done(CK_PACKED_DEVICE_EVENT, &dev);
	return finish(c);
}

/* --- blk-in-order-packed ------------------------------------------------- */

/*
 * With IN_ORDER: BATCH requests at once; the used descriptors, read from
 * our used position on, must each name the oldest buffer in flight or a
 * later one (a batch returned by its last id, whose earlier buffers are
 * then complete too), and once all are back and the device has had time,
 * no slot but those used descriptors may have changed.
 */
int check_blk_in_order_packed(const char *args)
{
	static const enum check_id ids[] = { CK_PACKED_IN_ORDER };
	struct pq *c = start(args, WANTED, 64, ids, 1);
	struct check_acc a = { 0 };
	static struct preq r[BATCH];

	if (!c)
		return finish(c);
	for (unsigned int round = 0; round < 8 && !c->broken[0]; round++) {
		unsigned int back = 0;
		uint64_t t;

		pq_quiet(c, "before a batch");
		for (unsigned int i = 0; i < BATCH && !c->broken[0]; i++)
			if (build_rw(c, &r[i], round & 1, 120 + i, 1, 1, i) ||
			    pq_add(c, &r[i],
				   (uint16_t)((i * 5 + round) % c->num), false,
				   false))
				snprintf(c->broken, sizeof(c->broken),
					 "the driver could not add request %u",
					 i + 1);
		notify(c);
		while (!c->broken[0] && back < BATCH && pq_wait(c)) {
			struct preq *x = read_used(c);
			unsigned int k = 0;

			if (!x)
				break;
			while (c->order[(c->order_first + k) % c->num] != x->id)
				k++;
			/* It returns the buffers before it too, complete. */
			for (unsigned int j = 0; j <= k; j++) {
				uint16_t e = c->order[c->order_first];
				struct preq *q = c->by_id[e];

				check_expect(&a, *q->status != 0xff,
					     "every buffer of a batch complete",
					     "buffer %u returned with id %u, "
					     "its status unwritten",
					     e, x->id);
				c->order_first = (c->order_first + 1) % c->num;
				c->order_n--;
				advance(c, &c->used, &c->used_wrap, q->slots);
				release(c, q);
				back++;
			}
		}
		t = time_ns();
		while (time_ns() - t < SETTLE_NS)
			;
		if (c->broken[0]) {
			check_expect(&a, false, "the batch served", "%s",
				     c->broken);
			break;
		}
		for (unsigned int s = 0; s < c->num; s++)
			if (!check_expect(&a,
					  !memcmp(&c->ring[s], &c->shadow[s],
						  sizeof(c->shadow[s])),
					  "used descriptors in the order the "
					  "buffers were made available",
					  "slot %u: a used descriptor (id %u) "
					  "written after a later buffer came "
					  "back before it",
					  s, c->ring[s].id)) {
				c->shadow[s] = c->ring[s];
				break;
			}
		chain_reset(&c->arena);
		c->saved_used = 0;
	}
	check_done(CK_PACKED_IN_ORDER, &a);
	return finish(c);
}

/* --- blk-packed-wrap -------------------------------------------------------
 */

#define WRAP_QSIZE    7 /* does not divide 65536 */
#define WRAP_REQUESTS 70000u

/*
 * 70000 one-sector reads through a ring of 7 slots, as many in flight as
 * fit (through indirect tables: 7), so that both wrap counters flip about
 * 10000 times and more than 65536 slots are used. Only the status and the
 * used descriptors are judged (the other checks have blk-packed).
 */
int check_blk_packed_wrap(const char *args)
{
	static const enum check_id ids[] = { CK_PACKED_WRAP };
	struct pq *c = start(args, WANTED, WRAP_QSIZE, ids, 1);
	static struct preq r[WRAP_QSIZE];
	struct preq *free_req[WRAP_QSIZE];
	struct check_acc a = { 0 };
	unsigned int done = 0, added = 0, depth, nfree;
	bool ind;

	if (!c)
		return finish(c);
	ind = vio_has(&c->b.vio, VIRTIO_F_INDIRECT_DESC);
	depth = ind ? c->num : c->num / 3;
	for (unsigned int i = 0; i < depth; i++) {
		if (build_rw(c, &r[i], false, i, 1, 1, i))
			depth = 0;
		free_req[i] = &r[i];
	}
	nfree = depth;
	while (done < WRAP_REQUESTS && depth && !c->broken[0]) {
		while (added < WRAP_REQUESTS && nfree) {
			struct preq *q = free_req[--nfree];

			c->saved_used = 0; /* the copies are not compared */
			*q->status = 0xff;
			if (pq_add(c, q, (uint16_t)(q - r), ind, false)) {
				snprintf(c->broken, sizeof(c->broken),
					 "the driver could not add request %u",
					 added);
				break;
			}
			added++;
		}
		notify(c);
		if (c->broken[0] || !pq_wait(c))
			break;
		while (pq_ready(c)) {
			struct preq *q = pq_take(c);

			if (!q)
				break;
			free_req[nfree++] = q;
			if (!check_expect(&a, *q->status == VIRTIO_BLK_S_OK,
					  "status OK",
					  "status %d for request %u",
					  *q->status, done))
				depth = 0;
			done++;
		}
	}
	if (c->broken[0])
		check_expect(&a, false, "70000 requests served",
			     "after %u (slot %u, wrap %u): %s", done, c->used,
			     c->used_wrap, c->broken);
	else
		check_expect(&a, done == WRAP_REQUESTS, "70000 requests served",
			     "%u", done);
	check_done(CK_PACKED_WRAP, &a);
	return finish(c);
}

/* --- blk-in-order-split ----------------------------------------------------
 */

/*
 * IN_ORDER on a split ring: BATCH requests at once, the used ring entries
 * they will take poisoned first. The driver (virtq.c) takes each entry as
 * the oldest chain in flight or a later one among those the used index
 * covers (a batch returned by its last head, written at the batch's first
 * position); a poisoned entry, a head out of order or a batch beyond the
 * index fails it. Once all are back, the index stays put.
 */
int check_blk_in_order_split(const char *args)
{
	static struct pq c;
	static struct preq r[BATCH];
	struct check_acc a = { 0 };
	struct vio_dev found;
	struct virtq *vq = &c.b.vq[0];
	int err;

	c.stall_ns = vw_stall(args);
	if (!c.stall_ns || vw_find(VIRTIO_ID_BLOCK, "blk", &found))
		return report_summary();
	c.arena = (struct chain_arena){ dma_alloc(ARENA, 64), ARENA, 0 };
	c.b.vio = found;
	c.b.vio.ring_wanted = VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	err = c.arena.base ? vio_begin(&c.b.vio, WANTED) : VIRTQ_ENOSPC;
	if (!err && !vio_has(&c.b.vio, VIRTIO_F_IN_ORDER)) {
		check_skip(CK_SPLIT_IN_ORDER, "IN_ORDER not offered");
		vio_reset(&c.b.vio);
		return report_summary();
	}
	if (!err)
		err = vio_queue_setup(&c.b.vio, 0, vq, 64, 0);
	if (!err) {
		virtq_disable_cb(vq);
		err = vio_driver_ok(&c.b.vio);
	}
	if (err) {
		report(false, "blk: cannot start the device: %s",
		       c.b.vio.error);
		return report_summary();
	}
	for (unsigned int round = 0; round < 8 && !c.broken[0]; round++) {
		unsigned int got = 0;
		uint64_t t;
		uint16_t idx;

		for (unsigned int i = 0; i < BATCH; i++) {
			struct virtq_used_elem *e =
				&vq->used->ring[(uint16_t)(vq->last_used + i) %
						vq->num];

			e->id = 0xffffffffu;
			e->len = 0xffffffffu;
		}
		for (unsigned int i = 0; i < BATCH && !c.broken[0]; i++)
			if (build_rw(&c, &r[i], round & 1, 120 + i, 1, 1, i) ||
			    virtq_add(vq, r[i].b, r[i].out, r[i].n - r[i].out,
				      &r[i]))
				snprintf(c.broken, sizeof(c.broken),
					 "the driver could not add request %u",
					 i + 1);
		vio_kick(&c.b.vio, 0, vq);
		t = time_ns();
		while (!c.broken[0] && got < BATCH) {
			void *tok;
			uint32_t len;
			int ret = virtq_get_used(vq, &tok, &len);

			if (ret < 0) {
				check_expect(&a, false,
					     "used entries in the order the "
					     "chains were made available",
					     "%s", virtq_error(vq));
				snprintf(c.broken, sizeof(c.broken), "%s",
					 virtq_error(vq));
			} else if (ret) {
				check_expect(&a, *r[got].status != 0xff,
					     "every request of a batch "
					     "complete",
					     "request %u of a batch returned "
					     "with its status unwritten",
					     got + 1);
				got++;
			} else if (time_ns() - t > c.stall_ns) {
				snprintf(c.broken, sizeof(c.broken),
					 "%u of %u requests completed", got,
					 BATCH);
			}
		}
		t = time_ns();
		while (time_ns() - t < SETTLE_NS)
			;
		idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
		if (!c.broken[0])
			check_expect(&a, idx == vq->last_used,
				     "the used index where the last batch "
				     "left it",
				     "%u, %u past it", idx,
				     (uint16_t)(idx - vq->last_used));
		chain_reset(&c.arena);
	}
	if (c.broken[0])
		check_expect(&a, false, "every batch served", "%s", c.broken);
	check_done(CK_SPLIT_IN_ORDER, &a);
	vio_reset(&c.b.vio);
	return report_summary();
}
