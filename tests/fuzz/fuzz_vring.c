// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the backend-side ring walker (vhost/vring.c) over a
 * guest memory the input fills: descriptor table, avail and used rings and
 * buffers, the ring's size and features, and a script of what the device
 * and the driver do next.
 *
 * Guest memory is MEM_SIZE bytes at guest-physical 0; the descriptor table
 * is at 0, the avail ring right after it, the used ring after that
 * (4-aligned). Input layout (see docs/vhost-user.md and make_seeds.py):
 *   byte 0       bits 0-3: queue size 1 << n; bit 4: EVENT_IDX; bit 5:
 *                INDIRECT_DESC; bit 6: avail ring 1 byte off its
 *                alignment; bit 7: used ring 2 bytes off (init must refuse)
 *   byte 1       iov_max (bits 0-5); bit 6: a 4 KiB hole at HOLE that
 *                translation refuses, as between two memory regions; bit
 *                7: the ring has an in-flight region (INFLIGHT_SHMFD)
 *   bytes 2-3    SET_VRING_BASE (LE, as all that follows)
 *   bytes 4-11   avail idx, avail flags, used idx, used_event: written over
 *                the image below
 *   byte 12      number of script steps (0..32; 0: pop and push until the
 *                ring is empty or failed)
 *   then         the steps, 4 bytes each {u8 op, u8 arg, u16 val}
 *   then         with an in-flight region, its 16 + 16 * size bytes as a
 *                previous backend process (or a hostile frontend) left
 *                them; missing bytes are zero
 *   the rest     guest memory from address 0
 *
 * Checked: every segment lies inside guest memory and is non-empty; their
 * count never exceeds iov_max (the iovec array is allocated to exactly
 * iov_max entries, so ASan sees an overrun) nor the descriptors a chain can
 * have; their lengths add up to out_len and in_len; translation is never
 * asked for 0 bytes; with EVENT_IDX avail_event follows the popped
 * position; used elements never outnumber popped chains; once a call
 * fails, the ring stays failed with the same error and a sentence, and
 * writes nothing more to the used ring. With an in-flight region: init
 * (the recovery) survives whatever the region holds; a popped head is
 * marked in flight and a pushed one cleared, with the used index
 * published; and a restart on the region this ring left (a step) hands
 * back exactly the heads popped and not pushed, oldest first, when
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

#define HDR_LEN	  13
#define STEP_LEN  4
#define MAX_STEPS 32
#define MAX_HEADS 64

static uint8_t region[sizeof(struct vhu_inflight_split_header) +
		      VIRTQ_MAX_SIZE * sizeof(struct vhu_inflight_desc_split)]
	__attribute__((aligned(64)));

struct fuzz {
	struct vhu_vring vr;
	struct vhu_vring_config cfg;
	struct vhu_vring_elem elem;
	unsigned int iov_max;
	uint16_t heads[MAX_HEADS]; /* popped, not yet pushed */
	unsigned int nr_heads;
	unsigned long pops, fills; /* successful ones */
	bool count_fills;	   /* used idx started at base */
	bool exact; /* heads[] is exactly what the region has in flight */
	bool region_disturbed; /* by the frontend, or a push never popped */
	/* the failure, once there is one */
	int err;
	uint16_t used_flags, used_idx, avail_event;
};

static struct fuzz f;

static void snapshot_used(void)
{
	if (!f.cfg.used)
		return; /* init refused the ring */
	f.used_flags = f.cfg.used->flags;
	f.used_idx = f.cfg.used->idx;
	f.avail_event = *virtq_avail_event(f.cfg.used, f.cfg.num);
}

/* The ring has failed: what it shows from now on must not change. */
static void check_failed(int ret)
{
	FUZZ_CHECK(ret < 0 && ret == f.vr.err);
	FUZZ_CHECK(vhu_vring_error(&f.vr)[0]);
	if (!f.err) {
		f.err = ret;
		snapshot_used();
		return;
	}
	FUZZ_CHECK(ret == f.err);
}

/* After every step: a failed ring stays failed, silent and unchanged. */
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
	if (!f.cfg.used)
		return; /* init refused it */
	FUZZ_CHECK(f.cfg.used->flags == f.used_flags);
	FUZZ_CHECK(f.cfg.used->idx == f.used_idx);
	FUZZ_CHECK(*virtq_avail_event(f.cfg.used, f.cfg.num) == f.avail_event);
}

static bool known_error(int ret)
{
	return ret == -EINVAL || ret == -EFAULT || ret == -ELOOP ||
	       ret == -EOVERFLOW || ret == -ENOBUFS || ret == -EPROTO;
}

static struct vhu_inflight_desc_split *inflight_entry(unsigned int head)
{
	return (struct vhu_inflight_desc_split *)(f.cfg.inflight + 1) + head;
}

static void remember_head(uint16_t head)
{
	for (unsigned int i = 0; i < f.nr_heads; i++)
		if (f.heads[i] == head)
			f.exact = false; /* the driver offered it twice */
	if (f.nr_heads < MAX_HEADS)
		f.heads[f.nr_heads++] = head;
	else
		f.exact = false;
}

