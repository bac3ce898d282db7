// SPDX-License-Identifier: MIT
/*
 * virtio-rng, driver side (see rng.h): the simplest device there is, one
 * queue of writable buffers.
 */
#include "virtio/rng.h"

#include <stdio.h>
#include <string.h>

#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_rng.h"

int rng_open(struct rng_dev *r, const struct vio_dev *found, unsigned int qsize)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->vio = *found;
	err = vio_begin(&r->vio, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
					 VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	if (!err)
		err = vio_queue_setup(&r->vio, VIRTIO_RNG_QUEUE_REQUEST, &r->vq,
				      qsize, 4);
	if (err)
		return err;
	virtq_disable_cb(&r->vq); /* we poll */
	return vio_driver_ok(&r->vio);
}

int rng_submit(struct rng_dev *r, void *buf, uint32_t len, void *token)
{
	struct virtq_buf b = { dma_addr(buf), len };

	return virtq_add(&r->vq, &b, 0, 1, token);
}

void rng_kick(struct rng_dev *r)
{
	vio_kick(&r->vio, VIRTIO_RNG_QUEUE_REQUEST, &r->vq);
}

int rng_poll(struct rng_dev *r, void **token, uint32_t *len)
{
	int ret = virtq_get_used(&r->vq, token, len);

	if (ret < 0)
		snprintf(r->vio.error, sizeof(r->vio.error), "%s",
			 virtq_error(&r->vq));
	return ret;
}

long rng_read(struct rng_dev *r, void *buf, uint32_t len, uint64_t timeout_ns)
{
	uint64_t end = time_ns() + timeout_ns;
	uint32_t got;
	void *tok;
	int ret = rng_submit(r, buf, len, buf);

	if (ret)
		return ret;
	vio_watch(&r->vio, end - timeout_ns, true); /* arm: see blk_run */
	rng_kick(r);
	while (!(ret = rng_poll(r, &tok, &got))) {
		uint64_t now = time_ns();

		if (now > end)
			return RNG_ETIMEDOUT;
		ret = vio_watch(&r->vio, now, false);
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	return tok == buf ? (long)got : VIRTQ_EPROTO;
}
