/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver over virtio/mmio.h and virtq.h, polling in ring 3.
 *
 * A request (struct blk_req, in memory the device can reach: dma_alloc or
 * static) is a header, the data segments given by the caller and a status
 * byte; the driver builds the chain (header readable, data readable for
 * OUT/DISCARD/WRITE_ZEROES and writable otherwise, status writable) and the
 * device completes it with a status and a used length. Several requests
 * may be in flight on each queue.
 *
 * blk_open: negotiates (VERSION_1, INDIRECT_DESC, EVENT_IDX, SEG_MAX,
 *   BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES, MQ, minus @unwanted), reads
 *   the config space, sets up min(@queues, what the device has) queues of
 *   up to @qsize entries, DRIVER_OK. Returns 0 or a negative code with
 *   b->vio.error saying why.
 * blk_submit: adds @r on queue @q without notifying; blk_kick notifies if
 *   the device wants it. VIRTQ_ENOSPC when the ring is full.
 * blk_poll: takes one completed request of queue @q: 1 and *@done, 0 when
 *   none, negative when the device misbehaved (reason in b->vio.error).
 * blk_run: submit, kick and wait for that one request (queue otherwise
 *   idle) for at most @timeout_ns; BLK_ETIMEDOUT if it does not complete.
 */
#ifndef VUVM_GUEST_VIRTIO_BLK_H
#define VUVM_GUEST_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/mmio.h"
#include "virtio/virtio_blk.h"

#define BLK_MAX_QUEUES 16
#define BLK_MAX_SEGS   (VIRTQ_MAX_SEGS - 2)
#define BLK_ETIMEDOUT  (-110)

struct blk_req {
	/* Read and written by the device. */
	struct virtio_blk_outhdr hdr;
	uint8_t status;
	/* The caller's: type, sector, data segments. */
	uint32_t type;
	uint64_t sector;
	unsigned int nseg;
	struct virtq_buf seg[BLK_MAX_SEGS];
	/* Filled on completion. */
	uint32_t used_len;
	void *priv;
};

struct blk_dev {
	struct vio_dev vio;
	uint64_t capacity; /* sectors */
	uint32_t seg_max;  /* 0 when not offered */
	uint32_t blk_size;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	unsigned int nq;
	struct virtq vq[BLK_MAX_QUEUES];
};

int blk_open(struct blk_dev *b, const struct vio_dev *found,
	     unsigned int queues, unsigned int qsize, uint64_t unwanted);
int blk_submit(struct blk_dev *b, unsigned int q, struct blk_req *r);
void blk_kick(struct blk_dev *b, unsigned int q);
int blk_poll(struct blk_dev *b, unsigned int q, struct blk_req **done);
int blk_run(struct blk_dev *b, unsigned int q, struct blk_req *r,
	    uint64_t timeout_ns);

/* Whether the request type @type carries device-readable data. */
static inline bool blk_type_out(uint32_t type)
{
	return type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
	       type == VIRTIO_BLK_T_WRITE_ZEROES ||
	       type == VIRTIO_BLK_T_SECURE_ERASE;
}

#endif
