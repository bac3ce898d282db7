// SPDX-License-Identifier: MIT
/*
 * The reference virtio-net backend: a loopback cable. Every frame the
 * driver sends on transmitq k (queue 2k+1) comes back on receiveq k (queue
 * 2k), after a fresh struct virtio_net_hdr_v1 (no offloads are offered, so
 * the received header only says "one buffer, nothing to do").
 *
 * Without a free receive buffer a frame is held: it stays in the transmit
 * ring, and the pair is pumped again when the driver adds receive buffers
 * (that kick). With MRG_RXBUF the same holds when the posted buffers are
 * too few for the frame: the chains taken are put back (the avail position
 * moves back; net offers no INFLIGHT_SHMFD, so nothing else records them).
 * Frames are dropped (and their transmit buffer completed) only when they
 * cannot be delivered at all: shorter than the header, longer than
 * NET_MAX_PACKET, larger than the receive buffer (which is then completed
 * empty), or the receive ring is broken.
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
#include <unistd.h>

#include "vhost/backends/vub.h"
#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_net.h"

#define NET_MAX_PAIRS ((VHU_BACKEND_MAX_QUEUES - 1) / 2)
#define NET_HDR_LEN   sizeof(struct virtio_net_hdr_v1)
/* A 64 KiB frame plus its header: more than any frame without GSO. */
#define NET_MAX_PACKET (NET_HDR_LEN + 65536)
/* Receive chains one frame may take with MRG_RXBUF (iovec slots 1..). */
#define NET_MRG_MAX  (VUB_MAX_REORDER - 1)
#define NET_LAST_IOV 16 /* --bug net-rx-reuse-last: what it remembers */

