// SPDX-License-Identifier: MIT
/*
 * The request table. A row reads: the request, its payload, the reply,
 * what the frontend sends and what the backend side takes (fds allowed and
 * what must be negotiated), then trace's layouts for the request and the
 * reply. Codes no side here implements still get a row for their name.
 */
#include "vhost/requests.h"

#include <stddef.h>

#define P(feat)	    VHOST_USER_PROTOCOL_F_##feat
#define NO_NEED	    VHU_NEEDS_NONE
#define OFFERED	    VHU_NEEDS_OFFERED
#define ACKED	    VHU_NEEDS_ACKED
#define SIZE(n)	    (n), false
#define AT_LEAST(n) (n), true

/* One side's rule: the fds it allows and what it needs negotiated. */
#define FDS(min, max, needs)                \
	{                                   \
		true, (min), (max), (needs) \
	}
#define NOT_HANDLED                         \
	{                                   \
		false, 0, 0, VHU_NEEDS_NONE \
	}
/* The send and accept rules, in that order. */
#define BOTH(min, max, needs)	   FDS(min, max, needs), FDS(min, max, needs)
#define SENT_ONLY(min, max, needs) FDS(min, max, needs), NOT_HANDLED
#define EACH(send, accept)	   send, accept

#define REQ(req, payload, reply, sides, layout, reply_layout)            \
	[VHOST_USER_##req] = { #req,  payload,	      VHU_REPLY_##reply, \
			       sides, VHU_L_##layout, VHU_L_##reply_layout }
/* A code only named: any size, no side handles it. */
#define NAMED(req) [VHOST_USER_##req] = { .name = #req, .size_min = true }
/* The same, for a request every backend answers (the fault proxy pairs
 * its reply with it). */
#define ANSWERED(req)                            \
	[VHOST_USER_##req] = { .name = #req,     \
			       .size_min = true, \
			       .reply = VHU_REPLY_OPAQUE }

static const struct vhu_request_info requests[VHOST_USER_MAX_REQUEST] = {
	NAMED(NONE),
	REQ(GET_FEATURES, SIZE(0), U64, BOTH(0, 0, NO_NEED), AUTO, AUTO),
	REQ(SET_FEATURES, SIZE(8), NONE, BOTH(0, 0, NO_NEED), AUTO, AUTO),
	REQ(SET_OWNER, SIZE(0), NONE, BOTH(0, 0, NO_NEED), AUTO, AUTO),
	REQ(RESET_OWNER, SIZE(0), NONE, BOTH(0, 0, NO_NEED), AUTO, AUTO),
	/* One fd per region, 8 regions at most. */
	REQ(SET_MEM_TABLE, AT_LEAST(8), ACK,
	    BOTH(1, VHOST_USER_MEM_REGIONS_MAX, NO_NEED), MEM, U64),
	REQ(SET_LOG_BASE, SIZE(sizeof(struct vhu_log)), LOG,
	    SENT_ONLY(1, 1, P(LOG_SHMFD)), LOG, U64),
	REQ(SET_LOG_FD, SIZE(0), NONE, SENT_ONLY(1, 1, NO_NEED), AUTO, AUTO),
	REQ(SET_VRING_NUM, SIZE(sizeof(struct vhu_vring_state)), NONE,
	    BOTH(0, 0, NO_NEED), STATE, U64),
	REQ(SET_VRING_ADDR, SIZE(sizeof(struct vhu_vring_addr)), NONE,
	    BOTH(0, 0, NO_NEED), ADDR, U64),
	REQ(SET_VRING_BASE, SIZE(sizeof(struct vhu_vring_state)), NONE,
	    BOTH(0, 0, NO_NEED), STATE, U64),
	REQ(GET_VRING_BASE, SIZE(sizeof(struct vhu_vring_state)), STATE,
	    BOTH(0, 0, NO_NEED), STATE, STATE),
	/* The fd goes with the no-fd bit clear; the receiver checks that. */
	REQ(SET_VRING_KICK, SIZE(8), ACK, BOTH(0, 1, NO_NEED), VRING_FD, U64),
	REQ(SET_VRING_CALL, SIZE(8), ACK, BOTH(0, 1, NO_NEED), VRING_FD, U64),
	REQ(SET_VRING_ERR, SIZE(8), ACK, BOTH(0, 1, NO_NEED), VRING_FD, U64),
	/* The backend side always offers bit 30, so it does not check. */
	REQ(GET_PROTOCOL_FEATURES, SIZE(0), U64,
	    EACH(FDS(0, 0, OFFERED), FDS(0, 0, NO_NEED)), PROTOCOL, PROTOCOL),
	REQ(SET_PROTOCOL_FEATURES, SIZE(8), NONE,
	    EACH(FDS(0, 0, OFFERED), FDS(0, 0, NO_NEED)), PROTOCOL, PROTOCOL),
	REQ(GET_QUEUE_NUM, SIZE(0), U64, BOTH(0, 0, P(MQ)), AUTO, AUTO),
	/* The backend side's handler refuses it without bit 30 acked. */
	REQ(SET_VRING_ENABLE, SIZE(sizeof(struct vhu_vring_state)), ACK,
	    EACH(FDS(0, 0, ACKED), FDS(0, 0, NO_NEED)), STATE, U64),
	NAMED(SEND_RARP),
	NAMED(NET_SET_MTU),
	REQ(SET_BACKEND_REQ_FD, SIZE(0), ACK, BOTH(1, 1, P(BACKEND_REQ)), AUTO,
	    AUTO),
	NAMED(IOTLB_MSG),
	NAMED(SET_VRING_ENDIAN),
	/* The config header, then its `size` bytes. */
	REQ(GET_CONFIG, AT_LEAST(VHU_CONFIG_HDR_SIZE), CONFIG,
	    BOTH(0, 0, P(CONFIG)), CONFIG, CONFIG),
	REQ(SET_CONFIG, AT_LEAST(VHU_CONFIG_HDR_SIZE), ACK,
	    BOTH(0, 0, P(CONFIG)), CONFIG, U64),
	NAMED(CREATE_CRYPTO_SESSION),
	NAMED(CLOSE_CRYPTO_SESSION),
	NAMED(POSTCOPY_ADVISE),
	NAMED(POSTCOPY_LISTEN),
	NAMED(POSTCOPY_END),
	REQ(GET_INFLIGHT_FD, SIZE(sizeof(struct vhu_inflight)), INFLIGHT,
	    BOTH(0, 0, P(INFLIGHT_SHMFD)), INFLIGHT, INFLIGHT),
	REQ(SET_INFLIGHT_FD, SIZE(sizeof(struct vhu_inflight)), NONE,
	    BOTH(1, 1, P(INFLIGHT_SHMFD)), INFLIGHT, U64),
	NAMED(GPU_SET_SOCKET),
	REQ(RESET_DEVICE, SIZE(0), NONE, BOTH(0, 0, P(RESET_DEVICE)), AUTO,
	    AUTO),
	NAMED(VRING_KICK),
	REQ(GET_MAX_MEM_SLOTS, SIZE(0), U64, BOTH(0, 0, P(CONFIGURE_MEM_SLOTS)),
	    AUTO, AUTO),
	REQ(ADD_MEM_REG, SIZE(sizeof(struct vhu_single_mem_region)), ACK,
	    BOTH(1, 1, P(CONFIGURE_MEM_SLOTS)), MEM_REG, U64),
	/* Some QEMU versions sent the region's fd with REM_MEM_REG too: the
	 * backend side takes it, the frontend never sends one. */
	REQ(REM_MEM_REG, SIZE(sizeof(struct vhu_single_mem_region)), ACK,
	    EACH(FDS(0, 0, P(CONFIGURE_MEM_SLOTS)),
		 FDS(0, 1, P(CONFIGURE_MEM_SLOTS))),
	    MEM_REG, U64),
	REQ(SET_STATUS, SIZE(8), ACK, BOTH(0, 0, P(STATUS)), AUTO, AUTO),
	REQ(GET_STATUS, SIZE(0), U64, BOTH(0, 0, P(STATUS)), AUTO, AUTO),
	ANSWERED(GET_SHARED_OBJECT),
	REQ(SET_DEVICE_STATE_FD, SIZE(sizeof(struct vhu_device_state)),
	    STATE_FD, BOTH(1, 1, P(DEVICE_STATE)), DEVICE_STATE, U64),
	REQ(CHECK_DEVICE_STATE, SIZE(0), U64, BOTH(0, 0, P(DEVICE_STATE)), AUTO,
	    AUTO),
	ANSWERED(GET_SHMEM_CONFIG),
};

/* The backend channel: every reply is a u64 ack. */
#define CHAN(req, lay)                                         \
	[VHOST_USER_BACKEND_##req] = { .name = #req,           \
				       .size_min = true,       \
				       .reply = VHU_REPLY_ACK, \
				       .layout = VHU_L_##lay,  \
				       .reply_layout = VHU_L_U64 }

static const struct vhu_request_info backend_requests[] = {
	CHAN(NONE, HEX),
	CHAN(IOTLB_MSG, HEX),
	CHAN(CONFIG_CHANGE_MSG, HEX),
	CHAN(VRING_HOST_NOTIFIER_MSG, AREA),
	CHAN(VRING_CALL, STATE),
	CHAN(VRING_ERR, STATE),
	CHAN(SHARED_OBJECT_ADD, HEX),
	CHAN(SHARED_OBJECT_REMOVE, HEX),
	CHAN(SHARED_OBJECT_LOOKUP, HEX),
	CHAN(SHMEM_MAP, HEX),
	CHAN(SHMEM_UNMAP, HEX),
};
_Static_assert(sizeof(backend_requests) / sizeof(backend_requests[0]) ==
		       VHOST_USER_BACKEND_MAX_REQUEST,
	       "one row per backend-channel request");

#define F(name) [VHOST_USER_PROTOCOL_F_##name] = #name
static const char *const protocol_names[VHOST_USER_PROTOCOL_F_MAX] = {
	F(MQ),
	F(LOG_SHMFD),
	F(RARP),
	F(REPLY_ACK),
	F(NET_MTU),
	F(BACKEND_REQ),
	F(CROSS_ENDIAN),
	F(CRYPTO_SESSION),
	F(PAGEFAULT),
	F(CONFIG),
	F(BACKEND_SEND_FD),
	F(HOST_NOTIFIER),
	F(INFLIGHT_SHMFD),
	F(RESET_DEVICE),
	F(INBAND_NOTIFICATIONS),
	F(CONFIGURE_MEM_SLOTS),
	F(STATUS),
	F(XEN_MMAP),
	F(SHARED_OBJECT),
	F(DEVICE_STATE),
	F(GET_VRING_BASE_INFLIGHT),
	F(GPA_ADDRESSES),
	F(SHMEM),
};

const struct vhu_request_info *vhu_request_info(uint32_t request)
{
	if (request >= VHOST_USER_MAX_REQUEST || !requests[request].name)
		return NULL;
	return &requests[request];
}

const struct vhu_request_info *vhu_backend_request_info(uint32_t request)
{
	if (request >= VHOST_USER_BACKEND_MAX_REQUEST)
		return NULL;
	return &backend_requests[request];
}

const char *vhu_request_name(uint32_t request)
{
	const struct vhu_request_info *r = vhu_request_info(request);

	return r ? r->name : NULL;
}

const char *vhu_backend_request_name(uint32_t request)
{
	const struct vhu_request_info *r = vhu_backend_request_info(request);

	return r ? r->name : NULL;
}

const char *vhu_protocol_feature_name(unsigned int bit)
{
	return bit < VHOST_USER_PROTOCOL_F_MAX ? protocol_names[bit] : NULL;
}

void vhu_reply_fds(uint8_t kind, unsigned int *min, unsigned int *max)
{
	*min = kind == VHU_REPLY_INFLIGHT ? 1 : 0;
	*max = kind == VHU_REPLY_INFLIGHT || kind == VHU_REPLY_STATE_FD ? 1 : 0;
}

uint32_t vhu_layout_size(uint8_t layout)
{
	static const uint32_t size[] = {
		[VHU_L_U64] = sizeof(uint64_t),
		[VHU_L_PROTOCOL] = sizeof(uint64_t),
		[VHU_L_VRING_FD] = sizeof(uint64_t),
		[VHU_L_STATE] = sizeof(struct vhu_vring_state),
		[VHU_L_ADDR] = sizeof(struct vhu_vring_addr),
		[VHU_L_MEM_REG] = sizeof(struct vhu_single_mem_region),
		[VHU_L_LOG] = sizeof(struct vhu_log),
		[VHU_L_INFLIGHT] = sizeof(struct vhu_inflight),
		[VHU_L_DEVICE_STATE] = sizeof(struct vhu_device_state),
		[VHU_L_AREA] = sizeof(struct vhu_vring_area),
	};

	return layout < sizeof(size) / sizeof(size[0]) ? size[layout] : 0;
}
