// SPDX-License-Identifier: MIT
/*
 * vuvm-backend blk as a separate process, driven through vuvm's frontend
 * and a driver-side split ring in shared memory: data written and read
 * back, flush, GET_ID, DISCARD and WRITE_ZEROES, every kind of bad request
 * (answered with a status, the backend carrying on), a file-backed disk
 * checked from the host, config space and --no-feature, several queues,
 * and a broken ring that stops only its queue.
 */
#define _GNU_SOURCE
#include "tests/backends/blk_driver.h"
#include "vhost/log.h"
#include "virtio/virtio_blk.h"

static void test_rw(void)
{
	const char *argv[] = { "blk", "--size", "1M", NULL };
	static uint8_t out[8192], in[8192];
	uint32_t used;
	struct td t;

	start_blk(&t, argv, 1);
	fill_pattern(out, sizeof(out), 1);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 10, out, sizeof(out), 3,
			 &used),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(used, 1);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 10, in, sizeof(in), 5, &used),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(used, sizeof(in) + 1);
	CHECK(!memcmp(in, out, sizeof(in)));
	/* A sector in the middle, read on its own. */
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 13, in, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(!memcmp(in, out + 3 * 512, 512));
	/* The last sector of the disk. */
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 2047, out, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 2047, in, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(!memcmp(in, out, 512));
	td_stop(&t);
}

static void test_flush_get_id(void)
{
	const char *argv[] = { "blk", NULL };
	char id[VIRTIO_BLK_ID_BYTES];
	uint32_t used;
	struct td t;

	start_blk(&t, argv, 1);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 1, &used),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(used, 1);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_GET_ID, 0, id, sizeof(id), 1,
			 &used),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(used, sizeof(id) + 1);
	CHECK(!strcmp(id, "vuvm-blk"));
	td_stop(&t);
}

static void test_discard_write_zeroes(void)
{
	const char *argv[] = { "blk", "--size", "1M", NULL };
	static uint8_t out[4096], in[4096];
	struct td t;

	start_blk(&t, argv, 1);
	fill_pattern(out, sizeof(out), 3);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 100, out, sizeof(out), 1,
			 NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_DISCARD, 101, 2, 0), VIRTIO_BLK_S_OK);
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_WRITE_ZEROES, 104, 2,
			VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 100, in, sizeof(in), 2, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(!memcmp(in, out, 512));
	CHECK(all_zero(in + 512, 1024));
	CHECK(!memcmp(in + 1536, out + 1536, 512));
	CHECK(all_zero(in + 2048, 1024));
	CHECK(!memcmp(in + 3072, out + 3072, 1024));
	/* Unmap is not a discard flag; unknown flags; out of range; empty. */
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_DISCARD, 0, 1,
			VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0x80),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_DISCARD, 2047, 2, 0),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_WRITE_ZEROES, ~0ull, 1, 0),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_DISCARD, 0, NULL, 0, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	td_stop(&t);
}

static void test_bad_requests(void)
{
	const char *argv[] = { "blk", "--size", "1M", NULL };
	static uint8_t buf[4096];
	struct td t;
	uint64_t h, s;

	start_blk(&t, argv, 1);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 2047, buf, 1024, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 2048, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, ~0ull >> 1, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 0, buf, 100, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_GET_ID, 0, buf, 10, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_req(&t, 0, 99, 0, NULL, 0, 1, NULL), VIRTIO_BLK_S_UNSUPP);
	/* A header of 8 bytes. */
	td_reset_heap(&t);
	h = td_alloc(&t, 16);
	s = td_alloc(&t, 1);
	CHECK_EQ(raw_req(&t,
			 (struct td_buf[]){ { h, 8, false }, { s, 1, true } },
			 2),
		 VIRTIO_BLK_S_IOERR);
	/* A header split over two descriptors is fine. */
	memset(td_host(&t, h), 0, 16);
	((struct virtio_blk_outhdr *)td_host(&t, h))->type = VIRTIO_BLK_T_FLUSH;
	CHECK_EQ(raw_req(&t,
			 (struct td_buf[]){ { h, 5, false },
					    { h + 5, 11, false },
					    { s, 1, true } },
			 3),
		 VIRTIO_BLK_S_OK);
	/* No status byte at all: completed with length 0, nothing else. */
	td_submit(&t, 0, (struct td_buf[]){ { h, 16, false } }, 1);
	CHECK_EQ(td_wait_used(&t, 0, NULL), 0);
	/* The device still works. */
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 0, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	td_stop(&t);
}

