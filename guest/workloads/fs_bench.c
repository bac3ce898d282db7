// SPDX-License-Identifier: MIT
/*
 * fs-bench: drives a virtio-fs device (its FUSE server) as hard as it
 * will go and reports what it saw, as blk-bench does: requests per
 * second, MB/s, latency percentiles and the guest's own cost.
 *
 * op=read|write|randread: READ or WRITE of bs bytes (default 4096, at
 * most max_write and 1 MiB) at bs-aligned offsets of one file of 16 MiB
 * ("fs-bench.dat" in the shared root, written in full first for the
 * reads; sequential per queue or random); op=create: one operation is
 * CREATE of a fresh name in directory "fs-bench.d", RELEASE and UNLINK
 * of it, three requests in a row on one slot; the nodes are given back
 * with BATCH_FORGET afterwards; the rate is metadata operations per
 * second. qd=N operations in flight per request queue (default 1),
 * queues=N request queues, seconds=S or count=N, mode=poll|irq.
 * Every reply is checked by the FUSE client (virtio/fuse.h); a refused
 * reply or a server error counts as an error and makes the workload
 * FAIL. The file and directory are removed at the end.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "lib/json.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "workloads/bench.h"
#include "workloads/fs_common.h"
#include "workloads/workloads.h"

#define MAX_QD	  64
#define MAX_BS	  (1u << 20)
#define FILE_SIZE (16u << 20)
#define MAX_NODES 65536
#define FILE_NAME "fs-bench.dat"
#define DIR_NAME  "fs-bench.d"

enum op { OP_READ, OP_WRITE, OP_RANDREAD, OP_CREATE };
static const char *const op_names[] = { "read", "write", "randread", "create" };

struct slot {
	struct fs_req *req;
	uint8_t *buf;
	uint64_t t_submit; /* TSC */
	uint64_t nodeid, fh;
	char name[24];
	int step; /* create: 0 CREATE, 1 RELEASE, 2 UNLINK */
	bool busy;
};

struct fb {
	struct fsw w;
	struct bench b;
	enum op op;
	uint32_t bs, qd;
	int mode;
	uint64_t span, *cursor;
	struct slot *slots; /* qd per queue */
	uint64_t file, fh, dir, names;
	struct fuse_forget_one *forget;
	uint64_t nforget;
	uint32_t rng;
	char first_error[FUSE_ERROR_LEN];
};

static struct fb S;

static void note_error(struct bench_q *st, int ret)
{
	st->errors++;
	if (S.first_error[0])
		return;
	if (ret < -FUSE_MAX_ERRNO)
		snprintf(S.first_error, sizeof(S.first_error), "%s",
			 S.w.c.error);
	else
		snprintf(S.first_error, sizeof(S.first_error),
			 "server error %d", ret);
}

/* Prepares slot @sl's next request; for create, step @sl->step. */
static void prep(unsigned int q, struct slot *sl)
{
	struct fuse_conn *c = &S.w.c;
	uint64_t n;

	if (S.op == OP_CREATE) {
		struct fuse_create_in cin = { .flags = FUSE_O_WRONLY |
						       FUSE_O_EXCL |
						       FUSE_O_CREAT,
					      .mode = FUSE_S_IFREG | 0644 };
		struct fuse_release_in rin = { .fh = sl->fh };

		if (sl->step == 0) {
			snprintf(sl->name, sizeof(sl->name), "n%llu",
				 (unsigned long long)S.names++);
			fuse_prep(c, sl->req, FUSE_CREATE, S.dir, &cin,
				  sizeof(cin), sl->name, NULL);
		} else if (sl->step == 1) {
			fuse_prep(c, sl->req, FUSE_RELEASE, sl->nodeid, &rin,
				  sizeof(rin), NULL, NULL);
		} else {
			fuse_prep(c, sl->req, FUSE_UNLINK, S.dir, NULL, 0,
				  sl->name, NULL);
		}
		return;
	}
	if (S.op == OP_RANDREAD)
		n = (((uint64_t)vw_rand(&S.rng) << 32) | vw_rand(&S.rng)) %
		    S.span;
	else
		n = (S.span * q / S.w.fs.nq + S.cursor[q]++) % S.span;
	if (S.op == OP_WRITE)
		fuse_prep_write(c, sl->req, S.file, S.fh, n * S.bs, sl->buf,
				S.bs);
	else
		fuse_prep_read(c, sl->req, S.file, S.fh, n * S.bs, sl->buf,
			       S.bs);
}

static int fill(unsigned int q, uint64_t now)
{
	struct bench_q *st = &S.b.q[q];
	uint64_t quota = bench_quota(&S.b, q, now), t;
	unsigned int added = 0;

	for (uint32_t i = 0; i < S.qd && added < quota; i++) {
		struct slot *sl = &S.slots[q * S.qd + i];

		if (sl->busy)
			continue;
		sl->step = 0;
		prep(q, sl);
		t = rdtsc();
		sl->t_submit = t;
		if (fs_submit(&S.w.fs, 1 + q, sl->req))
			return -1;
		st->submit_cyc += rdtsc() - t;
		sl->busy = true;
		added++;
	}
	if (!added)
		return 0;
	st->started += added;
	bench_kick(st, &S.w.fs.vio, 1 + q, &S.w.fs.vq[1 + q]);
	return 0;
}

