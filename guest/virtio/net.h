/* SPDX-License-Identifier: MIT */
/*
 * virtio-net driver over virtio/mmio.h and virtq.h, polled in ring 3: queue
 * pairs of receiveq (2k) and transmitq (2k+1), and the control queue when
 * more than one pair is wanted. Every packet on either queue starts with a
 * struct virtio_net_hdr_v1 (VERSION_1); no offloads and no mergeable
 * receive buffers are negotiated, so each receive chain must hold the
 * header and a whole frame (1526 bytes for a 1514-byte frame).
 *
 * net_open: negotiates (VERSION_1, MAC, STATUS, INDIRECT_DESC, EVENT_IDX,
 *   and MQ + CTRL_VQ when @pairs > 1, minus @unwanted), reads the config
 *   space, sets up min(@pairs, max_virtqueue_pairs) pairs of up to @qsize
 *   entries (and the control queue), DRIVER_OK, and with more than one
 *   pair sends VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET. 0 or a negative code with
 *   n->vio.error saying why.
 * net_open_with: net_open with the features to ask for given whole
 *   (@features, intersected with the offer: MRG_RXBUF, MTU... as a caller
 *   wants them) and indirect tables of @indirect_max descriptors (net_open:
 *   8); it sends no VQ_PAIRS_SET (the caller does, with net_ctrl).
 * net_rx_post: adds a device-writable chain of @nbufs buffers to pair
 *   @pair's receiveq under @token; net_tx: a readable chain (header, then
 *   frame) to its transmitq. Neither notifies: net_kick does, for queue
 *   @qi (NET_RXQ/NET_TXQ of a pair), if the device wants it.
 * net_poll: takes one completion of queue @qi: 1 with *@token, *@len
 *   (bytes written, for receive), 0 when none, negative when the device
 *   misbehaved.
 * net_ctrl: runs one control command synchronously; returns the ack byte
 *   (VIRTIO_NET_OK or _ERR) or a negative code.
 */
#ifndef VUVM_GUEST_VIRTIO_NET_H
#define VUVM_GUEST_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/mmio.h"
#include "virtio/virtio_net.h"

#define NET_MAX_PAIRS 16
#define NET_ETIMEDOUT (-110)
#define NET_RXQ(pair) (2 * (pair))
#define NET_TXQ(pair) (2 * (pair) + 1)

struct net_dev {
	struct vio_dev vio;
	uint8_t mac[VIRTIO_NET_ETH_ALEN];
	uint16_t status;
	uint16_t max_pairs;
	unsigned int npairs;
	struct virtq vq[2 * NET_MAX_PAIRS];
	struct virtq ctrl;
	unsigned int ctrl_index;
	bool has_ctrl;
};

int net_open(struct net_dev *n, const struct vio_dev *found, unsigned int pairs,
	     unsigned int qsize, uint64_t unwanted);
int net_open_with(struct net_dev *n, const struct vio_dev *found,
		  unsigned int pairs, unsigned int qsize, uint64_t features,
		  unsigned int indirect_max);
int net_rx_post(struct net_dev *n, unsigned int pair,
		const struct virtq_buf *bufs, unsigned int nbufs, void *token);
int net_tx(struct net_dev *n, unsigned int pair, const struct virtq_buf *bufs,
	   unsigned int nbufs, void *token);
void net_kick(struct net_dev *n, unsigned int qi);
int net_poll(struct net_dev *n, unsigned int qi, void **token, uint32_t *len);
int net_ctrl(struct net_dev *n, uint8_t class, uint8_t cmd, const void *data,
	     uint32_t len);

#endif
