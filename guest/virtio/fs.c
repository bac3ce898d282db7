// SPDX-License-Identifier: MIT
/*
 * virtio-fs, driver side (see fs.h).
 */
#include "virtio/fs.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "virtio/alloc.h"
#include "virtio/virtio_config.h"

#define FS_INDIRECT_MAX 8

static const uint64_t fs_wanted = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
				  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
				  VIRTIO_BIT(VIRTIO_F_EVENT_IDX);

static int read_config(struct fs_dev *f)
{
	int err =
		vio_config_read(&f->vio, offsetof(struct virtio_fs_config, tag),
				f->tag, VIRTIO_FS_TAG_SIZE);

	f->tag[VIRTIO_FS_TAG_SIZE] = '\0';
	if (!err)
		err = vio_config_read(
			&f->vio,
			offsetof(struct virtio_fs_config, num_request_queues),
			&f->num_request_queues, sizeof(f->num_request_queues));
	return err;
}

int fs_open(struct fs_dev *f, const struct vio_dev *found, unsigned int queues,
	    unsigned int qsize, uint64_t unwanted)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->vio = *found;
	err = vio_begin(&f->vio, fs_wanted & ~unwanted);
	if (!err)
		err = read_config(f);
	if (err)
		return err;
	if (!f->num_request_queues) {
		snprintf(f->vio.error, sizeof(f->vio.error),
			 "num_request_queues is 0: no request queue");
		return VIO_ENODEV;
	}
	f->nq = queues < f->num_request_queues ? queues : f->num_request_queues;
	if (f->nq > FS_MAX_REQ_QUEUES)
		f->nq = FS_MAX_REQ_QUEUES;
	if (!f->nq)
		f->nq = 1;
	for (unsigned int q = 0; q <= f->nq && !err; q++) {
		err = vio_queue_setup(&f->vio, q, &f->vq[q], qsize,
				      FS_INDIRECT_MAX);
		virtq_disable_cb(&f->vq[q]);
	}
	return err ? err : vio_driver_ok(&f->vio);
}

int fs_submit(struct fs_dev *f, unsigned int vq, struct fs_req *r)
{
	struct virtq_buf bufs[5];
	unsigned int out = 0, n;

	if (vq > f->nq || r->in_len < sizeof(struct fuse_in_header) ||
	    r->in_len > FS_IN_MAX || r->reply_len > FS_REPLY_MAX)
		return VIRTQ_EINVAL;
	r->used_len = 0;
	bufs[out++] = (struct virtq_buf){ dma_addr(r->in), r->in_len };
	if (r->wlen)
		bufs[out++] = (struct virtq_buf){ dma_addr(r->wdata), r->wlen };
	n = out;
	if (vq) { /* hiprio requests have no reply */
		/* No device writes this: a reply must overwrite it. */
		r->out = (struct fuse_out_header){ 0, 1, ~0ull };
		bufs[n++] =
			(struct virtq_buf){ dma_addr(&r->out), sizeof(r->out) };
		if (r->reply_len)
			bufs[n++] = (struct virtq_buf){ dma_addr(r->reply),
							r->reply_len };
		if (r->rlen)
			bufs[n++] = (struct virtq_buf){ dma_addr(r->rdata),
							r->rlen };
	}
	return virtq_add(&f->vq[vq], bufs, out, n - out, r);
}

void fs_kick(struct fs_dev *f, unsigned int vq)
{
	vio_kick(&f->vio, vq, &f->vq[vq]);
}

int fs_poll(struct fs_dev *f, unsigned int vq, struct fs_req **done)
{
	void *tok;
	uint32_t len;
	int ret = virtq_get_used(&f->vq[vq], &tok, &len);

	if (ret < 0) {
		snprintf(f->vio.error, sizeof(f->vio.error), "queue %u: %s", vq,
			 virtq_error(&f->vq[vq]));
		return ret;
	}
	if (!ret)
		return 0;
	*done = tok;
	(*done)->used_len = len;
	return 1;
}
