// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the frontend performs a sequence of requests against a
 * "backend" whose whole reply stream, fds included, comes from the input.
 *
 * Input layout (see docs/vhost-user.md and make_seeds.py):
 *   byte 0       bit 0: start as if the handshake had negotiated every
 *                feature (reaches deep requests without one), bit 1:
 *                leave REPLY_ACK out of that set
 *   byte 1       number of operations (1..16)
 *   next n bytes the operations (index into ops[], modulo)
 *   the rest     records {u8 ctl, u16 len (LE), len bytes}: each record is
 *                one sendmsg() of the backend; ctl bits 0-1 = fds to attach
 *                (0..3), bits 2-3 = their kind (memfd 4 KiB, eventfd, empty
 *                memfd, pipe)
 * The backend then shuts down its write side, so the frontend sees EOF
 * rather than waiting. Checked after every input: no crash or sanitizer
 * report, and the number of open fds is unchanged.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/check.h"
#include "vhost/frontend.h"
#include "vhost/msg.h"

#define MAX_OPS	     16
#define MAX_FDS_SENT 48 /* stay far below the in-flight fd limit */

struct ctx {
	struct vhu_frontend *fe;
	int memfd, efd;
};

static int make_fd(unsigned int kind)
{
	int p[2], fd;

	switch (kind) {
	case 0:
	case 2:
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd >= 0 && kind == 0 && ftruncate(fd, 4096) < 0) {
			close(fd);
			fd = -1;
		}
		return fd;
	case 1:
		return eventfd(0, EFD_CLOEXEC);
	default:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		close(p[1]);
		return p[0];
	}
}

