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

#define R(name) [VHOST_USER_##name] = #name
static const char *const request_names[VHOST_USER_MAX_REQUEST] = {
	R(NONE),
	R(GET_FEATURES),
	R(SET_FEATURES),
	R(SET_OWNER),
	R(RESET_OWNER),
	R(SET_MEM_TABLE),
	R(SET_LOG_BASE),
	R(SET_LOG_FD),
	R(SET_VRING_NUM),
	R(SET_VRING_ADDR),
	R(SET_VRING_BASE),
	R(GET_VRING_BASE),
	R(SET_VRING_KICK),
	R(SET_VRING_CALL),
	R(SET_VRING_ERR),
	R(GET_PROTOCOL_FEATURES),
	R(SET_PROTOCOL_FEATURES),
	R(GET_QUEUE_NUM),
	R(SET_VRING_ENABLE),
	R(SEND_RARP),
	R(NET_SET_MTU),
	R(SET_BACKEND_REQ_FD),
	R(IOTLB_MSG),
	R(SET_VRING_ENDIAN),
	R(GET_CONFIG),
	R(SET_CONFIG),
	R(CREATE_CRYPTO_SESSION),
	R(CLOSE_CRYPTO_SESSION),
	R(POSTCOPY_ADVISE),
	R(POSTCOPY_LISTEN),
	R(POSTCOPY_END),
	R(GET_INFLIGHT_FD),
	R(SET_INFLIGHT_FD),
	R(GPU_SET_SOCKET),
	R(RESET_DEVICE),
	R(VRING_KICK),
	R(GET_MAX_MEM_SLOTS),
	R(ADD_MEM_REG),
	R(REM_MEM_REG),
	R(SET_STATUS),
	R(GET_STATUS),
	R(GET_SHARED_OBJECT),
	R(SET_DEVICE_STATE_FD),
	R(CHECK_DEVICE_STATE),
	R(GET_SHMEM_CONFIG),
};
#undef R

#define R(name) [VHOST_USER_BACKEND_##name] = #name
static const char *const backend_names[VHOST_USER_BACKEND_MAX_REQUEST] = {
	R(NONE),
	R(IOTLB_MSG),
	R(CONFIG_CHANGE_MSG),
	R(VRING_HOST_NOTIFIER_MSG),
	R(VRING_CALL),
	R(VRING_ERR),
	R(SHARED_OBJECT_ADD),
	R(SHARED_OBJECT_REMOVE),
	R(SHARED_OBJECT_LOOKUP),
	R(SHMEM_MAP),
	R(SHMEM_UNMAP),
};
#undef R

#define R(name) [VHOST_USER_PROTOCOL_F_##name] = #name
static const char *const protocol_names[VHOST_USER_PROTOCOL_F_MAX] = {
	R(MQ),
	R(LOG_SHMFD),
	R(RARP),
	R(REPLY_ACK),
	R(NET_MTU),
	R(BACKEND_REQ),
	R(CROSS_ENDIAN),
	R(CRYPTO_SESSION),
	R(PAGEFAULT),
	R(CONFIG),
	R(BACKEND_SEND_FD),
	R(HOST_NOTIFIER),
	R(INFLIGHT_SHMFD),
	R(RESET_DEVICE),
	R(INBAND_NOTIFICATIONS),
	R(CONFIGURE_MEM_SLOTS),
	R(STATUS),
	R(XEN_MMAP),
	R(SHARED_OBJECT),
	R(DEVICE_STATE),
	R(GET_VRING_BASE_INFLIGHT),
	R(GPA_ADDRESSES),
	R(SHMEM),
};
#undef R

const char *vhu_request_name(uint32_t request)
{
	return request < VHOST_USER_MAX_REQUEST ? request_names[request] : NULL;
}

const char *vhu_backend_request_name(uint32_t request)
{
	return request < VHOST_USER_BACKEND_MAX_REQUEST ? backend_names[request]
							: NULL;
}

const char *vhu_protocol_feature_name(unsigned int bit)
{
	return bit < VHOST_USER_PROTOCOL_F_MAX ? protocol_names[bit] : NULL;
}

/* --- a bounded appender ------------------------------------------------ */

