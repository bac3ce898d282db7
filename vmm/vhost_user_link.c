// SPDX-License-Identifier: MIT
/*
 * The backend connection of a vhost-user device (d->link, whose states
 * and moves vhost_user_dev.h tabulates): the handshake, losing the
 * backend, reconnecting to a new one and giving up, and what a backend
 * says on its own (the backend channel, the ring error eventfd).
 */
#define pr_fmt(fmt) "vhost-user: " fmt

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost/clock.h"
#include "vhost/log.h"
#include "vhost/msg.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_fs.h"
#include "virtio/virtio_ids.h"
#include "vmm/vhost_user_internal.h"

/* --- The link's states ------------------------------------------------------
 */

static const char *const link_names[] = {
	[VUDEV_CLOSED] = "closed",
	[VUDEV_CONNECTED] = "connected",
	[VUDEV_LOST] = "reconnecting",
	[VUDEV_FAILED] = "failed",
};

const char *vudev_link_name(enum vudev_link link)
{
	return (unsigned int)link < sizeof(link_names) / sizeof(link_names[0])
		       ? link_names[link]
		       : "?";
}

static bool link_move_allowed(enum vudev_link from, enum vudev_link to)
{
	switch (to) {
	case VUDEV_CLOSED:
		return true;
	case VUDEV_CONNECTED:
		return from == VUDEV_CLOSED || from == VUDEV_LOST;
	case VUDEV_LOST:
		return from == VUDEV_CONNECTED;
	case VUDEV_FAILED:
		return from == VUDEV_LOST;
	}
	return false;
}

int vudev_set_link(struct vudev *d, enum vudev_link to)
{
	if (!link_move_allowed(d->link, to)) {
		pr_err("%s: bug: the link cannot move from %s to %s", d->name,
		       vudev_link_name(d->link), vudev_link_name(to));
		return -EINVAL;
	}
	/* Released: the watcher reads it unlocked (vudev_is_connected). */
	__atomic_store_n(&d->link, to, __ATOMIC_RELEASE);
	return 0;
}

/* --- The handshake ----------------------------------------------------------
 */

#define VUDEV_PROTOCOL_WANTED                             \
	(VIRTIO_BIT(VHOST_USER_PROTOCOL_F_MQ) |           \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |    \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG) |       \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |  \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) | \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE) | \
	 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

static uint64_t protocol_wanted(const struct vudev *d)
{
	return VUDEV_PROTOCOL_WANTED |
	       (inflight_wanted(d)
			? VIRTIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)
			: 0);
}

/* Trace lines are asked for explicitly, so they print at any log level. */
static void trace_line(void *opaque, const char *line)
{
	fprintf(stderr, "vuvm: trace: %s: %s\n", (const char *)opaque, line);
}

