/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng, the entropy device (virtio 1.2, "Entropy Device"): one
 * request queue, no feature bits and no config space. The driver posts
 * device-writable buffers; the device fills them with random bytes and
 * reports how many it wrote in the used element's len.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_RNG_H
#define VUVM_VIRTIO_RNG_H

#define VIRTIO_RNG_QUEUE_REQUEST 0
#define VIRTIO_RNG_NUM_QUEUES	 1

#endif
