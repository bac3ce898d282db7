// SPDX-License-Identifier: MIT
/*
 * Protocol steps a guest asks for through vuvm's check port (--check-port,
 * a test aid for vuvm-check): stop every ring the way a suspend does but
 * without vuvm's repairs (the raw GET_VRING_BASE answers are kept for the
 * guest to judge), start them again (optionally with SET_VRING_KICK
 * before SET_VRING_CALL), and enable or disable one ring alone. The guest
 * then watches its rings to see whether the backend kept to the protocol.
 * ORDER makes every later start (the driver's too) send the kick fd
 * first. LINK and INFLIGHT tell a guest whose backend vuvm-check killed
 * and started again when vuvm has reconnected, and how many requests
 * the dead backend had in flight.
 */
#define pr_fmt(fmt) "vhost-user: " fmt

#include <errno.h>
#include <stdio.h>

#include "vhost/log.h"
#include "vmm/vhost_user_internal.h"

/* SET_VRING_ENABLE 0 and GET_VRING_BASE on every started ring; the raw
 * answers go to step_base[], the used index read right after each reply
 * to step_used[]. The device is then suspended (the control socket's
 * resume or VUDEV_STEP_START restarts it from those answers). */
static int step_stop(struct vudev *d)
{
	int first = 0;

	if (d->suspended || !d->active || d->link != VUDEV_CONNECTED)
		return -EINVAL;
	for (unsigned int i = 0; i < d->nr_started; i++) {
		unsigned int index = d->queues[i].index;
		uint32_t base = 0;
		int err = 0, gerr;

		if (vudev_protocol_acked(d))
			err = vhu_set_vring_enable(&d->fe, index, false);
		/* A refused disable still gets its stop. */
		gerr = d->fe.broken ? -ENOTCONN
				    : vhu_get_vring_base(&d->fe, index, &base);
		err = err ? err : gerr;
		/* A packed ring has no used index in guest memory, and its
		 * base is 32 bits (as in vudev_rings_stop()). */
		d->step_used[i] = vudev_packed(d) ? 0 : vudev_used_idx(d, i);
		d->step_base[i] = gerr ? 0xffffffffu : base;
		if (!gerr)
			d->base[i] = vudev_packed(d) ? base : (uint16_t)base;
		else if (!vudev_packed(d))
			d->base[i] = d->step_used[i];
		d->used_at_suspend[i] = d->step_used[i];
		if (err && !first) {
			pr_warn("%s: step: stopping queue %u: %s", d->name,
				index, vhu_frontend_error(&d->fe));
			first = err;
		}
	}
	d->nr_started = 0;
	d->suspended = true;
	return first;
}

/* The start sequence from the bases step_stop() recorded. */
static int step_start(struct vudev *d, bool kick_first)
{
	int err;

	if (!d->suspended || !d->active || d->link != VUDEV_CONNECTED)
		return -EINVAL;
	bool order = d->kick_first;

	d->suspended = false;
	d->kick_first |= kick_first;
	err = vudev_rings_start(d);
	d->kick_first = order;
	if (!err)
		vudev_rings_wake(d);
	return err;
}

static int step_enable(struct vudev *d, unsigned int q, bool on)
{
	if (q >= d->nr_started || !vudev_protocol_acked(d))
		return -EINVAL;
	return vhu_set_vring_enable(&d->fe, d->queues[q].index, on);
}

/* Read without the lock, which a reconnect attempt holds for a while: the
 * guest polls this while its backend is away. */
static int64_t step_link(struct vudev *d)
{
	enum vudev_link link = __atomic_load_n(&d->link, __ATOMIC_ACQUIRE);
	unsigned int started =
		__atomic_load_n(&d->nr_started, __ATOMIC_RELAXED);

	return (int64_t)((__atomic_load_n(&d->reconnects, __ATOMIC_RELAXED) &
			  0xffffu) |
			 ((unsigned int)link & 3u) << 16 |
			 (started && link == VUDEV_CONNECTED ? 1u << 24 : 0));
}

int64_t vudev_step(struct vudev *d, enum vudev_step op, unsigned int arg)
{
	int64_t r;

	if (op == VUDEV_STEP_LINK)
		return step_link(d);
	pthread_mutex_lock(&d->lock);
	switch (op) {
	case VUDEV_STEP_STOP:
		r = step_stop(d);
		break;
	case VUDEV_STEP_START:
		r = step_start(d, arg & 1);
		break;
	case VUDEV_STEP_BASE:
		r = arg < d->nr_active ? (int64_t)d->step_base[arg] : -EINVAL;
		break;
	case VUDEV_STEP_USED:
		r = arg < d->nr_active ? (int64_t)d->step_used[arg] : -EINVAL;
		break;
	case VUDEV_STEP_ORDER:
		d->kick_first = arg & 1;
		r = 0;
		break;
	case VUDEV_STEP_ENABLE:
	case VUDEV_STEP_DISABLE:
		r = step_enable(d, arg, op == VUDEV_STEP_ENABLE);
		break;
	case VUDEV_STEP_QUEUE_NUM:
		r = d->fe.queue_num ? (int64_t)d->fe.queue_num : -ENOTSUP;
		break;
	case VUDEV_STEP_INFLIGHT:
		r = d->inflight_fd >= 0 ? (int64_t)d->inflight_seen : -ENOTSUP;
		break;
	default:
		r = -EINVAL;
	}
	pthread_mutex_unlock(&d->lock);
	if (r < 0)
		pr_warn("%s: check port step %d (%u): %s", d->name, op, arg,
			r == -EINVAL ? "not possible now" : "failed");
	return r;
}
