/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock (virtio 1.2, "Socket Device"): feature bits, config space,
 * well-known CIDs, and the packet header that starts every packet on the
 * rx and tx queues. The header is packed: the spec's 44 bytes are not a
 * multiple of its u64 fields' alignment.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_VSOCK_H
#define VUVM_VIRTIO_VSOCK_H

#include <stdint.h>

#define VIRTIO_VSOCK_F_STREAM	 0
#define VIRTIO_VSOCK_F_SEQPACKET 1

struct virtio_vsock_config {
	uint64_t guest_cid;
};
_Static_assert(sizeof(struct virtio_vsock_config) == 8, "vsock config");

/* Reserved context IDs; guests get 3 and above. */
#define VIRTIO_VSOCK_CID_HYPERVISOR 0
#define VIRTIO_VSOCK_CID_LOCAL	    1
#define VIRTIO_VSOCK_CID_HOST	    2

/* Queues: rx, tx, event. */
#define VIRTIO_VSOCK_QUEUE_RX	 0
#define VIRTIO_VSOCK_QUEUE_TX	 1
#define VIRTIO_VSOCK_QUEUE_EVENT 2

struct virtio_vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;  /* payload bytes after the header */
	uint16_t type; /* VIRTIO_VSOCK_TYPE_* */
	uint16_t op;   /* VIRTIO_VSOCK_OP_* */
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "vsock hdr");

#define VIRTIO_VSOCK_TYPE_STREAM    1
#define VIRTIO_VSOCK_TYPE_SEQPACKET 2

#define VIRTIO_VSOCK_OP_INVALID	       0
#define VIRTIO_VSOCK_OP_REQUEST	       1
#define VIRTIO_VSOCK_OP_RESPONSE       2
#define VIRTIO_VSOCK_OP_RST	       3
#define VIRTIO_VSOCK_OP_SHUTDOWN       4
#define VIRTIO_VSOCK_OP_RW	       5
#define VIRTIO_VSOCK_OP_CREDIT_UPDATE  6
#define VIRTIO_VSOCK_OP_CREDIT_REQUEST 7

/* flags of OP_SHUTDOWN. */
#define VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE 1
#define VIRTIO_VSOCK_SHUTDOWN_F_SEND	2

/* flags of OP_RW on a SEQPACKET socket. */
#define VIRTIO_VSOCK_SEQ_EOM 1
#define VIRTIO_VSOCK_SEQ_EOR 2

struct virtio_vsock_event {
	uint32_t id; /* VIRTIO_VSOCK_EVENT_* */
};
_Static_assert(sizeof(struct virtio_vsock_event) == 4, "vsock event");

#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0

#endif
