/* SPDX-License-Identifier: MIT */
/*
 * virtio-fs (virtio 1.2, "File System Device"): feature bits, config space
 * and queue numbering. Requests are FUSE messages: a readable in-header
 * and arguments, then a writable out-header and reply; their layout is
 * FUSE's, not virtio's, and is not defined here.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_FS_H
#define VUVM_VIRTIO_FS_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_FS_F_NOTIFICATION 0

/* The mount tag: UTF-8, NUL-padded, not NUL-terminated when 36 long. */
#define VIRTIO_FS_TAG_SIZE 36

struct virtio_fs_config {
	uint8_t tag[VIRTIO_FS_TAG_SIZE];
	uint32_t num_request_queues;
	uint32_t notify_buf_size; /* VIRTIO_FS_F_NOTIFICATION */
};
_Static_assert(sizeof(struct virtio_fs_config) == 44, "fs config");
_Static_assert(offsetof(struct virtio_fs_config, num_request_queues) == 36,
	       "num_request_queues");

/* Queues: hiprio, then notification (with the feature), then request
 * queues. */
#define VIRTIO_FS_QUEUE_HIPRIO	     0
#define VIRTIO_FS_QUEUE_NOTIFICATION 1

/* The shared-memory region ID of the DAX window. */
#define VIRTIO_FS_SHMCAP_ID_CACHE 0

#endif
