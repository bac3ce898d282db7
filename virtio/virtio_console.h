/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.2, "Console Device"): feature bits, config space,
 * queue numbering and the control messages of the multiport protocol.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_CONSOLE_H
#define VUVM_VIRTIO_CONSOLE_H

#include <stdint.h>

#define VIRTIO_CONSOLE_F_SIZE	     0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

struct virtio_console_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
};
_Static_assert(sizeof(struct virtio_console_config) == 12, "console config");

/* Queues: port 0 receiveq/transmitq, then (MULTIPORT) control receiveq and
 * transmitq, then receiveq/transmitq pairs for ports 1.. */
#define VIRTIO_CONSOLE_QUEUE_RX0     0
#define VIRTIO_CONSOLE_QUEUE_TX0     1
#define VIRTIO_CONSOLE_QUEUE_CTRL_RX 2
#define VIRTIO_CONSOLE_QUEUE_CTRL_TX 3

struct virtio_console_control {
	uint32_t id;	/* port number */
	uint16_t event; /* VIRTIO_CONSOLE_* below */
	uint16_t value;
};
_Static_assert(sizeof(struct virtio_console_control) == 8, "console control");

#define VIRTIO_CONSOLE_DEVICE_READY  0
#define VIRTIO_CONSOLE_DEVICE_ADD    1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY    3
#define VIRTIO_CONSOLE_CONSOLE_PORT  4
#define VIRTIO_CONSOLE_RESIZE	     5
#define VIRTIO_CONSOLE_PORT_OPEN     6
#define VIRTIO_CONSOLE_PORT_NAME     7

/* VIRTIO_CONSOLE_RESIZE payload, after the control header. */
struct virtio_console_resize {
	uint16_t cols;
	uint16_t rows;
};
_Static_assert(sizeof(struct virtio_console_resize) == 4, "console resize");

#endif
