/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user frontend: the client side that vuvm uses to drive an
 * external backend (qemu-storage-daemon, DPDK, vuvm's reference backends)
 * over a unix socket. One function per front-end request; each one
 *
 *  - checks its own arguments and the negotiated features first, and sends
 *    nothing when they are wrong (-EINVAL, or -ENOTSUP when the request
 *    depends on a protocol feature that was not negotiated);
 *  - sets NEED_REPLY where REPLY_ACK is negotiated and QEMU does too, and
 *    then requires a u64 ack of 0;
 *  - validates every reply completely (header flags exactly version|reply,
 *    same request code, exact payload size, fds only where the request
 *    brings one back, a sane body) within a bounded wait.
 *
 * Return values: 0 on success or a negative errno:
 *   -EINVAL      bad argument, nothing sent;
 *   -ENOTSUP     the request needs a feature that was not negotiated;
 *   -EPROTO      the backend's reply is malformed, or the peer hung up
 *                in the middle of a message;
 *   -ECONNRESET  the peer closed the connection before replying;
 *   -ETIMEDOUT   no (complete) reply within the timeout;
 *   -EIO         the backend answered with a failure (ack != 0, GET_CONFIG
 *                of size 0, ...);
 *   -EPIPE       the connection is unusable: sending failed, or an earlier
 *                reply was malformed or missing so the stream can no longer
 *                be trusted to be in step;
 *   other        errors from the socket.
 * Every failure also leaves one sentence naming the request and the
 * problem, e.g. "GET_CONFIG: reply size 8, expected 12+16", readable with
 * vhu_frontend_error(). No function exits, asserts or leaks an fd, whatever
 * the backend sends. fds passed in are only borrowed; fds returned
 * (GET_INFLIGHT_FD, SET_DEVICE_STATE_FD) belong to the caller.
 *
 * A struct vhu_frontend is not thread-safe: one thread talks on it at a time.
 */
#ifndef VUVM_VHOST_FRONTEND_H
#define VUVM_VHOST_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/protocol.h"

#define VHU_DEFAULT_TIMEOUT_MS 5000
/* Sanity bounds for values a backend reports. The queue index travels in
 * 8 bits (SET_VRING_KICK/CALL/ERR), so more than 256 queues cannot work. */
#define VHU_MAX_QUEUES	   256
#define VHU_MAX_MEM_SLOTS  4096
#define VHU_MAX_VRING_SIZE 32768
/* VIRTIO_F_RING_PACKED: SET/GET_VRING_BASE then carry 32-bit packed state. */
#define VHU_F_RING_PACKED 34

#define VHU_ERROR_LEN 256

/* Called with one decoded line per message when tracing is on. */
typedef void (*vhu_trace_fn)(void *opaque, const char *line);

struct vhu_frontend {
	int sock;
	int timeout_ms;
	/* Set once the reply stream can no longer be trusted to be in step. */
	bool broken;
	bool have_features;
	bool have_protocol_features;
	uint64_t features;	    /* offered by the backend (GET_FEATURES) */
	uint64_t acked_features;    /* last SET_FEATURES */
	uint64_t protocol_features; /* offered (GET_PROTOCOL_FEATURES) */
	uint64_t acked_protocol_features; /* last SET_PROTOCOL_FEATURES */
	uint32_t queue_num;		  /* GET_QUEUE_NUM, 0 = not asked */
	uint32_t max_mem_slots;		  /* GET_MAX_MEM_SLOTS, 0 = not asked */
	vhu_trace_fn trace;
	void *trace_opaque;
	char error[VHU_ERROR_LEN];
};

/* One guest memory region for SET_MEM_TABLE / ADD_MEM_REG / REM_MEM_REG:
 * @fd is the shared mapping (memfd, hugetlbfs) and @mmap_offset the
 * region's offset in it. */
struct vhu_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
	int fd;
};

/* --- connection ------------------------------------------------------- */

/*
 * Connects to the backend listening on the unix socket @path. A backend that
 * is still starting (ENOENT, ECONNREFUSED, EAGAIN) is retried with a
 * back-off from 10 ms doubling to 200 ms until @timeout_ms has passed
 * (0: one attempt). Returns 0 with @fe ready (reply timeout
 * VHU_DEFAULT_TIMEOUT_MS, no trace), -ENAMETOOLONG, -ETIMEDOUT when the
 * backend never became ready (the last error is in the sentence), or another
 * connect() errno.
 */
int vhu_connect(struct vhu_frontend *fe, const char *path, int timeout_ms);

