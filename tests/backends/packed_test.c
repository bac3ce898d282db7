// SPDX-License-Identifier: MIT
/*
 * vuvm-backend blk, net and rng on packed rings (VIRTIO_F_RING_PACKED) and
 * with IN_ORDER, as separate processes driven through vuvm's frontend and
 * driver.h's packed driver: both features offered by default and taken
 * away by --no-feature; blk data written and read back through chains of
 * 1 to 6 data pieces and through indirect tables; more than 65,536 rng
 * buffers through a ring of 256 (hundreds of laps, wrap counters checked
 * on every used descriptor); --reorder batches used out of order without
 * IN_ORDER and in order with it; net frames looped back byte for byte;
 * the 32-bit GET_VRING_BASE; and a chain of blk processes killed with -9
 * mid-batch whose packed in-flight region hands every write to the next
 * one: zero lost, every byte on disk.
 */
#define _GNU_SOURCE
#include "tests/backends/blk_driver.h"
#include "vhost/protocol.h"
#include "virtio/virtio_net.h"

#define PACKED	 VIRTIO_BIT(VIRTIO_F_RING_PACKED)
#define IN_ORDER VIRTIO_BIT(VIRTIO_F_IN_ORDER)
#define DATA_LEN 4096u
#define DISK_LEN (1u << 20)

static void test_offer(void)
{
	const char *types[] = { "blk", "net", "rng" };

	for (unsigned int i = 0; i < 3; i++) {
		const char *argv[] = { types[i], NULL };
		const char *off[] = { types[i],	     "--no-feature",
				      "ring_packed", "--no-feature",
				      "in_order",    NULL };
		struct td t;

		td_start(&t, argv);
		CHECK(t.fe.features & PACKED);
		CHECK(t.fe.features & IN_ORDER);
		td_stop(&t);
		td_start(&t, off);
		CHECK(!(t.fe.features & PACKED));
		CHECK(!(t.fe.features & IN_ORDER));
		CHECK(t.fe.features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
		td_stop(&t);
	}
}

/* blk: writes and reads back through chains of 1..6 data pieces and an
 * indirect table, with @extra features. */
static void blk_rw(uint64_t extra)
{
	const char *argv[] = { "blk", "--size", "1M", NULL };
	static uint8_t out[8192], in[8192];
	uint32_t used;
	struct td t;

	td_start(&t, argv);
	td_start_device(&t, (BLK_FEATURES | PACKED | extra) & t.fe.features, 1);
	CHECK(t.packed);
	for (unsigned int nseg = 1; nseg <= 6; nseg++) {
		fill_pattern(out, sizeof(out), nseg);
		CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_OUT, nseg * 16, out,
				 sizeof(out), nseg, &used),
			 VIRTIO_BLK_S_OK);
		CHECK_EQ(used, 1);
		memset(in, 0, sizeof(in));
		CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, nseg * 16, in,
				 sizeof(in), 7 - nseg, &used),
			 VIRTIO_BLK_S_OK);
		CHECK_EQ(used, sizeof(in) + 1);
		CHECK(!memcmp(in, out, sizeof(in)));
	}
	/* through an indirect table: header, 512 bytes in, status */
	{
		uint64_t hdr, data, st;
		struct virtio_blk_outhdr *h;

		td_reset_heap(&t);
		hdr = td_alloc(&t, sizeof(*h));
		data = td_alloc(&t, 512);
		st = td_alloc(&t, 1);
		h = td_host(&t, hdr);
		*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN,
						 .sector = 16 };
		td_submit_indirect(&t, 0,
				   (struct td_buf[]){ { hdr, 16, false },
						      { data, 512, true },
						      { st, 1, true } },
				   3);
		CHECK_EQ(td_wait_used(&t, 0, NULL), 513);
		CHECK_EQ(*(uint8_t *)td_host(&t, st), VIRTIO_BLK_S_OK);
		fill_pattern(out, sizeof(out), 1);
		CHECK(!memcmp(td_host(&t, data), out, 512));
	}
	td_stop(&t);
}

static void test_blk(void)
{
	blk_rw(0);
}

