// SPDX-License-Identifier: MIT
/*
 * The guest's split virtqueue driver (guest/virtio/virtq.c) against the
 * device-side ring walker of vhost/ (vhu_vring), as a driver and a backend
 * would meet in a real VM: "guest memory" is one memfd mapped twice at
 * different addresses. The driver works in guest-physical addresses (the
 * offset in the memfd) through its own mapping, the device translates them
 * into the other mapping, so a pointer that skipped translation shows.
 *
 * Every round trip carries data: the driver writes a pattern into the
 * readable buffers, the device copies it into the writable ones, and the
 * driver compares. Notification decisions are checked in both directions
 * with and without EVENT_IDX, indices are taken past 65535, and a device
 * that writes impossible used elements must be reported, not followed.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "guest/virtio/virtq.h"
#include "tests/check.h"
#include "vhost/vring.h"
#include "virtio/virtio_config.h"

#define MEM_SIZE  (8ull << 20)
#define RING_GPA  0x1000ull   /* not 0: a null gpa would look valid */
#define DATA_GPA  0x200000ull /* request buffers: one slot per request */
#define SLOT_SIZE 0x4000ull
#define MAX_SLOTS ((MEM_SIZE - DATA_GPA) / SLOT_SIZE)
#define IOV_MAX_  (VIRTQ_MAX_SEGS + 4)

#define F_INDIRECT VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)
#define F_EVENT	   VIRTIO_BIT(VIRTIO_F_EVENT_IDX)
#define F_BASE	   VIRTIO_BIT(VIRTIO_F_VERSION_1)

/* Both views of guest memory, the driver's queue and the device's ring. */
struct rig {
	uint8_t *drv;
	uint8_t *dev;
	struct virtq vq;
	struct vhu_vring vr;
	struct iovec iov[IOV_MAX_];
	struct vhu_vring_elem elem;
	uint32_t rng;
};

/* One request in flight: its buffers and what the driver expects back. */
struct req {
	unsigned int slot, out, in;
	struct virtq_buf bufs[VIRTQ_MAX_SEGS];
	uint32_t out_len, in_len;
	uint8_t seed;
	bool busy;
};

static struct req reqs[MAX_SLOTS];

static void *translate(void *opaque, uint64_t gpa, uint64_t len)
{
	struct rig *r = opaque;

	if (!gpa || len > MEM_SIZE || gpa > MEM_SIZE - len)
		return NULL;
	return r->dev + gpa;
}

static uint32_t rnd(struct rig *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 17;
	r->rng ^= r->rng << 5;
	return r->rng;
}

static void rig_map(struct rig *r)
{
	check_map_twice(MEM_SIZE, &r->drv, &r->dev);
}

/* Driver and device on one queue of @num with @features. */
static void rig_open(struct rig *r, unsigned int num, uint64_t features,
		     unsigned int indirect_max)
{
	struct vhu_vring_config cfg = { .num = num, .features = features };

	memset(r, 0, sizeof(*r));
	memset(reqs, 0, sizeof(reqs));
	rig_map(r);
	r->rng = 0x12345678;
	CHECK(virtq_mem_size(num, indirect_max) < DATA_GPA - RING_GPA);
	CHECK_EQ(virtq_init(&r->vq, num, r->drv + RING_GPA, RING_GPA, features,
			    indirect_max),
		 0);
	cfg.desc = translate(r, r->vq.desc_gpa, virtq_desc_size(num));
	cfg.avail = translate(r, r->vq.avail_gpa, virtq_avail_size(num));
	cfg.used = translate(r, r->vq.used_gpa, virtq_used_size(num));
	cfg.translate = translate;
	cfg.opaque = r;
	CHECK_EQ(vhu_vring_init(&r->vr, &cfg), 0);
	r->elem.iov = r->iov;
	r->elem.iov_max = IOV_MAX_;
	/* The device's first decision is always "notify"; get it over. */
	CHECK(vhu_vring_should_notify(&r->vr));
}

static void rig_close(struct rig *r)
{
	munmap(r->drv, MEM_SIZE);
	munmap(r->dev, MEM_SIZE);
}

/* --- The device: copies what it reads into what it may write ------------ */

