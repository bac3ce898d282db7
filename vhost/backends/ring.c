// SPDX-License-Identifier: MIT
/*
 * What every reference device shares: popping and pushing on a queue with
 * the "a broken ring stops only that queue" rule, notifications, copies
 * between a chain's segments and flat buffers, slices of a config space,
 * and size parsing.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "ring: " fmt
#include "vhost/backends/vub.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhost/log.h"

bool vub_queue_ok(struct vub *b, unsigned int index)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);

	return vq && vq->running && !b->dead[index] && !vq->vring.err;
}

int vub_queue_failed(struct vub *b, unsigned int index, int err)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);
	uint64_t one = 1;

	if (b->dead[index])
		return err;
	b->dead[index] = true;
	pr_err("queue %u: %s (%s); no longer served", index,
	       vhu_vring_error(&vq->vring), strerror(-err));
	if (vq->err_fd >= 0 && write(vq->err_fd, &one, sizeof(one)) < 0)
		pr_warn("queue %u: signalling the error fd: %s", index,
			strerror(errno));
	return err;
}

/*
 * Injected ring defects (--bug), for vuvm-check to catch: entered only when
 * a bug is set. bug_pop_refused says whether the defect makes a pop find
 * nothing (or the queue dead); bug_popped follows a pop that took a chain.
 */
static bool bug_pop_refused(struct vub *b, unsigned int index, int *ret)
{
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	uint16_t avail;

	*ret = 0;
	switch (b->opt.bug) {
	case VUB_BUG_QSIZE_MIN_4: /* "a ring of under 4 is a driver bug" */
	case VUB_BUG_QSIZE_1_REFUSED:
		if (vr->num >= (b->opt.bug == VUB_BUG_QSIZE_MIN_4 ? 4u : 2u))
			return false;
		*ret = vub_queue_failed(b, index, -EINVAL);
		return true;
	case VUB_BUG_WRAP_STALL: /* "new entries" as avail > ours */
	case VUB_BUG_RNG_WRAP_STALL:
		avail = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
		return avail < vr->last_avail_idx;
	default:
		return false;
	}
}

static void bug_popped(struct vub *b, unsigned int index)
{
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	volatile uint16_t *ev = virtq_avail_event(vr->used, vr->num);

	if (b->opt.bug == VUB_BUG_AVAIL_EVENT_STALE && vr->event_idx)
		__atomic_store_n(ev, 0, __ATOMIC_RELAXED);
	if (b->opt.bug == VUB_BUG_AVAIL_EVENT_NO_EVIDX && !vr->event_idx)
		__atomic_store_n(ev, vr->last_avail_idx, __ATOMIC_RELAXED);
}

int vub_pop(struct vub *b, unsigned int index, unsigned int slot,
	    struct vhu_vring_elem *e)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);
	int r;

	if (!vub_queue_ok(b, index)) {
		if (vq && vq->running && vq->vring.err)
			return vub_queue_failed(b, index, vq->vring.err);
		return 0;
	}
	e->iov = b->iov[slot];
	e->iov_max = VUB_IOV_MAX;
	/* Set on every pop: a restarted ring is initialised afresh. */
	vq->vring.indirect_head_only =
		b->opt.bug == VUB_BUG_INDIRECT_AFTER_CHAIN ||
		b->opt.bug == VUB_BUG_RNG_INDIRECT_AFTER_CHAIN ||
		b->opt.bug == VUB_BUG_NET_INDIRECT_AFTER_CHAIN;
	vq->vring.next_by_index = b->opt.bug == VUB_BUG_DESC_NEXT_BY_INDEX;
	vq->vring.bugs = vub_ring_bugs(b); /* vu_bugs.c */
	if (b->opt.bug && bug_pop_refused(b, index, &r))
		return r;
	if (b->opt.bug == VUB_BUG_VU_REGION_STRADDLE) /* vu_bugs.c */
		vq->vring.contig = NULL;
	r = vhu_vring_pop(&vq->vring, e);
	if (r == 1 && b->opt.bug)
		bug_popped(b, index);
	if (r == 1 && ++b->pops == b->opt.die_after) {
		pr_warn("queue %u: request %u popped, dying now (--die-after)",
			index, e->head);
		raise(SIGKILL);
	}
	return r < 0 ? vub_queue_failed(b, index, r) : r;
}

bool vub_all_stopped(struct vub *b)
{
	for (unsigned int i = 0; i < b->num_queues; i++)
		if (vhu_backend_vq(&b->dev, i)->started)
			return false;
	return true;
}

/* used-idx-early: the index published a while before the element. */
static void bug_before_push(struct vub *b, struct vhu_vring *vr)
{
	if (b->opt.bug != VUB_BUG_USED_IDX_EARLY || vr->err)
		return;
	__atomic_store_n(&vr->used->idx, (uint16_t)(vr->used_idx + 1),
			 __ATOMIC_RELEASE);
	usleep(3000);
}

int vub_push(struct vub *b, unsigned int index, uint16_t head, uint32_t len)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);
	int r;

	if (b->opt.bug)
		bug_before_push(b, &vq->vring);
	r = vhu_vring_push(&vq->vring, head, len);
	if (!r && b->opt.bug == VUB_BUG_USED_FLAGS_EVIDX && vq->vring.event_idx)
		__atomic_or_fetch(&vq->vring.used->flags,
				  VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);

	if (!r && ++b->pushes == b->opt.die_after_push) {
		pr_warn("queue %u: request %u completed, dying now "
			"(--die-after-push)",
			index, head);
		raise(SIGKILL);
	}
	return r ? vub_queue_failed(b, index, r) : 0;
}

