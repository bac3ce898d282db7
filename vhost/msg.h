/* SPDX-License-Identifier: MIT */
/*
 * Moving vhost-user messages over a unix stream socket: header and payload
 * in one sendmsg() with the file descriptors as SCM_RIGHTS, and the mirror
 * receive that never trusts the peer (payload size bounded, fd count
 * bounded, every received fd closed again on any error).
 *
 * Used by both the frontend (frontend.c) and the backend side (backend.c).
 */
#ifndef VUVM_VHOST_MSG_H
#define VUVM_VHOST_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vhost/protocol.h"

struct vhu_msg {
	struct vhu_msg_header hdr;
	union {
		uint64_t u64;
		struct vhu_vring_state state;
		struct vhu_vring_addr addr;
		struct vhu_mem_table mem;
		struct vhu_single_mem_region mem_reg;
		struct vhu_log log;
		struct vhu_config config;
		struct vhu_vring_area area;
		struct vhu_inflight inflight;
		struct vhu_device_state device_state;
		uint8_t bytes[VHOST_USER_MAX_PAYLOAD];
	} payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds;
	/* Why vhu_msg_recv() returned -EPROTO (a static sentence), or NULL. */
	const char *bad;
};

/*
 * Sends @msg: the 12-byte header, hdr.size payload bytes and msg->nfds file
 * descriptors (at most VHOST_USER_MAX_FDS) in one sendmsg(). Never raises
 * SIGPIPE. Returns 0, -EINVAL if hdr.size or nfds exceed the limits, -EPIPE
 * or -ECONNRESET if the peer is gone, or another negative errno.
 * The caller keeps ownership of the fds.
 */
int vhu_msg_send(int sock, const struct vhu_msg *msg);

/*
 * Receives one message into @msg, waiting at most @timeout_ms in total for
 * the whole message (-1 waits forever). Received fds are marked close-on-exec
 * and owned by the caller (vhu_msg_close_fds()). Returns: 0            a whole
 * message; -ECONNRESET  the peer closed the connection before a header started;
 *   -EPROTO      the peer closed mid-message, sent a payload larger than
 *                VHOST_USER_MAX_PAYLOAD or more than VHOST_USER_MAX_FDS fds,
 *                or sent fds anywhere but with the header; msg->bad says
 *                which;
 *   -ETIMEDOUT   nothing arrived within @timeout_ms;
 *   another negative errno from the socket.
 * On any error no fd is left open and msg->nfds is 0.
 */
int vhu_msg_recv(int sock, struct vhu_msg *msg, int timeout_ms);

/* Closes every fd in @msg and sets nfds to 0. */
void vhu_msg_close_fds(struct vhu_msg *msg);

/* Control-data bytes that carry @n fds: char control[VHU_FDS_SPACE(n)]. */
#define VHU_FDS_SPACE(n) CMSG_SPACE(sizeof(int) * (n))

/*
 * Attaches @nfds fds (any number, any value: they are not checked) to @mh
 * as one SCM_RIGHTS control message built in @control, @size bytes of the
 * caller's. Without fds @mh gets no control data. Returns 0, or -EINVAL
 * if @size is less than VHU_FDS_SPACE(nfds). The one way vhost/ and its
 * tests put fds on the wire: vhu_msg_send() uses it, and so do tests that
 * write raw (malformed, oversized, split) messages.
 */
int vhu_msg_attach_fds(struct msghdr *mh, void *control, size_t size,
		       const int *fds, unsigned int nfds);

/* Header helpers. */
static inline bool vhu_msg_is_reply(const struct vhu_msg_header *hdr)
{
	return hdr->flags & VHOST_USER_REPLY_MASK;
}

static inline bool vhu_msg_needs_reply(const struct vhu_msg_header *hdr)
{
	return hdr->flags & VHOST_USER_NEED_REPLY_MASK;
}

#endif
