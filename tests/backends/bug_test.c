// SPDX-License-Identifier: MIT
/*
 * vuvm-backend blk|rng --bug NAME: each injected defect changes what the
 * backend does on the ring or in guest memory exactly as documented. Every
 * case runs one scenario twice, against a clean backend (the correct
 * behaviour, asserted) and against one started with --bug (the defect,
 * asserted), so a defect that stopped showing, or one that leaked into the
 * clean backend, fails here. Also: every name is accepted, and unknown
 * names, a second --bug and a name for another device exit 2.
 */
#define _GNU_SOURCE
#include "tests/backends/blk_driver.h"
#include "vhost/log.h"

#define DISK_SECTORS 2048 /* --size 1M */
#define RNG_FEATURES                                                       \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

/* Starts rng (@rng) or a 1 MiB blk disk, with --bug @name unless NULL. */
static void start_dev(struct td *t, bool rng, const char *name)
{
	const char *blk[] = { "blk", "--size", "1M", "--bug", name, NULL };
	const char *rngv[] = { "rng", "--bug", name, NULL };

	if (!name)
		blk[3] = rngv[1] = NULL;
	if (!rng) {
		start_blk(t, blk, 1);
		return;
	}
	td_start(t, rngv);
	td_start_device(t, RNG_FEATURES & t->fe.features, 1);
}

/* Runs @scenario against a clean backend (@bug false), then against one
 * with --bug @name (@bug true). */
static void both(const char *name, bool rng,
		 void (*scenario)(struct td *t, bool bug))
{
	for (int bug = 0; bug < 2; bug++) {
		struct td t;

		start_dev(&t, rng, bug ? name : NULL);
		scenario(&t, bug);
		td_stop(&t);
	}
}

/* One request's buffers on a fresh heap: a header, data (0xee) and a
 * status byte (0xff) followed by a canary (0xa5). */
struct bufs {
	uint64_t h, d, s;
};

static struct bufs new_bufs(struct td *t, uint32_t type, uint64_t sector,
			    uint32_t len)
{
	struct virtio_blk_outhdr hdr = { .type = type, .sector = sector };
	struct bufs b;

	td_reset_heap(t);
	b.h = td_alloc(t, sizeof(hdr));
	b.d = td_alloc(t, len);
	b.s = td_alloc(t, 2);
	memcpy(td_host(t, b.h), &hdr, sizeof(hdr));
	memset(td_host(t, b.d), 0xee, len);
	memcpy(td_host(t, b.s), "\xff\xa5", 2);
	return b;
}

/* Header, @len data bytes (device-writable when @in), status: each in a
 * descriptor of its own. Returns the status. */
static uint8_t req3(struct td *t, const struct bufs *b, uint32_t len, bool in)
{
	return raw_req(t,
		       (struct td_buf[]){ { b->h, 16, false },
					  { b->d, len, in },
					  { b->s, 1, true } },
		       3);
}

static uint8_t byte_at(struct td *t, uint64_t gpa)
{
	return *(uint8_t *)td_host(t, gpa);
}

/* A write whose header is split after byte 5: the sector lies wholly in
 * the second descriptor, so the defect writes sector 0 instead of 10. */
static void sc_hdr_first_desc(struct td *t, bool bug)
{
	static uint8_t out[512], in[512];
	struct bufs b = new_bufs(t, VIRTIO_BLK_T_OUT, 10, sizeof(out));

	fill_pattern(out, sizeof(out), 1);
	memcpy(td_host(t, b.d), out, sizeof(out));
	CHECK_EQ(raw_req(t,
			 (struct td_buf[]){ { b.h, 5, false },
					    { b.h + 5, 11, false },
					    { b.d, sizeof(out), false },
					    { b.s, 1, true } },
			 4),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, 10, in, 512, 1, NULL), 0);
	CHECK_EQ(!memcmp(in, out, 512), !bug);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, 0, in, 512, 1, NULL), 0);
	CHECK_EQ(!memcmp(in, out, 512), bug);
	CHECK_EQ(all_zero(in, 512), !bug);
}

