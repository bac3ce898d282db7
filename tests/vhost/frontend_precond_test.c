// SPDX-License-Identifier: MIT
/*
 * Requests refused before anything is sent: features not negotiated, bad
 * arguments. Every case checks the errno, the sentence, and that the peer
 * socket stayed empty.
 */
#include "frontend_test.h"

#include <unistd.h>

#define ALL_PROTO ((1ull << VHOST_USER_PROTOCOL_F_MAX) - 1)

static struct tpair tp;
static uint8_t buf[300];

/* Runs @call, which must fail with @err and send nothing. */
#define REFUSED(call, err, sentence)         \
	do {                                 \
		CHECK_EQ((call), (err));     \
		CHECK_ERR(&tp.fe, sentence); \
		CHECK(peer_idle(tp.peer));   \
	} while (0)

static void open_with(uint64_t features, uint64_t protocol)
{
	tp_open(&tp);
	tp_negotiated(&tp, features, protocol);
}

static void test_features_order(void)
{
	uint64_t v;

	tp_open(&tp);
	REFUSED(vhu_set_features(&tp.fe, 0), -EINVAL,
		"SET_FEATURES: GET_FEATURES not done yet");
	REFUSED(vhu_get_protocol_features(&tp.fe, &v), -ENOTSUP,
		"GET_PROTOCOL_FEATURES: backend did not offer "
		"PROTOCOL_FEATURES");
	REFUSED(vhu_set_protocol_features(&tp.fe, 0), -ENOTSUP,
		"did not offer");
	tp.fe.have_features = true;
	tp.fe.features = 0x3 | F_PROTOCOL;
	REFUSED(vhu_set_features(&tp.fe, 0x4), -EINVAL,
		"SET_FEATURES: features 0x4 were not offered (offered "
		"0x40000003)");
	REFUSED(vhu_set_protocol_features(&tp.fe, 0), -EINVAL,
		"GET_PROTOCOL_FEATURES not done yet");
	tp.fe.have_protocol_features = true;
	tp.fe.protocol_features = PF(MQ) | PF(BACKEND_SEND_FD) | (1ull << 40);
	REFUSED(vhu_set_protocol_features(&tp.fe, PF(CONFIG)), -EINVAL,
		"protocol features 0x200 were not offered");
	REFUSED(vhu_set_protocol_features(&tp.fe, 1ull << 40), -EINVAL,
		"protocol features 0x10000000000 are unknown");
	REFUSED(vhu_set_protocol_features(&tp.fe, PF(BACKEND_SEND_FD)), -EINVAL,
		"BACKEND_SEND_FD needs BACKEND_REQ");
	tp_close(&tp);
}

/* Each protocol-feature-gated request, with everything but its feature. */
static void test_gates(void)
{
	struct vhu_region r = { 0, 4096, 0x10000, 0, 0 };
	struct vhu_inflight in = { 4096, 0, 1, 128, 0 };
	uint64_t v;
	uint8_t s;
	int fd;

#define GATE(feature, call)                                 \
	do {                                                \
		open_with(~0ull, ALL_PROTO & ~PF(feature)); \
		REFUSED(call, -ENOTSUP,                     \
			"needs protocol feature " #feature  \
			", not negotiated");                \
		tp_close(&tp);                              \
	} while (0)
	GATE(MQ, vhu_get_queue_num(&tp.fe, &v));
	GATE(CONFIG, vhu_get_config(&tp.fe, 0, 4, 0, buf));
	GATE(CONFIG, vhu_set_config(&tp.fe, 0, 0, buf, 4));
	GATE(INFLIGHT_SHMFD, vhu_get_inflight_fd(&tp.fe, 1, 128, &in, &fd));
	GATE(INFLIGHT_SHMFD, vhu_set_inflight_fd(&tp.fe, &in, 0));
	GATE(CONFIGURE_MEM_SLOTS, vhu_get_max_mem_slots(&tp.fe, &v));
	GATE(CONFIGURE_MEM_SLOTS, vhu_add_mem_reg(&tp.fe, &r));
	GATE(CONFIGURE_MEM_SLOTS, vhu_rem_mem_reg(&tp.fe, &r));
	GATE(BACKEND_REQ, vhu_set_backend_req_fd(&tp.fe, 0));
	GATE(RESET_DEVICE, vhu_reset_device(&tp.fe));
	GATE(STATUS, vhu_set_status(&tp.fe, 1));
	GATE(STATUS, vhu_get_status(&tp.fe, &s));
	GATE(DEVICE_STATE, vhu_set_device_state_fd(&tp.fe, 0, 0, 0, &fd));
	GATE(DEVICE_STATE, vhu_check_device_state(&tp.fe));
	GATE(LOG_SHMFD, vhu_set_log_base(&tp.fe, 4096, 0, 0));
#undef GATE
}