int vudev_connect(struct vudev *d, int connect_ms, int reply_ms)
{
	int err = vhu_connect(&d->fe, d->cfg->socket, connect_ms);

	if (err)
		return err;
	vhu_frontend_set_timeout(&d->fe, reply_ms);
	if (d->trace)
		vhu_frontend_set_trace(&d->fe, trace_line, d->name);
	return 0;
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
 * An fs backend's num_request_queues counts the request queues it has
 * (GET_QUEUE_NUM less the hiprio queue); when vuvm sets up fewer, the
 * device the guest sees has vuvm's count, as QEMU's vhost-user-blk
 * overrides num_queues. A backend given all the queues it has keeps its
 * own number, so a wrong one still shows.
 */
static void fs_queue_count(struct vudev *d, uint8_t *config)
{
	struct virtio_fs_config c;
	uint32_t ours = backend_queues(d) - 1;

	if (d->vdev.device_id != VIRTIO_ID_FS ||
	    d->vdev.config_size < sizeof(c) - sizeof(c.notify_buf_size) ||
	    !vhu_has_protocol_feature(&d->fe, VHOST_USER_PROTOCOL_F_MQ) ||
	    backend_queues(d) >= d->fe.queue_num)
		return;
	memcpy(&c.num_request_queues,
	       config + offsetof(struct virtio_fs_config, num_request_queues),
	       sizeof(c.num_request_queues));
	if (c.num_request_queues <= ours)
		return;
	c.num_request_queues = ours;
	memcpy(config + offsetof(struct virtio_fs_config, num_request_queues),
	       &c.num_request_queues, sizeof(c.num_request_queues));
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
	fs_queue_count(d, fresh);
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

/* vudev_negotiate() without logging the failure. */
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
	return err;
}

/* -EINVAL and -ENOTSUP were logged where they were found. */
static void log_negotiate_error(struct vudev *d, int err)
{
	if (err && err != -EINVAL && err != -ENOTSUP)
		pr_err("%s: %s", d->name, vhu_frontend_error(&d->fe));
}

int vudev_negotiate(struct vudev *d)
{
	int err = negotiate(d);

	log_negotiate_error(d, err);
	return err;
}

/* Closes the connection and the backend channel; the link is the
 * caller's to move. */
static void disconnect(struct vudev *d)
{
	if (d->chan_fd >= 0)
		close(d->chan_fd);
	d->chan_fd = -1;
	vhu_frontend_close(&d->fe);
}

/* --- The first connection ---------------------------------------------------
 */

/*
 * Whether the backend hung up before its first reply: it accepted the
 * connection and closed it unanswered, as DPDK's vhost PMD can while it
 * is still starting. Only that is worth another connection; any reply,
 * even a broken one, is the backend's answer.
 */
static bool closed_unanswered(const struct vudev *d, int err)
{
	return (err == -ECONNRESET || err == -EPIPE) && !d->fe.have_features;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The last word of a start-up whose connections were all closed
 * unanswered (@closed of them, the last one saying @last); @then is what
 * ended it when that was not connect-timeout itself. */
static void log_gave_up(struct vudev *d, int connect_ms, unsigned int closed,
			const char *last, const char *then)
{
	pr_err("%s: gave up after connect-timeout (%d ms): the backend "
	       "closed %u connection%s before its first reply (the last: "
	       "%s)%s%s",
	       d->name, connect_ms, closed, closed == 1 ? "" : "s", last,
	       then ? ", then: " : "", then ? then : "");
}

int vudev_connect_first(struct vudev *d, int connect_ms)
{
	int64_t start = now_ms(), left, delay = 10;
	char last[VHU_ERROR_LEN];
	unsigned int closed = 0;
	int err;

	for (;;) {
		left = start + connect_ms - now_ms();
		err = vudev_connect(d, left > 0 ? (int)left : 0,
				    d->cfg->reply_timeout_ms);
		if (err && closed)
			log_gave_up(d, connect_ms, closed, last,
				    vhu_frontend_error(&d->fe));
		else if (err)
			pr_err("%s: %s", d->name, vhu_frontend_error(&d->fe));
		if (err)
			return err;
		err = negotiate(d);
		if (!err && closed)
			pr_warn("%s: connected at attempt %u, %lld ms after "
				"the first",
				d->name, closed + 1,
				(long long)(now_ms() - start));
		if (!err || !closed_unanswered(d, err)) {
			log_negotiate_error(d, err);
			return err;
		}
		closed++;
		snprintf(last, sizeof(last), "%s", vhu_frontend_error(&d->fe));
		disconnect(d);
		left = start + connect_ms - now_ms();
		if (left <= 0) {
			log_gave_up(d, connect_ms, closed, last, NULL);
			return err;
		}
		pr_warn("%s: the backend closed the connection before its "
			"first reply (%s); connecting again, %.1f s of "
			"connect-timeout left",
			d->name, last, left / 1000.0);
		sleep_ms(delay < left ? delay : left);
		delay = delay * 2 < 200 ? delay * 2 : 200;
	}
}

/* --- Losing and reconnecting the backend ------------------------------------
 */

/* CONNECTED -> LOST; in any other state there is nothing to lose. */
void vudev_lost(struct vudev *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->link == VUDEV_CONNECTED) {
		/* Lost first: the bases then come from the used indices,
		 * since the backend can no longer be asked. */
		disconnect(d);
		vudev_set_link(d, VUDEV_LOST);
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

/* One attempt; the link stays LOST until it has succeeded whole. */
static int reconnect_locked(struct vudev *d, int budget_ms, char *why,
			    size_t len)
{
	int err = vudev_connect(d, 0,
				budget_ms < d->cfg->reply_timeout_ms
					? budget_ms
					: d->cfg->reply_timeout_ms);

	if (err) {
		snprintf(why, len, "%s", vhu_frontend_error(&d->fe));
		return err;
	}
	err = vudev_negotiate(d);
	if (err)
		snprintf(why, len, "handshake: %s", vhu_frontend_error(&d->fe));
	if (!err)
		err = check_features_kept(d, why, len);
	if (err || !d->active || d->suspended)
		return err;
	err = vudev_rings_start(d);
	if (err)
		snprintf(why, len, "start: %s", vhu_frontend_error(&d->fe));
	return err;
}

/* LOST -> CONNECTED when the attempt succeeds; a failed one stays LOST. */
int vudev_reconnect(struct vudev *d, int budget_ms, char *why, size_t len)
{
	bool changed;
	int err;

	pthread_mutex_lock(&d->lock);
	if (d->link != VUDEV_LOST) {
		snprintf(why, len, "the link is %s, not lost",
			 vudev_link_name(d->link));
		pthread_mutex_unlock(&d->lock);
		return -EINVAL;
	}
	err = reconnect_locked(d, budget_ms, why, len);
	changed = d->config_changed;
	if (err) {
		/* base[] stays: the next backend starts where this one
		 * should have. */
		disconnect(d);
		d->nr_started = 0;
	} else {
		vudev_set_link(d, VUDEV_CONNECTED);
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

/* LOST -> FAILED: for good, activate refuses from now on. */
void vudev_give_up(struct vudev *d)
{
	pthread_mutex_lock(&d->lock);
	vudev_set_link(d, VUDEV_FAILED);
	pthread_mutex_unlock(&d->lock);
}

/* --- What the backend says on its own ---------------------------------------
 */

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