/* A read whose last writable descriptor holds the data and the status. */
static void sc_status_desc_start(struct td *t, bool bug)
{
	static uint8_t out[512];
	struct bufs b;
	uint8_t *p;

	fill_pattern(out, sizeof(out), 1);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, 3, out, 512, 1, NULL), 0);
	b = new_bufs(t, VIRTIO_BLK_T_IN, 3, 513);
	p = td_host(t, b.d);
	td_submit(t, 0,
		  (struct td_buf[]){ { b.h, 16, false }, { b.d, 513, true } },
		  2);
	CHECK_EQ(td_wait_used(t, 0, NULL), 513);
	CHECK_EQ(p[512], bug ? 0xee : VIRTIO_BLK_S_OK);
	CHECK_EQ(p[0], bug ? VIRTIO_BLK_S_OK : out[0]);
	CHECK(out[0] != VIRTIO_BLK_S_OK);
	CHECK(!memcmp(p + 1, out + 1, 511));
}

/* Data in several descriptors, read and written. */
static void sc_first_data_seg(struct td *t, bool bug)
{
	static uint8_t a[2048], b[2048], in[2048];

	fill_pattern(a, sizeof(a), 1);
	fill_pattern(b, sizeof(b), 2);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, 0, a, 2048, 1, NULL), 0);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, 0, in, 2048, 4, NULL), 0);
	CHECK(!memcmp(in, a, 512));
	if (bug)
		for (size_t i = 512; i < sizeof(in); i++)
			CHECK_EQ(in[i], 0xee); /* untouched */
	else
		CHECK(!memcmp(in, a, sizeof(in)));
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, 0, b, 2048, 4, NULL), 0);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, 0, in, 2048, 1, NULL), 0);
	CHECK(!memcmp(in, b, 512));
	CHECK(!memcmp(in + 512, bug ? a + 512 : b + 512, 1536));
}

/* A read through an indirect table of @nseg 512-byte data descriptors
 * plus header and status; returns the status, data in @in. */
static uint8_t indirect_read(struct td *t, unsigned int nseg, uint8_t *in)
{
	struct bufs r = new_bufs(t, VIRTIO_BLK_T_IN, 0, nseg * 512);
	struct td_buf b[16];
	unsigned int n = 0;

	CHECK(nseg + 2 <= 16);
	b[n++] = (struct td_buf){ r.h, 16, false };
	for (unsigned int i = 0; i < nseg; i++)
		b[n++] = (struct td_buf){ r.d + i * 512, 512, true };
	b[n++] = (struct td_buf){ r.s, 1, true };
	td_submit_indirect(t, 0, b, n);
	CHECK_EQ(td_wait_used(t, 0, NULL),
		 byte_at(t, r.s) ? 1 : nseg * 512 + 1);
	memcpy(in, td_host(t, r.d), nseg * 512);
	return byte_at(t, r.s);
}

static void sc_indirect_max_8(struct td *t, bool bug)
{
	static uint8_t out[7 * 512], in[7 * 512];

	fill_pattern(out, sizeof(out), 4);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, 0, out, sizeof(out), 1, NULL),
		 0);
	CHECK_EQ(indirect_read(t, 6, in), VIRTIO_BLK_S_OK); /* 8 entries */
	CHECK(!memcmp(in, out, 6 * 512));
	CHECK_EQ(indirect_read(t, 7, in), /* 9 entries */
		 bug ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
	CHECK_EQ(!memcmp(in, out, 7 * 512), !bug);
}

/* A direct header descriptor, then an indirect one with data and status:
 * with the defect the table is taken as a readable buffer, the chain has
 * no status byte and is completed with length 0. */