static uint32_t copy_chain(const struct vhu_vring_elem *e)
{
	unsigned int o = 0, i = e->out_num;
	size_t oo = 0, io = 0;
	uint32_t copied = 0;

	while (o < e->out_num && i < e->out_num + e->in_num) {
		size_t n = e->iov[o].iov_len - oo;

		if (n > e->iov[i].iov_len - io)
			n = e->iov[i].iov_len - io;
		memcpy((uint8_t *)e->iov[i].iov_base + io,
		       (uint8_t *)e->iov[o].iov_base + oo, n);
		copied += n;
		oo += n;
		io += n;
		if (oo == e->iov[o].iov_len)
			o++, oo = 0;
		if (io == e->iov[i].iov_len)
			i++, io = 0;
	}
	return copied;
}

/* Serves up to @max chains; returns how many. */
static unsigned int dev_serve(struct rig *r, unsigned int max)
{
	unsigned int n = 0;
	int ret;

	while (n < max && (ret = vhu_vring_pop(&r->vr, &r->elem)) == 1) {
		CHECK_EQ(vhu_vring_push(&r->vr, r->elem.head,
					copy_chain(&r->elem)),
			 0);
		n++;
	}
	CHECK(n == max || ret == 0);
	CHECK_EQ(r->vr.err, 0);
	return n;
}

/* --- The driver: requests with patterns --------------------------------- */

static uint64_t slot_gpa(unsigned int slot)
{
	return DATA_GPA + (uint64_t)slot * SLOT_SIZE;
}

static uint8_t pattern(uint8_t seed, uint32_t k)
{
	return (uint8_t)(seed + k * 7 + (k >> 8));
}

/* Splits @total bytes into @n buffers placed in the slot at @*at, with
 * gaps so that neighbours never touch. */
static void place(struct rig *r, struct virtq_buf *b, unsigned int n,
		  uint32_t total, uint64_t *at)
{
	for (unsigned int k = 0; k < n; k++) {
		uint32_t len = total / n + (k < total % n);

		b[k].addr = *at;
		b[k].len = len;
		*at += len + 8 + rnd(r) % 8;
	}
}

/* Builds a request of @out + @in buffers in @slot and writes its pattern. */
static struct req *req_make(struct rig *r, unsigned int slot, unsigned int out,
			    unsigned int in)
{
	struct req *q = &reqs[slot];
	uint64_t at = slot_gpa(slot);
	uint32_t k = 0;

	CHECK(!q->busy);
	q->slot = slot;
	q->out = out;
	q->in = in;
	q->seed = (uint8_t)rnd(r);
	q->out_len = out + rnd(r) % (out * 200);
	q->in_len = in ? in + rnd(r) % (in * 200) : 0;
	place(r, q->bufs, out, q->out_len, &at);
	place(r, q->bufs + out, in, q->in_len, &at);
	CHECK(at <= slot_gpa(slot) + SLOT_SIZE);
	for (unsigned int s = 0; s < out; s++)
		for (uint32_t b = 0; b < q->bufs[s].len; b++)
			r->drv[q->bufs[s].addr + b] = pattern(q->seed, k++);
	for (unsigned int s = out; s < out + in; s++)
		memset(r->drv + q->bufs[s].addr, 0xee, q->bufs[s].len);
	return q;
}

static int req_add(struct rig *r, struct req *q)
{
	int err = virtq_add(&r->vq, q->bufs, q->out, q->in, q);

	if (!err)
		q->busy = true;
	return err;
}

/* The driver's check of a completed request: the pattern, in order. */
static void req_check(struct rig *r, struct req *q, uint32_t len)
{
	uint32_t want = q->out_len < q->in_len ? q->out_len : q->in_len, k = 0;

	CHECK(q->busy);
	CHECK_EQ(len, want);
	for (unsigned int s = q->out; s < q->out + q->in && k < len; s++)
		for (uint32_t b = 0; b < q->bufs[s].len && k < len; b++)
			CHECK_EQ(r->drv[q->bufs[s].addr + b],
				 pattern(q->seed, k++));
	q->busy = false;
}

