// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "frontend_test.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost/log.h"

int run_tests(const struct check_case *cases, size_t n, int argc, char **argv)
{
	log_set_level(argc > 2 ? LOG_DEBUG : LOG_ERR);
	return check_run(cases, n, argc, argv);
}

void tp_open(struct tpair *tp)
{
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(vhu_frontend_from_fd(&tp->fe, sv[0]) == 0);
	vhu_frontend_set_timeout(&tp->fe, 1000);
	tp->peer = sv[1];
}

void tp_close(struct tpair *tp)
{
	vhu_frontend_close(&tp->fe);
	close(tp->peer);
}

void tp_negotiated(struct tpair *tp, uint64_t features, uint64_t protocol)
{
	tp->fe.have_features = true;
	tp->fe.features = tp->fe.acked_features = features;
	tp->fe.have_protocol_features = true;
	tp->fe.protocol_features = tp->fe.acked_protocol_features = protocol;
}

void peer_expect(int peer, uint32_t req, uint32_t flags, uint32_t size,
		 struct vhu_msg *out)
{
	CHECK_EQ(vhu_msg_recv(peer, out, 1000), 0);
	CHECK_EQ(out->hdr.request, req);
	CHECK_EQ(out->hdr.flags, flags);
	CHECK_EQ(out->hdr.size, size);
}

void peer_send(int peer, uint32_t req, uint32_t flags, const void *payload,
	       uint32_t size, const int *fds, unsigned int nfds)
{
	struct vhu_msg_header hdr = { req, flags, size };
	char control[VHU_FDS_SPACE(16)];
	struct iovec iov[2] = { { &hdr, sizeof(hdr) },
				{ (void *)payload, size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = payload ? 2 : 1 };

	CHECK_EQ(vhu_msg_attach_fds(&mh, control, sizeof(control), fds, nfds),
		 0);
	CHECK(sendmsg(peer, &mh, MSG_NOSIGNAL) ==
	      (ssize_t)(sizeof(hdr) + (payload ? size : 0)));
}

void peer_reply_u64(int peer, uint32_t req, uint64_t value)
{
	peer_send(peer, req, REPLY, &value, sizeof(value), NULL, 0);
}

bool peer_idle(int peer)
{
	struct pollfd pfd = { .fd = peer, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

void peer_drain(int peer)
{
	struct vhu_msg msg;

	while (!peer_idle(peer) && vhu_msg_recv(peer, &msg, 100) == 0)
		vhu_msg_close_fds(&msg);
}

bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int make_memfd(size_t size)
{
	int fd = memfd_create("vuvm-test", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0);
	return fd;
}

int make_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	CHECK(fd >= 0);
	return fd;
}
