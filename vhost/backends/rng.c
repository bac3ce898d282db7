// SPDX-License-Identifier: MIT
/*
 * The reference virtio-rng (entropy) backend: one queue; every writable
 * byte of every chain is filled from getrandom(), readable parts are
 * ignored. No config space, no device features beyond the ring ones.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "rng: " fmt
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "vhost/backends/vub.h"
#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_rng.h"

/* Fills @len bytes; getrandom() may return less than asked for large
 * requests or when interrupted. */
static int fill_random(uint8_t *p, size_t len)
{
	while (len) {
		ssize_t r = getrandom(p, len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Returns the bytes written into the chain's writable part; with
 * @first_only, into its first writable buffer only. */
static uint32_t rng_fill(struct vhu_vring_elem *e, bool first_only)
{
	unsigned int end = e->out_num + e->in_num;
	uint32_t written = 0;

	if (first_only && e->in_num)
		end = e->out_num + 1;
	for (unsigned int i = e->out_num; i < end; i++) {
		int err = fill_random(e->iov[i].iov_base, e->iov[i].iov_len);

		if (err) {
			pr_err("getrandom: %s", strerror(-err));
			break;
		}
		written += (uint32_t)e->iov[i].iov_len;
	}
	return written;
}

/*
 * Injected defects (vuvm-backend --bug), each a real rng backend bug:
 * rng_bugged() fills chain @e as the defect does and returns the used
 * length it reports.
 */

/* rng-constant and rng-top-bit: the writable bytes rewritten afterwards
 * (a stub source, a 7-bit source). */
static void bug_bytes(struct vub *b, const struct vhu_vring_elem *e)
{
	for (unsigned int i = e->out_num; i < e->out_num + e->in_num; i++) {
		uint8_t *p = e->iov[i].iov_base;

		for (size_t j = 0; j < e->iov[i].iov_len; j++)
			p[j] = b->opt.bug == VUB_BUG_RNG_CONSTANT ? 0x42
								  : p[j] & 0x7f;
	}
}

/* rng-past-buffer: one byte too many after the last writable buffer
 * (changed, so that it shows), only where that is guest memory. */
static void bug_past(struct vub *b, const struct vhu_vring_elem *e)
{
	const struct iovec *last;
	uint8_t *past;

	if (!e->in_num)
		return;
	last = &e->iov[e->out_num + e->in_num - 1];
	past = (uint8_t *)last->iov_base + last->iov_len;
	if (vub_in_guest_ram(b, past))
		*past = (uint8_t) ~*past;
}

/* rng-tail-unwritten: a source that hands out 16-byte blocks leaves the
 * last buffer's bytes past its last whole block as they were, and the used
 * length counts them anyway. */
static uint32_t bug_tail(struct vhu_vring_elem *e)
{
	struct iovec *last = &e->iov[e->out_num + e->in_num - 1];
	size_t len = last->iov_len;

	last->iov_len = len & ~(size_t)15;
	rng_fill(e, false);
	last->iov_len = len;
	return e->in_len;
}

static uint32_t rng_bugged(struct vub *b, struct vhu_vring_elem *e)
{
	enum vub_bug bug = b->opt.bug;
	bool first_only = bug == VUB_BUG_RNG_FIRST_DESC_ONLY ||
			  bug == VUB_BUG_RNG_SHORT_HONEST;
	uint32_t written;

	if (bug == VUB_BUG_RNG_TAIL_UNWRITTEN && e->in_num)
		return bug_tail(e);
	written = rng_fill(e, first_only);

	switch (bug) {
	case VUB_BUG_RNG_FIRST_DESC_ONLY:
		return e->in_len;
	case VUB_BUG_RNG_LEN_PLUS_ONE:
		return written + 1;
	case VUB_BUG_RNG_PAST_BUFFER:
		bug_past(b, e);
		break;
	case VUB_BUG_RNG_ZERO_LEN_BIG: /* a 12-bit length field */
		return e->in_len > 4096 ? 0 : written;
	case VUB_BUG_RNG_CONSTANT:
	case VUB_BUG_RNG_TOP_BIT:
		bug_bytes(b, e);
		break;
	default:
		break;
	}
	return written;
}

/* rng-write-desc: the head descriptor's length cleared once taken. */
static void bug_write_desc(struct vub *b, unsigned int index,
			   const struct vhu_vring_elem *e)
{
	struct virtq_desc *d =
		&vhu_backend_vq(&b->dev, index)->vring.desc[e->head];

	__atomic_store_n(&d->len, 0, __ATOMIC_RELAXED);
}

/* rng-double-complete: every 16th chain, when another one is still
 * held, goes into the used ring a second time (a retry path that forgot
 * the first completion). The element is written by hand: the ring
 * helper refuses more used than available entries. */
static void bug_double(struct vub *b, unsigned int index, uint16_t head,
		       uint32_t len)
{
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	static unsigned long n;

	if (vr->err || ++n % 16 ||
	    __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE) ==
		    vr->last_avail_idx)
		return;
	vr->used->ring[vr->used_idx % vr->num] =
		(struct virtq_used_elem){ head, len };
	vr->used_idx++;
	__atomic_store_n(&vr->used->idx, vr->used_idx, __ATOMIC_RELEASE);
}

static void rng_serve(struct vub *b, unsigned int index)
{
	struct vhu_vring_elem e;
	bool any = false;

	/* rng-spurious-kick-dies: "a kick means work". */
	if (b->opt.bug == VUB_BUG_RNG_SPURIOUS_KICK_DIES &&
	    vub_queue_ok(b, index) &&
	    !vhu_vring_pending(&vhu_backend_vq(&b->dev, index)->vring)) {
		pr_err("queue %u: kicked with nothing to do", index);
		vub_queue_failed(b, index, -EPROTO);
		return;
	}
	while (vub_pop(b, index, 0, &e) == 1) {
		uint32_t len;

		if (b->opt.bug == VUB_BUG_RNG_WRITE_DESC)
			bug_write_desc(b, index, &e);
		/* rng-indirect-max-4: longer tables "refused", used empty */
		if (b->opt.bug == VUB_BUG_RNG_INDIRECT_MAX_4 &&
		    vub_bug_indirect_over(b, index, &e, 4))
			len = 0;
		else
			len = rng_bugged(b, &e);
		vub_push(b, index, e.head, len);
		if (b->opt.bug == VUB_BUG_RNG_DOUBLE_COMPLETE)
			bug_double(b, index, e.head, len);
		any = true;
	}
	if (any)
		vub_notify(b, index);
}

static int rng_setup(struct vub *b)
{
	b->num_queues = VIRTIO_RNG_NUM_QUEUES;
	b->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
		      VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		      VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	return 0;
}

static void rng_teardown(struct vub *b)
{
}

/* virtio-rng has no config space: reads see zeroes. */
static int rng_get_config(struct vub *b, uint32_t offset, void *buf,
			  uint32_t size)
{
	vub_config_read(NULL, 0, offset, buf, size);
	return 0;
}

const struct vub_type vub_rng = {
	.name = "rng",
	.capability = "rng",
	.max_queues = VIRTIO_RNG_NUM_QUEUES,
	.setup = rng_setup,
	.teardown = rng_teardown,
	.get_config = rng_get_config,
	.serve = rng_serve,
	.inflight = true,
};
