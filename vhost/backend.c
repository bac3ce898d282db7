// SPDX-License-Identifier: MIT
/*
 * The backend side of vhost-user. Reading order: how it reads the shared
 * request table (requests.h), the handlers grouped as in the spec: session
 * and features, memory, rings, config and the rest; then the dispatcher
 * (receive, check against the table row, the handler from handlers[],
 * reply or ack, close leftover fds), and finally the helpers a device uses
 * (translation, kick/call, backend channel, listening socket).
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "vhost-user backend: " fmt
#include "vhost/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vhost/msg.h"
#include "vhost/requests.h"
#include "virtio/virtio_config.h"

/* ------------------------------------------------------------------------ */
/* Requests: the shared table's `accept` side                                */

/* The row of a request the backend side takes; NULL for any other code. */
static const struct vhu_request_info *taken(uint32_t req)
{
	const struct vhu_request_info *r = vhu_request_info(req);

	return r && r->accept.on ? r : NULL;
}

static const char *req_name(uint32_t req)
{
	const struct vhu_request_info *r = taken(req);

	return r ? r->name : "UNKNOWN";
}

/* Whether @req carries its own reply (then NEED_REPLY is ignored). */
static bool own_reply(uint32_t req)
{
	const struct vhu_request_info *r = taken(req);

	return r && vhu_reply_always(r->reply);
}

/* A frontend (driven by its guest) may repeat a bad request at will: the
 * log shows the first refusals and then says it stops. */
#define VHU_BACKEND_REFUSALS_LOGGED 16

/* Refuses the current request: records why, logs it, returns @err. */
__attribute__((format(printf, 3, 4))) static int
refuse(struct vhu_backend *dev, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->error, sizeof(dev->error), fmt, ap);
	va_end(ap);
	if (dev->refusals < VHU_BACKEND_REFUSALS_LOGGED)
		pr_warn("%s", dev->error);
	if (++dev->refusals == VHU_BACKEND_REFUSALS_LOGGED)
		pr_warn("%u requests refused; further refusals are not logged",
			dev->refusals);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Setup and teardown                                                        */

int vhu_backend_init(struct vhu_backend *dev, int sock, unsigned int num_queues,
		     unsigned int max_queue_size,
		     const struct vhu_backend_ops *ops, void *opaque)
{
	memset(dev, 0, sizeof(*dev));
	dev->sock = -1;
	dev->backend_req_fd = -1;
	if (sock < 0 || !ops || !ops->get_features || !num_queues ||
	    num_queues > VHU_BACKEND_MAX_QUEUES ||
	    !virtq_size_valid(max_queue_size))
		return -EINVAL;
	dev->vqs = calloc(num_queues, sizeof(*dev->vqs));
	if (!dev->vqs)
		return -ENOMEM;
	for (unsigned int i = 0; i < num_queues; i++) {
		dev->vqs[i].kick_fd = -1;
		dev->vqs[i].call_fd = -1;
		dev->vqs[i].err_fd = -1;
	}
	dev->sock = sock;
	dev->ops = ops;
	dev->opaque = opaque;
	dev->num_queues = num_queues;
	dev->max_queue_size = max_queue_size;
	dev->timeout_ms = VHU_BACKEND_TIMEOUT_MS;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void unmap_region(struct vhu_backend_region *r)
{
	if (r->map_base)
		munmap(r->map_base, r->map_len);
	memset(r, 0, sizeof(*r));
}

static void unmap_inflight(struct vhu_backend *dev)
{
	if (dev->inflight_base)
		munmap(dev->inflight_base, dev->inflight_len);
	dev->inflight_base = NULL;
	dev->inflight_len = 0;
	dev->inflight_queue_size = 0;
	for (unsigned int i = 0; i < dev->num_queues; i++)
		dev->vqs[i].inflight = NULL;
}

static void stop_ring(struct vhu_backend *dev, unsigned int index);

/* Forgets everything the frontend configured on the rings. */
static void reset_rings(struct vhu_backend *dev)
{
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		struct vhu_backend_vq *vq = &dev->vqs[i];

		stop_ring(dev, i);
		close_fd(&vq->call_fd);
		close_fd(&vq->err_fd);
		memset(vq, 0, sizeof(*vq));
		vq->kick_fd = vq->call_fd = vq->err_fd = -1;
	}
}

void vhu_backend_cleanup(struct vhu_backend *dev)
{
	if (dev->vqs) {
		reset_rings(dev);
		unmap_inflight(dev);
		free(dev->vqs);
		dev->vqs = NULL;
	}
	for (unsigned int i = 0; i < dev->nregions; i++)
		unmap_region(&dev->regions[i]);
	dev->nregions = 0;
	close_fd(&dev->backend_req_fd);
	close_fd(&dev->sock);
}

const char *vhu_backend_error(const struct vhu_backend *dev)
{
	return dev->error;
}

bool vhu_backend_has_protocol_feature(const struct vhu_backend *dev,
				      unsigned int bit)
{
	return bit < 64 && (dev->protocol_features & (1ull << bit));
}

bool vhu_backend_has_feature(const struct vhu_backend *dev, unsigned int bit)
{
	return virtio_has_feature(dev->features, bit);
}

struct vhu_backend_vq *vhu_backend_vq(struct vhu_backend *dev,
				      unsigned int index)
{
	return index < dev->num_queues ? &dev->vqs[index] : NULL;
}

/* ------------------------------------------------------------------------ */
/* Translation                                                               */

/* Whether [addr, addr + len) lies inside [start, start + size). */
static bool range_inside(uint64_t addr, uint64_t len, uint64_t start,
			 uint64_t size)
{
	return addr >= start && len <= size && addr - start <= size - len;
}