static void sc_indirect_after_chain(struct td *t, bool bug)
{
	static uint8_t out[512];
	struct td_queue *q = &t->q[0];
	struct bufs b;
	uint64_t table;

	fill_pattern(out, sizeof(out), 5);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, 1, out, 512, 1, NULL), 0);
	b = new_bufs(t, VIRTIO_BLK_T_IN, 1, 512);
	table = td_alloc(t, 2 * sizeof(struct virtq_desc));
	td_fill_table(td_host(t, table), 0,
		      (struct td_buf[]){ { b.d, 512, true }, { b.s, 1, true } },
		      2);
	/* Every earlier chain completed: the chain takes entries 0 and 1. */
	q->desc[0] = (struct virtq_desc){ b.h, 16, VIRTQ_DESC_F_NEXT, 1 };
	q->desc[1] = (struct virtq_desc){ table, 2 * sizeof(struct virtq_desc),
					  VIRTQ_DESC_F_INDIRECT, 0 };
	q->next_desc = 2;
	td_publish(t, 0, 0);
	CHECK_EQ(td_wait_used(t, 0, NULL), bug ? 0 : 513);
	CHECK_EQ(byte_at(t, b.s), bug ? 0xff : VIRTIO_BLK_S_OK);
	CHECK_EQ(!memcmp(td_host(t, b.d), out, 512), !bug);
}

/* A write's header, device-readable, after it completed. */
static void sc_write_readable(struct td *t, bool bug)
{
	struct bufs b = new_bufs(t, VIRTIO_BLK_T_OUT, 5, 512);
	struct virtio_blk_outhdr back;

	CHECK_EQ(req3(t, &b, 512, false), VIRTIO_BLK_S_OK);
	memcpy(&back, td_host(t, b.h), sizeof(back));
	CHECK_EQ(back.type, bug ? 0 : VIRTIO_BLK_T_OUT);
	CHECK_EQ(back.sector, bug ? 0 : 5);
	CHECK_EQ(byte_at(t, b.d), 0xee);
}

/* The descriptor table after a request completed. */
static void sc_write_desc(struct td *t, bool bug)
{
	struct bufs b = new_bufs(t, VIRTIO_BLK_T_IN, 0, 512);
	uint16_t head = t->q[0].next_desc;

	CHECK(head + 3 <= TD_QSIZE); /* td_submit() will not wrap */
	CHECK_EQ(req3(t, &b, 512, true), VIRTIO_BLK_S_OK);
	CHECK_EQ(t->q[0].desc[head].len, bug ? 0 : 16);
	CHECK_EQ(t->q[0].desc[head].addr, b.h);
	CHECK_EQ(t->q[0].desc[(uint16_t)(head + 1)].len, 512);
}

/* A read; the byte after its status byte holds a canary. Then one whose
 * status is the last byte of guest memory: nothing may be written past
 * it, bug or not, and the backend goes on serving. */
static void sc_write_past_buffer(struct td *t, bool bug)
{
	struct bufs b = new_bufs(t, VIRTIO_BLK_T_IN, 0, 512);
	struct bufs end = b;

	CHECK_EQ(req3(t, &b, 512, true), VIRTIO_BLK_S_OK);
	CHECK_EQ(byte_at(t, b.s + 1), bug ? 0 : 0xa5);
	end.s = TD_GPA + TD_MEM_SIZE - 1;
	CHECK_EQ(req3(t, &end, 512, true), VIRTIO_BLK_S_OK);
	CHECK_EQ(req3(t, &b, 512, true), VIRTIO_BLK_S_OK);
}

static void sc_used_len_short(struct td *t, bool bug)
{
	uint8_t buf[1024] = { 0 };
	uint32_t used;

	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, 0, buf, 1024, 2, &used), 0);
	CHECK_EQ(used, bug ? 1024 : 1025);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, 0, buf, 512, 1, &used), 0);
	CHECK_EQ(used, 1);
}

static void sc_unsupp_ok(struct td *t, bool bug)
{
	uint8_t buf[512];
	uint32_t used;

	CHECK_EQ(blk_req(t, 0, 99, 0, NULL, 0, 1, &used),
		 bug ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(used, 1);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, 0, buf, 512, 1, NULL), 0);
}

