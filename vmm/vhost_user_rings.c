// SPDX-License-Identifier: MIT
/*
 * The rings of a vhost-user device on its backend: the start sequence
 * (memory table, in-flight region, per queue SET_VRING_NUM/BASE/ADDR/
 * CALL/ERR/KICK, then SET_VRING_ENABLE), stopping them (SET_VRING_ENABLE
 * 0, GET_VRING_BASE, or the used index when the backend cannot be asked),
 * waking them after a reconnect, and reading their indices in guest
 * memory. Called by the device (vhost_user_dev.c), the link
 * (vhost_user_link.c) and suspend/resume (vhost_user_state.c), with
 * d->lock held; it calls none of them.
 */
#define pr_fmt(fmt) "vhost-user: " fmt

#include "vmm/vhost_user_dev.h"
#include "vmm/vhost_user_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtio_ring_packed.h"

struct vhu_region vudev_region(const struct mem_region *r)
{
	return (struct vhu_region){
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uint64_t)(uintptr_t)r->host,
		.mmap_offset = r->fd_offset,
		.fd = r->fd,
	};
}

/* RAM, then every range the check port added (ADD_MEM_REG: the table
 * SET_MEM_TABLE replaced had them). */
static int set_mem_table(struct vudev *d)
{
	struct vhu_region regions[MEM_MAX_REGIONS];
	int err;

	for (unsigned int i = 0; i < d->mem->nr; i++)
		regions[i] = vudev_region(&d->mem->regions[i]);
	err = vhu_set_mem_table(&d->fe, regions, d->mem->nr);
	for (unsigned int k = 0; k < VUDEV_MAX_HOT && !err; k++) {
		struct vhu_region r = vudev_region(&d->hot[k]);

		if (!d->hot[k].host)
			continue;
		if (!vhu_has_protocol_feature(
			    &d->fe,
			    VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
			pr_warn("%s: the backend has no CONFIGURE_MEM_SLOTS: "
				"the memory added at %#llx is not its",
				d->name, (unsigned long long)d->hot[k].gpa);
			continue;
		}
		err = vhu_add_mem_reg(&d->fe, &r);
	}
	return err;
}

/* Translates one ring part to vuvm's address; 0 if it is not all RAM. */
static uint64_t ring_addr(struct vudev *d, uint64_t gpa, uint64_t size)
{
	return (uint64_t)(uintptr_t)mem_gpa_to_host(d->mem, gpa, size);
}

bool vudev_packed(const struct vudev *d)
{
	return d->guest_features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
}

/*
 * The byte sizes of a queue's three parts: split desc/avail/used, or
 * packed descriptor ring, driver area and device area (event suppression).
 */
static void ring_sizes(bool packed, unsigned int num, uint64_t size[3])
{
	size[0] = packed ? virtq_packed_desc_size(num) : virtq_desc_size(num);
	size[1] = packed ? virtq_packed_event_size() : virtq_avail_size(num);
	size[2] = packed ? virtq_packed_event_size() : virtq_used_size(num);
}

bool vudev_rings_in_ram(struct vudev *d, const struct vdev_queue *q,
			bool packed)
{
	uint64_t size[3];

	ring_sizes(packed, q->size, size);
	if (ring_addr(d, q->desc_gpa, size[0]) &&
	    ring_addr(d, q->driver_gpa, size[1]) &&
	    ring_addr(d, q->device_gpa, size[2]))
		return true;
	pr_err("%s: queue %u: %s rings (desc %#llx driver %#llx device %#llx, "
	       "size %u) are not all in guest RAM",
	       d->name, q->index, packed ? "packed" : "split",
	       (unsigned long long)q->desc_gpa,
	       (unsigned long long)q->driver_gpa,
	       (unsigned long long)q->device_gpa, q->size);
	return false;
}

/* The ring's index field (avail or used) as the guest memory holds it; a
 * packed ring has none (0). */
static uint16_t ring_idx(struct vudev *d, uint64_t ring_gpa)
{
	const uint16_t *p = vudev_packed(d)
				    ? NULL
				    : mem_gpa_to_host(d->mem, ring_gpa + 2, 2);

	return p ? __atomic_load_n(p, __ATOMIC_ACQUIRE) : 0;
}

uint16_t vudev_used_idx(struct vudev *d, unsigned int i)
{
	return ring_idx(d, d->queues[i].device_gpa);
}

uint16_t vudev_avail_idx(struct vudev *d, unsigned int i)
{
	return ring_idx(d, d->queues[i].driver_gpa);
}

uint32_t vudev_initial_base(const struct vudev *d)
{
	/* A packed ring starts at slot 0 with both wrap counters 1. */
	return vudev_packed(d) ? virtq_packed_base(0, true, 0, true) : 0;
}

unsigned int vudev_base_pending(const struct vudev *d, unsigned int i,
				uint32_t base, uint16_t used_idx)
{
	unsigned int num = d->queues[i].size, avail, used;

	if (!vudev_packed(d))
		return (uint16_t)((uint16_t)base - used_idx);
	/* Only the avail half (DPDK answers so): nothing is outstanding. */
	if (!(base >> 16))
		return 0;
	avail = base & 0x7fff;
	used = (base >> 16) & 0x7fff;
	if (avail >= num || used >= num)
		return UINT16_MAX;
	if (!(base & VIRTQ_PACKED_WRAP) == !(base & (VIRTQ_PACKED_WRAP << 16)))
		return avail >= used ? avail - used : UINT16_MAX;
	return avail < used ? avail + num - used : UINT16_MAX;
}

/*
 * SET_VRING_ADDR's three addresses: for a split ring the descriptor table,
 * available ring and used ring; for a packed ring the descriptor ring, the
 * driver area (driver event suppression) and the device area (device
 * event suppression), in the same three fields.
 */
static int start_queue(struct vudev *d, const struct vdev_queue *q,
		       uint32_t base)
{
	uint64_t size[3];
	struct vhu_vring_addr addr = { .index = q->index };
	int err;

	ring_sizes(vudev_packed(d), q->size, size);
	addr.desc_user_addr = ring_addr(d, q->desc_gpa, size[0]);
	addr.avail_user_addr = ring_addr(d, q->driver_gpa, size[1]);
	addr.used_user_addr = ring_addr(d, q->device_gpa, size[2]);
	err = vhu_set_vring_base(&d->fe, q->index, base);

	/*
	 * The call and error fds before the kick fd, as QEMU and Cloud
	 * Hypervisor do:
	 * the kick starts the ring, and a backend that finds requests
	 * waiting (after a resume or reconnect) completes them at once.
	 * qemu-storage-daemon 7.2 then signals a call fd it does not have
	 * yet and gives up the connection (vu_panic).
	 */
	if (!err)
		err = vhu_set_vring_addr(&d->fe, &addr);
	/* The check port's START may ask for the other legal order. */
	if (!err && d->kick_first)
		err = vhu_set_vring_kick(&d->fe, q->index, q->kick_fd);
	if (!err)
		err = vhu_set_vring_call(&d->fe, q->index, q->call_fd);
	if (!err)
		err = vhu_set_vring_err(&d->fe, q->index, d->err_fd);
	if (!err && !d->kick_first)
		err = vhu_set_vring_kick(&d->fe, q->index, q->kick_fd);
	return err;
}

bool vudev_protocol_acked(const struct vudev *d)
{
	return d->fe.acked_features &
	       VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

/* Whether ring @index may run: VQ_PAIRS_SET disables the pairs beyond it. */
bool vudev_ring_wanted(const struct vudev *d, unsigned int index)
{
	return !d->local_ctrl || !d->net_pairs || index / 2 < d->net_pairs;
}

/*
 * In-flight tracking (see inflight_wanted()): the region is fetched once
 * per activation and handed back to every backend after.
 */
static int setup_inflight(struct vudev *d)
{
	int err;

	if (!vhu_has_protocol_feature(&d->fe,
				      VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)) {
		if (d->inflight_fd >= 0)
			pr_warn("%s: the backend no longer offers "
				"INFLIGHT_SHMFD: requests in flight at the "
				"loss may be lost",
				d->name);
		return 0;
	}
	if (d->inflight_fd < 0) {
		err = vhu_get_inflight_fd(&d->fe, (uint16_t)backend_queues(d),
					  d->vdev.queue_size_max, &d->inflight,
					  &d->inflight_fd);
		if (err)
			return err;
	}
	return vhu_set_inflight_fd(&d->fe, &d->inflight, d->inflight_fd);
}

void vudev_drop_inflight(struct vudev *d)
{
	if (d->inflight_fd >= 0)
		close(d->inflight_fd);
	d->inflight_fd = -1;
}

static int set_rings(struct vudev *d)
{
	int err = 0;

	/* Every ring's size first: some backends (SPDK) want the count
	 * before any ring is set up. */
	for (unsigned int i = 0; i < d->nr_active && !err; i++)
		err = vhu_set_vring_num(&d->fe, d->queues[i].index,
					d->queues[i].size);
	for (unsigned int i = 0; i < d->nr_active && !err; i++) {
		err = start_queue(d, &d->queues[i], d->base[i]);
		if (!err)
			d->nr_started = i + 1;
	}
	/* Enable only once every ring is set up (Cloud Hypervisor's order). */
	for (unsigned int i = 0;
	     i < d->nr_active && !err && vudev_protocol_acked(d); i++)
		err = vhu_set_vring_enable(
			&d->fe, d->queues[i].index,
			vudev_ring_wanted(d, d->queues[i].index));
	return err;
}

/*
 * The start sequence of docs/vhost-user.md for queues[] from base[]:
 * SET_FEATURES, the inflight region, SET_MEM_TABLE, the rings. Called
 * with the lock held, CONNECTED, active and not suspended.
 */
int vudev_rings_start(struct vudev *d)
{
	uint64_t proto =
		d->fe.features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	int err;

	d->nr_started = 0;
	err = vhu_set_features(&d->fe, d->guest_features | proto);
	if (!err && inflight_wanted(d))
		err = setup_inflight(d);
	if (!err)
		err = set_mem_table(d);
	if (!err)
		err = set_rings(d);
	if (err)
		pr_err("%s: start failed: %s", d->name,
		       vhu_frontend_error(&d->fe));
	return err;
}

/*
 * Stops every started ring and records in base[] where each got to:
 * GET_VRING_BASE's answer, or the used index when the backend cannot be
 * asked (gone, or failing to answer). A packed ring has no used index in
 * guest memory: its base stays the last one known (the start's), and the
 * next backend finds the real position in the in-flight region.
 */
void vudev_rings_stop(struct vudev *d)
{
	for (unsigned int i = 0; i < d->nr_started; i++) {
		unsigned int index = d->queues[i].index;
		uint32_t base;
		/* A broken stream is not asked: the first error stays. */
		int err = d->link == VUDEV_CONNECTED && !d->fe.broken
				  ? 0
				  : -ENOTCONN;

		if (!err && vudev_protocol_acked(d))
			err = vhu_set_vring_enable(&d->fe, index, false);
		if (!err)
			err = vhu_get_vring_base(&d->fe, index, &base);
		if (err && err != -ENOTCONN)
			pr_warn("%s: stopping queue %u: %s", d->name, index,
				vhu_frontend_error(&d->fe));
		if (!err)
			d->base[i] = vudev_packed(d) ? base : (uint16_t)base;
		else if (!vudev_packed(d))
			d->base[i] = vudev_used_idx(d, i);
		else if (d->inflight_fd < 0)
			pr_warn("%s: queue %u: packed ring stopped without "
				"GET_VRING_BASE and without an in-flight "
				"region: its position is unknown, it restarts "
				"at 0x%x",
				d->name, index, d->base[i]);
	}
	d->nr_started = 0;
}

/*
 * After a restart, kick every ring (the guest may have kicked the old
 * backend for requests it never saw) and raise its interrupt (the old
 * backend may have completed requests without signalling). Both are
 * harmless when spurious.
 */
void vudev_rings_wake(struct vudev *d)
{
	uint64_t one = 1;

	for (unsigned int i = 0; i < d->nr_started; i++) {
		if (write(d->queues[i].kick_fd, &one, sizeof(one)) < 0 ||
		    write(d->queues[i].call_fd, &one, sizeof(one)) < 0)
			pr_warn("%s: queue %u: cannot signal: %s", d->name,
				d->queues[i].index, strerror(errno));
	}
}
