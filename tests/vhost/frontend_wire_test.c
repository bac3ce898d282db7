// SPDX-License-Identifier: MIT
/*
 * What the frontend puts on the wire for every request: the exact header
 * (code, version 1, need_reply only where REPLY_ACK applies, size), the
 * payload bytes, the fds (the very files we passed), and how it takes a
 * well-formed reply.
 */
#include "frontend_test.h"

#include <unistd.h>

#define ALL_PROTO ((1ull << VHOST_USER_PROTOCOL_F_MAX) - 1)
#define NO_ACK	  (ALL_PROTO & ~PF(REPLY_ACK))

static void open_all(struct tpair *tp, uint64_t protocol)
{
	tp_open(tp);
	tp_negotiated(tp, F_PROTOCOL | 0xffff, protocol);
}

static void test_get_set_features(void)
{
	struct tpair tp;
	struct vhu_msg m;
	uint64_t f;

	tp_open(&tp);
	peer_reply_u64(tp.peer, VHOST_USER_GET_FEATURES, F_PROTOCOL | 0x15);
	CHECK_EQ(vhu_get_features(&tp.fe, &f), 0);
	CHECK_EQ(f, F_PROTOCOL | 0x15);
	CHECK_EQ(tp.fe.features, f);
	peer_expect(tp.peer, VHOST_USER_GET_FEATURES, 1, 0, &m);
	CHECK_EQ(m.nfds, 0);

	CHECK_EQ(vhu_set_features(&tp.fe, F_PROTOCOL | 0x5), 0);
	peer_expect(tp.peer, VHOST_USER_SET_FEATURES, 1, 8, &m);
	CHECK_EQ(m.payload.u64, F_PROTOCOL | 0x5);
	CHECK_EQ(tp.fe.acked_features, F_PROTOCOL | 0x5);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void test_owner(void)
{
	struct tpair tp;
	struct vhu_msg m;

	tp_open(&tp);
	CHECK_EQ(vhu_set_owner(&tp.fe), 0);
	CHECK_EQ(vhu_reset_owner(&tp.fe), 0);
	peer_expect(tp.peer, VHOST_USER_SET_OWNER, 1, 0, &m);
	CHECK_EQ(m.nfds, 0);
	peer_expect(tp.peer, VHOST_USER_RESET_OWNER, 1, 0, &m);
	CHECK_EQ(m.nfds, 0);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void test_protocol_features(void)
{
	struct tpair tp;
	struct vhu_msg m;
	uint64_t pf,
		offered = PF(MQ) | PF(REPLY_ACK) | PF(CONFIG) | (1ull << 40);

	tp_open(&tp);
	peer_reply_u64(tp.peer, VHOST_USER_GET_FEATURES, F_PROTOCOL);
	CHECK_EQ(vhu_get_features(&tp.fe, &pf), 0);
	peer_reply_u64(tp.peer, VHOST_USER_GET_PROTOCOL_FEATURES, offered);
	CHECK_EQ(vhu_get_protocol_features(&tp.fe, &pf), 0);
	CHECK_EQ(pf, offered); /* unknown bit 40 kept, never acked */
	CHECK_EQ(vhu_set_protocol_features(&tp.fe, PF(MQ) | PF(REPLY_ACK)), 0);
	CHECK(vhu_has_protocol_feature(&tp.fe, VHOST_USER_PROTOCOL_F_MQ));
	CHECK(!vhu_has_protocol_feature(&tp.fe, VHOST_USER_PROTOCOL_F_CONFIG));
	peer_expect(tp.peer, VHOST_USER_GET_FEATURES, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_GET_PROTOCOL_FEATURES, 1, 0, &m);
	/* No need_reply: REPLY_ACK is not in force until this is read. */
	peer_expect(tp.peer, VHOST_USER_SET_PROTOCOL_FEATURES, 1, 8, &m);
	CHECK_EQ(m.payload.u64, PF(MQ) | PF(REPLY_ACK));
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void check_region(const struct vhu_mem_region *r,
			 const struct vhu_region *want)
{
	CHECK_EQ(r->guest_phys_addr, want->guest_phys_addr);
	CHECK_EQ(r->memory_size, want->memory_size);
	CHECK_EQ(r->userspace_addr, want->userspace_addr);
	CHECK_EQ(r->mmap_offset, want->mmap_offset);
}

static void mem_table(uint64_t protocol, uint32_t flags)
{
	struct vhu_region r[2] = {
		{ 0, 0x100000, 0x7f0000000000, 0, make_memfd(0x100000) },
		{ 0x100000000, 0x200000, 0x7f0000100000, 0x1000,
		  make_memfd(0x201000) },
	};
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, protocol);
	if (flags & VHOST_USER_NEED_REPLY_MASK)
		peer_reply_u64(tp.peer, VHOST_USER_SET_MEM_TABLE, 0);
	CHECK_EQ(vhu_set_mem_table(&tp.fe, r, 2), 0);
	peer_expect(tp.peer, VHOST_USER_SET_MEM_TABLE, flags, 8 + 2 * 32, &m);
	CHECK_EQ(m.payload.mem.nregions, 2);
	CHECK_EQ(m.payload.mem.padding, 0);
	check_region(&m.payload.mem.regions[0], &r[0]);
	check_region(&m.payload.mem.regions[1], &r[1]);
	CHECK_EQ(m.nfds, 2);
	CHECK(same_file(m.fds[0], r[0].fd));
	CHECK(same_file(m.fds[1], r[1].fd));
	vhu_msg_close_fds(&m);
	CHECK(peer_idle(tp.peer));
	close(r[0].fd);
	close(r[1].fd);
	tp_close(&tp);
}

static void test_mem_table(void)
{
	mem_table(NO_ACK, 1);
	mem_table(ALL_PROTO, NEED);
}

static void test_mem_table_eight(void)
{
	struct vhu_region r[8];
	struct tpair tp;
	struct vhu_msg m;

	for (int i = 0; i < 8; i++)
		r[i] = (struct vhu_region){ (uint64_t)i << 20, 1 << 20,
					    0x10000000 + ((uint64_t)i << 20), 0,
					    make_memfd(1 << 20) };
	open_all(&tp, NO_ACK);
	CHECK_EQ(vhu_set_mem_table(&tp.fe, r, 8), 0);
	peer_expect(tp.peer, VHOST_USER_SET_MEM_TABLE, 1, 8 + 8 * 32, &m);
	CHECK_EQ(m.nfds, 8);
	for (int i = 0; i < 8; i++) {
		check_region(&m.payload.mem.regions[i], &r[i]);
		CHECK(same_file(m.fds[i], r[i].fd));
		close(r[i].fd);
	}
	vhu_msg_close_fds(&m);
	tp_close(&tp);
}

static void test_mem_reg(void)
{
	struct vhu_region r = { 0x1000000, 0x10000, 0x7f0000000000, 0x2000,
				make_memfd(0x20000) };
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, ALL_PROTO);
	peer_reply_u64(tp.peer, VHOST_USER_ADD_MEM_REG, 0);
	CHECK_EQ(vhu_add_mem_reg(&tp.fe, &r), 0);
	peer_expect(tp.peer, VHOST_USER_ADD_MEM_REG, NEED, 40, &m);
	CHECK_EQ(m.payload.mem_reg.padding, 0);
	check_region(&m.payload.mem_reg.region, &r);
	CHECK_EQ(m.nfds, 1);
	CHECK(same_file(m.fds[0], r.fd));
	vhu_msg_close_fds(&m);

	peer_reply_u64(tp.peer, VHOST_USER_REM_MEM_REG, 0);
	CHECK_EQ(vhu_rem_mem_reg(&tp.fe, &r), 0);
	peer_expect(tp.peer, VHOST_USER_REM_MEM_REG, NEED, 40, &m);
	check_region(&m.payload.mem_reg.region, &r);
	CHECK_EQ(m.nfds, 0);
	close(r.fd);
	tp_close(&tp);
}

static void test_log(void)
{
	int log = make_memfd(4096), efd = make_eventfd();
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, ALL_PROTO);
	peer_reply_u64(tp.peer, VHOST_USER_SET_LOG_BASE, 0x1000);
	CHECK_EQ(vhu_set_log_base(&tp.fe, 0x1000, 0, log), 0);
	peer_expect(tp.peer, VHOST_USER_SET_LOG_BASE, 1, 16, &m);
	CHECK_EQ(m.payload.log.mmap_size, 0x1000);
	CHECK_EQ(m.payload.log.mmap_offset, 0);
	CHECK_EQ(m.nfds, 1);
	CHECK(same_file(m.fds[0], log));
	vhu_msg_close_fds(&m);
	/* DPDK answers with an empty payload: also fine. */
	peer_send(tp.peer, VHOST_USER_SET_LOG_BASE, REPLY, NULL, 0, NULL, 0);
	CHECK_EQ(vhu_set_log_base(&tp.fe, 0x1000, 0, log), 0);
	peer_expect(tp.peer, VHOST_USER_SET_LOG_BASE, 1, 16, &m);
	vhu_msg_close_fds(&m);

	CHECK_EQ(vhu_set_log_fd(&tp.fe, efd), 0);
	peer_expect(tp.peer, VHOST_USER_SET_LOG_FD, 1, 0, &m);
	CHECK_EQ(m.nfds, 1);
	CHECK(same_file(m.fds[0], efd));
	vhu_msg_close_fds(&m);
	close(log);
	close(efd);
	tp_close(&tp);
}

