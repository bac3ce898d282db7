// SPDX-License-Identifier: MIT
/*
 * One-line renderings of vhost-user messages. The payload is decoded from
 * the request code, the reply bit and the channel; any size that does not
 * fit the expected layout falls back to a bounded hex dump, so a hostile
 * message renders as safely as a good one.
 */
#include "vhost/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* --- a bounded appender ------------------------------------------------ */

struct out {
	char *buf;
	size_t len, pos;
	bool packed; /* VIRTIO_F_RING_PACKED acked: packed ring layouts */
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos + 1 >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->pos += (size_t)n;
	if (o->pos >= o->len)
		o->pos = o->len - 1;
}

#define HEX_PREFIX 16

static void put_hex(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i < HEX_PREFIX; i++)
		put(o, "%s%02x", i ? " " : "", p[i]);
	if (n > HEX_PREFIX)
		put(o, " ...");
}

static void put_flags(struct out *o, uint32_t flags)
{
	uint32_t unknown = flags & ~VHOST_USER_FLAGS_KNOWN;

	put(o, "v%u", flags & VHOST_USER_VERSION_MASK);
	if (flags & VHOST_USER_REPLY_MASK)
		put(o, "|reply");
	if (flags & VHOST_USER_NEED_REPLY_MASK)
		put(o, "|need_reply");
	if (unknown)
		put(o, "|0x%x", unknown);
}

static void put_protocol_names(struct out *o, uint64_t v)
{
	const char *sep = " <";

	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *name = vhu_protocol_feature_name(bit);

		if (!(v >> bit & 1))
			continue;
		if (name)
			put(o, "%s%s", sep, name);
		else
			put(o, "%sbit%u", sep, bit);
		sep = "|";
	}
	if (v)
		put(o, ">");
}

/* --- payload layouts ----------------------------------------------------- */

/* The layout of @m's payload, from its row in the request table. */
static enum vhu_layout layout_of(const struct vhu_msg *m, bool backend_channel)
{
	uint32_t req = m->hdr.request;
	bool reply = vhu_msg_is_reply(&m->hdr);
	const struct vhu_request_info *r =
		backend_channel ? vhu_backend_request_info(req)
				: vhu_request_info(req);
	enum vhu_layout l;

	if (r)
		l = reply ? r->reply_layout : r->layout;
	else if (backend_channel)
		l = reply ? VHU_L_U64 : VHU_L_HEX;
	else
		l = VHU_L_AUTO;
	if (l == VHU_L_AUTO)
		l = m->hdr.size == sizeof(uint64_t) ? VHU_L_U64 : VHU_L_HEX;
	return l;
}

static void put_region(struct out *o, const struct vhu_mem_region *r)
{
	put(o, "[gpa=0x%llx size=0x%llx uaddr=0x%llx off=0x%llx]",
	    (unsigned long long)r->guest_phys_addr,
	    (unsigned long long)r->memory_size,
	    (unsigned long long)r->userspace_addr,
	    (unsigned long long)r->mmap_offset);
}

static bool put_mem(struct out *o, const struct vhu_msg *m)
{
	uint32_t n = m->payload.mem.nregions;
	uint32_t fits = m->hdr.size < 8 ? 0 : (m->hdr.size - 8) / 32;

	if (m->hdr.size < 8 || n > VHOST_USER_MEM_REGIONS_MAX ||
	    m->hdr.size != 8 + n * 32)
		return false;
	put(o, "nregions=%u", n);
	for (uint32_t i = 0; i < n && i < fits; i++) {
		put(o, " ");
		put_region(o, &m->payload.mem.regions[i]);
	}
	return true;
}

static bool put_config(struct out *o, const struct vhu_msg *m)
{
	const struct vhu_config *c = &m->payload.config;
	uint32_t data = m->hdr.size - VHU_CONFIG_HDR_SIZE;

	if (m->hdr.size < VHU_CONFIG_HDR_SIZE)
		return false;
	put(o, "offset=%u size=%u flags=0x%x", c->offset, c->size, c->flags);
	if (data) {
		put(o, " data=");
		put_hex(o, c->region, data);
	}
	return true;
}

static void put_addr(struct out *o, const struct vhu_vring_addr *a)
{
	if (o->packed) {
		put(o,
		    "index=%u flags=0x%x desc=0x%llx driver=0x%llx "
		    "device=0x%llx log=0x%llx",
		    a->index, a->flags, (unsigned long long)a->desc_user_addr,
		    (unsigned long long)a->avail_user_addr,
		    (unsigned long long)a->used_user_addr,
		    (unsigned long long)a->log_guest_addr);
		return;
	}
	put(o,
	    "index=%u flags=0x%x desc=0x%llx used=0x%llx avail=0x%llx "
	    "log=0x%llx",
	    a->index, a->flags, (unsigned long long)a->desc_user_addr,
	    (unsigned long long)a->used_user_addr,
	    (unsigned long long)a->avail_user_addr,
	    (unsigned long long)a->log_guest_addr);
}

