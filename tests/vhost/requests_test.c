// SPDX-License-Identifier: MIT
/*
 * The request table (vhost/requests.c) against the protocol as written out
 * here, independently of it: one row per request code, named as in the
 * enum; payload sizes of the structs protocol.h asserts; exactly the
 * requests each side is meant to handle, with rules that side can apply;
 * trace layouts that fit the row; trace renders every request by name.
 * Also the one SCM_RIGHTS builder, vhu_msg_attach_fds(). (A second row for
 * one code does not compile: -Werror with -Woverride-init in gcc's -Wextra
 * and clang's -Winitializer-overrides.)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend_test.h" /* same_file(), make_eventfd() */
#include "vhost/msg.h"
#include "vhost/requests.h"
#include "vhost/trace.h"

struct name {
	uint32_t code;
	const char *name;
};

#define N(req)                         \
	{                              \
		VHOST_USER_##req, #req \
	}
static const struct name names[] = {
	N(NONE),
	N(GET_FEATURES),
	N(SET_FEATURES),
	N(SET_OWNER),
	N(RESET_OWNER),
	N(SET_MEM_TABLE),
	N(SET_LOG_BASE),
	N(SET_LOG_FD),
	N(SET_VRING_NUM),
	N(SET_VRING_ADDR),
	N(SET_VRING_BASE),
	N(GET_VRING_BASE),
	N(SET_VRING_KICK),
	N(SET_VRING_CALL),
	N(SET_VRING_ERR),
	N(GET_PROTOCOL_FEATURES),
	N(SET_PROTOCOL_FEATURES),
	N(GET_QUEUE_NUM),
	N(SET_VRING_ENABLE),
	N(SEND_RARP),
	N(NET_SET_MTU),
	N(SET_BACKEND_REQ_FD),
	N(IOTLB_MSG),
	N(SET_VRING_ENDIAN),
	N(GET_CONFIG),
	N(SET_CONFIG),
	N(CREATE_CRYPTO_SESSION),
	N(CLOSE_CRYPTO_SESSION),
	N(POSTCOPY_ADVISE),
	N(POSTCOPY_LISTEN),
	N(POSTCOPY_END),
	N(GET_INFLIGHT_FD),
	N(SET_INFLIGHT_FD),
	N(GPU_SET_SOCKET),
	N(RESET_DEVICE),
	N(VRING_KICK),
	N(GET_MAX_MEM_SLOTS),
	N(ADD_MEM_REG),
	N(REM_MEM_REG),
	N(SET_STATUS),
	N(GET_STATUS),
	N(GET_SHARED_OBJECT),
	N(SET_DEVICE_STATE_FD),
	N(CHECK_DEVICE_STATE),
	N(GET_SHMEM_CONFIG),
};
#undef N

#define N(req)                                 \
	{                                      \
		VHOST_USER_BACKEND_##req, #req \
	}
static const struct name backend_names[] = {
	N(NONE),
	N(IOTLB_MSG),
	N(CONFIG_CHANGE_MSG),
	N(VRING_HOST_NOTIFIER_MSG),
	N(VRING_CALL),
	N(VRING_ERR),
	N(SHARED_OBJECT_ADD),
	N(SHARED_OBJECT_REMOVE),
	N(SHARED_OBJECT_LOOKUP),
	N(SHMEM_MAP),
	N(SHMEM_UNMAP),
};
#undef N

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Every request some side handles: its payload (the struct, or the fixed
 * part of a variable one), and which sides: F the frontend sends it
 * (vhost/frontend.h has a function for it), B the backend side takes it.
 */
