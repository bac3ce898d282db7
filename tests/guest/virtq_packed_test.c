// SPDX-License-Identifier: MIT
/*
 * The guest's packed virtqueue driver (guest/virtio/virtq_packed.c) and
 * IN_ORDER on both ring types, against a small device written here: it
 * reads available descriptors by the spec's rules (AVAIL/USED bits and its
 * own wrap counter, chains by NEXT, indirect tables) and writes used
 * descriptors wherever a test says, good or bad, so every check of the
 * driver is shown to fire with its sentence. Guest addresses are the
 * host's own (identity), which the guest has too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "guest/virtio/virtq.h"
#include "virtio/virtio_config.h"

#define F_PACKED  VIRTIO_BIT(VIRTIO_F_RING_PACKED)
#define F_INORDER VIRTIO_BIT(VIRTIO_F_IN_ORDER)
#define F_EVENT	  VIRTIO_BIT(VIRTIO_F_EVENT_IDX)
#define F_IND	  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)

/* The device's view of a packed ring. */
struct dev {
	struct virtq_packed_desc *ring;
	unsigned int num;
	uint16_t avail, used; /* next slot to read / to write */
	bool avail_wrap, used_wrap;
};

/* What the device found in one available buffer. */
struct taken {
	uint16_t id;
	unsigned int ndesc; /* ring slots */
	unsigned int nbufs, nwrite;
	uint64_t addr[VIRTQ_MAX_SEGS];
	uint32_t len[VIRTQ_MAX_SEGS];
	bool indirect;
};

struct rig {
	struct virtq vq;
	void *mem;
	struct dev d;
	uint8_t data[4096];
};

static void rig_open(struct rig *r, unsigned int num, uint64_t features,
		     unsigned int indirect_max)
{
	size_t size = virtq_mem_size(num, indirect_max);

	memset(r, 0, sizeof(*r));
	r->mem = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);
	REQUIRE(r->mem);
	REQUIRE(virtq_init(&r->vq, num, r->mem, (uintptr_t)r->mem, features,
			   indirect_max) == 0);
	r->d = (struct dev){
		(void *)(uintptr_t)r->vq.desc_gpa, num, 0, 0, true, true
	};
	CHECK_EQ(r->vq.packed, !!(features & F_PACKED));
}

static void rig_close(struct rig *r)
{
	free(r->mem);
}

static void dev_step(uint16_t *pos, bool *wrap, unsigned int num)
{
	if (++*pos == num) {
		*pos = 0;
		*wrap = !*wrap;
	}
}

static bool slot_avail(const struct dev *d, uint16_t flags)
{
	bool a = flags & VIRTQ_DESC_F_AVAIL, u = flags & VIRTQ_DESC_F_USED;

	return a == d->avail_wrap && u != d->avail_wrap;
}

/* Takes the next available buffer; false when there is none. */
static bool dev_take(struct rig *r, struct taken *t)
{
	struct dev *d = &r->d;
	struct virtq_packed_desc *x = &d->ring[d->avail];
	uint16_t flags = __atomic_load_n(&x->flags, __ATOMIC_ACQUIRE);

	memset(t, 0, sizeof(*t));
	if (!slot_avail(d, flags))
		return false;
	t->id = x->id;
	if (flags & VIRTQ_DESC_F_INDIRECT) {
		struct virtq_packed_desc *tab = (void *)(uintptr_t)x->addr;

		CHECK_EQ(x->len % 16, 0);
		CHECK(!(flags & VIRTQ_DESC_F_NEXT));
		t->indirect = true;
		t->nbufs = x->len / 16;
		for (unsigned int k = 0; k < t->nbufs; k++) {
			t->addr[k] = tab[k].addr;
			t->len[k] = tab[k].len;
			t->nwrite += !!(tab[k].flags & VIRTQ_DESC_F_WRITE);
			CHECK_EQ(tab[k].flags & ~VIRTQ_DESC_F_WRITE, 0);
		}
		t->ndesc = 1;
		dev_step(&d->avail, &d->avail_wrap, d->num);
		return true;
	}
	for (;;) {
		x = &d->ring[d->avail];
		flags = x->flags;
		REQUIRE(slot_avail(d, flags));
		CHECK_EQ(x->id, t->id);
		t->addr[t->nbufs] = x->addr;
		t->len[t->nbufs] = x->len;
		t->nwrite += !!(flags & VIRTQ_DESC_F_WRITE);
		t->nbufs++;
		t->ndesc++;
		dev_step(&d->avail, &d->avail_wrap, d->num);
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return true;
		REQUIRE(t->nbufs < VIRTQ_MAX_SEGS);
	}
}

