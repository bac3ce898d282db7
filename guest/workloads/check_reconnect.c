// SPDX-License-Identifier: MIT
/*
 * vuvm-check's vu-reconnect scenario, on a blk device: the backend
 * crashes and a new one takes over the rings, and the guest judges what
 * became of its requests (the checks are in guest/check/catalogue.def).
 *
 * vuvm runs with --check-port and the device with reconnect=SEC; the
 * runner (vmm/check/scenario.c) kills the backend's process group with
 * SIGKILL, at a random point up to 8 ms later, each time the guest prints
 * CRASH_MARKER on its console, and starts the same command again on the
 * same socket when it prints START_MARKER. One round:
 *
 * 1. Busy: writes of up to 3 MiB (48 descriptors of 64 KiB), one at a
 *    time, each made available and notified
 *    as soon as the last completed, so that the backend spends most of
 *    its time with one in its hands. The crash marker goes out first;
 *    the guest keeps writing until the check port's LINK step says vuvm
 *    lost the backend. The used index then (U0) holds every completion of
 *    the dead process (its memory is gone before its socket closes); the
 *    write still outstanding, if any, is R.
 * 2. While the backend is down: four 4 KiB writes (P), notified to no
 *    one. Then the start marker.
 * 3. LINK until vuvm has reconnected and the rings run; INFLIGHT says how
 *    many requests the in-flight region held when vuvm handed it to the
 *    new process (-ENOTSUP: no INFLIGHT_SHMFD). With one there, R was in
 *    the dead backend's hands (SET_INFLIGHT_FD/1 judges it); without,
 *    R only waited in the ring, like P (SET_VRING_BASE/2).
 * 4. R and P must each complete once with status OK; a used entry for a
 *    head not in flight is a request served twice (or, when that head
 *    last completed before U0, one from before the crash served again).
 * 5. After the reconnect, each request notified: R's and P's sectors read
 *    back (the new process wrote them, so a disk in RAM has them too), a
 *    fresh write and its read back, then 200 ms with nothing more
 *    (SET_VRING_KICK/2).
 *
 * A round in which INFLIGHT found nothing (the crash came between two
 * requests) is followed by another, up to MAX_ROUNDS, until one catches a
 * request in the backend's hands; without INFLIGHT_SHMFD one round is
 * enough. Any failure ends the rounds.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "check/check.h"
#include "lib/devtree.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"

#define QSIZE	   128
#define SECTOR	   512
#define BIG_SEG	   65536u /* a busy write's descriptors, at most */
#define BIG_SEGS   48u	  /* ... and how many (seg_max permitting) */
#define BIG	   (BIG_SEGS * BIG_SEG) /* 3 MiB at most */
#define SMALL	   4096u
#define NR_PENDING 4
#define MAX_ROUNDS 24
#define S_BUSY	   0ull		      /* sectors: 2 busy slots of 3 MiB */
#define S_PENDING  (16384ull)	      /* 8 MiB on */
#define S_AFTER	   (S_PENDING + 4096) /* 10 MiB on */
#define S_NEEDED   (S_AFTER + 64)

#define LOSS_WAIT_NS	  30000000000ull /* the runner's restart */
#define RECONNECT_WAIT_NS 60000000000ull
#define QUIET_NS	  200000000ull
#define LINK_EVERY_NS	  1000000ull /* busy: the link asked about */

#define CRASH_MARKER "VUVM-CHECK: crash the backend"
#define START_MARKER "VUVM-CHECK: start the backend again"

/* The check port (vmm/vhost_user_dev.h, vudev_step). */
#define STEP_LINK	   20
#define STEP_INFLIGHT	   21
#define LINK_RECONNECTS(v) ((v)&0xffffu)
#define LINK_STATE(v)	   (((v) >> 16) & 3u)
#define LINK_RUNNING(v)	   (((v) >> 24) & 1u)
#define LINK_CONNECTED	   1u
#define LINK_FAILED	   3u

/* What a request is, for the verdicts. */
enum kind { K_BUSY, K_PENDING, K_AFTER };

struct req {
	enum kind kind;
	unsigned int n; /* which one of its kind */
	uint8_t *hdr;	/* 16 bytes, then the status byte at hdr[16] */
	uint8_t *data;
	uint32_t len;
	bool done;
	int completions;
};