/* One popped chain, checked segment by segment. */
static void check_elem(const struct vhu_vring_elem *e)
{
	unsigned int n = e->out_num + e->in_num, max_descs;
	uint64_t out = 0, in = 0;

	/* Direct descriptors, or some then one indirect table. */
	max_descs = f.vr.indirect ? f.cfg.num - 1 + VIRTQ_MAX_SIZE : f.cfg.num;
	FUZZ_CHECK(e->head < f.cfg.num);
	FUZZ_CHECK(n <= f.iov_max && n <= max_descs);
	for (unsigned int i = 0; i < n; i++) {
		FUZZ_CHECK(e->iov[i].iov_len > 0 && inside_mem(&e->iov[i]));
		*(i < e->out_num ? &out : &in) += e->iov[i].iov_len;
	}
	FUZZ_CHECK(out == e->out_len && in == e->in_len);
}

static void step_pop(void)
{
	uint16_t before = vhu_vring_get_base(&f.vr);
	bool resubmit = f.vr.resubmit; /* base stays: already counted */
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
	FUZZ_CHECK(vhu_vring_get_base(&f.vr) == (uint16_t)(before + !resubmit));
	if (f.vr.event_idx && !resubmit)
		FUZZ_CHECK(*virtq_avail_event(f.cfg.used, f.cfg.num) ==
			   vhu_vring_get_base(&f.vr));
	check_elem(&f.elem);
	f.pops++;
	if (f.cfg.inflight && !(resubmit && f.region_disturbed))
		FUZZ_CHECK(inflight_entry(f.elem.head)->inflight == 1);
	remember_head(f.elem.head);
}

static void step_fill(uint16_t head, uint32_t len, bool flush)
{
	uint16_t used = f.vr.used_idx;
	int ret = vhu_vring_fill(&f.vr, head, len);

	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == f.err);
		check_failed(ret);
		return;
	}
	f.fills++;
	FUZZ_CHECK(!f.count_fills || f.fills <= f.pops);
	FUZZ_CHECK(f.vr.used_idx == (uint16_t)(used + 1));
	FUZZ_CHECK(f.cfg.used->ring[used % f.cfg.num].id == head);
	if (f.cfg.inflight) {
		/* published by fill itself, then cleared */
		FUZZ_CHECK(f.cfg.used->idx == f.vr.used_idx);
		FUZZ_CHECK(!inflight_entry(head)->inflight);
		FUZZ_CHECK(f.cfg.inflight->used_idx == f.vr.used_idx);
	}
	if (flush) {
		vhu_vring_flush(&f.vr);
		FUZZ_CHECK(f.cfg.used->idx == f.vr.used_idx);
		vhu_vring_should_notify(&f.vr);
	}
}

/* Pushes the oldest popped chain back. */
static void step_push(uint32_t len, bool flush)
{
	uint16_t head;

	if (!f.nr_heads)
		return;
	head = f.heads[0];
	memmove(f.heads, f.heads + 1, --f.nr_heads * sizeof(f.heads[0]));
	step_fill(head, len, flush);
}

/* The backend restarts on the region the ring leaves behind. */
static void restart(uint16_t base)
{
	uint16_t heads[MAX_HEADS];
	unsigned int nr = f.nr_heads;
	/* Exact once every resubmitted head was handed out again. */
	bool exact = f.exact && !f.vr.err && f.cfg.inflight && !f.vr.resubmit;
	int ret;

	memcpy(heads, f.heads, sizeof(heads));
	vhu_vring_cleanup(&f.vr);
	f.cfg.base = base;
	f.err = 0;
	f.nr_heads = 0;
	f.count_fills = false;
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
	if (!exact)
		return;
	/* What was popped and not pushed comes back first, in order. */
	FUZZ_CHECK(f.vr.resubmit_num == nr);
	FUZZ_CHECK(vhu_vring_get_base(&f.vr) ==
		   (uint16_t)(f.cfg.used->idx + nr));
	for (unsigned int i = 0; i < nr; i++)
		FUZZ_CHECK(f.vr.resubmit[i] == heads[i]);
}

