// SPDX-License-Identifier: MIT
/*
 * Protocol steps a guest asks for through vuvm's check port (--check-port,
 * a test aid for vuvm-check): stop every ring the way a suspend does but
 * without vuvm's repairs (the raw GET_VRING_BASE answers are kept for the
 * guest to judge), start them again (optionally with SET_VRING_KICK
 * before SET_VRING_CALL), and enable or disable one ring alone. The guest
 * then watches its rings to see whether the backend kept to the protocol.
 * ORDER makes every later start (the driver's too) send the kick fd
 * first. The MEM steps add, remove and replace memory while the rings
 * run (ADD_MEM_REG, REM_MEM_REG), the guest reaching it through KVM
 * slots of its own. LINK and INFLIGHT tell a guest whose backend vuvm-check
 * killed and started again when vuvm has reconnected, and how many requests the
 * dead backend had in flight.
 */
#define pr_fmt(fmt) "vhost-user: " fmt

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vhost/log.h"
#include "vmm/config.h"
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

/* --- Memory added while the guest runs ------------------------------------
 */

_Static_assert(MEM_HOT_START + VUVM_MAX_DEVICES * VUDEV_MAX_HOT *
				       VUDEV_HOT_SIZE <=
		       MEM_HOT_END,
	       "every device's hot ranges fit MEM_HOT_START..MEM_HOT_END");

static unsigned int hot_slot(const struct vudev *d, unsigned int k)
{
	return MEM_MAX_REGIONS + d->index * VUDEV_MAX_HOT + k;
}

static int set_slot(struct vudev *d, unsigned int k, const struct mem_region *r)
{
	return d->memslots->set(d->memslots->ctx, hot_slot(d, k), r);
}

/* Whether hot range @k can be touched now; 0 or -errno. */
static int hot_usable(const struct vudev *d, unsigned int k)
{
	if (!d->memslots || k >= VUDEV_MAX_HOT ||
	    d->index >= VUVM_MAX_DEVICES || d->link != VUDEV_CONNECTED ||
	    d->fe.broken)
		return -EINVAL;
	if (!vhu_has_protocol_feature(
		    &d->fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
		return -ENOTSUP;
	return 0;
}

static int64_t mem_slots(struct vudev *d)
{
	if (!vhu_has_protocol_feature(
		    &d->fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) ||
	    !d->fe.max_mem_slots)
		return -ENOTSUP;
	return d->fe.max_mem_slots;
}

/* The guest first (its slot), then the backend: the guest cannot use it
 * before the step returns anyway. */
static int64_t mem_add(struct vudev *d, unsigned int k)
{
	struct mem_region *r = &d->hot[k];
	struct vhu_region vr;
	int err = hot_usable(d, k);

	if (err)
		return err;
	if (r->host)
		return -EEXIST;
	r->gpa = MEM_HOT_START +
		 ((uint64_t)d->index * VUDEV_MAX_HOT + k) * VUDEV_HOT_SIZE;
	r->size = VUDEV_HOT_SIZE;
	err = mem_region_alloc(r);
	if (!err) {
		err = set_slot(d, k, r);
		if (err)
			mem_region_free(r);
	}
	if (err)
		return err;
	vr = vudev_region(r);
	err = vhu_add_mem_reg(&d->fe, &vr);
	if (err) {
		pr_warn("%s: step: ADD_MEM_REG at %#llx: %s", d->name,
			(unsigned long long)r->gpa, vhu_frontend_error(&d->fe));
		set_slot(d, k, NULL);
		mem_region_free(r);
		return err;
	}
	return (int64_t)(r->gpa >> 20);
}

/* The backend first: it must be done with the memory before the guest
 * loses it. */
static int64_t mem_remove(struct vudev *d, unsigned int k)
{
	struct mem_region *r = &d->hot[k];
	struct vhu_region vr;
	int err = hot_usable(d, k);

	if (err)
		return err;
	if (!r->host)
		return -ENOENT;
	vr = vudev_region(r);
	err = vhu_rem_mem_reg(&d->fe, &vr);
	if (err) {
		pr_warn("%s: step: REM_MEM_REG at %#llx: %s", d->name,
			(unsigned long long)r->gpa, vhu_frontend_error(&d->fe));
		return err;
	}
	set_slot(d, k, NULL);
	mem_region_free(r);
	return 0;
}

static int64_t mem_replace(struct vudev *d, unsigned int k)
{
	struct mem_region *r = &d->hot[k], old;
	struct vhu_region vr;
	int err = hot_usable(d, k);

	if (err)
		return err;
	if (!r->host)
		return -ENOENT;
	old = *r;
	err = mem_region_alloc(r);
	if (err) {
		*r = old;
		return err;
	}
	memcpy(r->host, old.host, old.size);
	vr = vudev_region(&old);
	err = vhu_rem_mem_reg(&d->fe, &vr);
	if (err) {
		pr_warn("%s: step: REM_MEM_REG at %#llx: %s", d->name,
			(unsigned long long)r->gpa, vhu_frontend_error(&d->fe));
		mem_region_free(r);
		*r = old;
		return err;
	}
	/* A slot's memory cannot change in place. */
	err = set_slot(d, k, NULL);
	if (!err)
		err = set_slot(d, k, r);
	mem_region_free(&old);
	if (err) {
		/* The guest lost the range: so does everyone. */
		mem_region_free(r);
		return err;
	}
	vr = vudev_region(r);
	err = vhu_add_mem_reg(&d->fe, &vr);
	if (err)
		pr_warn("%s: step: ADD_MEM_REG at %#llx: %s (the next start "
			"sends it again)",
			d->name, (unsigned long long)r->gpa,
			vhu_frontend_error(&d->fe));
	return err;
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
	case VUDEV_STEP_MEM_SLOTS:
		r = mem_slots(d);
		break;
	case VUDEV_STEP_MEM_ADD:
		r = mem_add(d, arg);
		break;
	case VUDEV_STEP_MEM_REMOVE:
		r = mem_remove(d, arg);
		break;
	case VUDEV_STEP_MEM_REPLACE:
		r = mem_replace(d, arg);
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
			r == -EINVAL	? "not possible now"
			: r == -ENOTSUP ? "not negotiated"
					: "failed");
	return r;
}
