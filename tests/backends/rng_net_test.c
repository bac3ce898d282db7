// SPDX-License-Identifier: MIT
/*
 * vuvm-backend rng and net as separate processes, driven through vuvm's
 * frontend and driver-side split rings: rng fills buffers with bytes that
 * are neither constant nor repeated; net loops frames of 60..1514 bytes
 * from each transmit queue back to its receive queue byte for byte, holds
 * frames while no receive buffer exists, and with two pairs answers the
 * control queue.
 */
#define _GNU_SOURCE
#include "tests/backends/driver.h"
#include "vhost/log.h"
#include "virtio/virtio_net.h"

#define RING_FEATURES                                                      \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
#define NET_FEATURES                                                     \
	(RING_FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MAC) |                  \
	 VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_MQ) | \
	 VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ))
#define HDR    sizeof(struct virtio_net_hdr_v1)
#define RX_BUF (HDR + 1514)

static bool constant(const uint8_t *p, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

static void test_rng(void)
{
	const char *argv[] = { "rng", NULL };
	uint64_t a, b;
	struct td t;

	td_start(&t, argv);
	CHECK_EQ(t.fe.queue_num, 1);
	td_start_device(&t, RING_FEATURES, 1);
	a = td_alloc(&t, 4096);
	b = td_alloc(&t, 4096);
	memset(td_host(&t, a), 0, 4096);
	memset(td_host(&t, b), 0, 4096);
	/* One chain of two pieces, then a chain of one. */
	td_submit(&t, 0,
		  (struct td_buf[]){ { a, 1000, true },
				     { a + 1000, 3096, true } },
		  2);
	CHECK_EQ(td_wait_used(&t, 0, NULL), 4096);
	td_submit(&t, 0, (struct td_buf[]){ { b, 4096, true } }, 1);
	CHECK_EQ(td_wait_used(&t, 0, NULL), 4096);
	CHECK(!constant(td_host(&t, a), 4096));
	CHECK(!constant(td_host(&t, a) + 3096, 1000));
	CHECK(memcmp(td_host(&t, a), td_host(&t, b), 4096));
	td_stop(&t);
}

/* Posts @n receive buffers on queue @rx. */
static uint64_t post_rx(struct td *t, unsigned int rx, unsigned int n)
{
	uint64_t first = td_alloc(t, RX_BUF);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t g = i ? td_alloc(t, RX_BUF) : first;

		td_submit(t, rx, (struct td_buf[]){ { g, RX_BUF, true } }, 1);
	}
	return first;
}

/* Sends a frame of @len bytes (header and frame in separate pieces). */
static void send_frame(struct td *t, unsigned int tx, uint8_t *frame,
		       size_t len, unsigned int seed)
{
	uint64_t h = td_alloc(t, HDR), f = td_alloc(t, (uint32_t)len);

	memset(td_host(t, h), 0, HDR);
	for (size_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(i * 13 + seed);
	memcpy(td_host(t, f), frame, len);
	td_submit(t, tx,
		  (struct td_buf[]){
			  { h, HDR, false },
			  { f, (uint32_t)(len / 2), false },
			  { f + len / 2, (uint32_t)(len - len / 2), false } },
		  3);
}

/* Checks that the next receive completion on @rx is @frame. */
static void expect_frame(struct td *t, unsigned int rx, const uint8_t *frame,
			 size_t len)
{
	struct td_queue *q = &t->q[rx];
	const struct virtio_net_hdr_v1 *h;
	uint32_t id, used = td_wait_used(t, rx, &id);

	CHECK_EQ(used, HDR + len);
	h = td_host(t, q->desc[id].addr);
	CHECK_EQ(h->num_buffers, 1);
	CHECK_EQ(h->flags, 0);
	CHECK_EQ(h->gso_type, VIRTIO_NET_HDR_GSO_NONE);
	CHECK(!memcmp((const uint8_t *)h + HDR, frame, len));
}

static void test_net_loopback(void)
{
	const char *argv[] = { "net", NULL };
	static const size_t sizes[] = {
		60, 61, 64, 128, 577, 1000, 1513, 1514
	};
	static uint8_t frame[1514];
	struct virtio_net_config cfg;
	struct td t;

	td_start(&t, argv);
	CHECK_EQ(t.fe.queue_num, 2);
	CHECK(!(t.fe.features & VIRTIO_BIT(VIRTIO_NET_F_MQ)));
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK(!memcmp(cfg.mac, "\x52\x54\x00\x12\x34\x56", 6));
	CHECK_EQ(cfg.status, VIRTIO_NET_S_LINK_UP);
	CHECK_EQ(cfg.max_virtqueue_pairs, 1);
	td_start_device(&t, NET_FEATURES & t.fe.features, 2);
	post_rx(&t, 0, 16);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		send_frame(&t, 1, frame, sizes[i], i);
		CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
		expect_frame(&t, 0, frame, sizes[i]);
	}
	td_stop(&t);
}

/* Without a receive buffer the frame waits in the transmit ring. */
static void test_net_hold(void)
{
	const char *argv[] = { "net", NULL };
	static uint8_t frame[200];
	struct td t;

	td_start(&t, argv);
	td_start_device(&t, NET_FEATURES & t.fe.features, 2);
	send_frame(&t, 1, frame, sizeof(frame), 7);
	CHECK(!td_poll_used(&t, 1, 200));
	post_rx(&t, 0, 1);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
	expect_frame(&t, 0, frame, sizeof(frame));
	td_stop(&t);
}