static void test_vring_enable_gate(void)
{
	/* Protocol features negotiated, but bit 30 not acked. */
	open_with(0xffff, ALL_PROTO);
	tp.fe.features |= F_PROTOCOL;
	REFUSED(vhu_set_vring_enable(&tp.fe, 0, true), -ENOTSUP,
		"SET_VRING_ENABLE: needs PROTOCOL_FEATURES (bit 30) acked");
	tp_close(&tp);
}

static void test_mem_table(void)
{
	struct vhu_region r[9];

	for (int i = 0; i < 9; i++)
		r[i] = (struct vhu_region){ (uint64_t)i << 20, 1 << 20,
					    (uint64_t)(i + 16) << 20, 0, 0 };
	open_with(~0ull, ALL_PROTO);
	REFUSED(vhu_set_mem_table(&tp.fe, r, 0), -EINVAL,
		"SET_MEM_TABLE: 0 regions, expected 1..8");
	REFUSED(vhu_set_mem_table(&tp.fe, r, 9), -EINVAL, "9 regions");
	r[1].memory_size = 0;
	REFUSED(vhu_set_mem_table(&tp.fe, r, 2), -EINVAL,
		"region 1 has size 0");
	r[1].memory_size = 1 << 20;
	r[1].fd = -1;
	REFUSED(vhu_set_mem_table(&tp.fe, r, 2), -EINVAL, "region 1 has no fd");
	r[1].fd = 0;
	r[1].guest_phys_addr = 0x80000;
	REFUSED(vhu_set_mem_table(&tp.fe, r, 2), -EINVAL,
		"regions 0 and 1 overlap");
	r[1].guest_phys_addr = 1 << 20;
	r[2].userspace_addr = r[0].userspace_addr + 4096;
	REFUSED(vhu_set_mem_table(&tp.fe, r, 3), -EINVAL,
		"regions 0 and 2 overlap");
	r[2].userspace_addr = (uint64_t)18 << 20;
	r[2].guest_phys_addr = ~0ull - 4095;
	REFUSED(vhu_set_mem_table(&tp.fe, r, 3), -EINVAL,
		"region 2 wraps around");
	r[2].guest_phys_addr = 2 << 20;
	r[0].memory_size = 0;
	REFUSED(vhu_add_mem_reg(&tp.fe, &r[0]), -EINVAL, "ADD_MEM_REG: region");
	REFUSED(vhu_rem_mem_reg(&tp.fe, &r[0]), -EINVAL, "REM_MEM_REG: region");
	r[1].fd = -1;
	REFUSED(vhu_add_mem_reg(&tp.fe, &r[1]), -EINVAL, "has no fd");
	tp_close(&tp);
}

static void test_config(void)
{
	open_with(~0ull, ALL_PROTO);
	REFUSED(vhu_get_config(&tp.fe, 0, 0, 0, buf), -EINVAL,
		"GET_CONFIG: offset 0 size 0 outside the 256-byte");
	REFUSED(vhu_get_config(&tp.fe, 0, 257, 0, buf), -EINVAL, "size 257");
	REFUSED(vhu_get_config(&tp.fe, 256, 1, 0, buf), -EINVAL, "offset 256");
	REFUSED(vhu_get_config(&tp.fe, 0x1000, 4, 0, buf), -EINVAL, "outside");
	REFUSED(vhu_get_config(&tp.fe, UINT32_MAX, 4, 0, buf), -EINVAL,
		"outside");
	REFUSED(vhu_get_config(&tp.fe, 0, 4, 2, buf), -EINVAL,
		"config flags 0x2");
	REFUSED(vhu_set_config(&tp.fe, 0, 0xffffffff, buf, 4), -EINVAL,
		"SET_CONFIG: config flags 0xffffffff");
	REFUSED(vhu_set_config(&tp.fe, 0, 0, buf, 0), -EINVAL, "size 0");
	REFUSED(vhu_set_config(&tp.fe, 0, 0, buf, 300), -EINVAL, "size 300");
	REFUSED(vhu_set_config(&tp.fe, 0x100, 0, buf, 4), -EINVAL, "outside");
	tp_close(&tp);
}