/* Takes every used element back and checks it; returns how many. */
static unsigned int drv_reap(struct rig *r)
{
	unsigned int n = 0;
	uint32_t len;
	void *tok;
	int ret;

	while ((ret = virtq_get_used(&r->vq, &tok, &len)) == 1) {
		req_check(r, tok, len);
		n++;
	}
	CHECK_EQ(ret, 0);
	return n;
}

/* The head of the chain added last, read back from the avail ring. */
static uint16_t last_head(const struct rig *r)
{
	return r->vq.avail->ring[(uint16_t)(r->vq.avail_idx - 1) % r->vq.num];
}

/* --- Cases --------------------------------------------------------------- */

/* Direct chains of every shape fill the ring, then ENOSPC, then reuse. */
static void test_direct(void)
{
	struct rig r;
	unsigned int slot = 0;
	struct req *q;

	rig_open(&r, 16, F_BASE, 0);
	CHECK(!r.vq.indirect);
	for (unsigned int out = 1; out <= 4; out++) {
		for (unsigned int in = 1; in <= 3; in++) {
			q = req_make(&r, slot++, out, in);
			CHECK_EQ(req_add(&r, q), 0);
			CHECK(!(r.vq.desc[last_head(&r)].flags &
				VIRTQ_DESC_F_INDIRECT));
			virtq_kick_prepare(&r.vq);
			CHECK_EQ(dev_serve(&r, 1), 1);
			CHECK_EQ(drv_reap(&r), 1);
			CHECK_EQ(virtq_num_free(&r.vq), 16);
		}
	}
	/* Eight 2-buffer chains take all 16 descriptors. */
	for (unsigned int k = 0; k < 8; k++)
		CHECK_EQ(req_add(&r, req_make(&r, slot + k, 1, 1)), 0);
	CHECK_EQ(virtq_num_free(&r.vq), 0);
	q = req_make(&r, slot + 8, 1, 1);
	CHECK_EQ(req_add(&r, q), VIRTQ_ENOSPC);
	virtq_kick_prepare(&r.vq);
	CHECK_EQ(dev_serve(&r, 100), 8);
	CHECK_EQ(drv_reap(&r), 8);
	CHECK_EQ(req_add(&r, q), 0);
	/* Longer than the ring without indirect tables: refused. */
	CHECK_EQ(virtq_add(&r.vq, q->bufs, 10, 10, q), VIRTQ_EINVAL);
	rig_close(&r);
}

/* Indirect chains: one ring descriptor each, even longer than the ring. */
static void test_indirect(void)
{
	struct rig r;
	struct req *q;
	unsigned int slot = 0;

	rig_open(&r, 8, F_BASE | F_INDIRECT, 32);
	CHECK(r.vq.indirect);
	for (unsigned int n = 2; n <= 32; n += 3) {
		q = req_make(&r, slot++, n / 2, n - n / 2);
		CHECK_EQ(req_add(&r, q), 0);
		CHECK(r.vq.desc[last_head(&r)].flags & VIRTQ_DESC_F_INDIRECT);
		CHECK_EQ(virtq_num_free(&r.vq), 7);
		virtq_kick_prepare(&r.vq);
		CHECK_EQ(dev_serve(&r, 1), 1);
		CHECK_EQ(drv_reap(&r), 1);
	}
	/* A full ring of indirect chains, then threshold 0: direct again. */
	for (unsigned int k = 0; k < 8; k++)
		CHECK_EQ(req_add(&r, req_make(&r, slot + k, 3, 3)), 0);
	CHECK_EQ(virtq_num_free(&r.vq), 0);
	virtq_kick_prepare(&r.vq);
	CHECK_EQ(dev_serve(&r, 100), 8);
	CHECK_EQ(drv_reap(&r), 8);
	r.vq.indirect_threshold = 0;
	CHECK_EQ(req_add(&r, req_make(&r, slot, 2, 2)), 0);
	CHECK(!(r.vq.desc[last_head(&r)].flags & VIRTQ_DESC_F_INDIRECT));
	CHECK_EQ(virtq_num_free(&r.vq), 4);
	/* Threshold 1: even a single buffer goes through a table. */
	r.vq.indirect_threshold = 1;
	CHECK_EQ(req_add(&r, req_make(&r, slot + 1, 1, 0)), 0);
	CHECK(r.vq.desc[last_head(&r)].flags & VIRTQ_DESC_F_INDIRECT);
	virtq_kick_prepare(&r.vq);
	CHECK_EQ(dev_serve(&r, 100), 2);
	CHECK_EQ(drv_reap(&r), 2);
	CHECK_EQ(virtq_num_free(&r.vq), 8);
	rig_close(&r);
}