/*
 * Takes over @sock, an already connected unix stream socket (e.g. a
 * socketpair end or an inherited fd). Returns 0, or -ENOTSOCK / -EBADF
 * without taking ownership.
 */
int vhu_frontend_from_fd(struct vhu_frontend *fe, int sock);

/* Closes the socket; @fe may be closed twice. */
void vhu_frontend_close(struct vhu_frontend *fe);

/* Bounds every wait for a reply (and every send); -1 waits forever. */
void vhu_frontend_set_timeout(struct vhu_frontend *fe, int timeout_ms);

/* Traces every message sent and received through @fn; NULL turns it off.
 * vhu_trace_log is a ready @fn that prints with pr_info. */
void vhu_frontend_set_trace(struct vhu_frontend *fe, vhu_trace_fn fn,
			    void *opaque);
void vhu_trace_log(void *opaque, const char *line);

/* The sentence describing the last failure ("" when none). */
const char *vhu_frontend_error(const struct vhu_frontend *fe);

/* Whether protocol feature @bit was acked by SET_PROTOCOL_FEATURES. */
bool vhu_has_protocol_feature(const struct vhu_frontend *fe, unsigned int bit);

/* --- session and features ---------------------------------------------- */

/* GET_FEATURES: the backend's virtio features, cached in fe->features. */
int vhu_get_features(struct vhu_frontend *fe, uint64_t *features);

/* SET_FEATURES: needs GET_FEATURES first; -EINVAL if @features holds a bit
 * the backend did not offer. Cached in fe->acked_features. */
int vhu_set_features(struct vhu_frontend *fe, uint64_t features);

/* SET_OWNER, RESET_OWNER (deprecated; RESET_DEVICE replaces it). */
int vhu_set_owner(struct vhu_frontend *fe);
int vhu_reset_owner(struct vhu_frontend *fe);

/* GET_PROTOCOL_FEATURES: needs bit 30 offered by GET_FEATURES. Unknown
 * bits are kept (a newer backend) but can never be acked. */
int vhu_get_protocol_features(struct vhu_frontend *fe, uint64_t *features);

/* SET_PROTOCOL_FEATURES: needs GET_PROTOCOL_FEATURES first; -EINVAL for a
 * bit not offered, unknown to us, or missing what it depends on
 * (BACKEND_SEND_FD and HOST_NOTIFIER need BACKEND_REQ). */
int vhu_set_protocol_features(struct vhu_frontend *fe, uint64_t features);

/* GET_QUEUE_NUM (MQ): 1..VHU_MAX_QUEUES, cached in fe->queue_num. */
int vhu_get_queue_num(struct vhu_frontend *fe, uint64_t *num);

/* GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS): 1..VHU_MAX_MEM_SLOTS. */
int vhu_get_max_mem_slots(struct vhu_frontend *fe, uint64_t *slots);

/* RESET_DEVICE (RESET_DEVICE). */
int vhu_reset_device(struct vhu_frontend *fe);

/* SET_STATUS (STATUS, acked), GET_STATUS (STATUS; reply must fit a u8). */
int vhu_set_status(struct vhu_frontend *fe, uint8_t status);
int vhu_get_status(struct vhu_frontend *fe, uint8_t *status);

/* --- memory -------------------------------------------------------------- */

/* SET_MEM_TABLE (acked): 1..8 regions, each with a size, an fd, no address
 * wrap-around, and no two overlapping in guest-physical or user space. */
int vhu_set_mem_table(struct vhu_frontend *fe, const struct vhu_region *regions,
		      unsigned int n);

/* ADD_MEM_REG (one fd) / REM_MEM_REG (no fd), CONFIGURE_MEM_SLOTS, acked. */
int vhu_add_mem_reg(struct vhu_frontend *fe, const struct vhu_region *region);
int vhu_rem_mem_reg(struct vhu_frontend *fe, const struct vhu_region *region);

/* SET_LOG_BASE (LOG_SHMFD): the dirty log is @fd at @mmap_offset, of
 * @mmap_size bytes. The backend replies (u64 or, as DPDK does, empty). */
int vhu_set_log_base(struct vhu_frontend *fe, uint64_t mmap_size,
		     uint64_t mmap_offset, int fd);

/* SET_LOG_FD: an eventfd the backend signals after logging. */
int vhu_set_log_fd(struct vhu_frontend *fe, int fd);

/* --- rings (@index < 256, and < GET_QUEUE_NUM once known) ---------------- */

