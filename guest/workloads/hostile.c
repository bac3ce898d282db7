// SPDX-License-Identifier: MIT
/*
 * hostile: a guest that breaks the rules on purpose, against the first
 * virtio-mmio device, to show that vuvm and the backend survive it.
 *
 *  (a) rounds=N bursts (default 8) of xorshift values (seed=N, default 1)
 *      written to every 32-bit register offset 0x000-0x0fc, then to random
 *      offsets, and random bytes to config space; after each burst the
 *      window must still say "virt" version 2 and a reset must bring
 *      Status back to 0.
 *  (b) a queue set up through the normal driver path, then one bad chain
 *      per case (addresses beyond RAM, in the MMIO hole, wrapping 2^64;
 *      zero-length and 0xffffffff-long buffers; a descriptor loop; a next
 *      index out of range; an avail index that jumps by more than the
 *      queue size; an avail entry naming a head out of range; a readable
 *      descriptor after a writable one; six broken indirect tables),
 *      kicked; whatever the device does within POLL_NS is reported, then
 *      a reset and a fresh set-up must work. case=N (1-based) runs only
 *      the N-th, for backends that drop the connection on the first.
 *  (c) rings placed where no ring can be: the descriptor table, avail
 *      ring or used ring of an otherwise proper queue moved beyond RAM,
 *      into the MMIO hole, across the end of RAM or to wrap 2^64 just
 *      before DRIVER_OK. The device must refuse to start: Status must
 *      read DEVICE_NEEDS_RESET (vuvm logs "device needs reset: <why>").
 *  (d) one ordinary request (blk: read sector 0; rng: 16 bytes).
 *
 * ring=packed (and in_order=1) negotiate the packed ring (IN_ORDER) for
 * (b), (c) and (d); a device without it makes the workload SKIP. The bad
 * chains are then written as packed descriptors: the same bad addresses
 * and lengths, a readable descriptor after a writable one, the broken
 * indirect tables, and instead of the split ring's index cases a chain
 * with NEXT on every slot (longer than the ring), a chain whose NEXT runs
 * into a slot that is not available, and a descriptor whose AVAIL and
 * USED bits both say "used" (the device must leave it alone).
 *
 * What the device answers to a bad chain is reported, never trusted or
 * asserted: a backend may fail the ring, skip the chain or complete it
 * with an error. The checks are that the device still talks and can be
 * brought up again, and (c). Waits are bounded, since a backend is right
 * to refuse a bad chain and never use it.
 */
#include <stdio.h>
#include <string.h>

#include "lib/devtree.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_mmio.h"
#include "workloads/virtio_common.h"
#include "workloads/workloads.h"

#define MAX_ROUNDS 1000
#define QSIZE	   8
#define POLL_NS	   20000000ull /* how long a bad chain may take */
#define GOOD_NS	   1000000000ull
#define BUF_LEN	   512
#define NR_BAD	   (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Out-of-range addresses, relative to the guest's 64-bit space. */
#define BEYOND_RAM 0x0000100000000000ull /* 16 TiB */
#define MMIO_HOLE  0x00000000fec00000ull /* the IOAPIC */
#define WRAPPING   0xfffffffffffff000ull

static uint32_t rd(const struct vio_dev *d, unsigned int reg)
{
	return *(volatile uint32_t *)(uintptr_t)(d->base + reg);
}

static void wr(const struct vio_dev *d, unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(d->base + reg) = val;
}