/* indirect_after: ring descriptors, then one naming the rest's table. */
static void test_mixed(void)
{
	struct rig r;
	struct req *q;
	unsigned int slot = 0;

	rig_open(&r, 8, F_BASE | F_INDIRECT, 32);
	for (unsigned int d = 1; d <= 3; d++) {
		r.vq.indirect_after = d;
		for (unsigned int n = d + 1; n <= d + 20; n += 3) {
			uint16_t head, i;

			q = req_make(&r, slot++ % 64, (n + 1) / 2, n / 2);
			CHECK_EQ(req_add(&r, q), 0);
			head = last_head(&r);
			i = head;
			for (unsigned int k = 0; k < d; k++) {
				CHECK(!(r.vq.desc[i].flags &
					VIRTQ_DESC_F_INDIRECT));
				CHECK(r.vq.desc[i].flags & VIRTQ_DESC_F_NEXT);
				CHECK_EQ(r.vq.desc[i].addr, q->bufs[k].addr);
				i = r.vq.desc[i].next;
			}
			CHECK_EQ(r.vq.desc[i].flags, VIRTQ_DESC_F_INDIRECT);
			CHECK_EQ(r.vq.desc[i].len,
				 (n - d) * sizeof(struct virtq_desc));
			CHECK_EQ(virtq_num_free(&r.vq), 8 - (d + 1));
			virtq_kick_prepare(&r.vq);
			CHECK_EQ(dev_serve(&r, 1), 1);
			CHECK_EQ(drv_reap(&r), 1);
			CHECK_EQ(virtq_num_free(&r.vq), 8);
		}
	}
	/* No longer than indirect_after: the usual rule, one table. */
	r.vq.indirect_after = 4;
	CHECK_EQ(req_add(&r, req_make(&r, slot++ % 64, 2, 2)), 0);
	CHECK_EQ(r.vq.desc[last_head(&r)].flags, VIRTQ_DESC_F_INDIRECT);
	CHECK_EQ(virtq_num_free(&r.vq), 7);
	virtq_kick_prepare(&r.vq);
	CHECK_EQ(dev_serve(&r, 1), 1);
	CHECK_EQ(drv_reap(&r), 1);
	rig_close(&r);
}

/*
 * Many rounds at random depths and shapes, so both indices wrap past 65535
 * several times; the device completes in batches of random size.
 */
static void wrap_rounds(uint64_t features, unsigned int num)
{
	unsigned int next_slot = 0, in_flight = 0, done = 0, added = 0;
	struct rig r;

	rig_open(&r, num, features, 8);
	while (done < 200000) {
		unsigned int depth = 1 + rnd(&r) % num, n;

		for (unsigned int k = 0; k < depth; k++) {
			unsigned int out = 1 + rnd(&r) % 3;
			unsigned int in = 1 + rnd(&r) % 3;
			unsigned int slot;
			int err;

			if (in_flight == num)
				break;
			while (reqs[next_slot % num].busy)
				next_slot++;
			slot = next_slot++ % num;
			r.vq.indirect_threshold = rnd(&r) % 4;
			err = req_add(&r, req_make(&r, slot, out, in));
			if (err == VIRTQ_ENOSPC)
				break;
			if (err == VIRTQ_EINVAL && out + in > num)
				continue; /* direct, and longer than the ring */
			CHECK_EQ(err, 0);
			in_flight++;
			added++;
		}
		virtq_kick_prepare(&r.vq);
		dev_serve(&r, 1 + rnd(&r) % num);
		n = drv_reap(&r);
		in_flight -= n;
		done += n;
		CHECK_EQ(r.vq.in_flight, in_flight);
	}
	virtq_kick_prepare(&r.vq);
	dev_serve(&r, num);
	CHECK_EQ(drv_reap(&r), in_flight);
	CHECK_EQ(virtq_num_free(&r.vq), num);
	/* The free-running indices agree with the counts, modulo 2^16. */
	CHECK_EQ(r.vq.avail_idx, (uint16_t)added);
	CHECK_EQ(r.vq.last_used, (uint16_t)added);
	CHECK_EQ(vhu_vring_get_base(&r.vr), (uint16_t)added);
	CHECK(added > 3 * 65536);
	rig_close(&r);
}

