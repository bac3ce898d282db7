// SPDX-License-Identifier: MIT
/*
 * The net control queue vuvm serves itself (see net_ctrl.h for why): when
 * a device gets one, starting and stopping its thread, the thread's loop,
 * and the one command it carries out.
 */
#define pr_fmt(fmt) "vhost-user: " fmt
#include "vmm/net_ctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vhost/vring.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_ring.h"
#include "vmm/seccomp.h"

bool netctrl_wanted(uint32_t device_id, uint64_t backend_features,
		    unsigned int nr_queues)
{
	return device_id == VIRTIO_ID_NET &&
	       (backend_features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)) &&
	       nr_queues % 2 == 0 && nr_queues < VDEV_MAX_QUEUES;
}

void netctrl_init(struct netctrl *c, const char *name,
		  const struct mem_table *mem, unsigned int index,
		  int (*set_pairs)(void *opaque, unsigned int pairs),
		  void *opaque)
{
	*c = (struct netctrl){
		.name = name,
		.mem = mem,
		.index = index,
		.set_pairs = set_pairs,
		.opaque = opaque,
		.stop_fd = -1,
		.kick_fd = -1,
		.call_fd = -1,
	};
}

/* --- One command ------------------------------------------------------------
 */

/*
 * VQ_PAIRS_SET with 1..pairs: the device disables the rings of the pairs
 * beyond it (the device must not use them) and enables the others, as
 * QEMU does. Everything else: ERR.
 */