/* Writes a used descriptor for @id at the device's used position with
 * @flags' AVAIL/USED bits replaced by the used wrap counter (unless
 * @raw), then moves on by @skip slots. */
static void dev_put(struct rig *r, uint16_t id, uint32_t len, uint16_t flags,
		    bool raw, unsigned int skip)
{
	struct dev *d = &r->d;
	struct virtq_packed_desc *x = &d->ring[d->used];

	x->id = id;
	x->len = len;
	if (!raw)
		flags |= d->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED
				      : 0;
	__atomic_store_n(&x->flags, flags, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < skip; i++)
		dev_step(&d->used, &d->used_wrap, d->num);
}

static void dev_use(struct rig *r, const struct taken *t, uint32_t len)
{
	dev_put(r, t->id, len, t->nwrite ? VIRTQ_DESC_F_WRITE : 0, false,
		t->ndesc);
}

static int add(struct rig *r, unsigned int out, unsigned int in, void *tok)
{
	struct virtq_buf b[VIRTQ_MAX_SEGS];

	for (unsigned int k = 0; k < out + in; k++)
		b[k] = (struct virtq_buf){ (uintptr_t)&r->data[k * 16],
					   (uint32_t)(k + 1) };
	return virtq_add(&r->vq, b, out, in, tok);
}

/* in bytes of a chain built by add(). */
static uint32_t in_len(unsigned int out, unsigned int in)
{
	uint32_t n = 0;

	for (unsigned int k = out; k < out + in; k++)
		n += k + 1;
	return n;
}

/* Chains, indirect tables, ids, out of order use, ENOSPC. */
static void test_chains(void)
{
	struct rig r;
	struct taken t[3], extra;
	int tok[3];
	void *got;
	uint32_t len;

	rig_open(&r, 8, F_PACKED | F_IND, 8);
	r.vq.indirect_threshold = 4;
	CHECK_EQ(add(&r, 1, 0, &tok[0]), 0);
	CHECK_EQ(add(&r, 1, 2, &tok[1]), 0);
	CHECK_EQ(add(&r, 2, 3, &tok[2]), 0); /* indirect */
	CHECK_EQ(virtq_num_free(&r.vq), 8 - 1 - 3 - 1);
	for (int i = 0; i < 3; i++)
		REQUIRE(dev_take(&r, &t[i]));
	CHECK(!dev_take(&r, &extra));
	CHECK_EQ(t[0].ndesc, 1);
	CHECK_EQ(t[0].nwrite, 0);
	CHECK_EQ(t[1].ndesc, 3);
	CHECK_EQ(t[1].nwrite, 2);
	CHECK_EQ(t[1].addr[2], (uintptr_t)&r.data[32]);
	CHECK_EQ(t[1].len[2], 3);
	CHECK(t[2].indirect);
	CHECK_EQ(t[2].nbufs, 5);
	CHECK_EQ(t[2].nwrite, 3);
	CHECK_EQ(t[2].len[4], 5);
	CHECK(t[0].id != t[1].id && t[1].id != t[2].id);
	/* Out of order: the third, then the first; the second last. */
	dev_use(&r, &t[2], 12);
	dev_use(&r, &t[0], 0);
	CHECK(virtq_has_used(&r.vq));
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	CHECK(got == &tok[2] && len == 12);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	CHECK(got == &tok[0] && len == 0);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 0);
	dev_use(&r, &t[1], 5);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	CHECK(got == &tok[1] && len == 5);
	CHECK_EQ(virtq_num_free(&r.vq), 8);
	CHECK_EQ(r.vq.in_flight, 0);
	/* A chain longer than the ring, then a full ring. */
	r.vq.indirect_threshold = 0;
	CHECK_EQ(add(&r, 9, 0, &tok[0]), VIRTQ_EINVAL);
	CHECK_EQ(add(&r, 5, 0, &tok[0]), 0);
	CHECK_EQ(add(&r, 4, 0, &tok[1]), VIRTQ_ENOSPC);
	CHECK_EQ(add(&r, 3, 0, &tok[1]), 0);
	CHECK_EQ(virtq_num_free(&r.vq), 0);
	rig_close(&r);
}