struct rc {
	struct vio_dev vio;
	struct virtq vq;
	uint16_t io; /* the check port */
	uint64_t stall_ns;
	uint32_t seg;	  /* bytes per data descriptor */
	uint32_t big_len; /* of a busy write */
	uint8_t *big, *big_rd, *small, *small_rd, *hdrs;
	uint32_t seed;
	/* Per head: the used position of its last completion (65536 + pos
	 * once known), for telling a replay from a duplicate. */
	uint32_t last_pos[QSIZE];
	struct req *last_req[QSIZE]; /* and what it carried then */
	struct req busy, pending[NR_PENDING], after;
	/* The round's state. */
	uint16_t u0;	  /* used index when the loss was seen */
	uint32_t gen;	  /* busy writes made */
	uint32_t busy_n;  /* ... in this round before the loss */
	uint64_t busy_ns; /* from the marker to the loss */
	bool r_out;	  /* R outstanding at U0 */
	bool r_in_hands;  /* ... and in the dead backend's hands */
	bool stuck;	  /* the ring cannot be trusted any more */
	char broken[VIO_ERROR_LEN];
};

static uint32_t step(struct rc *c, unsigned int op, unsigned int arg)
{
	outl(c->io, op | arg << 16);
	return inl(c->io);
}

static uint16_t used_idx(const struct rc *c)
{
	return __atomic_load_n(&c->vq.used->idx, __ATOMIC_ACQUIRE);
}

/* Makes @r available and notifies, whatever the device's NO_NOTIFY says
 * (a dead backend may have left it set). */
static int submit(struct rc *c, struct req *r, uint32_t type, uint64_t sector,
		  uint8_t *data)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	struct virtq_buf b[VIRTQ_MAX_SEGS];
	unsigned int n = 0, out;

	memcpy(r->hdr, &h, sizeof(h));
	r->hdr[16] = 0xee;
	r->done = false;
	r->completions = 0;
	b[n++] = (struct virtq_buf){ dma_addr(r->hdr), 16 };
	if (type == VIRTIO_BLK_T_OUT)
		for (uint32_t o = 0; o < r->len; o += c->seg)
			b[n++] = (struct virtq_buf){ dma_addr(data + o),
						     r->len - o < c->seg
							     ? r->len - o
							     : c->seg };
	out = n;
	if (type == VIRTIO_BLK_T_IN)
		for (uint32_t o = 0; o < r->len; o += c->seg)
			b[n++] = (struct virtq_buf){ dma_addr(data + o),
						     r->len - o < c->seg
							     ? r->len - o
							     : c->seg };
	b[n++] = (struct virtq_buf){ dma_addr(r->hdr + 16), 1 };
	if (virtq_add(&c->vq, b, out, n - out, r)) {
		snprintf(c->broken, sizeof(c->broken), "cannot add: %s",
			 virtq_error(&c->vq));
		return -1;
	}
	virtq_kick_prepare(&c->vq);
	vio_notify(&c->vio, 0);
	return 0;
}

/* Which check a misdeed with request @r (NULL: one from before the
 * crash) counts against. */
static struct check_acc *blame(struct rc *c, const struct req *r,
			       struct check_acc *inflight,
			       struct check_acc *pending,
			       struct check_acc *after)
{
	if (!r)
		return pending;
	if (r->kind == K_BUSY)
		return c->r_in_hands ? inflight : pending;
	return r->kind == K_PENDING ? pending : after;
}

static const char *req_name(const struct req *r, char *buf, size_t len)
{
	if (r->kind == K_BUSY)
		snprintf(buf, len, "the write outstanding at the crash");
	else if (r->kind == K_PENDING)
		snprintf(buf, len, "write %u made while the backend was down",
			 r->n);
	else
		snprintf(buf, len, "a request made after the reconnect");
	return buf;
}

/*
 * Takes used entries until @want is done or the stall expires. A used
 * entry for a head not in flight is judged and skipped (the driver's own
 * bookkeeping stays sound). Returns 0, or -1 when @want did not complete.
 */
static int take(struct rc *c, struct req *want, struct check_acc *inflight,
		struct check_acc *pending, struct check_acc *after)
{
	uint64_t t0 = time_ns();
	char name[80];