struct net {
	unsigned int pairs;
	int ctrl_index; /* the control queue, or -1 */
	struct virtio_net_config config;
	unsigned long dropped;
	/* Test aids for --bug only. */
	unsigned long frames;
	unsigned int rr;
	int last_tx_head;
	struct iovec last_rx[NET_LAST_IOV];
	unsigned int last_rx_n;
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

static bool bug(const struct vub *b, enum vub_bug which)
{
	return b->opt.bug == which;
}

static struct vhu_vring *ring(struct vub *b, unsigned int index)
{
	return &vhu_backend_vq(&b->dev, index)->vring;
}

/* The indirect table length of the chain at @head, or 0 when direct. */
static unsigned int indirect_len(struct vub *b, unsigned int index,
				 uint16_t head)
{
	const struct virtq_desc *d = &ring(b, index)->desc[head];

	return d->flags & VIRTQ_DESC_F_INDIRECT ? d->len / sizeof(*d) : 0;
}

/* Puts the last @count popped chains of @index back. */
static void unpop(struct vub *b, unsigned int index, unsigned int count)
{
	struct vhu_vring *vr = ring(b, index);

	vr->last_avail_idx = (uint16_t)(vr->last_avail_idx - count);
	if (vr->event_idx)
		__atomic_store_n(virtq_avail_event(vr->used, vr->num),
				 vr->last_avail_idx, __ATOMIC_RELEASE);
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
	if (bug(b, VUB_BUG_NET_WRAP_DROP) &&
	    (int)__atomic_load_n(&vq->vring.avail->idx, __ATOMIC_ACQUIRE) <
		    (int)vq->vring.last_avail_idx)
		return -EIO;
	return vhu_vring_pending(&vq->vring);
}

/* The frame of transmit chain @t into n->packet (header first); its
 * length. */
static uint32_t read_frame(struct vub *b, const struct vhu_vring_elem *t)
{
	struct net *n = b->priv;
	uint32_t len = t->out_len;

	if (bug(b, VUB_BUG_NET_TX_HDR_ALONE) && t->out_num > 1) {
		/* The first descriptor taken for the header, whatever its
		 * size. */
		len = NET_HDR_LEN + t->out_len - (uint32_t)t->iov[0].iov_len;
		memset(n->packet, 0, NET_HDR_LEN);
		vub_iov_to_buf(t->iov + 1, t->out_num - 1, 0,
			       n->packet + NET_HDR_LEN, len - NET_HDR_LEN);
		return len;
	}
	if (bug(b, VUB_BUG_NET_TX_FIRST_SEG) && t->out_num > 2)
		len = (uint32_t)(t->iov[0].iov_len + t->iov[1].iov_len);
	vub_iov_to_buf(t->iov, t->out_num, 0, n->packet, len);
	if (bug(b, VUB_BUG_NET_WRITE_TX)) {
		uint16_t one = 1;

		vub_buf_to_iov(t->iov, t->out_num,
			       offsetof(struct virtio_net_hdr_v1, num_buffers),
			       &one, sizeof(one));
	}
	return len;
}

/* The header every received frame gets. */
static void put_header(struct vub *b, uint32_t len, uint16_t nbufs)
{
	struct net *n = b->priv;
	struct virtio_net_hdr_v1 hdr = { .gso_type = VIRTIO_NET_HDR_GSO_NONE,
					 .num_buffers = nbufs };

	if (bug(b, VUB_BUG_NET_NUM_BUFFERS_0) && nbufs == 1)
		hdr.num_buffers = 0;
	if (bug(b, VUB_BUG_NET_HDR_DATA_VALID))
		hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	if (bug(b, VUB_BUG_NET_HDR_GSO) && len > NET_HDR_LEN + 1000) {
		hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		hdr.gso_size = 1000;
	}
	memcpy(n->packet, &hdr, sizeof(hdr));
}

/* After a receive chain was filled: the defects that touch more. */
static void rx_after(struct vub *b, unsigned int rx,
		     const struct vhu_vring_elem *r, uint32_t used)
{
	struct net *n = b->priv;
	struct vhu_vring *vr = ring(b, rx);

	if (bug(b, VUB_BUG_NET_RX_PAST_BUFFER) && r->in_num) {
		const struct iovec *last = &r->iov[r->out_num + r->in_num - 1];
		uint8_t *p = (uint8_t *)last->iov_base + last->iov_len;

		if (vub_in_guest_ram(b, p))
			*p ^= 0xff;
	}
	if (bug(b, VUB_BUG_NET_WRITE_DESC))
		vr->desc[r->head].len = used;
	if (bug(b, VUB_BUG_NET_USED_FLAGS_EVIDX))
		__atomic_store_n(&vr->used->flags, VIRTQ_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
	if (bug(b, VUB_BUG_NET_USED_FLAGS_BIT1))
		__atomic_store_n(&vr->used->flags, 2, __ATOMIC_RELAXED);
	if (bug(b, VUB_BUG_NET_RX_REUSE_LAST) && r->in_num <= NET_LAST_IOV) {
		memcpy(n->last_rx, r->iov + r->out_num,
		       r->in_num * sizeof(*n->last_rx));
		n->last_rx_n = r->in_num;
	}
}

/* The packet (@len bytes) into one receive chain @r, as vuvm-backend
 * does without MRG_RXBUF; the used length. */
static uint32_t fill_one(struct vub *b, unsigned int rx,
			 const struct vhu_vring_elem *r, uint32_t len)
{
	struct net *n = b->priv;
	const struct iovec *in = r->iov + r->out_num;
	uint32_t used = len;

	if (r->in_len < len || (bug(b, VUB_BUG_NET_RX_INDIRECT_MAX_4) &&
				indirect_len(b, rx, r->head) > 4)) {
		drop(n, "receive buffer too small", len);
		return 0;
	}
	put_header(b, len, 1);
	if (bug(b, VUB_BUG_NET_RX_FIRST_DESC))
		vub_buf_to_iov(in, 1, 0, n->packet, len);
	else if (bug(b, VUB_BUG_NET_RX_HDR_ALONE) && r->in_num > 1) {
		vub_buf_to_iov(in, 1, 0, n->packet, NET_HDR_LEN);
		vub_buf_to_iov(in + 1, r->in_num - 1, 0,
			       n->packet + NET_HDR_LEN, len - NET_HDR_LEN);
	} else
		vub_buf_to_iov(in, r->in_num, 0, n->packet, len);
	if (bug(b, VUB_BUG_NET_RX_LEN_PLUS_ONE))
		used = len + 1;
	if (bug(b, VUB_BUG_NET_RX_LEN_WHOLE))
		used = r->in_len;
	return used;
}

/* Delivers the @len-byte packet into receive chains of @rx, spread over
 * as many as it needs (MRG_RXBUF). Returns 1 when delivered, 0 when the
 * buffers posted are too few (nothing taken: hold the frame), -1 when it
 * can never fit (drop). */
static int deliver_mrg(struct vub *b, unsigned int rx, uint32_t len)
{
	struct net *n = b->priv;
	struct vhu_vring_elem r[NET_MRG_MAX];
	uint32_t take[NET_MRG_MAX], off = 0;
	unsigned int k = 0;
	struct vhu_vring *vr = ring(b, rx);
	int ret;

	while (off < len) {
		if (k == NET_MRG_MAX) {
			unpop(b, rx, k);
			return -1;
		}
		ret = vub_pop(b, rx, 1 + k, &r[k]);
		if (ret != 1) {
			if (ret == 0)
				unpop(b, rx, k);
			return ret == 0 ? 0 : -1;
		}
		take[k] = len - off < r[k].in_len ? len - off : r[k].in_len;
		if (!k && bug(b, VUB_BUG_NET_MRG_HDR_ALONE) &&
		    take[k] > NET_HDR_LEN)
			take[k] = NET_HDR_LEN;
		off += take[k++];
	}
	put_header(b, len,
		   bug(b, VUB_BUG_NET_MRG_NUM_BUFFERS_1) ? 1 : (uint16_t)k);
	off = 0;
	for (unsigned int i = 0; i < k; i++) {
		uint32_t used = bug(b, VUB_BUG_NET_MRG_LEN_WHOLE) ? r[i].in_len
								  : take[i];

		vub_buf_to_iov(r[i].iov + r[i].out_num, r[i].in_num, 0,
			       n->packet + off, take[i]);
		off += take[i];
		ret = vhu_vring_fill(vr, r[i].head, used);
		if (ret) {
			vub_queue_failed(b, rx, ret);
			return -1;
		}
		if (bug(b, VUB_BUG_NET_MRG_PUBLISH_EACH)) {
			vhu_vring_flush(vr);
			usleep(2000);
		}
		rx_after(b, rx, &r[i], used);
	}
	vhu_vring_flush(vr);
	return 1;
}

/* The receive queue a frame from pair @pair goes to. */
static unsigned int pick_rx(struct vub *b, unsigned int pair)
{
	struct net *n = b->priv;

	if (bug(b, VUB_BUG_NET_MQ_ALL_RX0))
		return 0;
	if (bug(b, VUB_BUG_NET_MQ_SPREAD))
		return 2 * (n->rr++ % n->pairs);
	return 2 * pair;
}

/* --bug net-rx-reuse-last: with no receive buffer, a frame is written
 * into the last receive chain again (already returned to the driver). */
static int reuse_last(struct vub *b, unsigned int tx)
{
	struct net *n = b->priv;
	struct vhu_vring_elem t;
	uint32_t len;

	if (!n->last_rx_n || vub_pop(b, tx, 0, &t) != 1)
		return 0;
	len = read_frame(b, &t);
	if (len <= NET_MAX_PACKET) {
		put_header(b, len, 1);
		vub_buf_to_iov(n->last_rx, n->last_rx_n, 0, n->packet, len);
	}
	vub_push(b, tx, t.head, 0);
	return 1;
}

/* Moves one frame from pair @pair's transmitq. Returns 1 if a transmit
 * chain was consumed, 0 when there is nothing (more) to do now; *@rx_used
 * gets the receive queues written (a bit per pair). */
static int pump_one(struct vub *b, unsigned int pair, uint64_t *rx_used)
{
	struct net *n = b->priv;
	unsigned int tx = 2 * pair + 1, rx = pick_rx(b, pair);
	bool mrg =
		virtio_has_feature(b->dev.features, VIRTIO_NET_F_MRG_RXBUF) ||
		bug(b, VUB_BUG_NET_RX_SPLIT_NOMRG);
	struct vhu_vring_elem t, r;
	int room = rx_room(b, rx), ret;
	uint32_t len, tx_len = 0;

	if (!room && bug(b, VUB_BUG_NET_RX_REUSE_LAST))
		return reuse_last(b, tx);
	if (!room || vub_pop(b, tx, 0, &t) != 1)
		return 0;
	n->frames++;
	len = read_frame(b, &t);
	if (bug(b, VUB_BUG_NET_TRUNC_1500) && len > NET_HDR_LEN + 1500)
		len = NET_HDR_LEN + 1500;
	if (bug(b, VUB_BUG_NET_TX_LEN_FRAME))
		tx_len = len - NET_HDR_LEN;
	if (t.out_len < NET_HDR_LEN || t.out_len > NET_MAX_PACKET)
		drop(n, "bad transmit length", t.out_len);
	else if (bug(b, VUB_BUG_NET_TX_INDIRECT_MAX_4) &&
		 indirect_len(b, tx, t.head) > 4)
		drop(n, "indirect table over 4 (--bug)", t.out_len);
	else if (room < 0)
		drop(n, "receive queue broken", t.out_len);
	else if (mrg) {
		ret = deliver_mrg(b, rx, len);
		if (!ret) {
			unpop(b, tx, 1); /* hold it until buffers come */
			return 0;
		}
		if (ret < 0)
			drop(n, "no room in 31 receive buffers", len);
		else
			*rx_used |= 1ull << (rx / 2);
	} else if (vub_pop(b, rx, 1, &r) != 1)
		drop(n, "receive queue broken", t.out_len);
	else {
		uint32_t used = fill_one(b, rx, &r, len);

		vub_push(b, rx, r.head, used);
		rx_after(b, rx, &r, used);
		*rx_used |= 1ull << (rx / 2);
	}
	if (bug(b, VUB_BUG_NET_TX_LEAK) && n->frames % 5 == 0)
		return 1; /* never completed */
	vub_push(b, tx, t.head, tx_len);
	n->last_tx_head = t.head;
	return 1;
}

static void pump_pair(struct vub *b, unsigned int pair)
{
	struct net *n = b->priv;
	unsigned int tx = 2 * pair + 1;
	bool tx_used = false;
	uint64_t rx_used = 0;

	if (tx >= b->num_queues)
		return;
	while (pump_one(b, pair, &rx_used)) {
		tx_used = true;
		if (bug(b, VUB_BUG_NET_ONE_PER_KICK))
			break;
	}
	if (!tx_used && bug(b, VUB_BUG_NET_KICK_EMPTY_REPUSH) &&
	    n->last_tx_head >= 0 && vub_queue_ok(b, tx)) {
		vub_push(b, tx, (uint16_t)n->last_tx_head, 0);
		n->last_tx_head = -1;
		tx_used = true;
	}
	for (unsigned int p = 0; p < n->pairs; p++)
		if (rx_used & 1ull << p)
			vub_notify(b, 2 * p);
	if (tx_used)
		vub_notify(b, tx);
}

/* One control command; returns the ack byte. */
static uint8_t ctrl_command(struct vub *b, const struct vhu_vring_elem *e)
{
	struct net *n = b->priv;
	struct virtio_net_ctrl_hdr h;
	struct virtio_net_ctrl_mq mq;

	if (bug(b, VUB_BUG_NET_CTRL_OK_ALL))
		return VIRTIO_NET_OK;
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
		if (!bug(b, VUB_BUG_NET_CTRL_NO_ACK))
			vub_buf_to_iov(e.iov + e.out_num, e.in_num,
				       e.in_len - 1, &ack, 1);
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
	n->last_tx_head = -1;
	memcpy(n->config.mac, net_mac, sizeof(net_mac));
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = (uint16_t)n->pairs;
	n->config.mtu = 1500;
	if (bug(b, VUB_BUG_NET_MAC_MULTICAST))
		n->config.mac[0] |= 1;
	if (bug(b, VUB_BUG_NET_STATUS_BITS))
		n->config.status |= 0x100;
	if (bug(b, VUB_BUG_NET_MAX_PAIRS_0))
		n->config.max_virtqueue_pairs = 0;
	if (bug(b, VUB_BUG_NET_MTU_0))
		n->config.mtu = 0;
	b->priv = n;
	b->num_queues = 2 * n->pairs + (mq ? 1 : 0);
	b->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
		      VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		      VIRTIO_BIT(VIRTIO_F_IN_ORDER) |
		      VIRTIO_BIT(VIRTIO_NET_F_MAC) |
		      VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		      VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
		      VIRTIO_BIT(VIRTIO_NET_F_MTU);
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
