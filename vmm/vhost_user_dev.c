// SPDX-License-Identifier: MIT
#define pr_fmt(fmt) "vhost-user: " fmt

#include "vmm/vhost_user_dev.h"
#include "vmm/vhost_user_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vhost/msg.h"
#include "vhost/vring.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_ring.h"

/* --- Device types ------------------------------------------------------------
 */

struct vudev_type {
	const char *name;
	uint32_t device_id;
	unsigned int queues;
	uint32_t config_size; /* what the backend is asked for */
};

/* Config sizes stop before fields that backends in the wild (QEMU 7.2)
 * do not have yet, since GET_CONFIG beyond a backend's size fails. */
static const struct vudev_type vudev_types[] = {
	{ "net", VIRTIO_ID_NET, 2, 12 },
	{ "blk", VIRTIO_ID_BLOCK, 1, 60 },
	{ "console", VIRTIO_ID_CONSOLE, 2, 12 },
	{ "rng", VIRTIO_ID_RNG, 1, 0 },
	{ "vsock", VIRTIO_ID_VSOCK, 3, 8 },
	{ "fs", VIRTIO_ID_FS, 2, 40 },
};

static int type_lookup(const char *name, struct vudev_config *cfg)
{
	char *end;
	unsigned long id;

	for (size_t i = 0; i < sizeof(vudev_types) / sizeof(vudev_types[0]);
	     i++) {
		const struct vudev_type *t = &vudev_types[i];

		if (strcmp(name, t->name) == 0) {
			cfg->device_id = t->device_id;
			cfg->queues = t->queues;
			cfg->config_size = t->config_size;
			return 0;
		}
	}
	errno = 0;
	id = strtoul(name, &end, 0);
	if (errno || end == name || *end || id == 0 || id > 0xffff)
		return -EINVAL;
	cfg->device_id = (uint32_t)id;
	cfg->queues = 1;
	cfg->config_size = 0;
	return 0;
}

static int parse_uint(const char *val, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(val, &end, 0);
	return (errno || end == val || *end || *out > max || val[0] == '-')
		       ? -EINVAL
		       : 0;
}

/* Seconds (fractions allowed) in [@min, 3600] to milliseconds. */
static int parse_seconds(const char *val, double min, int *ms)
{
	char *end;
	double s = strtod(val, &end);

	if (end == val || *end || !(s >= min && s <= 3600))
		return -EINVAL;
	*ms = (int)(s * 1000);
	return 0;
}

static int parse_option(char *opt, struct vudev_config *cfg, const char **why)
{
	char *val = strchr(opt, '=');
	unsigned long n;

	if (!val) {
		*why = "options are key=value";
		return -EINVAL;
	}
	*val++ = '\0';
	if (strcmp(opt, "socket") == 0 && *val) {
		cfg->socket = val;
		return 0;
	}
	if (strcmp(opt, "queues") == 0) {
		*why = "queues must be 1..64";
		if (parse_uint(val, VDEV_MAX_QUEUES, &n) || !n)
			return -EINVAL;
		cfg->queues = (unsigned int)n;
		return 0;
	}
	if (strcmp(opt, "queue-size") == 0) {
		*why = "queue-size must be a power of two, 1..32768";
		if (parse_uint(val, 32768, &n) || !virtq_size_valid(n))
			return -EINVAL;
		cfg->queue_size = (unsigned int)n;
		return 0;
	}
	if (strcmp(opt, "config-size") == 0) {
		*why = "config-size must be 0..256";
		if (parse_uint(val, 256, &n))
			return -EINVAL;
		cfg->config_size = (uint32_t)n;
		return 0;
	}
	if (strcmp(opt, "connect-timeout") == 0) {
		*why = "connect-timeout must be 0..3600 seconds";
		return parse_seconds(val, 0, &cfg->connect_timeout_ms);
	}
	if (strcmp(opt, "reply-timeout") == 0) {
		*why = "reply-timeout must be 0.01..3600 seconds";
		return parse_seconds(val, 0.01, &cfg->reply_timeout_ms);
	}
	if (strcmp(opt, "reconnect") == 0) {
		*why = "reconnect must be 0..3600 seconds";
		return parse_seconds(val, 0, &cfg->reconnect_ms);
	}
	*why = "unknown option (known: socket, queues, queue-size, "
	       "config-size, connect-timeout, reply-timeout, reconnect)";
	return -EINVAL;
}

