// SPDX-License-Identifier: MIT
/*
 * virtio-blk, driver side (see blk.h). Config fields are read only when
 * their feature was negotiated, and only as far as vuvm exposes them.
 */
#include "virtio/blk.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"

/* Indirect tables cost 16 bytes per entry per head: longer chains go
 * direct. */
#define BLK_INDIRECT_MAX 18

static const uint64_t blk_wanted =
	VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
	VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
	VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
	VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
	VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);

#define CFG(field) offsetof(struct virtio_blk_config, field)
#define CFG_READ(b, field, dst) \
	vio_config_read(&(b)->vio, CFG(field), (dst), sizeof(*(dst)))

static int read_config(struct blk_dev *b)
{
	int err = CFG_READ(b, capacity, &b->capacity);

	b->num_queues = 1;
	if (!err && vio_has(&b->vio, VIRTIO_BLK_F_SEG_MAX))
		err = CFG_READ(b, seg_max, &b->seg_max);
	if (!err && vio_has(&b->vio, VIRTIO_BLK_F_BLK_SIZE))
		err = CFG_READ(b, blk_size, &b->blk_size);
	if (!err && vio_has(&b->vio, VIRTIO_BLK_F_MQ))
		err = CFG_READ(b, num_queues, &b->num_queues);
	if (!err && vio_has(&b->vio, VIRTIO_BLK_F_DISCARD)) {
		err = CFG_READ(b, max_discard_sectors, &b->max_discard_sectors);
		if (!err)
			err = CFG_READ(b, max_discard_seg, &b->max_discard_seg);
	}
	if (!err && vio_has(&b->vio, VIRTIO_BLK_F_WRITE_ZEROES)) {
		err = CFG_READ(b, max_write_zeroes_sectors,
			       &b->max_write_zeroes_sectors);
		if (!err)
			err = CFG_READ(b, max_write_zeroes_seg,
				       &b->max_write_zeroes_seg);
	}
	return err;
}

int blk_open(struct blk_dev *b, const struct vio_dev *found,
	     unsigned int queues, unsigned int qsize, uint64_t unwanted)
{
	int err;

	memset(b, 0, sizeof(*b));
	b->vio = *found;
	err = vio_begin(&b->vio, blk_wanted & ~unwanted);
	if (!err)
		err = read_config(b);
	if (err)
		return err;
	if (!b->num_queues)
		b->num_queues = 1; /* a zero count means "one" to be kind */
	b->nq = queues < b->num_queues ? queues : b->num_queues;
	if (b->nq > BLK_MAX_QUEUES)
		b->nq = BLK_MAX_QUEUES;
	if (!b->nq)
		b->nq = 1;
	for (unsigned int q = 0; q < b->nq && !err; q++) {
		err = vio_queue_setup(&b->vio, q, &b->vq[q], qsize,
				      BLK_INDIRECT_MAX);
		virtq_disable_cb(&b->vq[q]); /* we poll */
	}
	return err ? err : vio_driver_ok(&b->vio);
}

int blk_submit(struct blk_dev *b, unsigned int q, struct blk_req *r)
{
	struct virtq_buf bufs[BLK_MAX_SEGS + 2];
	bool out = blk_type_out(r->type);
	unsigned int n = 0;

	if (q >= b->nq || r->nseg > BLK_MAX_SEGS)
		return VIRTQ_EINVAL;
	r->hdr = (struct virtio_blk_outhdr){ .type = r->type,
					     .sector = r->sector };
	r->status = 0xff; /* no device writes this value */
	r->used_len = 0;
	bufs[n++] = (struct virtq_buf){ dma_addr(&r->hdr), sizeof(r->hdr) };
	for (unsigned int i = 0; i < r->nseg; i++)
		bufs[n++] = r->seg[i];
	bufs[n++] = (struct virtq_buf){ dma_addr(&r->status), 1 };
	return virtq_add(&b->vq[q], bufs, out ? n - 1 : 1, out ? 1 : n - 1, r);
}

void blk_kick(struct blk_dev *b, unsigned int q)
{
	vio_kick(&b->vio, q, &b->vq[q]);
}

int blk_poll(struct blk_dev *b, unsigned int q, struct blk_req **done)
{
	void *tok;
	uint32_t len;
	int ret = virtq_get_used(&b->vq[q], &tok, &len);

	if (ret < 0) {
		snprintf(b->vio.error, sizeof(b->vio.error), "queue %u: %s", q,
			 virtq_error(&b->vq[q]));
		return ret;
	}
	if (!ret)
		return 0;
	*done = tok;
	(*done)->used_len = len;
	return 1;
}

int blk_run(struct blk_dev *b, unsigned int q, struct blk_req *r,
	    uint64_t timeout_ns)
{
	uint64_t end = time_ns() + timeout_ns;
	struct blk_req *done;
	int ret = blk_submit(b, q, r);

	if (ret)
		return ret;
	/* Arm the watch: Status is read only 1 ms after this submission. */
	vio_watch(&b->vio, end - timeout_ns, true);
	blk_kick(b, q);
	while (!(ret = blk_poll(b, q, &done))) {
		uint64_t now = time_ns();

		if (now > end)
			return BLK_ETIMEDOUT;
		ret = vio_watch(&b->vio, now, false);
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	return done == r ? 0 : VIRTQ_EPROTO;
}