static void test_vring_num_base_addr(void)
{
	struct vhu_vring_addr a = {
		1, 0, 0x7f0000000000, 0x7f0000002000, 0x7f0000001000, 0
	};
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, ALL_PROTO);
	CHECK_EQ(vhu_set_vring_num(&tp.fe, 1, 256), 0);
	CHECK_EQ(vhu_set_vring_base(&tp.fe, 1, 7), 0);
	CHECK_EQ(vhu_set_vring_addr(&tp.fe, &a), 0);
	peer_expect(tp.peer, VHOST_USER_SET_VRING_NUM, 1, 8, &m);
	CHECK_EQ(m.payload.state.index, 1);
	CHECK_EQ(m.payload.state.num, 256);
	peer_expect(tp.peer, VHOST_USER_SET_VRING_BASE, 1, 8, &m);
	CHECK_EQ(m.payload.state.index, 1);
	CHECK_EQ(m.payload.state.num, 7);
	peer_expect(tp.peer, VHOST_USER_SET_VRING_ADDR, 1, 40, &m);
	CHECK(memcmp(&m.payload.addr, &a, sizeof(a)) == 0);
	CHECK_EQ(m.nfds, 0);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void test_vring_packed_base(void)
{
	struct tpair tp;
	struct vhu_msg m;
	struct vhu_vring_state st = { 0, 0x80058005 };
	uint32_t base;

	open_all(&tp, ALL_PROTO);
	tp.fe.features = tp.fe.acked_features |= 1ull << VHU_F_RING_PACKED;
	CHECK_EQ(vhu_set_vring_base(&tp.fe, 0, 0x80018001), 0);
	peer_expect(tp.peer, VHOST_USER_SET_VRING_BASE, 1, 8, &m);
	CHECK_EQ(m.payload.state.num, 0x80018001);
	peer_send(tp.peer, VHOST_USER_GET_VRING_BASE, REPLY, &st, 8, NULL, 0);
	CHECK_EQ(vhu_get_vring_base(&tp.fe, 0, &base), 0);
	CHECK_EQ(base, 0x80058005);
	tp_close(&tp);
}