static void test_net_mq(void)
{
	const char *argv[] = { "net", "--queues", "2", NULL };
	static uint8_t frame[1514];
	struct virtio_net_config cfg;
	struct virtio_net_ctrl_hdr *c;
	uint64_t cmd, ack;
	struct td t;

	td_start(&t, argv);
	CHECK_EQ(t.fe.queue_num, 5);
	CHECK(t.fe.features & VIRTIO_BIT(VIRTIO_NET_F_MQ));
	CHECK(t.fe.features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ));
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK_EQ(cfg.max_virtqueue_pairs, 2);
	td_start_device(&t, NET_FEATURES & t.fe.features, 5);
	/* The control queue: 2 pairs is fine, 3 is not. */
	for (uint16_t pairs = 2; pairs <= 3; pairs++) {
		cmd = td_alloc(&t, 4);
		ack = td_alloc(&t, 1);
		c = td_host(&t, cmd);
		*c = (struct virtio_net_ctrl_hdr){
			VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET
		};
		memcpy(c + 1, &pairs, 2);
		td_submit(&t, 4,
			  (struct td_buf[]){ { cmd, 4, false },
					     { ack, 1, true } },
			  2);
		CHECK_EQ(td_wait_used(&t, 4, NULL), 1);
		CHECK_EQ(*(uint8_t *)td_host(&t, ack),
			 pairs == 2 ? VIRTIO_NET_OK : VIRTIO_NET_ERR);
	}
	post_rx(&t, 0, 2);
	post_rx(&t, 2, 2);
	send_frame(&t, 3, frame, 1514, 3);
	CHECK_EQ(td_wait_used(&t, 3, NULL), 0);
	expect_frame(&t, 2, frame, 1514);
	CHECK(!td_poll_used(&t, 0, 50));
	send_frame(&t, 1, frame, 60, 4);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
	expect_frame(&t, 0, frame, 60);
	td_stop(&t);
}

/* Frames that cannot be delivered are dropped, and the device goes on. */
static void test_net_drops(void)
{
	const char *argv[] = { "net",	       "--queues", "2",
			       "--no-feature", "mq",	   NULL };
	static uint8_t frame[1000];
	uint64_t small, h;
	struct td t;

	td_start(&t, argv);
	CHECK_EQ(t.fe.queue_num, 4); /* two pairs, no control queue */
	CHECK(!(t.fe.features & VIRTIO_BIT(VIRTIO_NET_F_MQ)));
	CHECK(!(t.fe.features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)));
	td_start_device(&t, NET_FEATURES & t.fe.features, 2);
	/* Shorter than the header: the receive buffer stays unused. */
	small = td_alloc(&t, 100);
	td_submit(&t, 0, (struct td_buf[]){ { small, 100, true } }, 1);
	h = td_alloc(&t, 8);
	td_submit(&t, 1, (struct td_buf[]){ { h, 8, false } }, 1);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
	CHECK(!td_poll_used(&t, 0, 50));
	/* Larger than the receive buffer: both completed, nothing copied. */
	send_frame(&t, 1, frame, sizeof(frame), 1);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
	CHECK_EQ(td_wait_used(&t, 0, NULL), 0);
	/* A proper buffer works again. */
	post_rx(&t, 0, 1);
	send_frame(&t, 1, frame, 100, 2);
	expect_frame(&t, 0, frame, 100);
	td_stop(&t);
}

/* A hostile driver on every queue of net and rng: random rings and
 * buffers, round after round; each round the device must still answer and
 * work once its queues are restarted. */
static void garbage_rounds(struct td *t, unsigned int nq, uint64_t seed)
{
	for (int round = 0; round < 40; round++) {
		for (unsigned int q = 0; q < nq; q++)
			td_garbage(t, q, &seed);
		for (unsigned int q = 0; q < nq; q++)
			td_kick(t, q);
		td_poll_used(t, 0, 10);
		for (unsigned int q = 0; q < nq; q++)
			td_restart_queue(t, q);
	}
	td_reset_heap(t);
}

static void test_garbage(void)
{
	const char *net[] = { "net", "--queues", "2", NULL };
	const char *rng[] = { "rng", NULL };
	static uint8_t frame[1514];
	uint64_t a;
	struct td t;

	td_start(&t, net);
	td_start_device(&t, NET_FEATURES & t.fe.features, 5);
	garbage_rounds(&t, 5, 0x1234567887654321ull);
	post_rx(&t, 2, 1);
	send_frame(&t, 3, frame, 1514, 9);
	expect_frame(&t, 2, frame, 1514);
	td_stop(&t);

	td_start(&t, rng);
	td_start_device(&t, RING_FEATURES, 1);
	garbage_rounds(&t, 1, 0xfeedfacecafebeefull);
	a = td_alloc(&t, 64);
	td_submit(&t, 0, (struct td_buf[]){ { a, 64, true } }, 1);
	CHECK_EQ(td_wait_used(&t, 0, NULL), 64);
	td_stop(&t);
}

static const struct check_case cases[] = {
	{ "rng", test_rng },
	{ "net_loopback", test_net_loopback },
	{ "net_hold", test_net_hold },
	{ "net_mq", test_net_mq },
	{ "net_drops", test_net_drops },
	{ "garbage", test_garbage },
};

int main(int argc, char **argv)
{
	log_set_program("rng_net_test");
	return CHECK_RUN(cases, argc, argv);
}
