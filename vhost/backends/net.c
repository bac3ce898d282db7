// SPDX-License-Identifier: MIT
/*
 * The reference virtio-net backend: a loopback cable. Every frame the
 * driver sends on transmitq k (queue 2k+1) comes back on receiveq k (queue
 * 2k), after a fresh struct virtio_net_hdr_v1 (no offloads are offered, so
 * the received header only says "one buffer, nothing to do").
 *
 * Without a free receive buffer a frame is held: it stays in the transmit
 * ring, and the pair is pumped again when the driver adds receive buffers
 * (that kick). Frames are dropped (and their transmit buffer completed)
 * only when they cannot be delivered at all: shorter than the header,
 * longer than NET_MAX_PACKET, larger than the receive buffer (which is
 * then completed empty), or the receive ring is broken.
 *
 * With more than one pair the device offers MQ, which the specification
 * ties to a control queue: it is the last queue (2N) and accepts only
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; every other command is answered
 * VIRTIO_NET_ERR.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "net: " fmt
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/backends/vub.h"
#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_net.h"

#define NET_MAX_PAIRS ((VHU_BACKEND_MAX_QUEUES - 1) / 2)
#define NET_HDR_LEN   sizeof(struct virtio_net_hdr_v1)
/* A 64 KiB frame plus its header: more than any frame without GSO. */
#define NET_MAX_PACKET (NET_HDR_LEN + 65536)

struct net {
	unsigned int pairs;
	int ctrl_index; /* the control queue, or -1 */
	struct virtio_net_config config;
	unsigned long dropped;
	uint8_t packet[NET_MAX_PACKET]; /* bounce buffer, one frame */
};

static const uint8_t net_mac[VIRTIO_NET_ETH_ALEN] = { 0x52, 0x54, 0x00,
						      0x12, 0x34, 0x56 };

static void drop(struct net *n, const char *why, uint32_t len)
{
	/* The first drop is worth a warning; the rest would flood. */
	if (!n->dropped++)
		pr_warn("dropping a %u-byte packet: %s (further drops are "
			"logged at debug level)",
			len, why);
	else
		pr_debug("dropping a %u-byte packet: %s", len, why);
}

/* Receive buffers on queue @rx: > 0 some, 0 none or not running (hold),
 * < 0 the ring is broken (drop). */
static int rx_room(struct vub *b, unsigned int rx)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, rx);

	if (b->dead[rx] || (vq->started && vq->vring.err))
		return -EIO;
	if (!vub_queue_ok(b, rx))
		return 0;
	return vhu_vring_pending(&vq->vring);
}

/* Copies the frame of transmit chain @t into receive chain @r; returns
 * the bytes written into @r, 0 if it does not fit. */
static uint32_t loop_frame(struct net *n, const struct vhu_vring_elem *t,
			   const struct vhu_vring_elem *r)
{
	struct virtio_net_hdr_v1 hdr = { .gso_type = VIRTIO_NET_HDR_GSO_NONE,
					 .num_buffers = 1 };

	if (r->in_len < t->out_len) {
		drop(n, "receive buffer too small", t->out_len);
		return 0;
	}
	vub_iov_to_buf(t->iov, t->out_num, 0, n->packet, t->out_len);
	memcpy(n->packet, &hdr, sizeof(hdr));
	return (uint32_t)vub_buf_to_iov(r->iov + r->out_num, r->in_num, 0,
					n->packet, t->out_len);
}

/* Moves one frame from @tx to @rx. Returns 1 if a transmit chain was
 * consumed, 0 when there is nothing (more) to do now. */
static int pump_one(struct vub *b, unsigned int rx, unsigned int tx,
		    bool *rx_used)
{
	struct net *n = b->priv;
	struct vhu_vring_elem t, r;
	int room = rx_room(b, rx);

	if (!room || vub_pop(b, tx, 0, &t) != 1)
		return 0;
	if (t.out_len < NET_HDR_LEN || t.out_len > NET_MAX_PACKET)
		drop(n, "bad transmit length", t.out_len);
	else if (room < 0 || vub_pop(b, rx, 1, &r) != 1)
		drop(n, "receive queue broken", t.out_len);
	else {
		vub_push(b, rx, r.head, loop_frame(n, &t, &r));
		*rx_used = true;
	}
	vub_push(b, tx, t.head, 0);
	return 1;
}