static void test_get_vring_base(void)
{
	struct vhu_vring_state st = { 3, 42 };
	struct tpair tp;
	struct vhu_msg m;
	uint32_t base = 0;

	open_all(&tp, ALL_PROTO);
	peer_send(tp.peer, VHOST_USER_GET_VRING_BASE, REPLY, &st, 8, NULL, 0);
	CHECK_EQ(vhu_get_vring_base(&tp.fe, 3, &base), 0);
	CHECK_EQ(base, 42);
	/* A request that replies anyway never asks for an ack. */
	peer_expect(tp.peer, VHOST_USER_GET_VRING_BASE, 1, 8, &m);
	CHECK_EQ(m.payload.state.index, 3);
	CHECK_EQ(m.payload.state.num, 0);
	tp_close(&tp);
}

typedef int (*vring_fd_fn)(struct vhu_frontend *, unsigned int, int);

static void vring_fd(vring_fd_fn fn, uint32_t code, uint64_t protocol,
		     uint32_t flags)
{
	int efd = make_eventfd();
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, protocol);
	if (flags & VHOST_USER_NEED_REPLY_MASK) {
		peer_reply_u64(tp.peer, code, 0);
		peer_reply_u64(tp.peer, code, 0);
	}
	CHECK_EQ(fn(&tp.fe, 255, efd), 0);
	CHECK_EQ(fn(&tp.fe, 2, -1), 0);
	peer_expect(tp.peer, code, flags, 8, &m);
	CHECK_EQ(m.payload.u64, 255);
	CHECK_EQ(m.nfds, 1);
	CHECK(same_file(m.fds[0], efd));
	vhu_msg_close_fds(&m);
	peer_expect(tp.peer, code, flags, 8, &m);
	CHECK_EQ(m.payload.u64, 2 | VHOST_USER_VRING_NOFD_MASK);
	CHECK_EQ(m.nfds, 0);
	CHECK(peer_idle(tp.peer));
	close(efd);
	tp_close(&tp);
}