/* The first virtio-mmio window with a device behind it. */
static int find_first(struct vio_dev *d)
{
	struct dt_virtio_mmio n[8];
	int count = dt_virtio_mmio(n, 8);

	for (int i = 0; i < count && i < 8; i++) {
		memset(d, 0, sizeof(*d));
		d->base = n[i].base;
		d->irq = n[i].irq;
		if (rd(d, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC &&
		    rd(d, VIRTIO_MMIO_DEVICE_ID)) {
			d->device_id = rd(d, VIRTIO_MMIO_DEVICE_ID);
			return 0;
		}
	}
	return -1;
}

/* Whether the window still identifies itself. */
static bool answers(const struct vio_dev *d)
{
	return rd(d, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC &&
	       rd(d, VIRTIO_MMIO_VERSION) == VIRTIO_MMIO_VERSION_MODERN;
}

/* Resets and reports both checks; @what names the step before. */
static void check_alive(struct vio_dev *d, const char *what)
{
	uint32_t s;

	report(answers(d), "%s: the window still says \"virt\" version 2",
	       what);
	vio_reset(d); /* bounded: 100 ms */
	s = rd(d, VIRTIO_MMIO_STATUS);
	report(s == 0, "%s: a reset brings Status to 0 (reads %#x)", what, s);
}

/* --- (a) random register and config writes ----------------------------- */

static void burst(struct vio_dev *d, uint32_t *seed)
{
	unsigned int off;

	/* Every offset in order, then the same number at random, so that
	 * e.g. Status also comes after the queue registers. */
	for (off = 0; off <= 0xfc; off += 4)
		wr(d, off, vw_rand(seed));
	for (int i = 0; i < 64; i++)
		wr(d, (vw_rand(seed) % 64) * 4, vw_rand(seed));
	for (off = 0; off < VIRTIO_MMIO_CONFIG_MAX; off++)
		*(volatile uint8_t *)(uintptr_t)(d->base + VIRTIO_MMIO_CONFIG +
						 off) = (uint8_t)vw_rand(seed);
}

/* A random queue address that is never guest RAM (which is below 64 GiB
 * here), so that a device that believed it could not scribble on us:
 * either in the 32-bit MMIO hole or above 2^40. */
static uint64_t wild_addr(uint32_t *seed)
{
	uint32_t lo = vw_rand(seed);

	if (lo & 1)
		return 0xd0000000u | (lo & 0x0ffffff0u);
	return (uint64_t)(vw_rand(seed) | 0x100u) << 32 | lo;
}

static void write_addr(struct vio_dev *d, unsigned int low, uint64_t a)
{
	wr(d, low, (uint32_t)a);
	wr(d, low + 4, (uint32_t)(a >> 32));
}

/*
 * The first write of burst() to a read-only register already asks for a
 * reset, after which vuvm starts nothing. This one follows the status
 * protocol with random features, queue sizes and addresses, so that
 * DRIVER_OK really reaches the device's start-up with nonsense.
 */
static void plausible_burst(struct vio_dev *d, uint32_t *seed)
{
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	/* A random subset of the offer plus VERSION_1 (bit 32), which
	 * FEATURES_OK accepts. */
	for (uint32_t sel = 0; sel < 2; sel++) {
		wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
		wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
		wr(d, VIRTIO_MMIO_DRIVER_FEATURES,
		   (rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & vw_rand(seed)) |
			   (sel ? 1 : 0));
	}
	wr(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, 1u << (vw_rand(seed) % 9));
	write_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, wild_addr(seed));
	write_addr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, wild_addr(seed));
	write_addr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, wild_addr(seed));
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS,
	   rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void random_writes(struct vio_dev *d, uint32_t seed, uint64_t rounds)
{
	char what[48];

	for (uint64_t i = 0; i < rounds; i++) {
		burst(d, &seed);
		snprintf(what, sizeof(what), "random burst %llu",
			 (unsigned long long)i);
		check_alive(d, what);
		plausible_burst(d, &seed);
		report_info("random start-up %llu: status %#x",
			    (unsigned long long)i, rd(d, VIRTIO_MMIO_STATUS));
		snprintf(what, sizeof(what), "random start-up %llu",
			 (unsigned long long)i);
		check_alive(d, what);
	}
}

/* --- (b) bad chains ----------------------------------------------------- */

struct bad {
	const char *name;
	uint64_t addr; /* 0: the good buffer */
	uint32_t len;
	bool loop;	  /* the data descriptor's next points to itself */
	bool wild;	  /* next out of range */
	bool jump;	  /* avail index jumps past the queue size */
	bool bad_head;	  /* the avail entry names a head >= queue size */
	bool ro_after_rw; /* a readable descriptor after the writable one */
	int ind;	  /* IND_*: the chain goes through an indirect table */
	/* Packed ring: the case's name there (loop, wild, jump have their
	 * own packed meaning), or NULL when it has no packed form. */
	const char *packed;
};