int vudev_parse(const char *arg, struct vudev_config *cfg, const char **why)
{
	char *save = NULL, *tok;

	memset(cfg, 0, sizeof(*cfg));
	cfg->queue_size = VUDEV_DEFAULT_QUEUE_SIZE;
	cfg->connect_timeout_ms = VUDEV_CONNECT_TIMEOUT_MS;
	cfg->reply_timeout_ms = VHU_DEFAULT_TIMEOUT_MS;
	cfg->reconnect_ms = -1;
	if (strlen(arg) >= sizeof(cfg->spec)) {
		*why = "too long";
		return -EINVAL;
	}
	strcpy(cfg->spec, arg);
	tok = strtok_r(cfg->spec, ",", &save);
	if (!tok || strlen(tok) >= sizeof(cfg->type) || type_lookup(tok, cfg)) {
		*why = "TYPE must be net, blk, console, rng, vsock, fs or a "
		       "virtio device ID";
		return -EINVAL;
	}
	snprintf(cfg->type, sizeof(cfg->type), "%s", tok);
	while ((tok = strtok_r(NULL, ",", &save)))
		if (parse_option(tok, cfg, why))
			return -EINVAL;
	if (!cfg->socket) {
		*why = "socket=PATH is required";
		return -EINVAL;
	}
	return 0;
}

/* --- The device as the transport sees it -------------------------------------
 */

