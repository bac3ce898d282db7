// SPDX-License-Identifier: MIT
#include "vhost/msg.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vhost/clock.h"

int vhu_msg_send(int sock, const struct vhu_msg *msg)
{
	char control[VHU_FDS_SPACE(VHOST_USER_MAX_FDS)];
	struct iovec iov[2] = {
		{ (void *)&msg->hdr, sizeof(msg->hdr) },
		{ (void *)&msg->payload, msg->hdr.size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t total = sizeof(msg->hdr) + msg->hdr.size;
	ssize_t n;

	if (msg->hdr.size > VHOST_USER_MAX_PAYLOAD ||
	    msg->nfds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	vhu_msg_attach_fds(&mh, control, sizeof(control), msg->fds, msg->nfds);
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* A unix stream socket takes a message this small whole, or not at
	 * all; a partial send means the peer is going away. */
	return (size_t)n == total ? 0 : -EPIPE;
}

int vhu_msg_attach_fds(struct msghdr *mh, void *control, size_t size,
		       const int *fds, unsigned int nfds)
{
	size_t len = sizeof(int) * nfds;
	struct cmsghdr *cm;

	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	if (!nfds)
		return 0;
	if (size < CMSG_SPACE(len))
		return -EINVAL;
	memset(control, 0, CMSG_SPACE(len));
	mh->msg_control = control;
	mh->msg_controllen = CMSG_SPACE(len);
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), fds, len);
	return 0;
}

void vhu_msg_close_fds(struct vhu_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++)
		close(msg->fds[i]);
	msg->nfds = 0;
}

/* Waits until @sock is readable or the deadline (-1: none) has passed. The
 * deadline covers the whole message, so a peer that drips one byte at a
 * time cannot stretch a bounded wait. */
static int wait_readable(int sock, int64_t deadline)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	int r;

	do {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();

		if (deadline >= 0 && left < 0)
			left = 0;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* Takes the fds out of the control data; closes them all if there are too
 * many or the kernel had to truncate them. */
static int take_fds(struct msghdr *mh, struct vhu_msg *msg)
{
	int err = (mh->msg_flags & MSG_CTRUNC) ? -EPROTO : 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (msg->nfds < VHOST_USER_MAX_FDS)
				msg->fds[msg->nfds++] = fd;
			else {
				close(fd);
				err = -EPROTO;
			}
		}
	}
	return err;
}

/* Reads exactly @len bytes into @buf; fds are only accepted when @msg is
 * given (the header read). Returns bytes read before EOF, or -errno. */
static ssize_t read_full(int sock, void *buf, size_t len, struct vhu_msg *msg,
			 int64_t deadline, const char **bad)
{
	char control[VHU_FDS_SPACE(VHOST_USER_MAX_FDS)];
	size_t done = 0;

	while (done < len) {
		struct iovec iov = { (char *)buf + done, len - done };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control,
				     .msg_controllen = sizeof(control) };
		ssize_t n;
		int err = wait_readable(sock, deadline);

		if (err)
			return err;
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (mh.msg_controllen) {
			struct vhu_msg stray = { .nfds = 0 };

			err = take_fds(&mh, msg ? msg : &stray);
			if (!msg) {
				vhu_msg_close_fds(&stray);
				*bad = "fds came with the payload, not the "
				       "header";
				return -EPROTO;
			}
			if (err) {
				*bad = "more fds than the 8 a message may "
				       "carry";
				return err;
			}
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int vhu_msg_recv(int sock, struct vhu_msg *msg, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	ssize_t n;

	msg->nfds = 0;
	msg->bad = NULL;
	n = read_full(sock, &msg->hdr, sizeof(msg->hdr), msg, deadline,
		      &msg->bad);
	if (n == 0)
		return -ECONNRESET;
	if (n >= 0 && (size_t)n < sizeof(msg->hdr)) {
		msg->bad = "hung up in the middle of the header";
		n = -EPROTO;
	}
	if (n >= 0 && msg->hdr.size > VHOST_USER_MAX_PAYLOAD) {
		msg->bad = "oversized payload: more than the 4096 bytes a "
			   "message may carry";
		n = -EPROTO;
	}
	if (n >= 0 && msg->hdr.size) {
		n = read_full(sock, &msg->payload, msg->hdr.size, NULL,
			      deadline, &msg->bad);
		if (n >= 0 && (size_t)n < msg->hdr.size) {
			msg->bad = "hung up in the middle of the payload";
			n = -EPROTO;
		}
	}
	if (n < 0) {
		vhu_msg_close_fds(msg);
		return (int)n;
	}
	return 0;
}
