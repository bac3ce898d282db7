// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the backend-side packed ring walker (vhost/vring.c with
 * VIRTIO_F_RING_PACKED) over a guest memory the input fills, and a script
 * of what the device and the driver do next.
 *
 * Guest memory is MEM_SIZE bytes at guest-physical 0: the descriptor ring
 * at 0, the driver area at DRIVER, the device area at DEVICE. Input layout
 * (make_seeds.py writes the seeds):
 *   byte 0       bits 0-4: queue size - 1 (1..32, any size); bit 5:
 *                EVENT_IDX; bit 6: INDIRECT_DESC; bit 7: IN_ORDER
 *   byte 1       iov_max (bits 0-5); bit 6: a 4 KiB hole at HOLE that
 *                translation refuses; bit 7: an in-flight region
 *   bytes 2-5    SET_VRING_BASE (the 32-bit packed position, LE)
 *   bytes 6-9    the driver area: off_wrap, flags
 *   byte 10      number of script steps (0..32; 0: pop and push until the
 *                ring is empty or failed)
 *   then         the steps, 4 bytes each {u8 op, u8 arg, u16 val}
 *   then         with an in-flight region, its 32 + 32 * size bytes
 *   the rest     guest memory from address 0
 *
 * Checked: every segment lies inside guest memory and is non-empty, at
 * most iov_max of them, their lengths add up; a popped id is below the
 * size and not in flight already; push accepts exactly the ids in flight
 * (under IN_ORDER only the oldest) and writes the used descriptor (id,
 * len, AVAIL and USED equal to the used wrap counter) at the used
 * position, which then moves by the buffer's descriptors; the position
 * (get_base) only moves on pop and push; once a call fails, the ring stays
 * failed with the same error and a sentence, and writes nothing more to
 * the descriptor ring or the device area. With an in-flight region, init
 * survives whatever it holds, and a restart on the region this ring left
 * hands back exactly the ids popped and not pushed, oldest first, when
 * nothing else touched ring or region in between.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_guest_mem.h"
#include "vhost/protocol.h"
#include "vhost/vring.h"
#include "virtio/virtio_config.h"

#define DRIVER	  0x1000u
#define DEVICE	  0x1010u
#define HDR_LEN	  11
#define STEP_LEN  4
#define MAX_STEPS 32
#define MAX_NUM	  32

static uint8_t region[sizeof(struct vhu_inflight_packed_header) +
		      MAX_NUM * sizeof(struct vhu_inflight_desc_packed)]
	__attribute__((aligned(64)));

struct fuzz {
	struct vhu_vring vr;
	struct vhu_vring_config cfg;
	struct vhu_vring_elem elem;
	unsigned int iov_max;
	uint16_t ids[MAX_NUM]; /* popped, not yet pushed, oldest first */
	unsigned int nr_ids;
	bool exact; /* ids[] is exactly what the region has in flight */
	int err;
	uint8_t ring_copy[16 * MAX_NUM + 4]; /* once failed: ring, device */
};

static struct fuzz f;

static void snapshot(void)
{
	memcpy(f.ring_copy, mem, 16 * f.cfg.num);
	memcpy(f.ring_copy + 16 * f.cfg.num, mem + DEVICE, 4);
}

static bool unchanged(void)
{
	return !memcmp(f.ring_copy, mem, 16 * f.cfg.num) &&
	       !memcmp(f.ring_copy + 16 * f.cfg.num, mem + DEVICE, 4);
}

static void check_failed(int ret)
{
	FUZZ_CHECK(ret < 0 && ret == f.vr.err);
	FUZZ_CHECK(vhu_vring_error(&f.vr)[0]);
	if (!f.err) {
		f.err = ret;
		snapshot();
		return;
	}
	FUZZ_CHECK(ret == f.err);
}

static void check_state(void)
{
	if (!f.vr.err) {
		FUZZ_CHECK(!f.err);
		return;
	}
	check_failed(f.vr.err);
	FUZZ_CHECK(vhu_vring_pending(&f.vr) == f.err);
	FUZZ_CHECK(vhu_vring_pop(&f.vr, &f.elem) == f.err);
	FUZZ_CHECK(vhu_vring_fill(&f.vr, 0, 0) == f.err);
	vhu_vring_flush(&f.vr);
	FUZZ_CHECK(!vhu_vring_should_notify(&f.vr));
	vhu_vring_disable_notify(&f.vr);
	FUZZ_CHECK(!vhu_vring_enable_notify(&f.vr));
	FUZZ_CHECK(unchanged());
}

static bool known_error(int ret)
{
	return ret == -EINVAL || ret == -EFAULT || ret == -ELOOP ||
	       ret == -EOVERFLOW || ret == -ENOBUFS;
}