/* A create slot's next step; true when it was submitted. */
static bool next_step(unsigned int q, struct slot *sl, int ret)
{
	if (ret < 0)
		return false;
	if (sl->step == 0) {
		const struct fuse_entry_out *e = (const void *)sl->req->reply;

		sl->nodeid = e->nodeid;
		sl->fh = ((const struct fuse_open_out *)(e + 1))->fh;
		if (S.nforget < MAX_NODES)
			S.forget[S.nforget++] =
				(struct fuse_forget_one){ e->nodeid, 1 };
	}
	if (++sl->step > 2)
		return false;
	prep(q, sl);
	if (fs_submit(&S.w.fs, 1 + q, sl->req))
		return false;
	fs_kick(&S.w.fs, 1 + q);
	return true;
}

static int reap(unsigned int q)
{
	struct bench_q *st = &S.b.q[q];
	struct fs_req *r;
	uint64_t t = rdtsc(), t1;
	int n = 0, ret;

	while ((ret = fs_poll(&S.w.fs, 1 + q, &r)) > 0) {
		struct slot *sl = r->priv;
		int res = fuse_check(&S.w.c, r);

		if (S.op == OP_CREATE && next_step(q, sl, res))
			continue;
		t1 = rdtsc();
		st->complete_cyc += t1 - t;
		sl->busy = false;
		st->done++;
		if (res < 0 || (S.op != OP_CREATE && (uint32_t)res != S.bs))
			note_error(st, res < 0 ? res : FUSE_EBADREPLY);
		else
			st->bytes += S.op == OP_CREATE ? 0 : S.bs;
		hist_record(st->lat, tsc_to_ns(t1 - sl->t_submit));
		n++;
		t = rdtsc();
	}
	return ret < 0 ? -1 : n;
}

static int pass(void *ctx, unsigned int q, uint64_t now)
{
	int n = reap(q);

	(void)ctx;
	return n < 0 || fill(q, now) < 0 ? -1 : n;
}

static void idle(void *ctx)
{
	(void)ctx;
	vw_idle(&S.w.wait, S.w.fs.vq, S.w.fs.nq + 1);
}

static bool call(const char *what, int ret)
{
	if (ret >= 0)
		return true;
	return report(false, "%s: %s", what,
		      ret < -FUSE_MAX_ERRNO ? S.w.c.error : "server error");
}

/* The file to read or write, written in full first; or the directory. */
static bool prepare(void)
{
	struct fuse_entry_out e;
	uint32_t chunk = S.w.c.max_write < MAX_BS ? S.w.c.max_write : MAX_BS;
	struct fs_req *r = S.slots[0].req;

	if (S.op == OP_CREATE) {
		if (!call("MKDIR " DIR_NAME,
			  fuse_mkdir(&S.w.c, FUSE_ROOT_ID, DIR_NAME, 0755, &e)))
			return false;
		S.dir = e.nodeid;
		return true;
	}
	if (!call("CREATE " FILE_NAME,
		  fuse_create(&S.w.c, FUSE_ROOT_ID, FILE_NAME, FUSE_O_RDWR,
			      0644, &e, &S.fh)))
		return false;
	S.file = e.nodeid;
	if (S.op == OP_WRITE)
		return true;
	for (uint64_t off = 0; off < FILE_SIZE; off += chunk) {
		fuse_prep_write(&S.w.c, r, S.file, S.fh, off, S.slots[0].buf,
				chunk);
		if (!call("WRITE (filling the file)", fuse_call(&S.w.c, r)))
			return false;
	}
	return true;
}

static void cleanup(void)
{
	for (uint64_t i = 0; i < S.nforget; i += FUSE_BATCH_MAX) {
		uint64_t n = S.nforget - i < FUSE_BATCH_MAX ? S.nforget - i
							    : FUSE_BATCH_MAX;

		if (!call("BATCH_FORGET",
			  fuse_batch_forget(&S.w.c, S.forget + i, (uint32_t)n)))
			return;
	}
	if (S.nforget)
		report_info("BATCH_FORGET of %llu nodes",
			    (unsigned long long)S.nforget);
	if (S.dir) {
		call("RMDIR " DIR_NAME,
		     fuse_unlink(&S.w.c, FUSE_ROOT_ID, DIR_NAME, true));
		call("FORGET", fuse_forget(&S.w.c, S.dir, 1));
	}
	if (S.file) {
		call("RELEASE", fuse_release(&S.w.c, S.file, S.fh, false));
		call("UNLINK " FILE_NAME,
		     fuse_unlink(&S.w.c, FUSE_ROOT_ID, FILE_NAME, false));
		call("FORGET", fuse_forget(&S.w.c, S.file, 1));
	}
}