/* SET_VRING_NUM: 1..VHU_MAX_VRING_SIZE descriptors. */
int vhu_set_vring_num(struct vhu_frontend *fe, unsigned int index,
		      unsigned int num);

/* SET_VRING_ADDR: frontend user addresses; desc 16-, avail 2-, used
 * 4-aligned; flags 0 or 1 << VHOST_VRING_F_LOG (then VHOST_F_LOG_ALL must
 * be acked). */
int vhu_set_vring_addr(struct vhu_frontend *fe,
		       const struct vhu_vring_addr *addr);

/* SET_VRING_BASE: @base <= 0xffff unless VIRTIO_F_RING_PACKED is acked
 * (then the packed avail/used + wrap counters layout). */
int vhu_set_vring_base(struct vhu_frontend *fe, unsigned int index,
		       uint32_t base);

/* GET_VRING_BASE: stops the ring; the reply must name the same ring. */
int vhu_get_vring_base(struct vhu_frontend *fe, unsigned int index,
		       uint32_t *base);

/* SET_VRING_KICK / CALL / ERR (acked): @fd < 0 sends the "no fd" bit, the
 * backend then polls (kick) or is not signalled (call, err). */
int vhu_set_vring_kick(struct vhu_frontend *fe, unsigned int index, int fd);
int vhu_set_vring_call(struct vhu_frontend *fe, unsigned int index, int fd);
int vhu_set_vring_err(struct vhu_frontend *fe, unsigned int index, int fd);

/* SET_VRING_ENABLE (acked): needs bit 30 acked by SET_FEATURES. Without
 * REPLY_ACK a GET_FEATURES follows as a barrier, as QEMU does, so that the
 * backend has handled the enable before the caller kicks. */
int vhu_set_vring_enable(struct vhu_frontend *fe, unsigned int index,
			 bool enable);

/* --- config, backend channel, inflight, device state --------------------- */

/* GET_CONFIG (CONFIG): reads @size bytes at @offset into @buf; size 1..256,
 * offset + size <= 256, flags 0 (driver) or 1 (migration). */
int vhu_get_config(struct vhu_frontend *fe, uint32_t offset, uint32_t size,
		   uint32_t flags, void *buf);

/* SET_CONFIG (CONFIG, acked): same limits. */
int vhu_set_config(struct vhu_frontend *fe, uint32_t offset, uint32_t flags,
		   const void *buf, uint32_t size);

/* SET_BACKEND_REQ_FD (BACKEND_REQ, acked): the backend's end of the
 * backend-channel socket pair. */
int vhu_set_backend_req_fd(struct vhu_frontend *fe, int fd);

/* GET_INFLIGHT_FD (INFLIGHT_SHMFD): asks for a region for @num_queues rings
 * of @queue_size; on success *@fd is the backend's memory fd (the caller
 * owns it), checked to be a file at least mmap_offset + mmap_size long, and
 * @reply holds mmap_size (nonzero) and mmap_offset. */
int vhu_get_inflight_fd(struct vhu_frontend *fe, uint16_t num_queues,
			uint16_t queue_size, struct vhu_inflight *reply,
			int *fd);

/* SET_INFLIGHT_FD (INFLIGHT_SHMFD): no field may be zero, @fd required. */
int vhu_set_inflight_fd(struct vhu_frontend *fe,
			const struct vhu_inflight *inflight, int fd);

/*
 * SET_DEVICE_STATE_FD (DEVICE_STATE): @direction save/load, @phase stopped,
 * @fd the caller's end of a pipe. The backend may answer with its own fd:
 * then *@backend_fd is it (the caller owns it), else -1.
 */
int vhu_set_device_state_fd(struct vhu_frontend *fe, uint32_t direction,
			    uint32_t phase, int fd, int *backend_fd);

/* CHECK_DEVICE_STATE (DEVICE_STATE): 0 when the transfer succeeded. */
int vhu_check_device_state(struct vhu_frontend *fe);

/* --- handshake helper ---------------------------------------------------- */

/*
 * The handshake of vhost-user.md rule 1: SET_OWNER, GET_FEATURES, and when
 * bit 30 is offered GET_PROTOCOL_FEATURES and SET_PROTOCOL_FEATURES with
 * (@want_protocol & offered & known, dependencies satisfied), then
 * GET_QUEUE_NUM if MQ and GET_MAX_MEM_SLOTS if CONFIGURE_MEM_SLOTS.
 * The backend channel and GET_CONFIG are left to the caller, which owns
 * the channel's socket and knows the config size.
 */
int vhu_negotiate(struct vhu_frontend *fe, uint64_t want_protocol);

#endif