static void test_file(void)
{
	char file[] = "/tmp/vub-blk-XXXXXX";
	int fd = mkstemp(file);
	const char *argv[] = { "blk", "--file", file, NULL };
	static uint8_t out[8192], back[8192];
	struct virtio_blk_config cfg;
	struct td t;

	CHECK(fd >= 0 && !ftruncate(fd, (1 << 20) + 100));
	start_blk(&t, argv, 1);
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK_EQ(cfg.capacity, 2048); /* the 100-byte tail is not used */
	fill_pattern(out, sizeof(out), 9);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 5, out, sizeof(out), 4, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(pread(fd, back, sizeof(back), 5 * 512) == sizeof(back));
	CHECK(!memcmp(back, out, sizeof(out)));
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_DISCARD, 6, 1, 0), VIRTIO_BLK_S_OK);
	CHECK(pread(fd, back, 512, 6 * 512) == 512);
	CHECK(all_zero(back, 512));
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 2048, back, 512, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	td_stop(&t);
	close(fd);
	unlink(file);
}

static void test_config_features(void)
{
	const char *argv[] = { "blk", "--size",	      "2M",	 "--queues",
			       "2",   "--no-feature", "discard", NULL };
	struct virtio_blk_config cfg;
	uint8_t junk[512];
	struct td t;

	td_start(&t, argv);
	CHECK_EQ(t.fe.queue_num, 2);
	CHECK(t.fe.features & VIRTIO_BIT(VIRTIO_BLK_F_MQ));
	CHECK(!(t.fe.features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)));
	CHECK(t.fe.features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK_EQ(cfg.capacity, 4096);
	CHECK_EQ(cfg.blk_size, 512);
	CHECK_EQ(cfg.num_queues, 2);
	CHECK(cfg.seg_max >= 1);
	CHECK(cfg.max_discard_sectors >= 1 && cfg.max_write_zeroes_seg >= 1);
	td_start_device(&t, BLK_FEATURES & t.fe.features, 2);
	/* Both queues serve; DISCARD is unsupported now. */
	memset(junk, 0x5a, sizeof(junk));
	CHECK_EQ(blk_req(&t, 1, VIRTIO_BLK_T_OUT, 4095, junk, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	memset(junk, 0, sizeof(junk));
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 4095, junk, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(junk[511], 0x5a);
	CHECK_EQ(dz_req(&t, VIRTIO_BLK_T_DISCARD, 0, 1, 0),
		 VIRTIO_BLK_S_UNSUPP);
	td_stop(&t);
}

/* A descriptor outside guest memory breaks queue 0 only: the backend
 * keeps answering on the socket and on queue 1, and serves queue 0 again
 * once the frontend has stopped and restarted it. */
static void test_broken_ring(void)
{
	const char *argv[] = { "blk", "--queues", "2", NULL };
	uint8_t buf[512];
	uint32_t base;
	struct td t;
	uint64_t v;
	int err;

	start_blk(&t, argv, 2);
	err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK_EQ(vhu_set_vring_err(&t.fe, 0, err), 0);
	td_submit(&t, 0,
		  (struct td_buf[]){ { 0x10, 16, false }, { TD_GPA, 1, true } },
		  2);
	CHECK(!td_poll_used(&t, 0, 200));
	CHECK(read(err, &v, sizeof(v)) == sizeof(v) && v == 1);
	close(err);
	CHECK_EQ(blk_req(&t, 1, VIRTIO_BLK_T_IN, 0, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(vhu_get_vring_base(&t.fe, 1, &base), 0);
	CHECK_EQ(base, 1);
	/* Stopped and set up again, queue 0 is served again. */
	td_restart_queue(&t, 0);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 0, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	td_stop(&t);
}

/* A request through an indirect table: header, data in two pieces,
 * status. */
static void test_indirect(void)
{
	const char *argv[] = { "blk", "--size", "1M", NULL };
	static uint8_t out[1024];
	struct virtio_blk_outhdr *h;
	uint64_t hdr, data, st;
	struct td t;

	start_blk(&t, argv, 1);
	CHECK(t.fe.acked_features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	fill_pattern(out, sizeof(out), 5);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 7, out, sizeof(out), 1, NULL),
		 VIRTIO_BLK_S_OK);
	td_reset_heap(&t);
	hdr = td_alloc(&t, sizeof(*h));
	data = td_alloc(&t, sizeof(out));
	st = td_alloc(&t, 1);
	h = td_host(&t, hdr);
	*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN, .sector = 7 };
	td_submit_indirect(&t, 0,
			   (struct td_buf[]){ { hdr, 16, false },
					      { data, 300, true },
					      { data + 300, 724, true },
					      { st, 1, true } },
			   4);
	CHECK_EQ(td_wait_used(&t, 0, NULL), sizeof(out) + 1);
	CHECK_EQ(*(uint8_t *)td_host(&t, st), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(td_host(&t, data), out, sizeof(out)));
	td_stop(&t);
}

/* No kick fd (the backend polls the ring) and no EVENT_IDX (interrupts
 * follow VIRTQ_AVAIL_F_NO_INTERRUPT). */
static void test_polled(void)
{
	const char *argv[] = { "blk",	       "--size",    "1M",
			       "--no-feature", "event_idx", NULL };
	static uint8_t out[2048], in[2048];
	struct td t;
	uint64_t v;

	td_start(&t, argv);
	CHECK(!(t.fe.features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX)));
	t.polled = true;
	td_start_device(&t, BLK_FEATURES & t.fe.features, 1);
	fill_pattern(out, sizeof(out), 11);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, 1, out, sizeof(out), 2, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 1, in, sizeof(in), 2, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(!memcmp(in, out, sizeof(in)));
	/* The driver asks for no interrupts: none comes. */
	while (read(t.q[0].call, &v, sizeof(v)) == sizeof(v))
		;
	t.q[0].avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(read(t.q[0].call, &v, sizeof(v)) < 0 && errno == EAGAIN);
	td_stop(&t);
}

static void plausible_header(uint8_t *p, uint64_t *seed)
{
	static const uint32_t types[] = {
		VIRTIO_BLK_T_IN,      VIRTIO_BLK_T_OUT,
		VIRTIO_BLK_T_FLUSH,   VIRTIO_BLK_T_GET_ID,
		VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES
	};
	struct virtio_blk_outhdr h = { types[td_rand(seed) % 6], 0,
				       td_rand(seed) % 2200 };

	memcpy(p, &h, sizeof(h));
}

/* Rewrites the table as header / data / status triplets with random
 * lengths and directions, so that requests reach the device's checks. */
static void plausible_chains(struct td *t, uint64_t *seed)
{
	struct virtq_desc *d = t->q[0].desc;

	for (unsigned int i = 0; i + 3 <= TD_QSIZE; i += 3) {
		uint64_t r = td_rand(seed);
		uint64_t hdr = TD_GPA + TD_HEAP + (r >> 16) % 65000 / 16 * 16;
		uint16_t dir = (r >> 8) % 2 ? VIRTQ_DESC_F_WRITE : 0;

		d[i] = (struct virtq_desc){ hdr, r % 4 ? 16 : (uint32_t)r % 40,
					    VIRTQ_DESC_F_NEXT,
					    (uint16_t)(i + 1) };
		d[i + 1] = (struct virtq_desc){ td_rand_gpa(seed),
						(uint32_t)(r >> 40) % 5 * 256,
						VIRTQ_DESC_F_NEXT | dir,
						(uint16_t)(i + 2) };
		d[i + 2] = (struct virtq_desc){ td_rand_gpa(seed),
						(uint32_t)(r >> 50) % 3,
						VIRTQ_DESC_F_WRITE, 0 };
		t->q[0].avail->ring[i / 3] = (uint16_t)i;
	}
}

/*
 * A hostile driver: rounds of random descriptors, avail entries, request
 * headers and data. The backend must keep answering, serve a proper
 * request after every round, and exit cleanly at the end (under ASan, any
 * bad access would end it).
 */
static void test_garbage(void)
{
	const char *argv[] = { "blk", "--size", "1M", NULL };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned int served = 0;
	uint8_t buf[512];
	struct td t;

	start_blk(&t, argv, 1);
	for (int round = 0; round < 60; round++) {
		uint8_t *heap = td_host(&t, TD_GPA + TD_HEAP);

		td_garbage(&t, 0, &seed);
		/* Plausible headers in the window, so that some chains get
		 * past the header. */
		for (size_t off = 0; off < 65536; off += 16)
			if (td_rand(&seed) % 2)
				plausible_header(heap + off, &seed);
		if (round % 2)
			plausible_chains(&t, &seed);
		td_kick(&t, 0);
		td_poll_used(&t, 0, 20);
		served += t.q[0].used->idx;
		td_restart_queue(&t, 0);
		td_reset_heap(&t);
		CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 0, buf, 512, 1, NULL),
			 VIRTIO_BLK_S_OK);
	}
	CHECK(served > 100); /* the garbage did reach the device */
	td_stop(&t);
}