/* Reads and writes that reach one sector past the end. */
static void sc_range_off_by_one(struct td *t, bool bug)
{
	static uint8_t a[1024], b[1024], in[1024];
	uint8_t want = bug ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	uint32_t used;

	fill_pattern(a, sizeof(a), 6);
	fill_pattern(b, sizeof(b), 7);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, a, 512, 1,
			 NULL),
		 0);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, in, 1024, 1,
			 &used),
		 want);
	CHECK_EQ(used, bug ? 1025 : 1);
	for (size_t i = 0; i < sizeof(in); i++)
		CHECK_EQ(in[i], bug ? 0 : 0xee);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, b, 1024, 1,
			 NULL),
		 want);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, DISK_SECTORS, b, 512, 1, NULL),
		 want);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, in, 512, 1,
			 NULL),
		 0);
	CHECK(!memcmp(in, a, 512)); /* the write was dropped */
}

static void sc_zeroes_noop(struct td *t, bool bug)
{
	static uint8_t a[2048], in[2048];

	fill_pattern(a, sizeof(a), 8);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_OUT, 4, a, sizeof(a), 1, NULL), 0);
	CHECK_EQ(dz_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 5, 2, 0),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_IN, 4, in, sizeof(in), 1, NULL), 0);
	CHECK(!memcmp(in, a, 512));
	CHECK_EQ(all_zero(in + 512, 1024), !bug);
	CHECK_EQ(!memcmp(in + 512, a + 512, 1024), bug);
	CHECK(!memcmp(in + 1536, a + 1536, 512));
}

/* GET_ID into 32 bytes (room for the overfill) and into exactly 20. */
static void sc_get_id_overfill(struct td *t, bool bug)
{
	char id[32];
	uint32_t used;

	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_GET_ID, 0, id, 32, 1, &used), 0);
	CHECK_EQ(used, bug ? 25 : 21);
	CHECK(!strcmp(id, "vuvm-blk"));
	for (size_t i = 20; i < sizeof(id); i++)
		CHECK_EQ((uint8_t)id[i], bug && i < 24 ? 0 : 0xee);
	CHECK_EQ(blk_req(t, 0, VIRTIO_BLK_T_GET_ID, 0, id, 20, 1, &used), 0);
	CHECK_EQ(used, 21);
}

/* --- rng ----------------------------------------------------------------- */

/* @len zeroed bytes on a fresh heap, with a canary (0xa5) after them. */
static uint64_t rng_buf(struct td *t, uint32_t len)
{
	uint64_t g;

	td_reset_heap(t);
	g = td_alloc(t, len + 1);
	memset(td_host(t, g), 0, len);
	*(uint8_t *)td_host(t, g + len) = 0xa5;
	return g;
}

/* One writable buffer of @len bytes at @g; returns the used length. */
static uint32_t rng_req(struct td *t, uint64_t g, uint32_t len)
{
	td_submit(t, 0, (struct td_buf[]){ { g, len, true } }, 1);
	return td_wait_used(t, 0, NULL);
}

/* A chain of 1000 + 3096 writable bytes; returns the used length. */
static uint32_t rng_split(struct td *t, uint64_t g)
{
	td_submit(t, 0,
		  (struct td_buf[]){ { g, 1000, true },
				     { g + 1000, 3096, true } },
		  2);
	return td_wait_used(t, 0, NULL);
}

static void sc_rng_first_desc_only(struct td *t, bool bug)
{
	uint64_t g = rng_buf(t, 4096);

	CHECK_EQ(rng_split(t, g), 4096);
	CHECK(!all_zero(td_host(t, g), 1000));
	CHECK_EQ(all_zero(td_host(t, g + 1000), 3096), bug);
}