enum { F = 1, B = 2, FB = 3 };
static const struct spec {
	uint32_t code;
	uint32_t size;
	bool size_min;
	int sides;
} specs[] = {
	{ VHOST_USER_GET_FEATURES, 0, false, FB },
	{ VHOST_USER_SET_FEATURES, sizeof(uint64_t), false, FB },
	{ VHOST_USER_SET_OWNER, 0, false, FB },
	{ VHOST_USER_RESET_OWNER, 0, false, FB },
	{ VHOST_USER_SET_MEM_TABLE, 8, true, FB }, /* nregions, padding */
	{ VHOST_USER_SET_LOG_BASE, sizeof(struct vhu_log), false, F },
	{ VHOST_USER_SET_LOG_FD, 0, false, F },
	{ VHOST_USER_SET_VRING_NUM, sizeof(struct vhu_vring_state), false, FB },
	{ VHOST_USER_SET_VRING_ADDR, sizeof(struct vhu_vring_addr), false, FB },
	{ VHOST_USER_SET_VRING_BASE, sizeof(struct vhu_vring_state), false,
	  FB },
	{ VHOST_USER_GET_VRING_BASE, sizeof(struct vhu_vring_state), false,
	  FB },
	{ VHOST_USER_SET_VRING_KICK, sizeof(uint64_t), false, FB },
	{ VHOST_USER_SET_VRING_CALL, sizeof(uint64_t), false, FB },
	{ VHOST_USER_SET_VRING_ERR, sizeof(uint64_t), false, FB },
	{ VHOST_USER_GET_PROTOCOL_FEATURES, 0, false, FB },
	{ VHOST_USER_SET_PROTOCOL_FEATURES, sizeof(uint64_t), false, FB },
	{ VHOST_USER_GET_QUEUE_NUM, 0, false, FB },
	{ VHOST_USER_SET_VRING_ENABLE, sizeof(struct vhu_vring_state), false,
	  FB },
	{ VHOST_USER_SET_BACKEND_REQ_FD, 0, false, FB },
	{ VHOST_USER_GET_CONFIG, VHU_CONFIG_HDR_SIZE, true, FB },
	{ VHOST_USER_SET_CONFIG, VHU_CONFIG_HDR_SIZE, true, FB },
	{ VHOST_USER_GET_INFLIGHT_FD, sizeof(struct vhu_inflight), false, FB },
	{ VHOST_USER_SET_INFLIGHT_FD, sizeof(struct vhu_inflight), false, FB },
	{ VHOST_USER_RESET_DEVICE, 0, false, FB },
	{ VHOST_USER_GET_MAX_MEM_SLOTS, 0, false, FB },
	{ VHOST_USER_ADD_MEM_REG, sizeof(struct vhu_single_mem_region), false,
	  FB },
	{ VHOST_USER_REM_MEM_REG, sizeof(struct vhu_single_mem_region), false,
	  FB },
	{ VHOST_USER_SET_STATUS, sizeof(uint64_t), false, FB },
	{ VHOST_USER_GET_STATUS, 0, false, FB },
	{ VHOST_USER_SET_DEVICE_STATE_FD, sizeof(struct vhu_device_state),
	  false, FB },
	{ VHOST_USER_CHECK_DEVICE_STATE, 0, false, FB },
};

static const struct spec *spec_of(uint32_t code)
{
	for (size_t i = 0; i < COUNT(specs); i++)
		if (specs[i].code == code)
			return &specs[i];
	return NULL;
}

/* Every code has its row, with the enum's name; nothing past the end. */
static void test_one_row_per_code(void)
{
	CHECK_EQ(COUNT(names), VHOST_USER_MAX_REQUEST);
	for (uint32_t i = 0; i < COUNT(names); i++) {
		const struct vhu_request_info *r = vhu_request_info(i);

		CHECK_EQ(names[i].code, i);
		CHECK(r != NULL);
		CHECK_STR(r->name, names[i].name);
		CHECK_STR(vhu_request_name(i), names[i].name);
	}
	CHECK(vhu_request_info(VHOST_USER_MAX_REQUEST) == NULL);
	CHECK(vhu_request_info(UINT32_MAX) == NULL);
	CHECK(vhu_request_name(1000) == NULL);
	CHECK_EQ(COUNT(backend_names), VHOST_USER_BACKEND_MAX_REQUEST);
	for (uint32_t i = 0; i < COUNT(backend_names); i++) {
		CHECK_EQ(backend_names[i].code, i);
		CHECK_STR(vhu_backend_request_name(i), backend_names[i].name);
	}
	CHECK(vhu_backend_request_info(VHOST_USER_BACKEND_MAX_REQUEST) == NULL);
}

