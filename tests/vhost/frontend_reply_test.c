// SPDX-License-Identifier: MIT
/*
 * How the frontend takes bad replies: wrong code, flags, sizes, fds,
 * backend failures, a peer that hangs up mid-message or never answers.
 * Each must give the documented errno and sentence, leak no fd, and (where
 * the stream may be out of step) refuse further requests without sending.
 */
#include "frontend_test.h"

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ALL_PROTO ((1ull << VHOST_USER_PROTOCOL_F_MAX) - 1)

static void open_all(struct tpair *tp)
{
	tp_open(tp);
	tp_negotiated(tp, F_PROTOCOL | 0xffff, ALL_PROTO);
}

/* After a reply that broke framing, the connection is shut down and
 * nothing more goes out: the peer reads the end of the stream. */
static void check_broken(struct tpair *tp)
{
	char byte;

	peer_drain(tp->peer);
	CHECK_EQ(vhu_set_owner(&tp->fe), -EPIPE);
	CHECK_ERR(&tp->fe, "unusable");
	CHECK(recv(tp->peer, &byte, 1, MSG_DONTWAIT) == 0);
}

/* GET_FEATURES answered by a raw reply; returns its result. */
static int get_features_with(struct tpair *tp, uint32_t req, uint32_t flags,
			     const void *payload, uint32_t size, const int *fds,
			     unsigned int nfds)
{
	uint64_t f;

	peer_send(tp->peer, req, flags, payload, size, fds, nfds);
	return vhu_get_features(&tp->fe, &f);
}

static void bad_u64_reply(uint32_t req, uint32_t flags, uint32_t size,
			  unsigned int nfds, const char *sentence)
{
	uint8_t payload[16] = { 0 };
	int fds[2] = { make_eventfd(), make_eventfd() };
	int before = check_count_fds();
	struct tpair tp;

	tp_open(&tp);
	CHECK_EQ(get_features_with(&tp, req, flags, payload, size, fds, nfds),
		 -EPROTO);
	CHECK_ERR(&tp.fe, sentence);
	CHECK_EQ(tp.fe.have_features, false);
	check_broken(&tp);
	tp_close(&tp);
	CHECK_EQ(check_count_fds(), before);
	close(fds[0]);
	close(fds[1]);
}

static void test_header(void)
{
	uint32_t G = VHOST_USER_GET_FEATURES;

	bad_u64_reply(VHOST_USER_GET_STATUS, REPLY, 8, 0,
		      "GET_FEATURES: reply is for GET_STATUS (40)");
	bad_u64_reply(999, REPLY, 8, 0, "reply is for UNKNOWN (999)");
	bad_u64_reply(G, 1, 8, 0, "reply flags 0x1, expected 0x5");
	bad_u64_reply(G, REPLY | 0x10, 8, 0, "reply flags 0x15");
	bad_u64_reply(G, REPLY | 0x80000000, 8, 0, "reply flags 0x80000005");
	bad_u64_reply(G, 0x6, 8, 0, "reply flags 0x6"); /* version 2 */
	bad_u64_reply(G, REPLY | VHOST_USER_NEED_REPLY_MASK, 8, 0,
		      "reply flags 0xd");
}

static void test_sizes_and_fds(void)
{
	uint32_t G = VHOST_USER_GET_FEATURES;

	bad_u64_reply(G, REPLY, 4, 0, "GET_FEATURES: reply size 4, expected 8");
	bad_u64_reply(G, REPLY, 16, 0, "reply size 16, expected 8");
	bad_u64_reply(G, REPLY, 0, 0, "reply size 0, expected 8");
	bad_u64_reply(G, REPLY, 8, 1, "reply carries 1 fds, expected 0");
	bad_u64_reply(G, REPLY, 8, 2, "reply carries 2 fds, expected 0");
}

static void test_too_many_fds(void)
{
	int fds[12], before;
	uint64_t v = 0;
	struct tpair tp;

	for (int i = 0; i < 12; i++)
		fds[i] = make_eventfd();
	before = check_count_fds();
	tp_open(&tp);
	CHECK_EQ(get_features_with(&tp, VHOST_USER_GET_FEATURES, REPLY, &v, 8,
				   fds, 12),
		 -EPROTO);
	CHECK_ERR(
		&tp.fe,
		"GET_FEATURES: reply: more fds than the 8 a message may carry");
	tp_close(&tp);
	CHECK_EQ(check_count_fds(), before);
	for (int i = 0; i < 12; i++)
		close(fds[i]);
}

