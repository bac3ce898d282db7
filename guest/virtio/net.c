// SPDX-License-Identifier: MIT
/*
 * virtio-net, driver side (see net.h).
 */
#include "virtio/net.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/virtio_config.h"

#define NET_INDIRECT_MAX 8
#define CTRL_TIMEOUT_NS	 1000000000ull

/* The control command in flight: header, data and ack, device-visible. */
static struct {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t data[64];
	uint8_t ack;
} ctrl_cmd;

#define CFG(field) offsetof(struct virtio_net_config, field)
#define CFG_READ(n, field, dst) \
	vio_config_read(&(n)->vio, CFG(field), (dst), sizeof(*(dst)))

static int read_config(struct net_dev *n)
{
	int err = 0;

	n->max_pairs = 1;
	if (vio_has(&n->vio, VIRTIO_NET_F_MAC))
		err = vio_config_read(&n->vio, CFG(mac), n->mac,
				      sizeof(n->mac));
	if (!err && vio_has(&n->vio, VIRTIO_NET_F_STATUS))
		err = CFG_READ(n, status, &n->status);
	if (!err && vio_has(&n->vio, VIRTIO_NET_F_MQ))
		err = CFG_READ(n, max_virtqueue_pairs, &n->max_pairs);
	if (!err && !n->max_pairs)
		err = VIRTQ_EPROTO;
	return err;
}

static uint64_t wanted(unsigned int pairs)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		     VIRTIO_BIT(VIRTIO_NET_F_MAC) |
		     VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		     VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		     VIRTIO_BIT(VIRTIO_F_EVENT_IDX);

	if (pairs > 1)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MQ) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ);
	return f;
}

static int setup_queues(struct net_dev *n, unsigned int qsize,
			unsigned int indirect_max)
{
	int err = 0;

	for (unsigned int i = 0; i < 2 * n->npairs && !err; i++) {
		err = vio_queue_setup(&n->vio, i, &n->vq[i], qsize,
				      indirect_max);
		virtq_disable_cb(&n->vq[i]); /* we poll */
	}
	if (err || !vio_has(&n->vio, VIRTIO_NET_F_CTRL_VQ))
		return err;
	/* The control queue follows the device's last possible pair. */
	n->ctrl_index =
		2 * (vio_has(&n->vio, VIRTIO_NET_F_MQ) ? n->max_pairs : 1);
	n->has_ctrl = true;
	err = vio_queue_setup(&n->vio, n->ctrl_index, &n->ctrl, 4, 0);
	virtq_disable_cb(&n->ctrl);
	return err;
}

int net_open_with(struct net_dev *n, const struct vio_dev *found,
		  unsigned int pairs, unsigned int qsize, uint64_t features,
		  unsigned int indirect_max)
{
	int err;

	memset(n, 0, sizeof(*n));
	n->vio = *found;
	err = vio_begin(&n->vio, features);
	if (!err)
		err = read_config(n);
	if (err)
		return err;
	n->npairs = pairs < n->max_pairs ? pairs : n->max_pairs;
	if (n->npairs > NET_MAX_PAIRS)
		n->npairs = NET_MAX_PAIRS;
	if (!n->npairs)
		n->npairs = 1;
	err = setup_queues(n, qsize, indirect_max);
	if (!err)
		err = vio_driver_ok(&n->vio);
	return err;
}

int net_open(struct net_dev *n, const struct vio_dev *found, unsigned int pairs,
	     unsigned int qsize, uint64_t unwanted)
{
	struct virtio_net_ctrl_mq mq;
	int err = net_open_with(n, found, pairs, qsize,
				wanted(pairs) & ~unwanted, NET_INDIRECT_MAX);

	if (err || n->npairs == 1)
		return err;
	if (!n->has_ctrl || !vio_has(&n->vio, VIRTIO_NET_F_MQ)) {
		n->npairs = 1; /* no way to turn the others on */
		return 0;
	}
	mq.virtqueue_pairs = (uint16_t)n->npairs;
	err = net_ctrl(n, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		       &mq, sizeof(mq));
	if (err == VIRTIO_NET_OK)
		return 0;
	if (err > 0)
		snprintf(n->vio.error, sizeof(n->vio.error),
			 "VQ_PAIRS_SET %u: the device answered %d", n->npairs,
			 err);
	return err > 0 ? VIRTQ_EPROTO : err;
}

int net_rx_post(struct net_dev *n, unsigned int pair,
		const struct virtq_buf *bufs, unsigned int nbufs, void *token)
{
	if (pair >= n->npairs)
		return VIRTQ_EINVAL;
	return virtq_add(&n->vq[NET_RXQ(pair)], bufs, 0, nbufs, token);
}

int net_tx(struct net_dev *n, unsigned int pair, const struct virtq_buf *bufs,
	   unsigned int nbufs, void *token)
{
	if (pair >= n->npairs)
		return VIRTQ_EINVAL;
	return virtq_add(&n->vq[NET_TXQ(pair)], bufs, nbufs, 0, token);
}

void net_kick(struct net_dev *n, unsigned int qi)
{
	vio_kick(&n->vio, qi, &n->vq[qi]);
}

/* One completion of @vq, with the reason copied on failure. */
static int poll_vq(struct net_dev *n, struct virtq *vq, unsigned int qi,
		   void **token, uint32_t *len)
{
	int ret = virtq_get_used(vq, token, len);

	if (ret < 0)
		snprintf(n->vio.error, sizeof(n->vio.error), "queue %u: %s", qi,
			 virtq_error(vq));
	return ret;
}

int net_poll(struct net_dev *n, unsigned int qi, void **token, uint32_t *len)
{
	return poll_vq(n, &n->vq[qi], qi, token, len);
}

int net_ctrl(struct net_dev *n, uint8_t class, uint8_t cmd, const void *data,
	     uint32_t len)
{
	struct virtq_buf b[3];
	uint64_t end = time_ns() + CTRL_TIMEOUT_NS;
	uint32_t got;
	void *tok;
	int ret;

	if (!n->has_ctrl || len > sizeof(ctrl_cmd.data))
		return VIRTQ_EINVAL;
	ctrl_cmd.hdr = (struct virtio_net_ctrl_hdr){ class, cmd };
	memcpy(ctrl_cmd.data, data, len);
	ctrl_cmd.ack = 0xff;
	b[0] = (struct virtq_buf){ dma_addr(&ctrl_cmd.hdr), 2 };
	b[1] = (struct virtq_buf){ dma_addr(ctrl_cmd.data), len };
	b[2] = (struct virtq_buf){ dma_addr(&ctrl_cmd.ack), 1 };
	ret = virtq_add(&n->ctrl, b, 2, 1, &ctrl_cmd);
	if (ret)
		return ret;
	vio_watch(&n->vio, end - CTRL_TIMEOUT_NS, true); /* arm: see blk_run */
	vio_kick(&n->vio, n->ctrl_index, &n->ctrl);
	while (!(ret = poll_vq(n, &n->ctrl, n->ctrl_index, &tok, &got))) {
		uint64_t now = time_ns();

		ret = vio_watch(&n->vio, now, false);
		if (ret)
			return ret;
		if (now > end) {
			snprintf(n->vio.error, sizeof(n->vio.error),
				 "control command %u.%u: no answer in 1 s",
				 class, cmd);
			return NET_ETIMEDOUT;
		}
	}
	return ret < 0 ? ret : ctrl_cmd.ack;
}