static void check_elem(const struct vhu_vring_elem *e)
{
	unsigned int n = e->out_num + e->in_num;
	uint64_t out = 0, in = 0;

	FUZZ_CHECK(e->head < f.cfg.num);
	FUZZ_CHECK(n <= f.iov_max);
	for (unsigned int i = 0; i < n; i++) {
		FUZZ_CHECK(e->iov[i].iov_len > 0 && inside_mem(&e->iov[i]));
		*(i < e->out_num ? &out : &in) += e->iov[i].iov_len;
	}
	FUZZ_CHECK(out == e->out_len && in == e->in_len);
}

static void step_pop(void)
{
	uint32_t before = vhu_vring_get_base(&f.vr);
	bool resubmit = f.vr.resubmit;
	int ret = vhu_vring_pop(&f.vr, &f.elem);

	if (ret <= 0) {
		if (ret < 0) {
			FUZZ_CHECK(known_error(ret));
			check_failed(ret);
		}
		FUZZ_CHECK(vhu_vring_get_base(&f.vr) == before);
		return;
	}
	FUZZ_CHECK(ret == 1);
	FUZZ_CHECK(resubmit || vhu_vring_get_base(&f.vr) != before);
	check_elem(&f.elem);
	/* A resubmitted id is one the region had in flight (already in
	 * ids[]); a new one must not be in flight. */
	for (unsigned int i = 0; i < f.nr_ids; i++)
		if (f.ids[i] == f.elem.head) {
			FUZZ_CHECK(resubmit);
			return;
		}
	FUZZ_CHECK(!resubmit || f.nr_ids == MAX_NUM);
	FUZZ_CHECK(f.nr_ids < MAX_NUM);
	f.ids[f.nr_ids++] = f.elem.head;
}

/* Pushes ids[@k]; checks the used descriptor and the position. */
static void step_push(unsigned int k, uint32_t len)
{
	uint16_t id, slot = f.vr.used_idx, slots;
	bool wrap = f.vr.used_wrap;
	struct virtq_packed_desc *d;
	int ret;

	if (f.vr.err) {
		FUZZ_CHECK(vhu_vring_push(&f.vr, 0, len) == f.err);
		return;
	}
	if (!f.nr_ids)
		return;
	k %= f.nr_ids;
	id = f.ids[k];
	slots = f.vr.id_slots[id];
	ret = vhu_vring_push(&f.vr, id, len);
	if (f.vr.in_order && k) {
		FUZZ_CHECK(ret == -EINVAL);
		check_failed(ret);
		return;
	}
	FUZZ_CHECK(ret == 0);
	memmove(f.ids + k, f.ids + k + 1, (--f.nr_ids - k) * sizeof(*f.ids));
	d = (struct virtq_packed_desc *)mem + slot;
	FUZZ_CHECK(d->id == id && d->len == len);
	FUZZ_CHECK((d->flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) ==
		   (wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0));
	FUZZ_CHECK(slots >= 1 && slots <= f.cfg.num);
	slot = (uint16_t)(slot + slots);
	if (slot >= f.cfg.num) {
		slot = (uint16_t)(slot - f.cfg.num);
		wrap = !wrap;
	}
	FUZZ_CHECK(f.vr.used_idx == slot && f.vr.used_wrap == wrap);
	vhu_vring_should_notify(&f.vr);
}

/* After init: the ids the region had in flight are the device's. */
static void take_resubmitted(void)
{
	const struct vhu_inflight_desc_packed *e;

	f.nr_ids = 0;
	if (!f.cfg.inflight_packed)
		return;
	e = (const void *)(f.cfg.inflight_packed + 1);
	for (unsigned int i = 0; i < f.vr.resubmit_num && i < MAX_NUM; i++)
		f.ids[f.nr_ids++] = e[f.vr.resubmit[i]].id;
}

static void restart(uint32_t base)
{
	uint16_t ids[MAX_NUM];
	unsigned int nr = f.nr_ids;
	bool exact =
		f.exact && !f.vr.err && f.cfg.inflight_packed && !f.vr.resubmit;
	int ret;

	memcpy(ids, f.ids, sizeof(ids));
	vhu_vring_cleanup(&f.vr);
	f.cfg.base = base;
	f.err = 0;
	f.nr_ids = 0;
	ret = vhu_vring_init(&f.vr, &f.cfg);
	if (ret) {
		if (exact)
			fprintf(stderr, "restart: %s\n",
				vhu_vring_error(&f.vr));
		FUZZ_CHECK(!exact);
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM);
		check_failed(ret);
		check_state();
		return;
	}
	take_resubmitted();
	if (!exact)
		return;
	FUZZ_CHECK(f.nr_ids == nr);
	for (unsigned int i = 0; i < nr; i++)
		FUZZ_CHECK(f.ids[i] == ids[i]);
}