	while (!want->done) {
		uint16_t pos = c->vq.last_used, id;
		struct req *r;
		uint32_t len;
		void *tok;

		if (used_idx(c) == pos) {
			if (time_ns() - t0 > c->stall_ns)
				return -1;
			continue;
		}
		id = (uint16_t)__atomic_load_n(
			&c->vq.used->ring[pos % c->vq.num].id,
			__ATOMIC_RELAXED);
		if (id >= c->vq.num || !c->vq.heads[id].token) {
			/* Its last completion came before the crash. */
			bool old =
				id < c->vq.num && c->last_pos[id] >= 65536 &&
				(uint16_t)(c->u0 - 1 -
					   (uint16_t)c->last_pos[id]) < 32768;

			check_expect(
				old ? pending
				    : blame(c,
					    id < c->vq.num && c->last_req[id]
						    ? c->last_req[id]
						    : want,
					    inflight, pending, after),
				false, "each request completed once",
				"used entry %u names head %u, not in "
				"flight (%s)",
				pos, id,
				old ? "it completed before the crash"
				    : "completed twice");
			c->vq.last_used++;
			c->stuck = true;
			continue;
		}
		if (virtq_get_used(&c->vq, &tok, &len) != 1) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 virtq_error(&c->vq));
			c->stuck = true;
			check_expect(blame(c, want, inflight, pending, after),
				     false, "a sound used entry", "%s",
				     c->broken);
			return -1;
		}
		c->last_pos[id] = 65536u + pos;
		c->last_req[id] = tok;
		r = tok;
		r->done = true;
		r->completions++;
		check_expect(blame(c, r, inflight, pending, after),
			     r->hdr[16] == VIRTIO_BLK_S_OK, "status OK",
			     "%s: status %u", req_name(r, name, sizeof(name)),
			     r->hdr[16]);
	}
	return 0;
}

/* One request made after the reconnect, waited for: 0 or -1 (judged in
 * @after). */
static int after_one(struct rc *c, uint32_t type, uint64_t sector,
		     uint8_t *data, uint32_t len, struct check_acc *inflight,
		     struct check_acc *pending, struct check_acc *after)
{
	c->after.len = len;
	if (submit(c, &c->after, type, sector, data)) {
		check_expect(after, false, "a request made", "%s", c->broken);
		return -1;
	}
	if (take(c, &c->after, inflight, pending, after)) {
		check_expect(after, false,
			     "requests made after the reconnect served",
			     "a %s of %u bytes at sector %llu did not complete "
			     "within %llu s",
			     type == VIRTIO_BLK_T_IN ? "read" : "write", len,
			     (unsigned long long)sector,
			     (unsigned long long)(c->stall_ns / 1000000000));
		c->stuck = true;
		return -1;
	}
	return c->after.hdr[16] == VIRTIO_BLK_S_OK ? 0 : -1;
}

static void fill(struct rc *c, uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)vw_rand(&c->seed);
}

/*
 * Step 1: busy until the loss. The next write goes out as soon as the
 * last completed, and the link is asked about only while one is out and
 * at most once a millisecond, so that the backend is idle for as short a
 * time as the guest can make it (the crash should catch a request in its
 * hands). 0, or -1 with the reason in c->broken.
 */
