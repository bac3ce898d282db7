// SPDX-License-Identifier: MIT
/* Golden renderings of vhost-user messages, good and hostile. */
#include "frontend_test.h"

#include "vhost/trace.h"

static char line[1024];

static const char *render(uint32_t req, uint32_t flags, const void *payload,
			  uint32_t size, unsigned int nfds, bool backend)
{
	static struct vhu_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr = (struct vhu_msg_header){ req, flags, size };
	if (payload)
		memcpy(&m.payload, payload, size);
	m.nfds = nfds;
	vhu_trace_format(line, sizeof(line), &m, backend);
	return line;
}

static void test_names(void)
{
	CHECK_STR(vhu_request_name(VHOST_USER_SET_VRING_KICK),
		  "SET_VRING_KICK");
	CHECK_STR(vhu_request_name(43), "CHECK_DEVICE_STATE");
	CHECK(vhu_request_name(45) == NULL);
	CHECK(vhu_request_name(1000) == NULL);
	CHECK_STR(vhu_backend_request_name(2), "CONFIG_CHANGE_MSG");
	CHECK(vhu_backend_request_name(11) == NULL);
	CHECK_STR(vhu_protocol_feature_name(15), "CONFIGURE_MEM_SLOTS");
	CHECK(vhu_protocol_feature_name(23) == NULL);
	for (uint32_t r = 1; r < VHOST_USER_MAX_REQUEST; r++)
		CHECK(vhu_request_name(r) != NULL);
}

static void test_simple(void)
{
	uint64_t f = 0x140000000ull;
	struct vhu_vring_state st = { 0, 256 };

	CHECK_STR(render(3, 1, NULL, 0, 0, false),
		  "SET_OWNER flags=v1 size=0 fds=0");
	CHECK_STR(render(1, 5, &f, 8, 0, false),
		  "GET_FEATURES flags=v1|reply size=8 {u64=0x140000000} fds=0");
	CHECK_STR(render(8, 9, &st, 8, 0, false),
		  "SET_VRING_NUM flags=v1|need_reply size=8 {index=0 num=256} "
		  "fds=0");
}

static void test_protocol_features(void)
{
	uint64_t pf = PF(MQ) | PF(REPLY_ACK) | (1ull << 40);

	CHECK_STR(render(16, 1, &pf, 8, 0, false),
		  "SET_PROTOCOL_FEATURES flags=v1 size=8 "
		  "{u64=0x10000000009 <MQ|REPLY_ACK|bit40>} fds=0");
}

static void test_vring(void)
{
	struct vhu_vring_addr a = {
		1, 0, 0x7f0000000000, 0x7f0000002000, 0x7f0000001000, 0
	};
	uint64_t kick = 3 | VHOST_USER_VRING_NOFD_MASK, call = 2;

	CHECK_STR(render(9, 1, &a, 40, 0, false),
		  "SET_VRING_ADDR flags=v1 size=40 {index=1 flags=0x0 "
		  "desc=0x7f0000000000 used=0x7f0000002000 "
		  "avail=0x7f0000001000 log=0x0} fds=0");
	CHECK_STR(render(12, 9, &kick, 8, 0, false),
		  "SET_VRING_KICK flags=v1|need_reply size=8 {index=3 nofd} "
		  "fds=0");
	CHECK_STR(render(13, 1, &call, 8, 1, false),
		  "SET_VRING_CALL flags=v1 size=8 {index=2} fds=1");
}

/* With RING_PACKED acked: the driver and device areas, and the 32-bit
 * ring position split into its halves and wrap counters. */
static void test_vring_packed(void)
{
	struct vhu_vring_addr a = {
		0, 0, 0x7f0000000000, 0x7f0000002000, 0x7f0000001000, 0
	};
	struct vhu_vring_state st = { 1, 0x80058003u };
	static struct vhu_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr = (struct vhu_msg_header){ VHOST_USER_SET_VRING_ADDR, 1, 40 };
	m.payload.addr = a;
	vhu_trace_format_ring(line, sizeof(line), &m, false, true);
	CHECK_STR(line, "SET_VRING_ADDR flags=v1 size=40 {index=0 flags=0x0 "
			"desc=0x7f0000000000 driver=0x7f0000001000 "
			"device=0x7f0000002000 log=0x0} fds=0");
	m.hdr = (struct vhu_msg_header){ VHOST_USER_GET_VRING_BASE, 5, 8 };
	m.payload.state = st;
	vhu_trace_format_ring(line, sizeof(line), &m, false, true);
	CHECK_STR(line, "GET_VRING_BASE flags=v1|reply size=8 {index=1 "
			"num=2147844099 (avail=3 wrap=1 used=5 wrap=1)} fds=0");
	m.payload.state.num = 0x00028007u;
	m.hdr.request = VHOST_USER_SET_VRING_BASE;
	m.hdr.flags = 1;
	vhu_trace_format_ring(line, sizeof(line), &m, false, true);
	CHECK_STR(line, "SET_VRING_BASE flags=v1 size=8 {index=1 num=163847 "
			"(avail=7 wrap=1 used=2 wrap=0)} fds=0");
	/* Split: the same message without the decoding. */
	vhu_trace_format_ring(line, sizeof(line), &m, false, false);
	CHECK_STR(line,
		  "SET_VRING_BASE flags=v1 size=8 {index=1 num=163847} fds=0");
}