static void sc_rng_short_honest(struct td *t, bool bug)
{
	uint64_t g = rng_buf(t, 4096);

	CHECK_EQ(rng_split(t, g), bug ? 1000 : 4096);
	CHECK(!all_zero(td_host(t, g), 1000));
	CHECK_EQ(all_zero(td_host(t, g + 1000), 3096), bug);
}

static void sc_rng_len_plus_one(struct td *t, bool bug)
{
	uint64_t g = rng_buf(t, 512);

	CHECK_EQ(rng_req(t, g, 512), bug ? 513 : 512);
	CHECK(!all_zero(td_host(t, g), 512));
	CHECK_EQ(byte_at(t, g + 512), 0xa5);
}

/* The canary after the buffer; then a buffer that ends guest memory:
 * nothing is written past it, bug or not, and the backend goes on. */
static void sc_rng_past_buffer(struct td *t, bool bug)
{
	uint64_t g = rng_buf(t, 512);

	CHECK_EQ(rng_req(t, g, 512), 512);
	CHECK_EQ(byte_at(t, g + 512), bug ? 0x5a : 0xa5);
	CHECK_EQ(rng_req(t, TD_GPA + TD_MEM_SIZE - 512, 512), 512);
	CHECK_EQ(rng_req(t, g, 512), 512);
}

/* 4096 bytes, then 4097 in two buffers (the chain's total counts). */
static void sc_rng_zero_len_big(struct td *t, bool bug)
{
	uint64_t g = rng_buf(t, 4097);

	CHECK_EQ(rng_req(t, g, 4096), 4096);
	td_submit(t, 0,
		  (struct td_buf[]){ { g, 4096, true }, { g + 4096, 1, true } },
		  2);
	CHECK_EQ(td_wait_used(t, 0, NULL), bug ? 0 : 4097);
}

static void sc_rng_constant(struct td *t, bool bug)
{
	uint64_t g = rng_buf(t, 4096);
	const uint8_t *p = td_host(t, g);
	size_t n42 = 0;

	CHECK_EQ(rng_req(t, g, 4096), 4096);
	for (size_t i = 0; i < 4096; i++)
		n42 += p[i] == 0x42;
	if (bug)
		CHECK_EQ(n42, 4096);
	else
		CHECK(n42 < 100); /* about 16 expected */
}

static void sc_rng_top_bit(struct td *t, bool bug)
{
	uint64_t g = rng_buf(t, 4096);
	const uint8_t *p = td_host(t, g);
	uint8_t any = 0;

	CHECK_EQ(rng_req(t, g, 4096), 4096);
	CHECK(!all_zero(p, 4096));
	for (size_t i = 0; i < 4096; i++)
		any |= p[i];
	CHECK_EQ(any & 0x80, bug ? 0 : 0x80);
}

/* A direct writable buffer, then an indirect one holding another: with
 * the defect the table is a readable buffer after a writable one, which
 * breaks the ring (nothing completes, the table's buffer stays zero). */
static void sc_rng_indirect_after_chain(struct td *t, bool bug)
{
	struct td_queue *q = &t->q[0];
	uint64_t a = rng_buf(t, 1024), b = a + 512, table;

	table = td_alloc(t, sizeof(struct virtq_desc));
	td_fill_table(td_host(t, table), 0,
		      (struct td_buf[]){ { b, 512, true } }, 1);
	/* Every earlier chain completed: the chain takes entries 0 and 1. */
	q->desc[0] = (struct virtq_desc){
		a, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1
	};
	q->desc[1] = (struct virtq_desc){ table, sizeof(struct virtq_desc),
					  VIRTQ_DESC_F_INDIRECT, 0 };
	q->next_desc = 2;
	td_publish(t, 0, 0);
	if (bug)
		CHECK(!td_poll_used(t, 0, 300));
	else
		CHECK_EQ(td_wait_used(t, 0, NULL), 1024);
	CHECK_EQ(all_zero(td_host(t, b), 512), bug);
}

