/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2, "Network Device"): feature bits, config space, the
 * per-packet header, and the control virtqueue's classes and commands.
 * With VERSION_1 every packet on receiveq and transmitq starts with a
 * struct virtio_net_hdr_v1 (12 bytes, num_buffers always present).
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_NET_H
#define VUVM_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

/* Feature bits. */
#define VIRTIO_NET_F_CSUM		 0
#define VIRTIO_NET_F_GUEST_CSUM		 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		 3
#define VIRTIO_NET_F_MAC		 5
#define VIRTIO_NET_F_GUEST_TSO4		 7
#define VIRTIO_NET_F_GUEST_TSO6		 8
#define VIRTIO_NET_F_GUEST_ECN		 9
#define VIRTIO_NET_F_GUEST_UFO		 10
#define VIRTIO_NET_F_HOST_TSO4		 11
#define VIRTIO_NET_F_HOST_TSO6		 12
#define VIRTIO_NET_F_HOST_ECN		 13
#define VIRTIO_NET_F_HOST_UFO		 14
#define VIRTIO_NET_F_MRG_RXBUF		 15
#define VIRTIO_NET_F_STATUS		 16
#define VIRTIO_NET_F_CTRL_VQ		 17
#define VIRTIO_NET_F_CTRL_RX		 18
#define VIRTIO_NET_F_CTRL_VLAN		 19
#define VIRTIO_NET_F_CTRL_RX_EXTRA	 20
#define VIRTIO_NET_F_GUEST_ANNOUNCE	 21
#define VIRTIO_NET_F_MQ			 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	 23
#define VIRTIO_NET_F_VQ_NOTF_COAL	 52
#define VIRTIO_NET_F_NOTF_COAL		 53
#define VIRTIO_NET_F_GUEST_USO4		 54
#define VIRTIO_NET_F_GUEST_USO6		 55
#define VIRTIO_NET_F_HOST_USO		 56
#define VIRTIO_NET_F_HASH_REPORT	 57
#define VIRTIO_NET_F_GUEST_HDRLEN	 59
#define VIRTIO_NET_F_RSS		 60
#define VIRTIO_NET_F_RSC_EXT		 61
#define VIRTIO_NET_F_STANDBY		 62
#define VIRTIO_NET_F_SPEED_DUPLEX	 63

/* config.status bits (VIRTIO_NET_F_STATUS). */
#define VIRTIO_NET_S_LINK_UP  1
#define VIRTIO_NET_S_ANNOUNCE 2

#define VIRTIO_NET_ETH_ALEN 6

/* Config space; every field is naturally aligned in the spec's layout. */
struct virtio_net_config {
	uint8_t mac[VIRTIO_NET_ETH_ALEN];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
	uint32_t speed; /* Mbit/s, 0xffffffff unknown */
	uint8_t duplex; /* 0 half, 1 full, 0xff unknown */
	uint8_t rss_max_key_size;
	uint16_t rss_max_indirection_table_length;
	uint32_t supported_hash_types;
};
_Static_assert(sizeof(struct virtio_net_config) == 24, "net config");
_Static_assert(offsetof(struct virtio_net_config, speed) == 12, "speed");
_Static_assert(offsetof(struct virtio_net_config, supported_hash_types) == 20,
	       "supported_hash_types");

/* Queues: receiveq1, transmitq1, ... receiveqN, transmitqN, controlq. */
#define VIRTIO_NET_QUEUE_RX0 0
#define VIRTIO_NET_QUEUE_TX0 1

/* virtio_net_hdr_v1.flags */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO   4

/* virtio_net_hdr_v1.gso_type */
#define VIRTIO_NET_HDR_GSO_NONE	  0
#define VIRTIO_NET_HDR_GSO_TCPV4  1
#define VIRTIO_NET_HDR_GSO_UDP	  3
#define VIRTIO_NET_HDR_GSO_TCPV6  4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN	  0x80

struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* receive side, MRG_RXBUF; else 1 */
};
_Static_assert(sizeof(struct virtio_net_hdr_v1) == 12, "net hdr v1");

/* Control virtqueue: a readable virtio_net_ctrl_hdr and command data, then a
 * writable ack byte. */
struct virtio_net_ctrl_hdr {
	uint8_t class;
	uint8_t cmd;
};
_Static_assert(sizeof(struct virtio_net_ctrl_hdr) == 2, "net ctrl hdr");

/* The ack byte (uint8_t). */
#define VIRTIO_NET_OK  0
#define VIRTIO_NET_ERR 1

#define VIRTIO_NET_CTRL_RX	    0
#define VIRTIO_NET_CTRL_RX_PROMISC  0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_RX_ALLUNI   2
#define VIRTIO_NET_CTRL_RX_NOMULTI  3
#define VIRTIO_NET_CTRL_RX_NOUNI    4
#define VIRTIO_NET_CTRL_RX_NOBCAST  5

#define VIRTIO_NET_CTRL_MAC	      1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET  1

#define VIRTIO_NET_CTRL_VLAN	 2
#define VIRTIO_NET_CTRL_VLAN_ADD 0
#define VIRTIO_NET_CTRL_VLAN_DEL 1

#define VIRTIO_NET_CTRL_ANNOUNCE     3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK 0

#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_MQ_RSS_CONFIG	1
#define VIRTIO_NET_CTRL_MQ_HASH_CONFIG	2
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET data. */
struct virtio_net_ctrl_mq {
	uint16_t virtqueue_pairs;
};
_Static_assert(sizeof(struct virtio_net_ctrl_mq) == 2, "net ctrl mq");

#define VIRTIO_NET_CTRL_GUEST_OFFLOADS	   5
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

#define VIRTIO_NET_CTRL_NOTF_COAL	 6
#define VIRTIO_NET_CTRL_NOTF_COAL_TX_SET 0
#define VIRTIO_NET_CTRL_NOTF_COAL_RX_SET 1

#endif