static void test_blk_event_idx_in_order(void)
{
	blk_rw(VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | IN_ORDER |
	       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
}

/* More than 65,536 buffers through a ring of 256, 32 at a time: every
 * used descriptor is in flight and in the right lap, every buffer is
 * filled, and GET_VRING_BASE says where both sides are. */
static void test_rng_wrap(void)
{
	const char *argv[] = { "rng", NULL };
	enum { TOTAL = 70000, BATCH = 32 };
	unsigned int done = 0, lost = 0;
	uint32_t base;
	uint64_t buf;
	struct td t;

	td_start(&t, argv);
	td_start_device(&t, PACKED | VIRTIO_BIT(VIRTIO_F_VERSION_1), 1);
	buf = td_alloc(&t, BATCH * 64);
	while (done < TOTAL) {
		for (unsigned int i = 0; i < BATCH; i++)
			td_submit(
				&t, 0,
				(struct td_buf[]){ { buf + i * 64, 64, true } },
				1);
		for (unsigned int i = 0; i < BATCH; i++)
			if (td_wait_used(&t, 0, NULL) != 64)
				lost++;
		done += BATCH;
		if (lost || check_failures)
			break;
	}
	CHECK_EQ(lost, 0);
	CHECK_EQ(done, (TOTAL + BATCH - 1) / BATCH * BATCH);
	/* 70,016 buffers = 273 laps of 256 and 128 slots */
	CHECK_EQ(vhu_get_vring_base(&t.fe, 0, &base), 0);
	CHECK_EQ(base, virtq_packed_base(
			       done % TD_QSIZE, (done / TD_QSIZE) % 2 == 0,
			       done % TD_QSIZE, (done / TD_QSIZE) % 2 == 0));
	CHECK_EQ(t.q[0].avail_slot, done % TD_QSIZE);
	td_stop(&t);
}

/* --reorder 4: a batch is used last to first; with IN_ORDER first to
 * last. Either way every write reads back. */
static void reorder(bool in_order)
{
	const char *argv[] = { "blk", "--size", "1M", "--reorder", "4", NULL };
	uint64_t hdr[4], data[4], st[4];
	uint16_t id[4];
	struct td t;

	td_start(&t, argv);
	td_start_device(&t,
			VIRTIO_BIT(VIRTIO_F_VERSION_1) | PACKED |
				(in_order ? IN_ORDER : 0),
			1);
	t.q[0].defer = true;
	for (unsigned int i = 0; i < 4; i++) {
		struct virtio_blk_outhdr *h;

		hdr[i] = td_alloc(&t, 16);
		data[i] = td_alloc(&t, 512);
		st[i] = td_alloc(&t, 1);
		h = td_host(&t, hdr[i]);
		*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_OUT,
						 .sector = i };
		memset(td_host(&t, data[i]), 0x10 + i, 512);
		id[i] = td_submit(&t, 0,
				  (struct td_buf[]){ { hdr[i], 16, false },
						     { data[i], 512, false },
						     { st[i], 1, true } },
				  3);
	}
	td_publish_deferred(&t, 0);
	for (unsigned int i = 0; i < 4; i++) {
		uint32_t got;

		td_wait_used(&t, 0, &got);
		CHECK_EQ(got, id[in_order ? i : 3 - i]);
	}
	t.q[0].defer = false;
	for (unsigned int i = 0; i < 4; i++) {
		uint8_t back[512], want[512];

		CHECK_EQ(*(uint8_t *)td_host(&t, st[i]), VIRTIO_BLK_S_OK);
		memset(want, 0x10 + i, sizeof(want));
		CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, i, back, 512, 1, NULL),
			 VIRTIO_BLK_S_OK);
		CHECK(!memcmp(back, want, sizeof(back)));
	}
	td_stop(&t);
}

static void test_reorder(void)
{
	reorder(false);
}

static void test_reorder_in_order(void)
{
	reorder(true);
}

/* net: frames from the transmit ring arrive on the receive ring. */
static void test_net(void)
{
	const char *argv[] = { "net", NULL };
	enum { HDR = sizeof(struct virtio_net_hdr_v1), RX = HDR + 1514 };
	uint64_t rx[8];
	struct td t;

	td_start(&t, argv);
	td_start_device(&t,
			(VIRTIO_BIT(VIRTIO_F_VERSION_1) | PACKED | IN_ORDER |
			 VIRTIO_BIT(VIRTIO_F_EVENT_IDX)) &
				t.fe.features,
			2);
	for (unsigned int i = 0; i < 8; i++) {
		rx[i] = td_alloc(&t, RX);
		td_submit(&t, 0, (struct td_buf[]){ { rx[i], RX, true } }, 1);
	}
	for (unsigned int i = 0; i < 8; i++) {
		uint32_t len = 60 + i * 200;
		uint64_t h = td_alloc(&t, HDR), f = td_alloc(&t, len);
		uint8_t *p = td_host(&t, f), *r;

		memset(td_host(&t, h), 0, HDR);
		for (uint32_t k = 0; k < len; k++)
			p[k] = (uint8_t)(k * 3 + i);
		td_submit(&t, 1,
			  (struct td_buf[]){ { h, HDR, false },
					     { f, len, false } },
			  2);
		CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
		CHECK_EQ(td_wait_used(&t, 0, NULL), HDR + len);
		r = td_host(&t, rx[i]);
		CHECK(!memcmp(r + HDR, p, len));
	}
	td_stop(&t);
}

/* ------------------------------------------------------------------------ */
/* kill -9 with requests in flight, packed in-flight region                  */

static void queue_write(struct td *t, unsigned int n, uint64_t *status)
{
	struct virtio_blk_outhdr *h;
	uint64_t hdr = td_alloc(t, 16), data = td_alloc(t, DATA_LEN);
	uint8_t *p = td_host(t, data);

	*status = td_alloc(t, 1);
	h = td_host(t, hdr);
	*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_OUT,
					 .sector = n * 8 };
	for (unsigned int i = 0; i < DATA_LEN; i++)
		p[i] = (uint8_t)(i * 13 + n);
	*(uint8_t *)td_host(t, *status) = 0xff;
	td_submit(t, 0,
		  (struct td_buf[]){ { hdr, 16, false },
				     { data, DATA_LEN, false },
				     { *status, 1, true } },
		  3);
}