/*
 * More than 65,536 buffers through a ring of 5 (not a power of 2),
 * chains of 1 to 3 slots that wrap mid-chain, completed in a shuffled
 * order two at a time: every token comes back once with its length, and
 * the wrap counters flip thousands of times.
 */
static void test_wrap(void)
{
	enum { TOTAL = 70000 };
	static unsigned int seen[TOTAL];
	unsigned int sent = 0, done = 0, flips = 0;
	uint32_t rng = 12345;
	struct taken t[5];
	unsigned int nt = 0;
	bool wrap0 = true;
	struct rig r;
	void *got;
	uint32_t len;

	rig_open(&r, 5, F_PACKED, 0);
	memset(seen, 0, sizeof(seen));
	while (done < TOTAL) {
		unsigned int n = 1 + sent % 3;

		while (sent < TOTAL && !add(&r, 1, n - 1, (void *)&seen[sent]))
			n = 1 + ++sent % 3;
		while (nt < 5 && dev_take(&r, &t[nt]))
			nt++;
		REQUIRE(nt > 0);
		rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
		for (unsigned int k = 0; k < 2 && nt; k++) {
			unsigned int i = rng % nt;
			uint32_t l =
				t[i].nwrite ? in_len(1, t[i].nbufs - 1) : 0;

			dev_use(&r, &t[i], l);
			t[i] = t[--nt];
		}
		while (virtq_get_used(&r.vq, &got, &len) == 1) {
			unsigned int idx = (unsigned int *)got - seen;

			CHECK_EQ(seen[idx]++, 0);
			CHECK_EQ(len, in_len(1, idx % 3));
			done++;
		}
		REQUIRE(!r.vq.err);
		flips += r.vq.used_wrap != wrap0;
		wrap0 = r.vq.used_wrap;
	}
	CHECK_EQ(virtq_num_free(&r.vq), 5);
	CHECK_MSG(flips > 20000, "used wrap counter flipped %u times", flips);
	CHECK_STR(virtq_error(&r.vq), "");
	rig_close(&r);
}

/* IN_ORDER, packed: one used descriptor for a batch of three. */
static void test_in_order_packed(void)
{
	struct rig r;
	struct taken t[4];
	int tok[4];
	void *got;
	uint32_t len;

	rig_open(&r, 8, F_PACKED | F_INORDER, 0);
	CHECK(r.vq.in_order);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(add(&r, 1, 1, &tok[i]), 0);
		REQUIRE(dev_take(&r, &t[i]));
	}
	/* The batch's last id, written over its first slot, skipping 6. */
	dev_put(&r, t[2].id, 1, VIRTQ_DESC_F_WRITE, false, 6);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
		CHECK(got == &tok[i]);
		CHECK_EQ(len, i == 2 ? 1 : 2); /* skipped: fully written */
	}
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 0);
	CHECK_EQ(r.vq.last_used, 6);
	dev_use(&r, &t[3], 2);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	CHECK(got == &tok[3] && len == 2);
	CHECK_EQ(virtq_num_free(&r.vq), 8);
	rig_close(&r);
}

/* IN_ORDER, split: one used entry, at the batch's first position, for a
 * batch of three; then an entry naming a buffer beyond the used index. */
