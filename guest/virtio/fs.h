/* SPDX-License-Identifier: MIT */
/*
 * virtio-fs driver over virtio/mmio.h and virtq.h (virtio 1.2, 5.11).
 *
 * The device has a high-priority queue (index 0, FORGET and BATCH_FORGET
 * only: requests without a reply) and num_request_queues request queues
 * (indexes 1.. without VIRTIO_FS_F_NOTIFICATION, which is not asked for).
 * A request (struct fs_req, in memory the device can reach: dma_alloc)
 * is one chain: the device-readable part (the FUSE in-header and the
 * arguments in one buffer, then the WRITE payload if any), then the
 * device-writable part (the out-header, the fixed-size reply buffer if
 * the opcode has one, then the caller's data buffer for READ and
 * READDIR). Several requests may be in flight on every queue; the FUSE
 * client (virtio/fuse.h) fills them and checks the replies.
 *
 * fs_open: negotiates (VERSION_1, INDIRECT_DESC, EVENT_IDX minus
 *   @unwanted), reads the tag and num_request_queues, sets up the hiprio
 *   queue and min(@queues, num_request_queues, FS_MAX_REQ_QUEUES) request
 *   queues of up to @qsize entries, DRIVER_OK. Returns 0 or a negative
 *   code with f->vio.error saying why (a device with no request queue is
 *   refused with VIO_ENODEV).
 * fs_submit: adds @r on virtqueue @vq (0: hiprio, 1..nq: request queues)
 *   without notifying; fs_kick notifies if the device wants it.
 *   VIRTQ_ENOSPC when the ring is full.
 * fs_poll: takes one completed request of virtqueue @vq: 1 and *@done
 *   (used_len filled), 0 when none, negative when the device misbehaved
 *   (reason in f->vio.error).
 */
#ifndef VUVM_GUEST_VIRTIO_FS_H
#define VUVM_GUEST_VIRTIO_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/fuse_proto.h"
#include "virtio/mmio.h"
#include "virtio/virtio_fs.h"

#define FS_MAX_REQ_QUEUES 8
/* In-header and arguments: RENAME's two names of up to FS_NAME_MAX. */
#define FS_IN_MAX   640
#define FS_NAME_MAX 255
/* The largest fixed-size reply: CREATE's entry_out + open_out. */
#define FS_REPLY_MAX 160

struct fs_req {
	/* Read by the device: header and arguments. */
	uint8_t in[FS_IN_MAX] __attribute__((aligned(8)));
	/* Written by the device. */
	struct fuse_out_header out;
	uint8_t reply[FS_REPLY_MAX] __attribute__((aligned(8)));
	/* The caller's. */
	uint32_t in_len;    /* bytes of in[] sent */
	uint32_t reply_len; /* bytes of reply[] offered (0: none) */
	const void *wdata;  /* readable payload after in[] (WRITE) */
	uint32_t wlen;
	void *rdata; /* writable data after reply[] (READ, READDIR) */
	uint32_t rlen;
	/* Filled on completion. */
	uint32_t used_len;
	void *priv;
};

struct fs_dev {
	struct vio_dev vio;
	char tag[VIRTIO_FS_TAG_SIZE + 1];
	uint32_t num_request_queues; /* as the device said */
	unsigned int nq;	     /* request queues set up */
	struct virtq vq[1 + FS_MAX_REQ_QUEUES];
};

int fs_open(struct fs_dev *f, const struct vio_dev *found, unsigned int queues,
	    unsigned int qsize, uint64_t unwanted);
int fs_submit(struct fs_dev *f, unsigned int vq, struct fs_req *r);
void fs_kick(struct fs_dev *f, unsigned int vq);
int fs_poll(struct fs_dev *f, unsigned int vq, struct fs_req **done);

static inline struct fuse_in_header *fs_req_hdr(struct fs_req *r)
{
	return (struct fuse_in_header *)r->in;
}

#endif