/* One backend of the chain: killed on its @die-th pop (0: never). The
 * first makes the region; the others get it back with the ring's start
 * as the base, as vuvm sends when it could not ask the dead one. */
static void chain_backend(struct td *t, const char *disk, unsigned int die,
			  struct vhu_inflight *inf, int *ifd)
{
	char n[16];
	const char *argv[] = { "blk", "--file",	     disk, "--reorder",
			       "4",   "--die-after", n,	   NULL };
	uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | PACKED;
	uint64_t want = TD_WANT_PROTOCOL |
			(1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);

	snprintf(n, sizeof(n), "%u", die);
	if (!die)
		argv[5] = NULL;
	if (*ifd < 0) {
		td_start_proto(t, argv, want);
		t->packed = true;
		td_set_features_mem(t, features);
		CHECK_EQ(vhu_get_inflight_fd(&t->fe, 1, TD_QSIZE, inf, ifd), 0);
		t->nq = 1;
		td_start_queue(t, 0);
	} else {
		td_spawn_connect(t, argv, want);
		td_set_features_mem(t, features);
		CHECK_EQ(vhu_set_inflight_fd(&t->fe, inf, *ifd), 0);
		td_attach_queue(t, 0, td_initial_base(t));
	}
	CHECK_EQ(vhu_set_vring_enable(&t->fe, 0, true), 0);
}

/* Collects used descriptors until @want or the backend dies. */
static bool chain_wait(struct td *t, unsigned int *used, unsigned int want)
{
	while (*used < want) {
		int st;

		if (td_poll_used(t, 0, 10)) {
			td_wait_used(t, 0, NULL);
			(*used)++;
			continue;
		}
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
			return false;
		}
	}
	return true;
}

/*
 * 96 writes in batches of 8 through a chain of processes, six of them
 * killed at random pops (some while resubmitting): every write is used
 * exactly once with status OK (a buffer used twice or never fails the
 * driver's id checks or the count), and every byte is on the disk.
 */
static void test_inflight_kill_loop(void)
{
	enum { NREQ = 96, BATCH = 8, KILLS = 6 };
	int fds = check_count_fds(), ifd = -1, disk_fd;
	uint64_t status[NREQ], seed = 0xbacced;
	unsigned int sent = 0, used = 0, kills = 0, procs = 0;
	struct vhu_inflight inf;
	uint8_t buf[DATA_LEN];
	char disk[] = "/tmp/vub-packed-disk-XXXXXX";
	struct td t;

	disk_fd = mkstemp(disk);
	REQUIRE(disk_fd >= 0 && !ftruncate(disk_fd, DISK_LEN));
	for (bool done = false; !done;) {
		unsigned int die = kills < KILLS ? 1 + td_rand(&seed) % 6 : 0;

		chain_backend(&t, disk, die, &inf, &ifd);
		procs++;
		for (;;) {
			if (!chain_wait(&t, &used, sent)) {
				kills++;
				unlink(t.path);
				vhu_frontend_close(&t.fe);
				break;
			}
			if (sent == NREQ) {
				done = true;
				break;
			}
			t.q[0].defer = true;
			for (unsigned int i = 0; i < BATCH; i++, sent++)
				queue_write(&t, sent, &status[sent]);
			td_publish_deferred(&t, 0);
			t.q[0].defer = false;
		}
		if (check_failures)
			break;
	}
	CHECK_EQ(kills, KILLS);
	CHECK_EQ(used, NREQ);
	for (unsigned int i = 0; i < NREQ; i++) {
		bool ok = true;

		CHECK_EQ(*(uint8_t *)td_host(&t, status[i]), VIRTIO_BLK_S_OK);
		CHECK_EQ(pread(disk_fd, buf, DATA_LEN, i * 8 * 512), DATA_LEN);
		for (unsigned int k = 0; k < DATA_LEN; k++)
			ok &= buf[k] == (uint8_t)(k * 13 + i);
		CHECK_MSG(ok, "write %u is not on the disk", i);
	}
	printf("inflight_kill_loop: %u processes, %u killed, %u writes, %u "
	       "bytes verified\n",
	       procs, kills, NREQ, NREQ * DATA_LEN);
	td_stop(&t);
	close(ifd);
	close(disk_fd);
	unlink(disk);
	CHECK_EQ(check_count_fds(), fds);
}

static const struct check_case cases[] = {
	{ "offer", test_offer },
	{ "blk", test_blk },
	{ "blk_event_idx_in_order", test_blk_event_idx_in_order },
	{ "rng_wrap", test_rng_wrap },
	{ "reorder", test_reorder },
	{ "reorder_in_order", test_reorder_in_order },
	{ "net", test_net },
	{ "inflight_kill_loop", test_inflight_kill_loop },
};

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return CHECK_RUN(cases, argc, argv);
}