static bool alloc_all(void)
{
	unsigned int n = S.w.fs.nq * S.qd;

	/* Up to 3 descriptors per request (direct): fit the ring. */
	if (S.qd > S.w.fs.vq[1].num / 3)
		S.qd = S.w.fs.vq[1].num / 3;
	n = S.w.fs.nq * S.qd;
	S.span = FILE_SIZE / S.bs;
	S.slots = dma_alloc(n * sizeof(*S.slots), 64);
	S.cursor = dma_alloc(S.w.fs.nq * sizeof(*S.cursor), 64);
	if (S.op == OP_CREATE)
		S.forget = dma_alloc(MAX_NODES * sizeof(*S.forget), 64);
	if (!S.slots || !S.cursor || (S.op == OP_CREATE && !S.forget) ||
	    !bench_setup(&S.b, S.w.fs.nq))
		return false;
	memset(S.slots, 0, n * sizeof(*S.slots));
	memset(S.cursor, 0, S.w.fs.nq * sizeof(*S.cursor));
	for (unsigned int i = 0; i < n; i++) {
		S.slots[i].req = dma_alloc(sizeof(struct fs_req), 64);
		S.slots[i].buf = dma_alloc(S.bs, 4096);
		if (!S.slots[i].req || !S.slots[i].buf)
			return false;
		S.slots[i].req->priv = &S.slots[i];
		fsw_pattern(S.slots[i].buf, 0, S.bs, i + 1, 1);
	}
	return true;
}

static void results(void)
{
	static struct json j;

	json_begin(&j);
	json_str(&j, "workload", "fs-bench");
	json_str(&j, "op", op_names[S.op]);
	json_u64(&j, "bs", S.op == OP_CREATE ? 0 : S.bs);
	json_u64(&j, "qd", S.qd);
	json_u64(&j, "queues", S.w.fs.nq);
	json_str(&j, "mode", S.mode == VW_IRQ ? "irq" : "poll");
	if (S.b.count)
		json_u64(&j, "count", S.b.count);
	json_u64(&j, "tsc_khz", time_tsc_khz());
	bench_finish(&S.b, &j);
	json_u64(&j, "interrupts", S.w.wait.irqs);
	report(!json_print(&j), "the results fit one JSON line");
}

static int params(const char *args, uint64_t *queues)
{
	char op[16] = "randread";
	uint64_t bs, qd;
	unsigned int i;

	kv_get(args, "op", op, sizeof(op));
	for (i = 0; i < 4 && strcmp(op, op_names[i]); i++)
		;
	S.op = (enum op)i;
	S.mode = vw_mode(args);
	if (S.mode < 0 || i == 4 || bench_params(&S.b, args) ||
	    kv_get_u64(args, "bs", 4096, &bs) == -2 ||
	    kv_get_u64(args, "qd", 1, &qd) == -2 ||
	    kv_get_u64(args, "queues", 1, queues) == -2 || !bs || bs > MAX_BS ||
	    !qd || qd > MAX_QD || !*queues || *queues > FS_MAX_REQ_QUEUES) {
		printf("ERROR: fs-bench: op=read|write|randread|create, "
		       "bs=1..1M, qd 1..64, queues 1..8, seconds=S or "
		       "count=N\n");
		return -1;
	}
	S.bs = (uint32_t)bs;
	S.qd = (uint32_t)qd;
	return 0;
}

int fs_bench_main(const char *args)
{
	uint64_t queues;
	int ret, r;

	memset(&S, 0, sizeof(S));
	S.rng = 0x9e3779b9;
	if (params(args, &queues))
		return WORKLOAD_BAD_REQUEST;
	S.b.unit = S.op == OP_CREATE ? "ops/s" : "IOPS";
	S.b.rate_key = S.op == OP_CREATE ? "ops_per_s" : "iops";
	report_prefix_push("fs-bench");
	ret = fsw_open(&S.w, S.mode, (unsigned int)queues, MAX_BS,
		       VW_TIMEOUT_NS);
	if (ret) {
		report_prefix_pop();
		return report_summary();
	}
	if (S.op != OP_CREATE && S.bs > S.w.c.max_write)
		report(false, "bs=%u is above the server's max_write %u", S.bs,
		       S.w.c.max_write);
	else if (report(alloc_all(), "%u queues of %u, qd %u, %u-byte buffers",
			S.w.fs.nq, S.w.fs.vq[1].num, S.qd, S.bs) &&
		 prepare()) {
		r = bench_run(&S.b, pass, idle, NULL);
		if (r == BENCH_EDRIVER)
			report(false, "driver: %s", S.w.fs.vio.error);
		else if (r == BENCH_ESTALLED)
			report(false, "%llu requests not completed after 5 s",
			       (unsigned long long)bench_in_flight(&S.b));
		else {
			results();
			if (S.first_error[0])
				report_info("first error: %s", S.first_error);
			report(!bench_errors(&S.b), "%s: %llu errors",
			       op_names[S.op],
			       (unsigned long long)bench_errors(&S.b));
			cleanup();
		}
	}
	fsw_close(&S.w, true);
	report_prefix_pop();
	return report_summary();
}