static int busy_until_lost(struct rc *c, unsigned int round)
{
	uint64_t t0 = time_ns(), asked = 0;
	uint32_t gen0 = c->gen;
	bool out = false;

	printf(CRASH_MARKER " (crash %u)\n", round);
	for (;;) {
		uint32_t link;

		if (!out) {
			/* A new stamp in each sector: every write differs. */
			c->gen++;
			for (uint32_t s = 0; s < c->big_len / SECTOR; s++)
				memcpy(c->big + s * SECTOR, &c->gen, 4);
			c->busy.len = c->big_len;
			if (submit(c, &c->busy, VIRTIO_BLK_T_OUT,
				   S_BUSY + (c->gen % 2) * (BIG / SECTOR),
				   c->big))
				return -1;
			out = true;
		}
		if (used_idx(c) != c->vq.last_used) {
			uint32_t len;
			void *tok;
			uint16_t pos = c->vq.last_used;
			uint16_t id =
				(uint16_t)c->vq.used->ring[pos % c->vq.num].id;

			if (virtq_get_used(&c->vq, &tok, &len) != 1) {
				snprintf(c->broken, sizeof(c->broken),
					 "before the crash: %s",
					 virtq_error(&c->vq));
				return -1;
			}
			if (id < QSIZE)
				c->last_pos[id] = 65536u + pos;
			if (c->busy.hdr[16] != VIRTIO_BLK_S_OK) {
				snprintf(c->broken, sizeof(c->broken),
					 "before the crash: a busy write "
					 "completed with status %u",
					 c->busy.hdr[16]);
				return -1;
			}
			out = false;
			continue;
		}
		/* A step is a trip through ring 0 and vuvm: one a
		 * millisecond, the used ring polled in between. */
		if (time_ns() - asked < LINK_EVERY_NS)
			continue;
		asked = time_ns();
		link = step(c, STEP_LINK, 0);
		if (LINK_STATE(link) != LINK_CONNECTED)
			break;
		if (time_ns() - t0 > LOSS_WAIT_NS) {
			snprintf(c->broken, sizeof(c->broken),
				 "the backend was not lost within 30 s of the "
				 "guest's request (vuvm-check kills and "
				 "restarts it; run under vuvm-check)");
			return -1;
		}
	}
	c->busy_n = c->gen - gen0;
	c->busy_ns = time_ns() - t0;
	/* The dead process's last completions, all visible by now. */
	c->u0 = used_idx(c);
	while (c->vq.last_used != c->u0) {
		uint16_t pos = c->vq.last_used;
		uint16_t id = (uint16_t)c->vq.used->ring[pos % c->vq.num].id;
		uint32_t len;
		void *tok;

		if (virtq_get_used(&c->vq, &tok, &len) != 1) {
			snprintf(c->broken, sizeof(c->broken),
				 "at the crash: %s", virtq_error(&c->vq));
			return -1;
		}
		if (id < QSIZE)
			c->last_pos[id] = 65536u + pos;
		out = false;
	}
	c->r_out = out;
	return 0;
}

/* Step 3: until vuvm has reconnected (the reconnect count past @before)
 * and the rings run. 0 or -1. */
static int await_reconnect(struct rc *c, uint32_t before)
{
	uint64_t t0 = time_ns();

	for (;;) {
		uint32_t link = step(c, STEP_LINK, 0);

		if (LINK_STATE(link) == LINK_FAILED) {
			snprintf(c->broken, sizeof(c->broken),
				 "vuvm gave the backend up (see its log)");
			return -1;
		}
		if (LINK_RECONNECTS(link) != LINK_RECONNECTS(before) &&
		    LINK_STATE(link) == LINK_CONNECTED && LINK_RUNNING(link))
			return 0;
		if (time_ns() - t0 > RECONNECT_WAIT_NS) {
			snprintf(c->broken, sizeof(c->broken),
				 "vuvm did not reconnect within 60 s of the "
				 "loss (link word %#x)",
				 link);
			return -1;
		}
	}
}

/* Steps 4 and 5 of one round. */
static void judge_round(struct rc *c, struct check_acc *inflight,
			struct check_acc *pending, struct check_acc *after)
{
	char name[80];
	uint64_t t0;
	uint16_t at;