static uint8_t netctrl_command(struct netctrl *c, const uint8_t *cmd,
			       uint32_t len)
{
	unsigned int pairs = c->index / 2, want;
	int err;

	if (len < 4 || cmd[0] != VIRTIO_NET_CTRL_MQ ||
	    cmd[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
		return VIRTIO_NET_ERR;
	want = (unsigned int)(cmd[2] | cmd[3] << 8);
	if (!want || want > pairs)
		return VIRTIO_NET_ERR;
	err = c->set_pairs(c->opaque, want);
	pr_info("%s: control queue: VQ_PAIRS_SET %u", c->name, want);
	return err ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

/* --- The thread -------------------------------------------------------------
 */

static void *netctrl_translate(void *opaque, uint64_t gpa, uint64_t len)
{
	const struct netctrl *c = opaque;

	return mem_gpa_to_host(c->mem, gpa, len);
}

/* Copies up to @len readable bytes of @e into @buf; returns how many. */
static uint32_t netctrl_gather(const struct vhu_vring_elem *e, uint8_t *buf,
			       uint32_t len)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < e->out_num && n < len; i++) {
		size_t k = e->iov[i].iov_len < len - n ? e->iov[i].iov_len
						       : len - n;

		memcpy(buf + n, e->iov[i].iov_base, k);
		n += (uint32_t)k;
	}
	return n;
}

/* Serves every available chain; false when the ring is broken. */
static bool netctrl_serve(struct netctrl *c, struct vhu_vring *vr)
{
	struct iovec iov[8];
	struct vhu_vring_elem e = { .iov = iov, .iov_max = 8 };
	uint8_t cmd[64], ack;
	uint64_t one = 1;
	int ret;

	while ((ret = vhu_vring_pop(vr, &e)) > 0) {
		ack = netctrl_command(c, cmd,
				      netctrl_gather(&e, cmd, sizeof(cmd)));
		/* The ack is the last writable byte; no room: length 0. */
		if (e.in_num) {
			struct iovec *last = &iov[e.out_num + e.in_num - 1];

			((uint8_t *)last->iov_base)[last->iov_len - 1] = ack;
		}
		ret = vhu_vring_push(vr, e.head, e.in_num ? 1 : 0);
		if (ret)
			break;
	}
	if (vhu_vring_should_notify(vr) &&
	    write(c->call_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: control queue: cannot signal", c->name);
	if (ret < 0)
		pr_warn("%s: control queue: %s; not served until reset",
			c->name, vhu_vring_error(vr));
	return ret >= 0;
}

/* The ring's parts in vuvm's memory, split or packed by @features; false
 * unless they are all in guest RAM. */
static bool netctrl_parts(const struct netctrl *c, const struct vdev_queue *q,
			  uint64_t features, struct vhu_vring_config *vc)
{
	unsigned int n = q->size;

	if (features & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) {
		/* A fresh ring: slot 0, both wrap counters 1. */
		vc->base = virtq_packed_base(0, true, 0, true);
		vc->packed_desc = mem_gpa_to_host(c->mem, q->desc_gpa,
						  virtq_packed_desc_size(n));
		vc->driver_event = mem_gpa_to_host(c->mem, q->driver_gpa,
						   virtq_packed_event_size());
		vc->device_event = mem_gpa_to_host(c->mem, q->device_gpa,
						   virtq_packed_event_size());
		return vc->packed_desc && vc->driver_event && vc->device_event;
	}
	vc->desc = mem_gpa_to_host(c->mem, q->desc_gpa, virtq_desc_size(n));
	vc->avail = mem_gpa_to_host(c->mem, q->driver_gpa, virtq_avail_size(n));
	vc->used = mem_gpa_to_host(c->mem, q->device_gpa, virtq_used_size(n));
	return vc->desc && vc->avail && vc->used;
}

static void *netctrl_main(void *opaque)
{
	struct netctrl *c = opaque;
	const struct vdev_queue *q = &c->q;
	struct vhu_vring vr = { 0 };
	struct vhu_vring_config vc = {
		.num = q->size,
		.features = c->features,
		.translate = netctrl_translate,
		.opaque = c,
	};
	struct pollfd p[2] = { { c->kick_fd, POLLIN, 0 },
			       { c->stop_fd, POLLIN, 0 } };
	uint64_t n;
	bool ok;

	sandbox_enter(SANDBOX_NETCTRL, "netctrl-%s", c->name);
	ok = netctrl_parts(c, q, c->features, &vc) &&
	     vhu_vring_init(&vr, &vc) == 0;

	if (!ok)
		pr_warn("%s: control queue: %s", c->name, vhu_vring_error(&vr));
	while (poll(p, 2, -1) >= 0 || errno == EINTR) {
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			if (read(c->kick_fd, &n, sizeof(n)) < 0)
				continue;
			if (ok)
				ok = netctrl_serve(c, &vr);
		}
	}
	vhu_vring_cleanup(&vr);
	return NULL;
}

/* --- Start and stop ---------------------------------------------------------
 */

static bool netctrl_in_ram(const struct netctrl *c, const struct vdev_queue *q,
			   uint64_t features)
{
	struct vhu_vring_config vc = { 0 };

	return netctrl_parts(c, q, features, &vc);
}

int netctrl_start(struct netctrl *c, const struct vdev_queue *q,
		  uint64_t features)
{
	int err;

	if (c->running) {
		pr_err("%s: control queue: started twice", c->name);
		return -EBUSY;
	}
	if (!netctrl_in_ram(c, q, features)) {
		pr_err("%s: control queue %u: rings are not all in guest RAM",
		       c->name, q->index);
		return -EFAULT;
	}
	c->q = *q;
	c->features = features;
	c->kick_fd = fcntl(q->kick_fd, F_DUPFD_CLOEXEC, 0);
	c->call_fd = fcntl(q->call_fd, F_DUPFD_CLOEXEC, 0);
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	err = c->kick_fd < 0 || c->call_fd < 0 || c->stop_fd < 0
		      ? errno
		      : pthread_create(&c->thread, NULL, netctrl_main, c);
	if (!err) {
		c->running = true;
		return 0;
	}
	pr_err("%s: control queue: %s", c->name, strerror(err));
	close(c->kick_fd);
	close(c->call_fd);
	close(c->stop_fd);
	return -err;
}

void netctrl_stop(struct netctrl *c)
{
	uint64_t one = 1;

	if (!c->running)
		return;
	if (write(c->stop_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: cannot stop the control queue", c->name);
	pthread_join(c->thread, NULL);
	close(c->kick_fd);
	close(c->call_fd);
	close(c->stop_fd);
	c->running = false;
}