static void test_mem_table(void)
{
	struct {
		uint32_t n, pad;
		struct vhu_mem_region r[2];
	} t = { 2,
		0,
		{ { 0, 0x100000, 0x7f00000000, 0 },
		  { 0x100000000, 0x200000, 0x7f10000000, 0x1000 } } };

	CHECK_STR(render(5, 9, &t, 8 + 64, 2, false),
		  "SET_MEM_TABLE flags=v1|need_reply size=72 {nregions=2 "
		  "[gpa=0x0 size=0x100000 uaddr=0x7f00000000 off=0x0] "
		  "[gpa=0x100000000 size=0x200000 uaddr=0x7f10000000 "
		  "off=0x1000]} fds=2");
	/* nregions that does not match the size: a hex dump instead. */
	t.n = 9;
	CHECK_STR(render(5, 1, &t, 8 + 64, 2, false),
		  "SET_MEM_TABLE flags=v1 size=72 {bad size 72: 09 00 00 00 "
		  "00 00 00 00 00 00 00 00 00 00 00 00 ...} fds=2");
}

static void test_config_inflight(void)
{
	struct vhu_config c = { 0, 20, 0, { 0 } };
	struct vhu_inflight in = { 0x2000, 0, 2, 256, 0 };

	for (int i = 0; i < 20; i++)
		c.region[i] = (uint8_t)i;
	CHECK_STR(render(24, 5, &c, 12 + 20, 0, false),
		  "GET_CONFIG flags=v1|reply size=32 {offset=0 size=20 "
		  "flags=0x0 data=00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d "
		  "0e 0f ...} fds=0");
	CHECK_STR(render(31, 5, &in, 24, 1, false),
		  "GET_INFLIGHT_FD flags=v1|reply size=24 {mmap_size=0x2000 "
		  "mmap_offset=0x0 num_queues=2 queue_size=256} fds=1");
}

static void test_hostile(void)
{
	uint8_t b[3] = { 1, 2, 3 };

	CHECK_STR(render(99, 0x35, b, 3, 0, false),
		  "UNKNOWN(99) flags=v1|reply|0x30 size=3 {01 02 03} fds=0");
	CHECK_STR(render(11, 5, b, 3, 0, false),
		  "GET_VRING_BASE flags=v1|reply size=3 {bad size 3: 01 02 03} "
		  "fds=0");
	CHECK_STR(render(24, 5, b, 3, 0, false),
		  "GET_CONFIG flags=v1|reply size=3 {bad size 3: 01 02 03} "
		  "fds=0");
	CHECK_STR(render(1, 5, NULL, 5000, 0, false),
		  "GET_FEATURES flags=v1|reply size=5000 {oversized} fds=0");
	/* A tiny buffer is cut, never overrun. */
	{
		struct vhu_msg m = { .hdr = { 1, 1, 0 } };
		char small[8];

		CHECK_EQ(vhu_trace_format(small, sizeof(small), &m, false), 7);
		CHECK_STR(small, "GET_FEA");
		CHECK_EQ(vhu_trace_format(small, 0, &m, false), 0);
	}
}

static void test_backend_channel(void)
{
	struct vhu_vring_area a = { 1 | VHOST_USER_VRING_NOFD_MASK, 0x1000, 0 };
	uint64_t ack = 0;

	CHECK_STR(render(2, 9, NULL, 0, 0, true),
		  "CONFIG_CHANGE_MSG flags=v1|need_reply size=0 fds=0");
	CHECK_STR(render(3, 1, &a, 24, 0, true),
		  "VRING_HOST_NOTIFIER_MSG flags=v1 size=24 {index=1 nofd "
		  "size=0x1000 offset=0x0} fds=0");
	CHECK_STR(render(2, 5, &ack, 8, 0, true),
		  "CONFIG_CHANGE_MSG flags=v1|reply size=8 {u64=0x0} fds=0");
	CHECK_STR(render(42, 1, NULL, 0, 0, true),
		  "UNKNOWN(42) flags=v1 size=0 fds=0");
}

static const struct check_case cases[] = {
	{ "names", test_names },
	{ "simple", test_simple },
	{ "protocol_features", test_protocol_features },
	{ "vring", test_vring },
	{ "mem_table", test_mem_table },
	{ "config_inflight", test_config_inflight },
	{ "vring_packed", test_vring_packed },
	{ "hostile", test_hostile },
	{ "backend_channel", test_backend_channel },
};

int main(int argc, char **argv)
{
	return RUN_TESTS(cases, argc, argv);
}