static void step(const uint8_t *s)
{
	uint16_t val = le16(s + 2);
	uint8_t arg = s[1];

	switch (s[0] & 7) {
	case 0:
		step_pop();
		break;
	case 1:
		step_push(arg, val);
		break;
	case 2: /* any id, in flight or not */
		if (vhu_vring_push(&f.vr, val, 0) == 0) {
			for (unsigned int i = 0; i < f.nr_ids; i++)
				if (f.ids[i] == val) {
					memmove(f.ids + i, f.ids + i + 1,
						(--f.nr_ids - i) *
							sizeof(*f.ids));
					break;
				}
		}
		f.exact = false;
		break;
	case 3: /* the driver changes its area */
		((struct virtq_packed_event *)(mem + DRIVER))->off_wrap = val;
		((struct virtq_packed_event *)(mem + DRIVER))->flags = arg;
		FUZZ_CHECK(!vhu_vring_should_notify(&f.vr) || !f.vr.err);
		break;
	case 4: /* the driver (or frontend) changes memory between calls */
		if (s[0] & 8 && f.cfg.inflight_packed)
			region[val % sizeof(region)] = arg;
		else
			mem[((uint32_t)val << 4 | (s[0] >> 4)) % MEM_SIZE] =
				arg;
		f.exact = false;
		if (f.err)
			snapshot(); /* the driver may write there too */
		break;
	case 5:
		if (arg & 1)
			vhu_vring_disable_notify(&f.vr);
		else
			vhu_vring_enable_notify(&f.vr);
		break;
	case 6:
		restart((uint32_t)val << 16 | val);
		return;
	default:
		FUZZ_CHECK(vhu_vring_pending(&f.vr) >= 0 || f.vr.err);
		break;
	}
	check_state();
}

static void drain(void)
{
	for (unsigned int i = 0; i < 2 * MAX_NUM && !f.vr.err; i++) {
		step_pop();
		check_state();
		if (!f.nr_ids)
			break;
		step_push(0, 1);
		check_state();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iovec *iov;
	size_t steps, off, rlen = 0;
	int ret;

	if (size < HDR_LEN)
		return 0;
	memset(&f, 0, sizeof(f));
	memset(mem, 0, sizeof(mem));
	memset(region, 0, sizeof(region));
	f.cfg.num = (data[0] & 31) + 1;
	f.cfg.features =
		VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		(data[0] & 32 ? VIRTIO_BIT(VIRTIO_F_EVENT_IDX) : 0) |
		(data[0] & 64 ? VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) : 0) |
		(data[0] & 128 ? VIRTIO_BIT(VIRTIO_F_IN_ORDER) : 0);
	f.iov_max = data[1] & 63;
	mem_hole = data[1] & 64;
	f.cfg.packed_desc = (struct virtq_packed_desc *)mem;
	f.cfg.driver_event = (struct virtq_packed_event *)(mem + DRIVER);
	f.cfg.device_event = (struct virtq_packed_event *)(mem + DEVICE);
	f.cfg.base = (uint32_t)le16(data + 2) | (uint32_t)le16(data + 4) << 16;
	f.cfg.translate = translate;
	if (data[1] & 128) {
		f.cfg.inflight_packed = (void *)region;
		rlen = sizeof(struct vhu_inflight_packed_header) +
		       f.cfg.num * sizeof(struct vhu_inflight_desc_packed);
	}
	steps = data[10] % (MAX_STEPS + 1);
	off = HDR_LEN + steps * STEP_LEN;
	if (off > size)
		steps = (size - HDR_LEN) / STEP_LEN;
	off = HDR_LEN + steps * STEP_LEN;
	if (rlen) {
		size_t n = size - off < rlen ? size - off : rlen;

		memcpy(region, data + off, n);
		off += n;
	}
	memcpy(mem, data + off, size - off < MEM_SIZE ? size - off : MEM_SIZE);
	memcpy(mem + DRIVER, data + 6, 4);
	iov = calloc(f.iov_max ? f.iov_max : 1, sizeof(*iov));
	if (!iov)
		return 0;
	f.elem.iov = iov;
	f.elem.iov_max = f.iov_max;
	ret = vhu_vring_init(&f.vr, &f.cfg);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM);
		FUZZ_CHECK(vhu_vring_error(&f.vr)[0]);
		vhu_vring_cleanup(&f.vr);
		free(iov);
		return 0;
	}
	/* Exact tracking only for a region this run started fresh. */
	f.exact = rlen && f.vr.resubmit_num == 0 &&
		  ((struct vhu_inflight_packed_header *)region)->version == 1;
	take_resubmitted();
	if (!steps)
		drain();
	for (size_t i = 0; i < steps; i++)
		step(data + HDR_LEN + i * STEP_LEN);
	vhu_vring_cleanup(&f.vr);
	free(iov);
	return 0;
}