static void test_wrap(void)
{
	wrap_rounds(F_BASE, 16);
	wrap_rounds(F_BASE | F_EVENT, 16);
	wrap_rounds(F_BASE | F_EVENT | F_INDIRECT, 4);
	wrap_rounds(F_BASE | F_INDIRECT, 64);
}

/* A chain the out-of-order device has taken but not yet given back. */
struct held {
	uint16_t head;
	uint32_t len;
};

/* Pops every available chain (copying its data at once) onto @h. */
static unsigned int dev_take_all(struct rig *r, struct held *h, unsigned int n)
{
	while (vhu_vring_pop(&r->vr, &r->elem) == 1)
		h[n++] = (struct held){ r->elem.head, copy_chain(&r->elem) };
	CHECK_EQ(r->vr.err, 0);
	return n;
}

/* Gives back @k of the @n held chains, picked at random; returns n - k. */
static unsigned int dev_give_random(struct rig *r, struct held *h,
				    unsigned int n, unsigned int k)
{
	while (k--) {
		unsigned int i = rnd(r) % n;

		CHECK_EQ(vhu_vring_push(&r->vr, h[i].head, h[i].len), 0);
		h[i] = h[--n];
	}
	return n;
}

/*
 * A device that completes chains in any order (vuvm-backend blk
 * --reorder, a restarted backend resubmitting its in-flight requests):
 * each used id must find its own request and data, and heads coming back
 * shuffled must leave the free list whole, over many rounds and wraps.
 */
static void ooo_rounds(uint64_t features, unsigned int num)
{
	unsigned int held_n = 0, done = 0, added = 0, n;
	struct held held[256];
	struct rig r;

	CHECK(num <= 256);
	rig_open(&r, num, features, 8);
	while (done < 100000) {
		for (unsigned int slot = 0; slot < num; slot++) {
			int err;

			if (reqs[slot].busy || rnd(&r) % 4 == 0)
				continue;
			r.vq.indirect_threshold = rnd(&r) % 4;
			err = req_add(&r, req_make(&r, slot, 1 + rnd(&r) % 3,
						   1 + rnd(&r) % 3));
			if (err == VIRTQ_ENOSPC)
				break;
			CHECK_EQ(err, 0);
			added++;
		}
		virtq_kick_prepare(&r.vq);
		held_n = dev_take_all(&r, held, held_n);
		if (held_n)
			held_n = dev_give_random(&r, held, held_n,
						 rnd(&r) % (held_n + 1));
		n = drv_reap(&r);
		done += n;
		CHECK_EQ(r.vq.in_flight, added - done);
	}
	held_n = dev_take_all(&r, held, held_n);
	dev_give_random(&r, held, held_n, held_n);
	done += drv_reap(&r);
	CHECK_EQ(done, added);
	CHECK_EQ(r.vq.in_flight, 0);
	CHECK_EQ(virtq_num_free(&r.vq), num);
	CHECK(added > 65536);
	rig_close(&r);
}

static void test_out_of_order(void)
{
	ooo_rounds(F_BASE, 16);
	ooo_rounds(F_BASE | F_EVENT | F_INDIRECT, 64);
	ooo_rounds(F_BASE | F_INDIRECT, 256);
}

/* Adds one 1+1 request in @slot and returns kick_prepare's decision. */
static bool add_and_kick(struct rig *r, unsigned int slot)
{
	CHECK_EQ(req_add(r, req_make(r, slot, 1, 1)), 0);
	return virtq_kick_prepare(&r->vq);
}

/* EVENT_IDX: kicks only when the device has caught up, interrupts only
 * when the driver asked; both across the 16-bit wrap. */
