/* SPDX-License-Identifier: MIT */
/*
 * What each vhost-user request is, in one table that every part of vhost/
 * reads: the frontend (frontend.c) checks what it sends and what comes
 * back against it, the backend side's dispatcher (backend.c) checks what
 * it receives, the trace decoder (trace.c) takes names and payload layouts
 * from it, and the fault proxy (backends/fault_backend.c) learns from it
 * which requests are always answered.
 *
 * One row per request code (vhost/requests.c): the name, the payload
 * shape, the reply shape, whether the frontend sends it and the backend
 * side takes it (with the fds each side allows and what must have been
 * negotiated first), and how trace decodes the payload in each direction.
 * Adding a request is its row here, plus its function in frontend.c if
 * vuvm sends it, plus its handler in backend.c's handlers[] if the backend
 * side takes it.
 *
 * Pure data: reading the table links neither side, so the frontend alone
 * (vuvm, the frontend fuzz target) never pulls in the backend.
 */
#ifndef VUVM_VHOST_REQUESTS_H
#define VUVM_VHOST_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/protocol.h"

/* What the receiver sends back for a request. */
enum vhu_reply {
	VHU_REPLY_NONE,
	VHU_REPLY_ACK,	    /* a u64 ack, only when NEED_REPLY was set */
	VHU_REPLY_U64,	    /* from here on: always answered */
	VHU_REPLY_STATE,    /* struct vhu_vring_state */
	VHU_REPLY_CONFIG,   /* the config header + the bytes asked for;
			       a failure is answered too, empty */
	VHU_REPLY_INFLIGHT, /* struct vhu_inflight + exactly one fd */
	VHU_REPLY_LOG,	    /* u64 (libvhost-user) or empty (DPDK) */
	VHU_REPLY_STATE_FD, /* u64 + an fd unless bit 8 says none */
	VHU_REPLY_OPAQUE,   /* answered, in a shape no side here checks */
};

/* What must be negotiated before a request may be sent or taken: a
 * protocol feature bit (VHOST_USER_PROTOCOL_F_*) or one of these. */
#define VHU_NEEDS_NONE	  (-1)
#define VHU_NEEDS_OFFERED (-2) /* PROTOCOL_FEATURES (bit 30) offered */
#define VHU_NEEDS_ACKED	  (-3) /* bit 30 acked by SET_FEATURES */

/* How trace decodes a payload. */
enum vhu_layout {
	VHU_L_AUTO, /* a u64 if it is 8 bytes, else hex */
	VHU_L_HEX,
	VHU_L_U64,
	VHU_L_PROTOCOL,	    /* u64 with protocol feature names */
	VHU_L_VRING_FD,	    /* SET_VRING_KICK/CALL/ERR: index and no-fd bit */
	VHU_L_STATE,	    /* struct vhu_vring_state */
	VHU_L_ADDR,	    /* struct vhu_vring_addr */
	VHU_L_MEM,	    /* struct vhu_mem_table, nregions long */
	VHU_L_MEM_REG,	    /* struct vhu_single_mem_region */
	VHU_L_LOG,	    /* struct vhu_log */
	VHU_L_CONFIG,	    /* struct vhu_config, 12 + size bytes */
	VHU_L_INFLIGHT,	    /* struct vhu_inflight */
	VHU_L_DEVICE_STATE, /* struct vhu_device_state */
	VHU_L_AREA,	    /* struct vhu_vring_area */
};

/* One side's rules for a request. */
struct vhu_request_side {
	bool on; /* the frontend sends it / the backend side takes it */
	uint8_t min_fds, max_fds;
	int8_t needs; /* a protocol feature bit or VHU_NEEDS_* */
};

struct vhu_request_info {
	const char *name; /* "GET_FEATURES": the enum name without prefix */
	uint32_t size;	  /* payload bytes: exactly, or at least if size_min */
	bool size_min;
	uint8_t reply; /* enum vhu_reply */
	/*
	 * The two sides keep their own fd range and negotiation rule where
	 * they differ on purpose: the backend side is lenient with what real
	 * frontends send (REM_MEM_REG with the region's fd), always offers
	 * bit 30 (GET/SET_PROTOCOL_FEATURES) and checks "bit 30 acked" in
	 * its handler (SET_VRING_ENABLE refuses with -EINVAL after the ring
	 * index), so `accept.needs` is only ever a protocol feature bit or
	 * VHU_NEEDS_NONE.
	 */
	struct vhu_request_side send;	/* what frontend.c sends */
	struct vhu_request_side accept; /* what backend.c takes */
	uint8_t layout, reply_layout;	/* enum vhu_layout, for trace */
};

/* The row of a front-end → back-end request code; NULL if it has none. */
const struct vhu_request_info *vhu_request_info(uint32_t request);
/* The row of a backend-channel request code (names and trace layouts
 * only: nothing here validates that channel); NULL if it has none. */
const struct vhu_request_info *vhu_backend_request_info(uint32_t request);

/* "GET_FEATURES", ...; NULL for a code with no name. */
const char *vhu_request_name(uint32_t request);
/* Backend-channel names: "CONFIG_CHANGE_MSG", ...; NULL if none. */
const char *vhu_backend_request_name(uint32_t request);
/* "MQ", "REPLY_ACK", ...; NULL for an unknown bit. */
const char *vhu_protocol_feature_name(unsigned int bit);

/* Whether a reply of @kind comes whether or not NEED_REPLY was set. */
static inline bool vhu_reply_always(uint8_t kind)
{
	return kind >= VHU_REPLY_U64;
}

/* The fds a reply of @kind carries: at least *min, at most *max. */
void vhu_reply_fds(uint8_t kind, unsigned int *min, unsigned int *max);

/* The payload bytes of a fixed-size layout; 0 for the variable ones
 * (VHU_L_MEM, VHU_L_CONFIG), which trace checks by their own rules, and
 * for VHU_L_AUTO and VHU_L_HEX, which take any size. */
uint32_t vhu_layout_size(uint8_t layout);

#endif