static void test_oversized(void)
{
	struct tpair tp;

	tp_open(&tp);
	CHECK_EQ(get_features_with(&tp, VHOST_USER_GET_FEATURES, REPLY, NULL,
				   VHOST_USER_MAX_PAYLOAD + 1, NULL, 0),
		 -EPROTO);
	CHECK_ERR(&tp.fe, "GET_FEATURES: reply: oversized payload");
	check_broken(&tp);
	tp_close(&tp);
}

static void test_hangup_mid_header(void)
{
	struct vhu_msg_header h = { VHOST_USER_GET_FEATURES, REPLY, 8 };
	struct tpair tp;
	uint64_t f;

	tp_open(&tp);
	CHECK(write(tp.peer, &h, 6) == 6);
	shutdown(tp.peer, SHUT_WR);
	CHECK_EQ(vhu_get_features(&tp.fe, &f), -EPROTO);
	CHECK_ERR(&tp.fe, "GET_FEATURES: backend hung up mid-reply (in the "
			  "middle of the header)");
	tp_close(&tp);
}

static void test_hangup_mid_payload(void)
{
	struct vhu_msg_header h = { VHOST_USER_GET_FEATURES, REPLY, 8 };
	struct tpair tp;
	uint64_t f;

	tp_open(&tp);
	CHECK(write(tp.peer, &h, sizeof(h)) == sizeof(h));
	CHECK(write(tp.peer, "abc", 3) == 3);
	shutdown(tp.peer, SHUT_WR);
	CHECK_EQ(vhu_get_features(&tp.fe, &f), -EPROTO);
	CHECK_ERR(&tp.fe, "hung up mid-reply (in the middle of the payload)");
	tp_close(&tp);
}

static void test_hangup_before_reply(void)
{
	struct tpair tp;
	uint64_t f;

	tp_open(&tp);
	shutdown(tp.peer, SHUT_WR);
	CHECK_EQ(vhu_get_features(&tp.fe, &f), -ECONNRESET);
	CHECK_ERR(&tp.fe, "GET_FEATURES: backend closed the connection");
	tp_close(&tp);
}

