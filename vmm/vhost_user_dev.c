// SPDX-License-Identifier: MIT
/*
 * The vhost-user device as the transport sees it: features and config
 * space, the driver's activate and reset (the device's active flag), and
 * opening and closing the device. The rings on the backend are
 * vhost_user_rings.c's, the backend connection vhost_user_link.c's,
 * suspend/resume vhost_user_state.c's, the net control queue net_ctrl.c's.
 */
#define pr_fmt(fmt) "vhost-user: " fmt

#include "vmm/vhost_user_dev.h"
#include "vmm/vhost_user_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_fs.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_ring.h"

/* --- The device as the transport sees it -------------------------------------
 */

/* vhost-user's own bits never reach the guest. */
static uint64_t vudev_features(void *opaque)
{
	struct vudev *d = opaque;

	return d->fe.features &
	       ~(VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		 VIRTIO_BIT(VHOST_F_LOG_ALL)) &
	       ~d->cfg->features_off;
}

static int vudev_config_read(void *opaque, uint32_t offset, void *buf,
			     uint32_t len)
{
	struct vudev *d = opaque;

	pthread_mutex_lock(&d->config_lock);
	memcpy(buf, d->config + offset, len);
	pthread_mutex_unlock(&d->config_lock);
	return 0;
}

static int vudev_config_write(void *opaque, uint32_t offset, const void *buf,
			      uint32_t len)
{
	struct vudev *d = opaque;
	int err;

	if (!d->have_config)
		return -ENOTSUP;
	pthread_mutex_lock(&d->lock);
	err = vhu_set_config(&d->fe, offset, VHOST_USER_CONFIG_FLAG_WRITABLE,
			     buf, len);
	/* The guest decides how often this runs: say it once. */
	if (err && !d->config_write_failed)
		pr_warn("%s: config write refused: %s (further failures not "
			"logged)",
			d->name, vhu_frontend_error(&d->fe));
	d->config_write_failed |= err != 0;
	if (!err) {
		pthread_mutex_lock(&d->config_lock);
		memcpy(d->config + offset, buf, len);
		pthread_mutex_unlock(&d->config_lock);
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

/*
 * The net control queue's VQ_PAIRS_SET (net_ctrl.c, on its thread): the
 * rings of the pairs beyond @pairs are disabled, the others enabled. Kept
 * for a reconnect or resume: a backend that is away gets it then.
 */
static int vudev_set_pairs(void *opaque, unsigned int pairs)
{
	struct vudev *d = opaque;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	d->net_pairs = pairs;
	for (unsigned int i = 0; i < d->nr_started && !err; i++)
		if (vudev_protocol_acked(d))
			err = vhu_set_vring_enable(
				&d->fe, d->queues[i].index,
				vudev_ring_wanted(d, d->queues[i].index));
	if (err)
		pr_err("%s: VQ_PAIRS_SET %u: %s", d->name, pairs,
		       vhu_frontend_error(&d->fe));
	pthread_mutex_unlock(&d->lock);
	return err;
}

/* --- The driver starts and resets the device ---------------------------------
 */

/* A failure that means the connection is gone, not a refusal. */
static bool connection_lost(const struct vudev *d, int err)
{
	return d->fe.broken || err == -ECONNRESET || err == -EPIPE ||
	       err == -ETIMEDOUT || err == -EPROTO;
}

/* Whether the driver may start the device now; -errno (logged) if not. */
static int activate_allowed(struct vudev *d, unsigned int n)
{
	if (d->link == VUDEV_FAILED) {
		pr_err("%s: the backend is gone; the device cannot start",
		       d->name);
		return -ENOTCONN;
	}
	if (d->active) {
		/* The transport resets before it activates again. */
		pr_err("%s: bug: activated twice without a reset", d->name);
		return -EBUSY;
	}
	if (!n) {
		pr_err("%s: the driver made no queue ready", d->name);
		return -EINVAL;
	}
	return 0;
}

/*
 * Records what the driver set up and starts the backend's rings when it
 * can: idle -> active. A backend that is being reconnected, or whose
 * connection breaks during the start, gets the rings when it is back
 * (with reconnect=); a suspended device gets them on resume.
 */
static int activate_locked(struct vudev *d, uint64_t features,
			   const struct vdev_queue *q, unsigned int n)
{
	int err = activate_allowed(d, n);

	for (unsigned int i = 0; i < n && !err; i++)
		if (!vudev_rings_in_ram(
			    d, &q[i],
			    features & VIRTIO_BIT(VIRTIO_F_RING_PACKED)))
			err = -EFAULT;
	if (err)
		return err;
	memcpy(d->queues, q, n * sizeof(*q));
	d->nr_active = n;
	d->guest_features = features;
	for (unsigned int i = 0; i < VDEV_MAX_QUEUES; i++)
		d->base[i] = vudev_initial_base(d);
	d->net_pairs = 0;
	/* Started while suspended: resume compares against these rings. */
	for (unsigned int i = 0; i < n && d->suspended; i++)
		d->used_at_suspend[i] = vudev_used_idx(d, i);
	err = d->link == VUDEV_CONNECTED && !d->suspended ? vudev_rings_start(d)
							  : 0;
	if (err && connection_lost(d, err) && d->cfg->reconnect_ms >= 0) {
		pr_warn("%s: the backend failed during the start; the rings "
			"start when it is back",
			d->name);
		vudev_rings_stop(d);
		err = 0;
	}
	if (err)
		vudev_rings_stop(d);
	d->active = !err;
	return err;
}

/*
 * The driver reset the device (active -> idle): stop the rings, reset the
 * backend, and drop the inflight region (a new activation starts from
 * nothing, as in QEMU). A suspension stays until the control socket
 * resumes.
 */
static void vudev_reset(void *opaque)
{
	struct vudev *d = opaque;

	netctrl_stop(&d->ctrl);
	pthread_mutex_lock(&d->lock);
	vudev_rings_stop(d);
	if (d->link == VUDEV_CONNECTED && !d->fe.broken &&
	    vhu_has_protocol_feature(&d->fe,
				     VHOST_USER_PROTOCOL_F_RESET_DEVICE) &&
	    vhu_reset_device(&d->fe))
		pr_warn("%s: %s", d->name, vhu_frontend_error(&d->fe));
	d->active = false;
	d->nr_active = 0;
	vudev_drop_inflight(d);
	pthread_mutex_unlock(&d->lock);
}

/*
 * The backend gets the data queues; vuvm keeps the control queue. A
 * control queue that cannot start undoes the whole activation: the
 * transport does not reset a device whose activate failed.
 */
static int vudev_activate(void *opaque, uint64_t features,
			  const struct vdev_queue *q, unsigned int nr)
{
	struct vudev *d = opaque;
	struct vdev_queue data[VDEV_MAX_QUEUES];
	const struct vdev_queue *ctrl = NULL;
	unsigned int n = 0;
	int err;

	for (unsigned int i = 0; i < nr; i++) {
		if (d->local_ctrl && q[i].index == d->ctrl.index)
			ctrl = &q[i];
		else
			data[n++] = q[i];
	}
	pthread_mutex_lock(&d->lock);
	err = activate_locked(d, features, data, n);
	pthread_mutex_unlock(&d->lock);
	if (!err && ctrl) {
		err = netctrl_start(&d->ctrl, ctrl, features);
		if (err)
			vudev_reset(d);
	}
	return err;
}

static const struct vdev_ops vudev_ops = {
	.features = vudev_features,
	.config_read = vudev_config_read,
	.config_write = vudev_config_write,
	.activate = vudev_activate,
	.reset = vudev_reset,
};

/* --- Opening and closing ----------------------------------------------------
 */

/*
 * A net backend without CONFIG (DPDK's vhost PMD) still offers MQ, whose
 * driver reads max_virtqueue_pairs from config space; vuvm then supplies
 * the config itself, as QEMU does for vhost-user-net: a locally
 * administered MAC per device, link up, the queue pairs it was given.
 */
static void local_net_config(struct vudev *d, unsigned int index)
{
	struct virtio_net_config c = {
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34,
			 (uint8_t)(0x56 + index) },
		.status = VIRTIO_NET_S_LINK_UP,
		.max_virtqueue_pairs = (uint16_t)(d->vdev.nr_queues / 2),
		.mtu = 1500,
		.speed = 0xffffffff,
		.duplex = 0xff,
	};

	memcpy(d->config, &c,
	       sizeof(c) < d->vdev.config_size ? sizeof(c)
					       : d->vdev.config_size);
}

/*
 * An fs backend without CONFIG (virtiofsd of QEMU 7.2) leaves the config
 * space to the frontend, as QEMU's vhost-user-fs device does: vuvm gives
 * tag= or else the device's name ("fs0") as the tag, and one request
 * queue per queue after the hiprio queue.
 */
static void local_fs_config(struct vudev *d)
{
	struct virtio_fs_config c = {
		.num_request_queues =
			d->vdev.nr_queues > 1 ? d->vdev.nr_queues - 1 : 0,
	};

	const char *tag = d->cfg->tag ? d->cfg->tag : d->name;

	_Static_assert(sizeof(d->name) <= sizeof(c.tag), "tag");
	memcpy(c.tag, tag, strnlen(tag, sizeof(c.tag)));
	memcpy(d->config, &c,
	       sizeof(c) < d->vdev.config_size ? sizeof(c)
					       : d->vdev.config_size);
}

/* A net control queue the backend cannot serve: vuvm adds it last. */
static void add_local_ctrl(struct vudev *d)
{
	d->local_ctrl = netctrl_wanted(d->vdev.device_id, d->fe.features,
				       d->vdev.nr_queues);
	if (!d->local_ctrl)
		return;
	netctrl_init(&d->ctrl, d->name, d->mem, d->vdev.nr_queues++,
		     vudev_set_pairs, d);
	pr_info("%s: queue %u is the control queue, served by vuvm", d->name,
		d->ctrl.index);
}

int vudev_open(struct vudev *d, const struct vudev_config *cfg,
	       const struct mem_table *mem, unsigned int index, int timeout_ms,
	       bool trace)
{
	int err;

	memset(d, 0, sizeof(*d));
	d->chan_fd = -1;
	d->inflight_fd = -1;
	d->mem = mem;
	d->cfg = cfg;
	d->trace = trace;
	d->index = index;
	for (unsigned int k = 0; k < VUDEV_MAX_HOT; k++)
		d->hot[k].fd = -1;
	snprintf(d->name, sizeof(d->name), "%s%u", cfg->type, index);
	d->vdev = (struct vdev){
		.name = d->name,
		.device_id = cfg->device_id,
		.nr_queues = cfg->queues,
		.queue_size_max = cfg->queue_size,
		.config_size = cfg->config_size,
		.ops = &vudev_ops,
		.opaque = d,
	};
	d->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->err_fd < 0) {
		pr_err("%s: eventfd: %s", d->name, strerror(errno));
		return -errno;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->config_lock, NULL);
	if (cfg->device_id == VIRTIO_ID_NET)
		local_net_config(d, index);
	if (cfg->device_id == VIRTIO_ID_FS)
		local_fs_config(d);
	err = vudev_connect_first(d, timeout_ms);
	if (err) {
		vudev_close(d);
		return err;
	}
	vudev_set_link(d, VUDEV_CONNECTED);
	add_local_ctrl(d);
	return 0;
}

/* Any state -> CLOSED: nothing left open or running. */
void vudev_close(struct vudev *d)
{
	netctrl_stop(&d->ctrl);
	if (d->chan_fd >= 0)
		close(d->chan_fd);
	d->chan_fd = -1;
	if (d->err_fd >= 0)
		close(d->err_fd);
	d->err_fd = -1;
	vhu_frontend_close(&d->fe);
	vudev_drop_inflight(d);
	/* Their KVM slots go with the VM, which vCPUs no longer run. */
	for (unsigned int k = 0; k < VUDEV_MAX_HOT; k++)
		mem_region_free(&d->hot[k]);
	vudev_set_link(d, VUDEV_CLOSED);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->config_lock);
}