/* vhost-user's own bits never reach the guest. */
static uint64_t vudev_features(void *opaque)
{
	struct vudev *d = opaque;

	return d->fe.features & ~(VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
				  VIRTIO_BIT(VHOST_F_LOG_ALL));
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

static int set_mem_table(struct vudev *d)
{
	struct vhu_region regions[MEM_MAX_REGIONS];

	for (unsigned int i = 0; i < d->mem->nr; i++) {
		const struct mem_region *r = &d->mem->regions[i];

		regions[i] = (struct vhu_region){
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->host,
			.mmap_offset = r->fd_offset,
			.fd = r->fd,
		};
	}
	return vhu_set_mem_table(&d->fe, regions, d->mem->nr);
}

/* Translates one ring part to vuvm's address; 0 if it is not all RAM. */
static uint64_t ring_addr(struct vudev *d, uint64_t gpa, uint64_t size)
{
	return (uint64_t)(uintptr_t)mem_gpa_to_host(d->mem, gpa, size);
}

static bool rings_in_ram(struct vudev *d, const struct vdev_queue *q)
{
	if (ring_addr(d, q->desc_gpa, virtq_desc_size(q->size)) &&
	    ring_addr(d, q->driver_gpa, virtq_avail_size(q->size)) &&
	    ring_addr(d, q->device_gpa, virtq_used_size(q->size)))
		return true;
	pr_err("%s: queue %u: rings (desc %#llx avail %#llx used %#llx, size "
	       "%u) are not all in guest RAM",
	       d->name, q->index, (unsigned long long)q->desc_gpa,
	       (unsigned long long)q->driver_gpa,
	       (unsigned long long)q->device_gpa, q->size);
	return false;
}

/* The ring's index field (avail or used) as the guest memory holds it. */
static uint16_t ring_idx(struct vudev *d, uint64_t ring_gpa)
{
	const uint16_t *p = mem_gpa_to_host(d->mem, ring_gpa + 2, 2);

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

static int start_queue(struct vudev *d, const struct vdev_queue *q,
		       uint16_t base)
{
	struct vhu_vring_addr addr = {
		.index = q->index,
		.desc_user_addr =
			ring_addr(d, q->desc_gpa, virtq_desc_size(q->size)),
		.avail_user_addr =
			ring_addr(d, q->driver_gpa, virtq_avail_size(q->size)),
		.used_user_addr =
			ring_addr(d, q->device_gpa, virtq_used_size(q->size)),
	};
	int err = vhu_set_vring_base(&d->fe, q->index, base);

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
	if (!err)
		err = vhu_set_vring_call(&d->fe, q->index, q->call_fd);
	if (!err)
		err = vhu_set_vring_err(&d->fe, q->index, d->err_fd);
	if (!err)
		err = vhu_set_vring_kick(&d->fe, q->index, q->kick_fd);
	return err;
}

static bool vudev_protocol_acked(const struct vudev *d)
{
	return d->fe.acked_features &
	       VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

/* Whether ring @index may run: VQ_PAIRS_SET disables the pairs beyond it. */
static bool vudev_ring_wanted(const struct vudev *d, unsigned int index)
{
	return !d->local_ctrl || !d->ctrl_pairs || index / 2 < d->ctrl_pairs;
}

/*
 * In-flight tracking, for every device type but net (QEMU uses it for blk;
 * a lost frame is acceptable and DPDK need not be asked). The region is
 * fetched once per activation and handed back to every backend after.
 */
static bool inflight_wanted(const struct vudev *d)
{
	return d->vdev.device_id != VIRTIO_ID_NET;
}

static unsigned int backend_queues(const struct vudev *d)
{
	return d->vdev.nr_queues - (d->local_ctrl ? 1 : 0);
}

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

static void drop_inflight(struct vudev *d)
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
 * with the lock held, connected, active and not suspended.
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
 * asked (gone, or failing to answer).
 */
void vudev_rings_stop(struct vudev *d)
{
	for (unsigned int i = 0; i < d->nr_started; i++) {
		unsigned int index = d->queues[i].index;
		uint32_t base;
		/* A broken stream is not asked: the first error stays. */
		int err = d->connected && !d->fe.broken ? 0 : -ENOTCONN;

		if (!err && vudev_protocol_acked(d))
			err = vhu_set_vring_enable(&d->fe, index, false);
		if (!err)
			err = vhu_get_vring_base(&d->fe, index, &base);
		if (err && err != -ENOTCONN)
			pr_warn("%s: stopping queue %u: %s", d->name, index,
				vhu_frontend_error(&d->fe));
		d->base[i] = err ? vudev_used_idx(d, i) : (uint16_t)base;
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

/* --- net: the control queue vuvm serves itself ---------------------------
 *
 * A vhost-user net backend has no control queue in QEMU's model: QEMU's
 * virtio-net serves it and turns VQ_PAIRS_SET into SET_VRING_ENABLE on the
 * data rings. DPDK's vhost PMD offers CTRL_VQ and MQ on that basis, so a
 * guest that wants more than one pair (MQ needs CTRL_VQ) sends its
 * commands to a queue the backend never sees. When the backend offers
 * CTRL_VQ and --device gave an even number of queues (data pairs only),
 * vuvm adds the control queue after them and answers it here, in a
 * thread woken by the queue's kick eventfd. An odd count keeps the old
 * meaning: the last queue is the backend's (vuvm-backend serves one).
 */

static bool local_ctrl_wanted(const struct vudev *d)
{
	return d->vdev.device_id == VIRTIO_ID_NET &&
	       (d->fe.features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)) &&
	       d->vdev.nr_queues % 2 == 0 &&
	       d->vdev.nr_queues < VDEV_MAX_QUEUES;
}

static void *ctrl_translate(void *opaque, uint64_t gpa, uint64_t len)
{
	const struct vudev *d = opaque;

	return mem_gpa_to_host(d->mem, gpa, len);
}

/* Copies up to @len readable bytes of @e into @buf; returns how many. */
static uint32_t ctrl_gather(const struct vhu_vring_elem *e, uint8_t *buf,
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

/*
 * VQ_PAIRS_SET with 1..pairs: the rings of the pairs beyond it are
 * disabled (the device must not use them) and the others enabled, as
 * QEMU does. Everything else: ERR (no feature that needs it is offered
 * to a driver that checks, and the backend cannot do it anyway).
 */
static uint8_t ctrl_command(struct vudev *d, const uint8_t *cmd, uint32_t len)
{
	unsigned int pairs = d->ctrl_index / 2, want;
	int err = 0;

	if (len < 4 || cmd[0] != VIRTIO_NET_CTRL_MQ ||
	    cmd[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
		return VIRTIO_NET_ERR;
	want = (unsigned int)(cmd[2] | cmd[3] << 8);
	if (!want || want > pairs)
		return VIRTIO_NET_ERR;
	pthread_mutex_lock(&d->lock);
	/* Kept for a reconnect; a backend that is away gets it then. */
	d->ctrl_pairs = want;
	for (unsigned int i = 0; i < d->nr_started && !err; i++)
		if (vudev_protocol_acked(d))
			err = vhu_set_vring_enable(
				&d->fe, d->queues[i].index,
				vudev_ring_wanted(d, d->queues[i].index));
	if (err)
		pr_err("%s: VQ_PAIRS_SET %u: %s", d->name, want,
		       vhu_frontend_error(&d->fe));
	pthread_mutex_unlock(&d->lock);
	pr_info("%s: control queue: VQ_PAIRS_SET %u", d->name, want);
	return err ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

/* Serves every available chain; false when the ring is broken. */
static bool ctrl_serve(struct vudev *d, struct vhu_vring *vr)
{
	struct iovec iov[8];
	struct vhu_vring_elem e = { .iov = iov, .iov_max = 8 };
	uint8_t cmd[64], ack;
	uint64_t one = 1;
	int ret;

	while ((ret = vhu_vring_pop(vr, &e)) > 0) {
		ack = ctrl_command(d, cmd, ctrl_gather(&e, cmd, sizeof(cmd)));
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
	    write(d->ctrl_call_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: control queue: cannot signal", d->name);
	if (ret < 0)
		pr_warn("%s: control queue: %s; not served until reset",
			d->name, vhu_vring_error(vr));
	return ret >= 0;
}

static void *ctrl_main(void *opaque)
{
	struct vudev *d = opaque;
	const struct vdev_queue *q = &d->ctrl_q;
	struct vhu_vring vr;
	struct vhu_vring_config c = {
		.num = q->size,
		.desc = mem_gpa_to_host(d->mem, q->desc_gpa,
					virtq_desc_size(q->size)),
		.avail = mem_gpa_to_host(d->mem, q->driver_gpa,
					 virtq_avail_size(q->size)),
		.used = mem_gpa_to_host(d->mem, q->device_gpa,
					virtq_used_size(q->size)),
		.features = d->ctrl_features,
		.translate = ctrl_translate,
		.opaque = d,
	};
	struct pollfd p[2] = { { d->ctrl_kick_fd, POLLIN, 0 },
			       { d->ctrl_stop_fd, POLLIN, 0 } };
	uint64_t n;
	bool ok = vhu_vring_init(&vr, &c) == 0;

	if (!ok)
		pr_warn("%s: control queue: %s", d->name, vhu_vring_error(&vr));
	while (poll(p, 2, -1) >= 0 || errno == EINTR) {
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			if (read(d->ctrl_kick_fd, &n, sizeof(n)) < 0)
				continue;
			if (ok)
				ok = ctrl_serve(d, &vr);
		}
	}
	return NULL;
}

static int ctrl_start(struct vudev *d, const struct vdev_queue *q,
		      uint64_t features)
{
	int err;

	if (!mem_gpa_to_host(d->mem, q->desc_gpa, virtq_desc_size(q->size)) ||
	    !mem_gpa_to_host(d->mem, q->driver_gpa,
			     virtq_avail_size(q->size)) ||
	    !mem_gpa_to_host(d->mem, q->device_gpa, virtq_used_size(q->size))) {
		pr_err("%s: control queue %u: rings are not all in guest RAM",
		       d->name, q->index);
		return -EFAULT;
	}
	d->ctrl_q = *q;
	d->ctrl_features = features;
	/* Dups: the transport may close its fds before the thread ends. */
	d->ctrl_kick_fd = fcntl(q->kick_fd, F_DUPFD_CLOEXEC, 0);
	d->ctrl_call_fd = fcntl(q->call_fd, F_DUPFD_CLOEXEC, 0);
	d->ctrl_stop_fd = eventfd(0, EFD_CLOEXEC);
	err = d->ctrl_kick_fd < 0 || d->ctrl_call_fd < 0 || d->ctrl_stop_fd < 0
		      ? errno
		      : pthread_create(&d->ctrl_thread, NULL, ctrl_main, d);
	if (!err) {
		d->ctrl_running = true;
		return 0;
	}
	pr_err("%s: control queue: %s", d->name, strerror(err));
	close(d->ctrl_kick_fd);
	close(d->ctrl_call_fd);
	close(d->ctrl_stop_fd);
	return -err;
}

/* Called without d->lock: the thread may be waiting for it. */
static void ctrl_stop(struct vudev *d)
{
	uint64_t one = 1;

	if (!d->ctrl_running)
		return;
	if (write(d->ctrl_stop_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: cannot stop the control queue", d->name);
	pthread_join(d->ctrl_thread, NULL);
	close(d->ctrl_kick_fd);
	close(d->ctrl_call_fd);
	close(d->ctrl_stop_fd);
	d->ctrl_running = false;
}

/* A failure that means the connection is gone, not a refusal. */
static bool connection_lost(const struct vudev *d, int err)
{
	return d->fe.broken || err == -ECONNRESET || err == -EPIPE ||
	       err == -ETIMEDOUT || err == -EPROTO;
}

/*
 * Records what the driver set up and starts the backend's rings when it
 * can. A backend that is being reconnected, or whose connection breaks
 * during the start, gets the rings when it is back (with reconnect=).
 */
static int activate_locked(struct vudev *d, uint64_t features,
			   const struct vdev_queue *q, unsigned int n)
{
	int err;

	if (d->failed) {
		pr_err("%s: the backend is gone; the device cannot start",
		       d->name);
		return -ENOTCONN;
	}
	if (!n) {
		pr_err("%s: the driver made no queue ready", d->name);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++)
		if (!rings_in_ram(d, &q[i]))
			return -EFAULT;
	memcpy(d->queues, q, n * sizeof(*q));
	memset(d->base, 0, sizeof(d->base));
	d->nr_active = n;
	d->guest_features = features;
	d->ctrl_pairs = 0;
	d->active = true;
	/* Started while suspended: resume compares against these rings. */
	for (unsigned int i = 0; i < n && d->suspended; i++)
		d->used_at_suspend[i] = vudev_used_idx(d, i);
	if (!d->connected || d->suspended)
		return 0;
	err = vudev_rings_start(d);
	if (err && connection_lost(d, err) && d->cfg->reconnect_ms >= 0) {
		pr_warn("%s: the backend failed during the start; the rings "
			"start when it is back",
			d->name);
		vudev_rings_stop(d);
		return 0;
	}
	if (err) {
		vudev_rings_stop(d);
		d->active = false;
	}
	return err;
}

static int vudev_activate(void *opaque, uint64_t features,
			  const struct vdev_queue *q, unsigned int nr)
{
	struct vudev *d = opaque;
	struct vdev_queue data[VDEV_MAX_QUEUES];
	const struct vdev_queue *ctrl = NULL;
	unsigned int n = 0;
	int err;

	/* The backend gets the data queues; vuvm keeps the control queue. */
	for (unsigned int i = 0; i < nr; i++) {
		if (d->local_ctrl && q[i].index == d->ctrl_index)
			ctrl = &q[i];
		else
			data[n++] = q[i];
	}
	pthread_mutex_lock(&d->lock);
	err = activate_locked(d, features, data, n);
	pthread_mutex_unlock(&d->lock);
	if (!err && ctrl)
		err = ctrl_start(d, ctrl, features);
	return err;
}

/*
 * The driver reset the device: stop the rings, reset the backend, and
 * drop the inflight region (a new activation starts from nothing, as in
 * QEMU). A suspension stays until the control socket resumes.
 */
static void vudev_reset(void *opaque)
{
	struct vudev *d = opaque;

	ctrl_stop(d);
	pthread_mutex_lock(&d->lock);
	vudev_rings_stop(d);
	if (d->connected && !d->fe.broken &&
	    vhu_has_protocol_feature(&d->fe,
				     VHOST_USER_PROTOCOL_F_RESET_DEVICE) &&
	    vhu_reset_device(&d->fe))
		pr_warn("%s: %s", d->name, vhu_frontend_error(&d->fe));
	d->active = false;
	d->nr_active = 0;
	drop_inflight(d);
	pthread_mutex_unlock(&d->lock);
}

static const struct vdev_ops vudev_ops = {
	.features = vudev_features,
	.config_read = vudev_config_read,
	.config_write = vudev_config_write,
	.activate = vudev_activate,
	.reset = vudev_reset,
};

/* --- Opening: connect, negotiate, backend channel, config -------------------
 */

#define VUDEV_PROTOCOL_WANTED                             \
	(VIRTIO_BIT(VHOST_USER_PROTOCOL_F_MQ) |           \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |    \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG) |       \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |  \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) | \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE))

static uint64_t protocol_wanted(const struct vudev *d)
{
	return VUDEV_PROTOCOL_WANTED |
	       (inflight_wanted(d)
			? VIRTIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)
			: 0);
}

static int open_backend_channel(struct vudev *d)
{
	int sv[2], err;

	if (!vhu_has_protocol_feature(&d->fe,
				      VHOST_USER_PROTOCOL_F_BACKEND_REQ))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	err = vhu_set_backend_req_fd(&d->fe, sv[1]);
	close(sv[1]);
	if (err) {
		close(sv[0]);
		return err;
	}
	d->chan_fd = sv[0];
	return 0;
}

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
 * GET_CONFIG into the cache, swapped in whole under config_lock so that a
 * vCPU never reads half an update. d->config_changed says whether it
 * differs from what was cached.
 */
static int read_config(struct vudev *d)
{
	uint32_t size = d->vdev.config_size;
	uint8_t fresh[sizeof(d->config)];
	int err;

	d->config_changed = false;
	d->have_config = size && vhu_has_protocol_feature(
					 &d->fe, VHOST_USER_PROTOCOL_F_CONFIG);
	if (!d->have_config)
		return 0; /* zeroes, or what vudev_open() put there */
	err = vhu_get_config(&d->fe, 0, size, VHOST_USER_CONFIG_FLAG_WRITABLE,
			     fresh);
	if (err)
		return err;
	pthread_mutex_lock(&d->config_lock);
	d->config_changed = memcmp(d->config, fresh, size) != 0;
	memcpy(d->config, fresh, size);
	pthread_mutex_unlock(&d->config_lock);
	return 0;
}

static int check_queues(struct vudev *d)
{
	if (!vhu_has_protocol_feature(&d->fe, VHOST_USER_PROTOCOL_F_MQ) ||
	    backend_queues(d) <= d->fe.queue_num)
		return 0;
	pr_err("%s: %u queues asked for, the backend has %u", d->name,
	       backend_queues(d), d->fe.queue_num);
	return -EINVAL;
}

static int negotiate(struct vudev *d)
{
	int err = vhu_negotiate(&d->fe, protocol_wanted(d));

	if (!err && !(d->fe.features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		pr_err("%s: the backend does not offer VIRTIO_F_VERSION_1 "
		       "(legacy virtio is not supported)",
		       d->name);
		return -ENOTSUP;
	}
	if (!err)
		err = check_queues(d);
	if (!err)
		err = open_backend_channel(d);
	if (!err)
		err = read_config(d);
	if (err && err != -EINVAL && err != -ENOTSUP)
		pr_err("%s: %s", d->name, vhu_frontend_error(&d->fe));
	return err;
}

/* Trace lines are asked for explicitly, so they print at any log level. */
static void vudev_trace_line(void *opaque, const char *line)
{
	fprintf(stderr, "vuvm: trace: %s: %s\n", (const char *)opaque, line);
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
	err = vhu_connect(&d->fe, cfg->socket, timeout_ms);
	if (err) {
		pr_err("%s: %s", d->name, vhu_frontend_error(&d->fe));
		pthread_mutex_destroy(&d->lock);
		pthread_mutex_destroy(&d->config_lock);
		close(d->err_fd);
		return err;
	}
	vhu_frontend_set_timeout(&d->fe, cfg->reply_timeout_ms);
	if (trace)
		vhu_frontend_set_trace(&d->fe, vudev_trace_line, d->name);
	if (cfg->device_id == VIRTIO_ID_NET)
		local_net_config(d, index);
	err = negotiate(d);
	if (err) {
		vudev_close(d);
		return err;
	}
	d->connected = true;
	d->local_ctrl = local_ctrl_wanted(d);
	if (d->local_ctrl) {
		d->ctrl_index = d->vdev.nr_queues++;
		pr_info("%s: queue %u is the control queue, served by vuvm",
			d->name, d->ctrl_index);
	}
	return 0;
}

void vudev_close(struct vudev *d)
{
	ctrl_stop(d);
	if (d->chan_fd >= 0)
		close(d->chan_fd);
	d->chan_fd = -1;
	if (d->err_fd >= 0)
		close(d->err_fd);
	d->err_fd = -1;
	vhu_frontend_close(&d->fe);
	drop_inflight(d);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->config_lock);
}

/* --- Losing and reconnecting the backend ------------------------------------
 */

static void disconnect(struct vudev *d)
{
	if (d->chan_fd >= 0)
		close(d->chan_fd);
	d->chan_fd = -1;
	vhu_frontend_close(&d->fe);
	d->connected = false;
}

void vudev_lost(struct vudev *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->connected) {
		/* Disconnected first: the bases then come from the used
		 * indices, since the backend can no longer be asked. */
		disconnect(d);
		vudev_rings_stop(d);
	}
	pthread_mutex_unlock(&d->lock);
}

/* The new backend must offer every feature the driver is using. */
static int check_features_kept(struct vudev *d, char *why, size_t len)
{
	uint64_t missing = d->guest_features & ~d->fe.features;

	if (!d->active || !missing)
		return 0;
	snprintf(why, len,
		 "the backend no longer offers feature bits %#llx that the "
		 "driver uses",
		 (unsigned long long)missing);
	return -ENOTSUP;
}

static int reconnect_locked(struct vudev *d, int budget_ms, char *why,
			    size_t len)
{
	int err = vhu_connect(&d->fe, d->cfg->socket, 0);

	if (err) {
		snprintf(why, len, "%s", vhu_frontend_error(&d->fe));
		return err;
	}
	vhu_frontend_set_timeout(&d->fe, budget_ms < d->cfg->reply_timeout_ms
						 ? budget_ms
						 : d->cfg->reply_timeout_ms);
	if (d->trace)
		vhu_frontend_set_trace(&d->fe, vudev_trace_line, d->name);
	err = negotiate(d);
	if (err)
		snprintf(why, len, "handshake: %s", vhu_frontend_error(&d->fe));
	if (!err)
		err = check_features_kept(d, why, len);
	if (err)
		return err;
	d->connected = true;
	if (!d->active || d->suspended)
		return 0;
	err = vudev_rings_start(d);
	if (err)
		snprintf(why, len, "start: %s", vhu_frontend_error(&d->fe));
	return err;
}

int vudev_reconnect(struct vudev *d, int budget_ms, char *why, size_t len)
{
	bool changed;
	int err;

	pthread_mutex_lock(&d->lock);
	err = reconnect_locked(d, budget_ms, why, len);
	changed = d->config_changed;
	if (err) {
		/* base[] stays: the next backend starts where this one
		 * should have. */
		disconnect(d);
		d->nr_started = 0;
	} else {
		/* Later requests get the whole reply timeout again. */
		vhu_frontend_set_timeout(&d->fe, d->cfg->reply_timeout_ms);
		vudev_rings_wake(d);
		d->reconnects++;
	}
	pthread_mutex_unlock(&d->lock);
	if (err)
		return err;
	return changed ? 1 : 0;
}

void vudev_give_up(struct vudev *d)
{
	pthread_mutex_lock(&d->lock);
	d->failed = true;
	pthread_mutex_unlock(&d->lock);
}

int vudev_ring_error(struct vudev *d)
{
	uint64_t n = 0;

	if (read(d->err_fd, &n, sizeof(n)) != sizeof(n) || !n)
		return 0;
	pr_err("%s: the backend signalled a ring error (SET_VRING_ERR): it "
	       "stopped serving a queue; its log says why",
	       d->name);
	return 1;
}

/* --- The backend channel
 * ------------------------------------------------------ */

static int channel_ack(struct vudev *d, const struct vhu_msg *req, int result)
{
	struct vhu_msg reply = {
		.hdr = { .request = req->hdr.request,
			 .flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
			 .size = sizeof(uint64_t) },
		.payload.u64 = result ? 1 : 0,
	};

	if (!vhu_msg_needs_reply(&req->hdr) ||
	    !vhu_has_protocol_feature(&d->fe, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		return 0;
	return vhu_msg_send(d->chan_fd, &reply);
}

int vudev_handle_channel(struct vudev *d)
{
	struct vhu_msg msg;
	int err = vhu_msg_recv(d->chan_fd, &msg, VHU_DEFAULT_TIMEOUT_MS);

	if (err)
		return err;
	vhu_msg_close_fds(&msg); /* no request vuvm handles carries fds */
	if (msg.hdr.request != VHOST_USER_BACKEND_CONFIG_CHANGE_MSG ||
	    msg.hdr.size != 0) {
		pr_warn("%s: backend channel request %u (size %u) is not "
			"supported",
			d->name, msg.hdr.request, msg.hdr.size);
		return channel_ack(d, &msg, -ENOTSUP) ?: 0;
	}
	pthread_mutex_lock(&d->lock);
	err = read_config(d);
	if (err)
		pr_err("%s: config change: %s", d->name,
		       vhu_frontend_error(&d->fe));
	pthread_mutex_unlock(&d->lock);
	return channel_ack(d, &msg, err) ?: (err ? err : 1);
}