struct out {
	char *buf;
	size_t len, pos;
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

enum layout {
	L_HEX,
	L_U64,
	L_PROTOCOL,
	L_VRING_FD,
	L_STATE,
	L_ADDR,
	L_MEM,
	L_MEM_REG,
	L_LOG,
	L_CONFIG,
	L_INFLIGHT,
	L_DEVICE_STATE,
	L_AREA,
};

static enum layout frontend_layout(uint32_t req, bool reply, uint32_t size)
{
	switch (req) {
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		return L_PROTOCOL;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return reply ? L_U64 : L_VRING_FD;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return reply && req != VHOST_USER_GET_VRING_BASE ? L_U64
								 : L_STATE;
	case VHOST_USER_SET_VRING_ADDR:
		return reply ? L_U64 : L_ADDR;
	case VHOST_USER_SET_MEM_TABLE:
		return reply ? L_U64 : L_MEM;
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		return reply ? L_U64 : L_MEM_REG;
	case VHOST_USER_SET_LOG_BASE:
		return reply ? L_U64 : L_LOG;
	case VHOST_USER_GET_CONFIG:
		return L_CONFIG;
	case VHOST_USER_SET_CONFIG:
		return reply ? L_U64 : L_CONFIG;
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_SET_INFLIGHT_FD:
		return reply && req == VHOST_USER_SET_INFLIGHT_FD ? L_U64
								  : L_INFLIGHT;
	case VHOST_USER_SET_DEVICE_STATE_FD:
		return reply ? L_U64 : L_DEVICE_STATE;
	}
	return size == sizeof(uint64_t) ? L_U64 : L_HEX;
}

static enum layout backend_layout(uint32_t req, bool reply, uint32_t size)
{
	if (reply)
		return L_U64;
	switch (req) {
	case VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG:
		return L_AREA;
	case VHOST_USER_BACKEND_VRING_CALL:
	case VHOST_USER_BACKEND_VRING_ERR:
		return L_STATE;
	}
	return L_HEX;
}

/* Fixed sizes; 0 for the variable layouts, which check their own. */
static const uint32_t layout_size[] = {
	[L_U64] = 8,
	[L_PROTOCOL] = 8,
	[L_VRING_FD] = 8,
	[L_STATE] = sizeof(struct vhu_vring_state),
	[L_ADDR] = sizeof(struct vhu_vring_addr),
	[L_MEM_REG] = sizeof(struct vhu_single_mem_region),
	[L_LOG] = sizeof(struct vhu_log),
	[L_INFLIGHT] = sizeof(struct vhu_inflight),
	[L_DEVICE_STATE] = sizeof(struct vhu_device_state),
	[L_AREA] = sizeof(struct vhu_vring_area),
};

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
	put(o,
	    "index=%u flags=0x%x desc=0x%llx used=0x%llx avail=0x%llx "
	    "log=0x%llx",
	    a->index, a->flags, (unsigned long long)a->desc_user_addr,
	    (unsigned long long)a->used_user_addr,
	    (unsigned long long)a->avail_user_addr,
	    (unsigned long long)a->log_guest_addr);
}

/* The layouts that describe shared memory handed over with an fd. */
static void put_shm(struct out *o, const struct vhu_msg *m, enum layout l)
{
	const typeof(m->payload) *p = &m->payload;

	if (l == L_LOG)
		put(o, "mmap_size=0x%llx mmap_offset=0x%llx",
		    (unsigned long long)p->log.mmap_size,
		    (unsigned long long)p->log.mmap_offset);
	else if (l == L_INFLIGHT)
		put(o,
		    "mmap_size=0x%llx mmap_offset=0x%llx num_queues=%u "
		    "queue_size=%u",
		    (unsigned long long)p->inflight.mmap_size,
		    (unsigned long long)p->inflight.mmap_offset,
		    p->inflight.num_queues, p->inflight.queue_size);
	else if (l == L_DEVICE_STATE)
		put(o, "direction=%u phase=%u", p->device_state.direction,
		    p->device_state.phase);
}

static void put_fixed(struct out *o, const struct vhu_msg *m, enum layout l)
{
	const typeof(m->payload) *p = &m->payload;

	switch (l) {
	case L_U64:
		put(o, "u64=0x%llx", (unsigned long long)p->u64);
		break;
	case L_PROTOCOL:
		put(o, "u64=0x%llx", (unsigned long long)p->u64);
		put_protocol_names(o, p->u64);
		break;
	case L_VRING_FD:
		put(o, "index=%u%s", (unsigned int)(p->u64 & 0xff),
		    p->u64 & VHOST_USER_VRING_NOFD_MASK ? " nofd" : "");
		if (p->u64 & ~0x1ffull)
			put(o, " bits=0x%llx", (unsigned long long)p->u64);
		break;
	case L_STATE:
		put(o, "index=%u num=%u", p->state.index, p->state.num);
		break;
	case L_ADDR:
		put_addr(o, &p->addr);
		break;
	case L_MEM_REG:
		put_region(o, &p->mem_reg.region);
		break;
	default:
		put_shm(o, m, l);
		break;
	case L_AREA:
		put(o, "index=%u%s size=0x%llx offset=0x%llx",
		    (unsigned int)(p->area.u64 & 0xff),
		    p->area.u64 & VHOST_USER_VRING_NOFD_MASK ? " nofd" : "",
		    (unsigned long long)p->area.size,
		    (unsigned long long)p->area.offset);
		break;
	}
}

/* Renders the payload; false if its size does not fit the layout. */
static bool put_payload(struct out *o, const struct vhu_msg *m, enum layout l)
{
	if (l == L_MEM)
		return put_mem(o, m);
	if (l == L_CONFIG)
		return put_config(o, m);
	if (l == L_HEX || m->hdr.size != layout_size[l])
		return false;
	put_fixed(o, m, l);
	return true;
}

size_t vhu_trace_format(char *buf, size_t len, const struct vhu_msg *msg,
			bool backend_channel)
{
	struct out o = { buf, len, 0 };
	uint32_t req = msg->hdr.request, size = msg->hdr.size;
	bool reply = vhu_msg_is_reply(&msg->hdr);
	const char *name = backend_channel ? vhu_backend_request_name(req)
					   : vhu_request_name(req);
	enum layout l = backend_channel ? backend_layout(req, reply, size)
					: frontend_layout(req, reply, size);

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
			if (l != L_HEX)
				put(&o, "bad size %u: ", size);
			put_hex(&o, msg->payload.bytes, size);
		}
		put(&o, "}");
	}
	put(&o, " fds=%u", msg->nfds);
	return o.pos;
}