/* Indirect tables: good, or broken in one way. */
enum {
	IND_NONE,
	IND_BEYOND_RAM, /* the table's address */
	IND_EMPTY,	/* 0 bytes */
	IND_ODD_LEN,	/* not a multiple of 16 */
	IND_NESTED,	/* an indirect descriptor inside the table */
	IND_LOOP,	/* a loop inside the table */
	IND_WITH_NEXT,	/* INDIRECT and NEXT on the same descriptor */
};

static const struct bad bad_cases[] = {
	{ .name = "address beyond RAM",
	  .addr = BEYOND_RAM,
	  .len = BUF_LEN,
	  .packed = "address beyond RAM" },
	{ .name = "address in the MMIO hole",
	  .addr = MMIO_HOLE,
	  .len = BUF_LEN,
	  .packed = "address in the MMIO hole" },
	{ .name = "address wrapping 2^64",
	  .addr = WRAPPING,
	  .len = 0x2000,
	  .packed = "address wrapping 2^64" },
	{ .name = "zero-length buffer",
	  .len = 0,
	  .packed = "zero-length buffer" },
	{ .name = "0xffffffff-long buffer",
	  .len = 0xffffffffu,
	  .packed = "0xffffffff-long buffer" },
	{ .name = "descriptor loop",
	  .len = BUF_LEN,
	  .loop = true,
	  .packed = "NEXT on every slot: a chain longer than the ring" },
	{ .name = "next index out of range",
	  .len = BUF_LEN,
	  .wild = true,
	  .packed = "NEXT into a slot that is not available" },
	{ .name = "avail index jumps by more than the queue size",
	  .len = BUF_LEN,
	  .jump = true,
	  .packed = "AVAIL and USED both set: not available" },
	{ .name = "avail entry names head 0x7fff",
	  .len = BUF_LEN,
	  .bad_head = true },
	{ .name = "readable descriptor after a writable one",
	  .len = BUF_LEN,
	  .ro_after_rw = true,
	  .packed = "readable descriptor after a writable one" },
	{ .name = "indirect table beyond RAM",
	  .ind = IND_BEYOND_RAM,
	  .packed = "indirect table beyond RAM" },
	{ .name = "indirect table of 0 bytes",
	  .ind = IND_EMPTY,
	  .packed = "indirect table of 0 bytes" },
	{ .name = "indirect table of 20 bytes",
	  .ind = IND_ODD_LEN,
	  .packed = "indirect table of 20 bytes" },
	{ .name = "indirect table inside an indirect table",
	  .ind = IND_NESTED,
	  .packed = "indirect table inside an indirect table" },
	{ .name = "loop inside an indirect table", .ind = IND_LOOP },
	{ .name = "INDIRECT and NEXT together",
	  .ind = IND_WITH_NEXT,
	  .packed = "INDIRECT and NEXT together" },
};

struct bufs {
	struct virtio_blk_outhdr *hdr;
	uint8_t *data, *status;
	struct virtq_desc *table; /* 4 entries, for the indirect cases */
};

static void set_desc(struct virtq_desc *t, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	t[i] = (struct virtq_desc){ addr, len, flags, next };
}

/*
 * Writes the chain for @c and returns its head. blk: header (readable) ->
 * data (writable, the bad one) -> status; other devices: the data
 * descriptor alone (descriptor 1).
 */
static uint16_t build_chain(struct virtq *vq, bool blk, const struct bad *c,
			    const struct bufs *b)
{
	uint64_t addr = c->addr ? c->addr : dma_addr(b->data);
	uint16_t head = blk ? 0 : 1;
	uint16_t next = blk ? 2 : 0;
	uint16_t flags = VIRTQ_DESC_F_WRITE;

	if (c->loop)
		next = 1; /* itself: the walker must notice the cycle */
	else if (c->wild)
		next = 0x1234;
	else if (c->ro_after_rw)
		next = 2;
	if (blk || c->loop || c->wild || c->ro_after_rw)
		flags |= VIRTQ_DESC_F_NEXT;
	b->hdr->type = VIRTIO_BLK_T_IN;
	b->hdr->reserved = 0;
	b->hdr->sector = 0;
	set_desc(vq->desc, 0, dma_addr(b->hdr), sizeof(*b->hdr),
		 VIRTQ_DESC_F_NEXT, 1);
	set_desc(vq->desc, 1, addr, c->len, flags, next);
	set_desc(vq->desc, 2, dma_addr(b->status), 1,
		 c->ro_after_rw ? 0 : VIRTQ_DESC_F_WRITE, 0);
	return c->bad_head ? 0x7fff : head;
}