/* One backend write: @len bytes and (ctl & 3) fds of kind (ctl >> 2) & 3. */
static void send_record(int sock, uint8_t ctl, const uint8_t *data, size_t len,
			int *fds_sent)
{
	char control[VHU_FDS_SPACE(3)];
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int nfds = ctl & 3;
	int fds[3];

	if (*fds_sent + (int)nfds > MAX_FDS_SENT)
		nfds = 0;
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = make_fd((ctl >> 2) & 3);
	vhu_msg_attach_fds(&mh, control, sizeof(control), fds, nfds);
	/* A record with fds needs at least one byte to carry them. */
	if (len || !nfds)
		sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	*fds_sent += (int)nfds;
	for (unsigned int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void write_stream(int sock, const uint8_t *p, size_t n)
{
	int fds_sent = 0;

	while (n >= 3) {
		uint8_t ctl = p[0];
		size_t len = (size_t)(p[1] | p[2] << 8);

		p += 3;
		n -= 3;
		len = len < n ? len : n;
		send_record(sock, ctl, p, len, &fds_sent);
		p += len;
		n -= len;
	}
	shutdown(sock, SHUT_WR);
}

/* --- the operations ------------------------------------------------------ */

static void op_features(struct ctx *c)
{
	uint64_t v;

	if (vhu_get_features(c->fe, &v) == 0)
		vhu_set_features(c->fe, v & (0xffffffffull | 1ull << 34));
}

static void op_protocol(struct ctx *c)
{
	uint64_t v;

	if (vhu_get_protocol_features(c->fe, &v) == 0)
		vhu_set_protocol_features(c->fe, v & 0xffff);
}

static void op_negotiate(struct ctx *c)
{
	vhu_negotiate(c->fe, ~0ull);
}

static void op_queries(struct ctx *c)
{
	uint64_t v;
	uint8_t s;

	vhu_get_queue_num(c->fe, &v);
	vhu_get_max_mem_slots(c->fe, &v);
	vhu_get_status(c->fe, &s);
}

static void op_mem(struct ctx *c)
{
	struct vhu_region r[2] = {
		{ 0, 2048, 0x10000, 0, c->memfd },
		{ 0x100000, 2048, 0x20000, 2048, c->memfd },
	};

	vhu_set_mem_table(c->fe, r, 2);
	vhu_add_mem_reg(c->fe, &r[0]);
	vhu_rem_mem_reg(c->fe, &r[1]);
}

static void op_vring_setup(struct ctx *c)
{
	struct vhu_vring_addr a = { 0, 0, 0x10000, 0x12000, 0x11000, 0 };

	vhu_set_vring_num(c->fe, 0, 256);
	vhu_set_vring_base(c->fe, 0, 0);
	vhu_set_vring_addr(c->fe, &a);
}

static void op_vring_fds(struct ctx *c)
{
	vhu_set_vring_kick(c->fe, 0, c->efd);
	vhu_set_vring_call(c->fe, 0, -1);
	vhu_set_vring_err(c->fe, 1, c->efd);
}

static void op_vring_enable_stop(struct ctx *c)
{
	uint32_t base;

	vhu_set_vring_enable(c->fe, 0, true);
	vhu_set_vring_enable(c->fe, 0, false);
	vhu_get_vring_base(c->fe, 0, &base);
}

static void op_config(struct ctx *c)
{
	uint8_t buf[64] = { 1, 2, 3 };

	vhu_get_config(c->fe, 0, 64, 0, buf);
	vhu_set_config(c->fe, 8, 0, buf, 4);
}

static void op_inflight(struct ctx *c)
{
	struct vhu_inflight in;
	int fd = -1;

	if (vhu_get_inflight_fd(c->fe, 1, 256, &in, &fd) == 0) {
		vhu_set_inflight_fd(c->fe, &in, fd);
		close(fd);
	}
}

static void op_device_state(struct ctx *c)
{
	int fd = -1;

	if (vhu_set_device_state_fd(c->fe, 0, 0, c->efd, &fd) == 0 && fd >= 0)
		close(fd);
	vhu_check_device_state(c->fe);
}

static void op_misc(struct ctx *c)
{
	vhu_set_owner(c->fe);
	vhu_set_backend_req_fd(c->fe, c->efd);
	vhu_set_log_base(c->fe, 4096, 0, c->memfd);
	vhu_set_log_fd(c->fe, c->efd);
	vhu_set_status(c->fe, 0xf);
	vhu_reset_device(c->fe);
	vhu_reset_owner(c->fe);
}

static void (*const ops[])(struct ctx *) = {
	op_features, op_protocol,    op_negotiate,    op_queries,
	op_mem,	     op_vring_setup, op_vring_fds,    op_vring_enable_stop,
	op_config,   op_inflight,    op_device_state, op_misc,
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static void trace_sink(void *opaque, const char *line)
{
	*(size_t *)opaque += strlen(line);
}

static void preset(struct vhu_frontend *fe, uint8_t flags)
{
	if (!(flags & 1))
		return;
	fe->have_features = fe->have_protocol_features = true;
	fe->features = fe->acked_features = ~0ull;
	fe->protocol_features = fe->acked_protocol_features =
		(1ull << VHOST_USER_PROTOCOL_F_MAX) - 1;
	if (flags & 2)
		fe->acked_protocol_features &=
			~(1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
}

static void run(const uint8_t *data, size_t size, int sv[2])
{
	struct vhu_frontend fe;
	struct ctx c = { &fe, -1, -1 };
	size_t traced = 0, nops = (size_t)(data[1] % MAX_OPS) + 1;

	if (size < 2 + nops || vhu_frontend_from_fd(&fe, sv[0]) < 0) {
		close(sv[0]);
		return;
	}
	vhu_frontend_set_timeout(&fe, 100);
	vhu_frontend_set_trace(&fe, trace_sink, &traced);
	preset(&fe, data[0]);
	write_stream(sv[1], data + 2 + nops, size - 2 - nops);
	c.memfd = make_fd(0);
	c.efd = make_fd(1);
	for (size_t i = 0; i < nops && c.memfd >= 0 && c.efd >= 0; i++)
		ops[data[2 + i] % NOPS](&c);
	close(c.memfd);
	close(c.efd);
	vhu_frontend_close(&fe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int before = check_count_fds(), sv[2];

	if (size < 2 || size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	run(data, size, sv);
	close(sv[1]);
	if (check_count_fds() != before)
		__builtin_trap(); /* an fd leaked */
	return 0;
}