void *vhu_backend_gpa_to_va(struct vhu_backend *dev, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < dev->nregions; i++) {
		struct vhu_backend_region *r = &dev->regions[i];

		if (range_inside(gpa, len ? len : 1, r->gpa, r->size))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

void *vhu_backend_uva_to_va(struct vhu_backend *dev, uint64_t uva, uint64_t len)
{
	for (unsigned int i = 0; i < dev->nregions; i++) {
		struct vhu_backend_region *r = &dev->regions[i];

		if (range_inside(uva, len ? len : 1, r->uva, r->size))
			return r->host + (uva - r->uva);
	}
	return NULL;
}

static void *translate_desc(void *opaque, uint64_t gpa, uint64_t len)
{
	return vhu_backend_gpa_to_va(opaque, gpa, len);
}

/* The bytes from @gpa to the end of its region (0: not mapped). */
static uint64_t contig_desc(void *opaque, uint64_t gpa)
{
	struct vhu_backend *dev = opaque;

	for (unsigned int i = 0; i < dev->nregions; i++) {
		struct vhu_backend_region *r = &dev->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r->size - (gpa - r->gpa);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Handlers: session and features                                            */

/* What we offer: the device's protocol features, limited to what the
 * library implements and the device's callbacks make possible. */
static uint64_t offered_protocol_features(struct vhu_backend *dev)
{
	const struct vhu_backend_ops *ops = dev->ops;
	uint64_t f = VHU_BACKEND_PROTOCOL_FEATURES;

	if (ops->get_protocol_features)
		f &= ops->get_protocol_features(dev);
	if (!ops->get_config)
		f &= ~(1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	if (!ops->set_device_state_fd || !ops->check_device_state)
		f &= ~(1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	return f;
}

static uint64_t offered_features(struct vhu_backend *dev)
{
	return dev->ops->get_features(dev) |
	       VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

static void reply_u64(struct vhu_msg *reply, uint64_t v)
{
	reply->payload.u64 = v;
	reply->hdr.size = sizeof(v);
}

static int get_features(struct vhu_backend *dev, struct vhu_msg *msg,
			struct vhu_msg *reply)
{
	reply_u64(reply, offered_features(dev));
	return 0;
}

static int set_features(struct vhu_backend *dev, struct vhu_msg *msg,
			struct vhu_msg *reply)
{
	uint64_t f = msg->payload.u64, extra = f & ~offered_features(dev);
	int err;

	if (extra)
		return refuse(dev, -EINVAL,
			      "SET_FEATURES: bits 0x%llx were not offered",
			      (unsigned long long)extra);
	if (dev->ops->set_features) {
		err = dev->ops->set_features(dev, f);
		if (err)
			return refuse(dev, err,
				      "SET_FEATURES: device refused 0x%llx",
				      (unsigned long long)f);
	}
	dev->features = f;
	return 0;
}

static int set_owner(struct vhu_backend *dev, struct vhu_msg *msg,
		     struct vhu_msg *reply)
{
	dev->owner = true;
	return 0;
}

/* RESET_OWNER and RESET_DEVICE: back to the state after SET_OWNER. */
static int reset_device(struct vhu_backend *dev, struct vhu_msg *msg,
			struct vhu_msg *reply)
{
	reset_rings(dev);
	dev->features = 0;
	dev->status = 0;
	if (dev->ops->reset)
		dev->ops->reset(dev);
	return 0;
}

static int get_protocol_features(struct vhu_backend *dev, struct vhu_msg *msg,
				 struct vhu_msg *reply)
{
	reply_u64(reply, offered_protocol_features(dev));
	return 0;
}

static int set_protocol_features(struct vhu_backend *dev, struct vhu_msg *msg,
				 struct vhu_msg *reply)
{
	uint64_t f = msg->payload.u64;
	uint64_t extra = f & ~offered_protocol_features(dev);

	if (extra)
		return refuse(
			dev, -EINVAL,
			"SET_PROTOCOL_FEATURES: bits 0x%llx were not offered",
			(unsigned long long)extra);
	dev->protocol_features = f;
	return 0;
}

static int get_queue_num(struct vhu_backend *dev, struct vhu_msg *msg,
			 struct vhu_msg *reply)
{
	reply_u64(reply, dev->num_queues);
	return 0;
}

static int set_status(struct vhu_backend *dev, struct vhu_msg *msg,
		      struct vhu_msg *reply)
{
	uint64_t s = msg->payload.u64;
	int err;

	if (s > 0xff)
		return refuse(dev, -EINVAL,
			      "SET_STATUS: 0x%llx is not a status byte",
			      (unsigned long long)s);
	if (dev->ops->set_status) {
		err = dev->ops->set_status(dev, (uint8_t)s);
		if (err)
			return refuse(dev, err,
				      "SET_STATUS: device refused 0x%02x",
				      (unsigned int)s);
	}
	dev->status = (uint8_t)s;
	return 0;
}

static int get_status(struct vhu_backend *dev, struct vhu_msg *msg,
		      struct vhu_msg *reply)
{
	reply_u64(reply, dev->status);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Handlers: memory                                                          */

/* Checks one region's numbers (not yet its fd). */
static int check_region(struct vhu_backend *dev, const char *req,
			const struct vhu_mem_region *r)
{
	if (!r->memory_size)
		return refuse(dev, -EINVAL, "%s: region at 0x%llx has size 0",
			      req, (unsigned long long)r->guest_phys_addr);
	if (r->guest_phys_addr + r->memory_size - 1 < r->guest_phys_addr ||
	    r->userspace_addr + r->memory_size - 1 < r->userspace_addr ||
	    r->mmap_offset > (uint64_t)INT64_MAX ||
	    r->memory_size > (uint64_t)INT64_MAX - r->mmap_offset)
		return refuse(
			dev, -EINVAL,
			"%s: region at 0x%llx of 0x%llx bytes wraps around",
			req, (unsigned long long)r->guest_phys_addr,
			(unsigned long long)r->memory_size);
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

/* Checks @r against the regions in @table (guest and user ranges). */
static int check_overlap(struct vhu_backend *dev, const char *req,
			 const struct vhu_mem_region *r,
			 const struct vhu_backend_region *table, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct vhu_backend_region *o = &table[i];

		if (ranges_overlap(r->guest_phys_addr, r->memory_size, o->gpa,
				   o->size) ||
		    ranges_overlap(r->userspace_addr, r->memory_size, o->uva,
				   o->size))
			return refuse(dev, -EINVAL,
				      "%s: region at 0x%llx overlaps the one "
				      "at 0x%llx",
				      req,
				      (unsigned long long)r->guest_phys_addr,
				      (unsigned long long)o->gpa);
	}
	return 0;
}

/* Maps @r from @fd, which stays the caller's, into @out. */
static int map_region(struct vhu_backend *dev, const char *req,
		      const struct vhu_mem_region *r, int fd,
		      struct vhu_backend_region *out)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t delta = r->mmap_offset & (page - 1);
	/* Test aid: --bug vu-ignore-mmap-offset maps every fd from 0. */
	uint64_t from = dev->bugs & VHU_BACKEND_BUG_IGNORE_MMAP_OFFSET
				? delta
				: r->mmap_offset;
	struct stat st;
	void *p;

	if (fstat(fd, &st) || (uint64_t)st.st_size < r->mmap_offset ||
	    (uint64_t)st.st_size - r->mmap_offset < r->memory_size)
		return refuse(dev, -EINVAL,
			      "%s: region at 0x%llx needs 0x%llx bytes at "
			      "offset 0x%llx of its fd",
			      req, (unsigned long long)r->guest_phys_addr,
			      (unsigned long long)r->memory_size,
			      (unsigned long long)r->mmap_offset);
	p = mmap(NULL, r->memory_size + delta, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, (off_t)(from - delta));
	if (p == MAP_FAILED)
		return refuse(dev, -errno,
			      "%s: mmap of region at 0x%llx failed: %s", req,
			      (unsigned long long)r->guest_phys_addr,
			      strerror(errno));
	*out = (struct vhu_backend_region){
		.gpa = r->guest_phys_addr,
		.size = r->memory_size,
		.uva = r->userspace_addr,
		.mmap_offset = r->mmap_offset,
		.host = (uint8_t *)p + delta,
		.map_base = p,
		.map_len = r->memory_size + delta,
	};
	return 0;
}

static bool ring_packed(const struct vhu_backend *dev)
{
	return vhu_backend_has_feature(dev, VIRTIO_F_RING_PACKED);
}

/* Translates a ring's three parts in @dev's current table: split desc,
 * avail, used, or packed descriptor ring, driver area, device area. */
static int ring_pointers(struct vhu_backend *dev, struct vhu_backend_vq *vq,
			 struct vhu_vring_config *cfg)
{
	if (ring_packed(dev)) {
		cfg->packed_desc =
			vhu_backend_uva_to_va(dev, vq->addr.desc_user_addr,
					      virtq_packed_desc_size(vq->num));
		cfg->driver_event =
			vhu_backend_uva_to_va(dev, vq->addr.avail_user_addr,
					      virtq_packed_event_size());
		cfg->device_event =
			vhu_backend_uva_to_va(dev, vq->addr.used_user_addr,
					      virtq_packed_event_size());
		return cfg->packed_desc && cfg->driver_event &&
				       cfg->device_event
			       ? 0
			       : -EFAULT;
	}
	cfg->desc = vhu_backend_uva_to_va(dev, vq->addr.desc_user_addr,
					  virtq_desc_size(vq->num));
	cfg->avail = vhu_backend_uva_to_va(dev, vq->addr.avail_user_addr,
					   virtq_avail_size(vq->num));
	cfg->used = vhu_backend_uva_to_va(dev, vq->addr.used_user_addr,
					  virtq_used_size(vq->num));
	return cfg->desc && cfg->avail && cfg->used ? 0 : -EFAULT;
}

/* After the table changed: point started rings at the new mappings. A
 * ring that no longer translates fails; the device then sees errors. */
static void remap_rings(struct vhu_backend *dev)
{
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		struct vhu_backend_vq *vq = &dev->vqs[i];
		struct vhu_vring_config cfg = { 0 };

		if (!vq->started)
			continue;
		if (ring_pointers(dev, vq, &cfg)) {
			vq->vring.err = -EFAULT;
			snprintf(vq->vring.error, sizeof(vq->vring.error),
				 "ring %u is outside the new memory table", i);
			continue;
		}
		vq->vring.desc = cfg.desc;
		vq->vring.avail = cfg.avail;
		vq->vring.used = cfg.used;
		vq->vring.packed_desc = cfg.packed_desc;
		vq->vring.driver_event = cfg.driver_event;
		vq->vring.device_event = cfg.device_event;
	}
}

static int check_mem_table(struct vhu_backend *dev, struct vhu_msg *msg)
{
	const struct vhu_mem_table *t = &msg->payload.mem;

	if (!t->nregions || t->nregions > VHOST_USER_MEM_REGIONS_MAX)
		return refuse(dev, -EINVAL,
			      "SET_MEM_TABLE: %u regions, expected 1..%u",
			      t->nregions, VHOST_USER_MEM_REGIONS_MAX);
	if (msg->hdr.size != 8 + 32 * t->nregions)
		return refuse(dev, -EINVAL,
			      "SET_MEM_TABLE: payload %u bytes for %u regions, "
			      "expected %u",
			      msg->hdr.size, t->nregions, 8 + 32 * t->nregions);
	if (msg->nfds != t->nregions)
		return refuse(dev, -EINVAL,
			      "SET_MEM_TABLE: %u fds for %u regions", msg->nfds,
			      t->nregions);
	return 0;
}

static int set_mem_table(struct vhu_backend *dev, struct vhu_msg *msg,
			 struct vhu_msg *reply)
{
	struct vhu_backend_region old[VHU_BACKEND_MAX_MEM_SLOTS];
	struct vhu_backend_region next[VHOST_USER_MEM_REGIONS_MAX] = { 0 };
	const struct vhu_mem_table *t = &msg->payload.mem;
	unsigned int n = 0, nold = dev->nregions;
	int err = check_mem_table(dev, msg);

	for (; !err && n < t->nregions; n++) {
		err = check_region(dev, "SET_MEM_TABLE", &t->regions[n]);
		if (!err)
			err = check_overlap(dev, "SET_MEM_TABLE",
					    &t->regions[n], next, n);
		if (!err)
			err = map_region(dev, "SET_MEM_TABLE", &t->regions[n],
					 msg->fds[n], &next[n]);
	}
	if (err)
		goto err_unmap;
	if ((dev->bugs & VHU_BACKEND_BUG_MAX_REGIONS_7) &&
	    n == VHOST_USER_MEM_REGIONS_MAX) {
		pr_warn("SET_MEM_TABLE: region %u of %u dropped (--bug)", n - 1,
			n);
		unmap_region(&next[--n]);
	}
	memcpy(old, dev->regions, nold * sizeof(old[0]));
	memcpy(dev->regions, next, n * sizeof(next[0]));
	dev->nregions = n;
	remap_rings(dev);
	for (unsigned int i = 0; i < nold; i++)
		unmap_region(&old[i]);
	return 0;
err_unmap:
	for (unsigned int i = 0; i < n; i++)
		unmap_region(&next[i]);
	return err;
}

static int get_max_mem_slots(struct vhu_backend *dev, struct vhu_msg *msg,
			     struct vhu_msg *reply)
{
	reply_u64(reply, VHU_BACKEND_MAX_MEM_SLOTS);
	return 0;
}

static int add_mem_reg(struct vhu_backend *dev, struct vhu_msg *msg,
		       struct vhu_msg *reply)
{
	const struct vhu_mem_region *r = &msg->payload.mem_reg.region;
	int err;

	unsigned int max = dev->bugs & VHU_BACKEND_BUG_SLOTS_8
				   ? VHOST_USER_MEM_REGIONS_MAX
				   : VHU_BACKEND_MAX_MEM_SLOTS;

	if (dev->nregions >= max)
		return refuse(
			dev, -ENOSPC, "ADD_MEM_REG: all %u slots used%s", max,
			max < VHU_BACKEND_MAX_MEM_SLOTS ? " (--bug)" : "");
	err = check_region(dev, "ADD_MEM_REG", r);
	if (!err && (dev->bugs & VHU_BACKEND_BUG_ADD_UNMAPPED)) {
		pr_warn("ADD_MEM_REG: region at 0x%llx acked, not mapped "
			"(--bug)",
			(unsigned long long)r->guest_phys_addr);
		return 0;
	}
	if (!err && !(dev->bugs & VHU_BACKEND_BUG_REM_KEEPS_OLD))
		err = check_overlap(dev, "ADD_MEM_REG", r, dev->regions,
				    dev->nregions);
	if (!err)
		err = map_region(dev, "ADD_MEM_REG", r, msg->fds[0],
				 &dev->regions[dev->nregions]);
	if (err)
		return err;
	dev->nregions++;
	return 0;
}

/* Whether a started ring's parts lie in region @r. */
static bool region_in_use(struct vhu_backend *dev,
			  const struct vhu_backend_region *r)
{
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		const struct vhu_backend_vq *vq = &dev->vqs[i];
		const struct vhu_vring_addr *a = &vq->addr;

		if (vq->started &&
		    (range_inside(a->desc_user_addr, 1, r->uva, r->size) ||
		     range_inside(a->avail_user_addr, 1, r->uva, r->size) ||
		     range_inside(a->used_user_addr, 1, r->uva, r->size)))
			return true;
	}
	return false;
}

static int rem_mem_reg(struct vhu_backend *dev, struct vhu_msg *msg,
		       struct vhu_msg *reply)
{
	const struct vhu_mem_region *r = &msg->payload.mem_reg.region;

	for (unsigned int i = 0; i < dev->nregions; i++) {
		struct vhu_backend_region *o = &dev->regions[i];

		if (o->gpa != r->guest_phys_addr || o->size != r->memory_size)
			continue;
		if (region_in_use(dev, o))
			return refuse(dev, -EBUSY,
				      "REM_MEM_REG: region at 0x%llx holds a "
				      "started ring",
				      (unsigned long long)o->gpa);
		if (dev->bugs & VHU_BACKEND_BUG_REM_KEEPS_OLD) {
			pr_warn("REM_MEM_REG: region at 0x%llx acked, kept "
				"(--bug)",
				(unsigned long long)o->gpa);
			return 0;
		}
		unmap_region(o);
		dev->regions[i] = dev->regions[--dev->nregions];
		memset(&dev->regions[dev->nregions], 0, sizeof(*o));
		return 0;
	}
	return refuse(dev, -ENOENT,
		      "REM_MEM_REG: no region at 0x%llx of 0x%llx bytes",
		      (unsigned long long)r->guest_phys_addr,
		      (unsigned long long)r->memory_size);
}

/* ------------------------------------------------------------------------ */
/* Handlers: rings                                                           */

/* Tells the device when started && enabled changes. */
static void update_running(struct vhu_backend *dev, unsigned int index)
{
	struct vhu_backend_vq *vq = &dev->vqs[index];
	bool running = vq->started && vq->enabled;

	if (running == vq->running)
		return;
	vq->running = running;
	if (running && dev->ops->queue_start)
		dev->ops->queue_start(dev, index);
	else if (!running && dev->ops->queue_stop)
		dev->ops->queue_stop(dev, index);
}

static void stop_ring(struct vhu_backend *dev, unsigned int index)
{
	struct vhu_backend_vq *vq = &dev->vqs[index];

	if (vq->started)
		vq->base = vhu_vring_get_base(&vq->vring);
	vhu_vring_cleanup(&vq->vring);
	vq->started = false;
	update_running(dev, index);
	close_fd(&vq->kick_fd);
	vq->kick_nofd = false;
}

/* Looks up the ring a request names; refuses an index out of range or a
 * ring that must be stopped and is not. */
static struct vhu_backend_vq *ring_of(struct vhu_backend *dev, const char *req,
				      uint32_t index, bool must_be_stopped,
				      int *err)
{
	if (index >= dev->num_queues) {
		*err = refuse(dev, -EINVAL,
			      "%s: ring %u out of range, %u queues", req, index,
			      dev->num_queues);
		return NULL;
	}
	if (must_be_stopped && dev->vqs[index].started) {
		*err = refuse(dev, -EBUSY, "%s: ring %u is started", req,
			      index);
		return NULL;
	}
	return &dev->vqs[index];
}

/* A queue size the device takes: a power of 2 for split rings, any size
 * for packed ones (virtio 1.2, 2.8.10.1), up to its maximum. */
static bool queue_size_ok(const struct vhu_backend *dev, unsigned int num)
{
	if (num > dev->max_queue_size)
		return false;
	if (vhu_backend_has_feature(dev, VIRTIO_F_RING_PACKED))
		return num > 0;
	return virtq_size_valid(num);
}

static const char *size_rule(const struct vhu_backend *dev)
{
	return vhu_backend_has_feature(dev, VIRTIO_F_RING_PACKED)
		       ? "a size"
		       : "a power of 2";
}

static int set_vring_num(struct vhu_backend *dev, struct vhu_msg *msg,
			 struct vhu_msg *reply)
{
	const struct vhu_vring_state *s = &msg->payload.state;
	int err = 0;
	struct vhu_backend_vq *vq =
		ring_of(dev, "SET_VRING_NUM", s->index, true, &err);

	if (!vq)
		return err;
	if (!queue_size_ok(dev, s->num))
		return refuse(dev, -EINVAL,
			      "SET_VRING_NUM: size %u is not %s in 1..%u",
			      s->num, size_rule(dev), dev->max_queue_size);
	vq->num = s->num;
	vq->addr_set = false; /* its sizes were checked for the old num */
	return 0;
}

static int check_ring_addr(struct vhu_backend *dev,
			   const struct vhu_backend_vq *vq,
			   const struct vhu_vring_addr *a)
{
	struct vhu_backend_vq tmp = *vq;
	struct vhu_vring_config cfg = { 0 };
	/* A packed ring's driver area is 4-byte aligned too. */
	uint64_t avail_align =
		ring_packed(dev) ? VIRTQ_PACKED_EVENT_ALIGN : VIRTQ_AVAIL_ALIGN;

	if (a->flags)
		return refuse(
			dev, -EINVAL,
			"SET_VRING_ADDR: flags 0x%x, logging is not supported",
			a->flags);
	if (a->desc_user_addr % VIRTQ_DESC_ALIGN ||
	    a->avail_user_addr % avail_align ||
	    a->used_user_addr % VIRTQ_USED_ALIGN)
		return refuse(dev, -EINVAL,
			      "SET_VRING_ADDR: ring %u parts misaligned",
			      a->index);
	tmp.addr = *a;
	if (ring_pointers(dev, &tmp, &cfg))
		return refuse(
			dev, -EFAULT,
			"SET_VRING_ADDR: ring %u of %u entries (desc 0x%llx, "
			"avail 0x%llx, used 0x%llx) is not inside guest memory",
			a->index, vq->num,
			(unsigned long long)a->desc_user_addr,
			(unsigned long long)a->avail_user_addr,
			(unsigned long long)a->used_user_addr);
	return 0;
}

static int set_vring_addr(struct vhu_backend *dev, struct vhu_msg *msg,
			  struct vhu_msg *reply)
{
	const struct vhu_vring_addr *a = &msg->payload.addr;
	int err = 0;
	struct vhu_backend_vq *vq =
		ring_of(dev, "SET_VRING_ADDR", a->index, true, &err);

	if (!vq)
		return err;
	if (!vq->num)
		return refuse(dev, -EINVAL,
			      "SET_VRING_ADDR: ring %u has no size yet "
			      "(SET_VRING_NUM first)",
			      a->index);
	err = check_ring_addr(dev, vq, a);
	if (err)
		return err;
	vq->addr = *a;
	vq->addr_set = true;
	return 0;
}

static int set_vring_base(struct vhu_backend *dev, struct vhu_msg *msg,
			  struct vhu_msg *reply)
{
	const struct vhu_vring_state *s = &msg->payload.state;
	int err = 0;
	struct vhu_backend_vq *vq =
		ring_of(dev, "SET_VRING_BASE", s->index, true, &err);

	if (!vq)
		return err;
	if (s->num > 0xffff && !ring_packed(dev))
		return refuse(
			dev, -EINVAL,
			"SET_VRING_BASE: base 0x%x does not fit a split ring",
			s->num);
	vq->base = s->num;
	return 0;
}

static int get_vring_base(struct vhu_backend *dev, struct vhu_msg *msg,
			  struct vhu_msg *reply)
{
	const struct vhu_vring_state *s = &msg->payload.state;
	int err = 0;
	struct vhu_backend_vq *vq =
		ring_of(dev, "GET_VRING_BASE", s->index, false, &err);

	if (!vq)
		return err;
	reply->payload.state.index = s->index;
	reply->hdr.size = sizeof(reply->payload.state);
	if ((dev->bugs & VHU_BACKEND_BUG_SERVE_AFTER_STOP) && vq->started) {
		reply->payload.state.num = vhu_vring_get_base(&vq->vring);
		vq->enabled = true;
		update_running(dev, s->index);
		return 0;
	}
	stop_ring(dev, s->index);
	reply->payload.state.num = vq->base;
	if (dev->bugs & VHU_BACKEND_BUG_BASE_PLUS_ONE)
		reply->payload.state.num = (uint16_t)(vq->base + 1);
	if (dev->bugs & VHU_BACKEND_BUG_KICK_NEEDS_CALL)
		close_fd(&vq->call_fd);
	return 0;
}

/* The in-flight region for ring @index, if there is one: it must have an
 * entry for every descriptor, as rule 8 lays it out (a driver may choose
 * a ring smaller than the queue size the region was made for). */
static int ring_inflight(struct vhu_backend *dev, unsigned int index,
			 struct vhu_vring_config *cfg)
{
	struct vhu_backend_vq *vq = &dev->vqs[index];

	if (vq->inflight && dev->inflight_packed != ring_packed(dev))
		return refuse(dev, -EINVAL,
			      "SET_VRING_KICK: ring %u is %s, the in-flight "
			      "region was made for %s rings",
			      index, ring_packed(dev) ? "packed" : "split",
			      dev->inflight_packed ? "packed" : "split");
	if (ring_packed(dev))
		cfg->inflight_packed = vq->inflight;
	else
		cfg->inflight = vq->inflight;
	if (vq->inflight && vq->num > dev->inflight_queue_size)
		return refuse(dev, -EINVAL,
			      "SET_VRING_KICK: ring %u has %u entries, the "
			      "in-flight region %u per queue",
			      index, vq->num, dev->inflight_queue_size);
	return 0;
}

/* What the start of a ring with an in-flight region is worth a line for. */
static void log_recovery(struct vhu_backend *dev, unsigned int index)
{
	struct vhu_backend_vq *vq = &dev->vqs[index];
	uint32_t base = vhu_vring_get_base(&vq->vring);

	if (vq->vring.resubmit_num)
		pr_warn("queue %u: resubmitting %u in-flight requests", index,
			vq->vring.resubmit_num);
	if (base != vq->base && vq->vring.packed)
		pr_warn("queue %u: SET_VRING_BASE %#x ignored, the in-flight "
			"region puts the packed ring at %#x",
			index, vq->base, base);
	else if (base != vq->base)
		pr_warn("queue %u: SET_VRING_BASE %u ignored, the in-flight "
			"region puts the ring at %u",
			index, vq->base, base);
}

/* Starts ring @index: the kick has arrived. */
static int start_ring(struct vhu_backend *dev, unsigned int index)
{
	struct vhu_backend_vq *vq = &dev->vqs[index];
	struct vhu_vring_config cfg = {
		.num = vq->num,
		.base = vq->base,
		.features = dev->features,
		.translate = translate_desc,
		.contig = contig_desc,
		.opaque = dev,
	};
	int err;

	if (!vq->addr_set)
		return refuse(
			dev, -EINVAL,
			"SET_VRING_KICK: ring %u has no size or address yet",
			index);
	if (ring_pointers(dev, vq, &cfg))
		return refuse(
			dev, -EFAULT,
			"SET_VRING_KICK: ring %u is not inside guest memory",
			index);
	err = ring_inflight(dev, index, &cfg);
	if (err)
		return err;
	err = vhu_vring_init(&vq->vring, &cfg);
	if (err) {
		refuse(dev, err, "SET_VRING_KICK: ring %u: %s", index,
		       vhu_vring_error(&vq->vring));
		vhu_vring_cleanup(&vq->vring);
		return err;
	}
	if (cfg.inflight || cfg.inflight_packed)
		log_recovery(dev, index);
	vq->started = true;
	if (!vhu_backend_has_feature(dev, VHOST_USER_F_PROTOCOL_FEATURES))
		vq->enabled = true;
	update_running(dev, index);
	return 0;
}

/* Decodes the SET_VRING_KICK/CALL/ERR payload and its fd. */
static struct vhu_backend_vq *ring_fd_of(struct vhu_backend *dev,
					 struct vhu_msg *msg, int *fd, int *err)
{
	const char *req = req_name(msg->hdr.request);
	uint64_t v = msg->payload.u64;
	bool nofd = v & VHOST_USER_VRING_NOFD_MASK;

	*err = 0;
	if (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
			    VHOST_USER_VRING_NOFD_MASK)) {
		*err = refuse(dev, -EINVAL, "%s: unknown bits in 0x%llx", req,
			      (unsigned long long)v);
		return NULL;
	}
	if (nofd != !msg->nfds) {
		*err = refuse(dev, -EINVAL, "%s: %u fds with the no-fd bit %s",
			      req, msg->nfds, nofd ? "set" : "clear");
		return NULL;
	}
	*fd = nofd ? -1 : msg->fds[0];
	return ring_of(dev, req, (uint32_t)(v & VHOST_USER_VRING_IDX_MASK),
		       false, err);
}

static int set_vring_kick(struct vhu_backend *dev, struct vhu_msg *msg,
			  struct vhu_msg *reply)
{
	int fd, err;
	struct vhu_backend_vq *vq = ring_fd_of(dev, msg, &fd, &err);
	unsigned int index;

	if (!vq)
		return err;
	index = (unsigned int)(vq - dev->vqs);
	if ((dev->bugs & VHU_BACKEND_BUG_KICK_NEEDS_CALL) && vq->call_fd < 0)
		return refuse(dev, -EPIPE,
			      "SET_VRING_KICK: ring %u has no call fd (--bug)",
			      index);
	if (!vq->started) {
		err = start_ring(dev, index);
		if (err)
			return err;
	} else if (vq->running && dev->ops->queue_stop) {
		/* A new kick fd on a running ring: let the device re-watch. */
		dev->ops->queue_stop(dev, index);
		vq->running = false;
	}
	close_fd(&vq->kick_fd);
	vq->kick_fd = fd;
	vq->kick_nofd = fd < 0;
	if (fd >= 0)
		msg->fds[0] = -1; /* kept */
	update_running(dev, index);
	return 0;
}

static int set_vring_call_err(struct vhu_backend *dev, struct vhu_msg *msg,
			      struct vhu_msg *reply)
{
	int fd, err;
	struct vhu_backend_vq *vq = ring_fd_of(dev, msg, &fd, &err);
	int *slot;

	if (!vq)
		return err;
	slot = msg->hdr.request == VHOST_USER_SET_VRING_CALL ? &vq->call_fd
							     : &vq->err_fd;
	close_fd(slot);
	*slot = fd;
	if (fd >= 0)
		msg->fds[0] = -1;
	return 0;
}

static int set_vring_enable(struct vhu_backend *dev, struct vhu_msg *msg,
			    struct vhu_msg *reply)
{
	const struct vhu_vring_state *s = &msg->payload.state;
	int err = 0;
	struct vhu_backend_vq *vq =
		ring_of(dev, "SET_VRING_ENABLE", s->index, false, &err);

	if (!vq)
		return err;
	if (!vhu_backend_has_feature(dev, VHOST_USER_F_PROTOCOL_FEATURES))
		return refuse(dev, -EINVAL,
			      "SET_VRING_ENABLE: PROTOCOL_FEATURES (bit 30) "
			      "was not acked");
	if (s->num > 1)
		return refuse(dev, -EINVAL,
			      "SET_VRING_ENABLE: %u is not 0 or 1", s->num);
	vq->enabled = s->num;
	update_running(dev, s->index);
	return !s->num && (dev->bugs & VHU_BACKEND_BUG_NACK_DISABLE) ? -EIO : 0;
}

/* ------------------------------------------------------------------------ */
/* Handlers: config, backend channel, inflight, device state                 */

static int check_config_msg(struct vhu_backend *dev, const struct vhu_msg *msg)
{
	const struct vhu_config *c = &msg->payload.config;
	const char *req = req_name(msg->hdr.request);

	if (c->size > VHOST_USER_CONFIG_SPACE_MAX ||
	    c->offset > VHOST_USER_CONFIG_SPACE_MAX - c->size)
		return refuse(dev, -EINVAL,
			      "%s: offset %u size %u exceed %u bytes", req,
			      c->offset, c->size, VHOST_USER_CONFIG_SPACE_MAX);
	if (msg->hdr.size != VHU_CONFIG_HDR_SIZE + c->size)
		return refuse(dev, -EINVAL,
			      "%s: payload %u bytes, expected 12+%u", req,
			      msg->hdr.size, c->size);
	if (c->flags > VHOST_USER_CONFIG_FLAG_MIGRATION)
		return refuse(dev, -EINVAL, "%s: flags 0x%x", req, c->flags);
	return 0;
}

/* A failed GET_CONFIG still replies, with size 0 (the spec's "failed"). */
static int get_config(struct vhu_backend *dev, struct vhu_msg *msg,
		      struct vhu_msg *reply)
{
	const struct vhu_config *c = &msg->payload.config;
	int err = check_config_msg(dev, msg);

	reply->payload.config =
		(struct vhu_config){ .offset = c->offset, .flags = c->flags };
	reply->hdr.size = VHU_CONFIG_HDR_SIZE;
	if (!err && dev->ops->get_config(dev, c->offset,
					 reply->payload.config.region, c->size))
		err = refuse(dev, -EIO,
			     "GET_CONFIG: device failed to read %u bytes at %u",
			     c->size, c->offset);
	if (err)
		return err;
	reply->payload.config.size = c->size;
	reply->hdr.size = VHU_CONFIG_HDR_SIZE + c->size;
	return 0;
}

static int set_config(struct vhu_backend *dev, struct vhu_msg *msg,
		      struct vhu_msg *reply)
{
	const struct vhu_config *c = &msg->payload.config;
	int err = check_config_msg(dev, msg);

	if (err)
		return err;
	if (!dev->ops->set_config)
		return refuse(dev, -ENOTSUP,
			      "SET_CONFIG: config space is read-only");
	err = dev->ops->set_config(dev, c->offset, c->region, c->size,
				   c->flags);
	if (err)
		return refuse(dev, err,
			      "SET_CONFIG: device refused %u bytes at %u",
			      c->size, c->offset);
	return 0;
}

static int set_backend_req_fd(struct vhu_backend *dev, struct vhu_msg *msg,
			      struct vhu_msg *reply)
{
	close_fd(&dev->backend_req_fd);
	dev->backend_req_fd = msg->fds[0];
	msg->fds[0] = -1;
	return 0;
}

/* Bytes of one queue's inflight region: header plus one entry per
 * descriptor (the split or, with RING_PACKED acked, the packed layout),
 * rounded to a cache line so queues do not share one. */
static size_t inflight_queue_size(const struct vhu_backend *dev,
				  uint16_t queue_size)
{
	if (ring_packed(dev))
		return (size_t)virtq_align(
			sizeof(struct vhu_inflight_packed_header) +
				sizeof(struct vhu_inflight_desc_packed) *
					queue_size,
			64);
	return (size_t)virtq_align(
		sizeof(struct vhu_inflight_split_header) +
			sizeof(struct vhu_inflight_desc_split) * queue_size,
		64);
}

static int check_inflight(struct vhu_backend *dev, const char *req,
			  const struct vhu_inflight *in)
{
	/* A started ring writes into the region it has: swapping it then
	 * would leave the ring pointing at an unmapped one. */
	for (unsigned int i = 0; i < dev->num_queues; i++)
		if (dev->vqs[i].started)
			return refuse(dev, -EBUSY, "%s: ring %u is started",
				      req, i);
	if (!in->num_queues || in->num_queues > dev->num_queues)
		return refuse(dev, -EINVAL, "%s: %u queues, device has %u", req,
			      in->num_queues, dev->num_queues);
	if (!queue_size_ok(dev, in->queue_size))
		return refuse(dev, -EINVAL,
			      "%s: queue size %u is not %s in 1..%u", req,
			      in->queue_size, size_rule(dev),
			      dev->max_queue_size);
	return 0;
}

/* Installs a mapped inflight region: one slice per queue. */
static void use_inflight(struct vhu_backend *dev, void *base, size_t len,
			 uint16_t num_queues, uint16_t queue_size)
{
	unmap_inflight(dev);
	dev->inflight_base = base;
	dev->inflight_len = len;
	dev->inflight_queue_size = queue_size;
	dev->inflight_packed = ring_packed(dev);
	for (unsigned int i = 0; i < num_queues; i++)
		dev->vqs[i].inflight =
			(void *)((uint8_t *)base +
				 i * inflight_queue_size(dev, queue_size));
}

static int get_inflight_fd(struct vhu_backend *dev, struct vhu_msg *msg,
			   struct vhu_msg *reply)
{
	const struct vhu_inflight *in = &msg->payload.inflight;
	size_t qsize = inflight_queue_size(dev, in->queue_size);
	size_t len = qsize * in->num_queues;
	int err = check_inflight(dev, "GET_INFLIGHT_FD", in), fd;
	uint8_t *p;

	if (err)
		return err;
	fd = memfd_create("vhu-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return refuse(dev, -errno, "GET_INFLIGHT_FD: memfd: %s",
			      strerror(errno));
	if (ftruncate(fd, (off_t)len)) {
		err = refuse(dev, -errno, "GET_INFLIGHT_FD: ftruncate: %s",
			     strerror(errno));
		goto err_close;
	}
	/* The frontend keeps the fd across our restarts: it must not be
	 * able to shrink it under a future backend's mapping. */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = refuse(dev, -errno, "GET_INFLIGHT_FD: mmap: %s",
			     strerror(errno));
		goto err_close;
	}
	for (unsigned int i = 0; i < in->num_queues && !ring_packed(dev); i++) {
		struct vhu_inflight_split_header *h = (void *)(p + i * qsize);

		h->version = 1;
		h->desc_num = in->queue_size;
	}
	/* Packed: a ring at its start (slot 0, wrap counters 1). */
	for (unsigned int i = 0; i < in->num_queues && ring_packed(dev); i++) {
		struct vhu_inflight_packed_header *h = (void *)(p + i * qsize);

		h->version = 1;
		h->desc_num = in->queue_size;
		h->used_wrap_counter = h->old_used_wrap_counter = 1;
	}
	use_inflight(dev, p, len, in->num_queues, in->queue_size);
	reply->payload.inflight =
		(struct vhu_inflight){ .mmap_size = len,
				       .num_queues = in->num_queues,
				       .queue_size = in->queue_size };
	reply->hdr.size = sizeof(reply->payload.inflight);
	reply->fds[0] = fd; /* dispatch sends and closes it */
	reply->nfds = 1;
	return 0;
err_close:
	close(fd);
	return err;
}

static int set_inflight_fd(struct vhu_backend *dev, struct vhu_msg *msg,
			   struct vhu_msg *reply)
{
	const struct vhu_inflight *in = &msg->payload.inflight;
	uint64_t need = (uint64_t)inflight_queue_size(dev, in->queue_size) *
			in->num_queues;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int err = check_inflight(dev, "SET_INFLIGHT_FD", in), seals;
	struct stat st;
	void *p;

	if (err)
		return err;
	if (in->mmap_size < need || in->mmap_offset % page ||
	    in->mmap_offset > (uint64_t)INT64_MAX - in->mmap_size ||
	    fstat(msg->fds[0], &st) ||
	    (uint64_t)st.st_size < in->mmap_offset + in->mmap_size)
		return refuse(
			dev, -EINVAL,
			"SET_INFLIGHT_FD: region of 0x%llx bytes at 0x%llx is "
			"too small (need 0x%llx), unaligned or beyond its fd",
			(unsigned long long)in->mmap_size,
			(unsigned long long)in->mmap_offset,
			(unsigned long long)need);
	/* A region that can shrink under our mapping would kill us with
	 * SIGBUS: only sealed ones (as GET_INFLIGHT_FD makes them). */
	seals = fcntl(msg->fds[0], F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return refuse(dev, -EINVAL,
			      "SET_INFLIGHT_FD: the fd is not sealed against "
			      "shrinking (F_SEAL_SHRINK)");
	p = mmap(NULL, in->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 msg->fds[0], (off_t)in->mmap_offset);
	if (p == MAP_FAILED)
		return refuse(dev, -errno, "SET_INFLIGHT_FD: mmap: %s",
			      strerror(errno));
	use_inflight(dev, p, in->mmap_size, in->num_queues, in->queue_size);
	return 0;
}

static int set_device_state_fd(struct vhu_backend *dev, struct vhu_msg *msg,
			       struct vhu_msg *reply)
{
	const struct vhu_device_state *s = &msg->payload.device_state;
	int reply_fd = -1, fd = msg->fds[0], err;

	if (s->direction > VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD ||
	    s->phase != VHOST_USER_TRANSFER_STATE_PHASE_STOPPED)
		return refuse(dev, -EINVAL,
			      "SET_DEVICE_STATE_FD: direction %u phase %u",
			      s->direction, s->phase);
	msg->fds[0] = -1; /* the device's now, whatever it answers */
	err = dev->ops->set_device_state_fd(dev, s->direction, s->phase, fd,
					    &reply_fd);
	if (err) {
		close_fd(&reply_fd);
		refuse(dev, err, "SET_DEVICE_STATE_FD: device refused");
	}
	/* This request always replies; failure travels in bits 0-7. */
	reply_u64(
		reply,
		(err ? 1 : 0) |
			(reply_fd < 0 ? VHOST_USER_DEVICE_STATE_NOFD_MASK : 0));
	if (reply_fd >= 0) {
		reply->fds[0] = reply_fd;
		reply->nfds = 1;
	}
	return 0;
}

static int check_device_state(struct vhu_backend *dev, struct vhu_msg *msg,
			      struct vhu_msg *reply)
{
	int err = dev->ops->check_device_state(dev);

	if (err)
		refuse(dev, err, "CHECK_DEVICE_STATE: transfer failed");
	reply_u64(reply, err ? 1 : 0);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */

typedef int (*handler_fn)(struct vhu_backend *dev, struct vhu_msg *msg,
			  struct vhu_msg *reply);

/*
 * The one thing the backend side adds to the shared request table: who
 * handles a request. A row whose `accept` side is on needs an entry here
 * (tests/vhost/backend_test.c "every_row_handled" sends every code and
 * checks that exactly those rows get past "not supported").
 */
static const handler_fn handlers[VHOST_USER_MAX_REQUEST] = {
	[VHOST_USER_GET_FEATURES] = get_features,
	[VHOST_USER_SET_FEATURES] = set_features,
	[VHOST_USER_SET_OWNER] = set_owner,
	[VHOST_USER_RESET_OWNER] = reset_device,
	[VHOST_USER_SET_MEM_TABLE] = set_mem_table,
	[VHOST_USER_SET_VRING_NUM] = set_vring_num,
	[VHOST_USER_SET_VRING_ADDR] = set_vring_addr,
	[VHOST_USER_SET_VRING_BASE] = set_vring_base,
	[VHOST_USER_GET_VRING_BASE] = get_vring_base,
	[VHOST_USER_SET_VRING_KICK] = set_vring_kick,
	[VHOST_USER_SET_VRING_CALL] = set_vring_call_err,
	[VHOST_USER_SET_VRING_ERR] = set_vring_call_err,
	[VHOST_USER_GET_PROTOCOL_FEATURES] = get_protocol_features,
	[VHOST_USER_SET_PROTOCOL_FEATURES] = set_protocol_features,
	[VHOST_USER_GET_QUEUE_NUM] = get_queue_num,
	[VHOST_USER_SET_VRING_ENABLE] = set_vring_enable,
	[VHOST_USER_SET_BACKEND_REQ_FD] = set_backend_req_fd,
	[VHOST_USER_GET_CONFIG] = get_config,
	[VHOST_USER_SET_CONFIG] = set_config,
	[VHOST_USER_GET_INFLIGHT_FD] = get_inflight_fd,
	[VHOST_USER_SET_INFLIGHT_FD] = set_inflight_fd,
	[VHOST_USER_RESET_DEVICE] = reset_device,
	[VHOST_USER_GET_MAX_MEM_SLOTS] = get_max_mem_slots,
	[VHOST_USER_ADD_MEM_REG] = add_mem_reg,
	[VHOST_USER_REM_MEM_REG] = rem_mem_reg,
	[VHOST_USER_SET_STATUS] = set_status,
	[VHOST_USER_GET_STATUS] = get_status,
	[VHOST_USER_SET_DEVICE_STATE_FD] = set_device_state_fd,
	[VHOST_USER_CHECK_DEVICE_STATE] = check_device_state,
};

/* Checks @msg against its table row before any handler looks at it. */
static int check_msg(struct vhu_backend *dev, const struct vhu_msg *msg)
{
	uint32_t req = msg->hdr.request, size = msg->hdr.size;
	const struct vhu_request_info *r = taken(req);
	const char *name = req_name(req);

	if (!r || !handlers[req])
		return refuse(dev, -ENOTSUP, "request %u is not supported",
			      req);
	if ((msg->hdr.flags & ~VHOST_USER_NEED_REPLY_MASK) !=
	    VHOST_USER_VERSION)
		return refuse(
			dev, -EINVAL,
			"%s: flags 0x%x, expected version 1 without reply bit",
			name, msg->hdr.flags);
	if (r->size_min ? size < r->size : size != r->size)
		return refuse(dev, -EINVAL,
			      "%s: payload %u bytes, expected %s%u", name, size,
			      r->size_min ? "at least " : "", r->size);
	if (msg->nfds < r->accept.min_fds || msg->nfds > r->accept.max_fds)
		return refuse(dev, -EINVAL, "%s: %u fds, expected %u..%u", name,
			      msg->nfds, r->accept.min_fds, r->accept.max_fds);
	/* The table gives this side a protocol feature bit or nothing. */
	if (r->accept.needs >= 0 && !vhu_backend_has_protocol_feature(
					    dev, (unsigned int)r->accept.needs))
		return refuse(dev, -ENOTSUP,
			      "%s: protocol feature %u was not negotiated",
			      name, r->accept.needs);
	return 0;
}

/* Closes the fds no handler kept (those are set to -1). */
static void close_left_fds(struct vhu_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++)
		close_fd(&msg->fds[i]);
	msg->nfds = 0;
}

static int send_reply(struct vhu_backend *dev, struct vhu_msg *reply,
		      uint32_t request)
{
	int err;

	reply->hdr.request = request;
	reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	err = vhu_msg_send(dev->sock, reply);
	if (err)
		pr_err("%s: sending the reply failed: %s", req_name(request),
		       strerror(-err));
	return err;
}

/* Runs the request; returns its result. @replied says whether @reply
 * holds a reply to send: for requests with their own reply, and for a
 * config reply also on error (empty: the spec's "failed"). */
static int handle(struct vhu_backend *dev, struct vhu_msg *msg,
		  struct vhu_msg *reply, bool *replied)
{
	uint32_t req = msg->hdr.request;
	int err = check_msg(dev, msg);

	*replied = false;
	if (err)
		return err;
	err = handlers[req](dev, msg, reply);
	*replied = own_reply(req) &&
		   (!err || taken(req)->reply == VHU_REPLY_CONFIG);
	return err;
}

int vhu_backend_dispatch(struct vhu_backend *dev)
{
	struct vhu_msg msg, reply = { .nfds = 0 };
	bool replied, ack;
	int err, res;

	err = vhu_msg_recv(dev->sock, &msg, dev->timeout_ms);
	if (err)
		return err;
	res = handle(dev, &msg, &reply, &replied);
	close_left_fds(&msg);
	ack = !replied && vhu_msg_needs_reply(&msg.hdr) &&
	      vhu_backend_has_protocol_feature(
		      dev, VHOST_USER_PROTOCOL_F_REPLY_ACK) &&
	      !own_reply(msg.hdr.request);
	if (ack)
		reply_u64(&reply, (uint64_t)-res);
	if (replied || ack)
		err = send_reply(dev, &reply, msg.hdr.request);
	close_left_fds(&reply);
	dev->last_err = res;
	if (res)
		dev->nr_refused++;
	else
		pr_debug("%s: ok", req_name(msg.hdr.request));
	return err;
}

/* ------------------------------------------------------------------------ */
/* Helpers for devices                                                       */

int vhu_backend_vq_drain_kick(struct vhu_backend_vq *vq)
{
	uint64_t n;
	ssize_t r;

	if (vq->kick_fd < 0)
		return 0;
	r = read(vq->kick_fd, &n, sizeof(n));
	if (r < 0)
		return errno == EAGAIN ? 0 : -errno;
	return r == sizeof(n) ? (int)(n > INT32_MAX ? INT32_MAX : n) : -EIO;
}

int vhu_backend_vq_notify(struct vhu_backend_vq *vq)
{
	uint64_t one = 1;

	if (!vq->started || vq->call_fd < 0 ||
	    !vhu_vring_should_notify(&vq->vring))
		return 0;
	if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 1;
}

int vhu_backend_config_change(struct vhu_backend *dev)
{
	struct vhu_msg msg = {
		.hdr = { .request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
			 .flags = VHOST_USER_VERSION },
	};

	if (dev->backend_req_fd < 0 ||
	    !vhu_backend_has_protocol_feature(
		    dev, VHOST_USER_PROTOCOL_F_BACKEND_REQ))
		return -ENOTCONN;
	return vhu_msg_send(dev->backend_req_fd, &msg);
}

int vhu_backend_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* Only a stale socket is replaced, never a regular file. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		err = -errno;
		pr_err("listen on %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

int vhu_backend_accept(int listen_fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	int r, fd;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