/* The rules a side can apply: fds within what a message carries, and a
 * negotiation rule it knows (the backend side only feature bits). */
static void check_side(const struct vhu_request_side *s, bool backend)
{
	CHECK(s->min_fds <= s->max_fds);
	CHECK(s->max_fds <= VHOST_USER_MAX_FDS);
	CHECK(s->needs < VHOST_USER_PROTOCOL_F_MAX);
	if (backend)
		CHECK(s->needs >= VHU_NEEDS_NONE);
	else
		CHECK(s->needs >= VHU_NEEDS_ACKED);
}

/* Exactly the requests each side handles, with the structs' sizes. */
static void test_sides_and_sizes(void)
{
	for (uint32_t i = 0; i < VHOST_USER_MAX_REQUEST; i++) {
		const struct vhu_request_info *r = vhu_request_info(i);
		const struct spec *s = spec_of(i);

		check_case = r->name; /* names the row that fails */
		CHECK_EQ(r->send.on, s && (s->sides & F));
		CHECK_EQ(r->accept.on, s && (s->sides & B));
		if (!s)
			continue;
		CHECK_EQ(r->size, s->size);
		CHECK_EQ(r->size_min, s->size_min);
		if (r->send.on)
			check_side(&r->send, false);
		if (r->accept.on)
			check_side(&r->accept, true);
	}
	check_case = "sides_and_sizes";
}

/* Whether trace decodes a payload of @size bytes with @layout (an empty
 * one needs no decoding). */
static bool layout_fits(uint8_t layout, uint32_t size, bool size_min)
{
	uint32_t fixed = vhu_layout_size(layout);

	if (size == 0 && !size_min)
		return true;
	if (layout == VHU_L_AUTO)
		return !size_min && size == 8;
	if (layout == VHU_L_MEM)
		return size_min && size == 8;
	if (layout == VHU_L_CONFIG)
		return size_min && size == VHU_CONFIG_HDR_SIZE;
	return !size_min && fixed && size == fixed;
}

/* Whether trace decodes a reply of @kind with @layout: its struct, or a
 * u64 for the u64 kinds. */
static bool reply_layout_fits(uint8_t kind, uint8_t layout)
{
	switch (kind) {
	case VHU_REPLY_STATE:
		return layout == VHU_L_STATE;
	case VHU_REPLY_CONFIG:
		return layout == VHU_L_CONFIG;
	case VHU_REPLY_INFLIGHT:
		return layout == VHU_L_INFLIGHT;
	default:
		return layout == VHU_L_AUTO || layout == VHU_L_U64 ||
		       layout == VHU_L_PROTOCOL;
	}
}

/* Trace's layouts fit the row's payload and reply. */
static void test_layouts_fit(void)
{
	for (uint32_t i = 0; i < VHOST_USER_MAX_REQUEST; i++) {
		const struct vhu_request_info *r = vhu_request_info(i);

		if (!r->send.on && !r->accept.on)
			continue;
		check_case = r->name;
		CHECK(layout_fits(r->layout, r->size, r->size_min));
		if (r->reply != VHU_REPLY_NONE)
			CHECK(reply_layout_fits(r->reply, r->reply_layout));
	}
	check_case = "layouts_fit";
}

static void test_reply_kinds(void)
{
	unsigned int min, max;

	CHECK(!vhu_reply_always(VHU_REPLY_NONE));
	CHECK(!vhu_reply_always(VHU_REPLY_ACK));
	CHECK(vhu_reply_always(VHU_REPLY_U64));
	CHECK(vhu_reply_always(VHU_REPLY_LOG));
	CHECK(vhu_reply_always(VHU_REPLY_OPAQUE));
	vhu_reply_fds(VHU_REPLY_INFLIGHT, &min, &max);
	CHECK(min == 1 && max == 1);
	vhu_reply_fds(VHU_REPLY_STATE_FD, &min, &max);
	CHECK(min == 0 && max == 1);
	vhu_reply_fds(VHU_REPLY_U64, &min, &max);
	CHECK(min == 0 && max == 0);
	/* The rows the fault proxy pairs with a reply, NEED_REPLY or not. */
	for (uint32_t i = 0; i < VHOST_USER_MAX_REQUEST; i++) {
		const char *n = vhu_request_name(i);
		bool get = strncmp(n, "GET_", 4) == 0;

		check_case = n;
		CHECK_EQ(vhu_reply_always(vhu_request_info(i)->reply),
			 get || i == VHOST_USER_SET_LOG_BASE ||
				 i == VHOST_USER_SET_DEVICE_STATE_FD ||
				 i == VHOST_USER_CHECK_DEVICE_STATE);
	}
	check_case = "reply_kinds";
}