static const struct {
	const char *name;
	void (*scenario)(struct td *t, bool bug);
	bool rng;
} scenarios[] = {
	{ "hdr-first-desc", sc_hdr_first_desc, false },
	{ "status-desc-start", sc_status_desc_start, false },
	{ "first-data-seg", sc_first_data_seg, false },
	{ "indirect-max-8", sc_indirect_max_8, false },
	{ "indirect-after-chain", sc_indirect_after_chain, false },
	{ "write-readable", sc_write_readable, false },
	{ "write-desc", sc_write_desc, false },
	{ "write-past-buffer", sc_write_past_buffer, false },
	{ "used-len-short", sc_used_len_short, false },
	{ "unsupp-ok", sc_unsupp_ok, false },
	{ "range-off-by-one", sc_range_off_by_one, false },
	{ "zeroes-noop", sc_zeroes_noop, false },
	{ "get-id-overfill", sc_get_id_overfill, false },
	{ "rng-first-desc-only", sc_rng_first_desc_only, true },
	{ "rng-len-plus-one", sc_rng_len_plus_one, true },
	{ "rng-past-buffer", sc_rng_past_buffer, true },
	{ "rng-zero-len-big", sc_rng_zero_len_big, true },
	{ "rng-short-honest", sc_rng_short_honest, true },
	{ "rng-constant", sc_rng_constant, true },
	{ "rng-top-bit", sc_rng_top_bit, true },
	{ "rng-indirect-after-chain", sc_rng_indirect_after_chain, true },
};

/* The case of one defect: its scenario, clean and with --bug. */
static void run_scenario(const char *name)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(*scenarios); i++)
		if (!strcmp(scenarios[i].name, name)) {
			both(name, scenarios[i].rng, scenarios[i].scenario);
			return;
		}
	CHECK(0);
}

/* Runs vuvm-backend with @argv; returns its exit status, its stderr in
 * @err. */
static int run_err(const char *const *argv, char *err, size_t len)
{
	const char *args[16] = { VUB_BINARY };
	unsigned int n = 1;
	ssize_t got = 0, r;
	int p[2], st;
	pid_t pid;

	while (*argv && n < 15)
		args[n++] = *argv++;
	args[n] = NULL;
	CHECK(!pipe(p));
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execv(VUB_BINARY, (char *const *)args);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], err + got, len - 1 - (size_t)got)) > 0)
		got += r;
	err[got] = 0;
	close(p[0]);
	st = td_wait_exit(pid, 3000);
	return st;
}

/* Every name starts a backend of its type that serves and exits 0 at the
 * end. */
static void test_names(void)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(*scenarios); i++) {
		uint8_t buf[512];
		struct td t;

		start_dev(&t, scenarios[i].rng, scenarios[i].name);
		if (scenarios[i].rng)
			CHECK(rng_req(&t, rng_buf(&t, 512), 512) - 512 <= 1);
		else
			CHECK_EQ(blk_req(&t, 0, VIRTIO_BLK_T_IN, 0, buf, 512, 1,
					 NULL),
				 0);
		td_stop(&t);
	}
}

static void test_usage(void)
{
	static const char *const bad[][8] = {
		{ "blk", "--socket-path", "/tmp/x", "--bug", "nonsense", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--bug", "", NULL },
		{ "net", "--socket-path", "/tmp/x", "--bug", "unsupp-ok",
		  NULL },
		{ "rng", "--socket-path", "/tmp/x", "--bug", "write-desc",
		  NULL },
		{ "blk", "--socket-path", "/tmp/x", "--bug", "rng-constant",
		  NULL },
		{ "net", "--socket-path", "/tmp/x", "--bug", "rng-top-bit",
		  NULL },
		{ "rng", "--socket-path", "/tmp/x", "--bug", "rng-constant",
		  "--bug", "rng-top-bit", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--bug", "unsupp-ok",
		  "--bug", "write-desc", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--bug", NULL },
	};
	static char err[4096];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (run_err(bad[i], err, sizeof(err)) != 2) {
			fprintf(stderr, "case %zu did not exit 2\n", i);
			CHECK(0);
		}
		CHECK(strstr(err, "vuvm-backend: "));
	}
	/* The unknown name's message lists every valid one. */
	CHECK_EQ(run_err(bad[0], err, sizeof(err)), 2);
	CHECK(strstr(err, "unknown bug 'nonsense'"));
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(*scenarios); i++)
		CHECK(strstr(err, scenarios[i].name));
	CHECK_EQ(run_err(bad[2], err, sizeof(err)), 2);
	CHECK(strstr(err, "does not apply to net"));
	CHECK_EQ(run_err(bad[4], err, sizeof(err)), 2);
	CHECK(strstr(err, "does not apply to blk"));
}