	if (c->r_out && take(c, &c->busy, inflight, pending, after))
		check_expect(blame(c, &c->busy, inflight, pending, after),
			     false, "every outstanding request completed",
			     "the write outstanding at the crash did "
			     "not complete within %llu s of the reconnect%s",
			     (unsigned long long)(c->stall_ns / 1000000000),
			     c->r_in_hands ? " (the backend had it)" : "");
	for (unsigned int i = 0; i < NR_PENDING; i++)
		if (!c->pending[i].done &&
		    take(c, &c->pending[i], inflight, pending, after))
			check_expect(
				pending, false,
				"every request made while the backend "
				"was down served",
				"%s did not complete within %llu s of the "
				"reconnect",
				req_name(&c->pending[i], name, sizeof(name)),
				(unsigned long long)(c->stall_ns / 1000000000));
	if (c->stuck || c->broken[0])
		return;
	/* Read back what the new process wrote. */
	if (c->r_out && c->busy.done && c->busy.hdr[16] == VIRTIO_BLK_S_OK) {
		memset(c->big_rd, 0x5a, c->big_len);
		if (after_one(c, VIRTIO_BLK_T_IN,
			      S_BUSY + (c->gen % 2) * (BIG / SECTOR), c->big_rd,
			      c->big_len, inflight, pending, after))
			return;
		check_expect(blame(c, &c->busy, inflight, pending, after),
			     !memcmp(c->big_rd, c->big, c->big_len),
			     "the write's data on the disk",
			     "the write outstanding at the crash reads back "
			     "different");
	}
	for (unsigned int i = 0; i < NR_PENDING; i++) {
		if (!c->pending[i].done ||
		    c->pending[i].hdr[16] != VIRTIO_BLK_S_OK)
			continue;
		memset(c->small_rd, 0x5a, SMALL);
		if (after_one(c, VIRTIO_BLK_T_IN, S_PENDING + 8 * i,
			      c->small_rd, SMALL, inflight, pending, after))
			return;
		check_expect(pending,
			     !memcmp(c->small_rd, c->small + i * SMALL, SMALL),
			     "the write's data on the disk",
			     "write %u made while the backend was down reads "
			     "back different",
			     i);
	}
	fill(c, c->small + NR_PENDING * SMALL, SMALL);
	if (after_one(c, VIRTIO_BLK_T_OUT, S_AFTER,
		      c->small + NR_PENDING * SMALL, SMALL, inflight, pending,
		      after))
		return;
	memset(c->small_rd, 0x5a, SMALL);
	if (after_one(c, VIRTIO_BLK_T_IN, S_AFTER, c->small_rd, SMALL, inflight,
		      pending, after))
		return;
	check_expect(after,
		     !memcmp(c->small_rd, c->small + NR_PENDING * SMALL, SMALL),
		     "a write after the reconnect read back intact",
		     "it reads back different");
	/* Nothing more may complete. */
	at = used_idx(c);
	t0 = time_ns();
	while (time_ns() - t0 < QUIET_NS && used_idx(c) == at)
		;
	if (used_idx(c) != at) {
		check_expect(after, false, "nothing more completed",
			     "the used index moved %u -> %u with no request "
			     "outstanding",
			     at, used_idx(c));
		c->stuck = true;
	} else {
		check_expect(after, true, "nothing more completed", "-");
	}
}

static int setup(struct rc *c, const char *args)
{
	uint64_t cap = 0;
	uint32_t v = 0, seg_max = 0;
	int err;

	c->stall_ns = 2 * vw_stall(args);
	if (!c->stall_ns || vw_find(VIRTIO_ID_BLOCK, "blk", &c->vio))
		return -1;
	err = vio_begin(&c->vio, VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
					 VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX));
	if (!err)
		err = vio_config_read(&c->vio, 0, &cap, 8);
	c->seg = BIG_SEG;
	c->big_len = BIG;
	if (!err && vio_has(&c->vio, VIRTIO_BLK_F_SIZE_MAX) &&
	    !vio_config_read(&c->vio,
			     offsetof(struct virtio_blk_config, size_max), &v,
			     4) &&
	    v >= SECTOR && v < c->seg)
		c->seg = v & ~(SECTOR - 1);
	if (!err && vio_has(&c->vio, VIRTIO_BLK_F_SEG_MAX) &&
	    vio_config_read(&c->vio,
			    offsetof(struct virtio_blk_config, seg_max),
			    &seg_max, 4))
		seg_max = 0;
	if (!err)
		err = vio_queue_setup(&c->vio, 0, &c->vq, QSIZE, 0);
	if (!err) {
		virtq_disable_cb(&c->vq);
		err = vio_driver_ok(&c->vio);
	}
	if (err) {
		report(false, "blk: cannot start the device: %s", c->vio.error);
		return -1;
	}
	if (cap < S_NEEDED + BIG / SECTOR) {
		report(false, "blk: %llu sectors, vu-reconnect needs %llu",
		       (unsigned long long)cap,
		       (unsigned long long)(S_NEEDED + BIG / SECTOR));
		return -1;
	}
	/* As large as seg_max and size_max allow: the longer the backend
	 * holds a write, the likelier a crash catches one in its hands. */
	c->big_len = BIG_SEGS * c->seg;
	if (seg_max && seg_max < BIG_SEGS)
		c->big_len = seg_max * c->seg;
	if (c->big_len / c->seg + 2 + 3 * (NR_PENDING + 1) > c->vq.num) {
		report(false,
		       "blk: a queue of %u is too small for vu-reconnect",
		       c->vq.num);
		return -1;
	}
	c->big = dma_alloc(BIG, 4096);
	c->big_rd = dma_alloc(BIG, 4096);
	c->small = dma_alloc((NR_PENDING + 1) * SMALL, 4096);
	c->small_rd = dma_alloc(SMALL, 4096);
	c->hdrs = dma_alloc((NR_PENDING + 2) * 64, 64);
	if (!c->big || !c->big_rd || !c->small || !c->small_rd || !c->hdrs) {
		report(false, "vu-reconnect: out of memory");
		return -1;
	}
	c->seed = 0x7e57ab1e;
	fill(c, c->big, BIG);
	c->busy = (struct req){ K_BUSY, 0, c->hdrs, NULL, BIG, false, 0 };
	for (unsigned int i = 0; i < NR_PENDING; i++)
		c->pending[i] =
			(struct req){ K_PENDING, i,	c->hdrs + (1 + i) * 64,
				      NULL,	 SMALL, false,
				      0 };
	c->after =
		(struct req){ K_AFTER, 0,     c->hdrs + (1 + NR_PENDING) * 64,
			      NULL,    SMALL, false,
			      0 };
	return 0;
}