static void test_vrings(void)
{
	struct vhu_vring_addr a = { 0, 0, 0x1000, 0x3000, 0x2000, 0 };
	uint32_t base;

	open_with(0xffff | F_PROTOCOL, ALL_PROTO);
	REFUSED(vhu_set_vring_num(&tp.fe, 256, 128), -EINVAL,
		"SET_VRING_NUM: queue index 256 > 255");
	REFUSED(vhu_set_vring_base(&tp.fe, 256, 0), -EINVAL, "256 > 255");
	REFUSED(vhu_get_vring_base(&tp.fe, 300, &base), -EINVAL, "300 > 255");
	REFUSED(vhu_set_vring_kick(&tp.fe, 256, -1), -EINVAL, "256 > 255");
	REFUSED(vhu_set_vring_call(&tp.fe, 256, -1), -EINVAL, "256 > 255");
	REFUSED(vhu_set_vring_err(&tp.fe, 256, -1), -EINVAL, "256 > 255");
	REFUSED(vhu_set_vring_enable(&tp.fe, 256, true), -EINVAL, "256 > 255");
	REFUSED(vhu_set_vring_num(&tp.fe, 0, 0), -EINVAL,
		"ring size 0, expected 1..32768");
	REFUSED(vhu_set_vring_num(&tp.fe, 0, 32769), -EINVAL, "ring size");
	REFUSED(vhu_set_vring_base(&tp.fe, 0, 0x10000), -EINVAL,
		"base 0x10000 does not fit a split ring");
	a.index = 256;
	REFUSED(vhu_set_vring_addr(&tp.fe, &a), -EINVAL, "256 > 255");
	a.index = 0;
	a.flags = 2;
	REFUSED(vhu_set_vring_addr(&tp.fe, &a), -EINVAL, "unknown flags 0x2");
	a.flags = 1;
	REFUSED(vhu_set_vring_addr(&tp.fe, &a), -ENOTSUP,
		"log flag without VHOST_F_LOG_ALL");
	a.flags = 0;
	a.desc_user_addr = 0x1008;
	REFUSED(vhu_set_vring_addr(&tp.fe, &a), -EINVAL, "misaligned ring");
	a.desc_user_addr = 0x1000;
	a.used_user_addr = 0x3002;
	REFUSED(vhu_set_vring_addr(&tp.fe, &a), -EINVAL, "misaligned ring");
	tp.fe.queue_num = 2;
	REFUSED(vhu_set_vring_kick(&tp.fe, 2, -1), -EINVAL,
		"queue index 2, backend has 2 queues");
	tp_close(&tp);
}

static void test_fds_and_params(void)
{
	struct vhu_inflight in = { 4096, 0, 1, 128, 0 }, out;
	int fd;

	open_with(~0ull, ALL_PROTO);
	REFUSED(vhu_set_log_base(&tp.fe, 4096, 0, -1), -EINVAL, "no log fd");
	REFUSED(vhu_set_log_base(&tp.fe, 0, 0, 0), -EINVAL, "bad log size");
	REFUSED(vhu_set_log_fd(&tp.fe, -1), -EINVAL, "SET_LOG_FD: no fd");
	REFUSED(vhu_set_backend_req_fd(&tp.fe, -1), -EINVAL,
		"SET_BACKEND_REQ_FD: no fd");
	REFUSED(vhu_get_inflight_fd(&tp.fe, 0, 128, &out, &fd), -EINVAL,
		"0 queues of size 128");
	REFUSED(vhu_get_inflight_fd(&tp.fe, 1, 0, &out, &fd), -EINVAL,
		"1 queues of size 0");
	REFUSED(vhu_set_inflight_fd(&tp.fe, &in, -1), -EINVAL, "fd -1");
	in.mmap_size = 0;
	REFUSED(vhu_set_inflight_fd(&tp.fe, &in, 0), -EINVAL, "size 0x0");
	in.mmap_size = 4096;
	in.num_queues = 0;
	REFUSED(vhu_set_inflight_fd(&tp.fe, &in, 0), -EINVAL, "0 queues");
	in.num_queues = 1;
	in.queue_size = 0;
	REFUSED(vhu_set_inflight_fd(&tp.fe, &in, 0), -EINVAL, "of size 0");
	REFUSED(vhu_set_device_state_fd(&tp.fe, 2, 0, 0, &fd), -EINVAL,
		"direction 2");
	REFUSED(vhu_set_device_state_fd(&tp.fe, 0, 1, 0, &fd), -EINVAL,
		"phase 1");
	REFUSED(vhu_set_device_state_fd(&tp.fe, 0, 0, -1, &fd), -EINVAL,
		"fd -1");
	tp_close(&tp);
}

static void test_closed(void)
{
	open_with(~0ull, ALL_PROTO);
	vhu_frontend_close(&tp.fe);
	CHECK_EQ(vhu_set_owner(&tp.fe), -ENOTCONN);
	CHECK_ERR(&tp.fe, "SET_OWNER: not connected");
	vhu_frontend_close(&tp.fe); /* twice is fine */
	close(tp.peer);
}

static const struct check_case cases[] = {
	{ "features_order", test_features_order },
	{ "gates", test_gates },
	{ "vring_enable_gate", test_vring_enable_gate },
	{ "mem_table", test_mem_table },
	{ "config", test_config },
	{ "vrings", test_vrings },
	{ "fds_and_params", test_fds_and_params },
	{ "closed", test_closed },
};

int main(int argc, char **argv)
{
	return RUN_TESTS(cases, argc, argv);
}