static void event_idx_rounds(struct rig *r)
{
	for (unsigned int round = 0; round < 3; round++) {
		/* The device is waiting at avail_event: the first add kicks,
		 * more adds before it pops do not. */
		CHECK(add_and_kick(r, 0));
		CHECK(!add_and_kick(r, 1));
		CHECK(!virtq_kick_prepare(&r->vq)); /* nothing new */
		CHECK_EQ(dev_serve(r, 2), 2);
		CHECK(add_and_kick(r, 2));
		dev_serve(r, 1);
		/* The driver polls: no interrupt for those three. */
		virtq_disable_cb(&r->vq);
		CHECK(!vhu_vring_should_notify(&r->vr));
		CHECK_EQ(drv_reap(r), 3);
		CHECK(!virtq_enable_cb(&r->vq));
		CHECK(add_and_kick(r, 3)); /* the device had caught up */
		dev_serve(r, 1);
		CHECK(vhu_vring_should_notify(&r->vr));
		/* Interrupts on, but the next one is not wanted until the
		 * driver has taken the last one. */
		CHECK(add_and_kick(r, 4));
		dev_serve(r, 1);
		CHECK(!vhu_vring_should_notify(&r->vr));
		/* A used entry left pending is reported by enable_cb. */
		virtq_disable_cb(&r->vq);
		CHECK(virtq_enable_cb(&r->vq));
		CHECK_EQ(drv_reap(r), 2);
	}
}

static void test_event_idx(void)
{
	struct rig r;

	rig_open(&r, 8, F_BASE | F_EVENT, 0);
	event_idx_rounds(&r);
	rig_close(&r);
	/* The same decisions with the indices just below the wrap: the
	 * driver's and device's counters start at 65531 (SET_VRING_BASE). */
	rig_open(&r, 8, F_BASE | F_EVENT, 0);
	r.vq.avail_idx = r.vq.kicked_avail_idx = r.vq.last_used = 65531;
	r.vq.avail->idx = r.vq.used->idx = 65531;
	*virtq_avail_event(r.vq.used, 8) = 65531;
	*virtq_used_event(r.vq.avail, 8) = 65531;
	r.vr.last_avail_idx = r.vr.used_idx = 65531;
	r.vr.signalled_used = 65531;
	for (unsigned int k = 0; k < 4; k++)
		event_idx_rounds(&r);
	CHECK(r.vq.avail_idx < 65531);
	rig_close(&r);
}

/* Without EVENT_IDX: the device's NO_NOTIFY and the driver's
 * NO_INTERRUPT flags. */