/*
 * Writes an indirect table holding the normal request (blk: header, data,
 * status; others: data), breaks it as @ind says, and points descriptor
 * 0 at it. Returns the head, 0.
 */
static uint16_t build_indirect(struct virtq *vq, bool blk, int ind,
			       const struct bufs *b)
{
	struct virtq_desc *t = b->table;
	unsigned int n = blk ? 3 : 1;
	uint64_t addr = dma_addr(t);
	uint32_t len = n * sizeof(*t);
	uint16_t flags = VIRTQ_DESC_F_INDIRECT;

	b->hdr->type = VIRTIO_BLK_T_IN;
	b->hdr->reserved = 0;
	b->hdr->sector = 0;
	if (blk) {
		set_desc(t, 0, dma_addr(b->hdr), sizeof(*b->hdr),
			 VIRTQ_DESC_F_NEXT, 1);
		set_desc(t, 1, dma_addr(b->data), BUF_LEN,
			 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
		set_desc(t, 2, dma_addr(b->status), 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		set_desc(t, 0, dma_addr(b->data), BUF_LEN, VIRTQ_DESC_F_WRITE,
			 0);
	}
	if (ind == IND_BEYOND_RAM)
		addr = BEYOND_RAM;
	else if (ind == IND_EMPTY)
		len = 0;
	else if (ind == IND_ODD_LEN)
		len = 20;
	else if (ind == IND_NESTED)
		set_desc(t, 0, addr, len, VIRTQ_DESC_F_INDIRECT, 0);
	else if (ind == IND_LOOP)
		t[n - 1].flags |= VIRTQ_DESC_F_NEXT, t[n - 1].next = 0;
	else if (ind == IND_WITH_NEXT)
		flags |= VIRTQ_DESC_F_NEXT;
	set_desc(vq->desc, 0, addr, len, flags, 1);
	set_desc(vq->desc, 1, dma_addr(b->data), BUF_LEN, VIRTQ_DESC_F_WRITE,
		 0);
	return 0;
}

/* Publishes @head and kicks; returns the used index before. */
static uint16_t offer(struct vio_dev *d, struct virtq *vq, uint16_t head,
		      bool jump)
{
	uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	uint16_t idx = jump ? (uint16_t)(vq->num * 3 + 1) : 1;

	for (unsigned int i = 0; i < vq->num; i++)
		vq->avail->ring[i] = head;
	__atomic_store_n(&vq->avail->idx, idx, __ATOMIC_RELEASE);
	vio_notify(d, 0);
	return used;
}

/* Waits at most POLL_NS for the device to react, and says how. */
static void observe(struct vio_dev *d, struct virtq *vq, uint16_t used0,
		    const struct bufs *b, const char *name)
{
	uint64_t end = time_ns() + POLL_NS;
	uint16_t used;

	do {
		used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
		if (used != used0 ||
		    rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET)
			break;
	} while (time_ns() < end);
	report_info("%s: used idx %u -> %u, len %u, blk status %u, device "
		    "status %#x",
		    name, used0, used, vq->used->ring[0].len, *b->status,
		    rd(d, VIRTIO_MMIO_STATUS));
}

/* --- (b) on a packed ring ---------------------------------------------- */

/* Slot @i of the packed ring, available in the first lap (wrap 1) unless
 * @flags already carry AVAIL/USED bits; the head's flags come last. */
static void set_pdesc(struct virtq *vq, unsigned int i, uint64_t addr,
		      uint32_t len, uint16_t flags)
{
	struct virtq_packed_desc *d = &vq->pdesc[i];

	if (!(flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)))
		flags |= VIRTQ_DESC_F_AVAIL;
	d->addr = addr;
	d->len = len;
	d->id = 0;
	__atomic_store_n(&d->flags, flags,
			 i ? __ATOMIC_RELAXED : __ATOMIC_RELEASE);
}

/* The packed indirect table of the normal request, broken as @ind says,
 * named by slot 0. */
static void packed_indirect(struct virtq *vq, bool blk, int ind,
			    const struct bufs *b)
{
	struct virtq_packed_desc *t = (struct virtq_packed_desc *)b->table;
	unsigned int n = blk ? 3 : 1;
	uint64_t addr = dma_addr(t);
	uint32_t len = n * sizeof(*t);
	uint16_t flags = VIRTQ_DESC_F_INDIRECT;

	if (blk) {
		t[0] = (struct virtq_packed_desc){ dma_addr(b->hdr),
						   sizeof(*b->hdr), 0, 0 };
		t[1] = (struct virtq_packed_desc){ dma_addr(b->data), BUF_LEN,
						   0, VIRTQ_DESC_F_WRITE };
		t[2] = (struct virtq_packed_desc){ dma_addr(b->status), 1, 0,
						   VIRTQ_DESC_F_WRITE };
	} else {
		t[0] = (struct virtq_packed_desc){ dma_addr(b->data), BUF_LEN,
						   0, VIRTQ_DESC_F_WRITE };
	}
	if (ind == IND_BEYOND_RAM)
		addr = BEYOND_RAM;
	else if (ind == IND_EMPTY)
		len = 0;
	else if (ind == IND_ODD_LEN)
		len = 20;
	else if (ind == IND_NESTED)
		t[0].flags = VIRTQ_DESC_F_INDIRECT, t[0].addr = addr,
		t[0].len = len;
	else if (ind == IND_WITH_NEXT)
		flags |= VIRTQ_DESC_F_NEXT;
	set_pdesc(vq, 1, dma_addr(b->data), BUF_LEN, VIRTQ_DESC_F_WRITE);
	set_pdesc(vq, 0, addr, len, flags);
}

/*
 * The chain of @c in slots 0.. of a fresh packed ring: blk header, data
 * (the bad one), status; other devices the data descriptor alone, which
 * then starts at slot 0.
 */
static void packed_chain(struct virtq *vq, bool blk, const struct bad *c,
			 const struct bufs *b)
{
	uint64_t addr = c->addr ? c->addr : dma_addr(b->data);
	unsigned int d = blk ? 1 : 0, n = blk ? 3 : 1;
	uint16_t wflags = VIRTQ_DESC_F_WRITE;

	b->hdr->type = VIRTIO_BLK_T_IN;
	b->hdr->reserved = 0;
	b->hdr->sector = 0;
	if (c->ind) {
		packed_indirect(vq, blk, c->ind, b);
		return;
	}
	if (c->loop) {
		for (unsigned int i = vq->num; i-- > 0;)
			set_pdesc(vq, i, dma_addr(b->data), BUF_LEN,
				  VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
		return;
	}
	if (c->ro_after_rw) /* data writable, status readable */
		n = d + 2;
	if (blk) /* wild: NEXT on the last, into slot 3 */
		set_pdesc(vq, 2, dma_addr(b->status), 1,
			  (c->ro_after_rw ? 0 : VIRTQ_DESC_F_WRITE) |
				  (c->wild ? VIRTQ_DESC_F_NEXT : 0));
	else if (c->ro_after_rw)
		set_pdesc(vq, 1, dma_addr(b->status), 1, 0);
	if (n > d + 1 || c->wild)
		wflags |= VIRTQ_DESC_F_NEXT; /* wild: into slot d + 1 */
	if (c->jump) /* both bits of wrap 1: used, not available */
		wflags |= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	if (d)
		set_pdesc(vq, d, addr, c->len, wflags);
	if (blk)
		set_pdesc(vq, 0, dma_addr(b->hdr), sizeof(*b->hdr),
			  VIRTQ_DESC_F_NEXT |
				  (c->jump ? VIRTQ_DESC_F_AVAIL |
						     VIRTQ_DESC_F_USED
					   : 0));
	else
		set_pdesc(vq, 0, addr, c->len, wflags);
}

/* Kicks, waits at most POLL_NS for slot 0 to be used or the device to
 * need a reset, and says what happened. */
static void packed_offer(struct vio_dev *d, struct virtq *vq,
			 const struct bufs *b, const char *name)
{
	uint64_t end = time_ns() + POLL_NS;
	struct virtq_packed_desc *s = &vq->pdesc[0];
	uint16_t before = s->flags, flags;

	vio_notify(d, 0);
	do {
		flags = __atomic_load_n(&s->flags, __ATOMIC_ACQUIRE);
		if (flags != before ||
		    rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET)
			break;
	} while (time_ns() < end);
	report_info("%s: slot 0 flags %#x -> %#x, len %u, blk status %u, "
		    "device status %#x",
		    name, before, flags, s->len, *b->status,
		    rd(d, VIRTIO_MMIO_STATUS));
}

/* Brings the device up with queue 0 through the normal driver path. */
static int bring_up(struct vio_dev *d, struct virtq *vq)
{
	int err = vio_begin(d, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));

	if (!err)
		err = vio_queue_setup(d, 0, vq, QSIZE, 0);
	if (!err)
		err = vio_driver_ok(d);
	return err;
}

/* @only: 0 for every case, else the one case numbered from 1. */
static void bad_chains(struct vio_dev *d, const struct bufs *b, uint64_t only)
{
	bool blk = d->device_id == VIRTIO_ID_BLOCK;
	bool packed = d->ring_wanted & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	struct virtq vq;
	uint16_t used0, head;
	const char *name;

	for (unsigned int i = 0; i < NR_BAD; i++) {
		const struct bad *c = &bad_cases[i];

		if (only && only != i + 1)
			continue;
		name = packed ? c->packed : c->name;
		if (!name)
			continue; /* no packed form */

		if (!report(!bring_up(d, &vq), "%s: the device comes up",
			    name)) {
			report_info("%s", d->error);
			vio_reset(d);
			continue;
		}
		*b->status = 0xff;
		if (packed) {
			packed_chain(&vq, blk, c, b);
			packed_offer(d, &vq, b, name);
			check_alive(d, name);
			continue;
		}
		head = c->ind ? build_indirect(&vq, blk, c->ind, b)
			      : build_chain(&vq, blk, c, b);
		used0 = offer(d, &vq, head, c->jump);
		observe(d, &vq, used0, b, c->name);
		check_alive(d, c->name);
	}
}

/* --- (c) rings outside RAM ---------------------------------------------- */

enum { RING_DESC, RING_AVAIL, RING_USED };

static const unsigned int ring_reg[] = {
	[RING_DESC] = VIRTIO_MMIO_QUEUE_DESC_LOW,
	[RING_AVAIL] = VIRTIO_MMIO_QUEUE_DRIVER_LOW,
	[RING_USED] = VIRTIO_MMIO_QUEUE_DEVICE_LOW,
};
static const char *const ring_name[] = { "descriptor table", "avail ring",
					 "used ring" };

/* The end of the highest RAM range: a ring starting 16 bytes before it
 * runs past it. 0 if the device tree has no memory node. */
static uint64_t ram_end(void)
{
	struct dt_range r[8];
	int n = dt_memory(r, 8);
	uint64_t end = 0;

	for (int i = 0; i < n && i < 8; i++)
		if (r[i].base + r[i].size > end)
			end = r[i].base + r[i].size;
	return end;
}

/*
 * Sets queue 0 up properly, then moves ring part @part to @addr (allowed
 * while the queue is not ready) and sets DRIVER_OK: the device must answer
 * with DEVICE_NEEDS_RESET rather than start on it.
 */
static void ring_outside(struct vio_dev *d, int part, uint64_t addr,
			 const char *where)
{
	struct virtq vq;
	char what[96];
	uint32_t s;

	snprintf(what, sizeof(what), "%s %s (%#llx)", ring_name[part], where,
		 (unsigned long long)addr);
	if (!report(!vio_begin(d, 0) && !vio_queue_setup(d, 0, &vq, QSIZE, 0),
		    "%s: the queue is set up", what)) {
		report_info("%s", d->error);
		vio_reset(d);
		return;
	}
	wr(d, VIRTIO_MMIO_QUEUE_READY, 0);
	write_addr(d, ring_reg[part], addr);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS,
	   rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
	s = rd(d, VIRTIO_MMIO_STATUS);
	report(s & VIRTIO_CONFIG_S_NEEDS_RESET,
	       "%s: DRIVER_OK is refused with DEVICE_NEEDS_RESET (status %#x)",
	       what, s);
	check_alive(d, what);
}

static void rings_outside(struct vio_dev *d)
{
	bool packed = d->ring_wanted & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	uint64_t end = ram_end();

	for (int part = RING_DESC; part <= RING_USED; part++) {
		ring_outside(d, part, BEYOND_RAM, "beyond RAM");
		ring_outside(d, part, MMIO_HOLE, "in the MMIO hole");
		ring_outside(d, part, WRAPPING, "wrapping 2^64");
		/* A packed ring's event areas are 4 bytes: 2 before the end
		 * is across it. */
		if (end)
			ring_outside(
				d, part,
				end - (part != RING_DESC && packed ? 2 : 16),
				"across the end of RAM");
	}
}

/* --- (d) one good request ------------------------------------------------ */

static void good_blk(const struct vio_dev *found, uint8_t *buf)
{
	static struct blk_dev b;
	static struct blk_req r;
	int err = blk_open(&b, found, 1, QSIZE, 0);

	if (!report(!err, "blk: the device comes up for a real request")) {
		report_info("%s", b.vio.error);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.type = VIRTIO_BLK_T_IN;
	r.sector = 0;
	r.nseg = 1;
	r.seg[0] = (struct virtq_buf){ dma_addr(buf), BUF_LEN };
	err = blk_run(&b, 0, &r, GOOD_NS);
	report(!err && r.status == VIRTIO_BLK_S_OK,
	       "blk: sector 0 reads back (err %d, status %u)", err, r.status);
	vio_reset(&b.vio);
}

static void good_rng(const struct vio_dev *found, uint8_t *buf)
{
	static struct rng_dev r;
	long n;

	if (!report(!rng_open(&r, found, QSIZE),
		    "rng: the device comes up for a real request")) {
		report_info("%s", r.vio.error);
		return;
	}
	n = rng_read(&r, buf, 16, GOOD_NS);
	report(n > 0, "rng: a read of 16 bytes gets %ld", n);
	vio_reset(&r.vio);
}

static void good_request(const struct vio_dev *d, uint8_t *buf)
{
	if (d->device_id == VIRTIO_ID_BLOCK)
		good_blk(d, buf);
	else if (d->device_id == VIRTIO_ID_RNG)
		good_rng(d, buf);
	else
		report_skip("no ordinary request for device ID %u",
			    d->device_id);
}

int hostile_main(const char *args)
{
	static struct vio_dev d;
	uint64_t seed, rounds, only, ring;
	struct bufs b;

	if (vw_ring(args, &ring) || kv_get_u64(args, "seed", 1, &seed) == -2 ||
	    kv_get_u64(args, "rounds", 8, &rounds) == -2 ||
	    kv_get_u64(args, "case", 0, &only) == -2 || !(uint32_t)seed ||
	    rounds > MAX_ROUNDS || only > NR_BAD) {
		printf("ERROR: hostile: seed 1..2^32-1, rounds 0..%u, case "
		       "0..%u\n",
		       MAX_ROUNDS, (unsigned int)NR_BAD);
		return WORKLOAD_BAD_REQUEST;
	}
	if (find_first(&d)) {
		report_skip("hostile: no virtio-mmio device; attach one with "
			    "--device");
		return report_summary();
	}
	b.hdr = dma_alloc(sizeof(*b.hdr), 16);
	b.data = dma_alloc(BUF_LEN, 4096);
	b.status = dma_alloc(16, 16);
	b.table = dma_alloc(4 * sizeof(*b.table), 16);
	report_prefix_push("hostile");
	d.ring_wanted = ring;
	if (ring && (vio_begin(&d, 0) || vw_ring_check(&d, ring))) {
		if (d.error[0])
			report(false, "%s", d.error);
		vio_reset(&d);
		report_prefix_pop();
		return report_summary();
	}
	if (!report(b.hdr && b.data && b.status && b.table,
		    "buffers allocated")) {
		report_prefix_pop();
		return report_summary();
	}
	report_info("device ID %u at %#llx, seed %llu, %llu rounds",
		    d.device_id, (unsigned long long)d.base,
		    (unsigned long long)seed, (unsigned long long)rounds);
	random_writes(&d, (uint32_t)seed, rounds);
	bad_chains(&d, &b, only);
	rings_outside(&d);
	good_request(&d, b.data);
	report_prefix_pop();
	return report_summary();
}