/* Whether host address @p lies in mapped guest memory. */
bool vub_in_guest_ram(struct vub *b, const uint8_t *p)
{
	for (unsigned int i = 0; i < b->dev.nregions; i++) {
		const struct vhu_backend_region *r = &b->dev.regions[i];

		if ((uintptr_t)p >= (uintptr_t)r->host &&
		    (uintptr_t)p - (uintptr_t)r->host < r->size)
			return true;
	}
	return false;
}

/*
 * The notification defects: decides like vhu_vring_should_notify() with
 * one rule broken, and signals. Returns false when the bug set is not one
 * of them.
 */
static bool bug_notify(struct vub *b, struct vhu_backend_vq *vq)
{
	static unsigned long batches;
	struct vhu_vring *vr = &vq->vring;
	uint16_t old = vr->signalled_used, now = vr->used_idx, flags, event;
	bool valid = vr->signalled_used_valid, want;
	uint64_t one = 1;

	switch (b->opt.bug) {
	case VUB_BUG_EVIDX_OFF_BY_ONE:
	case VUB_BUG_EVIDX_EQUAL_OLD:
	case VUB_BUG_EVIDX_ALWAYS:
	case VUB_BUG_EVIDX_HONOURS_FLAG:
	case VUB_BUG_IRQ_COALESCE:
	case VUB_BUG_USED_EVENT_ALWAYS:
	case VUB_BUG_IRQ_IGNORE_FLAG:
		break;
	default:
		return false;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED);
	event = __atomic_load_n(virtq_used_event(vr->avail, vr->num),
				__ATOMIC_RELAXED);
	vr->signalled_used = now;
	vr->signalled_used_valid = true;
	if (vr->event_idx) {
		want = !valid || vring_need_event(event, now, old);
		if (b->opt.bug == VUB_BUG_EVIDX_OFF_BY_ONE) /* > for >= */
			want = !valid ||
			       (uint16_t)(now - event) < (uint16_t)(now - old);
		else if (b->opt.bug == VUB_BUG_EVIDX_EQUAL_OLD)
			want = !valid || event == old;
		else if (b->opt.bug == VUB_BUG_EVIDX_ALWAYS)
			want = true;
		else if (b->opt.bug == VUB_BUG_EVIDX_HONOURS_FLAG &&
			 (flags & VIRTQ_AVAIL_F_NO_INTERRUPT))
			want = false;
	} else {
		want = !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
		if (b->opt.bug == VUB_BUG_IRQ_COALESCE)
			want = want && ++batches % 2 == 0;
		else if (b->opt.bug == VUB_BUG_USED_EVENT_ALWAYS)
			want = want && vring_need_event(event, now, old);
		else if (b->opt.bug == VUB_BUG_IRQ_IGNORE_FLAG)
			want = true;
	}
	if (want && vq->call_fd >= 0 &&
	    write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("signalling the call fd: %s", strerror(errno));
	return true;
}

void vub_notify(struct vub *b, unsigned int index)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);
	int r;

	if (!vq || !vq->started || vq->vring.err)
		return;
	if (b->opt.bug && (bug_notify(b, vq) || vub_packed_bug_notify(b, vq)))
		return;
	r = vhu_backend_vq_notify(vq);
	if (r < 0)
		pr_warn("queue %u: signalling the call fd: %s", index,
			strerror(-r));
}

/* Walks [@off, @off + @len) of the segments, handing each piece to @fn
 * with the matching offset in the flat buffer. */
static size_t iov_walk(const struct iovec *iov, unsigned int n, size_t off,
		       size_t len,
		       void (*fn)(void *seg, size_t flat, size_t l, void *ctx),
		       void *ctx)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t seg = iov[i].iov_len, l;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		l = seg - off < len - done ? seg - off : len - done;
		fn((char *)iov[i].iov_base + off, done, l, ctx);
		done += l;
		off = 0;
	}
	return done;
}

static void copy_out(void *seg, size_t flat, size_t l, void *ctx)
{
	memcpy((char *)ctx + flat, seg, l);
}

static void copy_in(void *seg, size_t flat, size_t l, void *ctx)
{
	memcpy(seg, (const char *)ctx + flat, l);
}

size_t vub_iov_to_buf(const struct iovec *iov, unsigned int n, size_t off,
		      void *buf, size_t len)
{
	return iov_walk(iov, n, off, len, copy_out, buf);
}

size_t vub_buf_to_iov(const struct iovec *iov, unsigned int n, size_t off,
		      const void *buf, size_t len)
{
	return iov_walk(iov, n, off, len, copy_in, (void *)buf);
}

void vub_config_read(const void *config, size_t len, uint32_t offset, void *buf,
		     uint32_t size)
{
	memset(buf, 0, size);
	if (offset < len)
		memcpy(buf, (const char *)config + offset,
		       size < len - offset ? size : len - offset);
}

int vub_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned int shift = 0;
	unsigned long long v;
	const char *u;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (u) {
		shift = 10 * (unsigned int)(u - units + 1);
		end++;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