#define SCENARIO_CASE(fn, name)     \
	static void fn(void)        \
	{                           \
		run_scenario(name); \
	}
SCENARIO_CASE(test_hdr_first_desc, "hdr-first-desc")
SCENARIO_CASE(test_status_desc_start, "status-desc-start")
SCENARIO_CASE(test_first_data_seg, "first-data-seg")
SCENARIO_CASE(test_indirect_max_8, "indirect-max-8")
SCENARIO_CASE(test_indirect_after_chain, "indirect-after-chain")
SCENARIO_CASE(test_write_readable, "write-readable")
SCENARIO_CASE(test_write_desc, "write-desc")
SCENARIO_CASE(test_write_past_buffer, "write-past-buffer")
SCENARIO_CASE(test_used_len_short, "used-len-short")
SCENARIO_CASE(test_unsupp_ok, "unsupp-ok")
SCENARIO_CASE(test_range_off_by_one, "range-off-by-one")
SCENARIO_CASE(test_zeroes_noop, "zeroes-noop")
SCENARIO_CASE(test_get_id_overfill, "get-id-overfill")
SCENARIO_CASE(test_rng_first_desc_only, "rng-first-desc-only")
SCENARIO_CASE(test_rng_len_plus_one, "rng-len-plus-one")
SCENARIO_CASE(test_rng_past_buffer, "rng-past-buffer")
SCENARIO_CASE(test_rng_zero_len_big, "rng-zero-len-big")
SCENARIO_CASE(test_rng_short_honest, "rng-short-honest")
SCENARIO_CASE(test_rng_constant, "rng-constant")
SCENARIO_CASE(test_rng_top_bit, "rng-top-bit")
SCENARIO_CASE(test_rng_indirect_after_chain, "rng-indirect-after-chain")

static const struct check_case cases[] = {
	{ "names", test_names },
	{ "usage", test_usage },
	{ "hdr_first_desc", test_hdr_first_desc },
	{ "status_desc_start", test_status_desc_start },
	{ "first_data_seg", test_first_data_seg },
	{ "indirect_max_8", test_indirect_max_8 },
	{ "indirect_after_chain", test_indirect_after_chain },
	{ "write_readable", test_write_readable },
	{ "write_desc", test_write_desc },
	{ "write_past_buffer", test_write_past_buffer },
	{ "used_len_short", test_used_len_short },
	{ "unsupp_ok", test_unsupp_ok },
	{ "range_off_by_one", test_range_off_by_one },
	{ "zeroes_noop", test_zeroes_noop },
	{ "get_id_overfill", test_get_id_overfill },
	{ "rng_first_desc_only", test_rng_first_desc_only },
	{ "rng_len_plus_one", test_rng_len_plus_one },
	{ "rng_past_buffer", test_rng_past_buffer },
	{ "rng_zero_len_big", test_rng_zero_len_big },
	{ "rng_short_honest", test_rng_short_honest },
	{ "rng_constant", test_rng_constant },
	{ "rng_top_bit", test_rng_top_bit },
	{ "rng_indirect_after_chain", test_rng_indirect_after_chain },
};

int main(int argc, char **argv)
{
	log_set_program("bug_test");
	return CHECK_RUN(cases, argc, argv);
}
