/* SPDX-License-Identifier: MIT */
/*
 * The net control queue vuvm serves itself, for a vhost-user net backend
 * that never sees it.
 *
 * In QEMU's model a vhost-user net backend has no control queue: QEMU's
 * virtio-net serves it and turns VQ_PAIRS_SET into SET_VRING_ENABLE on the
 * data rings. DPDK's vhost PMD offers CTRL_VQ and MQ on that basis, so a
 * guest that wants more than one pair (MQ needs CTRL_VQ) sends its
 * commands to a queue the backend never sees. When the backend offers
 * CTRL_VQ and --device gave an even number of queues (data pairs only),
 * the vhost-user device (vhost_user_dev.c) adds the control queue after
 * them and hands it here: a thread woken by the queue's kick eventfd
 * answers every command on guest memory. VQ_PAIRS_SET with 1..pairs is
 * applied through the device's set_pairs callback and answered OK (ERR
 * when the callback fails); every other command is answered ERR (no
 * feature that needs one is offered to a driver that checks, and the
 * backend could not do it anyway). An odd count keeps the old meaning: the
 * last queue is the backend's (vuvm-backend serves one).
 */
#ifndef VUVM_VMM_NET_CTRL_H
#define VUVM_VMM_NET_CTRL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/memory.h"
#include "vmm/vdev.h"

struct netctrl {
	/* Set by netctrl_init(). */
	const char *name; /* the device's, for log lines */
	const struct mem_table *mem;
	unsigned int index; /* the control queue's: 2 * the data pairs */
	/* Applies VQ_PAIRS_SET @pairs (1..index / 2) to the data rings;
	 * 0 or -errno. Called on the queue's thread. */
	int (*set_pairs)(void *opaque, unsigned int pairs);
	void *opaque;
	/* While started: the thread, a stop eventfd, and dups of the
	 * queue's kick and call fds (the transport may close its own
	 * before the thread ends). */
	bool running;
	pthread_t thread;
	int stop_fd, kick_fd, call_fd;
	struct vdev_queue q;
	uint64_t features;
};

/* Whether a device with these properties gets a control queue from vuvm:
 * net, a backend that offers CTRL_VQ, an even queue count below the
 * maximum (room for one more). */
bool netctrl_wanted(uint32_t device_id, uint64_t backend_features,
		    unsigned int nr_queues);

/* Prepares @c for the control queue @index of device @name; not started. */
void netctrl_init(struct netctrl *c, const char *name,
		  const struct mem_table *mem, unsigned int index,
		  int (*set_pairs)(void *opaque, unsigned int pairs),
		  void *opaque);

/*
 * The driver started the device: serve @q (its rings must lie in @mem)
 * with the driver's @features (EVENT_IDX, INDIRECT_DESC matter) in a
 * thread of its own. Returns 0, -EFAULT for rings outside RAM, or -errno;
 * logged. Not to be called while running.
 */
int netctrl_start(struct netctrl *c, const struct vdev_queue *q,
		  uint64_t features);

/*
 * Stops and joins the thread if running (else does nothing). Must be
 * called without any lock set_pairs takes: the thread may wait for it.
 */
void netctrl_stop(struct netctrl *c);

#endif