/* Steps 1 to 3; 0, or -1 with c->broken. @n: INFLIGHT's answer. The
 * runner starts the backend again only when asked, so the writes of step
 * 2 are always made while it is down. */
static int crash(struct rc *c, unsigned int round, int32_t *n)
{
	uint32_t before = step(c, STEP_LINK, 0);

	if (busy_until_lost(c, round))
		return -1;
	for (unsigned int i = 0; i < NR_PENDING; i++) {
		fill(c, c->small + i * SMALL, SMALL);
		if (submit(c, &c->pending[i], VIRTIO_BLK_T_OUT,
			   S_PENDING + 8 * i, c->small + i * SMALL))
			return -1;
	}
	printf(START_MARKER " (crash %u)\n", round);
	if (await_reconnect(c, before))
		return -1;
	*n = (int32_t)step(c, STEP_INFLIGHT, 0);
	return 0;
}

int check_vu_reconnect(const char *args)
{
	static struct rc c;
	struct check_acc inflight = { 0 }, pending = { 0 }, after = { 0 };
	bool caught = false, has_inflight = true;
	unsigned int round;
	int32_t n = 0;

	if (dt_io_port("vuvm,check-port", &c.io)) {
		check_skip(CK_VU_INFLIGHT_RESUBMIT,
			   "vuvm has no check port (--check-port)");
		check_skip(CK_VU_RESTART_PENDING,
			   "vuvm has no check port (--check-port)");
		check_skip(CK_VU_RESTART_AFTER,
			   "vuvm has no check port (--check-port)");
		return report_summary();
	}
	if (setup(&c, args))
		return report_summary();
	for (round = 1; round <= MAX_ROUNDS; round++) {
		if (crash(&c, round, &n)) {
			check_expect(&inflight, false, "a crash survived", "%s",
				     c.broken);
			check_expect(&pending, false, "a crash survived", "%s",
				     c.broken);
			check_expect(&after, false, "a crash survived", "%s",
				     c.broken);
			break;
		}
		has_inflight = n >= 0;
		c.r_in_hands = c.r_out && n > 0;
		report_info("crash %u: %u writes in %llu us, %s outstanding, "
			    "%d in the in-flight region",
			    round, c.busy_n,
			    (unsigned long long)(c.busy_ns / 1000),
			    c.r_out ? "one write" : "nothing", n);
		judge_round(&c, &inflight, &pending, &after);
		caught |= c.r_in_hands;
		if (c.stuck || c.broken[0] || inflight.failed ||
		    pending.failed || after.failed || !has_inflight || caught)
			break;
	}
	if (!has_inflight && !inflight.failed)
		check_skip(CK_VU_INFLIGHT_RESUBMIT,
			   "the backend does not offer INFLIGHT_SHMFD");
	else if (!caught && !inflight.failed)
		check_skip(CK_VU_INFLIGHT_RESUBMIT,
			   "no crash caught a request in the backend's hands "
			   "(it completes them too fast)");
	else
		check_done(CK_VU_INFLIGHT_RESUBMIT, &inflight);
	check_done(CK_VU_RESTART_PENDING, &pending);
	check_done(CK_VU_RESTART_AFTER, &after);
	vio_reset(&c.vio);
	return report_summary();
}