static void step(const uint8_t *s)
{
	uint16_t val = le16(s + 2);
	uint8_t arg = s[1];
	int n;

	switch (s[0] & 7) {
	case 0:
		step_pop();
		break;
	case 1:
		step_push(val, !(arg & 1));
		break;
	case 2: /* any head, valid or not */
		step_fill((uint16_t)(arg | val << 8), val, true);
		f.exact = false;
		f.region_disturbed = true; /* may clear a head due back */
		break;
	case 3: /* the driver moves its avail index, maybe far */
		f.cfg.avail->idx = val;
		f.exact = false;
		break;
	case 4: /* the driver (or frontend) changes memory between calls */
		if (s[0] & 8 && f.cfg.inflight) {
			region[val % sizeof(region)] = arg;
			f.region_disturbed = true;
		} else {
			mem[((uint32_t)val << 4 | (s[0] >> 4)) % MEM_SIZE] =
				arg;
		}
		f.exact = false;
		if (f.err)
			snapshot_used(); /* the driver may write there too */
		break;
	case 5:
		if (arg & 1)
			vhu_vring_disable_notify(&f.vr);
		else
			vhu_vring_enable_notify(&f.vr);
		break;
	case 6:
		*virtq_used_event(f.cfg.avail, f.cfg.num) = val;
		vhu_vring_should_notify(&f.vr);
		break;
	default:
		if (arg & 0x80) {
			restart(val);
			return;
		}
		n = vhu_vring_pending(&f.vr);
		FUZZ_CHECK((n >= 0 && (unsigned int)n <= f.cfg.num) ||
			   (n == -EPROTO && f.vr.err == n) || n == f.err);
		if (n < 0)
			check_failed(n);
		break;
	}
	check_state();
}

/* No script: what a backend does, pop and push until empty or failed. */
static void drain(void)
{
	for (unsigned int i = 0; i < 2 * MAX_HEADS && !f.vr.err; i++) {
		step_pop();
		check_state();
		if (!f.nr_heads)
			break;
		step_push(0, true);
		check_state();
	}
}

/* Lays the rings out after the descriptor table and writes the header's
 * indices over the image. */
static void setup(const uint8_t *h)
{
	unsigned int num = 1u << (h[0] % 16);
	uint64_t avail = virtq_desc_size(num), used;

	used = virtq_align(avail + virtq_avail_size(num), VIRTQ_USED_ALIGN);
	f.cfg.num = num;
	f.cfg.desc = (struct virtq_desc *)mem;
	f.cfg.avail = (struct virtq_avail *)(mem + avail + (h[0] >> 6 & 1));
	f.cfg.used = (struct virtq_used *)(mem + used + (h[0] >> 7) * 2);
	f.cfg.base = le16(h + 2);
	f.cfg.features = (h[0] & 16 ? VIRTIO_BIT(VIRTIO_F_EVENT_IDX) : 0) |
			 (h[0] & 32 ? VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) : 0);
	f.cfg.translate = translate;
	f.iov_max = h[1] & 63;
	mem_hole = h[1] & 64;
	f.cfg.inflight =
		h[1] & 128 ? (struct vhu_inflight_split_header *)region : NULL;
	/* Misaligned parts are for init to refuse: write nothing there. */
	if (h[0] & 0xc0)
		return;
	f.cfg.avail->idx = le16(h + 4);
	f.cfg.avail->flags = le16(h + 6);
	f.cfg.used->idx = le16(h + 8);
	*virtq_used_event(f.cfg.avail, num) = le16(h + 10);
	f.count_fills = f.cfg.used->idx == f.cfg.base && !f.cfg.inflight;
}

static size_t region_size(const uint8_t *h)
{
	if (!(h[1] & 128))
		return 0;
	return sizeof(struct vhu_inflight_split_header) +
	       (1u << (h[0] % 16)) * sizeof(struct vhu_inflight_desc_split);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t steps, image, rsize, rgot;
	const uint8_t *p;
	int ret;

	if (size < HDR_LEN)
		return 0;
	steps = data[12] % (MAX_STEPS + 1);
	if (size < HDR_LEN + steps * STEP_LEN)
		return 0;
	p = data + HDR_LEN + steps * STEP_LEN;
	image = size - HDR_LEN - steps * STEP_LEN;
	rsize = region_size(data);
	rgot = image < rsize ? image : rsize;
	memset(&f, 0, sizeof(f));
	memset(region, 0, rsize);
	memcpy(region, p, rgot);
	p += rgot;
	image -= rgot;
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, p, image < MEM_SIZE ? image : MEM_SIZE);
	setup(data);
	/* Exactly iov_max entries (malloc(0) included): ASan sees any
	 * segment past the end. */
	f.elem.iov = malloc(f.iov_max * sizeof(struct iovec));
	FUZZ_CHECK(f.elem.iov || !f.iov_max);
	/* A fresh region (version 0) on a consistent ring (nothing popped
	 * that is not used) is what a first start sees. */
	f.exact =
		!((const struct vhu_inflight_split_header *)region)->version &&
		!(data[0] & 0xc0) && f.cfg.base == f.cfg.used->idx;
	ret = vhu_vring_init(&f.vr, &f.cfg);
	if (data[0] & 0xc0)
		FUZZ_CHECK(ret == -EINVAL);
	else if (!f.cfg.inflight)
		FUZZ_CHECK(ret == 0);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM);
		if (data[0] & 0xc0)
			f.cfg.used = NULL; /* nothing to watch */
		check_failed(ret);
		check_state();
	} else if (!steps) {
		drain();
	} else {
		for (size_t i = 0; i < steps; i++)
			step(data + HDR_LEN + i * STEP_LEN);
	}
	vhu_vring_cleanup(&f.vr);
	free(f.elem.iov);
	return 0;
}