static void test_in_order_split(void)
{
	struct rig r;
	int tok[4];
	void *got;
	uint32_t len;
	uint16_t heads[4];

	rig_open(&r, 8, F_INORDER, 0);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(add(&r, 1, 1, &tok[i]), 0);
		heads[i] = r.vq.avail->ring[i];
	}
	virtq_kick_prepare(&r.vq);
	r.vq.used->ring[0] = (struct virtq_used_elem){ heads[2], 1 };
	__atomic_store_n(&r.vq.used->idx, 3, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
		CHECK(got == &tok[i]);
		CHECK_EQ(len, i == 2 ? 1 : 2);
	}
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 0);
	/* Every entry written, as most devices do. */
	CHECK_EQ(add(&r, 1, 1, &tok[0]), 0);
	heads[0] = r.vq.avail->ring[4];
	virtq_kick_prepare(&r.vq);
	r.vq.used->ring[3] = (struct virtq_used_elem){ heads[3], 2 };
	r.vq.used->ring[4] = (struct virtq_used_elem){ heads[0], 1 };
	__atomic_store_n(&r.vq.used->idx, 5, __ATOMIC_RELEASE);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	CHECK(got == &tok[3] && len == 2);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	CHECK(got == &tok[0] && len == 1);
	/* Two in flight, used idx moved by one, the entry names the second. */
	CHECK_EQ(add(&r, 1, 1, &tok[1]), 0);
	CHECK_EQ(add(&r, 1, 1, &tok[2]), 0);
	virtq_kick_prepare(&r.vq);
	r.vq.used->ring[5] = (struct virtq_used_elem){ r.vq.avail->ring[6], 1 };
	__atomic_store_n(&r.vq.used->idx, 6, __ATOMIC_RELEASE);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), VIRTQ_EPROTO);
	CHECK_HAS(virtq_error(&r.vq),
		  "is not among the next 1 chains in order");
	rig_close(&r);
}

/* Each bad used descriptor breaks the queue with its own sentence. */
static void bad_case(uint16_t id_delta, uint32_t len, int flags_kind,
		     const char *want)
{
	struct rig r;
	struct taken t;
	int tok;
	void *got;
	uint32_t l;
	uint16_t w;

	rig_open(&r, 4, F_PACKED, 0);
	if (flags_kind != 3) {
		CHECK_EQ(add(&r, 1, 1, &tok), 0);
		REQUIRE(dev_take(&r, &t));
	} else {
		t.id = 0;
	}
	w = r.d.used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
	switch (flags_kind) {
	case 0: /* good bits */
	case 3: /* good bits, nothing in flight */
		dev_put(&r, (uint16_t)(t.id + id_delta), len,
			VIRTQ_DESC_F_WRITE | w, true, 1);
		break;
	case 1: /* both bits of the other lap */
		dev_put(&r, t.id, len, VIRTQ_DESC_F_WRITE, true, 1);
		break;
	case 2: /* USED set, AVAIL cleared */
		dev_put(&r, t.id, len, VIRTQ_DESC_F_USED, true, 1);
		break;
	}
	CHECK_EQ(virtq_get_used(&r.vq, &got, &l), VIRTQ_EPROTO);
	CHECK_HAS(virtq_error(&r.vq), want);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &l), VIRTQ_EBROKEN);
	CHECK_EQ(add(&r, 1, 0, &tok), VIRTQ_EBROKEN);
	CHECK(!virtq_kick_prepare(&r.vq));
	rig_close(&r);
}

static void test_bad_device(void)
{
	bad_case(0, 3, 0, "reports 3 bytes written, its chain has 2 writable");
	bad_case(1, 0, 0, "used id 1 is not in flight");
	bad_case(9, 0, 0, "used id 9 out of range 4");
	bad_case(0, 0, 1, "mark it used with wrap counter 0, expected 1");
	bad_case(0, 0, 2, "are neither available nor used in wrap 1");
	bad_case(0, 0, 3, "but no buffer is in flight");
}

/* A used descriptor without WRITE: its length is reserved, so 0. */
static void test_len_reserved(void)
{
	struct rig r;
	struct taken t;
	int tok;
	void *got;
	uint32_t len;

	rig_open(&r, 4, F_PACKED, 0);
	CHECK_EQ(add(&r, 2, 0, &tok), 0);
	REQUIRE(dev_take(&r, &t));
	dev_put(&r, t.id, 72, 0, false, 2);
	CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	CHECK(got == &tok && len == 0);
	rig_close(&r);
}