static void pump_pair(struct vub *b, unsigned int pair)
{
	unsigned int rx = 2 * pair, tx = rx + 1;
	bool tx_used = false, rx_used = false;

	if (tx >= b->num_queues)
		return;
	while (pump_one(b, rx, tx, &rx_used))
		tx_used = true;
	if (rx_used)
		vub_notify(b, rx);
	if (tx_used)
		vub_notify(b, tx);
}

/* One control command; returns the ack byte. */
static uint8_t ctrl_command(struct vub *b, const struct vhu_vring_elem *e)
{
	struct net *n = b->priv;
	struct virtio_net_ctrl_hdr h;
	struct virtio_net_ctrl_mq mq;

	if (e->out_len != sizeof(h) + sizeof(mq))
		return VIRTIO_NET_ERR;
	vub_iov_to_buf(e->iov, e->out_num, 0, &h, sizeof(h));
	vub_iov_to_buf(e->iov, e->out_num, sizeof(h), &mq, sizeof(mq));
	if (h.class != VIRTIO_NET_CTRL_MQ ||
	    h.cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    mq.virtqueue_pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN ||
	    mq.virtqueue_pairs > n->pairs)
		return VIRTIO_NET_ERR;
	/* Every pair is always served; the count only tells us which ones
	 * the driver uses. */
	pr_debug("driver uses %u queue pairs", mq.virtqueue_pairs);
	return VIRTIO_NET_OK;
}

static void ctrl_serve(struct vub *b, unsigned int index)
{
	struct vhu_vring_elem e;
	bool any = false;

	while (vub_pop(b, index, 0, &e) == 1) {
		uint8_t ack;

		any = true;
		if (!e.in_len) {
			vub_push(b, index, e.head, 0);
			continue;
		}
		ack = ctrl_command(b, &e);
		vub_buf_to_iov(e.iov + e.out_num, e.in_num, e.in_len - 1, &ack,
			       1);
		vub_push(b, index, e.head, 1);
	}
	if (any)
		vub_notify(b, index);
}

static void net_serve(struct vub *b, unsigned int index)
{
	struct net *n = b->priv;

	if ((int)index == n->ctrl_index)
		ctrl_serve(b, index);
	else
		pump_pair(b, index / 2);
}

static int net_setup(struct vub *b)
{
	struct net *n = calloc(1, sizeof(*n));
	bool mq;

	if (!n)
		return -ENOMEM;
	n->pairs = b->opt.queues ? b->opt.queues : 1;
	mq = n->pairs > 1 &&
	     !virtio_has_feature(b->opt.no_features, VIRTIO_NET_F_MQ);
	n->ctrl_index = mq ? (int)(2 * n->pairs) : -1;
	memcpy(n->config.mac, net_mac, sizeof(net_mac));
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = (uint16_t)n->pairs;
	b->priv = n;
	b->num_queues = 2 * n->pairs + (mq ? 1 : 0);
	b->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
		      VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		      VIRTIO_BIT(VIRTIO_F_IN_ORDER) |
		      VIRTIO_BIT(VIRTIO_NET_F_MAC) |
		      VIRTIO_BIT(VIRTIO_NET_F_STATUS);
	if (mq)
		b->features |= VIRTIO_BIT(VIRTIO_NET_F_MQ) |
			       VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ);
	pr_info("loopback, %u queue pair(s)%s", n->pairs,
		mq ? " and a control queue" : "");
	return 0;
}

static void net_teardown(struct vub *b)
{
	struct net *n = b->priv;

	if (n && n->dropped)
		pr_info("%lu packets dropped", n->dropped);
	free(n);
	b->priv = NULL;
}

static int net_get_config(struct vub *b, uint32_t offset, void *buf,
			  uint32_t size)
{
	struct net *n = b->priv;

	vub_config_read(&n->config, sizeof(n->config), offset, buf, size);
	return 0;
}

const struct vub_type vub_net = {
	.name = "net",
	.capability = "net",
	.max_queues = NET_MAX_PAIRS,
	.setup = net_setup,
	.teardown = net_teardown,
	.get_config = net_get_config,
	.serve = net_serve,
};