static void test_peer_closed_send(void)
{
	struct tpair tp;

	tp_open(&tp);
	close(tp.peer);
	CHECK_EQ(vhu_set_owner(&tp.fe), -EPIPE);
	CHECK_ERR(&tp.fe, "SET_OWNER: send failed");
	vhu_frontend_close(&tp.fe);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_timeout(void)
{
	struct timespec t0;
	struct tpair tp;
	uint64_t f;

	tp_open(&tp);
	vhu_frontend_set_timeout(&tp.fe, 50);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(vhu_get_features(&tp.fe, &f), -ETIMEDOUT);
	CHECK(elapsed_ms(&t0) >= 45 && elapsed_ms(&t0) < check_ms(500));
	CHECK_ERR(&tp.fe, "GET_FEATURES: no reply within 50 ms");
	/* A late reply must not be taken for the next request's: the
	 * frontend has shut the connection, so it cannot even arrive. */
	CHECK(send(tp.peer, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE);
	check_broken(&tp);
	tp_close(&tp);
}

/* A reply that dribbles in still has to finish within the timeout. */
static void test_timeout_partial(void)
{
	struct vhu_msg_header h = { VHOST_USER_GET_FEATURES, REPLY, 8 };
	struct tpair tp;
	uint64_t f;

	tp_open(&tp);
	vhu_frontend_set_timeout(&tp.fe, 50);
	CHECK(write(tp.peer, &h, sizeof(h)) == sizeof(h));
	CHECK_EQ(vhu_get_features(&tp.fe, &f), -ETIMEDOUT);
	tp_close(&tp);
}

static void test_ack(void)
{
	int efd = make_eventfd(), before = check_count_fds();
	struct tpair tp;
	uint32_t K = VHOST_USER_SET_VRING_KICK;

	open_all(&tp);
	peer_reply_u64(tp.peer, K, 1);
	CHECK_EQ(vhu_set_vring_kick(&tp.fe, 0, efd), -EIO);
	CHECK_ERR(&tp.fe, "SET_VRING_KICK: backend failed (ack 0x1)");
	/* A backend failure is a well-formed reply: still usable. */
	peer_reply_u64(tp.peer, K, 0);
	CHECK_EQ(vhu_set_vring_kick(&tp.fe, 0, efd), 0);
	peer_send(tp.peer, K, REPLY, "\0\0\0\0", 4, NULL, 0);
	CHECK_EQ(vhu_set_vring_kick(&tp.fe, 0, efd), -EPROTO);
	CHECK_ERR(&tp.fe, "SET_VRING_KICK: reply size 4, expected 8");
	check_broken(&tp);
	tp_close(&tp);

	open_all(&tp);
	peer_reply_u64(tp.peer, VHOST_USER_SET_VRING_CALL, 0);
	CHECK_EQ(vhu_set_vring_kick(&tp.fe, 0, efd), -EPROTO);
	CHECK_ERR(&tp.fe, "SET_VRING_KICK: reply is for SET_VRING_CALL");
	tp_close(&tp);
	CHECK_EQ(check_count_fds(), before);
	close(efd);
}

static void test_ack_with_fd(void)
{
	int efd = make_eventfd(), before = check_count_fds();
	struct vhu_region r = { 0, 4096, 0x10000, 0, efd };
	uint64_t zero = 0;
	struct tpair tp;

	open_all(&tp);
	peer_send(tp.peer, VHOST_USER_SET_MEM_TABLE, REPLY, &zero, 8, &efd, 1);
	CHECK_EQ(vhu_set_mem_table(&tp.fe, &r, 1), -EPROTO);
	CHECK_ERR(&tp.fe, "SET_MEM_TABLE: reply carries 1 fds, expected 0");
	tp_close(&tp);
	CHECK_EQ(check_count_fds(), before);
	close(efd);
}

static int get_config_with(struct tpair *tp, const struct vhu_config *c,
			   uint32_t size)
{
	uint8_t buf[16];

	peer_send(tp->peer, VHOST_USER_GET_CONFIG, REPLY, c, size, NULL, 0);
	return vhu_get_config(&tp->fe, 0, 16, 0, buf);
}

static void test_get_config(void)
{
	struct vhu_config good = { 0, 16, 0, { 0 } }, c;
	struct tpair tp;

	open_all(&tp);
	CHECK_EQ(get_config_with(&tp, &good, 8), -EPROTO);
	CHECK_STR(vhu_frontend_error(&tp.fe),
		  "GET_CONFIG: reply size 8, expected 12+16");
	tp_close(&tp);

	open_all(&tp);
	CHECK_EQ(get_config_with(&tp, &good, 12 + 20), -EPROTO);
	tp_close(&tp);

	open_all(&tp);
	CHECK_EQ(get_config_with(&tp, &good, 0), -EIO);
	CHECK_ERR(&tp.fe, "GET_CONFIG: backend failed");
	CHECK_EQ(get_config_with(&tp, &good, 12 + 16), 0);
	c = good;
	c.size = 0;
	CHECK_EQ(get_config_with(&tp, &c, 12 + 16), -EIO);
	c = good;
	c.offset = 4;
	CHECK_EQ(get_config_with(&tp, &c, 12 + 16), -EPROTO);
	CHECK_ERR(&tp.fe, "reply offset 4 size 16 flags 0, expected 0 16 0");
	c = good;
	c.size = 8;
	CHECK_EQ(get_config_with(&tp, &c, 12 + 16), -EPROTO);
	c = good;
	c.flags = 1;
	CHECK_EQ(get_config_with(&tp, &c, 12 + 16), -EPROTO);
	tp_close(&tp);
}

static void test_get_vring_base(void)
{
	struct vhu_vring_state st = { 1, 5 };
	struct tpair tp;
	uint32_t base = 77;

	open_all(&tp);
	peer_send(tp.peer, VHOST_USER_GET_VRING_BASE, REPLY, &st, 8, NULL, 0);
	CHECK_EQ(vhu_get_vring_base(&tp.fe, 0, &base), -EPROTO);
	CHECK_ERR(&tp.fe, "GET_VRING_BASE: reply is for queue 1, expected 0");
	CHECK_EQ(base, 77);
	st = (struct vhu_vring_state){ 0, 0x10000 };
	peer_send(tp.peer, VHOST_USER_GET_VRING_BASE, REPLY, &st, 8, NULL, 0);
	CHECK_EQ(vhu_get_vring_base(&tp.fe, 0, &base), -EPROTO);
	CHECK_ERR(&tp.fe, "does not fit a split ring");
	tp_close(&tp);
}

static void test_bad_values(void)
{
	struct tpair tp;
	uint64_t v;
	uint8_t status;

	open_all(&tp);
	peer_reply_u64(tp.peer, VHOST_USER_GET_QUEUE_NUM, 0);
	CHECK_EQ(vhu_get_queue_num(&tp.fe, &v), -EPROTO);
	CHECK_ERR(&tp.fe, "GET_QUEUE_NUM: backend reports 0 queues");
	peer_reply_u64(tp.peer, VHOST_USER_GET_QUEUE_NUM, 257);
	CHECK_EQ(vhu_get_queue_num(&tp.fe, &v), -EPROTO);
	CHECK_EQ(tp.fe.queue_num, 0);
	peer_reply_u64(tp.peer, VHOST_USER_GET_MAX_MEM_SLOTS, 0);
	CHECK_EQ(vhu_get_max_mem_slots(&tp.fe, &v), -EPROTO);
	CHECK_ERR(&tp.fe, "GET_MAX_MEM_SLOTS: backend reports 0 slots");
	peer_reply_u64(tp.peer, VHOST_USER_GET_STATUS, 0x100);
	CHECK_EQ(vhu_get_status(&tp.fe, &status), -EPROTO);
	peer_reply_u64(tp.peer, VHOST_USER_CHECK_DEVICE_STATE, 3);
	CHECK_EQ(vhu_check_device_state(&tp.fe), -EIO);
	CHECK_ERR(&tp.fe, "CHECK_DEVICE_STATE: backend failed (result 0x3)");
	/* Body errors keep the stream in step. */
	peer_reply_u64(tp.peer, VHOST_USER_GET_QUEUE_NUM, 2);
	CHECK_EQ(vhu_get_queue_num(&tp.fe, &v), 0);
	tp_close(&tp);
}

static int inflight_with(struct tpair *tp, uint64_t size, uint64_t offset,
			 const int *fds, unsigned int nfds, int *fd)
{
	struct vhu_inflight in = { size, offset, 1, 128, 0 }, got;

	peer_send(tp->peer, VHOST_USER_GET_INFLIGHT_FD, REPLY, &in, 24, fds,
		  nfds);
	return vhu_get_inflight_fd(&tp->fe, 1, 128, &got, fd);
}

static void test_inflight(void)
{
	int mfd = make_memfd(4096), efd = make_eventfd(), fds[2] = { mfd, mfd };
	int before = check_count_fds(), fd = -7;
	struct tpair tp;

	open_all(&tp);
	CHECK_EQ(inflight_with(&tp, 4096, 0, &mfd, 1, &fd), 0);
	close(fd);
	fd = -7;
	CHECK_EQ(inflight_with(&tp, 0, 0, &mfd, 1, &fd), -EPROTO);
	CHECK_ERR(&tp.fe, "GET_INFLIGHT_FD: mmap_size 0");
	CHECK_EQ(inflight_with(&tp, 4096, 1, &mfd, 1, &fd), -EPROTO);
	CHECK_ERR(&tp.fe, "fd is 4096 bytes, reply says offset 0x1 + size");
	CHECK_EQ(inflight_with(&tp, 8, ~0ull, &mfd, 1, &fd), -EPROTO);
	CHECK_EQ(inflight_with(&tp, 4096, 0, &efd, 1, &fd), -EPROTO);
	CHECK_ERR(&tp.fe, "not a memory file");
	CHECK_EQ(fd, -7);
	CHECK_EQ(inflight_with(&tp, 4096, 0, fds, 2, &fd), -EPROTO);
	CHECK_ERR(&tp.fe, "reply carries 2 fds, expected 1");
	tp_close(&tp);

	open_all(&tp);
	CHECK_EQ(inflight_with(&tp, 4096, 0, NULL, 0, &fd), -EPROTO);
	CHECK_ERR(&tp.fe, "reply carries 0 fds, expected 1");
	tp_close(&tp);
	CHECK_EQ(check_count_fds(), before);
	close(mfd);
	close(efd);
}

static int state_fd_with(struct tpair *tp, uint64_t v, const int *fds,
			 unsigned int nfds, int *back)
{
	int p = make_eventfd(), err;

	peer_send(tp->peer, VHOST_USER_SET_DEVICE_STATE_FD, REPLY, &v, 8, fds,
		  nfds);
	err = vhu_set_device_state_fd(&tp->fe, 0, 0, p, back);
	close(p);
	return err;
}

static void test_device_state(void)
{
	int efd = make_eventfd(), before = check_count_fds(), back = -7;
	uint64_t nofd = VHOST_USER_DEVICE_STATE_NOFD_MASK;
	struct tpair tp;

	open_all(&tp);
	CHECK_EQ(state_fd_with(&tp, nofd | 5, NULL, 0, &back), -EIO);
	CHECK_ERR(&tp.fe, "SET_DEVICE_STATE_FD: backend failed (error 5)");
	CHECK_EQ(state_fd_with(&tp, 5, &efd, 1, &back), -EIO);
	CHECK_EQ(state_fd_with(&tp, 0, NULL, 0, &back), -EPROTO);
	CHECK_ERR(&tp.fe, "reply has 0 fds but the no-fd bit is clear");
	CHECK_EQ(state_fd_with(&tp, nofd, &efd, 1, &back), -EPROTO);
	CHECK_EQ(state_fd_with(&tp, 1ull << 9, NULL, 0, &back), -EPROTO);
	CHECK_ERR(&tp.fe, "unknown bits");
	CHECK_EQ(back, -7);
	tp_close(&tp);
	CHECK_EQ(check_count_fds(), before);
	close(efd);
}

static void test_log_base_reply(void)
{
	int log = make_memfd(4096);
	struct tpair tp;

	open_all(&tp);
	peer_send(tp.peer, VHOST_USER_SET_LOG_BASE, REPLY, "\0\0\0\0", 4, NULL,
		  0);
	CHECK_EQ(vhu_set_log_base(&tp.fe, 4096, 0, log), -EPROTO);
	CHECK_ERR(&tp.fe, "SET_LOG_BASE: reply size 4, expected 8");
	tp_close(&tp);
	close(log);
}

/* The fd count after every error path above, run again in one process. */
static void test_no_leaks(void)
{
	int before = check_count_fds();

	for (int i = 0; i < 3; i++) {
		test_sizes_and_fds();
		test_too_many_fds();
		test_ack_with_fd();
		test_inflight();
		test_device_state();
		test_hangup_mid_payload();
	}
	CHECK_EQ(check_count_fds(), before);
}

static const struct check_case cases[] = {
	{ "header", test_header },
	{ "sizes_and_fds", test_sizes_and_fds },
	{ "too_many_fds", test_too_many_fds },
	{ "oversized", test_oversized },
	{ "hangup_mid_header", test_hangup_mid_header },
	{ "hangup_mid_payload", test_hangup_mid_payload },
	{ "hangup_before_reply", test_hangup_before_reply },
	{ "peer_closed_send", test_peer_closed_send },
	{ "timeout", test_timeout },
	{ "timeout_partial", test_timeout_partial },
	{ "ack", test_ack },
	{ "ack_with_fd", test_ack_with_fd },
	{ "get_config", test_get_config },
	{ "get_vring_base", test_get_vring_base },
	{ "bad_values", test_bad_values },
	{ "inflight", test_inflight },
	{ "device_state", test_device_state },
	{ "log_base_reply", test_log_base_reply },
	{ "no_leaks", test_no_leaks },
};

int main(int argc, char **argv)
{
	return RUN_TESTS(cases, argc, argv);
}