static const char *render(uint32_t req, uint32_t flags, uint32_t size,
			  bool backend_channel)
{
	static struct vhu_msg m;
	static char line[512];

	memset(&m, 0, sizeof(m));
	m.hdr = (struct vhu_msg_header){ req, flags, size };
	vhu_trace_format(line, sizeof(line), &m, backend_channel);
	return line;
}

/* Trace names every request, and decodes a payload of the row's size. */
static void test_trace_names(void)
{
	char want[128];

	for (uint32_t i = 0; i < COUNT(names); i++) {
		const struct vhu_request_info *r = vhu_request_info(i);

		check_case = names[i].name;
		snprintf(want, sizeof(want), "%s flags=v1 size=0 fds=0",
			 names[i].name);
		CHECK_STR(render(i, VHOST_USER_VERSION, 0, false), want);
		if (r->size && !r->size_min && (r->send.on || r->accept.on)) {
			CHECK(!strstr(render(i, 1, r->size, false),
				      "bad size"));
			CHECK(!strstr(render(i, 1, r->size, false), "{00 "));
		}
	}
	for (uint32_t i = 0; i < COUNT(backend_names); i++) {
		check_case = backend_names[i].name;
		snprintf(want, sizeof(want), "%s flags=v1|reply size=0 fds=0",
			 backend_names[i].name);
		CHECK_STR(render(i, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
				 0, true),
			  want);
	}
	check_case = "trace_names";
}

/* The one SCM_RIGHTS builder: what it attaches arrives, as those files. */
static void test_attach_fds(void)
{
	int fds_before = check_count_fds(), sv[2], e[3];
	struct vhu_msg_header hdr = { VHOST_USER_SET_OWNER, 1, 0 };
	struct iovec iov = { &hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	char control[VHU_FDS_SPACE(3)];
	struct vhu_msg got;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	for (int i = 0; i < 3; i++)
		e[i] = make_eventfd();
	CHECK_EQ(vhu_msg_attach_fds(&mh, control, sizeof(control), e, 0), 0);
	CHECK(mh.msg_control == NULL && mh.msg_controllen == 0);
	CHECK_EQ(vhu_msg_attach_fds(&mh, control, VHU_FDS_SPACE(2), e, 3),
		 -EINVAL);
	CHECK_EQ(vhu_msg_attach_fds(&mh, control, sizeof(control), e, 3), 0);
	CHECK(sendmsg(sv[0], &mh, MSG_NOSIGNAL) == sizeof(hdr));
	CHECK_EQ(vhu_msg_recv(sv[1], &got, 1000), 0);
	CHECK_EQ(got.hdr.request, VHOST_USER_SET_OWNER);
	CHECK_EQ(got.nfds, 3);
	for (int i = 0; i < 3; i++)
		CHECK(same_file(got.fds[i], e[i]));
	vhu_msg_close_fds(&got);
	for (int i = 0; i < 3; i++)
		close(e[i]);
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ(check_count_fds(), fds_before);
}

static const struct check_case cases[] = {
	{ "one_row_per_code", test_one_row_per_code },
	{ "sides_and_sizes", test_sides_and_sizes },
	{ "layouts_fit", test_layouts_fit },
	{ "reply_kinds", test_reply_kinds },
	{ "trace_names", test_trace_names },
	{ "attach_fds", test_attach_fds },
};

int main(int argc, char **argv)
{
	return RUN_TESTS(cases, argc, argv);
}
