/* SPDX-License-Identifier: MIT */
/*
 * What the files of the vhost-user device share: vhost_user_dev.c (the
 * device as the transport sees it: activate, reset, open, close),
 * vhost_user_rings.c (its rings on the backend: start, stop, wake),
 * vhost_user_link.c (the backend connection: handshake, loss, reconnect,
 * backend channel) and vhost_user_state.c (suspend, resume, device
 * state). Calls go dev → link → rings and state → link, rings; never back.
 * Every function is called with d->lock held, except where it says
 * otherwise.
 */
#ifndef VUVM_VMM_VHOST_USER_INTERNAL_H
#define VUVM_VMM_VHOST_USER_INTERNAL_H

#include "virtio/virtio_ids.h"
#include "vmm/vhost_user_dev.h"

/* The start sequence for queues[] from base[]; 0 or -errno (logged). */
int vudev_rings_start(struct vudev *d);

/* The vhost-user description of one range of guest memory. */
struct vhu_region vudev_region(const struct mem_region *r);

/* Stops the started rings; base[] gets GET_VRING_BASE's answers, or the
 * used indices when the backend cannot be asked. */
void vudev_rings_stop(struct vudev *d);

/* Kicks every started ring and raises its interrupt once. */
void vudev_rings_wake(struct vudev *d);

/* Whether @q's three rings (split, or @packed) lie in guest RAM. */
bool vudev_rings_in_ram(struct vudev *d, const struct vdev_queue *q,
			bool packed);

/* Whether the driver acked VIRTIO_F_RING_PACKED (d->guest_features). */
bool vudev_packed(const struct vudev *d);

/* Where a ring starts after activation: 0, or for a packed ring slot 0
 * with both wrap counters set (the vhost-user 32-bit position). */
uint32_t vudev_initial_base(const struct vudev *d);

/*
 * How many requests queue i's @base (a GET_VRING_BASE answer) says were
 * taken and not completed: split, base minus @used_idx (from guest
 * memory); packed, the avail half ahead of the used half (0 when the
 * backend answered the avail half only). UINT16_MAX when the base is
 * impossible (a slot beyond the ring, used ahead of avail).
 */
unsigned int vudev_base_pending(const struct vudev *d, unsigned int i,
				uint32_t base, uint16_t used_idx);

/* Whether the driver's features include PROTOCOL_FEATURES (so rings are
 * enabled with SET_VRING_ENABLE), and whether ring @index is wanted
 * enabled (net: within the pairs VQ_PAIRS_SET asked for). */
bool vudev_protocol_acked(const struct vudev *d);
bool vudev_ring_wanted(const struct vudev *d, unsigned int index);

/* Forgets the in-flight region (the driver reset the device). */
void vudev_drop_inflight(struct vudev *d);

/* Queue i's (of queues[]) used and available index in guest memory; 0 for
 * a packed ring, which has neither. */
uint16_t vudev_used_idx(struct vudev *d, unsigned int i);
uint16_t vudev_avail_idx(struct vudev *d, unsigned int i);

/*
 * Moves d->link as the table in vhost_user_dev.h allows: 0, or -EINVAL
 * with the impossible move logged and d->link unchanged.
 */
int vudev_set_link(struct vudev *d, enum vudev_link to);

/* The word vudev_describe() prints for @link. */
const char *vudev_link_name(enum vudev_link link);

/*
 * Connects fe to cfg->socket (retrying until @connect_ms), bounds every
 * reply by @reply_ms and sets up --trace vhost. 0 or -errno, the reason
 * in vhu_frontend_error() (not logged).
 */
int vudev_connect(struct vudev *d, int connect_ms, int reply_ms);

/* The handshake on a connected fe: features, protocol features, queue
 * count, backend channel, config. 0 or -errno (logged). */
int vudev_negotiate(struct vudev *d);

/*
 * vuvm's first connection to the backend: vudev_connect() and
 * vudev_negotiate(), where a backend that accepts and then closes the
 * connection before its first reply (one still starting, as DPDK's vhost
 * PMD can be) is connected to again, with a back-off of 10 ms doubling
 * to 200 ms, until @connect_ms have passed since the start; one warning
 * line per attempt. 0, or -errno with the reason logged (and on failure
 * fe and the backend channel may still be open: vudev_close() them).
 * vudev_open() calls it before any other thread knows the device, so
 * without the lock.
 */
int vudev_connect_first(struct vudev *d, int connect_ms);

/*
 * In-flight tracking, for every device type but net (QEMU uses it for blk;
 * a lost frame is acceptable and DPDK need not be asked).
 */
static inline bool inflight_wanted(const struct vudev *d)
{
	return d->vdev.device_id != VIRTIO_ID_NET;
}

/* The queues the backend serves: all but vuvm's net control queue. */
static inline unsigned int backend_queues(const struct vudev *d)
{
	return d->vdev.nr_queues - (d->local_ctrl ? 1 : 0);
}

#endif