static void test_vring_kick_call_err(void)
{
	vring_fd(vhu_set_vring_kick, VHOST_USER_SET_VRING_KICK, NO_ACK, 1);
	vring_fd(vhu_set_vring_call, VHOST_USER_SET_VRING_CALL, NO_ACK, 1);
	vring_fd(vhu_set_vring_err, VHOST_USER_SET_VRING_ERR, NO_ACK, 1);
	vring_fd(vhu_set_vring_kick, VHOST_USER_SET_VRING_KICK, ALL_PROTO,
		 NEED);
	vring_fd(vhu_set_vring_call, VHOST_USER_SET_VRING_CALL, ALL_PROTO,
		 NEED);
	vring_fd(vhu_set_vring_err, VHOST_USER_SET_VRING_ERR, ALL_PROTO, NEED);
}

static void test_vring_enable_ack(void)
{
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, ALL_PROTO);
	peer_reply_u64(tp.peer, VHOST_USER_SET_VRING_ENABLE, 0);
	CHECK_EQ(vhu_set_vring_enable(&tp.fe, 4, true), 0);
	peer_expect(tp.peer, VHOST_USER_SET_VRING_ENABLE, NEED, 8, &m);
	CHECK_EQ(m.payload.state.index, 4);
	CHECK_EQ(m.payload.state.num, 1);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void test_vring_enable_barrier(void)
{
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, NO_ACK);
	peer_reply_u64(tp.peer, VHOST_USER_GET_FEATURES, F_PROTOCOL | 0xffff);
	CHECK_EQ(vhu_set_vring_enable(&tp.fe, 0, false), 0);
	peer_expect(tp.peer, VHOST_USER_SET_VRING_ENABLE, 1, 8, &m);
	CHECK_EQ(m.payload.state.num, 0);
	peer_expect(tp.peer, VHOST_USER_GET_FEATURES, 1, 0, &m);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void test_queue_num_slots_status(void)
{
	struct tpair tp;
	struct vhu_msg m;
	uint64_t v;
	uint8_t status;

	open_all(&tp, ALL_PROTO);
	peer_reply_u64(tp.peer, VHOST_USER_GET_QUEUE_NUM, 4);
	peer_reply_u64(tp.peer, VHOST_USER_GET_MAX_MEM_SLOTS, 509);
	peer_reply_u64(tp.peer, VHOST_USER_SET_STATUS, 0);
	peer_reply_u64(tp.peer, VHOST_USER_GET_STATUS, 0xf);
	CHECK_EQ(vhu_get_queue_num(&tp.fe, &v), 0);
	CHECK_EQ(v, 4);
	CHECK_EQ(tp.fe.queue_num, 4);
	CHECK_EQ(vhu_get_max_mem_slots(&tp.fe, &v), 0);
	CHECK_EQ(v, 509);
	CHECK_EQ(vhu_set_status(&tp.fe, 0xf), 0);
	CHECK_EQ(vhu_get_status(&tp.fe, &status), 0);
	CHECK_EQ(status, 0xf);
	CHECK_EQ(vhu_reset_device(&tp.fe), 0);
	peer_expect(tp.peer, VHOST_USER_GET_QUEUE_NUM, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_GET_MAX_MEM_SLOTS, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_SET_STATUS, NEED, 8, &m);
	CHECK_EQ(m.payload.u64, 0xf);
	peer_expect(tp.peer, VHOST_USER_GET_STATUS, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_RESET_DEVICE, 1, 0, &m);
	CHECK(peer_idle(tp.peer));
	/* Once the queue count is known, indices beyond it are refused. */
	CHECK_EQ(vhu_set_vring_num(&tp.fe, 4, 256), -EINVAL);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void test_config(void)
{
	uint8_t data[16], out[16];
	struct vhu_config reply = { 0, 16, 0, { 0 } };
	struct tpair tp;
	struct vhu_msg m;

	for (int i = 0; i < 16; i++)
		data[i] = reply.region[i] = (uint8_t)(0xa0 + i);
	open_all(&tp, ALL_PROTO);
	peer_send(tp.peer, VHOST_USER_GET_CONFIG, REPLY, &reply, 12 + 16, NULL,
		  0);
	CHECK_EQ(vhu_get_config(&tp.fe, 0, 16, 0, out), 0);
	CHECK(memcmp(out, data, 16) == 0);
	peer_expect(tp.peer, VHOST_USER_GET_CONFIG, 1, 12 + 16, &m);
	CHECK_EQ(m.payload.config.offset, 0);
	CHECK_EQ(m.payload.config.size, 16);
	CHECK_EQ(m.payload.config.flags, 0);

	peer_reply_u64(tp.peer, VHOST_USER_SET_CONFIG, 0);
	CHECK_EQ(vhu_set_config(&tp.fe, 240, 1, data, 16), 0);
	peer_expect(tp.peer, VHOST_USER_SET_CONFIG, NEED, 12 + 16, &m);
	CHECK_EQ(m.payload.config.offset, 240);
	CHECK_EQ(m.payload.config.size, 16);
	CHECK_EQ(m.payload.config.flags, 1);
	CHECK(memcmp(m.payload.config.region, data, 16) == 0);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

static void test_backend_req_fd(void)
{
	int efd = make_eventfd();
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, ALL_PROTO);
	peer_reply_u64(tp.peer, VHOST_USER_SET_BACKEND_REQ_FD, 0);
	CHECK_EQ(vhu_set_backend_req_fd(&tp.fe, efd), 0);
	peer_expect(tp.peer, VHOST_USER_SET_BACKEND_REQ_FD, NEED, 0, &m);
	CHECK_EQ(m.nfds, 1);
	CHECK(same_file(m.fds[0], efd));
	vhu_msg_close_fds(&m);
	close(efd);
	tp_close(&tp);
}

static void test_inflight(void)
{
	struct vhu_inflight in = { 0x2000, 0x1000, 2, 256, 0 }, got;
	int mfd = make_memfd(0x3000), fd = -1;
	struct tpair tp;
	struct vhu_msg m;

	open_all(&tp, ALL_PROTO);
	peer_send(tp.peer, VHOST_USER_GET_INFLIGHT_FD, REPLY, &in, 24, &mfd, 1);
	CHECK_EQ(vhu_get_inflight_fd(&tp.fe, 2, 256, &got, &fd), 0);
	CHECK(same_file(fd, mfd));
	CHECK_EQ(got.mmap_size, 0x2000);
	CHECK_EQ(got.mmap_offset, 0x1000);
	peer_expect(tp.peer, VHOST_USER_GET_INFLIGHT_FD, 1, 24, &m);
	CHECK_EQ(m.payload.inflight.mmap_size, 0);
	CHECK_EQ(m.payload.inflight.num_queues, 2);
	CHECK_EQ(m.payload.inflight.queue_size, 256);
	CHECK_EQ(m.payload.inflight.padding, 0);
	CHECK_EQ(m.nfds, 0);

	CHECK_EQ(vhu_set_inflight_fd(&tp.fe, &got, fd), 0);
	peer_expect(tp.peer, VHOST_USER_SET_INFLIGHT_FD, 1, 24, &m);
	CHECK(memcmp(&m.payload.inflight, &in, 24) == 0);
	CHECK_EQ(m.nfds, 1);
	CHECK(same_file(m.fds[0], mfd));
	vhu_msg_close_fds(&m);
	CHECK(peer_idle(tp.peer));
	close(fd);
	close(mfd);
	tp_close(&tp);
}

static void test_device_state(void)
{
	uint64_t nofd = VHOST_USER_DEVICE_STATE_NOFD_MASK, ok = 0;
	int p[2], bfd, back = -2;
	struct tpair tp;
	struct vhu_msg m;

	CHECK(pipe(p) == 0);
	bfd = make_eventfd();
	open_all(&tp, ALL_PROTO);
	peer_send(tp.peer, VHOST_USER_SET_DEVICE_STATE_FD, REPLY, &nofd, 8,
		  NULL, 0);
	CHECK_EQ(vhu_set_device_state_fd(&tp.fe, 0, 0, p[1], &back), 0);
	CHECK_EQ(back, -1);
	peer_expect(tp.peer, VHOST_USER_SET_DEVICE_STATE_FD, 1, 8, &m);
	CHECK_EQ(m.payload.device_state.direction, 0);
	CHECK_EQ(m.payload.device_state.phase, 0);
	CHECK_EQ(m.nfds, 1);
	CHECK(same_file(m.fds[0], p[1]));
	vhu_msg_close_fds(&m);

	peer_send(tp.peer, VHOST_USER_SET_DEVICE_STATE_FD, REPLY, &ok, 8, &bfd,
		  1);
	CHECK_EQ(vhu_set_device_state_fd(&tp.fe, 1, 0, p[0], &back), 0);
	CHECK(same_file(back, bfd));
	close(back);
	peer_expect(tp.peer, VHOST_USER_SET_DEVICE_STATE_FD, 1, 8, &m);
	CHECK_EQ(m.payload.device_state.direction, 1);
	vhu_msg_close_fds(&m);

	peer_reply_u64(tp.peer, VHOST_USER_CHECK_DEVICE_STATE, 0);
	CHECK_EQ(vhu_check_device_state(&tp.fe), 0);
	peer_expect(tp.peer, VHOST_USER_CHECK_DEVICE_STATE, 1, 0, &m);
	close(p[0]);
	close(p[1]);
	close(bfd);
	tp_close(&tp);
}

static void test_negotiate(void)
{
	uint64_t offered = PF(MQ) | PF(REPLY_ACK) | PF(CONFIGURE_MEM_SLOTS) |
			   PF(BACKEND_SEND_FD) | PF(STATUS);
	struct tpair tp;
	struct vhu_msg m;

	tp_open(&tp);
	peer_reply_u64(tp.peer, VHOST_USER_GET_FEATURES, F_PROTOCOL | 1);
	peer_reply_u64(tp.peer, VHOST_USER_GET_PROTOCOL_FEATURES, offered);
	peer_reply_u64(tp.peer, VHOST_USER_GET_QUEUE_NUM, 2);
	peer_reply_u64(tp.peer, VHOST_USER_GET_MAX_MEM_SLOTS, 32);
	CHECK_EQ(vhu_negotiate(&tp.fe, ~0ull), 0);
	peer_expect(tp.peer, VHOST_USER_SET_OWNER, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_GET_FEATURES, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_GET_PROTOCOL_FEATURES, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_SET_PROTOCOL_FEATURES, 1, 8, &m);
	/* BACKEND_SEND_FD dropped: BACKEND_REQ was not offered. */
	CHECK_EQ(m.payload.u64, offered & ~PF(BACKEND_SEND_FD));
	peer_expect(tp.peer, VHOST_USER_GET_QUEUE_NUM, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_GET_MAX_MEM_SLOTS, 1, 0, &m);
	CHECK(peer_idle(tp.peer));
	CHECK_EQ(tp.fe.queue_num, 2);
	CHECK_EQ(tp.fe.max_mem_slots, 32);
	tp_close(&tp);
}

static void test_negotiate_no_protocol(void)
{
	struct tpair tp;
	struct vhu_msg m;

	tp_open(&tp);
	peer_reply_u64(tp.peer, VHOST_USER_GET_FEATURES, 1);
	CHECK_EQ(vhu_negotiate(&tp.fe, ~0ull), 0);
	peer_expect(tp.peer, VHOST_USER_SET_OWNER, 1, 0, &m);
	peer_expect(tp.peer, VHOST_USER_GET_FEATURES, 1, 0, &m);
	CHECK(peer_idle(tp.peer));
	tp_close(&tp);
}

struct trace_log {
	int n;
	char lines[4][512];
};

static void capture(void *opaque, const char *line)
{
	struct trace_log *t = opaque;

	if (t->n < 4)
		snprintf(t->lines[t->n], sizeof(t->lines[0]), "%s", line);
	t->n++;
}

static void test_trace_hook(void)
{
	struct trace_log t = { 0 };
	struct tpair tp;
	uint64_t f;

	tp_open(&tp);
	vhu_frontend_set_trace(&tp.fe, capture, &t);
	peer_reply_u64(tp.peer, VHOST_USER_GET_FEATURES, 0x100000000);
	CHECK_EQ(vhu_get_features(&tp.fe, &f), 0);
	CHECK_EQ(t.n, 2);
	CHECK_STR(t.lines[0], "-> GET_FEATURES flags=v1 size=0 fds=0");
	CHECK_STR(t.lines[1], "<- GET_FEATURES flags=v1|reply size=8 "
			      "{u64=0x100000000} fds=0");
	vhu_frontend_set_trace(&tp.fe, NULL, NULL);
	peer_reply_u64(tp.peer, VHOST_USER_GET_FEATURES, 0);
	CHECK_EQ(vhu_get_features(&tp.fe, &f), 0);
	CHECK_EQ(t.n, 2);
	tp_close(&tp);
}

static const struct check_case cases[] = {
	{ "get_set_features", test_get_set_features },
	{ "owner", test_owner },
	{ "protocol_features", test_protocol_features },
	{ "mem_table", test_mem_table },
	{ "mem_table_eight", test_mem_table_eight },
	{ "mem_reg", test_mem_reg },
	{ "log", test_log },
	{ "vring_num_base_addr", test_vring_num_base_addr },
	{ "vring_packed_base", test_vring_packed_base },
	{ "get_vring_base", test_get_vring_base },
	{ "vring_kick_call_err", test_vring_kick_call_err },
	{ "vring_enable_ack", test_vring_enable_ack },
	{ "vring_enable_barrier", test_vring_enable_barrier },
	{ "queue_num_slots_status", test_queue_num_slots_status },
	{ "config", test_config },
	{ "backend_req_fd", test_backend_req_fd },
	{ "inflight", test_inflight },
	{ "device_state", test_device_state },
	{ "negotiate", test_negotiate },
	{ "negotiate_no_protocol", test_negotiate_no_protocol },
	{ "trace_hook", test_trace_hook },
};

int main(int argc, char **argv)
{
	int before = check_count_fds(), err = RUN_TESTS(cases, argc, argv);

	if (!err && check_count_fds() != before) {
		fprintf(stderr, "fd leak: %d open before, %d after\n", before,
			check_count_fds());
		return 1;
	}
	return err;
}