static void test_flags(void)
{
	struct rig r;

	rig_open(&r, 8, F_BASE, 0);
	CHECK(add_and_kick(&r, 0));
	CHECK(add_and_kick(&r, 1)); /* no suppression: every time */
	vhu_vring_disable_notify(&r.vr);
	CHECK(!add_and_kick(&r, 2));
	CHECK(vhu_vring_enable_notify(&r.vr)); /* chains arrived meanwhile */
	CHECK(add_and_kick(&r, 3));
	dev_serve(&r, 2);
	CHECK(vhu_vring_should_notify(&r.vr));
	virtq_disable_cb(&r.vq);
	CHECK(r.vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	dev_serve(&r, 2);
	CHECK(!vhu_vring_should_notify(&r.vr));
	CHECK(virtq_enable_cb(&r.vq)); /* four are waiting */
	CHECK_EQ(drv_reap(&r), 4);
	CHECK(!virtq_enable_cb(&r.vq));
	CHECK(add_and_kick(&r, 0));
	dev_serve(&r, 1);
	CHECK(vhu_vring_should_notify(&r.vr));
	CHECK_EQ(drv_reap(&r), 1);
	rig_close(&r);
}

/* --- A device that misbehaves -------------------------------------------- */

/* The device's own view of the used ring, written by hand. */
static void bad_used(struct rig *r, uint16_t idx, uint32_t id, uint32_t len)
{
	struct virtq_used *u = translate(r, r->vq.used_gpa, 4 + 8 * 8);
	uint16_t at = u->idx;

	u->ring[at % r->vq.num].id = id;
	u->ring[at % r->vq.num].len = len;
	__atomic_store_n(&u->idx, (uint16_t)(at + idx), __ATOMIC_RELEASE);
}

/* Opens a ring of 8 with two 1+1 chains in flight (heads 0 and 2). */
static void bad_open(struct rig *r)
{
	rig_open(r, 8, F_BASE, 0);
	CHECK_EQ(req_add(r, req_make(r, 0, 1, 1)), 0);
	CHECK_EQ(req_add(r, req_make(r, 1, 1, 1)), 0);
	virtq_kick_prepare(&r->vq);
}

/* The broken queue says so, and keeps saying so. */
static void bad_check(struct rig *r, const char *why)
{
	void *tok = NULL;
	uint32_t len = 0;

	CHECK_EQ(virtq_get_used(&r->vq, &tok, &len), VIRTQ_EPROTO);
	CHECK(tok == NULL);
	CHECK_HAS(virtq_error(&r->vq), why);
	CHECK_EQ(virtq_get_used(&r->vq, &tok, &len), VIRTQ_EBROKEN);
	CHECK(!virtq_has_used(&r->vq));
	CHECK_EQ(req_add(r, req_make(r, 5, 1, 1)), VIRTQ_EBROKEN);
	CHECK(!virtq_kick_prepare(&r->vq));
	rig_close(r);
}

static void test_bad_device(void)
{
	struct rig r;

	bad_open(&r);
	bad_used(&r, 1, 8, 0);
	bad_check(&r, "id 8 out of range 8");

	bad_open(&r);
	bad_used(&r, 1, 0xffffffff, 0);
	bad_check(&r, "out of range");

	bad_open(&r);
	bad_used(&r, 1, 1, 0); /* heads are 0 and 2 */
	bad_check(&r, "id 1 is not in flight");

	bad_open(&r);
	bad_used(&r, 1, 0, reqs[0].in_len + 1);
	bad_check(&r, "writable");

	bad_open(&r);
	bad_used(&r, 3, 0, 0); /* three used, two in flight */
	bad_check(&r, "entries ahead");

	/* The same chain completed twice: the second is not in flight. */
	bad_open(&r);
	dev_serve(&r, 1);
	CHECK_EQ(drv_reap(&r), 1);
	bad_used(&r, 1, 0, 0);
	bad_check(&r, "id 0 is not in flight");
}

/* Bad arguments are refused without breaking the queue. */
static void test_bad_args(void)
{
	static uint8_t mem[4096] __attribute__((aligned(16)));
	struct virtq vq;
	struct virtq_buf b = { 0x1000, 1 };

	CHECK_EQ(virtq_init(&vq, 6, mem, 0x1000, 0, 0), VIRTQ_EINVAL);
	CHECK_EQ(virtq_init(&vq, 0, mem, 0x1000, 0, 0), VIRTQ_EINVAL);
	CHECK_EQ(virtq_init(&vq, 8, mem + 8, 0x1000, 0, 0), VIRTQ_EINVAL);
	CHECK_EQ(virtq_init(&vq, 8, mem, 0x1008, 0, 0), VIRTQ_EINVAL);
	CHECK(virtq_mem_size(8, 0) <= sizeof(mem));
	CHECK_EQ(virtq_init(&vq, 8, mem, 0x1000, 0, 0), 0);
	CHECK_EQ(virtq_add(&vq, &b, 0, 0, &b), VIRTQ_EINVAL);
	CHECK_EQ(virtq_add(&vq, &b, 1, 0, NULL), VIRTQ_EINVAL);
	CHECK_EQ(virtq_add(&vq, &b, 1, 0, &b), 0);
	CHECK(virtq_kick_prepare(&vq));
	CHECK_EQ(vq.avail->idx, 1);
}

static const struct check_case cases[] = {
	{ "direct", test_direct },
	{ "indirect", test_indirect },
	{ "mixed", test_mixed },
	{ "wrap", test_wrap },
	{ "event_idx", test_event_idx },
	{ "flags", test_flags },
	{ "bad_device", test_bad_device },
	{ "bad_args", test_bad_args },
	{ "out_of_order", test_out_of_order },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