/* Both event suppression areas, with and without EVENT_IDX. */
static void test_events(void)
{
	struct rig r;
	struct taken t;
	int tok[8];
	void *got;
	uint32_t len;

	rig_open(&r, 4, F_PACKED, 0);
	virtq_disable_cb(&r.vq);
	CHECK_EQ(r.vq.driver_event->flags, VIRTQ_EVENT_F_DISABLE);
	CHECK(!virtq_enable_cb(&r.vq));
	CHECK_EQ(r.vq.driver_event->flags, VIRTQ_EVENT_F_ENABLE);
	CHECK(!virtq_kick_prepare(&r.vq)); /* nothing added */
	CHECK_EQ(add(&r, 1, 0, &tok[0]), 0);
	r.vq.device_event->flags = VIRTQ_EVENT_F_DISABLE;
	CHECK(!virtq_kick_prepare(&r.vq));
	CHECK_EQ(add(&r, 1, 0, &tok[1]), 0);
	r.vq.device_event->flags = VIRTQ_EVENT_F_ENABLE;
	CHECK(virtq_kick_prepare(&r.vq));
	REQUIRE(dev_take(&r, &t));
	dev_use(&r, &t, 0);
	CHECK(virtq_enable_cb(&r.vq)); /* pending: process, do not sleep */
	rig_close(&r);

	rig_open(&r, 4, F_PACKED | F_EVENT, 0);
	CHECK(!virtq_enable_cb(&r.vq));
	CHECK_EQ(r.vq.driver_event->flags, VIRTQ_EVENT_F_DESC);
	CHECK_EQ(r.vq.driver_event->off_wrap, VIRTQ_PACKED_WRAP | 0);
	/* The device wants a kick once slot 2 of wrap 1 is available. */
	r.vq.device_event->flags = VIRTQ_EVENT_F_DESC;
	r.vq.device_event->off_wrap = VIRTQ_PACKED_WRAP | 2;
	CHECK_EQ(add(&r, 1, 0, &tok[0]), 0);
	CHECK_EQ(add(&r, 1, 0, &tok[1]), 0);
	CHECK(!virtq_kick_prepare(&r.vq)); /* slots 0, 1 */
	CHECK_EQ(add(&r, 1, 0, &tok[2]), 0);
	CHECK(virtq_kick_prepare(&r.vq)); /* slot 2 */
	for (int i = 0; i < 3; i++) {
		REQUIRE(dev_take(&r, &t));
		dev_use(&r, &t, 0);
		CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	}
	/* Across the wrap: slot 3 (wrap 1), then 0 and 1 of wrap 0; the
	 * device asks for slot 0 of wrap 0. */
	r.vq.device_event->off_wrap = 0;
	CHECK_EQ(add(&r, 1, 0, &tok[3]), 0);
	CHECK(!virtq_kick_prepare(&r.vq));
	CHECK_EQ(add(&r, 1, 0, &tok[4]), 0);
	CHECK_EQ(add(&r, 1, 0, &tok[5]), 0);
	CHECK(!r.vq.avail_wrap);
	CHECK(virtq_kick_prepare(&r.vq));
	/* An event from the previous lap (slot 2, wrap 1) lies behind, though
	 * slot 2 of this lap is made available now. */
	r.vq.device_event->off_wrap = VIRTQ_PACKED_WRAP | 2;
	CHECK_EQ(add(&r, 1, 0, &tok[6]), 0);
	CHECK(!virtq_kick_prepare(&r.vq));
	/* The driver's off_wrap follows its used position and wrap. */
	for (int i = 0; i < 3; i++) {
		REQUIRE(dev_take(&r, &t));
		dev_use(&r, &t, 0);
		CHECK_EQ(virtq_get_used(&r.vq, &got, &len), 1);
	}
	CHECK(!virtq_enable_cb(&r.vq));
	CHECK_EQ(r.vq.driver_event->off_wrap, 2); /* slot 2, wrap 0 */
	rig_close(&r);
}

static const struct check_case cases[] = {
	{ "chains", test_chains },
	{ "wrap", test_wrap },
	{ "in_order_packed", test_in_order_packed },
	{ "in_order_split", test_in_order_split },
	{ "bad_device", test_bad_device },
	{ "len_reserved", test_len_reserved },
	{ "events", test_events },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