/* The layouts that describe shared memory handed over with an fd. */
static void put_shm(struct out *o, const struct vhu_msg *m, enum vhu_layout l)
{
	const typeof(m->payload) *p = &m->payload;

	if (l == VHU_L_LOG)
		put(o, "mmap_size=0x%llx mmap_offset=0x%llx",
		    (unsigned long long)p->log.mmap_size,
		    (unsigned long long)p->log.mmap_offset);
	else if (l == VHU_L_INFLIGHT)
		put(o,
		    "mmap_size=0x%llx mmap_offset=0x%llx num_queues=%u "
		    "queue_size=%u",
		    (unsigned long long)p->inflight.mmap_size,
		    (unsigned long long)p->inflight.mmap_offset,
		    p->inflight.num_queues, p->inflight.queue_size);
	else if (l == VHU_L_DEVICE_STATE)
		put(o, "direction=%u phase=%u", p->device_state.direction,
		    p->device_state.phase);
}

static void put_fixed(struct out *o, const struct vhu_msg *m, enum vhu_layout l)
{
	const typeof(m->payload) *p = &m->payload;

	switch (l) {
	case VHU_L_U64:
		put(o, "u64=0x%llx", (unsigned long long)p->u64);
		break;
	case VHU_L_PROTOCOL:
		put(o, "u64=0x%llx", (unsigned long long)p->u64);
		put_protocol_names(o, p->u64);
		break;
	case VHU_L_VRING_FD:
		put(o, "index=%u%s", (unsigned int)(p->u64 & 0xff),
		    p->u64 & VHOST_USER_VRING_NOFD_MASK ? " nofd" : "");
		if (p->u64 & ~0x1ffull)
			put(o, " bits=0x%llx", (unsigned long long)p->u64);
		break;
	case VHU_L_STATE:
		put(o, "index=%u num=%u", p->state.index, p->state.num);
		if (o->packed && (m->hdr.request == VHOST_USER_SET_VRING_BASE ||
				  m->hdr.request == VHOST_USER_GET_VRING_BASE))
			put(o, " (avail=%u wrap=%u used=%u wrap=%u)",
			    p->state.num & 0x7fff, p->state.num >> 15 & 1,
			    p->state.num >> 16 & 0x7fff, p->state.num >> 31);
		break;
	case VHU_L_ADDR:
		put_addr(o, &p->addr);
		break;
	case VHU_L_MEM_REG:
		put_region(o, &p->mem_reg.region);
		break;
	default:
		put_shm(o, m, l);
		break;
	case VHU_L_AREA:
		put(o, "index=%u%s size=0x%llx offset=0x%llx",
		    (unsigned int)(p->area.u64 & 0xff),
		    p->area.u64 & VHOST_USER_VRING_NOFD_MASK ? " nofd" : "",
		    (unsigned long long)p->area.size,
		    (unsigned long long)p->area.offset);
		break;
	}
}

/* Renders the payload; false if its size does not fit the layout. */
static bool put_payload(struct out *o, const struct vhu_msg *m,
			enum vhu_layout l)
{
	if (l == VHU_L_MEM)
		return put_mem(o, m);
	if (l == VHU_L_CONFIG)
		return put_config(o, m);
	if (l == VHU_L_HEX || m->hdr.size != vhu_layout_size(l))
		return false;
	put_fixed(o, m, l);
	return true;
}

size_t vhu_trace_format(char *buf, size_t len, const struct vhu_msg *msg,
			bool backend_channel)
{
	return vhu_trace_format_ring(buf, len, msg, backend_channel, false);
}

size_t vhu_trace_format_ring(char *buf, size_t len, const struct vhu_msg *msg,
			     bool backend_channel, bool packed)
{
	struct out o = { buf, len, 0, packed };
	uint32_t req = msg->hdr.request, size = msg->hdr.size;
	const char *name = backend_channel ? vhu_backend_request_name(req)
					   : vhu_request_name(req);
	enum vhu_layout l = layout_of(msg, backend_channel);

	if (!len)
		return 0;
	buf[0] = '\0';
	if (name)
		put(&o, "%s flags=", name);
	else
		put(&o, "UNKNOWN(%u) flags=", req);
	put_flags(&o, msg->hdr.flags);
	put(&o, " size=%u", size);
	if (size > VHOST_USER_MAX_PAYLOAD) {
		put(&o, " {oversized}");
	} else if (size) {
		put(&o, " {");
		if (!put_payload(&o, msg, l)) {
			if (l != VHU_L_HEX)
				put(&o, "bad size %u: ", size);
			put_hex(&o, msg->payload.bytes, size);
		}
		put(&o, "}");
	}
	put(&o, " fds=%u", msg->nfds);
	return o.pos;
}