/* A frontend that truncates guest memory under the backend: the backend
 * says so and exits 1, leaving no socket file (never a silent crash). */
static void test_truncated_memory(void)
{
	const char *argv[] = { "blk", "--size", "1M", NULL };
	uint64_t h, st, one = 1;
	struct stat sb;
	struct td t;
	int kick;

	start_blk(&t, argv, 1);
	h = td_alloc(&t, 16);
	st = td_alloc(&t, 1);
	memset(td_host(&t, h), 0, 16);
	/* Made available without a kick; after the truncation nothing of
	 * ours touches the memory, the backend does on the kick. */
	kick = t.q[0].kick;
	t.q[0].kick = -1;
	td_submit(&t, 0, (struct td_buf[]){ { h, 16, false }, { st, 1, true } },
		  2);
	CHECK(!ftruncate(t.mem_fd, 0));
	CHECK(write(kick, &one, sizeof(one)) == sizeof(one));
	CHECK_EQ(td_wait_exit(t.pid, 3000), 1);
	CHECK(stat(t.path, &sb) && errno == ENOENT);
	close(kick);
	close(t.q[0].call);
	vhu_frontend_close(&t.fe);
	munmap(t.mem, TD_MEM_SIZE);
	close(t.mem_fd);
}

static const struct check_case cases[] = {
	{ "rw", test_rw },
	{ "flush_get_id", test_flush_get_id },
	{ "discard_write_zeroes", test_discard_write_zeroes },
	{ "bad_requests", test_bad_requests },
	{ "file", test_file },
	{ "config_features", test_config_features },
	{ "broken_ring", test_broken_ring },
	{ "indirect", test_indirect },
	{ "polled", test_polled },
	{ "garbage", test_garbage },
	{ "truncated_memory", test_truncated_memory },
};

int main(int argc, char **argv)
{
	log_set_program("blk_test");
	return CHECK_RUN(cases, argc, argv);
}
